/* SPDX-License-Identifier: Apache-2.0 */
/* worker/proc_table.c: a process's lifecycle (the task's init or an exec) as actions[state][event]:
 * every state change, and every answer owed by one, is a named action of this table. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/log.h"
#include "common/names.h"
#include "wire/status.h"
#include "task.pb.h"
#include "service.h"

typedef void action_fn(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e);

static void to(struct proc *p, enum pstate s)
{
	p->state = s;
	p->deadline_ms = 0;
}

static bool is_init(const struct wtask *t, const struct proc *p)
{
	return p == &t->init;
}

static void reply_k(const struct pev *e, int code, const char *msg)
{
	svc_reply(e->k, code, msg, NULL, NULL);
}

/* ---- ignore: the event means nothing in this state (e.g. a stranger's reap) */

static void ignore(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)w, (void)t, (void)p, (void)e;
}

static void delete_kill(struct worker *w, struct proc *p, struct pending rep);
static void delete_not_created(struct worker *w, struct proc *p);

/* ---- the way to created */

/* Create (or an exec's Start) could not open the stdio or spawn the init. */
static void open_failed(struct worker *w, struct wtask *t, struct proc *p, int err, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(-err));
	proc_hold_close(p);
	if (is_init(t, p)) {
		w_reply_pending(w, &p->create_rep, sv_code_from_errno(err), msg, NULL, NULL);
		delete_not_created(w, p);
		w->task = NULL;
		wtask_free(w, t);
		return;
	}
	w_reply_pending(w, &p->start_rep, sv_code_from_errno(err), msg, NULL, NULL);
	pio_close(&p->io);
	to(p, PS_CREATED);
}

static void logger_ready(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	bool init = is_init(t, p);
	int err = e->err;

	if (err < 0) {
		open_failed(w, t, p, err, init ? "open stdio" : "start exec");
		return;
	}
	if (init) {
		err = proc_spawn_init(w, t, p->hold[0], p->hold + 1);
		proc_hold_close(p);
	} else {
		err = proc_spawn_exec(w, t, p);     /* closes hold */
	}
	if (err < 0) {
		open_failed(w, t, p, err, init ? "start shimvisor-init" : "start exec");
		return;
	}
	to(p, init ? PS_CREATING : PS_PREPARING);
}

static void logger_timeout(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)e;
	open_failed(w, t, p, -ETIMEDOUT, is_init(t, p) ? "open stdio" : "start exec");
}

static void init_ready(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	sv_CreateTaskResponse r = { .pid = (uint32_t)p->pid };

	(void)e;
	proc_init_ready(w, t);
	to(p, PS_CREATED);
	w_reply_pending(w, &p->create_rep, SV_OK, NULL, sv_CreateTaskResponse_fields, &r);
	proc_publish_create(w, t);
	if (p->delete_rep.cid) {
		/* a Delete came while it was created (its client gave up): done now */
		struct pending rep = p->delete_rep;

		p->delete_rep.cid = 0;
		delete_kill(w, p, rep);
	}
}

/* Create failed: answer it, drop the task; its processes are reaped quietly. */
static void create_failed(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "failed to create task: %s",
		 e->why ? e->why : "shimvisor-init exited before it was ready");
	w_reply_pending(w, &p->create_rep, SV_UNKNOWN, msg, NULL, NULL);
	delete_not_created(w, p);
	if (p->pid > 0 && p->state != PS_CREATE_DIED)
		kill(p->pid, SIGKILL);
	if (p->stage1 > 0)
		kill(p->stage1, SIGKILL);
	w->task = NULL;
	wtask_free(w, t);
}

/* Reaped before READY: its sync EOF (now or soon) fails the Create. */
static void create_died(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)w, (void)t, (void)e;
	to(p, PS_CREATE_DIED);
}

/* ---- Start */

static void start_init(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	int err = proc_send_start(p);

	if (err < 0) {
		svc_reply_errno(e->k, err, "start");
		return;
	}
	to(p, PS_STARTING);
	p->start_rep = (struct pending){ e->k->c->cid, e->k->stream };
	/* The task starts: from here on the worker never needs more than its duties and the
	 * task's bounding set. It confines itself while the init execs the task's program
	 * (on another CPU: the ~0.5 ms of a seccomp filter's set-up is not added to Start). */
	err = worker_confine(w, t);
	if (err < 0) {
		char msg[128];

		kill(p->pid, SIGKILL);      /* its EOF is ignored when CREATED; its reap stops it */
		snprintf(msg, sizeof(msg), "confine the worker: %s", strerror(-err));
		w_reply_pending(w, &p->start_rep, SV_UNKNOWN, msg, NULL, NULL);
		to(p, PS_CREATED);
	}
}

static void start_exec(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	uint32_t st = proc_task_status(t, &t->init);
	int err;

	if (st != sv_TaskStatus_CREATED && st != sv_TaskStatus_RUNNING) {
		reply_k(e, SV_FAILED_PRECONDITION, "the task is not running: failed precondition");
		return;
	}
	if (t->paused) {
		reply_k(e, SV_FAILED_PRECONDITION, "the task is paused: failed precondition");
		return;
	}
	/* an exec before the task's Start: the worker confines itself first */
	err = worker_confine(w, t);
	if (err < 0) {
		svc_reply_errno(e->k, err, "confine the worker");
		return;
	}
	err = proc_open_exec(w, t, p);
	if (err == 0 && p->io.logger_ready >= 0) {
		to(p, PS_OPENING);              /* its logger's readiness spawns it */
		p->deadline_ms = sv_now_ms() + W_LOGGER_READY_MS;
		p->start_rep = (struct pending){ e->k->c->cid, e->k->stream };
		return;
	}
	if (err == 0)
		err = proc_spawn_exec(w, t, p);
	if (err < 0) {
		svc_reply_errno(e->k, err, "start exec");
		return;
	}
	to(p, PS_PREPARING);
	p->start_rep = (struct pending){ e->k->c->cid, e->k->stream };
}

static void start(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(is_init(t, p) ? start_init : start_exec)(w, t, p, e);
}

static void start_answered(struct worker *w, struct wtask *t, struct proc *p)
{
	sv_StartResponse r = { .pid = (uint32_t)p->pid };

	w_reply_pending(w, &p->start_rep, SV_OK, NULL, sv_StartResponse_fields, &r);
	if (is_init(t, p)) {
		sv_TaskStart ev;

		memset(&ev, 0, sizeof(ev));
		memcpy(ev.container_id, t->id, sizeof(ev.container_id));
		ev.pid = (uint32_t)p->pid;
		wev_publish(w, "/tasks/start", "containerd.events.TaskStart", sv_TaskStart_fields, &ev);
	} else {
		sv_TaskExecStarted ev;

		memset(&ev, 0, sizeof(ev));
		memcpy(ev.container_id, t->id, sizeof(ev.container_id));
		memcpy(ev.exec_id, p->exec_id, sizeof(ev.exec_id));
		ev.pid = (uint32_t)p->pid;
		wev_publish(w, "/tasks/exec-started", "containerd.events.TaskExecStarted",
			   sv_TaskExecStarted_fields, &ev);
	}
}

/* The sync socket's EOF after START: the program was exec'd (the socket is close-on-exec). */
static void started(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)e;
	to(p, PS_RUNNING);
	start_answered(w, t, p);
}

/* Exec'd, and already reaped: Start's answer, then its exit. */
static void started_exited(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)e;
	to(p, PS_STOPPED);
	start_answered(w, t, p);
	proc_exited(w, t, p, -1);
}

/* Start failed: an init is stopped at once (a client may Delete right away, and only a
 * stopped task can be: its answer waits for its reap); an exec is spent (its Waits get 255). */
static void start_failed(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	char msg[512];
	bool reaped = proc_reaped(p);

	snprintf(msg, sizeof(msg), "failed to start %s: %s", is_init(t, p) ? "task" : "exec",
		 e->why ? e->why : "shimvisor-init exited before it was ready");
	if (is_init(t, p)) {
		if (reaped || p->pid <= 0 || !(p->start_err = strdup(msg))) {
			w_reply_pending(w, &p->start_rep, SV_UNKNOWN, msg, NULL, NULL);
			if (!reaped && p->pid > 0)
				kill(p->pid, SIGKILL);      /* no memory: reaped as a stranger */
			to(p, reaped || p->pid > 0 ? PS_STOPPED : PS_CREATED);
			if (reaped || p->pid > 0)
				proc_exited(w, t, p, reaped ? -1 : SIGKILL);
			return;
		}
		kill(p->pid, SIGKILL);
		to(p, PS_KILLING);
		p->deadline_ms = sv_now_ms() + W_KILL_WAIT_MS;
		return;
	}
	w_reply_pending(w, &p->start_rep, SV_UNKNOWN, msg, NULL, NULL);
	if (p->pid > 0 && !reaped)
		kill(p->pid, SIGKILL);
	if (p->sync_fd >= 0) {
		close(p->sync_fd);
		p->sync_fd = -1;
	}
	/* 255 also when its init's own failure (127: the program could not be exec'd) was
	 * reaped first and held for this answer: the exec never ran */
	if (!reaped)
		clock_gettime(CLOCK_REALTIME, &p->exited_at);
	p->exit_status = 255;
	to(p, PS_STOPPED);
	proc_release_waiters(w, p);
	pio_close(&p->io);
}

/* An exec's init is READY: it runs at once (it was spawned by its Start). */
static void exec_go(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	int err = proc_send_start(p);

	(void)e;
	if (err < 0) {
		char why[128];

		snprintf(why, sizeof(why), "send START: %s", strerror(-err));
		kill(p->pid, SIGKILL);
		start_failed(w, t, p, &(struct pev){ .type = PE_SYNC_ERROR, .why = why });
		return;
	}
	to(p, PS_STARTING);
}

static void refuse_creating(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)w, (void)t, (void)p;
	reply_k(e, SV_FAILED_PRECONDITION, "process is still being created: failed precondition");
}

static void refuse_running(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)w, (void)t, (void)p;
	reply_k(e, SV_UNKNOWN, "cannot start a running process");
}

static void refuse_stopped(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)w, (void)t, (void)p;
	reply_k(e, SV_UNKNOWN, "cannot start a stopped process");
}

/* OPENING: the init is being created; an exec's Start is under way. */
static void refuse_opening(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(is_init(t, p) ? refuse_creating : refuse_running)(w, t, p, e);
}

/* ---- exits */

static void exited(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	to(p, PS_STOPPED);
	proc_exited(w, t, p, e->wstatus);
}

/* Reaped while Start is in flight: Start completes (or fails) first, then the exit. The
 * sync socket has ended with it: read it now. */
static void exit_held(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	proc_record_exit(p, e->wstatus);
	to(p, p->state == PS_PREPARING ? PS_EXITED_PREPARING : PS_EXITED_STARTING);
	proc_sync_input(w, t, p);
}

static void delete_answer(struct worker *w, struct wtask *t, struct proc *p, struct pending *rep);

/* The SIGKILLed init is reaped (or its time is up: taken for killed). */
static void killed(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	int st = e->type == PE_REAPED ? e->wstatus : SIGKILL;

	to(p, PS_STOPPED);
	if (p->start_err)
		w_reply_pending(w, &p->start_rep, SV_UNKNOWN, p->start_err, NULL, NULL);
	free(p->start_err);
	p->start_err = NULL;
	proc_exited(w, t, p, st);
	if (p->delete_rep.cid)
		delete_answer(w, t, p, &p->delete_rep);
}

/* ---- Kill */

static void signal_proc(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)w;
	if (p->pid <= 0) {
		reply_k(e, SV_NOT_FOUND, is_init(t, p) ? MSG_NOT_CREATED : "process not started: not found");
		return;
	}
	svc_signal(e->k, t, p, e->sig, e->all);
}

static void refuse_not_created(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)w;
	reply_k(e, SV_NOT_FOUND, is_init(t, p) ? MSG_NOT_CREATED : "process not started: not found");
}

static void refuse_finished(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)w, (void)t, (void)p;
	reply_k(e, SV_NOT_FOUND, MSG_FINISHED);
}

/* ---- Delete */

/* Answer a Delete of p (stopped, or an exec never started) and forget p: an exec alone, or
 * the task with all its execs (TaskDelete). */
static void delete_answer(struct worker *w, struct wtask *t, struct proc *p, struct pending *rep)
{
	sv_DeleteResponse r;
	sv_TaskDelete ev;

	memset(&r, 0, sizeof(r));
	r.pid = (uint32_t)(p->pid > 0 ? p->pid : 0);
	r.exit_status = (uint32_t)p->exit_status;
	r.has_exited_at = true;
	r.exited_at.seconds = p->exited_at.tv_sec;
	r.exited_at.nanos = (int32_t)p->exited_at.tv_nsec;
	if (!is_init(t, p)) {
		w_reply_pending(w, rep, SV_OK, NULL, sv_DeleteResponse_fields, &r);
		wtask_drop_exec(w, t, p);
		return;
	}
	/* the event first, as containerd's shims send it: on the engine's link it then comes
	 * before the answer that ends the task there */
	memset(&ev, 0, sizeof(ev));
	memcpy(ev.container_id, t->id, sizeof(ev.container_id));
	ev.pid = r.pid;
	ev.exit_status = r.exit_status;
	ev.has_exited_at = true;
	ev.exited_at = r.exited_at;
	wev_publish(w, "/tasks/delete", "containerd.events.TaskDelete", sv_TaskDelete_fields, &ev);
	w_reply_pending(w, rep, SV_OK, NULL, sv_DeleteResponse_fields, &r);
	w->task = NULL;
	wtask_free(w, t);
}

static void delete_stopped(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	delete_answer(w, t, p, &(struct pending){ e->k->c->cid, e->k->stream });
}

/* Kill the created init: the Delete (rep) is answered once it is reaped. */
static void delete_kill(struct worker *w, struct proc *p, struct pending rep)
{
	(void)w;
	kill(p->pid, SIGKILL);
	to(p, PS_KILLING);
	p->deadline_ms = sv_now_ms() + W_KILL_WAIT_MS;
	p->delete_rep = rep;
}

/* The Create a Delete waited for failed: nothing to delete (runc-v2's answer once its Create
 * has failed: the container was never registered). */
static void delete_not_created(struct worker *w, struct proc *p)
{
	w_reply_pending(w, &p->delete_rep, SV_NOT_FOUND, MSG_NOT_CREATED, NULL, NULL);
}

/* A created init is killed first: Delete is answered once it is reaped. */
static void delete_created(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	if (!is_init(t, p)) {
		delete_stopped(w, t, p, e);     /* an exec never started */
		return;
	}
	delete_kill(w, p, (struct pending){ e->k->c->cid, e->k->stream });
}

/* runc-v2's answer, word for word (its running state's Delete: a plain error, code Unknown) */
static void refuse_delete(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	(void)w, (void)t, (void)p;
	reply_k(e, SV_UNKNOWN, "cannot delete a running process");
}

/* The init is being created: the Delete waits for Create's end, as runc-v2's waits for its
 * Create (one lock): a client that gave up on its Create (containerd's clean-up of a
 * cancelled Create sends Delete, then Shutdown) leaves nothing. An exec's Start under way
 * is a running process. */
static void delete_creating(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	if (!is_init(t, p) || p->delete_rep.cid) {
		refuse_delete(w, t, p, e);
		return;
	}
	p->delete_rep = (struct pending){ e->k->c->cid, e->k->stream };
}

/* Killed after a failed Start: Delete is answered once it is reaped (one Delete at a time). */
static void delete_killing(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	if (p->delete_rep.cid) {
		refuse_delete(w, t, p, e);
		return;
	}
	p->delete_rep = (struct pending){ e->k->c->cid, e->k->stream };
}

/* ---- the table */

/* Every action of the table, once. A cell is a byte, the action's index (PA_HOLE, 0, is a
 * cell left out: the unit test finds none); its function and name are found by that
 * index: the table holds no pointer (nothing for a static-pie binary to relocate at load). */
#define PROC_ACTIONS(X) \
	X(ignore) X(logger_ready) X(logger_timeout) X(refuse_opening) \
	X(refuse_not_created) X(refuse_delete) X(init_ready) X(create_failed) X(create_died) \
	X(refuse_creating) X(exited) X(start) X(signal_proc) X(delete_created) X(exec_go) \
	X(start_failed) X(exit_held) X(refuse_running) X(started) X(refuse_finished) \
	X(started_exited) X(killed) X(refuse_stopped) X(delete_killing) X(delete_stopped) \
	X(delete_creating)
#define PA_ID(f) PA_##f,
enum { PA_HOLE, PROC_ACTIONS(PA_ID) PA_N };
#define PA_FN(f) [PA_##f] = f,
static action_fn *const action_fns[PA_N] = { PROC_ACTIONS(PA_FN) };
#define A(f) PA_##f
#define IGN PA_ignore

#define NAME_SIZE 20
SV_NAMES_BEGIN
#define PA_NAME(f) [PA_##f] = #f,
static const char action_names[PA_N][NAME_SIZE] = { PROC_ACTIONS(PA_NAME) };
static const char state_names[PS_N][NAME_SIZE] = {
	[PS_OPENING] = "opening", [PS_CREATING] = "creating", [PS_CREATE_DIED] = "create-died",
	[PS_CREATED] = "created", [PS_PREPARING] = "preparing", [PS_STARTING] = "starting",
	[PS_EXITED_PREPARING] = "exited-preparing", [PS_EXITED_STARTING] = "exited-starting",
	[PS_RUNNING] = "running", [PS_KILLING] = "killing", [PS_STOPPED] = "stopped",
};
static const char event_names[PE_N][NAME_SIZE] = {
	[PE_LOGGER_READY] = "logger ready", [PE_SYNC_READY] = "sync READY",
	[PE_SYNC_EOF] = "sync EOF", [PE_SYNC_ERROR] = "sync ERROR", [PE_REAPED] = "reaped",
	[PE_DEADLINE] = "deadline", [PE_START] = "Start", [PE_KILL] = "Kill", [PE_DELETE] = "Delete",
};
SV_NAMES_END

/* Columns: logger ready, sync READY, sync EOF, sync ERROR, reaped, deadline, Start, Kill, Delete */
static const uint8_t actions[PS_N][PE_N] = {
	[PS_OPENING] = { A(logger_ready), IGN, IGN, IGN, IGN, A(logger_timeout),
			 A(refuse_opening), A(refuse_not_created), A(delete_creating) },
	[PS_CREATING] = { IGN, A(init_ready), A(create_failed), A(create_failed), A(create_died), IGN,
			  A(refuse_creating), A(refuse_not_created), A(delete_creating) },
	[PS_CREATE_DIED] = { IGN, IGN, A(create_failed), A(create_failed), IGN, IGN,
			     A(refuse_creating), A(refuse_not_created), A(delete_creating) },
	[PS_CREATED] = { IGN, IGN, IGN, IGN, A(exited), IGN,
			 A(start), A(signal_proc), A(delete_created) },
	[PS_PREPARING] = { IGN, A(exec_go), A(start_failed), A(start_failed), A(exit_held), IGN,
			   A(refuse_running), A(signal_proc), A(refuse_delete) },
	[PS_STARTING] = { IGN, IGN, A(started), A(start_failed), A(exit_held), IGN,
			  A(refuse_running), A(signal_proc), A(refuse_delete) },
	[PS_EXITED_PREPARING] = { IGN, IGN, A(start_failed), A(start_failed), IGN, IGN,
				  A(refuse_running), A(refuse_finished), A(refuse_delete) },
	[PS_EXITED_STARTING] = { IGN, IGN, A(started_exited), A(start_failed), IGN, IGN,
				 A(refuse_running), A(refuse_finished), A(refuse_delete) },
	[PS_RUNNING] = { IGN, IGN, IGN, IGN, A(exited), IGN,
			 A(refuse_running), A(signal_proc), A(refuse_delete) },
	[PS_KILLING] = { IGN, IGN, IGN, IGN, A(killed), A(killed),
			 A(refuse_stopped), A(signal_proc), A(delete_killing) },
	[PS_STOPPED] = { IGN, IGN, IGN, IGN, IGN, IGN,
			 A(refuse_stopped), A(refuse_finished), A(delete_stopped) },
};

void proc_event(struct worker *w, struct wtask *t, struct proc *p, const struct pev *e)
{
	unsigned a = actions[p->state][e->type];

	sv_debug("%s %s: %s in %s: %s", is_init(t, p) ? "task" : "exec", is_init(t, p) ? t->id :
		 p->exec_id, event_names[e->type], state_names[p->state], action_names[a]);
	action_fns[a](w, t, p, e);
}

void proc_born(struct proc *p, enum pstate first)
{
	to(p, first);
	if (first == PS_OPENING)
		p->deadline_ms = sv_now_ms() + W_LOGGER_READY_MS;
}

bool proc_reaped(const struct proc *p)
{
	return p->state == PS_CREATE_DIED || p->state == PS_EXITED_PREPARING ||
	       p->state == PS_EXITED_STARTING || p->state == PS_STOPPED;
}

uint32_t proc_task_status(const struct wtask *t, const struct proc *p)
{
	switch (p->state) {
	case PS_OPENING:
		return is_init(t, p) ? sv_TaskStatus_UNKNOWN : sv_TaskStatus_CREATED;
	case PS_CREATING:
	case PS_CREATE_DIED:
		return sv_TaskStatus_UNKNOWN;
	case PS_RUNNING:
		return sv_TaskStatus_RUNNING;
	case PS_STOPPED:
		return sv_TaskStatus_STOPPED;
	default:
		return sv_TaskStatus_CREATED;   /* held, or its Start under way, or being killed */
	}
}

int64_t proc_next_deadline(const struct wtask *t)
{
	const struct proc *p;
	int64_t d = t->init.deadline_ms;

	for (p = t->execs; p; p = p->next)
		if (p->deadline_ms && (!d || p->deadline_ms < d))
			d = p->deadline_ms;
	return d;
}

void proc_timers(struct worker *w, int64_t now)
{
	struct proc *p;

again:
	if (!w->task)
		return;
	for (p = &w->task->init; p; p = p == &w->task->init ? w->task->execs : p->next) {
		if (p->deadline_ms && now >= p->deadline_ms) {
			p->deadline_ms = 0;
			proc_event(w, w->task, p, &(struct pev){ .type = PE_DEADLINE });
			goto again;     /* the event may have freed p, or the task */
		}
	}
}

const char *proc_state_name(enum pstate s)
{
	return s < PS_N ? state_names[s] : NULL;
}

const char *proc_event_name(enum pevent e)
{
	return e < PE_N ? event_names[e] : NULL;
}

const char *proc_cell_name(enum pstate s, enum pevent e)
{
	if (s >= PS_N || e >= PE_N || actions[s][e] == PA_HOLE)
		return NULL;
	return action_names[actions[s][e]];
}

void proc_table_markdown(FILE *f)
{
	int s, e;

	fprintf(f, "| state \\ event |");
	for (e = 0; e < PE_N; e++)
		fprintf(f, " %s |", event_names[e]);
	fprintf(f, "\n|---|");
	for (e = 0; e < PE_N; e++)
		fprintf(f, "---|");
	fprintf(f, "\n");
	for (s = 0; s < PS_N; s++) {
		fprintf(f, "| %s |", state_names[s]);
		for (e = 0; e < PE_N; e++)
			fprintf(f, " %s |", actions[s][e] != PA_HOLE ? action_names[actions[s][e]]
								      : "**EMPTY**");
		fprintf(f, "\n");
	}
}
