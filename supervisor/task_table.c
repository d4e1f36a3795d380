/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/task_table.c: the names of the task lifecycle table and the requests each
 * state permits. Depends on nothing else of the engine, so that a tool can print the table
 * (task_table_markdown) by linking this file alone. */
#include <string.h>
#include "common/names.h"
#include "task_table.h"
#include "wire/status.h"

/* The names, inline (common/names.h): no pointer to relocate at load. */
#define NAME_SIZE 24
SV_NAMES_BEGIN
static const char state_names[TS_NSTATES][NAME_SIZE] = {
	[TS_SPAWNING] = "spawning", [TS_CREATING] = "creating", [TS_COMMITTING] = "committing",
	[TS_CREATED] = "created", [TS_RUNNING] = "running", [TS_KILLING] = "killing",
	[TS_STOPPED] = "stopped", [TS_DELETING] = "deleting", [TS_DELETED] = "deleted",
	[TS_DELETED_GONE] = "deleted, worker gone", [TS_DELETED_CLEANED] = "deleted, cleaned",
	[TS_GONE] = "worker gone", [TS_FAILED] = "failed", [TS_ROLLBACK] = "rollback",
	[TS_FAILED_CLEANING] = "failed, worker gone", [TS_UNKNOWN] = "unknown",
	[TS_BACKOFF] = "waiting to restart", [TS_RESTART_STOPPING] = "restart, worker ending",
	[TS_RESPAWNING] = "respawning", [TS_RECREATING] = "recreating",
	[TS_RESTARTING] = "restarting",
};

static const char event_names[TE_NEVENTS][NAME_SIZE] = {
	[TE_SPAWNED] = "spawned", [TE_SPAWN_FAILED] = "spawn failed",
	[TE_COMMITTED] = "committed", [TE_COMMIT_FAILED] = "commit failed",
	[TE_WORKER_GONE] = "worker gone", [TE_CLEANED] = "cleaned",
	[TE_ROLLED_BACK] = "rolled back", [TE_CREATED] = "created",
	[TE_CREATE_FAILED] = "create failed", [TE_STARTED] = "started", [TE_EXITED] = "exited",
	[TE_DELETED] = "deleted", [TE_DELETE_FAILED] = "delete failed",
	[TE_CONNECTED] = "connected", [TE_CONNECT_FAILED] = "connect failed",
	[TE_STATE] = "state", [TE_REPORT_DELETE] = "/tasks/delete",
	[TE_RESTART_DUE] = "backoff over", [TE_START] = "Start", [TE_KILL] = "Kill",
	[TE_DELETE] = "Delete", [TE_DELETE_FORCE] = "Delete -f", [TE_RESTART] = "Restart",
};

static const char req_names[TR_NREQS][NAME_SIZE] = {
	[TR_START] = "Start", [TR_KILL] = "Kill", [TR_WAIT] = "Wait", [TR_STATE] = "State",
	[TR_PIDS] = "Pids", [TR_DELETE] = "Delete", [TR_DELETE_FORCE] = "Delete -f",
	[TR_DELETE_EXEC] = "Delete exec", [TR_PAUSE] = "Pause", [TR_RESUME] = "Resume",
	[TR_STATS] = "Stats", [TR_UPDATE] = "Update", [TR_EXEC] = "Exec", [TR_WAIT_EXEC] = "Wait exec",
	[TR_RESTART] = "Restart",
};

#define ACTION_NAME(fn) [TA_##fn] = #fn,
static const char action_names[TA_NACTIONS][NAME_SIZE] = { TASK_ACTION_LIST(ACTION_NAME) };
SV_NAMES_END

/* The rows of TASK_ACTIONS, a cell per event (a row with one more or one less does not
 * compile), each cell the id of its action. */
_Static_assert(TE_NEVENTS == 23, "ROW_IDS takes one cell per event");
_Static_assert(TA_NACTIONS <= UINT8_MAX + 1, "an action id fits a byte");
#define ROW_IDS(st, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, \
		c16, c17, c18, c19, c20, c21, c22) \
	[st] = { TA_##c0, TA_##c1, TA_##c2, TA_##c3, TA_##c4, TA_##c5, TA_##c6, TA_##c7, \
		 TA_##c8, TA_##c9, TA_##c10, TA_##c11, TA_##c12, TA_##c13, TA_##c14, TA_##c15, \
		 TA_##c16, TA_##c17, TA_##c18, TA_##c19, TA_##c20, TA_##c21, TA_##c22 },
const uint8_t task_action_ids[TS_NSTATES][TE_NEVENTS] = { TASK_ACTIONS(ROW_IDS) };

const char *task_state_str(enum task_state st)
{
	return (unsigned)st < TS_NSTATES ? state_names[st] : "?";
}

const char *task_event_str(enum task_event ev)
{
	return (unsigned)ev < TE_NEVENTS ? event_names[ev] : "?";
}

const char *task_action_name(enum task_state st, enum task_event ev, char *buf, size_t size)
{
	const char *p = (unsigned)st < TS_NSTATES && (unsigned)ev < TE_NEVENTS
		? action_names[task_action_ids[st][ev]] : "";

	snprintf(buf, size, "%s", p);
	return buf;
}

/* The refusals, one per (request, kind of state); the messages inline. */
SV_NAMES_BEGIN
static const struct task_refusal
	creating = { SV_FAILED_PRECONDITION, "the task is being created: failed precondition", false, false },
	not_running = { SV_FAILED_PRECONDITION, "the task is not running: failed precondition", false, false },
	being_deleted = { SV_FAILED_PRECONDITION, "task is being deleted: failed precondition", false, false },
	finished = { SV_NOT_FOUND, "process already finished: not found", false, false },
	no_pids = { SV_OK, "", false, true },
	no_process = { SV_NOT_FOUND, "process not found: not found", false, false },
	in_progress = { SV_FAILED_PRECONDITION, "delete already in progress: failed precondition", false, false },
	not_stopped = { SV_FAILED_PRECONDITION, "task must be stopped before deletion", true, false },
	not_found = { SV_NOT_FOUND, "task <id>: not found", false, false },
	not_stopped_restart = { SV_FAILED_PRECONDITION, "task must be stopped before a restart", true, false },
	restarting = { SV_FAILED_PRECONDITION, "the task is restarting: failed precondition", false, false };
SV_NAMES_END

#define B(r) (1u << (r))
/* every request but Restart, which only a stopped task takes */
#define ALL (((1u << TR_NREQS) - 1) & ~B(TR_RESTART))
#define LIVE_ONLY (B(TR_PAUSE) | B(TR_RESUME) | B(TR_STATS) | B(TR_UPDATE) | B(TR_EXEC))
#define DELETES (B(TR_DELETE) | B(TR_DELETE_FORCE))
#define FINISHED (B(TR_KILL) | B(TR_PIDS) | LIVE_ONLY)
/* between two runs: what needs no worker, and Kill (it ends the restart policy) */
#define BETWEEN_RUNS (B(TR_KILL) | B(TR_WAIT) | B(TR_STATE) | B(TR_WAIT_EXEC))

/* permitted[state]: the requests a state serves; any other is refused before dispatch. */
static const uint32_t permitted[TS_NSTATES] = {
	[TS_SPAWNING] = ALL & ~(LIVE_ONLY | DELETES),
	[TS_CREATING] = ALL & ~(LIVE_ONLY | DELETES),
	[TS_COMMITTING] = ALL & ~(LIVE_ONLY | DELETES),
	[TS_CREATED] = ALL,
	[TS_RUNNING] = ALL & ~B(TR_DELETE),
	[TS_KILLING] = ALL & ~DELETES,
	[TS_STOPPED] = (ALL & ~FINISHED) | B(TR_RESTART),
	[TS_DELETING] = ALL & ~(FINISHED | DELETES),
	[TS_DELETED] = ALL & ~(B(TR_START) | FINISHED | DELETES),
	[TS_DELETED_GONE] = ALL & ~(B(TR_START) | FINISHED | DELETES | B(TR_DELETE_EXEC)),
	[TS_DELETED_CLEANED] = ALL & ~(B(TR_START) | FINISHED | DELETES),
	[TS_GONE] = ALL & ~(B(TR_START) | FINISHED | B(TR_DELETE_EXEC)),
	[TS_FAILED] = 0,
	[TS_ROLLBACK] = 0,
	[TS_FAILED_CLEANING] = 0,
	[TS_UNKNOWN] = ALL & ~DELETES,
	[TS_BACKOFF] = (ALL & ~(FINISHED & ~B(TR_KILL))) | B(TR_RESTART),
	[TS_RESTART_STOPPING] = BETWEEN_RUNS,
	[TS_RESPAWNING] = BETWEEN_RUNS,
	[TS_RECREATING] = BETWEEN_RUNS,
	[TS_RESTARTING] = BETWEEN_RUNS,
};

bool task_visible(enum task_state st)
{
	return (unsigned)st < TS_NSTATES && permitted[st] != 0;
}

static bool creating_state(enum task_state st)
{
	return st == TS_SPAWNING || st == TS_CREATING || st == TS_COMMITTING;
}

const struct task_refusal *task_refusal(enum task_state st, enum task_req rq)
{
	if ((unsigned)st >= TS_NSTATES || (unsigned)rq >= TR_NREQS || !permitted[st])
		return &not_found;
	if (permitted[st] & B(rq))
		return NULL;
	if (st >= TS_RESTART_STOPPING && st <= TS_RESTARTING)
		return &restarting;
	switch (rq) {
	case TR_START:
		return &being_deleted;
	case TR_KILL:
		return &finished;
	case TR_PIDS:
		return &no_pids;
	case TR_DELETE_EXEC:
		return &no_process;
	case TR_RESTART:
		return st >= TS_DELETING && st <= TS_GONE ? &being_deleted : &not_stopped_restart;
	case TR_DELETE:
	case TR_DELETE_FORCE:
		return st == TS_RUNNING || st == TS_UNKNOWN || creating_state(st) ? &not_stopped
										    : &in_progress;
	default:
		return creating_state(st) ? &creating : &not_running;
	}
}

/* A table's header: its corner, then one column per name. */
static void md_header(FILE *f, const char *corner, const char (*names)[NAME_SIZE], int n)
{
	fprintf(f, "| %s |", corner);
	for (int i = 0; i < n; i++)
		fprintf(f, " %s |", names[i]);
	fputs("\n|---|", f);
	for (int i = 0; i < n; i++)
		fputs("---|", f);
	fputc('\n', f);
}

void task_table_markdown(FILE *f)
{
	char name[64];

	md_header(f, "state \\ event", event_names, TE_NEVENTS);
	for (int st = 0; st < TS_NSTATES; st++) {
		fprintf(f, "| %s |", state_names[st]);
		for (int ev = 0; ev < TE_NEVENTS; ev++)
			fprintf(f, " %s |", task_action_name(st, ev, name, sizeof(name)));
		fputc('\n', f);
	}
	/* permitted[]: what each state answers to each task request */
	fputc('\n', f);
	md_header(f, "state \\ request", req_names, TR_NREQS);
	for (int st = 0; st < TS_NSTATES; st++) {
		fprintf(f, "| %s |", state_names[st]);
		for (int rq = 0; rq < TR_NREQS; rq++) {
			const struct task_refusal *r = task_refusal(st, rq);
			fprintf(f, " %s%s |", !r ? "yes" : r->empty_ok ? "empty" : r->msg,
				r && r->with_status ? ": <status>" : "");
		}
		fputc('\n', f);
	}
}
