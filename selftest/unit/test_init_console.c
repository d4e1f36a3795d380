/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_init_console.c: process.terminal for a task's init and for an exec: the
 * pty master arrives as INIT_CONSOLE before READY, the process runs on the slave as its
 * controlling terminal, its output is read from the master, its exit is seen. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "init_fixture.h"

/* ctr's default /dev mounts: devpts with gid=5, /dev/shm, /dev/mqueue. */
#define CTR_DEVPTS_FROM "\"mode=0620\"]"
#define CTR_DEVPTS_TO   "\"mode=0620\",\"gid=5\"]"
#define CTR_DEV_EXTRA \
	",{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\"," \
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]}," \
	"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\"," \
	"\"options\":[\"nosuid\",\"noexec\",\"nodev\"]}"
#define SPEC_DEV_TMPFS \
	",{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"," \
	"\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]}"
#define TERMINAL ",\"terminal\":true"
#define AS_NOBODY ",\"user\":{\"uid\":65534,\"gid\":65534}"

/* A terminal task init from spec; its output read from the console; its wait status. */
static int run_terminal(char *spec, char *out, size_t sz)
{
	struct run r;

	launch(&r, spec);
	free(spec);
	expect_ready_console(&r, 1);
	return start_and_collect(&r, out, sz);
}

/* ctr's mounts: a tmpfs /dev, devpts (gid=5) on /dev/pts. The slave is the process's
 * (owner uid, group tty from devpts), its controlling terminal (/dev/tty opens). */
START_TEST(terminal_init)
{
	char out[256];
	char *spec = make_spec("[\"/bin/sh\",\"-c\",\"tty; test -t 0 && test -t 1 && test -t 2 "
			       "&& echo yes; stat -c %u:%g:%a $(tty); echo ctty >/dev/tty\"]",
			       TERMINAL AS_NOBODY, CTR_DEV_EXTRA, "");
	int st;

	spec = spec_replace(spec, CTR_DEVPTS_FROM, CTR_DEVPTS_TO);
	st = run_terminal(spec, out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "/dev/pts/0\r\nyes\r\n65534:5:620\r\nctty\r\n");
}
END_TEST

/* No /dev mount in the spec: the default minimal /dev, then the devpts on /dev/pts. */
START_TEST(terminal_init_default_dev)
{
	char out[256];
	char *spec = make_spec("[\"/bin/sh\",\"-c\",\"tty; readlink /dev/ptmx\"]", TERMINAL, "", "");
	int st;

	spec = spec_replace(spec, SPEC_DEV_TMPFS, "");
	st = run_terminal(spec, out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "/dev/pts/0\r\npts/ptmx\r\n");
}
END_TEST

START_TEST(terminal_init_exit_status)
{
	char out[64];
	int st = run_terminal(make_spec("[\"/bin/sh\",\"-c\",\"exit 3\"]", TERMINAL, "", ""), out,
			      sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(terminal_needs_devpts)
{
	struct run r;
	char *spec = make_spec("[\"tty\"]", TERMINAL, "", "");

	spec = spec_replace(spec, ",{\"destination\":\"/dev/pts\"", ",{\"destination\":\"/dev/ptz\"");
	launch(&r, spec);
	free(spec);
	expect_init_error(&r, EINVAL, "process.terminal: needs a devpts mount on /dev/pts");
}
END_TEST

/* A running task (cat on a stdin pipe we hold, or on its own terminal). */
static void start_task(struct run *t, int terminal)
{
	char *spec = make_spec("[\"/bin/cat\"]", terminal ? TERMINAL : "", "", "");

	launch_opts(t, spec, !terminal);
	free(spec);
	expect_ready_console(t, terminal);
	start_running(t);
}

static void stop_task(struct run *t)
{
	int st;

	ck_assert_int_eq(kill(t->task, SIGKILL), 0);
	st = wait_exit(t->task);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close_run(t);
}

/* An exec in task t whose Process says terminal (or not), and the worker TTY (NULL: no
 * word): its output from its own console if it gets one (want_console), else its stdout. */
static int exec_tty(struct run *t, const char *script, bool terminal, char *tty,
		    int want_console, char *out, size_t sz)
{
	struct run e;
	char *pj = fx_asprintf("{\"args\":[\"/bin/sh\",\"-c\",\"%s\"],\"terminal\":%s,"
			       "\"env\":[\"PATH=/usr/bin:/bin\"],\"cwd\":\"/\","
			       "\"user\":{\"uid\":65534,\"gid\":65534}}", script,
			       terminal ? "true" : "false");

	launch_exec_tty(&e, t->bundle, t->task, pj, tty);
	free(pj);
	expect_ready_console(&e, want_console);
	return start_and_collect(&e, out, sz);
}

/* An exec with a terminal in task t: its output from its own console. */
static int exec_terminal(struct run *t, const char *script, char *out, size_t sz)
{
	return exec_tty(t, script, true, NULL, 1, out, sz);
}

START_TEST(terminal_exec)
{
	struct run t;
	char out[256];
	int st;

	start_task(&t, 0);
	st = exec_terminal(&t, "tty; test -t 0 && echo yes; stat -c %u $(tty); "
			   "echo ctty >/dev/tty; exit 4", out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 4);
	ck_assert_str_eq(out, "/dev/pts/0\r\nyes\r\n65534\r\nctty\r\n");
	stop_task(&t);
}
END_TEST

/* The task holds pts/0 of the container's devpts; the exec gets the next one there. */
START_TEST(terminal_exec_beside_terminal_task)
{
	struct run t;
	char out[256];
	int st;

	start_task(&t, 1);
	st = exec_terminal(&t, "tty; ls -1 /dev/pts", out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "/dev/pts/1\r\n0\r\n1\r\nptmx\r\n");
	stop_task(&t);
}
END_TEST

/* The worker's tty/notty (ExecProcessRequest.terminal) wins over the Process's, as in
 * runc-v2: a terminal the Process did not ask for, and none where it did. */
START_TEST(terminal_exec_from_request)
{
	struct run t;
	char out[256];
	int st;

	start_task(&t, 0);
	st = exec_tty(&t, "tty; exit 3", false, "tty", 1, out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
	ck_assert_str_eq(out, "/dev/pts/0\r\n");
	st = exec_tty(&t, "tty; exit 2", true, "notty", 0, out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	ck_assert_str_eq(out, "not a tty\n");
	stop_task(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("init_console");

	if (geteuid() != 0) {
		printf("1..0 # SKIP shimvisor-init needs root (namespaces, mounts)\n");
		return 0;
	}
	SV_TCASE(s, "console", 20, terminal_init, terminal_init_default_dev,
		 terminal_init_exit_status, terminal_needs_devpts, terminal_exec,
		 terminal_exec_beside_terminal_task, terminal_exec_from_request);
	return sv_run_suite(s);
}
