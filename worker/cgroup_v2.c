/* SPDX-License-Identifier: Apache-2.0 */
/* worker/cgroup_v2.c: a task's cgroup2 directory: cgroup.freeze, io.containerd.cgroups.v2.Metrics
 * (read as containerd/cgroups v1.0.4 reads them), OOM kills via memory.events + inotify. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>

#include "common/names.h"
#include "metrics.pb.h"
#include "wire/pbio.h"
#include "worker/cgroup_backend.h"

/* Write cgroup.freeze, then wait for cgroup.events to say "frozen 0|1": the kernel wakes
 * pollers of cgroup.events (POLLPRI) when it changes, so no sleeping. */
int wcg2_freeze(const struct wcg_dir *d, bool frozen, int timeout_ms)
{
	int64_t deadline = sv_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	const char *want = frozen ? "frozen 1" : "frozen 0";
	char b[256];
	int fd, rc;

	if ((rc = cgfs_write(d->fd, "cgroup.freeze", frozen ? "1" : "0")))
		return rc;
	fd = openat(d->fd, "cgroup.events", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (rc = -ETIMEDOUT;;) {
		struct pollfd p = { fd, POLLPRI, 0 };
		ssize_t n = pread(fd, b, sizeof(b) - 1, 0);
		int64_t left;

		if (n < 0) {
			rc = -errno;
			break;
		}
		b[n] = '\0';
		if (strstr(b, want)) {
			rc = 0;
			break;
		}
		left = deadline - sv_now_ms();
		if (left <= 0)
			break;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
	}
	close(fd);
	if (rc == -ETIMEDOUT && frozen)
		cgfs_write(d->fd, "cgroup.freeze", "0");
	return rc;
}

/* the keys inline (common/names.h): no pointer to relocate at load */
#define MS(key, field) { key, offsetof(sv_Cg2MemoryStat, field) }
SV_NAMES_BEGIN
static const struct { char key[24]; size_t off; } memstat[] = {
	MS("anon", anon), MS("file", file), MS("kernel_stack", kernel_stack), MS("slab", slab),
	MS("sock", sock), MS("shmem", shmem), MS("file_mapped", file_mapped),
	MS("file_dirty", file_dirty), MS("file_writeback", file_writeback),
	MS("anon_thp", anon_thp), MS("inactive_anon", inactive_anon),
	MS("active_anon", active_anon), MS("inactive_file", inactive_file),
	MS("active_file", active_file), MS("unevictable", unevictable),
	MS("slab_reclaimable", slab_reclaimable), MS("slab_unreclaimable", slab_unreclaimable),
	MS("pgfault", pgfault), MS("pgmajfault", pgmajfault),
	MS("workingset_refault", workingset_refault),
	MS("workingset_activate", workingset_activate),
	MS("workingset_nodereclaim", workingset_nodereclaim), MS("pgrefill", pgrefill),
	MS("pgscan", pgscan), MS("pgsteal", pgsteal), MS("pgactivate", pgactivate),
	MS("pgdeactivate", pgdeactivate), MS("pglazyfree", pglazyfree),
	MS("pglazyfreed", pglazyfreed), MS("thp_fault_alloc", thp_fault_alloc),
	MS("thp_collapse_alloc", thp_collapse_alloc),
};
SV_NAMES_END

static void memory(int dfd, sv_Cg2Metrics *m, char *b)
{
	uint64_t v;

	if (cgfs_read(dfd, "memory.stat", b, WCG_SCRATCH) < 0)
		return;
	m->has_memory = true;
	for (size_t i = 0; i < sizeof(memstat) / sizeof(memstat[0]); i++)
		if (cgfs_kv(b, memstat[i].key, &v) == 0)
			*(uint64_t *)((char *)&m->memory + memstat[i].off) = v;
	cgfs_read_u64(dfd, "memory.current", &m->memory.usage);
	cgfs_read_u64(dfd, "memory.max", &m->memory.usage_limit);
	cgfs_read_u64(dfd, "memory.swap.current", &m->memory.swap_usage);
	cgfs_read_u64(dfd, "memory.swap.max", &m->memory.swap_limit);
	if (cgfs_read(dfd, "memory.events", b, WCG_SCRATCH) >= 0) {
		m->has_memory_events = true;
		cgfs_kv(b, "low", &m->memory_events.low);
		cgfs_kv(b, "high", &m->memory_events.high);
		cgfs_kv(b, "max", &m->memory_events.max);
		cgfs_kv(b, "oom", &m->memory_events.oom);
		cgfs_kv(b, "oom_kill", &m->memory_events.oom_kill);
	}
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per device. */
static int io(int dfd, sv_Cg2Metrics *m, char *b)
{
	SV_NAMES_BEGIN
	static const struct { char key[8]; size_t off; } keys[] = {
		{ "rbytes=", offsetof(sv_Cg2IOEntry, rbytes) },
		{ "wbytes=", offsetof(sv_Cg2IOEntry, wbytes) },
		{ "rios=", offsetof(sv_Cg2IOEntry, rios) },
		{ "wios=", offsetof(sv_Cg2IOEntry, wios) },
	};
	SV_NAMES_END
	size_t lines = 0, n = 0;

	if (cgfs_read(dfd, "io.stat", b, WCG_SCRATCH) < 0)
		return 0;
	m->has_io = true;
	for (const char *p = b; (p = strchr(p, '\n')); p++)
		lines++;
	if (!lines || lines > PB_SIZE_MAX)
		return 0;
	m->io.usage = calloc(lines, sizeof(*m->io.usage));
	if (!m->io.usage)
		return -ENOMEM;
	for (const char *l = b; l && *l && n < lines; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		sv_Cg2IOEntry *e = &m->io.usage[n];
		const char *p = l, *end = strchr(l, '\n');

		if (cgfs_parse_u64(&p, &e->major) || *p++ != ':' || cgfs_parse_u64(&p, &e->minor))
			continue;
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			const char *q = strstr(p, keys[k].key);

			if (q && (!end || q < end)) {
				q += strlen(keys[k].key);
				cgfs_parse_u64(&q, (uint64_t *)((char *)e + keys[k].off));
			}
		}
		n++;
	}
	m->io.usage_count = (pb_size_t)n;
	return 0;
}

static int hugetlb(int dfd, sv_Cg2Metrics *m)
{
	char sizes[8][16], f[64];
	size_t n = wcg_hugepage_sizes(sizes, 8), k = 0;

	if (!n)
		return 0;
	m->hugetlb = calloc(n, sizeof(*m->hugetlb));
	if (!m->hugetlb)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		sv_Cg2HugeTlbStat *h = &m->hugetlb[k];

		snprintf(f, sizeof(f), "hugetlb.%s.current", sizes[i]);
		if (cgfs_read_u64(dfd, f, &h->current))
			continue;       /* the controller is not enabled here */
		m->hugetlb_count = (pb_size_t)++k;
		if (!(h->pagesize = strdup(sizes[i])))
			return -ENOMEM;
		snprintf(f, sizeof(f), "hugetlb.%s.max", sizes[i]);
		cgfs_read_u64(dfd, f, &h->max);
	}
	return 0;
}

int wcg2_metrics(const struct wcgroup *cg, uint8_t **buf, size_t *len)
{
	sv_Cg2Metrics m = sv_Cg2Metrics_init_zero;
	const struct wcg_dir *d = wcg_v2(cg);
	char *b = malloc(WCG_SCRATCH);
	int rc = b ? 0 : -ENOMEM;

	if (!rc && !d)
		rc = -ENOENT;
	if (!rc && cgfs_read_u64(d->fd, "pids.current", &m.pids.current) == 0) {
		m.has_pids = true;
		cgfs_read_u64(d->fd, "pids.max", &m.pids.limit);
	}
	if (!rc && cgfs_read(d->fd, "cpu.stat", b, WCG_SCRATCH) >= 0) {
		m.has_cpu = true;
		cgfs_kv(b, "usage_usec", &m.cpu.usage_usec);
		cgfs_kv(b, "user_usec", &m.cpu.user_usec);
		cgfs_kv(b, "system_usec", &m.cpu.system_usec);
		cgfs_kv(b, "nr_periods", &m.cpu.nr_periods);
		cgfs_kv(b, "nr_throttled", &m.cpu.nr_throttled);
		cgfs_kv(b, "throttled_usec", &m.cpu.throttled_usec);
	}
	if (!rc)
		memory(d->fd, &m, b);
	if (!rc)
		rc = io(d->fd, &m, b);
	if (!rc)
		rc = hugetlb(d->fd, &m);
	if (!rc)
		rc = sv_pb_encode(sv_Cg2Metrics_fields, &m, buf, len);
	sv_pb_free(sv_Cg2Metrics_fields, &m);
	free(b);
	return rc;
}

static int oom_kills(const struct wcg_dir *d, uint64_t *kills)
{
	char b[512];
	ssize_t n = cgfs_read(d->fd, "memory.events", b, sizeof(b));

	if (n < 0)
		return (int)n;
	*kills = 0;
	cgfs_kv(b, "oom_kill", kills);
	return 0;
}

int wcg2_oom_fd(struct wcgroup *cg, const struct wcg_dir *d)
{
	char path[64];
	int fd, rc;

	if ((rc = oom_kills(d, &cg->oom_kills)))
		return rc;      /* no memory controller here */
	fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/self/fd/%d/memory.events", d->fd);
	if (inotify_add_watch(fd, path, IN_MODIFY) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	cg->oom_fd = fd;
	cg->oom_dir = d;
	return fd;
}

bool wcg2_oom_read(struct wcgroup *cg)
{
	char ev[512] __attribute__((aligned(__alignof__(struct inotify_event))));
	uint64_t kills;

	while (read(cg->oom_fd, ev, sizeof(ev)) > 0)
		;
	if (oom_kills(cg->oom_dir, &kills) || kills <= cg->oom_kills)
		return false;
	cg->oom_kills = kills;
	return true;
}
