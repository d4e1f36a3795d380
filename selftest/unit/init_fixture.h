/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/init_fixture.h: what the shimvisor-init tests share: a spec with the host's
 * root, a bundle, the fd contract of a launch (task init or --exec), and the worker's side of
 * the InitSync exchange (PID, CONSOLE, READY, START, EOF). */
#ifndef SV_INIT_FIXTURE_H
#define SV_INIT_FIXTURE_H
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "init.pb.h"
#include "wire/fdchan.h"
#include "wire/limits.h"
#include "wire/pbio.h"
#include "build_fixture.h"

#define TEST_HOST "sv-test-host"

struct run {
	char bundle[64];
	char init[PATH_MAX];
	pid_t launcher;         /* the exec'd shimvisor-init (exits at once with a pid ns) */
	pid_t task;             /* from INIT_PID */
	int sync;               /* our end of the SOCK_SEQPACKET pair */
	int out;                /* read end of the process's stdout+stderr */
	int in;                 /* write end of its stdin, or -1 (/dev/null) */
	int console;            /* the pty master from INIT_CONSOLE, or -1 */
	int own_bundle;         /* the bundle is this run's to remove */
};

/* asprintf or fail. Not inlined: GCC 12 then takes the result for a pointer to the local
 * that held it (a false -Wdangling-pointer). */
static __attribute__((noinline, unused, format(printf, 1, 2))) char *fx_asprintf(
	const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	return s;
}

static inline void init_path(char *buf, size_t sz)
{
	fx_build_path(buf, sz, "shimvisor-init");
}

/* A minimal spec: host / read-only, fresh /proc, /dev, /dev/pts, /tmp; pid mount uts ipc
 * network namespaces. args_json is a JSON array; the extras are more members of "process",
 * more "mounts" entries, more members of "linux" (each "" or starting with a comma). */
static inline char *make_spec(const char *args_json, const char *process_extra,
			      const char *mounts_extra, const char *linux_extra)
{
	return fx_asprintf(
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
}

/* A new spec with the first "from" replaced by "to" (the old one is freed). */
static inline char *spec_replace(char *spec, const char *from, const char *to)
{
	const char *p = strstr(spec, from);
	char *out;

	ck_assert_ptr_nonnull(p);
	out = fx_asprintf("%.*s%s%s", (int)(p - spec), spec, to, p + strlen(from));
	free(spec);
	return out;
}

static inline void write_bundle(struct run *r, const char *json)
{
	char path[128];
	int fd;

	strcpy(r->bundle, "/tmp/sv-init-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(r->bundle));
	r->own_bundle = 1;
	snprintf(path, sizeof(path), "%s/" SV_BUNDLE_CONFIG, r->bundle);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
}

static inline void cleanup_bundle(struct run *r)
{
	char path[128];

	if (!r->own_bundle)
		return;
	snprintf(path, sizeof(path), "%s/" SV_BUNDLE_CONFIG, r->bundle);
	unlink(path);
	snprintf(path, sizeof(path), "%s/" SV_BUNDLE_ROOTFS, r->bundle);
	rmdir(path);
	ck_assert_int_eq(rmdir(r->bundle), 0);
	r->own_bundle = 0;
}

/* fork+exec shimvisor-init with argv: fds 3 cfg, 4 sync, 5 stdin (a pipe when with_stdin,
 * else /dev/null), 6-7 one pipe for stdout+stderr. cfg is closed here. */
static inline void spawn(struct run *r, char *const argv[], int cfg, int with_stdin)
{
	int sp[2], op[2], ip[2] = { -1, -1 }, devnull;

	FX_QEMU_SKIP(FX_QEMU_NO_SUBREAPER);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(pipe2(op, O_CLOEXEC), 0);
	if (with_stdin)
		ck_assert_int_eq(pipe2(ip, O_CLOEXEC), 0);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(devnull, 0);
	r->launcher = fork();
	ck_assert_int_ge(r->launcher, 0);
	if (r->launcher == 0) {
		char *envp[] = { NULL };
		int src[5] = { cfg, sp[1], with_stdin ? ip[0] : devnull, op[1], op[1] };

		for (int i = 0; i < 5; i++)     /* out of the way of 3..7 */
			if ((src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 100)) < 0)
				_exit(120);
		for (int i = 0; i < 5; i++)
			if (dup2(src[i], SV_INIT_FD_CONFIG + i) < 0)
				_exit(121);
		if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
			_exit(122);
		close_range(SV_INIT_FD_STDIO + 3, ~0U, 0);
		execve(argv[0], argv, envp);
		_exit(123);
	}
	close(cfg);
	close(devnull);
	close(sp[1]);
	close(op[1]);
	if (with_stdin)
		close(ip[0]);
	r->sync = sp[0];
	r->out = op[0];
	r->in = ip[1];
}

/* A task's init: write the bundle, launch `shimvisor-init BUNDLE`. */
static inline void launch_opts(struct run *r, const char *json, int with_stdin)
{
	char path[128];
	int cfg;

	memset(r, 0, sizeof(*r));
	r->console = -1;
	init_path(r->init, sizeof(r->init));
	write_bundle(r, json);
	snprintf(path, sizeof(path), "%s/" SV_BUNDLE_CONFIG, r->bundle);
	cfg = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(cfg, 0);
	{
		char *argv[] = { r->init, r->bundle, NULL };

		spawn(r, argv, cfg, with_stdin);
	}
}

static inline void launch(struct run *r, const char *json)
{
	launch_opts(r, json, 0);
}

/* An exec: `shimvisor-init --exec BUNDLE PID [TTY]`, fd 3 a pipe holding the Process JSON;
 * TTY ("tty", "notty" or NULL: none) is the worker's word on the terminal. */
static inline void launch_exec_tty(struct run *r, const char *bundle, pid_t pid,
				   const char *process_json, char *tty)
{
	size_t len = strlen(process_json);
	char pidstr[16];
	int p[2];

	memset(r, 0, sizeof(*r));
	r->console = -1;
	init_path(r->init, sizeof(r->init));
	ck_assert_uint_lt(strlen(bundle), sizeof(r->bundle));
	strcpy(r->bundle, bundle);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	ck_assert_uint_lt(len, 65536);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(write(p[1], process_json, len), (ssize_t)len);
	close(p[1]);
	{
		char *argv[] = { r->init, "--exec", r->bundle, pidstr, tty, NULL };

		spawn(r, argv, p[0], 0);
	}
}

static inline void launch_exec(struct run *r, const char *bundle, pid_t pid,
			       const char *process_json)
{
	launch_exec_tty(r, bundle, pid, process_json, NULL);
}

/* One InitSync; returns its type, or 0 at EOF. A CONSOLE's fd goes to r->console. */
static inline int recv_sync(struct run *r, sv_InitSync *m)
{
	int fds[FDCHAN_MAX_FDS], n = 0;
	int rc = fdchan_recv(r->sync, sv_InitSync_fields, m, fds, &n, 0);

	if (rc == -ECONNRESET)
		return 0;
	ck_assert_int_eq(rc, 1);
	if (m->type == sv_InitSyncType_INIT_CONSOLE) {
		ck_assert_int_eq(n, 1);
		ck_assert_int_eq(r->console, -1);
		r->console = fds[0];
	} else {
		ck_assert_int_eq(n, 0);
	}
	return m->type;
}

static inline void send_start(struct run *r)
{
	sv_InitSync m = sv_InitSync_init_zero;
	uint8_t *buf = NULL;
	size_t len = 0;

	m.type = sv_InitSyncType_INIT_START;
	ck_assert_int_eq(sv_pb_encode(sv_InitSync_fields, &m, &buf, &len), 0);
	ck_assert_int_eq(send(r->sync, buf, len, MSG_NOSIGNAL), (ssize_t)len);
	free(buf);
}

static inline int wait_exit(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	return st;
}

/* One message of type want (an ERROR instead fails the test with its message). */
static inline void expect_msg(struct run *r, int want, sv_InitSync *m)
{
	int t = recv_sync(r, m);

	if (t == sv_InitSyncType_INIT_ERROR)
		ck_abort_msg("init error %d: %s", m->err, m->message ? m->message : "");
	ck_assert_int_eq(t, want);
}

/* Expect PID, CONSOLE when want_console, READY; reap the launcher when it forked. */
static inline void expect_ready_console(struct run *r, int want_console)
{
	sv_InitSync m;

	expect_msg(r, sv_InitSyncType_INIT_PID, &m);
	r->task = (pid_t)m.pid;
	ck_assert_int_gt(r->task, 0);
	sv_pb_free(sv_InitSync_fields, &m);
	if (want_console) {
		expect_msg(r, sv_InitSyncType_INIT_CONSOLE, &m);
		sv_pb_free(sv_InitSync_fields, &m);
		ck_assert_int_ge(r->console, 0);
	}
	expect_msg(r, sv_InitSyncType_INIT_READY, &m);
	sv_pb_free(sv_InitSync_fields, &m);
	if (r->task != r->launcher) {
		int st = wait_exit(r->launcher);

		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
}

static inline void expect_ready(struct run *r)
{
	expect_ready_console(r, 0);
}

/* START, then EOF on the sync socket: the process was exec'd. */
static inline void start_running(struct run *r)
{
	sv_InitSync m;

	send_start(r);
	ck_assert_int_eq(recv_sync(r, &m), 0);  /* EOF: the exec closed the sync fd */
}

/* Everything until EOF (or EIO: a pty master whose slave is gone). */
static inline size_t read_all(int fd, char *buf, size_t sz)
{
	size_t len = 0;
	ssize_t n;

	while (len < sz - 1 && (n = read(fd, buf + len, sz - 1 - len)) != 0) {
		if (n < 0 && errno == EIO)
			break;
		if (n < 0) {
			ck_assert_int_eq(errno, EINTR);
			continue;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

static inline void close_run(struct run *r)
{
	close(r->sync);
	close(r->out);
	if (r->in >= 0)
		close(r->in);
	if (r->console >= 0)
		close(r->console);
	r->in = r->console = -1;
	cleanup_bundle(r);
}

/* Start a READY process; collect its output (from the console when it has one) and wait
 * status; clean everything up. */
static inline int start_and_collect(struct run *r, char *out, size_t sz)
{
	int st;

	start_running(r);
	read_all(r->console >= 0 ? r->console : r->out, out, sz);
	st = wait_exit(r->task);
	close_run(r);
	return st;
}

/* A set-up error: INIT_ERROR (after PID, or before it), then exit 127; cleans up. */
static inline void expect_init_error(struct run *r, int want_err, const char *needle)
{
	sv_InitSync m;
	int t, st;

	t = recv_sync(r, &m);
	if (t == sv_InitSyncType_INIT_PID) {
		r->task = (pid_t)m.pid;
		sv_pb_free(sv_InitSync_fields, &m);
		t = recv_sync(r, &m);
	}
	ck_assert_int_eq(t, sv_InitSyncType_INIT_ERROR);
	ck_assert_msg(m.err == want_err, "err %d, want %d: %s", m.err, want_err,
		      m.message ? m.message : "(none)");
	ck_assert_msg(m.message && strstr(m.message, needle), "message: %s",
		      m.message ? m.message : "(none)");
	sv_pb_free(sv_InitSync_fields, &m);
	if (r->task && r->task != r->launcher) {
		st = wait_exit(r->launcher);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		st = wait_exit(r->task);
	} else {
		st = wait_exit(r->launcher);
	}
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 127);
	close_run(r);
}

static inline int run_cmd(const char *args_json, const char *pextra, const char *mextra,
			  const char *lextra, char *out, size_t sz)
{
	struct run r;
	char *spec = make_spec(args_json, pextra, mextra, lextra);

	launch(&r, spec);
	free(spec);
	expect_ready(&r);
	return start_and_collect(&r, out, sz);
}

#endif
