/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/userns.c: the task's user namespace, before any other: joined by path, or
 * made new with its uid_map and gid_map written by the worker (outside it), as runc's. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "init.pb.h"
#include "worker/init/init.h"

/* "container host size\n" per mapping; the kernel takes less than a page in one write. */
static int format_map(struct init *in, const struct spec_idmap *m, size_t n, char *buf,
		      size_t sz, const char *what)
{
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		int l = snprintf(buf + off, sz - off, "%u %u %u\n", m[i].container, m[i].host,
				 m[i].size);

		if (l < 0 || (size_t)l >= sz - off)
			return init_failmsg(&in->err, -E2BIG, "linux.%s: longer than the kernel's "
					    "%zu bytes", what, sz - 1);
		off += (size_t)l;
	}
	return 0;
}

/* Become root of the user namespace we are in (its uid and gid 0 must be mapped), with no
 * supplementary group (the host's are not mapped); caps_apply sets process.user later. */
static int become_root(struct init *in)
{
	/* EPERM: a joined namespace whose setgroups is "deny" */
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return init_fail(&in->err, -errno, "user namespace: setgroups");
	if (setresgid(0, 0, 0) < 0)
		return init_fail(&in->err, -errno, "user namespace: setgid 0 (is gid 0 mapped?)");
	if (setresuid(0, 0, 0) < 0)
		return init_fail(&in->err, -errno, "user namespace: setuid 0 (is uid 0 mapped?)");
	return 0;
}

static int join(struct init *in, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return init_fail(&in->err, -errno, "namespace %s", path);
	if (setns(fd, CLONE_NEWUSER) < 0)
		rc = init_fail(&in->err, -errno, "setns %s", path);
	close(fd);
	return rc;
}

/* unshare, then USERNS with the maps; the worker writes them to our /proc/PID (it is in the
 * parent namespace and holds CAP_SETUID/CAP_SETGID there) and answers USERNS (err 0), or
 * kills us. setgroups stays "allow", as runc leaves it for a root runtime. */
static int make_new(struct init *in)
{
	static char uid_map[4096], gid_map[4096];
	sv_InitSync m = sv_InitSync_init_zero;
	int rc;

	if ((rc = format_map(in, in->spec.uid_map, in->spec.nuid_map, uid_map, sizeof(uid_map),
			     "uidMappings")) ||
	    (rc = format_map(in, in->spec.gid_map, in->spec.ngid_map, gid_map, sizeof(gid_map),
			     "gidMappings")))
		return rc;
	if (unshare(CLONE_NEWUSER) < 0)
		return init_fail(&in->err, -errno, "unshare a user namespace");
	m.type = sv_InitSyncType_INIT_USERNS;
	m.uid_map = uid_map;
	m.gid_map = gid_map;
	if ((rc = sync_send_msg(in->sync_fd, &m)))
		return init_fail(&in->err, rc, "sync: send USERNS");
	rc = sync_wait(in->sync_fd, sv_InitSyncType_INIT_USERNS);
	if (rc == -EPIPE)
		_exit(127);     /* the worker refused the maps: it has said why */
	if (rc)
		return init_fail(&in->err, rc, "sync: waiting for the user namespace's maps");
	return 0;
}

int userns_enter(struct init *in)
{
	const struct spec_ns *n = spec_find_ns(&in->spec, CLONE_NEWUSER);
	int rc;

	if (!n)
		return 0;
	if ((rc = n->path ? join(in, n->path) : make_new(in)))
		return rc;
	return become_root(in);
}
