/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_client_args.c: the CLI's command-line parsing, without a daemon. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/cli/cli.h"
#include "wire/limits.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
static int ARGC(char **v)
{
	int n = 0;

	while (v[n])
		n++;
	return n;
}

static char err[CLI_ERR_MAX];

START_TEST(signals)
{
	static const struct { const char *in; int want; } ok[] = {
		{ "TERM", SIGTERM }, { "SIGTERM", SIGTERM }, { "term", SIGTERM }, { "sigkill", SIGKILL },
		{ "9", 9 }, { "15", 15 }, { "USR1", SIGUSR1 }, { "SIGHUP", SIGHUP }, { "CHLD", SIGCHLD },
		{ "WINCH", SIGWINCH }, { "64", 64 }, { "1", 1 },
	};
	static const char *const bad[] = {
		"", "0", "65", "-1", "9x", "FOO", "SIGFOO", "SIG", "RTMIN+99", "RTMAX+1", "RTMIN-1",
		" 9", "99999999999",
	};
	uint32_t sig;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		sig = 0;
		ck_assert_msg(cli_parse_signal(ok[i].in, &sig, err, sizeof(err)) == 0, "%s", ok[i].in);
		ck_assert_uint_eq(sig, (uint32_t)ok[i].want);
	}
	ck_assert_int_eq(cli_parse_signal("RTMIN", &sig, err, sizeof(err)), 0);
	ck_assert_uint_eq(sig, (uint32_t)SIGRTMIN);
	ck_assert_int_eq(cli_parse_signal("SIGRTMIN+2", &sig, err, sizeof(err)), 0);
	ck_assert_uint_eq(sig, (uint32_t)SIGRTMIN + 2);
	ck_assert_int_eq(cli_parse_signal("rtmax-1", &sig, err, sizeof(err)), 0);
	ck_assert_uint_eq(sig, (uint32_t)SIGRTMAX - 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cli_parse_signal(bad[i], &sig, err, sizeof(err)) == -EINVAL, "%s", bad[i]);
	ck_assert_ptr_nonnull(strstr(err, "invalid signal"));
}
END_TEST

START_TEST(users)
{
	uint32_t uid = 7, gid = 7;
	bool has_gid = true;
	static const char *const bad[] = {
		"", "abc", "1000:", ":5", "1000:x", "4294967296", "1:2:3", "-1", "root", "1000 ",
		"123456789012345678901234567890123",
	};

	ck_assert_int_eq(cli_parse_user("1000", &uid, &gid, &has_gid, err, sizeof(err)), 0);
	ck_assert_uint_eq(uid, 1000);
	ck_assert(!has_gid);
	ck_assert_int_eq(cli_parse_user("1000:100", &uid, &gid, &has_gid, err, sizeof(err)), 0);
	ck_assert_uint_eq(uid, 1000);
	ck_assert_uint_eq(gid, 100);
	ck_assert(has_gid);
	ck_assert_int_eq(cli_parse_user("0:0", &uid, &gid, &has_gid, err, sizeof(err)), 0);
	ck_assert_uint_eq(uid, 0);
	ck_assert_uint_eq(gid, 0);
	ck_assert_int_eq(cli_parse_user("4294967295:4294967295", &uid, &gid, &has_gid, err, sizeof(err)), 0);
	ck_assert_uint_eq(uid, 4294967295u);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cli_parse_user(bad[i], &uid, &gid, &has_gid, err, sizeof(err)) == -EINVAL,
			      "%s", bad[i]);
}
END_TEST

START_TEST(ids)
{
	char long_id[100];

	ck_assert_int_eq(cli_check_id("id", "t1", err, sizeof(err)), 0);
	ck_assert_int_eq(cli_check_id("id", "A.b_c-9", err, sizeof(err)), 0);
	ck_assert_int_eq(cli_check_id("id", "bad/id", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid id \"bad/id\": must match [A-Za-z0-9][A-Za-z0-9_.-]{0,75}");
	ck_assert_int_eq(cli_check_id("id", "a\nb", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid id \"a\\x0ab\": must match [A-Za-z0-9][A-Za-z0-9_.-]{0,75}");
	ck_assert_int_eq(cli_check_id("id", "", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(cli_check_id("id", ".x", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(cli_check_id("id", "..", err, sizeof(err)), -EINVAL);
	memset(long_id, 'a', 76);
	long_id[76] = '\0';
	ck_assert_int_eq(cli_check_id("id", long_id, err, sizeof(err)), 0);
	long_id[76] = 'a';
	long_id[77] = '\0';
	ck_assert_int_eq(cli_check_id("id", long_id, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(cli_check_id("namespace", "x y", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid namespace \"x y\": must match [A-Za-z0-9][A-Za-z0-9_.-]{0,75}");
}
END_TEST

START_TEST(run_env_accumulates)
{
	char **v = ARGV("run", "-e", "A=1", "--env", "B=2", "-eC=3", "--env=D=4", "-e", "E=",
			"-e", "FROM_ENV", "-e", "UNSET_X", "t1", "echo", "-e", "x");
	struct run_opts o;

	setenv("FROM_ENV", "hello world", 1);
	unsetenv("UNSET_X");
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.env_count, 6);
	ck_assert_str_eq(o.env[0], "A=1");
	ck_assert_str_eq(o.env[1], "B=2");
	ck_assert_str_eq(o.env[2], "C=3");
	ck_assert_str_eq(o.env[3], "D=4");
	ck_assert_str_eq(o.env[4], "E=");
	ck_assert_str_eq(o.env[5], "FROM_ENV=hello world");
	ck_assert_str_eq(o.id, "t1");
	/* options stop at the ID: the command keeps its own -e */
	ck_assert_uint_eq(o.args_count, 3);
	ck_assert_str_eq(o.args[0], "echo");
	ck_assert_str_eq(o.args[1], "-e");
	run_opts_free(&o);

	v = ARGV("run", "-e", "=x", "t1");
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "invalid -e"));
	run_opts_free(&o);
}
END_TEST

START_TEST(run_options)
{
	char **v = ARGV("run", "--rm", "--rootfs", "/srv/r", "--cwd=/tmp", "-u", "5:6", "--hostname",
			"h1", "--net", "none", "t2");
	struct run_opts o;
	sv_CtlCreateRequest req;

	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert(o.rm && !o.detach);
	ck_assert_str_eq(o.rootfs, "/srv/r");
	ck_assert_str_eq(o.cwd, "/tmp");
	ck_assert_str_eq(o.hostname, "h1");
	ck_assert_str_eq(o.net, "none");
	ck_assert(o.set_user && o.has_gid);
	ck_assert_uint_eq(o.uid, 5);
	ck_assert_uint_eq(o.gid, 6);
	ck_assert_uint_eq(o.args_count, 0);
	run_opts_free(&o);

	/* no CMD: /bin/sh; create is detached; -d alone */
	v = ARGV("create", "t3");
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, true, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(run_opts_request(&o, &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.id, "t3");
	ck_assert_uint_eq(req.args_count, 1);
	ck_assert_str_eq(req.args[0], "/bin/sh");
	ck_assert(req.detach);
	ck_assert(!req.set_user);
	run_opts_free(&o);

	v = ARGV("run", "-d", "t4", "sleep", "1");
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(run_opts_request(&o, &req, err, sizeof(err)), 0);
	ck_assert(req.detach);
	ck_assert(!req.auto_remove);
	ck_assert_uint_eq(req.args_count, 2);
	run_opts_free(&o);

	/* run --rm -d: the daemon removes it once it exits */
	v = ARGV("run", "--rm", "-d", "t5", "true");
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(run_opts_request(&o, &req, err, sizeof(err)), 0);
	ck_assert(req.detach && req.auto_remove);
	run_opts_free(&o);

	v = ARGV("run", "-u", "0", "t5", "true");   /* no GID: the host's passwd says root's */
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(run_opts_request(&o, &req, err, sizeof(err)), 0);
	ck_assert(req.set_user && !req.detach);
	ck_assert_uint_eq(req.uid, 0);
	ck_assert_uint_eq(req.gid, 0);
	run_opts_free(&o);
}
END_TEST

/* v[0] "exec" is parsed as exec, any other as run or create. */
static void expect_run(char **v, int argc, bool create, int want, const char *msg)
{
	struct run_opts o;

	if (strcmp(v[0], "exec") == 0)
		ck_assert_int_eq(cli_parse_exec(argc, v, &o, err, sizeof(err)), want);
	else
		ck_assert_int_eq(cli_parse_run(argc, v, create, &o, err, sizeof(err)), want);
	ck_assert_msg(strstr(err, msg) != NULL, "\"%s\" lacks \"%s\"", err, msg);
	run_opts_free(&o);
}
#define EXPECT_RUN(create, want, msg, ...) \
	do { char **v_ = ARGV(__VA_ARGS__); expect_run(v_, ARGC(v_), create, want, msg); } while (0)
#define EXPECT_EXEC(want, msg, ...) EXPECT_RUN(false, want, msg, "exec", __VA_ARGS__)

START_TEST(run_refusals)
{
	EXPECT_RUN(false, -EINVAL, "missing ID", "run", "--rm");
	EXPECT_RUN(false, -EINVAL, "invalid id \"../x\"", "run", "../x", "true");
	EXPECT_RUN(false, -EINVAL, "unknown option --bogus", "run", "--bogus", "t1");
	EXPECT_RUN(false, -EINVAL, "unknown option -z", "run", "-z", "t1");
	EXPECT_RUN(false, -EINVAL, "option --rootfs needs a value", "run", "--rootfs");
	EXPECT_RUN(false, -EINVAL, "option -e needs a value", "run", "-e");
	EXPECT_RUN(false, -EINVAL, "takes no value", "run", "--rm=yes", "t1");
	EXPECT_RUN(false, -EINVAL, "exclude each other", "run", "--rootfs", "/a", "--bundle", "/b", "t1");
	EXPECT_RUN(false, -EINVAL, "invalid --net", "run", "--net", "wifi", "t1");
	EXPECT_RUN(false, -EINVAL, "-u NAME with --bundle", "run", "--bundle", "/b", "-u", "bob", "t1");
	EXPECT_EXEC(-EINVAL, "exec: invalid user \"bob\"", "-u", "bob", "t1", "true");
	EXPECT_RUN(true, -EINVAL, "only for run", "create", "-d", "t1");
	EXPECT_RUN(true, -EINVAL, "only for run", "create", "--rm", "t1");
	EXPECT_RUN(false, -EINVAL, "run: invalid --detach-keys \"ctrl-1\"", "run", "-t",
		   "--detach-keys", "ctrl-1", "t1");
	EXPECT_RUN(false, -EINVAL, "run: --restart with -t: conflicting options", "run", "-d", "-t",
		   "--restart", "always", "t1");
	EXPECT_RUN(false, -EINVAL, "run: invalid --memory \"1x\"", "run", "--memory", "1x", "t1");
	EXPECT_RUN(true, -EINVAL, "create: invalid --pids \"0\": must be > 0",
		   "create", "--pids", "0", "t1");
	EXPECT_RUN(false, -EINVAL, "run: invalid --cpus \"0.0005\": at most 3 decimals",
		   "run", "--cpus", "0.0005", "t1");
	EXPECT_RUN(false, -EINVAL, "run: --restart needs -d", "run", "--restart", "always", "t1");
	EXPECT_RUN(false, -EINVAL, "run: --restart with --rm: conflicting options", "run", "--rm",
		   "--restart", "on-failure", "t1");
	EXPECT_RUN(false, -EINVAL, "run: invalid --restart \"sometimes\"", "run", "-d", "--restart",
		   "sometimes", "t1");
	EXPECT_RUN(false, -EINVAL, "run: invalid --restart \"on-failure:0\"", "run", "-d",
		   "--restart", "on-failure:0", "t1");
	EXPECT_RUN(false, -EINVAL, "--net bridge: not supported", "run", "--net", "bridge", "t1");
}
END_TEST

/* spec's options of run/create: mounts, confinement, labels, env files, entrypoint, net */
START_TEST(run_spec_options)
{
	char envf[] = "/tmp/sv-envf.XXXXXX", scf[] = "/tmp/sv-scf.XXXXXX";
	int fd = mkstemp(envf);
	int sfd = mkstemp(scf);
	struct run_opts o;
	sv_CtlCreateRequest req;
	char sc[64], ef[64];

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(sfd, 0);
	ck_assert_int_gt(write(fd, "# c\n\nA=1\n B=2 3\nSV_TEST_ENVF\nA=4\n", 32), 0);
	ck_assert_int_gt(write(sfd, "{}", 2), 0);
	close(fd);
	close(sfd);
	setenv("SV_TEST_ENVF", "cli", 1);
	snprintf(sc, sizeof(sc), "seccomp=%s", scf);
	snprintf(ef, sizeof(ef), "--env-file=%s", envf);
	char **v = ARGV("run", "-v", "/tmp:/mnt:ro", "--mount", "type=bind,src=/tmp,dst=/m,readonly",
			"--mount", "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=755",
			"--tmpfs", "/u:size=1m,exec", "--read-only", "--cap-add", "net_raw",
			"--cap-drop", "all", "--cap-drop", "Cap_Chown", "--security-opt", sc,
			"--security-opt", "no-new-privileges", "--label", "a=b", ef, "-e", "A=5",
			"--entrypoint", "/bin/echo", "-w", "/w", "--net", "/run/netns/x", "-u",
			"0:0", "t1", "hi");

	ck_assert_msg(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(run_opts_request(&o, &req, err, sizeof(err)), 0);
	ck_assert_uint_eq(req.mounts_count, 4);
	ck_assert_str_eq(req.mounts[0].type, "bind");
	ck_assert_str_eq(req.mounts[0].source, "/tmp");
	ck_assert_str_eq(req.mounts[0].destination, "/mnt");
	ck_assert_uint_eq(req.mounts[0].options_count, 2);
	ck_assert_str_eq(req.mounts[0].options[0], "rbind");
	ck_assert_str_eq(req.mounts[0].options[1], "ro");
	ck_assert_str_eq(req.mounts[1].destination, "/m");
	ck_assert_str_eq(req.mounts[1].options[0], "ro");
	ck_assert_str_eq(req.mounts[2].type, "tmpfs");
	ck_assert_ptr_null(req.mounts[2].source);
	ck_assert_uint_eq(req.mounts[2].options_count, 3);
	ck_assert_str_eq(req.mounts[2].options[1], "size=1048576");
	ck_assert_str_eq(req.mounts[2].options[2], "mode=755");
	ck_assert_uint_eq(req.mounts[3].options_count, 3);
	ck_assert_str_eq(req.mounts[3].options[0], "noexec");
	ck_assert_str_eq(req.mounts[3].options[2], "exec");
	ck_assert(req.read_only);
	ck_assert_uint_eq(req.cap_add_count, 1);
	ck_assert_str_eq(req.cap_add[0], "CAP_NET_RAW");
	ck_assert_uint_eq(req.cap_drop_count, 2);
	ck_assert_str_eq(req.cap_drop[0], "ALL");
	ck_assert_str_eq(req.cap_drop[1], "CAP_CHOWN");
	ck_assert_str_eq(req.seccomp, "profile");
	ck_assert_uint_eq(req.seccomp_profile->size, 2);
	ck_assert_uint_eq(req.labels_count, 1);
	ck_assert_str_eq(req.labels[0], "a=b");
	/* the file's, then -e's; a name again replaces its value in place */
	ck_assert_uint_eq(req.env_count, 3);
	ck_assert_str_eq(req.env[0], "A=5");
	ck_assert_str_eq(req.env[1], "B=2 3");
	ck_assert_str_eq(req.env[2], "SV_TEST_ENVF=cli");
	ck_assert_uint_eq(req.args_count, 2);
	ck_assert_str_eq(req.args[0], "/bin/echo");
	ck_assert_str_eq(req.args[1], "hi");
	ck_assert_str_eq(req.cwd, "/w");
	ck_assert_str_eq(req.net, "/run/netns/x");
	run_opts_free(&o);

	v = ARGV("run", "--security-opt", "seccomp=unconfined", "--entrypoint", "/bin/true", "t2");
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(run_opts_request(&o, &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.seccomp, "unconfined");
	ck_assert_ptr_null(req.seccomp_profile);
	ck_assert_uint_eq(req.args_count, 1);
	ck_assert_str_eq(req.args[0], "/bin/true");
	run_opts_free(&o);

	EXPECT_RUN(false, -EINVAL, "run: invalid -v \"/tmp\": want SRC:DST", "run", "-v", "/tmp", "t1");
	EXPECT_RUN(false, -EINVAL, "mode \"rx\": want ro or rw", "run", "-v", "/tmp:/m:rx", "t1");
	EXPECT_RUN(false, -EINVAL, "no named volumes", "run", "-v", "vol:/m", "t1");
	EXPECT_RUN(false, -ENOENT, "bind source /nonexistent-sv: No such file", "run", "-v",
		   "/nonexistent-sv:/m", "t1");
	EXPECT_RUN(false, -EINVAL, "destination \"rel\": not an absolute path", "run", "-v",
		   "/tmp:rel", "t1");
	EXPECT_RUN(false, -EINVAL, "want type=bind or type=tmpfs", "run", "--mount",
		   "type=volume,target=/m", "t1");
	EXPECT_RUN(false, -EINVAL, "a bind wants source and target", "run", "--mount",
		   "type=bind,target=/m", "t1");
	EXPECT_RUN(false, -EINVAL, "a tmpfs wants a target and no source", "run", "--mount",
		   "type=tmpfs,source=/tmp,target=/m", "t1");
	EXPECT_RUN(false, -EINVAL, "bind-propagation=shared: want type", "run", "--mount",
		   "type=bind,source=/tmp,target=/m,bind-propagation=shared", "t1");
	EXPECT_RUN(false, -EINVAL, "tmpfs-mode=9", "run", "--mount", "type=tmpfs,target=/m,tmpfs-mode=9", "t1");
	EXPECT_RUN(false, -EINVAL, "invalid --cap-add \"bad-cap\"", "run", "--cap-add", "bad-cap", "t1");
	EXPECT_RUN(false, -EINVAL, "--security-opt \"apparmor=x\": not supported", "run",
		   "--security-opt", "apparmor=x", "t1");
	EXPECT_RUN(false, -EINVAL, "no-new-privileges is always on", "run", "--security-opt",
		   "no-new-privileges=false", "t1");
	EXPECT_RUN(false, -ENOENT, "seccomp=/nonexistent-sv: No such file", "run", "--security-opt",
		   "seccomp=/nonexistent-sv", "t1");
	EXPECT_RUN(false, -EINVAL, "invalid --label \"=v\"", "run", "--label", "=v", "t1");
	EXPECT_RUN(false, -EINVAL, "invalid --label \"k\": want K=V", "run", "--label", "k", "t1");
	EXPECT_RUN(false, -ENOENT, "--env-file /nonexistent-sv: No such file", "run", "--env-file",
		   "/nonexistent-sv", "t1");
	EXPECT_RUN(false, -EINVAL, "invalid --net \"rel/ns\"", "run", "--net", "rel/ns", "t1");
	EXPECT_RUN(false, -EINVAL, "-v/--mount/--tmpfs with --bundle", "run", "--bundle", "/b",
		   "--tmpfs", "/t", "t1");
	EXPECT_RUN(false, -EINVAL, "--cap-drop with --bundle", "run", "--bundle", "/b",
		   "--cap-drop", "ALL", "t1");
	unlink(envf);
	unlink(scf);
}
END_TEST

START_TEST(exec_options)
{
	char **v = ARGV("exec", "-d", "--exec-id", "e.1", "-e", "A=1", "--env=B=2", "--cwd", "/w",
			"-u", "5:6", "t1", "sh", "-e", "-c", "x");
	struct run_opts o;
	char want[32];

	ck_assert_int_eq(cli_parse_exec(ARGC(v), v, &o, err, sizeof(err)), 0);
	ck_assert(o.detach);
	ck_assert_str_eq(o.exec_id, "e.1");
	ck_assert_uint_eq(o.env_count, 2);
	ck_assert_str_eq(o.env[1], "B=2");
	ck_assert_str_eq(o.cwd, "/w");
	ck_assert(o.set_user && o.has_gid);
	ck_assert_uint_eq(o.uid, 5);
	ck_assert_uint_eq(o.gid, 6);
	ck_assert_str_eq(o.id, "t1");
	/* options stop at the ID: the command keeps its own -e */
	ck_assert_uint_eq(o.args_count, 4);
	ck_assert_str_eq(o.args[1], "-e");
	run_opts_free(&o);

	/* attached by default; the exec id is "exec-<our pid>"; -u without GID: 0 */
	v = ARGV("exec", "--user", "7", "t1", "true");
	ck_assert_int_eq(cli_parse_exec(ARGC(v), v, &o, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "exec-%d", (int)getpid());
	ck_assert(!o.detach);
	ck_assert_str_eq(o.exec_id, want);
	ck_assert(o.set_user && !o.has_gid);
	ck_assert_uint_eq(o.uid, 7);
	ck_assert_uint_eq(o.gid, 0);
	ck_assert_uint_eq(o.args_count, 1);
	run_opts_free(&o);
}
END_TEST

START_TEST(tty_options)
{
	char **v = ARGV("run", "-ti", "--detach-keys", "ctrl-a,d", "t1", "sh");
	struct run_opts o;

	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert(o.tty && o.interactive);
	ck_assert_str_eq(o.detach_keys, "ctrl-a,d");
	run_opts_free(&o);
	v = ARGV("create", "-t", "t1");
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, true, &o, err, sizeof(err)), 0);
	ck_assert(o.tty && !o.interactive);
	run_opts_free(&o);
	v = ARGV("exec", "-t", "-i", "t1", "sh");
	ck_assert_int_eq(cli_parse_exec(ARGC(v), v, &o, err, sizeof(err)), 0);
	ck_assert(o.tty && o.interactive && !o.detach);
	run_opts_free(&o);
}
END_TEST

/* docker's --detach-keys: each key a character or ctrl-X */
START_TEST(detach_keys_parse)
{
	static const struct { const char *in; const char *want; size_t n; } ok[] = {
		{ "ctrl-p,ctrl-q", "\x10\x11", 2 }, { "ctrl-a,d", "\x01" "d", 2 }, { "x", "x", 1 },
		{ "ctrl-@", "\0", 1 }, { "ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", "\x1b\x1c\x1d\x1e\x1f", 5 },
		{ "ctrl-z,ctrl-z,Q", "\x1a\x1aQ", 3 },
	};
	static const char *const bad[] = {
		"", ",", "ctrl-p,", ",ctrl-q", "ctrl-", "ctrl-1", "ctrl-P", "ctrl-pq", "ab", " ",
		"ctrl-p,,ctrl-q", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q",
	};
	struct tty_keys k;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(tty_parse_detach_keys(ok[i].in, &k, err, sizeof(err)) == 0, "%s", ok[i].in);
		ck_assert_uint_eq(k.n, ok[i].n);
		ck_assert_msg(memcmp(k.seq, ok[i].want, k.n) == 0, "%s", ok[i].in);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(tty_parse_detach_keys(bad[i], &k, err, sizeof(err)) == -EINVAL, "%s", bad[i]);
	ck_assert_ptr_nonnull(strstr(err, "at most 16 keys"));
}
END_TEST

/* The scanner passes everything but the sequence, holds a partial match across reads, and
 * gives back what it held when the match fails. */
START_TEST(detach_keys_scan)
{
	struct tty_keys k;
	char out[64];
	bool det;
	size_t n;

	ck_assert_int_eq(tty_parse_detach_keys("ctrl-p,ctrl-q", &k, err, sizeof(err)), 0);
	n = tty_keys_scan(&k, "ab\x10" "c", 4, out, &det);          /* ^P then c: both pass */
	ck_assert(!det);
	ck_assert_uint_eq(n, 4);
	ck_assert(memcmp(out, "ab\x10" "c", 4) == 0);
	n = tty_keys_scan(&k, "x\x10", 2, out, &det);            /* ^P held at the end */
	ck_assert(!det);
	ck_assert_uint_eq(n, 1);
	n = tty_keys_scan(&k, "\x10", 1, out, &det);             /* ^P ^P: the first goes */
	ck_assert(!det);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0], 0x10);
	n = tty_keys_scan(&k, "\x11tail", 5, out, &det);         /* ... ^Q: detach */
	ck_assert(det);
	ck_assert_uint_eq(n, 0);
	n = tty_keys_scan(&k, "a\x10\x11", 3, out, &det);       /* in one read */
	ck_assert(det);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0], 'a');
	k.n = 0;                                                /* no keys: all passes */
	n = tty_keys_scan(&k, "\x10\x11", 2, out, &det);
	ck_assert(!det);
	ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(exec_refusals)
{
	EXPECT_EXEC(-EINVAL, "exec: missing ID (usage: exec [-d] [-t [-i]] [--exec-id E]", "-d");
	EXPECT_EXEC(-EINVAL, "exec: missing CMD (usage: exec [-d]", "t1");
	EXPECT_EXEC(-EINVAL, "invalid id \"a/b\"", "a/b", "true");
	EXPECT_EXEC(-EINVAL, "invalid exec id \"../e\"", "--exec-id", "../e", "t1", "true");
	EXPECT_EXEC(-EINVAL, "invalid exec id \"\"", "--exec-id=", "t1", "true");
	EXPECT_EXEC(-EINVAL, "exec: -d with -t: conflicting options", "-dt", "t1", "sh");
	EXPECT_EXEC(-EINVAL, "exec: invalid --detach-keys \"\"", "-t", "--detach-keys=", "t1", "sh");
	EXPECT_EXEC(-EINVAL, "exec: unknown option --rm", "--rm", "t1", "true");
	EXPECT_EXEC(-EINVAL, "exec: unknown option --rootfs", "--rootfs", "/r", "t1", "true");
	EXPECT_EXEC(-EINVAL, "exec: invalid user \"bob\"", "-u", "bob", "t1", "true");
	EXPECT_EXEC(-EINVAL, "exec: invalid -e", "-e", "=1", "t1", "true");
	EXPECT_EXEC(-EINVAL, "option --exec-id needs a value", "--exec-id");
}
END_TEST

/* Each input of a parser table: accepted with the value wanted, or refused with a message
 * that holds `why`. */
struct num_case { const char *in; int64_t want; const char *why; };
typedef int (*i64_parser)(const char *s, int64_t *v, char *err, size_t errsz);

static void check_i64(i64_parser parse, const struct num_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int64_t v = -7;
		int rc = parse(t[i].in, &v, err, sizeof(err));

		if (!t[i].why) {
			ck_assert_msg(rc == 0, "\"%s\": %d %s", t[i].in, rc, err);
			ck_assert_msg(v == t[i].want, "\"%s\": %lld", t[i].in, (long long)v);
			continue;
		}
		ck_assert_msg(rc == -EINVAL, "\"%s\" accepted", t[i].in);
		ck_assert_msg(v == -7, "\"%s\" wrote %lld", t[i].in, (long long)v);
		ck_assert_msg(strstr(err, t[i].why) != NULL, "\"%s\": %s", t[i].in, err);
	}
}

START_TEST(memory_sizes)
{
	static const struct num_case t[] = {
		{ "1", 1, NULL }, { "4096", 4096, NULL }, { "007", 7, NULL },
		{ "1k", 1024, NULL }, { "1K", 1024, NULL }, { "64m", 67108864, NULL },
		{ "64M", 67108864, NULL }, { "2g", 2147483648LL, NULL }, { "2G", 2147483648LL, NULL },
		{ "9223372036854775807", INT64_MAX, NULL },
		{ "8589934591g", 8589934591LL << 30, NULL },
		{ "0", 0, "must be > 0" }, { "0k", 0, "must be > 0" },
		{ "-1", 0, "want bytes" }, { "", 0, "want bytes" }, { "k", 0, "want bytes" },
		{ "64x", 0, "want bytes" }, { "64mb", 0, "want bytes" }, { "1.5g", 0, "want bytes" },
		{ " 64", 0, "want bytes" }, { "64 ", 0, "want bytes" }, { "+64", 0, "want bytes" },
		{ "1t", 0, "want bytes" }, { "0x10", 0, "want bytes" },
		{ "9223372036854775808", 0, "too large" }, { "99999999999999999999", 0, "too large" },
		{ "8589934592g", 0, "too large" }, { "9007199254740992k", 0, "too large" },
	};

	check_i64(cli_parse_bytes, t, sizeof(t) / sizeof(t[0]));
	ck_assert_int_eq(cli_parse_bytes("64x", &(int64_t){ 0 }, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid --memory \"64x\": want bytes, with an optional k, m or g "
			      "suffix (64m)");
}
END_TEST

START_TEST(pids_counts)
{
	static const struct num_case t[] = {
		{ "1", 1, NULL }, { "100", 100, NULL }, { "9223372036854775807", INT64_MAX, NULL },
		{ "0", 0, "must be > 0" }, { "-1", 0, "want a whole number" },
		{ "", 0, "want a whole number" }, { "1k", 0, "want a whole number" },
		{ "1.0", 0, "want a whole number" }, { "ten", 0, "want a whole number" },
		{ "9223372036854775808", 0, "too large" }, { "18446744073709551616", 0, "too large" },
	};

	check_i64(cli_parse_pids, t, sizeof(t) / sizeof(t[0]));
	ck_assert_int_eq(cli_parse_pids("0", &(int64_t){ 0 }, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid --pids \"0\": must be > 0");
}
END_TEST

START_TEST(cpus_decimals)
{
	static const struct { const char *in; uint32_t want; } ok[] = {
		{ "1", 1000 }, { "0.5", 500 }, { "1.25", 1250 }, { "0.001", 1 }, { "2.125", 2125 },
		{ "1.0", 1000 }, { "0.10", 100 }, { "003", 3000 }, { "1024", 1024000 },
		{ "1024.000", 1024000 },
	};
	static const struct num_case bad[] = {
		{ "0", 0, "must be > 0" }, { "0.000", 0, "must be > 0" },
		{ "0.0005", 0, "at most 3 decimals" }, { "1.2500", 0, "at most 3 decimals" },
		{ "1024.001", 0, "too large (at most 1024)" }, { "1025", 0, "too large" },
		{ "99999999999999999999", 0, "too large" }, { "18446744073709552", 0, "too large" },
		{ "-1", 0, "want a number of CPUs" }, { "", 0, "want a number of CPUs" },
		{ ".5", 0, "want a number of CPUs" }, { "1.", 0, "want a number of CPUs" },
		{ "1,5", 0, "want a number of CPUs" }, { "1e3", 0, "want a number of CPUs" },
		{ "0.5x", 0, "want a number of CPUs" }, { "two", 0, "want a number of CPUs" },
		{ "1.2.3", 0, "want a number of CPUs" },
	};
	uint32_t m;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		m = 7;
		ck_assert_msg(cli_parse_cpus(ok[i].in, &m, err, sizeof(err)) == 0, "%s: %s",
			      ok[i].in, err);
		ck_assert_msg(m == ok[i].want, "%s: %u", ok[i].in, m);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = 7;
		ck_assert_msg(cli_parse_cpus(bad[i].in, &m, err, sizeof(err)) == -EINVAL,
			      "\"%s\" accepted", bad[i].in);
		ck_assert_uint_eq(m, 7);
		ck_assert_msg(strstr(err, bad[i].why) != NULL, "\"%s\": %s", bad[i].in, err);
	}
	ck_assert_int_eq(cli_parse_cpus("1025", &m, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid --cpus \"1025\": too large (at most 1024)");
}
END_TEST

START_TEST(run_limits_fill_the_request)
{
	static const struct { const char *argv[9]; int64_t memory, pids; uint32_t cpus; } t[] = {
		{ { "run", "--memory", "64m", "--pids=50", "--cpus", "1.5", "t1", "true" },
		  67108864, 50, 1500 },
		{ { "create", "--cpus", "0.25", "t2" }, 0, 0, 250 },   /* create too; 0 = none */
		{ { "run", "--memory=1", "--memory", "2k", "t3" }, 2048, 0, 0 },   /* last wins */
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char **v = (char **)t[i].argv;
		bool create = strcmp(v[0], "create") == 0;
		sv_CtlCreateRequest req;
		struct run_opts o;

		ck_assert_int_eq(cli_parse_run(ARGC(v), v, create, &o, err, sizeof(err)), 0);
		ck_assert_int_eq(run_opts_request(&o, &req, err, sizeof(err)), 0);
		ck_assert_int_eq(req.memory, t[i].memory);
		ck_assert_int_eq(req.pids, t[i].pids);
		ck_assert_uint_eq(req.cpus_milli, t[i].cpus);
		run_opts_free(&o);
	}
}
END_TEST

START_TEST(short_clusters_and_dashdash)
{
	char **v = ARGV("run", "-de", "K=V", "--", "-notanopt");
	struct run_opts o;

	/* "-de K=V": -d then -e with the next word; after "--" the ID may not be an option */
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "invalid id \"-notanopt\""));
	run_opts_free(&o);
	v = ARGV("run", "-de", "K=V", "--", "t9", "--rm");
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert(o.detach && !o.rm);
	ck_assert_uint_eq(o.env_count, 1);
	ck_assert_str_eq(o.args[0], "--rm");
	run_opts_free(&o);
}
END_TEST

START_TEST(bundle_is_read)
{
	char dir[] = "/tmp/svtest-bundle.XXXXXX", path[64], *cwd;
	static const char cfg[] = "{\"ociVersion\":\"1.0.2\"}";
	char **v;
	struct run_opts o;
	sv_CtlCreateRequest req;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, cfg, sizeof(cfg) - 1), (ssize_t)sizeof(cfg) - 1);
	close(fd);
	/* a relative DIR becomes absolute */
	cwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir("/tmp"), 0);
	v = ARGV("run", "--bundle", dir + 5, "b1");
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(run_opts_request(&o, &req, err, sizeof(err)), 0);
	ck_assert_str_eq(req.bundle_dir, dir);
	ck_assert_uint_eq(req.bundle_config->size, sizeof(cfg) - 1);
	ck_assert_mem_eq(req.bundle_config->bytes, cfg, sizeof(cfg) - 1);
	run_opts_free(&o);

	/* over SV_CONFIG_MAX: refused */
	ck_assert_int_eq(truncate(path, SV_CONFIG_MAX + 1), 0);
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(run_opts_request(&o, &req, err, sizeof(err)), -EFBIG);
	ck_assert_ptr_nonnull(strstr(err, "larger than"));
	run_opts_free(&o);
	unlink(path);
	rmdir(dir);
	v = ARGV("run", "--bundle", "/nonexistent/b", "b1");
	ck_assert_int_eq(cli_parse_run(ARGC(v), v, false, &o, err, sizeof(err)), 0);
	ck_assert_int_eq(run_opts_request(&o, &req, err, sizeof(err)), -ENOENT);
	run_opts_free(&o);
	ck_assert_int_eq(chdir(cwd), 0);
	free(cwd);
}
END_TEST

/* A listening socket no one should connect to, and stderr captured. */
static int listener(char *path, size_t sz)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(path, sz, "/tmp/svtest-sock.%d", (int)getpid());
	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

static void no_connection(int lfd)
{
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	ck_assert_int_eq(c, -1);
	ck_assert_int_eq(errno, EAGAIN);
}

typedef int (*cmd_fn)(const struct cli *g, int argc, char **argv);

START_TEST(bad_ids_never_connect)
{
	static const struct { cmd_fn fn; const char *name; } cmds[] = {
		{ cmd_run, "run" }, { cmd_create, "create" }, { cmd_start, "start" },
		{ cmd_kill, "kill" }, { cmd_wait, "wait" }, { cmd_delete, "delete" },
		{ cmd_state, "state" }, { cmd_ps, "ps" }, { cmd_pause, "pause" },
		{ cmd_resume, "resume" }, { cmd_stats, "stats" }, { cmd_update, "update" },
		{ cmd_exec, "exec" }, { cmd_attach, "attach" },
	};
	static const struct { cmd_fn fn; const char *argv[6]; const char *line; } usage[] = {
		{ cmd_update, { "update", "t1" }, "shimvisor: update: nothing to change (usage: "
		  "update ID [--memory BYTES] [--pids N] [--cpus N])\n" },
		{ cmd_update, { "update", "t1", "--memory", "0" },
		  "shimvisor: update: invalid --memory \"0\": must be > 0\n" },
		{ cmd_update, { "update", "--cpus=0.0005", "t1" },
		  "shimvisor: update: invalid --cpus \"0.0005\": at most 3 decimals\n" },
		{ cmd_update, { "update", "t1", "--pids", "x" },
		  "shimvisor: update: invalid --pids \"x\": want a whole number\n" },
		{ cmd_stats, { "stats", "t1", "--format", "yaml" },
		  "shimvisor: invalid --format \"yaml\": want json\n" },
		{ cmd_pause, { "pause", "t1", "t2" },
		  "shimvisor: pause: too many arguments (usage: pause ID)\n" },
		{ cmd_resume, { "resume" }, "shimvisor: resume: missing ID (usage: resume ID)\n" },
		{ cmd_exec, { "exec", "-d" }, "shimvisor: exec: missing ID (usage: " CLI_EXEC_USAGE ")\n" },
		{ cmd_exec, { "exec", "t1" }, "shimvisor: exec: missing CMD (usage: " CLI_EXEC_USAGE ")\n" },
		{ cmd_exec, { "exec", "--exec-id", "a b", "t1", "true" },
		  "shimvisor: invalid exec id \"a b\": must match [A-Za-z0-9][A-Za-z0-9_.-]{0,75}\n" },
		{ cmd_exec, { "exec", "-t", "-d", "t1", "sh" }, "shimvisor: exec: -d with -t: conflicting "
		  "options (a detached exec has no stdio; a terminal needs a client)\n" },
		{ cmd_attach, { "attach" }, "shimvisor: attach: missing ID (usage: attach [--exec-id E] "
		  "[--detach-keys K] ID)\n" },
		{ cmd_attach, { "attach", "--detach-keys", "ctrl-", "t1" }, "shimvisor: attach: invalid "
		  "--detach-keys \"ctrl-\": want keys such as ctrl-p,ctrl-q: a character or ctrl-X (X "
		  "one of a-z @ [ \\ ] ^ _), comma-separated\n" },
	};
	char path[108], line[512];
	struct cli g = { .ns = "default" };
	int lfd = listener(path, sizeof(path)), p[2];
	FILE *f;

	g.address = path;
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char **v = ARGV((char *)cmds[i].name, "bad/id");

		ck_assert_int_eq(cmds[i].fn(&g, 2, v), CLI_EXIT_USAGE);
		no_connection(lfd);
	}
	{       /* delete checks every id before it connects */
		char **v = ARGV("delete", "good", "bad id");

		ck_assert_int_eq(cmd_delete(&g, ARGC(v), v), CLI_EXIT_USAGE);
		no_connection(lfd);
	}
	{
		char **v = ARGV("kill", "-s", "NOPE", "t1");

		ck_assert_int_eq(cmd_kill(&g, ARGC(v), v), CLI_EXIT_USAGE);
		no_connection(lfd);
	}
	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++) {
		char **v = (char **)usage[i].argv;

		ck_assert_int_eq(usage[i].fn(&g, ARGC(v), v), CLI_EXIT_USAGE);
		no_connection(lfd);
	}
	close(p[1]);
	close(STDERR_FILENO);
	f = fdopen(p[0], "r");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
		ck_assert_str_eq(line, "shimvisor: invalid id \"bad/id\": must match "
				       "[A-Za-z0-9][A-Za-z0-9_.-]{0,75}\n");
	}
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_str_eq(line, "shimvisor: invalid id \"bad id\": must match "
			       "[A-Za-z0-9][A-Za-z0-9_.-]{0,75}\n");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_ptr_nonnull(strstr(line, "shimvisor: kill: invalid signal \"NOPE\""));
	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++) {
		ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
		ck_assert_str_eq(line, usage[i].line);
	}
	ck_assert_ptr_null(fgets(line, sizeof(line), f));
	fclose(f);
	close(lfd);
	unlink(path);
}
END_TEST

START_TEST(generic_scanner)
{
	static const struct opt_def defs[] = {
		{ "format", 0, true, 'f' }, { "quiet", 'q', false, 'q' }, { "signal", 's', true, 's' },
		{ "sixteen-byte-opt", 'X', false, 'x' },   /* fills lng: no NUL, 'X' after it */
		{ "", 0, false, 0 },
	};
	char **v = ARGV("ls", "-qsKILL", "--format", "json", "-", "x");
	struct opt_scan s;
	const char *arg;

	opt_init(&s, ARGC(v), v, "ls");
	ck_assert_int_eq(opt_next(&s, defs, &arg), 'q');
	ck_assert_int_eq(opt_next(&s, defs, &arg), 's');
	ck_assert_str_eq(arg, "KILL");
	ck_assert_int_eq(opt_next(&s, defs, &arg), 'f');
	ck_assert_str_eq(arg, "json");
	ck_assert_int_eq(opt_next(&s, defs, &arg), 0);
	ck_assert_int_eq(s.i, 4);           /* "-" is an operand */
	/* permuting (all commands but run/create): options after operands, "--" ends them */
	v = ARGV("state", "t1", "--format", "json", "t2", "-q", "--", "-q");
	ck_assert_int_eq(opt_init_permute(&s, ARGC(v), v, "state"), 0);
	ck_assert_int_eq(opt_next(&s, defs, &arg), 'f');
	ck_assert_str_eq(arg, "json");
	ck_assert_int_eq(opt_next(&s, defs, &arg), 'q');
	ck_assert_int_eq(opt_next(&s, defs, &arg), 0);
	{
		char **ops;

		ck_assert_int_eq(opt_operands(&s, &ops), 3);
		ck_assert_str_eq(ops[0], "t1");
		ck_assert_str_eq(ops[1], "t2");
		ck_assert_str_eq(ops[2], "-q");
	}
	opt_free(&s);
	v = ARGV("ls", "--form", "json");
	opt_init(&s, ARGC(v), v, "ls");
	ck_assert_int_eq(opt_next(&s, defs, &arg), -1);
	ck_assert_str_eq(s.err, "ls: unknown option --form");
	/* a name as long as lng: matched whole, printed whole, not run on into the next field */
	v = ARGV("ls", "--sixteen-byte-opt", "--sixteen-byte-optx", "x");
	opt_init(&s, ARGC(v), v, "ls");
	ck_assert_int_eq(opt_next(&s, defs, &arg), 'x');
	ck_assert_int_eq(opt_next(&s, defs, &arg), -1);
	ck_assert_str_eq(s.err, "ls: unknown option --sixteen-byte-optx");
	v = ARGV("ls", "--sixteen-byte-opt=1");
	opt_init(&s, ARGC(v), v, "ls");
	ck_assert_int_eq(opt_next(&s, defs, &arg), -1);
	ck_assert_str_eq(s.err, "ls: option --sixteen-byte-opt takes no value");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client_args");
	TCase *tc = tcase_create("args");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, signals);
	tcase_add_test(tc, users);
	tcase_add_test(tc, ids);
	tcase_add_test(tc, run_env_accumulates);
	tcase_add_test(tc, run_options);
	tcase_add_test(tc, run_refusals);
	tcase_add_test(tc, run_spec_options);
	tcase_add_test(tc, exec_options);
	tcase_add_test(tc, exec_refusals);
	tcase_add_test(tc, tty_options);
	tcase_add_test(tc, detach_keys_parse);
	tcase_add_test(tc, detach_keys_scan);
	tcase_add_test(tc, memory_sizes);
	tcase_add_test(tc, pids_counts);
	tcase_add_test(tc, cpus_decimals);
	tcase_add_test(tc, run_limits_fill_the_request);
	tcase_add_test(tc, short_clusters_and_dashdash);
	tcase_add_test(tc, bundle_is_read);
	tcase_add_test(tc, bad_ids_never_connect);
	tcase_add_test(tc, generic_scanner);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
