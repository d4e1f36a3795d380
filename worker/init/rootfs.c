/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/rootfs.c: mount propagation, the non-recursive root bind, pivot_root, masked
 * and read-only paths, and the read-only root. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "wire/limits.h"
#include "worker/init/init.h"

/* The per-mount flags a bind remount must keep (statvfs of path). */
static unsigned long kept_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;

	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

/* Whether path is the host's own root directory. */
static int is_host_root(const char *path)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat("/", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int rootfs_prepare(struct init *in)
{
	const struct spec *s = &in->spec;
	unsigned long prop = s->rootfs_propagation == MS_SLAVE ? MS_SLAVE : MS_PRIVATE;
	char src[PATH_MAX];

	if (mount(NULL, "/", NULL, MS_REC | prop, NULL) < 0)
		return init_fail(&in->err, -errno, "make / %s",
				 prop == MS_SLAVE ? "rslave" : "rprivate");
	if ((size_t)snprintf(in->rootfs, sizeof(in->rootfs), "%s/%s", in->bundle,
			     SV_BUNDLE_ROOTFS) >= sizeof(in->rootfs))
		return init_fail(&in->err, -ENAMETOOLONG, "bundle %s", in->bundle);
	if ((size_t)snprintf(src, sizeof(src), "%s%s%s", s->root_path[0] == '/' ? "" : in->bundle,
			     s->root_path[0] == '/' ? "" : "/", s->root_path) >= sizeof(src))
		return init_fail(&in->err, -ENAMETOOLONG, "root.path");
	/* In a user namespace the bundle (0700, the host root's) is out of our reach: the root
	 * is bound onto itself, as runc does (its path must be one the mapped root can walk). */
	if (spec_find_ns(s, CLONE_NEWUSER) && is_host_root(src))
		return init_failmsg(&in->err, -EINVAL, "root.path: the host's / cannot be the root "
				    "of a task with a user namespace: give it a root of its own");
	if (spec_find_ns(s, CLONE_NEWUSER))
		memcpy(in->rootfs, src, sizeof(in->rootfs));
	else if (mkdir(in->rootfs, 0755) < 0 && errno != EEXIST)
		return init_fail(&in->err, -errno, "mkdir %s", in->rootfs);
	/* Not MS_REC: the host's submounts (/run, /sys/fs/cgroup, ...) stay outside. */
	if (mount(src, in->rootfs, NULL, MS_BIND, NULL) < 0)
		return init_fail(&in->err, -errno, "bind root %s", src);
	/* The host's own /, read-only: read-only from the start, so that a mount point the
	 * host lacks is an error, never a new directory in the host's root file system.
	 * nodev (a default task): no device node in the root opens, cgroup or not. */
	unsigned long f = s->root_nodev ? MS_NODEV : 0;
	if (s->root_readonly && is_host_root(src)) {
		f |= MS_RDONLY;
		in->root_ro = 1;        /* rootfs_finish has nothing more to do for it */
	}
	if (f && mount(NULL, in->rootfs, NULL, MS_REMOUNT | MS_BIND | f | kept_flags(in->rootfs),
		       NULL) < 0)
		return init_fail(&in->err, -errno, "remount the root%s%s",
				 f & MS_RDONLY ? " read-only" : "", f & MS_NODEV ? " nodev" : "");
	in->rootfd = open(in->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (in->rootfd < 0)
		return init_fail(&in->err, -errno, "open %s", in->rootfs);
	return 0;
}

int rootfs_pivot(struct init *in)
{
	if (fchdir(in->rootfd) < 0)
		return init_fail(&in->err, -errno, "chdir %s", in->rootfs);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return init_fail(&in->err, -errno, "pivot_root %s", in->rootfs);
	/* The old root is stacked under the new one: detach it. */
	if (umount2(".", MNT_DETACH) < 0)
		return init_fail(&in->err, -errno, "umount old root");
	if (chdir("/") < 0)
		return init_fail(&in->err, -errno, "chdir /");
	close(in->rootfd);
	in->rootfd = -1;
	return 0;
}


static int mask_path(struct init *in, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : init_fail(&in->err, -errno, "maskedPaths %s", path);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
			return init_fail(&in->err, -errno, "maskedPaths %s", path);
	} else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
		return init_fail(&in->err, -errno, "maskedPaths %s", path);
	}
	return 0;
}

static int readonly_path(struct init *in, const char *path)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : init_fail(&in->err, -errno, "readonlyPaths %s", path);
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags(path),
		  NULL) < 0)
		return init_fail(&in->err, -errno, "readonlyPaths %s: remount", path);
	return 0;
}

int rootfs_finish(struct init *in)
{
	const struct spec *s = &in->spec;
	int rc;

	for (size_t i = 0; i < s->nreadonly; i++)
		if ((rc = readonly_path(in, s->readonly[i])))
			return rc;
	for (size_t i = 0; i < s->nmasked; i++)
		if ((rc = mask_path(in, s->masked[i])))
			return rc;
	if (s->root_readonly && !in->root_ro &&
	    mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags("/"), NULL) < 0)
		return init_fail(&in->err, -errno, "remount / read-only");
	if ((s->rootfs_propagation == MS_SHARED || s->rootfs_propagation == MS_UNBINDABLE) &&
	    mount(NULL, "/", NULL, MS_REC | s->rootfs_propagation, NULL) < 0)
		return init_fail(&in->err, -errno, "rootfsPropagation");
	return 0;
}
