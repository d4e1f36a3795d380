/* SPDX-License-Identifier: Apache-2.0 */
/* common/kernel.h: the system calls newer than the kernel floor, behind one wrapper each,
 * made through syscall(2) so that every libc builds them (musl has no wrapper for most).
 * Each returns 0 (or an fd) or -errno, never sets errno for the caller to read. */
#ifndef SV_COMMON_KERNEL_H
#define SV_COMMON_KERNEL_H
#include <stdint.h>
#include <sys/types.h>

/* close(2) every fd from first to last (close_range, Linux 5.9). */
int sv_close_range(unsigned first, unsigned last);
/* FD_CLOEXEC on every fd from first up (close_range's CLOSE_RANGE_CLOEXEC, Linux 5.11). */
int sv_cloexec_from(unsigned first);
/* openat2 with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (Linux 5.6): path resolved as if
 * rootfd were "/", so no symlink or ".." leads out of it. flags gain O_CLOEXEC. */
int sv_open_in_root(int rootfd, const char *path, int flags, mode_t mode);
/* pidfd_open (Linux 5.3) and pidfd_send_signal (Linux 5.1). */
int sv_pidfd_open(pid_t pid);
int sv_pidfd_signal(int pidfd, int sig);

/* What statx tells of a file, with what the kernel may not know set to 0. */
struct sv_fileid {
	uint64_t dev;           /* major << 32 | minor */
	uint64_t ino;
	uint64_t mnt;           /* the mount id (STATX_MNT_ID, Linux 5.8; below, fdinfo's); 0 = unknown */
	int mount_root;         /* STATX_ATTR_MOUNT_ROOT (Linux 5.8): 1, 0, or -1 = unknown */
	mode_t mode;
};
/* statx of dirfd-relative name (flags: AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, ...). */
int sv_fileid(int dirfd, const char *name, int flags, struct sv_fileid *out);
/* sv_fileid's mount id below Linux 5.8: the same file opened O_PATH (flags: AT_EMPTY_PATH,
 * AT_SYMLINK_NOFOLLOW), its /proc/self/fdinfo "mnt_id:" line (Linux 3.15). */
int sv_mnt_id_fdinfo(int dirfd, const char *name, int flags, uint64_t *out);

#endif
