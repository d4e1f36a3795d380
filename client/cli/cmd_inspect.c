/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_inspect.c: inspect ID...: a JSON array, one object per task: its state (as
 * `state --format json`) and the summary of its config.json the daemon made at create. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/cli/cli.h"

static void key_str(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	jw_str(w, v);
}

static void key_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_u64(w, v);
}

static void key_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

static void key_i64(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_i64(w, v);
}

static void key_obj(struct jw *w, const char *key)
{
	jw_key(w, key);
	jw_obj(w);
}

static void key_arr(struct jw *w, const char *key)
{
	jw_key(w, key);
	jw_arr(w);
}

static void strings_json(struct jw *w, const char *key, char *const *v, size_t n)
{
	key_arr(w, key);
	for (size_t i = 0; i < n; i++)
		jw_str(w, v[i]);
	jw_arr_end(w);
}

static void process_json(struct jw *w, const sv_TaskSummary *s)
{
	strings_json(w, "args", s->args, s->args_count);
	key_u64(w, "env_count", s->env_count);
	key_str(w, "cwd", s->cwd);
	key_obj(w, "user");
	key_u64(w, "uid", s->uid);
	key_u64(w, "gid", s->gid);
	key_arr(w, "additional_gids");
	for (pb_size_t i = 0; i < s->additional_gids_count; i++)
		jw_u64(w, s->additional_gids[i]);
	jw_arr_end(w);
	jw_obj_end(w);
	key_bool(w, "terminal", s->terminal);
	key_str(w, "hostname", s->hostname);
	strings_json(w, "capabilities", s->capabilities, s->capabilities_count);
	key_bool(w, "no_new_privileges", s->no_new_privileges);
}

static void fs_json(struct jw *w, const sv_TaskSummary *s)
{
	key_obj(w, "root");
	key_str(w, "path", s->root_path);
	key_bool(w, "readonly", s->root_readonly);
	key_bool(w, "nodev", s->root_nodev);
	jw_obj_end(w);
	key_arr(w, "mounts");
	for (pb_size_t i = 0; i < s->mounts_count; i++) {
		const sv_SummaryMount *m = &s->mounts[i];

		jw_obj(w);
		key_str(w, "type", m->type);
		key_str(w, "source", m->source);
		key_str(w, "destination", m->destination);
		strings_json(w, "options", m->options, m->options_count);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	key_u64(w, "masked_paths", s->masked_paths);
	key_u64(w, "readonly_paths", s->readonly_paths);
}

static void confinement_json(struct jw *w, const sv_TaskSummary *s)
{
	key_arr(w, "namespaces");
	for (pb_size_t i = 0; i < s->namespaces_count; i++) {
		jw_obj(w);
		key_str(w, "type", s->namespaces[i].type);
		key_str(w, "path", s->namespaces[i].path);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	key_str(w, "net", s->net);
	key_obj(w, "seccomp");
	key_str(w, "mode", s->seccomp);
	key_str(w, "default_action", s->seccomp_default_action);
	key_u64(w, "rules", s->seccomp_rules);
	jw_obj_end(w);
	key_obj(w, "limits");
	key_i64(w, "memory", s->memory_limit);
	key_i64(w, "pids", s->pids_limit);
	key_i64(w, "cpu_quota", s->cpu_quota);
	key_u64(w, "cpu_period", s->cpu_period);
	key_str(w, "cgroups_path", s->cgroups_path);
	jw_obj_end(w);
}

void cli_inspect_json(struct jw *w, const char *ns, const char *id, const sv_CtlInspectResponse *r)
{
	const sv_StateResponse *st = &r->state;
	const struct task_view v = {
		.ns = ns, .id = st->id[0] ? st->id : id, .status = st->status, .pid = st->pid,
		.exit_status = st->exit_status, .has_exited_at = st->has_exited_at,
		.exited_at = st->exited_at, .bundle = st->bundle,
		.restart_count = st->restart_count, .restart = st->restart,
	};
	const sv_TaskSummary *s = &r->summary;

	jw_obj(w);
	task_view_keys(w, &v);
	key_bool(w, "summary", r->has_summary);
	if (r->has_summary) {
		process_json(w, s);
		fs_json(w, s);
		confinement_json(w, s);
		cli_labels_json(w, s->labels, s->labels_count);
		key_bool(w, "summary_truncated", s->truncated);
	}
	jw_obj_end(w);
}

int cmd_inspect(const struct cli *g, int argc, char **argv)
{
	static const struct opt_def none[] = { { "", 0, false, 0 } };
	struct sbuf b = { 0 };
	struct sv_client *c;
	struct opt_scan s;
	const char *arg;
	char **ids;
	int rc = 0, r, n;
	struct jw w;

	if (opt_init_permute(&s, argc, argv, argv[0]) < 0)
		return cli_error("inspect: out of memory");
	if (opt_next(&s, none, &arg) < 0) {
		cli_error("%s", s.err);
		opt_free(&s);
		return CLI_EXIT_USAGE;
	}
	if ((n = opt_operands(&s, &ids)) < 1) {
		cli_error("inspect: want at least one ID");
		opt_free(&s);
		return CLI_EXIT_USAGE;
	}
	if (!(c = cli_connect(g))) {
		opt_free(&s);
		return CLI_EXIT_FAIL;
	}
	jw_init(&w, &b);
	jw_arr(&w);
	for (int i = 0; i < n; i++) {
		sv_CtlInspectResponse resp;

		/* as docker: the tasks found are printed, each one missing is an error */
		if ((r = sv_inspect(c, ids[i], &resp)) < 0) {
			rc = cli_call_error(c, r, "inspect %s", ids[i]);
			continue;
		}
		cli_inspect_json(&w, g->ns, ids[i], &resp);
		sv_pb_free(sv_CtlInspectResponse_fields, &resp);
	}
	jw_arr_end(&w);
	sb_putc(&b, '\n');
	if ((r = sb_flush_fd(&b, STDOUT_FILENO)) < 0)
		rc = cli_error("inspect: write output: %s", strerror(-r));
	sb_free(&b);
	sv_close(c);
	opt_free(&s);
	return rc;
}
