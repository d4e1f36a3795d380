/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_summary.c: the summary `inspect` shows (supervisor/spec_summary.c),
 * made from sample configs: a generated one, a client's --bundle one, and an oversized one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "supervisor/engine.h"
#include "tap_main.h"
#include "wire/bytes.h"
#include "wire/limits.h"
#include "wire/pbio.h"

static char *profile;                   /* the daemon's default profile (compact JSON) */
static struct spec_seccomp_sum psum;

static void setup(void)
{
	char err[256];

	ck_assert_int_eq(spec_seccomp_profile(NULL, &profile, err, sizeof(err)), 0);
	ck_assert_int_eq(spec_seccomp_sum_text(profile, &psum), 0);
}

static void teardown(void)
{
	free(profile);
}

/* rq's config made by the engine's create path, and its summary decoded into s. */
static void summarize(sv_CtlCreateRequest *rq, const char *cg, sv_TaskSummary *s, size_t *size)
{
	pb_bytes_array_t *sum = NULL;
	char *json = NULL, err[256] = "";
	size_t len;

	ck_assert_msg(spec_build_summary(rq, cg, NULL, profile, &psum, &json, &len, &sum, err,
					 sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(sum);
	ck_assert_uint_le(sum->size, SV_SUMMARY_MAX);
	ck_assert_int_eq(sv_pb_decode(sv_TaskSummary_fields, s, sum->bytes, sum->size), 0);
	if (size)
		*size = sum->size;
	free(sum);
	free(json);
}

static bool has(char **v, pb_size_t n, const char *want)
{
	for (pb_size_t i = 0; i < n; i++)
		if (!strcmp(v[i], want))
			return true;
	return false;
}

START_TEST(generated_config)
{
	char *args[] = { "/bin/sleep", "9" }, *env[] = { "A=1" };
	sv_CtlCreateRequest rq = { .args = args, .args_count = 2, .env = env, .env_count = 1,
				   .memory = 64 << 20, .pids = 50, .cpus_milli = 500 };
	sv_TaskSummary s;
	size_t size;
	char **names;
	pb_size_t n;

	strcpy(rq.id, "t1");
	summarize(&rq, "/shimvisor/default/t1", &s, &size);
	ck_assert_uint_eq(s.args_count, 2);
	ck_assert_str_eq(s.args[1], "9");
	ck_assert_uint_eq(s.env_count, 3);          /* PATH, HOSTNAME, A */
	ck_assert_str_eq(s.cwd, "/");
	ck_assert_str_eq(s.hostname, "t1");
	ck_assert_str_eq(s.root_path, "/");
	ck_assert(s.root_readonly && s.root_nodev && s.no_new_privileges && !s.terminal);
	/* kept as bits (CAP_CHOWN is 0, CAP_MKNOD 27); answered by name */
	ck_assert_uint_eq(s.capabilities_count, 0);
	ck_assert_int_eq(__builtin_popcountll(s.capability_mask), 13);
	ck_assert(s.capability_mask & 1);
	ck_assert(!(s.capability_mask & (1ull << 27)));
	ck_assert_int_eq(spec_summary_cap_names(&s, &names, &n), 0);
	ck_assert_uint_eq(n, 13);
	ck_assert_str_eq(names[0], "CAP_CHOWN");
	ck_assert(has(names, n, "CAP_AUDIT_WRITE") && !has(names, n, "CAP_MKNOD"));
	free(names);
	ck_assert_uint_eq(s.mounts_count, 7);
	ck_assert_str_eq(s.mounts[0].destination, "/proc");
	ck_assert_str_eq(s.mounts[0].type, "proc");
	ck_assert_uint_eq(s.mounts[5].options_count, 4);
	ck_assert_str_eq(s.mounts[5].options[3], "ro");
	ck_assert_uint_eq(s.namespaces_count, 5);
	ck_assert_ptr_null(s.namespaces[0].path);
	ck_assert_str_eq(s.net, "loopback");
	/* the default profile, named so, with its figures */
	ck_assert_str_eq(s.seccomp, "default");
	ck_assert_str_eq(s.seccomp_default_action, "SCMP_ACT_ERRNO");
	ck_assert_uint_gt(s.seccomp_rules, 0);
	ck_assert_uint_eq(s.seccomp_rules, psum.rules);
	ck_assert_int_eq(s.memory_limit, 64 << 20);
	ck_assert_int_eq(s.pids_limit, 50);
	ck_assert_int_eq(s.cpu_quota, 50000);
	ck_assert_uint_eq(s.cpu_period, 100000);
	ck_assert_str_eq(s.cgroups_path, "/shimvisor/default/t1");
	ck_assert_uint_eq(s.masked_paths, 11);
	ck_assert_uint_eq(s.readonly_paths, 5);
	ck_assert_uint_eq(s.labels_count, 0);
	ck_assert(!s.truncated);
	/* what the engine keeps per task (DESIGN: a few hundred bytes) */
	ck_assert_uint_lt(size, 1024);
	sv_pb_free(sv_TaskSummary_fields, &s);
}
END_TEST

#define BUNDLE_CFG \
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"/bin/true\"],\"cwd\":\"/w\"," \
	"\"terminal\":true,\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,7]}," \
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_FUTURE\"]}},\"root\":{\"path\":\"/srv/r\"}," \
	"\"mounts\":[{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/d\"," \
	"\"options\":[\"rbind\",\"ro\"]}],\"linux\":{\"namespaces\":[{\"type\":\"pid\"}," \
	"{\"type\":\"network\",\"path\":\"/run/netns/blue\"}]%s}," \
	"\"annotations\":{\"io.shimvisor.label.tier\":\"front\",\"io.shimvisor.label.empty\":\"\"," \
	"\"io.shimvisor.labelnot\":\"x\",\"other\":\"y\"}}"

/* The client's config, as it is: its user, root, binds, joined namespaces and labels. */
START_TEST(bundle_config)
{
	char cfg[2048], **names;
	sv_CtlCreateRequest rq = { .bundle_dir = "/srv" };
	sv_TaskSummary s;
	pb_size_t n;

	strcpy(rq.id, "b1");
	snprintf(cfg, sizeof(cfg), BUNDLE_CFG,
		 ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		 "[\"kexec_load\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
	rq.bundle_config = sv_bytes_new(cfg, strlen(cfg));
	summarize(&rq, "", &s, NULL);
	ck_assert_str_eq(s.cwd, "/w");
	ck_assert(s.terminal && !s.root_readonly && !s.root_nodev && !s.no_new_privileges);
	ck_assert_uint_eq(s.uid, 1000);
	ck_assert_uint_eq(s.gid, 100);
	ck_assert_uint_eq(s.additional_gids_count, 2);
	ck_assert_uint_eq(s.additional_gids[1], 7);
	ck_assert_str_eq(s.root_path, "/srv/r");
	/* one known by number, one the engine has no number for */
	ck_assert_uint_eq(s.capability_mask, 1ull << 5);
	ck_assert_uint_eq(s.capabilities_count, 1);
	ck_assert_str_eq(s.capabilities[0], "CAP_FUTURE");
	ck_assert_int_eq(spec_summary_cap_names(&s, &names, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "CAP_KILL");
	ck_assert_str_eq(names[1], "CAP_FUTURE");
	free(names);
	ck_assert_uint_eq(s.mounts_count, 1);
	ck_assert_str_eq(s.mounts[0].source, "/srv/d");
	ck_assert_str_eq(s.mounts[0].options[1], "ro");
	ck_assert_str_eq(s.namespaces[1].type, "network");
	ck_assert_str_eq(s.namespaces[1].path, "/run/netns/blue");
	ck_assert_str_eq(s.seccomp, "profile");
	ck_assert_str_eq(s.seccomp_default_action, "SCMP_ACT_ALLOW");
	ck_assert_uint_eq(s.seccomp_rules, 1);
	ck_assert_ptr_null(s.cgroups_path);
	ck_assert_ptr_null(s.net);
	ck_assert_uint_eq(s.labels_count, 2);
	ck_assert(has(s.labels, s.labels_count, "tier=front"));
	ck_assert(has(s.labels, s.labels_count, "empty="));
	sv_pb_free(sv_TaskSummary_fields, &s);
	free(rq.bundle_config);

	/* no linux.seccomp: unconfined */
	snprintf(cfg, sizeof(cfg), BUNDLE_CFG, "");
	rq.bundle_config = sv_bytes_new(cfg, strlen(cfg));
	summarize(&rq, "", &s, NULL);
	ck_assert_str_eq(s.seccomp, "unconfined");
	ck_assert_ptr_null(s.seccomp_default_action);
	sv_pb_free(sv_TaskSummary_fields, &s);
	free(rq.bundle_config);
}
END_TEST

/* The summary of a --bundle config of len bytes at cfg: cut, its root kept. */
static void summarize_cut(const char *cfg, size_t len, sv_TaskSummary *s)
{
	sv_CtlCreateRequest rq = { .bundle_dir = "/srv" };

	strcpy(rq.id, "big");
	rq.bundle_config = sv_bytes_new(cfg, len);
	summarize(&rq, "", s, NULL);
	free(rq.bundle_config);
	ck_assert(s->truncated);
	ck_assert_uint_eq(s->mounts_count, 0);
	ck_assert_str_eq(s->root_path, "/srv/r");
}

/* A config whose summary would pass SV_SUMMARY_MAX: the lists go, the labels stay, and it
 * says so; with labels alone over it, they go too. */
START_TEST(oversized_summary_is_cut)
{
	char *cfg = malloc(60000), *p;
	sv_TaskSummary s;

	p = cfg + sprintf(cfg, "{\"root\":{\"path\":\"/srv/r\"},\"mounts\":[");
	for (int i = 0; i < 500; i++)
		p += sprintf(p, "%s{\"destination\":\"/m%03d\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}",
			     i ? "," : "", i);
	p += sprintf(p, "],\"annotations\":{\"io.shimvisor.label.keep\":\"yes\"}}");
	summarize_cut(cfg, (size_t)(p - cfg), &s);
	ck_assert_uint_eq(s.labels_count, 1);
	ck_assert_str_eq(s.labels[0], "keep=yes");
	sv_pb_free(sv_TaskSummary_fields, &s);

	p = cfg + sprintf(cfg, "{\"root\":{\"path\":\"/srv/r\"},\"annotations\":{");
	for (int i = 0; i < 400; i++)
		p += sprintf(p, "%s\"io.shimvisor.label.k%03d\":\"%040d\"", i ? "," : "", i, i);
	p += sprintf(p, "}}");
	summarize_cut(cfg, (size_t)(p - cfg), &s);
	ck_assert_uint_eq(s.labels_count, 0);
	sv_pb_free(sv_TaskSummary_fields, &s);
	free(cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_summary");
	TCase *tc = tcase_create("summary");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, generated_config);
	tcase_add_test(tc, bundle_config);
	tcase_add_test(tc, oversized_summary_is_cut);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
