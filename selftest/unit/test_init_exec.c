/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_init_exec.c: `shimvisor-init --exec BUNDLE PID` against a real task:
 * the exec joins the task's namespaces and cgroup, runs its own Process under the
 * container's seccomp filter; bad specs and dead tasks give INIT_ERROR. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/fsutil.h"
#include "cgroup_fixture.h"
#include "init_fixture.h"

#define PIDS_ROOT "/sys/fs/cgroup/pids"

/* The container's filter: mkdir fails with EPERM. */
#define SECCOMP_NO_MKDIR \
	",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"," \
	"\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"

/* A running task (cat on a stdin pipe we hold); spec edited by the caller when from != NULL. */
static void start_task(struct run *t, const char *from, const char *to)
{
	char *spec = make_spec("[\"/bin/cat\"]", "", "", SECCOMP_NO_MKDIR);

	if (from)
		spec = spec_replace(spec, from, to);
	launch_opts(t, spec, 1);
	free(spec);
	expect_ready(t);
	start_running(t);
}

/* End the task (EOF on its stdin) and clean up. */
static void stop_task(struct run *t)
{
	int st;

	close(t->in);
	t->in = -1;
	st = wait_exit(t->task);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close_run(t);
}

static char *process_json(const char *script, const char *extra)
{
	return fx_asprintf("{\"args\":[\"/bin/sh\",\"-c\",\"%s\"],"
			   "\"env\":[\"PATH=/usr/bin:/bin\",\"FOO=bar\"],\"cwd\":\"/tmp\"%s}",
			   script, extra);
}

/* Run an exec of script in task t; its output into out; its wait status. */
static int exec_in(struct run *t, const char *script, const char *extra, char *out, size_t sz)
{
	struct run e;
	char *pj = process_json(script, extra);

	launch_exec(&e, t->bundle, t->task, pj);
	free(pj);
	expect_ready(&e);
	return start_and_collect(&e, out, sz);
}

static void ns_link(pid_t pid, const char *ns, char *buf, size_t sz)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns);
	n = readlink(p, buf, sz - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
}

START_TEST(exec_joins_task)
{
	static const char *const ns[] = { "pid", "mnt", "uts", "net", "ipc" };
	struct run t;
	char out[1024], want[1024], link[128];
	size_t l = 0;
	int st;

	start_task(&t, NULL, NULL);
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		ns_link(t.task, ns[i], link, sizeof(link));
		l += (size_t)snprintf(want + l, sizeof(want) - l, "%s\n", link);
	}
	snprintf(want + l, sizeof(want) - l, TEST_HOST "\nbar\n/tmp\n65534\n65534 4242\n"
		 "Seccomp:\t2\ndenied\n");
	st = exec_in(&t, "readlink /proc/self/ns/pid /proc/self/ns/mnt /proc/self/ns/uts "
		     "/proc/self/ns/net /proc/self/ns/ipc; hostname; echo $FOO; pwd; id -u; "
		     "id -G; grep ^Seccomp: /proc/self/status; "
		     "mkdir /tmp/d 2>/dev/null && echo made || echo denied",
		     ",\"user\":{\"uid\":65534,\"gid\":65534,\"additionalGids\":[4242]}",
		     out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, want);
	stop_task(&t);
}
END_TEST

/* The exec's own capabilities, no_new_privs and rlimits, not the task's. */
START_TEST(exec_process_settings)
{
	struct run t;
	char out[256];
	int st;

	start_task(&t, NULL, NULL);
	st = exec_in(&t, "grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status; ulimit -n",
		     ",\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[],"
		     "\"permitted\":[]},\"noNewPrivileges\":true,"
		     "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":123,\"soft\":123}]",
		     out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "CapEff:\t0000000000000000\nCapBnd:\t0000000000000020\n"
			 "NoNewPrivs:\t1\n123\n");
	stop_task(&t);
}
END_TEST

/* A task without a pid namespace: no fork, INIT_PID is the exec's own pid. */
START_TEST(exec_without_pid_namespace)
{
	struct run t, e;
	char out[64], want[32];
	char *pj = process_json("echo $$; hostname", "");
	int st;

	start_task(&t, "{\"type\":\"pid\"},", "");
	launch_exec(&e, t.bundle, t.task, pj);
	free(pj);
	expect_ready(&e);
	ck_assert_int_eq(e.task, e.launcher);
	st = start_and_collect(&e, out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(want, sizeof(want), "%d\n" TEST_HOST "\n", (int)e.launcher);
	ck_assert_str_eq(out, want);
	stop_task(&t);
}
END_TEST

/* A rootfs of its own (static busybox bound in): the exec lands in the container's root,
 * at its cwd there, and finds its program on the container's PATH. */
START_TEST(exec_busybox_rootfs)
{
	struct run t, e;
	char root[64], out[256], *spec, *rootjson;
	int rfd, fd, tmp, st;

	if (access("/bin/busybox", X_OK)) {
		printf("# SKIP exec_busybox_rootfs: no /bin/busybox\n");
		return;
	}
	strcpy(root, "/tmp/sv-init-root-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rfd, 0);
	ck_assert_int_eq(mkdirat(rfd, "bin", 0755), 0);
	ck_assert_int_eq(symlinkat("busybox", rfd, "bin/sh"), 0);
	ck_assert_int_eq(mkdirat(rfd, "work", 0755), 0);
	fd = openat(rfd, "work/marker", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "marked\n", 7), 7);
	close(fd);
	close(rfd);
	spec = make_spec("[\"/bin/busybox\",\"cat\"]", "",
			 ",{\"destination\":\"/bin/busybox\",\"type\":\"bind\","
			 "\"source\":\"/bin/busybox\",\"options\":[\"bind\",\"ro\"]}",
			 SECCOMP_NO_MKDIR);
	rootjson = fx_asprintf("\"root\":{\"path\":\"%s\",\"readonly\":true}", root);
	spec = spec_replace(spec, "\"root\":{\"path\":\"/\",\"readonly\":true}", rootjson);
	free(rootjson);
	launch_opts(&t, spec, 1);
	free(spec);
	expect_ready(&t);
	start_running(&t);

	launch_exec(&e, t.bundle, t.task, "{\"args\":[\"sh\",\"-c\",\"ls /; pwd; cat marker; "
		    "mkdir /tmp/d 2>/dev/null || echo denied\"],"
		    "\"env\":[\"PATH=/bin\"],\"cwd\":\"/work\"}");
	expect_ready(&e);
	st = start_and_collect(&e, out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "bin\ndev\nproc\ntmp\nwork\n/work\nmarked\ndenied\n");
	stop_task(&t);
	tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(tmp, 0);
	ck_assert_int_eq(sv_remove_tree(tmp, root + 5), 0);
	close(tmp);
}
END_TEST

/* The test's pids cgroup (named after the runner, so that teardown can find it). */
static char cg_dir[128];

static void cg_setup(void)
{
	snprintf(cg_dir, sizeof(cg_dir), PIDS_ROOT "/sv-init-exec-test-%d", (int)getpid());
}

/* After a failed test: kill what is left in the cgroup, remove it (best effort). */
static void cg_teardown(void)
{
	char p[192], line[32];
	FILE *f;

	snprintf(p, sizeof(p), "%s/cgroup.procs", cg_dir);
	f = fopen(p, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		kill((pid_t)atoi(line), SIGKILL);
	fclose(f);
	rmdir(cg_dir);
}

static void cg_move(const char *dir, pid_t pid)
{
	char p[192], v[16];
	int fd, l = snprintf(v, sizeof(v), "%d", (int)pid);

	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, v, (size_t)l), l);
	close(fd);
}

START_TEST(exec_joins_cgroup)
{
	struct run t, e;
	char out[64], cg[256], want[256];
	char *pj = process_json("echo in", "");
	int st;

	if (access(PIDS_ROOT "/cgroup.procs", W_OK)) {
		printf("# SKIP exec_joins_cgroup: no writable %s\n", PIDS_ROOT);
		free(pj);
		return;
	}
	ck_assert_int_eq(mkdir(cg_dir, 0755), 0);
	start_task(&t, NULL, NULL);
	cg_move(cg_dir, t.task);
	launch_exec(&e, t.bundle, t.task, pj);
	free(pj);
	expect_ready(&e);
	/* Held before exec, already in the task's cgroup. */
	cgfx_proc_cgroup(e.task, "pids", cg, sizeof(cg));
	snprintf(want, sizeof(want), "/%s", strrchr(cg_dir, '/') + 1);
	ck_assert_str_eq(cg, want);
	st = start_and_collect(&e, out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "in\n");
	stop_task(&t);
	ck_assert_int_eq(rmdir(cg_dir), 0);
}
END_TEST

/* INIT_ERROR for an exec that cannot start; bundle holds a valid config.json. */
static void expect_exec_error(const char *bundle, pid_t pid, const char *pj, int want_err,
			      const char *needle)
{
	struct run e;

	launch_exec(&e, bundle, pid, pj);
	expect_init_error(&e, want_err, needle);
}

/* A bundle with a valid config.json and no task. */
static void idle_bundle(struct run *b)
{
	char *spec = make_spec("[\"/bin/true\"]", "", "", "");

	memset(b, 0, sizeof(*b));
	write_bundle(b, spec);
	free(spec);
}

START_TEST(exec_bad_spec)
{
	struct run b;

	idle_bundle(&b);
	expect_exec_error(b.bundle, getpid(), "{\"args\":[]}", EINVAL,
			  "exec spec: process.args: must name a program");
	expect_exec_error(b.bundle, getpid(), "{\"args\":", EINVAL, "exec spec: not valid JSON");
	expect_exec_error(b.bundle, getpid(), "[\"sh\"]", EINVAL,
			  "exec spec: must be a JSON object");
	expect_exec_error(b.bundle, getpid(), "{\"args\":[\"sh\"],\"cwd\":\"tmp\"}", EINVAL,
			  "exec spec: process.cwd: must be an absolute path");
	cleanup_bundle(&b);
}
END_TEST

START_TEST(exec_dead_task)
{
	struct run b;
	char needle[32];
	pid_t dead = fork();

	ck_assert_int_ge(dead, 0);
	if (dead == 0)
		_exit(0);
	wait_exit(dead);
	idle_bundle(&b);
	snprintf(needle, sizeof(needle), "task %d", (int)dead);
	expect_exec_error(b.bundle, dead, "{\"args\":[\"sh\"]}", ESRCH, needle);
	cleanup_bundle(&b);
}
END_TEST

START_TEST(exec_bundle_without_config)
{
	struct run t;

	start_task(&t, NULL, NULL);
	expect_exec_error("/nonexistent/sv-bundle", t.task, "{\"args\":[\"sh\"]}", ENOENT,
			  "/nonexistent/sv-bundle/config.json");
	stop_task(&t);
}
END_TEST

START_TEST(exec_usage)
{
	struct run e;
	int p[2];

	memset(&e, 0, sizeof(e));
	e.console = -1;
	init_path(e.init, sizeof(e.init));
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	close(p[1]);
	{
		char *argv[] = { e.init, "--exec", "relative", "1", NULL };

		spawn(&e, argv, p[0], 0);
	}
	expect_init_error(&e, EINVAL, "usage");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("init_exec");
	TCase *cg = tcase_create("cgroup");

	if (geteuid() != 0) {
		printf("1..0 # SKIP shimvisor-init needs root (namespaces, mounts)\n");
		return 0;
	}
	SV_TCASE(s, "exec", 20, exec_joins_task, exec_process_settings,
		 exec_without_pid_namespace, exec_busybox_rootfs, exec_bad_spec, exec_dead_task,
		 exec_bundle_without_config, exec_usage);
	tcase_set_timeout(cg, 20);
	tcase_add_unchecked_fixture(cg, cg_setup, cg_teardown);
	tcase_add_test(cg, exec_joins_cgroup);
	suite_add_tcase(s, cg);
	return sv_run_suite(s);
}
