/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/control.c: shimvisor.v1.Control, a table of methods served on the control socket. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/ids.h"
#include "common/log.h"
#include "common/names.h"
#include "engine.h"
#include "wire/bytes.h"
#include "wire/pbio.h"
#include "wire/status.h"

struct call {
	struct engine *e;
	struct conn *c;
	struct reply_to rt;
	const char *ns;
	const pb_bytes_array_t *payload;
};

static int decode(struct call *k, const pb_msgdesc_t *fields, void *msg)
{
	const pb_bytes_array_t *p = k->payload;

	int r = sv_pb_decode(fields, msg, p ? p->bytes : NULL, p ? p->size : 0);

	if (r < 0) {
		/* -EILSEQ: an id "a\0b" would be read as "a" (sv_pb_decode refuses it for every
		 * string field of every request, ids and exec ids included) */
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, r == -EILSEQ ?
		      "a string in the request holds a NUL byte: invalid argument" :
		      "request does not decode", NULL, NULL);
		return -1;
	}
	return 0;
}

/* The task a request names, if its state permits the request (permitted[], task_table.c):
 * the one check before dispatch; else the refusal, answered. */
static struct task *task_for(struct call *k, const char *id, enum task_req rq)
{
	char msg[160];
	struct task *t;

	if (!sv_id_valid(id)) {
		snprintf(msg, sizeof(msg), "invalid id \"%.80s\": must match " SV_ID_RULE, id);
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, msg, NULL, NULL);
		return NULL;
	}
	t = task_find(k->e, k->ns, id);
	if (!t || !task_visible(t->st)) {
		snprintf(msg, sizeof(msg), "task %s: not found", id);
		reply(k->e, k->rt, SV_NOT_FOUND, msg, NULL, NULL);
		return NULL;
	}
	if (task_refusal(t->st, rq)) {
		task_refuse(k->e, t, rq, k->rt);
		return NULL;
	}
	return t;
}

static void m_create(struct call *k)
{
	sv_CtlCreateRequest *rq = calloc(1, sizeof(*rq));
	sv_MonRequest mr = { .which_op = sv_MonRequest_spawn_tag };
	pb_bytes_array_t *summary = NULL;
	char err[256], msg[320];
	char *json = NULL;
	size_t len = 0;
	struct task *t;

	if (!rq || decode(k, sv_CtlCreateRequest_fields, rq) < 0) {
		free(rq);
		return;
	}
	if (!sv_id_valid(rq->id)) {
		snprintf(msg, sizeof(msg), "invalid id \"%.80s\": must match " SV_ID_RULE, rq->id);
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, msg, NULL, NULL);
		goto out;
	}
	if ((t = task_find(k->e, k->ns, rq->id))) {
		snprintf(k->c->refused_ns, sizeof(k->c->refused_ns), "%s", k->ns);
		snprintf(k->c->refused_id, sizeof(k->c->refused_id), "%s", rq->id);
		if (!task_visible(t->st))  /* invisible to every other call: say why it is in use */
			snprintf(msg, sizeof(msg), "task %s: already exists: a failed create of that id "
				 "is being undone, try again", rq->id);
		else
			snprintf(msg, sizeof(msg), "task %s: already exists", rq->id);
		reply(k->e, k->rt, SV_ALREADY_EXISTS, msg, NULL, NULL);
		goto out;
	}
	struct sv_restart restart;
	if (sv_restart_parse(rq->restart, &restart) < 0) {
		snprintf(msg, sizeof(msg), "create %s: restart policy \"%.40s\": must be no, "
			 "on-failure[:N], always or unless-stopped: invalid argument", rq->id, rq->restart);
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, msg, NULL, NULL);
		goto out;
	}
	if (restart.kind != SV_RESTART_NO && !rq->detach) {
		snprintf(msg, sizeof(msg), "create %s: a restart policy needs a detached task: "
			 "invalid argument", rq->id);
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, msg, NULL, NULL);
		goto out;
	}
	if (rq->auto_remove && restart.kind != SV_RESTART_NO) {
		snprintf(msg, sizeof(msg), "create %s: auto_remove (--rm) and a restart policy "
			 "exclude each other: invalid argument", rq->id);
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, msg, NULL, NULL);
		goto out;
	}
	if (k->e->ntasks >= k->e->max_tasks) {
		snprintf(msg, sizeof(msg), "create %s: too many tasks: the daemon's fd limit allows %zu "
			 "(raise RLIMIT_NOFILE)", rq->id, k->e->max_tasks);
		reply(k->e, k->rt, SV_RESOURCE_EXHAUSTED, msg, NULL, NULL);
		goto out;
	}
	err[0] = 0;
	/* a cgroup for every task, or for those with limits only: joining one costs the
	 * start an RCU grace period on cgroup v1 (DESIGN, Cgroups) */
	/* (the others keep the same path for later: a cgroup made at their first Pause or
	 * Update) */
	char cgpath[sizeof(k->e->cfg->cgroup_parent) + 2 * SV_ID_SZ] = "";
	bool cg_now = k->e->cfg->task_cgroups_always || rq->memory || rq->pids || rq->cpus_milli;
	if (k->e->cfg->cgroup_parent[0])
		snprintf(cgpath, sizeof(cgpath), "%s/%s/%s",
			 strcmp(k->e->cfg->cgroup_parent, "/") ? k->e->cfg->cgroup_parent : "",
			 k->ns, rq->id);
	if (spec_build_summary(rq, cg_now ? cgpath : "", cg_now ? NULL : cgpath, k->e->seccomp,
			       &k->e->seccomp_sum, &json, &len, &summary, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "spec: %s", err);
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, msg, NULL, NULL);
		goto out;
	}
	t = task_new(k->e, k->ns, rq->id);
	if (!t) {
		reply(k->e, k->rt, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
		goto out;
	}
	restart.auto_remove = rq->auto_remove;     /* recorded with the policy */
	t->create_req = rq;
	rq = NULL;
	t->summary = summary;           /* kept for Inspect and List; the monitor files it */
	summary = NULL;
	task_set_restart(k->e, t, &restart);
	snprintf(mr.op.spawn.ns, sizeof(mr.op.spawn.ns), "%s", t->ns);
	snprintf(mr.op.spawn.id, sizeof(mr.op.spawn.id), "%s", t->id);
	if (restart.kind != SV_RESTART_NO || restart.auto_remove) {
		mr.op.spawn.has_restart = true;
		task_restart_msg(t, &mr.op.spawn.restart);
	}
	mr.op.spawn.config = sv_bytes_new(json, len);
	mr.op.spawn.summary = t->summary;
	if (!mr.op.spawn.config || mon_send(k->e, t, &mr) < 0) {
		reply(k->e, k->rt, SV_UNAVAILABLE, "the monitor did not take the request", NULL, NULL);
		task_free(k->e, t);
	} else {
		t->create_rt = k->rt;   /* answered by the spawn's outcome */
	}
	free(mr.op.spawn.config);
out:
	free(json);
	free(summary);
	if (rq) {
		sv_pb_free(sv_CtlCreateRequest_fields, rq);
		free(rq);
	}
}

static void m_start(struct call *k)
{
	sv_StartRequest rq;
	struct task *t;

	if (decode(k, sv_StartRequest_fields, &rq) < 0)
		return;
	if (!strcmp(k->c->refused_id, rq.id) && !strcmp(k->c->refused_ns, k->ns)) {
		k->c->refused_id[0] = 0;
		reply(k->e, k->rt, SV_ALREADY_EXISTS, "task already exists: its create was refused, "
		      "not started", NULL, NULL);
		return;
	}
	if ((t = task_for(k, rq.id, TR_START)))
		task_fire(k->e, t, TE_START, &(struct task_ev){ .rt = k->rt, .link_fd = -1 });
}

static void m_kill(struct call *k)
{
	sv_KillRequest rq;
	struct task *t;

	if (decode(k, sv_KillRequest_fields, &rq) < 0 || !(t = task_for(k, rq.id, TR_KILL)))
		return;
	if (rq.signal == 0 || rq.signal >= 65) {
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, "invalid signal", NULL, NULL);
		return;
	}
	task_fire(k->e, t, TE_KILL, &(struct task_ev){ .rt = k->rt, .body = &rq, .link_fd = -1 });
}

static void m_wait(struct call *k)
{
	sv_WaitRequest rq;
	struct task *t;

	if (decode(k, sv_WaitRequest_fields, &rq) < 0 ||
	    !(t = task_for(k, rq.id, rq.exec_id[0] ? TR_WAIT_EXEC : TR_WAIT)))
		return;
	if (rq.exec_id[0]) {            /* an exec: its worker answers once it has exited */
		link_call(k->e, t, W_EXEC_WAIT, "Wait", sv_WaitRequest_fields, &rq, k->rt, 0);
		return;
	}
	if (task_exit_known(t)) {
		sv_WaitResponse wr = { .exit_status = t->exit_status, .has_exited_at = true,
				       .exited_at = t->exited_at };
		reply(k->e, k->rt, SV_OK, NULL, sv_WaitResponse_fields, &wr);
		return;
	}
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w) {
		reply(k->e, k->rt, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
		return;
	}
	w->rt = k->rt;
	w->next = t->waiters;
	t->waiters = w;
}

static void fill_state(const struct task *t, sv_StateResponse *s, char *pol, size_t size)
{
	memset(s, 0, sizeof(*s));
	s->restart_count = t->restart.count;
	s->restart = (char *)sv_restart_str(&t->restart, pol, size);
	snprintf(s->id, sizeof(s->id), "%s", t->id);
	s->bundle = t->bundle;
	s->pid = t->pid;
	s->status = task_status(t);
	s->exit_status = t->exit_status;
	if (task_exit_known(t)) {
		s->has_exited_at = true;
		s->exited_at = t->exited_at;
	}
}

static void m_state(struct call *k)
{
	sv_StateRequest rq;
	sv_StateResponse s;
	struct task *t;
	char pol[32];

	if (decode(k, sv_StateRequest_fields, &rq) < 0 || !(t = task_for(k, rq.id, TR_STATE)))
		return;
	fill_state(t, &s, pol, sizeof(pol));
	reply(k->e, k->rt, SV_OK, NULL, sv_StateResponse_fields, &s);
}

static void m_pids(struct call *k)
{
	sv_PidsRequest rq;
	struct task *t;

	if (decode(k, sv_PidsRequest_fields, &rq) < 0 || !(t = task_for(k, rq.id, TR_PIDS)))
		return;
	link_call(k->e, t, W_PIDS, "Pids", sv_PidsRequest_fields, &rq, k->rt, 10000);
}

/* An exec id that is neither "" (the init) nor valid: refused, answered. */
static bool bad_exec_id(struct call *k, const char *exec_id)
{
	if (!exec_id[0] || sv_id_valid(exec_id))
		return false;
	reply(k->e, k->rt, SV_INVALID_ARGUMENT, "invalid exec id: must match " SV_ID_RULE, NULL, NULL);
	return true;
}

/* ResizePty: a terminal's window size, relayed; served where an Exec would be (the task
 * created or running: a pty lives no longer than its process). */
static void m_resize_pty(struct call *k)
{
	sv_ResizePtyRequest rq;
	struct task *t;

	if (decode(k, sv_ResizePtyRequest_fields, &rq) < 0 || !(t = task_for(k, rq.id, TR_EXEC)) ||
	    bad_exec_id(k, rq.exec_id))
		return;
	link_call(k->e, t, W_RESIZE_PTY, "ResizePty", sv_ResizePtyRequest_fields, &rq, k->rt, 10000);
}

/* Process: the worker's State of one process (its stdio paths, terminal, status), relayed;
 * served where State is, as long as the task has a worker. */
static void m_process(struct call *k)
{
	sv_StateRequest rq;
	struct task *t;

	if (decode(k, sv_StateRequest_fields, &rq) < 0 || !(t = task_for(k, rq.id, TR_STATE)) ||
	    bad_exec_id(k, rq.exec_id))
		return;
	link_call(k->e, t, W_PROCESS, "State", sv_StateRequest_fields, &rq, k->rt, 10000);
}

/* Pause, Resume and Stats: each request is `{ string id = 1; }`, relayed as it came. */
static void relay_by_id(struct call *k, enum task_req tr, enum wcall_op op, const char *method,
			int timeout_ms)
{
	sv_PauseRequest rq;     /* the wire form of all three */
	struct task *t;

	if (decode(k, sv_PauseRequest_fields, &rq) == 0 && (t = task_for(k, rq.id, tr)))
		link_call(k->e, t, op, method, sv_PauseRequest_fields, &rq, k->rt, timeout_ms);
}

static void m_pause(struct call *k) { relay_by_id(k, TR_PAUSE, W_PAUSE, "Pause", 30000); }
static void m_resume(struct call *k) { relay_by_id(k, TR_RESUME, W_RESUME, "Resume", 30000); }
static void m_stats(struct call *k) { relay_by_id(k, TR_STATS, W_STATS, "Stats", 10000); }

static void m_update(struct call *k)
{
	sv_UpdateTaskRequest wq = { .has_resources = true };
	sv_CtlUpdateRequest rq;
	struct task *t;
	char *json = NULL;
	size_t len = 0;

	if (decode(k, sv_CtlUpdateRequest_fields, &rq) < 0 || !(t = task_for(k, rq.id, TR_UPDATE)))
		return;
	if (spec_resources(&rq, &json, &len) < 0) {
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, json ? "out of memory" :
		      "update: no limit, or one out of range (memory 1 to 2^49 bytes, pids 1 to "
		      "4194304): invalid argument", NULL, NULL);
		return;
	}
	snprintf(wq.id, sizeof(wq.id), "%s", rq.id);
	wq.resources.type_url = (char *)SV_OCI_RESOURCES_URL;
	wq.resources.value = sv_bytes_new(json, len);
	free(json);
	if (!wq.resources.value)
		reply(k->e, k->rt, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
	else
		link_call(k->e, t, W_UPDATE, "Update", sv_UpdateTaskRequest_fields, &wq, k->rt, 30000);
	free(wq.resources.value);
}

static void m_exec(struct call *k)
{
	sv_ExecProcessRequest wq = { .has_spec = true };
	sv_CtlExecRequest *rq = calloc(1, sizeof(*rq));
	char err[256] = "", msg[320], *json = NULL;
	struct wcall *w;
	struct task *t;
	size_t len = 0;

	if (!rq || decode(k, sv_CtlExecRequest_fields, rq) < 0)
		goto out;
	if (!(t = task_for(k, rq->id, TR_EXEC)))
		goto out;
	if (!sv_id_valid(rq->exec_id)) {
		snprintf(msg, sizeof(msg), "invalid exec id \"%.80s\": must match "
			 SV_ID_RULE, rq->exec_id);
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, msg, NULL, NULL);
		goto out;
	}
	if (spec_process(rq, &json, &len, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "exec: %s", err);
		reply(k->e, k->rt, SV_INVALID_ARGUMENT, msg, NULL, NULL);
		goto out;
	}
	snprintf(wq.id, sizeof(wq.id), "%s", rq->id);
	snprintf(wq.exec_id, sizeof(wq.exec_id), "%s", rq->exec_id);
	if (!rq->detach) {
		wq.stdin = rq->stdin;
		wq.stdout = rq->stdout;
		wq.stderr = rq->stderr;
		wq.terminal = rq->terminal;
	}
	wq.spec.type_url = (char *)SV_OCI_PROCESS_URL;
	wq.spec.value = sv_bytes_new(json, len);
	if (!wq.spec.value)
		reply(k->e, k->rt, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
	else if ((w = link_call(k->e, t, W_EXEC, "Exec", sv_ExecProcessRequest_fields, &wq, k->rt,
				30000))) {
		snprintf(w->exec_id, sizeof(w->exec_id), "%s", rq->exec_id);
		w->detach = rq->detach;
	}
	free(wq.spec.value);
out:
	free(json);
	if (rq) {
		sv_pb_free(sv_CtlExecRequest_fields, rq);
		free(rq);
	}
}

static void m_delete(struct call *k)
{
	sv_CtlDeleteRequest rq;
	enum task_req tr;
	struct task *t;

	if (decode(k, sv_CtlDeleteRequest_fields, &rq) < 0)
		return;
	tr = rq.exec_id[0] ? TR_DELETE_EXEC : rq.force ? TR_DELETE_FORCE : TR_DELETE;
	if (!(t = task_for(k, rq.id, tr)))
		return;
	if (tr == TR_DELETE_EXEC) {     /* an exited exec: its worker forgets it */
		sv_DeleteRequest dq = { 0 };
		snprintf(dq.id, sizeof(dq.id), "%s", rq.id);
		snprintf(dq.exec_id, sizeof(dq.exec_id), "%s", rq.exec_id);
		link_call(k->e, t, W_EXEC_DELETE, "Delete", sv_DeleteRequest_fields, &dq, k->rt, 10000);
		return;
	}
	task_fire(k->e, t, tr == TR_DELETE ? TE_DELETE : TE_DELETE_FORCE,
		  &(struct task_ev){ .rt = k->rt, .link_fd = -1 });
}

/* A stopped task run again on its bundle (task_restart.c's restart_now); answered once the
 * new run has started. */
static void m_restart(struct call *k)
{
	sv_CtlRestartRequest rq;
	struct task *t;

	if (decode(k, sv_CtlRestartRequest_fields, &rq) < 0 || !(t = task_for(k, rq.id, TR_RESTART)))
		return;
	task_fire(k->e, t, TE_RESTART, &(struct task_ev){ .rt = k->rt, .link_fd = -1 });
}

static void m_list(struct call *k)
{
	sv_CtlListResponse resp = { 0 };
	sv_TaskSummaryLabels *labels;
	size_t n = 0, i = 0;
	char (*pol)[32];
	struct task *t;

	for (t = k->e->tasks; t; t = t->next)
		if (!strcmp(t->ns, k->ns) && task_visible(t->st))
			n++;
	resp.tasks = n ? calloc(n, sizeof(*resp.tasks)) : NULL;
	pol = n ? calloc(n, sizeof(*pol)) : NULL;
	labels = n ? calloc(n, sizeof(*labels)) : NULL;
	if (n && (!resp.tasks || !pol || !labels)) {
		reply(k->e, k->rt, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
		free(resp.tasks);
		free(pol);
		free(labels);
		return;
	}
	for (t = k->e->tasks; t && i < n; t = t->next) {
		if (strcmp(t->ns, k->ns) || !task_visible(t->st))
			continue;
		sv_CtlTask *ct = &resp.tasks[i++];
		snprintf(ct->namespace, sizeof(ct->namespace), "%s", t->ns);
		snprintf(ct->id, sizeof(ct->id), "%s", t->id);
		ct->pid = t->pid;
		ct->status = task_status(t);
		ct->exit_status = t->exit_status;
		ct->bundle = t->bundle;
		ct->restart_count = t->restart.count;
		ct->restart = (char *)sv_restart_str(&t->restart, pol[i - 1], sizeof(pol[i - 1]));
		if (task_exit_known(t)) {
			ct->has_exited_at = true;
			ct->exited_at = t->exited_at;
		}
		/* the summary's labels field alone (an undecodable summary: none) */
		if (t->summary && sv_pb_decode(sv_TaskSummaryLabels_fields, &labels[i - 1],
					       t->summary->bytes, t->summary->size) == 0) {
			ct->labels = labels[i - 1].labels;
			ct->labels_count = labels[i - 1].labels_count;
		}
	}
	resp.tasks_count = (pb_size_t)i;
	reply(k->e, k->rt, SV_OK, NULL, sv_CtlListResponse_fields, &resp);
	for (size_t j = 0; j < i; j++)
		sv_pb_free(sv_TaskSummaryLabels_fields, &labels[j]);
	free(labels);
	free(resp.tasks);
	free(pol);
}

/* The state (as State answers it) and the summary the engine made at create. */
static void m_inspect(struct call *k)
{
	sv_CtlInspectResponse r = { .has_state = true };
	sv_CtlInspectRequest rq;
	struct task *t;
	char pol[32];

	if (decode(k, sv_CtlInspectRequest_fields, &rq) < 0 || !(t = task_for(k, rq.id, TR_STATE)))
		return;
	fill_state(t, &r.state, pol, sizeof(pol));
	if (t->summary && sv_pb_decode(sv_TaskSummary_fields, &r.summary, t->summary->bytes,
				       t->summary->size) == 0)
		r.has_summary = true;
	else if (t->summary)
		sv_warn("task %s/%s: its summary does not decode: inspect shows its state alone",
			t->ns, t->id);
	/* the capabilities kept as bits, answered by name */
	sv_TaskSummary kept = r.summary;
	char **names = NULL;
	if (r.has_summary && spec_summary_cap_names(&kept, &names, &r.summary.capabilities_count) == 0) {
		r.summary.capabilities = names;
		r.summary.capability_mask = 0;
	}
	reply(k->e, k->rt, SV_OK, NULL, sv_CtlInspectResponse_fields, &r);
	free(names);
	sv_pb_free(sv_TaskSummary_fields, &kept);
}

static void m_subscribe(struct call *k)
{
	conn_subscribe(k->e, k->c, true);
	k->c->sub_stream = k->rt.stream;
	k->c->inflight -= k->c->inflight > 0;   /* answered by the events it streams */
}

/* With the engine's health: what the monitor told it of the engines before it. */
static void m_version(struct call *k)
{
	const struct sv_engine_health *h = &k->e->cfg->health;
	sv_CtlVersionResponse v = {
		.version = SV_VERSION, .revision = "shimvisor",
		.engine_restarts = h->restarts, .engine_started_ms = h->started_ms,
		.last_engine_end = (char *)h->last_end, .last_engine_end_ms = h->last_end_ms,
		.restart_backoff_ms = (uint32_t)h->backoff_ms,
		.restart_waited_ms = (uint32_t)h->waited_ms, .restart_attempt = h->loop,
	};

	reply(k->e, k->rt, SV_OK, NULL, sv_CtlVersionResponse_fields, &v);
}

/* The methods: a name (inline: no pointer to relocate at load) and, at the same index, its
 * function. */
#define METHODS(M) \
	M(Create, m_create) M(Start, m_start) M(Kill, m_kill) M(Wait, m_wait) \
	M(State, m_state) M(Pids, m_pids) M(Delete, m_delete) M(List, m_list) \
	M(Subscribe, m_subscribe) M(Version, m_version) M(Pause, m_pause) \
	M(Resume, m_resume) M(Stats, m_stats) M(Update, m_update) M(Exec, m_exec) \
	M(Restart, m_restart) M(Inspect, m_inspect) M(ResizePty, m_resize_pty) \
	M(Process, m_process)
#define METHOD_NAME(name, fn) #name,
#define METHOD_FN(name, fn) fn,
SV_NAMES_BEGIN
static const char method_names[][12] = { METHODS(METHOD_NAME) };
SV_NAMES_END
static void (*const method_fns[])(struct call *) = { METHODS(METHOD_FN) };
#define NMETHODS (sizeof(method_fns) / sizeof(method_fns[0]))

void control_request(struct engine *e, struct conn *c)
{
	struct call k = { .e = e, .c = c, .rt = { c->serial, c->rd.hdr.stream } };
	char msg[160];
	sv_Request rq;
	size_t i;

	if (c->rd.hdr.type != SV_TTRPC_TYPE_REQUEST)
		return;
	c->inflight++;          /* until client_answered (clients.c) */
	if ((c->rd.hdr.stream & 1) == 0) {
		reply(e, k.rt, SV_INVALID_ARGUMENT, "StreamID must be odd for client initiated streams", NULL, NULL);
		return;
	}
	int r = sv_pb_decode(sv_Request_fields, &rq, c->rd.body, c->rd.hdr.len);
	if (r == -EILSEQ) {
		/* a NUL in the namespace (or service, method, a metadata key): refused, as any
		 * request whose strings would be cut */
		reply(e, k.rt, SV_INVALID_ARGUMENT, "a string in the request holds a NUL byte: "
		      "invalid argument", NULL, NULL);
		return;
	}
	if (r < 0) {
		/* a body that is not a Request: the sender loses its connection */
		reply(e, k.rt, SV_INVALID_ARGUMENT, "unmarshal request error", NULL, NULL);
		c->closing = true;
		return;
	}
	/* No namespace header means "default" (the CLI always sends one; `ctr` style clients
	 * may not): it names a namespace as any other would, so nothing is gained by refusing
	 * it. A header that is sent empty is refused: an empty namespace is never "default". */
	k.ns = ttrpc_request_ns(&rq);
	if (!k.ns)
		k.ns = SV_DEFAULT_NS;
	k.payload = rq.payload;
	if (!rq.service || strcmp(rq.service, SV_CONTROL_SERVICE) != 0) {
		snprintf(msg, sizeof(msg), "service %.100s", rq.service ? rq.service : "");
		reply(e, k.rt, SV_UNIMPLEMENTED, msg, NULL, NULL);
	} else if (!k.ns[0]) {
		reply(e, k.rt, SV_INVALID_ARGUMENT, "namespace cannot be empty: invalid argument", NULL, NULL);
	} else if (!sv_id_valid(k.ns)) {
		snprintf(msg, sizeof(msg), "invalid namespace \"%.80s\": must match " SV_ID_RULE, k.ns);
		reply(e, k.rt, SV_INVALID_ARGUMENT, msg, NULL, NULL);
	} else {
		for (i = 0; i < NMETHODS; i++)
			if (rq.method && !strcmp(rq.method, method_names[i]))
				break;
		if (i < NMETHODS) {
			if (method_fns[i] != m_start)
				c->refused_id[0] = 0;
			method_fns[i](&k);
		} else {
			snprintf(msg, sizeof(msg), "method %.100s", rq.method ? rq.method : "");
			reply(e, k.rt, SV_UNIMPLEMENTED, msg, NULL, NULL);
		}
	}
	sv_pb_free(sv_Request_fields, &rq);
}
