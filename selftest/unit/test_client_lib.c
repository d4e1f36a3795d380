/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_client_lib.c: libshimvisor, `run` and `exec` against a small fake shimvisord. */
#include <check.h>
#include <glob.h>
#include "tap_main.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/cli/cli.h"
#include "wire/limits.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "wire/ttrpc.h"

/* ---- the fake daemon: canned answers, one fake task that really runs ---- */
#define MAXC 8
struct fake {
	int lfd, sfd, log;
	int conn[MAXC];
	pid_t task;
	int io[3];
	bool exited;
	uint32_t status;
	struct { int fd; uint32_t stream; } wait[4];
	int nwait;
};

static void reply(int fd, uint32_t stream, int code, const char *msg,
		  const pb_msgdesc_t *fields, const void *payload)
{
	uint8_t *body = NULL, hdr[SV_TTRPC_HEADER_LEN];
	size_t len = 0;
	struct ttrpc_hdr h;

	if (ttrpc_encode_response(code, msg, fields, payload, &body, &len) < 0)
		_exit(90);
	h = (struct ttrpc_hdr){ .len = (uint32_t)len, .stream = stream, .type = SV_TTRPC_TYPE_RESPONSE };
	ttrpc_hdr_pack(hdr, &h);
	sv_write_all(fd, hdr, sizeof(hdr));
	if (len)
		sv_write_all(fd, body, len);
	free(body);
}

/* An Any holding msg (url is not copied); free a->value. */
static void any_of(sv_Any *a, const char *url, const pb_msgdesc_t *fields, const void *msg)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	sv_pb_encode(fields, msg, &buf, &len);
	a->type_url = (char *)url;
	a->value = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len + 1));
	a->value->size = (pb_size_t)len;
	memcpy(a->value->bytes, buf, len);
	free(buf);
}

static void send_event(int fd, uint32_t stream, const char *topic, const char *name,
		       const pb_msgdesc_t *fields, const void *msg)
{
	sv_Envelope env = { .has_timestamp = true, .timestamp = { 1700000000, 1 },
			    .namespace = "default", .topic = (char *)topic, .has_event = true };
	char url[64];

	snprintf(url, sizeof(url), "containerd.events.%s", name);
	any_of(&env.event, url, fields, msg);
	reply(fd, stream, SV_OK, NULL, sv_Envelope_fields, &env);
	free(env.event.value);
}

static void run_task(struct fake *f, bool sleeper)
{
	char buf[256];
	ssize_t n;

	sigset_t intr, old, none;

	/* a Kill may land right after the fork: the child must meet it with SIG_DFL, never with
	 * Check's inherited handler (which kills the whole group), so SIGINT stays blocked until
	 * the handler is reset */
	sigemptyset(&intr);
	sigaddset(&intr, SIGINT);
	sigprocmask(SIG_BLOCK, &intr, &old);
	f->task = fork();
	if (f->task != 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return;
	}
	signal(SIGINT, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (f->io[0] < 0)
		_exit(3);                    /* a detached task: no stdio */
	if (sleeper) {
		for (;;)
			pause();
	}
	fcntl(f->io[0], F_SETFL, 0);
	while ((n = read(f->io[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		if (write(f->io[1], buf, (size_t)n) != n)
			_exit(91);
	}
	if (write(f->io[2], "err\n", 4) != 4)
		_exit(92);
	_exit(3);
}

/* The client's FIFOs as the next process's stdio; none (detached) when out is "". */
static void open_io(struct fake *f, const char *in, const char *out, const char *err)
{
	if (!out || !*out)
		return;
	f->io[0] = open(in, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	f->io[1] = open(out, O_WRONLY | O_CLOEXEC);
	f->io[2] = open(err, O_WRONLY | O_CLOEXEC);
}

/* Start the fake process; its stdio ends are then its own. */
static void start_task(struct fake *f, bool sleeper)
{
	run_task(f, sleeper);
	for (int i = 0; i < 3; i++) {
		if (f->io[i] >= 0)
			close(f->io[i]);
		f->io[i] = -1;
	}
}

/* A list as one word: "a,b,c" ("-" when empty). */
static const char *joined(char **v, pb_size_t n)
{
	static char buf[256];
	size_t o = 0;

	buf[0] = '\0';
	for (pb_size_t i = 0; i < n && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "", v[i]);
	return n ? buf : "-";
}

/* Exec: logged with every field; "nope" is not found; exec id "sleeper" waits for a signal. */
static void handle_exec(struct fake *f, int fd, uint32_t stream, const void *pl, size_t pn)
{
	sv_CtlExecRequest x;
	sv_StartResponse r = { .pid = 200 };

	sv_pb_decode(sv_CtlExecRequest_fields, &x, pl, pn);
	dprintf(f->log, "exec %s %s args %s", x.id, x.exec_id, joined(x.args, x.args_count));
	dprintf(f->log, " env %s cwd %s user %d %u %u detach %d stdio %d\n",
		joined(x.env, x.env_count), x.cwd ? x.cwd : "-", x.set_user, x.uid, x.gid, x.detach,
		x.stdin && *x.stdin && x.stdout && *x.stdout && x.stderr && *x.stderr);
	if (!strcmp(x.id, "nope")) {
		reply(fd, stream, SV_NOT_FOUND, "task nope: not found", NULL, NULL);
	} else {
		open_io(f, x.stdin, x.stdout, x.stderr);
		start_task(f, !strcmp(x.exec_id, "sleeper"));
		reply(fd, stream, SV_OK, NULL, sv_StartResponse_fields, &r);
	}
	sv_pb_free(sv_CtlExecRequest_fields, &x);
}

static void answer_waits(struct fake *f)
{
	sv_WaitResponse w = { .exit_status = f->status, .has_exited_at = true, .exited_at = { 5, 0 } };

	for (int i = 0; i < f->nwait; i++)
		reply(f->wait[i].fd, f->wait[i].stream, SV_OK, NULL, sv_WaitResponse_fields, &w);
	f->nwait = 0;
}

/* Stats: v2 metrics for t1, an unknown type for "odd", not found for others. */
static void answer_stats(int fd, uint32_t stream, const char *id)
{
	sv_Cg2Metrics m = { .has_pids = true, .pids = { .current = 2, .limit = 0 },
			    .has_cpu = true, .cpu = { .usage_usec = 7 },
			    .has_memory = true, .memory = { .usage = 4096, .usage_limit = 8192 } };
	sv_StatsResponse r = { .has_stats = true };

	if (strcmp(id, "t1") && strcmp(id, "odd")) {
		reply(fd, stream, SV_NOT_FOUND, "task nope: not found", NULL, NULL);
		return;
	}
	any_of(&r.stats, strcmp(id, "odd") ? "io.containerd.cgroups.v2.Metrics" : "x.Y",
	       sv_Cg2Metrics_fields, &m);
	reply(fd, stream, SV_OK, NULL, sv_StatsResponse_fields, &r);
	free(r.stats.value);
}

/* Pause, Resume, Stats, Update: logged with what they carried. */
static void handle_cgroup(struct fake *f, int fd, uint32_t stream, const char *m,
			  const void *pl, size_t pn)
{
	sv_CtlUpdateRequest u;
	sv_PauseRequest p;      /* Resume's and Stats' requests are the same { id } */

	if (!strcmp(m, "Update")) {
		sv_pb_decode(sv_CtlUpdateRequest_fields, &u, pl, pn);
		dprintf(f->log, "update %s %lld %lld %u\n", u.id, (long long)u.memory,
			(long long)u.pids, u.cpus_milli);
		reply(fd, stream, SV_OK, NULL, NULL, NULL);
		return;
	}
	if (strcmp(m, "Pause") && strcmp(m, "Resume") && strcmp(m, "Stats")) {
		reply(fd, stream, SV_UNIMPLEMENTED, "method not here", NULL, NULL);
		return;
	}
	sv_pb_decode(sv_PauseRequest_fields, &p, pl, pn);
	dprintf(f->log, "%s %s\n", m, p.id);
	if (!strcmp(m, "Stats"))
		answer_stats(fd, stream, p.id);
	else if (strcmp(p.id, "t1"))
		reply(fd, stream, SV_FAILED_PRECONDITION, "task busy is not running", NULL, NULL);
	else
		reply(fd, stream, SV_OK, NULL, NULL, NULL);
}

static void handle(struct fake *f, int fd, uint32_t stream, sv_Request *rq)
{
	const char *m = rq->method ? rq->method : "";
	const void *pl = rq->payload ? (const void *)rq->payload->bytes : "";
	size_t pn = rq->payload ? rq->payload->size : 0;
	const char *ns = ttrpc_request_ns(rq);

	dprintf(f->log, "%s %s\n", m, ns ? ns : "-");
	if (!strcmp(m, "Version")) {
		sv_CtlVersionResponse v = { .version = (char *)"9.9", .revision = (char *)(ns ? ns : "") };

		reply(fd, stream, SV_OK, NULL, sv_CtlVersionResponse_fields, &v);
	} else if (!strcmp(m, "Create")) {
		sv_CtlCreateRequest c;
		sv_CreateTaskResponse r = { .pid = 100 };

		sv_pb_decode(sv_CtlCreateRequest_fields, &c, pl, pn);
		dprintf(f->log, "args %s detach %d env %u\n", c.args_count ? c.args[0] : "-", c.detach,
			c.env_count);
		dprintf(f->log, "limits %lld %lld %u\n", (long long)c.memory, (long long)c.pids,
			c.cpus_milli);
		if (!strcmp(c.id, "dup")) {
			reply(fd, stream, SV_ALREADY_EXISTS, "task dup: already exists", NULL, NULL);
		} else {
			open_io(f, c.stdin, c.stdout, c.stderr);
			reply(fd, stream, SV_OK, NULL, sv_CreateTaskResponse_fields, &r);
		}
		sv_pb_free(sv_CtlCreateRequest_fields, &c);
	} else if (!strcmp(m, "Start")) {
		sv_StartRequest s;
		sv_StartResponse r = { .pid = 100 };

		sv_pb_decode(sv_StartRequest_fields, &s, pl, pn);
		start_task(f, !strcmp(s.id, "sleeper"));
		reply(fd, stream, SV_OK, NULL, sv_StartResponse_fields, &r);
	} else if (!strcmp(m, "Kill")) {
		sv_KillRequest k;

		sv_pb_decode(sv_KillRequest_fields, &k, pl, pn);
		dprintf(f->log, "signal %u all %d%s%s\n", k.signal, k.all, k.exec_id[0] ? " exec " : "",
			k.exec_id);
		if (f->task > 0 && !f->exited)
			kill(f->task, (int)k.signal);
		reply(fd, stream, SV_OK, NULL, NULL, NULL);
	} else if (!strcmp(m, "Wait")) {
		sv_WaitRequest w;

		sv_pb_decode(sv_WaitRequest_fields, &w, pl, pn);
		dprintf(f->log, "wait %s %s\n", w.id, w.exec_id[0] ? w.exec_id : "-");
		f->wait[f->nwait].fd = fd;
		f->wait[f->nwait++].stream = stream;
		if (f->exited)
			answer_waits(f);
	} else if (!strcmp(m, "State")) {
		sv_StateRequest s;
		sv_StateResponse r = { .id = "t1", .pid = 100, .status = sv_TaskStatus_RUNNING,
				       .bundle = (char *)"/b" };

		sv_pb_decode(sv_StateRequest_fields, &s, pl, pn);
		if (strcmp(s.id, "t1"))
			reply(fd, stream, SV_NOT_FOUND, "task nope: not found", NULL, NULL);
		else
			reply(fd, stream, SV_OK, NULL, sv_StateResponse_fields, &r);
	} else if (!strcmp(m, "Pids")) {
		sv_ProcessInfo p[2] = { { .pid = 100 }, { .pid = 101 } };
		sv_PidsResponse r = { .processes_count = 2, .processes = p };

		reply(fd, stream, SV_OK, NULL, sv_PidsResponse_fields, &r);
	} else if (!strcmp(m, "Delete")) {
		sv_CtlDeleteRequest d;
		sv_DeleteResponse r = { .pid = 100, .exit_status = 3 };

		sv_pb_decode(sv_CtlDeleteRequest_fields, &d, pl, pn);
		dprintf(f->log, "delete %s force %d%s%s\n", d.id, d.force, d.exec_id[0] ? " exec " : "",
			d.exec_id);
		if (!strcmp(d.id, "busy"))
			reply(fd, stream, SV_FAILED_PRECONDITION, "task busy is running", NULL, NULL);
		else
			reply(fd, stream, SV_OK, NULL, sv_DeleteResponse_fields, &r);
	} else if (!strcmp(m, "Exec")) {
		handle_exec(f, fd, stream, pl, pn);
	} else if (!strcmp(m, "List")) {
		sv_CtlTask t[1] = { { .namespace = "default", .id = "t1", .pid = 100, .status = 2 } };
		sv_CtlListResponse r = { .tasks_count = 1, .tasks = t };

		reply(fd, stream, SV_OK, NULL, sv_CtlListResponse_fields, &r);
	} else if (!strcmp(m, "Subscribe")) {
		sv_TaskStart s = { .container_id = "t1", .pid = 100 };
		sv_TaskExit e = { .container_id = "t1", .id = "t1", .pid = 100, .exit_status = 7 };

		reply(fd, stream, SV_OK, NULL, NULL, NULL);   /* an empty frame is skipped */
		send_event(fd, stream, "/tasks/start", "TaskStart", sv_TaskStart_fields, &s);
		send_event(fd, stream, "/tasks/exit", "TaskExit", sv_TaskExit_fields, &e);
	} else {
		handle_cgroup(f, fd, stream, m, pl, pn);
	}
}

static void reap(struct fake *f)
{
	struct signalfd_siginfo si;
	int st;

	while (read(f->sfd, &si, sizeof(si)) > 0)
		;
	if (f->task > 0 && waitpid(f->task, &st, WNOHANG) == f->task) {
		f->exited = true;
		f->status = WIFEXITED(st) ? (uint32_t)WEXITSTATUS(st) : 128u + (uint32_t)WTERMSIG(st);
		answer_waits(f);
	}
}

static _Noreturn void serve(int lfd, int log)
{
	struct fake f = { .lfd = lfd, .log = log, .io = { -1, -1, -1 } };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	f.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	for (int i = 0; i < MAXC; i++)
		f.conn[i] = -1;
	for (;;) {
		struct pollfd p[MAXC + 2] = { { .fd = lfd, .events = POLLIN }, { .fd = f.sfd, .events = POLLIN } };

		for (int i = 0; i < MAXC; i++)
			p[i + 2] = (struct pollfd){ .fd = f.conn[i], .events = POLLIN };
		if (poll(p, MAXC + 2, -1) < 0)
			continue;
		if (p[0].revents) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			for (int i = 0; i < MAXC && c >= 0; i++)
				if (f.conn[i] < 0) {
					f.conn[i] = c;
					c = -1;
				}
		}
		if (p[1].revents)
			reap(&f);
		for (int i = 0; i < MAXC; i++) {
			struct ttrpc_hdr h;
			uint8_t *body = NULL;
			sv_Request rq;

			if (!p[i + 2].revents)
				continue;
			if (ttrpc_read_frame(f.conn[i], &h, &body, 1000) < 0) {
				close(f.conn[i]);
				f.conn[i] = -1;
				continue;
			}
			if (sv_pb_decode(sv_Request_fields, &rq, body ? body : (uint8_t *)"", h.len) == 0) {
				handle(&f, f.conn[i], h.stream, &rq);
				sv_pb_free(sv_Request_fields, &rq);
			}
			free(body);
		}
	}
}

static char sock[108], logpath[64];
static pid_t server;

static void start_server(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), log;

	snprintf(sock, sizeof(sock), "/tmp/svtest-lib.%d.sock", (int)getpid());
	snprintf(logpath, sizeof(logpath), "/tmp/svtest-lib.%d.log", (int)getpid());
	unlink(sock);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	server = fork();
	if (server == 0)
		serve(lfd, log);
	close(lfd);
	close(log);
}

static void stop_server(void)
{
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	unlink(sock);
	unlink(logpath);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return buf;
}

/* ---- the tests ---- */
START_TEST(calls_and_errors)
{
	struct sv_client *c;
	sv_CtlVersionResponse v;
	sv_StateResponse st;
	sv_CtlListResponse l;
	sv_DeleteResponse d;
	sv_CtlCreateRequest cr = { .id = "dup" };
	uint32_t *pids, pid;
	size_t n;

	start_server();
	setenv(SV_ENV_NAMESPACE, "ns1", 1);
	ck_assert_int_eq(sv_connect(sock, &c), 0);
	ck_assert_str_eq(sv_namespace(c), "ns1");
	ck_assert_int_eq(sv_version(c, &v), 0);
	ck_assert_str_eq(v.version, "9.9");
	ck_assert_str_eq(v.revision, "ns1");       /* the namespace travelled as metadata */
	sv_pb_free(sv_CtlVersionResponse_fields, &v);
	ck_assert_int_eq(sv_set_namespace(c, "bad ns"), -EINVAL);
	ck_assert_int_eq(sv_set_namespace(c, "default"), 0);

	ck_assert_int_eq(sv_state(c, "t1", &st), 0);
	ck_assert_str_eq(st.id, "t1");
	ck_assert_uint_eq(st.pid, 100);
	ck_assert_uint_eq(st.status, sv_TaskStatus_RUNNING);
	ck_assert_str_eq(st.bundle, "/b");
	sv_pb_free(sv_StateResponse_fields, &st);
	ck_assert_int_eq(sv_state(c, "nope", &st), -ENOENT);
	ck_assert_str_eq(sv_last_error(c), "task nope: not found");
	ck_assert_int_eq(sv_last_code(c), SV_NOT_FOUND);
	ck_assert_int_eq(sv_state(c, "../x", &st), -EINVAL);     /* never sent */
	ck_assert_int_eq(sv_create(c, &cr, &pid), -EEXIST);
	ck_assert_int_eq(sv_delete(c, "busy", false, NULL), -EBUSY);
	ck_assert_str_eq(sv_last_error(c), "task busy is running");
	ck_assert_int_eq(sv_delete(c, "t1", true, &d), 0);
	ck_assert_uint_eq(d.exit_status, 3);
	ck_assert_int_eq(sv_pids(c, "t1", &pids, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(pids[1], 101);
	free(pids);
	ck_assert_int_eq(sv_kill(c, "t1", 9, true), 0);
	ck_assert_int_eq(sv_list(c, &l), 0);
	ck_assert_uint_eq(l.tasks_count, 1);
	ck_assert_str_eq(l.tasks[0].id, "t1");
	sv_pb_free(sv_CtlListResponse_fields, &l);
	/* async wait; the call after it on the same client is refused while it is pending */
	strcpy(cr.id, "t1");
	ck_assert_int_eq(sv_create(c, &cr, &pid), 0);
	ck_assert_int_eq(sv_start(c, "t1", &pid), 0);
	ck_assert_uint_eq(pid, 100);
	ck_assert_int_eq(sv_wait_send(c, "t1"), 0);
	ck_assert_int_eq(sv_kill(c, "t1", 9, false), -EBUSY);
	{
		uint32_t status = 0;
		sv_Timestamp ts;

		ck_assert_int_eq(sv_wait_recv(c, &status, &ts), 0);
		ck_assert_uint_eq(status, 3);       /* the fake task read EOF and left with 3 */
		ck_assert_int_eq(ts.seconds, 5);
	}
	sv_close(c);
	ck_assert_ptr_nonnull(strstr(slurp(logpath), "Version ns1\n"));
	ck_assert_ptr_nonnull(strstr(slurp(logpath), "signal 9 all 1\n"));
	ck_assert_int_eq(sv_connect("/nonexistent/sock", &c), -ENOENT);
	ck_assert_ptr_null(c);
	stop_server();
}
END_TEST

START_TEST(events_stream)
{
	struct sv_client *c;
	sv_Envelope env;
	struct sv_event ev;

	start_server();
	ck_assert_int_eq(sv_connect(sock, &c), 0);
	ck_assert_int_eq(sv_subscribe(c), 0);
	ck_assert_int_eq(sv_next_event(c, &env, 2000), 0);
	ck_assert_str_eq(env.topic, "/tasks/start");
	ck_assert_int_eq(sv_event_decode(&env, &ev), 0);
	ck_assert_int_eq(ev.kind, SV_EVENT_START);
	ck_assert_uint_eq(ev.pid, 100);
	sv_pb_free(sv_Envelope_fields, &env);
	ck_assert_int_eq(sv_next_event(c, &env, 2000), 0);
	ck_assert_int_eq(sv_event_decode(&env, &ev), 0);
	ck_assert_int_eq(ev.kind, SV_EVENT_EXIT);
	ck_assert_uint_eq(ev.exit_status, 7);
	ck_assert_str_eq(ev.container_id, "t1");
	sv_pb_free(sv_Envelope_fields, &env);
	ck_assert_int_eq(sv_next_event(c, &env, 50), -ETIMEDOUT);
	ck_assert_int_eq(sv_state(c, "t1", &(sv_StateResponse){ 0 }), -EBUSY);
	stop_server();
	ck_assert_int_eq(sv_next_event(c, &env, 2000), -ECONNRESET);
	sv_close(c);
}
END_TEST

typedef int (*cmd_fn)(const struct cli *g, int argc, char **argv);

/* Run `argv` through fn (cmd_run, ...) in a child with stdin from `in`, stdout/stderr into files;
 * `sig` (if not 0) is sent to it at once: it is blocked from birth, so it waits for the copy
 * loop, which forwards it to the task. */
static int run_cli(cmd_fn fn, char **argv, int argc, const char *in, char *out, char *err,
		   int sig)
{
	char opath[64], epath[64];
	struct cli g = { .address = sock, .ns = "default" };
	int p[2], o, e, rc;
	sigset_t set, old;
	pid_t kid;

	snprintf(opath, sizeof(opath), "/tmp/svtest-lib.%d.out", (int)getpid());
	snprintf(epath, sizeof(epath), "/tmp/svtest-lib.%d.err", (int)getpid());
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(write(p[1], in, strlen(in)), (ssize_t)strlen(in));
	close(p[1]);
	o = open(opath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	e = open(epath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &old);
	kid = fork();
	if (kid == 0) {
		dup2(p[0], 0);
		dup2(o, 1);
		dup2(e, 2);
		_exit(fn(&g, argc, argv));
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (sig)
		kill(kid, sig);
	close(p[0]);
	close(o);
	close(e);
	ck_assert_int_eq(waitpid(kid, &rc, 0), kid);
	strcpy(out, slurp(opath));
	strcpy(err, slurp(epath));
	unlink(opath);
	unlink(epath);
	ck_assert(WIFEXITED(rc));
	return WEXITSTATUS(rc);
}

START_TEST(run_attached_copies_and_exits_with_status)
{
	char *argv[] = { (char *)"run", (char *)"--rm", (char *)"-e", (char *)"A=1", (char *)"t1",
			 (char *)"tr", NULL };
	char out[4096], err[4096];

	start_server();
	ck_assert_int_eq(run_cli(cmd_run, argv, 6, "hello\nworld\n", out, err, 0), 3);
	ck_assert_str_eq(out, "HELLO\nWORLD\n");
	ck_assert_str_eq(err, "err\n");
	ck_assert_ptr_nonnull(strstr(slurp(logpath), "args tr detach 0 env 1\n"));
	ck_assert_ptr_nonnull(strstr(slurp(logpath), "delete t1 force 0\n"));
	stop_server();
}
END_TEST

START_TEST(run_forwards_signals)
{
	char *argv[] = { (char *)"run", (char *)"sleeper", NULL };
	char out[4096], err[4096];

	start_server();
	ck_assert_int_eq(run_cli(cmd_run, argv, 2, "", out, err, SIGINT), 128 + SIGINT);
	ck_assert_ptr_nonnull(strstr(slurp(logpath), "signal 2 all 0\n"));
	stop_server();
}
END_TEST

START_TEST(pause_resume_stats_update)
{
	sv_CtlUpdateRequest u = { .id = "t1", .memory = 67108864, .cpus_milli = 1500 };
	struct sv_client *c;
	sv_StatsResponse r;

	start_server();
	ck_assert_int_eq(sv_connect(sock, &c), 0);
	ck_assert_int_eq(sv_pause(c, "t1"), 0);
	ck_assert_int_eq(sv_resume(c, "t1"), 0);
	ck_assert_int_eq(sv_pause(c, "busy"), -EBUSY);
	ck_assert_str_eq(sv_last_error(c), "task busy is not running");
	ck_assert_int_eq(sv_resume(c, "../x"), -EINVAL);        /* never sent */
	ck_assert_int_eq(sv_update(c, &u), 0);
	strcpy(u.id, "../x");
	ck_assert_int_eq(sv_update(c, &u), -EINVAL);            /* never sent */
	memset(u.id, 'x', sizeof(u.id));
	ck_assert_int_eq(sv_update(c, &u), -EINVAL);
	ck_assert_int_eq(sv_stats(c, "t1", &r), 0);
	ck_assert(r.has_stats);
	ck_assert_str_eq(r.stats.type_url, "io.containerd.cgroups.v2.Metrics");
	ck_assert_ptr_nonnull(r.stats.value);
	sv_pb_free(sv_StatsResponse_fields, &r);
	ck_assert_int_eq(sv_stats(c, "nope", &r), -ENOENT);
	ck_assert(!r.has_stats);
	ck_assert_int_eq(sv_stats(c, "bad/id", &r), -EINVAL);
	sv_close(c);
	ck_assert_str_eq(slurp(logpath),
		"Pause default\nPause t1\nResume default\nResume t1\nPause default\nPause busy\n"
		"Update default\nupdate t1 67108864 0 1500\nStats default\nStats t1\n"
		"Stats default\nStats nope\n");
	stop_server();
}
END_TEST

START_TEST(cgroup_commands)
{
	char *stats[] = { (char *)"stats", (char *)"t1", NULL };
	char *json[] = { (char *)"stats", (char *)"--format", (char *)"json", (char *)"t1", NULL };
	char *odd[] = { (char *)"stats", (char *)"odd", NULL };
	char *pause[] = { (char *)"pause", (char *)"t1", NULL };
	char *resume[] = { (char *)"resume", (char *)"busy", NULL };
	char *update[] = { (char *)"update", (char *)"--pids", (char *)"9", (char *)"t1",
			   (char *)"--memory", (char *)"1g", NULL };
	char *run[] = { (char *)"run", (char *)"-d", (char *)"--memory", (char *)"512k",
			(char *)"--pids", (char *)"20", (char *)"--cpus", (char *)"0.5", (char *)"t1",
			NULL };
	char out[4096], err[4096];

	start_server();
	ck_assert_int_eq(run_cli(cmd_stats, stats, 2, "", out, err, 0), 0);
	ck_assert_str_eq(out, "ID    CPU-NS    MEMORY    MEMORY-LIMIT    PIDS    PIDS-LIMIT    SOURCE\n"
			      "t1    7000      4096      8192            2       max           cgroup\n");
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(run_cli(cmd_stats, json, 4, "", out, err, 0), 0);
	ck_assert_str_eq(out, "{\"id\":\"t1\",\"cpu_usage_ns\":7000,\"memory_usage_bytes\":4096,"
			      "\"memory_limit_bytes\":8192,\"pids\":2,\"pids_limit\":0,"
			      "\"cgroup\":\"v2\",\"source\":\"cgroup\"}\n");
	ck_assert_int_eq(run_cli(cmd_stats, odd, 2, "", out, err, 0), CLI_EXIT_FAIL);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "shimvisor: stats odd: unknown metrics type \"x.Y\"\n");
	ck_assert_int_eq(run_cli(cmd_pause, pause, 2, "", out, err, 0), 0);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(run_cli(cmd_resume, resume, 2, "", out, err, 0), CLI_EXIT_FAIL);
	ck_assert_str_eq(err, "shimvisor: resume busy: task busy is not running\n");
	ck_assert_int_eq(run_cli(cmd_update, update, 6, "", out, err, 0), 0);
	ck_assert_str_eq(out, "");
	ck_assert_ptr_nonnull(strstr(slurp(logpath), "update t1 1073741824 9 0\n"));
	ck_assert_int_eq(run_cli(cmd_run, run, 9, "", out, err, 0), 0);
	ck_assert_ptr_nonnull(strstr(slurp(logpath), "limits 524288 20 500\n"));
	stop_server();
}
END_TEST

START_TEST(exec_calls)
{
	char *args[] = { "id", "-u" }, *env[] = { "A=1", "B=2" };
	sv_CtlExecRequest x = { .id = "t1", .exec_id = "e1", .args_count = 2, .args = args,
				.env_count = 2, .env = env, .cwd = "/w", .set_user = true,
				.uid = 5, .gid = 6 };
	struct sv_client *c;
	sv_DeleteResponse d;
	uint32_t pid = 0, status = 0;

	start_server();
	ck_assert_int_eq(sv_connect(sock, &c), 0);
	ck_assert_int_eq(sv_exec(c, &x, &pid), 0);
	ck_assert_uint_eq(pid, 200);
	ck_assert_int_eq(sv_wait_exec_send(c, "t1", "e1"), 0);
	ck_assert_int_eq(sv_signal(c, "t1", "e1", 9), -EBUSY);      /* a wait is pending */
	ck_assert_int_eq(sv_wait_recv(c, &status, NULL), 0);
	ck_assert_uint_eq(status, 3);
	ck_assert_int_eq(sv_signal(c, "t1", "e1", 15), 0);
	ck_assert_int_eq(sv_signal(c, "t1", NULL, 1), 0);
	ck_assert_int_eq(sv_delete_exec(c, "t1", "e1", &d), 0);
	ck_assert_uint_eq(d.exit_status, 3);
	ck_assert_int_eq(sv_wait_send(c, "t1"), 0);
	ck_assert_int_eq(sv_wait_recv(c, &status, NULL), 0);
	/* refused before anything is sent: the log below has none of them */
	x.exec_id[0] = '\0';
	ck_assert_int_eq(sv_exec(c, &x, &pid), -EINVAL);
	ck_assert_str_eq(sv_last_error(c), "invalid exec id: must match [A-Za-z0-9][A-Za-z0-9_.-]{0,75}");
	strcpy(x.exec_id, "a/b");
	ck_assert_int_eq(sv_exec(c, &x, &pid), -EINVAL);
	memset(x.exec_id, 'x', sizeof(x.exec_id));
	ck_assert_int_eq(sv_exec(c, &x, &pid), -EINVAL);
	strcpy(x.exec_id, "e2");
	strcpy(x.id, "../x");
	ck_assert_int_eq(sv_exec(c, &x, &pid), -EINVAL);
	ck_assert_int_eq(sv_wait_exec_send(c, "t1", "a/b"), -EINVAL);
	ck_assert_int_eq(sv_wait_exec_send(c, "../x", "e1"), -EINVAL);
	ck_assert_int_eq(sv_signal(c, "t1", ".e", 9), -EINVAL);
	ck_assert_int_eq(sv_delete_exec(c, "t1", NULL, &d), -EINVAL);
	ck_assert_int_eq(sv_delete_exec(c, "t1", "", NULL), -EINVAL);
	sv_close(c);
	ck_assert_str_eq(slurp(logpath),
		"Exec default\nexec t1 e1 args id,-u env A=1,B=2 cwd /w user 1 5 6 detach 0 stdio 0\n"
		"Wait default\nwait t1 e1\n"
		"Kill default\nsignal 15 all 0 exec e1\nKill default\nsignal 1 all 0\n"
		"Delete default\ndelete t1 force 0 exec e1\n"
		"Wait default\nwait t1 -\n");
	stop_server();
}
END_TEST

/* The exec id of the log's "exec t1 <id> ..." line, into id. */
static void logged_exec_id(char id[SV_ID_SZ])
{
	const char *l = strstr(slurp(logpath), "exec t1 ");

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(sscanf(l, "exec t1 %79s", id), 1);
}

START_TEST(exec_commands)
{
	char *detached[] = { "exec", "-d", "--exec-id", "e1", "-e", "A=1", "--cwd", "/w", "-u", "5:6",
			     "t1", "sh", "-c", "x", NULL };
	char *attached[] = { "exec", "-u", "7", "t1", "tr", "-e", NULL };
	char out[4096], err[4096], id[SV_ID_SZ], line[160];

	start_server();
	ck_assert_int_eq(run_cli(cmd_exec, detached, 14, "", out, err, 0), 0);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(slurp(logpath), "Exec default\nexec t1 e1 args sh,-c,x env A=1 cwd /w "
					 "user 1 5 6 detach 1 stdio 0\n");
	stop_server();

	start_server();
	ck_assert_int_eq(run_cli(cmd_exec, attached, 6, "hello\n", out, err, 0), 3);
	ck_assert_str_eq(out, "HELLO\n");
	ck_assert_str_eq(err, "err\n");
	logged_exec_id(id);
	ck_assert_msg(strncmp(id, "exec-", 5) == 0 && strspn(id + 5, "0123456789") == strlen(id + 5),
		      "exec id %s", id);
	snprintf(line, sizeof(line), "exec t1 %s args tr,-e env - cwd - user 1 7 0 detach 0 stdio 1\n",
		 id);
	ck_assert_ptr_nonnull(strstr(slurp(logpath), line));
	snprintf(line, sizeof(line), "wait t1 %s\n", id);
	ck_assert_ptr_nonnull(strstr(slurp(logpath), line));
	snprintf(line, sizeof(line), "delete t1 force 0 exec %s\n", id);
	ck_assert_ptr_nonnull(strstr(slurp(logpath), line));
	stop_server();
}
END_TEST

START_TEST(exec_forwards_signals_and_fails_in_one_line)
{
	char *sleeper[] = { "exec", "--exec-id", "sleeper", "t1", "sleep", "9", NULL };
	char *nope[] = { "exec", "nope", "true", NULL };
	char out[4096], err[4096];

	start_server();
	ck_assert_int_eq(run_cli(cmd_exec, sleeper, 6, "", out, err, SIGINT), 128 + SIGINT);
	ck_assert_ptr_nonnull(strstr(slurp(logpath), "signal 2 all 0 exec sleeper\n"));
	ck_assert_ptr_nonnull(strstr(slurp(logpath), "delete t1 force 0 exec sleeper\n"));
	ck_assert_int_eq(run_cli(cmd_exec, nope, 3, "", out, err, 0), CLI_EXIT_FAIL);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "shimvisor: exec nope: task nope: not found\n");
	ck_assert_ptr_null(strstr(slurp(logpath), "wait nope"));
	stop_server();
}
END_TEST

START_TEST(cli_errors_are_one_line)
{
	struct cli g = { .address = "/nonexistent/sock", .ns = "default" };
	char *argv[] = { (char *)"state", (char *)"t1", NULL };
	char line[256];
	int p[2];
	FILE *f;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	dup2(p[1], 2);
	close(p[1]);
	ck_assert_int_eq(cmd_state(&g, 2, argv), CLI_EXIT_FAIL);
	start_server();
	g.address = sock;
	argv[1] = (char *)"nope";
	ck_assert_int_eq(cmd_state(&g, 2, argv), CLI_EXIT_FAIL);
	stop_server();
	close(2);
	f = fdopen(p[0], "r");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_str_eq(line, "shimvisor: connect /nonexistent/sock: No such file or directory\n");
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_str_eq(line, "shimvisor: state nope: task nope: not found\n");
	fclose(f);
}
END_TEST

/* Run in the test runner after the cases, failed or not: a case killed by its timeout
 * leaves its fake daemon's files (named by the case's pid) behind. */
static void remove_leftovers(void)
{
	glob_t g;

	if (glob("/tmp/svtest-lib.*", 0, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
	globfree(&g);
}

int main(void)
{
	Suite *s = suite_create("client_lib");
	TCase *tc = tcase_create("lib");

	tcase_set_timeout(tc, 20);
	tcase_add_unchecked_fixture(tc, NULL, remove_leftovers);
	tcase_add_test(tc, calls_and_errors);
	tcase_add_test(tc, events_stream);
	tcase_add_test(tc, run_attached_copies_and_exits_with_status);
	tcase_add_test(tc, run_forwards_signals);
	tcase_add_test(tc, pause_resume_stats_update);
	tcase_add_test(tc, cgroup_commands);
	tcase_add_test(tc, exec_calls);
	tcase_add_test(tc, exec_commands);
	tcase_add_test(tc, exec_forwards_signals_and_fails_in_one_line);
	tcase_add_test(tc, cli_errors_are_one_line);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
