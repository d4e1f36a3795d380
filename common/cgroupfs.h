/* SPDX-License-Identifier: Apache-2.0 */
/* common/cgroupfs.h: find the cgroup hierarchies (mountinfo, /proc/PID/cgroup) and read and
 * write cgroup files through dirfds. Shared by shimvisor-init and the worker; no stdio, no
 * heap beyond the hierarchy list. 0 or -errno. */
#ifndef SV_COMMON_CGROUPFS_H
#define SV_COMMON_CGROUPFS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Controllers, as a mask. v1 hierarchies carry one or more; the cgroup2 one the controllers
 * its root offers (cgroup.controllers). CGC_NAMED: a v1 "name=" hierarchy (no controller). */
#define CGC_CPU         (1u << 0)
#define CGC_CPUACCT     (1u << 1)
#define CGC_CPUSET      (1u << 2)
#define CGC_MEMORY      (1u << 3)
#define CGC_DEVICES     (1u << 4)
#define CGC_FREEZER     (1u << 5)
#define CGC_BLKIO       (1u << 6)       /* "io" on cgroup2 */
#define CGC_PIDS        (1u << 7)
#define CGC_HUGETLB     (1u << 8)
#define CGC_NET_CLS     (1u << 9)
#define CGC_NET_PRIO    (1u << 10)
#define CGC_PERF_EVENT  (1u << 11)
#define CGC_RDMA        (1u << 12)
#define CGC_MISC        (1u << 13)
#define CGC_NAMED       (1u << 31)

#define CG_MAX_HIER     16              /* hierarchies considered */

struct cg_hier {
	bool v2;                /* the cgroup2 hierarchy */
	unsigned ctrls;         /* CGC_* */
	char *mnt;              /* a mount point showing the hierarchy (first one that holds path) */
	char *path;             /* pid's cgroup, relative to mnt: "/" or "/a/b" */
	char *own;              /* the caller's cgroup in the same hierarchy, relative to mnt */
};

/* The hierarchies pid is in (0 = the caller) that the caller sees mounted, from
 * /proc/PID/cgroup, /proc/self/cgroup and /proc/self/mountinfo. v1 hierarchies first, in
 * the kernel's order. *out is malloc'd (release with cgfs_free); *n may be 0. */
int cgfs_list(pid_t pid, struct cg_hier **out, size_t *n);
void cgfs_free(struct cg_hier *h, size_t n);
/* Whether h is a cgroup of pid's own: a hierarchy with a controller (or cgroup2), where pid
 * is neither where the caller is nor at the root (an exited process shows the root). */
bool cgfs_is_own(const struct cg_hier *h);

/* "cpu,cpuacct" / "io memory" <-> mask (either separator; unknown names are ignored,
 * "name=..." is CGC_NAMED). v2 names: "io" is CGC_BLKIO. */
unsigned cgfs_ctrl_mask(const char *list);
/* The mask as comma-separated v1 names (v2: "io" for CGC_BLKIO), "-" when empty. */
int cgfs_ctrl_names(unsigned mask, bool v2, char *buf, size_t sz);
/* One line of a bundle's cgroup record (SV_BUNDLE_CGROUP, read back by the worker's
 * wcg_load): "v1|v2 <controllers> <absolute dir>\n" into buf. Its length, or -errno. */
int cgfs_record_line(char *buf, size_t sz, bool v2, unsigned ctrls, const char *dir);

/* Open dir (relative to the mount point mnt, "/" or "/a/b") as O_PATH|O_DIRECTORY, one
 * component at a time with O_NOFOLLOW; checks that it is a cgroup filesystem. With mkdir,
 * missing components are created (mode 0755). each(parent, child, fresh, arg), when not
 * NULL, is called for every component (fresh: we made it); *created (may be NULL) counts
 * the new ones, which are always the last ones. Returns the fd or -errno. */
typedef int cgfs_each_fn(int parent, int child, bool fresh, void *arg);
int cgfs_open_dir(const char *mnt, const char *dir, bool mkdir, cgfs_each_fn *each, void *arg,
		  int *created);
/* Remove the last count components of dir below mnt (or the directory fd base), deepest
 * first: undoes a creation. */
int cgfs_rmdir_tail(const char *mnt, const char *dir, int count);
int cgfs_rmdir_tail_at(int base, const char *dir, int count);
/* Open an absolute cgroup directory path the same way (no creation). */
int cgfs_open_abs(const char *path);
/* Whether fd is on a cgroup (v1) or cgroup2 filesystem: 1 / 2, 0 if neither, -errno. */
int cgfs_fs_kind(int fd);

/* Write val to file in dfd in one write(2). */
int cgfs_write(int dfd, const char *file, const char *val);
/* Read file (up to sz - 1 bytes, NUL-terminated): its length, or -errno (-EFBIG when it
 * does not fit). */
ssize_t cgfs_read(int dfd, const char *file, char *buf, size_t sz);
/* A file holding one number ("max" reads as UINT64_MAX). */
int cgfs_read_u64(int dfd, const char *file, uint64_t *v);
/* In "key value\n" lines (memory.stat, cpu.stat ...), the value of key. -ENOENT if absent. */
int cgfs_kv(const char *buf, const char *key, uint64_t *v);
/* Parse a decimal (or "max" = UINT64_MAX) at *s, advancing it. -EINVAL if none. */
int cgfs_parse_u64(const char **s, uint64_t *v);

#endif
