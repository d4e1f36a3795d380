/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_clients.c: the engine's connection caps per uid and root's reserve,
 * from the fd budget and the config. */
#include <check.h>
#include <string.h>
#include "supervisor/engine.h"
#include "tap_main.h"

/* max_clients 16, root keeps 4, a uid gets 6: the 96-fd daemon of 45-hostile-clients.t */
START_TEST(admit_per_uid_and_reserve)
{
	/* a uid stops at its share */
	ck_assert(client_admit(false, 5, 5, 16, 6, 4));
	ck_assert(!client_admit(false, 6, 6, 16, 6, 4));
	/* the non-root total stops short of root's reserve, whatever the uid's own count */
	ck_assert(client_admit(false, 0, 11, 16, 6, 4));
	ck_assert(!client_admit(false, 0, 12, 16, 6, 4));
	/* root is bound by the budget only (checked before) */
	ck_assert(client_admit(true, 100, 12, 16, 6, 4));
	/* no reserve: non-root clients may take all of it */
	ck_assert(client_admit(false, 0, 15, 16, 16, 0));
	ck_assert(!client_admit(false, 0, 16, 16, 16, 0));
}
END_TEST

START_TEST(caps_from_budget_and_config)
{
	struct sv_config cfg;
	struct engine e;

	sv_config_defaults(&cfg);
	memset(&e, 0, sizeof(e));
	e.cfg = &cfg;
	/* 96 fds: 64 after the fixed ones, a quarter for clients */
	cfg.client_peer_max = 8;
	cfg.client_root_reserve = 4;
	engine_fd_budget(&e, 96);
	ck_assert_uint_eq(e.max_clients, 16);
	ck_assert_uint_eq(e.root_reserve, 4);
	ck_assert_uint_eq(e.peer_max, 6);       /* half of 16 - 4, under client_peer_max */
	/* the defaults at 1024 clients: 64 per uid, 32 for root */
	sv_policy_free(&cfg.policy);
	sv_config_defaults(&cfg);
	engine_fd_budget(&e, 20000);
	ck_assert_uint_eq(e.max_clients, 1024);
	ck_assert_uint_eq(e.root_reserve, 32);
	ck_assert_uint_eq(e.peer_max, 64);
	/* a reserve past the budget: all of it is root's */
	cfg.client_root_reserve = 65536;
	engine_fd_budget(&e, 96);
	ck_assert_uint_eq(e.root_reserve, 16);
	ck_assert_uint_eq(e.peer_max, 1);
	ck_assert(!client_admit(false, 0, 0, e.max_clients, e.peer_max, e.root_reserve));
	sv_policy_free(&cfg.policy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_clients");

	SV_TCASE(s, "caps", 10, admit_per_uid_and_reserve, caps_from_budget_and_config);
	return sv_run_suite(s);
}
