/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_task.c: the commands about one task: start, kill, wait, delete (rm), state,
 * ps, pause, resume, stats, update, logs; and the option scan the other task commands share. */
#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "client/cli/cli.h"

static const struct opt_def no_opts[] = { { "", 0, false, 0 } };

/* Options are scanned already; take exactly one valid ID from the operands, and free s. */
static int one_id(struct opt_scan *s, const char *usage, const char **id)
{
	char err[CLI_ERR_MAX], **ops;
	int n = opt_operands(s, &ops), rc = 0;

	if (n != 1) {
		cli_error("%s: %s (usage: %s)", s->cmd, n == 0 ? "missing ID" : "too many arguments",
			  usage);
		rc = CLI_EXIT_USAGE;
	} else if (cli_check_id("id", ops[0], err, sizeof(err)) < 0) {
		cli_error("%s", err);
		rc = CLI_EXIT_USAGE;
	} else {
		*id = ops[0];
	}
	opt_free(s);
	return rc;
}

/* Scan the command's options (anywhere on the line), handing each to on(); print errors.
 * On success the caller owns s (one_id or opt_free releases it). */
static int scan(struct opt_scan *s, const struct opt_def *defs, int argc, char **argv,
		int (*on)(int key, const char *arg, void *ctx), void *ctx)
{
	const char *arg;
	int key, rc;

	if (opt_init_permute(s, argc, argv, argv[0]) < 0)
		return cli_error("%s: out of memory", argv[0]);
	while ((key = opt_next(s, defs, &arg)) > 0) {
		rc = on(key, arg, ctx);
		if (rc) {
			opt_free(s);
			return rc;
		}
	}
	if (key < 0) {
		cli_error("%s", s->err);
		opt_free(s);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static int no_opt(int key, const char *arg, void *ctx)
{
	(void)key; (void)arg; (void)ctx;
	return 0;
}

struct start_args { bool attach; const char *keys; };

static int start_opt(int key, const char *arg, void *ctx)
{
	struct start_args *sa = ctx;
	char err[CLI_ERR_MAX];
	struct tty_keys k;

	if (key == 1) {
		sa->attach = true;
		return 0;
	}
	sa->keys = arg;
	if (tty_parse_detach_keys(arg, &k, err, sizeof(err)) < 0) {
		cli_error("start: %s", err);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int cmd_start(const struct cli *g, int argc, char **argv)
{
	static const struct opt_def defs[] = {
		{ "attach", 'a', false, 1 }, { "detach-keys", 0, true, 2 }, { "", 0, false, 0 },
	};
	struct start_args sa = { false, NULL };
	struct sv_client *c;
	struct opt_scan s;
	const char *id;
	int rc = scan(&s, defs, argc, argv, start_opt, &sa);

	if (rc || (rc = one_id(&s, "start [-a [--detach-keys K]] ID", &id)))
		return rc;
	if (sa.attach)
		return cli_start_attach(g, id, sa.keys);
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	rc = sv_start(c, id, NULL);
	if (rc < 0)
		rc = cli_call_error(c, rc, "start %s", id);
	sv_close(c);
	return rc;
}

struct kill_args { uint32_t sig; bool all; };

static int kill_opt(int key, const char *arg, void *ctx)
{
	struct kill_args *k = ctx;
	char err[CLI_ERR_MAX];

	if (key == 2) {
		k->all = true;
		return 0;
	}
	if (cli_parse_signal(arg, &k->sig, err, sizeof(err)) < 0) {
		cli_error("kill: %s", err);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int cmd_kill(const struct cli *g, int argc, char **argv)
{
	static const struct opt_def defs[] = {
		{ "signal", 's', true, 1 }, { "all", 'a', false, 2 }, { "", 0, false, 0 },
	};
	struct kill_args k = { .sig = SIGKILL,   /* like docker kill: a task's pid 1 ignores unhandled signals */ .all = false };
	struct sv_client *c;
	struct opt_scan s;
	const char *id;
	int rc = scan(&s, defs, argc, argv, kill_opt, &k);

	if (rc || (rc = one_id(&s, "kill [-s SIG] [--all] ID", &id)))
		return rc;
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	rc = sv_kill(c, id, k.sig, k.all);
	if (rc < 0)
		rc = cli_call_error(c, rc, "kill %s", id);
	sv_close(c);
	return rc;
}

int cmd_wait(const struct cli *g, int argc, char **argv)
{
	struct sv_client *c;
	struct opt_scan s;
	const char *id;
	uint32_t status = 0;
	int rc = scan(&s, no_opts, argc, argv, no_opt, NULL);

	if (rc || (rc = one_id(&s, "wait ID", &id)))
		return rc;
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	rc = sv_wait(c, id, &status, NULL);
	if (rc < 0)
		rc = cli_call_error(c, rc, "wait %s", id);
	else
		rc = status > 255 ? 255 : (int)status;
	sv_close(c);
	return rc;
}

static int delete_opt(int key, const char *arg, void *ctx)
{
	(void)key; (void)arg;
	*(bool *)ctx = true;
	return 0;
}

int cmd_delete(const struct cli *g, int argc, char **argv)
{
	static const struct opt_def defs[] = { { "force", 'f', false, 1 }, { "", 0, false, 0 } };
	struct sv_client *c = NULL;
	struct opt_scan s;
	bool force = false;
	char err[CLI_ERR_MAX];
	int rc = scan(&s, defs, argc, argv, delete_opt, &force);

	char **ids;
	int n;

	if (rc)
		return rc;
	n = opt_operands(&s, &ids);
	if (n == 0) {
		cli_error("%s: missing ID (usage: %s [-f] ID...)", argv[0], argv[0]);
		rc = CLI_EXIT_USAGE;
	}
	for (int i = 0; i < n && !rc; i++) {
		if (cli_check_id("id", ids[i], err, sizeof(err)) < 0) {
			cli_error("%s", err);
			rc = CLI_EXIT_USAGE;
		}
	}
	if (!rc && !(c = cli_connect(g)))
		rc = CLI_EXIT_FAIL;
	if (rc) {
		opt_free(&s);
		return rc;
	}
	bool ttys = tty_fifos_any();
	for (int i = 0; i < n; i++) {
		sv_StateResponse ps = sv_StateResponse_init_zero;
		/* a terminal's FIFOs (kept for attach) go with the task */
		bool tty = ttys && sv_process(c, ids[i], NULL, &ps) == 0 && ps.terminal;
		int e = sv_delete(c, ids[i], force, NULL);

		if (e < 0)
			rc = cli_call_error(c, e, "%s %s", argv[0], ids[i]);
		else if (tty)
			tty_fifos_forget(ps.stdin);
		sv_pb_free(sv_StateResponse_fields, &ps);
	}
	sv_close(c);
	opt_free(&s);
	return rc;
}

static int format_opt(int key, const char *arg, void *ctx)
{
	(void)key;
	if (strcmp(arg, "json") == 0) {
		*(bool *)ctx = true;
		return 0;
	}
	if (strcmp(arg, "text") == 0 || strcmp(arg, "table") == 0)
		return 0;
	cli_error("invalid --format \"%.32s\": want json", arg);
	return CLI_EXIT_USAGE;
}

/* CMD ID [--format json] (state, stats): the id, the format, a connected client; 0 or the
 * exit code. */
static int formatted_id(const struct cli *g, int argc, char **argv, const char **id,
			bool *json, struct sv_client **c)
{
	static const struct opt_def defs[] = { { "format", 0, true, 1 }, { "", 0, false, 0 } };
	char usage[48];
	struct opt_scan s;
	int rc = scan(&s, defs, argc, argv, format_opt, json);

	snprintf(usage, sizeof(usage), "%s ID [--format json]", argv[0]);
	if (rc || (rc = one_id(&s, usage, id)))
		return rc;
	*c = cli_connect(g);
	return *c ? 0 : CLI_EXIT_FAIL;
}

/* Write b to stdout and free it; 0 or the exit code (the error printed). */
static int flush_out(struct sbuf *b, const char *cmd)
{
	int rc = sb_flush_fd(b, STDOUT_FILENO);

	sb_free(b);
	if (rc < 0)
		return cli_error("%s: write output: %s", cmd, strerror(-rc));
	return 0;
}

int cli_scan(struct opt_scan *s, const struct opt_def *defs, int argc, char **argv,
	     int (*on)(int key, const char *arg, void *ctx), void *ctx)
{
	return scan(s, defs, argc, argv, on, ctx);
}

int cli_one_id(struct opt_scan *s, const char *usage, const char **id)
{
	return one_id(s, usage, id);
}

int cli_format_opt(int key, const char *arg, void *ctx)
{
	return format_opt(key, arg, ctx);
}

int cli_flush_out(struct sbuf *b, const char *cmd)
{
	return flush_out(b, cmd);
}

int cmd_state(const struct cli *g, int argc, char **argv)
{
	struct sv_client *c;
	sv_StateResponse st;
	struct task_view v;
	struct sbuf b = { 0 };
	const char *id;
	bool json = false;
	int rc = formatted_id(g, argc, argv, &id, &json, &c);

	if (rc)
		return rc;
	rc = sv_state(c, id, &st);
	if (rc < 0) {
		rc = cli_call_error(c, rc, "state %s", id);
		sv_close(c);
		return rc;
	}
	v = (struct task_view){
		.id = st.id[0] ? st.id : id, .status = st.status, .pid = st.pid,
		.exit_status = st.exit_status, .has_exited_at = st.has_exited_at,
		.exited_at = st.exited_at, .bundle = st.bundle,
		.restart_count = st.restart_count, .restart = st.restart,
	};
	if (json) {
		struct jw w;

		jw_init(&w, &b);
		task_view_json(&w, &v);
		sb_putc(&b, '\n');
	} else {
		task_view_text(&b, &v);
	}
	rc = flush_out(&b, "state");
	sv_pb_free(sv_StateResponse_fields, &st);
	sv_close(c);
	return rc;
}

/* ps --format json: {"id", "processes": [{"pid", "exec_id"}]}, exec_id "" for the task's
 * own processes (an exec's pid carries containerd.runc.v1.ProcessDetails). */
void cli_procs_json_open(struct jw *w, struct sbuf *b, const char *id)
{
	jw_init(w, b);
	jw_obj(w);
	jw_key(w, "id");
	jw_str(w, id);
	jw_key(w, "processes");
	jw_arr(w);
}

void cli_procs_json_close(struct jw *w)
{
	jw_arr_end(w);
	jw_obj_end(w);
	sb_putc(w->b, '\n');
}

static void ps_json(struct sbuf *b, const char *id, const sv_PidsResponse *r)
{
	struct jw w;

	cli_procs_json_open(&w, b, id);
	for (pb_size_t i = 0; i < r->processes_count; i++) {
		const sv_ProcessInfo *p = &r->processes[i];
		const pb_bytes_array_t *v = p->has_info ? p->info.value : NULL;
		sv_ProcessDetails d = { 0 };
		bool exec = p->has_info && p->info.type_url &&
			    !strcmp(p->info.type_url, "containerd.runc.v1.ProcessDetails") &&
			    sv_pb_decode(sv_ProcessDetails_fields, &d, v ? v->bytes : NULL,
					 v ? v->size : 0) == 0;

		jw_obj(&w);
		jw_key(&w, "pid");
		jw_u64(&w, p->pid);
		jw_key(&w, "exec_id");
		jw_str(&w, exec ? d.exec_id : "");
		jw_obj_end(&w);
		if (exec)
			sv_pb_free(sv_ProcessDetails_fields, &d);
	}
	cli_procs_json_close(&w);
}

int cmd_ps(const struct cli *g, int argc, char **argv)
{
	struct sv_client *c;
	sv_PidsResponse r;
	struct sbuf b = { 0 };
	const char *id;
	bool json = false;
	int rc = formatted_id(g, argc, argv, &id, &json, &c);

	if (rc)
		return rc;
	rc = sv_processes(c, id, &r);
	if (rc < 0) {
		rc = cli_call_error(c, rc, "ps %s", id);
		sv_close(c);
		return rc;
	}
	if (json) {
		ps_json(&b, id, &r);
	} else {
		sb_puts(&b, "PID\n");
		for (pb_size_t i = 0; i < r.processes_count; i++)
			sb_printf(&b, "%u\n", r.processes[i].pid);
	}
	rc = flush_out(&b, "ps");
	sv_pb_free(sv_PidsResponse_fields, &r);
	sv_close(c);
	return rc;
}

/* pause ID, resume ID: no options, nothing printed. */
static int id_only(const struct cli *g, int argc, char **argv,
		   int (*call)(struct sv_client *c, const char *id))
{
	char usage[32];
	struct sv_client *c;
	struct opt_scan s;
	const char *id;
	int rc = scan(&s, no_opts, argc, argv, no_opt, NULL);

	snprintf(usage, sizeof(usage), "%s ID", argv[0]);
	if (rc || (rc = one_id(&s, usage, &id)))
		return rc;
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	rc = call(c, id);
	if (rc < 0)
		rc = cli_call_error(c, rc, "%s %s", argv[0], id);
	sv_close(c);
	return rc;
}

int cmd_pause(const struct cli *g, int argc, char **argv)
{
	return id_only(g, argc, argv, sv_pause);
}

int cmd_resume(const struct cli *g, int argc, char **argv)
{
	return id_only(g, argc, argv, sv_resume);
}

/* Print what stats answered, as a table or JSON. */
static int print_stats(const char *id, const sv_StatsResponse *r, bool json)
{
	char err[CLI_ERR_MAX];
	struct stats_view v;
	struct sbuf b = { 0 };

	if (cli_stats_view(&v, id, r, err, sizeof(err)) < 0)
		return cli_error("stats %s: %s", id, err);
	if (json)
		cli_stats_json(&b, &v);
	else
		cli_stats_table(&b, &v);
	return flush_out(&b, "stats");
}

int cmd_stats(const struct cli *g, int argc, char **argv)
{
	struct sv_client *c;
	sv_StatsResponse r;
	const char *id;
	bool json = false;
	int rc = formatted_id(g, argc, argv, &id, &json, &c);

	if (rc)
		return rc;
	rc = sv_stats(c, id, &r);
	if (rc < 0)
		rc = cli_call_error(c, rc, "stats %s", id);
	else
		rc = print_stats(id, &r, json);
	sv_pb_free(sv_StatsResponse_fields, &r);
	sv_close(c);
	return rc;
}

enum { U_MEMORY = 1, U_PIDS, U_CPUS };

static int update_opt(int key, const char *arg, void *ctx)
{
	struct cli_limits *l = ctx;
	char err[CLI_ERR_MAX];
	int rc;

	if (key == U_MEMORY)
		rc = cli_parse_bytes(arg, &l->memory, err, sizeof(err));
	else if (key == U_PIDS)
		rc = cli_parse_pids(arg, &l->pids, err, sizeof(err));
	else
		rc = cli_parse_cpus(arg, &l->cpus_milli, err, sizeof(err));
	if (rc < 0) {
		cli_error("update: %s", err);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int cmd_update(const struct cli *g, int argc, char **argv)
{
	static const char usage[] = "update ID [--memory BYTES] [--pids N] [--cpus N]";
	static const struct opt_def defs[] = {
		{ "memory", 0, true, U_MEMORY }, { "pids", 0, true, U_PIDS },
		{ "cpus", 0, true, U_CPUS }, { "", 0, false, 0 },
	};
	sv_CtlUpdateRequest req = sv_CtlUpdateRequest_init_zero;
	struct cli_limits l = { 0 };
	struct sv_client *c;
	struct opt_scan s;
	const char *id;
	int rc = scan(&s, defs, argc, argv, update_opt, &l);

	if (rc || (rc = one_id(&s, usage, &id)))
		return rc;
	if (!l.memory && !l.pids && !l.cpus_milli) {
		cli_error("update: nothing to change (usage: %s)", usage);
		return CLI_EXIT_USAGE;
	}
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	memcpy(req.id, id, strlen(id) + 1);         /* validated: < SV_ID_SZ */
	req.memory = l.memory;
	req.pids = l.pids;
	req.cpus_milli = l.cpus_milli;
	rc = sv_update(c, &req);
	if (rc < 0)
		rc = cli_call_error(c, rc, "update %s", id);
	sv_close(c);
	return rc;
}

/* logs -f: print what the task writes until it has exited (a Wait on a second connection
 * ends the loop; inotify on the bundle directory says when to read). */
int cli_logs_follow(const struct cli *g, const char *id, int dirfd, struct log_follow *f,
		    uint32_t *status)
{
	struct sv_client *w = cli_connect(g);
	int in = -1, rc;
	char dpath[64];

	if (!w)
		return CLI_EXIT_FAIL;
	snprintf(dpath, sizeof(dpath), "/proc/self/fd/%d", dirfd);
	in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in < 0 || inotify_add_watch(in, dpath, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
		rc = cli_error("logs %s: inotify: %s", id, strerror(errno));
		goto out;
	}
	if ((rc = sv_wait_send(w, id)) < 0) {
		rc = cli_call_error(w, rc, "logs %s", id);
		goto out;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = in, .events = POLLIN }, { .fd = sv_client_fd(w), .events = POLLIN } };
		char evbuf[4096];

		if ((rc = logs_follow_step(dirfd, STDOUT_FILENO, f)) < 0) {
			rc = cli_error("logs %s: %s", id, strerror(-rc));
			break;
		}
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			rc = cli_error("logs %s: poll: %s", id, strerror(errno));
			break;
		}
		while (read(in, evbuf, sizeof(evbuf)) > 0)
			;
		if (p[1].revents) {
			/* it exited (or is gone): the worker wrote its last output before that */
			rc = sv_wait_recv(w, status, NULL);
			rc = rc < 0 && rc != -ENOENT ? cli_call_error(w, rc, "logs %s", id) : 0;
			if (logs_follow_step(dirfd, STDOUT_FILENO, f) < 0 && rc == 0)
				rc = CLI_EXIT_FAIL;
			break;
		}
	}
out:
	if (in >= 0)
		close(in);
	sv_close(w);
	return rc;
}

static int logs_opt(int key, const char *arg, void *ctx)
{
	(void)key; (void)arg;
	*(bool *)ctx = true;
	return 0;
}

int cmd_logs(const struct cli *g, int argc, char **argv)
{
	static const struct opt_def defs[] = { { "follow", 'f', false, 1 }, { "", 0, false, 0 } };
	struct log_follow f = { .fd = -1 };
	struct sv_client *c;
	sv_StateResponse st;
	struct opt_scan s;
	bool follow_on = false;
	const char *id;
	int rc = scan(&s, defs, argc, argv, logs_opt, &follow_on), dirfd;

	if (rc || (rc = one_id(&s, "logs [-f] ID", &id)))
		return rc;
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	rc = sv_state(c, id, &st);
	if (rc < 0)
		rc = cli_call_error(c, rc, "logs %s", id);
	sv_close(c);
	if (rc)
		return rc;
	dirfd = st.bundle ? open(st.bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	rc = dirfd < 0 ? -errno : logs_dump(dirfd, STDOUT_FILENO, &f);
	sv_pb_free(sv_StateResponse_fields, &st);
	if (rc == -ENOENT)
		rc = cli_error("logs %s: no log (only a detached task has one; a task run in the "
			       "foreground wrote to its client)", id);
	else if (rc < 0)
		rc = cli_error("logs %s: %s", id, strerror(-rc));
	else if (follow_on)
		rc = cli_logs_follow(g, id, dirfd, &f, &(uint32_t){ 0 });
	logs_close(&f);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}
