/* SPDX-License-Identifier: Apache-2.0 */
/* common/log.h: the one error convention (ERRORS.md): library functions return 0 or -errno;
 * daemons die() with one line "prog: what: why"; forked children leave with _exit(). Where a
 * line goes: an fd (stderr), the monitor's log relay, or the monitor's sink (syslog). */
#ifndef SV_COMMON_LOG_H
#define SV_COMMON_LOG_H
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <syslog.h>                         /* the levels: LOG_ERR .. LOG_DEBUG */

#define SV_LOG_LINE 1024                    /* a line's bytes at most, "prog: " and "\n" included */

void sv_log_init(const char *prog);          /* program name for every line (basename kept) */
void sv_log_set_fd(int fd);                  /* where lines go; default 2 */
/* fd 2 is a SOCK_DGRAM socket: the monitor's log relay (the engine's and the daemon's workers'
 * fd 2). Then each line is one datagram "<level>message" (no program name, no newline), sent
 * without waiting: a line the relay does not take is counted, and the count sent first once
 * it takes one again. true when it is. */
bool sv_log_relay_detect(void);
bool sv_log_relayed(void);
/* A sink takes every line instead (the monitor: syslog, or stderr with -F): its level, the pid
 * and program it came from, and the message without "prog: " nor newline. NULL: none. */
typedef void sv_log_sink_fn(void *arg, int level, pid_t pid, const char *prog, const char *msg,
			    size_t len);
void sv_log_set_sink(sv_log_sink_fn *fn, void *arg);
/* Lines of a level above this one (less urgent) are dropped; default LOG_INFO. */
void sv_log_set_level(int level);
int sv_log_level(void);
/* "err" (or "error"), "warning" (or "warn"), "notice", "info", "debug" -> LOG_*, or -EINVAL. */
int sv_log_level_parse(const char *name);
const char *sv_log_level_name(int level);   /* LOG_ERR -> "err", ...; "?" for others */
void sv_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sv_log with ": strerror(-err)" appended when err < 0 */
void sv_log_err(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define sv_notice(...) sv_log(LOG_NOTICE, __VA_ARGS__)
#define sv_info(...)   sv_log(LOG_INFO, __VA_ARGS__)
void sv_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));     /* LOG_WARNING */
void sv_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));    /* LOG_DEBUG */
/* "prog: <fmt>: strerror(-err)" when err < 0, else "prog: <fmt>" (LOG_WARNING) */
void sv_warn_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sv_warn_err's line at LOG_ERR (never dropped), then exit(1). Lines are at most 1 KiB, written with one write(). */
_Noreturn void sv_die(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
