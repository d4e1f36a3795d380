/* SPDX-License-Identifier: Apache-2.0 */
/* common/procfs.c: a task's processes from /proc: by pid namespace or as a subtree, and what
 * /proc/PID/stat says of each. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "common/procfs.h"

int sv_proc_stat_parse(const char *text, struct sv_proc_stat *st)
{
	/* fields after the comm, from field 3 on: state ppid ... utime(14) stime cutime cstime
	 * ... starttime(22) vsize rss(24) */
	const char *p = strrchr(text, ')');
	unsigned long long v[24];
	char state;
	int n;

	if (!p || p[1] != ' ')
		return -EBADMSG;
	p += 2;
	state = *p++;
	n = 0;
	while (n < 22 && *p == ' ') {
		char *end;

		v[n] = strtoull(p + 1, &end, 10);
		if (end == p + 1)
			return -EBADMSG;
		p = end;
		n++;
	}
	if (n < 22)                 /* fields 4..25 */
		return -EBADMSG;
	memset(st, 0, sizeof(*st));
	st->state = state;
	st->ppid = (pid_t)v[0];     /* field 4 */
	st->utime = v[10];          /* 14 */
	st->stime = v[11];
	st->cutime = v[12];
	st->cstime = v[13];
	st->starttime = v[18];      /* 22 */
	st->rss_pages = v[20];      /* 24 */
	return 0;
}

int sv_proc_stat(pid_t pid, struct sv_proc_stat *st)
{
	char path[32], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ESRCH;
	buf[n] = '\0';
	return sv_proc_stat_parse(buf, st);
}

int sv_proc_pidns(pid_t pid, ino_t *ino)
{
	char path[32];
	struct stat st;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/pid");
	if (stat(path, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

static int push(pid_t **v, size_t *cnt, size_t *cap, pid_t pid)
{
	if (*cnt == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		pid_t *nv = realloc(*v, ncap * sizeof(**v));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*cnt)++] = pid;
	return 0;
}

/* each(pid, arg) for every numeric entry of /proc; stops at the first error. */
static int each_pid(int (*each)(pid_t, void *), void *arg)
{
	char buf[4096];
	int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	long r;

	if (fd < 0)
		return -errno;
	while (!rc && (r = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < r && !rc;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			char *end;
			long pid = strtol(d->d_name, &end, 10);

			off += d->d_reclen;
			if (!*end && pid > 0)
				rc = each((pid_t)pid, arg);
		}
	}
	close(fd);
	return rc;
}

struct gather {
	ino_t ns;
	pid_t *v;
	size_t cnt, cap;
	pid_t *ppid;                /* subtree: ppid of v[i] */
	size_t pcap;
};

static int in_ns(pid_t pid, void *arg)
{
	struct gather *g = arg;
	ino_t ino;

	if (sv_proc_pidns(pid, &ino) < 0 || ino != g->ns)
		return 0;
	return push(&g->v, &g->cnt, &g->cap, pid);
}

int sv_proc_scan_ns(ino_t ns, pid_t **pids, size_t *n)
{
	struct gather g = { .ns = ns };
	int rc = each_pid(in_ns, &g);

	if (rc) {
		free(g.v);
		return rc;
	}
	*pids = g.v;
	*n = g.cnt;
	return 0;
}

static int with_ppid(pid_t pid, void *arg)
{
	struct gather *g = arg;
	struct sv_proc_stat st;
	size_t pcnt = g->cnt;

	if (sv_proc_stat(pid, &st) < 0)
		return 0;               /* gone meanwhile */
	if (push(&g->v, &g->cnt, &g->cap, pid))
		return -ENOMEM;
	return push(&g->ppid, &pcnt, &g->pcap, st.ppid);
}

static bool listed(const pid_t *v, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

int sv_proc_subtree(const pid_t *roots, size_t nroots, pid_t **pids, size_t *n)
{
	struct gather g = { 0 };
	pid_t *out = NULL;
	size_t cnt = 0, cap = 0;
	int rc = each_pid(with_ppid, &g);

	for (size_t i = 0; !rc && i < nroots; i++)
		if (roots[i] > 0 && listed(g.v, g.cnt, roots[i]) && !listed(out, cnt, roots[i]))
			rc = push(&out, &cnt, &cap, roots[i]);
	/* breadth first: each process found adds its children */
	for (size_t k = 0; !rc && k < cnt; k++)
		for (size_t i = 0; !rc && i < g.cnt; i++)
			if (g.ppid[i] == out[k] && !listed(out, cnt, g.v[i]))
				rc = push(&out, &cnt, &cap, g.v[i]);
	free(g.v);
	free(g.ppid);
	if (rc) {
		free(out);
		return rc;
	}
	*pids = out;
	*n = cnt;
	return 0;
}

int sv_oom_score_adj_set(pid_t pid, int v)
{
	char b[40];
	int fd, l, r = 0;

	if (pid)
		snprintf(b, sizeof(b), "/proc/%d/oom_score_adj", (int)pid);
	else
		snprintf(b, sizeof(b), "/proc/self/oom_score_adj");
	fd = open(b, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	l = snprintf(b, sizeof(b), "%d", v);
	if (write(fd, b, (size_t)l) != l)
		r = -errno;
	close(fd);
	return r;
}
