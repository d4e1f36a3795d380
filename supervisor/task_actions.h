/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/task_actions.h: inside the engine's lifecycle table: the actions that live
 * outside task_actions.c (the restart policy's, task_restart.c) and the steps they share. */
#ifndef SV_SUP_TASK_ACTIONS_H
#define SV_SUP_TASK_ACTIONS_H
#include "engine.h"

typedef void task_action(struct engine *e, struct task *t, const struct task_ev *a);

/* task_actions.c: steps of several actions */
void shutdown_worker(struct engine *e, struct task *t, int timeout_ms);
/* The worker's Delete, then its Shutdown (none without a link). */
void begin_delete(struct engine *e, struct task *t);
/* The init's exit, once: recorded, published (env: the worker's own event), waiters told. */
void exit_record(struct engine *e, struct task *t, uint32_t status, const sv_Timestamp *at,
		 const sv_Envelope *env);
/* The task has stopped for good: state stopped, or (auto_remove) its delete begun. */
void stopped_or_removed(struct engine *e, struct task *t);
/* The worker is gone (or going): st waits for the cleanup of its bundle. */
void await_cleanup(struct engine *e, struct task *t, enum task_state st, bool dead);
/* A new worker (spawned): our link to it opened; 0 or -errno. */
int take_worker(struct engine *e, struct task *t, const struct task_ev *a);
/* The worker's Create: stdio from cr, or (cr NULL or detached) the bundle's log. */
void send_create(struct engine *e, struct task *t, const sv_CtlCreateRequest *cr,
		 struct reply_to rt);

/* task_restart.c: the restart policy's actions (task_table.h's cells) */
task_action kill_relay, kill_backoff, kill_restart, exit_run, restart_stop, restart_abort,
	    respawn, respawned, respawn_failed, recreated, recreate_failed, restarted,
	    exit_restart, restart_now;

#endif
