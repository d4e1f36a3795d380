/* SPDX-License-Identifier: Apache-2.0 */
/* worker/task_cgroup.c: the task's own cgroups (made by shimvisor-init from linux.cgroupsPath):
 * found once the init is placed, recorded in the bundle for the `delete` action, watched for
 * OOM kills, removed with the task. */
#include <errno.h>
#include <string.h>
#include "common/log.h"
#include "task.pb.h"
#include "cgroup.h"
#include "worker.h"

#define CGROUP_REMOVE_MS 1000

void wtask_cgroup_attach(struct worker *w, struct wtask *t)
{
	int err;

	(void)w;
	if (t->cg)
		return;         /* attached at USERNS already */
	t->cg = wcg_open(t->init.pid > 0 ? t->init.pid : t->init.stage1, &err);
	if (!t->cg) {
		if (err != -ENOENT)
			sv_warn_err(err, "task %s: cgroup", t->id);
		return;
	}
	err = wcg_save(t->cg, t->bundle_fd);
	if (err < 0)
		sv_warn_err(err, "task %s: record cgroup", t->id);
	t->oom_fd = wcg_oom_fd(t->cg);
	if (t->oom_fd < 0 && t->oom_fd != -ENOENT)
		sv_debug("task %s: no OOM notification: %s", t->id, strerror(-t->oom_fd));
}

void wtask_oom_ready(struct worker *w, struct wtask *t)
{
	sv_TaskOOM ev;

	if (!t->cg || !wcg_oom_read(t->cg))
		return;
	memset(&ev, 0, sizeof(ev));
	memcpy(ev.container_id, t->id, sizeof(ev.container_id));
	wev_publish(w, "/tasks/oom", "containerd.events.TaskOOM", sv_TaskOOM_fields, &ev);
}

void wtask_cgroup_release(struct worker *w, struct wtask *t)
{
	int err;

	(void)w;
	if (!t->cg)
		return;
	if (t->paused)
		wcg_freeze(t->cg, false, CGROUP_REMOVE_MS);
	err = wcg_remove(t->cg, CGROUP_REMOVE_MS);
	if (err < 0)
		sv_warn_err(err, "task %s: remove cgroup", t->id);
	wcg_free(t->cg);         /* closes the OOM fd too */
	t->cg = NULL;
	t->oom_fd = -1;
}
