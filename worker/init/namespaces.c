/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/namespaces.c: the user namespace first (userns.c), then join the spec's other
 * namespaces by path, create the rest, and fork into a pid namespace. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "init.pb.h"
#include "worker/init/init.h"

/* Order of setns: the mount namespace last, since it changes how later paths resolve. */
static const int join_order[] = {
	CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWCGROUP, CLONE_NEWNS,
};
#define NJOIN (sizeof(join_order) / sizeof(join_order[0]))

static int join_paths(struct init *in)
{
	int fds[NJOIN];
	size_t i;
	int rc = 0;

	for (i = 0; i < NJOIN; i++) {
		const struct spec_ns *n = spec_find_ns(&in->spec, join_order[i]);

		fds[i] = -1;
		if (!n || !n->path)
			continue;
		fds[i] = open(n->path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			rc = init_fail(&in->err, -errno, "namespace %s", n->path);
			break;
		}
	}
	for (size_t k = 0; rc == 0 && k < NJOIN; k++)
		if (fds[k] >= 0 && setns(fds[k], join_order[k]) < 0)
			rc = init_fail(&in->err, -errno, "setns %s",
				       spec_find_ns(&in->spec, join_order[k])->path);
	for (size_t k = 0; k < i && k < NJOIN; k++)
		if (fds[k] >= 0)
			close(fds[k]);
	return rc;
}

/* Parent side of the pid-namespace fork: report the child's pid, then let it run. */
static _Noreturn void parent_report(struct init *in, pid_t child, int go_fd)
{
	int rc = sync_send(in->sync_fd, sv_InitSyncType_INIT_PID, (unsigned)child, 0, NULL);

	/* One byte releases the child; EOF without it tells the child to give up. */
	if (rc == 0 && write(go_fd, "g", 1) != 1)
		rc = -EIO;
	close(go_fd);
	_exit(rc ? 1 : 0);
}

static const struct {
	int flag;
	const char *proc;
} pre_ns[3] = {
	{ CLONE_NEWIPC, "/proc/self/ns/ipc" },
	{ CLONE_NEWUTS, "/proc/self/ns/uts" },
	{ CLONE_NEWNET, "/proc/self/ns/net" },
};

void ns_prepare_warm(struct init *in)
{
	int flags = 0;

	for (int i = 0; i < 3; i++) {
		/* kept above the fds CONFIG puts in place (3, 5..7) and its temporaries */
		int fd = open(pre_ns[i].proc, O_RDONLY | O_CLOEXEC);

		in->host_ns[i] = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 32) : -1;
		if (fd >= 0)
			close(fd);
		if (in->host_ns[i] >= 0)
			flags |= pre_ns[i].flag;
	}
	if (flags && unshare(flags) == 0)
		in->pre_flags = flags;
}

/* Settle the namespaces made ahead of the spec: keep what it wants new, return to the
 * host's what it does not name (a path the spec names is joined after this). */
static int settle_warm(struct init *in, int *flags)
{
	int rc = 0;

	for (int i = 0; i < 3; i++) {
		const struct spec_ns *n = spec_find_ns(&in->spec, pre_ns[i].flag);

		if (!(in->pre_flags & pre_ns[i].flag)) {
			/* not made ahead */
		} else if (n && !n->path) {
			*flags &= ~pre_ns[i].flag;      /* already new */
		} else if (!n && !rc && setns(in->host_ns[i], pre_ns[i].flag) < 0) {
			rc = init_fail(&in->err, -errno, "setns back to the host's %s", pre_ns[i].proc);
		}
		if (in->host_ns[i] >= 0)
			close(in->host_ns[i]);
		in->host_ns[i] = -1;
	}
	return rc;
}

void ns_check_pre_pidns(struct init *in)
{
	const struct spec_ns *n = spec_find_ns(&in->spec, CLONE_NEWPID);

	/* A user namespace must own the task's other namespaces: the pid namespace the worker
	 * made, and a warm init's ipc, uts and network ones, are the host's. */
	if (spec_find_ns(&in->spec, CLONE_NEWUSER) ? !in->pre_pidns && !in->pre_flags :
	    !in->pre_pidns || (n && !n->path))
		return;
	_exit(sync_send(in->sync_fd, sv_InitSyncType_INIT_COLD, 0, 0, NULL) ? 127 : 0);
}

/* Our pid as the worker sees it: /proc is still the host's (ours comes with the mounts). */
static int host_pid(struct init *in, unsigned *pid)
{
	char buf[32], *end;
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
	unsigned long v;

	if (n <= 0)
		return init_fail(&in->err, n < 0 ? -errno : -EIO, "readlink /proc/self");
	buf[n] = 0;
	v = strtoul(buf, &end, 10);
	if (*end || v <= 1 || v > INT_MAX)
		return init_failmsg(&in->err, -EPROTO, "/proc/self is %s: not the host's /proc", buf);
	*pid = (unsigned)v;
	return 0;
}

int ns_enter(struct init *in)
{
	const struct spec_ns *pidns;
	int flags = 0;

	if (userns_enter(in))
		return in->err.rc;
	for (size_t i = 0; i < in->spec.nns; i++)
		if (!in->spec.ns[i].path)
			flags |= in->spec.ns[i].flag;
	flags &= ~CLONE_NEWUSER;
	in->new_mntns = !!(flags & CLONE_NEWNS);
	in->new_netns = !!(flags & CLONE_NEWNET);
	in->new_utsns = !!(flags & CLONE_NEWUTS);
	if (in->pre_pidns)
		flags &= ~CLONE_NEWPID;         /* ours already: ns_check_pre_pidns made sure */
	if (in->pre_flags && settle_warm(in, &flags))
		return in->err.rc;
	if (join_paths(in))
		return in->err.rc;
	if (flags && unshare(flags) < 0)
		return init_fail(&in->err, -errno, "unshare");

	pidns = spec_find_ns(&in->spec, CLONE_NEWPID);
	if (!pidns || in->pre_pidns) {
		unsigned me = (unsigned)getpid();
		int rc;

		if (in->pre_pidns && host_pid(in, &me))
			return in->err.rc;
		rc = sync_send(in->sync_fd, sv_InitSyncType_INIT_PID, me, 0, NULL);
		return rc ? init_fail(&in->err, rc, "sync: send pid") : 0;
	}
	return ns_fork_report(in);
}

int ns_fork_report(struct init *in)
{
	int gate[2];
	ssize_t n;
	char b;
	pid_t pid;

	/* A new or joined pid namespace takes effect for children only: fork. The child waits
	 * until the parent has sent INIT_PID, so the worker always reads it first. */
	if (pipe2(gate, O_CLOEXEC) < 0)
		return init_fail(&in->err, -errno, "pipe");
	pid = fork();
	if (pid < 0) {
		int rc = -errno;

		close(gate[0]);
		close(gate[1]);
		return init_fail(&in->err, rc, "fork");
	}
	if (pid > 0) {
		close(gate[0]);
		parent_report(in, pid, gate[1]);
	}
	close(gate[1]);
	while ((n = read(gate[0], &b, 1)) < 0 && errno == EINTR)
		;
	close(gate[0]);
	if (n != 1)
		_exit(127);     /* the parent could not report us: the worker gets EOF */
	return 0;
}
