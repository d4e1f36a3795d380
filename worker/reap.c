/* SPDX-License-Identifier: Apache-2.0 */
/* worker/reap.c: SIGCHLD reaping, the task's exit (exit file, /tasks/exit, Waits), /proc lookups. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "wire/status.h"
#include "task.pb.h"
#include "worker.h"

static int exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

/* The task's init is gone. wstatus < 0: status and time were already recorded. */
void task_exited(struct worker *w, struct task *t, int wstatus)
{
	sv_WaitResponse r;
	sv_TaskExit ev;
	char line[80];
	size_t i;
	int n, err;

	if (wstatus >= 0) {
		t->exit_status = exit_code(wstatus);
		clock_gettime(CLOCK_REALTIME, &t->exited_at);
		t->exited = true;
	}
	n = snprintf(line, sizeof(line), "%d %lld %ld\n", t->exit_status,
		     (long long)t->exited_at.tv_sec, (long)t->exited_at.tv_nsec);
	err = sv_replace_file(t->bundle_fd, SV_BUNDLE_EXIT, line, (size_t)n, 0644);
	if (err < 0)
		sv_warn_err(err, "write %s", SV_BUNDLE_EXIT);
	t->status = T_STOPPED;
	sv_debug("task %s exited with %d", t->id, t->exit_status);

	memset(&ev, 0, sizeof(ev));
	memcpy(ev.container_id, t->id, sizeof(ev.container_id));
	memcpy(ev.id, t->id, sizeof(ev.id));
	ev.pid = (uint32_t)t->pid;
	ev.exit_status = (uint32_t)t->exit_status;
	ev.has_exited_at = true;
	ev.exited_at.seconds = t->exited_at.tv_sec;
	ev.exited_at.nanos = (int32_t)t->exited_at.tv_nsec;
	ev_publish(w, "/tasks/exit", "containerd.events.TaskExit", sv_TaskExit_fields, &ev);

	memset(&r, 0, sizeof(r));
	r.exit_status = ev.exit_status;
	r.has_exited_at = true;
	r.exited_at = ev.exited_at;
	for (i = 0; i < t->nwaiters; i++) {
		w_reply(w, t->waiters[i].cid, t->waiters[i].stream, SV_OK, NULL, sv_WaitResponse_fields, &r);
		w->npending_total--;
	}
	t->nwaiters = 0;
	if (t->capwaiters > 16) {
		free(t->waiters);
		t->waiters = NULL;
		t->capwaiters = 0;
	}
}

void reap_children(struct worker *w)
{
	for (;;) {
		struct task *t = w->task;
		int st = 0;
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			return;
		}
		if (!t || pid != t->pid || t->exited) {
			sv_debug("reaped %d (%d)", (int)pid, st);
			continue;
		}
		if (t->status == T_CREATING) {
			/* dies before READY: the sync EOF fails the Create */
			t->exited = true;
			continue;
		}
		if (t->status == T_CREATED && t->start_sent && t->sync_fd >= 0) {
			/* Start is in flight: it completes (or fails) first, then the exit. */
			t->exit_status = exit_code(st);
			clock_gettime(CLOCK_REALTIME, &t->exited_at);
			t->exited = true;
			t->exit_deferred = true;
			proc_sync_input(w, t);
			continue;
		}
		task_exited(w, t, st);
	}
}

int proc_starttime(pid_t pid, unsigned long long *out)
{
	char path[64], buf[1024], *p;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;        /* fields from 3 on, each preceded by a space */
	for (i = 3; i <= 22; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*out = strtoull(p, NULL, 10);
	return 0;
}

int proc_pidns(pid_t pid, ino_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	if (stat(path, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/* Every pid whose pid namespace is ns (malloc'd array). */
int proc_scan_ns(ino_t ns, pid_t **pids, size_t *n)
{
	char buf[4096];
	pid_t *v = NULL;
	size_t cnt = 0, cap = 0;
	int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long r;

	if (fd < 0)
		return -errno;
	while ((r = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < r) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			char *end;
			long pid = strtol(d->d_name, &end, 10);
			ino_t ino;

			off += d->d_reclen;
			if (*end || pid <= 0 || proc_pidns((pid_t)pid, &ino) < 0 || ino != ns)
				continue;
			if (cnt == cap) {
				pid_t *nv;

				cap = cap ? cap * 2 : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					close(fd);
					return -ENOMEM;
				}
				v = nv;
			}
			v[cnt++] = (pid_t)pid;
		}
	}
	close(fd);
	*pids = v;
	*n = cnt;
	return 0;
}
