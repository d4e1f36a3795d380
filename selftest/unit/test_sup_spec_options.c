/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_spec_options.c: run options in a generated config.json (mounts,
 * capabilities, seccomp, labels, --net PATH), checked by the engine whatever a client sends,
 * and the result against the default policy. */
#include <check.h>
#include <errno.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "supervisor/engine.h"
#include "supervisor/policy.h"
#include "tap_main.h"
#include "wire/bytes.h"

static char err[256];

static char *build_json(sv_CtlCreateRequest *rq, const char *seccomp, int *rc)
{
	char *json = NULL;
	size_t len = 0;

	err[0] = 0;
	*rc = spec_build(rq, NULL, seccomp, &json, &len, err, sizeof(err));
	return json;
}

static cJSON *build(sv_CtlCreateRequest *rq, const char *seccomp)
{
	int rc;
	char *json = build_json(rq, seccomp, &rc);
	cJSON *s;

	ck_assert_msg(rc == 0, "spec_build: %s", err);
	s = cJSON_Parse(json);
	free(json);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void refused(sv_CtlCreateRequest *rq, const char *msg)
{
	int rc;

	ck_assert_ptr_null(build_json(rq, NULL, &rc));
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert_msg(strstr(err, msg), "\"%s\" lacks \"%s\"", err, msg);
}

static cJSON *at(cJSON *o, const char *a, const char *b)
{
	o = cJSON_GetObjectItemCaseSensitive(o, a);
	return b ? cJSON_GetObjectItemCaseSensitive(o, b) : o;
}

/* The monitor's check of the config with the default policy: 0 or its refusal in err. */
static int policy(sv_CtlCreateRequest *rq)
{
	struct sv_policy p;
	struct sv_policy_task t = { .ns = "default", .id = rq->id, .cgroup_parent = "" };
	int rc;
	char *json = build_json(rq, NULL, &rc);

	ck_assert_msg(rc == 0, "spec_build: %s", err);
	sv_policy_defaults(&p);
	rc = sv_policy_check(&p, &t, json, strlen(json), err, sizeof(err));
	sv_policy_free(&p);
	free(json);
	return rc;
}

START_TEST(mounts_get_nosuid_nodev_last)
{
	char *bopts[] = { "rbind", "ro" }, *topts[] = { "size=1m", "mode=1777", "exec" };
	sv_CtlMount m[] = {
		{ .type = "bind", .source = "/srv/data", .destination = "/data", .options = bopts, .options_count = 2 },
		{ .type = "tmpfs", .destination = "/t", .options = topts, .options_count = 3 },
		{ .type = "bind", .source = "/srv/x", .destination = "/x" },
	};
	sv_CtlCreateRequest rq = { .mounts = m, .mounts_count = 3 };
	strcpy(rq.id, "m");
	cJSON *s = build(&rq, NULL), *ms = at(s, "mounts", NULL);
	int n = cJSON_GetArraySize(ms);
	cJSON *b = cJSON_GetArrayItem(ms, n - 3), *t = cJSON_GetArrayItem(ms, n - 2);
	cJSON *x = cJSON_GetArrayItem(ms, n - 1);

	ck_assert_str_eq(at(b, "source", NULL)->valuestring, "/srv/data");
	ck_assert_str_eq(at(b, "destination", NULL)->valuestring, "/data");
	char *o = cJSON_PrintUnformatted(at(b, "options", NULL));
	ck_assert_str_eq(o, "[\"rbind\",\"ro\",\"nosuid\",\"nodev\"]");
	free(o);
	ck_assert_str_eq(at(t, "source", NULL)->valuestring, "tmpfs");
	o = cJSON_PrintUnformatted(at(t, "options", NULL));
	ck_assert_str_eq(o, "[\"size=1m\",\"mode=1777\",\"exec\",\"nosuid\",\"nodev\"]");
	free(o);
	o = cJSON_PrintUnformatted(at(x, "options", NULL));     /* a bind is a bind */
	ck_assert_str_eq(o, "[\"rbind\",\"nosuid\",\"nodev\"]");
	free(o);
	cJSON_Delete(s);
}
END_TEST

/* What a hostile client could send instead of the CLI's mounts. */
START_TEST(bad_mounts_refused)
{
	static char *dev[] = { "dev" }, *suid[] = { "suid" }, *shared[] = { "rshared" },
		    *size[] = { "size=1m;x" }, *bind_tmpfs[] = { "rbind" };
	struct { sv_CtlMount m; const char *msg; } bad[] = {
		{ { .type = "proc", .destination = "/p" }, "want bind or tmpfs" },
		{ { .type = "tmpfs", .destination = "rel" }, "not a clean absolute path" },
		{ { .type = "tmpfs", .destination = "/a/../b" }, "not a clean absolute path" },
		{ { .type = "tmpfs", .destination = "/" }, "not a clean absolute path" },
		{ { .type = "bind", .source = "rel", .destination = "/d" }, "is not an absolute path" },
		{ { .type = "tmpfs", .destination = "/d", .options = dev, .options_count = 1 }, "option \"dev\" not permitted" },
		{ { .type = "bind", .source = "/s", .destination = "/d", .options = suid, .options_count = 1 }, "option \"suid\"" },
		{ { .type = "bind", .source = "/s", .destination = "/d", .options = shared, .options_count = 1 }, "option \"rshared\"" },
		{ { .type = "tmpfs", .destination = "/d", .options = size, .options_count = 1 }, "option \"size=1m;x\"" },
		{ { .type = "tmpfs", .destination = "/d", .options = bind_tmpfs, .options_count = 1 }, "option \"rbind\"" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sv_CtlCreateRequest rq = { .mounts = &bad[i].m, .mounts_count = 1 };
		strcpy(rq.id, "m");
		refused(&rq, bad[i].msg);
	}
}
END_TEST

static char *caps_of(cJSON *s, const char *set)
{
	return cJSON_PrintUnformatted(at(at(s, "process", "capabilities"), set, NULL));
}

START_TEST(caps_added_and_dropped)
{
	char *all[] = { "ALL" }, *raw[] = { "CAP_NET_RAW", "CAP_SYS_PTRACE" }, *chown_[] = { "CAP_CHOWN" };
	sv_CtlCreateRequest rq = { .cap_drop = all, .cap_drop_count = 1, .cap_add = raw, .cap_add_count = 2 };
	strcpy(rq.id, "c");
	cJSON *s = build(&rq, NULL);
	char *c = caps_of(s, "bounding");

	ck_assert_str_eq(c, "[\"CAP_NET_RAW\",\"CAP_SYS_PTRACE\"]");
	free(c);
	c = caps_of(s, "effective");
	ck_assert_str_eq(c, "[\"CAP_NET_RAW\",\"CAP_SYS_PTRACE\"]");
	free(c);
	cJSON_Delete(s);
	/* a drop of one: the default set without it, in its order (no CAP_MKNOD) */
	rq = (sv_CtlCreateRequest){ .cap_drop = chown_, .cap_drop_count = 1 };
	strcpy(rq.id, "c");
	s = build(&rq, NULL);
	c = caps_of(s, "permitted");
	ck_assert_ptr_null(strstr(c, "CAP_CHOWN"));
	ck_assert_ptr_null(strstr(c, "CAP_MKNOD"));
	ck_assert_ptr_nonnull(strstr(c, "\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\""));
	free(c);
	cJSON_Delete(s);
	/* an add and a drop of the same: the add wins (docker's) */
	rq = (sv_CtlCreateRequest){ .cap_drop = chown_, .cap_drop_count = 1, .cap_add = chown_,
				    .cap_add_count = 1 };
	strcpy(rq.id, "c");
	s = build(&rq, NULL);
	c = caps_of(s, "bounding");
	ck_assert_ptr_nonnull(strstr(c, "CAP_CHOWN"));
	free(c);
	cJSON_Delete(s);
	char *bogus[] = { "CAP_BOGUS" }, *lower[] = { "cap_chown" };
	rq = (sv_CtlCreateRequest){ .cap_add = bogus, .cap_add_count = 1 };
	strcpy(rq.id, "c");
	refused(&rq, "cap_add \"CAP_BOGUS\": unknown capability");
	rq = (sv_CtlCreateRequest){ .cap_drop = lower, .cap_drop_count = 1 };
	strcpy(rq.id, "c");
	refused(&rq, "cap_drop \"cap_chown\": unknown capability");
}
END_TEST

/* The policy bounds the result: SYS_ADMIN refused by default, a drop always fine, a bind
 * only from bind_sources (none by default). */
START_TEST(policy_bounds_the_options)
{
	char *admin[] = { "CAP_SYS_ADMIN" }, *all[] = { "ALL" };
	sv_CtlMount bind = { .type = "bind", .source = "/etc", .destination = "/mnt" };
	sv_CtlMount tmpfs = { .type = "tmpfs", .destination = "/mnt" };
	sv_CtlCreateRequest rq = { .cap_add = admin, .cap_add_count = 1 };

	strcpy(rq.id, "p");
	ck_assert_int_eq(policy(&rq), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "CAP_SYS_ADMIN: not permitted by the policy"));
	rq = (sv_CtlCreateRequest){ .cap_drop = all, .cap_drop_count = 1 };
	strcpy(rq.id, "p");
	ck_assert_msg(policy(&rq) == 0, "%s", err);
	rq = (sv_CtlCreateRequest){ .mounts = &bind, .mounts_count = 1 };
	strcpy(rq.id, "p");
	ck_assert_int_eq(policy(&rq), -EPERM);
	ck_assert_ptr_nonnull(strstr(err, "not below the policy's bind_sources"));
	rq = (sv_CtlCreateRequest){ .mounts = &tmpfs, .mounts_count = 1, .net = "/run/netns/x" };
	strcpy(rq.id, "p");
	/* the netns is not there: refused for that, not for its path's form */
	ck_assert_int_eq(policy(&rq), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "linux.namespaces[4].path \"/run/netns/x\": No such file"));
}
END_TEST

START_TEST(seccomp_choices)
{
	const char *dflt = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[]}";
	const char *own = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
	sv_CtlCreateRequest rq = { 0 };
	strcpy(rq.id, "s");
	cJSON *s = build(&rq, dflt);

	ck_assert_str_eq(at(at(s, "linux", "seccomp"), "defaultAction", NULL)->valuestring, "SCMP_ACT_ERRNO");
	cJSON_Delete(s);
	rq.seccomp = "unconfined";
	s = build(&rq, dflt);
	ck_assert_ptr_null(at(s, "linux", "seccomp"));
	cJSON_Delete(s);
	rq.seccomp = "profile";
	rq.seccomp_profile = sv_bytes_new(own, strlen(own));
	s = build(&rq, dflt);
	ck_assert_str_eq(at(at(s, "linux", "seccomp"), "defaultAction", NULL)->valuestring, "SCMP_ACT_ALLOW");
	cJSON_Delete(s);
	free(rq.seccomp_profile);
	rq.seccomp_profile = sv_bytes_new("{\"syscalls\":[]}", 15);
	refused(&rq, "not a seccomp profile");
	free(rq.seccomp_profile);
	rq.seccomp_profile = NULL;
	refused(&rq, "seccomp \"profile\"");          /* a profile named, none sent */
	rq.seccomp = "bogus";
	refused(&rq, "seccomp \"bogus\"");
	rq.seccomp = "unconfined";                     /* unconfined with a profile: which? */
	rq.seccomp_profile = sv_bytes_new(own, strlen(own));
	refused(&rq, "seccomp \"unconfined\"");
	free(rq.seccomp_profile);
}
END_TEST

START_TEST(labels_net_path_groups_read_only)
{
	char *labels[] = { "app=web", "team=a b", "app=api" };
	uint32_t gids[] = { 5555, 5556 };
	sv_CtlCreateRequest rq = { .labels = labels, .labels_count = 3, .net = "/run/netns/x",
				   .additional_gids = gids, .additional_gids_count = 2,
				   .rootfs = "/srv/r", .read_only = true, .set_user = true, .uid = 1 };
	strcpy(rq.id, "l");
	cJSON *s = build(&rq, NULL), *n, *path = NULL;

	ck_assert_str_eq(at(s, "annotations", "io.shimvisor.label.app")->valuestring, "api");
	ck_assert_str_eq(at(s, "annotations", "io.shimvisor.label.team")->valuestring, "a b");
	cJSON_ArrayForEach(n, at(s, "linux", "namespaces"))
		if (!strcmp(at(n, "type", NULL)->valuestring, "network"))
			path = at(n, "path", NULL);
	ck_assert_ptr_nonnull(path);
	ck_assert_str_eq(path->valuestring, "/run/netns/x");
	char *g = cJSON_PrintUnformatted(at(at(s, "process", "user"), "additionalGids", NULL));
	ck_assert_str_eq(g, "[5555,5556]");
	free(g);
	ck_assert(cJSON_IsTrue(at(s, "root", "readonly")));
	cJSON_Delete(s);
	char *bad[] = { "k", "=v", "a b=1", "k=\x01" };
	for (size_t i = 0; i < 4; i++) {
		rq.labels = &bad[i];
		rq.labels_count = 1;
		refused(&rq, "label \"");
	}
	rq.labels_count = 0;
	rq.net = "netns/x";
	refused(&rq, "net mode");
}
END_TEST

START_TEST(bundles_take_labels_only)
{
	const char *cfg = "{\"root\":{\"path\":\"/r\"},\"annotations\":{\"x\":\"1\"}}";
	char *labels[] = { "k=v" }, *caps[] = { "ALL" };
	sv_CtlCreateRequest rq = { .labels = labels, .labels_count = 1 };
	strcpy(rq.id, "b");
	rq.bundle_config = sv_bytes_new(cfg, strlen(cfg));
	cJSON *s = build(&rq, NULL);

	ck_assert_str_eq(at(s, "annotations", "io.shimvisor.label.k")->valuestring, "v");
	ck_assert_str_eq(at(s, "annotations", "x")->valuestring, "1");
	cJSON_Delete(s);
	rq.cap_drop = caps;
	rq.cap_drop_count = 1;
	refused(&rq, "a bundle's config.json says");
	free(rq.bundle_config);
}
END_TEST

/* An exec names no capabilities: the init gives it its task's sets. */
START_TEST(exec_names_no_caps)
{
	char *args[] = { "/bin/true" };
	sv_CtlExecRequest rq = { .args = args, .args_count = 1 };
	char *json = NULL;
	size_t len = 0;

	ck_assert_int_eq(spec_process(&rq, &json, &len, err, sizeof(err)), 0);
	ck_assert_ptr_null(strstr(json, "capabilities"));
	ck_assert_ptr_nonnull(strstr(json, "\"noNewPrivileges\":true"));
	free(json);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_spec_options");

	SV_TCASE(s, "options", 10, mounts_get_nosuid_nodev_last, bad_mounts_refused,
		 caps_added_and_dropped, policy_bounds_the_options, seccomp_choices,
		 labels_net_path_groups_read_only, bundles_take_labels_only, exec_names_no_caps);
	return sv_run_suite(s);
}
