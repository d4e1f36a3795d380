/* SPDX-License-Identifier: Apache-2.0 */
/* worker/rootfs.c: mount Create's rootfs mounts on bundle/rootfs, and take them down again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "common/names.h"
#include "task.pb.h"
#include "worker.h"

SV_NAMES_BEGIN         /* the names inline (common/names.h): no pointer to relocate */
static const struct mflag {
	char name[12];
	unsigned long set, clear;
} mflags[] = {
	{ "ro", MS_RDONLY, 0 },        { "rw", 0, MS_RDONLY },
	{ "nosuid", MS_NOSUID, 0 },    { "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },      { "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },    { "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 }, { "async", 0, MS_SYNCHRONOUS },
	{ "noatime", MS_NOATIME, 0 },  { "atime", 0, MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME, 0 }, { "relatime", MS_RELATIME, 0 },
	{ "strictatime", MS_STRICTATIME, 0 },
	{ "bind", MS_BIND, 0 },        { "rbind", MS_BIND | MS_REC, 0 },
	{ "defaults", 0, 0 },
};
SV_NAMES_END

/* Split options into MS_* flags and a comma-joined data string (malloc'd). */
static int parse_opts(const sv_Mount *m, unsigned long *flags, char **data)
{
	size_t i, k, len = 0, cap = 1;
	char *d;

	*flags = 0;
	for (i = 0; i < m->options_count; i++)
		cap += strlen(m->options[i] ? m->options[i] : "") + 1;
	d = malloc(cap);
	if (!d)
		return -ENOMEM;
	d[0] = '\0';
	for (i = 0; i < m->options_count; i++) {
		const char *o = m->options[i] ? m->options[i] : "";
		bool known = false;

		for (k = 0; k < sizeof(mflags) / sizeof(mflags[0]); k++) {
			if (strcmp(o, mflags[k].name) == 0) {
				*flags = (*flags & ~mflags[k].clear) | mflags[k].set;
				known = true;
				break;
			}
		}
		if (known || !*o)
			continue;
		if (len)
			d[len++] = ',';
		memcpy(d + len, o, strlen(o) + 1);
		len += strlen(o);
	}
	*data = d;
	return 0;
}

/* bundle/rootfs as a path mount(2) can take, pinned: an O_PATH fd of the bundle's own
 * directory entry (O_NOFOLLOW: a symlink planted as rootfs is refused, never mounted
 * through), named by /proc/self/fd. Opened anew for each step, so that it names the top
 * of what is stacked there so far. The fd, or -errno. */
static int rootfs_target(const struct wtask *t, char *path, size_t sz)
{
	int fd = openat(t->bundle_fd, SV_BUNDLE_ROOTFS, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	snprintf(path, sz, "/proc/self/fd/%d", fd);
	return fd;
}

int rootfs_mount(struct wtask *t, const sv_Mount *mounts, size_t n)
{
	char target[64];
	size_t i;

	for (i = 0; i < n; i++) {
		const sv_Mount *m = &mounts[i];
		unsigned long flags;
		char *data = NULL;
		int err, fd;

		if (!m->type || !m->source)
			return -EINVAL;
		err = parse_opts(m, &flags, &data);
		if (err < 0)
			return err;
		fd = rootfs_target(t, target, sizeof(target));
		if (fd < 0)
			err = fd;
		else if (mount(m->source, target, m->type, flags & ~MS_RDONLY, *data ? data : NULL) < 0)
			err = -errno;
		if (fd >= 0)
			close(fd);
		if (err == 0)
			t->rootfs_mounted++;
		if (err == 0 && (flags & MS_RDONLY)) {
			fd = rootfs_target(t, target, sizeof(target));     /* the new mount's root */
			if (fd < 0)
				err = fd;
			else if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & MS_REC), NULL) < 0 &&
				 mount(NULL, target, NULL, MS_REMOUNT | flags, *data ? data : NULL) < 0)
				err = -errno;
			if (fd >= 0)
				close(fd);
		}
		free(data);
		if (err < 0) {
			sv_warn_err(err, "mount %s (%s) on %s/%s", m->source, m->type, t->bundle,
				    SV_BUNDLE_ROOTFS);
			rootfs_unmount(t);
			return err;
		}
	}
	return 0;
}

void rootfs_unmount(struct wtask *t)
{
	int n;

	/* stacked mounts come off one by one, never through a link planted as rootfs */
	if (t->rootfs_mounted <= 0)
		return;
	n = t->bundle_fd >= 0 ? sv_umount_all_at(t->bundle_fd, SV_BUNDLE_ROOTFS, t->rootfs_mounted) : -EBADF;
	if (n < 0)
		sv_warn_err(n, "umount %s/%s", t->bundle, SV_BUNDLE_ROOTFS);
	else if (n < t->rootfs_mounted)
		sv_warn("umount %s/%s: %d of %d mounts were there", t->bundle, SV_BUNDLE_ROOTFS, n,
			t->rootfs_mounted);
	t->rootfs_mounted = 0;
}
