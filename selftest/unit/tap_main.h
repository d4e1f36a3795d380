/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/tap_main.h: run a Check suite forked per test, TAP on stdout, for prove. */
#ifndef SV_TAP_MAIN_H
#define SV_TAP_MAIN_H
#include <check.h>
#include <stdlib.h>

static inline int sv_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* One TCase with a timeout, holding the listed tests. */
#define SV_TCASE(suite, name, timeout, ...)                                          \
	do {                                                                          \
		TCase *tc_ = tcase_create(name);                                      \
		const TTest *tests_[] = { __VA_ARGS__ };                             \
		tcase_set_timeout(tc_, timeout);                                      \
		for (size_t i_ = 0; i_ < sizeof(tests_) / sizeof(tests_[0]); i_++)   \
			_tcase_add_test(tc_, tests_[i_], 0, 0, 0, 1);                  \
		suite_add_tcase(suite, tc_);                                          \
	} while (0)

#endif
