/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_procfs.c: /proc/PID/stat parsing, and a real subtree and pid
 * namespace scan of this test's own processes. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

#include "common/procfs.h"

START_TEST(stat_parse)
{
	/* a comm holding ") (" and spaces: the fields start after the last ')' */
	static const char text[] = "42 (a) (b c) S 7 42 42 0 -1 4194560 100 0 0 0 "
				   "11 22 33 44 20 0 1 0 98765 4096000 321 18446744073709551615\n";
	struct sv_proc_stat st;

	ck_assert_int_eq(sv_proc_stat_parse(text, &st), 0);
	ck_assert_int_eq(st.state, 'S');
	ck_assert_int_eq(st.ppid, 7);
	ck_assert_uint_eq(st.utime, 11);
	ck_assert_uint_eq(st.stime, 22);
	ck_assert_uint_eq(st.cutime, 33);
	ck_assert_uint_eq(st.cstime, 44);
	ck_assert_uint_eq(st.starttime, 98765);
	ck_assert_uint_eq(st.rss_pages, 321);
	ck_assert_int_eq(sv_proc_stat_parse("42 (x) S 1 2 3", &st), -EBADMSG);
	ck_assert_int_eq(sv_proc_stat_parse("42 x S 1", &st), -EBADMSG);
}
END_TEST

START_TEST(subtree_and_ns)
{
	pid_t child = fork(), *v = NULL, self = getpid();
	size_t n = 0;
	ino_t ns;
	bool seen_self = false, seen_child = false;

	ck_assert_int_ge(child, 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	ck_assert_int_eq(sv_proc_subtree(&self, 1, &v, &n), 0);
	for (size_t i = 0; i < n; i++) {
		seen_self |= v[i] == self;
		seen_child |= v[i] == child;
	}
	ck_assert(seen_self && seen_child);
	ck_assert_int_eq(v[0], self);
	free(v);
	/* a root that is gone is left out */
	pid_t none = 0x3fffffff;
	ck_assert_int_eq(sv_proc_subtree(&none, 1, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	ck_assert_int_eq(sv_proc_pidns(0, &ns), 0);
	ck_assert_int_eq(sv_proc_scan_ns(ns, &v, &n), 0);
	seen_child = false;
	for (size_t i = 0; i < n; i++)
		seen_child |= v[i] == child;
	ck_assert(seen_child);
	free(v);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_procfs");

	SV_TCASE(s, "procfs", 10, stat_parse, subtree_and_ns);
	return sv_run_suite(s);
}
