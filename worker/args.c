/* SPDX-License-Identifier: Apache-2.0 */
/* worker/args.c: Go `flag`-style command line (-name value, -name=value, --name value, bare booleans). */
#include <string.h>
#include "common/names.h"
#include "worker.h"

struct flagdef {
	char name[16];              /* inline (common/names.h): no pointer to relocate */
	size_t off;                 /* offset of the const char * in struct wopts */
};

SV_NAMES_BEGIN
static const struct flagdef flags[] = {
	{ "namespace",      offsetof(struct wopts, ns) },
	{ "id",             offsetof(struct wopts, id) },
	{ "bundle",         offsetof(struct wopts, bundle) },
	{ "address",        offsetof(struct wopts, address) },
	{ "publish-binary", offsetof(struct wopts, publish_binary) },
	{ "socket",         offsetof(struct wopts, socket) },
};
SV_NAMES_END

/* Returns the index of the first non-flag word (the action) or argc. Unknown flags are
 * ignored; an unknown flag followed by a word that is not a flag takes it as its value
 * unless the word is a known action. */
int wopts_parse(struct wopts *o, int argc, char **argv)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq;
		size_t nlen, k;
		bool known = false;

		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		name = a + 1;
		if (*name == '-')
			name++;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		if (nlen == 5 && strncmp(name, "debug", 5) == 0) {
			o->debug = !eq || strcmp(eq + 1, "false") != 0;
			continue;
		}
		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
			if (strlen(flags[k].name) == nlen && strncmp(flags[k].name, name, nlen) == 0) {
				const char **slot = (const char **)((char *)o + flags[k].off);

				known = true;
				if (eq)
					*slot = eq + 1;
				else if (i + 1 < argc)
					*slot = argv[++i];
				break;
			}
		}
		if (!known && !eq && i + 1 < argc && argv[i + 1][0] != '-' &&
		    strcmp(argv[i + 1], "start") != 0 && strcmp(argv[i + 1], "delete") != 0)
			i++;        /* unknown "-flag value": skip its value */
	}
	o->action = i < argc ? argv[i] : NULL;
	return i;
}
