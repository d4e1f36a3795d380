/* SPDX-License-Identifier: Apache-2.0 */
/* common/syslog.h: our own small syslog client (RFC 3164 over an AF_UNIX SOCK_DGRAM socket,
 * /dev/log as glibc writes it) that never waits: the root monitor's log sink. */
#ifndef SV_COMMON_SYSLOG_H
#define SV_COMMON_SYSLOG_H
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define SV_SYSLOG_MAX 2048          /* one datagram at most (RFC 3164 says 1024; rsyslog takes 8k) */

struct sv_syslog {
	char path[108];             /* sun_path */
	int fd;                     /* connected, non-blocking; -1: not yet (or again) */
	unsigned long dropped;      /* lines not sent since the last one that was */
};

void sv_syslog_init(struct sv_syslog *s, const char *path);
void sv_syslog_close(struct sv_syslog *s);
/* "<PRI>Mmm dd hh:mm:ss ident[pid]: msg" (local time t; no hostname, as glibc sends to
 * /dev/log) into buf; the length, at most sz - 1 (msg cut to fit). */
size_t sv_syslog_format(char *buf, size_t sz, int facility, int level, time_t t, const char *ident,
			pid_t pid, const char *msg, size_t len);
/* Send one line, never waiting: (re)connect when syslogd is not there or was restarted
 * (ECONNREFUSED, ENOTCONN, ENOENT: once, as glibc does); a line that cannot be sent is
 * counted, and the count sent first ("N lines were not sent to syslog") once one is. 0 or
 * -errno (the line counted). */
int sv_syslog_send(struct sv_syslog *s, int level, const char *ident, pid_t pid, const char *msg,
		   size_t len);
/* Make untrusted text fit a log line: control characters (and DEL) as \ooo, one trailing
 * newline dropped, at most outsz - 1 bytes written (an escape never cut). Returns the length. */
size_t sv_log_clean(char *out, size_t outsz, const char *in, size_t len);

#endif
