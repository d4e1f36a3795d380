/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/main.c: the shimvisor command: global options, then one command from the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/cli.h"
#include "wire/limits.h"

typedef int (*cmd_fn)(const struct cli *g, int argc, char **argv);

static const struct { const char *name; cmd_fn fn; } commands[] = {
	{ "run", cmd_run }, { "create", cmd_create }, { "start", cmd_start },
	{ "kill", cmd_kill }, { "wait", cmd_wait }, { "delete", cmd_delete },
	{ "ls", cmd_ls }, { "state", cmd_state }, { "ps", cmd_ps },
	{ "events", cmd_events }, { "version", cmd_version }, { "pause", cmd_pause },
	{ "resume", cmd_resume }, { "stats", cmd_stats }, { "update", cmd_update },
	{ "logs", cmd_logs }, { "exec", cmd_exec }, { "selftest", cmd_selftest },
	{ "stop", cmd_stop }, { "restart", cmd_restart }, { "rm", cmd_delete },
	{ "top", cmd_top }, { "prune", cmd_prune }, { "inspect", cmd_inspect },
	{ "attach", cmd_attach },
};

static const char usage[] =
	"usage: shimvisor [-a SOCK] [-n NS] COMMAND [ARGS...]\n"
	"  run [--rm] [-d] [-t [-i]] [--rootfs DIR|--bundle DIR] [-e K=V]... [--env-file F]...\n"
	"      [-w|--cwd DIR] [-u USER[:GROUP]] [--entrypoint CMD] [--hostname H] [--label K=V]...\n"
	"      [--net none|host|loopback|PATH] [--memory BYTES] [--pids N] [--cpus N]\n"
	"      [-v SRC:DST[:ro|:rw]]... [--mount type=bind|tmpfs,...]... [--tmpfs DST[:OPTS]]...\n"
	"      [--read-only] [--cap-add CAP]... [--cap-drop CAP|ALL]...\n"
	"      [--security-opt seccomp=unconfined|FILE|no-new-privileges]...\n"
	"      [--restart no|on-failure[:N]|always|unless-stopped (with -d)] ID [CMD...]\n"
	"  create (as run, not started) | start [-a] ID | kill [-s SIG] [--all] ID | wait ID\n"
	"  " CLI_EXEC_USAGE "\n"
	"  delete|rm [-f] ID... | ls [-q] [--format json] [-f|--filter label=K[=V]|status=S|id=ID]...\n"
	"  inspect ID... | state ID [--format json] | ps ID [--format json] | top ID [--format json]\n"
	"  pause ID | resume ID | stop [-t SECS] ID... | restart [-t SECS] ID... | prune [-f]\n"
	"  stats ID [--format json]\n"
	"  update ID [--memory BYTES] [--pids N] [--cpus N] | logs [-f] ID\n"
	"  events [--format json] | selftest | version [--format json]\n"
	"  attach [--exec-id E] ID: to a process started with -t\n"
	"  -t: a terminal; -i: with it, our stdin; --detach-keys K (run, exec, start -a, attach;\n"
	"      default ctrl-p,ctrl-q): leave the task running\n"
	"  BYTES: 1048576, 512k, 64m or 2g (powers of 1024); --cpus N: CPUs, as 0.5 or 1.25\n"
	"environment: SHIMVISOR_ADDRESS (-a), SHIMVISOR_NAMESPACE (-n)\n";

int main(int argc, char **argv)
{
	static const struct opt_def defs[] = {
		{ "address", 'a', true, 'a' },
		{ "namespace", 'n', true, 'n' },
		{ "help", 'h', false, 'h' },
		{ "", 0, false, 0 },
	};
	struct cli g = { .address = sv_default_address(), .ns = getenv(SV_ENV_NAMESPACE) };
	char err[CLI_ERR_MAX];
	struct opt_scan s;
	const char *arg;
	int key;

	if (!g.ns || !*g.ns)
		g.ns = SV_DEFAULT_NS;
	opt_init(&s, argc, argv, "shimvisor");
	while ((key = opt_next(&s, defs, &arg)) > 0) {
		if (key == 'a')
			g.address = arg;
		else if (key == 'n')
			g.ns = arg;
		else {
			fputs(usage, stdout);
			return 0;
		}
	}
	if (key < 0) {
		fprintf(stderr, "shimvisor: %s\n", s.err + strlen("shimvisor: "));
		return CLI_EXIT_USAGE;
	}
	if (s.i >= argc) {
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	if (cli_check_id("namespace", g.ns, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[s.i], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[s.i], commands[i].name) != 0)
			continue;
		return commands[i].fn(&g, argc - s.i, argv + s.i);
	}
	cli_error("unknown command \"%.64s\" (see shimvisor --help)", argv[s.i]);
	return CLI_EXIT_USAGE;
}
