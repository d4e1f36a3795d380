/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_init_cgroups.c: shimvisor-init with linux.cgroupsPath and linux.resources
 * (real cgroups: created, values written, the task inside), `--update PID`, the warm flow,
 * failures (INIT_ERROR, nothing left behind), and the cgroup2 device filter. */
#include <check.h>
#include "tap_main.h"
#include "cgroup_fixture.h"
#include "build_fixture.h"
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
#include "wire/fdchan.h"
#include "wire/limits.h"
#include "wire/pbio.h"
#include "worker/init/cgroups.h"

struct run {
	char bundle[64];
	char init[PATH_MAX];
	pid_t launcher;         /* the exec'd shimvisor-init */
	pid_t task;             /* from INIT_PID */
	int sync;               /* our end of the SOCK_SEQPACKET pair */
	int out;                /* read end of the task's stdout+stderr */
};

static void init_path(char *buf, size_t sz)
{
	fx_build_path(buf, sz, "shimvisor-init");
}

/* A spec running args in pid/mount/ipc/uts namespaces on the host's / (read-only), with
 * linux_extra added to "linux" (cgroupsPath, resources). */
static char *make_spec(const char *args_json, const char *linux_extra)
{
	char *s = NULL;

	ck_assert_int_gt(asprintf(&s,
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":%s,"
		"\"env\":[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"],\"cwd\":\"/\"},"
		"\"root\":{\"path\":\"/\",\"readonly\":true},"
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		"\"options\":[\"nosuid\",\"mode=755\"]}],"
		"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},"
		"{\"type\":\"uts\"}]%s}}", args_json, linux_extra), 0);
	return s;
}

static void write_bundle(struct run *r, const char *json)
{
	char path[128];
	int fd;

	strcpy(r->bundle, "/tmp/sv-cg-init-XXXXXX");
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

/* Put src[i] on fd 3 + i (i < n), stdio on /dev/null, close the rest, exec argv. Child only. */
static _Noreturn void exec_with(char **argv, const int *src, int n)
{
	int tmp[5], devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	char *envp[] = { NULL };

	for (int i = 0; i < n; i++)
		if (src[i] >= 0 && (tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 100)) < 0)
			_exit(120);
	for (int i = 0; i < n; i++)
		if (src[i] >= 0 && dup2(tmp[i], SV_INIT_FD_CONFIG + i) < 0)
			_exit(121);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(122);
	close_range(SV_INIT_FD_CONFIG + (unsigned)n, ~0U, 0);
	execve(argv[0], argv, envp);
	_exit(123);
}

/* shimvisor-init BUNDLE with fds 3 config, 4 sync, 5-7 stdio. */
static void launch(struct run *r, const char *json)
{
	int sp[2], op[2], cfg, devnull;
	char path[128];

	memset(r, 0, sizeof(*r));
	FX_QEMU_SKIP(FX_QEMU_NO_SUBREAPER);
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
		int src[5] = { cfg, sp[1], devnull, op[1], op[1] };

		exec_with(argv, src, 5);
	}
	close(cfg);
	close(devnull);
	close(sp[1]);
	close(op[1]);
	r->sync = sp[0];
	r->out = op[0];
}

/* One InitSync; its type, or 0 at EOF. */
static int recv_sync(int fd, sv_InitSync *m)
{
	uint8_t buf[1024];
	ssize_t n;

	do
		n = recv(fd, buf, sizeof(buf), 0);
	while (n < 0 && errno == EINTR);
	ck_assert_int_ge(n, 0);
	if (n == 0)
		return 0;
	ck_assert_int_eq(sv_pb_decode(sv_InitSync_fields, m, buf, (size_t)n), 0);
	return m->type;
}

static int wait_exit(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	return st;
}

static void expect_ready(struct run *r)
{
	sv_InitSync m;
	int t = recv_sync(r->sync, &m);

	if (t == sv_InitSyncType_INIT_ERROR)
		ck_abort_msg("init error %d: %s", m.err, m.message ? m.message : "");
	ck_assert_int_eq(t, sv_InitSyncType_INIT_PID);
	r->task = (pid_t)m.pid;
	sv_pb_free(sv_InitSync_fields, &m);
	t = recv_sync(r->sync, &m);
	if (t == sv_InitSyncType_INIT_ERROR)
		ck_abort_msg("init error %d: %s", m.err, m.message ? m.message : "");
	ck_assert_int_eq(t, sv_InitSyncType_INIT_READY);
	sv_pb_free(sv_InitSync_fields, &m);
	if (r->task != r->launcher) {
		int st = wait_exit(r->launcher);

		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

/* Kill the held task, reap it, drop the bundle. */
static void finish(struct run *r)
{
	kill(r->task, SIGKILL);
	wait_exit(r->task);
	close(r->sync);
	close(r->out);
	cleanup_bundle(r);
}

static bool need_v1(unsigned ctrls)
{
	char mnt[512];
	static const unsigned all[] = { CGC_MEMORY, CGC_PIDS, CGC_CPU, CGC_DEVICES, CGC_CPUSET };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if ((ctrls & all[i]) && !cgfx_mnt(all[i], false, mnt, sizeof(mnt))) {
			printf("# SKIP no v1 hierarchy for controller mask %#x\n", all[i]);
			return false;
		}
	return true;
}

#define RESOURCES                                                                              \
	",\"resources\":{\"memory\":{\"limit\":67108864,\"swappiness\":10},"                    \
	"\"pids\":{\"limit\":50},\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000},"  \
	"\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"                                    \
	"{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}]}"

START_TEST(create_apply_join)
{
	struct run r;
	char name[64], lin[600], got[1024], want[128];
	char *spec;

	if (!need_v1(CGC_MEMORY | CGC_PIDS | CGC_CPU | CGC_DEVICES))
		return;
	cgfx_name(name, sizeof(name), "abs");
	snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"/%s/t1\"" RESOURCES, name);
	spec = make_spec("[\"/bin/true\"]", lin);
	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	/* the held task (pid 1 of its namespace) sits in /<name>/t1 of every hierarchy */
	snprintf(want, sizeof(want), "/%s/t1", name);
	for (const char *c = "memory\0pids\0cpu\0devices\0freezer\0cpuset\0"; *c; c += strlen(c) + 1) {
		if (!cgfx_exists(cgfs_ctrl_mask(c), false, "/"))
			continue;
		cgfx_proc_cgroup(r.task, c, got, sizeof(got));
		ck_assert_msg(!strcmp(got, want), "%s: %s", c, got);
	}
	cgfx_proc_cgroup(r.task, "name=systemd", got, sizeof(got));
	ck_assert_str_ne(got, want);            /* named hierarchies are left alone */
	snprintf(want, sizeof(want), "%s/t1", name);
	ck_assert_int_eq(cgfx_read(CGC_MEMORY, false, want, "memory.limit_in_bytes", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "67108864");
	ck_assert_int_eq(cgfx_read(CGC_MEMORY, false, want, "memory.swappiness", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "10");
	ck_assert_int_eq(cgfx_read(CGC_PIDS, false, want, "pids.max", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "50");
	ck_assert_int_eq(cgfx_read(CGC_CPU, false, want, "cpu.shares", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "512");
	ck_assert_int_eq(cgfx_read(CGC_CPU, false, want, "cpu.cfs_quota_us", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "50000");
	ck_assert_int_eq(cgfx_read(CGC_DEVICES, false, want, "devices.list", got, sizeof(got)), 0);
	ck_assert_msg(!strstr(got, "a *:* rwm"), "devices.list: %s", got);
	ck_assert_msg(strstr(got, "c 1:3 rw"), "devices.list: %s", got);
	ck_assert_msg(strstr(got, "c 136:* rwm"), "devices.list: %s", got);     /* a default */
	if (cgfx_exists(CGC_CPUSET, false, "/")) {      /* copied from the parent, non-empty */
		ck_assert_int_eq(cgfx_read(CGC_CPUSET, false, want, "cpuset.cpus", got, sizeof(got)), 0);
		ck_assert_str_ne(got, "");
	}
	finish(&r);
}
END_TEST

/* The devices rules hold for the task: /dev/null opens, a node it may make (mknod is in
 * the defaults) but not open (c 1:11, /dev/kmsg) is refused. */
START_TEST(devices_hold_for_the_task)
{
	struct run r;
	char name[64], lin[600], out[512];
	char *spec;
	sv_InitSync m;
	ssize_t n;
	size_t len = 0;
	int st;

	if (!need_v1(CGC_DEVICES))
		return;
	cgfx_name(name, sizeof(name), "hold");
	snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"/%s\",\"resources\":{\"devices\":"
		 "[{\"allow\":false,\"access\":\"rwm\"}]}", name);
	spec = make_spec("[\"/bin/sh\",\"-c\",\"( : </dev/null ) && echo null-ok; "
			 "mknod /dev/k c 1 11 && { ( : </dev/k ) 2>/dev/null && echo k-open || "
			 "echo k-denied; }\"]", lin);
	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	{
		sv_InitSync s = sv_InitSync_init_zero;
		uint8_t *buf = NULL;
		size_t blen = 0;

		s.type = sv_InitSyncType_INIT_START;
		ck_assert_int_eq(sv_pb_encode(sv_InitSync_fields, &s, &buf, &blen), 0);
		ck_assert_int_eq(send(r.sync, buf, blen, MSG_NOSIGNAL), (ssize_t)blen);
		free(buf);
	}
	ck_assert_int_eq(recv_sync(r.sync, &m), 0);     /* EOF: exec'd */
	while (len < sizeof(out) - 1 && (n = read(r.out, out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	st = wait_exit(r.task);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_str_eq(out, "null-ok\nk-denied\n");
	close(r.sync);
	close(r.out);
	cleanup_bundle(&r);
}
END_TEST

/* A relative cgroupsPath lands under the init's own cgroup of each hierarchy. */
START_TEST(relative_path)
{
	struct run r;
	char name[64], lin[256], own[512], got[1024], want[1100];
	char *spec;

	if (!need_v1(CGC_MEMORY))
		return;
	cgfx_name(name, sizeof(name), "rel");
	snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"%s\"", name);
	spec = make_spec("[\"/bin/true\"]", lin);
	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	ck_assert(cgfx_own(CGC_MEMORY, own, sizeof(own)));
	snprintf(want, sizeof(want), "%s%s%s", own, strcmp(own, "/") ? "/" : "", name);
	cgfx_proc_cgroup(r.task, "memory", got, sizeof(got));
	ck_assert_str_eq(got, want);
	finish(&r);
}
END_TEST

/* Update: fd 3 = LinuxResources JSON, fd 4 = sync; exit 0 or INIT_ERROR + 127. */
static int run_update(const char *init, pid_t pid, const char *json, sv_InitSync *err_out)
{
	int sp[2], p[2], st, t;
	char pidstr[16];
	pid_t child;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(write(p[1], json, strlen(json)), (ssize_t)strlen(json));
	close(p[1]);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char *argv[] = { (char *)init, "--update", pidstr, NULL };
		int src[2] = { p[0], sp[1] };

		exec_with(argv, src, 2);
	}
	close(p[0]);
	close(sp[1]);
	t = recv_sync(sp[0], err_out);
	close(sp[0]);
	st = wait_exit(child);
	if (t == 0)
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	else
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	return t;
}

START_TEST(update_limits)
{
	struct run r;
	char name[64], lin[600], got[64], rel[128];
	char *spec;
	sv_InitSync m;
	int st;

	if (!need_v1(CGC_MEMORY | CGC_PIDS))
		return;
	cgfx_name(name, sizeof(name), "upd");
	snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"/%s\"" RESOURCES, name);
	spec = make_spec("[\"/bin/true\"]", lin);
	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	snprintf(rel, sizeof(rel), "/%s", name);
	ck_assert_int_eq(run_update(r.init, r.task,
				    "{\"memory\":{\"limit\":33554432},\"pids\":{\"limit\":20},"
				    "\"cpu\":{\"shares\":256}}", &m), 0);
	ck_assert_int_eq(cgfx_read(CGC_MEMORY, false, rel, "memory.limit_in_bytes", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "33554432");
	ck_assert_int_eq(cgfx_read(CGC_PIDS, false, rel, "pids.max", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "20");
	if (cgfx_exists(CGC_CPU, false, "/")) {
		ck_assert_int_eq(cgfx_read(CGC_CPU, false, rel, "cpu.shares", got, sizeof(got)), 0);
		ck_assert_str_eq(got, "256");
	}
	/* raise memory and swap together: memsw first */
	if (cgfx_exists(CGC_MEMORY, false, "memory.memsw.limit_in_bytes")) {
		ck_assert_int_eq(run_update(r.init, r.task, "{\"memory\":{\"limit\":134217728,"
					    "\"swap\":268435456}}", &m), 0);
		ck_assert_int_eq(cgfx_read(CGC_MEMORY, false, rel, "memory.memsw.limit_in_bytes",
					   got, sizeof(got)), 0);
		ck_assert_str_eq(got, "268435456");
	}
	/* device rules stay as created: an update's are not applied (runc's update ignores
	 * them; CRI sends them with every update), the rest of it is */
	ck_assert_int_eq(run_update(r.init, r.task, "{\"devices\":[{\"allow\":true,"
				    "\"access\":\"rwm\"}],\"pids\":{\"limit\":21}}", &m), 0);
	ck_assert_int_eq(cgfx_read(CGC_PIDS, false, rel, "pids.max", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "21");
	if (cgfx_exists(CGC_DEVICES, false, "/")) {
		char dl[1024];
		ck_assert_int_eq(cgfx_read(CGC_DEVICES, false, rel, "devices.list", dl, sizeof(dl)), 0);
		ck_assert_msg(!strstr(dl, "a *:* rwm") && strstr(dl, "c 1:3 rw"),
			      "devices.list after an update with device rules: %s", dl);
	}
	/* a bad document: INIT_ERROR, nothing changed */
	ck_assert_int_eq(run_update(r.init, r.task, "{\"pids\":{\"limit\":\"many\"}}", &m),
			 sv_InitSyncType_INIT_ERROR);
	ck_assert_int_eq(m.err, EINVAL);
	ck_assert_msg(m.message && !strcmp(m.message, "resources: pids.limit: must be a number"),
		      "%s", m.message ? m.message : "(none)");
	sv_pb_free(sv_InitSync_fields, &m);
	ck_assert_int_eq(run_update(r.init, r.task, "[1]", &m), sv_InitSyncType_INIT_ERROR);
	sv_pb_free(sv_InitSync_fields, &m);
	ck_assert_int_eq(run_update(r.init, r.task, "{\"pids\":{\"limit\":-1}}", &m), 0);
	ck_assert_int_eq(cgfx_read(CGC_PIDS, false, rel, "pids.max", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "max");
	/* our own process has no cgroup of its own: refused */
	ck_assert_int_eq(run_update(r.init, getpid(), "{\"pids\":{\"limit\":3}}", &m),
			 sv_InitSyncType_INIT_ERROR);
	ck_assert_int_eq(m.err, ENOENT);
	sv_pb_free(sv_InitSync_fields, &m);
	/* but an empty update is fine */
	ck_assert_int_eq(run_update(r.init, getpid(), "{}", &m), 0);
	/* an exec process joins the task's cgroups */
	{
		char got2[256];
		pid_t kid = fork();

		ck_assert_int_ge(kid, 0);
		if (kid == 0) {
			struct init in;

			memset(&in, 0, sizeof(in));
			if (cgroups_join_of(&in, r.task))
				_exit(1);
			cgfx_proc_cgroup(getpid(), "pids", got2, sizeof(got2));
			_exit(strcmp(got2, rel) ? 2 : 0);
		}
		st = wait_exit(kid);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	}
	finish(&r);
}
END_TEST

/* Set-up errors: INIT_ERROR before INIT_PID, exit 127, no cgroup left behind. */
static void expect_setup_error(const char *linux_extra, int want_err, const char *needle)
{
	struct run r;
	sv_InitSync m;
	char *spec = make_spec("[\"/bin/true\"]", linux_extra);
	int st;

	launch(&r, spec);
	free(spec);
	ck_assert_int_eq(recv_sync(r.sync, &m), sv_InitSyncType_INIT_ERROR);
	if (want_err)
		ck_assert_int_eq(m.err, want_err);
	else
		ck_assert_int_gt(m.err, 0);
	ck_assert_msg(m.message && strstr(m.message, needle), "message: %s",
		      m.message ? m.message : "(none)");
	sv_pb_free(sv_InitSync_fields, &m);
	st = wait_exit(r.launcher);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	close(r.sync);
	close(r.out);
	cleanup_bundle(&r);
}

START_TEST(bad_resources)
{
	char name[64], lin[400];

	cgfx_name(name, sizeof(name), "bad");
	snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"/%s\",\"resources\":"
		 "{\"memory\":{\"limit\":\"1G\"}}", name);
	expect_setup_error(lin, EINVAL, "config.json: linux.resources.memory.limit: must be a number");
	expect_setup_error(",\"resources\":{\"pids\":{\"limit\":10}}", EINVAL,
			   "linux.resources: needs linux.cgroupsPath");
	snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"/%s/../x\"", name);
	expect_setup_error(lin, EINVAL, "linux.cgroupsPath");
	snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"/%s\",\"resources\":{\"devices\":[{\"allow\":1}]}",
		 name);
	expect_setup_error(lin, EINVAL, "linux.resources.devices.allow");
	snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"/%s\",\"resources\":{\"hugepageLimits\":"
		 "[{\"pageSize\":\"../2MB\",\"limit\":1}]}", name);
	expect_setup_error(lin, EINVAL, "pageSize");
	ck_assert(!cgfx_exists(CGC_MEMORY, false, name));
}
END_TEST

/* A value the kernel refuses, after mkdir: the directories made are removed again. */
START_TEST(refused_value_leaves_nothing)
{
	char name[64], lin[400];

	if (!need_v1(CGC_CPUSET | CGC_MEMORY))
		return;
	cgfx_name(name, sizeof(name), "undo");
	snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"/%s/a/b\",\"resources\":{\"cpu\":"
		 "{\"cpus\":\"4095\"}}", name);
	expect_setup_error(lin, 0, "cpuset.cpus");   /* ERANGE or EINVAL, by kernel */
	ck_assert(!cgfx_exists(CGC_CPUSET, false, name));
	ck_assert(!cgfx_exists(CGC_MEMORY, false, name));
}
END_TEST

/* A failure after INIT_PID (a bind mount whose source is missing): the init puts itself back
 * and removes what it made before it reports, with and without a pid namespace. */
START_TEST(failure_after_join_removes_cgroups)
{
	for (int pidns = 1; pidns >= 0; pidns--) {
		struct run r;
		char name[64], lin[256], tag[16];
		char *spec;
		sv_InitSync m;
		int st;

		if (!need_v1(CGC_MEMORY | CGC_PIDS))
			return;
		snprintf(tag, sizeof(tag), "late%d", pidns);
		cgfx_name(name, sizeof(name), tag);
		snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"/%s/t\",\"resources\":{\"pids\":"
			 "{\"limit\":9}}", name);
		spec = make_spec("[\"/bin/true\"]", lin);
		{
			char *p = strstr(spec, "\"mounts\":[");
			char *ns = strstr(spec, "{\"type\":\"pid\"},");
			char *out = NULL;

			ck_assert_ptr_nonnull(p);
			p += strlen("\"mounts\":[");
			ck_assert_int_gt(asprintf(&out, "%.*s{\"destination\":\"/mnt\",\"type\":\"bind\","
						  "\"source\":\"/nonexistent/sv\",\"options\":[\"rbind\"]},%s",
						  (int)(p - spec), spec, p), 0);
			free(spec);
			spec = out;
			if (!pidns) {
				ns = strstr(spec, "{\"type\":\"pid\"},");
				memmove(ns, ns + strlen("{\"type\":\"pid\"},"),
					strlen(ns + strlen("{\"type\":\"pid\"},")) + 1);
			}
		}
		launch(&r, spec);
		free(spec);
		ck_assert_int_eq(recv_sync(r.sync, &m), sv_InitSyncType_INIT_PID);
		r.task = (pid_t)m.pid;
		sv_pb_free(sv_InitSync_fields, &m);
		ck_assert_int_eq(recv_sync(r.sync, &m), sv_InitSyncType_INIT_ERROR);
		ck_assert_msg(m.message && strstr(m.message, "/mnt"), "%s", m.message);
		sv_pb_free(sv_InitSync_fields, &m);
		/* removed before INIT_ERROR was sent */
		ck_assert_msg(!cgfx_exists(CGC_MEMORY, false, name), "pidns %d", pidns);
		ck_assert(!cgfx_exists(CGC_PIDS, false, name));
		st = wait_exit(r.task);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
		if (r.task != r.launcher)
			wait_exit(r.launcher);
		close(r.sync);
		close(r.out);
		cleanup_bundle(&r);
	}
}
END_TEST

/* The warm flow: the init waits for CONFIG, then joins right after reading the config. */
START_TEST(warm_init_joins)
{
	struct run r;
	char name[64], lin[256], cfgp[128], got[512], want[128];
	char *spec;
	int sp[2], op[2], fds[4], cfg, devnull;
	sv_InitSync m = sv_InitSync_init_zero;

	if (!need_v1(CGC_PIDS))
		return;
	memset(&r, 0, sizeof(r));
	FX_QEMU_SKIP(FX_QEMU_NO_SUBREAPER);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	init_path(r.init, sizeof(r.init));
	cgfx_name(name, sizeof(name), "warm");
	snprintf(lin, sizeof(lin), ",\"cgroupsPath\":\"/%s\",\"resources\":{\"pids\":{\"limit\":7}}",
		 name);
	spec = make_spec("[\"/bin/true\"]", lin);
	write_bundle(&r, spec);
	free(spec);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	r.launcher = fork();
	ck_assert_int_ge(r.launcher, 0);
	if (r.launcher == 0) {
		char *argv[] = { r.init, "--warm", NULL };
		int src[2] = { -1, sp[1] };

		exec_with(argv, src, 2);
	}
	close(sp[1]);
	r.sync = sp[0];
	ck_assert_int_eq(pipe2(op, O_CLOEXEC), 0);
	snprintf(cfgp, sizeof(cfgp), "%s/" SV_BUNDLE_CONFIG, r.bundle);
	cfg = open(cfgp, O_RDONLY | O_CLOEXEC);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert(cfg >= 0 && devnull >= 0);
	fds[0] = cfg;
	fds[1] = devnull;
	fds[2] = op[1];
	fds[3] = op[1];
	m.type = sv_InitSyncType_INIT_CONFIG;
	m.message = r.bundle;
	ck_assert_int_eq(fdchan_send(r.sync, sv_InitSync_fields, &m, fds, 4), 0);
	close(cfg);
	close(devnull);
	close(op[1]);
	r.out = op[0];
	expect_ready(&r);
	snprintf(want, sizeof(want), "/%s", name);
	cgfx_proc_cgroup(r.task, "pids", got, sizeof(got));
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(cgfx_read(CGC_PIDS, false, want, "pids.max", got, sizeof(got)), 0);
	ck_assert_str_eq(got, "7");
	finish(&r);
}
END_TEST

/* cgroup2's device filter, on whatever cgroup2 mount there is (a hybrid host's unified one
 * has no controllers, but BPF device programs attach to any cgroup2 directory). */
START_TEST(v2_device_filter)
{
	char name[64], path[600];
	struct spec_resources *res = NULL;
	struct init_err e = { 0, "" };
	char err[256];
	int dfd, go[2], st;
	pid_t kid;
	const char *rules = "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
			    "{\"allow\":false,\"type\":\"c\",\"major\":1,\"minor\":9,\"access\":\"r\"}]}";

	if (!cgfx_exists(0, true, "/")) {
		printf("# SKIP no cgroup2 mount\n");
		return;
	}
	FX_QEMU_SKIP("has no bpf(2) (ENOSYS) to load the device filter");
	cgfx_name(name, sizeof(name), "bpf");
	ck_assert_int_eq(cgfx_mkdir(0, true, name), 0);
	ck_assert(cgfx_path(0, true, name, path, sizeof(path)));
	dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(spec_resources_parse_json(rules, strlen(rules), &res, err, sizeof(err)), 0);
	ck_assert_msg(cgv2_devices(dfd, res, &e) == 0, "%s", e.msg);
	/* applied twice (an update): the old program goes */
	ck_assert_msg(cgv2_devices(dfd, res, &e) == 0, "%s", e.msg);
	spec_resources_free(res);
	close(dfd);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0) {
		char b;
		int fd, bad = 0;

		if (read(go[0], &b, 1) != 1)
			_exit(100);
		/* the defaults (null, zero, ...) come after the spec's rules, as in runc */
		if ((fd = open("/dev/null", O_RDWR)) < 0)
			bad |= 1;
		else
			close(fd);
		if ((fd = open("/dev/zero", O_RDONLY)) < 0)
			bad |= 2;
		else
			close(fd);
		/* not in any allow rule: /dev/kmsg (c 1:11) */
		if ((fd = open("/dev/kmsg", O_RDONLY)) >= 0 || errno != EPERM)
			bad |= 4;
		if (fd >= 0)
			close(fd);
		_exit(bad);
	}
	close(go[0]);
	ck_assert_int_eq(cgfx_join(0, true, name, kid), 0);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	close(go[1]);
	st = wait_exit(kid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	ck_assert_int_eq(rmdir(path), 0);
}
END_TEST

static void teardown(void)
{
	cgfx_cleanup();
}

int main(void)
{
	Suite *s = suite_create("init_cgroups");
	TCase *tc = tcase_create("cgroups");

	if (geteuid() != 0) {
		printf("1..0 # SKIP cgroups need root\n");
		return 0;
	}
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, create_apply_join);
	tcase_add_test(tc, devices_hold_for_the_task);
	tcase_add_test(tc, relative_path);
	tcase_add_test(tc, update_limits);
	tcase_add_test(tc, bad_resources);
	tcase_add_test(tc, refused_value_leaves_nothing);
	tcase_add_test(tc, failure_after_join_removes_cgroups);
	tcase_add_test(tc, warm_init_joins);
	tcase_add_test(tc, v2_device_filter);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
