/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/monitor_engine.c: the engine's life seen from the monitor: start it, learn why
 * it ended, start the next one after a backoff (0.1 s doubling to 30 s, back to 0.1 s after a
 * minute of health), and tell each new engine the record (`shimvisor version`). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "engine.h"
#include "monitor.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 30000
#define HEALTHY_MS 60000          /* an engine up this long ends a crash loop */
#define DROP_GRACE_MS 1000        /* an engine whose channel ended: killed if not gone by then */

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mon_engine_start(struct monitor *m)
{
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	m->health.started_ms = wall_ms();
	pid = engine_spawn(m->cfg, &m->health, m->ctl_fd, sp[1], m->log.eng_wr);
	close(sp[1]);
	if (pid < 0) {
		close(sp[0]);
		return pid;
	}
	sv_set_nonblock(sp[0], 1);
	m->engine_fd = sp[0];
	if (m->ep > 0)
		mon_engine_watch(m);
	m->engine_pid = pid;
	m->engine_up_ms = sv_now_ms();
	m->restart_at_ms = 0;
	m->kill_why = NULL;
	m->engine_spoke = false;
	if (!m->backoff_ms)
		m->backoff_ms = BACKOFF_FIRST_MS;
	if (m->health.restarts)
		sv_warn("engine restart %u (attempt %u): pid %d, %d ms after the end; if it ends "
			"within a minute, the next in %d ms", m->health.restarts, m->health.loop,
			(int)pid, m->health.waited_ms, m->backoff_ms);
	return 0;
}

void mon_engine_kill(struct monitor *m, const char *why)
{
	if (m->engine_pid <= 0)
		return;
	if (!m->kill_why)
		m->kill_why = why;
	kill(m->engine_pid, SIGKILL);
}

void mon_engine_drop(struct monitor *m)
{
	if (m->engine_fd < 0)
		return;
	/* its end closes the channel before it can be reaped: a moment to be reaped with its
	 * own cause, then killed (mon_engine_due) */
	m->drop_kill_ms = sv_now_ms() + DROP_GRACE_MS;
	mon_forget(m, &m->engine_tag);
	close(m->engine_fd);
	m->engine_fd = -1;
	monitor_engine_gone(m);
}

/* The next start, after why: the crash loop's next attempt, or the first of a new one once
 * the engine that ended had a minute of health. */
static void schedule(struct monitor *m, const char *why, int64_t up_ms)
{
	struct sv_engine_health *h = &m->health;
	int64_t now = sv_now_ms();

	if (up_ms >= HEALTHY_MS || !m->backoff_ms) {
		m->backoff_ms = BACKOFF_FIRST_MS;
		h->loop = 0;
	}
	h->loop++;
	h->restarts++;
	h->backoff_ms = m->backoff_ms;
	h->last_end_ms = wall_ms();
	snprintf(h->last_end, sizeof(h->last_end), "%s", why);
	m->engine_end_ms = now;
	m->restart_at_ms = now + m->backoff_ms;
	sv_warn("the engine %s after %lld.%01lld s: restart %u (attempt %u) in %d ms", why,
		(long long)up_ms / 1000, (long long)up_ms % 1000 / 100, h->restarts, h->loop,
		m->backoff_ms);
	m->backoff_ms = m->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : m->backoff_ms * 2;
}

void mon_engine_ended(struct monitor *m, int wstatus)
{
	char why[sizeof(m->health.last_end)];
	pid_t pid = m->engine_pid;

	m->engine_pid = 0;
	mon_engine_drop(m);
	if (m->kill_why)
		snprintf(why, sizeof(why), "was killed by the monitor: %s", m->kill_why);
	else if (WIFSIGNALED(wstatus))
		snprintf(why, sizeof(why), "was killed by signal %d (%s)", WTERMSIG(wstatus),
			 strsignal(WTERMSIG(wstatus)));
	else
		snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(wstatus));
	if (m->stopping) {
		if (wstatus)
			sv_warn("the engine (pid %d) %s while the daemon stopped", (int)pid, why);
		return;
	}
	if (!m->engine_spoke && m->health.restarts == 0) {
		/* it never asked for its scan: it cannot start (its log says why) */
		sv_warn("the engine (pid %d) %s before it started serving: stopping", (int)pid, why);
		m->start_failed = true;
		return;
	}
	schedule(m, why, sv_now_ms() - m->engine_up_ms);
}

void mon_engine_due(struct monitor *m, int64_t now, int64_t *next)
{
	char why[sizeof(m->health.last_end)];
	int r;

	if (m->engine_pid > 0 && m->engine_fd < 0 && !m->kill_why) {
		if (now >= m->drop_kill_ms)
			mon_engine_kill(m, "it closed its channel to the monitor");
		else if (m->drop_kill_ms < *next)
			*next = m->drop_kill_ms;
	}
	if (m->engine_pid > 0 || m->engine_fd >= 0 || m->stopping || m->start_failed)
		return;
	if (now < m->restart_at_ms) {
		if (m->restart_at_ms < *next)
			*next = m->restart_at_ms;
		return;
	}
	m->health.waited_ms = (int)(now - m->engine_end_ms);
	r = mon_engine_start(m);
	if (r == 0)
		return;
	/* out of processes or fds: a crash loop's attempt like any other */
	snprintf(why, sizeof(why), "could not be started (%s)", strerror(-r));
	schedule(m, why, 0);
	*next = m->restart_at_ms < *next ? m->restart_at_ms : *next;
}
