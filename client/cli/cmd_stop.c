/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_stop.c: stop and restart, as docker's: SIGTERM, SIGKILL once the grace
 * period has passed, every task's wait in parallel; restart then runs each stopped task
 * again on its bundle (the Restart method). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/cli.h"
#include "common/clock.h"

/* Tasks stopped at once: each holds a connection for its Wait (a non-root uid gets
 * client_peer_max, 64 by default); more wait for the next window. */
#define STOP_WINDOW 32

struct stop_args {
	uint32_t grace_s;
};

static int stop_opt(int key, const char *arg, void *ctx)
{
	struct stop_args *a = ctx;

	(void)key;
	if (cli_parse_u32(arg, &a->grace_s) < 0 || a->grace_s > INT_MAX / 1000) {
		cli_error("invalid -t \"%.32s\": want whole seconds, 0 to %d", arg, INT_MAX / 1000);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* One task being stopped. */
struct stopping {
	const char *id;
	struct sv_client *w;        /* its Wait, until answered */
	bool killed;                /* our SIGTERM was taken: the task existed */
	bool done, failed;
};

/* Its Wait answered: stopped (or gone: a --rm -d task is deleted once it exits). */
static void wait_answer(struct stopping *s, const char *cmd, bool print)
{
	uint32_t status;
	int rc = sv_wait_recv(s->w, &status, NULL);

	if (rc < 0 && !(rc == -ENOENT && s->killed)) {
		cli_call_error(s->w, rc, "%s %s", cmd, s->id);
		s->failed = true;
	} else if (print) {
		printf("%s\n", s->id);
		fflush(stdout);
	}
	s->done = true;
	sv_close(s->w);
	s->w = NULL;
}

/* Stop n tasks (n <= STOP_WINDOW) at once: each one's Wait first (so that its exit cannot be
 * missed, whatever removes it after), then SIGTERM to all, then SIGKILL to those not ended
 * when the grace period is over. */
static void stop_window(const struct cli *g, struct sv_client *c, struct stopping *s, int n,
			uint32_t grace_s, const char *cmd, bool print)
{
	int64_t deadline = sv_now_ms() + (int64_t)grace_s * 1000;
	bool kill_sent = false;
	int left = 0, rc;

	for (int i = 0; i < n; i++) {
		if (!(s[i].w = cli_connect(g)) || (rc = sv_wait_send(s[i].w, s[i].id)) < 0) {
			if (s[i].w)
				cli_call_error(s[i].w, rc, "%s %s", cmd, s[i].id);
			sv_close(s[i].w);
			s[i].w = NULL;
			s[i].done = s[i].failed = true;
			continue;
		}
		left++;
	}
	for (int i = 0; i < n; i++) {
		if (s[i].done)
			continue;
		rc = sv_kill(c, s[i].id, SIGTERM, false);
		/* -ENOENT: stopped already (its Wait answers), or no such task (so does its Wait) */
		if (rc < 0 && rc != -ENOENT) {
			cli_call_error(c, rc, "%s %s", cmd, s[i].id);
			sv_close(s[i].w);
			s[i].w = NULL;
			s[i].done = s[i].failed = true;
			left--;
		}
		s[i].killed = rc == 0;
	}
	while (left > 0) {
		struct pollfd p[STOP_WINDOW];
		int idx[STOP_WINDOW], np = 0, tmo = -1;

		for (int i = 0; i < n; i++) {
			if (s[i].done)
				continue;
			p[np] = (struct pollfd){ .fd = sv_client_fd(s[i].w), .events = POLLIN };
			idx[np++] = i;
		}
		if (!kill_sent) {
			int64_t now = sv_now_ms();
			tmo = now >= deadline ? 0 : (int)(deadline - now);
		}
		rc = poll(p, (nfds_t)np, tmo);
		if (rc < 0 && errno != EINTR) {
			cli_error("%s: poll: %s", cmd, strerror(errno));
			break;
		}
		for (int j = 0; rc > 0 && j < np; j++) {
			if (!p[j].revents)
				continue;
			wait_answer(&s[idx[j]], cmd, print);
			left--;
		}
		if (rc == 0 && !kill_sent) {       /* the grace period is over */
			kill_sent = true;
			for (int j = 0; j < np; j++) {
				int k = sv_kill(c, s[idx[j]].id, SIGKILL, false);
				if (k < 0 && k != -ENOENT)      /* -ENOENT: it has just ended */
					cli_call_error(c, k, "%s %s: SIGKILL", cmd, s[idx[j]].id);
			}
		}
	}
	for (int i = 0; i < n; i++) {      /* a poll error: what is left failed */
		if (s[i].w) {
			sv_close(s[i].w);
			s[i].w = NULL;
			s[i].failed = true;
		}
	}
}

/* The command line of stop and restart: -t, the ids (checked), a connection. 0 or the exit
 * code; on 0 *s holds the ids (opt_free it). */
static int stop_args(const struct cli *g, int argc, char **argv, struct opt_scan *s,
		     struct stop_args *a, char ***ids, int *n, struct sv_client **c)
{
	static const struct opt_def defs[] = { { "time", 't', true, 1 }, { "", 0, false, 0 } };
	char err[CLI_ERR_MAX];
	int rc = cli_scan(s, defs, argc, argv, stop_opt, a);

	if (rc)
		return rc;
	*n = opt_operands(s, ids);
	if (*n == 0) {
		cli_error("%s: missing ID (usage: %s [-t SECS] ID...)", argv[0], argv[0]);
		rc = CLI_EXIT_USAGE;
	}
	for (int i = 0; i < *n && !rc; i++) {
		if (cli_check_id("id", (*ids)[i], err, sizeof(err)) < 0) {
			cli_error("%s", err);
			rc = CLI_EXIT_USAGE;
		}
	}
	if (!rc && !(*c = cli_connect(g)))
		rc = CLI_EXIT_FAIL;
	if (rc)
		opt_free(s);
	return rc;
}

/* Stop every id, STOP_WINDOW at a time; each one's result in st[]. */
static void stop_all(const struct cli *g, struct sv_client *c, char **ids, int n,
		     struct stopping *st, uint32_t grace_s, const char *cmd, bool print)
{
	for (int i = 0; i < n; i++)
		st[i] = (struct stopping){ .id = ids[i] };
	for (int i = 0; i < n; i += STOP_WINDOW)
		stop_window(g, c, st + i, n - i < STOP_WINDOW ? n - i : STOP_WINDOW, grace_s, cmd,
			    print);
}

static int stop_or_restart(const struct cli *g, int argc, char **argv, bool restart)
{
	struct stop_args a = { .grace_s = CLI_STOP_GRACE_S };
	struct sv_client *c = NULL;
	struct stopping *st;
	struct opt_scan s;
	char **ids;
	int n, rc = stop_args(g, argc, argv, &s, &a, &ids, &n, &c);

	if (rc)
		return rc;
	if (!(st = calloc((size_t)n, sizeof(*st)))) {
		rc = cli_error("%s: out of memory", argv[0]);
		goto out;
	}
	stop_all(g, c, ids, n, st, a.grace_s, argv[0], !restart);
	for (int i = 0; i < n; i++) {
		if (st[i].failed) {
			rc = CLI_EXIT_FAIL;
			continue;
		}
		if (!restart)
			continue;
		int e = sv_restart(c, ids[i]);
		if (e < 0) {
			rc = cli_call_error(c, e, "restart %s", ids[i]);
		} else {
			printf("%s\n", ids[i]);
			fflush(stdout);
		}
	}
	free(st);
out:
	sv_close(c);
	opt_free(&s);
	return rc;
}

int cmd_stop(const struct cli *g, int argc, char **argv)
{
	return stop_or_restart(g, argc, argv, false);
}

int cmd_restart(const struct cli *g, int argc, char **argv)
{
	return stop_or_restart(g, argc, argv, true);
}
