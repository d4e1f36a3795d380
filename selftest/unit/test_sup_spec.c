/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_spec.c: config.json generated for create requests, and the config file. */
#include <check.h>
#include <errno.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/log.h"
#include "supervisor/config.h"
#include "supervisor/engine.h"
#include "tap_main.h"
#include "wire/bytes.h"

static const char *cg_path;    /* the daemon's <cgroup_parent>/<ns>/<id>, or NULL */
static char *profile;           /* linux.seccomp of generated configs, or NULL */

static cJSON *build(sv_CtlCreateRequest *rq, int want_ok)
{
	char *json = NULL, err[256] = "";
	size_t len = 0;
	int r = spec_build(rq, cg_path, profile, &json, &len, err, sizeof(err));

	if (!want_ok) {
		ck_assert_int_lt(r, 0);
		ck_assert(err[0]);
		return NULL;
	}
	ck_assert_msg(r == 0, "spec_build: %s", err);
	cJSON *s = cJSON_ParseWithLength(json, len);
	ck_assert_ptr_nonnull(s);
	free(json);
	return s;
}

static const char *str_at(cJSON *s, const char *a, const char *b)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(s, a);
	cJSON *v = b ? cJSON_GetObjectItemCaseSensitive(o, b) : o;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

START_TEST(default_spec_is_host_root_read_only)
{
	char *args[] = { "/bin/echo", "hi" };
	sv_CtlCreateRequest rq = { .args = args, .args_count = 2 };
	strcpy(rq.id, "t1");
	cJSON *s = build(&rq, 1);

	ck_assert_str_eq(str_at(s, "root", "path"), "/");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "root"), "readonly")));
	ck_assert_str_eq(str_at(s, "hostname", NULL), "t1");
	cJSON *ns = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "linux"), "namespaces");
	ck_assert_int_eq(cJSON_GetArraySize(ns), 5);
	cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "process"), "args");
	ck_assert_str_eq(cJSON_GetArrayItem(a, 1)->valuestring, "hi");
	int tmp = 0;
	cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(s, "mounts"))
		tmp += !strcmp(cJSON_GetObjectItem(m, "destination")->valuestring, "/tmp");
	ck_assert_int_eq(tmp, 1);
	cJSON_Delete(s);
}
END_TEST

START_TEST(options_land_in_the_spec)
{
	char *env[] = { "A=1" };
	sv_CtlCreateRequest rq = { .env = env, .env_count = 1, .cwd = "/srv", .rootfs = "/r",
				   .set_user = true, .uid = 5, .gid = 6, .hostname = "box", .net = "host" };
	strcpy(rq.id, "t2");
	cJSON *s = build(&rq, 1);
	cJSON *p = cJSON_GetObjectItem(s, "process");

	ck_assert_str_eq(str_at(s, "root", "path"), "/r");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "root"), "readonly")));
	ck_assert_str_eq(str_at(s, "process", "cwd"), "/srv");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "user"), "uid")->valueint, 5);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "user"), "gid")->valueint, 6);
	ck_assert_str_eq(str_at(s, "hostname", NULL), "box");
	cJSON *e = cJSON_GetObjectItem(p, "env");
	ck_assert_str_eq(cJSON_GetArrayItem(e, cJSON_GetArraySize(e) - 1)->valuestring, "A=1");
	/* --net host: no network namespace */
	cJSON *n;
	cJSON_ArrayForEach(n, cJSON_GetObjectItem(cJSON_GetObjectItem(s, "linux"), "namespaces"))
		ck_assert_str_ne(cJSON_GetObjectItem(n, "type")->valuestring, "network");
	cJSON_Delete(s);
}
END_TEST

START_TEST(long_id_hostname_is_cut)
{
	sv_CtlCreateRequest rq = { 0 };
	memset(rq.id, 'a', 76);
	cJSON *s = build(&rq, 1);
	ck_assert_uint_eq(strlen(str_at(s, "hostname", NULL)), 63);
	cJSON_Delete(s);
}
END_TEST

START_TEST(bad_requests_refused)
{
	sv_CtlCreateRequest rq = { .net = "bridge" };
	strcpy(rq.id, "x");
	build(&rq, 0);
	rq.net = NULL;
	rq.rootfs = "relative/dir";
	build(&rq, 0);
	rq.rootfs = NULL;
	rq.cwd = "nope";
	build(&rq, 0);
	rq.cwd = NULL;
	char *env[] = { "NOEQUALS" };
	rq.env = env;
	rq.env_count = 1;
	build(&rq, 0);
}
END_TEST

START_TEST(bundle_config_root_made_absolute)
{
	const char *cfg = "{\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"/x\"]}}";
	sv_CtlCreateRequest rq = { .bundle_dir = "/b" };
	strcpy(rq.id, "x");
	rq.bundle_config = sv_bytes_new(cfg, strlen(cfg));
	cJSON *s = build(&rq, 1);
	ck_assert_str_eq(str_at(s, "root", "path"), "/b/rootfs");
	cJSON_Delete(s);
	free(rq.bundle_config);
	const char *bad[] = { "[]", "{\"root\":{}}", "not json", "{\"root\":{\"path\":7}}" };
	for (size_t i = 0; i < 4; i++) {
		rq.bundle_config = sv_bytes_new(bad[i], strlen(bad[i]));
		build(&rq, 0);
		free(rq.bundle_config);
	}
}
END_TEST

static double num_at(cJSON *s, const char *const *path)
{
	for (; *path; path++)
		s = cJSON_GetObjectItemCaseSensitive(s, *path);
	ck_assert_msg(cJSON_IsNumber(s), "not a number");
	return s->valuedouble;
}

START_TEST(cgroup_path_and_limits)
{
	sv_CtlCreateRequest rq = { .memory = 64 << 20, .pids = 10, .cpus_milli = 1500 };
	strcpy(rq.id, "x");
	cg_path = "/shimvisor/default/x";
	cJSON *s = build(&rq, 1);
	ck_assert_str_eq(str_at(s, "linux", "cgroupsPath"), "/shimvisor/default/x");
	ck_assert(num_at(s, (const char *[]){ "linux", "resources", "memory", "limit", NULL }) == 67108864);
	ck_assert(num_at(s, (const char *[]){ "linux", "resources", "pids", "limit", NULL }) == 10);
	ck_assert(num_at(s, (const char *[]){ "linux", "resources", "cpu", "quota", NULL }) == 150000);
	ck_assert(num_at(s, (const char *[]){ "linux", "resources", "cpu", "period", NULL }) == 100000);
	cJSON_Delete(s);
	/* no limits: a cgroup, and of resources only the device rules (test_sup_confine) */
	rq.memory = rq.pids = 0;
	rq.cpus_milli = 0;
	s = build(&rq, 1);
	ck_assert_str_eq(str_at(s, "linux", "cgroupsPath"), "/shimvisor/default/x");
	cJSON *res = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "linux"),
						      "resources");
	ck_assert_int_eq(cJSON_GetArraySize(res), 1);
	ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(res, "devices"));
	cJSON_Delete(s);
	/* no cgroup_parent: no cgroup, and then a limit is refused */
	cg_path = "";
	s = build(&rq, 1);
	ck_assert_ptr_null(str_at(s, "linux", "cgroupsPath"));
	cJSON_Delete(s);
	rq.pids = 5;
	build(&rq, 0);
	/* out of range */
	cg_path = "/p/default/x";
	rq.pids = 4194305;
	build(&rq, 0);
	rq.pids = 0;
	rq.memory = -1;
	build(&rq, 0);
	cg_path = NULL;
}
END_TEST

START_TEST(bundle_cgroup_kept_limits_merged)
{
	const char *cfg = "{\"root\":{\"path\":\"/r\"},\"linux\":{\"cgroupsPath\":\"/mine/x\","
			  "\"resources\":{\"memory\":{\"reservation\":1024},\"cpu\":{\"shares\":512}}}}";
	sv_CtlCreateRequest rq = { .memory = 1 << 30 };
	strcpy(rq.id, "x");
	rq.bundle_config = sv_bytes_new(cfg, strlen(cfg));
	cg_path = "/shimvisor/default/x";
	cJSON *s = build(&rq, 1);
	ck_assert_str_eq(str_at(s, "linux", "cgroupsPath"), "/mine/x");
	ck_assert(num_at(s, (const char *[]){ "linux", "resources", "memory", "limit", NULL }) == 1073741824.0);
	ck_assert(num_at(s, (const char *[]){ "linux", "resources", "memory", "reservation", NULL }) == 1024);
	ck_assert(num_at(s, (const char *[]){ "linux", "resources", "cpu", "shares", NULL }) == 512);
	cJSON_Delete(s);
	free(rq.bundle_config);
	cg_path = NULL;
}
END_TEST

START_TEST(update_resources_json)
{
	sv_CtlUpdateRequest rq = { .pids = 7, .cpus_milli = 250 };
	char *json = NULL;
	size_t len = 0;

	strcpy(rq.id, "x");
	ck_assert_int_eq(spec_resources(&rq, &json, &len), 0);
	cJSON *s = cJSON_ParseWithLength(json, len);
	ck_assert_ptr_nonnull(s);
	ck_assert(num_at(s, (const char *[]){ "pids", "limit", NULL }) == 7);
	ck_assert(num_at(s, (const char *[]){ "cpu", "quota", NULL }) == 25000);
	ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(s, "memory"));
	cJSON_Delete(s);
	free(json);
	rq.pids = 0;
	rq.cpus_milli = 0;
	ck_assert_int_eq(spec_resources(&rq, &json, &len), -EINVAL);
	rq.memory = (1LL << 49) + 1;
	ck_assert_int_eq(spec_resources(&rq, &json, &len), -EINVAL);
}
END_TEST

START_TEST(config_file)
{
	char path[] = "/tmp/sv-conf-XXXXXX", err[256] = "";
	int fd = mkstemp(path);
	struct sv_config c;
	const char *text = "[daemon]\nstate = /s\nreattach_timeout_ms = 250\nwarm_delay_ms = 0\ndebug = 1\n";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	sv_config_defaults(&c);
	ck_assert_str_eq(c.state, "/run/shimvisor");
	ck_assert_int_eq(sv_config_load(&c, path, true, err, sizeof(err)), 0);
	ck_assert_str_eq(c.state, "/s");
	ck_assert_int_eq(c.reattach_timeout_ms, 250);
	ck_assert_int_eq(c.warm_delay_ms, 0);
	ck_assert_int_eq(c.log_level, LOG_DEBUG);
	ck_assert_int_eq(sv_config_set(&c, "log_level", "notice"), 0);
	ck_assert_int_eq(c.log_level, LOG_NOTICE);
	ck_assert_int_eq(sv_config_set(&c, "log_level", "loud"), -1);
	ck_assert_int_eq(c.log_level, LOG_NOTICE);
	/* unknown keys and bad values are errors that name the line */
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "[daemon]\nbogus = 1\n", 19), 19);
	close(fd);
	ck_assert_int_lt(sv_config_load(&c, path, true, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "bogus"));
	unlink(path);
	/* a missing default file is fine, a missing explicit one is not */
	/* cgroup_parent: absolute, no . or .., trailing slashes cut; "" turns cgroups off */
	ck_assert_str_eq(c.cgroup_parent, "/shimvisor");
	const char *good[][2] = { { "/a/b/", "/a/b" }, { "", "" }, { "/", "/" }, { "/a..b", "/a..b" } };
	for (size_t i = 0; i < 4; i++) {
		char line[128];
		fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0600);
		snprintf(line, sizeof(line), "[daemon]\ncgroup_parent = %s\n", good[i][0]);
		ck_assert_int_eq(write(fd, line, strlen(line)), (int)strlen(line));
		close(fd);
		ck_assert_msg(sv_config_load(&c, path, true, err, sizeof(err)) == 0, "%s", err);
		ck_assert_str_eq(c.cgroup_parent, good[i][1]);
	}
	const char *bad[] = { "rel", "/a/../b", "/a/.", "/..", "./x" };
	for (size_t i = 0; i < 5; i++) {
		char line[128];
		fd = open(path, O_WRONLY | O_TRUNC);
		snprintf(line, sizeof(line), "[daemon]\ncgroup_parent = %s\n", bad[i]);
		ck_assert_int_eq(write(fd, line, strlen(line)), (int)strlen(line));
		close(fd);
		ck_assert_msg(sv_config_load(&c, path, true, err, sizeof(err)) < 0, "%s accepted", bad[i]);
	}
	/* task_cgroups: always or limits */
	ck_assert(!c.task_cgroups_always);
	ck_assert_int_eq(sv_config_set(&c, "task_cgroups", "always"), 0);
	ck_assert(c.task_cgroups_always);
	ck_assert_int_eq(sv_config_set(&c, "task_cgroups", "limits"), 0);
	ck_assert(!c.task_cgroups_always);
	ck_assert_int_lt(sv_config_set(&c, "task_cgroups", "sometimes"), 0);
	/* log_max_size: bytes with k/m/g; log_max_files 0..64 */
	ck_assert_int_eq(c.log_max_size, 1 << 20);
	ck_assert_int_eq(sv_config_set(&c, "log_max_size", "64k"), 0);
	ck_assert_int_eq(c.log_max_size, 65536);
	ck_assert_int_eq(sv_config_set(&c, "log_max_size", "0"), 0);
	ck_assert_int_eq(c.log_max_size, 0);
	ck_assert_int_eq(sv_config_set(&c, "log_max_size", "3G"), 0);
	ck_assert_int_eq(c.log_max_size, 3LL << 30);
	const char *bad_sizes[] = { "-1", "1kb", "x", "", "99999999999999999999" };
	for (size_t i = 0; i < 5; i++)
		ck_assert_msg(sv_config_set(&c, "log_max_size", bad_sizes[i]) < 0, "%s", bad_sizes[i]);
	ck_assert_int_eq(sv_config_set(&c, "log_max_files", "0"), 0);
	ck_assert_int_lt(sv_config_set(&c, "log_max_files", "65"), 0);
	unlink(path);
	ck_assert_int_eq(sv_config_load(&c, "/nonexistent/x.conf", false, err, sizeof(err)), 0);
	ck_assert_int_lt(sv_config_load(&c, "/nonexistent/x.conf", true, err, sizeof(err)), 0);
	sv_policy_free(&c.policy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_spec");

	SV_TCASE(s, "spec", 10, default_spec_is_host_root_read_only, options_land_in_the_spec,
		 long_id_hostname_is_cut, bad_requests_refused, bundle_config_root_made_absolute, cgroup_path_and_limits,
		 bundle_cgroup_kept_limits_merged, update_resources_json, config_file);
	return sv_run_suite(s);
}
