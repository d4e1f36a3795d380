/* SPDX-License-Identifier: Apache-2.0 */
/* worker/cgroup.h: the worker's view of a task's cgroups (v1 hierarchies, and cgroup2 where
 * a controller lives there): freeze, metrics, OOM events, kill-all, removal. shimvisor-init
 * creates the cgroups and applies linux.resources; the worker only finds and uses them. */
#ifndef SV_WORKER_CGROUP_H
#define SV_WORKER_CGROUP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "wire/limits.h"       /* SV_BUNDLE_CGROUP */


struct wcgroup;                     /* opaque; owned by the task */

/* The cgroups of pid that are not the worker's own (a task without a cgroup of its own
 * gets none). NULL with *err = -errno (-ENOENT: no cgroup of its own). */
struct wcgroup *wcg_open(pid_t pid, int *err);
/* Record / reload the cgroup paths in the bundle (so the `delete` action can clean up). */
int wcg_save(const struct wcgroup *cg, int bundle_fd);
struct wcgroup *wcg_load(int bundle_fd, int *err);
void wcg_free(struct wcgroup *cg);

/* Freezer: freeze or thaw, waiting (bounded, timeout_ms) until the state settles. -errno. */
int wcg_freeze(struct wcgroup *cg, bool frozen, int timeout_ms);
/* Every pid in the task's cgroup (malloc'd). */
int wcg_procs(const struct wcgroup *cg, pid_t **pids, size_t *n);
/* Send sig to every process in the task's cgroup (never to ourselves). */
int wcg_signal_all(const struct wcgroup *cg, int sig);
/* io.containerd.cgroups.v1.Metrics (or .v2.Metrics on a unified host), encoded. The
 * type URL is returned in *type_url (static string). *buf is malloc'd. */
int wcg_metrics(const struct wcgroup *cg, const char **type_url, uint8_t **buf, size_t *len);
/* An fd that polls readable on each OOM kill in the task's memory cgroup (eventfd via
 * cgroup.event_control on v1, memory.events on v2); -errno. wcg_oom_read consumes it and
 * returns true when an OOM kill happened since the last call. */
int wcg_oom_fd(struct wcgroup *cg);
bool wcg_oom_read(struct wcgroup *cg);
/* Remove the task's cgroup directories (they must be empty: call after the task is gone;
 * retries EBUSY within timeout_ms). -errno of the first failure. */
int wcg_remove(struct wcgroup *cg, int timeout_ms);

#endif
