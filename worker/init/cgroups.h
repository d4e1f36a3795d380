/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/cgroups.h: the task's cgroups in shimvisor-init: create them (linux.cgroupsPath),
 * apply linux.resources, join them; and the --update mode. Backends: cgroups_v1.c (v1
 * controller hierarchies), cgroups_v2.c (+ cgroups_v2_devices.c, the BPF device filter). */
#ifndef SV_INIT_CGROUPS_H
#define SV_INIT_CGROUPS_H
#include <stdbool.h>
#include <sys/types.h>

#include "worker/init/init.h"
#include "worker/init/spec_resources.h"

/* Create the spec's cgroups in every hierarchy with a controller (mkdir -p), apply its
 * resources, and move the calling process in (children forked later inherit them). A
 * no-op without linux.cgroupsPath. On failure the directories made are removed again. */
int cgroups_setup(struct init *in);
/* After a failure before START: move the caller back where it came from and remove the
 * directories cgroups_setup made (best effort; the fds kept survive pivot_root). */
void cgroups_abandon(struct init *in);
/* Forget that state (START came: removal is the worker's), closing its fds. */
void cgroups_release(struct init *in);
/* Move the calling process into the cgroups of pid that are not ours (an exec process
 * joining its task). A no-op when pid has none of its own. */
int cgroups_join_of(struct init *in, pid_t pid);
/* `shimvisor-init --update PID [BUNDLE]`: fd 3 = LinuxResources JSON, fd 4 = sync. Applies
 * it to the cgroups of PID that are not ours; exits 0, or sends INIT_ERROR and exits 127.
 * With BUNDLE, first the cgroup its config.json keeps for later (io.shimvisor.cgroup.lazy):
 * made, and every process of PID's pid namespace moved in (-ENOENT: there is none). */
_Noreturn void cgroups_update_main(struct init *in, const char *pid, const char *bundle);

/* Backends. dfd: the task's cgroup directory (O_PATH); ctrls: its CGC_* controllers.
 * Only the parts of r for those controllers are applied. */
int cgv1_apply(int dfd, unsigned ctrls, const struct spec_resources *r, struct init_err *e);
/* cgfs_each_fn for a v1 cpuset hierarchy: a new directory gets its parent's cpus and mems
 * (v1 leaves them empty, and an empty cpuset takes no task). */
int cgv1_cpuset_each(int parent, int child, bool fresh, void *arg);
/* The v1 devices rules runc adds after the spec's (/dev/null, ptys ...), "TYPE MAJ:MIN ACC". */
extern const char *const cgv1_default_devices[];

int cgv2_apply(int dfd, unsigned ctrls, const struct spec_resources *r, struct init_err *e);
/* cgfs_each_fn for cgroup2: enable in each parent the controllers it offers. */
int cgv2_enable_each(int parent, int child, bool fresh, void *arg);
/* Replace the device filter (BPF_CGROUP_DEVICE) of the cgroup2 directory dfd with r's
 * rules followed by the defaults. */
int cgv2_devices(int dfd, const struct spec_resources *r, struct init_err *e);

#endif
