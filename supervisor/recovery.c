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
	task_count_unknown(e, t);
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
		sv_ConnectRequest cq = { 0 };
		snprintf(cq.id, sizeof(cq.id), "%s", t->id);
		link_call(e, t, W_CONNECT, "Connect", sv_ConnectRequest_fields, &cq, nobody,
			  e->cfg->reattach_timeout_ms);
	}
}
