/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_worker_service.c: shimvisor-worker end to end over its socket and its link (reports). */
#include <check.h>
#include <errno.h>
#include <sys/stat.h>
#include "tap_main.h"
#include "worker_svc_fixture.h"

START_TEST(test_lifecycle)
{
	struct tw w;
	sv_ConnectRequest cq = { .id = ID };
	sv_ConnectResponse cr = { 0 };
	sv_StartRequest sq = { .id = ID };
	sv_StartResponse sr = { 0 };
	sv_WaitRequest wq = { .id = ID };
	sv_StateRequest tq = { .id = ID };
	sv_StateResponse tr;
	sv_DeleteRequest dq = { .id = ID };
	sv_DeleteResponse dr = { 0 };
	uint32_t s = 1, pid;
	char *exitf = NULL;
	size_t elen;
	int fd, fd2, dfd;
	unsigned es;

	fx_init_built(&w);
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
	send_async(fd2, 7, "Wait", sv_WaitRequest_fields, &wq);
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, NULL, 0), SV_OK);
	ck_assert_uint_eq(sr.pid, pid);
	ck_assert_uint_eq(recv_wait(fd2, 7), 3);

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

	fx_init_built(&w);
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
	/* Delete of a running task is refused, in runc-v2's words */
	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, msg, sizeof(msg)), SV_UNKNOWN);
	ck_assert_str_eq(msg, "cannot delete a running process");
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

	fx_init_built(&w);
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
	suite_add_tcase(su, tc);
	return sv_run_suite(su);
}
