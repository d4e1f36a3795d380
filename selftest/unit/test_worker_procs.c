/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_worker_procs.c: shimvisor-worker's execs and its cgroup-backed methods
 * (Pause, Resume, Stats, Update, Kill --all), over its socket and its link (reports). */
#include <check.h>
#include <errno.h>
#include "tap_main.h"
#include "worker_svc_fixture.h"
#include "cgroup_fixture.h"
#include "metrics.pb.h"
#include "wire/limits.h"
#include "wire/pbio.h"

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

	fx_init_built(&w);
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
	sv_Cg1Metrics m;
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

	fx_init_built(&w);
	make_bundle(&w, "\"/bin/sleep\",\"1000\"", ns_all);
	start_worker(&w);
	fd = connect_worker(&w);
	do_create(&w, fd, &s);
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Pause", sv_PauseRequest_fields, &pq, NULL, NULL, msg, sizeof(msg)),
			 SV_FAILED_PRECONDITION);
	ck_assert_msg(strstr(msg, "cgroup") != NULL, "%s", msg);
	/* stats from /proc: the one process, in a v1 message of the proc type */
	ck_assert_int_eq(call(fd, &s, "Stats", sv_StatsRequest_fields, &stq, sv_StatsResponse_fields,
			      &str, NULL, 0), SV_OK);
	ck_assert_str_eq(str.stats.type_url, SV_PROC_METRICS_URL);
	ck_assert_ptr_nonnull(str.stats.value);
	ck_assert_int_eq(sv_pb_decode(sv_Cg1Metrics_fields, &m, str.stats.value->bytes,
				      str.stats.value->size), 0);
	ck_assert_uint_eq(m.pids.current, 1);
	ck_assert_uint_gt(m.memory.usage.usage, 0);
	sv_pb_free(sv_Cg1Metrics_fields, &m);
	sv_pb_free(sv_StatsResponse_fields, &str);
	ck_assert_int_eq(call(fd, &s, "Kill", sv_KillRequest_fields, &kq, NULL, NULL, NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Wait", sv_WaitRequest_fields, &wq, sv_WaitResponse_fields, &wr,
			      NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, NULL, 0), SV_OK);
	do_shutdown(&w, fd, &s);
	fx_rm_bundle(w.bundle);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("worker_procs");
	TCase *tc = tcase_create("procs");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_exec);
	tcase_add_test(tc, test_cgroup_methods);
	tcase_add_test(tc, test_no_cgroup);
	tcase_add_unchecked_fixture(tc, NULL, cgfx_cleanup);
	suite_add_tcase(su, tc);
	return sv_run_suite(su);
}
