/* SPDX-License-Identifier: Apache-2.0 */
/* worker/pio.c: a process's stdio as containerd names it (PROTOCOL.md §8.2-8.3): "" is
 * /dev/null, file:// a file the process writes itself; a FIFO (bare path or fifo://) is
 * pumped by the worker through a pipe, so that CloseIO can end stdin and output never
 * blocks once the FIFO's reader went away; a terminal is the pty master init sends (its
 * output is dropped while no client reads the FIFO, and its stdin outlives each writer). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common/fsutil.h"
#include "worker.h"

#define PUMP_CHUNK 16384
#define PUMP_ROUNDS 16              /* chunks per wake-up: one busy stream cannot starve others */

static uint8_t scratch[PUMP_CHUNK];

static void pump_reset(struct pump *pp)
{
	*pp = (struct pump){ .src = -1, .dst = -1 };
}

void pio_init(struct pio *io)
{
	pump_reset(&io->in);
	pump_reset(&io->out);
	pump_reset(&io->err);
	io->console = -1;
	io->logger = 0;
	io->logger_ready = -1;
}

static void close_src(struct pump *pp)
{
	if (pp->src >= 0 && pp->own_src)
		close(pp->src);
	pp->src = -1;
	pp->eof = true;
}

/* Where the pump's bytes go: an fd, or the shared log sink. */
static bool has_dst(const struct pump *pp)
{
	return pp->dst >= 0 || pp->sink;
}

static void close_dst(struct pump *pp)
{
	if (pp->dst >= 0 && pp->own_dst)
		close(pp->dst);
	logsink_put(pp->sink);
	pp->sink = NULL;
	pp->dst = -1;
	free(pp->buf);
	pp->buf = NULL;
	pp->len = pp->off = 0;
}

static bool is_fifo(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* Strip fifo://; refuse other schemes (binary:// is only for stdout, see pio_binary.c). */
static int fifo_path(const char **s)
{
	if (strncmp(*s, "fifo://", 7) == 0)
		*s += 7;
	else if (strstr(*s, "://"))
		return -EPROTONOSUPPORT;
	return **s ? 0 : -EINVAL;
}

static int open_null(bool input)
{
	int fd = open("/dev/null", (input ? O_RDONLY : O_WRONLY) | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* The pipe a pump empties: its write end is the process's fd. */
static int pump_pipe(struct pump *pp)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	sv_set_nonblock(p[0], 1);
	pp->src = p[0];
	pp->own_src = true;
	return p[1];
}

/* svlog://: a pipe into the log sink, shared with the other output stream when it names
 * the same log (*shared: the sink opened first, or NULL). */
static int open_log(struct pump *pp, const char *s, struct logsink **shared)
{
	int rc, wr;

	if (*shared)
		pp->sink = logsink_get(*shared);
	else if ((rc = logsink_open(s, &pp->sink)) < 0)
		return rc;
	else
		*shared = pp->sink;
	wr = pump_pipe(pp);
	if (wr < 0)
		close_dst(pp);
	return wr;
}

/* stdout/stderr: the fd the process writes to, and the pump that empties it. */
static int open_out(struct pump *pp, const char *s, bool terminal, struct logsink **shared)
{
	int rd, wr, err;

	if (!*s)
		return open_null(false);
	if (strncmp(s, SV_LOG_SCHEME, strlen(SV_LOG_SCHEME)) == 0)
		return terminal ? -EINVAL : open_log(pp, s, shared);
	if (strncmp(s, "file://", 7) == 0) {
		s += 7;
		if (*s != '/')
			return -EINVAL;
		wr = open(s, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		return wr < 0 ? -errno : wr;
	}
	if ((err = fifo_path(&s)) < 0)
		return err;
	/* A reader of our own, for as long as it takes to open the write end without blocking. */
	rd = open(s, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rd < 0)
		return -errno;
	wr = open(s, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	err = wr < 0 ? -errno : 0;
	close(rd);
	if (err < 0)
		return err;
	if (!is_fifo(wr)) {             /* a plain file: the process writes it itself */
		sv_set_nonblock(wr, 0);
		return wr;
	}
	pp->dst = wr;
	pp->own_dst = true;
	if (terminal)
		return open_null(false);    /* the console feeds this pump */
	wr = pump_pipe(pp);
	if (wr < 0)
		close_dst(pp);
	return wr;
}

/* stdin: the fd the process reads, and the pump that fills it. */
static int open_in(struct pump *pp, const char *s, bool terminal)
{
	int rd, p[2], err;

	if (!*s)
		return open_null(true);
	if (strncmp(s, "file://", 7) == 0) {
		s += 7;
		if (*s != '/')
			return -EINVAL;
		rd = open(s, O_RDONLY | O_CLOEXEC);
		return rd < 0 ? -errno : rd;
	}
	if ((err = fifo_path(&s)) < 0)
		return err;
	rd = open(s, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rd < 0)
		return -errno;
	if (!is_fifo(rd)) {
		sv_set_nonblock(rd, 0);
		return rd;
	}
	if (terminal) {
		/* A terminal's stdin FIFO is held open for writing too: a client that leaves (a
		 * detach) is not an EOF that ends the console's feed, and the next one (attach)
		 * is read from the same fd. Only CloseIO ends it. */
		int rw = open(s, O_RDWR | O_NONBLOCK | O_CLOEXEC);

		if (rw < 0) {
			err = -errno;
			close(rd);
			return err;
		}
		close(rd);
		rd = rw;
	}
	pp->src = rd;
	pp->own_src = true;
	if (terminal)
		return open_null(true);     /* this pump feeds the console */
	if (pipe2(p, O_CLOEXEC) < 0) {
		err = -errno;
		close_src(pp);
		return err;
	}
	sv_set_nonblock(p[1], 1);
	pp->dst = p[1];
	pp->own_dst = true;
	return p[0];
}

int pio_open(struct pio *io, const struct pio_names *nm, int fds[3])
{
	int i;

	pio_init(io);
	fds[0] = open_in(&io->in, nm->in, nm->terminal);
	if (fds[0] >= 0 && !nm->terminal && strncmp(nm->out, "binary://", 9) == 0) {
		int rc = pio_open_binary(io, nm->out, nm->id, nm->ns, fds + 1);

		if (rc == 0)
			return 0;
		fds[1] = rc;
		fds[2] = -1;
	} else {
		struct logsink *shared = NULL;   /* one capped log for both, when both name it */

		fds[1] = fds[0] < 0 ? -1 : open_out(&io->out, nm->out, nm->terminal, &shared);
		if (shared && strcmp(nm->out, nm->err))
			shared = NULL;
		/* a terminal has no separate stderr: the pty carries both */
		fds[2] = fds[1] < 0 ? -1 : open_out(&io->err, nm->terminal ? "" : nm->err, false, &shared);
	}
	for (i = 0; i < 3; i++) {
		if (fds[i] < 0) {
			int rc = fds[i];

			for (i = 0; i < 3; i++)
				if (fds[i] >= 0)
					close(fds[i]);
			pio_close(io);
			return rc;
		}
	}
	return 0;
}

void pio_set_console(struct pio *io, int master)
{
	if (io->console >= 0)
		close(io->console);
	sv_set_nonblock(master, 1);
	io->console = master;
	if (!io->in.eof) {
		io->in.dst = master;
		io->in.own_dst = false;
	}
	if (has_dst(&io->out)) {
		io->out.src = master;
		io->out.own_src = false;
	}
}

int pio_poll_fd(struct pump *pp, short *events)
{
	if (pp->off < pp->len) {
		*events = POLLOUT;
		return pp->dst;
	}
	if (pp->src >= 0 && has_dst(pp) && !pp->eof) {
		*events = POLLIN;
		return pp->src;
	}
	return -1;
}

/* Write what we hold; false when dst takes no more now. Bytes dst cannot ever take
 * (no reader: EPIPE) are dropped. */
static bool pump_flush(struct pump *pp)
{
	while (pp->off < pp->len) {
		ssize_t n = write(pp->dst, pp->buf + pp->off, pp->len - pp->off);

		if (n > 0) {
			pp->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		pp->off = pp->len;          /* EPIPE or worse: drop */
	}
	free(pp->buf);
	pp->buf = NULL;
	pp->len = pp->off = 0;
	return true;
}

static void pump_keep(struct pump *pp, const uint8_t *p, size_t n)
{
	pp->buf = malloc(n);
	if (!pp->buf)
		return;                     /* dropped */
	memcpy(pp->buf, p, n);
	pp->len = n;
	pp->off = 0;
}

void pio_ready(struct pump *pp)
{
	int k;

	if (!has_dst(pp))
		return;
	if (!pump_flush(pp))
		return;
	for (k = 0; k < PUMP_ROUNDS && !pp->eof; k++) {
		ssize_t n = read(pp->src, scratch, sizeof(scratch)), m;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !pp->end_when_empty)
			return;
		if (n <= 0) {               /* EOF; EIO from a pty master whose slave closed */
			close_src(pp);
			break;
		}
		if (pp->sink) {
			logsink_write(pp->sink, scratch, (size_t)n);   /* never blocks, never refuses */
			continue;
		}
		m = write(pp->dst, scratch, (size_t)n);
		if (m < 0)
			m = errno == EAGAIN ? 0 : n;    /* EPIPE: nobody reads; dropped */
		if (m < n) {
			pump_keep(pp, scratch + m, (size_t)(n - m));
			return;
		}
	}
	if (pp->eof && pp->off >= pp->len)
		close_dst(pp);
}

/* CloseIO: what the client wrote before it is still delivered (it may have closed its end
 * of the FIFO an instant before asking): the FIFO is read until it is empty, then closed. */
void pio_close_stdin(struct pio *io)
{
	struct pump *pp = &io->in;

	if (pp->src < 0 || !has_dst(pp)) {
		close_src(pp);
		if (pp->off >= pp->len)
			close_dst(pp);
		return;
	}
	pp->end_when_empty = true;
	pio_ready(pp);
}

void pio_drain(struct pio *io)
{
	struct pump *o[2] = { &io->out, &io->err };
	int i, k;

	for (i = 0; i < 2; i++)
		for (k = 0; k < PUMP_ROUNDS && has_dst(o[i]) && o[i]->src >= 0 && !o[i]->eof; k++)
			pio_ready(o[i]);
}

void pio_close(struct pio *io)
{
	struct pump *all[3] = { &io->in, &io->out, &io->err };
	int i;

	for (i = 0; i < 3; i++) {
		close_src(all[i]);
		close_dst(all[i]);
	}
	if (io->console >= 0)
		close(io->console);
	io->console = -1;
	if (io->logger_ready >= 0)
		close(io->logger_ready);
	io->logger_ready = -1;
	if (io->logger > 0)
		kill(io->logger, SIGTERM);      /* it ends with the pipes anyway; reaped as a stranger */
	io->logger = 0;
}
