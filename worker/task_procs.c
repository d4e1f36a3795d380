/* SPDX-License-Identifier: Apache-2.0 */
/* worker/task_procs.c: a task's processes: its cgroup's, else its pid namespace's, else the
 * subtrees of its init and execs; and, without a cgroup, its Stats from /proc. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/procfs.h"
#include "metrics.pb.h"
#include "wire/pbio.h"
#include "cgroup.h"
#include "worker.h"

int wtask_pids(const struct wtask *t, pid_t **pids, size_t *n)
{
	const struct proc *p;
	size_t cnt = 0;
	pid_t *roots;
	int rc;

	*pids = NULL;
	*n = 0;
	if (t->cg)
		return wcg_procs(t->cg, pids, n);
	if (t->own_pidns && t->pidns)
		return t->init.state == PS_STOPPED ? 0 : sv_proc_scan_ns(t->pidns, pids, n);
	/* the host's pid namespace: what its init and execs started (orphans are the
	 * worker's, a subreaper, and not counted) */
	roots = calloc(t->nexecs + 1, sizeof(*roots));
	if (!roots)
		return -ENOMEM;
	if (t->init.pid > 0 && !proc_reaped(&t->init))
		roots[cnt++] = t->init.pid;
	for (p = t->execs; p; p = p->next)
		if (p->pid > 0 && !proc_reaped(p))
			roots[cnt++] = p->pid;
	rc = cnt ? sv_proc_subtree(roots, cnt, pids, n) : 0;
	free(roots);
	return rc;
}

static uint64_t ticks_ns(uint64_t ticks, uint64_t hz)
{
	return hz ? ticks / hz * 1000000000u + ticks % hz * 1000000000u / hz : 0;
}

int wtask_proc_metrics(const struct wtask *t, uint8_t **buf, size_t *len)
{
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	uint64_t user = 0, sys = 0, rss = 0;
	sv_Cg1Metrics m;
	pid_t *pids = NULL;
	size_t n = 0, live = 0;
	int rc = wtask_pids(t, &pids, &n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct sv_proc_stat st;

		if (sv_proc_stat(pids[i], &st) < 0)
			continue;       /* gone since the listing */
		live++;
		/* its own time and that of the children it has waited for */
		user += st.utime + st.cutime;
		sys += st.stime + st.cstime;
		rss += st.rss_pages * (uint64_t)(page > 0 ? page : 4096);
	}
	free(pids);
	memset(&m, 0, sizeof(m));
	m.has_pids = true;
	m.pids.current = live;
	m.has_cpu = m.cpu.has_usage = true;
	m.cpu.usage.user = ticks_ns(user, hz > 0 ? (uint64_t)hz : 0);
	m.cpu.usage.kernel = ticks_ns(sys, hz > 0 ? (uint64_t)hz : 0);
	m.cpu.usage.total = m.cpu.usage.user + m.cpu.usage.kernel;
	m.has_memory = m.memory.has_usage = true;
	m.memory.rss = m.memory.total_rss = m.memory.usage.usage = rss;
	return sv_pb_encode(sv_Cg1Metrics_fields, &m, buf, len);
}
