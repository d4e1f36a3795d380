/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/devices.c: a minimal /dev under the new root: the usual character devices
 * (mknod, or a bind of the host's node when mknod is refused) and the standard symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "worker/init/init.h"

static const struct { const char *name; unsigned maj, min; } nodes[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct { const char *name, *target; } links[] = {
	{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
	{ "ptmx", "pts/ptmx" },
};

/* mknod refused (no CAP_MKNOD, or a nodev-less policy): bind the host's node instead. */
static int bind_host_node(struct init *in, int devfd, const char *name)
{
	char host[64], p[64];
	int f, rc;

	f = openat(devfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (f < 0)
		return init_fail(&in->err, -errno, "/dev/%s", name);
	close(f);
	f = openat(devfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (f < 0)
		return init_fail(&in->err, -errno, "/dev/%s", name);
	snprintf(host, sizeof(host), "/dev/%s", name);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", f);
	rc = mount(host, p, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
	close(f);
	return rc ? init_fail(&in->err, rc, "bind /dev/%s", name) : 0;
}

int devices_setup(struct init *in)
{
	int devfd, rc = 0;

	rc = mount_target(in->rootfd, "/dev", 0, 0, &devfd);
	if (rc)
		return init_fail(&in->err, rc, "open /dev");
	for (size_t i = 0; !rc && i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		if (mknodat(devfd, nodes[i].name, S_IFCHR | 0666,
			    makedev(nodes[i].maj, nodes[i].min)) == 0) {
			if (fchmodat(devfd, nodes[i].name, 0666, 0) < 0)
				rc = init_fail(&in->err, -errno, "chmod /dev/%s", nodes[i].name);
		} else if (errno == EEXIST) {
			continue;
		} else if (errno == EPERM || errno == EACCES) {
			rc = bind_host_node(in, devfd, nodes[i].name);
		} else {
			rc = init_fail(&in->err, -errno, "mknod /dev/%s", nodes[i].name);
		}
	}
	for (size_t i = 0; !rc && i < sizeof(links) / sizeof(links[0]); i++)
		if (symlinkat(links[i].target, devfd, links[i].name) < 0 && errno != EEXIST)
			rc = init_fail(&in->err, -errno, "symlink /dev/%s", links[i].name);
	close(devfd);
	return rc;
}
