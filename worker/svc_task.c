/* SPDX-License-Identifier: Apache-2.0 */
/* worker/svc_task.c: containerd.task.v2.Task: the lifecycle methods (Create, Start, State,
 * Wait, Delete, Connect, Shutdown; Start and Delete are events of proc_table.c), and the
 * dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/log.h"
#include "common/names.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "task.pb.h"
#include "runc_options.h"
#include "service.h"

void svc_reply(struct call *k, int code, const char *msg, const pb_msgdesc_t *f, const void *m)
{
	w_reply(k->w, k->c->cid, k->stream, code, msg, f, m);
}

void svc_reply_errno(struct call *k, int err, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(-err));
	svc_reply(k, sv_code_from_errno(err), msg, NULL, NULL);
}

int svc_decode(struct call *k, const pb_msgdesc_t *f, void *m)
{
	int r = sv_pb_decode(f, m, k->payload, k->len);

	if (r == -EILSEQ) {
		/* an id or exec id "a\0b" would be read as "a": refused with every other string
		 * that holds a NUL byte */
		svc_reply(k, SV_INVALID_ARGUMENT, "a string in the request holds a NUL byte: "
			  "invalid argument", NULL, NULL);
		return r;
	}
	if (r < 0) {
		svc_reply(k, SV_INTERNAL, "unmarshal payload error", NULL, NULL);
		return -EBADMSG;
	}
	return 0;
}

struct wtask *svc_task(struct call *k, const char *id)
{
	struct wtask *t = k->w->task;

	if (!t || strcmp(id, t->id) != 0) {
		svc_reply(k, SV_NOT_FOUND, MSG_NOT_CREATED, NULL, NULL);
		return NULL;
	}
	return t;
}

struct proc *svc_proc(struct call *k, const char *id, const char *exec_id, struct wtask **tp)
{
	struct wtask *t = svc_task(k, id);
	struct proc *p;
	char msg[160];

	if (!t)
		return NULL;
	*tp = t;
	if (!exec_id || !*exec_id)
		return &t->init;
	p = wtask_find_exec(t, exec_id);
	if (!p) {
		/* runc-v2's words (errdefs.ErrNotFound, "process does not exist %s") */
		snprintf(msg, sizeof(msg), "process does not exist %.80s: not found", exec_id);
		svc_reply(k, SV_NOT_FOUND, msg, NULL, NULL);
	}
	return p;
}

bool svc_add_waiter(struct call *k, struct proc *p)
{
	struct worker *w = k->w;

	if (w->npending_total >= W_MAX_WAITERS) {
		svc_reply(k, SV_RESOURCE_EXHAUSTED, "too many waiters", NULL, NULL);
		return false;
	}
	if (p->nwaiters == p->capwaiters) {
		size_t cap = p->capwaiters ? p->capwaiters * 2 : 4;
		struct pending *v = realloc(p->waiters, cap * sizeof(*v));

		if (!v) {
			svc_reply(k, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
			return false;
		}
		p->waiters = v;
		p->capwaiters = cap;
	}
	p->waiters[p->nwaiters++] = (struct pending){ k->c->cid, k->stream };
	w->npending_total++;
	return true;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static struct wtask *wtask_new(const sv_CreateTaskRequest *req)
{
	struct wtask *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->bundle_fd = t->oom_fd = t->update_fd = -1;
	t->init.sync_fd = -1;
	memset(t->init.hold, -1, sizeof(t->init.hold));
	pio_init(&t->init.io);
	memcpy(t->id, req->id, sizeof(t->id));
	t->bundle = req->bundle && *req->bundle ? strdup(req->bundle) : getcwd(NULL, 0);
	t->init.in = dup_or_empty(req->stdin);
	t->init.out = dup_or_empty(req->stdout);
	t->init.err = dup_or_empty(req->stderr);
	t->init.terminal = req->terminal;
	return t;
}

static void wm_create(struct call *k)
{
	struct worker *w = k->w;
	sv_CreateTaskRequest req;
	struct wtask *t = NULL;
	int stdio[3] = { -1, -1, -1 };
	int cfg = -1, err, i;
	char msg[512];
	sv_RuncOptions ro = { 0 };

	if (svc_decode(k, sv_CreateTaskRequest_fields, &req) < 0)
		return;
	if (w->task) {
		snprintf(msg, sizeof(msg), "task %.80s: already exists", req.id);
		svc_reply(k, SV_ALREADY_EXISTS, msg, NULL, NULL);
		goto out;
	}
	if (w->confined) {
		/* its bounding set is its first task's now: a second task's init could not be made */
		svc_reply(k, SV_FAILED_PRECONDITION, "this shim has confined itself to the task it "
			  "served: start a new shim", NULL, NULL);
		goto out;
	}
	if (strcmp(req.id, w->o.id) != 0) {
		snprintf(msg, sizeof(msg), "task id %.80s is not this shim's (%.80s): invalid argument",
			 req.id, w->o.id);
		svc_reply(k, SV_INVALID_ARGUMENT, msg, NULL, NULL);
		goto out;
	}
	if (req.checkpoint && *req.checkpoint) {
		svc_reply(k, SV_UNIMPLEMENTED, "restore from a checkpoint: not implemented", NULL, NULL);
		goto out;
	}
	/* containerd's runc options: ShimCgroup was `start`'s; the rest, runc_options.c */
	err = runc_options_from_any(req.has_options ? req.options.type_url : NULL,
				    req.options.value ? req.options.value->bytes : NULL,
				    req.options.value ? req.options.value->size : 0, &ro);
	if (err < 0) {
		svc_reply(k, SV_INVALID_ARGUMENT, err == -EILSEQ ? "runc options: a string holds a "
			  "NUL byte: invalid argument" : "runc options: cannot be decoded: invalid "
			  "argument", NULL, NULL);
		goto out;
	}
	if (runc_options_refused(&ro, msg, sizeof(msg)) > 0) {
		svc_reply(k, SV_UNIMPLEMENTED, msg, NULL, NULL);
		goto out;
	}
	t = wtask_new(&req);
	if (!t || !t->bundle || !t->init.in || !t->init.out || !t->init.err) {
		svc_reply(k, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
		goto fail;
	}
	t->bundle_fd = open(t->bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t->bundle_fd < 0) {
		svc_reply_errno(k, -errno, "open bundle");
		goto fail;
	}
	err = rootfs_mount(t, req.rootfs, req.rootfs_count);
	if (err < 0) {
		svc_reply_errno(k, err, "mount rootfs");
		goto fail;
	}
	cfg = openat(t->bundle_fd, SV_BUNDLE_CONFIG, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (cfg < 0) {
		svc_reply_errno(k, -errno, "open " SV_BUNDLE_CONFIG);
		goto fail;
	}
	err = pio_open(&t->init.io, &(struct pio_names){ t->init.in, t->init.out, t->init.err,
		       t->init.terminal, t->id, w->o.ns }, stdio);
	if (err < 0) {
		svc_reply_errno(k, err, "open stdio");
		goto fail;
	}
	t->io_uid = ro.io_uid;
	t->io_gid = ro.io_gid;
	if (!ro.no_new_keyring)
		snprintf(t->keyring, sizeof(t->keyring), SV_KEYRING_PREFIX "%s", t->id);
	if ((ro.io_uid || ro.io_gid) && (err = runc_io_chown(stdio, 3, ro.io_uid, ro.io_gid)) < 0) {
		svc_reply_errno(k, err, "stdio pipes to IoUid/IoGid");
		goto fail;
	}
	if (t->init.io.logger_ready >= 0) {
		/* its binary:// logger is starting: the loop spawns the init once it is ready */
		t->init.hold[0] = cfg;
		memcpy(t->init.hold + 1, stdio, sizeof(stdio));
		proc_born(&t->init, PS_OPENING);
	} else {
		err = proc_spawn_init(w, t, cfg, stdio);
		if (err < 0) {
			svc_reply_errno(k, err, "start shimvisor-init");
			goto fail;
		}
		close(cfg);
		for (i = 0; i < 3; i++)
			close(stdio[i]);
		proc_born(&t->init, PS_CREATING);
	}
	t->init.create_rep = (struct pending){ k->c->cid, k->stream };
	w->task = t;
	goto out;
fail:
	if (cfg >= 0)
		close(cfg);
	for (i = 0; i < 3; i++)
		if (stdio[i] >= 0)
			close(stdio[i]);
	if (t)
		wtask_free(w, t);
out:
	sv_pb_free(sv_RuncOptions_fields, &ro);
	sv_pb_free(sv_CreateTaskRequest_fields, &req);
}

static void wm_start(struct call *k)
{
	sv_StartRequest req;
	struct wtask *t;
	struct proc *p;

	if (svc_decode(k, sv_StartRequest_fields, &req) < 0 ||
	    !(p = svc_proc(k, req.id, req.exec_id, &t)))
		return;
	proc_event(k->w, t, p, &(struct pev){ .type = PE_START, .k = k });
}

static void wm_state(struct call *k)
{
	sv_StateRequest req;
	sv_StateResponse r;
	struct wtask *t;
	struct proc *p;

	if (svc_decode(k, sv_StateRequest_fields, &req) < 0 ||
	    !(p = svc_proc(k, req.id, req.exec_id, &t)))
		return;
	memset(&r, 0, sizeof(r));
	memcpy(r.id, p == &t->init ? t->id : p->exec_id, sizeof(r.id));
	r.bundle = t->bundle;
	r.pid = (uint32_t)(p->pid > 0 ? p->pid : 0);
	r.status = proc_task_status(t, p);
	if (t->paused && r.status == sv_TaskStatus_RUNNING)
		r.status = sv_TaskStatus_PAUSED;
	r.stdin = p->in;
	r.stdout = p->out;
	r.stderr = p->err;
	r.terminal = p->terminal;
	if (r.status == sv_TaskStatus_STOPPED) {
		r.exit_status = (uint32_t)p->exit_status;
		r.has_exited_at = true;
		r.exited_at.seconds = p->exited_at.tv_sec;
		r.exited_at.nanos = (int32_t)p->exited_at.tv_nsec;
	}
	svc_reply(k, SV_OK, NULL, sv_StateResponse_fields, &r);
}

static void wm_wait(struct call *k)
{
	sv_WaitRequest req;
	struct wtask *t;
	struct proc *p;

	if (svc_decode(k, sv_WaitRequest_fields, &req) < 0 ||
	    !(p = svc_proc(k, req.id, req.exec_id, &t)))
		return;
	if (p->state == PS_STOPPED) {
		sv_WaitResponse r = { .exit_status = (uint32_t)p->exit_status, .has_exited_at = true,
			.exited_at = { p->exited_at.tv_sec, (int32_t)p->exited_at.tv_nsec } };

		svc_reply(k, SV_OK, NULL, sv_WaitResponse_fields, &r);
		return;
	}
	svc_add_waiter(k, p);
}

static void wm_delete(struct call *k)
{
	sv_DeleteRequest req;
	struct wtask *t;
	struct proc *p;

	if (svc_decode(k, sv_DeleteRequest_fields, &req) < 0 ||
	    !(p = svc_proc(k, req.id, req.exec_id, &t)))
		return;
	proc_event(k->w, t, p, &(struct pev){ .type = PE_DELETE, .k = k });
}

static void wm_connect(struct call *k)
{
	sv_ConnectRequest req;
	sv_ConnectResponse r;

	if (svc_decode(k, sv_ConnectRequest_fields, &req) < 0)
		return;
	memset(&r, 0, sizeof(r));
	r.shim_pid = (uint32_t)getpid();
	if (k->w->task && k->w->task->init.pid > 0)
		r.task_pid = (uint32_t)k->w->task->init.pid;
	svc_reply(k, SV_OK, NULL, sv_ConnectResponse_fields, &r);
}

static void wm_shutdown(struct call *k)
{
	struct worker *w = k->w;
	sv_ShutdownRequest req;

	if (svc_decode(k, sv_ShutdownRequest_fields, &req) < 0)
		return;
	svc_reply(k, SV_OK, NULL, NULL, NULL);
	if (!w->task && !w->exiting) {
		w->exiting = true;
		w->exit_deadline_ms = sv_now_ms() + W_EXIT_GRACE_MS;
	}
}

/* The methods: a name (inline: no pointer to relocate at load) and, at the same index, its
 * function. */
#define METHODS(M) \
	M(Create, wm_create) M(Start, wm_start) M(State, wm_state) M(Kill, wm_kill) \
	M(Wait, wm_wait) M(Delete, wm_delete) M(Pids, wm_pids) M(Connect, wm_connect) \
	M(Shutdown, wm_shutdown) M(Exec, wm_exec) M(CloseIO, wm_close_io) \
	M(ResizePty, wm_resize_pty) M(Pause, wm_pause) M(Resume, wm_resume) \
	M(Update, wm_update) M(Stats, wm_stats) M(Checkpoint, wm_checkpoint)
#define METHOD_NAME(name, fn) #name,
#define METHOD_FN(name, fn) fn,
SV_NAMES_BEGIN
static const char method_names[][12] = { METHODS(METHOD_NAME) };
SV_NAMES_END
static void (*const method_fns[])(struct call *k) = { METHODS(METHOD_FN) };

void wtask_dispatch(struct worker *w, struct wconn *c, uint32_t stream, const char *method,
		   const uint8_t *payload, size_t len)
{
	struct call k = { w, c, stream, payload, len };
	char msg[160];
	size_t i;

	for (i = 0; i < sizeof(method_fns) / sizeof(method_fns[0]); i++) {
		if (strcmp(method_names[i], method) == 0) {
			sv_debug("%s (stream %u)", method, stream);
			method_fns[i](&k);
			return;
		}
	}
	snprintf(msg, sizeof(msg), "method %.100s", method);
	svc_reply(&k, SV_UNIMPLEMENTED, msg, NULL, NULL);
}

static void forget_in(struct worker *w, struct proc *p, uint64_t cid)
{
	/* a Delete under way completes all the same (delete_rep: no one to tell) */
	struct pending *owed[] = { &p->create_rep, &p->start_rep };
	size_t i, j;

	for (i = 0; i < sizeof(owed) / sizeof(owed[0]); i++)
		if (owed[i]->cid == cid)
			owed[i]->cid = 0;
	for (i = j = 0; i < p->nwaiters; i++) {
		if (p->waiters[i].cid == cid)
			w->npending_total--;
		else
			p->waiters[j++] = p->waiters[i];
	}
	p->nwaiters = j;
}

/* A connection went away: its deferred replies have no one to go to. */
void wtask_forget_conn(struct worker *w, uint64_t cid)
{
	struct wtask *t = w->task;
	struct proc *p;

	if (!t)
		return;
	forget_in(w, &t->init, cid);
	for (p = t->execs; p; p = p->next)
		forget_in(w, p, cid);
	if (t->update_rep.cid == cid)
		t->update_rep.cid = 0;
}

/* A Delete of cid's waits for its process's reap: nothing more is read from cid until it is
 * answered, so that its replies keep the order of its requests (a Shutdown sent right
 * behind a Delete comes after it, as when Delete was answered at once). */
bool wtask_holds_conn(const struct worker *w, uint64_t cid)
{
	const struct wtask *t = w->task;
	const struct proc *p;

	if (!t)
		return false;
	for (p = &t->init; p; p = p == &t->init ? t->execs : p->next)
		if (p->delete_rep.cid == cid)
			return true;
	return false;
}
