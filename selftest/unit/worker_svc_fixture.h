/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/worker_svc_fixture.h: a real shimvisor-worker on a socket and a link (its reports),
 * as the daemon runs it, and the calls and event checks the worker service tests share. */
#ifndef SV_WORKER_SVC_FIXTURE_H
#define SV_WORKER_SVC_FIXTURE_H
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "worker_fixture.h"
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
	int rep;                /* our end of the worker's link (SV_FD_LINK): its reports */
};

static const char *const ns_all =
	"{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"ipc\"},{\"type\":\"network\"}";
static const char *const ns_nopid =
	"{\"type\":\"mount\"},{\"type\":\"uts\"},{\"type\":\"ipc\"},{\"type\":\"network\"}";

/* The build dir into w->build: shimvisor-init must be there (`make unit` builds it; a test
 * that skipped without it could pass without testing anything). */
static inline void fx_init_built(struct tw *w)
{
	fx_build_dir(w->build, sizeof(w->build));
	ck_assert_msg(fx_have_init(w->build), "%s/shimvisor-init is not built", w->build);
}

static inline void make_bundle_x(struct tw *w, const char *args_json, const char *namespaces,
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

static inline void make_bundle(struct tw *w, const char *args_json, const char *namespaces)
{
	make_bundle_x(w, args_json, namespaces, "", "");
}

static inline void start_worker(struct tw *w)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char exe[4200];
	int lfd, p[2];

	FX_QEMU_SKIP_IF(!fx_qemu_exec(), FX_QEMU_NO_EXEC);
	snprintf(exe, sizeof(exe), "%s/shimvisor-worker", w->build);
	snprintf(w->sock, sizeof(w->sock), "%s/s.sock", w->bundle);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", w->sock);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
	w->pid = fork();
	ck_assert_int_ge(w->pid, 0);
	if (w->pid == 0) {
		int a = fcntl(lfd, F_DUPFD_CLOEXEC, 10), b = fcntl(p[1], F_DUPFD_CLOEXEC, 10);

		/* a failed test must not leave its worker behind */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (a < 0 || b < 0 || chdir(w->bundle) < 0 || dup2(a, SV_FD_LISTEN) < 0 ||
		    dup2(b, SV_FD_LINK) < 0)
			_exit(120);
		close_range(SV_FD_LINK + 1, ~0U, 0);
		execl(exe, exe, "-namespace", NS, "-id=" ID, "--debug=false", "-unknown-flag", "x", NULL);
		_exit(121);
	}
	close(lfd);
	close(p[1]);
	w->rep = p[0];
}

static inline int connect_worker(const struct tw *w)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", w->sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* One blocking call; returns the ttrpc status code. */
static inline int call(int fd, uint32_t *stream, const char *method, const pb_msgdesc_t *qf, const void *q,
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

/* Next report: a DATA frame on SV_REPORT_STREAM of the link (blocking, bounded). */
static inline void next_report(struct tw *w, sv_Report *out)
{
	struct ttrpc_hdr h;
	uint8_t *body = NULL;

	ck_assert_int_eq(ttrpc_read_frame(w->rep, &h, &body, CALL_MS), 0);
	ck_assert_uint_eq(h.type, SV_TTRPC_TYPE_DATA);
	ck_assert_uint_eq(h.stream, SV_REPORT_STREAM);
	ck_assert_uint_le(h.len, SV_REPORT_MAX);
	ck_assert_int_eq(sv_pb_decode(sv_Report_fields, out, body, h.len), 0);
	free(body);
}

static inline void expect_event(struct tw *w, uint64_t seq, const char *topic, const char *type)
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

static inline void expect_hello(struct tw *w)
{
	sv_Report r;

	next_report(w, &r);
	ck_assert_uint_eq(r.seq, 1);
	ck_assert_uint_eq(r.which_kind, sv_Report_hello_tag);
	ck_assert_str_eq(r.kind.hello.version, SV_VERSION);
	ck_assert_uint_eq(r.kind.hello.worker_pid, (uint32_t)w->pid);
	sv_pb_free(sv_Report_fields, &r);
}

static inline int wait_worker(struct tw *w)
{
	int st = 0;

	ck_assert_int_eq(waitpid(w->pid, &st, 0), w->pid);
	close(w->rep);
	return st;
}

static inline uint32_t do_create(struct tw *w, int fd, uint32_t *s)
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

static inline void do_shutdown(struct tw *w, int fd, uint32_t *s)
{
	sv_ShutdownRequest q = { .id = ID };

	ck_assert_int_eq(call(fd, s, "Shutdown", sv_ShutdownRequest_fields, &q, NULL, NULL, NULL, 0), SV_OK);
	ck_assert_int_eq(wait_worker(w), 0);
	ck_assert_int_ne(access(w->sock, F_OK), 0);     /* the worker removed its socket */
	close(fd);
}

/* Send a request without waiting for its reply (a Wait to be answered later). */
static inline void send_async(int fd, uint32_t stream, const char *method, const pb_msgdesc_t *f, const void *m)
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

/* The reply to a Wait sent with send_async (success, with an exit time): its exit status. */
static inline uint32_t recv_wait(int fd, uint32_t stream)
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
	ck_assert(wr.has_exited_at && wr.exited_at.seconds > 0);
	st = wr.exit_status;
	sv_pb_free(sv_Response_fields, &resp);
	free(body);
	return st;
}

#endif
