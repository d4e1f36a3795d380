/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_state.c: the engine's task lifecycle table. */
#include <check.h>
#include "supervisor/task_state.h"
#include "tap_main.h"

START_TEST(normal_life)
{
	enum task_state s = T_CREATING;

	s = task_next(s, TE_CREATED);
	ck_assert_int_eq(s, T_CREATED);
	s = task_next(s, TE_STARTED);
	ck_assert_int_eq(s, T_RUNNING);
	s = task_next(s, TE_EXITED);
	ck_assert_int_eq(s, T_STOPPED);
	s = task_next(s, TE_DELETED);
	ck_assert_int_eq(s, T_DELETING);
}
END_TEST

START_TEST(late_and_repeated_events_do_not_move_back)
{
	/* a /tasks/create report arriving after the Start reply must not rewind */
	ck_assert_int_eq(task_next(T_RUNNING, TE_CREATED), T_RUNNING);
	ck_assert_int_eq(task_next(T_STOPPED, TE_STARTED), T_STOPPED);
	ck_assert_int_eq(task_next(T_STOPPED, TE_EXITED), T_STOPPED);
	ck_assert_int_eq(task_next(T_RUNNING, TE_FAILED), T_RUNNING);
}
END_TEST

START_TEST(terminal_states_stay)
{
	for (int ev = 0; ev < TE_NEVENTS; ev++) {
		ck_assert_int_eq(task_next(T_DELETING, ev), T_DELETING);
		ck_assert_int_eq(task_next(T_FAILED, ev), T_FAILED);
	}
}
END_TEST

START_TEST(every_live_state_can_exit_and_be_deleted)
{
	static const enum task_state live[] = { T_CREATING, T_CREATED, T_RUNNING, T_UNKNOWN };

	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		ck_assert_int_eq(task_next(live[i], TE_EXITED), T_STOPPED);
		ck_assert_int_eq(task_next(live[i], TE_DELETED), T_DELETING);
	}
}
END_TEST

START_TEST(reattach_resolves_unknown)
{
	ck_assert_int_eq(task_next(T_UNKNOWN, TE_CREATED), T_CREATED);
	ck_assert_int_eq(task_next(T_UNKNOWN, TE_STARTED), T_RUNNING);
	ck_assert_int_eq(task_next(T_UNKNOWN, TE_FAILED), T_FAILED);
}
END_TEST

START_TEST(out_of_range_is_harmless)
{
	ck_assert_int_eq(task_next(T_RUNNING, (enum task_event)99), T_RUNNING);
	ck_assert_int_eq(task_next((enum task_state)99, TE_EXITED), (enum task_state)99);
	ck_assert_str_eq(task_state_str((enum task_state)99), "?");
	ck_assert_str_eq(task_state_str(T_STOPPED), "stopped");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_state");

	SV_TCASE(s, "table", 10, normal_life, late_and_repeated_events_do_not_move_back,
		 terminal_states_stay, every_live_state_can_exit_and_be_deleted,
		 reattach_resolves_unknown, out_of_range_is_harmless);
	return sv_run_suite(s);
}
