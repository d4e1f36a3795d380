/* SPDX-License-Identifier: Apache-2.0 */
/* common/multicall.c: main() of the one static binary (musl builds) that is shimvisord,
 * shimvisor-worker and shimvisor: the name it is run as picks the program. The Makefile
 * renames each program's main() to the sv_main_* below. */
#include <stdio.h>
#include <string.h>

int sv_main_daemon(int argc, char **argv);
int sv_main_worker(int argc, char **argv);
int sv_main_cli(int argc, char **argv);

static const struct {
	char name[32];
	unsigned char prefix;       /* also the name followed by '-' and more */
	unsigned char prog;
} names[] = {
	{ "shimvisord", 1, 0 },     /* and the engine, exec'd as "shimvisord-eng" */
	{ "shimvisor-worker", 0, 1 },
	{ "containerd-shim-shimvisor-v2", 0, 1 },   /* containerd runs the worker by this name */
	{ "shimvisor", 0, 2 },
};

int main(int argc, char **argv)
{
	static int (*const prog[])(int, char **) = { sv_main_daemon, sv_main_worker, sv_main_cli };
	const char *base = argc > 0 && argv[0] ? argv[0] : "";
	const char *slash = strrchr(base, '/');
	size_t i, n;

	if (slash)
		base = slash + 1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i].name);
		if (!strncmp(base, names[i].name, n) &&
		    (!base[n] || (names[i].prefix && base[n] == '-')))
			return prog[names[i].prog](argc, argv);
	}
	fprintf(stderr, "%s: run this program as shimvisord, shimvisor-worker, "
		"containerd-shim-shimvisor-v2 or shimvisor\n", base[0] ? base : "shimvisord");
	return 127;
}
