/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_run.c: the run and create commands (create, start and remove; run_io.c
 * attaches, copies and waits). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "client/cli/cli.h"

static int parse(int argc, char **argv, bool create, struct run_opts *o)
{
	char err[CLI_ERR_MAX];
	int rc = cli_parse_run(argc, argv, create, o, err, sizeof(err));

	if (rc < 0) {
		cli_error("%s", err);
		run_opts_free(o);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* Create the task from o (with the given stdio paths, or detached); with start, start it in
 * the same exchange (sv_create_start removes only a task its own Create made). A terminal
 * task always has its FIFOs (never the log: a pty is attached to, not logged). */
static int create_task(struct sv_client *c, struct run_opts *o, const struct run_io *io, bool start)
{
	sv_CtlCreateRequest req;
	char err[CLI_ERR_MAX];
	int rc = run_opts_request(o, &req, err, sizeof(err));

	if (rc < 0)
		return cli_error("%s", err);
	if (io) {
		req.stdin = (char *)io->path[0];
		req.stdout = (char *)io->path[1];
		req.stderr = (char *)io->path[2];
		req.terminal = io->tty;
		req.console_width = io->width;
		req.console_height = io->height;
		req.detach = req.detach && !io->tty;
	}
	rc = start ? sv_create_start(c, &req, NULL) : sv_create(c, &req, NULL);
	if (rc < 0)
		rc = cli_call_error(c, rc, "%s %s", o->create ? "create" : "run", o->id);
	return rc;
}

/* create -t, run -d -t: the task with a terminal and no client; its FIFOs stay for
 * `start -a` or `attach` (and go with `delete`). */
static int create_tty(struct sv_client *c, struct run_opts *o, bool start)
{
	struct run_io io;
	int rc = run_io_setup(&io, true);

	if (rc < 0) {
		cli_error("%s: terminal fifos in %s: %s", o->create ? "create" : "run",
			  io.dir[0] ? io.dir : "$TMPDIR", strerror(-rc));
		run_io_cleanup(&io);
		return CLI_EXIT_FAIL;
	}
	if (tty_size(STDIN_FILENO, &io.width, &io.height) < 0 &&
	    tty_size(STDOUT_FILENO, &io.width, &io.height) < 0)
		io.width = io.height = 0;
	rc = create_task(c, o, &io, start);
	if (rc)
		run_io_cleanup(&io);
	else
		run_io_release(&io);
	return rc;
}

int cmd_create(const struct cli *g, int argc, char **argv)
{
	struct run_opts o;
	struct sv_client *c;
	int rc = parse(argc, argv, true, &o);

	if (rc)
		return rc;
	c = cli_connect(g);
	rc = !c ? CLI_EXIT_FAIL : o.tty ? create_tty(c, &o, false) : create_task(c, &o, NULL, false);
	sv_close(c);
	run_opts_free(&o);
	return rc;
}

static int start_task(struct sv_client *c, const struct run_io *io, void *o)
{
	return create_task(c, o, io, true);
}

/* run --rm: the task goes once it has exited. */
static void remove_task(struct sv_client *c, void *ctx)
{
	const struct run_opts *o = ctx;
	int rc;

	if (!o->rm)
		return;
	rc = sv_delete(c, o->id, false, NULL);
	/* with a terminal the daemon deletes it too (auto_remove): gone, or going, is done */
	if (rc < 0 && !(o->tty && (rc == -ENOENT || rc == -EBUSY)))
		cli_call_error(c, rc, "run --rm: delete %s", o->id);
}

int cmd_run(const struct cli *g, int argc, char **argv)
{
	struct run_opts o;
	struct run_attach a = { .cmd = "run", .start = start_task, .finish = remove_task, .ctx = &o };
	int rc = parse(argc, argv, false, &o);

	if (rc)
		return rc;
	a.id = o.id;
	a.tty = o.tty;
	a.fwd_in = !o.tty || o.interactive;
	a.detach_keys = o.detach_keys;
	if (o.tty && o.detach) {
		struct sv_client *c = cli_connect(g);

		rc = c ? create_tty(c, &o, true) : CLI_EXIT_FAIL;
		sv_close(c);
		run_opts_free(&o);
		return rc;
	}
	rc = run_io_command(g, &a, o.detach);
	run_opts_free(&o);
	return rc;
}
