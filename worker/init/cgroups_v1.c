/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/cgroups_v1.c: linux.resources on cgroup v1 controller directories (as runc's fs
 * driver writes them). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cgroupfs.h"
#include "common/fsutil.h"
#include "worker/init/cgroups.h"

const char *const cgv1_default_devices[] = {
	"c *:* m", "b *:* m",                   /* mknod, as runc allows */
	"c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm",  /* null random full */
	"c 5:0 rwm", "c 1:5 rwm", "c 1:9 rwm",  /* tty zero urandom */
	"c 136:* rwm", "c 5:2 rwm",             /* pts/N, ptmx */
	"c 10:200 rwm",                         /* net/tun */
	NULL,
};

static int wr(struct init_err *e, int dfd, const char *file, const char *val)
{
	int rc = cgfs_write(dfd, file, val);

	return rc ? init_fail(e, rc, "cgroup %s: write \"%s\"", file, val) : 0;
}

static int wr_i64(struct init_err *e, int dfd, const char *file, int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%" PRId64, v);
	return wr(e, dfd, file, b);
}

static bool has_file(int dfd, const char *file)
{
	return sv_lexists_at(dfd, file) == 0;
}

static int memory(int dfd, const struct spec_resources *r, struct init_err *e)
{
	const char *memsw = "memory.memsw.limit_in_bytes";
	bool has_memsw = has_file(dfd, memsw), swap_first = false;
	int rc;

	if (r->mem_swap.set && !has_memsw && r->mem_swap.v != -1 &&
	    !(r->mem_limit.set && r->mem_swap.v == r->mem_limit.v))
		return init_failmsg(e, -EOPNOTSUPP, "linux.resources.memory.swap: swap accounting "
				    "is off on this host");
	if (r->mem_swap.set && has_memsw) {
		uint64_t cur = 0;

		/* memory+swap may never fall below memory: raise it first when memory grows. */
		swap_first = r->mem_swap.v == -1 ||
			     (r->mem_limit.set &&
			      cgfs_read_u64(dfd, "memory.limit_in_bytes", &cur) == 0 &&
			      (r->mem_limit.v == -1 || (uint64_t)r->mem_limit.v > cur));
	}
	if (swap_first && (rc = wr_i64(e, dfd, memsw, r->mem_swap.v)))
		return rc;
	if (r->mem_limit.set && (rc = wr_i64(e, dfd, "memory.limit_in_bytes", r->mem_limit.v)))
		return rc;
	if (r->mem_swap.set && has_memsw && !swap_first &&
	    (rc = wr_i64(e, dfd, memsw, r->mem_swap.v)))
		return rc;
	if (r->mem_reservation.set &&
	    (rc = wr_i64(e, dfd, "memory.soft_limit_in_bytes", r->mem_reservation.v)))
		return rc;
	if (r->swappiness.set && (rc = wr_i64(e, dfd, "memory.swappiness", r->swappiness.v)))
		return rc;
	if (r->disable_oom_killer && (rc = wr(e, dfd, "memory.oom_control", "1")))
		return rc;
	return 0;
}

static int cpu(int dfd, const struct spec_resources *r, struct init_err *e)
{
	int rc = 0;

	if (r->cpu_shares.set && r->cpu_shares.v &&
	    (rc = wr_i64(e, dfd, "cpu.shares", r->cpu_shares.v)))
		return rc;
	if (r->cpu_period.set && r->cpu_period.v &&
	    (rc = wr_i64(e, dfd, "cpu.cfs_period_us", r->cpu_period.v)))
		return rc;
	if (r->cpu_quota.set && r->cpu_quota.v &&
	    (rc = wr_i64(e, dfd, "cpu.cfs_quota_us", r->cpu_quota.v)))
		return rc;
	if (r->rt_period.set && r->rt_period.v &&
	    (rc = wr_i64(e, dfd, "cpu.rt_period_us", r->rt_period.v)))
		return rc;
	if (r->rt_runtime.set && r->rt_runtime.v &&
	    (rc = wr_i64(e, dfd, "cpu.rt_runtime_us", r->rt_runtime.v)))
		return rc;
	return 0;
}

static int cpuset(int dfd, const struct spec_resources *r, struct init_err *e)
{
	int rc = 0;

	if (r->cpus && *r->cpus && (rc = wr(e, dfd, "cpuset.cpus", r->cpus)))
		return rc;
	if (r->mems && *r->mems && (rc = wr(e, dfd, "cpuset.mems", r->mems)))
		return rc;
	return 0;
}

static int pids(int dfd, const struct spec_resources *r, struct init_err *e)
{
	/* runc: 0 leaves the limit alone, a negative one is "max" */
	if (!r->pids_limit.set || r->pids_limit.v == 0)
		return 0;
	if (r->pids_limit.v < 0)
		return wr(e, dfd, "pids.max", "max");
	return wr_i64(e, dfd, "pids.max", r->pids_limit.v);
}

/* blkio.<name>, or blkio.bfq.<name> on kernels whose only proportional policy is BFQ. */
static int blkio_weight_file(int dfd, const char *name, char *buf, size_t sz)
{
	snprintf(buf, sz, "blkio.%s", name);
	if (has_file(dfd, buf))
		return 0;
	snprintf(buf, sz, "blkio.bfq.%s", name);
	return has_file(dfd, buf) ? 0 : -EOPNOTSUPP;
}

static int blkio(int dfd, const struct spec_resources *r, struct init_err *e)
{
	static const char *const thr[THR_COUNT] = {
		"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
		"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
	};
	char file[64], line[96];
	int rc;

	if (r->blkio_weight.set) {
		if (blkio_weight_file(dfd, "weight", file, sizeof(file)))
			return init_failmsg(e, -EOPNOTSUPP, "linux.resources.blockIO.weight: no "
					    "proportional I/O policy (blkio.weight) on this host");
		if ((rc = wr_i64(e, dfd, file, r->blkio_weight.v)))
			return rc;
	}
	for (size_t i = 0; i < r->nweight_dev; i++) {
		const struct res_blkdev *d = &r->weight_dev[i];

		if (!d->weight.set)
			continue;       /* leafWeight: gone from the kernel */
		if (blkio_weight_file(dfd, "weight_device", file, sizeof(file)))
			return init_failmsg(e, -EOPNOTSUPP, "linux.resources.blockIO.weightDevice: "
					    "no blkio.weight_device on this host");
		snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %" PRId64, d->major,
			 d->minor, d->weight.v);
		if ((rc = wr(e, dfd, file, line)))
			return rc;
	}
	for (int t = 0; t < THR_COUNT; t++)
		for (size_t i = 0; i < r->nthrottle[t]; i++) {
			const struct res_blkdev *d = &r->throttle[t][i];

			snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
				 d->minor, d->rate);
			if ((rc = wr(e, dfd, thr[t], line)))
				return rc;
		}
	return 0;
}

static int hugetlb(int dfd, const struct spec_resources *r, struct init_err *e)
{
	char file[64], val[24];
	int rc;

	for (size_t i = 0; i < r->nhugepages; i++) {
		snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", r->hugepages[i].page_size);
		snprintf(val, sizeof(val), "%" PRIu64, r->hugepages[i].limit);
		if ((rc = wr(e, dfd, file, val)))
			return rc;
	}
	return 0;
}

static void num_or_any(char *buf, size_t sz, int64_t v)
{
	if (v < 0)
		snprintf(buf, sz, "*");
	else
		snprintf(buf, sz, "%" PRId64, v);
}

/* As runc: a leading deny-all rule resets the list ("a" to devices.deny), then each rule in
 * order, then the default allows. */
static int devices(int dfd, const struct spec_resources *r, struct init_err *e)
{
	char line[80], maj[24], min[24];
	int rc;

	if (!r->ndevices)
		return 0;
	for (size_t i = 0; i < r->ndevices; i++) {
		const struct res_device *d = &r->devices[i];

		if (d->type == 'a') {
			snprintf(line, sizeof(line), "a");
		} else {
			num_or_any(maj, sizeof(maj), d->major);
			num_or_any(min, sizeof(min), d->minor);
			snprintf(line, sizeof(line), "%c %s:%s %s", d->type, maj, min, d->access);
		}
		if ((rc = wr(e, dfd, d->allow ? "devices.allow" : "devices.deny", line)))
			return rc;
	}
	for (size_t i = 0; cgv1_default_devices[i]; i++)
		if ((rc = wr(e, dfd, "devices.allow", cgv1_default_devices[i])))
			return rc;
	return 0;
}

int cgv1_apply(int dfd, unsigned ctrls, const struct spec_resources *r, struct init_err *e)
{
	int rc = 0;

	if (!r)
		return 0;
	if ((ctrls & CGC_MEMORY) && (rc = memory(dfd, r, e)))
		return rc;
	if ((ctrls & CGC_CPU) && (rc = cpu(dfd, r, e)))
		return rc;
	if ((ctrls & CGC_CPUSET) && (rc = cpuset(dfd, r, e)))
		return rc;
	if ((ctrls & CGC_PIDS) && (rc = pids(dfd, r, e)))
		return rc;
	if ((ctrls & CGC_BLKIO) && (rc = blkio(dfd, r, e)))
		return rc;
	if ((ctrls & CGC_HUGETLB) && (rc = hugetlb(dfd, r, e)))
		return rc;
	if ((ctrls & CGC_DEVICES) && (rc = devices(dfd, r, e)))
		return rc;
	return 0;
}

/* Copy one cpuset file from parent to child when the child's is empty. */
static int cpuset_copy(int parent, int child, const char *file)
{
	char cur[1024], val[1024];
	ssize_t n = cgfs_read(child, file, cur, sizeof(cur));

	if (n < 0)
		return (int)n;
	if (cur[strspn(cur, " \n")] != '\0')
		return 0;
	n = cgfs_read(parent, file, val, sizeof(val));
	if (n < 0)
		return (int)n;
	val[strcspn(val, "\n")] = '\0';
	return val[0] ? cgfs_write(child, file, val) : 0;
}

int cgv1_cpuset_each(int parent, int child, bool fresh, void *arg)
{
	int rc;

	(void)arg;
	if (!fresh)
		return 0;
	if ((rc = cpuset_copy(parent, child, "cpuset.cpus")))
		return rc;
	return cpuset_copy(parent, child, "cpuset.mems");
}
