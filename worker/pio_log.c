/* SPDX-License-Identifier: Apache-2.0 */
/* worker/pio_log.c: a size-capped, rotated log file that a task's stdout and stderr pumps
 * share (`svlog:///abs/path?max=BYTES&keep=N`, the stdio name shimvisord gives detached
 * tasks). The cap is kept in the writer: a chunk that would pass it is split, the file
 * rotated (path -> path.1 -> ... -> path.N, the oldest dropped) and the rest written to a
 * new file, so no file ever holds more than max bytes and what was written last is always
 * whole in `path`. Writing never blocks the task: what the disk refuses (ENOSPC) is
 * dropped and counted. Files are opened O_NOFOLLOW through the directory's fd. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common/log.h"
#include "worker.h"

#define LOG_KEEP_MAX 64

struct logsink {
	int dirfd, fd;
	char name[NAME_MAX + 1];
	uint64_t size, max, dropped;
	unsigned keep, refs;
};

static int parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 19)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

/* "/abs/dir/name?max=N&keep=K": both keys required, max > 0, keep <= LOG_KEEP_MAX. */
static int parse_uri(const char *uri, char *dir, size_t dirsz, struct logsink *s)
{
	const char *p = uri + strlen(SV_LOG_SCHEME), *q = strchr(p, '?'), *slash;
	bool has_max = false, has_keep = false;
	uint64_t v;

	if (*p != '/' || !q)
		return -EINVAL;
	slash = q;
	while (slash > p && slash[-1] != '/')
		slash--;
	if ((size_t)(slash - p) >= dirsz || (size_t)(q - slash) > NAME_MAX || q == slash)
		return -EINVAL;
	memcpy(dir, p, (size_t)(slash - p));
	dir[slash - p] = 0;
	memcpy(s->name, slash, (size_t)(q - slash));
	s->name[q - slash] = 0;
	if (!strcmp(s->name, ".") || !strcmp(s->name, ".."))
		return -EINVAL;
	for (q++; *q; q += *q == '&') {
		size_t n = strcspn(q, "&");
		if (!strncmp(q, "max=", 4) && parse_u64(q + 4, n - 4, &v) == 0 && v > 0)
			s->max = v, has_max = true;
		else if (!strncmp(q, "keep=", 5) && parse_u64(q + 5, n - 5, &v) == 0 && v <= LOG_KEEP_MAX)
			s->keep = (unsigned)v, has_keep = true;
		else
			return -EINVAL;
		q += n;
	}
	return has_max && has_keep ? 0 : -EINVAL;
}

static int open_current(struct logsink *s, bool truncate)
{
	struct stat st;
	int fd = openat(s->dirfd, s->name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);

	if (fd < 0)
		return -errno;
	/* only a file of the bundle's own: not a link, nor a hard link to a file elsewhere
	 * (checked before any truncation or write) */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (truncate && ftruncate(fd, 0) < 0)) {
		close(fd);
		return -EINVAL;
	}
	if (truncate)
		st.st_size = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	s->size = (uint64_t)st.st_size;
	return 0;
}

int logsink_open(const char *uri, struct logsink **out)
{
	struct logsink *s = calloc(1, sizeof(*s));
	char dir[PATH_MAX];
	int rc;

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->refs = 1;
	rc = parse_uri(uri, dir, sizeof(dir), s);
	if (rc == 0) {
		s->dirfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		rc = s->dirfd < 0 ? -errno : open_current(s, false);
	} else {
		s->dirfd = -1;
	}
	if (rc < 0) {
		logsink_put(s);
		return rc;
	}
	*out = s;
	return 0;
}

struct logsink *logsink_get(struct logsink *s)
{
	s->refs++;
	return s;
}

void logsink_put(struct logsink *s)
{
	if (!s || --s->refs)
		return;
	if (s->dropped)
		sv_warn("log %s: %llu bytes dropped", s->name, (unsigned long long)s->dropped);
	if (s->fd >= 0)
		close(s->fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s);
}

/* path.(keep-1) -> path.keep, ..., path -> path.1, then a new empty path. keep 0: path is
 * emptied in place. */
static int rotate(struct logsink *s)
{
	char from[NAME_MAX + 8], to[NAME_MAX + 8];

	for (unsigned k = s->keep; k >= 1; k--) {
		if (k == 1)
			snprintf(from, sizeof(from), "%s", s->name);
		else
			snprintf(from, sizeof(from), "%s.%u", s->name, k - 1);
		snprintf(to, sizeof(to), "%s.%u", s->name, k);
		if (renameat(s->dirfd, from, s->dirfd, to) < 0 && errno != ENOENT)
			return -errno;
	}
	return open_current(s, true);
}

/* Always "takes" all n bytes: what cannot be written is dropped and counted. */
void logsink_write(struct logsink *s, const uint8_t *buf, size_t n)
{
	while (n > 0) {
		if (s->size >= s->max && rotate(s) < 0) {
			s->dropped += n;
			return;
		}
		size_t room = s->max - s->size < n ? (size_t)(s->max - s->size) : n;
		ssize_t w = write(s->fd, buf, room);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->dropped += n;        /* ENOSPC, EIO: the task goes on */
			return;
		}
		s->size += (uint64_t)w;
		buf += w;
		n -= (size_t)w;
	}
}
