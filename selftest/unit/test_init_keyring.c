/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_init_keyring.c: the task's session keyring (worker/init/keyring.c):
 * the permissions read from KEYCTL_DESCRIBE, and the join itself on the real kernel (each
 * test is forked: the keyring it joins is its own). */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/keyctl.h>

#include "worker/init/init.h"

START_TEST(perm_parse)
{
	uint32_t perm = 0;

	ck_assert_int_eq(keyring_perm_parse("keyring;0;0;3f130000;_ses.x", &perm), 0);
	ck_assert_uint_eq(perm, 0x3f130000u);
	ck_assert_int_eq(keyring_perm_parse("keyring;1000;1000;ffffffff;a;b", &perm), 0);
	ck_assert_uint_eq(perm, 0xffffffffu);
	ck_assert_int_eq(keyring_perm_parse("keyring;0;0;8;", &perm), 0);
	ck_assert_uint_eq(perm, 8);
}
END_TEST

START_TEST(perm_parse_refuses)
{
	static const char *const bad[] = {
		"", "keyring", "keyring;0;0", "keyring;0;0;3f130000", "keyring;0;0;;x",
		"keyring;0;0;zz;x", "keyring;0;0;-1;x", "keyring;0;0;1ffffffff;x",
		"keyring;0;0;3f13 0000;x", "keyring;0;0; 3f;x",
	};
	uint32_t perm = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(keyring_perm_parse(bad[i], &perm) == -EINVAL, "accepted '%s'", bad[i]);
		ck_assert_uint_eq(perm, 7);
	}
}
END_TEST

/* The session keyring's description, "" when there is none to describe. */
static void session_desc(char *buf, size_t sz)
{
	long n = syscall(__NR_keyctl, KEYCTL_DESCRIBE, KEY_SPEC_SESSION_KEYRING, buf, sz);

	if (n < 0 || (size_t)n > sz)
		buf[0] = '\0';
}

/* Join a keyring of this test's own as the task's init (own) or an exec; its permissions. */
static uint32_t join(const char *what, int own)
{
	struct init in;
	char name[64], want[96], desc[256];
	uint32_t perm = 0;

	memset(&in, 0, sizeof(in));
	snprintf(name, sizeof(name), "_ses.unit-%s-%d", what, (int)getpid());
	in.keyring = name;
	ck_assert_int_eq(keyring_join(&in, own), 0);
	session_desc(desc, sizeof(desc));
	snprintf(want, sizeof(want), ";%s", name);
	ck_assert_msg(strstr(desc, want) && !strcmp(strstr(desc, want), want), "session: %s", desc);
	ck_assert_int_eq(keyring_perm_parse(desc, &perm), 0);
	return perm;
}

START_TEST(join_own)
{
	/* what join_session_keyring gives, and search for its owner, as runc sets */
	ck_assert_uint_eq(join("task", 1), 0x3f1b0000u);
}
END_TEST

START_TEST(join_exec_keeps_perm)
{
	ck_assert_uint_eq(join("exec", 0), 0x3f130000u);
}
END_TEST

START_TEST(join_none)
{
	struct init in;
	char before[256], after[256];

	memset(&in, 0, sizeof(in));
	session_desc(before, sizeof(before));
	ck_assert_int_eq(keyring_join(&in, 1), 0);
	session_desc(after, sizeof(after));
	ck_assert_str_eq(before, after);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("init_keyring");

	SV_TCASE(s, "parse", 5, perm_parse, perm_parse_refuses);
	if (syscall(__NR_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) < 0 &&
	    errno == ENOSYS) {
		printf("# no keyrings in this kernel: the joins are not tried\n");
		return sv_run_suite(s);
	}
	SV_TCASE(s, "join", 10, join_own, join_exec_keeps_perm, join_none);
	return sv_run_suite(s);
}
