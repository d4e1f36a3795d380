// SPDX-License-Identifier: Apache-2.0
/* common/kernel.c: the system calls newer than the kernel floor (kernel.h). */
#include "common/kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0         /* linux/magic.h, which musl's headers lack */
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int ret(long rc)
{
	return rc < 0 ? -errno : (int)rc;
}

/* Below Linux 5.9 (5.11 for CLOSE_RANGE_CLOEXEC): each open fd in [first, last] closed, or
 * marked close-on-exec, found in /proc/self/fd, else tried one by one up to RLIMIT_NOFILE.
 * Async-signal-safe (it runs between fork and exec): open, getdents64 into a stack buffer,
 * close, fcntl; the directory's own fd is left to the end. */
static int fd_apply(unsigned fd, int cloexec)
{
	int fl;

	if (!cloexec)
		return close((int)fd) < 0 && errno != EBADF && errno != EINTR ? -errno : 0;
	if ((fl = fcntl((int)fd, F_GETFD)) < 0)
		return errno == EBADF ? 0 : -errno;
	return (fl & FD_CLOEXEC) || fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC) == 0 ? 0 : -errno;
}

static int fds_walk(unsigned first, unsigned last, int cloexec)
{
	char buf[512] __attribute__((aligned(8)));
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	struct rlimit rl;
	long n;

	if (dfd < 0) {
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -errno;
		if (rl.rlim_cur == 0)
			return 0;
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur - 1 < last)
			last = (unsigned)rl.rlim_cur - 1;
		for (unsigned fd = first; fd <= last && fd != ~0U && !rc; fd++)
			rc = fd_apply(fd, cloexec);
		return rc;
	}
	while (!rc && (n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0)
		for (long off = 0; off < n && !rc;) {
			const char *name = buf + off + 19;      /* linux_dirent64's d_name */
			unsigned short reclen;
			unsigned long fd = 0;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			off += reclen;
			if (*name < '0' || *name > '9')
				continue;
			for (; *name >= '0' && *name <= '9' && fd <= UINT_MAX; name++)
				fd = fd * 10 + (unsigned long)(*name - '0');
			if (fd >= first && fd <= last && fd != (unsigned long)dfd)
				rc = fd_apply((unsigned)fd, cloexec);
		}
	if (!rc && n < 0)
		rc = -errno;
	close(dfd);
	return rc;
}

int sv_close_range(unsigned first, unsigned last)
{
	int rc = ret(syscall(SYS_close_range, first, last, 0));

	return rc == -ENOSYS ? fds_walk(first, last, 0) : rc;
}

int sv_cloexec_from(unsigned first)
{
	int rc = ret(syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC));

	return rc == -ENOSYS || rc == -EINVAL ? fds_walk(first, ~0U, 1) : rc;
}

/* Below Linux 5.6: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS walked by hand, one component
 * at a time with O_PATH | O_NOFOLLOW. The directories walked are a stack of fds, so ".."
 * pops one (at rootfd it stays) and never asks the kernel for a parent a rename could have
 * moved out of the root; symlinks are read and spliced into what is left of the path,
 * absolute ones restarting at rootfd, at most 40 of them (ELOOP); a procfs symlink anywhere
 * but /proc's top (self, thread-self, mounts, net) is a magic link: ELOOP. The last
 * component is opened with the caller's flags | O_NOFOLLOW. Deeper than WALK_DEPTH
 * directories: ENAMETOOLONG. Not for between fork and exec (8 KiB of stack). */
#define WALK_DEPTH 128
#define WALK_LINKS 40

struct walk {
	int fd[WALK_DEPTH];     /* fd[0] is rootfd (not ours to close) */
	int depth;
	char path[PATH_MAX];    /* what is left to resolve */
	int links;
};

static void walk_pop(struct walk *w, int to)
{
	while (w->depth > to)
		close(w->fd[w->depth--]);
}

/* A procfs symlink below /proc's top directory (inode 1): /proc/PID/{fd/N,root,cwd,exe,ns/X}. */
static int magic_link(int dirfd, int linkfd)
{
	struct statfs sfs;
	struct stat st;

	if (fstatfs(linkfd, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC)
		return 0;
	return fstat(dirfd, &st) < 0 || st.st_ino != 1;
}

/* Splice the symlink linkfd's target in front of what follows it (w->path + off: empty,
 * or from a "/"). */
static int walk_link(struct walk *w, int linkfd, size_t off)
{
	char target[PATH_MAX];
	size_t rl = strlen(w->path + off);
	ssize_t n;

	if (++w->links > WALK_LINKS)
		return -ELOOP;
	/* read first: a magic link the kernel would not let us read is EACCES, as openat2 says */
	n = readlinkat(linkfd, "", target, sizeof(target));
	if (n < 0)
		return -errno;
	if (magic_link(w->fd[w->depth], linkfd))
		return -ELOOP;
	if (n == 0)
		return -ENOENT;
	if ((size_t)n >= sizeof(target) || (size_t)n + rl >= sizeof(w->path))
		return -ENAMETOOLONG;
	memmove(w->path + n, w->path + off, rl + 1);
	memcpy(w->path, target, (size_t)n);
	if (target[0] == '/')
		walk_pop(w, 0);
	return 0;
}

/* The last component, not a symlink to follow: opened with the caller's flags. */
static int walk_last(int cur, const char *name, int flags, mode_t mode)
{
	int fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);

	return fd < 0 ? -errno : fd;
}

static int open_walk(int rootfd, const char *path, int flags, mode_t mode)
{
	struct walk w = { .fd = { rootfd }, .depth = 0 };
	size_t off = 0, plen = strlen(path);
	int rc;

	if (!plen)
		return -ENOENT;
	if (plen >= sizeof(w.path))
		return -ENAMETOOLONG;
	memcpy(w.path, path, plen + 1);
	for (;;) {
		char name[NAME_MAX + 1];
		size_t start = off, len;
		int last, fd, cur = w.fd[w.depth];
		struct stat st;

		while (w.path[start] == '/')
			start++;
		len = strcspn(w.path + start, "/");
		off = start + len;
		/* "name/" asks for a directory: its symlink is followed like any other */
		last = w.path[off] == '\0';
		if (len == 0) {         /* the path ends on a directory: that one */
			rc = flags & O_CREAT ? -EISDIR : walk_last(cur, ".", flags, 0);
			break;
		}
		rc = -ENAMETOOLONG;
		if (len > NAME_MAX)
			break;
		memcpy(name, w.path + start, len);
		name[len] = '\0';
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			walk_pop(&w, w.depth ? w.depth - 1 : 0);
			continue;
		}
		fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			rc = -errno;
			if (fd >= 0)
				close(fd);
			else if (rc == -ENOENT && last && (flags & O_CREAT))
				rc = walk_last(cur, name, flags, mode);
			break;
		}
		if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
			rc = walk_link(&w, fd, off);
			close(fd);
			if (rc)
				break;
			off = 0;
			continue;
		}
		if (last) {
			close(fd);
			rc = walk_last(cur, name, flags, mode);
			break;
		}
		rc = -ENOTDIR;
		if (!S_ISDIR(st.st_mode) || w.depth + 1 >= WALK_DEPTH) {
			rc = S_ISDIR(st.st_mode) ? -ENAMETOOLONG : -ENOTDIR;
			close(fd);
			break;
		}
		w.fd[++w.depth] = fd;
	}
	walk_pop(&w, 0);
	return rc;
}

int sv_open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
		/* O_TMPFILE holds O_DIRECTORY's bit: a mode with O_DIRECTORY alone is EINVAL */
		.mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int rc = ret(syscall(SYS_openat2, rootfd, path, &how, sizeof(how)));

	return rc == -ENOSYS ? open_walk(rootfd, path, flags, mode) : rc;
}

int sv_pidfd_open(pid_t pid)
{
	return ret(syscall(SYS_pidfd_open, pid, 0));
}

int sv_pidfd_signal(int pidfd, int sig)
{
	return ret(syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0));
}

int sv_mnt_id_fdinfo(int dirfd, const char *name, int flags, uint64_t *out)
{
	char path[64], buf[1024], *p;
	int fd = dirfd, f, rc = 0;
	ssize_t n = 0;

	if (!(*name == '\0' && (flags & AT_EMPTY_PATH)) &&
	    (fd = openat(dirfd, name, O_PATH | O_CLOEXEC |
			 (flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0))) < 0)
		return -errno;
	/* fdinfo is made as it is read: fd stays open until then */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if ((f = open(path, O_RDONLY | O_CLOEXEC)) < 0 || (n = read(f, buf, sizeof(buf) - 1)) < 0)
		rc = -errno;
	if (f >= 0)
		close(f);
	if (fd != dirfd)
		close(fd);
	if (rc)
		return rc;
	buf[n] = '\0';
	if (!(p = strstr(buf, "\nmnt_id:")))
		return -ENODATA;
	*out = strtoull(p + 8, NULL, 10);
	return *out ? 0 : -ENODATA;
}

int sv_fileid(int dirfd, const char *name, int flags, struct sv_fileid *out)
{
	struct statx sx;

	if (syscall(SYS_statx, dirfd, name, flags, STATX_TYPE | STATX_INO | STATX_MNT_ID, &sx) < 0)
		return -errno;
	out->dev = (uint64_t)sx.stx_dev_major << 32 | sx.stx_dev_minor;
	out->ino = sx.stx_ino;
	/* below Linux 5.8: /proc/self/fdinfo's mnt_id (3.15) of the same file, else unknown */
	out->mnt = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
	if (!out->mnt && sv_mnt_id_fdinfo(dirfd, name, flags, &out->mnt) < 0)
		out->mnt = 0;
	out->mount_root = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) ?
			  !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) : -1;
	out->mode = sx.stx_mode;
	return 0;
}
