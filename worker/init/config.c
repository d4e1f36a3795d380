/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/config.c: what the process is, read from fd SV_INIT_FD_CONFIG: a task's
 * config.json, or an exec's bare Process merged into its bundle's config.json. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire/limits.h"
#include "worker/init/init.h"

/* The whole of fd into a new buffer, at most SV_CONFIG_MAX bytes. 0 or -errno. */
int config_read_fd(int fd, char **out, size_t *outlen)
{
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = cap > SV_CONFIG_MAX ? NULL : realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return cap > SV_CONFIG_MAX ? -EFBIG : -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;

			free(buf);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SV_CONFIG_MAX) {
		free(buf);
		return -EFBIG;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static int parse_config(struct init *in, int fd)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = config_read_fd(fd, &buf, &len);

	if (rc)
		return init_fail(&in->err, rc, "read config.json");
	rc = spec_parse(buf, len, &in->spec, in->err.msg, sizeof(in->err.msg));
	free(buf);
	if (rc)
		in->err.rc = rc;
	return rc;
}

int config_read_task(struct init *in)
{
	int rc = parse_config(in, SV_INIT_FD_CONFIG);

	close(SV_INIT_FD_CONFIG);
	return rc;
}

int config_read_bundle(struct init *in)
{
	int dfd = open(in->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC), rc;
	int fd = dfd < 0 ? -1 : openat(dfd, SV_BUNDLE_CONFIG, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		rc = init_fail(&in->err, -errno, "%s/" SV_BUNDLE_CONFIG, in->bundle);
	} else {
		rc = parse_config(in, fd);
		close(fd);
	}
	if (dfd >= 0)
		close(dfd);
	return rc;
}

/* An exec runs its own Process (fd 3) with the container-wide settings of the bundle's
 * config.json (its seccomp filter, its mounts as the task saw them), clamped to the task's
 * own process (spec_exec_clamp: its bounding set, its no_new_privs). */
int config_read_exec(struct init *in)
{
	struct spec_process p;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = config_read_fd(SV_INIT_FD_CONFIG, &buf, &len);
	close(SV_INIT_FD_CONFIG);
	if (rc)
		return init_fail(&in->err, rc, "read exec spec");
	rc = spec_parse_process(buf, len, &p, in->err.msg, sizeof(in->err.msg));
	free(buf);
	if (rc) {
		in->err.rc = rc;
		return rc;
	}
	if ((rc = config_read_bundle(in))) {
		spec_process_free(&p);
		return rc;
	}
	rc = spec_exec_clamp(&in->spec.process, &p, in->err.msg, sizeof(in->err.msg));
	if (rc) {
		in->err.rc = rc;
		spec_process_free(&p);
		return rc;
	}
	spec_process_free(&in->spec.process);
	in->spec.process = p;
	return 0;
}
