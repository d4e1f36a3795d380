/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/tasks.c: the engine's task table and every task state transition. */
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

struct task *task_find(struct engine *e, const char *ns, const char *id)
{
	for (struct task *t = e->tasks; t; t = t->next)
		if (!strcmp(t->ns, ns) && !strcmp(t->id, id))
			return t;
	return NULL;
}

struct task *task_new(struct engine *e, const char *ns, const char *id)
{
	struct task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	snprintf(t->ns, sizeof(t->ns), "%s", ns);
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->report_fd = -1;
	t->ev = EV_REPORT;
	t->st = T_CREATING;
	t->next = e->tasks;
	e->tasks = t;
	e->ntasks++;
	return t;
}

void task_free(struct engine *e, struct task *t)
{
	struct task **pp;

	for (pp = &e->tasks; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			e->ntasks--;
			break;
		}
	}
	while (t->waiters) {
		struct waiter *w = t->waiters;
		t->waiters = w->next;
		reply(e, w->rt, SV_NOT_FOUND, "task was deleted: not found", NULL, NULL);
		free(w);
	}
	if (t->fail_code) {
		/* a failed create is answered now that its bundle is gone: the same id can be
		 * created again at once */
		const char *msg = t->fail_msg ? t->fail_msg : "create failed";
		reply(e, t->create_rt, t->fail_code, msg, NULL, NULL);
		reply(e, t->start_rt, t->fail_code, msg, NULL, NULL);
		t->start_rt = nobody;
		free(t->fail_msg);
	}
	reply(e, t->start_rt, SV_NOT_FOUND, "task is gone: not found", NULL, NULL);
	while (t->detached) {
		struct exec_note *n = t->detached;
		t->detached = n->next;
		free(n);
	}
	if (t->report_fd >= 0) {
		ev_forget(e, t->report_fd, &t->ev);
		close(t->report_fd);
	}
	if (t->link) {
		t->link->task = NULL;
		t->link->closing = true;
	}
	if (t->create_req) {
		sv_pb_free(sv_CtlCreateRequest_fields, t->create_req);
		free(t->create_req);
	}
	free(t->rbuf);
	free(t->bundle);
	free(t);
}

void task_move(struct task *t, enum task_event ev)
{
	t->st = task_next(t->st, ev);
}

uint32_t task_status(const struct task *t)
{
	switch (t->st) {
	case T_CREATED:
		return sv_TaskStatus_CREATED;
	case T_RUNNING:
		return t->paused ? sv_TaskStatus_PAUSED : sv_TaskStatus_RUNNING;
	case T_STOPPED:
	case T_DELETING:
		return sv_TaskStatus_STOPPED;
	case T_FAILED:
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

static sv_Timestamp ts_of(struct timespec ts)
{
	return (sv_Timestamp){ .seconds = ts.tv_sec, .nanos = (int32_t)ts.tv_nsec };
}

static void publish_exit(struct engine *e, struct task *t)
{
	sv_TaskExit ev = { .pid = t->pid, .exit_status = t->exit_status, .has_exited_at = true,
			   .exited_at = ts_of(t->exited_at) };

	if (t->exit_published)
		return;
	t->exit_published = true;
	snprintf(ev.container_id, sizeof(ev.container_id), "%s", t->id);
	snprintf(ev.id, sizeof(ev.id), "%s", t->id);
	publish(e, t->ns, "/tasks/exit", "TaskExit", sv_TaskExit_fields, &ev);
}

static void publish_delete(struct engine *e, struct task *t)
{
	sv_TaskDelete ev = { .pid = t->pid, .exit_status = t->exit_status, .has_exited_at = true,
			     .exited_at = ts_of(t->exited_at) };

	if (t->delete_published)
		return;
	t->delete_published = true;
	snprintf(ev.container_id, sizeof(ev.container_id), "%s", t->id);
	publish(e, t->ns, "/tasks/delete", "TaskDelete", sv_TaskDelete_fields, &ev);
}

void task_exited(struct engine *e, struct task *t, uint32_t status, const sv_Timestamp *at)
{
	if (t->exited)
		return;
	t->exited = true;
	t->exit_status = status;
	if (at && (at->seconds || at->nanos)) {
		t->exited_at.tv_sec = at->seconds;
		t->exited_at.tv_nsec = at->nanos;
	} else {
		clock_gettime(CLOCK_REALTIME, &t->exited_at);
	}
	task_move(t, TE_EXITED);
	sv_WaitResponse wr = { .exit_status = status, .has_exited_at = true, .exited_at = ts_of(t->exited_at) };
	while (t->waiters) {
		struct waiter *w = t->waiters;
		t->waiters = w->next;
		reply(e, w->rt, SV_OK, NULL, sv_WaitResponse_fields, &wr);
		free(w);
	}
	if (t->kill_then_delete) {
		t->kill_then_delete = false;
		task_begin_delete(e, t);
	}
}

void task_begin_delete(struct engine *e, struct task *t)
{
	sv_DeleteRequest rq = { 0 };

	snprintf(rq.id, sizeof(rq.id), "%s", t->id);
	if (!t->link) {
		/* the worker is gone: the cleanup in flight answers delete_rt */
		return;
	}
	link_call(e, t, W_DELETE, "Delete", sv_DeleteRequest_fields, &rq, nobody, 10000);
	/* pipelined: the worker serves requests in order, and Shutdown with a task left
	 * (a Delete that failed) is a no-op */
	sv_ShutdownRequest sq = { 0 };
	snprintf(sq.id, sizeof(sq.id), "%s", t->id);
	link_call(e, t, W_SHUTDOWN, "Shutdown", sv_ShutdownRequest_fields, &sq, nobody, 10000);
}

/* The create failed after its bundle was made: the answer waits until the cleanup has
 * removed it (task_free), so that a client may retry the same id as soon as it has it. */
static void task_failed(struct task *t, int code, const char *msg, struct reply_to rt)
{
	t->fail_code = code;
	free(t->fail_msg);
	t->fail_msg = strdup(msg && *msg ? msg : "create failed");
	t->create_rt = rt;
	task_move(t, TE_FAILED);
}

/* The monitor made the bundle and started the worker: connect and send Create. */
void task_spawned(struct engine *e, struct task *t, int err, const char *reason,
		  const sv_MonSpawned *sp, int fd, int link_fd)
{
	sv_CtlCreateRequest *cr = t->create_req;
	sv_CreateTaskRequest rq = { 0 };
	char log[PATH_MAX + 64];
	int r;

	if (err || !sp) {
		char msg[256];
		err = err ? err : EPROTO;
		if (reason && reason[0])
			snprintf(msg, sizeof(msg), "create %s: policy: %s", t->id, reason);
		else
			snprintf(msg, sizeof(msg), "create %s: %s", t->id,
				 err == EEXIST ? "a bundle of that id still exists" : strerror(err));
		if (fd >= 0)
			close(fd);
		if (link_fd >= 0)
			close(link_fd);
		reply(e, t->create_rt, sv_code_from_errno(-err), msg, NULL, NULL);
		task_free(e, t);
		return;
	}
	t->worker_pid = sp->pid;
	t->bundle = strdup(sp->bundle ? sp->bundle : "");
	if (fd >= 0) {
		sv_set_nonblock(fd, 1);
		if ((r = ev_watch(e, fd, EPOLLIN, &t->ev)) < 0) {
			/* events then come only through the link's replies */
			sv_warn_err(r, "task %s/%s: watch the report pipe", t->ns, t->id);
			close(fd);
			fd = -1;
		}
	}
	t->report_fd = fd;
	r = link_open(e, t, link_fd);    /* connected by the monitor */
	if (r < 0 || !cr) {
		task_failed(t, SV_UNAVAILABLE, "connect to the new worker failed", t->create_rt);
		return;     /* its exit notice leads to the cleanup, and that to the answer */
	}
	snprintf(rq.id, sizeof(rq.id), "%s", t->id);
	rq.bundle = t->bundle;
	if (cr->detach) {
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
	rq.terminal = cr->terminal;
	link_call(e, t, W_CREATE, "Create", sv_CreateTaskRequest_fields, &rq, t->create_rt, 30000);
	t->create_rt = nobody;
	sv_pb_free(sv_CtlCreateRequest_fields, cr);
	free(cr);
	t->create_req = NULL;
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

void task_apply_event(struct engine *e, struct task *t, const sv_Envelope *env)
{
	const char *topic = env->topic ? env->topic : "";
	const pb_bytes_array_t *v = env->has_event ? env->event.value : NULL;
	const uint8_t *b = v ? v->bytes : NULL;
	size_t n = v ? v->size : 0;

	if (!strcmp(topic, "/tasks/create")) {
		sv_TaskCreate ev;
		if (sv_pb_decode(sv_TaskCreate_fields, &ev, b, n) == 0) {
			t->pid = ev.pid;
			task_move(t, TE_CREATED);
			sv_pb_free(sv_TaskCreate_fields, &ev);
		}
	} else if (!strcmp(topic, "/tasks/start")) {
		task_move(t, TE_STARTED);
	} else if (!strcmp(topic, "/tasks/exit")) {
		sv_TaskExit ev;
		if (sv_pb_decode(sv_TaskExit_fields, &ev, b, n) == 0) {
			bool init = !strcmp(ev.id, t->id) || !ev.id[0];
			if (init && t->exit_published)
				return;
			if (init)
				t->exit_published = true;
			publish_envelope(e, env);
			if (init)
				task_exited(e, t, ev.exit_status, ev.has_exited_at ? &ev.exited_at : NULL);
			else
				exec_exited(e, t, ev.id);
			return;
		}
	} else if (!strcmp(topic, "/tasks/delete")) {
		if (t->delete_published)
			return;
		t->delete_published = true;
	}
	publish_envelope(e, env);
}

static void report_close(struct engine *e, struct task *t)
{
	ev_forget(e, t->report_fd, &t->ev);
	close(t->report_fd);
	t->report_fd = -1;
	free(t->rbuf);
	t->rbuf = NULL;
	t->rlen = 0;
}

/* Read and apply every whole Report the worker has written; EOF closes the pipe. The buffer
 * holds only a partial frame between reads and is freed when empty. */
void task_report_input(struct engine *e, struct task *t)
{
	uint8_t chunk[4096];

	while (t->report_fd >= 0) {
		size_t hdr, body;
		ssize_t k;
		int r;

		while ((r = sv_report_peek(t->rbuf, t->rlen, &hdr, &body)) == 1) {
			sv_Report rep;
			if (sv_pb_decode(sv_Report_fields, &rep, t->rbuf + hdr, body) == 0) {
				if (rep.which_kind == sv_Report_event_tag)
					task_apply_event(e, t, &rep.kind.event);
				sv_pb_free(sv_Report_fields, &rep);
			} else {
				sv_warn("task %s/%s: undecodable report dropped", t->ns, t->id);
			}
			memmove(t->rbuf, t->rbuf + hdr + body, t->rlen - hdr - body);
			t->rlen -= hdr + body;
		}
		if (r < 0) {
			sv_warn_err(r, "task %s/%s: report pipe", t->ns, t->id);
			report_close(e, t);
			return;
		}
		if (t->rlen == 0) {
			free(t->rbuf);
			t->rbuf = NULL;
		}
		k = read(t->report_fd, chunk, sizeof(chunk));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		if (k <= 0) {
			report_close(e, t);
			return;
		}
		uint8_t *nb = realloc(t->rbuf, t->rlen + (size_t)k);
		if (!nb) {
			report_close(e, t);
			return;
		}
		t->rbuf = nb;
		memcpy(t->rbuf + t->rlen, chunk, (size_t)k);
		t->rlen += (size_t)k;
	}
}

static void send_cleanup(struct engine *e, struct task *t, bool dead)
{
	sv_MonRequest rq = { .which_op = sv_MonRequest_cleanup_tag };

	snprintf(rq.op.cleanup.ns, sizeof(rq.op.cleanup.ns), "%s", t->ns);
	snprintf(rq.op.cleanup.id, sizeof(rq.op.cleanup.id), "%s", t->id);
	rq.op.cleanup.dead = dead;
	t->cleanup_sent = true;
	if (mon_send(e, t, &rq) < 0)
		sv_warn("task %s/%s: cleanup request failed", t->ns, t->id);
}

/* A delete is done once the worker is gone and its bundle removed, in either order. */
static void finish_delete(struct engine *e, struct task *t)
{
	reply(e, t->delete_rt, SV_OK, NULL, sv_DeleteResponse_fields, &t->del);
	t->delete_rt = nobody;
	task_free(e, t);
}

void task_worker_gone(struct engine *e, struct task *t)
{
	if (t->worker_gone)
		return;
	t->worker_gone = true;
	if (t->report_fd >= 0)
		task_report_input(e, t);        /* everything it wrote before dying */
	if (t->link) {
		t->link->task = NULL;
		t->link->closing = true;
		t->link = NULL;
	}
	if (t->commit_pending) {
		/* died before its create was committed: undone, its client told so */
		task_failed(t, SV_UNAVAILABLE, "the task's worker died during create", t->create_rt);
		t->rollback = true;
		t->commit_pending = false;      /* its answer, if one comes, is for nobody */
	}
	if (!t->cleanup_sent)
		send_cleanup(e, t, t->rollback || !(t->st == T_DELETING || t->st == T_FAILED));
	else if (t->cleaned && t->st == T_DELETING)
		finish_delete(e, t);
}

void task_cleaned(struct engine *e, struct task *t, const sv_MonCleaned *cl, int err)
{
	if (err)
		sv_warn("task %s/%s: cleanup: %s", t->ns, t->id, strerror(err));
	if (t->st == T_DELETING) {
		t->cleaned = true;
		if (t->worker_gone)
			finish_delete(e, t);
		return;
	}
	if (t->st == T_FAILED) {
		task_free(e, t);
		return;
	}
	/* a dead worker: its `delete` action reported the recorded exit, if there was one */
	sv_DeleteResponse dr = { 0 };
	bool have = false;
	if (cl && cl->delete_response && cl->delete_response->size &&
	    sv_pb_decode(sv_DeleteResponse_fields, &dr, cl->delete_response->bytes,
			 cl->delete_response->size) == 0)
		have = true;
	if (!t->exited) {
		if (have && dr.pid && !t->pid)
			t->pid = dr.pid;
		task_exited(e, t, have ? dr.exit_status : 128 + SIGKILL,
			    have && dr.has_exited_at ? &dr.exited_at : NULL);
	}
	publish_exit(e, t);
	publish_delete(e, t);
	sv_DeleteResponse out = { .pid = t->pid, .exit_status = t->exit_status, .has_exited_at = true,
				  .exited_at = ts_of(t->exited_at) };
	reply(e, t->delete_rt, SV_OK, NULL, sv_DeleteResponse_fields, &out);
	t->delete_rt = nobody;
	if (have)
		sv_pb_free(sv_DeleteResponse_fields, &dr);
	task_free(e, t);
}

/* Outcomes of our calls to a worker (worker_link.c decodes them). */
void task_created(struct engine *e, struct task *t, int code, const char *msg, uint32_t pid,
		  struct reply_to rt)
{
	if (code != SV_OK) {
		task_failed(t, code, msg, rt);
		sv_ShutdownRequest sq = { 0 };
		snprintf(sq.id, sizeof(sq.id), "%s", t->id);
		link_call(e, t, W_SHUTDOWN, "Shutdown", sv_ShutdownRequest_fields, &sq, nobody, 5000);
		return;
	}
	/* the task is kept (the monitor removes its bundle's `creating` mark) before its client
	 * hears of it: a restart before that rolls it back, one after finds it (DESIGN) */
	sv_MonRequest rq = { .which_op = sv_MonRequest_commit_tag };
	snprintf(rq.op.commit.ns, sizeof(rq.op.commit.ns), "%s", t->ns);
	snprintf(rq.op.commit.id, sizeof(rq.op.commit.id), "%s", t->id);
	t->pid = pid;
	t->create_rt = rt;
	t->commit_pending = true;
	if (mon_send(e, t, &rq) < 0)
		task_committed(e, t, EIO);
}

void task_committed(struct engine *e, struct task *t, int err)
{
	struct reply_to rt = t->create_rt;

	if (!t->commit_pending)
		return;
	t->commit_pending = false;
	t->create_rt = nobody;
	if (err) {
		char msg[160];
		snprintf(msg, sizeof(msg), "create %s: the monitor did not keep it: %s", t->id,
			 strerror(err));
		task_failed(t, SV_UNAVAILABLE, msg, rt);
		t->rollback = true;
		task_begin_delete(e, t);      /* its init goes, then its worker */
		return;
	}
	task_move(t, TE_CREATED);
	sv_CreateTaskResponse resp = { .pid = t->pid };
	reply(e, rt, SV_OK, NULL, sv_CreateTaskResponse_fields, &resp);
	if (t->start_rt.conn) {
		sv_StartRequest sq = { 0 };
		snprintf(sq.id, sizeof(sq.id), "%s", t->id);
		link_call(e, t, W_START, "Start", sv_StartRequest_fields, &sq, t->start_rt, 30000);
		t->start_rt = nobody;
	}
}

void task_started(struct engine *e, struct task *t, uint32_t pid)
{
	if (pid)
		t->pid = pid;
	task_move(t, TE_STARTED);
	if (t->adopted) {
		sv_TaskStart ev = { .pid = t->pid };
		snprintf(ev.container_id, sizeof(ev.container_id), "%s", t->id);
		publish(e, t->ns, "/tasks/start", "TaskStart", sv_TaskStart_fields, &ev);
	}
}

void task_deleted(struct engine *e, struct task *t, int code, const char *msg,
		  const sv_DeleteResponse *dr)
{
	if (code != SV_OK && code != SV_NOT_FOUND) {
		reply(e, t->delete_rt, code, msg, NULL, NULL);
		t->delete_rt = nobody;
		return;
	}
	if (code == SV_OK && dr) {
		t->del = *dr;
		if (!t->exited)
			task_exited(e, t, dr->exit_status, dr->has_exited_at ? &dr->exited_at : NULL);
	} else {
		t->del = (sv_DeleteResponse){ .pid = t->pid, .exit_status = t->exit_status,
					      .has_exited_at = true, .exited_at = ts_of(t->exited_at) };
	}
	task_move(t, TE_DELETED);
	if (t->adopted) {
		publish_exit(e, t);
		publish_delete(e, t);
	}
	/* the Shutdown sent behind the Delete ends the worker; meanwhile the monitor removes the
	 * bundle (the worker writes nothing there after Delete) */
	if (!t->cleanup_sent && !t->worker_gone)
		send_cleanup(e, t, false);
}

void task_rollback(struct engine *e, struct task *t)
{
	t->rollback = true;
	task_move(t, TE_FAILED);
	t->worker_gone = true;
	send_cleanup(e, t, true);
}

/* Re-attach after a restart (recovery.c starts it with Connect). */
/* A worker alive but holding no task (the daemon died between spawning it and its Create):
 * let it go; its link's EOF then cleans up what is left. */
static void reattach_no_task(struct engine *e, struct task *t)
{
	sv_ShutdownRequest sq = { 0 };

	sv_warn("re-attach %s/%s: the worker has no task", t->ns, t->id);
	task_move(t, TE_FAILED);
	snprintf(sq.id, sizeof(sq.id), "%s", t->id);
	link_call(e, t, W_SHUTDOWN, "Shutdown", sv_ShutdownRequest_fields, &sq, nobody, 5000);
}

void task_reattached(struct engine *e, struct task *t, int code, const sv_ConnectResponse *cr)
{
	if (code != SV_OK) {
		reattach_no_task(e, t);
		return;
	}
	t->worker_pid = cr->shim_pid;
	t->pid = cr->task_pid;
	sv_StateRequest sr = { 0 };
	snprintf(sr.id, sizeof(sr.id), "%s", t->id);
	link_call(e, t, W_STATE, "State", sv_StateRequest_fields, &sr, nobody, e->cfg->reattach_timeout_ms);
}

void task_reattach_state(struct engine *e, struct task *t, int code, const sv_StateResponse *sr)
{
	if (code == SV_NOT_FOUND) {
		reattach_no_task(e, t);  /* Connect answers without a task; State does not */
		return;
	}
	if (code != SV_OK)
		return;
	if (sr->pid)
		t->pid = sr->pid;
	switch (sr->status) {
	case sv_TaskStatus_CREATED:
		task_move(t, TE_CREATED);
		break;
	case sv_TaskStatus_STOPPED:
		task_exited(e, t, sr->exit_status, sr->has_exited_at ? &sr->exited_at : NULL);
		publish_exit(e, t);     /* it exited while we were down */
		return;
	default:
		t->paused = sr->status == sv_TaskStatus_PAUSED || sr->status == sv_TaskStatus_PAUSING;
		task_move(t, TE_STARTED);
		break;
	}
	sv_WaitRequest wq = { 0 };
	snprintf(wq.id, sizeof(wq.id), "%s", t->id);
	link_call(e, t, W_WAIT, "Wait", sv_WaitRequest_fields, &wq, nobody, 0);
}

void task_waited(struct engine *e, struct task *t, int code, const sv_WaitResponse *wr)
{
	if (code != SV_OK)
		return;
	task_exited(e, t, wr->exit_status, wr->has_exited_at ? &wr->exited_at : NULL);
	publish_exit(e, t);
}
