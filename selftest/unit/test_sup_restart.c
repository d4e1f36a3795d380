/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_restart.c: the monitor's schedule of engine restarts: the backoff
 * doubles to its cap, a minute of health resets it, each end's cause is recorded, and a
 * first engine that never spoke or a stopping daemon starts none (monitor_engine.c). */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include "common/clock.h"
#include "common/log.h"
#include "supervisor/monitor.h"
#include "tap_main.h"

static struct sv_config cfg;

static void fresh(struct monitor *m)
{
	memset(m, 0, sizeof(*m));
	m->cfg = &cfg;
	m->engine_fd = -1;
	m->idle_fd = -1;
	fdchan_q_init(&m->out);
}

/* An engine that started up_ms ago and spoke ends with wstatus: the wait chosen. */
static int64_t end_after(struct monitor *m, int64_t up_ms, int wstatus)
{
	m->engine_pid = 1;              /* never signalled: the end is already reaped */
	m->engine_spoke = true;
	m->engine_up_ms = sv_now_ms() - up_ms;
	mon_engine_ended(m, wstatus);
	ck_assert_int_eq(m->engine_pid, 0);
	return m->restart_at_ms - m->engine_end_ms;
}

START_TEST(backoff_doubles_to_its_cap)
{
	struct monitor m;
	int want = 100;

	fresh(&m);
	m.health.restarts = 0;
	for (unsigned i = 1; i <= 14; i++) {
		ck_assert_int_eq(end_after(&m, 50, SIGKILL), want);
		ck_assert_uint_eq(m.health.restarts, i);
		ck_assert_uint_eq(m.health.loop, i);
		ck_assert_int_eq(m.health.backoff_ms, want);
		ck_assert_str_eq(m.health.last_end, "was killed by signal 9 (Killed)");
		ck_assert(m.health.last_end_ms > 0);
		want = want * 2 > 30000 ? 30000 : want * 2;
	}
	ck_assert_int_eq(m.health.backoff_ms, 30000);
}
END_TEST

START_TEST(a_minute_of_health_resets_the_backoff)
{
	struct monitor m;

	fresh(&m);
	for (int i = 0; i < 5; i++)
		end_after(&m, 50, SIGKILL);
	ck_assert_int_eq(m.health.backoff_ms, 1600);
	/* 59.9 s is not a minute: the loop goes on */
	ck_assert_int_eq(end_after(&m, 59900, SIGKILL), 3200);
	ck_assert_uint_eq(m.health.loop, 6);
	ck_assert_int_eq(end_after(&m, 60000, SIGKILL), 100);
	ck_assert_uint_eq(m.health.loop, 1);
	ck_assert_uint_eq(m.health.restarts, 7);
	ck_assert_int_eq(end_after(&m, 50, SIGKILL), 200);
	ck_assert_uint_eq(m.health.loop, 2);
}
END_TEST

START_TEST(the_cause_is_recorded)
{
	struct monitor m;

	fresh(&m);
	end_after(&m, 50, 3 << 8);
	ck_assert_str_eq(m.health.last_end, "exited with status 3");
	m.kill_why = "a request outside its table";
	end_after(&m, 50, SIGKILL);
	ck_assert_str_eq(m.health.last_end, "was killed by the monitor: a request outside its table");
	m.kill_why = NULL;
	end_after(&m, 50, SIGSEGV | 0x80);      /* with a core */
	ck_assert_str_eq(m.health.last_end, "was killed by signal 11 (Segmentation fault)");
}
END_TEST

START_TEST(no_restart_when_the_first_never_spoke_or_stopping)
{
	struct monitor m;

	fresh(&m);
	m.engine_pid = 1;
	m.engine_up_ms = sv_now_ms();
	mon_engine_ended(&m, 1 << 8);           /* it never asked for its scan */
	ck_assert(m.start_failed);
	ck_assert_int_eq(m.restart_at_ms, 0);
	ck_assert_uint_eq(m.health.restarts, 0);

	fresh(&m);
	m.stopping = 1;
	end_after(&m, 50, 0);
	ck_assert(!m.start_failed);
	ck_assert_int_eq(m.restart_at_ms, 0);
	ck_assert_uint_eq(m.health.restarts, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_restart");

	sv_config_defaults(&cfg);
	sv_log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));    /* each end logs a line */
	SV_TCASE(s, "schedule", 10, backoff_doubles_to_its_cap, a_minute_of_health_resets_the_backoff,
		 the_cause_is_recorded, no_restart_when_the_first_never_spoke_or_stopping);
	return sv_run_suite(s);
}
