/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/monitor_scan.c: recovery's walk of <state>, done by the monitor so that the
 * engine opens nothing there. Names are checked (sv_id_valid) before any path is formed; a
 * bundle's files are only tested for existence, never read (but worker.pid, when a create
 * is rolled back after a monitor restart, then checked against /proc): the socket path is
 * computed from ns/id, as spawn makes it. Each bundle with a worker to re-attach is one
 * found_live reply (a connected socket passed along), each to clean up one found reply;
 * half-made bundles and orphan work dirs are removed here; a bundle still marked `creating`
 * (its create never committed) is rolled back: its worker killed here, its found says
 * `dead` and `rollback`. MonScanned ends the answer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/ids.h"
#include "common/kernel.h"
#include "common/log.h"
#include "common/restart_policy.h"
#include "common/unixsock.h"
#include "monitor.h"
#include "wire/bytes.h"
#include "wire/limits.h"

/* Errors that say nothing of the worker, only of us (out of fds, memory): never a reason
 * to clean up, which would kill a live task. */
static bool ours_to_blame(int r)
{
	return r == -EMFILE || r == -ENFILE || r == -ENOMEM || r == -ENOBUFS || r == -EAGAIN ||
	       r == -EINTR || r == -ENOSPC;
}

/* The bundle's restart record, if it has one that parses (the engine carries it out). */
static bool restart_of(int bfd, sv_MonRestart *out)
{
	struct sv_restart r;
	size_t len = 0;
	char *s = NULL;
	bool ok;

	ok = sv_read_file(bfd, SV_BUNDLE_RESTART, 64, &s, &len) == 0 &&
	     sv_restart_record_parse(s, len, &r) == 0;
	free(s);
	if (ok)
		*out = (sv_MonRestart){ .kind = r.kind, .max = r.max, .count = r.count,
					.stopped = r.stopped, .auto_remove = r.auto_remove };
	return ok;
}

/* The bundle's summary file as it is (the engine's bytes, never parsed here), if it has one
 * within SV_SUMMARY_MAX. */
static pb_bytes_array_t *summary_of(int bfd, const char *ns, const char *id)
{
	pb_bytes_array_t *b = NULL;
	size_t len = 0;
	char *s = NULL;
	int r = sv_read_file(bfd, SV_BUNDLE_SUMMARY, SV_SUMMARY_MAX, &s, &len);

	if (r == 0)
		b = sv_bytes_new(s, len);
	else if (r != -ENOENT)
		sv_warn_err(r, "re-attach %s/%s: its summary: not read (inspect shows its state "
			    "alone)", ns, id);
	free(s);
	return b;
}

/* bfd: the bundle, open (its restart record and summary are read), or -1 */
static void found(struct monitor *m, uint32_t seq, const char *ns, const char *id, int bfd, int fd,
		  bool dead, bool unreachable, bool rollback)
{
	char bundle[PATH_MAX];
	sv_MonReply rep;

	mon_reply_base(&rep, seq, ns, id);
	snprintf(bundle, sizeof(bundle), "%s/%s/%s", m->cfg->state, ns, id);
	/* found_live: the link passed, no flag; found: none, and why */
	rep.which_r = fd >= 0 ? sv_MonReply_found_live_tag : sv_MonReply_found_tag;
	rep.r.found.bundle = bundle;        /* the same message for both types */
	rep.r.found.dead = dead;
	rep.r.found.unreachable = unreachable;
	rep.r.found.rollback = rollback;
	if (bfd >= 0 && !rollback) {
		rep.r.found.has_restart = restart_of(bfd, &rep.r.found.restart);
		rep.r.found.summary = summary_of(bfd, ns, id);
	}
	if (mon_send_reply_fds(m, &rep, &fd, fd >= 0) < 0 && fd >= 0) {
		/* out of fds to queue its link: found without one, listed and left running (a
		 * restart with room re-attaches it) */
		rep.which_r = sv_MonReply_found_tag;
		rep.r.found.unreachable = true;
		mon_send_reply_fds(m, &rep, NULL, 0);
	}
	free(rep.r.found.summary);
}

/* The pid in the bundle's worker.pid (written by a monitor), or -1. */
static pid_t recorded_worker(int bfd)
{
	char buf[32];
	ssize_t n;
	long v;
	char *end;
	int fd = openat(bfd, SV_BUNDLE_WORKER_PID, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	v = strtol(buf, &end, 10);
	return v > 1 && v < INT_MAX && (*end == '\n' || *end == 0) ? (pid_t)v : -1;
}

/* pid is a worker serving this bundle: its cwd is the bundle (the worker enters it at start)
 * and its executable is named as ours (also when replaced on disk since). /proc/PID/exe
 * names the file, not the symlink it was run by: the musl build's worker is a symlink to
 * shimvisord (common/multicall.c). */
static bool is_bundle_worker(const struct monitor *m, pid_t pid, int bfd)
{
	char p[64], exe[PATH_MAX], real[PATH_MAX];
	const char *want, *got;
	struct stat a, b;
	size_t wl;
	ssize_t n;

	if (!realpath(m->worker_path, real))
		snprintf(real, sizeof(real), "%s", m->worker_path);
	want = strrchr(real, '/');
	want = want ? want + 1 : real;
	wl = strlen(want);
	snprintf(p, sizeof(p), "/proc/%d/cwd", (int)pid);
	if (stat(p, &a) < 0 || fstat(bfd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return false;
	snprintf(p, sizeof(p), "/proc/%d/exe", (int)pid);
	n = readlink(p, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = 0;
	got = strrchr(exe, '/');
	got = got ? got + 1 : exe;
	return !strncmp(got, want, wl) && (!got[wl] || !strcmp(got + wl, " (deleted)"));
}

/* Roll back a create that was never committed: kill its worker (the cleanup that follows
 * the MonFound, the dead worker's `delete` action, kills its init and removes its cgroups,
 * mounts and bundle). Our own child, unreaped, by its pid (it cannot have been reused);
 * after a monitor restart the pid the bundle records, through a pidfd taken before the
 * process is checked (is_bundle_worker), so a pid reused meanwhile gets no signal. */
static void rollback_worker(struct monitor *m, int bfd, const char *ns, const char *id)
{
	struct mon_child *c = mon_worker_of(m, ns, id);
	pid_t pid;
	int pfd;

	if (c) {
		kill(c->pid, SIGKILL);
		return;
	}
	if ((pid = recorded_worker(bfd)) < 0)
		return;
	pfd = sv_pidfd_open(pid);
	if (pfd < 0 && pfd != -ENOSYS)
		return;         /* gone */
	/* below Linux 5.3, kill(2): a pid reused between the check and the kill is hit */
	if (is_bundle_worker(m, pid, bfd))
		(void)(pfd >= 0 ? sv_pidfd_signal(pfd, SIGKILL) : kill(pid, SIGKILL));
	if (pfd >= 0)
		close(pfd);
}

static void scan_bundle(struct monitor *m, uint32_t seq, int nsfd, const char *ns, const char *id)
{
	char sock[PATH_MAX];
	int bfd, r, fd;
	bool creating;

	bfd = openat(nsfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0) {
		sv_warn_err(-errno, "re-attach %s/%s: open its bundle; left as it is", ns, id);
		return;
	}
	r = sv_lexists_at(bfd, SV_BUNDLE_CONFIG);
	if (r == 0)
		r = sv_lexists_at(bfd, SV_BUNDLE_ADDRESS);
	creating = r == 0 && sv_lexists_at(bfd, SV_BUNDLE_CREATING) == 0;
	if (creating) {
		/* its client was never answered yes: undo it (dead: the cleaner's path) */
		sv_warn("recovery: %s/%s: its create was not committed: rolled back", ns, id);
		rollback_worker(m, bfd, ns, id);
		close(bfd);
		found(m, seq, ns, id, -1, -1, true, false, true);
		return;
	}
	if (r == -ENOENT) {
		close(bfd);
		/* an empty or half-made bundle: no worker was ever started from it */
		mon_remove_task(m, ns, id);
		return;
	}
	if (r < 0) {
		/* out of fds or memory says nothing of the bundle: never remove it for that */
		sv_warn_err(r, "re-attach %s/%s: read its bundle; left as it is", ns, id);
		close(bfd);
		return;
	}
	r = sv_shim_socket_path(m->cfg->state, ns, id, sock, sizeof(sock));
	fd = r < 0 ? r : sv_unix_connect_nb(sock);  /* a wedged worker never blocks us */
	if (fd < 0 && ours_to_blame(fd)) {
		/* listed as unknown, left running; a restart with room re-attaches it */
		sv_warn_err(fd, "re-attach %s/%s: cannot connect to its worker now; left as it is, "
			    "running", ns, id);
		found(m, seq, ns, id, bfd, -1, false, true, false);
		close(bfd);
		return;
	}
	found(m, seq, ns, id, bfd, fd, fd < 0, false, false);  /* no socket or no listener: dead */
	close(bfd);
	if (fd >= 0)
		close(fd);
}

typedef void scan_fn(struct monitor *m, uint32_t seq, int nsfd, const char *ns, const char *id);

/* Call fn for every valid ns/id directory pair under dirfd. */
static void walk(struct monitor *m, uint32_t seq, int dirfd, scan_fn *fn)
{
	int dfd = dup(dirfd);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;

	if (d)
		rewinddir(d);   /* a dup shares the offset: a later scan (a new engine's) starts over */
	if (!d) {
		sv_warn_err(-errno, "recovery: list the namespaces; everything left as it is");
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		if (!sv_id_valid(de->d_name))
			continue;       /* ".", "..", ".s", ".lock", and anything not ours */
		int nsfd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int nfd = nsfd < 0 ? -1 : dup(nsfd);
		DIR *nd = nfd < 0 ? NULL : fdopendir(nfd);
		struct dirent *ie;
		char ns[SV_ID_SZ];

		snprintf(ns, sizeof(ns), "%s", de->d_name);
		if (!nd) {
			if (errno != ENOTDIR)
				sv_warn_err(-errno, "recovery: namespace %s: left as it is", ns);
			if (nfd >= 0)
				close(nfd);
			if (nsfd >= 0)
				close(nsfd);
			continue;
		}
		while ((ie = readdir(nd)))
			if (sv_id_valid(ie->d_name))
				fn(m, seq, nsfd, ns, ie->d_name);
		closedir(nd);
		close(nsfd);
	}
	closedir(d);
}

int mon_scan(struct monitor *m, const sv_MonRequest *rq)
{
	sv_MonReply rep;

	walk(m, rq->seq, m->state_fd, scan_bundle);
	mon_reply_base(&rep, rq->seq, "", "");
	rep.which_r = sv_MonReply_scanned_tag;
	mon_send_reply_fds(m, &rep, NULL, 0);
	return 0;
}
