/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/task_restart.c: the restart policy's actions in the lifecycle table: an exit
 * that the policy restarts waits out its backoff, the old worker lets the task go, a new
 * worker is started on the same bundle (the monitor's respawn), created and started; a
 * client's Kill ends the policy, recorded in the bundle (common/restart_policy.h). A
 * client's Restart takes a stopped task, with or without a policy, the same way at once. */
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "common/log.h"
#include "engine.h"
#include "task_actions.h"
#include "wire/status.h"

/* Its record in the bundle, rewritten by the monitor (recovery reads it back). */
static void policy_record(struct engine *e, struct task *t)
{
	sv_MonRequest rq = { .which_op = sv_MonRequest_record_tag };

	snprintf(rq.op.record.ns, sizeof(rq.op.record.ns), "%s", t->ns);
	snprintf(rq.op.record.id, sizeof(rq.op.record.id), "%s", t->id);
	rq.op.record.has_restart = true;
	task_restart_msg(t, &rq.op.record.restart);
	if (mon_send(e, NULL, &rq) < 0)
		sv_warn("task %s/%s: restart record request failed", t->ns, t->id);
}

/* A client's Kill of the task with a signal that stops it ends its policy, for good (until
 * a client's Restart). Without a policy it only cancels a client's Restart in progress. */
static void policy_end(struct engine *e, struct task *t, const sv_KillRequest *kq)
{
	if (t->restart.stopped || !kq || kq->exec_id[0] ||
	    (kq->signal != SIGKILL && kq->signal != SIGTERM && kq->signal != SIGINT &&
	     kq->signal != SIGQUIT))
		return;
	t->restart.stopped = true;
	if (t->restart.kind == SV_RESTART_NO)
		return;         /* nothing to record */
	sv_info("task %s/%s: stopped by a client: its restart policy ends", t->ns, t->id);
	policy_record(e, t);
}

/* A client's Restart waits for the new run: answered once it has started, or here. */
static void restart_answer(struct engine *e, struct task *t, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void restart_answer(struct engine *e, struct task *t, int code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!t->restart_rt.conn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply(e, t->restart_rt, code, code == SV_OK ? NULL : msg, NULL, NULL);
	t->restart_rt = nobody;
}

void kill_relay(struct engine *e, struct task *t, const struct task_ev *a)
{
	policy_end(e, t, a->body);
	link_call(e, t, W_KILL, "Kill", sv_KillRequest_fields, a->body, a->rt, 10000);
}

/* Between two runs nothing is left to signal: the policy ends, the task stays stopped. */
void kill_backoff(struct engine *e, struct task *t, const struct task_ev *a)
{
	const sv_KillRequest *kq = a->body;

	if (kq->exec_id[0]) {
		kill_relay(e, t, a);
		return;
	}
	policy_end(e, t, kq);
	if (t->restart.stopped)
		t->st = TS_STOPPED;
	reply(e, a->rt, SV_OK, NULL, NULL, NULL);
}

/* During a restart: the policy ends; the run being made is never started (recreated kills
 * it), so the task ends stopped. */
void kill_restart(struct engine *e, struct task *t, const struct task_ev *a)
{
	policy_end(e, t, a->body);
	if (t->restart.stopped)
		restart_answer(e, t, SV_ABORTED, "restart %s: stopped by a client during the "
			       "restart: aborted", t->id);
	reply(e, a->rt, SV_OK, NULL, NULL, NULL);
}

/* The run ended: restarted after the backoff when the policy wants it, else stopped. */
static void restart_or_stop(struct engine *e, struct task *t)
{
	int64_t now = sv_now_ms();
	char pol[32];

	if (!sv_restart_wanted(&t->restart, t->exit_status)) {
		stopped_or_removed(e, t);
		return;
	}
	t->backoff_ms = sv_restart_backoff(t->backoff_ms, t->run_started_ms ? now - t->run_started_ms : 0);
	t->restart.count++;
	t->restart_due_ms = now + t->backoff_ms;
	t->st = TS_BACKOFF;
	if (sv_timer_arm(&e->timers, &t->restart_tm, t->restart_due_ms) < 0)
		sv_warn("task %s/%s: out of memory: its restart is not scheduled (stop or delete it)",
			t->ns, t->id);
	if (t->restart.max)
		sv_info("task %s/%s: restarting in %lld ms (restart %u of %u)", t->ns, t->id,
			(long long)t->backoff_ms, t->restart.count, t->restart.max);
	else
		sv_info("task %s/%s: restarting in %lld ms (restart %u, %s)", t->ns, t->id,
			(long long)t->backoff_ms, t->restart.count,
			sv_restart_str(&t->restart, pol, sizeof(pol)));
}

void exit_run(struct engine *e, struct task *t, const struct task_ev *a)
{
	exit_record(e, t, a->exit_status, a->exited_at, a->env);
	restart_or_stop(e, t);
}

/* The backoff is over: the old worker lets the task go and ends; its bundle stays. */
void restart_stop(struct engine *e, struct task *t, const struct task_ev *a)
{
	(void)a;
	t->st = TS_RESTART_STOPPING;
	begin_delete(e, t);
}

/* A client's Restart of a stopped task (or one waiting out its backoff): the same steps, at
 * once. Its policy starts over, as docker's start does: a client's earlier stop no longer
 * holds, the count and the backoff are back to 0 (recorded by the respawn). */
void restart_now(struct engine *e, struct task *t, const struct task_ev *a)
{
	if (t->restart_rt.conn) {
		reply(e, a->rt, SV_FAILED_PRECONDITION, "restart already pending: failed "
		      "precondition", NULL, NULL);
		return;
	}
	t->restart_rt = a->rt;
	t->restart.stopped = false;
	t->restart.count = 0;
	t->backoff_ms = 0;
	sv_info("task %s/%s: restarted by a client", t->ns, t->id);
	restart_stop(e, t, a);
}

void restart_abort(struct engine *e, struct task *t, const struct task_ev *a)
{
	sv_warn("task %s/%s: restart: the worker's Delete failed: %s; left stopped", t->ns, t->id,
		a->msg ? a->msg : "?");
	restart_answer(e, t, a->code, "restart %s: %s", t->id, a->msg ? a->msg : "failed");
	t->st = TS_STOPPED;
}

/* The old worker is gone: a new one on the same bundle (its log goes on). */
void respawn(struct engine *e, struct task *t, const struct task_ev *a)
{
	sv_MonRequest rq = { .which_op = sv_MonRequest_spawn_tag };

	(void)a;
	task_unlink(e, t);
	snprintf(rq.op.spawn.ns, sizeof(rq.op.spawn.ns), "%s", t->ns);
	snprintf(rq.op.spawn.id, sizeof(rq.op.spawn.id), "%s", t->id);
	rq.op.spawn.respawn = true;
	rq.op.spawn.has_restart = true;
	task_restart_msg(t, &rq.op.spawn.restart);
	t->st = TS_RESPAWNING;
	if (mon_send(e, t, &rq) < 0)
		task_spawned(e, t, EIO, "", NULL, -1);
}

void respawned(struct engine *e, struct task *t, const struct task_ev *a)
{
	t->adopted = false;     /* its events come on its link again */
	t->paused = false;
	if (take_worker(e, t, a) < 0) {
		sv_warn("task %s/%s: restart: no link to the new worker", t->ns, t->id);
		t->st = TS_FAILED;      /* its end, then its cleanup, end the task */
		return;
	}
	t->st = TS_RECREATING;
	send_create(e, t, NULL, nobody);
}

/* A failed restart ends the task as a dead worker's would: its bundle cleaned up. */
void respawn_failed(struct engine *e, struct task *t, const struct task_ev *a)
{
	sv_warn("task %s/%s: restart failed: %s", t->ns, t->id,
		a->msg && a->msg[0] ? a->msg : strerror(a->code));
	restart_answer(e, t, SV_UNAVAILABLE, "restart %s: %s", t->id,
		       a->msg && a->msg[0] ? a->msg : strerror(a->code));
	await_cleanup(e, t, TS_GONE, true);
}

void recreated(struct engine *e, struct task *t, const struct task_ev *a)
{
	sv_StartRequest sq = { 0 };

	t->pid = a->pid;
	t->st = TS_RESTARTING;
	if (t->restart.stopped) {
		/* a client stopped it meanwhile: never started, its init killed; its exit then
		 * leaves the task stopped */
		sv_KillRequest kq = { .signal = SIGKILL };
		snprintf(kq.id, sizeof(kq.id), "%s", t->id);
		link_call(e, t, W_KILL, "Kill", sv_KillRequest_fields, &kq, nobody, 10000);
		return;
	}
	snprintf(sq.id, sizeof(sq.id), "%s", t->id);
	link_call(e, t, W_START, "Start", sv_StartRequest_fields, &sq, nobody, 30000);
}

void recreate_failed(struct engine *e, struct task *t, const struct task_ev *a)
{
	sv_warn("task %s/%s: restart: create failed: %s", t->ns, t->id, a->msg ? a->msg : "?");
	restart_answer(e, t, a->code, "restart %s: create: %s", t->id, a->msg ? a->msg : "failed");
	t->st = TS_STOPPED;     /* the worker holds no task: its end cleans the bundle up */
	shutdown_worker(e, t, 5000);
}

static void clear_exit(struct task *t)
{
	t->exit_status = 0;
	t->exited_at = (sv_Timestamp){ 0 };
}

/* The new run started: the last run's exit is forgotten. */
void restarted(struct engine *e, struct task *t, const struct task_ev *a)
{
	clear_exit(t);
	if (a->pid)
		t->pid = a->pid;
	t->run_started_ms = sv_now_ms();
	t->st = TS_RUNNING;
	restart_answer(e, t, SV_OK, "%s", "");
}

/* It exited before its Start was seen (a failed start): a run all the same. */
void exit_restart(struct engine *e, struct task *t, const struct task_ev *a)
{
	clear_exit(t);
	restart_answer(e, t, SV_UNKNOWN, "restart %s: the new run ended before its start was "
		       "seen (exit status %u)", t->id, a->exit_status);
	exit_run(e, t, a);
}
