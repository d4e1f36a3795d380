/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_reload.c: SIGHUP's reload: which settings change live and which are
 * named, the options kept over the file, a bad file changing nothing (with its line), and the
 * engine's settings message checked as the config file is. */
#include <check.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/log.h"
#include "supervisor/config_reload.h"
#include "wire/pbio.h"
#include "tap_main.h"

static struct sv_config run, next;
static struct sv_reload rl;
static char err[1024], path[] = "/tmp/sv-reload-XXXXXX";

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* The file's text, and rl set to reread it over run (resolved, as at start). */
static void setup(const char *text)
{
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	write_file(text);
	memset(&rl, 0, sizeof(rl));
	snprintf(rl.file, sizeof(rl.file), "%s", path);
	rl.must_exist = true;
	rl.cfg = &run;
	sv_config_defaults(&run);
	ck_assert_msg(sv_config_load(&run, path, true, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(sv_config_resolve(&run, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	sv_policy_free(&run.policy);
	unlink(path);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
}

#define BASE "[daemon]\nengine_user = daemon\ngroup = root\n"

/* Every [daemon] key of the shipped shimvisord.conf is classified, live or not, and the
 * split is the documented one: what the lock, sockets, fds and the engine's identity were
 * made from waits for the next start; the rest is live. */
static int count_key(void *user, const char *section, const char *name, const char *value)
{
	(void)value;
	if (!strcmp(section, "daemon")) {
		ck_assert_msg(sv_config_live(name) >= 0, "%s: not in the reload's table", name);
		(*(int *)user)++;
	}
	return 1;
}

START_TEST(every_key_is_live_or_named)
{
	static const char *const fixed[] = { "state", "address", "worker", "pidfile", "group",
		"engine_user", "engine_user_shared" };
	static const char *const live[] = { "log_level", "allow_uids", "allow_gids",
		"cgroup_parent", "task_cgroups", "log_max_size", "log_max_files",
		"reattach_timeout_ms", "cleanup_timeout_ms", "warm_delay_ms", "seccomp_profile",
		"client_idle_ms", "client_peer_max", "client_root_reserve", "event_queue_max",
		"client_partial_max", "policy" };
	int n = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		ck_assert_msg(sv_config_live(fixed[i]) == 0, "%s", fixed[i]);
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		ck_assert_msg(sv_config_live(live[i]) == 1, "%s", live[i]);
	ck_assert_int_eq(sv_config_live("bogus"), -1);
	/* (make runs the tests from the top of the tree) */
	ck_assert_int_eq(ini_parse("etc/shimvisord.conf", count_key, &n), 0);
	ck_assert_int_ge(n, 20);
}
END_TEST

/* A live change is applied and named; a fixed one is named and not applied; the policy is
 * taken over whole. */
START_TEST(apply_splits_live_from_fixed)
{
	char changed[512], fixed[256];

	setup(BASE "state = /run/a\nlog_level = warning\nclient_peer_max = 8\n");
	ck_assert_int_eq(sv_config_reread(&rl, &next, err, sizeof(err)), 0);
	ck_assert_int_eq(sv_config_apply(&run, &next, changed, sizeof(changed), fixed, sizeof(fixed)), 0);
	ck_assert_str_eq(changed, "");
	ck_assert_str_eq(fixed, "");
	write_file(BASE "state = /run/b\nlog_level = debug\nclient_peer_max = 2\n"
		   "allow_uids = 0 12345\n[policy]\nprivileged = yes\n");
	ck_assert_msg(sv_config_reread(&rl, &next, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(sv_config_apply(&run, &next, changed, sizeof(changed), fixed, sizeof(fixed)), 4);
	ck_assert_str_eq(changed, "log_level, allow_uids, client_peer_max, policy");
	ck_assert_str_eq(fixed, "state");
	ck_assert_str_eq(run.state, "/run/a");                 /* not applied */
	ck_assert_int_eq(run.log_level, LOG_DEBUG);
	ck_assert_int_eq(run.client_peer_max, 2);
	ck_assert_uint_eq(run.n_allow_uid, 2);
	ck_assert_uint_eq(run.allow_uid[1], 12345);
	ck_assert(run.policy.privileged);
	ck_assert_uint_eq(next.policy.nrootfs, 0);             /* taken, not shared */
	ck_assert_uint_gt(run.policy.nrootfs, 0);
	teardown();
}
END_TEST

/* The options stay over the file: a reload applies them again. */
START_TEST(options_keep_overriding)
{
	char changed[512], fixed[256];

	setup(BASE "cgroup_parent = /file\nlog_level = warning\n");
	ck_assert_int_eq(sv_override(&rl.ov, &run, "cgroup_parent", "/option"), 0);
	ck_assert_int_eq(sv_override(&rl.ov, &run, "log_level", "info"), 0);
	ck_assert_int_eq(sv_override(&rl.ov, &run, "log_level", "debug"), 0);   /* the last */
	ck_assert_uint_eq(rl.ov.n, 2);
	ck_assert_int_eq(sv_override(&rl.ov, &run, "log_level", "loud"), -1);
	ck_assert_int_eq(sv_override(&rl.ov, &run, "bogus", "1"), -1);
	ck_assert_int_eq(sv_config_reread(&rl, &next, err, sizeof(err)), 0);
	ck_assert_str_eq(next.cgroup_parent, "/option");
	ck_assert_int_eq(next.log_level, LOG_DEBUG);
	ck_assert_int_eq(sv_config_apply(&run, &next, changed, sizeof(changed), fixed, sizeof(fixed)), 0);
	teardown();
}
END_TEST

/* A bad file: the reason with the file and line, nothing of next to free or apply. */
START_TEST(bad_file_says_where)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ BASE "client_peer_max = 0\n", ":4: [daemon] client_peer_max = 0: unknown key or bad value" },
		{ BASE "bogus = 1\n", ":4: [daemon] bogus = 1: unknown key" },
		{ BASE "[policy]\n\ncapabilities = CAP_NOPE\n", ":6: [policy] capabilities" },
		{ BASE "this is not ini\n", ":4: syntax error" },
		{ BASE "allow_uids = no-such-user-x\n", ": allow_uids: no-such-user-x: no such user" },
	};
	char line[400];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[512];
		setup(BASE);
		write_file(bad[i].text);
		ck_assert_int_eq(sv_config_reread(&rl, &next, err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want), "%s%s", path, bad[i].why);
		ck_assert_msg(!strncmp(err, want, strlen(want)), "%s", err);
		ck_assert_uint_eq(next.policy.nrootfs + next.policy.nsysctls, 0);      /* freed */
		teardown();
	}
	/* a line longer than inih's buffer is refused, not read as two lines */
	memset(line, 'x', sizeof(line));
	memcpy(line, "worker = /", 10);
	line[sizeof(line) - 1] = 0;
	setup(BASE);
	{
		char text[sizeof(line) + 64];
		snprintf(text, sizeof(text), BASE "%s\nlog_level = debug\n", line);
		write_file(text);
	}
	ck_assert_int_eq(sv_config_reread(&rl, &next, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, ":4: a line longer than 198 bytes"), "%s", err);
	/* a missing file named by -c is an error */
	unlink(path);
	ck_assert_int_eq(sv_config_reread(&rl, &next, err, sizeof(err)), -ENOENT);
	teardown();
}
END_TEST

/* The engine's settings survive the wire, and each value is checked as the file would. */
START_TEST(settings_message_round_trip)
{
	static struct { pb_size_t size; pb_byte_t bytes[16]; } profile = { 2, "{}" };
	static struct sv_config eng;
	sv_MonReply rep = { .which_r = sv_MonReply_settings_tag }, in;
	const char *why;
	uint8_t *buf;
	size_t len;

	setup(BASE "log_level = debug\nclient_idle_ms = 0\nclient_peer_max = 3\nallow_uids = 0 7\n"
	      "allow_gids = 0 8 9\ncgroup_parent = /x/y\ntask_cgroups = always\nlog_max_size = 2k\n"
	      "reattach_timeout_ms = 99\nclient_partial_max = 1g\n");
	sv_settings_fill(&rep.r.settings, &run);
	rep.r.settings.seccomp = (pb_bytes_array_t *)&profile;
	ck_assert_int_eq(sv_pb_encode(sv_MonReply_fields, &rep, &buf, &len), 0);
	ck_assert_int_eq(sv_pb_decode(sv_MonReply_fields, &in, buf, len), 0);
	free(buf);
	sv_config_defaults(&eng);
	sv_policy_free(&eng.policy);
	ck_assert_int_eq(sv_settings_apply(&eng, &in.r.settings, &why), 0);
	ck_assert_int_eq(eng.log_level, LOG_DEBUG);
	ck_assert_int_eq(eng.client_idle_ms, 0);
	ck_assert_int_eq(eng.client_peer_max, 3);
	ck_assert_uint_eq(eng.n_allow_uid, 2);
	ck_assert_uint_eq(eng.allow_uid[1], 7);
	ck_assert_uint_eq(eng.n_allow_gid, 3);
	ck_assert_uint_eq(eng.allow_gid[2], 9);
	ck_assert_str_eq(eng.cgroup_parent, "/x/y");
	ck_assert(eng.task_cgroups_always);
	ck_assert_int_eq(eng.log_max_size, 2048);
	ck_assert_int_eq(eng.reattach_timeout_ms, 99);
	ck_assert_int_eq(eng.client_partial_max, 1LL << 30);
	/* what the file refuses, the engine refuses */
	in.r.settings.log_level = LOG_DEBUG + 1;
	ck_assert_int_eq(sv_settings_apply(&eng, &in.r.settings, &why), -1);
	ck_assert_str_eq(why, "log_level");
	in.r.settings.log_level = LOG_INFO;
	in.r.settings.client_partial_max = 1;
	ck_assert_int_eq(sv_settings_apply(&eng, &in.r.settings, &why), -1);
	ck_assert_str_eq(why, "client_partial_max");
	in.r.settings.client_partial_max = 1 << 20;
	in.r.settings.allow_uid_count = SV_ALLOW_MAX + 1;
	ck_assert_int_eq(sv_settings_apply(&eng, &in.r.settings, &why), -1);
	in.r.settings.allow_uid_count = 1;
	free(in.r.settings.cgroup_parent);
	in.r.settings.cgroup_parent = strdup("/a/../b");
	ck_assert_int_eq(sv_settings_apply(&eng, &in.r.settings, &why), -1);
	ck_assert_str_eq(why, "cgroup_parent");
	sv_pb_free(sv_MonReply_fields, &in);
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_reload");

	SV_TCASE(s, "reload", 20, every_key_is_live_or_named, apply_splits_live_from_fixed,
		 options_keep_overriding, bad_file_says_where, settings_message_round_trip);
	return sv_run_suite(s);
}
