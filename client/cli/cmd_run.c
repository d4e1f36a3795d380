/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_run.c: the run and create commands (create, start, attach, wait, remove). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

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
 * the same exchange (a failed run leaves nothing behind). */
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
	}
	rc = start ? sv_create_start(c, &req, NULL) : sv_create(c, &req, NULL);
	if (rc < 0) {
		rc = cli_call_error(c, rc, "%s %s", o->create ? "create" : "run", o->id);
		if (start)
			sv_delete(c, o->id, true, NULL);
	}
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
	rc = c ? create_task(c, &o, NULL, false) : CLI_EXIT_FAIL;
	sv_close(c);
	run_opts_free(&o);
	return rc;
}

static int run_detached(struct sv_client *c, struct run_opts *o)
{
	return create_task(c, o, NULL, true);
}

/* The exit status once the copy is over: a fresh connection when the first wait broke. */
static int wait_again(const struct cli *g, const char *id, uint32_t *status)
{
	struct sv_client *c = cli_connect(g);
	int rc;

	if (!c)
		return -ECONNREFUSED;
	rc = sv_wait(c, id, status, NULL);
	if (rc < 0)
		cli_call_error(c, rc, "run: wait %s", id);
	sv_close(c);
	return rc;
}

static int run_attached(const struct cli *g, struct sv_client *c, struct run_opts *o)
{
	struct sv_client *waiter = NULL;
	struct run_io io;
	uint32_t status = 0;
	int rc = run_io_setup(&io);

	if (rc < 0) {
		cli_error("run: stdio fifos in %s: %s", io.dir[0] ? io.dir : "$TMPDIR", strerror(-rc));
		run_io_cleanup(&io);
		return CLI_EXIT_FAIL;
	}
	rc = create_task(c, o, &io, true);
	if (rc) {
		run_io_cleanup(&io);
		return rc;
	}
	rc = run_io_started(&io);
	if (rc < 0)
		cli_error("run %s: open stdin fifo: %s", o->id, strerror(-rc));
	/* The wait is sent now, on its own connection, and answered whenever the task exits;
	 * the copy loop goes on until the output ends, so nothing written is lost. */
	if (sv_connect(g->address, &waiter) < 0 || sv_set_namespace(waiter, g->ns) < 0 ||
	    sv_wait_send(waiter, o->id) < 0) {
		sv_close(waiter);
		waiter = NULL;
	}
	rc = run_io_loop(&io, c, waiter, o->id, &status);
	sv_close(waiter);
	if (rc < 0 && wait_again(g, o->id, &status) < 0) {
		run_io_cleanup(&io);
		return CLI_EXIT_FAIL;
	}
	if (o->rm) {
		rc = sv_delete(c, o->id, false, NULL);
		if (rc < 0)
			cli_call_error(c, rc, "run --rm: delete %s", o->id);
	}
	run_io_cleanup(&io);
	return status > 255 ? 255 : (int)status;
}

int cmd_run(const struct cli *g, int argc, char **argv)
{
	struct run_opts o;
	struct sv_client *c;
	sigset_t set;
	int rc = parse(argc, argv, false, &o);

	if (rc)
		return rc;
	if (!o.detach) {
		/* From here the signals wait for the copy loop, which forwards them to the task. */
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGQUIT);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}
	c = cli_connect(g);
	if (!c)
		rc = CLI_EXIT_FAIL;
	else if (o.detach)
		rc = run_detached(c, &o);
	else
		rc = run_attached(g, c, &o);
	sv_close(c);
	run_opts_free(&o);
	return rc;
}
