/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/run_io.c: an attached run's or exec's stdio FIFOs, the one poll loop that copies
 * them, forwards signals to the process and takes its exit status, and the attach around it. */
#include <linux/magic.h>
#include <sys/statfs.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "client/cli/cli.h"
#include "wire/limits.h"
#include "wire/ttrpc.h"

#define IO_CHUNK        65536
#define DRAIN_GRACE_MS  2000    /* after the exit: silence this long on output ends the copy */

static const char *const fifo_names[3] = { "stdin", "stdout", "stderr" };

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Where the FIFOs go: $XDG_RUNTIME_DIR, then $TMPDIR, then /dev/shm when it is a writable
 * tmpfs (FIFOs hold no data, and a tmpfs makes them without a journal), then /tmp. */
const char *run_io_base(void)
{
	const char *v[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR") };
	struct statfs sf;

	for (size_t i = 0; i < 2; i++)
		if (v[i] && v[i][0] == '/' && access(v[i], W_OK | X_OK) == 0)
			return v[i];
	if (statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC && access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	return "/tmp";
}

static void io_init(struct run_io *io, bool tty)
{
	memset(io, 0, sizeof(*io));
	io->in_rdwr = io->in_w = io->out = io->err = -1;
	io->tty = tty;
	io->fwd_in = true;
}

int run_io_setup(struct run_io *io, bool tty)
{
	const char *tmp = run_io_base();
	int rc;

	io_init(io, tty);
	if (snprintf(io->dir, sizeof(io->dir), "%s/%sXXXXXX", tmp,
		     tty ? TTY_FIFO_PREFIX : "shimvisor-run.") >= (int)sizeof(io->dir)) {
		io->dir[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(io->dir)) {               /* mode 0700 */
		rc = -errno;
		io->dir[0] = '\0';
		return rc;
	}
	for (int i = 0; i < (tty ? 2 : 3); i++) {   /* a pty has no stderr of its own */
		snprintf(io->path[i], sizeof(io->path[i]), "%s/%s", io->dir, fifo_names[i]);
		if (mkfifo(io->path[i], 0600) < 0)
			return -errno;
	}
	/* Our read ends first, so the worker's opens never block; stdin held O_RDWR so the
	 * task cannot see EOF before we are connected. */
	io->out = open(io->path[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (io->out < 0)
		return -errno;
	io->err = tty ? -1 : open(io->path[2], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (io->err < 0 && !tty)
		return -errno;
	io->in_rdwr = open(io->path[0], O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (io->in_rdwr < 0)
		return -errno;
	return 0;
}

int run_io_started(struct run_io *io)
{
	io->in_w = open(io->path[0], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (io->in_w < 0)
		return -errno;
	close_fd(&io->in_rdwr);
	return 0;
}

/* Open path with flags; it must be a FIFO. */
static int open_fifo(const char *path, int flags)
{
	struct stat st;
	int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		rc = fstat(fd, &st) < 0 ? -errno : -EINVAL;
		close(fd);
		return rc;
	}
	return fd;
}

int run_io_open(struct run_io *io, const char *in, const char *out)
{
	io_init(io, true);
	io->out = open_fifo(out, O_RDONLY);
	if (io->out < 0)
		return io->out;
	if (in && *in) {
		/* the worker holds the read end (O_RDWR) for as long as the process lives */
		io->in_w = open_fifo(in, O_WRONLY);
		if (io->in_w < 0) {
			int rc = io->in_w;

			close_fd(&io->out);
			return rc;
		}
	}
	return 0;
}

void run_io_release(struct run_io *io)
{
	io->dir[0] = '\0';
	run_io_cleanup(io);
}

void run_io_cleanup(struct run_io *io)
{
	close_fd(&io->in_rdwr);
	close_fd(&io->in_w);
	close_fd(&io->out);
	close_fd(&io->err);
	if (!io->dir[0])
		return;
	for (int i = 0; i < 3; i++)
		if (io->path[i][0])
			unlink(io->path[i]);
	rmdir(io->dir);
	io->dir[0] = '\0';
}

struct pump {
	char buf[IO_CHUNK];
	size_t len, off;
	bool eof;
};

/* stdin -> task: read when empty (through the detach keys when set), write what the FIFO
 * takes. */
static void pump_stdin(struct run_io *io, struct pump *p, short rev_in, short rev_out)
{
	if (rev_in && p->len == 0 && !p->eof) {
		char raw[4096];
		bool keys = io->keys.n > 0;
		ssize_t n = read(STDIN_FILENO, keys ? raw : p->buf, keys ? sizeof(raw) : sizeof(p->buf));

		if (n > 0 && keys) {
			p->len = tty_keys_scan(&io->keys, raw, (size_t)n, p->buf, &io->detached);
			p->off = 0;
		} else if (n > 0) {
			p->len = (size_t)n;
			p->off = 0;
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			p->eof = true;           /* EOF, or an unreadable stdin */
		}
	}
	if ((rev_out || p->len) && io->in_w >= 0 && p->off < p->len) {
		ssize_t n = write(io->in_w, p->buf + p->off, p->len - p->off);

		if (n > 0) {
			p->off += (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			p->eof = true;           /* the task closed its stdin: drop the rest */
			p->off = p->len;
		}
		if (p->off == p->len)
			p->len = p->off = 0;
	}
	if (p->eof && p->len == 0)
		close_fd(&io->in_w);         /* the task sees EOF */
}

/* task output -> our fd; one read per wake-up. Returns true on activity. */
static bool pump_out(int *fd, int to, bool *broken, char *buf)
{
	ssize_t n = read(*fd, buf, IO_CHUNK);

	if (n > 0) {
		if (!*broken && sv_write_all(to, buf, (size_t)n) < 0)
			*broken = true;          /* our reader is gone: keep draining, discard */
		return true;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		close_fd(fd);
	return n == 0;
}

/* The signals the copy loop forwards; with a terminal also SIGWINCH, which it turns into
 * a ResizePty. */
static void forwarded_set(sigset_t *set, bool tty)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	if (tty)
		sigaddset(set, SIGWINCH);
}

void run_io_block_signals(bool tty)
{
	sigset_t set;

	forwarded_set(&set, tty);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static int make_signalfd(bool tty)
{
	sigset_t set;

	forwarded_set(&set, tty);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Our terminal's size to the process's pty (errors are not the copy's business: a process
 * that exited has no pty left to size). */
static void resize(struct sv_client *ctl, const char *id, const char *exec_id)
{
	uint32_t w, h;

	if (tty_size(STDIN_FILENO, &w, &h) == 0 || tty_size(STDOUT_FILENO, &w, &h) == 0)
		sv_resize_pty(ctl, id, exec_id, w, h);
}

/* "run" or "exec", for messages. */
static const char *cmd_of(const char *exec_id)
{
	return exec_id ? "exec" : "run";
}

static void forward_signals(int sfd, struct sv_client *ctl, const char *id, const char *exec_id)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int rc;

		if (si.ssi_signo == SIGWINCH) {
			resize(ctl, id, exec_id);
			continue;
		}
		rc = sv_signal(ctl, id, exec_id, si.ssi_signo);

		if (rc < 0 && rc != -ENOENT)
			cli_call_error(ctl, rc, "%s: forward signal %u to %s", cmd_of(exec_id),
				       si.ssi_signo, id);
	}
}

enum { P_IN, P_INW, P_OUT, P_ERR, P_SIG, P_WAIT, P_N };

int run_io_loop(struct run_io *io, struct sv_client *ctl, struct sv_client *waiter,
		const char *id, const char *exec_id, uint32_t *status)
{
	struct pump *in = calloc(1, sizeof(*in));
	char *obuf = malloc(IO_CHUNK);
	bool out_broken = false, err_broken = false, done = false;
	int sfd = make_signalfd(io->tty), rc = -EIO;

	if (!in || !obuf || sfd < 0) {
		rc = sfd < 0 ? -errno : -ENOMEM;
		cli_error("%s: %s", cmd_of(exec_id), strerror(-rc));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!io->fwd_in)
		in->eof = true;
	while ((io->out >= 0 || io->err >= 0 || (!done && waiter)) && !io->detached) {
		struct pollfd pfd[P_N] = {
			[P_IN] = { .fd = !in->eof && in->len == 0 && io->in_w >= 0 ? STDIN_FILENO : -1,
				   .events = POLLIN },
			[P_INW] = { .fd = in->len ? io->in_w : -1, .events = POLLOUT },
			[P_OUT] = { .fd = io->out, .events = POLLIN },
			[P_ERR] = { .fd = io->err, .events = POLLIN },
			[P_SIG] = { .fd = sfd, .events = POLLIN },
			[P_WAIT] = { .fd = !done && waiter ? sv_client_fd(waiter) : -1, .events = POLLIN },
		};
		int n = poll(pfd, P_N, done ? DRAIN_GRACE_MS : -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			cli_error("%s: poll: %s", cmd_of(exec_id), strerror(-rc));
			goto out;
		}
		if (n == 0)
			break;          /* exited, and its output has been quiet for the grace */
		if (pfd[P_IN].revents & POLLNVAL)
			in->eof = true;
		pump_stdin(io, in, pfd[P_IN].revents, pfd[P_INW].revents);
		if (pfd[P_OUT].revents)
			pump_out(&io->out, STDOUT_FILENO, &out_broken, obuf);
		if (pfd[P_ERR].revents)
			pump_out(&io->err, STDERR_FILENO, &err_broken, obuf);
		if (pfd[P_SIG].revents)
			forward_signals(sfd, ctl, id, exec_id);
		if (pfd[P_WAIT].revents) {
			rc = sv_wait_recv(waiter, status, NULL);
			if (rc < 0)
				waiter = NULL;      /* the caller waits again once output ends */
			else
				done = true;
		}
	}
	if (io->detached)
		rc = 0;
	else if (!done)
		rc = rc < 0 ? rc : -EIO;
out:
	if (sfd >= 0)
		close(sfd);
	close_fd(&io->in_w);
	free(in);
	free(obuf);
	return done || io->detached ? 0 : rc;
}

/* The exit status once the copy is over: a fresh connection when the first wait broke. */
static int wait_again(const struct cli *g, const struct run_attach *a, uint32_t *status)
{
	struct sv_client *c = cli_connect(g);
	int rc;

	if (!c)
		return -ECONNREFUSED;
	rc = sv_wait_exec_send(c, a->id, a->exec_id);
	if (rc == 0)
		rc = sv_wait_recv(c, status, NULL);
	if (rc < 0)
		cli_call_error(c, rc, "%s: wait %s", a->cmd, a->id);
	sv_close(c);
	return rc;
}

/* The Wait for the process, sent now on its own connection and answered whenever it exits
 * (the copy goes on until the output ends, so nothing written is lost); NULL if it failed. */
static struct sv_client *send_wait(const struct cli *g, const struct run_attach *a)
{
	struct sv_client *w = NULL;

	if (sv_connect(g->address, &w) < 0 || sv_set_namespace(w, g->ns) < 0 ||
	    sv_wait_exec_send(w, a->id, a->exec_id) < 0) {
		sv_close(w);
		return NULL;
	}
	return w;
}

int run_io_tty_copy(const struct cli *g, struct sv_client *c, const struct run_attach *a,
		    struct run_io *io, uint32_t *status)
{
	bool raw = io->fwd_in && isatty(STDIN_FILENO);
	struct sv_client *waiter;
	struct termios saved;
	char err[CLI_ERR_MAX];
	int rc;

	io->fwd_in = io->fwd_in && io->in_w >= 0;
	if (io->fwd_in && tty_parse_detach_keys(a->detach_keys ? a->detach_keys : TTY_DEFAULT_KEYS,
						&io->keys, err, sizeof(err)) < 0)
		return cli_error("%s: %s", a->cmd, err);      /* checked while parsing */
	if (raw && (rc = tty_raw(STDIN_FILENO, &saved)) < 0) {
		cli_error("%s: raw mode: %s", a->cmd, strerror(-rc));
		raw = false;
	}
	waiter = send_wait(g, a);
	rc = run_io_loop(io, c, waiter, a->id, a->exec_id, status);
	sv_close(waiter);
	if (raw)
		tty_restore(STDIN_FILENO, &saved);
	if (rc < 0 && wait_again(g, a, status) < 0)
		return CLI_EXIT_FAIL;
	return 0;
}

void run_io_detached_note(const struct cli *g, const struct run_attach *a)
{
	bool ns = strcmp(g->ns, SV_DEFAULT_NS) != 0;

	fprintf(stderr, "\r\nshimvisor: %s: detached, it runs on (attach again: shimvisor %s%s%s"
		"attach %s%s%s%s)\n", a->id, ns ? "-n " : "", ns ? g->ns : "", ns ? " " : "",
		a->exec_id ? "--exec-id " : "", a->exec_id ? a->exec_id : "", a->exec_id ? " " : "",
		a->id);
}

/* Make the FIFOs, start the process on c, send its Wait on a second connection, copy with
 * run_io_loop, and wait again on a fresh connection if that Wait broke; the FIFOs are gone
 * on return (a terminal's stay when we detached: io->detached). 0 with *status, or the exit
 * code (the error printed). */
static int attach(const struct cli *g, struct sv_client *c, const struct run_attach *a,
		  uint32_t *status, bool *detached)
{
	struct sv_client *waiter;
	struct run_io io;
	int rc = run_io_setup(&io, a->tty);

	*status = 0;
	if (rc < 0) {
		cli_error("%s: stdio fifos in %s: %s", a->cmd, io.dir[0] ? io.dir : "$TMPDIR",
			  strerror(-rc));
		run_io_cleanup(&io);
		return CLI_EXIT_FAIL;
	}
	if (a->tty && tty_size(STDIN_FILENO, &io.width, &io.height) < 0 &&
	    tty_size(STDOUT_FILENO, &io.width, &io.height) < 0)
		io.width = io.height = 0;
	rc = a->start(c, &io, a->ctx);
	if (rc) {
		run_io_cleanup(&io);
		return rc;
	}
	rc = run_io_started(&io);
	if (rc < 0)
		cli_error("%s %s: open stdin fifo: %s", a->cmd, a->id, strerror(-rc));
	if (a->tty) {
		io.fwd_in = a->fwd_in;
		rc = run_io_tty_copy(g, c, a, &io, status);
		*detached = io.detached;
		if (io.detached)
			run_io_release(&io);
		else
			run_io_cleanup(&io);
		return rc;
	}
	waiter = send_wait(g, a);
	rc = run_io_loop(&io, c, waiter, a->id, a->exec_id, status);
	sv_close(waiter);
	run_io_cleanup(&io);
	if (rc < 0 && wait_again(g, a, status) < 0)
		return CLI_EXIT_FAIL;
	return 0;
}

int run_io_command(const struct cli *g, const struct run_attach *a, bool detach)
{
	struct sv_client *c;
	bool detached = false;
	uint32_t status;
	int rc;

	if (!detach)
		run_io_block_signals(a->tty);
	c = cli_connect(g);
	if (!c)
		return CLI_EXIT_FAIL;
	if (detach) {
		rc = a->start(c, NULL, a->ctx);
	} else {
		rc = attach(g, c, a, &status, &detached);
		if (rc == 0 && detached) {
			run_io_detached_note(g, a);
		} else if (rc == 0) {
			a->finish(c, a->ctx);
			rc = status > 255 ? 255 : (int)status;
		}
	}
	sv_close(c);
	return rc;
}
