/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/monitor_log.c: the daemon's log. The root monitor is the only process that
 * writes it: to syslog (our RFC 3164 client, common/syslog.c) or, with -F, to its stderr.
 * The engine and every child the monitor execs (workers, cleaners) send their lines on a
 * relay: a SOCK_DGRAM socketpair of its own whose other end is its fd 2, one line per
 * datagram, "<level>text". Of those bytes the monitor parses only the "<digit>" in front; the
 * text is opaque: cleaned (control characters escaped, length bounded), filtered by the
 * monitor's own level, rate-limited per sender and for all children together, and written
 * with the sender's pid as the kernel gave it (SCM_CREDENTIALS). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "common/syslog.h"
#include "monitor.h"

#define SYSLOG_IDENT "shimvisord"
#define READS_PER_ROUND 64        /* datagrams read from one relay before serving the rest */
#define MON_OWN_FDS 256           /* the fd limit's part kept from relays */
#define MON_RELAY_FD_BASE 256     /* relays at or above it; the fds a spawn passes below */
#define REPORT_MS 1000            /* suppressed lines are reported at most this often */
#define ENGINE_RELAY_BUF (4 << 20)

/* The limits: a sender's burst, then one line per interval. The engine logs every task's
 * lifecycle: more than a worker, which logs little but its faults. */
static const struct limit {
	int burst, interval_ms;
} engine_limit = { 2000, 1 }, child_limit = { 100, 100 }, children_limit = { 1000, 5 };

/* The sink of every line (sv_log_set_sink): "prog: msg" on stderr with -F (today's format),
 * else syslog with ident shimvisord, its pid, and "prog: " kept for the other programs. */
static void sink(void *arg, int level, pid_t pid, const char *prog, const char *msg, size_t len)
{
	struct mon_log *l = arg;
	char line[SV_LOG_LINE + 80];
	int k;

	if (l->foreground || strcmp(prog, SYSLOG_IDENT) != 0) {
		k = snprintf(line, sizeof(line), "%s: %.*s%s", prog, (int)len, msg,
			     l->foreground ? "\n" : "");
		if (k < 0)
			return;
		if ((size_t)k >= sizeof(line)) {
			k = sizeof(line) - 1;
			if (l->foreground)
				line[k - 1] = '\n';
		}
		msg = line;
		len = (size_t)k;
	}
	if (l->foreground) {
		while (write(STDERR_FILENO, msg, len) < 0 && errno == EINTR)
			;
		return;
	}
	sv_syslog_send(&l->sys, level, SYSLOG_IDENT, pid, msg, len);
}

int mon_log_relay_new(int *rd, int *wr)
{
	int sp[2], on = 1;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0)
		return -errno;
	if (setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0) {
		int r = -errno;
		close(sp[0]), close(sp[1]);
		return r;
	}
	/* the monitor's end, kept for the child's life, above the fds a spawn passes on: those
	 * stay low, so that a child's own fd table copies only them (common/spawn.c) */
	if ((*rd = fcntl(sp[0], F_DUPFD_CLOEXEC, MON_RELAY_FD_BASE)) >= 0)
		close(sp[0]);
	else
		*rd = sp[0];    /* a limit below the base: where it is */
	*wr = sp[1];
	return 0;
}

int mon_log_child_relay(struct monitor *m, int *rd, int *wr)
{
	struct mon_log *l = &m->log;
	int r;

	*rd = *wr = -1;
	if (l->nrelays >= l->max_relays) {
		if (!l->relays_full_said)
			sv_warn("log: %zu children relay their lines, all the fd limit leaves: the "
				"next ones' lines are lost (raise RLIMIT_NOFILE)", l->nrelays);
		l->relays_full_said = true;
		return -EMFILE;
	}
	r = mon_log_relay_new(rd, wr);
	if (r == 0)
		l->nrelays++;
	return r;
}

int mon_log_open(struct monitor *m)
{
	struct mon_log *l = &m->log;
	unsigned long nofile = sv_nofile_raise();
	int r;

	/* a relay per worker, as the engine holds a link per task; MON_OWN_FDS of the limit
	 * are for the monitor's own work (a spawn holds a few fds, replies queued for a slow
	 * engine hold theirs) */
	l->max_relays = nofile > 2 * MON_OWN_FDS ? nofile - MON_OWN_FDS : nofile / 2;
	l->nrelays = 0;

	l->foreground = m->cfg->foreground;
	sv_syslog_init(&l->sys, m->cfg->syslog_socket);
	l->engine = (struct mon_relay){ .fd = -1 };
	l->eng_wr = -1;
	sv_log_set_sink(sink, l);
	r = mon_log_relay_new(&l->engine.fd, &l->eng_wr);
	if (r < 0)
		return r;
	/* room for a burst (600 workers dying at once: 4 lines each) while the monitor is busy
	 * reaping them: memory only while it is queued */
	setsockopt(l->eng_wr, SOL_SOCKET, SO_SNDBUFFORCE, &(int){ ENGINE_RELAY_BUF },
		   sizeof(int));
	return 0;
}

int mon_log_level_of(const char *buf, size_t n, size_t *text)
{
	int level;

	if (n < 3 || buf[0] != '<' || buf[1] < '0' || buf[1] > '9' || buf[2] != '>') {
		*text = 0;
		return LOG_WARNING;
	}
	*text = 3;
	level = buf[1] - '0';
	return level < LOG_ERR ? LOG_ERR : level > LOG_DEBUG ? LOG_DEBUG : level;
}

static void suppressed(struct monitor *m, unsigned long *count)
{
	++*count;
	if (!m->log.report_at_ms)
		m->log.report_at_ms = sv_now_ms() + REPORT_MS;
}

/* One datagram of rl (prog's): filtered, limited, cleaned, written. */
static void relay_line(struct monitor *m, struct mon_relay *rl, const char *prog, bool child,
		       pid_t pid, const char *buf, size_t n)
{
	const struct limit *lim = child ? &child_limit : &engine_limit;
	char text[SV_LOG_LINE];
	int64_t now = sv_now_ms();
	size_t at, len;
	int level = mon_log_level_of(buf, n, &at);

	if (level > sv_log_level())
		return;
	if (!sv_rate_take(&rl->rate, now, lim->interval_ms, lim->burst)) {
		suppressed(m, &rl->suppressed);
		return;
	}
	if (child && !sv_rate_take(&m->log.workers, now, children_limit.interval_ms,
				   children_limit.burst)) {
		suppressed(m, &m->log.workers_suppressed);
		return;
	}
	len = sv_log_clean(text, sizeof(text), buf + at, n - at);
	sink(&m->log, level, pid, prog, text, len);
}

/* Up to max datagrams of rl; the pid of each from its credentials; any fd sent along is
 * closed (a sender cannot fill the monitor's fd table). */
static void relay_read(struct monitor *m, struct mon_relay *rl, const char *prog, bool child,
		       int max)
{
	char buf[SV_LOG_LINE + 8];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(8 * sizeof(int))];
	} c;

	for (int i = 0; i < max && rl->fd >= 0; i++) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
				     .msg_controllen = sizeof(c.b) };
		ssize_t n = recvmsg(rl->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		pid_t pid = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
			if (h->cmsg_level != SOL_SOCKET)
				continue;
			if (h->cmsg_type == SCM_CREDENTIALS && h->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
				struct ucred uc;
				memcpy(&uc, CMSG_DATA(h), sizeof(uc));
				pid = uc.pid;
			} else if (h->cmsg_type == SCM_RIGHTS) {
				size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t j = 0; j < k; j++) {
					int fd;
					memcpy(&fd, CMSG_DATA(h) + j * sizeof(int), sizeof(fd));
					close(fd);
				}
			}
		}
		if (n == 0)
			continue;
		rl->pid = pid;
		if ((size_t)n > sizeof(buf))
			n = sizeof(buf);        /* MSG_TRUNC: the rest was cut */
		relay_line(m, rl, prog, child, pid, buf, (size_t)n);
	}
}

void mon_log_input(struct monitor *m, struct mon_child *c)
{
	if (!c)
		relay_read(m, &m->log.engine, SYSLOG_IDENT, false, READS_PER_ROUND);
	else
		relay_read(m, &c->log, "shimvisor-worker", true, READS_PER_ROUND);
}

/* "prog[pid]: N lines suppressed", once per report; the count starts again. */
static void report(struct monitor *m, const char *who, pid_t pid, unsigned long *count)
{
	char msg[160];
	int k;

	if (!*count)
		return;
	if (pid)
		k = snprintf(msg, sizeof(msg), "log: %s (pid %d): %lu lines suppressed (over its rate)",
			     who, (int)pid, *count);
	else
		k = snprintf(msg, sizeof(msg), "log: %s: %lu lines suppressed (over their rate)", who,
			     *count);
	*count = 0;
	sink(&m->log, LOG_WARNING, getpid(), SYSLOG_IDENT, msg, (size_t)k);
}

void mon_log_relay_close(struct monitor *m, int fd)
{
	if (fd < 0)
		return;
	close(fd);
	if (m->log.nrelays)
		m->log.nrelays--;
	if (m->log.nrelays < m->log.max_relays)
		m->log.relays_full_said = false;
}

void mon_log_child_gone(struct monitor *m, struct mon_child *c)
{
	if (c->log.fd < 0)
		return;
	/* what it sent before it ended is in the socket still: bounded by its buffer */
	relay_read(m, &c->log, "shimvisor-worker", true, 4096);
	report(m, "shimvisor-worker", c->log.pid ? c->log.pid : c->pid, &c->log.suppressed);
	mon_log_relay_close(m, c->log.fd);
	c->log.fd = -1;
}

void mon_log_due(struct monitor *m, int64_t now, int64_t *next)
{
	struct mon_log *l = &m->log;

	if (!l->report_at_ms)
		return;
	if (now < l->report_at_ms) {
		if (l->report_at_ms < *next)
			*next = l->report_at_ms;
		return;
	}
	l->report_at_ms = 0;
	report(m, "the engine", l->engine.pid, &l->engine.suppressed);
	for (size_t i = 0; i < m->nchildren; i++) {
		struct mon_child *c = m->children[i];
		report(m, "shimvisor-worker", c->log.pid ? c->log.pid : c->pid, &c->log.suppressed);
	}
	report(m, "all workers", 0, &l->workers_suppressed);
}
