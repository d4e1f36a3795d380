/* SPDX-License-Identifier: Apache-2.0 */
/* worker/process.c: the task's init: spawn shimvisor-init, follow its sync protocol (wire/init.proto). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "wire/fdchan.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "init.pb.h"
#include "task.pb.h"
#include "worker.h"

#define SYNC_MSG_MAX 4096

/* In a forked child: undo the worker's signal set-up before exec. */
static void child_reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
}

/* In the child: move the five fds onto 3..7, close everything else, exec. Never returns. */
static _Noreturn void exec_init(const char *path, const char *bundle, const int src[5])
{
	char *const argv[] = { (char *)path, (char *)bundle, NULL };
	char *const envp[] = { NULL };
	int tmp[5], i;

	child_reset_signals();
	for (i = 0; i < 5; i++) {
		tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 16);
		if (tmp[i] < 0)
			_exit(127);
	}
	for (i = 0; i < 5; i++)
		if (dup2(tmp[i], SV_INIT_FD_CONFIG + i) < 0)
			_exit(127);
	close_range(SV_INIT_FD_STDIO + 3, ~0U, 0);
	execve(path, argv, envp);
	_exit(127);
}

int proc_warm_init(struct worker *w)
{
	char path[4096 + 32];
	int sp[2];
	pid_t pid;

	if (w->warm_init_fd >= 0)
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/shimvisor-init", w->self_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;
		close(sp[0]);
		close(sp[1]);
		return err;
	}
	if (pid == 0) {
		char *const argv[] = { path, "--warm", NULL };
		char *const envp[] = { NULL };
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		child_reset_signals();
		sp[1] = fcntl(sp[1], F_DUPFD_CLOEXEC, 16);
		if (null < 0 || sp[1] < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    dup2(sp[1], SV_INIT_FD_SYNC) < 0)
			_exit(127);
		close_range(3, SV_INIT_FD_SYNC - 1, 0);
		close_range(SV_INIT_FD_SYNC + 1, ~0U, 0);
		execve(path, argv, envp);
		_exit(127);
	}
	close(sp[1]);
	/* above the fds a hand-over puts in place (SV_FD_LISTEN, SV_FD_REPORT) */
	w->warm_init_fd = fcntl(sp[0], F_DUPFD_CLOEXEC, 10);
	close(sp[0]);
	if (w->warm_init_fd < 0) {
		kill(pid, SIGKILL);     /* reaped as a stranger */
		return -errno;
	}
	w->warm_init_pid = pid;
	return 0;
}

/* Give the warm init this task; the warm one is spent either way. */
static int use_warm_init(struct worker *w, struct task *t, int cfg_fd, const int stdio[3])
{
	sv_InitSync m = { .type = sv_InitSyncType_INIT_CONFIG, .message = t->bundle };
	int fds[4] = { cfg_fd, stdio[0], stdio[1], stdio[2] }, err;

	err = fdchan_send(w->warm_init_fd, sv_InitSync_fields, &m, fds, 4);
	if (err < 0) {
		close(w->warm_init_fd);     /* it died: reaped as a stranger */
	} else {
		sv_set_nonblock(w->warm_init_fd, 1);
		t->sync_fd = w->warm_init_fd;
		t->stage1 = w->warm_init_pid;
	}
	w->warm_init_fd = -1;
	w->warm_init_pid = 0;
	return err;
}

int proc_spawn_init(struct worker *w, struct task *t, int cfg_fd, const int stdio[3])
{
	char path[4096 + 32];
	int sp[2], src[5];
	pid_t pid;

	if (w->warm_init_fd >= 0 && t->bundle && use_warm_init(w, t, cfg_fd, stdio) == 0)
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/shimvisor-init", w->self_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	src[0] = cfg_fd;
	src[1] = sp[1];
	src[2] = stdio[0];
	src[3] = stdio[1];
	src[4] = stdio[2];
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(sp[0]);
		close(sp[1]);
		return err;
	}
	if (pid == 0)
		exec_init(path, t->bundle, src);
	close(sp[1]);
	sv_set_nonblock(sp[0], 1);
	t->sync_fd = sp[0];
	t->stage1 = pid;
	sv_debug("shimvisor-init stage 1 is %d", (int)pid);
	return 0;
}

int proc_send_start(struct task *t)
{
	sv_InitSync m = { .type = sv_InitSyncType_INIT_START };
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	if (t->sync_fd < 0)
		return -EPIPE;
	err = sv_pb_encode(sv_InitSync_fields, &m, &buf, &len);
	if (err < 0)
		return err;
	/* an empty message still makes one packet */
	if (send(t->sync_fd, buf ? (void *)buf : (void *)"", len, MSG_NOSIGNAL) < 0)
		err = -errno;
	free(buf);
	return err;
}

static void on_ready(struct worker *w, struct task *t)
{
	sv_CreateTaskResponse r = { .pid = (uint32_t)t->pid };
	sv_TaskCreate ev;
	sv_TaskIO io;
	ino_t self = 0;
	char line[64];
	int n, err;

	if (proc_starttime(t->pid, &t->starttime) < 0)
		t->starttime = 0;
	if (proc_pidns(t->pid, &t->pidns) == 0 && proc_pidns(getpid(), &self) == 0)
		t->own_pidns = t->pidns != self;
	n = snprintf(line, sizeof(line), "%d %llu\n", (int)t->pid, t->starttime);
	err = sv_replace_file(t->bundle_fd, SV_BUNDLE_INIT_PID, line, (size_t)n, 0644);
	if (err < 0)
		sv_warn_err(err, "write %s", SV_BUNDLE_INIT_PID);
	t->status = T_CREATED;
	w_reply_pending(w, &t->create_rep, SV_OK, NULL, sv_CreateTaskResponse_fields, &r);

	memset(&ev, 0, sizeof(ev));
	memset(&io, 0, sizeof(io));
	memcpy(ev.container_id, t->id, sizeof(ev.container_id));
	ev.bundle = t->bundle;
	ev.has_io = true;
	io.stdin = t->in;
	io.stdout = t->out;
	io.stderr = t->err;
	io.terminal = t->terminal;
	ev.io = io;
	ev.pid = (uint32_t)t->pid;
	ev_publish(w, "/tasks/create", "containerd.events.TaskCreate", sv_TaskCreate_fields, &ev);
}

static void on_started(struct worker *w, struct task *t)
{
	sv_StartResponse r = { .pid = (uint32_t)t->pid };
	sv_TaskStart ev;

	t->status = T_RUNNING;
	w_reply_pending(w, &t->start_rep, SV_OK, NULL, sv_StartResponse_fields, &r);
	memset(&ev, 0, sizeof(ev));
	memcpy(ev.container_id, t->id, sizeof(ev.container_id));
	ev.pid = (uint32_t)t->pid;
	ev_publish(w, "/tasks/start", "containerd.events.TaskStart", sv_TaskStart_fields, &ev);
	if (t->exit_deferred) {
		t->exit_deferred = false;
		task_exited(w, t, -1);
	}
}

/* Create failed: answer everyone, drop the task; its processes are reaped quietly. */
static void create_failed(struct worker *w, struct task *t, const char *why)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "failed to create task: %s", why);
	w_reply_pending(w, &t->create_rep, SV_UNKNOWN, msg, NULL, NULL);
	if (t->pid > 0 && !t->exited)
		kill(t->pid, SIGKILL);
	if (t->stage1 > 0)
		kill(t->stage1, SIGKILL);
	w->task = NULL;
	task_free(w, t);
}

static void sync_closed(struct worker *w, struct task *t, const char *errmsg)
{
	close(t->sync_fd);
	t->sync_fd = -1;
	if (t->status == T_CREATING) {
		create_failed(w, t, errmsg ? errmsg : "shimvisor-init exited before it was ready");
	} else if (t->status == T_CREATED && t->start_sent) {
		if (errmsg) {
			char msg[512];

			snprintf(msg, sizeof(msg), "failed to start task: %s", errmsg);
			w_reply_pending(w, &t->start_rep, SV_UNKNOWN, msg, NULL, NULL);
			t->start_sent = false;
			if (t->exit_deferred) {
				t->exit_deferred = false;
				task_exited(w, t, -1);
			}
		} else {
			on_started(w, t);
		}
	}
}

void proc_sync_input(struct worker *w, struct task *t)
{
	uint8_t buf[SYNC_MSG_MAX];

	while (t->sync_fd >= 0) {
		ssize_t r = recv(t->sync_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		sv_InitSync m;

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			sync_closed(w, t, NULL);
			return;
		}
		if ((size_t)r > sizeof(buf) || sv_pb_decode(sv_InitSync_fields, &m, buf, (size_t)r) < 0) {
			sv_warn("bad message from shimvisor-init");
			continue;
		}
		switch (m.type) {
		case sv_InitSyncType_INIT_PID:
			/* a host pid, never 1 or ourselves (kill() must not hit those) */
			if (m.pid > 1 && (pid_t)m.pid != getpid() && t->pid <= 0)
				t->pid = (pid_t)m.pid;
			break;
		case sv_InitSyncType_INIT_READY:
			if (t->status == T_CREATING && t->pid > 0)
				on_ready(w, t);
			break;
		case sv_InitSyncType_INIT_ERROR: {
			char why[400];

			snprintf(why, sizeof(why), "%s", m.message && *m.message ? m.message :
				 strerror(m.err > 0 ? m.err : EIO));
			sv_pb_free(sv_InitSync_fields, &m);
			kill(t->pid > 0 ? t->pid : t->stage1, SIGKILL);
			sync_closed(w, t, why);
			return;
		}
		default:
			break;
		}
		sv_pb_free(sv_InitSync_fields, &m);
	}
}

void task_free(struct worker *w, struct task *t)
{
	size_t i;

	for (i = 0; i < t->nwaiters; i++) {
		w_reply(w, t->waiters[i].cid, t->waiters[i].stream, SV_NOT_FOUND, "container not created: not found",
			NULL, NULL);
		w->npending_total--;
	}
	free(t->waiters);
	rootfs_unmount(t);
	if (t->sync_fd >= 0)
		close(t->sync_fd);
	if (t->bundle_fd >= 0)
		close(t->bundle_fd);
	for (i = 0; i < 2; i++)
		if (t->readers[i] >= 0)
			close(t->readers[i]);
	free(t->bundle);
	free(t->in);
	free(t->out);
	free(t->err);
	free(t);
}

/* SIGKILL a child and reap it, waiting at most timeout_ms. The raw wait status or -errno. */
int proc_kill_sync(pid_t pid, int timeout_ms)
{
	int pfd, st = 0;
	pid_t r;

	if (pid <= 0)
		return -EINVAL;
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	kill(pid, SIGKILL);
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR)
			;
		close(pfd);
	}
	r = waitpid(pid, &st, WNOHANG);
	if (r == pid)
		return st;
	if (r == 0 && pfd < 0) {
		/* no pidfd: bounded blocking-ish loop */
		int i;

		for (i = 0; i < timeout_ms / 10; i++) {
			struct timespec ts = { 0, 10 * 1000000 };

			nanosleep(&ts, NULL);
			if (waitpid(pid, &st, WNOHANG) == pid)
				return st;
		}
	}
	return r < 0 ? -errno : -ETIMEDOUT;
}
