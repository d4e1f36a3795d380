/* SPDX-License-Identifier: Apache-2.0 */
/* common/fsutil.h: dirfd-relative file helpers (O_NOFOLLOW|O_CLOEXEC), atomic writes,
 * recursive removal that never follows links nor crosses mounts. 0 or -errno. */
#ifndef SV_COMMON_FSUTIL_H
#define SV_COMMON_FSUTIL_H
#include <stddef.h>
#include <sys/types.h>

/* Write name.tmp (a new file: whatever had that name is unlinked first, then O_EXCL |
 * O_NOFOLLOW; mode before umask), fsync, rename to name (in dirfd). The .tmp file is
 * unlinked on failure. A link planted as name or name.tmp is replaced, never followed. */
int sv_write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode);
/* The same without fsync: for runtime state (bundles), which a power loss removes along with
 * the tasks it describes. Readers still see the old or the new content, never a mix. */
int sv_replace_file(int dirfd, const char *name, const void *data, size_t len, mode_t mode);
/* Read a whole small file (at most max bytes; -EFBIG beyond). NUL-terminated, malloc'd. */
int sv_read_file(int dirfd, const char *name, size_t max, char **out, size_t *len);
/* 0 if name exists in dirfd (a symlink itself, not followed), else -errno. faccessat() with
 * AT_SYMLINK_NOFOLLOW needs faccessat2 (Linux 5.8) under musl, EINVAL below it. */
int sv_lexists_at(int dirfd, const char *name);
/* mkdirat that accepts an existing directory; then open it O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC.
 * Returns the new directory fd (>= 0) or -errno. */
int sv_mkdir_open(int dirfd, const char *name, mode_t mode);
/* mkdir -p of an absolute path (each component created with mode). */
int sv_mkdir_p(const char *path, mode_t mode);
/* Remove name (a file or a directory tree) under dirfd; never follows symlinks and
 * never descends into another mount (a busy mount point is an error, -EBUSY). ENOENT is 0.
 * name is one path component (no '/', not "." or ".."; else -EINVAL). Mounts are told
 * apart by statx mount id (bind mounts too), falling back to st_dev. Like rm -rf it
 * removes what it can and returns the first error. */
int sv_remove_tree(int dirfd, const char *name);
/* Take down the mounts stacked on name, an entry of dirfd (at most max; MNT_DETACH), never
 * through a link: name must be a directory of dirfd itself (a symlink there is -ENOTDIR
 * and nothing is unmounted), and each umount2 looks it up with UMOUNT_NOFOLLOW below
 * /proc/self/fd/<dirfd>, so a link swapped in after the check is not followed either.
 * Returns how many came off, or -errno; an absent name is 0. */
int sv_umount_all_at(int dirfd, const char *name, int max);
/* Set FD_CLOEXEC / O_NONBLOCK. */
int sv_set_cloexec(int fd, int on);
int sv_set_nonblock(int fd, int on);
/* A daemon's first act (OpenSSH's closefrom, s6's fd_sanitize): make 0, 1 and 2 open
 * (on /dev/null where closed, so no later open lands on them) and close every other fd
 * but keep (-1 for none). What a caller leaks to us (a pipe, a shell's fds) would else be
 * held for the daemon's life and eat into its fd budget. 0 or -errno. */
int sv_fd_hygiene(int keep);
/* The soft RLIMIT_NOFILE raised to the hard one (where allowed); what it is then, unlimited
 * counted as 1 << 20, 1024 when it cannot be read. Monitor and engine budget their fds by it. */
unsigned long sv_nofile_raise(void);
/* Path of the directory holding the running executable (no trailing slash). */
int sv_self_dir(char *buf, size_t sz);

#endif
