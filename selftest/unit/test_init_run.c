/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_init_run.c: runs the real shimvisor-init with a bundle, the fd contract
 * and the PID/READY/START exchange, in real namespaces. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "init.pb.h"
#include "wire/limits.h"
#include "wire/pbio.h"

#define TEST_HOST "sv-test-host"
#define RO_PROBE "/.sv-init-test-ro-probe"

struct run {
	char bundle[64];
	char init[PATH_MAX];
	pid_t launcher;         /* the exec'd shimvisor-init (exits at once with a pid ns) */
	pid_t task;             /* from INIT_PID */
	int sync;               /* our end of the SOCK_SEQPACKET pair */
	int out;                /* read end of the task's stdout+stderr */
};

static void init_path(char *buf, size_t sz)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	slash = strrchr(self, '/');             /* build/selftest/test_init_run */
	*slash = '\0';
	slash = strrchr(self, '/');             /* build/selftest */
	*slash = '\0';
	ck_assert_int_lt(snprintf(buf, sz, "%s/shimvisor-init", self), (int)sz);
}

/* A minimal spec: host / read-only, fresh /proc, /dev, /dev/pts, /tmp; pid mount uts ipc
 * network namespaces. args_json is a JSON array; extra is more members of "linux" or "". */
static char *make_spec(const char *args_json, const char *process_extra, const char *mounts_extra,
		       const char *linux_extra)
{
	char *s = NULL;
	int n = asprintf(&s,
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":%s,"
		"\"env\":[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=dumb\"],\"cwd\":\"/\"%s},"
		"\"root\":{\"path\":\"/\",\"readonly\":true},\"hostname\":\"" TEST_HOST "\","
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		"\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
		"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
		"\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
		"{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		"\"options\":[\"nosuid\",\"nodev\",\"mode=1777\"]}%s],"
		"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},"
		"{\"type\":\"ipc\"},{\"type\":\"network\"}]%s}}",
		args_json, process_extra, mounts_extra, linux_extra);

	ck_assert_int_gt(n, 0);
	return s;
}

/* A new spec with the first "from" replaced by "to" (the old one is freed). */
static char *spec_replace(char *spec, const char *from, const char *to)
{
	char *p = strstr(spec, from), *out = NULL;

	ck_assert_ptr_nonnull(p);
	*p = '\0';
	ck_assert_int_gt(asprintf(&out, "%s%s%s", spec, to, p + strlen(from)), 0);
	free(spec);
	return out;
}

static void write_bundle(struct run *r, const char *json)
{
	char path[128];
	int fd;

	strcpy(r->bundle, "/tmp/sv-init-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(r->bundle));
	snprintf(path, sizeof(path), "%s/" SV_BUNDLE_CONFIG, r->bundle);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
}

static void cleanup_bundle(struct run *r)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/" SV_BUNDLE_CONFIG, r->bundle);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" SV_BUNDLE_ROOTFS, r->bundle);
	rmdir(path);
	ck_assert_int_eq(rmdir(r->bundle), 0);
}

/* Write the bundle; fork+exec shimvisor-init with fds 3 config, 4 sync, 5-7 stdio. */
static void launch(struct run *r, const char *json)
{
	int sp[2], op[2], cfg, devnull;
	char path[128];

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	init_path(r->init, sizeof(r->init));
	write_bundle(r, json);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(pipe2(op, O_CLOEXEC), 0);
	snprintf(path, sizeof(path), "%s/" SV_BUNDLE_CONFIG, r->bundle);
	cfg = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(cfg, 0);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(devnull, 0);
	r->launcher = fork();
	ck_assert_int_ge(r->launcher, 0);
	if (r->launcher == 0) {
		char *argv[] = { r->init, r->bundle, NULL };
		char *envp[] = { NULL };
		int src[5] = { cfg, sp[1], devnull, op[1], op[1] };

		for (int i = 0; i < 5; i++)     /* out of the way of 3..7 */
			if ((src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 100)) < 0)
				_exit(120);
		for (int i = 0; i < 5; i++)
			if (dup2(src[i], SV_INIT_FD_CONFIG + i) < 0)
				_exit(121);
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
			_exit(122);
		close_range(SV_INIT_FD_STDIO + 3, ~0U, 0);
		execve(r->init, argv, envp);
		_exit(123);
	}
	close(cfg);
	close(devnull);
	close(sp[1]);
	close(op[1]);
	r->sync = sp[0];
	r->out = op[0];
}

/* One InitSync; returns its type, or 0 at EOF. */
static int recv_sync(struct run *r, sv_InitSync *m)
{
	uint8_t buf[1024];
	ssize_t n;

	do
		n = recv(r->sync, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	ck_assert_int_ge(n, 0);
	if (n == 0)
		return 0;
	ck_assert_int_eq(sv_pb_decode(sv_InitSync_fields, m, buf, (size_t)n), 0);
	return m->type;
}

static void send_start(struct run *r)
{
	sv_InitSync m = sv_InitSync_init_zero;
	uint8_t *buf = NULL;
	size_t len = 0;

	m.type = sv_InitSyncType_INIT_START;
	ck_assert_int_eq(sv_pb_encode(sv_InitSync_fields, &m, &buf, &len), 0);
	ck_assert_int_eq(send(r->sync, buf, len, MSG_NOSIGNAL), (ssize_t)len);
	free(buf);
}

static int wait_exit(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	return st;
}

/* Expect PID (reaping the launcher when it forked) and READY. */
static void expect_ready(struct run *r)
{
	sv_InitSync m;
	int t = recv_sync(r, &m);

	if (t == sv_InitSyncType_INIT_ERROR)
		ck_abort_msg("init error %d: %s", m.err, m.message ? m.message : "");
	ck_assert_int_eq(t, sv_InitSyncType_INIT_PID);
	r->task = (pid_t)m.pid;
	ck_assert_int_gt(r->task, 0);
	sv_pb_free(sv_InitSync_fields, &m);
	t = recv_sync(r, &m);
	if (t == sv_InitSyncType_INIT_ERROR)
		ck_abort_msg("init error %d: %s", m.err, m.message ? m.message : "");
	ck_assert_int_eq(t, sv_InitSyncType_INIT_READY);
	sv_pb_free(sv_InitSync_fields, &m);
	if (r->task != r->launcher) {
		int st = wait_exit(r->launcher);

		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

static size_t read_all(int fd, char *buf, size_t sz)
{
	size_t len = 0;
	ssize_t n;

	while (len < sz - 1 && (n = read(fd, buf + len, sz - 1 - len)) != 0) {
		if (n < 0) {
			ck_assert_int_eq(errno, EINTR);
			continue;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

/* Start a READY task; collect its output and wait status; clean everything up. */
static int start_and_collect(struct run *r, char *out, size_t sz)
{
	sv_InitSync m;
	int st;

	send_start(r);
	ck_assert_int_eq(recv_sync(r, &m), 0);  /* EOF: the exec closed the sync fd */
	read_all(r->out, out, sz);
	st = wait_exit(r->task);
	close(r->sync);
	close(r->out);
	cleanup_bundle(r);
	return st;
}

static int run_cmd(const char *args_json, const char *pextra, const char *mextra,
		   const char *lextra, char *out, size_t sz)
{
	struct run r;
	char *spec = make_spec(args_json, pextra, mextra, lextra);

	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	return start_and_collect(&r, out, sz);
}

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
static void expect_exec_error(const char *args_json, int want_err)
{
	struct run r;
	sv_InitSync m;
	char *spec = make_spec(args_json, "", "", "");
	int st;

	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	send_start(&r);
	ck_assert_int_eq(recv_sync(&r, &m), sv_InitSyncType_INIT_ERROR);
	ck_assert_int_eq(m.err, want_err);
	ck_assert_ptr_nonnull(m.message);
	ck_assert_ptr_nonnull(strstr(m.message, "exec"));
	sv_pb_free(sv_InitSync_fields, &m);
	st = wait_exit(r.task);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	close(r.sync);
	close(r.out);
	cleanup_bundle(&r);
}

START_TEST(missing_binary_absolute)
{
	expect_exec_error("[\"/nonexistent/sv-no-such-binary\"]", ENOENT);
}
END_TEST

START_TEST(missing_binary_path_search)
{
	expect_exec_error("[\"sv-no-such-binary\"]", ENOENT);
}
END_TEST

/* Set-up errors come as INIT_ERROR before READY; init exits 127. */
static void expect_setup_error(const char *json, int want_err, const char *needle)
{
	struct run r;
	sv_InitSync m;
	int t, st;

	launch(&r, json);
	t = recv_sync(&r, &m);
	if (t == sv_InitSyncType_INIT_PID) {
		r.task = (pid_t)m.pid;
		sv_pb_free(sv_InitSync_fields, &m);
		t = recv_sync(&r, &m);
	}
	ck_assert_int_eq(t, sv_InitSyncType_INIT_ERROR);
	ck_assert_int_eq(m.err, want_err);
	ck_assert_msg(m.message && strstr(m.message, needle), "message: %s",
		      m.message ? m.message : "(none)");
	sv_pb_free(sv_InitSync_fields, &m);
	if (r.task && r.task != r.launcher) {
		st = wait_exit(r.launcher);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		st = wait_exit(r.task);
	} else {
		st = wait_exit(r.launcher);
	}
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	close(r.sync);
	close(r.out);
	cleanup_bundle(&r);
}

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

START_TEST(error_user_ns)
{
	char *spec = make_spec("[\"/bin/true\"]", "", "", "");

	spec = spec_replace(spec, "{\"type\":\"network\"}", "{\"type\":\"user\"}");
	expect_setup_error(spec, EOPNOTSUPP, "user");
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
	tcase_add_test(tc, error_no_args);
	tcase_add_test(tc, error_bad_json);
	tcase_add_test(tc, error_user_ns);
	tcase_add_test(tc, error_bad_mount);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
