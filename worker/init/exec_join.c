/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/exec_join.c: an exec process joins its task: the task's cgroups (through the
 * host's cgroup mounts, before the mount namespace changes), then the task's namespaces in
 * one setns on a pidfd (below Linux 5.8: one setns per /proc/PID/ns file), then a fork when
 * the pid namespace changed. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "common/kernel.h"
#include "common/procfs.h"
#include "init.pb.h"
#include "wire/limits.h"
#include "worker/init/cgroups.h"
#include "worker/init/init.h"

/* Namespace types an exec joins when the task's differs from ours (runc's order). */
static const struct { int flag; const char *name; } ns_files[] = {
	{ CLONE_NEWUSER, "user" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" },
	{ CLONE_NEWNET, "net" }, { CLONE_NEWPID, "pid" }, { CLONE_NEWCGROUP, "cgroup" },
	{ CLONE_NEWNS, "mnt" },
};

/* CLONE_NEW* of every namespace of the task's that is not ours. */
static int ns_differing(struct init *in, int procfd, int *flags)
{
	*flags = 0;
	for (size_t i = 0; i < sizeof(ns_files) / sizeof(ns_files[0]); i++) {
		struct stat theirs, ours;
		char p[32];

		snprintf(p, sizeof(p), "ns/%s", ns_files[i].name);
		if (fstatat(procfd, p, &theirs, 0) < 0) {
			if (errno == ENOENT && ns_files[i].flag == CLONE_NEWCGROUP)
				continue;       /* a kernel without cgroup namespaces */
			return init_fail(&in->err, -errno, "the task's /proc/PID/%s", p);
		}
		snprintf(p, sizeof(p), "/proc/self/ns/%s", ns_files[i].name);
		if (stat(p, &ours) < 0)
			return init_fail(&in->err, -errno, "%s", p);
		if (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev)
			*flags |= ns_files[i].flag;
	}
	return 0;
}

/* The pid a pidfd refers to (its fdinfo "Pid:" line), or -1. */
static pid_t pidfd_pid(int fd)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nPid:");
	return p ? (pid_t)atoi(p + 5) : -1;
}

/* Below Linux 5.3 (no pidfd): whether procfd, opened on /proc/PID, is our sibling, the
 * worker's task init: it is the worker's unreaped child, so its pid cannot have been reused. */
static int proc_is_sibling(int procfd)
{
	struct sv_proc_stat st;
	char buf[1024];
	ssize_t n;
	int fd = openat(procfd, "stat", O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc || n == 0)
		return rc ? rc : -ESRCH;
	buf[n] = '\0';
	if ((rc = sv_proc_stat_parse(buf, &st)) < 0)
		return rc;
	return st.ppid == getppid() && st.state != 'Z' ? 0 : -ESRCH;
}

/* Below Linux 5.8 (setns takes no pidfd): every namespace in flags from its /proc/PID/ns
 * file, all opened first (procfd pins the process: a pid reused since opens nothing), then
 * joined in ns_files' order: user first, mnt last. */
static int setns_each(struct init *in, int procfd, int flags)
{
	enum { N = sizeof(ns_files) / sizeof(ns_files[0]) };
	int fds[N], rc = 0;
	size_t i;

	for (i = 0; i < N; i++) {
		char p[32];

		fds[i] = -1;
		if (rc || !(flags & ns_files[i].flag))
			continue;
		snprintf(p, sizeof(p), "ns/%s", ns_files[i].name);
		if ((fds[i] = openat(procfd, p, O_RDONLY | O_CLOEXEC)) < 0)
			rc = init_fail(&in->err, -errno, "the task's /proc/PID/%s", p);
	}
	for (i = 0; i < N; i++) {
		if (!rc && fds[i] >= 0 && setns(fds[i], ns_files[i].flag) < 0)
			rc = init_fail(&in->err, -errno, "setns to the task's %s namespace",
				       ns_files[i].name);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	return rc;
}

int exec_join(struct init *in, pid_t pid)
{
	char path[32];
	int pidfd, procfd, flags = 0, rc;

	/* Nothing in the container may ptrace us (and reach the worker's fds) while we join. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return init_fail(&in->err, -errno, "prctl dumpable");
	/* the worker's pidfd of its (unreaped) task init when it passed one: no pid reuse */
	if (fcntl(SV_INIT_FD_PIDFD, F_GETFD) >= 0 && pidfd_pid(SV_INIT_FD_PIDFD) == pid)
		pidfd = SV_INIT_FD_PIDFD;
	else
		pidfd = sv_pidfd_open(pid);
	if (pidfd < 0 && pidfd != -ENOSYS)
		return init_fail(&in->err, pidfd, "task %d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* Alive now, so the /proc directory opened before is the pidfd's process. */
	if (procfd < 0 ||
	    (errno = -(pidfd >= 0 ? sv_pidfd_signal(pidfd, 0) : proc_is_sibling(procfd))) != 0) {
		rc = init_fail(&in->err, -errno, "task %d", (int)pid);
		goto out;
	}
	/* cgroups through the host's mounts, before the mount namespace changes */
	if ((rc = cgroups_join_of(in, pid)) || (rc = ns_differing(in, procfd, &flags)))
		goto out;
	if (flags) {
		/* EINVAL: a kernel whose setns takes no pidfd (and no pidfd: the same) */
		int r = pidfd < 0 ? -EINVAL : setns(pidfd, flags) < 0 ? -errno : 0;

		if (r == -EINVAL)
			rc = setns_each(in, procfd, flags);
		else if (r)
			rc = init_fail(&in->err, r, "setns to task %d", (int)pid);
	}
out:
	if (procfd >= 0)
		close(procfd);
	if (pidfd >= 0)
		close(pidfd);
	if (rc)
		return rc;
	if (flags & CLONE_NEWPID)
		return ns_fork_report(in);
	rc = sync_send(in->sync_fd, sv_InitSyncType_INIT_PID, (unsigned)getpid(), 0, NULL);
	return rc ? init_fail(&in->err, rc, "sync: send pid") : 0;
}
