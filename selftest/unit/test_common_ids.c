/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_ids.c: the id/namespace grammar SV_ID_RULE, and its sizes. */
#include <check.h>
#include "tap_main.h"
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "control.pb.h"
#include "task.pb.h"

/* wire/sv.options writes the id fields' max_size as a literal 80: SV_ID_SZ must be it */
#define FIELD_SZ(type, f) sizeof(((type *)0)->f)
_Static_assert(FIELD_SZ(sv_CtlCreateRequest, id) == SV_ID_SZ, "*.id max_size");
_Static_assert(FIELD_SZ(sv_CtlDeleteRequest, exec_id) == SV_ID_SZ, "*.exec_id max_size");
_Static_assert(FIELD_SZ(sv_CtlTask, namespace) == SV_ID_SZ, "*.namespace max_size");
_Static_assert(FIELD_SZ(sv_TaskCreate, container_id) == SV_ID_SZ, "*.container_id max_size");
_Static_assert(SV_ID_MAX < SV_ID_SZ, "an id and its NUL fit an id field");

START_TEST(id_table)
{
	static const struct { const char *id; bool ok; } t[] = {
		{ "a", true }, { "Z", true }, { "0", true }, { "t1", true },
		{ "my-task_1.2", true }, { "a..b", true }, { "a-", true }, { "a.", true },
		{ "0.-_", true }, { "default", true }, { "k8s.io", true },
		{ "", false }, { ".", false }, { "..", false }, { ".a", false },
		{ "-a", false }, { "_a", false }, { "a/b", false }, { "/a", false },
		{ "a b", false }, { " a", false }, { "a ", false }, { "a\tb", false },
		{ "a\nb", false }, { "a:b", false }, { "a*", false }, { "a\\b", false },
		{ "caf\xc3\xa9", false }, { "\xc3\xa9t\xc3\xa9", false }, { "a\x7f", false },
		{ "a\x01", false }, { "a%2fb", false }, { "../etc", false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(sv_id_valid(t[i].id) == t[i].ok, "\"%s\" should be %s", t[i].id,
			      t[i].ok ? "valid" : "invalid");
	ck_assert(!sv_id_valid(NULL));
}
END_TEST

START_TEST(id_length)
{
	char s[SV_ID_MAX + 2];

	memset(s, 'a', sizeof(s));
	s[SV_ID_MAX] = '\0';
	ck_assert_uint_eq(strlen(s), 76);
	ck_assert(sv_id_valid(s));
	s[SV_ID_MAX - 1] = '.';
	ck_assert(sv_id_valid(s));
	s[SV_ID_MAX] = 'a';
	s[SV_ID_MAX + 1] = '\0';
	ck_assert_uint_eq(strlen(s), 77);
	ck_assert(!sv_id_valid(s));
	/* the message's rule says the same length */
	ck_assert_ptr_nonnull(strstr(SV_ID_RULE, "{0,75}"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_ids");
	TCase *tc = tcase_create("ids");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, id_table);
	tcase_add_test(tc, id_length);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
