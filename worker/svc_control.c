/* SPDX-License-Identifier: Apache-2.0 */
/* worker/svc_control.c: containerd.task.v2.Task: signals, processes and execs, stdio control,
 * and the cgroup-backed methods (Kill, Pids, Exec, CloseIO, ResizePty, Pause, Resume, Update,
 * Stats, Checkpoint). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "common/log.h"
#include "common/procfs.h"
#include "wire/bytes.h"
#include "wire/fdchan.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "init.pb.h"
#include "task.pb.h"
#include "cgroup.h"
#include "service.h"

#define W_MAX_EXECS 256
#define FREEZE_TIMEOUT_MS 2000

/* Its init created or running (Pause, Resume, Update). */
static bool init_live(const struct wtask *t)
{
	uint32_t st = proc_task_status(t, &t->init);

	return st == sv_TaskStatus_CREATED || st == sv_TaskStatus_RUNNING;
}

static int kill_all(struct wtask *t, int sig)
{
	pid_t *pids = NULL;
	size_t n = 0, i;
	int err;

	/* SIGKILL of a pid namespace's init makes the kernel kill everything else in it:
	 * no need to walk /proc (which costs O(every process on the host)) */
	if (sig == SIGKILL && t->own_pidns && t->pidns)
		return kill(t->init.pid, sig) < 0 ? -errno : 0;
	if (t->cg)
		return wcg_signal_all(t->cg, sig);
	if (!t->own_pidns || !t->pidns)
		return kill(t->init.pid, sig) < 0 ? -errno : 0;
	err = sv_proc_scan_ns(t->pidns, &pids, &n);
	for (i = 0; !err && i < n; i++)
		kill(pids[i], sig);
	free(pids);
	return err;
}

void wm_kill(struct call *k)
{
	sv_KillRequest req;
	struct wtask *t;
	struct proc *p;

	if (svc_decode(k, sv_KillRequest_fields, &req) < 0 ||
	    !(p = svc_proc(k, req.id, req.exec_id, &t)))
		return;
	proc_event(k->w, t, p, &(struct pev){ .type = PE_KILL, .k = k, .sig = (int)req.signal,
					     .all = req.all });
}

void svc_signal(struct call *k, struct wtask *t, struct proc *p, int sig, bool all)
{
	int err;

	if (sig <= 0 || sig > 64) {
		svc_reply(k, SV_INVALID_ARGUMENT, "invalid signal: invalid argument", NULL, NULL);
		return;
	}
	if (all && p == &t->init)
		err = kill_all(t, sig);
	else
		err = kill(p->pid, sig) < 0 ? -errno : 0;
	/* a frozen task only dies once thawed */
	if (err == 0 && p == &t->init && t->paused && (sig == SIGKILL || sig == SIGTERM) &&
	    wcg_freeze(t->cg, false, FREEZE_TIMEOUT_MS) == 0)
		t->paused = false;
	if (err == -ESRCH)
		svc_reply(k, SV_NOT_FOUND, MSG_FINISHED, NULL, NULL);
	else if (err < 0)
		svc_reply_errno(k, err, "kill");
	else
		svc_reply(k, SV_OK, NULL, NULL, NULL);
}

/* ProcessInfo.info for an exec's pid: containerd.runc.v1.ProcessDetails{exec_id}. */
static int exec_info(sv_ProcessInfo *pi, const struct proc *p)
{
	sv_ProcessDetails d;
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	memset(&d, 0, sizeof(d));
	memcpy(d.exec_id, p->exec_id, sizeof(d.exec_id));
	err = sv_pb_encode(sv_ProcessDetails_fields, &d, &buf, &len);
	if (err < 0)
		return err;
	pi->has_info = true;
	pi->info.type_url = (char *)"containerd.runc.v1.ProcessDetails";
	pi->info.value = sv_bytes_new(buf, len);
	free(buf);
	return pi->info.value ? 0 : -ENOMEM;
}

void wm_pids(struct call *k)
{
	sv_PidsRequest req;
	sv_PidsResponse r;
	struct wtask *t;
	struct proc *p;
	pid_t *pids = NULL;
	size_t n = 0, i;
	int err;

	if (svc_decode(k, sv_PidsRequest_fields, &req) < 0 || !(t = svc_task(k, req.id)))
		return;
	memset(&r, 0, sizeof(r));
	err = wtask_pids(t, &pids, &n);
	if (err < 0) {
		svc_reply_errno(k, err, "list processes");
		return;
	}
	if (n && !(r.processes = calloc(n, sizeof(*r.processes)))) {
		svc_reply(k, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
		goto out;
	}
	for (i = 0; i < n; i++) {
		r.processes[i].pid = (uint32_t)pids[i];
		for (p = t->execs; p; p = p->next)
			if (p->pid == pids[i] && exec_info(&r.processes[i], p) < 0)
				break;
	}
	r.processes_count = (pb_size_t)n;
	svc_reply(k, SV_OK, NULL, sv_PidsResponse_fields, &r);
	for (i = 0; i < n; i++)
		free(r.processes[i].info.value);
	free(r.processes);
out:
	free(pids);
}

void wm_exec(struct call *k)
{
	struct worker *w = k->w;
	sv_ExecProcessRequest req;
	sv_TaskExecAdded ev;
	struct wtask *t;
	struct proc *p = NULL;
	uint32_t init_st;
	char msg[200];

	if (svc_decode(k, sv_ExecProcessRequest_fields, &req) < 0)
		return;
	if (!(t = svc_task(k, req.id)))
		goto out;
	if (!req.exec_id[0] || wtask_find_exec(t, req.exec_id)) {
		snprintf(msg, sizeof(msg), "id %.80s: %s", req.exec_id,
			 req.exec_id[0] ? "already exists" : "an exec id is required: invalid argument");
		svc_reply(k, req.exec_id[0] ? SV_ALREADY_EXISTS : SV_INVALID_ARGUMENT, msg, NULL, NULL);
		goto out;
	}
	init_st = proc_task_status(t, &t->init);
	if (init_st == sv_TaskStatus_STOPPED || init_st == sv_TaskStatus_UNKNOWN || t->paused) {
		svc_reply(k, SV_FAILED_PRECONDITION, t->paused ? "the task is paused: failed precondition" :
			  "the task is not running: failed precondition", NULL, NULL);
		goto out;
	}
	if (!req.has_spec || !req.spec.value || !req.spec.value->size ||
	    (req.spec.type_url && *req.spec.type_url && strcmp(req.spec.type_url, SV_OCI_PROCESS_URL))) {
		svc_reply(k, SV_INVALID_ARGUMENT, "exec spec: an OCI Process is required: invalid argument",
			  NULL, NULL);
		goto out;
	}
	if (t->nexecs >= W_MAX_EXECS) {
		svc_reply(k, SV_RESOURCE_EXHAUSTED, "too many execs", NULL, NULL);
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto nomem;
	p->sync_fd = -1;
	memset(p->hold, -1, sizeof(p->hold));
	pio_init(&p->io);
	memcpy(p->exec_id, req.exec_id, sizeof(p->exec_id));
	p->terminal = req.terminal;
	p->in = strdup(req.stdin ? req.stdin : "");
	p->out = strdup(req.stdout ? req.stdout : "");
	p->err = strdup(req.stderr ? req.stderr : "");
	p->spec = malloc(req.spec.value->size);
	if (!p->in || !p->out || !p->err || !p->spec)
		goto nomem;
	memcpy(p->spec, req.spec.value->bytes, req.spec.value->size);
	p->spec_len = req.spec.value->size;
	proc_born(p, PS_CREATED);
	p->next = t->execs;
	t->execs = p;
	t->nexecs++;
	svc_reply(k, SV_OK, NULL, NULL, NULL);
	memset(&ev, 0, sizeof(ev));
	memcpy(ev.container_id, t->id, sizeof(ev.container_id));
	memcpy(ev.exec_id, p->exec_id, sizeof(ev.exec_id));
	wev_publish(w, "/tasks/exec-added", "containerd.events.TaskExecAdded", sv_TaskExecAdded_fields, &ev);
	goto out;
nomem:
	svc_reply(k, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
	if (p) {
		proc_free(w, p);
		free(p);
	}
out:
	sv_pb_free(sv_ExecProcessRequest_fields, &req);
}

void wm_close_io(struct call *k)
{
	sv_CloseIORequest req;
	struct wtask *t;
	struct proc *p;

	if (svc_decode(k, sv_CloseIORequest_fields, &req) < 0 ||
	    !(p = svc_proc(k, req.id, req.exec_id, &t)))
		return;
	if (req.stdin)
		pio_close_stdin(&p->io);
	svc_reply(k, SV_OK, NULL, NULL, NULL);
}

void wm_resize_pty(struct call *k)
{
	sv_ResizePtyRequest req;
	struct wtask *t;
	struct proc *p;
	struct winsize ws;

	if (svc_decode(k, sv_ResizePtyRequest_fields, &req) < 0 ||
	    !(p = svc_proc(k, req.id, req.exec_id, &t)))
		return;
	/* as runc-v2, whose clients call it unconditionally: without a terminal (or before
	 * an exec's is made), a success that does nothing */
	if (p->io.console < 0) {
		svc_reply(k, SV_OK, NULL, NULL, NULL);
		return;
	}
	memset(&ws, 0, sizeof(ws));
	ws.ws_col = (unsigned short)(req.width > 0xffff ? 0xffff : req.width);
	ws.ws_row = (unsigned short)(req.height > 0xffff ? 0xffff : req.height);
	if (ioctl(p->io.console, TIOCSWINSZ, &ws) < 0)
		svc_reply_errno(k, -errno, "resize pty");
	else
		svc_reply(k, SV_OK, NULL, NULL, NULL);
}

/* Freeze or thaw the task's cgroup, answer rep, tell the event. */
static void freeze_reply(struct worker *w, struct wtask *t, struct pending *rep, bool pause)
{
	int err = wcg_freeze(t->cg, pause, FREEZE_TIMEOUT_MS);
	char msg[64];

	if (err < 0) {
		if (pause)
			wcg_freeze(t->cg, false, FREEZE_TIMEOUT_MS);
		snprintf(msg, sizeof(msg), "%s: %s", pause ? "freeze" : "thaw", strerror(-err));
		w_reply_pending(w, rep, sv_code_from_errno(err), msg, NULL, NULL);
		return;
	}
	t->paused = pause;
	w_reply_pending(w, rep, SV_OK, NULL, NULL, NULL);
	if (pause) {
		sv_TaskPaused ev;

		memset(&ev, 0, sizeof(ev));
		memcpy(ev.container_id, t->id, sizeof(ev.container_id));
		wev_publish(w, "/tasks/paused", "containerd.events.TaskPaused", sv_TaskPaused_fields, &ev);
	} else {
		sv_TaskResumed ev;

		memset(&ev, 0, sizeof(ev));
		memcpy(ev.container_id, t->id, sizeof(ev.container_id));
		wev_publish(w, "/tasks/resumed", "containerd.events.TaskResumed", sv_TaskResumed_fields, &ev);
	}
}

/* Whether a lazy cgroup may be made now: no other update runs, and no exec's init is on its
 * way into the task (it would land outside the cgroup); else answered. */
static bool lazy_ready(struct call *k, const struct wtask *t)
{
	const struct proc *p;

	if (t->update_pid) {
		svc_reply(k, SV_UNAVAILABLE, "another update is in progress: unavailable", NULL, NULL);
		return false;
	}
	for (p = t->execs; p; p = p->next)
		if (p->state == PS_PREPARING) {
			svc_reply(k, SV_UNAVAILABLE, "an exec is starting in the task: try again: "
				  "unavailable", NULL, NULL);
			return false;
		}
	return true;
}

static void pause_resume(struct call *k, const char *id, bool pause)
{
	struct wtask *t = svc_task(k, id);
	struct pending rep;
	int err;

	if (!t)
		return;
	if (!init_live(t)) {
		svc_reply(k, SV_FAILED_PRECONDITION, "the task is not running: failed precondition",
			  NULL, NULL);
		return;
	}
	if (t->paused == pause) {
		svc_reply(k, SV_FAILED_PRECONDITION, pause ? "the task is already paused: failed precondition" :
			  "the task is not paused: failed precondition", NULL, NULL);
		return;
	}
	rep = (struct pending){ k->c->cid, k->stream };
	if (pause && (!t->cg || t->cg_partial)) {
		/* its first cgroup (its config.json keeps one for later), then the freeze */
		if (!lazy_ready(k, t))
			return;
		err = proc_spawn_update(k->w, t, "{}", 2, true);
		if (err < 0) {
			svc_reply_errno(k, err, "pause");
			return;
		}
		t->update_rep = rep;
		t->update_pause = true;
		return;
	}
	freeze_reply(k->w, t, &rep, pause);
}

void wm_pause(struct call *k)
{
	sv_PauseRequest req;

	if (svc_decode(k, sv_PauseRequest_fields, &req) == 0)
		pause_resume(k, req.id, true);
}

void wm_resume(struct call *k)
{
	sv_ResumeRequest req;

	if (svc_decode(k, sv_ResumeRequest_fields, &req) == 0)
		pause_resume(k, req.id, false);
}

void wm_update(struct call *k)
{
	sv_UpdateTaskRequest req;
	struct wtask *t;
	bool lazy;
	int err;

	if (svc_decode(k, sv_UpdateTaskRequest_fields, &req) < 0)
		return;
	if (!(t = svc_task(k, req.id)))
		goto out;
	if (!init_live(t)) {
		svc_reply(k, SV_FAILED_PRECONDITION, "the task is not running: failed precondition",
			  NULL, NULL);
		goto out;
	}
	if (!req.has_resources || !req.resources.value || !req.resources.value->size) {
		svc_reply(k, SV_OK, NULL, NULL, NULL);     /* annotations only: nothing to do */
		goto out;
	}
	if (req.resources.type_url && *req.resources.type_url &&
	    strcmp(req.resources.type_url, SV_OCI_RESOURCES_URL)) {
		svc_reply(k, SV_INVALID_ARGUMENT, "update: resources must be OCI LinuxResources: invalid argument",
			  NULL, NULL);
		goto out;
	}
	lazy = !t->cg || t->cg_partial;     /* its first cgroup, made by the init first */
	if (lazy ? !lazy_ready(k, t) : t->update_pid != 0) {
		if (!lazy)
			svc_reply(k, SV_UNAVAILABLE, "another update is in progress: unavailable",
				  NULL, NULL);
		goto out;
	}
	err = proc_spawn_update(k->w, t, req.resources.value->bytes, req.resources.value->size,
				lazy);
	if (err < 0) {
		svc_reply_errno(k, err, "update");
		goto out;
	}
	t->update_rep = (struct pending){ k->c->cid, k->stream };
out:
	sv_pb_free(sv_UpdateTaskRequest_fields, &req);
}

/* `shimvisor-init --update` was reaped: 0 is success, otherwise its ERROR says why. A lazy
 * one leaves the task a cgroup (whole, or half-moved on a failure: then the next Pause or
 * Update goes on); a Pause that waited for it freezes now. */
void wtask_update_done(struct worker *w, struct wtask *t, int wstatus)
{
	char msg[512] = "update: shimvisor-init failed";
	int fds[FDCHAN_MAX_FDS], nfds = 0, i, code = SV_UNKNOWN;
	bool ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
	const char *what = t->update_pause ? "pause" : "update";
	uint8_t buf[4096];
	sv_InitSync m;

	if (!ok && fdchan_recv_buf(t->update_fd, sv_InitSync_fields, &m, fds, &nfds, MSG_DONTWAIT,
				   buf, sizeof(buf)) == 1) {
		if (m.message && *m.message)
			snprintf(msg, sizeof(msg), "%s: %s", what, m.message);
		/* no cgroup to make (none kept for later, the host's pid namespace); a task
		 * that forked too fast to be moved */
		if (t->update_lazy && (m.err == ENOENT || m.err == EOPNOTSUPP))
			code = SV_FAILED_PRECONDITION;
		else if (t->update_lazy && m.err == EAGAIN)
			code = SV_UNAVAILABLE;
		sv_pb_free(sv_InitSync_fields, &m);
		for (i = 0; i < nfds; i++)
			close(fds[i]);
	}
	close(t->update_fd);
	t->update_fd = -1;
	t->update_pid = 0;
	if (t->update_lazy) {
		t->update_lazy = false;
		if (!t->cg)
			wtask_cgroup_attach(w, t);      /* the init's cgroups, recorded */
		if (!t->cg) {
			int err;

			/* made but the init not moved yet: as the init recorded them */
			t->cg = wcg_load(t->bundle_fd, &err);
		}
		t->cg_partial = !ok && t->cg;
	}
	if (ok && t->update_pause && !t->cg) {
		ok = false;
		snprintf(msg, sizeof(msg), "pause: the task's cgroup was not found after it was made");
	}
	if (!ok)
		w_reply_pending(w, &t->update_rep, code, msg, NULL, NULL);
	else if (t->update_pause)
		freeze_reply(w, t, &t->update_rep, true);
	else
		w_reply_pending(w, &t->update_rep, SV_OK, NULL, NULL, NULL);
	t->update_pause = false;
}

void wm_stats(struct call *k)
{
	sv_StatsRequest req;
	sv_StatsResponse r;
	struct wtask *t;
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	if (svc_decode(k, sv_StatsRequest_fields, &req) < 0 || !(t = svc_task(k, req.id)))
		return;
	memset(&r, 0, sizeof(r));
	/* without a cgroup of its own: what /proc shows of its processes */
	if (t->cg) {
		err = wcg_metrics(t->cg, (const char **)&r.stats.type_url, &buf, &len);
	} else {
		r.stats.type_url = (char *)SV_PROC_METRICS_URL;
		err = wtask_proc_metrics(t, &buf, &len);
	}
	if (err < 0) {
		svc_reply_errno(k, err, "metrics");
		return;
	}
	r.has_stats = true;
	r.stats.value = sv_bytes_new(buf, len);
	free(buf);
	if (!r.stats.value)
		svc_reply(k, SV_RESOURCE_EXHAUSTED, "out of memory", NULL, NULL);
	else
		svc_reply(k, SV_OK, NULL, sv_StatsResponse_fields, &r);
	free(r.stats.value);
}

void wm_checkpoint(struct call *k)
{
	sv_CheckpointTaskRequest req;

	if (svc_decode(k, sv_CheckpointTaskRequest_fields, &req) < 0)
		return;
	svc_reply(k, SV_UNIMPLEMENTED, "checkpoint: shimvisor does not checkpoint tasks (yet)",
		  NULL, NULL);
	sv_pb_free(sv_CheckpointTaskRequest_fields, &req);
}
