/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/logs.c: a detached task's log files (log.N .. log.1, then log, in a bundle
 * directory), printed oldest first and followed across rotations: the file we read is
 * renamed under us, so once "log" names another inode we finish ours, then every file
 * rotated after it, then go on with the new "log". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "client/cli/cli.h"

#define LOGS_KEEP_MAX 64        /* the worker keeps at most this many rotated files */

static int copy_fd(int fd, int out)
{
	char buf[16384];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			off += w;
		}
	}
	return 0;
}

static void rotated_name(char *buf, size_t sz, unsigned k)
{
	if (k == 0)
		snprintf(buf, sz, "log");
	else
		snprintf(buf, sz, "log.%u", k);
}

static int open_log(int dirfd, unsigned k)
{
	char name[16];

	rotated_name(name, sizeof(name), k);
	return openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* Copy log.from .. log.1 (from >= 1), oldest first; missing ones are skipped. */
static int copy_rotated(int dirfd, unsigned from, int out)
{
	for (unsigned k = from; k >= 1; k--) {
		int fd = open_log(dirfd, k), rc;
		if (fd < 0)
			continue;
		rc = copy_fd(fd, out);
		close(fd);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The rotated file holding inode ino: its number, or one past the last when none does. */
static unsigned rotated_index(int dirfd, ino_t ino)
{
	char name[16];
	struct stat st;
	unsigned k;

	for (k = 1; k <= LOGS_KEEP_MAX; k++) {
		rotated_name(name, sizeof(name), k);
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			break;
		if (st.st_ino == ino)
			return k;
	}
	return k;
}

static int take_current(int dirfd, struct log_follow *f)
{
	struct stat st;
	int fd = open_log(dirfd, 0);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = fd;
	f->ino = st.st_ino;
	return 0;
}

int logs_dump(int dirfd, int out, struct log_follow *f)
{
	int rc;

	f->fd = -1;
	if ((rc = take_current(dirfd, f)) < 0)
		return rc;
	rc = copy_rotated(dirfd, rotated_index(dirfd, (ino_t)-1) - 1, out);
	return rc < 0 ? rc : copy_fd(f->fd, out);
}

int logs_follow_step(int dirfd, int out, struct log_follow *f)
{
	struct stat st;
	int rc;

	/* emptied in place (keep 0): read it again from the start */
	if (fstat(f->fd, &st) == 0 && lseek(f->fd, 0, SEEK_CUR) > st.st_size)
		lseek(f->fd, 0, SEEK_SET);
	if ((rc = copy_fd(f->fd, out)) < 0)
		return rc;
	if (fstatat(dirfd, "log", &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_ino == f->ino)
		return 0;                       /* not rotated (or between rename and create) */
	/* ours is now log.j, complete: what it got after our read, then the files rotated
	 * after it (log.(j-1) .. log.1), then the new log */
	if ((rc = copy_fd(f->fd, out)) < 0)
		return rc;
	rc = copy_rotated(dirfd, rotated_index(dirfd, f->ino) - 1, out);
	if (rc == 0 && (rc = take_current(dirfd, f)) == 0)
		rc = copy_fd(f->fd, out);
	return rc;
}

void logs_close(struct log_follow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
