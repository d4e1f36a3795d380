/* SPDX-License-Identifier: Apache-2.0 */
/* common/procfs.h: a task's processes as /proc shows them (its pid namespace, a subtree, each
 * one's CPU time and resident memory). Shared by the worker (Stats, Pids, kill --all) and
 * shimvisor-init (moving a task into a cgroup made after its start). 0 or -errno. */
#ifndef SV_COMMON_PROCFS_H
#define SV_COMMON_PROCFS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What /proc/PID/stat says of one process. Times in clock ticks (sysconf(_SC_CLK_TCK)). */
struct sv_proc_stat {
	pid_t ppid;
	char state;                 /* 'R', 'S', 'Z' ... */
	uint64_t utime, stime;      /* its own */
	uint64_t cutime, cstime;    /* of the children it has waited for */
	uint64_t rss_pages;         /* resident set, in pages */
	unsigned long long starttime;
};

/* Parse /proc/PID/stat's text (the comm may hold spaces and parentheses). */
int sv_proc_stat_parse(const char *text, struct sv_proc_stat *st);
int sv_proc_stat(pid_t pid, struct sv_proc_stat *st);
/* The inode of /proc/PID/ns/pid (pid 0: the caller's). */
int sv_proc_pidns(pid_t pid, ino_t *ino);
/* Every pid whose pid namespace is ns (*pids malloc'd; *n may be 0). */
int sv_proc_scan_ns(ino_t ns, pid_t **pids, size_t *n);
/* roots (nroots of them) and every live descendant of theirs (*pids malloc'd), from one pass
 * over /proc; a root that is gone is left out. */
int sv_proc_subtree(const pid_t *roots, size_t nroots, pid_t **pids, size_t *n);
/* Write /proc/PID/oom_score_adj (pid 0: the caller's), -1000..1000: 0 or -errno. Lowering
 * it below what it was needs CAP_SYS_RESOURCE. */
int sv_oom_score_adj_set(pid_t pid, int v);

#endif
