/* SPDX-License-Identifier: Apache-2.0 */
/* worker/cgroup.c: find a task's own cgroups, record them in the bundle, list, remove; the
 * freezer, metrics and OOM calls go to cgroup_v1.c or cgroup_v2.c. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "common/fsutil.h"
#include "common/kernel.h"
#include "worker/cgroup_backend.h"
#include "wire/limits.h"

#define WCG_FILE_MAX (64u << 10)

void wcg_nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

const struct wcg_dir *wcg_v1(const struct wcgroup *cg, unsigned ctrl)
{
	for (size_t i = 0; i < cg->n; i++)
		if (!cg->d[i].v2 && (cg->d[i].ctrls & ctrl))
			return &cg->d[i];
	return NULL;
}

const struct wcg_dir *wcg_v2(const struct wcgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->d[i].v2)
			return &cg->d[i];
	return NULL;
}

static struct wcgroup *wcg_new(void)
{
	struct wcgroup *cg = calloc(1, sizeof(*cg));

	if (cg)
		cg->oom_fd = -1;
	return cg;
}

void wcg_free(struct wcgroup *cg)
{
	if (!cg)
		return;
	for (size_t i = 0; i < cg->n; i++) {
		close(cg->d[i].fd);
		free(cg->d[i].path);
	}
	if (cg->oom_fd >= 0)
		close(cg->oom_fd);
	free(cg);
}

static int add_dir(struct wcgroup *cg, int fd, bool v2, unsigned ctrls, const char *mnt,
		   const char *rel)
{
	struct wcg_dir *d = &cg->d[cg->n];
	size_t ml = strlen(mnt);

	if (cg->n == CG_MAX_HIER)
		return -E2BIG;
	d->path = malloc(ml + strlen(rel) + 2);
	if (!d->path)
		return -ENOMEM;
	/* mnt + rel, without a doubled or trailing slash ("/" is the mount itself) */
	memcpy(d->path, mnt, ml + 1);
	if (strcmp(rel, "/"))
		strcpy(d->path + ml - (ml > 1 && mnt[ml - 1] == '/'), rel);
	d->fd = fd;
	d->v2 = v2;
	d->ctrls = ctrls;
	cg->n++;
	return 0;
}

/* The end of an open: the wcgroup when it holds a directory and rc is 0, else NULL with
 * *err set (-ENOENT for none). */
static struct wcgroup *opened(struct wcgroup *cg, int rc, int *err)
{
	if (!rc && cg->n == 0)
		rc = -ENOENT;
	if (rc) {
		wcg_free(cg);
		*err = rc;
		return NULL;
	}
	return cg;
}

/* Whether pid's /proc/PID/cgroup reads exactly like ours: then it has no cgroup of its own
 * and the mount table need not be read (~0.1 ms on every task start that has none). */
static bool same_cgroups(pid_t pid)
{
	char path[32], mine[1024], theirs[1024];     /* larger: the full look-up */
	ssize_t a, b;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	a = cgfs_read(AT_FDCWD, "/proc/self/cgroup", mine, sizeof(mine));
	strncat(path, "/cgroup", sizeof(path) - strlen(path) - 1);
	b = cgfs_read(AT_FDCWD, path, theirs, sizeof(theirs));
	return a > 0 && a == b && memcmp(mine, theirs, (size_t)a) == 0;
}

struct wcgroup *wcg_open(pid_t pid, int *err)
{
	struct wcgroup *cg;
	struct cg_hier *h = NULL;
	size_t nh = 0;
	int rc;

	if (same_cgroups(pid)) {
		*err = -ENOENT;
		return NULL;
	}
	cg = wcg_new();
	rc = cg ? cgfs_list(pid, &h, &nh) : -ENOMEM;

	for (size_t i = 0; !rc && i < nh; i++) {
		int fd;

		/* where the task is where we are (or at the root), it has no cgroup of its own */
		if (!cgfs_is_own(&h[i]))
			continue;
		fd = cgfs_open_dir(h[i].mnt, h[i].path, false, NULL, NULL, NULL);
		if (fd < 0)
			rc = fd;
		else if ((rc = add_dir(cg, fd, h[i].v2, h[i].ctrls, h[i].mnt, h[i].path)))
			close(fd);
	}
	cgfs_free(h, nh);
	return opened(cg, rc, err);
}

/* One line per directory: "v1|v2 <controllers> <absolute path>\n". */
int wcg_save(const struct wcgroup *cg, int bundle_fd)
{
	size_t cap = 0, len = 0;
	char *buf;
	int rc = 0;

	for (size_t i = 0; i < cg->n; i++)
		cap += strlen(cg->d[i].path) + 160;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < cg->n && !rc; i++) {
		int n = cgfs_record_line(buf + len, cap + 1 - len, cg->d[i].v2, cg->d[i].ctrls,
					 cg->d[i].path);

		if (n < 0)
			rc = n;
		else
			len += (size_t)n;
	}
	if (!rc)
		rc = sv_replace_file(bundle_fd, SV_BUNDLE_CGROUP, buf, len, 0644);
	free(buf);
	return rc;
}

/* Whether fd is the root of its mount (statx's STATX_ATTR_MOUNT_ROOT, Linux 5.8; else
 * its parent is on another mount (by mount id, else by device), or is itself). */
static bool mount_root(int fd)
{
	struct sv_fileid a, b;

	if (sv_fileid(fd, "", AT_EMPTY_PATH, &a) < 0)
		return true;
	if (a.mount_root >= 0)
		return a.mount_root;
	if (sv_fileid(fd, "..", AT_SYMLINK_NOFOLLOW, &b) < 0)
		return true;
	if (a.mnt && b.mnt)
		return a.mnt != b.mnt || a.ino == b.ino;
	return a.dev != b.dev || a.ino == b.ino;
}

struct wcgroup *wcg_load(int bundle_fd, int *err)
{
	struct wcgroup *cg = wcg_new();
	char *text = NULL, *line, *save = NULL;
	int rc = cg ? sv_read_file(bundle_fd, SV_BUNDLE_CGROUP, WCG_FILE_MAX, &text, NULL) : -ENOMEM;

	for (line = rc ? NULL : strtok_r(text, "\n", &save); line && !rc;
	     line = strtok_r(NULL, "\n", &save)) {
		char *names = strchr(line, ' '), *path;
		bool v2;
		int fd, kind;

		if (!names || !(path = strchr(names + 1, ' ')) || path[1] != '/') {
			rc = -EBADMSG;
			break;
		}
		*names++ = '\0';
		*path++ = '\0';
		v2 = !strcmp(line, "v2");
		if (!v2 && strcmp(line, "v1")) {
			rc = -EBADMSG;
			break;
		}
		fd = cgfs_open_abs(path);
		if (fd == -ENOENT)
			continue;       /* already removed */
		if (fd < 0) {
			rc = fd;
			break;
		}
		kind = cgfs_fs_kind(fd);
		if (kind != (v2 ? 2 : 1))
			rc = kind < 0 ? kind : -EBADMSG;
		else if (mount_root(fd))
			rc = -EBADMSG;  /* a task's cgroup is never a hierarchy's root: its
					 * processes are the host's, not the task's */
		else
			rc = add_dir(cg, fd, v2, cgfs_ctrl_mask(names), path, "/");
		if (rc)
			close(fd);
	}
	free(text);
	return opened(cg, rc, err);
}

int wcg_freeze(struct wcgroup *cg, bool frozen, int timeout_ms)
{
	const struct wcg_dir *d = wcg_v1(cg, CGC_FREEZER);

	if (d)
		return wcg1_freeze(d, frozen, timeout_ms);
	if ((d = wcg_v2(cg)))
		return wcg2_freeze(d, frozen, timeout_ms);
	return -EOPNOTSUPP;
}

static int push_pid(pid_t **out, size_t *cnt, size_t *cap, long v)
{
	if (*cnt == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		pid_t *np = realloc(*out, ncap * sizeof(**out));

		if (!np)
			return -ENOMEM;
		*out = np;
		*cap = ncap;
	}
	(*out)[(*cnt)++] = (pid_t)v;
	return 0;
}

/* The pids in cgroup.procs of d: read in chunks, a number may straddle two. */
static int read_procs(const struct wcg_dir *d, pid_t **pids, size_t *n)
{
	char buf[1024];
	size_t cnt = 0, cap = 0;
	pid_t *out = NULL;
	long cur = -1;
	int fd = openat(d->fd, "cgroup.procs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	while (!rc) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : (cur >= 0 ? push_pid(&out, &cnt, &cap, cur) : 0);
			break;
		}
		for (ssize_t i = 0; i < r && !rc; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				cur = (cur < 0 ? 0 : cur * 10) + (buf[i] - '0');
				if (cur > INT_MAX)
					rc = -EBADMSG;
			} else if (cur >= 0) {
				rc = push_pid(&out, &cnt, &cap, cur);
				cur = -1;
			}
		}
	}
	close(fd);
	if (rc) {
		free(out);
		return rc;
	}
	*pids = out;
	*n = cnt;
	return 0;
}

int wcg_procs(const struct wcgroup *cg, pid_t **pids, size_t *n)
{
	static const unsigned pref[] = { CGC_PIDS, CGC_FREEZER, CGC_MEMORY, CGC_CPU, ~CGC_NAMED };
	const struct wcg_dir *d = NULL;

	*pids = NULL;
	*n = 0;
	for (size_t i = 0; !d && i < sizeof(pref) / sizeof(pref[0]); i++)
		d = wcg_v1(cg, pref[i]);
	if (!d)
		d = wcg_v2(cg);
	if (!d)
		return -ENOENT;
	return read_procs(d, pids, n);
}

int wcg_signal_all(const struct wcgroup *cg, int sig)
{
	pid_t *pids = NULL, self = getpid();
	size_t n = 0;
	int rc = wcg_procs(cg, &pids, &n);

	for (size_t i = 0; !rc && i < n; i++)
		if (pids[i] != self)
			kill(pids[i], sig);
	free(pids);
	return rc;
}

int wcg_metrics(const struct wcgroup *cg, const char **type_url, uint8_t **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	if (wcg_v1(cg, ~CGC_NAMED)) {
		*type_url = SV_CG1_METRICS_URL;
		return wcg1_metrics(cg, buf, len);
	}
	if (wcg_v2(cg)) {
		*type_url = SV_CG2_METRICS_URL;
		return wcg2_metrics(cg, buf, len);
	}
	return -ENOENT;
}

int wcg_oom_fd(struct wcgroup *cg)
{
	const struct wcg_dir *d;

	if (cg->oom_fd >= 0)
		return cg->oom_fd;
	if ((d = wcg_v1(cg, CGC_MEMORY)))
		return wcg1_oom_fd(cg, d);
	if ((d = wcg_v2(cg)))
		return wcg2_oom_fd(cg, d);
	return -ENOENT;
}

bool wcg_oom_read(struct wcgroup *cg)
{
	if (cg->oom_fd < 0 || !cg->oom_dir)
		return false;
	return cg->oom_dir->v2 ? wcg2_oom_read(cg) : wcg1_oom_read(cg);
}

size_t wcg_hugepage_sizes(char (*out)[16], size_t max)
{
	static const char unit[][3] = { "KB", "MB", "GB", "TB" };
	char buf[1024];
	size_t n = 0;
	long r;
	int fd = open("/sys/kernel/mm/hugepages", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while (n < max && (r = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < r && n < max;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			const char *p = de->d_name;
			uint64_t kb;
			int u = 0;

			off += de->d_reclen;
			if (strncmp(p, "hugepages-", 10))
				continue;
			p += 10;
			if (cgfs_parse_u64(&p, &kb) || strcmp(p, "kB") || !kb)
				continue;
			while (kb % 1024 == 0 && u < 3) {
				kb /= 1024;
				u++;
			}
			snprintf(out[n++], 16, "%llu%s", (unsigned long long)kb, unit[u]);
		}
	}
	close(fd);
	return n;
}

/* rmdir path (absolute): through its parent's fd. */
static int rmdir_abs(const char *path)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int pfd, rc = 0;

	if (!slash || slash == path || !slash[1] || (size_t)(slash - path) >= sizeof(parent))
		return -EINVAL;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	pfd = cgfs_open_abs(parent);
	if (pfd < 0)
		return pfd == -ENOENT ? 0 : pfd;
	if (unlinkat(pfd, slash + 1, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -errno;
	close(pfd);
	return rc;
}

int wcg_remove(struct wcgroup *cg, int timeout_ms)
{
	int64_t deadline = sv_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int first = 0, nap = 1;

	for (size_t i = 0; i < cg->n; i++) {
		int rc;

		/* a task just killed may still be leaving the cgroup */
		while ((rc = rmdir_abs(cg->d[i].path)) == -EBUSY && sv_now_ms() < deadline) {
			wcg_nap_ms(nap);
			nap = nap < 16 ? nap * 2 : 16;
		}
		if (rc && !first)
			first = rc;
	}
	return first;
}
