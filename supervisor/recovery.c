/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/recovery.c: after a (re)start, find every bundle, re-attach live workers,
 * clean up dead ones, remove empty bundles and orphan work dirs. Never blocks the loop:
 * each re-attach is a Connect call with its own deadline. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/ids.h"
#include "common/log.h"
#include "engine.h"
#include "wire/limits.h"

static void cleanup_orphan(struct engine *e, const char *ns, const char *id)
{
	sv_MonRequest rq = { .which_op = sv_MonRequest_cleanup_tag };

	snprintf(rq.op.cleanup.ns, sizeof(rq.op.cleanup.ns), "%s", ns);
	snprintf(rq.op.cleanup.id, sizeof(rq.op.cleanup.id), "%s", id);
	rq.op.cleanup.dead = false;
	if (mon_send(e, NULL, &rq) == 0)
		e->orphans_pending++;   /* readiness waits for it (engine.c) */
}

/* Errors that say nothing of the worker, only of us (out of fds, memory): never a reason
 * to clean up, which would kill a live task. */
static bool ours_to_blame(int r)
{
	return r == -EMFILE || r == -ENFILE || r == -ENOMEM || r == -ENOBUFS || r == -EAGAIN ||
	       r == -EINTR || r == -ENOSPC;
}

static void recover_bundle(struct engine *e, int nsfd, const char *ns, const char *id)
{
	char *addr = NULL, path[PATH_MAX];
	struct task *t;
	size_t len;
	int bfd, r;

	bfd = openat(nsfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0) {
		sv_warn_err(-errno, "re-attach %s/%s: open its bundle; left as it is", ns, id);
		return;
	}
	r = faccessat(bfd, SV_BUNDLE_CONFIG, F_OK, AT_SYMLINK_NOFOLLOW) < 0 ? -errno :
	    sv_read_file(bfd, SV_BUNDLE_ADDRESS, 256, &addr, &len);
	close(bfd);
	if (r == -ENOENT) {
		/* an empty or half-made bundle: no worker was ever started from it */
		cleanup_orphan(e, ns, id);
		return;
	}
	if (r < 0) {
		/* out of fds or memory says nothing of the bundle: never remove it for that */
		sv_warn_err(r, "re-attach %s/%s: read its bundle; left as it is", ns, id);
		return;
	}
	t = task_new(e, ns, id);
	if (!t) {
		free(addr);
		return;
	}
	t->adopted = true;
	t->st = T_UNKNOWN;
	snprintf(path, sizeof(path), "%s/%s/%s", e->cfg->state, ns, id);
	t->bundle = strdup(path);
	r = link_open(e, t, addr);
	if (r < 0 && ours_to_blame(r)) {
		/* listed as unknown, left running; a restart with room re-attaches it */
		sv_warn_err(r, "re-attach %s/%s: cannot connect to its worker now; the task is left "
			    "running", ns, id);
	} else if (r < 0) {
		/* no socket, or nobody listening: the worker is dead */
		sv_debug("recover %s/%s: worker gone", ns, id);
		task_worker_gone(e, t);
	} else {
		sv_ConnectRequest cq = { 0 };
		snprintf(cq.id, sizeof(cq.id), "%s", id);
		link_call(e, t, W_CONNECT, "Connect", sv_ConnectRequest_fields, &cq, nobody,
			  e->cfg->reattach_timeout_ms);
	}
	free(addr);
}

/* Call fn for every valid ns/id directory pair under dirfd. */
static void walk(struct engine *e, int dirfd, void (*fn)(struct engine *, int, const char *, const char *))
{
	int dfd = dup(dirfd);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		/* out of fds: what is there is left as it is, and said so */
		sv_warn_err(-errno, "recovery: list the namespaces; every bundle left as it is");
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
		char ns[80];
		snprintf(ns, sizeof(ns), "%s", de->d_name);
		if (!nd) {
			if (errno != ENOTDIR)
				sv_warn_err(-errno, "recovery: namespace %s: its bundles left as they are", ns);
			if (nfd >= 0)
				close(nfd);
			if (nsfd >= 0)
				close(nsfd);
			continue;
		}
		while ((ie = readdir(nd)))
			if (sv_id_valid(ie->d_name))
				fn(e, nsfd, ns, ie->d_name);
		closedir(nd);
		close(nsfd);
	}
	closedir(d);
}

static void check_workdir(struct engine *e, int nsfd, const char *ns, const char *id)
{
	char path[PATH_MAX];

	(void)nsfd;
	if (task_find(e, ns, id))
		return;
	/* a bundle recovery could not read (out of fds) is not an orphan: its cleanup would
	 * remove the bundle of a live task */
	snprintf(path, sizeof(path), "%s/%s/%s", e->cfg->state, ns, id);
	if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return;
	cleanup_orphan(e, ns, id);
}

void recovery_scan(struct engine *e)
{
	int fd;

	fd = open(e->cfg->state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		sv_warn_err(-errno, "recovery: open %s; every bundle left as it is", e->cfg->state);
		return;         /* nor is any work dir an orphan we could tell */
	}
	walk(e, fd, recover_bundle);
	close(fd);
	fd = open(e->cfg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		walk(e, fd, check_workdir);
		close(fd);
	}
}
