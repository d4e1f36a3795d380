/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_worker_shim.c: shimvisor-worker as containerd's shim: `start`, Forward, `delete`. */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include "tap_main.h"
#include "worker_fixture.h"
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "common/fsutil.h"
#include "wire/limits.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "wire/ttrpc.h"
#include "worker/worker.h"
#include "task.pb.h"

#define NS "shimns"
#define ID "c1"
#define CALL_MS 10000

struct tb {
	char build[4096];
	char bundle[64];
	char evsock[108];
	char addr[160];         /* what `start` printed */
	const char *stdin_path; /* start's stdin (NULL: /dev/null); then stderr is read too */
};



static void make_bundle(struct tb *b, const char *args_json)
{
	char cfg[4096];
	int n;

	b->stdin_path = NULL;
	fx_build_dir(b->build, sizeof(b->build));
	n = snprintf(cfg, sizeof(cfg),
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},\"args\":[%s],"
		"\"env\":[\"PATH=/usr/bin:/bin\"],\"cwd\":\"/\"},\"root\":{\"path\":\"/\",\"readonly\":true},"
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\"]},"
		"{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}],"
		"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"ipc\"},"
		"{\"type\":\"uts\"},{\"type\":\"network\"}]}}", args_json);
	fx_make_bundle(b->bundle, sizeof(b->bundle), "svs", cfg, (size_t)n);
	snprintf(b->evsock, sizeof(b->evsock), "%s/ev.sock", b->bundle);
}


/* Run `shimvisor-worker -namespace NS ... -bundle BUNDLE ACTION` in BUNDLE (chdir, as
 * containerd does: following a link there, as Go's cmd.Dir would); stdout into out, the
 * exit status in *status. */
static size_t run_worker(struct tb *b, const char *ns, const char *bundle, const char *action,
			 uint8_t *out, size_t outsz, int *status)
{
	char exe[4200], env[160];
	size_t len = 0;
	ssize_t n;
	int p[2], st;
	pid_t pid;

	FX_QEMU_SKIP_IF(!fx_qemu_exec(), FX_QEMU_NO_EXEC);
	snprintf(exe, sizeof(exe), "%s/shimvisor-worker", b->build);
	snprintf(env, sizeof(env), "TTRPC_ADDRESS=%s", b->evsock);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *envp[] = { env, NULL };
		int nul = open(b->stdin_path ? b->stdin_path : "/dev/null", O_RDONLY);

		if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 || dup2(p[1], STDOUT_FILENO) < 0 ||
		    (b->stdin_path && dup2(p[1], STDERR_FILENO) < 0) || chdir(bundle) < 0)
			_exit(120);
		execle(exe, exe, "-namespace", ns, "-address", b->bundle, "-publish-binary", "/bin/false",
		       "-id", ID, "-bundle", bundle, action, NULL, envp);
		_exit(121);
	}
	close(p[1]);
	/* `start`: EOF only once the daemon has let go of the pipe too */
	while ((n = read(p[0], out + len, outsz - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	*status = st;
	return len;
}

static size_t run_action(struct tb *b, const char *action, uint8_t *out, size_t outsz)
{
	int st;
	size_t len = run_worker(b, NS, b->bundle, action, out, outsz, &st);

	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return len;
}

static int shim_start(struct tb *b)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t out[200];
	size_t len = run_action(b, "start", out, sizeof(out) - 1);
	char *addr = NULL;
	size_t alen;
	int dfd, fd;

	out[len] = '\0';
	ck_assert_int_eq(strncmp((char *)out, "unix:///run/shimvisor/.s/", 25), 0);
	ck_assert_uint_eq(len, 25 + 32);
	snprintf(b->addr, sizeof(b->addr), "%s", (char *)out);
	dfd = open(b->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(sv_read_file(dfd, SV_BUNDLE_ADDRESS, 200, &addr, &alen), 0);
	ck_assert_str_eq(addr, b->addr);
	free(addr);
	close(dfd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b->addr + 7);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static int call(int fd, uint32_t *stream, const char *method, const pb_msgdesc_t *qf, const void *q,
		const pb_msgdesc_t *rf, void *r)
{
	int code = -1, err;
	char m[256];

	err = ttrpc_call(fd, *stream, SV_TASK_SERVICE, method, NULL, qf, q, rf, r, CALL_MS, &code,
			 m, sizeof(m));
	*stream += 2;
	ck_assert_msg(err == 0, "%s: transport error %d", method, err);
	ck_assert_msg(code == SV_OK, "%s: %d %s", method, code, m);
	return code;
}

static int listen_events(struct tb *b)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b->evsock);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

/* Serve one Events/Forward call as containerd would and check its topic. */
static void expect_forward(int fd, const char *topic)
{
	struct ttrpc_hdr h;
	uint8_t *body = NULL;
	sv_Request req;
	sv_ForwardRequest fr;
	struct sv_outq q = { 0 };

	ck_assert_int_eq(ttrpc_read_frame(fd, &h, &body, CALL_MS), 0);
	ck_assert_uint_eq(h.type, SV_TTRPC_TYPE_REQUEST);
	ck_assert_uint_eq(h.stream & 1, 1);
	ck_assert_int_eq(sv_pb_decode(sv_Request_fields, &req, body, h.len), 0);
	ck_assert_str_eq(req.service, SV_EVENTS_SERVICE);
	ck_assert_str_eq(req.method, "Forward");
	ck_assert_ptr_nonnull(ttrpc_request_ns(&req));
	ck_assert_str_eq(ttrpc_request_ns(&req), NS);
	ck_assert_ptr_nonnull(req.payload);
	ck_assert_int_eq(sv_pb_decode(sv_ForwardRequest_fields, &fr, req.payload->bytes,
				      req.payload->size), 0);
	ck_assert(fr.has_envelope && fr.envelope.has_event && fr.envelope.has_timestamp);
	ck_assert_str_eq(fr.envelope.topic, topic);
	ck_assert_str_eq(fr.envelope.namespace, NS);
	sv_pb_free(sv_ForwardRequest_fields, &fr);
	sv_pb_free(sv_Request_fields, &req);
	free(body);
	ck_assert_int_eq(sv_outq_frame(&q, h.stream, SV_TTRPC_TYPE_RESPONSE, NULL, 0), 0);
	ck_assert_int_eq(sv_write_all(fd, q.buf, q.len), 0);
	sv_outq_free(&q);
}

/* Through `start`, a task that exits 4: Create, Connect, Start, Wait, Delete, all while
 * containerd's events service (listening, not yet accepting) answers nothing. Returns the
 * shim server's pid; *fdp its connection. */
static pid_t run_task_to_delete(struct tb *b, int *fdp, uint32_t *s)
{
	sv_CreateTaskRequest cq = { .id = ID, .bundle = b->bundle };
	sv_CreateTaskResponse cr = { 0 };
	sv_ConnectRequest nq = { .id = ID };
	sv_ConnectResponse nr = { 0 };
	sv_StartRequest sq = { .id = ID };
	sv_StartResponse sr = { 0 };
	sv_WaitRequest wq = { .id = ID };
	sv_WaitResponse wr = { 0 };
	sv_DeleteRequest dq = { .id = ID };
	sv_DeleteResponse dr = { 0 };
	pid_t shim;
	int fd;

	FX_QEMU_SKIP(FX_QEMU_NO_SUBREAPER);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);   /* the daemon comes to us */
	fd = shim_start(b);
	call(fd, s, "Create", sv_CreateTaskRequest_fields, &cq, sv_CreateTaskResponse_fields, &cr);
	call(fd, s, "Connect", sv_ConnectRequest_fields, &nq, sv_ConnectResponse_fields, &nr);
	ck_assert_uint_eq(nr.task_pid, cr.pid);
	shim = (pid_t)nr.shim_pid;
	ck_assert_int_gt(shim, 1);
	sv_pb_free(sv_ConnectResponse_fields, &nr);
	call(fd, s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields, &sr);
	call(fd, s, "Wait", sv_WaitRequest_fields, &wq, sv_WaitResponse_fields, &wr);
	ck_assert_uint_eq(wr.exit_status, 4);
	call(fd, s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields, &dr);
	ck_assert_uint_eq(dr.exit_status, 4);
	*fdp = fd;
	return shim;
}

/* Shutdown: the server exits 0 and removes its socket. */
static void shutdown_shim(struct tb *b, int fd, uint32_t *s, pid_t shim)
{
	sv_ShutdownRequest xq = { .id = ID };
	int st;

	call(fd, s, "Shutdown", sv_ShutdownRequest_fields, &xq, NULL, NULL);
	ck_assert_int_eq(waitpid(shim, &st, 0), shim);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_ne(access(b->addr + 7, F_OK), 0);
	close(fd);
}

/* shimvisor-init must be built (`make unit` builds it): a test skipped without it would
 * pass without testing anything. */
static void need_init(const struct tb *b)
{
	ck_assert_msg(fx_have_init(b->build), "%s/shimvisor-init is not built", b->build);
}

START_TEST(test_start_and_forward)
{
	struct tb b;
	uint32_t s = 1;
	pid_t shim;
	int fd, lev, ev;

	make_bundle(&b, "\"/bin/sh\",\"-c\",\"exit 4\"");
	need_init(&b);
	lev = listen_events(&b);
	shim = run_task_to_delete(&b, &fd, &s);
	/* containerd's events service answers late: the events wait, in order */
	ev = accept4(lev, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(ev, 0);
	expect_forward(ev, "/tasks/create");
	expect_forward(ev, "/tasks/start");
	expect_forward(ev, "/tasks/exit");
	expect_forward(ev, "/tasks/delete");
	shutdown_shim(&b, fd, &s, shim);
	close(ev);
	close(lev);
	fx_rm_bundle(b.bundle);
}
END_TEST

/* containerd's events service fails again and again: every event is retried, in order,
 * past the 5 attempts after which a Go shim drops one, and none is lost. */
START_TEST(test_forward_never_dropped)
{
	struct tb b;
	uint32_t s = 1;
	pid_t shim;
	int fd, lev, ev, i;

	make_bundle(&b, "\"/bin/sh\",\"-c\",\"exit 4\"");
	need_init(&b);
	lev = listen_events(&b);
	shim = run_task_to_delete(&b, &fd, &s);
	/* six attempts in a row end with the connection dropped before any reply */
	for (i = 0; i < 6; i++) {
		struct pollfd p = { .fd = lev, .events = POLLIN };
		struct ttrpc_hdr h;
		uint8_t *body = NULL;

		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		ev = accept4(lev, NULL, NULL, SOCK_CLOEXEC);
		ck_assert_int_ge(ev, 0);
		ck_assert_int_eq(ttrpc_read_frame(ev, &h, &body, CALL_MS), 0);
		free(body);
		close(ev);
	}
	ev = accept4(lev, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(ev, 0);
	expect_forward(ev, "/tasks/create");
	expect_forward(ev, "/tasks/start");
	expect_forward(ev, "/tasks/exit");
	expect_forward(ev, "/tasks/delete");
	shutdown_shim(&b, fd, &s, shim);
	close(ev);
	close(lev);
	fx_rm_bundle(b.bundle);
}
END_TEST

static void delete_action(struct tb *b, sv_DeleteResponse *r)
{
	uint8_t out[128];
	size_t len = run_action(b, "delete", out, sizeof(out));

	ck_assert_int_eq(sv_pb_decode(sv_DeleteResponse_fields, r, out, len), 0);
}

/* The shim was SIGKILLed while its task ran: `delete` kills the task and says 137. */
START_TEST(test_delete_dead_shim)
{
	struct tb b;
	sv_CreateTaskRequest cq = { .id = ID };
	sv_CreateTaskResponse cr = { 0 };
	sv_ConnectRequest nq = { .id = ID };
	sv_ConnectResponse nr = { 0 };
	sv_StartRequest sq = { .id = ID };
	sv_StartResponse sr = { 0 };
	sv_DeleteResponse r;
	uint32_t s = 1;
	pid_t shim;
	int fd, st = 0;

	make_bundle(&b, "\"/bin/sleep\",\"1000\"");
	need_init(&b);
	FX_QEMU_SKIP(FX_QEMU_NO_SUBREAPER);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);   /* orphans come to us */
	fd = shim_start(&b);
	cq.bundle = b.bundle;
	call(fd, &s, "Create", sv_CreateTaskRequest_fields, &cq, sv_CreateTaskResponse_fields, &cr);
	call(fd, &s, "Connect", sv_ConnectRequest_fields, &nq, sv_ConnectResponse_fields, &nr);
	shim = (pid_t)nr.shim_pid;
	ck_assert_int_gt(shim, 1);
	sv_pb_free(sv_ConnectResponse_fields, &nr);
	call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields, &sr);
	close(fd);
	ck_assert_int_eq(kill(shim, SIGKILL), 0);
	ck_assert_int_eq(waitpid(shim, &st, 0), shim);
	ck_assert_int_eq(kill((pid_t)cr.pid, 0), 0);

	delete_action(&b, &r);
	ck_assert_uint_eq(r.pid, cr.pid);
	ck_assert_uint_eq(r.exit_status, 137);
	ck_assert(r.has_exited_at && r.exited_at.seconds > 0);
	ck_assert_int_eq(waitpid((pid_t)cr.pid, &st, 0), (pid_t)cr.pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ck_assert_int_ne(access(b.addr + 7, F_OK), 0);      /* socket removed */
	delete_action(&b, &r);                              /* idempotent */
	ck_assert_uint_eq(r.exit_status, 137);
	fx_rm_bundle(b.bundle);
}
END_TEST

START_TEST(test_delete_recorded_exit)
{
	struct tb b;
	sv_DeleteResponse r;
	int dfd;

	make_bundle(&b, "\"/bin/true\"");
	dfd = open(b.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(sv_write_atomic(dfd, SV_BUNDLE_INIT_PID, "999999 12\n", 10, 0644), 0);
	ck_assert_int_eq(sv_write_atomic(dfd, SV_BUNDLE_EXIT, "3 1700000000 5\n", 15, 0644), 0);
	delete_action(&b, &r);
	ck_assert_uint_eq(r.pid, 999999);
	ck_assert_uint_eq(r.exit_status, 3);
	ck_assert_int_eq(r.exited_at.seconds, 1700000000);
	ck_assert_int_eq(r.exited_at.nanos, 5);
	/* nothing recorded at all: pid 0, 137 */
	ck_assert_int_eq(unlinkat(dfd, SV_BUNDLE_INIT_PID, 0), 0);
	ck_assert_int_eq(unlinkat(dfd, SV_BUNDLE_EXIT, 0), 0);
	delete_action(&b, &r);
	ck_assert_uint_eq(r.pid, 0);
	ck_assert_uint_eq(r.exit_status, 137);
	close(dfd);
	fx_rm_bundle(b.bundle);
}
END_TEST

/* A private mount namespace for a test that mounts (this test's forked child and the
 * workers it runs); false where there is none to be had. */
static bool private_mounts(void)
{
	if (unshare(CLONE_NEWNS) < 0) {
		fprintf(stderr, "# skip: unshare(CLONE_NEWNS): %s\n", strerror(errno));
		return false;
	}
	ck_assert_int_eq(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	return true;
}

/* A tmpfs on a new directory /tmp/svv.XXXXXX holding `file`. */
static void victim_mount(char dir[32])
{
	char f[64];
	int fd;

	snprintf(dir, 32, "/tmp/svv.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(mount("tmpfs", dir, "tmpfs", 0, "size=64k"), 0);
	snprintf(f, sizeof(f), "%s/file", dir);
	fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

/* dir is still a mount point with its file (the file exists only on the tmpfs) */
static void still_mounted(const char *dir)
{
	char f[64];

	snprintf(f, sizeof(f), "%s/file", dir);
	ck_assert_msg(access(f, F_OK) == 0, "%s was unmounted", dir);
	ck_assert_int_eq(umount(dir), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}

/* A process the cleanup must not kill: a child that waits; its init.pid record in rec. */
static pid_t victim_process(char *rec, size_t sz)
{
	char path[64], buf[1024], *p;
	pid_t pid = fork();
	ssize_t n;
	int fd;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	for (int i = 0; i < 20 && p; i++)       /* field 22: the start time */
		p = strchr(p + 1, ' ');
	ck_assert_ptr_nonnull(p);
	snprintf(rec, sz, "%d %llu\n", (int)pid, strtoull(p + 1, NULL, 10));
	return pid;
}

/* containerd's `delete` in a bundle whose entries were replaced by links: rootfs to a
 * mount elsewhere, address to a file elsewhere, init.pid and exit to files naming another
 * process and another status. Nothing is unmounted, unlinked, killed or read through them;
 * the shim's own socket (the name derived from -address/ns/id) is removed. */
START_TEST(test_delete_follows_no_link)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct wopts o = { .ns = NS, .id = ID };
	char victim[32], out_dir[64], rec[64], f[128];
	sv_DeleteResponse r;
	struct tb b;
	pid_t vp;
	int dfd, odfd, sfd, st;

	if (!private_mounts())
		return;
	make_bundle(&b, "\"/bin/true\"");
	dfd = open(b.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	victim_mount(victim);
	snprintf(out_dir, sizeof(out_dir), "/tmp/svo.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(out_dir));
	odfd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	vp = victim_process(rec, sizeof(rec));
	ck_assert_int_eq(sv_write_atomic(odfd, "init.pid", rec, strlen(rec), 0644), 0);
	ck_assert_int_eq(sv_write_atomic(odfd, "exit", "3 1700000000 5\n", 15, 0644), 0);
	ck_assert_int_eq(sv_write_atomic(odfd, "keep", "k", 1, 0644), 0);

	ck_assert_int_eq(symlinkat(victim, dfd, SV_BUNDLE_ROOTFS), 0);
	snprintf(f, sizeof(f), "%s/init.pid", out_dir);
	ck_assert_int_eq(symlinkat(f, dfd, SV_BUNDLE_INIT_PID), 0);
	snprintf(f, sizeof(f), "%s/exit", out_dir);
	ck_assert_int_eq(symlinkat(f, dfd, SV_BUNDLE_EXIT), 0);
	snprintf(f, sizeof(f), "unix://%s/keep", out_dir);
	ck_assert_int_eq(sv_write_atomic(dfd, SV_BUNDLE_ADDRESS, f, strlen(f), 0644), 0);
	/* the socket `start` would have made */
	o.address = b.bundle;
	ck_assert_int_eq(w_socket_path(&o, sa.sun_path, sizeof(sa.sun_path)), 0);
	ck_assert_int_eq(sv_mkdir_p("/run/shimvisor/.s", 0700), 0);
	sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(sa.sun_path);
	ck_assert_int_eq(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(sfd);

	delete_action(&b, &r);
	ck_assert_uint_eq(r.exit_status, 137);      /* exit was not read through its link */
	ck_assert_uint_eq(r.pid, 0);                /* nor init.pid */
	ck_assert_int_eq(kill(vp, 0), 0);
	ck_assert_int_eq(faccessat(odfd, "keep", F_OK, 0), 0);
	ck_assert_int_ne(access(sa.sun_path, F_OK), 0);     /* our own socket: removed */
	still_mounted(victim);

	kill(vp, SIGKILL);
	ck_assert_int_eq(waitpid(vp, &st, 0), vp);
	close(odfd);
	close(dfd);
	fx_rm_bundle(out_dir);
	fx_rm_bundle(b.bundle);
}
END_TEST

/* The bundle itself a link (to a directory with a mount on its rootfs and an init.pid naming
 * another process): `delete` refuses to enter it and touches nothing there. */
START_TEST(test_delete_bundle_link)
{
	char link[64], rec[64], rootfs[64];
	uint8_t out[128];
	struct tb b;
	pid_t vp;
	int dfd, st;

	if (!private_mounts())
		return;
	make_bundle(&b, "\"/bin/true\"");
	dfd = open(b.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	vp = victim_process(rec, sizeof(rec));
	ck_assert_int_eq(sv_write_atomic(dfd, SV_BUNDLE_INIT_PID, rec, strlen(rec), 0644), 0);
	ck_assert_int_eq(mkdirat(dfd, SV_BUNDLE_ROOTFS, 0755), 0);
	snprintf(rootfs, sizeof(rootfs), "%s/%s", b.bundle, SV_BUNDLE_ROOTFS);
	ck_assert_int_eq(mount("tmpfs", rootfs, "tmpfs", 0, "size=64k"), 0);
	snprintf(link, sizeof(link), "%s.link", b.bundle);
	ck_assert_int_eq(symlink(b.bundle, link), 0);

	run_worker(&b, NS, link, "delete", out, sizeof(out), &st);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	ck_assert_int_eq(kill(vp, 0), 0);
	ck_assert_int_eq(umount(rootfs), 0);        /* still mounted */

	kill(vp, SIGKILL);
	ck_assert_int_eq(waitpid(vp, &st, 0), vp);
	ck_assert_int_eq(unlink(link), 0);
	close(dfd);
	fx_rm_bundle(b.bundle);
}
END_TEST

/* An empty namespace on the command line: nothing is done, for `start` and `delete`. */
START_TEST(test_empty_namespace_refused)
{
	uint8_t out[200];
	struct tb b;
	size_t len;
	int dfd, st;

	make_bundle(&b, "\"/bin/true\"");
	dfd = open(b.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	len = run_worker(&b, "", b.bundle, "start", out, sizeof(out), &st);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_ne(faccessat(dfd, SV_BUNDLE_ADDRESS, F_OK, 0), 0);
	ck_assert_int_eq(sv_write_atomic(dfd, SV_BUNDLE_INIT_PID, "999999 12\n", 10, 0644), 0);
	len = run_worker(&b, "", b.bundle, "delete", out, sizeof(out), &st);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	ck_assert_uint_eq(len, 0);
	close(dfd);
	fx_rm_bundle(b.bundle);
}
END_TEST

/* start's stdin (an Any, as containerd writes it): undecodable runc options, or a
 * ShimCgroup in no hierarchy, fail it with containerd's output saying why; a ShimCgroup
 * failure kills the daemon it started and removes its socket. */
START_TEST(test_start_runc_options)
{
	static const uint8_t bad[] = { 0x0a, 0x1a, 'c', 'o', 'n' };   /* a truncated type_url */
	static const char url[] = "containerd.runc.v1.Options", cg[] = "/sv-no-such-cgroup-82";
	uint8_t any[128], out[400];
	char in[96], *addr = NULL;
	size_t len, n = 0, alen;
	struct tb b;
	int dfd, fd, st;

	make_bundle(&b, "\"/bin/true\"");
	snprintf(in, sizeof(in), "%s.stdin", b.bundle);
	b.stdin_path = in;
	dfd = open(b.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = open(in, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_eq(write(fd, bad, sizeof(bad)), (ssize_t)sizeof(bad));
	close(fd);
	len = run_worker(&b, NS, b.bundle, "start", out, sizeof(out) - 1, &st);
	out[len] = '\0';
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	ck_assert_msg(strstr((char *)out, "runc options (containerd.runc.v1.Options) on stdin"), "%s", out);
	ck_assert_int_ne(faccessat(dfd, SV_BUNDLE_ADDRESS, F_OK, 0), 0);
	/* Any{type_url, value = Options{shim_cgroup = cg}} */
	any[n++] = 0x0a;
	any[n++] = sizeof(url) - 1;
	memcpy(any + n, url, sizeof(url) - 1);
	n += sizeof(url) - 1;
	any[n++] = 0x12;
	any[n++] = (uint8_t)(2 + sizeof(cg) - 1);
	any[n++] = 0x1a;
	any[n++] = sizeof(cg) - 1;
	memcpy(any + n, cg, sizeof(cg) - 1);
	n += sizeof(cg) - 1;
	fd = open(in, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ck_assert_int_eq(write(fd, any, n), (ssize_t)n);
	close(fd);
	len = run_worker(&b, NS, b.bundle, "start", out, sizeof(out) - 1, &st);
	out[len] = '\0';
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	ck_assert_msg(strstr((char *)out, "failed to load cgroup /sv-no-such-cgroup-82"), "%s", out);
	/* the address was written before the daemon was started; its socket is gone */
	ck_assert_int_eq(sv_read_file(dfd, SV_BUNDLE_ADDRESS, 200, &addr, &alen), 0);
	ck_assert_int_eq(strncmp(addr, "unix://", 7), 0);
	ck_assert_int_ne(access(addr + 7, F_OK), 0);
	free(addr);
	close(dfd);
	unlink(in);
	fx_rm_bundle(b.bundle);
}
END_TEST

/* Run in the test runner after the cases, failed or not: a shim daemon that a failed case
 * started (setsid, reparented away from us) must not outlive the suite. Ours are the
 * workers of namespace NS. */
static void kill_leftover_shims(void)
{
	static const char want[] = "-namespace\0" NS;
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[64], buf[4096];
		ssize_t n;
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n > 0 && strstr(buf, "shimvisor-worker") &&
		    memmem(buf, (size_t)n, want, sizeof(want)) != NULL)
			kill(atoi(de->d_name), SIGKILL);
	}
	closedir(d);
}

int main(void)
{
	Suite *su = suite_create("worker_shim");
	TCase *tc = tcase_create("shim");

	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, NULL, kill_leftover_shims);
	tcase_add_test(tc, test_delete_recorded_exit);
	tcase_add_test(tc, test_start_and_forward);
	tcase_add_test(tc, test_delete_dead_shim);
	tcase_add_test(tc, test_forward_never_dropped);
	tcase_add_test(tc, test_delete_follows_no_link);
	tcase_add_test(tc, test_delete_bundle_link);
	tcase_add_test(tc, test_empty_namespace_refused);
	tcase_add_test(tc, test_start_runc_options);
	suite_add_tcase(su, tc);
	return sv_run_suite(su);
}
