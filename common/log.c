/* SPDX-License-Identifier: Apache-2.0 */
/* common/log.c: the process logger: one "prog: message\n" line per write(), and sv_die(). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define SV_LOG_LINE 1024

/* The one global the conventions allow. */
static struct {
	char prog[64];
	int fd;
	int debug;
} sv_logger = { "shimvisor", 2, 0 };

void sv_log_init(const char *prog)
{
	const char *base = prog ? strrchr(prog, '/') : NULL;

	if (!prog || !*prog)
		return;
	base = base ? base + 1 : prog;
	snprintf(sv_logger.prog, sizeof(sv_logger.prog), "%s", base);
}

void sv_log_set_fd(int fd)
{
	sv_logger.fd = fd;
}

void sv_log_set_debug(int on)
{
	sv_logger.debug = on;
}

__attribute__((format(printf, 3, 0)))
static void vlog(int err, const char *tag, const char *fmt, va_list ap)
{
	char line[SV_LOG_LINE];
	size_t n, cap = sizeof(line) - 1;   /* room for the newline */
	int saved = errno, k;

	k = snprintf(line, cap, "%s: %s", sv_logger.prog, tag);
	n = k < 0 ? 0 : ((size_t)k < cap ? (size_t)k : cap - 1);
	k = vsnprintf(line + n, cap - n, fmt, ap);
	if (k > 0)
		n = (size_t)k < cap - n ? n + (size_t)k : cap - 1;
	if (err < 0 && n < cap - 1) {
		k = snprintf(line + n, cap - n, ": %s", strerror(-err));
		if (k > 0)
			n = (size_t)k < cap - n ? n + (size_t)k : cap - 1;
	}
	line[n++] = '\n';
	while (write(sv_logger.fd, line, n) < 0 && errno == EINTR)
		;
	errno = saved;
}

void sv_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(0, "", fmt, ap);
	va_end(ap);
}

void sv_debug(const char *fmt, ...)
{
	va_list ap;

	if (!sv_logger.debug)
		return;
	va_start(ap, fmt);
	vlog(0, "debug: ", fmt, ap);
	va_end(ap);
}

void sv_warn_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(err, "", fmt, ap);
	va_end(ap);
}

_Noreturn void sv_die(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(err, "", fmt, ap);
	va_end(ap);
	exit(1);
}
