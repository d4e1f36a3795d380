/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/worker_link.c: the engine as a ttrpc client of each worker's shim socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "engine.h"
#include "monitor.h"
#include "wire/pbio.h"
#include "wire/status.h"

int link_open(struct engine *e, struct task *t, int fd)
{
	struct conn *c;

	if (fd < 0)
		return -EBADF;
	sv_set_nonblock(fd, 1);
	c = conn_new(e, fd, CONN_WORKER);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->task = t;
	t->link = c;
	return 0;
}

struct wcall *link_call(struct engine *e, struct task *t, enum wcall_op op, const char *method,
			const pb_msgdesc_t *fields, const void *req, struct reply_to rt, int timeout_ms)
{
	struct conn *c = t->link;
	struct wcall *w;
	uint8_t *body = NULL;
	size_t len = 0;
	int r;

	if (!c || c->closing) {
		reply(e, rt, SV_UNAVAILABLE, "the task's worker is gone: unavailable", NULL, NULL);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		reply(e, rt, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
		return NULL;
	}
	r = ttrpc_encode_request(SV_TASK_SERVICE, method, t->ns,
				 timeout_ms > 0 ? (int64_t)timeout_ms * 1000000 : 0, fields, req, &body, &len);
	if (r == 0)
		r = sv_outq_frame(&c->out, c->next_stream, SV_TTRPC_TYPE_REQUEST, body, len);
	free(body);
	if (r < 0) {
		free(w);
		reply(e, rt, SV_INTERNAL, "request to the worker failed", NULL, NULL);
		return NULL;
	}
	w->stream = c->next_stream;
	c->next_stream += 2;
	w->op = op;
	w->rt = rt;
	w->link = c;
	w->tm.kind = TM_CALL;
	if (timeout_ms > 0 && sv_timer_arm(&e->timers, &w->tm, sv_now_ms() + timeout_ms) < 0)
		sv_warn("task %s/%s: out of memory: a call without its deadline", t->ns, t->id);
	w->next = c->calls;
	c->calls = w;
	conn_dirty(e, c);
	return w;
}

static void call_free(struct engine *e, struct wcall *w)
{
	sv_timer_cancel(&e->timers, &w->tm);
	free(w);
}

static void relay_raw(struct engine *e, struct reply_to rt, int code, const char *msg,
		      const pb_bytes_array_t *payload)
{
	sv_Response resp = { 0 };
	sv_Status st = { .code = code, .message = (char *)msg };
	struct conn *c;
	uint8_t *body = NULL;
	size_t len = 0;

	if (!rt.conn || !(c = conn_by_serial(e, rt.conn)))
		return;
	if (code != SV_OK) {
		resp.has_status = true;
		resp.status = st;
	} else {
		resp.payload = (pb_bytes_array_t *)payload;
	}
	if (sv_pb_encode(sv_Response_fields, &resp, &body, &len) < 0 ||
	    sv_outq_frame(&c->out, rt.stream, SV_TTRPC_TYPE_RESPONSE, body, len) < 0)
		c->closing = true;
	free(body);
	conn_dirty(e, c);
	client_answered(e, c);
}

/* The exec is registered: start it, for the same client; a detached one is noted so that
 * its exit leads to its Delete (tasks.c). */
static void exec_start(struct engine *e, struct task *t, const struct wcall *w)
{
	sv_StartRequest rq = { 0 };
	struct exec_note *n;

	snprintf(rq.id, sizeof(rq.id), "%s", t->id);
	snprintf(rq.exec_id, sizeof(rq.exec_id), "%s", w->exec_id);
	if (!link_call(e, t, W_EXEC_START, "Start", sv_StartRequest_fields, &rq, w->rt, 30000))
		return;
	if (w->detach && (n = calloc(1, sizeof(*n)))) {
		snprintf(n->exec_id, sizeof(n->exec_id), "%s", w->exec_id);
		n->next = t->detached;
		t->detached = n;
	}
}

/* Hand one reply (or a failure: code != OK, payload NULL) to whoever wanted it. */
static void complete(struct engine *e, struct task *t, struct wcall *w, int code, const char *msg,
		     const pb_bytes_array_t *payload)
{
	const uint8_t *b = payload ? payload->bytes : NULL;
	size_t n = payload ? payload->size : 0;

	switch (w->op) {
	case W_CREATE: {
		sv_CreateTaskResponse r = { 0 };
		if (code == SV_OK && sv_pb_decode(sv_CreateTaskResponse_fields, &r, b, n) < 0)
			code = SV_INTERNAL, msg = "bad Create response from the worker";
		if (t)
			task_fire(e, t, code == SV_OK ? TE_CREATED : TE_CREATE_FAILED,
				  &(struct task_ev){ .code = code, .msg = msg, .pid = r.pid, .rt = w->rt,
						     .link_fd = -1 });
		else
			reply(e, w->rt, SV_UNAVAILABLE, "task is gone", NULL, NULL);
		break;
	}
	case W_START: {
		sv_StartResponse r = { 0 };
		if (code == SV_OK && sv_pb_decode(sv_StartResponse_fields, &r, b, n) == 0 && t)
			task_fire(e, t, TE_STARTED, &(struct task_ev){ .pid = r.pid, .link_fd = -1 });
		relay_raw(e, w->rt, code, msg, payload);
		break;
	}
	case W_PAUSE:
	case W_RESUME:
		if (code == SV_OK && t)
			t->paused = w->op == W_PAUSE;
		relay_raw(e, w->rt, code, msg, payload);
		break;
	case W_EXEC:
		if (code != SV_OK || !t) {
			relay_raw(e, w->rt, code != SV_OK ? code : SV_UNAVAILABLE,
				  code != SV_OK ? msg : "task is gone", NULL);
			break;
		}
		exec_start(e, t, w);
		break;
	case W_KILL:
	case W_PIDS:
	case W_STATS:
	case W_UPDATE:
	case W_EXEC_START:
	case W_EXEC_WAIT:
	case W_EXEC_DELETE:
	case W_RESIZE_PTY:
	case W_PROCESS:
		relay_raw(e, w->rt, code, msg, payload);
		break;
	case W_DELETE: {
		sv_DeleteResponse r = { 0 };
		bool ok = code == SV_OK && sv_pb_decode(sv_DeleteResponse_fields, &r, b, n) == 0;
		if (t)
			task_deleted(e, t, ok || code != SV_OK ? code : SV_INTERNAL, msg, ok ? &r : NULL);
		break;
	}
	case W_CONNECT: {
		sv_ConnectResponse r = { 0 };
		if (code == SV_OK && sv_pb_decode(sv_ConnectResponse_fields, &r, b, n) < 0)
			code = SV_INTERNAL;
		if (t)
			task_fire(e, t, code == SV_OK ? TE_CONNECTED : TE_CONNECT_FAILED,
				  &(struct task_ev){ .code = code, .body = &r, .link_fd = -1 });
		break;
	}
	case W_STATE: {
		sv_StateResponse r = { 0 };
		if (code == SV_OK && sv_pb_decode(sv_StateResponse_fields, &r, b, n) < 0)
			code = SV_INTERNAL;
		if (t)
			recovery_done(e, t, false);
		if (t)
			task_fire(e, t, TE_STATE, &(struct task_ev){ .code = code, .body = &r,
								     .link_fd = -1 });
		sv_pb_free(sv_StateResponse_fields, &r);
		break;
	}
	case W_WAIT: {
		sv_WaitResponse r = { 0 };
		if (code == SV_OK && sv_pb_decode(sv_WaitResponse_fields, &r, b, n) < 0)
			code = SV_INTERNAL;
		if (t && code == SV_OK)
			task_fire(e, t, TE_EXITED, &(struct task_ev){
				.exit_status = r.exit_status, .link_fd = -1,
				.exited_at = r.has_exited_at ? &r.exited_at : NULL });
		break;
	}
	case W_SHUTDOWN:
		break;
	}
}

static struct wcall *take_call(struct conn *c, uint32_t stream)
{
	for (struct wcall **pp = &c->calls; *pp; pp = &(*pp)->next) {
		if ((*pp)->stream == stream) {
			struct wcall *w = *pp;
			*pp = w->next;
			return w;
		}
	}
	return NULL;
}

void link_frame(struct engine *e, struct conn *c)
{
	sv_Response resp;
	struct wcall *w;

	if (c->rd.hdr.type == SV_TTRPC_TYPE_DATA && c->rd.hdr.stream == SV_REPORT_STREAM) {
		if (c->task)
			task_report(e, c->task, c->rd.body, c->rd.hdr.len);
		return;
	}
	if (c->rd.hdr.type != SV_TTRPC_TYPE_RESPONSE)
		return;
	w = take_call(c, c->rd.hdr.stream);
	if (!w)
		return;         /* answered after its deadline: already failed */
	if (sv_pb_decode(sv_Response_fields, &resp, c->rd.body, c->rd.hdr.len) < 0) {
		complete(e, c->task, w, SV_INTERNAL, "undecodable response from the worker", NULL);
	} else {
		int code = resp.has_status ? resp.status.code : SV_OK;
		complete(e, c->task, w, code, resp.has_status ? resp.status.message : NULL,
			 code == SV_OK ? resp.payload : NULL);
		sv_pb_free(sv_Response_fields, &resp);
	}
	call_free(e, w);
}

void link_closed(struct engine *e, struct conn *c)
{
	struct task *t = c->task;

	while (c->calls) {
		struct wcall *w = c->calls;
		c->calls = w->next;
		complete(e, t, w, SV_UNAVAILABLE, "the task's worker closed its connection: unavailable", NULL);
		call_free(e, w);
	}
	if (t && t->link == c) {
		task_unlink(e, t);
		/* a worker we did not spawn has no exit notice from the monitor: EOF is its death */
		if (t->adopted)
			task_worker_gone(e, t);
	}
}

void link_call_due(struct engine *e, struct sv_timer *tm)
{
	struct wcall *w = sv_container_of(tm, struct wcall, tm);
	struct conn *c = w->link;

	if (w->op == W_CONNECT || w->op == W_STATE) {
		/* a wedged worker: never stall the daemon, never kill a live task. Its place
		 * goes to the next (counted late: recovery.c logs how many), its calls wait. */
		if (w->op == W_STATE && c->task)
			recovery_done(e, c->task, true);
		return;
	}
	take_call(c, w->stream);
	complete(e, c->task, w, SV_DEADLINE_EXCEEDED, "the task's worker did not answer in time", NULL);
	call_free(e, w);
}
