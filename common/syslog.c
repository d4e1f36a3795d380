/* SPDX-License-Identifier: Apache-2.0 */
/* common/syslog.c: the syslog client of syslog.h: RFC 3164 lines to /dev/log (or another
 * AF_UNIX SOCK_DGRAM path), sent without waiting, and the cleaning of untrusted log text. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include "common/syslog.h"

void sv_syslog_init(struct sv_syslog *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->fd = -1;
}

void sv_syslog_close(struct sv_syslog *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static int syslog_connect(struct sv_syslog *s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	sv_syslog_close(s);
	if (strlen(s->path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, s->path, strlen(s->path) + 1);
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0)
		return -errno;
	if (connect(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int r = -errno;
		sv_syslog_close(s);
		return r;
	}
	return 0;
}

size_t sv_syslog_format(char *buf, size_t sz, int facility, int level, time_t t, const char *ident,
			pid_t pid, const char *msg, size_t len)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
					 "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	int k;

	if (!sz)
		return 0;
	if (!localtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	/* the month by name from our table: never the locale's */
	k = snprintf(buf, sz, "<%d>%s %2d %02d:%02d:%02d %s[%d]: %.*s", (facility & ~7) | (level & 7),
		     mon[(unsigned)tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ident, (int)pid, (int)(len > (size_t)sz ? sz : len), msg);
	if (k < 0)
		return 0;
	return (size_t)k < sz ? (size_t)k : sz - 1;
}

/* One datagram: 0, or -errno after one reconnect where syslogd went away. */
static int send_line(struct sv_syslog *s, const char *buf, size_t n)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (s->fd < 0) {
			int r = syslog_connect(s);
			if (r < 0)
				return r;
		}
		if (send(s->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != ECONNREFUSED && errno != ENOTCONN && errno != ENOENT && errno != EPIPE)
			return -errno;
		sv_syslog_close(s);       /* syslogd restarted: its socket is a new one */
	}
	return -ECONNREFUSED;
}

int sv_syslog_send(struct sv_syslog *s, int level, const char *ident, pid_t pid, const char *msg,
		   size_t len)
{
	char buf[SV_SYSLOG_MAX], note[80];
	time_t now = time(NULL);
	size_t n;
	int r;

	if (s->dropped) {
		int k = snprintf(note, sizeof(note), "%lu lines were not sent to syslog", s->dropped);
		n = sv_syslog_format(buf, sizeof(buf), LOG_DAEMON, LOG_WARNING, now, ident, getpid(),
				     note, (size_t)k);
		if (send_line(s, buf, n) < 0) {
			s->dropped++;
			return -EAGAIN;
		}
		s->dropped = 0;
	}
	n = sv_syslog_format(buf, sizeof(buf), LOG_DAEMON, level, now, ident, pid, msg, len);
	r = send_line(s, buf, n);
	if (r < 0)
		s->dropped++;
	return r;
}

size_t sv_log_clean(char *out, size_t outsz, const char *in, size_t len)
{
	size_t o = 0;

	if (!outsz)
		return 0;
	if (len && in[len - 1] == '\n')
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 || c == 0x7f) {
			if (o + 4 >= outsz)
				break;
			snprintf(out + o, 5, "\\%03o", c);
			o += 4;
		} else {
			if (o + 1 >= outsz)
				break;
			out[o++] = (char)c;
		}
	}
	out[o] = 0;
	return o;
}
