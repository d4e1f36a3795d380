/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/task_table.h: the engine's task lifecycle as states x events (s6-supervise's
 * actions[state][event]) and the Control requests each state permits. */
#ifndef SV_SUP_TASK_TABLE_H
#define SV_SUP_TASK_TABLE_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Every phase of a task, from Create to its memory freed. A state says what is in flight
 * (whose answer the task waits for) and so what each event means. */
enum task_state {
	TS_SPAWNING,    /* MonSpawn out: the monitor makes the bundle and starts the worker */
	TS_CREATING,    /* the worker's Create out */
	TS_COMMITTING,  /* MonCommit out: the client's answer waits for the monitor's */
	TS_CREATED,     /* init held before exec */
	TS_RUNNING,
	TS_KILLING,     /* delete -f: killed, deleted once its exit is seen */
	TS_STOPPED,     /* exited, not deleted */
	TS_DELETING,    /* the worker's Delete (and Shutdown) out */
	TS_DELETED,     /* deleted: the worker's end and the bundle's cleanup both awaited */
	TS_DELETED_GONE,        /* deleted, worker gone: the cleanup awaited */
	TS_DELETED_CLEANED,     /* deleted, bundle removed: the worker's end awaited */
	TS_GONE,        /* the worker died: its cleanup (the recorded exit) awaited */
	TS_FAILED,      /* create failed: its worker's end awaited; invisible to clients */
	TS_ROLLBACK,    /* create undone (its commit failed): the same, cleaned as dead */
	TS_FAILED_CLEANING,     /* create failed or undone, worker gone: the cleanup awaited */
	TS_UNKNOWN,     /* found at start-up: re-attach (Connect, State) in flight */
	/* the restart policy (common/restart_policy.h): the run exited, the task goes on */
	TS_BACKOFF,     /* waiting to restart: the backoff's deadline; the old worker holds the exit */
	TS_RESTART_STOPPING,    /* the old worker's Delete and Shutdown out: its end awaited */
	TS_RESPAWNING,  /* MonSpawn (respawn) out: a new worker on the same bundle */
	TS_RECREATING,  /* the new worker's Create out */
	TS_RESTARTING,  /* its Start out */
	TS_NSTATES
};

enum task_event {
	TE_SPAWNED,         /* monitor: bundle made, worker started */
	TE_SPAWN_FAILED,
	TE_COMMITTED,       /* monitor: the create is kept */
	TE_COMMIT_FAILED,
	TE_WORKER_GONE,     /* its worker was reaped (or, re-attached, its link closed) */
	TE_CLEANED,         /* monitor: the bundle is removed */
	TE_ROLLED_BACK,     /* scan: an uncommitted create, its worker killed */
	TE_CREATED,         /* worker: Create answered */
	TE_CREATE_FAILED,
	TE_STARTED,         /* worker: init started (Start answered or /tasks/start) */
	TE_EXITED,          /* the init's exit: /tasks/exit, or a Wait answered */
	TE_DELETED,         /* worker: Delete answered (or the task was not there) */
	TE_DELETE_FAILED,
	TE_CONNECTED,       /* re-attach: Connect answered */
	TE_CONNECT_FAILED,
	TE_STATE,           /* re-attach: State answered */
	TE_REPORT_DELETE,   /* the worker's /tasks/delete reported on its link */
	TE_RESTART_DUE,     /* the restart backoff is over (the engine's timer) */
	TE_START,           /* client requests that move the lifecycle */
	TE_KILL,            /* (a client's Kill ends the restart policy) */
	TE_DELETE,
	TE_DELETE_FORCE,
	TE_RESTART,         /* a client's Restart of a stopped task (a new worker, at once) */
	TE_NEVENTS
};

/* The task-scoped Control requests, for permitted[state]. */
enum task_req {
	TR_START, TR_KILL, TR_WAIT, TR_STATE, TR_PIDS, TR_DELETE, TR_DELETE_FORCE, TR_DELETE_EXEC,
	TR_PAUSE, TR_RESUME, TR_STATS, TR_UPDATE, TR_EXEC, TR_WAIT_EXEC, TR_RESTART, TR_NREQS
};

/* The actions: one row per state, one cell per event in enum task_event's order. Expanded
 * by task_table.c into task_action_ids[][] (a byte per cell: the action's enum task_action_id)
 * and its names (the docs' table); task_actions.c maps each id to its function, so the
 * table holds no pointer (none to relocate at load, s6-supervise's layout).
 * `ignore`: a late or repeated event that changes nothing; `refused`: a request that
 * permitted[] refuses (control.c answers it before dispatch). */
#define TASK_ACTIONS(ROW) \
	ROW(TS_SPAWNING, spawned, spawn_failed, ignore, ignore, ignore, ignore, ignore, \
	    create_late, create_late, ignore, ignore, ignore, ignore, ignore, ignore, ignore, \
	    relay_report, ignore, start_queue, kill_relay, refused, refused, refused) \
	ROW(TS_CREATING, spawned_late, ignore, ignore, ignore, worker_died, ignore, ignore, \
	    worker_created, create_failed, ignore, exit_note, ignore, ignore, ignore, ignore, \
	    ignore, relay_report, ignore, start_queue, kill_relay, refused, refused, refused) \
	ROW(TS_COMMITTING, spawned_late, ignore, committed, commit_failed, died_uncommitted, \
	    ignore, ignore, create_late, create_late, ignore, exit_note, ignore, ignore, \
	    ignore, ignore, ignore, relay_report, ignore, start_queue, kill_relay, refused, \
	    refused, refused) \
	ROW(TS_CREATED, spawned_late, ignore, ignore, ignore, worker_died, ignore, ignore, \
	    create_late, create_late, started, exit_stop, ignore, ignore, connected, no_task, \
	    reattach_state, relay_report, ignore, start_relay, kill_relay, delete, delete, refused) \
	ROW(TS_RUNNING, spawned_late, ignore, ignore, ignore, worker_died, ignore, ignore, \
	    create_late, create_late, ignore, exit_run, ignore, ignore, connected, ignore, \
	    reattach_state, relay_report, ignore, start_relay, kill_relay, refused, \
	    kill_then_delete, refused) \
	ROW(TS_KILLING, spawned_late, ignore, ignore, ignore, worker_died, ignore, ignore, \
	    create_late, create_late, ignore, exit_delete, ignore, ignore, connected, ignore, \
	    reattach_state, relay_report, ignore, start_relay, kill_relay, refused, refused, refused) \
	ROW(TS_STOPPED, spawned_late, ignore, ignore, ignore, worker_died, ignore, ignore, \
	    create_late, create_late, ignore, ignore, ignore, ignore, ignore, ignore, ignore, \
	    relay_report, ignore, start_relay, refused, delete, delete, restart_now) \
	ROW(TS_DELETING, spawned_late, ignore, ignore, ignore, worker_died, ignore, ignore, \
	    create_late, create_late, ignore, exit_note, deleted, delete_failed, ignore, \
	    ignore, ignore, ignore, ignore, start_relay, refused, refused, refused, refused) \
	ROW(TS_DELETED, spawned_late, ignore, ignore, ignore, deleted_gone, cleaned_first, \
	    ignore, create_late, create_late, ignore, ignore, ignore, ignore, ignore, ignore, \
	    ignore, relay_report, ignore, refused, refused, refused, refused, refused) \
	ROW(TS_DELETED_GONE, spawned_late, ignore, ignore, ignore, ignore, finish_delete, \
	    ignore, create_late, create_late, ignore, ignore, ignore, ignore, ignore, ignore, \
	    ignore, relay_report, ignore, refused, refused, refused, refused, refused) \
	ROW(TS_DELETED_CLEANED, spawned_late, ignore, ignore, ignore, finish_delete, ignore, \
	    ignore, create_late, create_late, ignore, ignore, ignore, ignore, ignore, ignore, \
	    ignore, relay_report, ignore, refused, refused, refused, refused, refused) \
	ROW(TS_GONE, spawned_late, ignore, ignore, ignore, ignore, cleaned_dead, ignore, \
	    create_late, create_late, ignore, ignore, ignore, ignore, ignore, ignore, ignore, \
	    relay_report, ignore, refused, refused, delete_gone, delete_gone, refused) \
	ROW(TS_FAILED, spawned_late, ignore, ignore, ignore, failed_gone, ignore, ignore, \
	    create_late, create_late, ignore, exit_note, ignore, ignore, ignore, ignore, \
	    ignore, relay_report, ignore, refused, refused, refused, refused, refused) \
	ROW(TS_ROLLBACK, spawned_late, ignore, ignore, ignore, rollback_gone, ignore, ignore, \
	    create_late, create_late, ignore, exit_note, ignore, ignore, ignore, ignore, \
	    ignore, relay_report, ignore, refused, refused, refused, refused, refused) \
	ROW(TS_FAILED_CLEANING, spawned_late, ignore, ignore, ignore, ignore, end_failed, \
	    ignore, create_late, create_late, ignore, ignore, ignore, ignore, ignore, ignore, \
	    ignore, relay_report, ignore, refused, refused, refused, refused, refused) \
	ROW(TS_UNKNOWN, spawned_late, ignore, ignore, ignore, worker_died, ignore, \
	    scan_rollback, create_late, create_late, started, exit_run, ignore, ignore, \
	    connected, no_task, reattach_state, relay_report, ignore, start_relay, kill_relay, \
	    refused, refused, refused) \
	ROW(TS_BACKOFF, spawned_late, ignore, ignore, ignore, worker_died, ignore, ignore, \
	    create_late, create_late, ignore, ignore, ignore, ignore, ignore, ignore, ignore, \
	    relay_report, restart_stop, start_relay, kill_backoff, delete, delete, restart_now) \
	ROW(TS_RESTART_STOPPING, spawned_late, ignore, ignore, ignore, respawn, ignore, ignore, \
	    create_late, create_late, ignore, ignore, ignore, restart_abort, ignore, ignore, \
	    ignore, ignore, ignore, refused, kill_restart, refused, refused, refused) \
	ROW(TS_RESPAWNING, respawned, respawn_failed, ignore, ignore, ignore, ignore, ignore, \
	    create_late, create_late, ignore, ignore, ignore, ignore, ignore, ignore, ignore, \
	    ignore, ignore, refused, kill_restart, refused, refused, refused) \
	ROW(TS_RECREATING, spawned_late, ignore, ignore, ignore, worker_died, ignore, ignore, \
	    recreated, recreate_failed, ignore, ignore, ignore, ignore, ignore, ignore, ignore, \
	    ignore, ignore, refused, kill_restart, refused, refused, refused) \
	ROW(TS_RESTARTING, spawned_late, ignore, ignore, ignore, worker_died, ignore, ignore, \
	    create_late, create_late, restarted, exit_restart, ignore, ignore, ignore, ignore, \
	    ignore, relay_report, ignore, refused, kill_relay, refused, refused, refused)

/* Every action of the table, once (the restart policy's last). */
#define TASK_ACTION_LIST(X) \
	X(ignore) X(refused) X(relay_report) X(spawned) X(spawned_late) X(spawn_failed) \
	X(create_late) X(worker_created) X(create_failed) X(committed) X(commit_failed) \
	X(died_uncommitted) X(worker_died) X(deleted_gone) X(cleaned_first) X(finish_delete) \
	X(cleaned_dead) X(failed_gone) X(rollback_gone) X(end_failed) X(scan_rollback) \
	X(started) X(exit_note) X(exit_stop) X(exit_delete) X(deleted) X(delete_failed) \
	X(connected) X(no_task) X(reattach_state) X(start_queue) X(start_relay) X(delete) \
	X(kill_then_delete) X(delete_gone) \
	X(kill_relay) X(kill_backoff) X(kill_restart) X(exit_run) X(restart_stop) \
	X(restart_abort) X(respawn) X(respawned) X(respawn_failed) X(recreated) \
	X(recreate_failed) X(restarted) X(exit_restart) X(restart_now)

#define TASK_ACTION_ID(fn) TA_##fn,
enum task_action_id { TASK_ACTION_LIST(TASK_ACTION_ID) TA_NACTIONS };
#undef TASK_ACTION_ID

/* The table: task_action_ids[state][event] is the action of that cell. */
extern const uint8_t task_action_ids[TS_NSTATES][TE_NEVENTS];

/* Why a request is refused in a state: the code and message a client gets. */
struct task_refusal {
	int code;
	char msg[48];           /* inline: no pointer to relocate */
	bool with_status;       /* msg is followed by ": <status>: failed precondition" */
	bool empty_ok;          /* answered OK with an empty response (Pids of a dead task) */
};

/* NULL when st permits rq (one bit of permitted[st]); else why not. */
const struct task_refusal *task_refusal(enum task_state st, enum task_req rq);
/* Whether clients see a task in st (a failed create is being undone: not found). */
bool task_visible(enum task_state st);
const char *task_state_str(enum task_state st);
const char *task_event_str(enum task_event ev);
/* The name of the action of (st, ev), "" for none (a hole the unit test fails on). */
const char *task_action_name(enum task_state st, enum task_event ev, char *buf, size_t size);
/* The states x events table as markdown, cell = action name; then permitted[] (states x
 * requests, cell = "yes" or the refusal). */
void task_table_markdown(FILE *f);

#endif
