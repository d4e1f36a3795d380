/* SPDX-License-Identifier: Apache-2.0 */
/* worker/stdio.c: open the task's stdin/stdout/stderr from Create's strings (PROTOCOL.md §8.2). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common/fsutil.h"
#include "worker.h"

/* "" -> /dev/null; file:///abs (append, create 0640); fifo://path or a bare path: a FIFO. */
static int open_one(const char *s, bool input, int *reader)
{
	struct stat st;
	int fd, rd;

	*reader = -1;
	if (!*s) {
		fd = open("/dev/null", (input ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (strncmp(s, "file://", 7) == 0) {
		s += 7;
		if (*s != '/')
			return -EINVAL;
		fd = open(s, input ? O_RDONLY | O_CLOEXEC : O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		return fd < 0 ? -errno : fd;
	}
	if (strncmp(s, "fifo://", 7) == 0)
		s += 7;
	else if (strstr(s, "://"))
		return -EPROTONOSUPPORT;    /* binary:// and friends */
	if (input) {
		fd = open(s, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		sv_set_nonblock(fd, 0);
		return fd;
	}
	/* Keep a reader so the task never gets EPIPE when the client goes away. */
	rd = open(s, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rd < 0)
		return -errno;
	fd = open(s, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		close(rd);
		return err;
	}
	sv_set_nonblock(fd, 0);
	if (fstat(rd, &st) == 0 && S_ISFIFO(st.st_mode))
		*reader = rd;
	else
		close(rd);
	return fd;
}

int stdio_open(struct task *t, int fds[3])
{
	const char *names[3] = { t->in, t->out, t->err };
	int i, err, unused;

	for (i = 0; i < 3; i++) {
		fds[i] = open_one(names[i], i == 0, i == 0 ? &unused : &t->readers[i - 1]);
		if (fds[i] < 0) {
			err = fds[i];
			while (i-- > 0) {
				close(fds[i]);
				fds[i] = -1;
			}
			for (i = 0; i < 2; i++) {
				if (t->readers[i] >= 0)
					close(t->readers[i]);
				t->readers[i] = -1;
			}
			fds[0] = fds[1] = fds[2] = -1;
			return err;
		}
	}
	return 0;
}
