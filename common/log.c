/* SPDX-License-Identifier: Apache-2.0 */
/* common/log.c: the process logger: one "prog: message\n" line per write(), dropped above
 * the level set, and sv_die(). */
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
	int level;
} sv_logger = { "shimvisor", 2, LOG_INFO };

static const char *const level_names[] = {
	[LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

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

void sv_log_set_level(int level)
{
	sv_logger.level = level < LOG_ERR ? LOG_ERR : level > LOG_DEBUG ? LOG_DEBUG : level;
}

int sv_log_level(void)
{
	return sv_logger.level;
}

int sv_log_level_parse(const char *name)
{
	if (!strcmp(name, "error"))
		return LOG_ERR;
	if (!strcmp(name, "warn"))
		return LOG_WARNING;
	for (int l = LOG_ERR; l <= LOG_DEBUG; l++)
		if (level_names[l] && !strcmp(name, level_names[l]))
			return l;
	return -EINVAL;
}

const char *sv_log_level_name(int level)
{
	return level >= LOG_ERR && level <= LOG_DEBUG && level_names[level] ? level_names[level] : "?";
}

__attribute__((format(printf, 4, 0)))
static void vlog(int level, int err, const char *tag, const char *fmt, va_list ap)
{
	char line[SV_LOG_LINE];
	size_t n, cap = sizeof(line) - 1;   /* room for the newline */
	int saved = errno, k;

	if (level > sv_logger.level)
		return;
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

void sv_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, 0, "", fmt, ap);
	va_end(ap);
}

void sv_log_err(int level, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, err, "", fmt, ap);
	va_end(ap);
}

void sv_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, 0, "", fmt, ap);
	va_end(ap);
}

void sv_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, 0, "debug: ", fmt, ap);
	va_end(ap);
}

void sv_warn_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, err, "", fmt, ap);
	va_end(ap);
}

_Noreturn void sv_die(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, err, "", fmt, ap);
	va_end(ap);
	exit(1);
}
