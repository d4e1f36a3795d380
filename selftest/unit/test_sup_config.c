/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_config.c: the engine's user and the client allow lists: their
 * syntax in the config, and their resolution to numbers at start. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "supervisor/config.h"
#include "tap_main.h"

static struct sv_config c;
static char err[512];

static void setup(void)
{
	sv_config_defaults(&c);
	err[0] = 0;
}

START_TEST(defaults_are_shimvisor_and_root)
{
	setup();
	ck_assert_str_eq(c.engine_user, "shimvisor");
	ck_assert_str_eq(c.allow_uids, "0");
	ck_assert(!c.allow_gids_set);
	ck_assert(!c.engine_user_shared);
}
END_TEST

/* [policy] userns and userns_host_ids from a file; a bad value names its line's key */
START_TEST(policy_userns_keys)
{
	char path[] = "/tmp/sv-conf-XXXXXX";
	const char *text = "[policy]\nuserns = require\nuserns_host_ids = 100000-165535\n";
	int fd = mkstemp(path);

	setup();
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	ck_assert_msg(sv_config_load(&c, path, true, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(c.policy.userns, SV_USERNS_REQUIRE);
	ck_assert_uint_eq(c.policy.userns_host_min, 100000);
	ck_assert_uint_eq(c.policy.userns_host_max, 165535);
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "[policy]\nuserns = maybe\n", 25), 25);
	close(fd);
	ck_assert_int_lt(sv_config_load(&c, path, true, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "userns"), "%s", err);
	unlink(path);
}
END_TEST

START_TEST(list_syntax)
{
	char many[256] = "";

	setup();
	ck_assert_int_eq(sv_config_set(&c, "allow_uids", "0, 12345 daemon,\tbin"), 0);
	ck_assert_int_eq(sv_config_set(&c, "allow_uids", ""), 0);
	ck_assert_int_eq(sv_config_set(&c, "allow_uids", "root;id"), -1);
	ck_assert_int_eq(sv_config_set(&c, "allow_uids", "a/b"), -1);
	for (int i = 0; i <= SV_ALLOW_MAX; i++)
		strcat(many, "1 ");
	ck_assert_int_eq(sv_config_set(&c, "allow_gids", many), -1);  /* one too many */
	ck_assert(!c.allow_gids_set);
	ck_assert_int_eq(sv_config_set(&c, "allow_gids", ""), 0);
	ck_assert(c.allow_gids_set);
	ck_assert_int_eq(sv_config_set(&c, "engine_user_shared", "2"), -1);
	ck_assert_int_eq(sv_config_set(&c, "engine_user", ""), -1);
}
END_TEST

START_TEST(lists_resolve_names_and_numbers)
{
	setup();
	/* root's names resolve on every host; the group is root's too */
	snprintf(c.engine_user, sizeof(c.engine_user), "daemon");
	snprintf(c.group, sizeof(c.group), "root");
	ck_assert_int_eq(sv_config_set(&c, "allow_uids", "root, 12345"), 0);
	ck_assert_int_eq(sv_config_resolve(&c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n_allow_uid, 2);
	ck_assert_uint_eq(c.allow_uid[0], 0);
	ck_assert_uint_eq(c.allow_uid[1], 12345);
	ck_assert_uint_eq(c.n_allow_gid, 1);            /* unset: the group */
	ck_assert_uint_eq(c.allow_gid[0], 0);
	ck_assert_uint_eq(c.group_gid, 0);
	ck_assert_int_eq(sv_config_set(&c, "allow_gids", ""), 0);
	ck_assert_int_eq(sv_config_resolve(&c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n_allow_gid, 0);            /* empty: no group */
	ck_assert_int_eq(sv_config_set(&c, "allow_gids", "no-such-group-x"), 0);
	ck_assert_int_eq(sv_config_resolve(&c, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "allow_gids: no-such-group-x: no such group");
	ck_assert_int_eq(sv_config_set(&c, "allow_uids", "4294967295"), 0);    /* (uid_t)-1 */
	ck_assert_int_eq(sv_config_resolve(&c, err, sizeof(err)), -EINVAL);
}
END_TEST

START_TEST(engine_user_root_and_nobody)
{
	setup();
	snprintf(c.group, sizeof(c.group), "root");
	snprintf(c.engine_user, sizeof(c.engine_user), "root");
	ck_assert_int_eq(sv_config_resolve(&c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "is root"));
	snprintf(c.engine_user, sizeof(c.engine_user), "nobody");
	ck_assert_int_eq(sv_config_resolve(&c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "engine_user_shared = 1"));
	ck_assert_int_eq(sv_config_set(&c, "engine_user_shared", "1"), 0);
	ck_assert_int_eq(sv_config_resolve(&c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.engine_uid, 65534);
	snprintf(c.engine_user, sizeof(c.engine_user), "no-such-user-x");
	ck_assert_int_eq(sv_config_resolve(&c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no such user"));
}
END_TEST

/* the client limits: defaults, and the range of each */
START_TEST(client_limits)
{
	setup();
	ck_assert_int_eq(c.client_idle_ms, 30000);
	ck_assert_int_eq(c.client_peer_max, 64);
	ck_assert_int_eq(c.client_root_reserve, 32);
	ck_assert_int_eq(c.event_queue_max, 16);
	ck_assert_int_eq(c.client_partial_max, 4 << 20);
	ck_assert_int_eq(sv_config_set(&c, "client_idle_ms", "0"), 0);         /* never */
	ck_assert_int_eq(c.client_idle_ms, 0);
	ck_assert_int_eq(sv_config_set(&c, "client_idle_ms", "-1"), -1);
	ck_assert_int_eq(sv_config_set(&c, "client_idle_ms", "86400001"), -1);
	ck_assert_int_eq(sv_config_set(&c, "client_peer_max", "0"), -1);
	ck_assert_int_eq(sv_config_set(&c, "client_peer_max", "8"), 0);
	ck_assert_int_eq(c.client_peer_max, 8);
	ck_assert_int_eq(sv_config_set(&c, "client_root_reserve", "0"), 0);
	ck_assert_int_eq(sv_config_set(&c, "client_root_reserve", "65537"), -1);
	ck_assert_int_eq(sv_config_set(&c, "event_queue_max", "0"), -1);
	ck_assert_int_eq(sv_config_set(&c, "event_queue_max", "1x"), -1);
	ck_assert_int_eq(sv_config_set(&c, "event_queue_max", "256"), 0);
	ck_assert_int_eq(c.event_queue_max, 256);
	ck_assert_int_eq(sv_config_set(&c, "client_partial_max", "255k"), -1);
	ck_assert_int_eq(sv_config_set(&c, "client_partial_max", "2g"), -1);
	ck_assert_int_eq(sv_config_set(&c, "client_partial_max", "1m"), 0);
	ck_assert_int_eq(c.client_partial_max, 1 << 20);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_config");

	SV_TCASE(s, "config", 10, defaults_are_shimvisor_and_root, policy_userns_keys, list_syntax,
		 lists_resolve_names_and_numbers, engine_user_root_and_nobody, client_limits);
	return sv_run_suite(s);
}
