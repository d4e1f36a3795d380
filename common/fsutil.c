/* SPDX-License-Identifier: Apache-2.0 */
/* common/fsutil.c: dirfd-relative file helpers: atomic writes, bounded reads, mkdir, mount-safe tree removal and unmount. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "common/kernel.h"
#include "fsutil.h"

static int write_fd_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode, int sync)
{
	char tmp[NAME_MAX + 1];
	int fd, err;

	if (!name || !*name)
		return -EINVAL;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* a fresh inode every time: a name.tmp planted as a hard link to a file elsewhere is
	 * unlinked, never truncated and written (O_EXCL; a symlink is not followed either) */
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	err = write_fd_all(fd, data, len);
	if (err == 0 && sync && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && err == 0 && errno != EINTR)
		err = -errno;
	if (err == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		err = -errno;
	if (err < 0)
		unlinkat(dirfd, tmp, 0);
	return err;
}

int sv_write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	return write_replace(dirfd, name, data, len, mode, 1);
}

int sv_replace_file(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	return write_replace(dirfd, name, data, len, mode, 0);
}

int sv_read_file(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
	size_t cap, have = 0;
	char *buf;
	int fd, err = 0;

	*out = NULL;
	if (len)
		*len = 0;
	if (max >= SIZE_MAX - 1)
		return -EINVAL;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	cap = max < 4096 ? max + 1 : 4096;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (have == cap) {
			if (cap > max) {
				err = -EFBIG;   /* read max+1 bytes: too big */
				break;
			}
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(buf, ncap + 1);

			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + have, cap - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	if (err == 0 && have > max)
		err = -EFBIG;
	if (err < 0) {
		free(buf);
		return err;
	}
	buf[have] = '\0';
	*out = buf;
	if (len)
		*len = have;
	return 0;
}

int sv_lexists_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int sv_mkdir_open(int dirfd, const char *name, mode_t mode)
{
	int fd;

	if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int sv_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n;
	struct stat st;

	if (!path || path[0] != '/')
		return -EINVAL;
	n = strlen(path);
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (p > buf && p[-1] != '/' && mkdir(buf, mode) < 0) {
			if (errno != EEXIST)
				return -errno;
			if (stat(buf, &st) < 0)
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

/* Mount identity of an fd or dirfd-relative name: the mount id when the kernel reports
 * it (statx STATX_MNT_ID, Linux 5.8), else the device number. Bind mounts of one
 * filesystem share st_dev; their mount ids differ. */
struct mnt_ident {
	uint64_t dev;
	uint64_t mnt;   /* 0 = unknown */
	mode_t mode;
};

static int mnt_ident(int dirfd, const char *name, int flags, struct mnt_ident *out)
{
	struct sv_fileid id;
	int err = sv_fileid(dirfd, name, flags | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, &id);

	if (err < 0)
		return err;
	out->dev = id.dev;
	out->mnt = id.mnt;
	out->mode = id.mode;
	return 0;
}

static int same_mount(const struct mnt_ident *a, const struct mnt_ident *b)
{
	if (a->dev != b->dev)
		return 0;
	return !a->mnt || !b->mnt || a->mnt == b->mnt;
}

static int remove_at(int dirfd, const struct mnt_ident *parent, const char *name, int depth);

static int remove_children(int fd, const struct mnt_ident *self, int depth)
{
	DIR *d;
	struct dirent *de;
	int err = 0, dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		err = -errno;
		close(dfd);
		return err;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno && err == 0)
				err = -errno;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int e = remove_at(fd, self, de->d_name, depth + 1);
		if (e < 0 && err == 0)
			err = e;
	}
	closedir(d);
	return err;
}

static int remove_at(int dirfd, const struct mnt_ident *parent, const char *name, int depth)
{
	struct mnt_ident self, opened;
	int fd, err;

	if (depth > 256)
		return -ELOOP;
	err = mnt_ident(dirfd, name, 0, &self);
	if (err < 0)
		return err == -ENOENT ? 0 : err;
	if (!S_ISDIR(self.mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (!same_mount(parent, &self))
		return -EBUSY;   /* a mount point: never descend into it */
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* what we opened must still be on the parent's mount (no swap since the statx) */
	err = mnt_ident(fd, "", AT_EMPTY_PATH, &opened);
	if (err == 0 && !same_mount(parent, &opened))
		err = -EBUSY;
	if (err == 0)
		err = remove_children(fd, &opened, depth);
	close(fd);
	if (err < 0)
		return err;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int sv_remove_tree(int dirfd, const char *name)
{
	struct mnt_ident parent;
	int err;

	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	err = mnt_ident(dirfd, dirfd == AT_FDCWD ? "." : "", dirfd == AT_FDCWD ? 0 : AT_EMPTY_PATH, &parent);
	if (err < 0)
		return err;
	return remove_at(dirfd, &parent, name, 0);
}

int sv_umount_all_at(int dirfd, const char *name, int max)
{
	char path[64 + NAME_MAX];
	struct stat st;
	int n;

	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	/* the same entry by a path umount2 can take: the fd's directory, then name itself
	 * (the only component UMOUNT_NOFOLLOW concerns) */
	if (dirfd == AT_FDCWD)
		snprintf(path, sizeof(path), "%s", name);
	else if ((size_t)snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name) >= sizeof(path))
		return -ENAMETOOLONG;
	for (n = 0; n < max; n++)
		if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
			return errno == EINVAL || errno == ENOENT ? n : -errno;
	return n;
}

int sv_set_cloexec(int fd, int on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -errno;
	fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, fl) < 0 ? -errno : 0;
}

int sv_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

unsigned long sv_nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 1024;
	}
	return rl.rlim_cur == RLIM_INFINITY ? 1UL << 20 : (unsigned long)rl.rlim_cur;
}

int sv_fd_hygiene(int keep)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int null = open("/dev/null", O_RDWR);   /* the lowest free fd: this one */
		if (null < 0)
			return -errno;
		if (null != fd) {
			close(null);
			return -EBADF;
		}
	}
	if ((keep <= 3 || sv_close_range(3, (unsigned)keep - 1) == 0) &&
	    sv_close_range(keep >= 3 ? (unsigned)keep + 1 : 3, ~0U) == 0)
		return 0;
	/* a kernel before 5.9: the fds /proc lists (closing never affects the listing's own
	 * fd, whose number we skip) */
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		if (fd > 2 && fd != keep && fd != dirfd(d))
			close(fd);
	}
	closedir(d);
	return 0;
}

int sv_self_dir(char *buf, size_t sz)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(path) - 1)
		return -ENAMETOOLONG;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (!slash)
		return -EINVAL;
	if (slash == path)
		slash++;   /* the executable lives in "/" */
	*slash = '\0';
	if (strlen(path) >= sz)
		return -ENAMETOOLONG;
	memcpy(buf, path, strlen(path) + 1);
	return 0;
}
