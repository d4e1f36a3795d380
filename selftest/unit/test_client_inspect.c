/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_client_inspect.c: ls --filter (parsing, matching) and inspect's JSON, without
 * a daemon. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/cli.h"
#include "tap_main.h"

static char err[CLI_ERR_MAX];

START_TEST(filter_parsing)
{
	static const char *const bad[] = {
		"label", "label=", "label==v", "status=", "status=gone", "name=x", "id", "=x", "",
	};
	struct ls_filter f = { 0 };

	ck_assert_int_eq(ls_filter_add(&f, "label=tier", err, sizeof(err)), 0);
	ck_assert_int_eq(ls_filter_add(&f, "label=tier=front", err, sizeof(err)), 0);
	ck_assert_int_eq(ls_filter_add(&f, "status=running", err, sizeof(err)), 0);
	ck_assert_int_eq(ls_filter_add(&f, "status=paused", err, sizeof(err)), 0);
	ck_assert_int_eq(ls_filter_add(&f, "id=we", err, sizeof(err)), 0);
	ck_assert_uint_eq(f.nlabel, 2);
	ck_assert_str_eq(f.label[1], "tier=front");
	ck_assert_uint_eq(f.nstatus, 2);
	ck_assert_uint_eq(f.status[0], sv_TaskStatus_RUNNING);
	ck_assert_uint_eq(f.status[1], sv_TaskStatus_PAUSED);
	ck_assert_uint_eq(f.nid, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		ck_assert_msg(ls_filter_add(&f, bad[i], err, sizeof(err)) == -EINVAL, "%s", bad[i]);
		ck_assert_msg(!strncmp(err, "ls: --filter ", 13), "%s: %s", bad[i], err);
	}
	memset(&f, 0, sizeof(f));
	for (int i = 0; i < CLI_FILTERS_MAX; i++)
		ck_assert_int_eq(ls_filter_add(&f, "label=a", err, sizeof(err)), 0);
	ck_assert_int_eq(ls_filter_add(&f, "label=a", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "ls: more than 32 filters");
}
END_TEST

static sv_CtlTask task(const char *id, uint32_t status, char **labels, pb_size_t n)
{
	sv_CtlTask t = { .status = status, .labels = labels, .labels_count = n };

	strcpy(t.id, id);
	return t;
}

static bool match(const char *const *filters, size_t n, const sv_CtlTask *t)
{
	struct ls_filter f = { 0 };

	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ls_filter_add(&f, filters[i], err, sizeof(err)), 0);
	return ls_filter_match(&f, t);
}

#define MATCH(t, ...) match((const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *), t)

/* Labels must all match (K: present, K=V: that value), statuses and ids are alternatives,
 * different keys all apply. */
START_TEST(filter_matching)
{
	char *l[] = { "tier=front", "env=", "a=b=c", "bare" };
	sv_CtlTask web = task("web-1", sv_TaskStatus_RUNNING, l, 4);
	sv_CtlTask none = task("db", sv_TaskStatus_STOPPED, NULL, 0);

	ck_assert(MATCH(&web, "label=tier"));
	ck_assert(MATCH(&web, "label=tier=front"));
	ck_assert(!MATCH(&web, "label=tier=back"));
	ck_assert(!MATCH(&web, "label=tie"));
	ck_assert(!MATCH(&web, "label=tier=fron"));
	ck_assert(MATCH(&web, "label=env"));
	ck_assert(MATCH(&web, "label=env="));
	ck_assert(MATCH(&web, "label=a=b=c"));
	ck_assert(MATCH(&web, "label=bare"));
	ck_assert(MATCH(&web, "label=bare="));
	ck_assert(MATCH(&web, "label=tier", "label=env"));
	ck_assert(!MATCH(&web, "label=tier", "label=nope"));
	ck_assert(!MATCH(&none, "label=tier"));
	ck_assert(MATCH(&web, "status=running"));
	ck_assert(MATCH(&web, "status=stopped", "status=running"));
	ck_assert(!MATCH(&web, "status=stopped"));
	ck_assert(MATCH(&web, "id=web"));
	ck_assert(MATCH(&web, "id=db", "id=web-1"));
	ck_assert(!MATCH(&web, "id=web-12"));
	ck_assert(MATCH(&web, "id=web", "status=running", "label=tier=front"));
	ck_assert(!MATCH(&web, "id=web", "status=stopped", "label=tier=front"));
	ck_assert(MATCH(&none, "status=stopped", "id=d"));
}
END_TEST

/* ls_filter_apply keeps the matching tasks in order; the response frees as ever. */
START_TEST(filter_apply)
{
	sv_CtlListResponse l = { .tasks_count = 3, .tasks = calloc(3, sizeof(sv_CtlTask)) };
	struct ls_filter f = { 0 };
	char *lab[] = { "x=1" };

	for (int i = 0; i < 3; i++) {
		snprintf(l.tasks[i].id, sizeof(l.tasks[i].id), "t%d", i);
		l.tasks[i].bundle = strdup("/b");
		l.tasks[i].labels = calloc(1, sizeof(char *));
		l.tasks[i].labels[0] = strdup(i == 1 ? "x=2" : lab[0]);
		l.tasks[i].labels_count = 1;
	}
	ck_assert_int_eq(ls_filter_add(&f, "label=x=1", err, sizeof(err)), 0);
	ls_filter_apply(&f, &l);
	ck_assert_uint_eq(l.tasks_count, 2);
	ck_assert_str_eq(l.tasks[0].id, "t0");
	ck_assert_str_eq(l.tasks[1].id, "t2");
	sv_pb_free(sv_CtlListResponse_fields, &l);     /* no double free (run under ASan) */
}
END_TEST

START_TEST(inspect_json)
{
	char *args[] = { "/bin/sleep", "9" }, *opts[] = { "ro" }, *caps[] = { "CAP_KILL" };
	char *labels[] = { "tier=front" };
	uint32_t gids[] = { 5 };
	sv_SummaryMount m = { .type = "bind", .source = "/s", .destination = "/d", .options = opts,
			      .options_count = 1 };
	sv_SummaryNamespace ns[] = { { .type = "pid" }, { .type = "network", .path = "/run/netns/b" } };
	sv_CtlInspectResponse r = {
		.has_state = true,
		.state = { .status = sv_TaskStatus_RUNNING, .pid = 42, .bundle = "/b" },
		.has_summary = true,
		.summary = { .args = args, .args_count = 2, .env_count = 2, .cwd = "/",
			     .uid = 1, .gid = 2, .additional_gids = gids, .additional_gids_count = 1,
			     .hostname = "h", .root_path = "/", .root_readonly = true,
			     .mounts = &m, .mounts_count = 1, .namespaces = ns, .namespaces_count = 2,
			     .capabilities = caps, .capabilities_count = 1, .seccomp = "default",
			     .seccomp_default_action = "SCMP_ACT_ERRNO", .seccomp_rules = 11,
			     .no_new_privileges = true, .memory_limit = -1, .pids_limit = 50,
			     .cgroups_path = "/c", .labels = labels, .labels_count = 1,
			     .root_nodev = true, .masked_paths = 11, .readonly_paths = 5,
			     .net = "loopback" },
	};
	struct sbuf b = { 0 };
	struct jw w;

	strcpy(r.state.id, "web");
	jw_init(&w, &b);
	cli_inspect_json(&w, "default", "web", &r);
	ck_assert_str_eq(sb_str(&b),
		"{\"namespace\":\"default\",\"id\":\"web\",\"status\":\"running\",\"pid\":42,"
		"\"exit_status\":0,\"exited_at\":\"0001-01-01T00:00:00.000000000Z\",\"bundle\":\"/b\","
		"\"restart\":\"no\",\"restart_count\":0,\"summary\":true,"
		"\"args\":[\"/bin/sleep\",\"9\"],\"env_count\":2,\"cwd\":\"/\","
		"\"user\":{\"uid\":1,\"gid\":2,\"additional_gids\":[5]},\"terminal\":false,"
		"\"hostname\":\"h\",\"capabilities\":[\"CAP_KILL\"],\"no_new_privileges\":true,"
		"\"root\":{\"path\":\"/\",\"readonly\":true,\"nodev\":true},"
		"\"mounts\":[{\"type\":\"bind\",\"source\":\"/s\",\"destination\":\"/d\","
		"\"options\":[\"ro\"]}],\"masked_paths\":11,\"readonly_paths\":5,"
		"\"namespaces\":[{\"type\":\"pid\",\"path\":\"\"},{\"type\":\"network\","
		"\"path\":\"/run/netns/b\"}],\"net\":\"loopback\","
		"\"seccomp\":{\"mode\":\"default\",\"default_action\":\"SCMP_ACT_ERRNO\",\"rules\":11},"
		"\"limits\":{\"memory\":-1,\"pids\":50,\"cpu_quota\":0,\"cpu_period\":0,"
		"\"cgroups_path\":\"/c\"},\"labels\":{\"tier\":\"front\"},\"summary_truncated\":false}");
	sb_free(&b);
	/* no summary held: the state alone, and says so */
	r.has_summary = false;
	jw_init(&w, &b);
	cli_inspect_json(&w, "default", "web", &r);
	ck_assert_str_eq(sb_str(&b),
		"{\"namespace\":\"default\",\"id\":\"web\",\"status\":\"running\",\"pid\":42,"
		"\"exit_status\":0,\"exited_at\":\"0001-01-01T00:00:00.000000000Z\",\"bundle\":\"/b\","
		"\"restart\":\"no\",\"restart_count\":0,\"summary\":false}");
	sb_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client_inspect");

	SV_TCASE(s, "inspect", 10, filter_parsing, filter_matching, filter_apply, inspect_json);
	return sv_run_suite(s);
}
