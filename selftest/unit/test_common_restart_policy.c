/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_restart_policy.c: --restart's parser, the decision after an exit,
 * the backoff schedule and the bundle's record. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <string.h>

#include "common/restart_policy.h"

START_TEST(parse_table)
{
	static const struct { const char *s; int rc; uint32_t kind, max; const char *str; } t[] = {
		{ "", 0, SV_RESTART_NO, 0, "no" }, { "no", 0, SV_RESTART_NO, 0, "no" },
		{ "always", 0, SV_RESTART_ALWAYS, 0, "always" },
		{ "unless-stopped", 0, SV_RESTART_UNLESS_STOPPED, 0, "unless-stopped" },
		{ "on-failure", 0, SV_RESTART_ON_FAILURE, 0, "on-failure" },
		{ "on-failure:3", 0, SV_RESTART_ON_FAILURE, 3, "on-failure:3" },
		{ "on-failure:1000000", 0, SV_RESTART_ON_FAILURE, 1000000, "on-failure:1000000" },
		{ "on-failure:0", -EINVAL, 0, 0, NULL }, { "on-failure:", -EINVAL, 0, 0, NULL }, { "on-failure:-1", -EINVAL, 0, 0, NULL },
		{ "on-failure:1000001", -EINVAL, 0, 0, NULL }, { "on-failure:3x", -EINVAL, 0, 0, NULL },
		{ "on-failure: 3", -EINVAL, 0, 0, NULL }, { "on-failure:99999999999", -EINVAL, 0, 0, NULL },
		{ "always:3", -EINVAL, 0, 0, NULL }, { "no:1", -EINVAL, 0, 0, NULL }, { "Always", -EINVAL, 0, 0, NULL },
		{ "alwaysx", -EINVAL, 0, 0, NULL }, { "on-fail", -EINVAL, 0, 0, NULL }, { " always", -EINVAL, 0, 0, NULL },
		{ "unless-stopped:2", -EINVAL, 0, 0, NULL },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sv_restart r = { .count = 9 };
		int rc = sv_restart_parse(t[i].s, &r);
		ck_assert_msg(rc == t[i].rc, "\"%s\": %d, not %d", t[i].s, rc, t[i].rc);
		if (rc == 0) {
			ck_assert_uint_eq(r.kind, t[i].kind);
			ck_assert_uint_eq(r.max, t[i].max);
			ck_assert_uint_eq(r.count, 0);
			ck_assert_str_eq(sv_restart_str(&r, buf, sizeof(buf)), t[i].str);
		} else {
			ck_assert_uint_eq(r.kind, SV_RESTART_NO);
		}
	}
	ck_assert_int_eq(sv_restart_parse(NULL, &(struct sv_restart){ 0 }), 0);
}
END_TEST

START_TEST(wanted)
{
	struct sv_restart r;

	sv_restart_parse("no", &r);
	ck_assert(!sv_restart_wanted(&r, 1));
	sv_restart_parse("on-failure:3", &r);
	ck_assert(!sv_restart_wanted(&r, 0));          /* a clean exit ends on-failure */
	for (r.count = 0; r.count < 3; r.count++)
		ck_assert(sv_restart_wanted(&r, 1));
	ck_assert(!sv_restart_wanted(&r, 1));          /* N restarts: N + 1 runs */
	sv_restart_parse("on-failure", &r);
	r.count = 123456;
	ck_assert(sv_restart_wanted(&r, 137));
	sv_restart_parse("always", &r);
	ck_assert(sv_restart_wanted(&r, 0) && sv_restart_wanted(&r, 1));
	r.stopped = true;                              /* a client stopped it */
	ck_assert(!sv_restart_wanted(&r, 0) && !sv_restart_wanted(&r, 1));
	sv_restart_parse("unless-stopped", &r);
	ck_assert(sv_restart_wanted(&r, 0));
	r.stopped = true;
	ck_assert(!sv_restart_wanted(&r, 1));
}
END_TEST

START_TEST(backoff_schedule)
{
	static const int64_t want[] = { 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000,
					30000 };
	int64_t b = 0;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		b = sv_restart_backoff(b, 50);
		ck_assert_msg(b == want[i], "restart %zu: %lld ms, not %lld", i + 1, (long long)b,
			      (long long)want[i]);
	}
	/* a run of 10 s resets it; one of 9.999 s does not */
	ck_assert_int_eq(sv_restart_backoff(30000, 10000), 100);
	ck_assert_int_eq(sv_restart_backoff(400, 9999), 800);
	ck_assert_int_eq(sv_restart_backoff(0, 0), 100);
}
END_TEST

START_TEST(record_round_trip)
{
	struct sv_restart r = { .kind = SV_RESTART_ON_FAILURE, .max = 3, .count = 2, .stopped = true }, back;
	char buf[64];
	size_t n = sv_restart_record(&r, buf, sizeof(buf));

	ck_assert_str_eq(buf, "1 3 2 1 0\n");
	ck_assert_int_eq(sv_restart_record_parse(buf, n, &back), 0);
	ck_assert(back.kind == r.kind && back.max == r.max && back.count == r.count && back.stopped);
	ck_assert(!back.auto_remove);
	/* a record of four fields (written before auto_remove) still parses */
	ck_assert_int_eq(sv_restart_record_parse("1 3 2 1\n", 8, &back), 0);
	ck_assert(back.kind == r.kind && back.count == 2 && back.stopped && !back.auto_remove);
	/* run --rm -d: kind no, with auto_remove only */
	r = (struct sv_restart){ .auto_remove = true };
	n = sv_restart_record(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0 0 0 0 1\n");
	ck_assert_int_eq(sv_restart_record_parse(buf, n, &back), 0);
	ck_assert(back.kind == SV_RESTART_NO && back.auto_remove);
	static const char *const bad[] = { "", "1 3 2 1", "1 3 2 1\n\n", "1 3 2 2\n", "4 0 0 0\n",
					   "0 0 0 0\n", "2 3 0 0\n", "1 3 2\n", "1 3 2 1 5\n",
					   "1 1000001 0 0\n", "1 3 2 1\nx", "0 0 0 0 0\n",
					   "2 0 0 0 1\n", "0 0 1 0 1\n", "0 0 0 1 1\n", "1 3 2 1 0 0\n",
					   "1 3 2 1 0x\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sv_restart_record_parse(bad[i], strlen(bad[i]), &back) == -EINVAL,
			      "\"%s\" taken", bad[i]);
	ck_assert_int_eq(sv_restart_record_parse("2 0 7 0\n\0", 9, &back), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_restart_policy");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 10);

	tcase_add_test(tc, parse_table);
	tcase_add_test(tc, wanted);
	tcase_add_test(tc, backoff_schedule);
	tcase_add_test(tc, record_round_trip);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
