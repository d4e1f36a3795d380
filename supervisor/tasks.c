/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/tasks.c: the engine's task list, its workers' reports, and the events that come
 * into the lifecycle table (task_actions.c) from the monitor, the worker and its reports. */
#include <assert.h>
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
#include "monitor.pb.h"
#include "report.pb.h"
#include "wire/limits.h"
#include "wire/pbio.h"
#include "wire/status.h"

static uint64_t name_hash(const struct engine *e, const char *ns, const char *id)
{
	return sv_siphash2(e->hash_key, ns, strlen(ns), id, strlen(id));
}

struct task *task_find(struct engine *e, const char *ns, const char *id)
{
	for (struct sv_hnode *n = sv_htab_first(&e->task_index, name_hash(e, ns, id)); n;
	     n = sv_htab_next(n)) {
		struct task *t = sv_container_of(n, struct task, by_name);
		if (!strcmp(t->ns, ns) && !strcmp(t->id, id))
			return t;
	}
	return NULL;
}

struct task *task_new(struct engine *e, const char *ns, const char *id)
{
	struct task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	snprintf(t->ns, sizeof(t->ns), "%s", ns);
	snprintf(t->id, sizeof(t->id), "%s", id);
	if (sv_htab_add(&e->task_index, &t->by_name, name_hash(e, t->ns, t->id)) < 0) {
		free(t);
		return NULL;
	}
	t->st = TS_SPAWNING;
	t->restart_tm.kind = TM_RESTART;
	t->next = e->tasks;
	if (e->tasks)
		e->tasks->prev = t;
	e->tasks = t;
	e->ntasks++;
	return t;
}

void task_set_seq(struct engine *e, struct task *t, uint32_t seq)
{
	if (t->mon_seq)
		sv_htab_del(&e->seq_index, &t->by_seq);
	t->mon_seq = 0;
	if (seq && sv_htab_add(&e->seq_index, &t->by_seq, sv_hash_u64(seq)) == 0)
		t->mon_seq = seq;       /* (not indexed: its reply finds no task, as a late one) */
}

struct task *task_by_seq(struct engine *e, uint32_t seq)
{
	for (struct sv_hnode *n = sv_htab_first(&e->seq_index, sv_hash_u64(seq)); n;
	     n = sv_htab_next(n)) {
		struct task *t = sv_container_of(n, struct task, by_seq);
		if (t->mon_seq == seq)
			return t;
	}
	return NULL;
}

void task_set_restart(struct engine *e, struct task *t, const struct sv_restart *r)
{
	(void)e;
	t->restart = *r;
}

void task_restart_msg(const struct task *t, sv_MonRestart *out)
{
	*out = (sv_MonRestart){ .kind = t->restart.kind, .max = t->restart.max,
				.count = t->restart.count,
				/* without a policy, stopped only cancels a Restart: no record */
				.stopped = t->restart.kind != SV_RESTART_NO && t->restart.stopped,
				.auto_remove = t->restart.auto_remove };
}

void task_restart_due(struct engine *e, struct sv_timer *tm)
{
	struct task *t = sv_container_of(tm, struct task, restart_tm);

	if (t->st == TS_BACKOFF)        /* (a stop or delete meanwhile left it armed) */
		task_fire(e, t, TE_RESTART_DUE, NULL);
}

void task_unlink(struct engine *e, struct task *t)
{
	if (t->link) {
		t->link->task = NULL;
		t->link->closing = true;
		conn_dirty(e, t->link);
		t->link = NULL;
	}
}

void task_free(struct engine *e, struct task *t)
{
	/* every client was answered by the action that ended the task */
	assert(!t->waiters && !t->create_rt.conn && !t->start_rt.conn && !t->delete_rt.conn &&
	       !t->restart_rt.conn);
	*(t->prev ? &t->prev->next : &e->tasks) = t->next;
	if (t->next)
		t->next->prev = t->prev;
	e->ntasks--;
	sv_htab_del(&e->task_index, &t->by_name);
	task_set_seq(e, t, 0);
	sv_timer_cancel(&e->timers, &t->restart_tm);
	recovery_done(e, t, false);
	while (t->detached) {
		struct exec_note *n = t->detached;
		t->detached = n->next;
		free(n);
	}
	task_unlink(e, t);
	if (t->create_req) {
		sv_pb_free(sv_CtlCreateRequest_fields, t->create_req);
		free(t->create_req);
	}
	free(t->fail_msg);
	free(t->summary);
	free(t->bundle);
	free(t);
}

void task_refuse(struct engine *e, struct task *t, enum task_req rq, struct reply_to rt)
{
	static const struct task_refusal other = { SV_FAILED_PRECONDITION, "refused: failed precondition",
						    false, false };
	const struct task_refusal *r = task_refusal(t->st, rq);
	char msg[160];

	if (!r)
		r = &other;
	if (r->empty_ok) {
		sv_PidsResponse empty = { 0 };
		reply(e, rt, SV_OK, NULL, sv_PidsResponse_fields, &empty);
	} else if (!task_visible(t->st)) {
		snprintf(msg, sizeof(msg), "task %s: not found", t->id);
		reply(e, rt, r->code, msg, NULL, NULL);
	} else if (r->with_status) {
		snprintf(msg, sizeof(msg), "%s: %s: failed precondition", r->msg, task_state_name(t));
		reply(e, rt, r->code, msg, NULL, NULL);
	} else {
		reply(e, rt, r->code, r->msg, NULL, NULL);
	}
}

uint32_t task_status(const struct task *t)
{
	switch (t->st) {
	case TS_CREATED:
	case TS_RESPAWNING:     /* the next run is being created */
	case TS_RECREATING:
	case TS_RESTARTING:
		return sv_TaskStatus_CREATED;
	case TS_RUNNING:
	case TS_KILLING:
		return t->paused ? sv_TaskStatus_PAUSED : sv_TaskStatus_RUNNING;
	case TS_DELETING:
		return task_exit_known(t) ? sv_TaskStatus_STOPPED : sv_TaskStatus_CREATED;
	case TS_GONE:       /* until its cleanup says how it ended */
		if (task_exit_known(t))
			return sv_TaskStatus_STOPPED;
		return t->paused ? sv_TaskStatus_PAUSED : sv_TaskStatus_RUNNING;
	case TS_STOPPED:
	case TS_BACKOFF:
	case TS_RESTART_STOPPING:
	case TS_DELETED:
	case TS_DELETED_GONE:
	case TS_DELETED_CLEANED:
	case TS_FAILED:
	case TS_ROLLBACK:
	case TS_FAILED_CLEANING:
		return sv_TaskStatus_STOPPED;
	default:
		return sv_TaskStatus_UNKNOWN;
	}
}

const char *task_state_name(const struct task *t)
{
	static const char *const names[] = { "unknown", "created", "running", "stopped", "paused", "pausing" };
	return names[task_status(t)];
}

/* A detached exec has exited: nobody waits for it, so we remove it from its worker. */
static void exec_exited(struct engine *e, struct task *t, const char *exec_id)
{
	for (struct exec_note **pp = &t->detached; *pp; pp = &(*pp)->next) {
		struct exec_note *n = *pp;
		if (strcmp(n->exec_id, exec_id))
			continue;
		sv_DeleteRequest dq = { 0 };
		snprintf(dq.id, sizeof(dq.id), "%s", t->id);
		snprintf(dq.exec_id, sizeof(dq.exec_id), "%s", exec_id);
		link_call(e, t, W_EXEC_DELETE, "Delete", sv_DeleteRequest_fields, &dq, nobody, 10000);
		*pp = n->next;
		free(n);
		return;
	}
}

/* One event the worker reported on its link. */
static void apply_event(struct engine *e, struct task *t, const sv_Envelope *env)
{
	const char *topic = env->topic ? env->topic : "";
	const pb_bytes_array_t *v = env->has_event ? env->event.value : NULL;
	const uint8_t *b = v ? v->bytes : NULL;
	size_t n = v ? v->size : 0;

	if (!strcmp(topic, "/tasks/create")) {
		sv_TaskCreate ev;
		if (sv_pb_decode(sv_TaskCreate_fields, &ev, b, n) == 0) {
			t->pid = ev.pid;        /* created once committed (task_actions.c) */
			sv_pb_free(sv_TaskCreate_fields, &ev);
		}
	} else if (!strcmp(topic, "/tasks/start")) {
		task_fire(e, t, TE_STARTED, &(struct task_ev){ .link_fd = -1 });
	} else if (!strcmp(topic, "/tasks/exit")) {
		sv_TaskExit ev;
		if (sv_pb_decode(sv_TaskExit_fields, &ev, b, n) == 0) {
			if (!strcmp(ev.id, t->id) || !ev.id[0]) {
				struct task_ev x = { .link_fd = -1, .exit_status = ev.exit_status,
						     .exited_at = ev.has_exited_at ? &ev.exited_at : NULL,
						     .env = env };
				task_fire(e, t, TE_EXITED, &x);
			} else {
				publish_envelope(e, env);
				exec_exited(e, t, ev.id);
			}
			return;
		}
	} else if (!strcmp(topic, "/tasks/delete")) {
		task_fire(e, t, TE_REPORT_DELETE, &(struct task_ev){ .link_fd = -1, .env = env });
		return;
	}
	publish_envelope(e, env);
}

void task_report(struct engine *e, struct task *t, const uint8_t *body, size_t len)
{
	sv_Report rep;

	if (len > SV_REPORT_MAX || sv_pb_decode(sv_Report_fields, &rep, body, len) < 0) {
		sv_warn("task %s/%s: undecodable report dropped", t->ns, t->id);
		return;
	}
	if (rep.which_kind == sv_Report_event_tag)
		apply_event(e, t, &rep.kind.event);
	sv_pb_free(sv_Report_fields, &rep);
}

/* Everything the worker sent before it died (its reports, its answers) is read first. */
static void drain(struct engine *e, struct task *t)
{
	if (t->link && !t->link->closing)
		conn_input(e, t->link);
}

void task_spawned(struct engine *e, struct task *t, int err, const char *reason,
		  const sv_MonSpawned *sp, int link_fd)
{
	struct task_ev a = { .code = err, .msg = reason, .body = sp, .link_fd = link_fd };

	if (err || !sp) {
		if (link_fd >= 0)
			close(link_fd);
		a.link_fd = -1;
		a.code = err ? err : EPROTO;
		task_fire(e, t, TE_SPAWN_FAILED, &a);
		return;
	}
	task_fire(e, t, TE_SPAWNED, &a);
}

void task_committed(struct engine *e, struct task *t, int err)
{
	task_fire(e, t, err ? TE_COMMIT_FAILED : TE_COMMITTED,
		  &(struct task_ev){ .code = err, .link_fd = -1 });
}

void task_cleaned(struct engine *e, struct task *t, const sv_MonCleaned *cl, int err)
{
	if (err)
		sv_warn("task %s/%s: cleanup: %s", t->ns, t->id, strerror(err));
	task_fire(e, t, TE_CLEANED, &(struct task_ev){ .code = err, .body = cl,
						       .link_fd = -1 });
}

void task_worker_gone(struct engine *e, struct task *t)
{
	drain(e, t);
	task_fire(e, t, TE_WORKER_GONE, NULL);
}

void task_deleted(struct engine *e, struct task *t, int code, const char *msg,
		  const sv_DeleteResponse *dr)
{
	struct task_ev a = { .code = code, .msg = msg, .link_fd = -1 };

	if (code == SV_OK || code == SV_NOT_FOUND) {
		a.body = code == SV_OK ? dr : NULL;
		task_fire(e, t, TE_DELETED, &a);
	} else {
		task_fire(e, t, TE_DELETE_FAILED, &a);
	}
}
