/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/engine_replies.c: the engine's table of the monitor's replies, the mirror of the
 * monitor's request table (monitor.c): each reply type with the request it answers, its exact
 * fds, what its body must hold, and its handler. A reply outside the table ends the engine. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pb_encode.h>
#include "common/ids.h"
#include "common/log.h"
#include "common/names.h"
#include "config_reload.h"
#include "engine.h"
#include "wire/limits.h"
#include "wire/pbio.h"

/* How a reply finds its task: by the request's seq (an answer), by ns/id (a notice), none
 * (the scan's: recovery makes the task), or none of a notice about no task (seq 0, no ns/id:
 * the settings). */
enum reply_find { BY_SEQ, BY_NAME, NO_TASK, ENGINE };

/* A row: what the monitor's reply is, held inline (no pointer for a static-pie binary to
 * relocate at load); its functions are in reply_fns[], at the same index. */
struct reply_row {
	pb_size_t type;
	char name[20];
	char answers[8];                /* the request (monitor.c's table), or "notice" */
	int nfds;
	enum reply_find find;
	char handler[24];
};
struct reply_fns {
	/* what in the body does not fit the type, or NULL */
	const char *(*bad)(const sv_MonReply *rep);
	/* fds: exactly nfds, taken; -1 for one the engine had no room to receive */
	void (*handle)(struct engine *e, struct task *t, const sv_MonReply *rep, const int *fds);
};

static const char *bad_spawned(const sv_MonReply *rep)
{
	const sv_MonSpawned *sp = &rep->r.spawned;

	return !sp->pid || !sp->bundle || !sp->bundle[0] ? "no pid or bundle" : NULL;
}

static const char *bad_failed(const sv_MonReply *rep)
{
	const sv_MonFailed *f = &rep->r.spawn_failed;  /* commit_failed: the same message */

	return f->err <= 0 ? "no errno" : NULL;
}

static const char *bad_cleaned(const sv_MonReply *rep)
{
	return rep->r.cleaned.err < 0 ? "a negative errno" : NULL;
}

static const char *bad_found_name(const sv_MonReply *rep, const sv_MonFound *f)
{
	if (!sv_id_valid(rep->ns) || !sv_id_valid(rep->id))
		return "an invalid ns or id";
	if (f->summary && f->summary->size > SV_SUMMARY_MAX)
		return "a summary over SV_SUMMARY_MAX bytes";
	return !f->bundle || !f->bundle[0] ? "no bundle" : NULL;
}

static const char *bad_found(const sv_MonReply *rep)
{
	const sv_MonFound *f = &rep->r.found;

	if (f->dead == f->unreachable || (f->rollback && !f->dead))
		return "not one of dead, unreachable, or a rollback (dead)";
	return bad_found_name(rep, f);
}

static const char *bad_found_live(const sv_MonReply *rep)
{
	const sv_MonFound *f = &rep->r.found_live;

	if (f->dead || f->unreachable || f->rollback)
		return "a flag set on a live worker";
	return bad_found_name(rep, f);
}

static const char *bad_exited(const sv_MonReply *rep)
{
	return !rep->r.exited.pid ? "no pid" : NULL;
}

/* Each value as the config file would take it, and a profile of JSON text. */
static const char *bad_settings(const sv_MonReply *rep)
{
	static struct sv_config scratch;        /* ~20 KiB: not on the stack */
	const sv_MonSettings *s = &rep->r.settings;
	const char *why;

	memset(&scratch, 0, sizeof(scratch));
	if (sv_settings_apply(&scratch, s, &why) < 0)
		return why;
	return memchr(s->seccomp->bytes, 0, s->seccomp->size) ? "a NUL in the profile" : NULL;
}

static void on_spawned(struct engine *e, struct task *t, const sv_MonReply *rep, const int *fds)
{
	task_spawned(e, t, 0, "", &rep->r.spawned, fds[0]);
}

static void on_spawn_failed(struct engine *e, struct task *t, const sv_MonReply *rep,
			    const int *fds)
{
	const sv_MonFailed *f = &rep->r.spawn_failed;

	(void)fds;
	task_spawned(e, t, f->err, f->reason ? f->reason : "", NULL, -1);
}

static void on_committed(struct engine *e, struct task *t, const sv_MonReply *rep, const int *fds)
{
	(void)rep, (void)fds;
	task_committed(e, t, 0);
}

static void on_commit_failed(struct engine *e, struct task *t, const sv_MonReply *rep,
			     const int *fds)
{
	(void)fds;
	task_committed(e, t, rep->r.commit_failed.err);
}

static void on_cleaned(struct engine *e, struct task *t, const sv_MonReply *rep, const int *fds)
{
	(void)fds;
	task_cleaned(e, t, &rep->r.cleaned, rep->r.cleaned.err);
}

static void on_found(struct engine *e, struct task *t, const sv_MonReply *rep, const int *fds)
{
	(void)t, (void)fds;
	recovery_found(e, rep->ns, rep->id, &rep->r.found, -1);
}

static void on_found_live(struct engine *e, struct task *t, const sv_MonReply *rep, const int *fds)
{
	(void)t;
	recovery_found(e, rep->ns, rep->id, &rep->r.found_live, fds[0]);
}

static void on_scanned(struct engine *e, struct task *t, const sv_MonReply *rep, const int *fds)
{
	(void)t, (void)rep, (void)fds;
	e->scan_pending = false;
	e->scan_done_ms = sv_now_ms();
	recovery_check_over(e);
}

/* A worker of this name was reaped: it is this task's only if the pids agree (a notice about
 * an earlier worker of a reused id comes for nobody). */
static void on_exited(struct engine *e, struct task *t, const sv_MonReply *rep, const int *fds)
{
	(void)fds;
	if (t->worker_pid == rep->r.exited.pid)
		task_worker_gone(e, t);
}

static void on_settings(struct engine *e, struct task *t, const sv_MonReply *rep, const int *fds)
{
	(void)t, (void)fds;
	engine_settings(e, &rep->r.settings);
}

/* The restart record the engine asked to be written (a client stopped a task). */
static void on_recorded(struct engine *e, struct task *t, const sv_MonReply *rep, const int *fds)
{
	(void)e, (void)t, (void)fds;
	if (rep->r.recorded.err)
		sv_warn("task %s/%s: its restart record was not written: %s", rep->ns, rep->id,
			strerror(rep->r.recorded.err));
}

static const char *bad_recorded(const sv_MonReply *rep)
{
	return rep->r.recorded.err < 0 ? "a negative errno" : NULL;
}

/* The replies, one row each: REPLY(type, answers, nfds, find, bad, fn). */
#define REPLIES(REPLY) \
	REPLY(spawned,          "spawn",   1, BY_SEQ,  bad_spawned,    on_spawned) \
	REPLY(spawn_failed,     "spawn",   0, BY_SEQ,  bad_failed,     on_spawn_failed) \
	REPLY(committed,        "commit",  0, BY_SEQ,  NULL,           on_committed) \
	REPLY(commit_failed,    "commit",  0, BY_SEQ,  bad_failed,     on_commit_failed) \
	REPLY(cleaned,          "cleanup", 0, BY_SEQ,  bad_cleaned,    on_cleaned) \
	REPLY(found,            "scan",    0, NO_TASK, bad_found,      on_found) \
	REPLY(found_live,       "scan",    1, NO_TASK, bad_found_live, on_found_live) \
	REPLY(scanned,          "scan",    0, NO_TASK, NULL,           on_scanned) \
	REPLY(exited,           "notice",  0, BY_NAME, bad_exited,     on_exited) \
	REPLY(settings,         "notice",  0, ENGINE,  bad_settings,   on_settings) \
	REPLY(recorded,         "record",  0, NO_TASK, bad_recorded,   on_recorded)

#define ROW(type, answers, nfds, find, bad, fn) \
	{ sv_MonReply_##type##_tag, #type, answers, nfds, find, #fn },
SV_NAMES_BEGIN
static const struct reply_row replies[] = { REPLIES(ROW) };
SV_NAMES_END
#define FNS(type, answers, nfds, find, bad, fn) { bad, fn },
static const struct reply_fns reply_fns[] = { REPLIES(FNS) };
#define NREPLIES (sizeof(replies) / sizeof(replies[0]))

/* Why rep, with what came along (got), does not fit row and its fns (the caller logs it), or
 * NULL. */
static const char *misfit(const struct reply_row *row, const struct reply_fns *fns,
			  const sv_MonReply *rep, const struct fdchan_got *got)
{
	size_t size = 0;

	/* fewer fds, cut by the kernel: we are out of fds, not the monitor wrong (the handler
	 * gets -1 for each missing one, as the fd budget allows for) */
	if (got->cut ? got->nfds >= row->nfds : got->nfds != row->nfds)
		return "a wrong number of fds";
	bool notice = row->find == BY_NAME || row->find == ENGINE;

	if (notice != (rep->seq == 0))
		return notice ? "a seq on a notice" : "no seq";
	if (row->find == BY_NAME && (!sv_id_valid(rep->ns) || !sv_id_valid(rep->id)))
		return "an invalid ns or id";
	if (row->find == ENGINE && (rep->ns[0] || rep->id[0]))
		return "a task named on a notice about none";
	if (!pb_get_encoded_size(&size, sv_MonReply_fields, rep) || size != got->len)
		return "bytes beyond its fields";
	return fns->bad ? fns->bad(rep) : NULL;
}

int engine_reply_take(int fd, sv_MonReply *rep, int fds[ENGINE_REPLY_MAX_FDS], size_t *row)
{
	struct fdchan_got got;
	const char *why = "an unknown type";
	size_t i;
	int r;

	r = fdchan_recv_packet(fd, sv_MonReply_fields, rep, MSG_DONTWAIT, &got);
	if (r <= 0)
		return r;
	for (i = 0; i < NREPLIES && replies[i].type != rep->which_r; i++)
		;
	if (i == NREPLIES || (why = misfit(&replies[i], &reply_fns[i], rep, &got))) {
		sv_warn("engine: reply %s from the monitor with %d fds: %s", i < NREPLIES ?
			replies[i].name : "?", got.nfds, why);
		while (got.nfds > 0)
			close(got.fds[--got.nfds]);
		sv_pb_free(sv_MonReply_fields, rep);
		return -EPROTO;
	}
	for (int k = 0; k < ENGINE_REPLY_MAX_FDS; k++)
		fds[k] = k < got.nfds ? got.fds[k] : -1;
	*row = i;
	return 1;
}

int engine_monitor_input(struct engine *e)
{
	int fds[ENGINE_REPLY_MAX_FDS], r;
	sv_MonReply rep;
	size_t i;

	for (;;) {
		struct task *t = NULL;

		if ((r = engine_reply_take(e->mon_fd, &rep, fds, &i)) <= 0)
			return r;
		if (replies[i].find == BY_SEQ && (t = task_by_seq(e, rep.seq)))
			task_set_seq(e, t, 0);
		else if (replies[i].find == BY_NAME)
			t = task_find(e, rep.ns, rep.id);
		if (t || replies[i].find == NO_TASK || replies[i].find == ENGINE) {
			reply_fns[i].handle(e, t, &rep, fds);
		} else {
			for (int k = 0; k < replies[i].nfds; k++)
				if (fds[k] >= 0)
					close(fds[k]);  /* for a task gone meanwhile */
		}
		sv_pb_free(sv_MonReply_fields, &rep);
	}
}

size_t engine_replies_count(void)
{
	return NREPLIES;
}

pb_size_t engine_reply_type(size_t i, int *nfds)
{
	*nfds = replies[i].nfds;
	return reply_fns[i].handle ? replies[i].type : 0;
}

void engine_replies_print(FILE *out)
{
	fprintf(out, "| reply | answers | fds | handler |\n|---|---|---|---|\n");
	for (size_t i = 0; i < NREPLIES; i++)
		fprintf(out, "| %s | %s | %d | %s |\n", replies[i].name, replies[i].answers,
			replies[i].nfds, replies[i].handler);
}
