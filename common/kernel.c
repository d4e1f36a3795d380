// SPDX-License-Identifier: Apache-2.0
/* common/kernel.c: the system calls newer than the kernel floor (kernel.h). */
#include "common/kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int ret(long rc)
{
	return rc < 0 ? -errno : (int)rc;
}

int sv_close_range(unsigned first, unsigned last)
{
	return ret(syscall(SYS_close_range, first, last, 0));
}

int sv_cloexec_from(unsigned first)
{
	return ret(syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC));
}

int sv_open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return ret(syscall(SYS_openat2, rootfd, path, &how, sizeof(how)));
}

int sv_pidfd_open(pid_t pid)
{
	return ret(syscall(SYS_pidfd_open, pid, 0));
}

int sv_pidfd_signal(int pidfd, int sig)
{
	return ret(syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0));
}

int sv_fileid(int dirfd, const char *name, int flags, struct sv_fileid *out)
{
	struct statx sx;

	if (syscall(SYS_statx, dirfd, name, flags, STATX_TYPE | STATX_INO | STATX_MNT_ID, &sx) < 0)
		return -errno;
	out->dev = (uint64_t)sx.stx_dev_major << 32 | sx.stx_dev_minor;
	out->ino = sx.stx_ino;
	out->mnt = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
	out->mount_root = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) ?
			  !!(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) : -1;
	out->mode = sx.stx_mode;
	return 0;
}
