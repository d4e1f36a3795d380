/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_monitor.c: the root monitor's request table, from the side of a
 * compromised engine: this test holds the engine's end of the channel of a real monitor loop
 * (forked, with a stand-in engine process) and sends what a hijacked engine could. The
 * monitor kills such an engine and starts another (here one that cannot drop to uid 0 and
 * ends at once: the monitor backs off and serves on). */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "supervisor/engine.h"
#include "supervisor/monitor.h"
#include "wire/bytes.h"
#include "wire/fdchan.h"
#include "wire/limits.h"
#include "wire/pbio.h"
#include "tap_main.h"

struct fx {
	char dir[64];
	pid_t mon;
	int eng;              /* our end: we are the engine */
	int engine_dead;      /* EOF once the stand-in engine process is gone */
	int log;              /* the monitor's stderr */
	int nfds;             /* how many fds came with the last reply */
	int type0;            /* its first fd's socket type (SO_TYPE), -1: none or not a socket */
};

static struct fx f;

#define WORKER_SH "#!/bin/sh\nexec sleep 60\n"

static void monitor_child(int sp, int dead_w, int log_w)
{
	static struct sv_config cfg;
	struct monitor m = { .cfg = &cfg, .idle_fd = -1, .log.engine.fd = -1 };
	sigset_t set;
	pid_t eng;

	sv_config_defaults(&cfg);
	snprintf(cfg.state, sizeof(cfg.state), "%s/state", f.dir);
	cfg.log_level = LOG_DEBUG;          /* no warm worker */
	snprintf(m.worker_path, sizeof(m.worker_path), "%s/shimvisor-worker", f.dir);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	eng = fork();
	if (eng == 0) {
		/* the engine's process: it only has to be there, and to be killed */
		pause();
		_exit(0);
	}
	close(dead_w);
	if (dup2(log_w, 2) < 0)
		_exit(99);
	m.engine_pid = eng;
	m.engine_fd = sp;
	sv_set_nonblock(sp, 1);
	fdchan_q_init(&m.out);
	m.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	m.state_fd = open(cfg.state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	m.sock_dir_fd = sv_mkdir_open(m.state_fd, ".s", 0700);
	if (m.sig_fd < 0 || m.state_fd < 0 || m.sock_dir_fd < 0)
		_exit(99);
	_exit(monitor_run(&m));
}

static void setup(void)
{
	int sp[2], dead[2], log[2];
	char p[128];

	snprintf(f.dir, sizeof(f.dir), "/tmp/sv-mon-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f.dir));
	snprintf(p, sizeof(p), "%s/state", f.dir);
	ck_assert_int_eq(mkdir(p, 0711), 0);
	/* a stand-in worker: it only has to be there until teardown kills it */
	snprintf(p, sizeof(p), "%s/shimvisor-worker", f.dir);
	ck_assert_int_eq(sv_write_atomic(AT_FDCWD, p, WORKER_SH, strlen(WORKER_SH), 0700), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	ck_assert_int_eq(pipe2(dead, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(log, O_CLOEXEC), 0);
	f.mon = fork();
	ck_assert_int_ge(f.mon, 0);
	if (f.mon == 0) {
		close(sp[1]);
		close(dead[0]);
		close(log[0]);
		monitor_child(sp[0], dead[1], log[1]);
	}
	close(sp[0]);
	close(dead[1]);
	close(log[1]);
	f.log = log[0];
	f.eng = sp[1];
	f.engine_dead = dead[0];
}

static void teardown(void)
{
	char cmd[256];

	/* the stand-in worker a spawn started, by the pid its bundle records */
	snprintf(cmd, sizeof(cmd), "kill -9 $(cat %s/state/*/*/worker.pid 2>/dev/null) 2>/dev/null",
		 f.dir);
	(void)!system(cmd);

	if (f.mon > 0) {
		kill(f.mon, SIGKILL);
		waitpid(f.mon, NULL, 0);
	}
	close(f.eng);
	close(f.engine_dead);
	close(f.log);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f.dir);
	(void)!system(cmd);
}

static void send_rq(sv_MonRequest *rq, const int *fds, int nfds)
{
	ck_assert_int_eq(fdchan_send(f.eng, sv_MonRequest_fields, rq, fds, nfds), 0);
}

/* The next reply within 5 s (1), or 0 at EOF. */
static int recv_rep(sv_MonReply *rep)
{
	struct pollfd p = { .fd = f.eng, .events = POLLIN };
	int fds[4], n, r;

	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	r = fdchan_recv(f.eng, sv_MonReply_fields, rep, fds, &n, 0);
	f.nfds = n;
	f.type0 = -1;
	if (n > 0 && getsockopt(fds[0], SOL_SOCKET, SO_TYPE, &f.type0, &(socklen_t){ sizeof(int) }) < 0)
		f.type0 = -1;
	while (n > 0)
		close(fds[--n]);
	return r == -ECONNRESET ? 0 : r;
}

static void scan(void)
{
	sv_MonRequest rq = { .seq = 1, .which_op = sv_MonRequest_scan_tag };
	sv_MonReply rep;

	send_rq(&rq, NULL, 0);
	ck_assert_int_eq(recv_rep(&rep), 1);
	ck_assert_int_eq(rep.which_r, sv_MonReply_scanned_tag);
	ck_assert_int_eq(f.nfds, 0);
	sv_pb_free(sv_MonReply_fields, &rep);
}

/* The monitor's log until it holds want (5 s at most). */
static void log_wait(const char *want)
{
	static char buf[16384];
	static size_t len;
	struct pollfd p = { .fd = f.log, .events = POLLIN };
	ssize_t n;

	for (;;) {
		buf[len] = 0;
		if (strstr(buf, want))
			return;
		ck_assert_msg(len < sizeof(buf) - 1 && poll(&p, 1, 5000) == 1,
			      "not logged: %s; log: %s", want, buf);
		n = read(f.log, buf + len, sizeof(buf) - 1 - len);
		ck_assert_int_gt(n, 0);
		len += (size_t)n;
	}
}

/* The monitor ended our connection and killed the engine for why; it lives on, starts
 * another after its backoff (which ends at once here), and stops cleanly on SIGTERM. */
static void connection_ended(const char *why)
{
	char want[160];
	sv_MonReply rep;
	int st;
	char b;

	ck_assert_int_eq(recv_rep(&rep), 0);
	ck_assert_int_eq(read(f.engine_dead, &b, 1), 0);
	snprintf(want, sizeof(want), "the engine was killed by the monitor: %s after", why);
	log_wait(want);
	log_wait("restart 1 (attempt 1) in 100 ms");
	log_wait("the engine exited with status 1 after");
	log_wait("restart 2 (attempt 2) in 200 ms");
	ck_assert_int_eq(waitpid(f.mon, &st, WNOHANG), 0);
	kill(f.mon, SIGTERM);
	ck_assert_int_eq(waitpid(f.mon, &st, 0), f.mon);
	f.mon = 0;
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}

static void still_serving(void)
{
	sv_MonRequest rq = { .seq = 9, .which_op = sv_MonRequest_cleanup_tag };
	sv_MonReply rep;

	snprintf(rq.op.cleanup.ns, sizeof(rq.op.cleanup.ns), "default");
	snprintf(rq.op.cleanup.id, sizeof(rq.op.cleanup.id), "nothing");
	send_rq(&rq, NULL, 0);
	ck_assert_int_eq(recv_rep(&rep), 1);
	ck_assert_int_eq(rep.seq, 9);
	ck_assert_int_eq(rep.which_r, sv_MonReply_cleaned_tag);
	ck_assert_int_eq(rep.r.cleaned.err, 0);
	ck_assert_int_eq(f.nfds, 0);
	sv_pb_free(sv_MonReply_fields, &rep);
	ck_assert_int_eq(waitpid(f.mon, NULL, WNOHANG), 0);
}

static char *config_with_cap(const char *cap)
{
	char *args[] = { "/bin/sh" }, err[128], *json, *out, *profile;
	sv_CtlCreateRequest crq = { .id = "evil", .args = args, .args_count = 1 };
	size_t len;
	cJSON *c;

	ck_assert_int_eq(spec_seccomp_profile(NULL, &profile, err, sizeof(err)), 0);
	ck_assert_int_eq(spec_build(&crq, "", profile, &json, &len, err, sizeof(err)), 0);
	free(profile);
	c = cJSON_ParseWithLength(json, len);
	free(json);
	cJSON *caps = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "process"), "capabilities");
	cJSON_AddItemToArray(cJSON_GetObjectItem(caps, "bounding"), cJSON_CreateString(cap));
	cJSON_AddItemToArray(cJSON_GetObjectItem(caps, "effective"), cJSON_CreateString(cap));
	cJSON_AddItemToArray(cJSON_GetObjectItem(caps, "permitted"), cJSON_CreateString(cap));
	out = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	return out;
}

/* Spawn default/id (seq 2) with the default config plus cap, and a summary of sumlen bytes
 * (0: none) or a respawn; its reply in *rep. */
static void spawn_as(const char *id, const char *cap, size_t sumlen, bool respawn, sv_MonReply *rep)
{
	sv_MonRequest rq = { .seq = 2, .which_op = sv_MonRequest_spawn_tag };
	char *json = respawn ? NULL : config_with_cap(cap);
	uint8_t *sum = calloc(1, sumlen + 1);

	snprintf(rq.op.spawn.ns, sizeof(rq.op.spawn.ns), "default");
	snprintf(rq.op.spawn.id, sizeof(rq.op.spawn.id), "%s", id);
	if (json)
		rq.op.spawn.config = sv_bytes_new((const uint8_t *)json, strlen(json));
	rq.op.spawn.respawn = respawn;
	for (size_t i = 0; i < sumlen; i++)
		sum[i] = (uint8_t)i;
	if (sumlen)
		rq.op.spawn.summary = sv_bytes_new(sum, sumlen);
	send_rq(&rq, NULL, 0);
	free(rq.op.spawn.config);
	free(rq.op.spawn.summary);
	free(sum);
	free(json);
	ck_assert_int_eq(recv_rep(rep), 1);
	ck_assert_int_eq(rep->seq, 2);
}

static void spawn(const char *id, const char *cap, sv_MonReply *rep)
{
	spawn_as(id, cap, 0, false, rep);
}

START_TEST(spawn_beyond_policy_refused_and_serving)
{
	sv_MonReply rep;
	char p[128];
	struct stat st;

	scan();
	spawn("evil", "CAP_SYS_ADMIN", &rep);
	/* a typed error: it says it answers the spawn, and carries no fd */
	ck_assert_int_eq(rep.which_r, sv_MonReply_spawn_failed_tag);
	ck_assert_int_eq(f.nfds, 0);
	ck_assert_int_eq(rep.r.spawn_failed.err, EPERM);
	ck_assert_ptr_nonnull(rep.r.spawn_failed.reason);
	ck_assert_msg(strstr(rep.r.spawn_failed.reason, "CAP_SYS_ADMIN: not permitted by the policy"),
		      "%s", rep.r.spawn_failed.reason);
	sv_pb_free(sv_MonReply_fields, &rep);
	/* nothing was made for it: no bundle, no namespace dir */
	snprintf(p, sizeof(p), "%s/state/default", f.dir);
	ck_assert_int_eq(stat(p, &st), -1);
	still_serving();
}
END_TEST

static void commit(uint32_t seq, const char *id)
{
	sv_MonRequest rq = { .seq = seq, .which_op = sv_MonRequest_commit_tag };

	snprintf(rq.op.commit.ns, sizeof(rq.op.commit.ns), "default");
	snprintf(rq.op.commit.id, sizeof(rq.op.commit.id), "%s", id);
	send_rq(&rq, NULL, 0);
}

/* A create's intent mark: made with the bundle, removed by its commit, which is taken once;
 * a commit for a worker the monitor does not have is answered ENOENT and changes nothing. */
START_TEST(commit_once_for_a_spawned_worker)
{
	char p[128];
	sv_MonReply rep;
	struct stat st;

	scan();
	commit(3, "nothing");
	ck_assert_int_eq(recv_rep(&rep), 1);
	ck_assert_int_eq(rep.seq, 3);
	ck_assert_int_eq(rep.which_r, sv_MonReply_commit_failed_tag);
	ck_assert_int_eq(rep.r.commit_failed.err, ENOENT);
	sv_pb_free(sv_MonReply_fields, &rep);
	spawn("x", "CAP_CHOWN", &rep);
	ck_assert_int_eq(rep.which_r, sv_MonReply_spawned_tag);
	ck_assert_int_eq(f.nfds, 1);        /* the link: a stream socket */
	ck_assert_int_eq(f.type0, SOCK_STREAM);
	sv_pb_free(sv_MonReply_fields, &rep);
	snprintf(p, sizeof(p), "%s/state/default/x/creating", f.dir);
	ck_assert_int_eq(stat(p, &st), 0);
	commit(4, "x");
	ck_assert_int_eq(recv_rep(&rep), 1);
	ck_assert_int_eq(rep.seq, 4);
	ck_assert_int_eq(rep.which_r, sv_MonReply_committed_tag);
	ck_assert_int_eq(f.nfds, 0);
	sv_pb_free(sv_MonReply_fields, &rep);
	ck_assert_int_eq(stat(p, &st), -1);
	still_serving();
	commit(5, "x");             /* again: not a create in flight */
	connection_ended("a request outside its table");
}
END_TEST

/* The summary is the engine's bytes, stored as they came and never parsed: a spawn with
 * one over SV_SUMMARY_MAX is refused (a typed error, nothing made, serving on); one within
 * it is the bundle's `summary` file, byte for byte; a respawn may not carry one (it keeps
 * the bundle's). */
START_TEST(summary_stored_verbatim_and_capped)
{
	sv_MonReply rep;
	char p[128], *got;
	size_t len;
	struct stat st;

	scan();
	spawn_as("big", "CAP_CHOWN", SV_SUMMARY_MAX + 1, false, &rep);
	ck_assert_int_eq(rep.which_r, sv_MonReply_spawn_failed_tag);
	ck_assert_int_eq(f.nfds, 0);
	ck_assert_int_eq(rep.r.spawn_failed.err, EMSGSIZE);
	ck_assert_str_eq(rep.r.spawn_failed.reason, "summary: 8193 bytes, over 8192");
	sv_pb_free(sv_MonReply_fields, &rep);
	snprintf(p, sizeof(p), "%s/state/default", f.dir);
	ck_assert_int_eq(stat(p, &st), -1);
	still_serving();

	spawn_as("ok", "CAP_CHOWN", SV_SUMMARY_MAX, false, &rep);
	ck_assert_int_eq(rep.which_r, sv_MonReply_spawned_tag);
	sv_pb_free(sv_MonReply_fields, &rep);
	snprintf(p, sizeof(p), "%s/state/default/ok", f.dir);
	int bfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(bfd, 0);
	ck_assert_int_eq(sv_read_file(bfd, "summary", SV_SUMMARY_MAX, &got, &len), 0);
	close(bfd);
	ck_assert_uint_eq(len, SV_SUMMARY_MAX);
	for (size_t i = 0; i < len; i++)
		ck_assert_uint_eq((uint8_t)got[i], (uint8_t)i);
	free(got);

	spawn_as("ok", NULL, 10, true, &rep);
	ck_assert_int_eq(rep.which_r, sv_MonReply_spawn_failed_tag);
	ck_assert_int_eq(rep.r.spawn_failed.err, EINVAL);
	sv_pb_free(sv_MonReply_fields, &rep);
	still_serving();
}
END_TEST

START_TEST(second_scan_ends_the_engine)
{
	sv_MonRequest rq = { .seq = 3, .which_op = sv_MonRequest_scan_tag };

	scan();
	send_rq(&rq, NULL, 0);
	connection_ended("a request outside its table");
}
END_TEST

START_TEST(spawn_before_scan_ends_the_engine)
{
	sv_MonRequest rq = { .seq = 1, .which_op = sv_MonRequest_cleanup_tag };

	snprintf(rq.op.cleanup.ns, sizeof(rq.op.cleanup.ns), "default");
	snprintf(rq.op.cleanup.id, sizeof(rq.op.cleanup.id), "x");
	send_rq(&rq, NULL, 0);
	connection_ended("a request outside its table");
}
END_TEST

START_TEST(wrong_fd_count_ends_the_engine)
{
	sv_MonRequest rq = { .seq = 4, .which_op = sv_MonRequest_cleanup_tag };
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	scan();
	snprintf(rq.op.cleanup.ns, sizeof(rq.op.cleanup.ns), "default");
	snprintf(rq.op.cleanup.id, sizeof(rq.op.cleanup.id), "x");
	send_rq(&rq, &fd, 1);
	close(fd);
	connection_ended("a request outside its table");
}
END_TEST

/* A request with a field the table does not know: its bytes are more than its message. */
START_TEST(extra_field_ends_the_engine)
{
	sv_MonRequest rq = { .seq = 5, .which_op = sv_MonRequest_cleanup_tag };
	uint8_t *buf, *more;
	size_t len;

	scan();
	snprintf(rq.op.cleanup.ns, sizeof(rq.op.cleanup.ns), "default");
	snprintf(rq.op.cleanup.id, sizeof(rq.op.cleanup.id), "x");
	ck_assert_int_eq(sv_pb_encode(sv_MonRequest_fields, &rq, &buf, &len), 0);
	more = malloc(len + 2);
	memcpy(more, buf, len);
	more[len] = (15 << 3) | 0;      /* field 15, varint */
	more[len + 1] = 1;
	ck_assert_int_eq(fdchan_send_buf(f.eng, more, len + 2, NULL, 0, 0), 0);
	free(buf);
	free(more);
	connection_ended("a request outside its table");
}
END_TEST

START_TEST(unknown_request_ends_the_engine)
{
	static const uint8_t pkt[] = { 0x08, 0x07, (9 << 3) | 2, 0 };    /* seq 7, field 9: {} */

	scan();
	ck_assert_int_eq(fdchan_send_buf(f.eng, pkt, sizeof(pkt), NULL, 0, 0), 0);
	connection_ended("a request outside its table");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_monitor");
	TCase *tc = tcase_create("requests");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, spawn_beyond_policy_refused_and_serving);
	tcase_add_test(tc, second_scan_ends_the_engine);
	tcase_add_test(tc, summary_stored_verbatim_and_capped);
	tcase_add_test(tc, commit_once_for_a_spawned_worker);
	tcase_add_test(tc, spawn_before_scan_ends_the_engine);
	tcase_add_test(tc, wrong_fd_count_ends_the_engine);
	tcase_add_test(tc, extra_field_ends_the_engine);
	tcase_add_test(tc, unknown_request_ends_the_engine);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
