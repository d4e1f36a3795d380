/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/task_actions.c: the actions of the task lifecycle table, one per (state, event)
 * cell of TASK_ACTIONS (task_table.h; the restart policy's are in task_restart.c), and
 * task_fire, which runs them. An action answers the clients whose wait it ends, sends what
 * the next state waits for, and sets that state. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "engine.h"
#include "task_actions.h"
#include "monitor.pb.h"
#include "wire/limits.h"
#include "wire/pbio.h"
#include "wire/status.h"


void shutdown_worker(struct engine *e, struct task *t, int timeout_ms)
{
	sv_ShutdownRequest sq = { 0 };

	snprintf(sq.id, sizeof(sq.id), "%s", t->id);
	link_call(e, t, W_SHUTDOWN, "Shutdown", sv_ShutdownRequest_fields, &sq, nobody, timeout_ms);
}

/* The worker's Delete, then its Shutdown: pipelined, the worker serves requests in order,
 * and Shutdown with a task left (a Delete that failed) is a no-op. Without a link, the
 * worker's end (and its cleanup) comes anyway. */
void begin_delete(struct engine *e, struct task *t)
{
	sv_DeleteRequest rq = { 0 };

	if (!t->link)
		return;
	snprintf(rq.id, sizeof(rq.id), "%s", t->id);
	link_call(e, t, W_DELETE, "Delete", sv_DeleteRequest_fields, &rq, nobody, 10000);
	shutdown_worker(e, t, 10000);
}

/* dead: the worker died holding the task: the monitor runs its `delete` action, which
 * reports the recorded exit; else the bundle is only removed. */
static void send_cleanup(struct engine *e, struct task *t, bool dead)
{
	sv_MonRequest rq = { .which_op = sv_MonRequest_cleanup_tag };

	snprintf(rq.op.cleanup.ns, sizeof(rq.op.cleanup.ns), "%s", t->ns);
	snprintf(rq.op.cleanup.id, sizeof(rq.op.cleanup.id), "%s", t->id);
	rq.op.cleanup.dead = dead;
	if (mon_send(e, t, &rq) < 0)
		sv_warn("task %s/%s: cleanup request failed", t->ns, t->id);
}

/* The init's exit, once: recorded, published (the worker's own event when it came on the
 * link), its waiters answered. */
void exit_record(struct engine *e, struct task *t, uint32_t status, const sv_Timestamp *at,
			const sv_Envelope *env)
{
	if (task_exit_known(t))
		return;
	t->exit_status = status;
	sv_info("task %s/%s: exited with status %u", t->ns, t->id, status);
	if (at && (at->seconds || at->nanos)) {
		t->exited_at = *at;
	} else {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		t->exited_at = (sv_Timestamp){ .seconds = now.tv_sec, .nanos = (int32_t)now.tv_nsec };
	}
	if (env) {
		publish_envelope(e, env);
	} else {
		sv_TaskExit ev = { .pid = t->pid, .exit_status = status, .has_exited_at = true,
				   .exited_at = t->exited_at };
		snprintf(ev.container_id, sizeof(ev.container_id), "%s", t->id);
		snprintf(ev.id, sizeof(ev.id), "%s", t->id);
		publish(e, t->ns, "/tasks/exit", "TaskExit", sv_TaskExit_fields, &ev);
	}
	sv_WaitResponse wr = { .exit_status = status, .has_exited_at = true, .exited_at = t->exited_at };
	while (t->waiters) {
		struct waiter *w = t->waiters;
		t->waiters = w->next;
		reply(e, w->rt, SV_OK, NULL, sv_WaitResponse_fields, &wr);
		free(w);
	}
}

static void publish_delete(struct engine *e, struct task *t)
{
	sv_TaskDelete ev = { .pid = t->pid, .exit_status = t->exit_status, .has_exited_at = true,
			     .exited_at = t->exited_at };

	snprintf(ev.container_id, sizeof(ev.container_id), "%s", t->id);
	publish(e, t->ns, "/tasks/delete", "TaskDelete", sv_TaskDelete_fields, &ev);
}

/* The worker is gone (or going): st waits for the cleanup of its bundle. */
void await_cleanup(struct engine *e, struct task *t, enum task_state st, bool dead)
{
	task_unlink(e, t);
	t->st = st;
	send_cleanup(e, t, dead);
}

/* The create failed: its answer is owed until the cleanup has removed the bundle, so that a
 * client may retry the same id as soon as it has it. */
static void owe_failure(struct task *t, int code, const char *msg, struct reply_to rt)
{
	t->fail_code = code;
	free(t->fail_msg);
	t->fail_msg = strdup(msg && *msg ? msg : "create failed");
	t->create_rt = rt;
}

static void answer(struct engine *e, struct reply_to *rt, int code, const char *msg)
{
	reply(e, *rt, code, msg, NULL, NULL);
	*rt = nobody;
}

/* rt waits in slot for what the state waits for; one at a time, another is refused. */
static void hold(struct engine *e, struct reply_to *slot, struct reply_to rt, const char *busy)
{
	if (slot->conn)
		reply(e, rt, SV_FAILED_PRECONDITION, busy, NULL, NULL);
	else
		*slot = rt;
}

/* The end: whoever still waits is told the task is gone; then its memory goes. */
static void end(struct engine *e, struct task *t)
{
	while (t->waiters) {
		struct waiter *w = t->waiters;
		t->waiters = w->next;
		reply(e, w->rt, SV_NOT_FOUND, "task was deleted: not found", NULL, NULL);
		free(w);
	}
	answer(e, &t->start_rt, SV_NOT_FOUND, "task is gone: not found");
	answer(e, &t->create_rt, SV_UNAVAILABLE, "task is gone");
	answer(e, &t->delete_rt, SV_NOT_FOUND, "task is gone: not found");
	answer(e, &t->restart_rt, SV_NOT_FOUND, "task is gone: not found");
	task_free(e, t);
}

/* --- the actions --- */

static void ignore(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)e, (void)t, (void)a;
}

static void relay_report(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)t;
	if (a->env)
		publish_envelope(e, a->env);
}

static enum task_req req_of(enum task_event ev)
{
	return ev == TE_START ? TR_START : ev == TE_DELETE ? TR_DELETE :
	       ev == TE_RESTART ? TR_RESTART : TR_DELETE_FORCE;
}

/* A new worker's link (its calls' replies and its reports) opened. 0, or -errno when there
 * is no link. */
int take_worker(struct engine *e, struct task *t, const struct task_ev *a)
{
	const sv_MonSpawned *sp = a->body;

	t->worker_pid = sp->pid;
	return link_open(e, t, a->link_fd);    /* made by the monitor */
}

/* The worker's Create: stdio from cr, or (cr NULL or detached) the bundle's log. */
void send_create(struct engine *e, struct task *t, const sv_CtlCreateRequest *cr,
			struct reply_to rt)
{
	sv_CreateTaskRequest rq = { 0 };
	char log[PATH_MAX + 64];

	snprintf(rq.id, sizeof(rq.id), "%s", t->id);
	rq.bundle = t->bundle;
	if (!cr || cr->detach) {
		if (e->cfg->log_max_size > 0)      /* the worker writes it, capped and rotated */
			snprintf(log, sizeof(log), SV_LOG_SCHEME "%s/%s?max=%lld&keep=%d", t->bundle,
				 SV_BUNDLE_LOG, e->cfg->log_max_size, e->cfg->log_max_files);
		else                                /* the task writes it itself, unbounded */
			snprintf(log, sizeof(log), "file://%s/%s", t->bundle, SV_BUNDLE_LOG);
		rq.stdout = log;
		rq.stderr = log;
	} else {
		rq.stdin = cr->stdin;
		rq.stdout = cr->stdout;
		rq.stderr = cr->stderr;
	}
	rq.terminal = cr && cr->terminal;
	link_call(e, t, W_CREATE, "Create", sv_CreateTaskRequest_fields, &rq, rt, 30000);
}

/* The monitor made the bundle and started the worker: connect and send Create. */
static void spawned(struct engine *e, struct task *t, const struct task_ev *a)
{
	const sv_MonSpawned *sp = a->body;
	sv_CtlCreateRequest *cr = t->create_req;

	t->bundle = strdup(sp->bundle ? sp->bundle : "");
	if (take_worker(e, t, a) < 0 || !cr) {
		/* its exit notice leads to the cleanup, and that to the answer */
		owe_failure(t, SV_UNAVAILABLE, "connect to the new worker failed", t->create_rt);
		t->st = TS_FAILED;
		return;
	}
	t->st = TS_CREATING;
	send_create(e, t, cr, t->create_rt);
	t->create_rt = nobody;     /* the call answers it */
	sv_pb_free(sv_CtlCreateRequest_fields, cr);
	free(cr);
	t->create_req = NULL;
}

static void spawned_late(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)e, (void)t;
	if (a->link_fd >= 0)
		close(a->link_fd);
}

static void spawn_failed(struct engine *e, struct task *t, const struct task_ev *a)
{
	char msg[256];

	if (a->msg && a->msg[0])
		snprintf(msg, sizeof(msg), "create %s: policy: %s", t->id, a->msg);
	else
		snprintf(msg, sizeof(msg), "create %s: %s", t->id,
			 a->code == EEXIST ? "a bundle of that id still exists" : strerror(a->code));
	answer(e, &t->create_rt, sv_code_from_errno(-a->code), msg);
	end(e, t);
}

/* A worker's Create answer for a task past its create (its link outlived it): its client. */
static void create_late(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)t;
	reply(e, a->rt, SV_UNAVAILABLE, "task is gone", NULL, NULL);
}

/* The task is kept (the monitor removes its bundle's `creating` mark) before its client
 * hears of it: a restart before that rolls it back, one after finds it (DESIGN). */
static void worker_created(struct engine *e, struct task *t, const struct task_ev *a)
{
	sv_MonRequest rq = { .which_op = sv_MonRequest_commit_tag };

	snprintf(rq.op.commit.ns, sizeof(rq.op.commit.ns), "%s", t->ns);
	snprintf(rq.op.commit.id, sizeof(rq.op.commit.id), "%s", t->id);
	t->pid = a->pid;
	t->create_rt = a->rt;
	t->st = TS_COMMITTING;
	if (mon_send(e, t, &rq) < 0)
		task_committed(e, t, EIO);
}

static void create_failed(struct engine *e, struct task *t, const struct task_ev *a)
{
	owe_failure(t, a->code, a->msg, a->rt);
	t->st = TS_FAILED;
	shutdown_worker(e, t, 5000);
}

static void committed(struct engine *e, struct task *t, const struct task_ev *a)
{
	sv_CreateTaskResponse resp = { .pid = t->pid };

	(void)a;
	sv_info("task %s/%s: created (pid %u, worker %u)", t->ns, t->id, t->pid, t->worker_pid);
	t->st = task_exit_known(t) ? TS_STOPPED : TS_CREATED;
	reply(e, t->create_rt, SV_OK, NULL, sv_CreateTaskResponse_fields, &resp);
	t->create_rt = nobody;
	if (t->start_rt.conn) {         /* a Start pipelined behind the Create (`run`) */
		sv_StartRequest sq = { 0 };
		snprintf(sq.id, sizeof(sq.id), "%s", t->id);
		link_call(e, t, W_START, "Start", sv_StartRequest_fields, &sq, t->start_rt, 30000);
		t->start_rt = nobody;
	}
}

static void commit_failed(struct engine *e, struct task *t, const struct task_ev *a)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "create %s: the monitor did not keep it: %s", t->id,
		 strerror(a->code));
	owe_failure(t, SV_UNAVAILABLE, msg, t->create_rt);
	t->st = TS_ROLLBACK;
	begin_delete(e, t);      /* its init goes, then its worker */
}

/* Died before its create was committed: undone, its client told so once it is cleaned. */
static void died_uncommitted(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)a;
	sv_warn("task %s/%s: its worker (pid %u) died during create", t->ns, t->id, t->worker_pid);
	owe_failure(t, SV_UNAVAILABLE, "the task's worker died during create", t->create_rt);
	await_cleanup(e, t, TS_FAILED_CLEANING, true);
}

static void worker_died(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)a;
	sv_warn("task %s/%s: its worker (pid %u) died", t->ns, t->id, t->worker_pid);
	await_cleanup(e, t, TS_GONE, true);
}

static void deleted_gone(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)e, (void)a;
	task_unlink(e, t);
	t->st = TS_DELETED_GONE;
}

static void cleaned_first(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)e, (void)a;
	t->st = TS_DELETED_CLEANED;
}

/* A delete is done once the worker is gone and its bundle removed, in either order. */
static void finish_delete(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)a;
	sv_info("task %s/%s: deleted, cleaned up", t->ns, t->id);
	reply(e, t->delete_rt, SV_OK, NULL, sv_DeleteResponse_fields, &t->del);
	t->delete_rt = nobody;
	end(e, t);
}

/* A dead worker cleaned: its `delete` action reported the recorded exit, if there was one. */
static void cleaned_dead(struct engine *e, struct task *t, const struct task_ev *a)
{
	const sv_MonCleaned *cl = a->body;
	sv_DeleteResponse dr = { 0 };
	bool have = cl && cl->delete_response && cl->delete_response->size &&
		    sv_pb_decode(sv_DeleteResponse_fields, &dr, cl->delete_response->bytes,
				 cl->delete_response->size) == 0;

	if (!task_exit_known(t)) {
		if (have && dr.pid && !t->pid)
			t->pid = dr.pid;
		exit_record(e, t, have ? dr.exit_status : 128 + SIGKILL,
			    have && dr.has_exited_at ? &dr.exited_at : NULL, NULL);
	}
	publish_delete(e, t);
	sv_info("task %s/%s: cleaned up after its worker (exit status %u)", t->ns, t->id,
		t->exit_status);
	sv_DeleteResponse out = { .pid = t->pid, .exit_status = t->exit_status, .has_exited_at = true,
				  .exited_at = t->exited_at };
	reply(e, t->delete_rt, SV_OK, NULL, sv_DeleteResponse_fields, &out);
	t->delete_rt = nobody;
	if (have)
		sv_pb_free(sv_DeleteResponse_fields, &dr);
	end(e, t);
}

static void failed_gone(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)a;
	await_cleanup(e, t, TS_FAILED_CLEANING, false);
}

static void rollback_gone(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)a;
	await_cleanup(e, t, TS_FAILED_CLEANING, true);
}

/* The failed create's bundle is gone: the same id can be created again at once. */
static void end_failed(struct engine *e, struct task *t, const struct task_ev *a)
{
	const char *msg = t->fail_msg ? t->fail_msg : "create failed";

	(void)a;
	reply(e, t->create_rt, t->fail_code, msg, NULL, NULL);
	reply(e, t->start_rt, t->fail_code, msg, NULL, NULL);
	t->create_rt = t->start_rt = nobody;
	end(e, t);
}

/* A bundle the scan rolled back (its worker killed): cleaned up, never listed. */
static void scan_rollback(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)a;
	await_cleanup(e, t, TS_FAILED_CLEANING, true);
}

static void started(struct engine *e, struct task *t, const struct task_ev *a)
{
	if (a->pid)
		t->pid = a->pid;
	t->st = TS_RUNNING;
	t->run_started_ms = sv_now_ms();
	sv_info("task %s/%s: started (pid %u)", t->ns, t->id, t->pid);
	if (t->adopted) {
		sv_TaskStart ev = { .pid = t->pid };
		snprintf(ev.container_id, sizeof(ev.container_id), "%s", t->id);
		publish(e, t->ns, "/tasks/start", "TaskStart", sv_TaskStart_fields, &ev);
	}
}

static void exit_note(struct engine *e, struct task *t, const struct task_ev *a)
{
	exit_record(e, t, a->exit_status, a->exited_at, a->env);
}

static void exit_stop(struct engine *e, struct task *t, const struct task_ev *a)
{
	exit_record(e, t, a->exit_status, a->exited_at, a->env);
	stopped_or_removed(e, t);
}

/* The task has stopped for good: kept for its client, or (run --rm -d) deleted at once, as
 * a client's Delete would, with nobody to answer. */
void stopped_or_removed(struct engine *e, struct task *t)
{
	if (!t->restart.auto_remove) {
		t->st = TS_STOPPED;
		return;
	}
	sv_info("task %s/%s: removed once exited (--rm)", t->ns, t->id);
	t->st = TS_DELETING;
	begin_delete(e, t);
}

static void exit_delete(struct engine *e, struct task *t, const struct task_ev *a)
{
	exit_record(e, t, a->exit_status, a->exited_at, a->env);
	t->st = TS_DELETING;
	begin_delete(e, t);
}

/* The worker deleted the task: the Shutdown sent behind the Delete ends the worker;
 * meanwhile the monitor removes the bundle (the worker writes nothing there after Delete). */
static void deleted(struct engine *e, struct task *t, const struct task_ev *a)
{
	const sv_DeleteResponse *dr = a->body;

	if (dr) {
		t->del = *dr;
		exit_record(e, t, dr->exit_status, dr->has_exited_at ? &dr->exited_at : NULL, NULL);
	} else {
		t->del = (sv_DeleteResponse){ .pid = t->pid, .exit_status = t->exit_status,
					      .has_exited_at = true, .exited_at = t->exited_at };
	}
	t->st = TS_DELETED;
	publish_delete(e, t);
	send_cleanup(e, t, false);
}

static void delete_failed(struct engine *e, struct task *t, const struct task_ev *a)
{
	answer(e, &t->delete_rt, a->code, a->msg);
	t->st = task_exit_known(t) ? TS_STOPPED : TS_CREATED;
}

/* Re-attach after a restart (recovery.c sends Connect and State together: one wake-up of
 * the worker); the State answer follows. */
static void connected(struct engine *e, struct task *t, const struct task_ev *a)
{
	const sv_ConnectResponse *cr = a->body;

	(void)e;
	t->worker_pid = cr->shim_pid;
	t->pid = cr->task_pid;
}

/* A worker alive but holding no task (the daemon died between spawning it and its Create):
 * let it go; its link's EOF then cleans up what is left. */
static void no_task(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)a;
	sv_warn("re-attach %s/%s: the worker has no task", t->ns, t->id);
	t->st = TS_FAILED;
	shutdown_worker(e, t, 5000);
}

static void reattach_state(struct engine *e, struct task *t, const struct task_ev *a)
{
	const sv_StateResponse *sr = a->body;

	if (a->code == SV_NOT_FOUND) {  /* Connect answers without a task; State does not */
		if (t->st == TS_UNKNOWN || t->st == TS_CREATED)
			no_task(e, t, a);
		return;
	}
	if (a->code != SV_OK)
		return;
	if (sr->pid)
		t->pid = sr->pid;
	sv_info("task %s/%s: re-attached (pid %u, worker %u)", t->ns, t->id, t->pid, t->worker_pid);
	switch (sr->status) {
	case sv_TaskStatus_CREATED:
		if (t->st == TS_UNKNOWN)
			t->st = TS_CREATED;
		break;
	case sv_TaskStatus_STOPPED: {   /* it exited while we were down */
		struct task_ev x = { .exit_status = sr->exit_status,
				     .exited_at = sr->has_exited_at ? &sr->exited_at : NULL };
		task_fire(e, t, TE_EXITED, &x);
		return;
	}
	default:
		t->paused = sr->status == sv_TaskStatus_PAUSED || sr->status == sv_TaskStatus_PAUSING;
		if (t->st == TS_UNKNOWN || t->st == TS_CREATED) {
			t->st = TS_RUNNING;
			t->run_started_ms = sv_now_ms();    /* as far as we know */
		}
		break;
	}
	/* (the Wait sent with the State is outstanding: recovery.c) */
}

/* Pipelined behind its Create (`run`): sent on once the task exists and is kept (committed:
 * never a task that a restart would roll back). */
static void start_queue(struct engine *e, struct task *t, const struct task_ev *a)
{
	hold(e, &t->start_rt, a->rt, "start already pending: failed precondition");
}

static void start_relay(struct engine *e, struct task *t, const struct task_ev *a)
{
	sv_StartRequest rq = { 0 };

	snprintf(rq.id, sizeof(rq.id), "%s", t->id);
	link_call(e, t, W_START, "Start", sv_StartRequest_fields, &rq, a->rt, 30000);
}

static void delete(struct engine *e, struct task *t, const struct task_ev *a)
{
	t->delete_rt = a->rt;
	t->st = TS_DELETING;
	begin_delete(e, t);
}

static void kill_then_delete(struct engine *e, struct task *t, const struct task_ev *a)
{
	sv_KillRequest kq = { .signal = SIGKILL, .all = true };

	snprintf(kq.id, sizeof(kq.id), "%s", t->id);
	t->delete_rt = a->rt;
	t->st = TS_KILLING;
	link_call(e, t, W_KILL, "Kill", sv_KillRequest_fields, &kq, nobody, 10000);
}

/* The worker is gone: the cleanup in flight answers the delete. */
static void delete_gone(struct engine *e, struct task *t, const struct task_ev *a)
{
	hold(e, &t->delete_rt, a->rt, "delete already in progress: failed precondition");
}

/* Never run: task_fire answers with the refusal of permitted[] (control.c refuses before
 * dispatch; this is for an internal caller). */
static void refused(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)e, (void)t, (void)a;
}

/* --- the table --- */

/* Each action id (task_table.c's task_action_ids[][], a byte per cell) to its function: one
 * pointer per distinct action, not one per cell. */
#define ACTION_FN(fn) [TA_##fn] = fn,
static task_action *const action_fns[TA_NACTIONS] = { TASK_ACTION_LIST(ACTION_FN) };

void task_fire(struct engine *e, struct task *t, enum task_event ev, const struct task_ev *a)
{
	static const struct task_ev none = { .link_fd = -1 };
	unsigned id;

	if ((unsigned)t->st >= TS_NSTATES || (unsigned)ev >= TE_NEVENTS)
		return;
	id = task_action_ids[t->st][ev];
	if (id == TA_refused) {
		task_refuse(e, t, req_of(ev), (a ? a : &none)->rt);
		return;
	}
	action_fns[id](e, t, a ? a : &none);
}
