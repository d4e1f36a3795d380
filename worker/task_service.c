/* SPDX-License-Identifier: Apache-2.0 */
/* worker/task_service.c: containerd.task.v2.Task methods, as the state table of PROTOCOL.md §4. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/log.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "task.pb.h"
#include "worker.h"

struct call {
	struct worker *w;
	struct conn *c;
	uint32_t stream;
	const uint8_t *payload;
	size_t len;
};

#define MSG_NOT_CREATED "container not created: not found"
#define MSG_FINISHED    "process already finished: not found"

static void reply(struct call *k, int code, const char *msg, const pb_msgdesc_t *f, const void *m)
{
	w_reply(k->w, k->c->cid, k->stream, code, msg, f, m);
}

static void reply_errno(struct call *k, int err, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(-err));
	reply(k, sv_code_from_errno(err), msg, NULL, NULL);
}

static int decode(struct call *k, const pb_msgdesc_t *f, void *m)
{
	if (sv_pb_decode(f, m, k->payload, k->len) < 0) {
		reply(k, SV_INTERNAL, "unmarshal payload error", NULL, NULL);
		return -EBADMSG;
	}
	return 0;
}

/* The task an (id, exec_id) names, or NULL after replying NOT_FOUND. */
static struct task *lookup(struct call *k, const char *id, const char *exec_id)
{
	struct task *t = k->w->task;
	char msg[160];

	if (!t || strcmp(id, t->id) != 0) {
		reply(k, SV_NOT_FOUND, MSG_NOT_CREATED, NULL, NULL);
		return NULL;
	}
	if (exec_id && *exec_id) {
		snprintf(msg, sizeof(msg), "process %.80s does not exist: not found", exec_id);
		reply(k, SV_NOT_FOUND, msg, NULL, NULL);
		return NULL;
	}
	return t;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static void m_create(struct call *k)
{
	struct worker *w = k->w;
	sv_CreateTaskRequest req;
	struct task *t = NULL;
	int stdio[3] = { -1, -1, -1 };
	int cfg = -1, err, i;
	char msg[256];

	if (decode(k, sv_CreateTaskRequest_fields, &req) < 0)
		return;
	if (w->task) {
		snprintf(msg, sizeof(msg), "task %.80s: already exists", req.id);
		reply(k, SV_ALREADY_EXISTS, msg, NULL, NULL);
		goto out;
	}
	if (strcmp(req.id, w->o.id) != 0) {
		snprintf(msg, sizeof(msg), "task id %.80s is not this shim's (%.80s): invalid argument",
			 req.id, w->o.id);
		reply(k, SV_INVALID_ARGUMENT, msg, NULL, NULL);
		goto out;
	}
	if ((req.checkpoint && *req.checkpoint) || req.terminal) {
		reply(k, SV_UNIMPLEMENTED, req.terminal ? "terminal: not implemented" :
		      "checkpoint: not implemented", NULL, NULL);
		goto out;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->bundle_fd = t->sync_fd = t->readers[0] = t->readers[1] = -1;
	memcpy(t->id, req.id, sizeof(t->id));
	if (req.bundle && *req.bundle) {
		t->bundle = strdup(req.bundle);
	} else {
		t->bundle = getcwd(NULL, 0);
	}
	t->in = dup_or_empty(req.stdin);
	t->out = dup_or_empty(req.stdout);
	t->err = dup_or_empty(req.stderr);
	if (!t->bundle || !t->in || !t->out || !t->err)
		goto nomem;
	t->bundle_fd = open(t->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->bundle_fd < 0) {
		reply_errno(k, -errno, "open bundle");
		goto fail;
	}
	err = rootfs_mount(t, req.rootfs, req.rootfs_count);
	if (err < 0) {
		reply_errno(k, err, "mount rootfs");
		goto fail;
	}
	cfg = openat(t->bundle_fd, SV_BUNDLE_CONFIG, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (cfg < 0) {
		reply_errno(k, -errno, "open " SV_BUNDLE_CONFIG);
		goto fail;
	}
	err = stdio_open(t, stdio);
	if (err < 0) {
		reply_errno(k, err, "open stdio");
		goto fail;
	}
	err = proc_spawn_init(w, t, cfg, stdio);
	if (err < 0) {
		reply_errno(k, err, "start shimvisor-init");
		goto fail;
	}
	close(cfg);
	for (i = 0; i < 3; i++)
		close(stdio[i]);
	t->status = T_CREATING;
	t->create_rep = (struct pending){ k->c->cid, k->stream };
	w->task = t;
	goto out;
nomem:
	reply(k, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
fail:
	if (cfg >= 0)
		close(cfg);
	for (i = 0; i < 3; i++)
		if (stdio[i] >= 0)
			close(stdio[i]);
	if (t)
		task_free(w, t);
out:
	sv_pb_free(sv_CreateTaskRequest_fields, &req);
}

static void m_start(struct call *k)
{
	sv_StartRequest req;
	struct task *t;
	int err;

	if (decode(k, sv_StartRequest_fields, &req) < 0 || !(t = lookup(k, req.id, req.exec_id)))
		return;
	if (t->status == T_RUNNING || (t->status == T_CREATED && t->start_sent)) {
		reply(k, SV_UNKNOWN, "cannot start a running process", NULL, NULL);
		return;
	}
	if (t->status == T_STOPPED) {
		reply(k, SV_UNKNOWN, "cannot start a stopped process", NULL, NULL);
		return;
	}
	if (t->status == T_CREATING) {
		reply(k, SV_FAILED_PRECONDITION, "process is still being created: failed precondition",
		      NULL, NULL);
		return;
	}
	err = proc_send_start(t);
	if (err < 0) {
		reply_errno(k, err, "start");
		return;
	}
	t->start_sent = true;
	t->start_rep = (struct pending){ k->c->cid, k->stream };
}

static void m_state(struct call *k)
{
	sv_StateRequest req;
	sv_StateResponse r;
	struct task *t;
	static const uint32_t st[] = { [T_CREATING] = sv_TaskStatus_UNKNOWN,
		[T_CREATED] = sv_TaskStatus_CREATED, [T_RUNNING] = sv_TaskStatus_RUNNING,
		[T_STOPPED] = sv_TaskStatus_STOPPED };

	if (decode(k, sv_StateRequest_fields, &req) < 0 || !(t = lookup(k, req.id, req.exec_id)))
		return;
	memset(&r, 0, sizeof(r));
	memcpy(r.id, t->id, sizeof(r.id));
	r.bundle = t->bundle;
	r.pid = (uint32_t)t->pid;
	r.status = st[t->status];
	r.stdin = t->in;
	r.stdout = t->out;
	r.stderr = t->err;
	r.terminal = t->terminal;
	if (t->status == T_STOPPED) {
		r.exit_status = (uint32_t)t->exit_status;
		r.has_exited_at = true;
		r.exited_at.seconds = t->exited_at.tv_sec;
		r.exited_at.nanos = (int32_t)t->exited_at.tv_nsec;
	}
	reply(k, SV_OK, NULL, sv_StateResponse_fields, &r);
}

static int kill_all(struct task *t, int sig)
{
	pid_t *pids = NULL;
	size_t n = 0, i;
	int err;

	if (!t->own_pidns || !t->pidns)
		return kill(t->pid, sig) < 0 ? -errno : 0;
	/* SIGKILL of a pid namespace's init makes the kernel kill everything else in it:
	 * no need to walk /proc (which costs O(every process on the host)) */
	if (sig == SIGKILL)
		return kill(t->pid, sig) < 0 ? -errno : 0;
	err = proc_scan_ns(t->pidns, &pids, &n);
	if (err < 0)
		return err;
	for (i = 0; i < n; i++)
		kill(pids[i], sig);
	free(pids);
	return 0;
}

static void m_kill(struct call *k)
{
	sv_KillRequest req;
	struct task *t;
	int err;

	if (decode(k, sv_KillRequest_fields, &req) < 0 || !(t = lookup(k, req.id, req.exec_id)))
		return;
	if (t->status == T_CREATING || t->pid <= 0) {
		reply(k, SV_NOT_FOUND, MSG_NOT_CREATED, NULL, NULL);
		return;
	}
	if (t->status == T_STOPPED || t->exited) {
		reply(k, SV_NOT_FOUND, MSG_FINISHED, NULL, NULL);
		return;
	}
	if (req.signal > 64) {
		reply(k, SV_INVALID_ARGUMENT, "invalid signal: invalid argument", NULL, NULL);
		return;
	}
	err = req.all ? kill_all(t, (int)req.signal) : (kill(t->pid, (int)req.signal) < 0 ? -errno : 0);
	if (err == -ESRCH)
		reply(k, SV_NOT_FOUND, MSG_FINISHED, NULL, NULL);
	else if (err < 0)
		reply_errno(k, err, "kill");
	else
		reply(k, SV_OK, NULL, NULL, NULL);
}

static void m_wait(struct call *k)
{
	struct worker *w = k->w;
	sv_WaitRequest req;
	struct task *t;

	if (decode(k, sv_WaitRequest_fields, &req) < 0 || !(t = lookup(k, req.id, req.exec_id)))
		return;
	if (t->status == T_STOPPED) {
		sv_WaitResponse r = { .exit_status = (uint32_t)t->exit_status, .has_exited_at = true,
			.exited_at = { t->exited_at.tv_sec, (int32_t)t->exited_at.tv_nsec } };

		reply(k, SV_OK, NULL, sv_WaitResponse_fields, &r);
		return;
	}
	if (w->npending_total >= W_MAX_WAITERS) {
		reply(k, SV_RESOURCE_EXHAUSTED, "too many waiters", NULL, NULL);
		return;
	}
	if (t->nwaiters == t->capwaiters) {
		size_t cap = t->capwaiters ? t->capwaiters * 2 : 4;
		struct pending *p = realloc(t->waiters, cap * sizeof(*p));

		if (!p) {
			reply(k, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
			return;
		}
		t->waiters = p;
		t->capwaiters = cap;
	}
	t->waiters[t->nwaiters++] = (struct pending){ k->c->cid, k->stream };
	w->npending_total++;
}

static void m_delete(struct call *k)
{
	struct worker *w = k->w;
	sv_DeleteRequest req;
	sv_DeleteResponse r;
	sv_TaskDelete ev;
	struct task *t;

	if (decode(k, sv_DeleteRequest_fields, &req) < 0 || !(t = lookup(k, req.id, req.exec_id)))
		return;
	if (t->status == T_RUNNING || t->status == T_CREATING || (t->status == T_CREATED && t->start_sent)) {
		reply(k, SV_FAILED_PRECONDITION, "cannot delete a running process: failed precondition",
		      NULL, NULL);
		return;
	}
	if (t->status == T_CREATED) {
		int st = proc_kill_sync(t->pid, 2000);

		task_exited(w, t, st < 0 ? (int)SIGKILL : st);
	}
	memset(&r, 0, sizeof(r));
	r.pid = (uint32_t)t->pid;
	r.exit_status = (uint32_t)t->exit_status;
	r.has_exited_at = true;
	r.exited_at.seconds = t->exited_at.tv_sec;
	r.exited_at.nanos = (int32_t)t->exited_at.tv_nsec;
	reply(k, SV_OK, NULL, sv_DeleteResponse_fields, &r);

	memset(&ev, 0, sizeof(ev));
	memcpy(ev.container_id, t->id, sizeof(ev.container_id));
	ev.pid = r.pid;
	ev.exit_status = r.exit_status;
	ev.has_exited_at = true;
	ev.exited_at = r.exited_at;
	ev_publish(w, "/tasks/delete", "containerd.events.TaskDelete", sv_TaskDelete_fields, &ev);
	w->task = NULL;
	task_free(w, t);
}

static void m_pids(struct call *k)
{
	sv_PidsRequest req;
	sv_PidsResponse r;
	struct task *t;
	pid_t *pids = NULL, one;
	size_t n = 0, i;
	int err = 0;

	if (decode(k, sv_PidsRequest_fields, &req) < 0 || !(t = lookup(k, req.id, NULL)))
		return;
	memset(&r, 0, sizeof(r));
	if (t->status != T_STOPPED && t->pid > 0) {
		if (t->own_pidns && t->pidns) {
			err = proc_scan_ns(t->pidns, &pids, &n);
		} else {
			one = t->pid;
			pids = &one;
			n = 1;
		}
	}
	if (err < 0) {
		reply_errno(k, err, "scan /proc");
		return;
	}
	if (n) {
		r.processes = calloc(n, sizeof(*r.processes));
		if (!r.processes) {
			reply(k, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
			goto out;
		}
		for (i = 0; i < n; i++)
			r.processes[i].pid = (uint32_t)pids[i];
		r.processes_count = (pb_size_t)n;
	}
	reply(k, SV_OK, NULL, sv_PidsResponse_fields, &r);
	free(r.processes);
out:
	if (pids != &one)
		free(pids);
}

static void m_connect(struct call *k)
{
	sv_ConnectRequest req;
	sv_ConnectResponse r;

	if (decode(k, sv_ConnectRequest_fields, &req) < 0)
		return;
	memset(&r, 0, sizeof(r));
	r.shim_pid = (uint32_t)getpid();
	if (k->w->task)
		r.task_pid = (uint32_t)k->w->task->pid;
	reply(k, SV_OK, NULL, sv_ConnectResponse_fields, &r);
}

static void m_shutdown(struct call *k)
{
	struct worker *w = k->w;
	sv_ShutdownRequest req;

	if (decode(k, sv_ShutdownRequest_fields, &req) < 0)
		return;
	reply(k, SV_OK, NULL, NULL, NULL);
	if (!w->task && !w->exiting) {
		w->exiting = true;
		w->exit_deadline_ms = w_now_ms() + W_EXIT_GRACE_MS;
	}
}

static const struct method {
	const char *name;
	void (*fn)(struct call *k);
} methods[] = {
	{ "Create", m_create }, { "Start", m_start }, { "State", m_state },
	{ "Kill", m_kill }, { "Wait", m_wait }, { "Delete", m_delete },
	{ "Pids", m_pids }, { "Connect", m_connect }, { "Shutdown", m_shutdown },
};

void task_dispatch(struct worker *w, struct conn *c, uint32_t stream, const char *method,
		   const uint8_t *payload, size_t len)
{
	struct call k = { w, c, stream, payload, len };
	char msg[160];
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcmp(methods[i].name, method) == 0) {
			sv_debug("%s (stream %u)", method, stream);
			methods[i].fn(&k);
			return;
		}
	}
	/* Pause, Resume, Checkpoint, Exec, ResizePty, CloseIO, Update, Stats, and the unknown. */
	snprintf(msg, sizeof(msg), "method %.100s", method);
	reply(&k, SV_UNIMPLEMENTED, msg, NULL, NULL);
}

/* A connection went away: its deferred replies have no one to go to. */
void task_forget_conn(struct worker *w, uint64_t cid)
{
	struct task *t = w->task;
	size_t i, j;

	if (!t)
		return;
	if (t->create_rep.cid == cid)
		t->create_rep.cid = 0;
	if (t->start_rep.cid == cid)
		t->start_rep.cid = 0;
	for (i = j = 0; i < t->nwaiters; i++) {
		if (t->waiters[i].cid == cid)
			w->npending_total--;
		else
			t->waiters[j++] = t->waiters[i];
	}
	t->nwaiters = j;
}
