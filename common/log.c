/* SPDX-License-Identifier: Apache-2.0 */
/* common/log.c: the process logger: one line per event, dropped above the level set, and
 * sv_die(). A line goes to one of three places: an fd as "prog: message\n" (stderr by
 * default), the monitor's log relay as one datagram "<level>message" (the engine's and the
 * daemon's workers' fd 2: never blocks, a line the relay does not take is counted), or a
 * sink function (the monitor's: syslog, or its stderr with -F). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "names.h"

/* The one global the conventions allow. */
static struct {
	char prog[64];
	int fd;
	int level;
	bool relay;                 /* fd is the monitor's log relay */
	unsigned long dropped;      /* relay: lines it did not take since the last one it did */
	sv_log_sink_fn *sink;
	void *sink_arg;
} sv_logger = { "shimvisor", 2, LOG_INFO, false, 0, NULL, NULL };

SV_NAMES_BEGIN         /* inline (names.h): no pointer to relocate at load; "": none */
static const char level_names[][8] = {
	[LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};
SV_NAMES_END

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
	sv_logger.relay = false;
}

bool sv_log_relay_detect(void)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(STDERR_FILENO, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_DGRAM)
		return false;
	sv_logger.fd = STDERR_FILENO;
	sv_logger.relay = true;
	return true;
}

bool sv_log_relayed(void)
{
	return sv_logger.relay;
}

void sv_log_set_sink(sv_log_sink_fn *fn, void *arg)
{
	sv_logger.sink = fn;
	sv_logger.sink_arg = arg;
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
		if (level_names[l][0] && !strcmp(name, level_names[l]))
			return l;
	return -EINVAL;
}

const char *sv_log_level_name(int level)
{
	return level >= LOG_ERR && level <= LOG_DEBUG && level_names[level][0] ? level_names[level] : "?";
}

/* One datagram; false when the relay did not take it (full: never waited for). */
static bool relay_send(const char *buf, size_t n)
{
	ssize_t r;

	while ((r = send(sv_logger.fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return r >= 0;
}

/* "<level>msg" to the relay; the count of lines it did not take goes first, once it takes
 * one again. */
static void relay_line(int level, const char *msg, size_t n)
{
	char line[SV_LOG_LINE + 8];
	int k;

	if (sv_logger.dropped) {
		k = snprintf(line, sizeof(line), "<%d>log relay full: %lu lines dropped", LOG_WARNING,
			     sv_logger.dropped);
		if (!relay_send(line, (size_t)k)) {
			sv_logger.dropped++;
			return;
		}
		sv_logger.dropped = 0;
	}
	k = snprintf(line, sizeof(line), "<%d>%.*s", level, (int)n, msg);
	if (!relay_send(line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1))
		sv_logger.dropped++;
}

static void emit(int level, const char *prog, const char *msg, size_t n)
{
	char line[SV_LOG_LINE];
	int k;

	if (sv_logger.sink) {
		sv_logger.sink(sv_logger.sink_arg, level, getpid(), prog, msg, n);
		return;
	}
	if (sv_logger.relay) {
		relay_line(level, msg, n);
		return;
	}
	k = snprintf(line, sizeof(line), "%s: %.*s\n", prog, (int)n, msg);
	if (k < 0)
		return;
	if ((size_t)k >= sizeof(line)) {
		k = sizeof(line);
		line[k - 1] = '\n';
	}
	while (write(sv_logger.fd, line, (size_t)k) < 0 && errno == EINTR)
		;
}

__attribute__((format(printf, 4, 0)))
static void vlog(int level, int err, const char *tag, const char *fmt, va_list ap)
{
	char msg[SV_LOG_LINE];
	size_t n, cap = sizeof(msg);
	int saved = errno, k;

	if (level > sv_logger.level)
		return;
	k = snprintf(msg, cap, "%s", tag);
	n = k < 0 ? 0 : ((size_t)k < cap ? (size_t)k : cap - 1);
	k = vsnprintf(msg + n, cap - n, fmt, ap);
	if (k > 0)
		n = (size_t)k < cap - n ? n + (size_t)k : cap - 1;
	if (err < 0 && n < cap - 1) {
		k = snprintf(msg + n, cap - n, ": %s", strerror(-err));
		if (k > 0)
			n = (size_t)k < cap - n ? n + (size_t)k : cap - 1;
	}
	emit(level, sv_logger.prog, msg, n);
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
