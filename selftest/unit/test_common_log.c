/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_log.c: logger line format, one write per line, sv_die's exit status. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static int log_pipe(int p[2])
{
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	sv_log_set_fd(p[1]);
	return p[0];
}

static void expect_line(int fd, const char *want)
{
	char buf[2048];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

START_TEST(lines)
{
	int p[2], rd;

	sv_log_init("/usr/sbin/shimvisord");
	rd = log_pipe(p);
	sv_warn("hello %d", 42);
	expect_line(rd, "shimvisord: hello 42\n");
	sv_warn_err(-ENOENT, "open %s", "x");
	expect_line(rd, "shimvisord: open x: No such file or directory\n");
	sv_warn_err(0, "plain");
	expect_line(rd, "shimvisord: plain\n");
	sv_debug("hidden");
	sv_log_set_level(LOG_DEBUG);
	sv_debug("shown");
	expect_line(rd, "shimvisord: debug: shown\n");
	sv_log_set_level(LOG_WARNING);
	sv_info("hidden too");
	sv_log_err(LOG_WARNING, -ENOENT, "at %s", "warning");
	expect_line(rd, "shimvisord: at warning: No such file or directory\n");
	sv_log_set_level(LOG_INFO);
	errno = EXDEV;
	sv_warn("keeps errno");
	ck_assert_int_eq(errno, EXDEV);
	expect_line(rd, "shimvisord: keeps errno\n");
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(long_line_truncated)
{
	char big[4000], buf[8192];
	int p[2], rd;
	ssize_t n;

	sv_log_init("t");
	rd = log_pipe(p);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sv_warn_err(-EIO, "%s", big);
	n = read(rd, buf, sizeof(buf));
	ck_assert_int_gt(n, 10);
	ck_assert_int_le(n, 1024);
	ck_assert_int_eq(buf[n - 1], '\n');
	ck_assert_int_eq(memcmp(buf, "t: xxx", 6), 0);
	ck_assert_int_eq(read(rd, buf, sizeof(buf)), -1);   /* exactly one write */
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(level_names)
{
	ck_assert_int_eq(sv_log_level_parse("err"), LOG_ERR);
	ck_assert_int_eq(sv_log_level_parse("error"), LOG_ERR);
	ck_assert_int_eq(sv_log_level_parse("warn"), LOG_WARNING);
	ck_assert_int_eq(sv_log_level_parse("warning"), LOG_WARNING);
	ck_assert_int_eq(sv_log_level_parse("notice"), LOG_NOTICE);
	ck_assert_int_eq(sv_log_level_parse("info"), LOG_INFO);
	ck_assert_int_eq(sv_log_level_parse("debug"), LOG_DEBUG);
	ck_assert_int_eq(sv_log_level_parse("crit"), -EINVAL);
	ck_assert_int_eq(sv_log_level_parse(""), -EINVAL);
	ck_assert_str_eq(sv_log_level_name(LOG_NOTICE), "notice");
	ck_assert_str_eq(sv_log_level_name(LOG_EMERG), "?");
	sv_log_set_level(LOG_EMERG);            /* clamped: errors always pass */
	ck_assert_int_eq(sv_log_level(), LOG_ERR);
	sv_log_set_level(LOG_INFO);
}
END_TEST

START_TEST(die_exits_1)
{
	int p[2];

	sv_log_init("dying");
	log_pipe(p);   /* keep the line off the TAP stream's stderr */
	sv_die(-EPERM, "cannot %s", "continue");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_log");
	TCase *tc = tcase_create("log");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, lines);
	tcase_add_test(tc, long_line_truncated);
	tcase_add_test(tc, level_names);
	tcase_add_exit_test(tc, die_exits_1, 1);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
