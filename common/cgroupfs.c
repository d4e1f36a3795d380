/* SPDX-License-Identifier: Apache-2.0 */
/* common/cgroupfs.c: cgroup hierarchy discovery (mountinfo, /proc/PID/cgroup) and dirfd-relative
 * cgroup file I/O, with read(2)/write(2) only. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "common/names.h"
#include "common/cgroupfs.h"

SV_NAMES_BEGIN         /* inline (common/names.h): no pointer to relocate at load */
static const struct { char name[12]; unsigned bit; } ctrl_names[] = {
	{ "cpu", CGC_CPU }, { "cpuacct", CGC_CPUACCT }, { "cpuset", CGC_CPUSET },
	{ "memory", CGC_MEMORY }, { "devices", CGC_DEVICES }, { "freezer", CGC_FREEZER },
	{ "blkio", CGC_BLKIO }, { "io", CGC_BLKIO }, { "pids", CGC_PIDS },
	{ "hugetlb", CGC_HUGETLB }, { "net_cls", CGC_NET_CLS }, { "net_prio", CGC_NET_PRIO },
	{ "perf_event", CGC_PERF_EVENT }, { "rdma", CGC_RDMA }, { "misc", CGC_MISC },
};
SV_NAMES_END
#define NCTRL (sizeof(ctrl_names) / sizeof(ctrl_names[0]))

unsigned cgfs_ctrl_mask(const char *list)
{
	unsigned mask = 0;
	const char *p = list;

	while (p && *p) {
		size_t len = strcspn(p, ", \n");

		if (len > 5 && !strncmp(p, "name=", 5))
			mask |= CGC_NAMED;
		for (size_t i = 0; i < NCTRL; i++)
			if (strlen(ctrl_names[i].name) == len && !strncmp(p, ctrl_names[i].name, len))
				mask |= ctrl_names[i].bit;
		p += len;
		p += strspn(p, ", \n");
	}
	return mask;
}

int cgfs_ctrl_names(unsigned mask, bool v2, char *buf, size_t sz)
{
	size_t len = 0;

	if (sz < 2)
		return -ENOSPC;
	buf[0] = '\0';
	for (size_t i = 0; i < NCTRL; i++) {
		const char *nm = ctrl_names[i].name;

		if (!(mask & ctrl_names[i].bit) || !strcmp(nm, v2 ? "blkio" : "io"))
			continue;
		int n = snprintf(buf + len, sz - len, "%s%s", len ? "," : "", nm);

		if (n < 0 || (size_t)n >= sz - len)
			return -ENOSPC;
		len += (size_t)n;
	}
	if (mask & CGC_NAMED) {
		int n = snprintf(buf + len, sz - len, "%sname", len ? "," : "");

		if (n < 0 || (size_t)n >= sz - len)
			return -ENOSPC;
		len += (size_t)n;
	}
	if (!len)
		snprintf(buf, sz, "-");
	return 0;
}

int cgfs_record_line(char *buf, size_t sz, bool v2, unsigned ctrls, const char *dir)
{
	char names[128];
	int rc, n;

	if (strchr(dir, '\n') || dir[0] != '/')
		return -EINVAL;
	if ((rc = cgfs_ctrl_names(ctrls, v2, names, sizeof(names))))
		return rc;
	n = snprintf(buf, sz, "%s %s %s\n", v2 ? "v2" : "v1", names, dir);
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : n;
}

/* Call fn on each line of path (NUL-terminated, without '\n'); lines longer than the buffer
 * are skipped. fn returns 0 to go on, > 0 to stop, < 0 for an error. */
static int each_line(const char *path, int (*fn)(char *line, void *arg), void *arg)
{
	char buf[4096];
	size_t have = 0;
	bool skipping = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *p = buf, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0) {
			if (have && !skipping) {
				buf[have] = '\0';
				rc = fn(buf, arg);
			}
			break;
		}
		have += (size_t)n;
		while ((nl = memchr(p, '\n', have - (size_t)(p - buf)))) {
			*nl = '\0';
			if (!skipping && (rc = fn(p, arg)))
				goto out;
			skipping = false;
			p = nl + 1;
		}
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		if (have == sizeof(buf) - 1) {
			skipping = true;
			have = 0;
		}
	}
out:
	close(fd);
	return rc > 0 ? 0 : rc;
}

/* One line of /proc/PID/cgroup. */
struct cgline {
	char ctrls[128];        /* "cpu,cpuacct", "name=systemd", "" (cgroup2) */
	char *path;             /* malloc'd */
};

struct cglines {
	struct cgline l[CG_MAX_HIER];
	size_t n;
	int err;
};

static int cgline_parse(char *line, void *arg)
{
	struct cglines *c = arg;
	char *a = strchr(line, ':'), *b;

	if (!a || !(b = strchr(a + 1, ':')) || c->n == CG_MAX_HIER)
		return 0;
	*b = '\0';
	if (strlen(a + 1) >= sizeof(c->l[0].ctrls) || b[1] != '/')
		return 0;
	strcpy(c->l[c->n].ctrls, a + 1);
	if (!(c->l[c->n].path = strdup(b + 1))) {
		c->err = -ENOMEM;
		return 1;
	}
	c->n++;
	return 0;
}

static void cglines_free(struct cglines *c)
{
	for (size_t i = 0; c && i < c->n; i++)
		free(c->l[i].path);
	free(c);
}

static int read_cglines(pid_t pid, struct cglines *c)
{
	char path[64];

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/cgroup");
	int rc = each_line(path, cgline_parse, c);

	return rc ? rc : c->err;
}

/* Undo mountinfo's octal escapes (\040 ...) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Whether every comma-separated token of want is a token of opts. */
static bool tokens_in(const char *want, const char *opts)
{
	const char *p = want;

	while (*p) {
		size_t len = strcspn(p, ","), olen;
		const char *o = opts;
		bool found = false;

		while (*o && !found) {
			olen = strcspn(o, ",");
			found = olen == len && !strncmp(o, p, len);
			o += olen;
			o += *o == ',';
		}
		if (!found)
			return false;
		p += len;
		p += *p == ',';
	}
	return true;
}

/* path relative to a mount of root, or NULL when the mount does not show it. */
static const char *below_root(const char *path, const char *root)
{
	size_t rl = strlen(root);

	if (!strcmp(root, "/"))
		return path;
	if (!strncmp(path, root, rl) && path[rl] == '\0')
		return "/";
	if (!strncmp(path, root, rl) && path[rl] == '/')
		return path + rl;
	return NULL;
}

struct mi_ctx {
	struct cglines *task, *self;
	struct cg_hier *h;      /* one per task line */
	int err;
};

static int mi_line(char *line, void *arg)
{
	struct mi_ctx *m = arg;
	char *f[6], *sep, *fstype, *super, *save = NULL;
	int i;

	for (i = 0; i < 6; i++)
		if (!(f[i] = strtok_r(i ? NULL : line, " ", &save)))
			return 0;
	while ((sep = strtok_r(NULL, " ", &save)) && strcmp(sep, "-"))
		;
	if (!sep || !(fstype = strtok_r(NULL, " ", &save)) || !strtok_r(NULL, " ", &save) ||
	    !(super = strtok_r(NULL, " ", &save)))
		return 0;
	if (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2"))
		return 0;
	unescape(f[3]);
	unescape(f[4]);
	for (size_t k = 0; k < m->task->n; k++) {
		const struct cgline *t = &m->task->l[k];
		struct cg_hier *h = &m->h[k];
		const char *rel, *own = NULL;
		bool v2 = t->ctrls[0] == '\0';

		if (h->mnt || v2 != !strcmp(fstype, "cgroup2") || (!v2 && !tokens_in(t->ctrls, super)))
			continue;
		if (!(rel = below_root(t->path, f[3])))
			continue;
		for (size_t s = 0; s < m->self->n; s++)
			if (!strcmp(m->self->l[s].ctrls, t->ctrls))
				own = below_root(m->self->l[s].path, f[3]);
		h->v2 = v2;
		h->ctrls = v2 ? 0 : cgfs_ctrl_mask(t->ctrls);
		h->mnt = strdup(f[4]);
		h->path = strdup(rel);
		h->own = own ? strdup(own) : NULL;
		if (!h->mnt || !h->path || (own && !h->own)) {
			m->err = -ENOMEM;
			return 1;
		}
	}
	return 0;
}

static void v2_controllers(struct cg_hier *h)
{
	char buf[512];
	int fd = open(h->mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (cgfs_read(fd, "cgroup.controllers", buf, sizeof(buf)) >= 0)
		h->ctrls = cgfs_ctrl_mask(buf);
	close(fd);
}

int cgfs_list(pid_t pid, struct cg_hier **out, size_t *n)
{
	struct cglines *self = calloc(1, sizeof(*self));
	struct cglines *task = pid ? calloc(1, sizeof(*task)) : NULL;
	struct cg_hier *h = calloc(CG_MAX_HIER, sizeof(*h));
	struct mi_ctx m = { 0 };
	size_t k = 0;
	int rc = (!self || (pid && !task) || !h) ? -ENOMEM : 0;

	*out = NULL;
	*n = 0;
	if (!rc)
		rc = read_cglines(0, self);
	if (!rc && pid)
		rc = read_cglines(pid, task);
	m.self = self;
	m.task = pid ? task : self;
	m.h = h;
	if (!rc)
		rc = each_line("/proc/self/mountinfo", mi_line, &m);
	if (!rc)
		rc = m.err;
	/* Keep the mounted ones, v1 first. */
	for (int pass = 0; !rc && pass < 2; pass++)
		for (size_t i = 0; i < m.task->n; i++) {
			if (!h[i].mnt || h[i].v2 != (pass == 1))
				continue;
			if (h[i].v2)
				v2_controllers(&h[i]);
			if (k != i) {
				struct cg_hier t = h[k];

				h[k] = h[i];
				h[i] = t;
			}
			k++;
		}
	cglines_free(self);
	cglines_free(task);
	if (rc) {
		cgfs_free(h, CG_MAX_HIER);
		return rc;
	}
	for (size_t i = k; i < CG_MAX_HIER; i++) {
		free(h[i].mnt);
		free(h[i].path);
		free(h[i].own);
	}
	*out = h;
	*n = k;
	return 0;
}

void cgfs_free(struct cg_hier *h, size_t n)
{
	if (!h)
		return;
	for (size_t i = 0; i < n; i++) {
		free(h[i].mnt);
		free(h[i].path);
		free(h[i].own);
	}
	free(h);
}

bool cgfs_is_own(const struct cg_hier *h)
{
	if (!h->v2 && !(h->ctrls & ~CGC_NAMED))
		return false;
	if (h->path[strspn(h->path, "/")] == '\0')
		return false;
	return !h->own || strcmp(h->own, h->path) != 0;
}

int cgfs_fs_kind(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return -errno;
	if (sf.f_type == CGROUP_SUPER_MAGIC)
		return 1;
	if (sf.f_type == CGROUP2_SUPER_MAGIC)
		return 2;
	return 0;
}

static int walk(int base, const char *dir, bool mkdir, cgfs_each_fn *each, void *arg,
		int *created);

/* Remove the last count components of dir (below base), deepest first. */
static int rmdir_tail(int base, const char *dir, int count)
{
	char buf[PATH_MAX];
	int rc = 0;

	if (strlen(dir) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, dir);
	for (int i = 0; i < count && !rc; i++) {
		size_t l = strlen(buf);
		char *slash;
		int pfd;

		while (l > 1 && buf[l - 1] == '/')
			buf[--l] = '\0';
		slash = strrchr(buf, '/');
		if (!slash || !slash[1])
			return -EINVAL;
		*slash = '\0';
		pfd = walk(base, buf, false, NULL, NULL, NULL);
		if (pfd < 0)
			return pfd;
		if (unlinkat(pfd, slash + 1, AT_REMOVEDIR) < 0 && errno != ENOENT)
			rc = -errno;
		close(pfd);
	}
	return rc;
}

/* Walk dir below the O_PATH directory fd base (kept open), one component at a time. On a
 * failure the directories made on the way are removed again. */
static int walk(int base, const char *dir, bool mkdir, cgfs_each_fn *each, void *arg,
		int *created)
{
	char buf[PATH_MAX], *save = NULL, *comp;
	int cur, rc = 0, fresh_n = 0;

	if (created)
		*created = 0;
	if (strlen(dir) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (const char *p = dir; *p; p += strcspn(p, "/"), p += *p == '/') {
		size_t len = strcspn(p, "/");

		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
	}
	cur = fcntl(base, F_DUPFD_CLOEXEC, 0);
	if (cur < 0)
		return -errno;
	strcpy(buf, dir);
	for (comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		bool fresh = false;
		int next;

		next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && mkdir) {
			if (mkdirat(cur, comp, 0755) == 0)
				fresh = true;
			else if (errno != EEXIST) {
				rc = -errno;
				break;
			}
			next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			rc = -errno;
			if (fresh)
				unlinkat(cur, comp, AT_REMOVEDIR);
			break;
		}
		fresh_n += fresh;
		rc = each ? each(cur, next, fresh, arg) : 0;
		close(cur);
		cur = next;
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		close(cur);
		if (fresh_n) {
			size_t end = (size_t)(comp ? comp - buf + (ptrdiff_t)strlen(comp) : (ptrdiff_t)strlen(dir));

			strcpy(buf, dir);
			buf[end] = '\0';
			rmdir_tail(base, buf, fresh_n);
		}
		return rc;
	}
	if (created)
		*created = fresh_n;
	return cur;
}

int cgfs_open_dir(const char *mnt, const char *dir, bool mkdir, cgfs_each_fn *each, void *arg,
		  int *created)
{
	int base = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC), kind, fd;

	if (created)
		*created = 0;
	if (base < 0)
		return -errno;
	kind = cgfs_fs_kind(base);
	fd = kind <= 0 ? (kind < 0 ? kind : -ENOTDIR) : walk(base, dir, mkdir, each, arg, created);
	close(base);
	return fd;
}

int cgfs_rmdir_tail(const char *mnt, const char *dir, int count)
{
	int base = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC), rc;

	if (base < 0)
		return -errno;
	rc = rmdir_tail(base, dir, count);
	close(base);
	return rc;
}

int cgfs_rmdir_tail_at(int base, const char *dir, int count)
{
	return rmdir_tail(base, dir, count);
}

int cgfs_open_abs(const char *path)
{
	int base, fd, kind;

	if (path[0] != '/')
		return -EINVAL;
	base = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (base < 0)
		return -errno;
	fd = walk(base, path, false, NULL, NULL, NULL);
	close(base);
	if (fd < 0)
		return fd;
	kind = cgfs_fs_kind(fd);
	if (kind <= 0) {
		close(fd);
		return kind < 0 ? kind : -ENOTDIR;
	}
	return fd;
}

int cgfs_write(int dfd, const char *file, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd = openat(dfd, file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	do
		n = write(fd, val, len);
	while (n < 0 && errno == EINTR);
	rc = n < 0 ? -errno : ((size_t)n != len ? -EIO : 0);
	close(fd);
	return rc;
}

ssize_t cgfs_read(int dfd, const char *file, char *buf, size_t sz)
{
	size_t have = 0;
	int fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = 0;

	if (sz == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (have == sz - 1) {
			char c;

			do
				n = read(fd, &c, 1);
			while (n < 0 && errno == EINTR);
			rc = n > 0 ? -EFBIG : (n < 0 ? -errno : 0);
			break;
		}
		n = read(fd, buf + have, sz - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	return rc ? rc : (ssize_t)have;
}

int cgfs_parse_u64(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!strncmp(p, "max", 3)) {
		*v = UINT64_MAX;
		*s = p + 3;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -ERANGE;
		x = x * 10 + d;
	}
	*v = x;
	*s = p;
	return 0;
}

int cgfs_read_u64(int dfd, const char *file, uint64_t *v)
{
	char buf[64];
	const char *p = buf;
	ssize_t n = cgfs_read(dfd, file, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	if (*p == '-')          /* "-1": v1's unlimited in some files */
		return (*v = UINT64_MAX), 0;
	return cgfs_parse_u64(&p, v);
}

int cgfs_kv(const char *buf, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ' ') {
			const char *q = p + kl;

			return cgfs_parse_u64(&q, v);
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}
