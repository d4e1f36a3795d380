/* SPDX-License-Identifier: Apache-2.0 */
/* common/passwd.c: users and groups read from a root's own etc/passwd and etc/group with
 * fgetpwent/fgetgrent, never through NSS: the CLI's -u in a task's root (runc's rules), the
 * daemon's engine_user, group and allow lists in the host's files. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/kernel.h"
#include "common/passwd.h"

FILE *sv_passwd_open(int rootfd, const char *name)
{
	char path[32];
	struct stat st;
	FILE *f;
	int fd, e;

	snprintf(path, sizeof(path), "etc/%s", name);
	fd = sv_open_in_root(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	e = fstat(fd, &st) < 0 ? errno : !S_ISREG(st.st_mode) ? EINVAL :
	    st.st_size > (off_t)SV_PASSWD_MAX ? EFBIG : 0;
	f = e ? NULL : fdopen(fd, "r");
	if (!f) {
		e = e ? e : errno;
		close(fd);
		errno = e;
	}
	return f;
}

FILE *sv_passwd_host(const char *name)
{
	int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	FILE *f;
	int e;

	if (rootfd < 0)
		return NULL;
	f = sv_passwd_open(rootfd, name);
	e = errno;
	close(rootfd);
	errno = e;
	return f;
}

int sv_passwd_user(FILE *f, const char *name, uint32_t *uid, uint32_t *gid, char *name_out,
		   size_t namesz)
{
	struct passwd *pw;

	while (f && (pw = fgetpwent(f)) != NULL)
		if (name ? !strcmp(pw->pw_name, name) : pw->pw_uid == *uid) {
			*uid = pw->pw_uid;
			*gid = pw->pw_gid;
			if (name_out)
				snprintf(name_out, namesz, "%s", pw->pw_name);
			return 1;
		}
	return 0;
}

int sv_passwd_group(FILE *f, const char *name, uint32_t *gid)
{
	struct group *gr;

	while (f && (gr = fgetgrent(f)) != NULL)
		if (!strcmp(gr->gr_name, name)) {
			*gid = gr->gr_gid;
			return 1;
		}
	return 0;
}
