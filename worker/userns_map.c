/* SPDX-License-Identifier: Apache-2.0 */
/* worker/userns_map.c: write a task init's uid_map and gid_map from outside its new user
 * namespace (as runc's parent does), at the init's USERNS (wire/init.proto). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

/* One write of the whole map (the kernel takes one, under a page): 0 or -errno. */
static int write_map(pid_t pid, const char *file, const char *map)
{
	char path[64];
	size_t len = map ? strlen(map) : 0;
	ssize_t n;
	int fd, err = 0;

	if (!len)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, map, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	return err;
}

int wuserns_write_maps(pid_t pid, const char *uid_map, const char *gid_map, char *why,
		       size_t whysz)
{
	const char *file = "uid_map";
	int err = write_map(pid, file, uid_map);

	if (err == 0)
		err = write_map(pid, file = "gid_map", gid_map);
	if (err < 0)
		snprintf(why, whysz, "user namespace: write %s of shimvisor-init: %s", file,
			 strerror(-err));
	return err;
}
