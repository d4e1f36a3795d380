/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/cgroups.c: the task's cgroups in shimvisor-init: which hierarchies and where
 * (runc's path rules), create, apply, join, undo on failure; and `--update PID [BUNDLE]`,
 * which first gives a task started without one its cgroup (io.shimvisor.cgroup.lazy). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cgroupfs.h"
#include "common/fsutil.h"
#include "common/procfs.h"
#include "wire/limits.h"
#include "worker/init/cgroups.h"

struct cg_dir {
	const struct cg_hier *h;
	char path[PATH_MAX];    /* the task's cgroup, relative to h->mnt */
	int fd;                 /* O_PATH, -1 until opened */
	int created;            /* trailing components we made */
	bool joined;
};

struct cg_set {
	struct cg_hier *h;
	size_t nh;
	struct cg_dir *d;
	size_t n;
	unsigned have;          /* controllers of the chosen hierarchies */
	bool any_v2;
};

/* What cgroups_setup made, kept to undo it if the init fails before START. */
struct cg_state {
	size_t n;
	struct cg_keep {
		int own;        /* O_PATH of the cgroup we came from, -1 */
		int base;       /* O_PATH of the parent of the first directory made, -1 */
		char *tail;     /* "/a/b": the directories made below base */
		int created;
	} k[CG_MAX_HIER];
};

/* An fd moved out of the way of the fixed fds (3..7), or -1. */
static int high_fd(int fd)
{
	int h = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 64) : -1;

	if (fd >= 0)
		close(fd);
	return h;
}

/* Index in p where its last count components begin. */
static size_t tail_start(const char *p, int count)
{
	size_t i = strlen(p);

	while (count-- > 0) {
		while (i > 0 && p[i - 1] == '/')
			i--;
		while (i > 0 && p[i - 1] != '/')
			i--;
	}
	return i;
}

static void keep_state(struct init *in, const struct cg_set *s)
{
	struct cg_state *st = calloc(1, sizeof(*st));

	if (!st)
		return;         /* best effort */
	for (size_t i = 0; i < s->n; i++) {
		const struct cg_dir *d = &s->d[i];
		struct cg_keep *k = &st->k[st->n++];

		k->own = d->h->own ? high_fd(cgfs_open_dir(d->h->mnt, d->h->own, false, NULL,
							   NULL, NULL)) : -1;
		k->base = -1;
		if (d->created) {
			size_t at = tail_start(d->path, d->created);
			char prefix[PATH_MAX];

			snprintf(prefix, sizeof(prefix), "%.*s", (int)at, d->path);
			k->base = high_fd(cgfs_open_dir(d->h->mnt, prefix[0] ? prefix : "/", false,
							NULL, NULL, NULL));
			if (asprintf(&k->tail, "/%s", d->path + at) < 0)
				k->tail = NULL;
			k->created = d->created;
		}
	}
	in->cg = st;
}

void cgroups_release(struct init *in)
{
	struct cg_state *st = in->cg;

	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++) {
		if (st->k[i].own >= 0)
			close(st->k[i].own);
		if (st->k[i].base >= 0)
			close(st->k[i].base);
		free(st->k[i].tail);
	}
	free(st);
	in->cg = NULL;
}

void cgroups_abandon(struct init *in)
{
	struct cg_state *st = in->cg;

	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		if (st->k[i].own >= 0)
			cgfs_write(st->k[i].own, "cgroup.procs", "0");   /* "0": the writer */
	for (size_t i = 0; i < st->n; i++) {
		struct cg_keep *k = &st->k[i];

		if (k->base < 0 || !k->tail)
			continue;
		/* the pid-namespace launcher may not have left yet: bounded retries */
		for (int tries = 0; tries < 20; tries++) {
			struct timespec nap = { 0, 5 * 1000 * 1000 };

			if (cgfs_rmdir_tail_at(k->base, k->tail, k->created) != -EBUSY)
				break;
			nanosleep(&nap, NULL);
		}
	}
	cgroups_release(in);
}

static void set_free(struct cg_set *s)
{
	for (size_t i = 0; s->d && i < s->n; i++)
		if (s->d[i].fd >= 0)
			close(s->d[i].fd);
	free(s->d);
	cgfs_free(s->h, s->nh);
	memset(s, 0, sizeof(*s));
}

static int set_add(struct cg_set *s, const struct cg_hier *h, const char *path, struct init_err *e)
{
	struct cg_dir *d = &s->d[s->n];

	if (snprintf(d->path, sizeof(d->path), "%s", path) >= (int)sizeof(d->path))
		return init_failmsg(e, -ENAMETOOLONG, "linux.cgroupsPath: too long");
	d->h = h;
	d->fd = -1;
	s->n++;
	s->have |= h->ctrls;
	s->any_v2 |= h->v2;
	return 0;
}

/* The first resource r asks for whose controller the set lacks, or NULL. */
static const char *missing(const struct spec_resources *r, const struct cg_set *s)
{
	const struct {
		unsigned ctrl;
		bool need;
		const char *name;
	} t[] = {
		{ CGC_MEMORY, r->mem_limit.set || r->mem_reservation.set || r->mem_swap.set ||
			      r->swappiness.set || r->disable_oom_killer, "memory" },
		{ CGC_CPU, (r->cpu_shares.set && r->cpu_shares.v) || r->cpu_quota.set ||
			   r->cpu_period.set || r->rt_runtime.set || r->rt_period.set, "cpu" },
		{ CGC_CPUSET, (r->cpus && *r->cpus) || (r->mems && *r->mems), "cpu.cpus/mems" },
		{ CGC_PIDS, r->pids_limit.set && r->pids_limit.v, "pids" },
		{ CGC_BLKIO, r->blkio_weight.set || r->nweight_dev || r->nthrottle[0] ||
			     r->nthrottle[1] || r->nthrottle[2] || r->nthrottle[3], "blockIO" },
		{ CGC_HUGETLB, r->nhugepages > 0, "hugepageLimits" },
		/* cgroup2 filters devices with BPF, no controller needed */
		{ CGC_DEVICES, r->ndevices > 0 && !s->any_v2, "devices" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].need && !(s->have & t[i].ctrl))
			return t[i].name;
	if (r->nunified && !s->any_v2)
		return "unified";
	return NULL;
}

static int apply_all(struct cg_set *s, const struct spec_resources *r, struct init_err *e)
{
	int rc = 0;

	for (size_t i = 0; i < s->n && !rc; i++)
		rc = s->d[i].h->v2 ? cgv2_apply(s->d[i].fd, s->d[i].h->ctrls, r, e) :
				     cgv1_apply(s->d[i].fd, s->d[i].h->ctrls, r, e);
	return rc;
}

/* Put the caller back where it was and remove what we made. */
static void undo(struct cg_set *s)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (size_t i = 0; i < s->n; i++) {
		struct cg_dir *d = &s->d[i];

		if (d->joined && d->h->own) {
			int fd = cgfs_open_dir(d->h->mnt, d->h->own, false, NULL, NULL, NULL);

			if (fd >= 0) {
				cgfs_write(fd, "cgroup.procs", pid);
				close(fd);
			}
		}
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
		if (d->created)
			cgfs_rmdir_tail(d->h->mnt, d->path, d->created);
	}
}

/* The hierarchies for the cgroup path cp (runc's rules: every v1 hierarchy with a controller,
 * cgroup2 when it has controllers or is all; none holding a controller of skip), each
 * directory made (mkdir -p) and opened. On failure the caller undoes what is in s. */
static int set_make(struct cg_set *s, const char *cp, const struct spec_resources *r,
		    unsigned skip, struct init_err *e)
{
	bool v1_any = false;
	const char *miss;
	char path[PATH_MAX];
	int rc;

	if ((rc = cgfs_list(0, &s->h, &s->nh)))
		return init_fail(e, rc, "cgroups: /proc/self/cgroup");
	s->d = calloc(s->nh + 1, sizeof(*s->d));
	if (!s->d)
		return init_fail(e, -ENOMEM, "cgroups");
	for (size_t i = 0; i < s->nh; i++)
		v1_any |= !s->h[i].v2 && (s->h[i].ctrls & ~CGC_NAMED);
	for (size_t i = 0; i < s->nh; i++) {
		const struct cg_hier *h = &s->h[i];

		if (h->v2 ? !(h->ctrls || !v1_any) : !(h->ctrls & ~CGC_NAMED) || (h->ctrls & skip))
			continue;
		if (cp[0] == '/')
			snprintf(path, sizeof(path), "%s", cp);
		else if (!h->own)
			continue;       /* our own cgroup is not visible in this mount */
		else if (snprintf(path, sizeof(path), "%s%s%s", h->own,
				  strcmp(h->own, "/") ? "/" : "", cp) >= (int)sizeof(path))
			return init_failmsg(e, -ENAMETOOLONG, "linux.cgroupsPath: too long");
		if (path[strspn(path, "/")] == '\0')
			return init_failmsg(e, -EINVAL, "linux.cgroupsPath: must name a cgroup below "
					    "the root");
		if ((rc = set_add(s, h, path, e)))
			return rc;
	}
	if (s->n == 0)
		return init_failmsg(e, -EOPNOTSUPP, "linux.cgroupsPath: no cgroup hierarchy is mounted");
	if (r && (miss = missing(r, s)))
		return init_failmsg(e, -EOPNOTSUPP, "linux.resources.%s: no such cgroup controller "
				    "here", miss);
	for (size_t i = 0; i < s->n; i++) {
		struct cg_dir *d = &s->d[i];
		cgfs_each_fn *each = d->h->v2 ? cgv2_enable_each :
				     (d->h->ctrls & CGC_CPUSET) ? cgv1_cpuset_each : NULL;

		d->fd = cgfs_open_dir(d->h->mnt, d->path, true, each, NULL, &d->created);
		if (d->fd < 0)
			return init_fail(e, d->fd, "cgroup %s%s", d->h->mnt, d->path);
	}
	return 0;
}

int cgroups_setup(struct init *in)
{
	const char *cp = in->spec.cgroups_path;
	const struct spec_resources *r = in->spec.resources;
	struct cg_set s = { 0 };
	struct init_err *e = &in->err;
	char pid[16];
	int rc;

	if (!cp || !*cp)
		return 0;
	if ((rc = set_make(&s, cp, r, 0, e)) || (r && (rc = apply_all(&s, r, e))))
		goto undo;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (size_t i = 0; i < s.n; i++) {
		if ((rc = cgfs_write(s.d[i].fd, "cgroup.procs", pid))) {
			init_fail(e, rc, "cgroup %s%s: join", s.d[i].h->mnt, s.d[i].path);
			goto undo;
		}
		s.d[i].joined = true;
	}
	keep_state(in, &s);
	set_free(&s);
	return 0;
undo:
	undo(&s);
	set_free(&s);
	return rc;
}

int cgroups_join_of(struct init *in, pid_t pid)
{
	struct cg_hier *h = NULL;
	size_t n = 0;
	char me[16];
	int rc = cgfs_list(pid, &h, &n);

	if (rc)
		return init_fail(&in->err, rc, "cgroups: /proc/%d/cgroup", (int)pid);
	snprintf(me, sizeof(me), "%d", (int)getpid());
	for (size_t i = 0; i < n && !rc; i++) {
		int fd;

		if (!cgfs_is_own(&h[i]))
			continue;
		fd = cgfs_open_dir(h[i].mnt, h[i].path, false, NULL, NULL, NULL);
		if (fd < 0 || (rc = cgfs_write(fd, "cgroup.procs", me)))
			rc = init_fail(&in->err, fd < 0 ? fd : rc, "cgroup %s%s: join", h[i].mnt,
				       h[i].path);
		if (fd >= 0)
			close(fd);
	}
	cgfs_free(h, n);
	return rc;
}

#define LAZY_PASSES 16                 /* rounds of moving a task that forks meanwhile */
#define LAZY_PROCS_MAX (256u << 10)     /* cgroup.procs read back: ~35000 pids */
#define MSG_NO_LAZY "the task has no cgroup of its own: start it with a limit (--memory, " \
		    "--pids, --cpus), or with task_cgroups = always in the daemon's config"

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* The pids in dfd's cgroup.procs, sorted (malloc'd). */
static int procs_sorted(int dfd, pid_t **out, size_t *n)
{
	char *buf = malloc(LAZY_PROCS_MAX);
	ssize_t len = buf ? cgfs_read(dfd, "cgroup.procs", buf, LAZY_PROCS_MAX) : -ENOMEM;
	size_t cnt = 0;

	if (len >= 0) {
		for (ssize_t i = 0; i < len; i++)
			cnt += buf[i] == '\n';
		*out = malloc((cnt + 1) * sizeof(**out));
		cnt = 0;
		for (const char *p = buf; *out && *p; p += strcspn(p, "\n"), p += *p == '\n')
			(*out)[cnt++] = (pid_t)atoi(p);
		if (!*out)
			len = -ENOMEM;
	}
	free(buf);
	if (len < 0)
		return (int)len;
	qsort(*out, cnt, sizeof(**out), cmp_pid);
	*n = cnt;
	return 0;
}

/* One round: every process of pid namespace ns that is not in s yet, written into each of
 * s's directories (the first last: a process in it is in all). *moved counts them. */
static int move_round(struct cg_set *s, ino_t ns, size_t *moved, struct init_err *e)
{
	pid_t *pids = NULL, *in = NULL;
	size_t n = 0, nin = 0;
	char num[16];
	int rc;

	*moved = 0;
	if ((rc = sv_proc_scan_ns(ns, &pids, &n)))
		return init_fail(e, rc, "the task's processes");
	if ((rc = procs_sorted(s->d[0].fd, &in, &nin))) {
		free(pids);
		return init_fail(e, rc, "cgroup %s%s: cgroup.procs", s->d[0].h->mnt, s->d[0].path);
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct sv_proc_stat st;

		if (bsearch(&pids[i], in, nin, sizeof(*in), cmp_pid) ||
		    sv_proc_stat(pids[i], &st) < 0 || st.state == 'Z')
			continue;       /* in already, gone, or a zombie (no longer movable) */
		snprintf(num, sizeof(num), "%d", (int)pids[i]);
		for (size_t k = s->n; k-- > 0 && !rc;) {
			rc = cgfs_write(s->d[k].fd, "cgroup.procs", num);
			if (rc == -ESRCH)
				rc = 0;         /* it exited meanwhile */
			else if (rc)
				init_fail(e, rc, "cgroup %s%s: move %s", s->d[k].h->mnt, s->d[k].path, num);
		}
		(*moved)++;
	}
	free(pids);
	free(in);
	return rc;
}

/* Record s's directories in the bundle (SV_BUNDLE_CGROUP) before anything moves in: the
 * worker removes them from there, also when this process or the worker dies meanwhile. */
static int lazy_record(struct init *in, const struct cg_set *s)
{
	char *buf = malloc(s->n * (PATH_MAX + 160)), dir[PATH_MAX];
	size_t len = 0;
	int dfd = -1, rc = buf ? 0 : -ENOMEM;

	for (size_t i = 0; i < s->n && !rc; i++) {
		const struct cg_dir *d = &s->d[i];
		size_t ml = strlen(d->h->mnt);
		int n;

		/* mount point + path, without a doubled slash */
		ml -= ml > 1 && d->h->mnt[ml - 1] == '/';
		if (snprintf(dir, sizeof(dir), "%.*s%s", (int)ml, d->h->mnt, d->path) >= (int)sizeof(dir))
			rc = -ENAMETOOLONG;
		else if ((n = cgfs_record_line(buf + len, PATH_MAX + 160, d->h->v2, d->h->ctrls, dir)) < 0)
			rc = n;
		else
			len += (size_t)n;
	}
	if (!rc && (dfd = open(in->bundle, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		rc = -errno;
	if (!rc)
		rc = sv_replace_file(dfd, SV_BUNDLE_CGROUP, buf, len, 0644);
	if (dfd >= 0)
		close(dfd);
	free(buf);
	return rc ? init_fail(&in->err, rc, "%s/" SV_BUNDLE_CGROUP, in->bundle) : 0;
}

/* A task started without a cgroup gets the one its config.json names for later (annotation
 * io.shimvisor.cgroup.lazy): made as at a start (but for cpuset: moving a process there
 * resets its CPU affinity), then every process of the task's pid namespace moved in, round
 * after round until one finds none outside (a process forked meanwhile by one not yet
 * moved is outside). The worker starts no exec meanwhile. The directories are recorded in
 * the bundle first; a failure to move leaves what was made and moved: the worker removes it
 * with the task, and the next call goes on from there. */
static int lazy_adopt(struct init *in, pid_t pid)
{
	struct init_err *e = &in->err;
	struct cg_set s = { 0 };
	ino_t ns, self;
	size_t moved = 1;
	int rc, round;

	if ((rc = config_read_bundle(in)))
		return rc;
	if (!in->spec.cgroup_lazy || !*in->spec.cgroup_lazy)
		return init_failmsg(e, -ENOENT, MSG_NO_LAZY);
	if ((rc = sv_proc_pidns(pid, &ns)) || (rc = sv_proc_pidns(0, &self)))
		return init_fail(e, rc, "task %d: its pid namespace", (int)pid);
	if (ns == self)
		return init_failmsg(e, -EOPNOTSUPP, "the task shares the host's pid namespace, "
				    "where its processes cannot all be told apart: it gets a cgroup "
				    "only at its start (a limit, or task_cgroups = always)");
	if ((rc = set_make(&s, in->spec.cgroup_lazy, NULL, CGC_CPUSET, e)) ||
	    (rc = lazy_record(in, &s)))
		goto undo;
	/* v1: its pages are charged where they were unless the charges move along */
	for (size_t i = 0; i < s.n; i++)
		if (!s.d[i].h->v2 && (s.d[i].h->ctrls & CGC_MEMORY))
			cgfs_write(s.d[i].fd, "memory.move_charge_at_immigrate", "3");
	for (round = 0; round < LAZY_PASSES && moved && !rc; round++)
		rc = move_round(&s, ns, &moved, e);
	if (!rc && moved)
		rc = init_failmsg(e, -EAGAIN, "cgroup %s: the task forks faster than its processes "
				  "can be moved in: try again", in->spec.cgroup_lazy);
	set_free(&s);
	return rc;
undo:
	undo(&s);
	set_free(&s);
	return rc;
}

static int update(struct init *in, pid_t pid, bool lazy)
{
	struct spec_resources *r = NULL;
	struct cg_set s = { 0 };
	struct init_err *e = &in->err;
	const char *miss;
	char *json = NULL;
	size_t len = 0;
	int rc;

	if ((rc = config_read_fd(SV_INIT_FD_CONFIG, &json, &len)))
		return init_fail(e, rc, "update: read the resources");
	rc = spec_resources_parse_json(json, len, &r, e->msg, sizeof(e->msg));
	free(json);
	if (rc) {
		e->rc = rc;
		return rc;
	}
	/* the device rules were checked against the policy with the task's config, and stay
	 * as created: an update's are not applied (an update from whoever drives the worker
	 * cannot widen them), as runc's update ignores them. CRI's UpdateContainerResources
	 * sends the whole resources object, device rules included. */
	free(r->devices);
	r->devices = NULL;
	r->ndevices = 0;
	if (lazy && (rc = lazy_adopt(in, pid)))
		goto out;
	if ((rc = cgfs_list(pid, &s.h, &s.nh))) {
		init_fail(e, rc, "update: /proc/%d/cgroup", (int)pid);
		goto out;
	}
	s.d = calloc(s.nh + 1, sizeof(*s.d));
	if (!s.d) {
		rc = init_fail(e, -ENOMEM, "update");
		goto out;
	}
	/* The task's own cgroups: those where it is not where we (its worker) are. */
	for (size_t i = 0; i < s.nh; i++) {
		const struct cg_hier *h = &s.h[i];

		if (!cgfs_is_own(h))
			continue;
		if ((rc = set_add(&s, h, h->path, e)))
			goto out;
	}
	if (!spec_resources_empty(r) && s.n == 0) {
		rc = init_failmsg(e, -ENOENT, "update: the task has no cgroup of its own");
		goto out;
	}
	if (s.n && (miss = missing(r, &s))) {
		rc = init_failmsg(e, -EOPNOTSUPP, "resources: %s: the task has no such cgroup", miss);
		goto out;
	}
	for (size_t i = 0; i < s.n; i++) {
		s.d[i].fd = cgfs_open_dir(s.d[i].h->mnt, s.d[i].path, false, NULL, NULL, NULL);
		if (s.d[i].fd < 0) {
			rc = init_fail(e, s.d[i].fd, "cgroup %s%s", s.d[i].h->mnt, s.d[i].path);
			goto out;
		}
	}
	rc = apply_all(&s, r, e);
out:
	set_free(&s);
	spec_resources_free(r);
	return rc;
}

_Noreturn void cgroups_update_main(struct init *in, const char *pidstr, const char *bundle)
{
	char *end = NULL;
	long pid = strtol(pidstr, &end, 10);

	if (!*pidstr || *end || pid <= 0 || pid > INT_MAX || (bundle && bundle[0] != '/')) {
		init_failmsg(&in->err, -EINVAL, "usage: shimvisor-init --update PID [BUNDLE_DIR]");
		init_abort(in);
	}
	in->bundle = bundle;
	if (update(in, (pid_t)pid, bundle != NULL))
		init_abort(in);
	_exit(0);
}
