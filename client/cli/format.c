/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/format.c: what state, ls and events print, as text and as JSON. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client/cli/cli.h"

#define GO_ZERO_TIME (-62135596800LL)   /* 0001-01-01T00:00:00Z */
/* Times past 2038 and Go's zero time need a 64-bit time_t: 32-bit targets build with
 * -D_TIME_BITS=64 (Makefile, CROSS). */
_Static_assert(sizeof(time_t) >= 8, "time_t is 32-bit: build with -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64");

void cli_fmt_time(char buf[CLI_TIME_MAX], bool has, const sv_Timestamp *ts)
{
	time_t sec = GO_ZERO_TIME;
	int32_t nsec = 0;
	struct tm tm;

	if (has && ts && (ts->seconds != 0 || ts->nanos != 0)) {
		sec = (time_t)ts->seconds;
		nsec = ts->nanos;
	}
	if (nsec < 0 || nsec > 999999999)
		nsec = 0;
	if (!gmtime_r(&sec, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999) {
		snprintf(buf, CLI_TIME_MAX, "0001-01-01T00:00:00.000000000Z");
		return;
	}
	snprintf(buf, CLI_TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)nsec);
}

void task_view_json(struct jw *w, const struct task_view *t)
{
	jw_obj(w);
	task_view_keys(w, t);
	jw_obj_end(w);
}

void task_view_keys(struct jw *w, const struct task_view *t)
{
	char when[CLI_TIME_MAX];

	cli_fmt_time(when, t->has_exited_at, &t->exited_at);
	if (t->ns) {
		jw_key(w, "namespace");
		jw_str(w, t->ns);
	}
	jw_key(w, "id");
	jw_str(w, t->id);
	jw_key(w, "status");
	jw_str(w, sv_status_name(t->status));
	jw_key(w, "pid");
	jw_u64(w, t->pid);
	jw_key(w, "exit_status");
	jw_u64(w, t->exit_status);
	jw_key(w, "exited_at");
	jw_str(w, when);
	jw_key(w, "bundle");
	jw_str(w, t->bundle);
	jw_key(w, "restart");
	jw_str(w, t->restart && t->restart[0] ? t->restart : "no");
	jw_key(w, "restart_count");
	jw_u64(w, t->restart_count);
}

void task_view_text(struct sbuf *b, const struct task_view *t)
{
	char when[CLI_TIME_MAX];

	cli_fmt_time(when, t->has_exited_at, &t->exited_at);
	if (t->ns)
		sb_printf(b, "namespace: %s\n", t->ns);
	sb_printf(b, "id: %s\n", t->id);
	sb_printf(b, "status: %s\n", sv_status_name(t->status));
	sb_printf(b, "pid: %u\n", t->pid);
	sb_printf(b, "exit_status: %u\n", t->exit_status);
	sb_printf(b, "exited_at: %s\n", when);
	sb_printf(b, "bundle: %s\n", t->bundle ? t->bundle : "");
	sb_printf(b, "restart: %s\n", t->restart && t->restart[0] ? t->restart : "no");
	sb_printf(b, "restart_count: %u\n", t->restart_count);
}

static void task_view_of(struct task_view *v, const sv_CtlTask *t)
{
	*v = (struct task_view){
		.ns = t->namespace, .id = t->id, .status = t->status, .pid = t->pid,
		.exit_status = t->exit_status, .has_exited_at = t->has_exited_at,
		.exited_at = t->exited_at, .bundle = t->bundle,
		.restart_count = t->restart_count, .restart = t->restart,
	};
}

void cli_ls_json(struct sbuf *b, const sv_CtlListResponse *l)
{
	struct jw w;

	jw_init(&w, b);
	jw_arr(&w);
	for (pb_size_t i = 0; i < l->tasks_count; i++) {
		struct task_view v;

		task_view_of(&v, &l->tasks[i]);
		jw_obj(&w);
		task_view_keys(&w, &v);
		cli_labels_json(&w, l->tasks[i].labels, l->tasks[i].labels_count);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	sb_putc(b, '\n');
}

void cli_labels_json(struct jw *w, char *const *labels, size_t n)
{
	jw_key(w, "labels");
	jw_obj(w);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(labels[i], '=');

		jw_keyn(w, labels[i], eq ? (size_t)(eq - labels[i]) : strlen(labels[i]));
		jw_str(w, eq ? eq + 1 : "");
	}
	jw_obj_end(w);
}

void cli_table_widen(size_t *width, int ncols, const char *const *cell)
{
	for (int c = 0; c < ncols; c++) {
		size_t n = strlen(cell[c]);

		if (n > width[c])
			width[c] = n;
	}
}

void cli_table_row(struct sbuf *b, int ncols, const char *const *cell, const size_t *width)
{
	for (int c = 0; c < ncols - 1; c++)
		sb_printf(b, "%-*s", (int)(width[c] + CLI_TABLE_PAD), cell[c]);
	sb_printf(b, "%s\n", cell[ncols - 1]);
}

#define LS_COLS 4
static void ls_cells(const char *cell[LS_COLS], const sv_CtlTask *t, char pid[16])
{
	snprintf(pid, 16, "%u", t->pid);
	cell[0] = t->namespace;
	cell[1] = t->id;
	cell[2] = pid;
	cell[3] = sv_status_name(t->status);
}

void cli_ls_table(struct sbuf *b, const sv_CtlListResponse *l, bool quiet)
{
	static const char *const head[LS_COLS] = { "NAMESPACE", "ID", "PID", "STATUS" };
	size_t width[LS_COLS] = { 0 };
	const char *cell[LS_COLS];
	char pid[16];

	if (quiet) {
		for (pb_size_t i = 0; i < l->tasks_count; i++)
			sb_printf(b, "%s\n", l->tasks[i].id);
		return;
	}
	cli_table_widen(width, LS_COLS, head);
	for (pb_size_t i = 0; i < l->tasks_count; i++) {
		ls_cells(cell, &l->tasks[i], pid);
		cli_table_widen(width, LS_COLS, cell);
	}
	cli_table_row(b, LS_COLS, head, width);
	for (pb_size_t i = 0; i < l->tasks_count; i++) {
		ls_cells(cell, &l->tasks[i], pid);
		cli_table_row(b, LS_COLS, cell, width);
	}
}

/* The envelope's common part, and its decoded event (ev->kind UNKNOWN if undecodable). */
static void event_of(const sv_Envelope *env, struct sv_event *ev, char when[CLI_TIME_MAX])
{
	cli_fmt_time(when, env->has_timestamp, &env->timestamp);
	if (sv_event_decode(env, ev) < 0) {
		const char *name = ev->name;

		memset(ev, 0, sizeof(*ev));
		ev->name = name;
	}
}

void cli_event_json(struct sbuf *b, const sv_Envelope *env)
{
	char when[CLI_TIME_MAX], exited[CLI_TIME_MAX];
	struct sv_event ev;
	struct jw w;

	event_of(env, &ev, when);
	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "timestamp");
	jw_str(&w, when);
	jw_key(&w, "namespace");
	jw_str(&w, env->namespace);
	jw_key(&w, "topic");
	jw_str(&w, env->topic);
	jw_key(&w, "id");
	jw_str(&w, ev.container_id);
	if (ev.kind == SV_EVENT_UNKNOWN) {
		jw_key(&w, "type");
		jw_str(&w, env->has_event ? env->event.type_url : "");
	}
	if (ev.fields & SV_EVF_EXEC_ID) {
		jw_key(&w, "exec_id");
		jw_str(&w, ev.exec_id);
	}
	if (ev.fields & SV_EVF_PID) {
		jw_key(&w, "pid");
		jw_u64(&w, ev.pid);
	}
	if (ev.fields & SV_EVF_EXIT_STATUS) {
		jw_key(&w, "exit_status");
		jw_u64(&w, ev.exit_status);
	}
	if (ev.fields & SV_EVF_EXITED_AT) {
		cli_fmt_time(exited, true, &ev.exited_at);
		jw_key(&w, "exited_at");
		jw_str(&w, exited);
	}
	if (ev.fields & SV_EVF_BUNDLE) {
		jw_key(&w, "bundle");
		jw_str(&w, ev.bundle);
	}
	jw_obj_end(&w);
	sb_putc(b, '\n');
}

void cli_event_text(struct sbuf *b, const sv_Envelope *env)
{
	char when[CLI_TIME_MAX], exited[CLI_TIME_MAX];
	struct sv_event ev;

	event_of(env, &ev, when);
	sb_printf(b, "%s %s %s", when, env->topic && *env->topic ? env->topic : "-",
		  ev.container_id[0] ? ev.container_id : "-");
	if (ev.kind == SV_EVENT_UNKNOWN && env->has_event && env->event.type_url)
		sb_printf(b, " type=%s", env->event.type_url);
	if (ev.fields & SV_EVF_EXEC_ID)
		sb_printf(b, " exec_id=%s", ev.exec_id);
	if (ev.fields & SV_EVF_PID)
		sb_printf(b, " pid=%u", ev.pid);
	if (ev.fields & SV_EVF_EXIT_STATUS)
		sb_printf(b, " exit_status=%u", ev.exit_status);
	if (ev.fields & SV_EVF_EXITED_AT) {
		cli_fmt_time(exited, true, &ev.exited_at);
		sb_printf(b, " exited_at=%s", exited);
	}
	if (ev.fields & SV_EVF_BUNDLE)
		sb_printf(b, " bundle=%s", ev.bundle);
	sb_putc(b, '\n');
}
