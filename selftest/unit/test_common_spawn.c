/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_spawn.c: sv_spawn's fd contract, session, cwd, signals and new
 * pid namespace, seen from a real child (/bin/sh), and a failed exec reported as -errno;
 * each by path (execve) and through an fd (exe_fd: execveat) of /bin/sh pinned read-only by
 * sv_exe_pin, whose pin is checked on its own; a parent's many fds not copied. */
#include <check.h>
#include "tap_main.h"
#include "build_fixture.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common/spawn.h"

static char *const no_env[] = { "PATH=/usr/bin:/bin", NULL };
static int sh_pin = -1;         /* /bin/sh pinned read-only */
static bool via_pin;            /* run_sh execs through sh_pin, not by path */

/* A loop test's index: 0 by path, 1 through the pin of a copy of /bin/sh. */
static void pick_exec(int i)
{
	static char dir[] = "/tmp/sv-spawn-XXXXXX";
	char cmd[128], copy[64];

	via_pin = i == 1;
	/* a copy that nothing else runs: an open for writing meets the mount, not ETXTBSY */
	if (via_pin && sh_pin < 0) {
		ck_assert_ptr_nonnull(mkdtemp(dir));
		snprintf(copy, sizeof(copy), "%s/sh", dir);
		snprintf(cmd, sizeof(cmd), "cp /bin/sh %s", copy);
		ck_assert_int_eq(system(cmd), 0);
		sh_pin = sv_exe_pin(copy);
		unlink(copy);
		rmdir(dir);
	}
	FX_QEMU_SKIP_IF(via_pin && sh_pin == -ENOSYS, "has no open_tree/mount_setattr (ENOSYS)");
	ck_assert_int_ge(sh_pin, via_pin ? 0 : -1);
}

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
	o->exe_fd = via_pin ? &sh_pin : NULL;
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

	pick_exec(_i);

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

/* A parent holding an fd far up (a monitor with thousands of log relays): the child's own
 * fd table holds what lies below its contract's fds, not a copy up to the parent's highest.
 * FDSize in /proc/PID/status is the table's size; exec keeps it. */
START_TEST(a_parent_s_high_fds_are_not_copied)
{
	struct rlimit rl;
	char buf[64];
	struct sv_spawn o = { .std_null = true, .out = -1, .err = -1, .dirfd = -1 };
	int high, fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	pick_exec(_i);
#ifdef __SANITIZE_ADDRESS__
	printf("# SKIP %s: a sanitized build spawns by vfork, which copies the whole fd table\n", __func__);
	return;
#endif
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	high = rl.rlim_cur > 5001 ? 5000 : (int)rl.rlim_cur - 1;
	ck_assert_int_ge(high, 900);
	ck_assert_int_eq(dup3(fd, high, O_CLOEXEC), high);
	ck_assert_int_eq(run_sh("while read k v; do [ \"$k\" = FDSize: ] && echo $v; done < /proc/$$/status; exit 0",
				&o, buf, sizeof(buf)), 0);
	ck_assert_msg(atoi(buf) > 0 && atoi(buf) < 512, "the child's fd table: %s", buf);
	close(high);
	close(fd);
}
END_TEST

START_TEST(session_cwd_signals)
{
	char buf[512], want[64];
	int dir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sv_spawn o = { .std_null = true, .out = -1, .err = -1, .dirfd = dir, .setsid = true };
	sigset_t block, old;

	pick_exec(_i);

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

	pick_exec(_i);

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

	FX_QEMU_SKIP("runs vfork as fork: the child's exec error never reaches the parent");
	ck_assert_int_eq(sv_spawn("/nonexistent/shimvisor-x", argv, no_env, &o, &pid), -ENOENT);
	o.nfds = 7;
	ck_assert_int_eq(sv_spawn("/bin/true", argv, no_env, &o, &pid), -EINVAL);
	/* through an fd: what execveat says, or the fd that is not there */
	o.nfds = 0;
	{
		int f = open("/etc/passwd", O_PATH | O_CLOEXEC), none = 1000;

		ck_assert_int_ge(f, 0);
		o.exe_fd = &f;
		ck_assert_int_eq(sv_spawn("/etc/passwd", argv, no_env, &o, &pid), -EACCES);
		o.exe_fd = &none;
		ck_assert_int_eq(sv_spawn("none", argv, no_env, &o, &pid), -EBADF);
		close(f);
	}
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);      /* a failed child is reaped */
}
END_TEST

/* The pin: the file as the root of a mount of its own that refuses writers, which nothing can
 * make writable again, and what runs from it shows it as its exe. */
START_TEST(pin_is_read_only_and_is_the_exe)
{
	struct mount_attr rw = { .attr_clr = MOUNT_ATTR_RDONLY };
	char fdpath[64], link[256] = "", buf[512];
	struct sv_spawn o = { .std_null = true, .out = -1, .err = -1, .dirfd = -1 };

	pick_exec(1);
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", sh_pin);
	ck_assert_int_gt(readlink(fdpath, link, sizeof(link) - 1), 1);
	ck_assert_msg(!strcmp(link, "/") || !strcmp(link, "/ (deleted)"), "pin reads %s", link);
	ck_assert_int_eq(open(fdpath, O_RDWR | O_CLOEXEC), -1);
	ck_assert_int_eq(errno, EROFS);
	ck_assert_int_eq(open(fdpath, O_WRONLY | O_CLOEXEC), -1);
	ck_assert_int_eq(errno, EROFS);
	ck_assert_int_eq(syscall(SYS_mount_setattr, sh_pin, "", AT_EMPTY_PATH, &rw, sizeof(rw)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(run_sh("readlink /proc/$$/exe; cat /proc/$$/comm", &o, buf, sizeof(buf)), 0);
	/* the child's exe is the pin; its comm the file's name, as an exec by path gives (not the
	 * fd's number) */
	ck_assert_msg(strcmp(buf, strcat(link, "\nsh\n")) == 0, "the child says: %s", buf);
	ck_assert_int_eq(sv_exe_pin("/nonexistent/x"), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_spawn");
	TCase *tc = tcase_create("spawn");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, fds_land_in_order_and_nothing_else_stays, 0, 2);
	tcase_add_loop_test(tc, a_parent_s_high_fds_are_not_copied, 0, 2);
	tcase_add_loop_test(tc, session_cwd_signals, 0, 2);
	tcase_add_loop_test(tc, new_pid_namespace_only_for_that_child, 0, 2);
	tcase_add_test(tc, failed_exec_is_an_error);
	tcase_add_test(tc, pin_is_read_only_and_is_the_exe);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
