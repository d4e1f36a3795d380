/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_client_passwd.c: -u USER[:GROUP] looked up in a root's own /etc/passwd
 * and /etc/group (client/cli/passwd.c), never outside it. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli/cli.h"

static char dir[64], root[128], err[CLI_ERR_MAX];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup(void)
{
	char p[256];

	snprintf(dir, sizeof(dir), "/tmp/sv-passwd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(p, sizeof(p), "%s/etc", root);
	ck_assert_int_eq(mkdir(root, 0755), 0);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	put("root/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
			       "svuser:x:4321:4322::/home/svuser:/bin/sh\n"
			       "broken line\n"
			       "nobody:x:7777:7778::/:/bin/false\n");
	put("root/etc/group", "root:x:0:\nsvgrp:x:4322:\nextra:x:5555:other,svuser\n"
			      "more:x:5556:svuser\nsvgrp2:x:4322:svuser\nstaff:x:50:\n");
	/* what a symlink leading out of the root would find */
	put("passwd", "evil:x:6666:6666::/:/bin/sh\n");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void expect(const char *spec, uint32_t uid, uint32_t gid, size_t ngids, const uint32_t *gids)
{
	struct cli_user u;

	ck_assert_msg(cli_lookup_user(root, spec, &u, err, sizeof(err)) == 0, "%s: %s", spec, err);
	ck_assert_uint_eq(u.uid, uid);
	ck_assert_uint_eq(u.gid, gid);
	ck_assert_uint_eq(u.ngids, ngids);
	for (size_t i = 0; i < ngids; i++)
		ck_assert_uint_eq(u.gids[i], gids[i]);
	cli_user_free(&u);
}

static void refused(const char *spec, int want, const char *msg)
{
	struct cli_user u;

	ck_assert_int_eq(cli_lookup_user(root, spec, &u, err, sizeof(err)), want);
	ck_assert_msg(strstr(err, msg), "%s: \"%s\" lacks \"%s\"", spec, err, msg);
	ck_assert_ptr_null(u.gids);
}

START_TEST(names_and_numbers)
{
	static const uint32_t groups[] = { 5555, 5556, 4322 };

	expect("svuser", 4321, 4322, 3, groups);
	expect("svuser:staff", 4321, 50, 3, groups);
	expect("svuser:77", 4321, 77, 3, groups);
	expect("4321", 4321, 4322, 3, groups);          /* a number in the file: its entry */
	expect("nobody", 7777, 7778, 0, NULL);         /* the root's nobody, not the host's */
	expect("12345", 12345, 0, 0, NULL);            /* a number the file lacks: as it is */
	expect("12345:staff", 12345, 50, 0, NULL);
	expect("0", 0, 0, 0, NULL);
}
END_TEST

START_TEST(refusals)
{
	refused("nosuch", -ENOENT, "user \"nosuch\": no such user in");
	refused("svuser:nogroup", -ENOENT, "no such group \"nogroup\"");
	refused("svuser:", -EINVAL, "an empty GROUP");
	refused(":5", -EINVAL, "invalid user");
	refused("", -EINVAL, "invalid user");
}
END_TEST

/* A symlink (or "..") in the root resolves inside it, as the task would see it: the file
 * beside the root is never read. */
START_TEST(symlinks_stay_in_the_root)
{
	char p[256], out[256];

	snprintf(p, sizeof(p), "%s/etc/passwd", root);
	snprintf(out, sizeof(out), "%s/passwd", dir);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(symlink("../../passwd", p), 0);    /* relative, up and out */
	refused("evil", -ENOENT, "no such user");
	expect("6666", 6666, 0, 0, NULL);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(symlink(out, p), 0);              /* absolute */
	refused("evil", -ENOENT, "no such user");
}
END_TEST

START_TEST(fifo_and_no_files)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/etc/group", root);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkfifo(p, 0644), 0);       /* would block a reader without a writer */
	refused("svuser", -EINVAL, "/etc/group: Invalid argument");
	ck_assert_int_eq(unlink(p), 0);
	expect("svuser", 4321, 4322, 0, NULL);      /* no /etc/group: no groups */
	snprintf(p, sizeof(p), "%s/etc/passwd", root);
	ck_assert_int_eq(unlink(p), 0);
	expect("5", 5, 0, 0, NULL);
	refused("svuser", -ENOENT, "no such user");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client_passwd");
	TCase *tc = tcase_create("passwd");

	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, names_and_numbers);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, symlinks_stay_in_the_root);
	tcase_add_test(tc, fifo_and_no_files);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
