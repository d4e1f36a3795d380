/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/recovery.c: after a (re)start, the tasks whose workers outlived the last
 * daemon. The monitor walks <state> (the engine opens nothing there: monitor_scan.c) and
 * answers one MonFound per bundle; here each becomes a task: re-attached over the socket
 * the monitor connected (a Connect call with its own deadline, so the loop never blocks),
 * cleaned up when its worker is dead, rolled back when its create was never committed
 * (never listed), or listed unknown when it could not be reached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/log.h"
#include "engine.h"
#include "wire/bytes.h"

void recovery_scan(struct engine *e)
{
	sv_MonRequest rq = { .which_op = sv_MonRequest_scan_tag };

	if (mon_send(e, NULL, &rq) == 0)
		e->scan_pending = true;     /* readiness and clients wait for MonScanned */
}

void recovery_found(struct engine *e, const char *ns, const char *id,
		    const sv_MonFound *f, int link_fd)
{
	struct task *t;

	if (task_find(e, ns, id) || !(t = task_new(e, ns, id))) {
		if (link_fd >= 0)
			close(link_fd);
		return;
	}
	t->adopted = true;
	t->st = TS_UNKNOWN;
	t->bundle = strdup(f->bundle ? f->bundle : "");
	if (f->summary && f->summary->size && !f->rollback)    /* (size checked: engine_replies.c) */
		t->summary = sv_bytes_new(f->summary->bytes, f->summary->size);
	if (f->has_restart && !f->rollback) {
		struct sv_restart r = { .kind = f->restart.kind, .max = f->restart.max,
					.count = f->restart.count, .stopped = f->restart.stopped,
					.auto_remove = f->restart.auto_remove };
		task_set_restart(e, t, &r);
	}
	if (f->rollback) {
		sv_info("task %s/%s: found at start, its create not committed: rolled back", t->ns, t->id);
		task_fire(e, t, TE_ROLLED_BACK, NULL);
	} else if (f->dead) {
		sv_info("task %s/%s: found at start, its worker gone: cleaning up", t->ns, t->id);
		task_worker_gone(e, t);
	} else if (link_fd < 0 || link_open(e, t, link_fd) < 0) {
		/* listed as unknown, left running; a restart with room re-attaches it */
		sv_warn("re-attach %s/%s: no link to its worker (out of fds?); left as it is, running",
			t->ns, t->id);
	} else {
		t->reattach = RA_QUEUED;
		sv_dlist_append(&e->ra_queue, &t->ra_link);
		if (!e->ra_found++) {
			e->ra_started_ms = sv_now_ms();
			e->ra_progress.kind = TM_PROGRESS;
			(void)sv_timer_arm(&e->timers, &e->ra_progress, e->ra_started_ms + 1000);
		}
	}
}

static void dequeue(struct engine *e, struct task *t)
{
	sv_dlist_remove(&e->ra_queue, &t->ra_link);
}

void recovery_pump(struct engine *e)
{
	/* the scan first: it alone holds the clients back, and calls sent meanwhile wake
	 * workers that compete with it for the CPUs (10,000 tasks on 2 CPUs: clients served
	 * 2.2 s after the start with the calls sent during the scan, 1.5 s without) */
	if (e->scan_pending)
		return;
	while (e->ra_queue.head && e->ra_inflight < SV_REATTACH_INFLIGHT) {
		struct task *t = sv_container_of(e->ra_queue.head, struct task, ra_link);
		sv_ConnectRequest cq = { 0 };
		sv_StateRequest sq = { 0 };
		sv_WaitRequest wq = { 0 };

		dequeue(e, t);
		t->reattach = RA_SENT;
		e->ra_inflight++;
		snprintf(cq.id, sizeof(cq.id), "%s", t->id);
		snprintf(sq.id, sizeof(sq.id), "%s", t->id);
		snprintf(wq.id, sizeof(wq.id), "%s", t->id);
		/* all three at once: the worker answers them in order, Connect and State in one
		 * wake-up; Wait stays outstanding until the task exits (at once if it exited
		 * while we were down: the State's exit came first, this one is ignored). A link
		 * gone meanwhile fails the calls, and its close ends the task's re-attach. */
		if (!link_call(e, t, W_CONNECT, "Connect", sv_ConnectRequest_fields, &cq, nobody,
			       e->cfg->reattach_timeout_ms) ||
		    !link_call(e, t, W_STATE, "State", sv_StateRequest_fields, &sq, nobody,
			       e->cfg->reattach_timeout_ms) ||
		    !link_call(e, t, W_WAIT, "Wait", sv_WaitRequest_fields, &wq, nobody, 0))
			recovery_done(e, t, false);
	}
}

void recovery_done(struct engine *e, struct task *t, bool late)
{
	if (t->reattach == RA_QUEUED)
		dequeue(e, t);
	else if (t->reattach == RA_SENT)
		e->ra_inflight--;
	else
		return;
	t->reattach = RA_NONE;
	e->ra_done++;
	e->ra_late += late;
	recovery_check_over(e);
}

void recovery_check_over(struct engine *e)
{
	if (!recovery_over(e) || !e->ra_found || e->ra_reported)
		return;
	e->ra_reported = true;
	sv_timer_cancel(&e->timers, &e->ra_progress);
	if (e->ra_late)
		sv_warn("re-attach: %zu of %zu workers gave no answer within %d ms; still waiting "
			"for them (listed unknown)", e->ra_late, e->ra_found, e->cfg->reattach_timeout_ms);
	sv_info("re-attach: %zu tasks in %lld ms", e->ra_found,
		(long long)(sv_now_ms() - e->ra_started_ms));
}

bool recovery_over(const struct engine *e)
{
	return !e->scan_pending && !e->ra_queue.head && !e->ra_inflight;
}

void recovery_progress(struct engine *e)
{
	if (recovery_over(e))
		return;
	sv_notice("re-attach: %zu of %zu tasks done, %zu in flight, %zu queued, %zu late",
		  e->ra_done, e->ra_found, e->ra_inflight, e->ra_found - e->ra_done - e->ra_inflight,
		  e->ra_late);
	(void)sv_timer_arm(&e->timers, &e->ra_progress, sv_now_ms() + 1000);
}
