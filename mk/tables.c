/* SPDX-License-Identifier: Apache-2.0 */
/* mk/tables.c: print the lifecycle and message tables from the code, as markdown (`make
 * tables`; `tables --list` names them). DESIGN.md carries each between `<!-- table:NAME -->`
 * markers, and selftest/e2e/05-docs.t fails when one differs from what this prints. */
#include <stdio.h>
#include <string.h>
#include "supervisor/engine.h"
#include "supervisor/monitor.h"
#include "supervisor/task_table.h"
#include "worker/worker.h"

static const struct {
	const char *name;
	void (*print)(FILE *);
} tables[] = {
	{ "engine-task", task_table_markdown },           /* supervisor/task_table.c */
	{ "worker-proc", proc_table_markdown },           /* worker/proc_table.c */
	{ "monitor-requests", monitor_requests_print },   /* supervisor/monitor.c */
	{ "monitor-replies", engine_replies_print },      /* supervisor/engine_replies.c */
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

int main(int argc, char **argv)
{
	size_t i;

	if (argc == 1) {
		for (i = 0; i < NTABLES; i++) {
			printf("%s<!-- table:%s -->\n", i ? "\n" : "", tables[i].name);
			tables[i].print(stdout);
		}
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (i = 0; i < NTABLES; i++)
			printf("%s\n", tables[i].name);
		return 0;
	}
	for (i = 0; i < NTABLES; i++)
		if (!strcmp(argv[1], tables[i].name))
			break;
	if (argc != 2 || i == NTABLES) {
		fprintf(stderr, "usage: tables [--list | NAME]; NAME is one of:");
		for (i = 0; i < NTABLES; i++)
			fprintf(stderr, " %s", tables[i].name);
		fprintf(stderr, "\n");
		return 2;
	}
	tables[i].print(stdout);
	return 0;
}
