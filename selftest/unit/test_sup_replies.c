/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_replies.c: the engine's table of monitor replies, from the side of a
 * broken monitor: this test holds the monitor's end of the channel and sends every reply type
 * with the wrong fds or a body that does not fit; each is refused, its fds closed (none kept),
 * and a real engine loop given one ends (the monitor restarts it: test_sup_monitor). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/log.h"
#include "supervisor/config_reload.h"
#include "supervisor/engine.h"
#include "supervisor/monitor.h"
#include "wire/fdchan.h"
#include "wire/pbio.h"
#include <pb_common.h>
#include "tap_main.h"
#include "build_fixture.h"

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The settings of a default config, with a profile. */
static void valid_settings(sv_MonSettings *s)
{
	static struct sv_config c;
	static struct { pb_size_t size; pb_byte_t bytes[32]; } profile = { 2, "{}" };

	sv_config_defaults(&c);
	sv_policy_free(&c.policy);
	sv_settings_fill(s, &c);
	s->seccomp = (pb_bytes_array_t *)&profile;
}

/* A reply of type that fits its row (seq 7; a notice: seq 0; settings: no ns/id either). */
static void valid(pb_size_t type, sv_MonReply *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->seq = type == sv_MonReply_exited_tag || type == sv_MonReply_settings_tag ? 0 : 7;
	if (type == sv_MonReply_settings_tag) {
		rep->which_r = type;
		valid_settings(&rep->r.settings);
		return;
	}
	snprintf(rep->ns, sizeof(rep->ns), "default");
	snprintf(rep->id, sizeof(rep->id), "t1");
	rep->which_r = type;
	switch (type) {
	case sv_MonReply_spawned_tag:
		rep->r.spawned.pid = 42;
		rep->r.spawned.bundle = (char *)"/state/default/t1";
		break;
	case sv_MonReply_spawn_failed_tag:
	case sv_MonReply_commit_failed_tag:
		rep->r.spawn_failed.err = EPERM;
		break;
	case sv_MonReply_found_tag:
		rep->r.found.bundle = (char *)"/state/default/t1";
		rep->r.found.dead = true;
		break;
	case sv_MonReply_found_live_tag:
		rep->r.found_live.bundle = (char *)"/state/default/t1";
		break;
	case sv_MonReply_exited_tag:
		rep->r.exited.pid = 42;
		break;
	}
}

/* The same type with a body that does not fit it. */
static void misfit(pb_size_t type, sv_MonReply *rep)
{
	valid(type, rep);
	switch (type) {
	case sv_MonReply_spawned_tag:
		rep->r.spawned.pid = 0;
		break;
	case sv_MonReply_spawn_failed_tag:
	case sv_MonReply_commit_failed_tag:
		rep->r.spawn_failed.err = 0;            /* an error without an errno */
		break;
	case sv_MonReply_cleaned_tag:
		rep->r.cleaned.err = -5;
		break;
	case sv_MonReply_found_tag:
		rep->r.found.dead = false;              /* neither dead nor unreachable */
		break;
	case sv_MonReply_found_live_tag:
		rep->r.found_live.rollback = true;
		break;
	case sv_MonReply_exited_tag:
		rep->seq = 3;                           /* a notice with a seq */
		break;
	case sv_MonReply_settings_tag:
		rep->r.settings.client_peer_max = 0;    /* what the config file refuses */
		break;
	default:
		rep->seq = 0;                           /* an answer to no request */
		break;
	}
}

struct chan {
	int mon, eng;           /* the monitor's end (ours), the engine's */
};

static struct chan chan_open(void)
{
	int sp[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp), 0);
	return (struct chan){ sp[0], sp[1] };
}

/* Send rep's bytes and n more (a field beyond its message) with nfds fds of /dev/null; what
 * engine_reply_take says, with *row. */
static int send_take_more(struct chan c, const sv_MonReply *rep, const uint8_t *more, size_t n,
			  int nfds, size_t *row)
{
	int fds[FDCHAN_MAX_FDS], got[ENGINE_REPLY_MAX_FDS], r;
	sv_MonReply in;
	uint8_t *buf, *pkt;
	size_t len;

	ck_assert_int_eq(sv_pb_encode(sv_MonReply_fields, rep, &buf, &len), 0);
	pkt = malloc(len + n);
	memcpy(pkt, buf, len);
	if (n)
		memcpy(pkt + len, more, n);
	for (int i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(fdchan_send_buf(c.mon, pkt, len + n, fds, nfds, 0), 0);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	free(buf);
	free(pkt);
	r = engine_reply_take(c.eng, &in, got, row);
	if (r == 1) {
		for (size_t i = 0; i < ENGINE_REPLY_MAX_FDS; i++)
			if (got[i] >= 0)
				close(got[i]);
		sv_pb_free(sv_MonReply_fields, &in);
	}
	return r;
}

static int send_take(struct chan c, const sv_MonReply *rep, int nfds, size_t *row)
{
	return send_take_more(c, rep, NULL, 0, nfds, row);
}

/* Every reply type of monitor.proto has one row, with a handler and an fd count the channel
 * can carry; no row names a type the proto does not have. */
START_TEST(table_covers_every_reply_type)
{
	pb_field_iter_t it;
	size_t n = engine_replies_count(), types = 0;

	ck_assert(pb_field_iter_begin(&it, sv_MonReply_fields, &(sv_MonReply){ 0 }));
	do {
		if (PB_HTYPE(it.type) != PB_HTYPE_ONEOF)
			continue;
		types++;
		size_t rows = 0;
		for (size_t i = 0; i < n; i++) {
			int nfds;
			if (engine_reply_type(i, &nfds) == it.tag) {
				rows++;
				ck_assert(nfds >= 0 && nfds <= ENGINE_REPLY_MAX_FDS);
			}
		}
		ck_assert_msg(rows == 1, "reply type %u: %zu rows", (unsigned)it.tag, rows);
	} while (pb_field_iter_next(&it));
	ck_assert_uint_eq(types, n);
}
END_TEST

/* Each type with exactly its fds and a body that fits is taken. With one fd more or fewer,
 * a body that does not fit the type, or bytes beyond its fields, it is refused and the fds
 * that came with it are closed: the engine holds as many fds as before. A type the table
 * does not know, and more fds than any row carries, are refused too. */
START_TEST(each_row_takes_its_own_only)
{
	/* two bytes of tag each: field 30 varint 1; field 29 length-delimited, empty */
	static const uint8_t field30[] = { 0x80 | ((30 << 3) & 0x7f), (30 << 3) >> 7, 1 };
	static const uint8_t field29[] = { 0x80 | ((29 << 3 | 2) & 0x7f), (29 << 3) >> 7, 0 };
	struct chan c = chan_open();
	int before = open_fds();
	sv_MonReply rep;
	size_t row;

	for (size_t i = 0; i < engine_replies_count(); i++) {
		int nfds;
		pb_size_t type = engine_reply_type(i, &nfds);

		valid(type, &rep);
		ck_assert_int_eq(send_take(c, &rep, nfds, &row), 1);
		ck_assert_uint_eq(row, i);
		ck_assert_int_eq(send_take(c, &rep, nfds + 1, &row), -EPROTO);
		if (nfds > 0)
			ck_assert_int_eq(send_take(c, &rep, nfds - 1, &row), -EPROTO);
		ck_assert_int_eq(send_take_more(c, &rep, field30, sizeof(field30), nfds, &row), -EPROTO);
		misfit(type, &rep);
		ck_assert_msg(send_take(c, &rep, nfds, &row) == -EPROTO, "type %u", (unsigned)type);
		ck_assert_int_eq(open_fds(), before);
	}
	ck_assert_int_eq(send_take(c, &rep, FDCHAN_MAX_FDS, &row), -EPROTO);
	memset(&rep, 0, sizeof(rep));
	rep.seq = 7;            /* and nothing else: field 29 alone, a type the table lacks */
	ck_assert_int_eq(send_take_more(c, &rep, field29, sizeof(field29), 0, &row), -EPROTO);
	ck_assert_int_eq(open_fds(), before);
	close(c.mon);
	close(c.eng);
}
END_TEST

/* An engine out of fds receives fewer than were sent (MSG_CTRUNC): its own shortage, not the
 * monitor's fault. The reply is taken, the missing fd is -1 (a create that fails, a task left
 * unknown, as the fd budget allows for); without the cut, the same count is refused. */
START_TEST(out_of_fds_takes_what_came)
{
	struct chan c = chan_open();
	int fds[ENGINE_REPLY_MAX_FDS], fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct rlimit rl = { (rlim_t)fd, (rlim_t)fd };   /* no room: fd is the lowest free */
	sv_MonReply rep, in;
	size_t row;

	valid(sv_MonReply_spawned_tag, &rep);
	ck_assert_int_eq(fdchan_send(c.mon, sv_MonReply_fields, &rep, (int[]){ 0 }, 1), 0);
	close(fd);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(engine_reply_take(c.eng, &in, fds, &row), 1);
	ck_assert_int_eq(engine_reply_type(row, &(int){ 0 }), sv_MonReply_spawned_tag);
	ck_assert_int_eq(fds[0], -1);
	sv_pb_free(sv_MonReply_fields, &in);
	ck_assert_int_eq(send_take(c, &rep, 0, &row), -EPROTO);    /* none, not cut */
	close(c.mon);
	close(c.eng);
}
END_TEST

/* Wait up to 5 s for fd to be readable. */
static void readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	ck_assert_int_eq(poll(&p, 1, 5000), 1);
}

/* A real engine loop: its scan answered, it is ready; a reply outside the table (a live
 * bundle found, without its link) then ends it with status 1, the reason logged. */
START_TEST(engine_ends_on_a_reply_outside_the_table)
{
	static struct sv_config cfg;
	int sp[2], ready[2], log[2], ctl, st;
	sv_MonRequest rq;
	sv_MonReply rep;
	char buf[4096] = "";
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	FX_QEMU_SKIP(FX_QEMU_NO_SECCOMP " (the engine confines itself)");
	sv_config_defaults(&cfg);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(log, O_CLOEXEC), 0);
	ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(ctl, 0);
	ck_assert_int_eq(bind(ctl, (struct sockaddr *)&(struct sockaddr_un){ .sun_family = AF_UNIX },
			      sizeof(sa_family_t)), 0);        /* autobound: nobody connects */
	ck_assert_int_eq(listen(ctl, 4), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (dup2(log[1], 2) < 0)
			_exit(99);
		sv_log_set_fd(2);
		_exit(engine_run(&cfg, ctl, sp[1], ready[1]));
	}
	close(sp[1]);
	close(ready[1]);
	close(log[1]);
	readable(sp[0]);
	ck_assert_int_eq(fdchan_recv(sp[0], sv_MonRequest_fields, &rq, NULL, &(int){ 0 }, 0), 1);
	ck_assert_int_eq(rq.which_op, sv_MonRequest_scan_tag);
	valid(sv_MonReply_scanned_tag, &rep);
	rep.seq = rq.seq;
	ck_assert_int_eq(fdchan_send(sp[0], sv_MonReply_fields, &rep, NULL, 0), 0);
	readable(ready[0]);
	ck_assert_int_eq(read(ready[0], buf, 1), 1);       /* ready: the table took it */
	valid(sv_MonReply_found_live_tag, &rep);
	rep.seq = rq.seq;
	ck_assert_int_eq(fdchan_send(sp[0], sv_MonReply_fields, &rep, NULL, 0), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 1);
	while (len < sizeof(buf) - 1 && (n = read(log[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	ck_assert_msg(strstr(buf, "reply found_live from the monitor with 0 fds: a wrong number "
			      "of fds") && strstr(buf, "a reply outside the table: ending"), "%s", buf);
	close(sp[0]);
	close(ready[0]);
	close(log[0]);
	close(ctl);
}
END_TEST

/* The two tables print as markdown, one row per entry. */
START_TEST(tables_print)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	engine_replies_print(f);
	monitor_requests_print(f);
	fclose(f);
	ck_assert_msg(strstr(out, "| spawned | spawn | 1 | on_spawned |\n") &&
		      strstr(out, "| spawn_failed | spawn | 0 | on_spawn_failed |\n") &&
		      strstr(out, "| found_live | scan | 1 | on_found_live |\n") &&
		      strstr(out, "| exited | notice | 0 | on_exited |\n") &&
		      strstr(out, "| settings | notice | 0 | on_settings |\n") &&
		      strstr(out, "| scan | 0 | before the scan | mon_scan |\n") &&
		      strstr(out, "| commit | 0 | after the scan | mon_commit |\n"), "%s", out);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_replies");

	signal(SIGPIPE, SIG_IGN);
	sv_log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));   /* the refusals' warnings */
	SV_TCASE(s, "replies", 20, table_covers_every_reply_type, each_row_takes_its_own_only,
		 out_of_fds_takes_what_came, engine_ends_on_a_reply_outside_the_table, tables_print);
	return sv_run_suite(s);
}
