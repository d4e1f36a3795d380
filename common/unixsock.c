/* SPDX-License-Identifier: Apache-2.0 */
/* common/unixsock.c: unix stream sockets by path. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ids.h"
#include "sha256.h"
#include "unixsock.h"

int sv_unix_addr(struct sockaddr_un *sa, const char *path)
{
	size_t n;

	if (!path || !*path)
		return -EINVAL;
	if (!strncmp(path, "unix://", 7))
		path += 7;
	n = strlen(path);
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

int sv_unix_connect_nb(const char *path)
{
	struct sockaddr_un sa;
	int fd, r = sv_unix_addr(&sa, path);

	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int sv_unix_listen(const char *path, mode_t mode, int backlog)
{
	struct sockaddr_un sa;
	int fd, r = sv_unix_addr(&sa, path);

	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, mode) < 0 ||
	    listen(fd, backlog) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int sv_shim_socket_name(const char *dir, const char *prefix, const char *ns, const char *id,
			char *out, size_t sz)
{
	char key[PATH_MAX + 2 * SV_ID_SZ + 2], hex[33];
	int n;

	if (prefix && *prefix)
		n = snprintf(key, sizeof(key), "%s/%s/%s", prefix, ns, id);
	else
		n = snprintf(key, sizeof(key), "%s/%s", ns, id);
	if (n < 0 || (size_t)n >= sizeof(key))
		return -ENAMETOOLONG;
	sv_sha256_hex(key, (size_t)n, hex, 16);
	n = snprintf(out, sz, "%s/%s", dir, hex);
	if (n < 0 || (size_t)n >= sz || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}
