/* SPDX-License-Identifier: Apache-2.0 */
/* worker/process.c: spawn shimvisor-init (the task's init, its execs, updates); its sync
 * protocol (wire/init.proto) read into lifecycle events (proc_table.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include "common/fsutil.h"
#include "common/kernel.h"
#include "common/log.h"
#include "common/procfs.h"
#include "common/spawn.h"
#include "wire/fdchan.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "init.pb.h"
#include "task.pb.h"
#include "cgroup.h"
#include "runc_options.h"
#include "worker.h"

/* USERNS carries two maps of under a page each */
#define SYNC_MSG_MAX (2 * 4096 + 256)

/* shimvisor-init runs in the task's pid namespace until the task's program replaces it: a
 * task given CAP_SYS_PTRACE can open its /proc/PID/exe (CVE-2019-5736). So it is exec'd from
 * a read-only bind of its own (sv_exe_pin), made once per worker: every open of that exe for
 * writing fails (EROFS, or ETXTBSY while it runs), and the execs and updates of a task run
 * the same binary as its create. Where the kernel allows no such mount: the path, with a
 * warning. NULL and 0 then, else &w->init_exe. */
static int init_exe(struct worker *w, const char *path, const int **exe)
{
	int fd;

	*exe = NULL;
	if (w->init_exe < 0) {
		fd = sv_exe_pin(path);
		if (fd == -ENOSYS || fd == -EPERM || fd == -EINVAL) {
			sv_warn_err(fd, "%s: no read-only pin, run from its path", path);
			return 0;
		}
		if (fd < 0)
			return fd;
		w->init_exe = fd;
	}
	*exe = &w->init_exe;
	return 0;
}

/* shimvisor-init at path: no environment; 0-2 on /dev/null (never ours: under the daemon our
 * stderr is the monitor's log relay, which the task must never hold; the init writes nothing
 * there, it reports on its sync socket); src[i] on
 * 3 + i (-1: closed); as pid 1 of a new pid namespace when newpid. */
static int start_init(struct worker *w, const char *path, char *const argv[], const int *src,
		      int n, bool newpid, pid_t *pid)
{
	char *const envp[] = { NULL };
	struct sv_spawn o = { .fds = src, .nfds = n, .std_null = true, .out = -1, .err = -1,
			      .dirfd = -1, .newpid = newpid };
	int err = init_exe(w, path, &o.exe_fd);

	return err < 0 ? err : sv_spawn(path, argv, envp, &o, pid);
}

int proc_warm_init(struct worker *w)
{
	char path[4096 + 32];
	char *const argv[] = { path, "--warm", NULL };
	int sp[2], err;
	pid_t pid;

	_Static_assert(SV_INIT_FD_SYNC == 4, "the warm init's sync socket is fd 4");
	if (w->warm_init_fd >= 0)
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/shimvisor-init", w->self_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	/* only its sync socket, on 4 (fd 3 closed); a new pid namespace: see start_init */
	err = start_init(w, path, argv, (const int[2]){ -1, sp[1] }, 2, true, &pid);
	if (err < 0) {
		close(sp[0]);
		close(sp[1]);
		return err;
	}
	close(sp[1]);
	/* above the fds a hand-over puts in place (SV_FD_LISTEN, SV_FD_LINK) */
	w->warm_init_fd = fcntl(sp[0], F_DUPFD_CLOEXEC, 10);
	close(sp[0]);
	if (w->warm_init_fd < 0) {
		kill(pid, SIGKILL);     /* reaped as a stranger */
		return -errno;
	}
	w->warm_init_pid = pid;
	return 0;
}

static void cold_close(struct wtask *t)
{
	while (t->ncold > 0)
		if (t->cold[--t->ncold] >= 0)
			close(t->cold[t->ncold]);
}

/* Copies of config.json and stdio until the init is READY: an init started as pid 1 of a
 * new pid namespace answers INIT_COLD to a spec that wants none, and a second one, in ours,
 * gets the same. A missing stdio fd is copied as -1 (spawn gives /dev/null). */
static int cold_keep(struct wtask *t, int cfg_fd, const int stdio[3])
{
	int fds[4] = { cfg_fd, stdio[0], stdio[1], stdio[2] };

	for (t->ncold = 0; t->ncold < 4; t->ncold++) {
		int *c = &t->cold[t->ncold];

		if (fds[t->ncold] < 0) {
			*c = -1;
		} else if ((*c = fcntl(fds[t->ncold], F_DUPFD_CLOEXEC, SV_FD_FIRST)) < 0) {
			int err = -errno;

			cold_close(t);
			return err;
		}
	}
	return 0;
}

/* Give the warm init this task; the warm one is spent either way. */
static int use_warm_init(struct worker *w, struct wtask *t, int cfg_fd, const int stdio[3])
{
	sv_InitSync m = { .type = sv_InitSyncType_INIT_CONFIG, .message = t->bundle,
			  .keyring = t->keyring, .terminal = t->init.terminal };
	int fds[4] = { cfg_fd, stdio[0], stdio[1], stdio[2] }, err;

	err = fdchan_send(w->warm_init_fd, sv_InitSync_fields, &m, fds, 4);
	if (err < 0) {
		close(w->warm_init_fd);     /* it died: reaped as a stranger */
	} else {
		sv_set_nonblock(w->warm_init_fd, 1);
		t->init.sync_fd = w->warm_init_fd;
		t->init.stage1 = w->warm_init_pid;
	}
	w->warm_init_fd = -1;
	w->warm_init_pid = 0;
	return err;
}

/* Start shimvisor-init with argv and the five fds on 3..7 (a missing stdio fd is -1 and
 * becomes /dev/null), pidfd on 8 when >= 0, as pid 1 of a new pid namespace when newpid:
 * its pid, and our end of its sync socket. */
static int spawn(struct worker *w, char *const argv[], int cfg_fd, const int stdio[3],
		 int pidfd, bool newpid, pid_t *pidp, int *syncp)
{
	char path[4096 + 32];
	int sp[2], src[6], null = -1, i, err;
	pid_t pid;

	if ((size_t)snprintf(path, sizeof(path), "%s/shimvisor-init", w->self_dir) >= sizeof(path))
		return -ENAMETOOLONG;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	src[0] = cfg_fd;
	src[1] = sp[1];
	src[5] = pidfd;
	for (i = 0; i < 3; i++) {
		if (stdio && stdio[i] >= 0) {
			src[2 + i] = stdio[i];
			continue;
		}
		if (null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
			break;
		src[2 + i] = null;
	}
	_Static_assert(SV_INIT_FD_CONFIG == 3, "shimvisor-init's fds start at 3");
	err = i < 3 ? -ENFILE : start_init(w, path, argv, src, src[5] >= 0 ? 6 : 5, newpid, &pid);
	if (err < 0) {
		close(sp[0]);
		close(sp[1]);
		if (null >= 0)
			close(null);
		return err;
	}
	close(sp[1]);
	if (null >= 0)
		close(null);
	sv_set_nonblock(sp[0], 1);
	*syncp = sp[0];
	*pidp = pid;
	sv_debug("shimvisor-init %s is %d", argv[1], (int)pid);
	return 0;
}

/* A memfd holding data, at offset 0. */
static int memfd_with(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = sv_write_all(fd, data, len);
	if (err == 0 && lseek(fd, 0, SEEK_SET) < 0)
		err = -errno;
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

_Static_assert(sizeof(SV_KEYRING_PREFIX) + SV_ID_SZ <= SV_KEYRING_NAME_MAX,
	       "a session keyring's name holds any task id");

/* The session keyring argument of shimvisor-init: NULL (the end of argv) without one. */
static char *keyring_arg(struct wtask *t)
{
	return t->keyring[0] ? t->keyring : NULL;
}

/* A task's init: BUNDLE, the request's terminal, its session keyring (wire/init.proto). */
static void task_argv(struct wtask *t, char *argv[5])
{
	argv[0] = "shimvisor-init";
	argv[1] = t->bundle;
	argv[2] = t->init.terminal ? "tty" : "notty";
	argv[3] = keyring_arg(t);
	argv[4] = NULL;
}

int proc_spawn_init(struct worker *w, struct wtask *t, int cfg_fd, const int stdio[3])
{
	char *argv[5];
	int err = cold_keep(t, cfg_fd, stdio);

	if (err < 0)
		return err;
	if (w->warm_init_fd >= 0 && t->bundle && use_warm_init(w, t, cfg_fd, stdio) == 0)
		return 0;
	task_argv(t, argv);
	err = spawn(w, argv, cfg_fd, stdio, -1, true, &t->init.stage1, &t->init.sync_fd);
	if (err < 0)
		cold_close(t);
	return err;
}

/* The init answered INIT_COLD (it exits; reaped as a stranger): another one in our pid
 * namespace, with what the first was given. */
static int spawn_cold_again(struct worker *w, struct wtask *t)
{
	char *argv[5];
	int err;

	task_argv(t, argv);
	close(t->init.sync_fd);
	t->init.sync_fd = -1;
	t->init.stage1 = 0;
	if (t->ncold != 4)
		return -EBADF;
	if (lseek(t->cold[0], 0, SEEK_SET) < 0)
		err = -errno;
	else
		err = spawn(w, argv, t->cold[0], t->cold + 1, -1, false, &t->init.stage1,
			    &t->init.sync_fd);
	cold_close(t);
	return err;
}

void proc_hold_close(struct proc *p)
{
	int i;

	for (i = 0; i < 4; i++)
		if (p->hold[i] >= 0)
			close(p->hold[i]);
	for (i = 0; i < 4; i++)
		p->hold[i] = -1;
}

int proc_open_exec(struct worker *w, struct wtask *t, struct proc *p)
{
	int spec, err;

	spec = memfd_with("exec-spec", p->spec, p->spec_len);
	if (spec < 0)
		return spec;
	err = pio_open(&p->io, &(struct pio_names){ p->in, p->out, p->err, p->terminal, t->id, w->o.ns },
		       p->hold + 1);
	/* an exec's pipes are the task's IoUid/IoGid's too, as runc-v2's */
	if (err == 0 && (t->io_uid || t->io_gid) &&
	    (err = runc_io_chown(p->hold + 1, 3, t->io_uid, t->io_gid)) < 0) {
		proc_hold_close(p);
		pio_close(&p->io);
	}
	if (err < 0) {
		close(spec);
		return err;
	}
	p->hold[0] = spec;
	return 0;
}

int proc_spawn_exec(struct worker *w, struct wtask *t, struct proc *p)
{
	char pidstr[16];
	/* the request's terminal, not the Process's: they may differ (runc-v2 follows it) */
	char *const argv[] = { "shimvisor-init", "--exec", t->bundle, pidstr,
			       p->terminal ? "tty" : "notty", keyring_arg(t), NULL };
	int pidfd, err;

	/* its init would join the task's cgroups as they were, and fork into the task
	 * after the move's last round: outside for good */
	if (t->update_lazy)
		return -EBUSY;
	snprintf(pidstr, sizeof(pidstr), "%d", (int)t->init.pid);
	/* the init is our unreaped child: this pidfd is surely it (no pid reuse); below
	 * Linux 5.3 there is none, and the exec checks the init is our child */
	pidfd = sv_pidfd_open(t->init.pid);
	err = pidfd < 0 && pidfd != -ENOSYS ? pidfd :
	      spawn(w, argv, p->hold[0], p->hold + 1, pidfd, false, &p->stage1, &p->sync_fd);
	if (pidfd >= 0)
		close(pidfd);
	proc_hold_close(p);
	if (err < 0)
		pio_close(&p->io);
	return err;
}

int proc_spawn_update(struct worker *w, struct wtask *t, const void *json, size_t len, bool lazy)
{
	char pidstr[16];
	char *const argv[] = { "shimvisor-init", "--update", pidstr, lazy ? t->bundle : NULL, NULL };
	int fd, err;

	snprintf(pidstr, sizeof(pidstr), "%d", (int)t->init.pid);
	fd = memfd_with("resources", json, len);
	if (fd < 0)
		return fd;
	err = spawn(w, argv, fd, NULL, -1, false, &t->update_pid, &t->update_fd);
	close(fd);
	if (!err)
		t->update_lazy = lazy;
	return err;
}

int proc_send_start(struct proc *p)
{
	return proc_send_sync(p, sv_InitSyncType_INIT_START);
}

int proc_send_sync(struct proc *p, int type)
{
	sv_InitSync m = { .type = (sv_InitSyncType)type };
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	if (p->sync_fd < 0)
		return -EPIPE;
	err = sv_pb_encode(sv_InitSync_fields, &m, &buf, &len);
	if (err < 0)
		return err;
	/* an empty message still makes one packet */
	if (send(p->sync_fd, buf ? (void *)buf : (void *)"", len, MSG_NOSIGNAL) < 0)
		err = -errno;
	free(buf);
	return err;
}

void proc_publish_create(struct worker *w, struct wtask *t)
{
	sv_TaskCreate ev;

	memset(&ev, 0, sizeof(ev));
	memcpy(ev.container_id, t->id, sizeof(ev.container_id));
	ev.bundle = t->bundle;
	ev.has_io = true;
	ev.io.stdin = t->init.in;
	ev.io.stdout = t->init.out;
	ev.io.stderr = t->init.err;
	ev.io.terminal = t->init.terminal;
	ev.pid = (uint32_t)t->init.pid;
	wev_publish(w, "/tasks/create", "containerd.events.TaskCreate", sv_TaskCreate_fields, &ev);
}

/* The task's init is set up and held: what Create's answer needs (init.pid, the pid file,
 * its pid namespace, its cgroups) is in place. */
void proc_init_ready(struct worker *w, struct wtask *t)
{
	struct proc *p = &t->init;
	ino_t self = 0;
	char line[64];
	int n, err;

	cold_close(t);
	if (proc_starttime(p->pid, &t->starttime) < 0)
		t->starttime = 0;
	if (sv_proc_pidns(p->pid, &t->pidns) == 0 && sv_proc_pidns(getpid(), &self) == 0)
		t->own_pidns = t->pidns != self;
	n = snprintf(line, sizeof(line), "%d %llu\n", (int)p->pid, t->starttime);
	err = sv_replace_file(t->bundle_fd, SV_BUNDLE_INIT_PID, line, (size_t)n, 0644);
	if (err < 0)
		sv_warn_err(err, "write %s", SV_BUNDLE_INIT_PID);
	wtask_cgroup_attach(w, t);
}

/* The sync socket ended (why: NULL = its EOF): the lifecycle decides what that means. */
static void sync_end(struct worker *w, struct wtask *t, struct proc *p, const char *why)
{
	if (p->sync_fd >= 0)
		close(p->sync_fd);
	p->sync_fd = -1;
	proc_event(w, t, p, &(struct pev){ .type = why ? PE_SYNC_ERROR : PE_SYNC_EOF, .why = why });
}

void proc_sync_input(struct worker *w, struct wtask *t, struct proc *p)
{
	while (p->sync_fd >= 0) {
		int fds[FDCHAN_MAX_FDS], nfds = 0, r, i;
		uint8_t buf[SYNC_MSG_MAX];
		sv_InitSync m;

		r = fdchan_recv_buf(p->sync_fd, sv_InitSync_fields, &m, fds, &nfds, MSG_DONTWAIT, buf,
				    sizeof(buf));
		if (r == 0 || r == -EINTR)
			return;
		if (r == -EBADMSG) {
			sv_warn("bad message from shimvisor-init");
			continue;
		}
		if (r < 0) {
			sync_end(w, t, p, NULL);
			return;
		}
		switch (m.type) {
		case sv_InitSyncType_INIT_PID:
			/* a host pid, never 1 or ourselves (kill() must not hit those) */
			if (m.pid > 1 && (pid_t)m.pid != getpid() && p->pid <= 0)
				p->pid = (pid_t)m.pid;
			break;
		case sv_InitSyncType_INIT_COLD:
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			sv_pb_free(sv_InitSync_fields, &m);
			if (p != &t->init || p->pid > 0 || t->ncold != 4) {
				kill(p->pid > 0 ? p->pid : p->stage1, SIGKILL);
				sync_end(w, t, p, "shimvisor-init: an unexpected COLD");
				return;
			}
			if ((r = spawn_cold_again(w, t)) < 0) {
				char why[128];

				snprintf(why, sizeof(why), "start shimvisor-init: %s", strerror(-r));
				sync_end(w, t, p, why);
			}
			return;
		case sv_InitSyncType_INIT_USERNS: {
			char why[160];

			/* only a task's init, once, before its PID: the one we started (stage1,
			 * our unreaped child, in our pid namespace: COLD made sure) */
			if (p != &t->init || p->pid > 0 || p->userns_mapped || p->stage1 <= 0) {
				snprintf(why, sizeof(why), "shimvisor-init: an unexpected USERNS");
				r = -EPROTO;
			} else {
				r = wuserns_write_maps(p->stage1, m.uid_map, m.gid_map, why, sizeof(why));
			}
			/* the init made its cgroups as the host's root, and cannot remove them from
			 * inside: ours from now on, so that a failed create still removes them */
			if (r == 0)
				wtask_cgroup_attach(w, t);
			if (r == 0 && (r = proc_send_sync(p, sv_InitSyncType_INIT_USERNS)) < 0)
				snprintf(why, sizeof(why), "sync: answer USERNS: %s", strerror(-r));
			p->userns_mapped = true;
			if (r < 0) {
				for (i = 0; i < nfds; i++)
					close(fds[i]);
				sv_pb_free(sv_InitSync_fields, &m);
				kill(p->stage1, SIGKILL);
				sync_end(w, t, p, why);
				return;
			}
			break;
		}
		case sv_InitSyncType_INIT_CONSOLE:
			if (nfds == 1 && p->terminal && p->io.console < 0) {
				pio_set_console(&p->io, fds[0]);
				nfds = 0;
			}
			break;
		case sv_InitSyncType_INIT_READY:
			if (p->terminal && p->io.console < 0) {
				sv_pb_free(sv_InitSync_fields, &m);
				kill(p->pid > 0 ? p->pid : p->stage1, SIGKILL);
				sync_end(w, t, p, "terminal: shimvisor-init sent no console");
				return;
			}
			if (p == &t->init)
				t->cap_bounding = m.cap_bounding;
			if (p->pid > 0)
				proc_event(w, t, p, &(struct pev){ .type = PE_SYNC_READY });
			break;
		case sv_InitSyncType_INIT_ERROR: {
			char why[400];

			snprintf(why, sizeof(why), "%s", m.message && *m.message ? m.message :
				 strerror(m.err > 0 ? m.err : EIO));
			sv_pb_free(sv_InitSync_fields, &m);
			for (i = 0; i < nfds; i++)
				close(fds[i]);
			kill(p->pid > 0 ? p->pid : p->stage1, SIGKILL);
			sync_end(w, t, p, why);
			return;
		}
		default:
			break;
		}
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		sv_pb_free(sv_InitSync_fields, &m);
	}
}

/* Answer every Wait of p with its exit. */
void proc_release_waiters(struct worker *w, struct proc *p)
{
	sv_WaitResponse r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.exit_status = (uint32_t)p->exit_status;
	r.has_exited_at = true;
	r.exited_at.seconds = p->exited_at.tv_sec;
	r.exited_at.nanos = (int32_t)p->exited_at.tv_nsec;
	for (i = 0; i < p->nwaiters; i++) {
		w_reply(w, p->waiters[i].cid, p->waiters[i].stream, SV_OK, NULL, sv_WaitResponse_fields, &r);
		w->npending_total--;
	}
	p->nwaiters = 0;
	if (p->capwaiters > 16) {
		free(p->waiters);
		p->waiters = NULL;
		p->capwaiters = 0;
	}
}

/* Release what p holds (not p itself). Replies still owed are told it is gone (the
 * lifecycle answers them first where it can: this is the net under it). */
void proc_free(struct worker *w, struct proc *p)
{
	struct pending *owed[] = { &p->create_rep, &p->start_rep, &p->delete_rep };
	size_t i;

	for (i = 0; i < sizeof(owed) / sizeof(owed[0]); i++)
		w_reply_pending(w, owed[i], SV_NOT_FOUND, "process does not exist: not found", NULL, NULL);
	for (i = 0; i < p->nwaiters; i++) {
		w_reply(w, p->waiters[i].cid, p->waiters[i].stream, SV_NOT_FOUND,
			"process does not exist: not found", NULL, NULL);
		w->npending_total--;
	}
	free(p->waiters);
	p->waiters = NULL;
	p->nwaiters = p->capwaiters = 0;
	if (p->sync_fd >= 0)
		close(p->sync_fd);
	p->sync_fd = -1;
	proc_hold_close(p);
	pio_drain(&p->io);
	pio_close(&p->io);
	free(p->in);
	free(p->out);
	free(p->err);
	free(p->spec);
	free(p->start_err);
	p->in = p->out = p->err = p->spec = p->start_err = NULL;
}

struct proc *wtask_find_exec(struct wtask *t, const char *exec_id)
{
	struct proc *p;

	for (p = t->execs; p; p = p->next)
		if (strcmp(p->exec_id, exec_id) == 0)
			return p;
	return NULL;
}

void wtask_drop_exec(struct worker *w, struct wtask *t, struct proc *p)
{
	struct proc **pp;

	for (pp = &t->execs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			t->nexecs--;
			break;
		}
	}
	if (p->pid > 0 && !proc_reaped(p))
		kill(p->pid, SIGKILL);      /* reaped as a stranger */
	else if (p->stage1 > 0 && p->sync_fd >= 0)
		kill(p->stage1, SIGKILL);
	proc_free(w, p);
	free(p);
}

void wtask_free(struct worker *w, struct wtask *t)
{
	while (t->execs)
		wtask_drop_exec(w, t, t->execs);
	proc_free(w, &t->init);
	cold_close(t);
	if (t->update_pid > 0)
		kill(t->update_pid, SIGKILL);   /* reaped as a stranger */
	if (t->update_fd >= 0)
		close(t->update_fd);
	w_reply_pending(w, &t->update_rep, SV_NOT_FOUND, "container deleted: not found", NULL, NULL);
	if (t->update_lazy && !t->cg) {
		int err;

		/* a lazy cgroup being made: what the init recorded before moving the task */
		t->cg = wcg_load(t->bundle_fd, &err);
	}
	wtask_cgroup_release(w, t);
	rootfs_unmount(t);
	if (t->bundle_fd >= 0)
		close(t->bundle_fd);
	free(t->bundle);
	free(t);
}
