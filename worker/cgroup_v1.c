/* SPDX-License-Identifier: Apache-2.0 */
/* worker/cgroup_v1.c: a task's v1 cgroups: freezer.state, io.containerd.cgroups.v1.Metrics
 * (read as containerd/cgroups v1.0.4 reads them), OOM events via cgroup.event_control. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "common/fsutil.h"
#include "common/names.h"
#include "metrics.pb.h"
#include "wire/pbio.h"
#include "worker/cgroup_backend.h"

int wcg1_freeze(const struct wcg_dir *d, bool frozen, int timeout_ms)
{
	const char *want = frozen ? "FROZEN" : "THAWED";
	int64_t deadline = sv_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	char st[32];
	int nap = 1, rc;

	for (;;) {
		ssize_t n;

		/* written again each round: a task that forks can leave it FREEZING (runc) */
		if ((rc = cgfs_write(d->fd, "freezer.state", want)))
			return rc;
		if ((n = cgfs_read(d->fd, "freezer.state", st, sizeof(st))) < 0)
			return (int)n;
		if (!strncmp(st, want, strlen(want)))
			return 0;
		if (sv_now_ms() >= deadline)
			break;
		wcg_nap_ms(nap);
		nap = nap < 8 ? nap * 2 : 8;
	}
	if (frozen)
		cgfs_write(d->fd, "freezer.state", "THAWED");
	return -ETIMEDOUT;
}

/* the keys inline (common/names.h): no pointer to relocate at load */
#define MS(key, field) { key, offsetof(sv_Cg1MemoryStat, field) }
SV_NAMES_BEGIN
static const struct { char key[28]; size_t off; } memstat[] = {
	MS("cache", cache), MS("rss", rss), MS("rss_huge", rss_huge),
	MS("mapped_file", mapped_file), MS("dirty", dirty), MS("writeback", writeback),
	MS("pgpgin", pg_pg_in), MS("pgpgout", pg_pg_out), MS("pgfault", pg_fault),
	MS("pgmajfault", pg_maj_fault), MS("inactive_anon", inactive_anon),
	MS("active_anon", active_anon), MS("inactive_file", inactive_file),
	MS("active_file", active_file), MS("unevictable", unevictable),
	MS("hierarchical_memory_limit", hierarchical_memory_limit),
	MS("hierarchical_memsw_limit", hierarchical_swap_limit),
	MS("total_cache", total_cache), MS("total_rss", total_rss),
	MS("total_rss_huge", total_rss_huge), MS("total_mapped_file", total_mapped_file),
	MS("total_dirty", total_dirty), MS("total_writeback", total_writeback),
	MS("total_pgpgin", total_pg_pg_in), MS("total_pgpgout", total_pg_pg_out),
	MS("total_pgfault", total_pg_fault), MS("total_pgmajfault", total_pg_maj_fault),
	MS("total_inactive_anon", total_inactive_anon), MS("total_active_anon", total_active_anon),
	MS("total_inactive_file", total_inactive_file), MS("total_active_file", total_active_file),
	MS("total_unevictable", total_unevictable),
};
SV_NAMES_END

/* memory[.module].{usage_in_bytes,max_usage_in_bytes,failcnt,limit_in_bytes}; absent files
 * (no swap accounting, kmem gone) leave zeros. */
static void mem_entry(int dfd, const char *module, sv_Cg1MemoryEntry *e)
{
	SV_NAMES_BEGIN
	static const struct { char f[20]; size_t off; } files[] = {
		{ "usage_in_bytes", offsetof(sv_Cg1MemoryEntry, usage) },
		{ "max_usage_in_bytes", offsetof(sv_Cg1MemoryEntry, max) },
		{ "failcnt", offsetof(sv_Cg1MemoryEntry, failcnt) },
		{ "limit_in_bytes", offsetof(sv_Cg1MemoryEntry, limit) },
	};
	SV_NAMES_END
	char name[64];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(name, sizeof(name), "memory.%s%s%s", module, *module ? "." : "", files[i].f);
		cgfs_read_u64(dfd, name, (uint64_t *)((char *)e + files[i].off));
	}
}

static void memory(const struct wcg_dir *d, sv_Cg1Metrics *m, char *b)
{
	uint64_t v;

	if (cgfs_read(d->fd, "memory.stat", b, WCG_SCRATCH) < 0)
		return;
	m->has_memory = true;
	for (size_t i = 0; i < sizeof(memstat) / sizeof(memstat[0]); i++)
		if (cgfs_kv(b, memstat[i].key, &v) == 0)
			*(uint64_t *)((char *)&m->memory + memstat[i].off) = v;
	m->memory.has_usage = m->memory.has_swap = true;
	m->memory.has_kernel = m->memory.has_kernel_tcp = true;
	mem_entry(d->fd, "", &m->memory.usage);
	mem_entry(d->fd, "memsw", &m->memory.swap);
	mem_entry(d->fd, "kmem", &m->memory.kernel);
	mem_entry(d->fd, "kmem.tcp", &m->memory.kernel_tcp);
	if (cgfs_read(d->fd, "memory.oom_control", b, WCG_SCRATCH) >= 0) {
		m->has_memory_oom_control = true;
		cgfs_kv(b, "oom_kill_disable", &m->memory_oom_control.oom_kill_disable);
		cgfs_kv(b, "under_oom", &m->memory_oom_control.under_oom);
		cgfs_kv(b, "oom_kill", &m->memory_oom_control.oom_kill);
	}
}

static int cpu(const struct wcgroup *cg, sv_Cg1Metrics *m, char *b)
{
	const struct wcg_dir *acct = wcg_v1(cg, CGC_CPUACCT), *c = wcg_v1(cg, CGC_CPU);
	long tck = sysconf(_SC_CLK_TCK);
	uint64_t v;

	if (!acct && !c)
		return 0;
	m->has_cpu = true;
	if (acct) {
		sv_Cg1CPUUsage *u = &m->cpu.usage;
		const char *p;
		size_t n = 0;

		m->cpu.has_usage = true;
		cgfs_read_u64(acct->fd, "cpuacct.usage", &u->total);
		if (cgfs_read(acct->fd, "cpuacct.stat", b, WCG_SCRATCH) >= 0 && tck > 0) {
			if (cgfs_kv(b, "user", &v) == 0)
				u->user = v * 1000000000u / (uint64_t)tck;
			if (cgfs_kv(b, "system", &v) == 0)
				u->kernel = v * 1000000000u / (uint64_t)tck;
		}
		if (cgfs_read(acct->fd, "cpuacct.usage_percpu", b, WCG_SCRATCH) >= 0) {
			for (p = b; cgfs_parse_u64(&p, &v) == 0; n++)
				;
			if (n && n <= PB_SIZE_MAX) {
				u->per_cpu = malloc(n * sizeof(*u->per_cpu));
				if (!u->per_cpu)
					return -ENOMEM;
				p = b;
				for (size_t i = 0; i < n; i++)
					cgfs_parse_u64(&p, &u->per_cpu[i]);
				u->per_cpu_count = (pb_size_t)n;
			}
		}
	}
	if (c && cgfs_read(c->fd, "cpu.stat", b, WCG_SCRATCH) >= 0) {
		m->cpu.has_throttling = true;
		cgfs_kv(b, "nr_periods", &m->cpu.throttling.periods);
		cgfs_kv(b, "nr_throttled", &m->cpu.throttling.throttled_periods);
		cgfs_kv(b, "throttled_time", &m->cpu.throttling.throttled_time);
	}
	return 0;
}

/* "/dev/<name>" of maj:min from /proc/partitions' text, or "". */
static void dev_name(const char *parts, uint64_t maj, uint64_t min, char *out, size_t sz)
{
	for (const char *l = parts; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *p = l;
		uint64_t a, b, blocks;

		if (cgfs_parse_u64(&p, &a) || cgfs_parse_u64(&p, &b) || a != maj || b != min ||
		    cgfs_parse_u64(&p, &blocks))
			continue;
		p += strspn(p, " \t");
		snprintf(out, sz, "/dev/%.*s", (int)strcspn(p, " \t\n"), p);
		return;
	}
	out[0] = '\0';
}

/* "MAJ:MIN Op Value" lines ("Total N" skipped) into a new entry array. */
static int blkio_file(int dfd, const char *file, char *b, const char *parts,
		      sv_Cg1BlkIOEntry **arr, pb_size_t *cnt)
{
	size_t lines = 0, n = 0;
	char dev[96];

	if (cgfs_read(dfd, file, b, WCG_SCRATCH / 2) < 0)
		return 0;
	for (const char *p = b; (p = strchr(p, '\n')); p++)
		lines++;
	if (!lines || lines > PB_SIZE_MAX)
		return 0;
	*arr = calloc(lines, sizeof(**arr));
	if (!*arr)
		return -ENOMEM;
	for (char *l = b; l && *l && n < lines; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		sv_Cg1BlkIOEntry *e = &(*arr)[n];
		const char *p = l;
		size_t oplen;

		if (cgfs_parse_u64(&p, &e->major) || *p++ != ':' || cgfs_parse_u64(&p, &e->minor))
			continue;
		p += strspn(p, " ");
		oplen = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
		e->op = strndup(p, oplen);
		p += oplen;
		dev_name(parts, e->major, e->minor, dev, sizeof(dev));
		e->device = strdup(dev);
		if (!e->op || !e->device) {
			*cnt = (pb_size_t)(n + 1);
			return -ENOMEM;
		}
		cgfs_parse_u64(&p, &e->value);
		n++;
	}
	*cnt = (pb_size_t)n;
	return 0;
}

static int blkio(const struct wcg_dir *d, sv_Cg1Metrics *m, char *b)
{
	char *parts = b + WCG_SCRATCH / 2;
	sv_Cg1BlkIOStat *s = &m->blkio;
	int rc;

	m->has_blkio = true;
	if (cgfs_read(AT_FDCWD, "/proc/partitions", parts, WCG_SCRATCH / 2) < 0)
		parts[0] = '\0';
	/* CFQ's files where the kernel has them, else the throttle policy's (as containerd) */
	if (sv_lexists_at(d->fd, "blkio.io_serviced_recursive") == 0) {
		if ((rc = blkio_file(d->fd, "blkio.io_service_bytes_recursive", b, parts,
				     &s->io_service_bytes_recursive,
				     &s->io_service_bytes_recursive_count)) ||
		    (rc = blkio_file(d->fd, "blkio.io_serviced_recursive", b, parts,
				     &s->io_serviced_recursive, &s->io_serviced_recursive_count)))
			return rc;
		if (s->io_service_bytes_recursive_count || s->io_serviced_recursive_count)
			return 0;
	}
	if ((rc = blkio_file(d->fd, "blkio.throttle.io_service_bytes", b, parts,
			     &s->io_service_bytes_recursive, &s->io_service_bytes_recursive_count)))
		return rc;
	return blkio_file(d->fd, "blkio.throttle.io_serviced", b, parts, &s->io_serviced_recursive,
			  &s->io_serviced_recursive_count);
}

static int hugetlb(const struct wcg_dir *d, sv_Cg1Metrics *m)
{
	char sizes[8][16], f[64];
	size_t n = wcg_hugepage_sizes(sizes, 8);

	if (!n)
		return 0;
	m->hugetlb = calloc(n, sizeof(*m->hugetlb));
	if (!m->hugetlb)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		sv_Cg1HugetlbStat *h = &m->hugetlb[i];

		m->hugetlb_count = (pb_size_t)(i + 1);
		if (!(h->pagesize = strdup(sizes[i])))
			return -ENOMEM;
		snprintf(f, sizeof(f), "hugetlb.%s.usage_in_bytes", sizes[i]);
		cgfs_read_u64(d->fd, f, &h->usage);
		snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", sizes[i]);
		cgfs_read_u64(d->fd, f, &h->max);
		snprintf(f, sizeof(f), "hugetlb.%s.failcnt", sizes[i]);
		cgfs_read_u64(d->fd, f, &h->failcnt);
	}
	return 0;
}

int wcg1_metrics(const struct wcgroup *cg, uint8_t **buf, size_t *len)
{
	sv_Cg1Metrics m = sv_Cg1Metrics_init_zero;
	const struct wcg_dir *d;
	char *b = malloc(WCG_SCRATCH);
	int rc = b ? 0 : -ENOMEM;

	if (!rc && (d = wcg_v1(cg, CGC_PIDS))) {
		m.has_pids = true;
		cgfs_read_u64(d->fd, "pids.current", &m.pids.current);
		if (cgfs_read_u64(d->fd, "pids.max", &m.pids.limit) == 0 &&
		    m.pids.limit == UINT64_MAX)
			m.pids.limit = 0;       /* "max", as containerd reports it */
	}
	if (!rc)
		rc = cpu(cg, &m, b);
	if (!rc && (d = wcg_v1(cg, CGC_MEMORY)))
		memory(d, &m, b);
	if (!rc && (d = wcg_v1(cg, CGC_BLKIO)))
		rc = blkio(d, &m, b);
	if (!rc && (d = wcg_v1(cg, CGC_HUGETLB)))
		rc = hugetlb(d, &m);
	if (!rc)
		rc = sv_pb_encode(sv_Cg1Metrics_fields, &m, buf, len);
	sv_pb_free(sv_Cg1Metrics_fields, &m);
	free(b);
	return rc;
}

static int oom_count(const struct wcg_dir *d, uint64_t *kills, uint64_t *under)
{
	char b[256];
	ssize_t n = cgfs_read(d->fd, "memory.oom_control", b, sizeof(b));

	if (n < 0)
		return (int)n;
	*kills = 0;
	*under = 0;
	cgfs_kv(b, "oom_kill", kills);
	cgfs_kv(b, "under_oom", under);
	return 0;
}

int wcg1_oom_fd(struct wcgroup *cg, const struct wcg_dir *mem)
{
	char line[32];
	uint64_t under = 0;
	int efd, cfd, rc;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	cfd = openat(mem->fd, "memory.oom_control", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0) {
		rc = -errno;
		close(efd);
		return rc;
	}
	snprintf(line, sizeof(line), "%d %d", efd, cfd);
	rc = cgfs_write(mem->fd, "cgroup.event_control", line);
	close(cfd);     /* the registration holds what it needs */
	if (rc) {
		close(efd);
		return rc;
	}
	oom_count(mem, &cg->oom_kills, &under);
	cg->oom_fd = efd;
	cg->oom_dir = mem;
	return efd;
}

/* The eventfd fires when the cgroup meets an OOM (before its kill is counted) and when the
 * cgroup goes away. A fire with the cgroup still there is an OOM (as containerd takes it);
 * a grown oom_kill count with no fire is one too, except the kill of an OOM already told. */
bool wcg1_oom_read(struct wcgroup *cg)
{
	uint64_t cnt = 0, kills, under;
	bool fired, told;

	fired = read(cg->oom_fd, &cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt) && cnt > 0;
	if (oom_count(cg->oom_dir, &kills, &under))
		return false;           /* removed */
	if (fired) {
		cg->oom_kills = kills;
		cg->oom_told = true;
		return true;
	}
	if (kills <= cg->oom_kills)
		return false;
	told = cg->oom_told && kills == cg->oom_kills + 1;
	cg->oom_kills = kills;
	cg->oom_told = false;
	return !told;
}
