/* SPDX-License-Identifier: Apache-2.0 */
/* common/log.h: the one error convention (ERRORS.md): library functions return 0 or -errno;
 * daemons die() with one line "prog: what: why"; forked children leave with _exit(). */
#ifndef SV_COMMON_LOG_H
#define SV_COMMON_LOG_H
#include <stdarg.h>

void sv_log_init(const char *prog);          /* program name for every line (basename kept) */
void sv_log_set_fd(int fd);                  /* where lines go; default 2 */
void sv_log_set_debug(int on);
void sv_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sv_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: <fmt>: strerror(-err)" when err < 0, else "prog: <fmt>" */
void sv_warn_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sv_warn_err's line, then exit(1). Lines are at most 1 KiB, written with one write(). */
_Noreturn void sv_die(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
