/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_client_json.c: the CLI's JSON writer and its state/ls/events output. */
#include <check.h>
#include "tap_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/cli.h"
#include "wire/pbio.h"

static char *esc(const char *s, size_t n)
{
	static struct sbuf b;

	sb_free(&b);
	json_escape(&b, s, n);
	return b.p;
}
#define ESC(lit) esc(lit, sizeof(lit) - 1)

START_TEST(escaping)
{
	ck_assert_str_eq(ESC("plain"), "\"plain\"");
	ck_assert_str_eq(ESC(""), "\"\"");
	ck_assert_str_eq(ESC("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
	ck_assert_str_eq(ESC("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
	ck_assert_str_eq(ESC("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
	ck_assert_str_eq(ESC("nul\0in"), "\"nul\\u0000in\"");
	/* valid UTF-8 passes through: 2, 3 and 4 byte forms */
	ck_assert_str_eq(ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb3\"");
	/* odd bytes become U+FFFD, one per byte */
	ck_assert_str_eq(ESC("\xff"), "\"\\ufffd\"");
	ck_assert_str_eq(ESC("a\x80z"), "\"a\\ufffdz\"");
	ck_assert_str_eq(ESC("\xc0\xaf"), "\"\\ufffd\\ufffd\"");                 /* overlong '/' */
	ck_assert_str_eq(ESC("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");      /* surrogate */
	ck_assert_str_eq(ESC("\xe2\x82"), "\"\\ufffd\\ufffd\"");                 /* cut short */
	ck_assert_str_eq(ESC("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	ck_assert_str_eq(ESC("\xc3"), "\"\\ufffd\"");
	ck_assert_str_eq(ESC("\xc3("), "\"\\ufffd(\"");
}
END_TEST

START_TEST(writer_structure)
{
	struct sbuf b = { 0 };
	struct jw w;

	jw_init(&w, &b);
	jw_arr(&w);
	jw_obj(&w);
	jw_key(&w, "a");
	jw_u64(&w, 18446744073709551615ull);
	jw_key(&w, "b");
	jw_arr(&w);
	jw_str(&w, NULL);
	jw_arr_end(&w);
	jw_key(&w, "c\n");
	jw_obj(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_obj(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	ck_assert_str_eq(sb_str(&b), "[{\"a\":18446744073709551615,\"b\":[\"\"],\"c\\n\":{}},{}]");
	sb_free(&b);
}
END_TEST

START_TEST(times)
{
	char t[CLI_TIME_MAX];
	sv_Timestamp ts = { 1700000000, 5 };

	cli_fmt_time(t, true, &ts);
	ck_assert_str_eq(t, "2023-11-14T22:13:20.000000005Z");
	ts = (sv_Timestamp){ 0, 0 };
	cli_fmt_time(t, true, &ts);
	ck_assert_str_eq(t, "0001-01-01T00:00:00.000000000Z");
	cli_fmt_time(t, false, NULL);
	ck_assert_str_eq(t, "0001-01-01T00:00:00.000000000Z");
	ts = (sv_Timestamp){ -62135596800LL, 0 };           /* Go's zero time, as sent */
	cli_fmt_time(t, true, &ts);
	ck_assert_str_eq(t, "0001-01-01T00:00:00.000000000Z");
	ts = (sv_Timestamp){ 1, 999999999 };
	cli_fmt_time(t, true, &ts);
	ck_assert_str_eq(t, "1970-01-01T00:00:01.999999999Z");
	ts = (sv_Timestamp){ 1, 1000000000 };               /* bad nanos are dropped */
	cli_fmt_time(t, true, &ts);
	ck_assert_str_eq(t, "1970-01-01T00:00:01.000000000Z");
	ts = (sv_Timestamp){ 2147483648LL, 7 };             /* past 2038 (armhf: 64-bit time_t) */
	cli_fmt_time(t, true, &ts);
	ck_assert_str_eq(t, "2038-01-19T03:14:08.000000007Z");
	ts = (sv_Timestamp){ 4102444800LL, 0 };
	cli_fmt_time(t, true, &ts);
	ck_assert_str_eq(t, "2100-01-01T00:00:00.000000000Z");
	ts = (sv_Timestamp){ 400000000000LL, 0 };           /* past year 9999 */
	cli_fmt_time(t, true, &ts);
	ck_assert_str_eq(t, "0001-01-01T00:00:00.000000000Z");
}
END_TEST

/* An envelope holding `msg` of type `name`, built the way the daemon sends it. */
static void envelope(sv_Envelope *env, const char *topic, const char *name,
		     const pb_msgdesc_t *fields, const void *msg)
{
	static char url[64];
	uint8_t *buf = NULL;
	size_t len = 0;

	memset(env, 0, sizeof(*env));
	env->has_timestamp = true;
	env->timestamp = (sv_Timestamp){ 1700000000, 123456789 };
	strcpy(env->namespace, "default");
	env->topic = (char *)topic;
	if (!name)
		return;
	snprintf(url, sizeof(url), "containerd.events.%s", name);
	ck_assert_int_eq(sv_pb_encode(fields, msg, &buf, &len), 0);
	env->has_event = true;
	env->event.type_url = url;
	env->event.value = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len + 1));
	env->event.value->size = (pb_size_t)len;
	if (len)
		memcpy(env->event.value->bytes, buf, len);
	free(buf);
}

static const char *ev_json(const sv_Envelope *env)
{
	static struct sbuf b;

	sb_free(&b);
	cli_event_json(&b, env);
	return sb_str(&b);
}

static const char *ev_text(const sv_Envelope *env)
{
	static struct sbuf b;

	sb_free(&b);
	cli_event_text(&b, env);
	return sb_str(&b);
}

START_TEST(event_exit)
{
	sv_TaskExit ex = { .container_id = "t1", .id = "t1", .pid = 4242, .exit_status = 137,
			   .has_exited_at = true, .exited_at = { 1700000001, 5 } };
	sv_Envelope env;
	struct sv_event ev;

	envelope(&env, "/tasks/exit", "TaskExit", sv_TaskExit_fields, &ex);
	ck_assert_int_eq(sv_event_decode(&env, &ev), 0);
	ck_assert_int_eq(ev.kind, SV_EVENT_EXIT);
	ck_assert_str_eq(ev.name, "TaskExit");
	ck_assert_str_eq(ev.container_id, "t1");
	ck_assert_uint_eq(ev.fields, SV_EVF_PID | SV_EVF_EXIT_STATUS | SV_EVF_EXITED_AT);
	ck_assert_str_eq(ev_json(&env),
		"{\"timestamp\":\"2023-11-14T22:13:20.123456789Z\",\"namespace\":\"default\","
		"\"topic\":\"/tasks/exit\",\"id\":\"t1\",\"pid\":4242,\"exit_status\":137,"
		"\"exited_at\":\"2023-11-14T22:13:21.000000005Z\"}\n");
	ck_assert_str_eq(ev_text(&env),
		"2023-11-14T22:13:20.123456789Z /tasks/exit t1 pid=4242 exit_status=137 "
		"exited_at=2023-11-14T22:13:21.000000005Z\n");
	free(env.event.value);

	/* an exec's exit names it */
	strcpy(ex.id, "e1");
	envelope(&env, "/tasks/exit", "TaskExit", sv_TaskExit_fields, &ex);
	ck_assert_str_eq(ev_json(&env),
		"{\"timestamp\":\"2023-11-14T22:13:20.123456789Z\",\"namespace\":\"default\","
		"\"topic\":\"/tasks/exit\",\"id\":\"t1\",\"exec_id\":\"e1\",\"pid\":4242,"
		"\"exit_status\":137,\"exited_at\":\"2023-11-14T22:13:21.000000005Z\"}\n");
	free(env.event.value);
}
END_TEST

START_TEST(event_others)
{
	sv_TaskCreate cr = { .container_id = "c1", .bundle = (char *)"/run/shimvisor/default/c\"1", .pid = 7 };
	sv_TaskStart st = { .container_id = "c1", .pid = 7 };
	sv_TaskDelete de = { .container_id = "c1", .pid = 7, .exit_status = 0 };
	sv_TaskOOM oom = { .container_id = "c1" };
	sv_TaskExecStarted es = { .container_id = "c1", .exec_id = "x", .pid = 9 };
	sv_TaskExecAdded ea = { .container_id = "c1", .exec_id = "x" };
	sv_TaskPaused pa = { .container_id = "c1" };
	sv_Envelope env;
	const char *pre = "{\"timestamp\":\"2023-11-14T22:13:20.123456789Z\",\"namespace\":\"default\",";
	char want[512];

	envelope(&env, "/tasks/create", "TaskCreate", sv_TaskCreate_fields, &cr);
	snprintf(want, sizeof(want), "%s\"topic\":\"/tasks/create\",\"id\":\"c1\",\"pid\":7,"
		 "\"bundle\":\"/run/shimvisor/default/c\\\"1\"}\n", pre);
	ck_assert_str_eq(ev_json(&env), want);
	free(env.event.value);

	envelope(&env, "/tasks/start", "TaskStart", sv_TaskStart_fields, &st);
	snprintf(want, sizeof(want), "%s\"topic\":\"/tasks/start\",\"id\":\"c1\",\"pid\":7}\n", pre);
	ck_assert_str_eq(ev_json(&env), want);
	free(env.event.value);

	/* no exited_at sent: Go's zero time */
	envelope(&env, "/tasks/delete", "TaskDelete", sv_TaskDelete_fields, &de);
	snprintf(want, sizeof(want), "%s\"topic\":\"/tasks/delete\",\"id\":\"c1\",\"pid\":7,"
		 "\"exit_status\":0,\"exited_at\":\"0001-01-01T00:00:00.000000000Z\"}\n", pre);
	ck_assert_str_eq(ev_json(&env), want);
	free(env.event.value);

	envelope(&env, "/tasks/oom", "TaskOOM", sv_TaskOOM_fields, &oom);
	snprintf(want, sizeof(want), "%s\"topic\":\"/tasks/oom\",\"id\":\"c1\"}\n", pre);
	ck_assert_str_eq(ev_json(&env), want);
	ck_assert_str_eq(ev_text(&env), "2023-11-14T22:13:20.123456789Z /tasks/oom c1\n");
	free(env.event.value);

	envelope(&env, "/tasks/exec-added", "TaskExecAdded", sv_TaskExecAdded_fields, &ea);
	snprintf(want, sizeof(want), "%s\"topic\":\"/tasks/exec-added\",\"id\":\"c1\",\"exec_id\":\"x\"}\n", pre);
	ck_assert_str_eq(ev_json(&env), want);
	free(env.event.value);

	envelope(&env, "/tasks/exec-started", "TaskExecStarted", sv_TaskExecStarted_fields, &es);
	snprintf(want, sizeof(want), "%s\"topic\":\"/tasks/exec-started\",\"id\":\"c1\",\"exec_id\":\"x\","
		 "\"pid\":9}\n", pre);
	ck_assert_str_eq(ev_json(&env), want);
	ck_assert_str_eq(ev_text(&env), "2023-11-14T22:13:20.123456789Z /tasks/exec-started c1 exec_id=x pid=9\n");
	free(env.event.value);

	envelope(&env, "/tasks/paused", "TaskPaused", sv_TaskPaused_fields, &pa);
	snprintf(want, sizeof(want), "%s\"topic\":\"/tasks/paused\",\"id\":\"c1\"}\n", pre);
	ck_assert_str_eq(ev_json(&env), want);
	free(env.event.value);

	/* an unknown type: its type_url, no fields */
	envelope(&env, "/tasks/checkpointed", "TaskCheckpointed", sv_TaskPaused_fields, &pa);
	snprintf(want, sizeof(want), "%s\"topic\":\"/tasks/checkpointed\",\"id\":\"\","
		 "\"type\":\"containerd.events.TaskCheckpointed\"}\n", pre);
	ck_assert_str_eq(ev_json(&env), want);
	free(env.event.value);

	/* bytes that do not decode as the type: the envelope still prints */
	envelope(&env, "/tasks/exit", "TaskExit", sv_TaskPaused_fields, &pa);
	env.event.value->size = 2;
	env.event.value->bytes[0] = 0x0a;
	env.event.value->bytes[1] = 0x7f;      /* a string longer than the buffer */
	snprintf(want, sizeof(want), "%s\"topic\":\"/tasks/exit\",\"id\":\"\","
		 "\"type\":\"containerd.events.TaskExit\"}\n", pre);
	ck_assert_str_eq(ev_json(&env), want);
	free(env.event.value);

	/* no event at all */
	envelope(&env, "/tasks/x", NULL, NULL, NULL);
	snprintf(want, sizeof(want), "%s\"topic\":\"/tasks/x\",\"id\":\"\",\"type\":\"\"}\n", pre);
	ck_assert_str_eq(ev_json(&env), want);
}
END_TEST

START_TEST(state_and_ls)
{
	char *labels[] = { "tier=front", "k=a=b", "bare" };
	sv_CtlTask tasks[2] = {
		{ .namespace = "default", .id = "web", .pid = 1234, .status = sv_TaskStatus_RUNNING,
		  .bundle = (char *)"/run/shimvisor/default/web", .labels = labels,
		  .labels_count = 3 },
		{ .namespace = "default", .id = "a-much-longer-id", .pid = 0,
		  .status = sv_TaskStatus_STOPPED, .exit_status = 3, .has_exited_at = true,
		  .exited_at = { 1700000000, 0 }, .bundle = NULL, .restart_count = 2,
		  .restart = (char *)"on-failure:3" },
	};
	sv_CtlListResponse l = { .tasks_count = 2, .tasks = tasks };
	struct task_view v = { .id = "web", .status = sv_TaskStatus_CREATED, .pid = 99,
			       .bundle = "/b" };
	struct sbuf b = { 0 };
	struct jw w;

	cli_ls_table(&b, &l, false);
	ck_assert_str_eq(sb_str(&b),
		"NAMESPACE    ID                  PID     STATUS\n"
		"default      web                 1234    running\n"
		"default      a-much-longer-id    0       stopped\n");
	sb_free(&b);
	cli_ls_table(&b, &l, true);
	ck_assert_str_eq(sb_str(&b), "web\na-much-longer-id\n");
	sb_free(&b);
	cli_ls_json(&b, &l);
	ck_assert_str_eq(sb_str(&b),
		"[{\"namespace\":\"default\",\"id\":\"web\",\"status\":\"running\",\"pid\":1234,"
		"\"exit_status\":0,\"exited_at\":\"0001-01-01T00:00:00.000000000Z\","
		"\"bundle\":\"/run/shimvisor/default/web\",\"restart\":\"no\",\"restart_count\":0,"
		"\"labels\":{\"tier\":\"front\",\"k\":\"a=b\",\"bare\":\"\"}},"
		"{\"namespace\":\"default\",\"id\":\"a-much-longer-id\",\"status\":\"stopped\",\"pid\":0,"
		"\"exit_status\":3,\"exited_at\":\"2023-11-14T22:13:20.000000000Z\",\"bundle\":\"\","
		"\"restart\":\"on-failure:3\",\"restart_count\":2,\"labels\":{}}]\n");
	sb_free(&b);
	l.tasks_count = 0;
	cli_ls_json(&b, &l);
	ck_assert_str_eq(sb_str(&b), "[]\n");
	sb_free(&b);
	cli_ls_table(&b, &l, false);
	ck_assert_str_eq(sb_str(&b), "NAMESPACE    ID    PID    STATUS\n");
	sb_free(&b);

	jw_init(&w, &b);
	task_view_json(&w, &v);
	ck_assert_str_eq(sb_str(&b),
		"{\"id\":\"web\",\"status\":\"created\",\"pid\":99,\"exit_status\":0,"
		"\"exited_at\":\"0001-01-01T00:00:00.000000000Z\",\"bundle\":\"/b\",\"restart\":\"no\","
		"\"restart_count\":0}");
	sb_free(&b);
	task_view_text(&b, &v);
	ck_assert_str_eq(sb_str(&b), "id: web\nstatus: created\npid: 99\nexit_status: 0\n"
				     "exited_at: 0001-01-01T00:00:00.000000000Z\nbundle: /b\n"
				     "restart: no\nrestart_count: 0\n");
	sb_free(&b);
	ck_assert_str_eq(sv_status_name(sv_TaskStatus_PAUSED), "paused");
	ck_assert_str_eq(sv_status_name(sv_TaskStatus_UNKNOWN), "unknown");
	ck_assert_str_eq(sv_status_name(77), "unknown");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client_json");
	TCase *tc = tcase_create("json");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, escaping);
	tcase_add_test(tc, writer_structure);
	tcase_add_test(tc, times);
	tcase_add_test(tc, event_exit);
	tcase_add_test(tc, event_others);
	tcase_add_test(tc, state_and_ls);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
