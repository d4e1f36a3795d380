/* SPDX-License-Identifier: Apache-2.0 */
/* worker/service.h: what the containerd.task.v2.Task method files share: one call's context,
 * replies, payload decoding and the (id, exec_id) lookup. */
#ifndef SV_WORKER_SERVICE_H
#define SV_WORKER_SERVICE_H
#include <stddef.h>
#include <stdint.h>
#include <pb.h>
#include "worker.h"

struct call {
	struct worker *w;
	struct wconn *c;
	uint32_t stream;
	const uint8_t *payload;
	size_t len;
};

#define MSG_NOT_CREATED "container not created: not found"
#define MSG_FINISHED    "process already finished: not found"

void svc_reply(struct call *k, int code, const char *msg, const pb_msgdesc_t *f, const void *m);
void svc_reply_errno(struct call *k, int err, const char *what);
/* Decode the payload; on failure reply INTERNAL and return -EBADMSG. */
int svc_decode(struct call *k, const pb_msgdesc_t *f, void *m);
/* The task named id, or NULL after replying NOT_FOUND. */
struct wtask *svc_task(struct call *k, const char *id);
/* The process (id, exec_id) names ("" = the init), or NULL after replying NOT_FOUND. */
struct proc *svc_proc(struct call *k, const char *id, const char *exec_id, struct wtask **tp);
/* Queue a deferred reply in p's Wait list; false after replying an error. */
bool svc_add_waiter(struct call *k, struct proc *p);

/* svc_control.c */
void wm_kill(struct call *k);
/* Kill's delivery to a process with a pid (the lifecycle table decides when). */
void svc_signal(struct call *k, struct wtask *t, struct proc *p, int sig, bool all);
void wm_pids(struct call *k);
void wm_exec(struct call *k);
void wm_close_io(struct call *k);
void wm_resize_pty(struct call *k);
void wm_pause(struct call *k);
void wm_resume(struct call *k);
void wm_update(struct call *k);
void wm_stats(struct call *k);
void wm_checkpoint(struct call *k);

#endif
