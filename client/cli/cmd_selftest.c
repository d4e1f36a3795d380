/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_selftest.c: `shimvisor selftest`: does this host's shimvisord work? A few
 * real tasks, each property checked from inside the task by its exit status, printed as TAP
 * with a closing "N passed, N failed" line; exit 0 only when nothing failed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/cli/cli.h"

struct st {
	struct sv_client *c;
	int n, failed;
	char id[SV_ID_SZ];
};

static void result(struct st *s, bool ok, const char *what, const char *why)
{
	s->n++;
	s->failed += !ok;
	printf("%sok %d - %s%s%s\n", ok ? "" : "not ", s->n, what, why && *why ? ": " : "",
	       why ? why : "");
	fflush(stdout);
}

static void skip(struct st *s, const char *what, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++s->n, what, why);
	fflush(stdout);
}

/* Start a detached task running `sh -c script`, wait for it: its exit status, or -errno
 * (the daemon's message in why). */
static int run_script(struct st *s, const char *script, char *why, size_t whysz)
{
	char *args[] = { "/bin/sh", "-c", (char *)script };
	sv_CtlCreateRequest req = sv_CtlCreateRequest_init_zero;
	uint32_t status = 0;
	int rc;

	snprintf(req.id, sizeof(req.id), "%s", s->id);
	req.args = args;
	req.args_count = 3;
	req.hostname = "selftest";
	req.detach = true;
	rc = sv_create_start(s->c, &req, NULL);
	if (rc == 0)
		rc = sv_wait(s->c, s->id, &status, NULL);
	if (rc < 0)
		snprintf(why, whysz, "%s", sv_last_error(s->c));
	return rc < 0 ? rc : (int)status;
}

static void cleanup(struct st *s)
{
	(void)sv_delete(s->c, s->id, true, NULL);
}

/* Inside the task: pid 1 of its pid namespace, its own hostname, / read-only, loopback. */
static const char isolation[] =
	"test $$ = 1 || exit 11; "
	"test \"$(cat /proc/sys/kernel/hostname)\" = selftest || exit 12; "
	"touch /.shimvisor-selftest 2>/dev/null && exit 13; "
	"grep -q 'lo:' /proc/net/dev || exit 14; "
	"test \"$(ls /sys/class/net)\" = lo || exit 15; "
	"exit 0";

static const char *isolation_why(int st)
{
	switch (st) {
	case 11: return "not pid 1 of its own pid namespace";
	case 12: return "not its own hostname";
	case 13: return "the host's / is writable inside";
	case 14: return "no loopback";
	case 15: return "sees network interfaces other than its own loopback";
	default: return "unexpected exit status";
	}
}

int cmd_selftest(const struct cli *g, int argc, char **argv)
{
	struct st s = { 0 };
	sv_CtlVersionResponse v;
	sv_StatsResponse stats;
	char why[256] = "";
	int st;

	(void)argv;
	if (argc > 1) {
		cli_error("selftest: no arguments (usage: selftest)");
		return CLI_EXIT_USAGE;
	}
	snprintf(s.id, sizeof(s.id), "selftest-%d", (int)getpid());
	if (sv_connect(g->address, &s.c) < 0 || sv_set_namespace(s.c, g->ns) < 0 ||
	    sv_version(s.c, &v) < 0) {
		snprintf(why, sizeof(why), "%s: %s", g->address, s.c ? sv_last_error(s.c) : strerror(errno));
		result(&s, false, "the daemon answers", why);
		printf("1..%d\n%d passed, %d failed\n", s.n, s.n - s.failed, s.failed);
		sv_close(s.c);
		return CLI_EXIT_FAIL;
	}
	snprintf(why, sizeof(why), "shimvisord %s", v.version ? v.version : "?");
	result(&s, true, "the daemon answers", why);
	sv_pb_free(sv_CtlVersionResponse_fields, &v);

	st = run_script(&s, "exit 7", why, sizeof(why));
	result(&s, st == 7, "a task runs and its exit status comes back", st < 0 ? why : st == 7 ? "" :
	       "wrong status");
	cleanup(&s);
	st = run_script(&s, isolation, why, sizeof(why));
	result(&s, st == 0, "a task is isolated (pid, uts, mount, network namespaces; read-only /)",
	       st < 0 ? why : st ? isolation_why(st) : "");
	cleanup(&s);
	sv_StateResponse left;
	st = sv_state(s.c, s.id, &left);
	if (st == 0)
		sv_pb_free(sv_StateResponse_fields, &left);
	result(&s, st == -ENOENT, "delete removes a task", st == -ENOENT ? "" : "still listed");

	/* a cgroup of its own, when the daemon makes them */
	sv_CtlCreateRequest req = sv_CtlCreateRequest_init_zero;
	char *args[] = { "/bin/sleep", "1000" };
	snprintf(req.id, sizeof(req.id), "%s", s.id);
	req.args = args;
	req.args_count = 2;
	req.detach = true;
	req.pids = 64;
	st = sv_create_start(s.c, &req, NULL);
	if (st < 0 && strstr(sv_last_error(s.c), "cgroup")) {
		skip(&s, "a task with a limit gets a cgroup and its stats", sv_last_error(s.c));
	} else if (st < 0) {
		result(&s, false, "a task with a limit gets a cgroup and its stats", sv_last_error(s.c));
	} else {
		st = sv_stats(s.c, s.id, &stats);
		result(&s, st == 0 && stats.has_stats, "a task with a limit gets a cgroup and its stats",
		       st < 0 ? sv_last_error(s.c) : "");
		if (st == 0)
			sv_pb_free(sv_StatsResponse_fields, &stats);
	}
	cleanup(&s);
	printf("1..%d\n%d passed, %d failed\n", s.n, s.n - s.failed, s.failed);
	sv_close(s.c);
	return s.failed ? CLI_EXIT_FAIL : 0;
}
