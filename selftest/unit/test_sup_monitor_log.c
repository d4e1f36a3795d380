/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_monitor_log.c: the monitor's log relay (monitor_log.c): the level
 * marker (the one thing parsed), the rate limit, and lines from a relay to syslog: cleaned,
 * filtered by the monitor's level, limited with the count reported, fds sent along closed. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common/clock.h"
#include "common/log.h"
#include "supervisor/monitor.h"
#include "tap_main.h"

START_TEST(rate_burst_then_interval)
{
	struct sv_rate r = { 0 };

	for (int i = 0; i < 3; i++)
		ck_assert(sv_rate_take(&r, 1000, 100, 3));
	ck_assert(!sv_rate_take(&r, 1000, 100, 3));
	ck_assert(!sv_rate_take(&r, 1099, 100, 3));
	ck_assert(sv_rate_take(&r, 1100, 100, 3));
	ck_assert(!sv_rate_take(&r, 1100, 100, 3));
	ck_assert(sv_rate_take(&r, 1200, 100, 3));
	/* quiet for long: the burst again, no more */
	for (int i = 0; i < 3; i++)
		ck_assert(sv_rate_take(&r, 9000, 100, 3));
	ck_assert(!sv_rate_take(&r, 9000, 100, 3));
}
END_TEST

START_TEST(level_marker)
{
	size_t at;

	ck_assert_int_eq(mon_log_level_of("<6>x", 4, &at), LOG_INFO);
	ck_assert_uint_eq(at, 3);
	ck_assert_int_eq(mon_log_level_of("<7>", 3, &at), LOG_DEBUG);
	ck_assert_int_eq(mon_log_level_of("<0>emerg", 8, &at), LOG_ERR);   /* clamped */
	ck_assert_int_eq(mon_log_level_of("<2>crit", 7, &at), LOG_ERR);
	ck_assert_int_eq(mon_log_level_of("<9>x", 4, &at), LOG_DEBUG);
	ck_assert_int_eq(mon_log_level_of("plain", 5, &at), LOG_WARNING);   /* no marker */
	ck_assert_uint_eq(at, 0);
	ck_assert_int_eq(mon_log_level_of("<12>x", 5, &at), LOG_WARNING);
	ck_assert_uint_eq(at, 0);
	ck_assert_int_eq(mon_log_level_of("<a>x", 4, &at), LOG_WARNING);
	ck_assert_int_eq(mon_log_level_of("<6", 2, &at), LOG_WARNING);
	ck_assert_uint_eq(at, 0);
}
END_TEST

static struct sv_config cfg;
static struct monitor m;
static struct mon_child child;
static int sys_fd, child_wr;

static struct mon_child *children[1];

static void setup(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	memset(&m, 0, sizeof(m));
	sv_config_defaults(&cfg);
	snprintf(cfg.syslog_socket, sizeof(cfg.syslog_socket), "/tmp/sv-mlog.%d", (int)getpid());
	m.cfg = &cfg;
	m.engine_fd = m.idle_fd = -1;
	sys_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", cfg.syslog_socket);
	unlink(a.sun_path);
	ck_assert_int_eq(bind(sys_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(mon_log_open(&m), 0);
	memset(&child, 0, sizeof(child));
	child.pid = 4242;
	child.kind = CHILD_WORKER;
	ck_assert_int_eq(mon_log_relay_new(&child.log.fd, &child_wr), 0);
	children[0] = &child;
	m.children = children;
	m.nchildren = 1;
	sv_log_set_level(LOG_INFO);
}

static void teardown(void)
{
	unlink(cfg.syslog_socket);
	sv_log_set_sink(NULL, NULL);
}

/* What the monitor's loop does when its relays are readable (reading one that is not
 * finds nothing). */
static void serve(void)
{
	mon_log_input(&m, NULL);
	mon_log_input(&m, &child);
}

/* The next syslog line from "shimvisord[" on (NULL: none), its PRI in *pri. */
static const char *syslog_next(int *pri)
{
	static char buf[4096];
	ssize_t n = recv(sys_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n <= 0)
		return NULL;
	buf[n] = 0;
	ck_assert_int_eq(sscanf(buf, "<%d>", pri), 1);
	return strchr(buf, '>') + 1 + 16;
}

static int nfds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

START_TEST(relay_to_syslog)
{
	char want[256];
	const char *l;
	int pri;

	ck_assert_int_gt(send(child_wr, "<6>hello\nworld\033[2J\n", 19, 0), 0);
	ck_assert_int_gt(send(child_wr, "<7>debug: filtered at info", 26, 0), 0);
	ck_assert_int_gt(send(child_wr, "<0>no emerg from a worker", 25, 0), 0);
	ck_assert_int_gt(send(m.log.eng_wr, "<6>task a/b: started", 20, 0), 0);
	serve();
	snprintf(want, sizeof(want), "shimvisord[%d]: task a/b: started", (int)getpid());
	ck_assert_str_eq(syslog_next(&pri), want);
	ck_assert_int_eq(pri, LOG_DAEMON | LOG_INFO);
	snprintf(want, sizeof(want), "shimvisord[%d]: shimvisor-worker: hello\\012world\\033[2J",
		 (int)getpid());
	ck_assert_str_eq(syslog_next(&pri), want);
	ck_assert_int_eq(pri, LOG_DAEMON | LOG_INFO);
	l = syslog_next(&pri);
	ck_assert_ptr_nonnull(l);
	ck_assert(strstr(l, "shimvisor-worker: no emerg from a worker"));
	ck_assert_int_eq(pri, LOG_DAEMON | LOG_ERR);
	ck_assert_ptr_null(syslog_next(&pri));
	/* the monitor's level is the filter: at debug, the debug line goes */
	sv_log_set_level(LOG_DEBUG);
	ck_assert_int_gt(send(child_wr, "<7>now shown", 12, 0), 0);
	serve();
	ck_assert(strstr(syslog_next(&pri), ": shimvisor-worker: now shown"));
	ck_assert_int_eq(pri, LOG_DAEMON | LOG_DEBUG);
}
END_TEST

/* A sender passing fds along: each is closed, none stays in the monitor. */
START_TEST(fds_sent_along_are_closed)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} c;
	struct iovec iov = { "<4>with fds", 11 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
			     .msg_controllen = sizeof(c.b) };
	int fds[4] = { 0, 1, 2, sys_fd }, before, pri;

	mh.msg_controllen = CMSG_SPACE(sizeof(fds));
	c.h.cmsg_level = SOL_SOCKET;
	c.h.cmsg_type = SCM_RIGHTS;
	c.h.cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(&c.h), fds, sizeof(fds));
	ck_assert_int_gt(send(child_wr, "<4>first", 8, 0), 0);
	serve();        /* (the syslog socket is opened by the first line) */
	ck_assert(strstr(syslog_next(&pri), ": shimvisor-worker: first"));
	before = nfds_open();
	for (int i = 0; i < 5; i++)
		ck_assert_int_gt(sendmsg(child_wr, &mh, 0), 0);
	serve();
	ck_assert_int_eq(nfds_open(), before);
	for (int i = 0; i < 5; i++)
		ck_assert(strstr(syslog_next(&pri), ": shimvisor-worker: with fds"));
}
END_TEST

/* A flood from one worker: its burst goes, the rest is counted and reported once. */
START_TEST(flood_limited_and_reported)
{
	int sent = 0, got = 0, pri, reports = 0;
	const char *l;
	char want[160];

	while (sent < 1000) {
		for (int i = 0; i < 5; i++, sent++)
			ck_assert_int_gt(send(child_wr, "<6>flood", 8, 0), 0);
		serve();
		while ((l = syslog_next(&pri)))
			got += strstr(l, "shimvisor-worker: flood") != NULL;
	}
	ck_assert_msg(got >= 100 && got <= 110, "%d lines of 1000 went", got);
	/* the report, when due */
	int64_t next = INT64_MAX;
	mon_log_due(&m, sv_now_ms(), &next);
	ck_assert(next != INT64_MAX);
	mon_log_due(&m, next, &next);
	snprintf(want, sizeof(want), "shimvisord[%d]: log: shimvisor-worker (pid %d): %d lines "
		 "suppressed (over its rate)", (int)getpid(), (int)getpid(), 1000 - got);
	while ((l = syslog_next(&pri))) {
		ck_assert_str_eq(l, want);
		ck_assert_int_eq(pri, LOG_DAEMON | LOG_WARNING);
		reports++;
	}
	ck_assert_int_eq(reports, 1);
	/* reported once: nothing more is due */
	next = INT64_MAX;
	mon_log_due(&m, sv_now_ms() + 5000, &next);
	ck_assert_ptr_null(syslog_next(&pri));
}
END_TEST

/* One fd per child in the monitor: at most what its fd limit leaves; past it, none (said once). */
START_TEST(relays_bounded_by_the_fd_limit)
{
	int rd[3], wr[3];

	m.log.max_relays = 2;
	ck_assert_int_eq(mon_log_child_relay(&m, &rd[0], &wr[0]), 0);
	ck_assert_int_eq(mon_log_child_relay(&m, &rd[1], &wr[1]), 0);
	ck_assert_int_eq(mon_log_child_relay(&m, &rd[2], &wr[2]), -EMFILE);
	ck_assert_int_eq(rd[2], -1);
	ck_assert_int_eq(wr[2], -1);
	mon_log_relay_close(&m, rd[0]);
	close(wr[0]);
	ck_assert_int_eq(mon_log_child_relay(&m, &rd[2], &wr[2]), 0);
	ck_assert_uint_eq(m.log.nrelays, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_monitor_log");
	TCase *tc = tcase_create("relay");

	SV_TCASE(s, "parse", 10, rate_burst_then_interval, level_marker);
	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, relay_to_syslog);
	tcase_add_test(tc, fds_sent_along_are_closed);
	tcase_add_test(tc, flood_limited_and_reported);
	tcase_add_test(tc, relays_bounded_by_the_fd_limit);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
