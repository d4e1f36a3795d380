/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_exec.c: the exec command: one more process in a running task, detached or
 * attached (stdio copied, signals forwarded, its exit status ours, then removed). */
#include <string.h>

#include "client/cli/cli.h"

/* Send the Exec: with io's FIFOs as its stdio, or detached (io NULL). 0 or the exit code. */
static int send_exec(struct sv_client *c, const struct run_opts *o, const struct run_io *io)
{
	sv_CtlExecRequest req = sv_CtlExecRequest_init_zero;
	int rc;

	memcpy(req.id, o->id, strlen(o->id) + 1);                 /* validated: < SV_ID_SZ */
	memcpy(req.exec_id, o->exec_id, strlen(o->exec_id) + 1);
	req.args = o->args;
	req.args_count = (pb_size_t)o->args_count;
	req.env = o->env;
	req.env_count = (pb_size_t)o->env_count;
	req.cwd = (char *)o->cwd;
	req.set_user = o->set_user;
	req.uid = o->uid;
	req.gid = o->gid;
	req.detach = io == NULL;
	if (io) {
		req.stdin = (char *)io->path[0];
		req.stdout = (char *)io->path[1];
		req.stderr = (char *)io->path[2];
		req.terminal = io->tty;
		req.console_width = io->width;
		req.console_height = io->height;
	}
	rc = sv_exec(c, &req, NULL);
	return rc < 0 ? cli_call_error(c, rc, "exec %s", o->id) : 0;
}

static int start_exec(struct sv_client *c, const struct run_io *io, void *o)
{
	return send_exec(c, o, io);
}

/* Attached, once it has exited: the exec goes (a detached one the daemon removes). */
static void remove_exec(struct sv_client *c, void *ctx)
{
	const struct run_opts *o = ctx;
	int rc = sv_delete_exec(c, o->id, o->exec_id, NULL);

	if (rc < 0)
		cli_call_error(c, rc, "exec %s: delete %s", o->id, o->exec_id);
}

int cmd_exec(const struct cli *g, int argc, char **argv)
{
	char err[CLI_ERR_MAX];
	struct run_opts o;
	struct run_attach a = { .cmd = "exec", .start = start_exec, .finish = remove_exec, .ctx = &o };
	int rc = cli_parse_exec(argc, argv, &o, err, sizeof(err));

	if (rc < 0) {
		cli_error("%s", err);
		run_opts_free(&o);
		return CLI_EXIT_USAGE;
	}
	a.id = o.id;
	a.exec_id = o.exec_id;
	a.tty = o.tty;
	a.fwd_in = !o.tty || o.interactive;
	a.detach_keys = o.detach_keys;
	rc = run_io_command(g, &a, o.detach);
	run_opts_free(&o);
	return rc;
}
