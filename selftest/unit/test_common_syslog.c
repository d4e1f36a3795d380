/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_syslog.c: the RFC 3164 line, sending to a syslogd that goes and
 * comes back (lines counted, never waited for), the cleaning of untrusted text, and the log
 * relay's datagrams (common/log.c). */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/syslog.h"

START_TEST(format_rfc3164)
{
	char buf[256];
	size_t n;

	setenv("TZ", "UTC", 1);
	tzset();
	/* 2026-03-05 07:08:09 UTC */
	n = sv_syslog_format(buf, sizeof(buf), LOG_DAEMON, LOG_INFO, 1772694489, "shimvisord", 42,
			     "task a/b: started", 17);
	ck_assert_str_eq(buf, "<30>Mar  5 07:08:09 shimvisord[42]: task a/b: started");
	ck_assert_uint_eq(n, strlen(buf));
	n = sv_syslog_format(buf, sizeof(buf), LOG_DAEMON, LOG_WARNING, 1772694489 + 10 * 86400,
			     "x", 7, "w", 1);
	ck_assert_str_eq(buf, "<28>Mar 15 07:08:09 x[7]: w");
	sv_syslog_format(buf, sizeof(buf), LOG_DAEMON, LOG_ERR, 0, "x", 1, "", 0);
	ck_assert_str_eq(buf, "<27>Jan  1 00:00:00 x[1]: ");
	/* cut to the buffer, terminated */
	n = sv_syslog_format(buf, 16, LOG_DAEMON, LOG_INFO, 0, "shimvisord", 1, "long", 4);
	ck_assert_uint_eq(n, 15);
	ck_assert_uint_eq(strlen(buf), 15);
}
END_TEST

START_TEST(clean_text)
{
	char out[64];

	ck_assert_uint_eq(sv_log_clean(out, sizeof(out), "plain text\n", 11), 10);
	ck_assert_str_eq(out, "plain text");
	sv_log_clean(out, sizeof(out), "a\nb\rc\033[2J\177d\\e", 13);
	ck_assert_str_eq(out, "a\\012b\\015c\\033[2J\\177d\\e");
	/* a NUL does not end the text */
	sv_log_clean(out, sizeof(out), "x\0y", 3);
	ck_assert_str_eq(out, "x\\000y");
	/* bounded; an escape is never cut in two */
	ck_assert_uint_eq(sv_log_clean(out, 8, "abcdef\n\n", 8), 6);
	ck_assert_str_eq(out, "abcdef");
	ck_assert_uint_eq(sv_log_clean(out, 8, "abcdefghij", 10), 7);
	ck_assert_str_eq(out, "abcdefg");
	ck_assert_uint_eq(sv_log_clean(out, sizeof(out), "", 0), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

static int bind_dgram(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* The next datagram (waiting at most a second), without the "<PRI>date " part: its PRI in
 * *pri and the rest from the ident on. */
static const char *next_line(int fd, int *pri)
{
	static char buf[4096];
	struct timeval tv = { 1, 0 };
	ssize_t n;
	char *sp;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	ck_assert_int_eq(sscanf(buf, "<%d>", pri), 1);
	sp = strchr(buf, '>') + 1 + 16;     /* "Mmm dd hh:mm:ss " */
	return sp;
}

START_TEST(send_reconnect_count)
{
	char dir[] = "/tmp/sv-syslog.XXXXXX", path[128], want[128];
	struct sv_syslog s;
	int fd, pri, i, r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	sv_syslog_init(&s, path);
	/* no syslogd yet: counted, never waited for */
	ck_assert_int_eq(sv_syslog_send(&s, LOG_INFO, "sv", 5, "lost", 4), -ENOENT);
	ck_assert_uint_eq(s.dropped, 1);
	fd = bind_dgram(path);
	ck_assert_int_eq(sv_syslog_send(&s, LOG_NOTICE, "sv", 5, "first", 5), 0);
	/* the count goes first, as our own (warning) line */
	snprintf(want, sizeof(want), "sv[%d]: 1 lines were not sent to syslog", (int)getpid());
	ck_assert_str_eq(next_line(fd, &pri), want);
	ck_assert_int_eq(pri, LOG_DAEMON | LOG_WARNING);
	ck_assert_str_eq(next_line(fd, &pri), "sv[5]: first");
	ck_assert_int_eq(pri, LOG_DAEMON | LOG_NOTICE);
	ck_assert_uint_eq(s.dropped, 0);

	/* syslogd restarted: a new socket at the same path; the next line reconnects */
	close(fd);
	fd = bind_dgram(path);
	ck_assert_int_eq(sv_syslog_send(&s, LOG_INFO, "sv", 6, "after restart", 13), 0);
	ck_assert_str_eq(next_line(fd, &pri), "sv[6]: after restart");
	ck_assert_int_eq(pri, LOG_DAEMON | LOG_INFO);

	/* a syslogd that does not read: its queue fills, lines are counted, none waited for */
	for (i = 0, r = 0; i < 10000 && r == 0; i++)
		r = sv_syslog_send(&s, LOG_INFO, "sv", 6, "fill", 4);
	ck_assert_int_eq(r, -EAGAIN);
	ck_assert_uint_eq(s.dropped, 1);
	ck_assert_int_eq(sv_syslog_send(&s, LOG_INFO, "sv", 6, "more", 4), -EAGAIN);
	ck_assert_uint_eq(s.dropped, 2);        /* that line too (its count could not go first) */
	for (int k = 0; k < i - 1; k++)
		ck_assert_str_eq(next_line(fd, &pri), "sv[6]: fill");
	ck_assert_int_eq(sv_syslog_send(&s, LOG_INFO, "sv", 6, "drained", 7), 0);
	snprintf(want, sizeof(want), "sv[%d]: 2 lines were not sent to syslog", (int)getpid());
	ck_assert_str_eq(next_line(fd, &pri), want);
	ck_assert_str_eq(next_line(fd, &pri), "sv[6]: drained");
	sv_syslog_close(&s);
	close(fd);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* The engine's and a worker's side: fd 2 is a datagram socket, one line per datagram with
 * its level in front; a full relay drops lines, counts them, and says so first once it
 * takes one again. */
START_TEST(relay_datagrams)
{
	char buf[2048];
	int sp[2], i;
	ssize_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sp), 0);
	ck_assert_int_eq(dup2(sp[1], STDERR_FILENO), STDERR_FILENO);
	sv_log_init("shimvisor-worker");
	ck_assert(sv_log_relay_detect());
	ck_assert(sv_log_relayed());
	sv_log_set_level(LOG_DEBUG);
	sv_info("task %s: started", "x");
	n = recv(sp[0], buf, sizeof(buf), 0);
	ck_assert_int_eq(n, (ssize_t)strlen("<6>task x: started"));
	ck_assert_int_eq(memcmp(buf, "<6>task x: started", (size_t)n), 0);
	sv_debug("d");
	n = recv(sp[0], buf, sizeof(buf), 0);
	ck_assert_int_eq(memcmp(buf, "<7>debug: d", (size_t)n), 0);
	/* full: never blocks */
	for (i = 0; i < 100000; i++)
		sv_warn("flood %d", i);
	while (recv(sp[0], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	sv_warn_err(-EIO, "calm");
	n = recv(sp[0], buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = 0;
	ck_assert_msg(!strncmp(buf, "<4>log relay full: ", 19) && strstr(buf, " lines dropped"), "%s", buf);
	n = recv(sp[0], buf, sizeof(buf) - 1, 0);
	buf[n] = 0;
	ck_assert_str_eq(buf, "<4>calm: Input/output error");
	/* not a datagram socket: stderr as ever */
	ck_assert_int_eq(dup2(sp[0], STDERR_FILENO), STDERR_FILENO);
	close(sp[0]);
	close(sp[1]);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	dup2(p[1], STDERR_FILENO);
	ck_assert(!sv_log_relay_detect());
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_syslog");

	SV_TCASE(s, "syslog", 20, format_rfc3164, clean_text, send_reconnect_count, relay_datagrams);
	return sv_run_suite(s);
}
