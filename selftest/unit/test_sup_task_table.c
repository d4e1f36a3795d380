/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_task_table.c: the engine's task lifecycle table: every cell named,
 * permitted[] and the table agree, and from every state the events that end a task answer
 * every client owed and free it. Real struct engine and struct task; stubbed is only what
 * crosses a process boundary (replies to clients, requests to the monitor and the worker,
 * published events). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "common/log.h"
#include "supervisor/engine.h"
#include "wire/status.h"
#include "tap_main.h"

/* --- stubs: what would leave the engine --- */
#define MAXREC 64
static struct { uint64_t conn; int code; } replies[MAXREC];
static int nreplies, nmon, ncalls, npublished;
static enum wcall_op calls[MAXREC];

void reply(struct engine *e, struct reply_to rt, int code, const char *msg,
	   const pb_msgdesc_t *fields, const void *payload)
{
	(void)e, (void)msg, (void)fields, (void)payload;
	if (rt.conn && nreplies < MAXREC)
		replies[nreplies++] = (typeof(replies[0])){ rt.conn, code };
}

int mon_send(struct engine *e, struct task *t, sv_MonRequest *rq)
{
	(void)e, (void)rq;
	if (t)
		task_set_seq(e, t, (uint32_t)++nmon);
	return 0;
}

void conn_dirty(struct engine *e, struct conn *c)
{
	(void)e, (void)c;
}

/* A worker's link read to its end: nothing more came on it (no fd behind these links). */
void conn_input(struct engine *e, struct conn *c)
{
	(void)e, (void)c;
}

int ev_watch(struct engine *e, int fd, uint32_t events, enum ev_kind *tag)
{
	(void)e, (void)fd, (void)events, (void)tag;
	return 0;
}

void ev_forget(struct engine *e, int fd, enum ev_kind *tag)
{
	(void)e, (void)fd, (void)tag;
}

static struct wcall the_call;
static struct conn *links[MAXREC];      /* our links' conns, freed by each test */
static int nlinks;

/* A call handed to the worker: its client is answered by the link from then on (as
 * link_closed does for calls left when the worker goes); counted as answered here. */
struct wcall *link_call(struct engine *e, struct task *t, enum wcall_op op, const char *method,
			const pb_msgdesc_t *fields, const void *req, struct reply_to rt, int timeout_ms)
{
	(void)method, (void)fields, (void)req, (void)timeout_ms;
	if (!t->link) {
		reply(e, rt, SV_UNAVAILABLE, "the task's worker is gone: unavailable", NULL, NULL);
		return NULL;
	}
	if (ncalls < MAXREC)
		calls[ncalls++] = op;
	reply(e, rt, SV_OK, NULL, NULL, NULL);
	return &the_call;
}

int link_open(struct engine *e, struct task *t, int fd)
{
	(void)e, (void)fd;
	t->link = calloc(1, sizeof(*t->link));
	t->link->task = t;
	links[nlinks++] = t->link;
	return 0;
}

void publish(struct engine *e, const char *ns, const char *topic, const char *type,
	     const pb_msgdesc_t *fields, const void *msg)
{
	(void)e, (void)ns, (void)topic, (void)type, (void)fields, (void)msg;
	npublished++;
}

void publish_envelope(struct engine *e, const sv_Envelope *env)
{
	(void)e, (void)env;
	npublished++;
}

/* --- fixture --- */
static struct sv_config cfg;
static struct engine eng;

static void setup(void)
{
	static bool ready;

	if (!ready)
		sv_config_defaults(&cfg);
	ready = true;
	sv_timerheap_free(&eng.timers);
	sv_htab_free(&eng.task_index);
	sv_htab_free(&eng.seq_index);
	memset(&eng, 0, sizeof(eng));
	eng.cfg = &cfg;
	eng.max_tasks = 16;
	nreplies = nmon = ncalls = npublished = 0;
}

/* A task in st, owing an answer to every client the state can owe: conns 1 create, 2 start,
 * 3 delete, 4 a waiter. */
static struct task *task_in(enum task_state st, unsigned *owed)
{
	struct task *t = task_new(&eng, "ns", "t1");
	bool creating = st == TS_SPAWNING || st == TS_CREATING || st == TS_COMMITTING;
	bool failed = st == TS_FAILED || st == TS_ROLLBACK || st == TS_FAILED_CLEANING;

	ck_assert_ptr_nonnull(t);
	t->st = st;
	t->worker_pid = 99;
	*owed = 0;
	if (st != TS_SPAWNING && st != TS_GONE && st != TS_DELETED_GONE && st != TS_FAILED_CLEANING) {
		link_open(&eng, t, -1);
	}
	if (st == TS_SPAWNING)
		t->create_req = calloc(1, sizeof(*t->create_req));
	if (st == TS_SPAWNING || st == TS_COMMITTING || failed) {
		t->create_rt = (struct reply_to){ 1, 1 };
		*owed |= 1u << 1;
	}
	if (creating || failed) {
		t->start_rt = (struct reply_to){ 2, 1 };
		*owed |= 1u << 2;
	}
	if (failed) {
		t->fail_code = SV_UNAVAILABLE;
		t->fail_msg = strdup("create failed");
	}
	if (st == TS_KILLING || st == TS_DELETING || st == TS_DELETED || st == TS_DELETED_GONE ||
	    st == TS_DELETED_CLEANED || st == TS_GONE) {
		t->delete_rt = (struct reply_to){ 3, 1 };
		*owed |= 1u << 3;
	}
	if (task_visible(st) && st != TS_STOPPED && st != TS_DELETED &&
	    st != TS_DELETED_CLEANED && st != TS_DELETED_GONE) {
		struct waiter *w = calloc(1, sizeof(*w));
		w->rt = (struct reply_to){ 4, 1 };
		t->waiters = w;
		*owed |= 1u << 4;
	}
	return t;
}

static void free_links(void)
{
	for (int i = 0; i < nlinks; i++)
		free(links[i]);
	nlinks = 0;
}

/* Each owed client answered exactly once, nobody else. */
static void check_answered(enum task_state st, unsigned owed)
{
	unsigned seen = 0;

	for (int i = 0; i < nreplies; i++) {
		unsigned bit = 1u << replies[i].conn;
		ck_assert_msg(!(seen & bit), "state %s: client %llu answered twice",
			      task_state_str(st), (unsigned long long)replies[i].conn);
		seen |= bit;
	}
	ck_assert_msg(seen == owed, "state %s: owed %#x, answered %#x", task_state_str(st), owed, seen);
}

/* --- the table's shape --- */

START_TEST(every_cell_is_named)
{
	char name[64];

	for (int st = 0; st < TS_NSTATES; st++)
		for (int ev = 0; ev < TE_NEVENTS; ev++)
			ck_assert_msg(task_action_name(st, ev, name, sizeof(name))[0],
				      "no action for (%s, %s)", task_state_str(st), task_event_str(ev));
	ck_assert_str_eq(task_action_name(TS_GONE, TE_CLEANED, name, sizeof(name)), "cleaned_dead");
	ck_assert_str_eq(task_action_name(TS_UNKNOWN, TE_DELETE_FORCE, name, sizeof(name)), "refused");
	ck_assert_str_eq(task_state_str(TS_NSTATES), "?");
}
END_TEST

/* An event that carries a client (its answer) is never ignored: acted on or refused. */
START_TEST(client_events_are_never_ignored)
{
	static const enum task_event with_client[] = { TE_CREATED, TE_CREATE_FAILED, TE_START,
						       TE_KILL, TE_DELETE, TE_DELETE_FORCE };
	char name[64];

	for (int st = 0; st < TS_NSTATES; st++)
		for (size_t i = 0; i < sizeof(with_client) / sizeof(with_client[0]); i++)
			ck_assert_msg(strcmp(task_action_name(st, with_client[i], name, sizeof(name)),
					     "ignore"), "(%s, %s) ignores its client",
				      task_state_str(st), task_event_str(with_client[i]));
}
END_TEST

/* permitted[] (control.c's check before dispatch) and the table's `refused` cells agree. */
START_TEST(permitted_matches_the_table)
{
	static const struct { enum task_event ev; enum task_req rq; } pairs[] = {
		{ TE_START, TR_START }, { TE_KILL, TR_KILL }, { TE_DELETE, TR_DELETE },
		{ TE_DELETE_FORCE, TR_DELETE_FORCE } };
	char name[64];

	for (int st = 0; st < TS_NSTATES; st++) {
		for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
			bool refused = !strcmp(task_action_name(st, pairs[i].ev, name, sizeof(name)), "refused");
			ck_assert_msg(refused == (task_refusal(st, pairs[i].rq) != NULL),
				      "(%s, %s): table and permitted[] disagree", task_state_str(st),
				      task_event_str(pairs[i].ev));
		}
		/* an invisible task refuses everything, a visible one answers State and Wait */
		for (int rq = 0; rq < TR_NREQS; rq++)
			if (!task_visible(st))
				ck_assert_ptr_nonnull(task_refusal(st, rq));
		if (task_visible(st)) {
			ck_assert_ptr_null(task_refusal(st, TR_STATE));
			ck_assert_ptr_null(task_refusal(st, TR_WAIT));
		}
	}
	/* the messages clients match on */
	ck_assert_str_eq(task_refusal(TS_STOPPED, TR_KILL)->msg, "process already finished: not found");
	ck_assert_str_eq(task_refusal(TS_CREATING, TR_PAUSE)->msg,
			 "the task is being created: failed precondition");
	ck_assert_str_eq(task_refusal(TS_DELETING, TR_DELETE)->msg,
			 "delete already in progress: failed precondition");
	ck_assert(task_refusal(TS_RUNNING, TR_DELETE)->with_status);
	ck_assert(task_refusal(TS_GONE, TR_PIDS)->empty_ok);
	ck_assert_str_eq(task_refusal(TS_RESPAWNING, TR_DELETE)->msg,
			 "the task is restarting: failed precondition");
	ck_assert_ptr_null(task_refusal(TS_BACKOFF, TR_KILL));
	/* Restart: only a stopped task (or one waiting to restart) */
	ck_assert_ptr_null(task_refusal(TS_STOPPED, TR_RESTART));
	ck_assert_ptr_null(task_refusal(TS_BACKOFF, TR_RESTART));
	ck_assert_str_eq(task_refusal(TS_RUNNING, TR_RESTART)->msg,
			 "task must be stopped before a restart");
	ck_assert(task_refusal(TS_CREATED, TR_RESTART)->with_status);
	ck_assert_str_eq(task_refusal(TS_DELETED, TR_RESTART)->msg,
			 "task is being deleted: failed precondition");
	ck_assert_str_eq(task_refusal(TS_RECREATING, TR_RESTART)->msg,
			 "the task is restarting: failed precondition");
}
END_TEST

START_TEST(markdown_has_every_row)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int lines = 0;

	task_table_markdown(f);
	fclose(f);
	for (char *p = buf; *p; p++)
		lines += *p == '\n';
	/* two tables (header, rule, a row per state) and the blank line between */
	ck_assert_int_eq(lines, 2 * (TS_NSTATES + 2) + 1);
	ck_assert_ptr_nonnull(strstr(buf, "| worker gone | spawned_late |"));
	ck_assert_ptr_nonnull(strstr(buf, "| stopped | yes | process already finished: not found |"));
	ck_assert_ptr_null(strstr(buf, "|  |"));
	free(buf);
}
END_TEST

/* --- driven: from every state, the end answers every client and frees the task --- */

static void end_from(enum task_state st, const enum task_event *seq, size_t n)
{
	sv_MonCleaned cl = { 0 };
	unsigned owed;
	struct task *t;

	setup();
	t = task_in(st, &owed);
	for (size_t i = 0; i < n && eng.tasks; i++) {
		struct task_ev a = { .link_fd = -1, .body = seq[i] == TE_CLEANED ? &cl : NULL,
				     .code = seq[i] == TE_SPAWN_FAILED ? 5 : 0 };
		task_fire(&eng, t, seq[i], &a);
	}
	ck_assert_msg(eng.tasks == NULL && eng.ntasks == 0, "state %s: task not freed (now %s)",
		      task_state_str(st), eng.tasks ? task_state_str(eng.tasks->st) : "-");
	check_answered(st, owed);
	free_links();
}

START_TEST(worker_gone_and_cleaned_end_every_state)
{
	/* the second spawn failure: a restart's new worker (respawn) could not be made */
	static const enum task_event seq[] = { TE_SPAWN_FAILED, TE_WORKER_GONE, TE_SPAWN_FAILED,
					       TE_CLEANED };

	for (int st = 0; st < TS_NSTATES; st++)
		end_from(st, seq, 4);
}
END_TEST

START_TEST(cleaned_before_worker_gone_ends_every_state)
{
	/* the monitor's answers in the other order, and a duplicate of each */
	static const enum task_event seq[] = { TE_SPAWN_FAILED, TE_CLEANED, TE_WORKER_GONE,
					       TE_SPAWN_FAILED, TE_WORKER_GONE, TE_CLEANED };

	for (int st = 0; st < TS_NSTATES; st++)
		end_from(st, seq, 6);
}
END_TEST

/* The normal lives, event by event: the states the table goes through. */
START_TEST(create_run_delete)
{
	sv_MonSpawned sp = { .pid = 99, .bundle = (char *)"/b" };
	sv_DeleteResponse dr = { .pid = 7, .exit_status = 3 };
	struct task *t;
	unsigned owed;

	setup();
	t = task_in(TS_SPAWNING, &owed);
	t->waiters->rt.conn = 0;        /* no waiter for this one */
	task_spawned(&eng, t, 0, NULL, &sp, 5);
	ck_assert_int_eq(t->st, TS_CREATING);
	ck_assert_int_eq(calls[0], W_CREATE);
	task_fire(&eng, t, TE_CREATED, &(struct task_ev){ .pid = 7, .rt = { 5, 1 }, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_COMMITTING);
	ck_assert_int_eq(t->create_rt.conn, 5);
	task_committed(&eng, t, 0);
	ck_assert_int_eq(t->st, TS_CREATED);
	ck_assert_int_eq(calls[1], W_START);    /* the Start pipelined behind the Create */
	ck_assert_int_eq(t->start_rt.conn, 0);
	task_fire(&eng, t, TE_STARTED, &(struct task_ev){ .pid = 7, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_RUNNING);
	task_fire(&eng, t, TE_DELETE_FORCE, &(struct task_ev){ .rt = { 6, 1 }, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_KILLING);
	ck_assert_int_eq(calls[2], W_KILL);
	task_fire(&eng, t, TE_EXITED, &(struct task_ev){ .exit_status = 137, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_DELETING);
	ck_assert_int_eq(calls[3], W_DELETE);
	ck_assert_int_eq(calls[4], W_SHUTDOWN);
	task_deleted(&eng, t, SV_OK, NULL, &dr);
	ck_assert_int_eq(t->st, TS_DELETED);
	task_cleaned(&eng, t, NULL, 0);
	ck_assert_int_eq(t->st, TS_DELETED_CLEANED);
	ck_assert_ptr_eq(task_find(&eng, "ns", "t1"), t);
	task_worker_gone(&eng, t);
	ck_assert_ptr_null(eng.tasks);
	/* exit, delete published once each */
	ck_assert_int_eq(npublished, 2);
	free_links();
}
END_TEST

/* A running task with restart policy pol, whose clients are all answered. */
static struct task *running_with(const char *pol)
{
	struct sv_restart r;
	unsigned owed;
	struct task *t;

	setup();
	t = task_in(TS_RUNNING, &owed);
	t->waiters->rt.conn = 0;
	ck_assert_int_eq(sv_restart_parse(pol, &r), 0);
	task_set_restart(&eng, t, &r);
	return t;
}

/* A task with on-failure:1: its exit 1 is restarted (same bundle, new worker), its second
 * exit 1 is not; the events between, state by state. */
START_TEST(restart_on_failure)
{
	sv_MonSpawned sp = { .pid = 100, .bundle = (char *)"/b" };
	struct task *t = running_with("on-failure:1");

	task_fire(&eng, t, TE_EXITED, &(struct task_ev){ .exit_status = 1, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_BACKOFF);
	ck_assert_int_eq(t->restart.count, 1);
	ck_assert_int_eq(t->backoff_ms, SV_RESTART_BACKOFF_MIN_MS);
	ck_assert_int_eq(task_status(t), sv_TaskStatus_STOPPED);
	/* its timer, not due before its deadline; then the old worker lets the task go */
	ck_assert_ptr_eq(sv_timer_first(&eng.timers), &t->restart_tm);
	ck_assert_int_eq(t->restart_tm.due_ms, t->restart_due_ms);
	ck_assert_ptr_null(sv_timer_take_due(&eng.timers, t->restart_due_ms - 1));
	struct sv_timer *tm = sv_timer_take_due(&eng.timers, t->restart_due_ms);
	ck_assert_ptr_eq(tm, &t->restart_tm);
	task_restart_due(&eng, tm);
	ck_assert_int_eq(t->st, TS_RESTART_STOPPING);
	ck_assert_int_eq(calls[0], W_DELETE);
	ck_assert_int_eq(calls[1], W_SHUTDOWN);
	task_deleted(&eng, t, SV_OK, NULL, &(sv_DeleteResponse){ .exit_status = 1 });
	ck_assert_int_eq(t->st, TS_RESTART_STOPPING);
	task_fire(&eng, t, TE_REPORT_DELETE, NULL);     /* not published: the task goes on */
	ck_assert_int_eq(npublished, 1);                /* the exit */
	task_worker_gone(&eng, t);
	ck_assert_int_eq(t->st, TS_RESPAWNING);
	ck_assert_ptr_null(t->link);
	task_spawned(&eng, t, 0, NULL, &sp, 5);
	ck_assert_int_eq(t->st, TS_RECREATING);
	ck_assert_int_eq(t->worker_pid, 100);
	ck_assert_int_eq(calls[2], W_CREATE);
	task_fire(&eng, t, TE_CREATED, &(struct task_ev){ .pid = 8, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_RESTARTING);
	ck_assert_int_eq(calls[3], W_START);
	ck_assert(task_exit_known(t));                  /* until the new run starts */
	task_fire(&eng, t, TE_STARTED, &(struct task_ev){ .pid = 8, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_RUNNING);
	ck_assert(!task_exit_known(t));
	ck_assert_int_eq(t->pid, 8);
	/* the second failure: on-failure:1 is spent */
	task_fire(&eng, t, TE_EXITED, &(struct task_ev){ .exit_status = 1, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_STOPPED);
	ck_assert_int_eq(t->restart.count, 1);
	task_fire(&eng, t, TE_DELETE, &(struct task_ev){ .rt = { 6, 1 }, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_DELETING);
	task_deleted(&eng, t, SV_OK, NULL, NULL);
	task_cleaned(&eng, t, NULL, 0);
	task_worker_gone(&eng, t);
	ck_assert_ptr_null(eng.tasks);
	ck_assert_ptr_null(sv_timer_first(&eng.timers));
	ck_assert_ptr_null(task_find(&eng, "ns", "t1"));
	free_links();
}
END_TEST

/* A client's Kill ends the policy: in backoff the task is left stopped at once (no new run);
 * a Kill with a signal that does not stop (SIGHUP) leaves the policy alone. */
START_TEST(kill_ends_the_policy)
{
	sv_KillRequest hup = { .signal = 1 }, term = { .signal = 15 };
	struct task *t = running_with("always");

	task_fire(&eng, t, TE_KILL, &(struct task_ev){ .rt = { 7, 1 }, .body = &hup, .link_fd = -1 });
	ck_assert(!t->restart.stopped);
	ck_assert_int_eq(nmon, 0);
	task_fire(&eng, t, TE_EXITED, &(struct task_ev){ .exit_status = 0, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_BACKOFF);           /* always: a clean exit too */
	task_fire(&eng, t, TE_KILL, &(struct task_ev){ .rt = { 8, 1 }, .body = &term, .link_fd = -1 });
	ck_assert(t->restart.stopped);
	ck_assert_int_eq(nmon, 0);                      /* the record: no task seq (mon_send NULL) */
	ck_assert_int_eq(t->st, TS_STOPPED);
	ck_assert_int_eq(replies[nreplies - 1].conn, 8);
	ck_assert_int_eq(replies[nreplies - 1].code, SV_OK);
	/* its backoff timer fires into a stopped task: nothing happens */
	struct sv_timer *tm = sv_timer_take_due(&eng.timers, INT64_MAX - 1);
	ck_assert_ptr_eq(tm, &t->restart_tm);
	task_restart_due(&eng, tm);
	ck_assert_int_eq(t->st, TS_STOPPED);
	ck_assert_ptr_null(sv_timer_first(&eng.timers));
	task_free(&eng, t);
	free_links();
}
END_TEST

START_TEST(failed_create_answered_once_cleaned)
{
	struct task *t;
	unsigned owed;

	setup();
	t = task_in(TS_CREATING, &owed);
	t->waiters->rt.conn = 0;
	task_fire(&eng, t, TE_CREATE_FAILED, &(struct task_ev){ .code = SV_INVALID_ARGUMENT, .msg = "bad",
							       .rt = { 1, 1 }, .link_fd = -1 });
	ck_assert_int_eq(t->st, TS_FAILED);
	ck_assert(!task_visible(t->st));
	ck_assert_int_eq(nreplies, 0);          /* not before its bundle is gone */
	task_worker_gone(&eng, t);
	ck_assert_int_eq(t->st, TS_FAILED_CLEANING);
	ck_assert_int_eq(nreplies, 0);
	task_cleaned(&eng, t, NULL, 0);
	ck_assert_ptr_null(eng.tasks);
	ck_assert_int_eq(nreplies, 2);
	ck_assert_int_eq(replies[0].code, SV_INVALID_ARGUMENT);
	free_links();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_task_table");

	sv_log_set_level(LOG_ERR);      /* the lifecycle's own lines are not what is checked here */

	SV_TCASE(s, "shape", 10, every_cell_is_named, client_events_are_never_ignored,
		 permitted_matches_the_table, markdown_has_every_row);
	SV_TCASE(s, "driven", 10, worker_gone_and_cleaned_end_every_state,
		 cleaned_before_worker_gone_ends_every_state, create_run_delete,
		 failed_create_answered_once_cleaned, restart_on_failure, kill_ends_the_policy);
	return sv_run_suite(s);
}
