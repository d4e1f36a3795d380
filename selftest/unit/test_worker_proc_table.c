/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_worker_proc_table.c: the worker's process lifecycle table (every cell
 * named), and a loop that never waits for a slow logger or a slow death. */
#include <check.h>
#include <errno.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include "tap_main.h"
#include "common/clock.h"
#include "worker_svc_fixture.h"
#include "worker/service.h"
#include "cgroup_fixture.h"

/* The reply on stream (any status): its code, its message into msg. */
static int recv_status(int fd, uint32_t stream, char *msg, size_t msgsz, int timeout_ms)
{
	struct ttrpc_hdr h;
	uint8_t *body = NULL;
	sv_Response resp;
	int code;

	ck_assert_int_eq(ttrpc_read_frame(fd, &h, &body, timeout_ms), 0);
	ck_assert_uint_eq(h.stream, stream);
	ck_assert_int_eq(sv_pb_decode(sv_Response_fields, &resp, body, h.len), 0);
	code = resp.has_status ? (int)resp.status.code : SV_OK;
	snprintf(msg, msgsz, "%s", resp.has_status && resp.status.message ? resp.status.message : "");
	sv_pb_free(sv_Response_fields, &resp);
	free(body);
	return code;
}

/* State of the task on fd, answered within a second (the loop is not waiting on anything
 * while): its status. The delay is printed as the figure it is. */
static uint32_t prompt_state(int fd, uint32_t *s, const char *meanwhile)
{
	sv_StateRequest q = { .id = ID };
	sv_StateResponse r;
	int64_t t0 = sv_now_ms(), took;
	uint32_t st;
	int code = call(fd, s, "State", sv_StateRequest_fields, &q, sv_StateResponse_fields, &r, NULL, 0);

	took = sv_now_ms() - t0;
	printf("# State while %s: %d in %lld ms\n", meanwhile, code, (long long)took);
	ck_assert_msg(took < 1000, "State took %lld ms while %s: the loop waited", (long long)took,
		      meanwhile);
	ck_assert_int_eq(code, SV_OK);
	st = r.status;
	sv_pb_free(sv_StateResponse_fields, &r);
	return st;
}

/* A pid written to path by a process we started, once it is there (10 s at most). */
static pid_t await_pidfile(const char *path)
{
	int64_t end = sv_now_ms() + 10000;

	while (sv_now_ms() < end) {
		FILE *f = fopen(path, "r");
		int pid = 0;

		if (f) {
			int n = fscanf(f, "%d", &pid);

			fclose(f);
			if (n == 1 && pid > 0)
				return (pid_t)pid;
		}
		poll(NULL, 0, 10);
	}
	ck_abort_msg("%s never appeared", path);
	return -1;
}

/* Every cell of the table is a named action or an explicit "ignore"; every state and
 * event has a name; the printed table has no empty cell. */
START_TEST(test_every_cell_named)
{
	char *md = NULL;
	size_t mdlen = 0;
	FILE *f;

	for (int s = 0; s < PS_N; s++) {
		ck_assert_msg(proc_state_name((enum pstate)s), "state %d has no name", s);
		for (int e = 0; e < PE_N; e++) {
			ck_assert_msg(proc_event_name((enum pevent)e), "event %d has no name", e);
			ck_assert_msg(proc_cell_name((enum pstate)s, (enum pevent)e),
				      "empty cell: state %s, event %s", proc_state_name((enum pstate)s),
				      proc_event_name((enum pevent)e));
		}
	}
	f = open_memstream(&md, &mdlen);
	ck_assert_ptr_nonnull(f);
	proc_table_markdown(f);
	fclose(f);
	ck_assert_ptr_null(strstr(md, "EMPTY"));
	ck_assert_ptr_nonnull(strstr(md, "| killing |"));
	/* a header, a rule, one row per state */
	{
		int lines = 0;

		for (char *c = md; *c; c++)
			lines += *c == '\n';
		ck_assert_int_eq(lines, 2 + PS_N);
	}
	free(md);
}
END_TEST

/* The replies a state may owe: create_rep while the init is being created, start_rep while
 * a Start is under way, delete_rep while a Delete waits for a reap; Waits until stopped. */
static bool may_owe(const struct wtask *t, const struct proc *p, const struct pending *rep)
{
	bool init = p == &t->init;

	switch (p->state) {
	case PS_OPENING:
		/* an init's Delete waits for its Create's end (a client that gave up) */
		return init ? rep == &p->create_rep || rep == &p->delete_rep : rep == &p->start_rep;
	case PS_CREATING:
	case PS_CREATE_DIED:
		return rep == &p->create_rep || rep == &p->delete_rep;
	case PS_PREPARING:
	case PS_STARTING:
	case PS_EXITED_PREPARING:
	case PS_EXITED_STARTING:
		return rep == &p->start_rep;
	case PS_KILLING:
		return rep == &p->start_rep || rep == &p->delete_rep;
	default:
		return false;
	}
}

static int walk_bundle = -1;     /* the walk's tasks write their exit files here */

struct walk {
	struct worker w;
	struct wconn c;
	struct wtask *t;
	struct proc *p;             /* the process under test: the init, or the task's one exec */
	pid_t child;                /* stands for its process */
	int peer;                   /* the init's end of its sync socket */
};

static struct proc *walk_proc(struct wtask *t, bool init)
{
	struct proc *p = init ? &t->init : calloc(1, sizeof(*p));

	ck_assert_ptr_nonnull(p);
	p->sync_fd = -1;
	memset(p->hold, -1, sizeof(p->hold));
	pio_init(&p->io);
	p->in = strdup("");
	p->out = strdup("");
	p->err = strdup("");
	return p;
}

static bool has_process(enum pstate s, bool init)
{
	return s != PS_OPENING && (init || s != PS_CREATED);
}

static bool has_sync(enum pstate s, bool init)
{
	return s == PS_CREATING || s == PS_CREATE_DIED || s == PS_PREPARING || s == PS_STARTING ||
	       s == PS_EXITED_PREPARING || s == PS_EXITED_STARTING || (init && s == PS_CREATED);
}

/* A worker with one connection (cid 1) and a task whose process p is in state s, owing
 * every reply that state may owe, and one Wait unless it is stopped. */
static void walk_setup(struct walk *k, enum pstate s, bool init)
{
	struct pending *reps[3];
	int sp[2];

	memset(k, 0, sizeof(*k));
	k->w.listen_fd = k->w.sig_fd = k->w.warm_init_fd = k->w.init_exe = -1;
	k->w.confined = true;                   /* never confine the test */
	snprintf(k->w.self_dir, sizeof(k->w.self_dir), "/nonexistent");     /* spawns fail */
	/* ev zeroed: no link, no Forward address: events go nowhere */
	k->w.o.ns = NS;
	k->w.o.id = ID;
	k->c.cid = 1;
	k->c.fd = -1;
	k->w.conns = &k->c;
	k->w.nconns = 1;
	k->t = calloc(1, sizeof(*k->t));
	ck_assert_ptr_nonnull(k->t);
	snprintf(k->t->id, sizeof(k->t->id), ID);
	k->t->bundle_fd = dup(walk_bundle);
	k->t->oom_fd = k->t->update_fd = -1;
	walk_proc(k->t, true);
	k->w.task = k->t;
	k->child = fork();
	ck_assert_int_ge(k->child, 0);
	if (k->child == 0) {
		pause();
		_exit(0);
	}
	k->peer = -1;
	if (init) {
		k->p = &k->t->init;
	} else {
		k->t->init.pid = k->child;      /* the task runs; its exec is under test */
		proc_born(&k->t->init, PS_RUNNING);
		k->p = walk_proc(k->t, false);
		snprintf(k->p->exec_id, sizeof(k->p->exec_id), "e1");
		k->t->execs = k->p;
		k->t->nexecs = 1;
	}
	proc_born(k->p, s);
	if (s == PS_KILLING)
		k->p->deadline_ms = 1;
	if (has_process(s, init))
		k->p->pid = k->child;
	if (has_sync(s, init)) {
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp), 0);
		k->p->sync_fd = sp[0];
		k->peer = sp[1];
	}
	reps[0] = &k->p->create_rep;
	reps[1] = &k->p->start_rep;
	reps[2] = &k->p->delete_rep;
	for (int i = 0; i < 3; i++)
		if (may_owe(k->t, k->p, reps[i]))
			*reps[i] = (struct pending){ 1, (uint32_t)(101 + 2 * i) };
	if (s == PS_KILLING && (k->p->start_err = strdup("failed to start: test")) == NULL)
		ck_abort();
	if (s != PS_STOPPED) {
		k->p->waiters = calloc(1, sizeof(*k->p->waiters));
		ck_assert_ptr_nonnull(k->p->waiters);
		k->p->waiters[0] = (struct pending){ 1, 107 };
		k->p->nwaiters = k->p->capwaiters = 1;
		k->w.npending_total = 1;
	}
}

/* Replies p owes now (0 when it is gone). */
static size_t owed(const struct walk *k, bool gone)
{
	const struct proc *p = k->p;

	if (gone)
		return 0;
	return (p->create_rep.cid != 0) + (p->start_rep.cid != 0) + (p->delete_rep.cid != 0) +
	       p->nwaiters;
}

static void walk_cell(enum pstate s, enum pevent e, bool init)
{
	const char *where = init ? "init" : "exec";
	struct call call;
	struct walk k;
	size_t before, after;
	bool gone;
	struct pev ev = { .type = e, .err = -EIO, .wstatus = 0, .why = NULL, .sig = SIGCONT };

	walk_setup(&k, s, init);
	call = (struct call){ &k.w, &k.c, 109, NULL, 0 };
	if (e == PE_START || e == PE_KILL || e == PE_DELETE)
		ev.k = &call;
	if (e == PE_SYNC_ERROR)
		ev.why = "test error";
	before = owed(&k, false) + (ev.k != NULL);
	proc_event(&k.w, k.t, k.p, &ev);
	gone = k.w.task == NULL || (!init && k.t->execs != k.p);
	after = owed(&k, gone);
	ck_assert_msg(before == k.c.out.frames + after,
		      "%s %s + %s (%s): owed %zu, answered %zu, still owed %zu", where,
		      proc_state_name(s), proc_event_name(e), proc_cell_name(s, e), before,
		      (size_t)k.c.out.frames, after);
	if (!gone) {
		struct proc *p = k.p;
		struct pending *reps[3] = { &p->create_rep, &p->start_rep, &p->delete_rep };

		for (int i = 0; i < 3; i++)
			ck_assert_msg(!reps[i]->cid || may_owe(k.t, p, reps[i]),
				      "%s %s + %s: reply %d owed in %s, which never answers it", where,
				      proc_state_name(s), proc_event_name(e), i, proc_state_name(p->state));
		ck_assert_msg(p->state != PS_STOPPED || p->nwaiters == 0,
			      "%s %s + %s: stopped with Waits unanswered", where, proc_state_name(s),
			      proc_event_name(e));
		/* a state that waits on a clock has one */
		ck_assert_msg((p->state != PS_OPENING && p->state != PS_KILLING) || p->deadline_ms,
			      "%s %s + %s: %s without a deadline", where, proc_state_name(s),
			      proc_event_name(e), proc_state_name(p->state));
		ck_assert_msg(p->state != PS_OPENING || p->io.logger_ready >= 0 || s != PS_OPENING ||
			      e != PE_LOGGER_READY, "still opening with no logger to wait for");
	}
	if (k.w.task)
		wtask_free(&k.w, k.t);
	sv_outq_free(&k.c.out);
	if (k.peer >= 0)
		close(k.peer);
	kill(k.child, SIGKILL);
	ck_assert_int_eq(waitpid(k.child, NULL, 0), k.child);
}

/* Drive every (state, event) pair, for the init and for an exec, on a worker of this
 * process: no reply is lost or sent twice, none is left owed in a state that never
 * answers it, Waits end with the stop, and a state waiting on a clock has a deadline. */
START_TEST(test_walk_every_pair)
{
	char dir[64];

	fx_make_bundle(dir, sizeof(dir), "svwalk", "{}", 2);
	walk_bundle = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(walk_bundle, 0);
	for (int s = 0; s < PS_N; s++) {
		for (int e = 0; e < PE_N; e++) {
			if (s != PS_PREPARING && s != PS_EXITED_PREPARING)
				walk_cell((enum pstate)s, (enum pevent)e, true);
			if (s != PS_CREATING && s != PS_CREATE_DIED)
				walk_cell((enum pstate)s, (enum pevent)e, false);
		}
	}
	close(walk_bundle);
	fx_rm_bundle(dir);
}
END_TEST

/* A binary:// logger that is ready at once: Create waits for it in the loop, then the task
 * runs with its stdout on the logger, as before. */
START_TEST(test_logger_ready_then_create)
{
	struct tw w;
	char script[128], uri[200], *got = NULL;
	sv_CreateTaskRequest cq = { .id = ID };
	sv_CreateTaskResponse cr = { 0 };
	sv_StartRequest sq = { .id = ID };
	sv_StartResponse sr = { 0 };
	sv_WaitRequest wq = { .id = ID };
	sv_WaitResponse wr = { 0 };
	sv_DeleteRequest dq = { .id = ID };
	sv_DeleteResponse dr = { 0 };
	uint32_t s = 1;
	size_t len;
	FILE *f;
	int fd, dfd;

	fx_init_built(&w);
	make_bundle(&w, "\"/bin/echo\",\"to-the-logger\"", ns_all);
	snprintf(script, sizeof(script), "%s/logger", w.bundle);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\nexec 5>&-\nexec cat <&3 > %s/logged\n", w.bundle);
	fclose(f);
	ck_assert_int_eq(chmod(script, 0755), 0);
	snprintf(uri, sizeof(uri), "binary://%s", script);
	start_worker(&w);
	fd = connect_worker(&w);
	cq.bundle = w.bundle;
	cq.stdout = uri;
	ck_assert_int_eq(call(fd, &s, "Create", sv_CreateTaskRequest_fields, &cq,
			      sv_CreateTaskResponse_fields, &cr, NULL, 0), SV_OK);
	ck_assert_uint_gt(cr.pid, 0);
	ck_assert_int_eq(call(fd, &s, "Start", sv_StartRequest_fields, &sq, sv_StartResponse_fields,
			      &sr, NULL, 0), SV_OK);
	ck_assert_int_eq(call(fd, &s, "Wait", sv_WaitRequest_fields, &wq, sv_WaitResponse_fields, &wr,
			      NULL, 0), SV_OK);
	ck_assert_uint_eq(wr.exit_status, 0);
	ck_assert_int_eq(call(fd, &s, "Delete", sv_DeleteRequest_fields, &dq, sv_DeleteResponse_fields,
			      &dr, NULL, 0), SV_OK);
	do_shutdown(&w, fd, &s);
	/* the logger ends with its pipe (the worker is gone): what it logged is whole */
	dfd = open(w.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	for (int i = 0; i < 500; i++) {
		if (sv_read_file(dfd, "logged", 128, &got, &len) == 0) {
			if (len == 14)
				break;
			free(got);
			got = NULL;
		}
		poll(NULL, 0, 10);
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "to-the-logger\n");
	free(got);
	close(dfd);
	fx_rm_bundle(w.bundle);
}
END_TEST

/* Start w's worker with two connections (fd, fd2) and send on fd (stream 1) a Create whose
 * stdout is a binary:// logger: it writes its pid to the bundle's logger.pid, then runs the
 * shell text rest. Returns once the logger runs: its pid. */
static pid_t create_with_logger(struct tw *w, const char *rest, int *fd, int *fd2)
{
	sv_CreateTaskRequest cq = { .id = ID };
	char script[128], uri[200], pidfile[128];
	FILE *f;

	snprintf(script, sizeof(script), "%s/logger", w->bundle);
	snprintf(pidfile, sizeof(pidfile), "%s/logger.pid", w->bundle);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho $$ > %s.tmp && mv %s.tmp %s\n%s", pidfile, pidfile, pidfile, rest);
	fclose(f);
	ck_assert_int_eq(chmod(script, 0755), 0);
	snprintf(uri, sizeof(uri), "binary://%s", script);
	start_worker(w);
	expect_hello(w);
	*fd = connect_worker(w);
	*fd2 = connect_worker(w);
	cq.bundle = w->bundle;
	cq.stdout = uri;
	send_async(*fd, 1, "Create", sv_CreateTaskRequest_fields, &cq);
	return await_pidfile(pidfile);
}

/* A binary:// logger that never says it is ready and ignores SIGTERM: the worker still
 * answers State while it waits (the task is being created), and Create fails as it always
 * did once the logger's 10 s are up. */
START_TEST(test_slow_logger_does_not_block)
{
	struct tw w;
	char msg[256];
	sv_StateRequest tq = { .id = ID };
	sv_StateResponse tr;
	uint32_t s = 1;
	int64_t t0, took;
	pid_t logger;
	int fd, fd2, code;

	fx_init_built(&w);
	make_bundle(&w, "\"/bin/true\"", ns_all);
	/* (its SIGTERM comes at the 10 s deadline, long after the trap is set) */
	logger = create_with_logger(&w, "trap '' TERM\nexec sleep 40\n", &fd, &fd2);

	t0 = sv_now_ms();
	ck_assert_uint_eq(prompt_state(fd2, &s, "the logger is not ready"), 0);

	/* the Create's answer, as before: the logger's deadline */
	code = recv_status(fd, 1, msg, sizeof(msg), 15000);
	took = sv_now_ms() - t0;
	ck_assert_int_eq(code, SV_DEADLINE_EXCEEDED);
	/* strerror(ETIMEDOUT) of the worker's libc: glibc's or musl's (the MUSL build) */
	ck_assert_msg(strcmp(msg, "open stdio: Connection timed out") == 0 ||
		      strcmp(msg, "open stdio: Operation timed out") == 0, "message: %s", msg);
	ck_assert_msg(took > 8000, "Create failed after %lld ms, before the deadline", (long long)took);
	ck_assert_int_eq(call(fd2, &s, "State", sv_StateRequest_fields, &tq, sv_StateResponse_fields,
			      &tr, NULL, 0), SV_NOT_FOUND);
	/* the logger ignored its SIGTERM: it is still there, ours to end */
	ck_assert_int_eq(kill(logger, 0), 0);
	kill(-logger, SIGKILL);
	close(fd2);
	do_shutdown(&w, fd, &s);
	fx_rm_bundle(w.bundle);
}
END_TEST

/* Delete of a created task whose init cannot die yet (frozen: a v1 freezer holds even a
 * SIGKILLed task until thawed): the worker answers State meanwhile, and Delete is answered
 * once the init is reaped, with the same status as ever (137). */
START_TEST(test_slow_death_does_not_block)
{
	struct tw w;
	char name[64], extra[256], val[128], msg[256];
	sv_PauseRequest pq = { .id = ID };
	sv_StateRequest tq = { .id = ID };
	sv_StateResponse tr;
	sv_DeleteRequest dq = { .id = ID };
	sv_DeleteResponse dr;
	struct ttrpc_hdr h;
	uint8_t *body = NULL;
	sv_Response resp;
	uint32_t s = 1;
	int fd, fd2;

	fx_build_dir(w.build, sizeof(w.build));
	if (!fx_have_init(w.build) || !cgfx_mnt(CGC_FREEZER, false, val, sizeof(val))) {
		printf("# SKIP needs shimvisor-init and the v1 freezer hierarchy\n");
		return;
	}
	cgfx_name(name, sizeof(name), "kill");
	snprintf(extra, sizeof(extra), "\"cgroupsPath\":\"/%s\",", name);
	make_bundle_x(&w, "\"/bin/sleep\",\"1000\"", ns_all, extra, "");
	start_worker(&w);
	expect_hello(&w);
	fd = connect_worker(&w);
	fd2 = connect_worker(&w);
	do_create(&w, fd, &s);
	ck_assert_int_eq(call(fd, &s, "Pause", sv_PauseRequest_fields, &pq, NULL, NULL, msg, sizeof(msg)),
			 SV_OK);
	send_async(fd, 101, "Delete", sv_DeleteRequest_fields, &dq);

	ck_assert_uint_eq(prompt_state(fd2, &s, "a killed init is frozen"), sv_TaskStatus_CREATED);
	ck_assert_int_eq(cgfx_write(CGC_FREEZER, false, name, "freezer.state", "THAWED"), 0);

	ck_assert_int_eq(ttrpc_read_frame(fd, &h, &body, 5000), 0);
	ck_assert_uint_eq(h.stream, 101);
	ck_assert_int_eq(sv_pb_decode(sv_Response_fields, &resp, body, h.len), 0);
	ck_assert(!resp.has_status || resp.status.code == SV_OK);
	ck_assert_int_eq(sv_pb_decode(sv_DeleteResponse_fields, &dr, resp.payload->bytes,
				      resp.payload->size), 0);
	ck_assert_uint_eq(dr.exit_status, 137);
	sv_pb_free(sv_Response_fields, &resp);
	free(body);
	expect_event(&w, 2, "/tasks/create", "containerd.events.TaskCreate");
	expect_event(&w, 3, "/tasks/paused", "containerd.events.TaskPaused");
	expect_event(&w, 4, "/tasks/exit", "containerd.events.TaskExit");
	expect_event(&w, 5, "/tasks/delete", "containerd.events.TaskDelete");
	ck_assert_int_eq(call(fd2, &s, "State", sv_StateRequest_fields, &tq, sv_StateResponse_fields,
			      &tr, NULL, 0), SV_NOT_FOUND);
	close(fd2);
	s = 103;
	do_shutdown(&w, fd, &s);
	fx_rm_bundle(w.bundle);
}
END_TEST

/* Delete of the task while its Create is under way (containerd's clean-up of a Create its
 * client gave up on: Delete then Shutdown, on the Create's connection): the Delete waits for
 * Create's end, as runc-v2's does. A Create that succeeds is followed by the init's kill and
 * the Delete's success (137); one that fails, by runc-v2's NotFound. Either way the
 * Shutdown behind it ends the worker. The logger holds the Create until its gate opens. */
static void delete_while_creating(const char *args, bool create_ok)
{
	struct tw w;
	char gate[128], rest[256], msg[256];
	sv_DeleteRequest dq = { .id = ID };
	sv_ShutdownRequest hq = { .id = ID };
	uint32_t s = 1;
	pid_t logger;
	int fd, fd2, g, code;

	fx_init_built(&w);
	make_bundle(&w, args, ns_all);
	snprintf(gate, sizeof(gate), "%s/gate", w.bundle);
	ck_assert_int_eq(mkfifo(gate, 0600), 0);
	snprintf(rest, sizeof(rest), "read x < %s\nexec 5>&-\nexec cat <&3 >/dev/null\n", gate);
	logger = create_with_logger(&w, rest, &fd, &fd2);
	send_async(fd, 3, "Delete", sv_DeleteRequest_fields, &dq);
	send_async(fd, 5, "Shutdown", sv_ShutdownRequest_fields, &hq);
	/* the worker serves others meanwhile; the task is still being created */
	ck_assert_uint_eq(prompt_state(fd2, &s, "a Delete waits for Create"), sv_TaskStatus_UNKNOWN);
	g = open(gate, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(g, 0);
	ck_assert_int_eq(write(g, "go\n", 3), 3);
	close(g);
	code = recv_status(fd, 1, msg, sizeof(msg), 10000);
	ck_assert_int_eq(code, create_ok ? SV_OK : SV_UNKNOWN);
	code = recv_status(fd, 3, msg, sizeof(msg), 10000);
	if (create_ok) {
		ck_assert_int_eq(code, SV_OK);
		expect_event(&w, 2, "/tasks/create", "containerd.events.TaskCreate");
		expect_event(&w, 3, "/tasks/exit", "containerd.events.TaskExit");
		expect_event(&w, 4, "/tasks/delete", "containerd.events.TaskDelete");
	} else {
		ck_assert_int_eq(code, SV_NOT_FOUND);
		ck_assert_str_eq(msg, MSG_NOT_CREATED);
	}
	ck_assert_int_eq(recv_status(fd, 5, msg, sizeof(msg), 10000), SV_OK);
	ck_assert_int_eq(wait_worker(&w), 0);
	kill(logger, SIGKILL);
	close(fd2);
	close(fd);
	fx_rm_bundle(w.bundle);
}

START_TEST(test_delete_while_creating)
{
	delete_while_creating("\"/bin/sleep\",\"1000\"", true);
}
END_TEST

START_TEST(test_delete_while_create_fails)
{
	delete_while_creating("\"/no/such/binary\"", false);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("worker_proc_table");
	TCase *tc = tcase_create("loop");

	SV_TCASE(su, "table", 30, test_every_cell_named, test_walk_every_pair);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, test_logger_ready_then_create);
	tcase_add_test(tc, test_slow_logger_does_not_block);
	tcase_add_test(tc, test_slow_death_does_not_block);
	tcase_add_test(tc, test_delete_while_creating);
	tcase_add_test(tc, test_delete_while_create_fails);
	tcase_add_unchecked_fixture(tc, NULL, cgfx_cleanup);
	suite_add_tcase(su, tc);
	return sv_run_suite(su);
}
