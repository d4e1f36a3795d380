/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_attach.c: attach to a terminal process's kept FIFOs (found with Process),
 * and start -a: start a created task, then attach to it or follow its log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/cli/cli.h"

struct attach_args {
	const char *exec_id, *detach_keys;
};

/* Once it has exited: an exec is removed, as `exec` removes the one it waited for (the
 * `exec -t` that started this one left on the detach keys); the task stays, as after run. */
static void finish(struct sv_client *c, const char *id, const char *exec_id)
{
	int rc = exec_id ? sv_delete_exec(c, id, exec_id, NULL) : 0;

	if (rc < 0 && rc != -ENOENT)
		cli_call_error(c, rc, "attach %s: delete exec %s", id, exec_id);
}

/* The process's FIFOs, opened; with start, the task started once they are (its first output
 * is ours). 0 with *status or a->detached, or the exit code (the error printed). */
static int attach_tty(const struct cli *g, struct sv_client *c, const struct run_attach *a,
		      const sv_StateResponse *ps, bool start, uint32_t *status, bool *detached)
{
	struct run_io io;
	uint32_t w, h;
	int rc;

	if (!ps->stdout || !ps->stdout[0])
		return cli_error("%s %s: its terminal has no FIFO to attach to", a->cmd, a->id);
	rc = run_io_open(&io, ps->stdin, ps->stdout);
	if (rc < 0)
		return cli_error("%s %s: open %s: %s%s", a->cmd, a->id, ps->stdout, strerror(-rc),
				 rc == -EACCES ? " (only the user who started it may attach)" : "");
	/* the size before the program can draw (start), or to make it redraw (attach) */
	if (tty_size(STDIN_FILENO, &w, &h) == 0 || tty_size(STDOUT_FILENO, &w, &h) == 0)
		sv_resize_pty(c, a->id, a->exec_id, w, h);
	if (start && (rc = sv_start(c, a->id, NULL)) < 0) {
		run_io_release(&io);
		return cli_call_error(c, rc, "%s %s", a->cmd, a->id);
	}
	io.fwd_in = true;
	rc = run_io_tty_copy(g, c, a, &io, status);
	*detached = io.detached;
	run_io_release(&io);
	if (rc == 0 && !io.detached)
		tty_fifos_forget(ps->stdin);   /* it has exited: its FIFOs have no more use */
	return rc;
}

/* Attach (or start and attach) to process exec_id (NULL: the init) of task id. */
static int attach_to(const struct cli *g, const char *cmd, const char *id,
		     const struct attach_args *aa, bool start)
{
	struct run_attach a = { .cmd = cmd, .id = id, .exec_id = aa->exec_id,
				.tty = true, .fwd_in = true, .detach_keys = aa->detach_keys };
	sv_StateResponse ps;
	struct sv_client *c;
	bool detached = false;
	uint32_t status = 0;
	int rc;

	run_io_block_signals(true);
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	rc = sv_process(c, id, aa->exec_id, &ps);
	if (rc < 0) {
		rc = cli_call_error(c, rc, "%s %s", cmd, id);
	} else if (!ps.terminal) {
		rc = cli_error("%s %s: %s has no terminal (started without -t)%s", cmd, id,
			       aa->exec_id ? "the exec" : "it",
			       aa->exec_id ? "" : ": its output is in `shimvisor logs`");
	} else if (ps.status == sv_TaskStatus_STOPPED) {
		tty_fifos_forget(ps.stdin);
		finish(c, id, aa->exec_id);
		rc = cli_error("%s %s: it has exited (status %u)", cmd, id, ps.exit_status);
	} else if (!start && ps.status == sv_TaskStatus_CREATED) {
		rc = cli_error("%s %s: it is not started yet (start -a %s starts and attaches)",
			       cmd, id, id);
	} else {
		rc = attach_tty(g, c, &a, &ps, start, &status, &detached);
		if (rc == 0 && detached)
			run_io_detached_note(g, &a);
		else if (rc == 0)
			finish(c, id, aa->exec_id);
		if (rc == 0 && !detached)
			rc = status > 255 ? 255 : (int)status;
	}
	sv_pb_free(sv_StateResponse_fields, &ps);     /* zeroed by a failed sv_process */
	sv_close(c);
	return rc;
}

/* start -a of a task without a terminal: its output went to its log since Create; follow
 * it, as logs -f does, until it exits, and leave with its status. */
static int start_follow(const struct cli *g, struct sv_client *c, const char *id,
			const char *bundle)
{
	struct log_follow f = { .fd = -1 };
	uint32_t status = 0;
	int dirfd = bundle ? open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1, rc;

	if (dirfd < 0)
		return cli_error("start -a %s: its log: %s (following it needs read access to the "
				 "daemon's state)", id, strerror(errno));
	rc = logs_dump(dirfd, STDOUT_FILENO, &f);
	if (rc < 0 && rc != -ENOENT)
		rc = cli_error("start -a %s: its log: %s", id, strerror(-rc));
	else if ((rc = sv_start(c, id, NULL)) < 0)
		rc = cli_call_error(c, rc, "start %s", id);
	else if (f.fd < 0 && (rc = logs_dump(dirfd, STDOUT_FILENO, &f)) < 0)
		rc = cli_error("start -a %s: its log: %s", id, strerror(-rc));
	else if ((rc = cli_logs_follow(g, id, dirfd, &f, &status)) == 0)
		rc = status > 255 ? 255 : (int)status;
	logs_close(&f);
	close(dirfd);
	return rc;
}

int cli_start_attach(const struct cli *g, const char *id, const char *detach_keys)
{
	struct attach_args aa = { .detach_keys = detach_keys };
	sv_StateResponse ps;
	struct sv_client *c = cli_connect(g);
	int rc;

	if (!c)
		return CLI_EXIT_FAIL;
	rc = sv_process(c, id, NULL, &ps);
	if (rc < 0) {
		rc = cli_call_error(c, rc, "start %s", id);
		sv_close(c);
		return rc;
	}
	if (ps.terminal) {
		sv_close(c);
		rc = attach_to(g, "start", id, &aa, true);
	} else {
		rc = start_follow(g, c, id, ps.bundle);
		sv_close(c);
	}
	sv_pb_free(sv_StateResponse_fields, &ps);
	return rc;
}

static int attach_opt(int key, const char *arg, void *ctx, char *err, size_t errsz)
{
	struct attach_args *aa = ctx;
	char m[CLI_ERR_MAX];
	struct tty_keys k;

	if (key == 1) {
		if (cli_check_id("exec id", arg, err, errsz) < 0)
			return -EINVAL;
		aa->exec_id = arg;
		return 0;
	}
	aa->detach_keys = arg;
	if (tty_parse_detach_keys(arg, &k, m, sizeof(m)) < 0) {
		snprintf(err, errsz, "attach: %s", m);
		return -EINVAL;
	}
	return 0;
}

#define ATTACH_USAGE "attach [--exec-id E] [--detach-keys K] ID"

int cmd_attach(const struct cli *g, int argc, char **argv)
{
	static const struct opt_def defs[] = {
		{ "exec-id", 0, true, 1 }, { "detach-keys", 0, true, 2 }, { "", 0, false, 0 },
	};
	struct attach_args aa = { 0 };
	char err[CLI_ERR_MAX], **ops;
	struct opt_scan s;
	const char *arg;
	int key, n, rc = 0;

	if (opt_init_permute(&s, argc, argv, argv[0]) < 0)
		return cli_error("attach: out of memory");
	while ((key = opt_next(&s, defs, &arg)) > 0 && rc == 0)
		rc = attach_opt(key, arg, &aa, err, sizeof(err));
	if (key < 0 || rc < 0) {
		cli_error("%s", key < 0 ? s.err : err);
		opt_free(&s);
		return CLI_EXIT_USAGE;
	}
	n = opt_operands(&s, &ops);
	if (n != 1 || cli_check_id("id", ops[0], err, sizeof(err)) < 0) {
		if (n != 1)
			cli_error("attach: %s (usage: " ATTACH_USAGE ")",
				  n ? "too many arguments" : "missing ID");
		else
			cli_error("%s", err);
		opt_free(&s);
		return CLI_EXIT_USAGE;
	}
	rc = attach_to(g, "attach", ops[0], &aa, false);
	opt_free(&s);
	return rc;
}
