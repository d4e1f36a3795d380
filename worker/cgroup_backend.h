/* SPDX-License-Identifier: Apache-2.0 */
/* worker/cgroup_backend.h: what worker/cgroup.c shares with its backends, cgroup_v1.c (v1
 * controller hierarchies) and cgroup_v2.c (the cgroup2 hierarchy). */
#ifndef SV_WORKER_CGROUP_BACKEND_H
#define SV_WORKER_CGROUP_BACKEND_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/clock.h"

#include "common/cgroupfs.h"
#include "worker/cgroup.h"

#define WCG_SCRATCH (16u << 10)     /* one buffer for a metrics pass */

struct wcg_dir {
	int fd;                     /* O_PATH|O_DIRECTORY of the task's cgroup */
	bool v2;
	unsigned ctrls;             /* CGC_* */
	char *path;                 /* absolute, for the bundle file and messages */
};

struct wcgroup {
	struct wcg_dir d[CG_MAX_HIER];
	size_t n;
	int oom_fd;                 /* eventfd (v1) / inotify (v2); -1 until wcg_oom_fd */
	const struct wcg_dir *oom_dir;
	uint64_t oom_kills;         /* the oom_kill count last seen */
	bool oom_told;              /* v1: an OOM was reported before its kill was counted */
};

/* The directory of a v1 hierarchy holding ctrl, or NULL. */
const struct wcg_dir *wcg_v1(const struct wcgroup *cg, unsigned ctrl);
/* The cgroup2 directory, or NULL. */
const struct wcg_dir *wcg_v2(const struct wcgroup *cg);
/* A monotonic clock in ms, and a short bounded sleep (freezer polling on v1 only). */
void wcg_nap_ms(int ms);

/* The host's huge page sizes as containerd names them ("2MB", "1GB"), at most max. */
size_t wcg_hugepage_sizes(char (*out)[16], size_t max);

/* cgroup_v1.c */
int wcg1_freeze(const struct wcg_dir *d, bool frozen, int timeout_ms);
int wcg1_metrics(const struct wcgroup *cg, uint8_t **buf, size_t *len);
int wcg1_oom_fd(struct wcgroup *cg, const struct wcg_dir *mem);
bool wcg1_oom_read(struct wcgroup *cg);

/* cgroup_v2.c */
int wcg2_freeze(const struct wcg_dir *d, bool frozen, int timeout_ms);
int wcg2_metrics(const struct wcgroup *cg, uint8_t **buf, size_t *len);
int wcg2_oom_fd(struct wcgroup *cg, const struct wcg_dir *d);
bool wcg2_oom_read(struct wcgroup *cg);

#endif
