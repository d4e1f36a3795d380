/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/cgroups_v2.c: linux.resources on a cgroup2 directory (the conversions runc and
 * crun use), and enabling controllers down the path. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cgroupfs.h"
#include "common/fsutil.h"
#include "worker/init/cgroups.h"

static int wr(struct init_err *e, int dfd, const char *file, const char *val)
{
	int rc = cgfs_write(dfd, file, val);

	return rc ? init_fail(e, rc, "cgroup %s: write \"%s\"", file, val) : 0;
}

/* -1 is "max". */
static int wr_max(struct init_err *e, int dfd, const char *file, int64_t v)
{
	char b[24];

	if (v < 0)
		snprintf(b, sizeof(b), "max");
	else
		snprintf(b, sizeof(b), "%" PRId64, v);
	return wr(e, dfd, file, b);
}

/* OCI swap is memory+swap; memory.swap.max is swap alone. */
static int memory(int dfd, const struct spec_resources *r, struct init_err *e)
{
	int rc;

	if (r->mem_limit.set && (rc = wr_max(e, dfd, "memory.max", r->mem_limit.v)))
		return rc;
	if (r->mem_reservation.set && (rc = wr_max(e, dfd, "memory.low", r->mem_reservation.v)))
		return rc;
	if (r->mem_swap.set && r->mem_swap.v != 0) {
		int64_t swap = r->mem_swap.v;

		if (swap > 0) {
			if (!r->mem_limit.set || r->mem_limit.v <= 0)
				return init_failmsg(e, -EINVAL, "linux.resources.memory.swap: needs a "
						    "memory limit on cgroup v2");
			if (swap < r->mem_limit.v)
				return init_failmsg(e, -EINVAL, "linux.resources.memory.swap: must not "
						    "be below the memory limit");
			swap -= r->mem_limit.v;
		}
		if (sv_lexists_at(dfd, "memory.swap.max") == 0 &&
		    (rc = wr_max(e, dfd, "memory.swap.max", swap)))
			return rc;
	}
	/* swappiness and disableOOMKiller have no cgroup2 file: left alone, as crun does. */
	return 0;
}

static int cpu(int dfd, const struct spec_resources *r, struct init_err *e)
{
	char b[48];
	int rc;

	if ((r->rt_runtime.set && r->rt_runtime.v) || (r->rt_period.set && r->rt_period.v))
		return init_failmsg(e, -EOPNOTSUPP, "linux.resources.cpu: realtime scheduling "
				    "is not supported on cgroup v2");
	if (r->cpu_shares.set && r->cpu_shares.v) {
		/* runc's mapping of [2, 262144] onto [1, 10000] */
		int64_t s = r->cpu_shares.v < 2 ? 2 : r->cpu_shares.v > 262144 ? 262144 :
			    r->cpu_shares.v;

		snprintf(b, sizeof(b), "%" PRId64, 1 + ((s - 2) * 9999) / 262142);
		if ((rc = wr(e, dfd, "cpu.weight", b)))
			return rc;
	}
	if ((r->cpu_quota.set && r->cpu_quota.v) || (r->cpu_period.set && r->cpu_period.v)) {
		int64_t period = r->cpu_period.set && r->cpu_period.v ? r->cpu_period.v : 100000;

		if (r->cpu_quota.set && r->cpu_quota.v > 0)
			snprintf(b, sizeof(b), "%" PRId64 " %" PRId64, r->cpu_quota.v, period);
		else
			snprintf(b, sizeof(b), "max %" PRId64, period);
		if ((rc = wr(e, dfd, "cpu.max", b)))
			return rc;
	}
	return 0;
}

static int io(int dfd, const struct spec_resources *r, struct init_err *e)
{
	static const char *const key[THR_COUNT] = { "rbps", "wbps", "riops", "wiops" };
	bool bfq = sv_lexists_at(dfd, "io.weight") != 0;
	const char *wfile = bfq ? "io.bfq.weight" : "io.weight";
	char b[96];
	int rc;

	/* io.weight is [1, 10000]; BFQ keeps blkio's [1, 1000] */
	if (r->blkio_weight.set) {
		int64_t w = r->blkio_weight.v;

		snprintf(b, sizeof(b), "%s%" PRId64, bfq ? "" : "default ",
			 bfq ? w : 1 + (w - 10) * 9999 / 990);
		if ((rc = wr(e, dfd, wfile, b)))
			return rc;
	}
	for (size_t i = 0; i < r->nweight_dev; i++) {
		const struct res_blkdev *d = &r->weight_dev[i];

		if (!d->weight.set)
			continue;
		snprintf(b, sizeof(b), "%" PRId64 ":%" PRId64 " %" PRId64, d->major, d->minor,
			 bfq ? d->weight.v : 1 + (d->weight.v - 10) * 9999 / 990);
		if ((rc = wr(e, dfd, wfile, b)))
			return rc;
	}
	for (int t = 0; t < THR_COUNT; t++)
		for (size_t i = 0; i < r->nthrottle[t]; i++) {
			const struct res_blkdev *d = &r->throttle[t][i];

			snprintf(b, sizeof(b), "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d->major,
				 d->minor, key[t], d->rate);
			if ((rc = wr(e, dfd, "io.max", b)))
				return rc;
		}
	return 0;
}

int cgv2_apply(int dfd, unsigned ctrls, const struct spec_resources *r, struct init_err *e)
{
	char file[80], b[24];
	int rc;

	if (!r)
		return 0;
	if ((ctrls & CGC_MEMORY) && (rc = memory(dfd, r, e)))
		return rc;
	if ((ctrls & CGC_CPU) && (rc = cpu(dfd, r, e)))
		return rc;
	if ((ctrls & CGC_CPUSET) && r->cpus && *r->cpus && (rc = wr(e, dfd, "cpuset.cpus", r->cpus)))
		return rc;
	if ((ctrls & CGC_CPUSET) && r->mems && *r->mems && (rc = wr(e, dfd, "cpuset.mems", r->mems)))
		return rc;
	if ((ctrls & CGC_PIDS) && r->pids_limit.set && r->pids_limit.v &&
	    (rc = wr_max(e, dfd, "pids.max", r->pids_limit.v)))
		return rc;
	if ((ctrls & CGC_BLKIO) && (rc = io(dfd, r, e)))
		return rc;
	for (size_t i = 0; (ctrls & CGC_HUGETLB) && i < r->nhugepages; i++) {
		snprintf(file, sizeof(file), "hugetlb.%s.max", r->hugepages[i].page_size);
		snprintf(b, sizeof(b), "%" PRIu64, r->hugepages[i].limit);
		if ((rc = wr(e, dfd, file, b)))
			return rc;
	}
	for (size_t i = 0; i < r->nunified; i++)
		if ((rc = wr(e, dfd, r->unified_keys[i], r->unified_vals[i])))
			return rc;
	if (r->ndevices && (rc = cgv2_devices(dfd, r, e)))
		return rc;
	return 0;
}

/* Enable in parent what it offers (one write per controller: one refused, e.g. by the
 * no-internal-processes rule, does not keep the others out). */
int cgv2_enable_each(int parent, int child, bool fresh, void *arg)
{
	char avail[512], *save = NULL, *c;
	char en[600];

	(void)child;
	(void)fresh;
	(void)arg;
	if (cgfs_read(parent, "cgroup.controllers", avail, sizeof(avail)) < 0)
		return 0;
	if (cgfs_read(parent, "cgroup.subtree_control", en, sizeof(en)) < 0)
		en[0] = '\0';
	for (c = strtok_r(avail, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
		char want[64];

		if (cgfs_ctrl_mask(c) & cgfs_ctrl_mask(en))
			continue;       /* already on */
		snprintf(want, sizeof(want), "+%s", c);
		cgfs_write(parent, "cgroup.subtree_control", want);
	}
	return 0;
}
