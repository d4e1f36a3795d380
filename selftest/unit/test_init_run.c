/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_init_run.c: runs the real shimvisor-init with a bundle, the fd contract
 * and the PID/READY/START exchange, in real namespaces. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sys/syscall.h>
#include <linux/capability.h>
#include <signal.h>
#include <sched.h>
#include "init_fixture.h"

#define RO_PROBE "/.sv-init-test-ro-probe"

START_TEST(echo_hello_held_until_start)
{
	struct run r;
	char out[256], comm[64];
	struct stat a, b;
	int st, fl;
	char *spec = make_spec("[\"/bin/echo\",\"hello\"]", "", "", "");
	FILE *f;

	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	/* Held: still shimvisor-init, and nothing written. */
	snprintf(out, sizeof(out), "/proc/%d/comm", r.task);
	f = fopen(out, "re");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(comm, sizeof(comm), f));
	fclose(f);
	ck_assert_str_eq(comm, "shimvisor-init\n");
	snprintf(out, sizeof(out), "/proc/%d/exe", r.task);
	ck_assert_int_eq(stat(out, &a), 0);
	ck_assert_int_eq(stat(r.init, &b), 0);
	ck_assert(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	fl = fcntl(r.out, F_GETFL);
	ck_assert_int_eq(fcntl(r.out, F_SETFL, fl | O_NONBLOCK), 0);
	ck_assert_int_eq(read(r.out, out, sizeof(out)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(fcntl(r.out, F_SETFL, fl), 0);

	st = start_and_collect(&r, out, sizeof(out));
	ck_assert_str_eq(out, "hello\n");
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
END_TEST

START_TEST(exit_status)
{
	char out[64];
	int st = run_cmd("[\"/bin/sh\",\"-c\",\"exit 7\"]", "", "", "", out, sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}
END_TEST

START_TEST(uts_hostname)
{
	char out[256];
	int st = run_cmd("[\"hostname\"]", "", "", "", out, sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, TEST_HOST "\n");
}
END_TEST

START_TEST(pid_one)
{
	char out[64];
	int st = run_cmd("[\"/bin/sh\",\"-c\",\"echo $$\"]", "", "", "", out, sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "1\n");
}
END_TEST

START_TEST(readonly_root)
{
	char out[256];
	int st = run_cmd("[\"/bin/sh\",\"-c\",\"touch " RO_PROBE " 2>/dev/null && echo rw || echo ro\"]",
			 "", "", "", out, sizeof(out));

	unlink(RO_PROBE);       /* only there if the test failed */
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "ro\n");
}
END_TEST

START_TEST(tmp_writable_tmpfs)
{
	char out[256];
	int st = run_cmd("[\"/bin/sh\",\"-c\",\"echo hi >/tmp/f && cat /tmp/f && stat -f -c %T /tmp\"]",
			 "", "", "", out, sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "hi\ntmpfs\n");
}
END_TEST

START_TEST(dev_minimal)
{
	char out[256];
	int st = run_cmd("[\"/bin/sh\",\"-c\",\"test -c /dev/null && echo x >/dev/null && "
			 "test -c /dev/urandom && test -L /dev/fd && readlink /dev/ptmx\"]",
			 "", "", "", out, sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "pts/ptmx\n");
}
END_TEST

START_TEST(loopback_up)
{
	char out[256];
	int st = run_cmd("[\"cat\",\"/sys/class/net/lo/operstate\",\"/sys/class/net/lo/flags\"]", "",
			 ",{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
			 "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}", "", out, sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "unknown\n0x9\n");
}
END_TEST

START_TEST(user_and_caps)
{
	char out[256];
	int st = run_cmd("[\"/bin/sh\",\"-c\",\"id -u; id -G; grep -E '^Cap(Eff|Bnd)' /proc/self/status\"]",
			 ",\"user\":{\"uid\":65534,\"gid\":65534,\"additionalGids\":[4242]},"
			 "\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[],"
			 "\"permitted\":[]},\"noNewPrivileges\":true",
			 "", "", out, sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "65534\n65534 4242\nCapEff:\t0000000000000000\n"
			 "CapBnd:\t0000000000000020\n");
}
END_TEST

START_TEST(seccomp_errno)
{
	char out[256];
	int st = run_cmd("[\"/bin/sh\",\"-c\",\"mkdir /tmp/d 2>/dev/null && echo made || echo denied\"]",
			 "", "",
			 ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
			 "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
			 "\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\",\"no_such_syscall\"],"
			 "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}", out, sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "denied\n");
}
END_TEST

/* Without no_new_privs and without CAP_SYS_ADMIN, the filter loads before the drop. */
START_TEST(seccomp_without_nnp_as_user)
{
	char out[256];
	int st = run_cmd("[\"/bin/sh\",\"-c\",\"id -u; mkdir /tmp/d 2>/dev/null && echo made || echo denied\"]",
			 ",\"user\":{\"uid\":65534,\"gid\":65534},\"capabilities\":{}", "",
			 ",\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
			 "\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],"
			 "\"action\":\"SCMP_ACT_ERRNO\"}]}", out, sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "65534\ndenied\n");
}
END_TEST

/* Joining a namespace by path (the test's own uts namespace); no hostname then. */
START_TEST(join_uts_by_path)
{
	struct run r;
	char out[256], host[256], lin[128];
	char *spec = make_spec("[\"hostname\"]", "", "", "");
	int st;

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	snprintf(lin, sizeof(lin), "{\"type\":\"uts\",\"path\":\"/proc/%d/ns/uts\"}", getpid());
	spec = spec_replace(spec, ",\"hostname\":\"" TEST_HOST "\"", "");
	spec = spec_replace(spec, "{\"type\":\"uts\"}", lin);
	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	st = start_and_collect(&r, out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	strcat(host, "\n");
	ck_assert_str_eq(out, host);
}
END_TEST

/* Without a pid namespace there is no fork: INIT_PID is init's own pid, which the task keeps. */
START_TEST(no_pid_namespace)
{
	struct run r;
	char out[64], want[32];
	char *spec = make_spec("[\"/bin/sh\",\"-c\",\"echo $$\"]", "", "", "");
	int st;

	spec = spec_replace(spec, "{\"type\":\"pid\"},", "");
	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	ck_assert_int_eq(r.task, r.launcher);
	st = start_and_collect(&r, out, sizeof(out));
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(want, sizeof(want), "%d\n", (int)r.launcher);
	ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(masked_and_readonly_paths)
{
	char out[256];
	int st;

	if (access("/proc/timer_list", R_OK) || access("/proc/irq", R_OK))
		return; /* reported as passed: nothing here to mask on this kernel */
	st = run_cmd("[\"/bin/sh\",\"-c\",\"wc -c </proc/timer_list; ls -A /proc/irq | wc -l; "
		     "echo 1 2>/dev/null >/proc/sys/kernel/ns_last_pid && echo rw || echo ro\"]",
		     "", "", ",\"maskedPaths\":[\"/proc/timer_list\",\"/proc/irq\","
		     "\"/proc/kcore\",\"/proc/nonexistent\"],"
		     "\"readonlyPaths\":[\"/proc/sys\"]", out, sizeof(out));

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "0\n0\nro\n");
}
END_TEST

/* The task fails to exec after START: INIT_ERROR, then exit 127. */
/* Set-up errors come as INIT_ERROR before READY; init exits 127. */
static void expect_setup_error(const char *json, int want_err, const char *needle)
{
	struct run r;

	launch(&r, json);
	expect_init_error(&r, want_err, needle);
}

/* As runc: args[0] is looked up at create, before READY, and named in runc's words. */
static void expect_lookpath_error(const char *args_json, int want_err, const char *msg)
{
	char *spec = make_spec(args_json, "", "", "");

	expect_setup_error(spec, want_err, msg);
	free(spec);
}

START_TEST(missing_binary_absolute)
{
	expect_lookpath_error("[\"/nonexistent/sv-no-such-binary\"]", ENOENT,
			      "exec: \"/nonexistent/sv-no-such-binary\": stat "
			      "/nonexistent/sv-no-such-binary: no such file or directory");
}
END_TEST

START_TEST(missing_binary_path_search)
{
	expect_lookpath_error("[\"sv-no-such-binary\"]", ENOENT,
			      "exec: \"sv-no-such-binary\": executable file not found in $PATH");
}
END_TEST

START_TEST(not_executable)
{
	expect_lookpath_error("[\"/etc/passwd\"]", EACCES, "exec: \"/etc/passwd\": permission denied");
	expect_lookpath_error("[\"/bin\"]", EACCES, "exec: \"/bin\": permission denied");
}
END_TEST

/* Looked up as the task's user: /root (0700) hides its files from uid 65534. */
START_TEST(lookpath_as_the_user)
{
	char *spec = make_spec("[\"/root/sv-x\"]",
			       ",\"user\":{\"uid\":65534,\"gid\":65534},\"capabilities\":{}", "", "");
	struct stat st;

	if (stat("/root", &st) < 0 || (st.st_mode & 0001)) {
		free(spec);
		return;         /* others may search this host's /root: nothing to see */
	}
	expect_setup_error(spec, EACCES, "exec: \"/root/sv-x\": stat /root/sv-x: permission denied");
	free(spec);
}
END_TEST

START_TEST(error_no_args)
{
	expect_setup_error("{\"process\":{\"cwd\":\"/\"},\"root\":{\"path\":\"/\"}}", EINVAL,
			   "process.args");
}
END_TEST

START_TEST(error_bad_json)
{
	expect_setup_error("{\"process\":", EINVAL, "config.json");
}
END_TEST

/* a new user namespace needs its maps (the worker writes them: e2e 84-userns.t) */
START_TEST(error_user_ns)
{
	char *spec = make_spec("[\"/bin/true\"]", "", "", "");

	spec = spec_replace(spec, "{\"type\":\"network\"}", "{\"type\":\"user\"}");
	expect_setup_error(spec, EINVAL, "linux.uidMappings: a new user namespace needs them");
	free(spec);
}
END_TEST

START_TEST(error_bad_mount)
{
	char *spec = make_spec("[\"/bin/true\"]", "",
			       ",{\"destination\":\"/mnt/x\",\"type\":\"bind\","
			       "\"source\":\"/nonexistent/sv-src\",\"options\":[\"rbind\"]}", "");

	expect_setup_error(spec, ENOENT, "/mnt/x");
	free(spec);
}
END_TEST

/* Whether a root process without CAP_SYS_PTRACE (a container's root) may open pid's
 * /proc/PID/exe: 1 yes, 0 refused (EACCES), -errno otherwise. Run in a child. */
static int exe_open_without_ptrace(pid_t pid)
{
	char path[64];
	int st, fd;
	pid_t c = fork();

	ck_assert_int_ge(c, 0);
	if (c == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];

		if (syscall(SYS_capget, &h, d) < 0)
			_exit(3);
		d[0].effective &= ~(1u << CAP_SYS_PTRACE);
		if (syscall(SYS_capset, &h, d) < 0)
			_exit(3);
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
		fd = open(path, O_PATH | O_CLOEXEC);
		_exit(fd >= 0 ? 1 : errno == EACCES ? 0 : 2);
	}
	ck_assert_int_eq(waitpid(c, &st, 0), c);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st) == 1 ? 1 : WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* Held before START, the first stage (the host's binary) cannot be reached through
 * /proc/PID/exe from the container; the task's program, once exec'd, can. */
START_TEST(held_init_not_dumpable)
{
	struct run r;
	/* no capabilities: only the dumpable flag can refuse the access (not a larger cap set) */
	char *spec = make_spec("[\"/bin/sleep\",\"1000\"]", ",\"capabilities\":{\"bounding\":[],"
			       "\"effective\":[],\"permitted\":[]}", "", "");

	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	ck_assert_int_eq(exe_open_without_ptrace(r.task), 0);
	start_running(&r);
	/* the sync fd closes early in execve, before the new program's dumpable flag is set:
	 * wait (bounded) for the exec to complete, seen as the new command name */
	for (int i = 0; i < 2000; i++) {
		char p[64], comm[32] = "";
		FILE *f;

		snprintf(p, sizeof(p), "/proc/%d/comm", r.task);
		if ((f = fopen(p, "re"))) {
			(void)!fgets(comm, sizeof(comm), f);
			fclose(f);
		}
		if (!strcmp(comm, "sleep\n"))
			break;
		sched_yield();
	}
	ck_assert_int_eq(exe_open_without_ptrace(r.task), 1);
	kill(r.task, SIGKILL);
	wait_exit(r.task);
	close_run(&r);
}
END_TEST

/* The host's / read-only: a mount point it lacks is an error, not a directory made in it. */
START_TEST(error_mountpoint_on_host_root)
{
	char *spec = make_spec("[\"/bin/true\"]", "",
			       ",{\"destination\":\"/sv-no-such-mountpoint\",\"type\":\"tmpfs\","
			       "\"source\":\"tmpfs\"}", "");

	expect_setup_error(spec, EROFS, "/sv-no-such-mountpoint");
	ck_assert_int_ne(access("/sv-no-such-mountpoint", F_OK), 0);
	free(spec);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("init_run");
	TCase *tc = tcase_create("run");

	if (geteuid() != 0) {
		printf("1..0 # SKIP shimvisor-init needs root (namespaces, mounts)\n");
		return 0;
	}
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, echo_hello_held_until_start);
	tcase_add_test(tc, error_mountpoint_on_host_root);
	tcase_add_test(tc, held_init_not_dumpable);
	tcase_add_test(tc, exit_status);
	tcase_add_test(tc, uts_hostname);
	tcase_add_test(tc, pid_one);
	tcase_add_test(tc, readonly_root);
	tcase_add_test(tc, tmp_writable_tmpfs);
	tcase_add_test(tc, dev_minimal);
	tcase_add_test(tc, loopback_up);
	tcase_add_test(tc, user_and_caps);
	tcase_add_test(tc, seccomp_errno);
	tcase_add_test(tc, seccomp_without_nnp_as_user);
	tcase_add_test(tc, join_uts_by_path);
	tcase_add_test(tc, no_pid_namespace);
	tcase_add_test(tc, masked_and_readonly_paths);
	tcase_add_test(tc, missing_binary_absolute);
	tcase_add_test(tc, missing_binary_path_search);
	tcase_add_test(tc, not_executable);
	tcase_add_test(tc, lookpath_as_the_user);
	tcase_add_test(tc, error_no_args);
	tcase_add_test(tc, error_bad_json);
	tcase_add_test(tc, error_user_ns);
	tcase_add_test(tc, error_bad_mount);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
