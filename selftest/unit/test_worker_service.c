/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_worker_service.c: shimvisor-worker end to end over its socket and report pipe. */
#include <check.h>
#include "tap_main.h"
#include "worker_fixture.h"
#include "cgroup_fixture.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
#include "report.pb.h"
#include "task.pb.h"

#define NS "testns"
#define ID "t1"
#define CALL_MS 10000

struct tw {
	char bundle[64];
	char sock[108];
	char build[4096];
	pid_t pid;              /* the worker */
	int rep;                /* read end of the report pipe */
	uint8_t rbuf[SV_REPORT_MAX + 16];
	size_t rlen;
};



static const char *ns_all =
	"{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"ipc\"},{\"type\":\"network\"}";
static const char *ns_nopid =
	"{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"ipc\"},{\"type\":\"network\"}";

static void make_bundle_x(struct tw *w, const char *args_json, const char *namespaces,
			  const char *linux_extra, const char *mounts_extra)
{
	char cfg[4096];
	int n;

	n = snprintf(cfg, sizeof(cfg),
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
		"\"args\":[%s],\"env\":[\"PATH=/usr/sbin:/usr/bin:/sbin:/bin\"],\"cwd\":\"/\"},"
		"\"root\":{\"path\":\"/\",\"readonly\":true},\"hostname\":\"t1\","
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"mode=755\"]},"
		"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\"]},"
		"{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"nodev\"]}%s],"
		"\"linux\":{%s\"namespaces\":[%s]}}",
		args_json, mounts_extra, linux_extra, namespaces);
	fx_make_bundle(w->bundle, sizeof(w->bundle), "svw", cfg, (size_t)n);
}

static void make_bundle(struct tw *w, const char *args_json, const char *namespaces)
{
	make_bundle_x(w, args_json, namespaces, "", "");
}

static void start_worker(struct tw *w)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char exe[4200];
	int lfd, p[2];

	snprintf(exe, sizeof(exe), "%s/shimvisor-worker", w->build);
	snprintf(w->sock, sizeof(w->sock), "%s/s.sock", w->bundle);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", w->sock);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	w->pid = fork();
	ck_assert_int_ge(w->pid, 0);
	if (w->pid == 0) {
		int a = fcntl(lfd, F_DUPFD_CLOEXEC, 10), b = fcntl(p[1], F_DUPFD_CLOEXEC, 10);

		/* a failed test must not leave its worker behind */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (a < 0 || b < 0 || chdir(w->bundle) < 0 || dup2(a, SV_FD_LISTEN) < 0 ||
		    dup2(b, SV_FD_REPORT) < 0)
			_exit(120);
		close_range(SV_FD_REPORT + 1, ~0U, 0);
		execl(exe, exe, "-namespace", NS, "-id=" ID, "--debug=false", "-unknown-flag", "x", NULL);
		_exit(121);
	}
	close(lfd);
	close(p[1]);
	w->rep = p[0];
	w->rlen = 0;
}

static int connect_worker(const struct tw *w)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", w->sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* One blocking call; returns the ttrpc status code. */
static int call(int fd, uint32_t *stream, const char *method, const pb_msgdesc_t *qf, const void *q,
		const pb_msgdesc_t *rf, void *r, char *msg, size_t msgsz)
{
	int code = -1, err;
	char m[256];

	err = ttrpc_call(fd, *stream, SV_TASK_SERVICE, method, NULL, qf, q, rf, r, CALL_MS, &code,
			 msg ? msg : m, msg ? msgsz : sizeof(m));
	*stream += 2;
	ck_assert_msg(err == 0, "%s: transport error %d", method, err);
	return code;
}

/* Next report (blocking, bounded). */
static void next_report(struct tw *w, sv_Report *out)
{
	for (;;) {
		size_t h, b;
		int r = sv_report_peek(w->rbuf, w->rlen, &h, &b);
		struct pollfd p = { .fd = w->rep, .events = POLLIN };
		ssize_t n;

		ck_assert_int_ge(r, 0);
		if (r == 1) {
			ck_assert_int_eq(sv_pb_decode(sv_Report_fields, out, w->rbuf + h, b), 0);
			memmove(w->rbuf, w->rbuf + h + b, w->rlen - h - b);
			w->rlen -= h + b;
			return;
		}
		ck_assert_int_eq(poll(&p, 1, CALL_MS), 1);
		n = read(w->rep, w->rbuf + w->rlen, sizeof(w->rbuf) - w->rlen);
		ck_assert_int_gt(n, 0);
		w->rlen += (size_t)n;
	}
}

static void expect_event(struct tw *w, uint64_t seq, const char *topic, const char *type)
{
	sv_Report r;

	next_report(w, &r);
	ck_assert_uint_eq(r.seq, seq);
	ck_assert_uint_eq(r.which_kind, sv_Report_event_tag);
	ck_assert_str_eq(r.kind.event.topic, topic);
	ck_assert_str_eq(r.kind.event.namespace, NS);
	ck_assert(r.kind.event.has_timestamp && r.kind.event.timestamp.seconds > 0);
	ck_assert(r.kind.event.has_event);
	ck_assert_str_eq(r.kind.event.event.type_url, type);
	sv_pb_free(sv_Report_fields, &r);
}

static void expect_hello(struct tw *w)
{
	sv_Report r;

	next_report(w, &r);
	ck_assert_uint_eq(r.seq, 1);
	ck_assert_uint_eq(r.which_kind, sv_Report_hello_tag);
	ck_assert_str_eq(r.kind.hello.version, SV_VERSION);
	ck_assert_uint_eq(r.kind.hello.worker_pid, (uint32_t)w->pid);
	sv_pb_free(sv_Report_fields, &r);
}

static int wait_worker(struct tw *w)
{
	int st = 0;

	ck_assert_int_eq(waitpid(w->pid, &st, 0), w->pid);
	close(w->rep);
	return st;
}


static uint32_t do_create(struct tw *w, int fd, uint32_t *s)
{
	sv_CreateTaskRequest q = { .id = ID, .bundle = w->bundle };
	sv_CreateTaskResponse r = { 0 };
	char msg[256] = "";
	int code = call(fd, s, "Create", sv_CreateTaskRequest_fields, &q,
			sv_CreateTaskResponse_fields, &r, msg, sizeof(msg));

	ck_assert_msg(code == SV_OK, "Create: %d %s", code, msg);
	ck_assert_uint_gt(r.pid, 0);
	return r.pid;
}

static void do_shutdown(struct tw *w, int fd, uint32_t *s)
{
	sv_ShutdownRequest q = { .id = ID };

	ck_assert_int_eq(call(fd, s, "Shutdown", sv_ShutdownRequest_fields, &q, NULL, NULL, NULL, 0), SV_OK);
	ck_assert_int_eq(wait_worker(w), 0);
	ck_assert_int_ne(access(w->sock, F_OK), 0);     /* the worker removed its socket */
	close(fd);
}

START_TEST(test_lifecycle)
{
	struct tw w;
	sv_ConnectRequest cq = { .id = ID };
	sv_ConnectResponse cr = { 0 };
	sv_StartRequest sq = { .id = ID };
	sv_StartResponse sr = { 0 };
	sv_WaitRequest wq = { .id = ID };
	sv_WaitResponse wr;
	sv_StateRequest tq = { .id = ID };
	sv_StateResponse tr;
	sv_DeleteRequest dq = { .id = ID };
	sv_DeleteResponse dr = { 0 };
	struct ttrpc_hdr h;
	uint8_t *body = NULL, *req = NULL;
	size_t len;
	sv_Response resp;
	uint32_t s = 1, pid;
	char *exitf = NULL;
	size_t elen;
	int fd, fd2, dfd, st;
	unsigned es;

	fx_build_dir(w.build, sizeof(w.build));
	if (!fx_have_init(w.build)) {
		printf("# SKIP shimvisor-init not built\n");
		return;
	}
	make_bundle(&w, "\"/bin/sh\",\"-c\",\"exit 3\"", ns_all);
	start_worker(&w);
	expect_hello(&w);
	fd = connect_worker(&w);
	fd2 = connect_worker(&w);

	pid = do_create(&w, fd, &s);
	expect_event(&w, 2, "/tasks/create", "containerd.events.TaskCreate");
	ck_assert_int_eq(call(fd, &s, "Connect", sv_ConnectRequest_fields, &cq,
			      sv_ConnectResponse_fields, &cr, NULL, 0), SV_OK);
	ck_assert_uint_eq(cr.shim_pid, (uint32_t)w.pid);
	ck_assert_uint_eq(cr.task_pid, pid);
	sv_pb_free(sv_ConnectResponse_fields, &cr);

	/* Wait before Start, on a second connection: deferred, answered at exit. */
	ck_assert_int_eq(ttrpc_encode_request(SV_TASK_SERVICE, "Wait", NULL, 0, sv_WaitRequest_fields,
					      &wq, &req, &len), 0);
	{
		struct sv_outq q = { 0 };

		ck_assert_int_eq(sv_outq_frame(&q, 7, SV_TTRPC_TYPE_REQUEST, req, len), 0);
		ck_assert_int_eq(sv_write_all(fd2, q.buf, q.len), 0);
		sv_outq_free(&q);
	}
	free(req);

	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, NULL, 0), SV_OK);
	ck_assert_uint_eq(sr.pid, pid);

	ck_assert_int_eq(ttrpc_read_frame(fd2, &h, &body, CALL_MS), 0);
	ck_assert_uint_eq(h.stream, 7);
	ck_assert_int_eq(sv_pb_decode(sv_Response_fields, &resp, body, h.len), 0);
	ck_assert(!resp.has_status || resp.status.code == 0);
	ck_assert_ptr_nonnull(resp.payload);
	ck_assert_int_eq(sv_pb_decode(sv_WaitResponse_fields, &wr, resp.payload->bytes,
				      resp.payload->size), 0);
	ck_assert_uint_eq(wr.exit_status, 3);
	ck_assert(wr.has_exited_at && wr.exited_at.seconds > 0);
	sv_pb_free(sv_Response_fields, &resp);
	free(body);

	ck_assert_int_eq(call(fd, &s, "State", sv_StateRequest_fields, &tq, sv_StateResponse_fields,
			      &tr, NULL, 0), SV_OK);
	ck_assert_uint_eq(tr.status, sv_TaskStatus_STOPPED);
	ck_assert_uint_eq(tr.exit_status, 3);
	ck_assert_uint_eq(tr.pid, pid);
	ck_assert_str_eq(tr.id, ID);
	ck_assert_str_eq(tr.bundle, w.bundle);
	sv_pb_free(sv_StateResponse_fields, &tr);

	/* the exit file was written before /tasks/exit */
	dfd = open(w.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(sv_read_file(dfd, SV_BUNDLE_EXIT, 128, &exitf, &elen), 0);
	ck_assert_int_eq(sscanf(exitf, "%u", &es), 1);
	ck_assert_uint_eq(es, 3);
	free(exitf);
	ck_assert_int_eq(sv_read_file(dfd, SV_BUNDLE_INIT_PID, 128, &exitf, &elen), 0);
	ck_assert_int_eq(atoi(exitf), (int)pid);
	free(exitf);
	close(dfd);

	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, NULL, 0), SV_OK);
	ck_assert_uint_eq(dr.exit_status, 3);
	ck_assert_uint_eq(dr.pid, pid);
	/* forgotten */
	ck_assert_int_eq(call(fd, &s, "State", sv_StateRequest_fields, &tq, sv_StateResponse_fields,
			      &tr, NULL, 0), SV_NOT_FOUND);

	expect_event(&w, 3, "/tasks/start", "containerd.events.TaskStart");
	expect_event(&w, 4, "/tasks/exit", "containerd.events.TaskExit");
	expect_event(&w, 5, "/tasks/delete", "containerd.events.TaskDelete");
	close(fd2);
	do_shutdown(&w, fd, &s);
	(void)st;
	fx_rm_bundle(w.bundle);
}
END_TEST

static void kill_case(const char *nss, uint32_t sig, bool all, uint32_t want)
{
	struct tw w;
	sv_StartRequest sq = { .id = ID };
	sv_StartResponse sr = { 0 };
	sv_KillRequest kq = { .id = ID, .signal = sig, .all = all };
	sv_WaitRequest wq = { .id = ID };
	sv_WaitResponse wr = { 0 };
	sv_PidsRequest pq = { .id = ID };
	sv_PidsResponse pr;
	sv_DeleteRequest dq = { .id = ID };
	sv_DeleteResponse dr = { 0 };
	char msg[256];
	uint32_t s = 1, pid;
	int fd;

	fx_build_dir(w.build, sizeof(w.build));
	if (!fx_have_init(w.build)) {
		printf("# SKIP shimvisor-init not built\n");
		return;
	}
	make_bundle(&w, "\"/bin/sleep\",\"1000\"", nss);
	start_worker(&w);
	fd = connect_worker(&w);
	pid = do_create(&w, fd, &s);
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Pids", sv_PidsRequest_fields, &pq, sv_PidsResponse_fields, &pr,
			      NULL, 0), SV_OK);
	ck_assert_uint_eq(pr.processes_count, 1);
	ck_assert_uint_eq(pr.processes[0].pid, pid);
	sv_pb_free(sv_PidsResponse_fields, &pr);
	/* Delete of a running task is refused */
	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, NULL, 0), SV_FAILED_PRECONDITION);
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, msg, sizeof(msg)), SV_UNKNOWN);
	ck_assert_str_eq(msg, "cannot start a running process");
	ck_assert_int_eq(call(fd, &s, "Kill", sv_KillRequest_fields, &kq, NULL, NULL, NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Wait", sv_WaitRequest_fields, &wq, sv_WaitResponse_fields, &wr,
			      NULL, 0), SV_OK);
	ck_assert_uint_eq(wr.exit_status, want);
	ck_assert_int_eq(call(fd, &s, "Kill", sv_KillRequest_fields, &kq, NULL, NULL, msg, sizeof(msg)),
			 SV_NOT_FOUND);
	ck_assert_str_eq(msg, "process already finished: not found");
	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, NULL, 0), SV_OK);
	ck_assert_uint_eq(dr.exit_status, want);
	do_shutdown(&w, fd, &s);
	fx_rm_bundle(w.bundle);
}

START_TEST(test_kill_sigkill) { kill_case(ns_all, SIGKILL, false, 137); }
END_TEST
START_TEST(test_kill_all) { kill_case(ns_all, SIGKILL, true, 137); }
END_TEST
START_TEST(test_kill_sigterm_hostpid) { kill_case(ns_nopid, SIGTERM, false, 143); }
END_TEST

static int is_mounted(const char *path)
{
	char *mi = NULL, needle[200];
	size_t len;
	int r;

	ck_assert_int_eq(sv_read_file(AT_FDCWD, "/proc/self/mountinfo", 1u << 20, &mi, &len), 0);
	snprintf(needle, sizeof(needle), " %s ", path);
	r = strstr(mi, needle) != NULL;
	free(mi);
	return r;
}

/* A created, never started task: Delete kills it (137); its rootfs mounts come and go. */
START_TEST(test_created_delete)
{
	struct tw w;
	char *opts[] = { (char *)"nosuid", (char *)"size=1m", (char *)"ro" };
	sv_Mount m = { .type = (char *)"tmpfs", .source = (char *)"tmpfs", .options_count = 3,
		       .options = opts };
	sv_CreateTaskRequest cq = { .id = ID, .rootfs_count = 1, .rootfs = &m };
	sv_CreateTaskResponse cr = { 0 };
	char rootfs[128];
	sv_DeleteRequest dq = { .id = ID };
	sv_DeleteResponse dr = { 0 };
	sv_StateRequest tq = { .id = ID };
	sv_StateResponse tr;
	uint32_t s = 1;
	int fd;

	fx_build_dir(w.build, sizeof(w.build));
	if (!fx_have_init(w.build)) {
		printf("# SKIP shimvisor-init not built\n");
		return;
	}
	make_bundle(&w, "\"/bin/sleep\",\"1000\"", ns_all);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", w.bundle);
	ck_assert_int_eq(mkdir(rootfs, 0711), 0);
	cq.bundle = w.bundle;
	start_worker(&w);
	fd = connect_worker(&w);
	ck_assert_int_eq(call(fd, &s, "Create", sv_CreateTaskRequest_fields, &cq,
			      sv_CreateTaskResponse_fields, &cr, NULL, 0), SV_OK);
	ck_assert(is_mounted(rootfs));
	ck_assert_int_eq(call(fd, &s, "State", sv_StateRequest_fields, &tq, sv_StateResponse_fields,
			      &tr, NULL, 0), SV_OK);
	ck_assert_uint_eq(tr.status, sv_TaskStatus_CREATED);
	sv_pb_free(sv_StateResponse_fields, &tr);
	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, NULL, 0), SV_OK);
	ck_assert_uint_eq(dr.exit_status, 137);
	ck_assert(!is_mounted(rootfs));
	do_shutdown(&w, fd, &s);
	fx_rm_bundle(w.bundle);
}
END_TEST


/* Send a request without waiting for its reply (a Wait to be answered later). */
static void send_async(int fd, uint32_t stream, const char *method, const pb_msgdesc_t *f, const void *m)
{
	struct sv_outq q = { 0 };
	uint8_t *req = NULL;
	size_t len;

	ck_assert_int_eq(ttrpc_encode_request(SV_TASK_SERVICE, method, NULL, 0, f, m, &req, &len), 0);
	ck_assert_int_eq(sv_outq_frame(&q, stream, SV_TTRPC_TYPE_REQUEST, req, len), 0);
	ck_assert_int_eq(sv_write_all(fd, q.buf, q.len), 0);
	sv_outq_free(&q);
	free(req);
}

/* The reply to a Wait sent with send_async: its exit status. */
static uint32_t recv_wait(int fd, uint32_t stream)
{
	struct ttrpc_hdr h;
	uint8_t *body = NULL;
	sv_Response resp;
	sv_WaitResponse wr;
	uint32_t st;

	ck_assert_int_eq(ttrpc_read_frame(fd, &h, &body, CALL_MS), 0);
	ck_assert_uint_eq(h.stream, stream);
	ck_assert_int_eq(sv_pb_decode(sv_Response_fields, &resp, body, h.len), 0);
	ck_assert(!resp.has_status || resp.status.code == 0);
	ck_assert_ptr_nonnull(resp.payload);
	ck_assert_int_eq(sv_pb_decode(sv_WaitResponse_fields, &wr, resp.payload->bytes,
				      resp.payload->size), 0);
	st = wr.exit_status;
	sv_pb_free(sv_Response_fields, &resp);
	free(body);
	return st;
}

static int exec_add(int fd, uint32_t *s, const char *eid, const char *args, const char *out,
		    char *msg, size_t msgsz)
{
	char spec[1024];
	int n = snprintf(spec, sizeof(spec), "{\"args\":[%s],\"cwd\":\"/\",\"env\":[\"PATH=/bin:/usr/bin\"],"
			 "\"user\":{\"uid\":0,\"gid\":0}}", args);
	pb_bytes_array_t *v = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE((size_t)n));
	sv_ExecProcessRequest q = { .id = ID, .stdout = (char *)out, .has_spec = true };
	int code;

	ck_assert_ptr_nonnull(v);
	v->size = (pb_size_t)n;
	memcpy(v->bytes, spec, (size_t)n);
	snprintf(q.exec_id, sizeof(q.exec_id), "%s", eid);
	q.spec.type_url = (char *)"types.containerd.io/opencontainers/runtime-spec/1/Process";
	q.spec.value = v;
	code = call(fd, s, "Exec", sv_ExecProcessRequest_fields, &q, NULL, NULL, msg, msgsz);
	free(v);
	return code;
}

/* Execs: registered, waited before start, run in the task's namespaces, reaped, listed,
 * killed, deleted; a duplicate id and a failed start are errors. */
START_TEST(test_exec)
{
	struct tw w;
	sv_StartRequest sq = { .id = ID };
	sv_StartResponse sr = { 0 };
	sv_StateRequest tq = { .id = ID };
	sv_StateResponse tr;
	sv_WaitRequest wq = { .id = ID };
	sv_DeleteRequest dq = { .id = ID };
	sv_DeleteResponse dr = { 0 };
	sv_KillRequest kq = { .id = ID, .signal = SIGKILL };
	sv_PidsRequest pq = { .id = ID };
	sv_PidsResponse pr;
	char msg[256], out[160], uri[200], *got;
	size_t len;
	uint32_t s = 1, pid, epid;
	int fd, fd2, dfd;

	fx_build_dir(w.build, sizeof(w.build));
	if (!fx_have_init(w.build)) {
		printf("# SKIP shimvisor-init not built\n");
		return;
	}
	make_bundle(&w, "\"/bin/sleep\",\"1000\"", ns_all);
	start_worker(&w);
	expect_hello(&w);
	fd = connect_worker(&w);
	fd2 = connect_worker(&w);
	pid = do_create(&w, fd, &s);
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, NULL, 0), SV_OK);
	expect_event(&w, 2, "/tasks/create", "containerd.events.TaskCreate");
	expect_event(&w, 3, "/tasks/start", "containerd.events.TaskStart");

	/* e1 writes its pid (in the task's pid namespace) and hostname to a file, exits 5 */
	snprintf(out, sizeof(out), "%s/e1.out", w.bundle);
	snprintf(uri, sizeof(uri), "file://%s", out);
	ck_assert_int_eq(exec_add(fd, &s, "e1", "\"/bin/sh\",\"-c\",\"echo $$ $(hostname); exit 5\"",
				  uri, NULL, 0), SV_OK);
	expect_event(&w, 4, "/tasks/exec-added", "containerd.events.TaskExecAdded");
	ck_assert_int_eq(exec_add(fd, &s, "e1", "\"/bin/true\"", "", msg, sizeof(msg)), SV_ALREADY_EXISTS);
	snprintf(tq.exec_id, sizeof(tq.exec_id), "e1");
	ck_assert_int_eq(call(fd, &s, "State", sv_StateRequest_fields, &tq, sv_StateResponse_fields,
			      &tr, NULL, 0), SV_OK);
	ck_assert_uint_eq(tr.status, sv_TaskStatus_CREATED);
	ck_assert_uint_eq(tr.pid, 0);
	ck_assert_str_eq(tr.id, "e1");
	sv_pb_free(sv_StateResponse_fields, &tr);
	snprintf(wq.exec_id, sizeof(wq.exec_id), "e1");
	send_async(fd2, 1, "Wait", sv_WaitRequest_fields, &wq);
	snprintf(sq.exec_id, sizeof(sq.exec_id), "e1");
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, msg, sizeof(msg)), SV_OK);
	epid = sr.pid;
	ck_assert_uint_gt(epid, 0);
	ck_assert_uint_ne(epid, pid);
	ck_assert_uint_eq(recv_wait(fd2, 1), 5);
	expect_event(&w, 5, "/tasks/exec-started", "containerd.events.TaskExecStarted");
	expect_event(&w, 6, "/tasks/exit", "containerd.events.TaskExit");
	dfd = open(w.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(sv_read_file(dfd, "e1.out", 128, &got, &len), 0);
	ck_assert_msg(strcmp(got, "1 t1\n") != 0 && strstr(got, " t1\n"), "exec output: %s", got);
	free(got);
	close(dfd);
	snprintf(dq.exec_id, sizeof(dq.exec_id), "e1");
	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, NULL, 0), SV_OK);
	ck_assert_uint_eq(dr.exit_status, 5);
	ck_assert_uint_eq(dr.pid, epid);
	ck_assert_int_eq(call(fd, &s, "State", sv_StateRequest_fields, &tq, sv_StateResponse_fields,
			      &tr, NULL, 0), SV_NOT_FOUND);

	/* e2 runs on: Pids lists it with its exec id; Kill reaches it alone */
	ck_assert_int_eq(exec_add(fd, &s, "e2", "\"/bin/sleep\",\"1000\"", "", NULL, 0), SV_OK);
	expect_event(&w, 7, "/tasks/exec-added", "containerd.events.TaskExecAdded");
	snprintf(sq.exec_id, sizeof(sq.exec_id), "e2");
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, NULL, 0), SV_OK);
	epid = sr.pid;
	expect_event(&w, 8, "/tasks/exec-started", "containerd.events.TaskExecStarted");
	ck_assert_int_eq(call(fd, &s, "Pids", sv_PidsRequest_fields, &pq, sv_PidsResponse_fields, &pr,
			      NULL, 0), SV_OK);
	ck_assert_uint_eq(pr.processes_count, 2);
	for (pb_size_t i = 0; i < pr.processes_count; i++) {
		if (pr.processes[i].pid == epid)
			ck_assert(pr.processes[i].has_info &&
				  !strcmp(pr.processes[i].info.type_url, "containerd.runc.v1.ProcessDetails"));
		else
			ck_assert_uint_eq(pr.processes[i].pid, pid);
	}
	sv_pb_free(sv_PidsResponse_fields, &pr);
	snprintf(kq.exec_id, sizeof(kq.exec_id), "e2");
	snprintf(wq.exec_id, sizeof(wq.exec_id), "e2");
	ck_assert_int_eq(call(fd, &s, "Kill", sv_KillRequest_fields, &kq, NULL, NULL, NULL, 0), SV_OK);
	send_async(fd2, 3, "Wait", sv_WaitRequest_fields, &wq);
	ck_assert_uint_eq(recv_wait(fd2, 3), 137);
	expect_event(&w, 9, "/tasks/exit", "containerd.events.TaskExit");
	ck_assert_int_eq(call(fd, &s, "Kill", sv_KillRequest_fields, &kq, NULL, NULL, NULL, 0), SV_NOT_FOUND);

	/* e3 cannot start (no such program): Start fails, the exec is stopped with 255 */
	ck_assert_int_eq(exec_add(fd, &s, "e3", "\"/nonexistent\"", "", NULL, 0), SV_OK);
	expect_event(&w, 10, "/tasks/exec-added", "containerd.events.TaskExecAdded");
	snprintf(sq.exec_id, sizeof(sq.exec_id), "e3");
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, msg, sizeof(msg)), SV_UNKNOWN);
	ck_assert_msg(strstr(msg, "nonexistent") != NULL, "start error: %s", msg);
	snprintf(tq.exec_id, sizeof(tq.exec_id), "e3");
	ck_assert_int_eq(call(fd, &s, "State", sv_StateRequest_fields, &tq, sv_StateResponse_fields,
			      &tr, NULL, 0), SV_OK);
	ck_assert_uint_eq(tr.status, sv_TaskStatus_STOPPED);
	ck_assert_uint_eq(tr.exit_status, 255);
	sv_pb_free(sv_StateResponse_fields, &tr);

	/* the init's end; then Delete of the task forgets the remaining execs */
	kq.exec_id[0] = '\0';
	ck_assert_int_eq(call(fd, &s, "Kill", sv_KillRequest_fields, &kq, NULL, NULL, NULL, 0), SV_OK);
	wq.exec_id[0] = '\0';
	send_async(fd2, 5, "Wait", sv_WaitRequest_fields, &wq);
	ck_assert_uint_eq(recv_wait(fd2, 5), 137);
	ck_assert_int_eq(exec_add(fd, &s, "e4", "\"/bin/true\"", "", NULL, 0), SV_FAILED_PRECONDITION);
	dq.exec_id[0] = '\0';
	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, NULL, 0), SV_OK);
	close(fd2);
	do_shutdown(&w, fd, &s);
	fx_rm_bundle(w.bundle);
}
END_TEST


/* Pause/Resume, Stats, Update, OOM-capable cgroups: a task with a cgroup of its own. */
START_TEST(test_cgroup_methods)
{
	struct tw w;
	char name[64], extra[256], val[128], json[] = "{\"pids\":{\"limit\":77}}";
	sv_StartRequest sq = { .id = ID };
	sv_StartResponse sr = { 0 };
	sv_StateRequest tq = { .id = ID };
	sv_StateResponse tr;
	sv_PauseRequest pq = { .id = ID };
	sv_ResumeRequest rq = { .id = ID };
	sv_StatsRequest stq = { .id = ID };
	sv_StatsResponse str;
	sv_UpdateTaskRequest uq = { .id = ID, .has_resources = true };
	sv_KillRequest kq = { .id = ID, .signal = SIGKILL, .all = true };
	sv_WaitRequest wq = { .id = ID };
	sv_WaitResponse wr = { 0 };
	sv_DeleteRequest dq = { .id = ID };
	sv_DeleteResponse dr = { 0 };
	char msg[256];
	uint32_t s = 1, pid;
	int fd;

	fx_build_dir(w.build, sizeof(w.build));
	if (!fx_have_init(w.build) || !cgfx_mnt(CGC_FREEZER, false, val, sizeof(val)) ||
	    !cgfx_mnt(CGC_PIDS, false, val, sizeof(val))) {
		printf("# SKIP needs shimvisor-init and the v1 freezer and pids hierarchies\n");
		return;
	}
	cgfx_name(name, sizeof(name), "svc");
	snprintf(extra, sizeof(extra), "\"cgroupsPath\":\"/%s\",\"resources\":{\"pids\":{\"limit\":50}},",
		 name);
	make_bundle_x(&w, "\"/bin/sleep\",\"1000\"", ns_all, extra,
		      ",{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
		      "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
		      "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
		      "\"options\":[\"ro\",\"nosuid\",\"noexec\",\"nodev\"]}");
	start_worker(&w);
	fd = connect_worker(&w);
	pid = do_create(&w, fd, &s);
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, NULL, 0), SV_OK);
	ck_assert_int_eq(cgfx_read(CGC_PIDS, false, name, "pids.max", val, sizeof(val)), 0);
	ck_assert_str_eq(val, "50");
	/* the spec's cgroup mount shows the task its own cgroup, read-only */
	{
		char mi[128], *all = NULL, needle[160], *line;
		size_t len;

		snprintf(mi, sizeof(mi), "/proc/%u/mountinfo", pid);
		ck_assert_int_eq(sv_read_file(AT_FDCWD, mi, 1u << 20, &all, &len), 0);
		snprintf(needle, sizeof(needle), " /%s /sys/fs/cgroup/pids ro,", name);
		line = strstr(all, needle);
		ck_assert_msg(line != NULL, "no read-only pids bind of /%s in:\n%s", name, all);
		ck_assert_ptr_nonnull(strstr(all, " /sys/fs/cgroup ro,"));
		free(all);
	}

	ck_assert_int_eq(call(fd, &s, "Pause", sv_PauseRequest_fields, &pq, NULL, NULL, NULL, 0), SV_OK);
	ck_assert_int_eq(cgfx_read(CGC_FREEZER, false, name, "freezer.state", val, sizeof(val)), 0);
	ck_assert_str_eq(val, "FROZEN");
	ck_assert_int_eq(call(fd, &s, "State", sv_StateRequest_fields, &tq, sv_StateResponse_fields,
			      &tr, NULL, 0), SV_OK);
	ck_assert_uint_eq(tr.status, sv_TaskStatus_PAUSED);
	sv_pb_free(sv_StateResponse_fields, &tr);
	ck_assert_int_eq(call(fd, &s, "Pause", sv_PauseRequest_fields, &pq, NULL, NULL, msg, sizeof(msg)),
			 SV_FAILED_PRECONDITION);
	ck_assert_int_eq(call(fd, &s, "Resume", sv_ResumeRequest_fields, &rq, NULL, NULL, NULL, 0), SV_OK);
	ck_assert_int_eq(cgfx_read(CGC_FREEZER, false, name, "freezer.state", val, sizeof(val)), 0);
	ck_assert_str_eq(val, "THAWED");

	ck_assert_int_eq(call(fd, &s, "Stats", sv_StatsRequest_fields, &stq, sv_StatsResponse_fields,
			      &str, NULL, 0), SV_OK);
	ck_assert(str.has_stats && str.stats.value && str.stats.value->size > 0);
	ck_assert_str_eq(str.stats.type_url, "io.containerd.cgroups.v1.Metrics");
	sv_pb_free(sv_StatsResponse_fields, &str);

	uq.resources.type_url = (char *)"types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
	uq.resources.value = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(sizeof(json) - 1));
	ck_assert_ptr_nonnull(uq.resources.value);
	uq.resources.value->size = sizeof(json) - 1;
	memcpy(uq.resources.value->bytes, json, sizeof(json) - 1);
	ck_assert_int_eq(call(fd, &s, "Update", sv_UpdateTaskRequest_fields, &uq, NULL, NULL, msg,
			      sizeof(msg)), SV_OK);
	ck_assert_int_eq(cgfx_read(CGC_PIDS, false, name, "pids.max", val, sizeof(val)), 0);
	ck_assert_str_eq(val, "77");
	memcpy(uq.resources.value->bytes, "{\"pids\":7}", 10);
	uq.resources.value->size = 10;
	ck_assert_int_eq(call(fd, &s, "Update", sv_UpdateTaskRequest_fields, &uq, NULL, NULL, msg,
			      sizeof(msg)), SV_UNKNOWN);
	ck_assert_msg(strstr(msg, "pids") != NULL, "update error: %s", msg);
	free(uq.resources.value);

	/* a paused task still dies of Kill --all SIGKILL; the cgroups go with Delete */
	ck_assert_int_eq(call(fd, &s, "Pause", sv_PauseRequest_fields, &pq, NULL, NULL, NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Kill", sv_KillRequest_fields, &kq, NULL, NULL, NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Wait", sv_WaitRequest_fields, &wq, sv_WaitResponse_fields, &wr,
			      NULL, 0), SV_OK);
	ck_assert_uint_eq(wr.exit_status, 137);
	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, NULL, 0), SV_OK);
	ck_assert_int_eq(cgfx_read(CGC_PIDS, false, name, "pids.max", val, sizeof(val)), -ENOENT);
	ck_assert_int_eq(cgfx_read(CGC_FREEZER, false, name, "freezer.state", val, sizeof(val)), -ENOENT);
	do_shutdown(&w, fd, &s);
	fx_rm_bundle(w.bundle);
}
END_TEST

/* Without a cgroup of its own, the cgroup methods say so. */
START_TEST(test_no_cgroup)
{
	struct tw w;
	sv_PauseRequest pq = { .id = ID };
	sv_StatsRequest stq = { .id = ID };
	sv_StatsResponse str;
	sv_StartRequest sq = { .id = ID };
	sv_StartResponse sr = { 0 };
	sv_KillRequest kq = { .id = ID, .signal = SIGKILL };
	sv_WaitRequest wq = { .id = ID };
	sv_WaitResponse wr = { 0 };
	sv_DeleteRequest dq = { .id = ID };
	sv_DeleteResponse dr = { 0 };
	char msg[256];
	uint32_t s = 1;
	int fd;

	fx_build_dir(w.build, sizeof(w.build));
	if (!fx_have_init(w.build)) {
		printf("# SKIP shimvisor-init not built\n");
		return;
	}
	make_bundle(&w, "\"/bin/sleep\",\"1000\"", ns_all);
	start_worker(&w);
	fd = connect_worker(&w);
	do_create(&w, fd, &s);
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Pause", sv_PauseRequest_fields, &pq, NULL, NULL, msg, sizeof(msg)),
			 SV_FAILED_PRECONDITION);
	ck_assert_msg(strstr(msg, "cgroup") != NULL, "%s", msg);
	ck_assert_int_eq(call(fd, &s, "Stats", sv_StatsRequest_fields, &stq, sv_StatsResponse_fields,
			      &str, NULL, 0), SV_FAILED_PRECONDITION);
	ck_assert_int_eq(call(fd, &s, "Kill", sv_KillRequest_fields, &kq, NULL, NULL, NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Wait", sv_WaitRequest_fields, &wq, sv_WaitResponse_fields, &wr,
			      NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, NULL, 0), SV_OK);
	do_shutdown(&w, fd, &s);
	fx_rm_bundle(w.bundle);
}
END_TEST

/* Bad clients lose their own connection only; errors carry the right codes. */
START_TEST(test_bad_clients)
{
	struct tw w;
	static const char garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	uint8_t overcap[SV_TTRPC_HEADER_LEN];
	struct ttrpc_hdr h = { .len = SV_TTRPC_MAX_BODY + 1, .stream = 1, .type = 1 };
	sv_ConnectRequest cq = { .id = ID };
	sv_ConnectResponse cr = { 0 };
	sv_StateRequest tq = { .id = ID };
	sv_StateResponse tr;
	sv_KillRequest kq = { .id = ID, .signal = 9 };
	uint8_t *req = NULL, *body = NULL, junk[64];
	size_t len;
	struct ttrpc_hdr rh;
	char msg[256];
	uint32_t s = 1;
	int fd, bad, bad2, bad3, code = 0;
	sv_Response resp;
	ssize_t n;

	fx_build_dir(w.build, sizeof(w.build));
	make_bundle(&w, "\"/bin/true\"", ns_all);
	start_worker(&w);
	expect_hello(&w);
	fd = connect_worker(&w);
	ck_assert_int_eq(call(fd, &s, "Connect", sv_ConnectRequest_fields, &cq,
			      sv_ConnectResponse_fields, &cr, NULL, 0), SV_OK);
	sv_pb_free(sv_ConnectResponse_fields, &cr);

	/* garbage: a huge announced length -> the connection is closed */
	bad = connect_worker(&w);
	ck_assert_int_eq(sv_write_all(bad, garbage, sizeof(garbage) - 1), 0);
	/* over-cap header: RESOURCE_EXHAUSTED, then closed */
	bad2 = connect_worker(&w);
	ttrpc_hdr_pack(overcap, &h);
	ck_assert_int_eq(sv_write_all(bad2, overcap, sizeof(overcap)), 0);
	ck_assert_int_eq(ttrpc_read_frame(bad2, &rh, &body, CALL_MS), 0);
	ck_assert_int_eq(sv_pb_decode(sv_Response_fields, &resp, body, rh.len), 0);
	ck_assert_int_eq(resp.status.code, SV_RESOURCE_EXHAUSTED);
	sv_pb_free(sv_Response_fields, &resp);
	free(body);
	/* a body that is not protobuf: INVALID_ARGUMENT; an even stream id: INVALID_ARGUMENT */
	bad3 = connect_worker(&w);
	{
		struct sv_outq q = { 0 };
		static const uint8_t notpb[] = { 0xff, 0xff, 0xff, 0xff, 0xff };

		ck_assert_int_eq(sv_outq_frame(&q, 3, SV_TTRPC_TYPE_REQUEST, notpb, sizeof(notpb)), 0);
		ck_assert_int_eq(ttrpc_encode_request(SV_TASK_SERVICE, "Connect", NULL, 0,
						      sv_ConnectRequest_fields, &cq, &req, &len), 0);
		ck_assert_int_eq(sv_outq_frame(&q, 4, SV_TTRPC_TYPE_REQUEST, req, len), 0);
		free(req);
		ck_assert_int_eq(sv_write_all(bad3, q.buf, q.len), 0);
		sv_outq_free(&q);
	}
	ck_assert_int_eq(ttrpc_read_frame(bad3, &rh, &body, CALL_MS), 0);
	ck_assert_uint_eq(rh.stream, 3);
	ck_assert_int_eq(sv_pb_decode(sv_Response_fields, &resp, body, rh.len), 0);
	ck_assert_int_eq(resp.status.code, SV_INVALID_ARGUMENT);
	sv_pb_free(sv_Response_fields, &resp);
	free(body);
	ck_assert_int_eq(ttrpc_read_frame(bad3, &rh, &body, CALL_MS), 0);
	ck_assert_uint_eq(rh.stream, 4);
	ck_assert_int_eq(sv_pb_decode(sv_Response_fields, &resp, body, rh.len), 0);
	ck_assert_int_eq(resp.status.code, SV_INVALID_ARGUMENT);
	sv_pb_free(sv_Response_fields, &resp);
	free(body);

	/* the first connection is undisturbed; errors map as containerd expects */
	ck_assert_int_eq(call(fd, &s, "Connect", sv_ConnectRequest_fields, &cq,
			      sv_ConnectResponse_fields, &cr, NULL, 0), SV_OK);
	ck_assert_uint_eq(cr.shim_pid, (uint32_t)w.pid);
	sv_pb_free(sv_ConnectResponse_fields, &cr);
	ck_assert_int_eq(call(fd, &s, "Frobnicate", NULL, NULL, NULL, NULL, msg, sizeof(msg)),
			 SV_UNIMPLEMENTED);
	ck_assert_str_eq(msg, "method Frobnicate");
	ck_assert_int_eq(call(fd, &s, "Pause", NULL, NULL, NULL, NULL, msg, sizeof(msg)), SV_NOT_FOUND);
	ck_assert_int_eq(call(fd, &s, "Checkpoint", NULL, NULL, NULL, NULL, msg, sizeof(msg)),
			 SV_UNIMPLEMENTED);
	ck_assert_int_eq(ttrpc_call(fd, s, "no.such.Service", "X", NULL, NULL, NULL, NULL, NULL, CALL_MS,
				    &code, msg, sizeof(msg)), 0);
	s += 2;
	ck_assert_int_eq(code, SV_UNIMPLEMENTED);
	ck_assert_int_eq(call(fd, &s, "State", sv_StateRequest_fields, &tq, sv_StateResponse_fields,
			      &tr, msg, sizeof(msg)), SV_NOT_FOUND);
	ck_assert_str_eq(msg, "container not created: not found");
	ck_assert_int_eq(call(fd, &s, "Kill", sv_KillRequest_fields, &kq, NULL, NULL, NULL, 0), SV_NOT_FOUND);

	/* the garbage connection was closed by the worker */
	{
		struct pollfd p = { .fd = bad, .events = POLLIN };

		ck_assert_int_eq(poll(&p, 1, CALL_MS), 1);
		while ((n = read(bad, junk, sizeof(junk))) > 0)
			;
		ck_assert_int_le(n, 0);
	}
	close(bad);
	close(bad2);
	close(bad3);
	do_shutdown(&w, fd, &s);
	fx_rm_bundle(w.bundle);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("worker_service");
	TCase *tc = tcase_create("service");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_bad_clients);
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_kill_sigkill);
	tcase_add_test(tc, test_kill_all);
	tcase_add_test(tc, test_kill_sigterm_hostpid);
	tcase_add_test(tc, test_created_delete);
	tcase_add_test(tc, test_exec);
	tcase_add_test(tc, test_cgroup_methods);
	tcase_add_test(tc, test_no_cgroup);
	tcase_add_unchecked_fixture(tc, NULL, cgfx_cleanup);
	suite_add_tcase(su, tc);
	return sv_run_suite(su);
}
