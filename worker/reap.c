/* SPDX-License-Identifier: Apache-2.0 */
/* worker/reap.c: SIGCHLD reaping, the task's exit (exit file, /tasks/exit, Waits), a process's start time. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "common/procfs.h"
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

void proc_record_exit(struct proc *p, int wstatus)
{
	if (wstatus < 0)
		return;
	p->exit_status = exit_code(wstatus);
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
}

/* p is gone. The init's exit is recorded in the bundle's exit file before anyone hears of it. */
void proc_exited(struct worker *w, struct wtask *t, struct proc *p, int wstatus)
{
	sv_TaskExit ev;
	char line[80];
	int n, err;

	proc_record_exit(p, wstatus);
	if (p == &t->init) {
		n = snprintf(line, sizeof(line), "%d %lld %ld\n", p->exit_status,
			     (long long)p->exited_at.tv_sec, (long)p->exited_at.tv_nsec);
		err = sv_replace_file(t->bundle_fd, SV_BUNDLE_EXIT, line, (size_t)n, 0644);
		if (err < 0)
			sv_warn_err(err, "write %s", SV_BUNDLE_EXIT);
	}
	sv_debug("%s %s exited with %d", p == &t->init ? "task" : "exec",
		 p == &t->init ? t->id : p->exec_id, p->exit_status);

	memset(&ev, 0, sizeof(ev));
	memcpy(ev.container_id, t->id, sizeof(ev.container_id));
	memcpy(ev.id, p == &t->init ? t->id : p->exec_id, sizeof(ev.id));
	ev.pid = (uint32_t)p->pid;
	ev.exit_status = (uint32_t)p->exit_status;
	ev.has_exited_at = true;
	ev.exited_at.seconds = p->exited_at.tv_sec;
	ev.exited_at.nanos = (int32_t)p->exited_at.tv_nsec;
	wev_publish(w, "/tasks/exit", "containerd.events.TaskExit", sv_TaskExit_fields, &ev);
	proc_release_waiters(w, p);
}

/* The process a reaped pid was, if it is one we follow. */
static struct proc *proc_by_pid(struct wtask *t, pid_t pid)
{
	struct proc *p;

	if (t->init.pid == pid)
		return &t->init;
	for (p = t->execs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

void reap_children(struct worker *w)
{
	for (;;) {
		struct wtask *t = w->task;
		struct proc *p;
		int st = 0;
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (pid <= 0) {
			if (pid < 0 && errno == EINTR)
				continue;
			return;
		}
		if (t && t->update_pid == pid) {
			wtask_update_done(w, t, st);
			continue;
		}
		p = t ? proc_by_pid(t, pid) : NULL;
		if (!p) {
			sv_debug("reaped %d (%d)", (int)pid, st);
			continue;
		}
		proc_event(w, t, p, &(struct pev){ .type = PE_REAPED, .wstatus = st });
	}
}

int proc_starttime(pid_t pid, unsigned long long *out)
{
	struct sv_proc_stat st;
	int rc = sv_proc_stat(pid, &st);

	if (rc == 0)
		*out = st.starttime;
	return rc;
}
