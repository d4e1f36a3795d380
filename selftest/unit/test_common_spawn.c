/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_spawn.c: sv_spawn's fd contract, session, cwd, signals and new
 * pid namespace, seen from a real child (/bin/sh), and a failed exec reported as -errno. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "common/spawn.h"

static char *const no_env[] = { "PATH=/usr/bin:/bin", NULL };

/* Run `sh -c script` as o says, with its stdout on a pipe: what it printed, and its exit
 * status. */
static int run_sh(const char *script, struct sv_spawn *o, char *buf, size_t sz)
{
	char *const argv[] = { "sh", "-c", (char *)script, NULL };
	int p[2], st, n = 0, r;
	pid_t pid;
	ssize_t k;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	o->out = p[1];
	r = sv_spawn("/bin/sh", argv, no_env, o, &pid);
	close(p[1]);
	ck_assert_int_eq(r, 0);
	while (n + 1 < (int)sz && (k = read(p[0], buf + n, sz - 1 - (size_t)n)) > 0)
		n += (int)k;
	buf[n] = 0;
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The hex mask after "key:\t" in /proc status text. */
static unsigned long long mask_of(const char *text, const char *key)
{
	const char *at = strstr(text, key);

	ck_assert_msg(at != NULL, "no %s in: %s", key, text);
	return strtoull(at + strlen(key) + 2, NULL, 16);
}

START_TEST(fds_land_in_order_and_nothing_else_stays)
{
	char buf[512];
	int a[2], b[2], extra = open("/dev/null", O_RDONLY);   /* no CLOEXEC: must go all the same */
	struct sv_spawn o = { .nfds = 3, .std_null = true, .out = -1, .err = -1, .dirfd = -1 };
	int fds[3];

	ck_assert_int_ge(extra, 0);
	ck_assert_int_eq(pipe2(a, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(b, O_CLOEXEC), 0);
	/* a source far above the targets; the third target left closed */
	ck_assert_int_eq(dup2(b[1], 30), 30);
	fds[0] = a[1];
	fds[1] = 30;
	fds[2] = -1;            /* closed in the child, whatever we have on 5 */
	o.fds = fds;
	ck_assert_int_eq(run_sh("echo one >&3; echo two >&4; "
				"ls /proc/self/fd | sort -n | tr '\\n' ' ' >&4", &o, buf, sizeof(buf)), 0);
	close(a[1]);
	close(b[1]);
	close(30);
	{
		char x[64] = "", y[128] = "";

		ck_assert_int_gt(read(a[0], x, sizeof(x) - 1), 0);
		ck_assert_int_gt(read(b[0], y, sizeof(y) - 1), 0);
		ck_assert_str_eq(x, "one\n");
		/* 0-2, 3 and 4, and the fd ls itself opens on its directory */
		ck_assert_msg(strncmp(y, "two\n0 1 2 3 4 ", 14) == 0, "child saw: %s", y);
		ck_assert_msg(strlen(y) <= 16, "more fds than the contract: %s", y);
	}
	close(a[0]);
	close(b[0]);
	close(extra);
}
END_TEST

START_TEST(session_cwd_signals)
{
	char buf[512], want[64];
	int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sv_spawn o = { .std_null = true, .out = -1, .err = -1, .dirfd = dir, .setsid = true };
	sigset_t block, old;

	ck_assert_int_ge(dir, 0);
	/* what the caller blocks and ignores must not reach the child */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &block, &old), 0);
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(run_sh("pwd; cat /proc/self/stat | cut -d' ' -f6; "
				"grep -E '^Sig(Blk|Ign)' /proc/self/status", &o, buf, sizeof(buf)), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);
	close(dir);
	ck_assert_msg(strncmp(buf, "/tmp\n", 5) == 0, "cwd: %s", buf);
	/* its own session: the session id is its pid, never ours */
	snprintf(want, sizeof(want), "\n%d\n", (int)getsid(0));
	ck_assert_msg(!strstr(buf, want), "same session as the caller: %s", buf);
	ck_assert_msg(mask_of(buf, "SigBlk") == 0, "signals blocked: %s", buf);
	ck_assert_msg(!(mask_of(buf, "SigIgn") & (1ULL << (SIGPIPE - 1))), "SIGPIPE ignored: %s", buf);
}
END_TEST

START_TEST(new_pid_namespace_only_for_that_child)
{
	char buf[256], self[64], after[64];
	struct sv_spawn o = { .std_null = true, .out = -1, .err = -1, .dirfd = -1, .newpid = true };

	memset(self, 0, sizeof(self));
	ck_assert_int_gt(readlink("/proc/self/ns/pid", self, sizeof(self) - 1), 0);
	ck_assert_int_eq(run_sh("echo $$", &o, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "1\n");
	/* our next children are in our pid namespace again */
	memset(after, 0, sizeof(after));
	ck_assert_int_gt(readlink("/proc/self/ns/pid_for_children", after, sizeof(after) - 1), 0);
	ck_assert_str_eq(after, self);
	o.newpid = false;
	ck_assert_int_eq(run_sh("echo $$", &o, buf, sizeof(buf)), 0);
	ck_assert_str_ne(buf, "1\n");
}
END_TEST

START_TEST(failed_exec_is_an_error)
{
	char *const argv[] = { "nope", NULL };
	struct sv_spawn o = { .std_null = true, .out = -1, .err = -1, .dirfd = -1 };
	pid_t pid = 0;

	ck_assert_int_eq(sv_spawn("/nonexistent/shimvisor-x", argv, no_env, &o, &pid), -ENOENT);
	o.nfds = 7;
	ck_assert_int_eq(sv_spawn("/bin/true", argv, no_env, &o, &pid), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_spawn");
	TCase *tc = tcase_create("spawn");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, fds_land_in_order_and_nothing_else_stays);
	tcase_add_test(tc, session_cwd_signals);
	tcase_add_test(tc, new_pid_namespace_only_for_that_child);
	tcase_add_test(tc, failed_exec_is_an_error);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
