/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cmd_prune.c: prune: delete every stopped task of the namespace, printing each
 * id. It never asks (scripts run it); -f is taken for docker's command lines. */
#include <stdio.h>
#include <string.h>

#include "client/cli/cli.h"

static int prune_opt(int key, const char *arg, void *ctx)
{
	(void)key; (void)arg; (void)ctx;
	return 0;
}

int cmd_prune(const struct cli *g, int argc, char **argv)
{
	static const struct opt_def defs[] = { { "force", 'f', false, 1 }, { "", 0, false, 0 } };
	sv_CtlListResponse l;
	struct sv_client *c;
	struct opt_scan s;
	char **ops;
	int rc = cli_scan(&s, defs, argc, argv, prune_opt, NULL);

	if (rc)
		return rc;
	if (opt_operands(&s, &ops) > 0) {
		cli_error("prune: unexpected argument \"%.64s\" (usage: prune [-f])", ops[0]);
		opt_free(&s);
		return CLI_EXIT_USAGE;
	}
	opt_free(&s);
	if (!(c = cli_connect(g)))
		return CLI_EXIT_FAIL;
	if ((rc = sv_list(c, &l)) < 0) {
		rc = cli_call_error(c, rc, "prune");
		sv_close(c);
		return rc;
	}
	for (pb_size_t i = 0; i < l.tasks_count; i++) {
		const char *id = l.tasks[i].id;
		int e;

		if (l.tasks[i].status != sv_TaskStatus_STOPPED)
			continue;
		e = sv_delete(c, id, false, NULL);
		if (e < 0) {    /* e.g. restarted or deleted meanwhile: said, the others go on */
			rc = cli_call_error(c, e, "prune: delete %s", id);
			continue;
		}
		printf("%s\n", id);
		fflush(stdout);
	}
	sv_pb_free(sv_CtlListResponse_fields, &l);
	sv_close(c);
	return rc;
}
