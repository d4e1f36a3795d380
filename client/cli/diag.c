/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/diag.c: the CLI's one-line error messages and its connection to shimvisord. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client/cli/cli.h"

static void vline(const char *fmt, va_list ap, const char *why)
{
	char m[1024];

	vsnprintf(m, sizeof(m), fmt, ap);
	/* One line, whatever a daemon message holds. */
	for (char *p = m; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (why)
		fprintf(stderr, "shimvisor: %s: %s\n", m, why);
	else
		fprintf(stderr, "shimvisor: %s\n", m);
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap, NULL);
	va_end(ap);
	return CLI_EXIT_FAIL;
}

int cli_call_error(struct sv_client *c, int err, const char *fmt, ...)
{
	char why[600];
	const char *m = c ? sv_last_error(c) : "";
	va_list ap;

	snprintf(why, sizeof(why), "%s", m && *m ? m : strerror(-err));
	for (char *p = why; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	va_start(ap, fmt);
	vline(fmt, ap, why);
	va_end(ap);
	return CLI_EXIT_FAIL;
}

struct sv_client *cli_connect(const struct cli *g)
{
	struct sv_client *c;
	int err = sv_connect(g->address, &c);

	if (err < 0) {
		cli_error("connect %s: %s", g->address, strerror(-err));
		return NULL;
	}
	err = sv_set_namespace(c, g->ns);
	if (err < 0) {
		cli_error("invalid namespace \"%s\": must match " SV_ID_RULE, g->ns);
		sv_close(c);
		return NULL;
	}
	return c;
}
