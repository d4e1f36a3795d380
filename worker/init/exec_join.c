/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/exec_join.c: an exec process joins its task: the task's cgroups (through the
 * host's cgroup mounts, before the mount namespace changes), then the task's namespaces in
 * one setns on a pidfd, then a fork when the pid namespace changed. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "init.pb.h"
#include "worker/init/init.h"

#define CG_FILE_MAX   16384     /* /proc/PID/cgroup: one line per hierarchy */
#define CG_MOUNTS_MAX 32

/* Namespace types an exec joins when the task's differs from ours (runc's order). */
static const struct { int flag; const char *name; } ns_files[] = {
	{ CLONE_NEWUSER, "user" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" },
	{ CLONE_NEWNET, "net" }, { CLONE_NEWPID, "pid" }, { CLONE_NEWCGROUP, "cgroup" },
	{ CLONE_NEWNS, "mnt" },
};

struct cg_mount {
	char *dir;                      /* mount point (host) */
	char *root;                     /* the hierarchy's path mounted there */
	char *opts;                     /* super options: "rw,cpu,cpuacct", "rw,name=systemd" */
	int v2;
};

struct cg_mounts {
	struct cg_mount m[CG_MOUNTS_MAX];
	size_t n;
	int loaded;                     /* mountinfo read (only when a hierarchy differs) */
};

static int read_file_at(int dfd, const char *path, char *buf, size_t sz)
{
	int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len < sz - 1 && (n = read(fd, buf + len, sz - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;

			close(fd);
			return rc;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return len == sz - 1 ? -EFBIG : 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo: undo it in place. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++, d++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 3;
		} else {
			*d = *s;
		}
	}
	*d = '\0';
}

/* One mountinfo line: "id parent maj:min root dir opts [optional...] - fstype src super". */
static int add_mount(struct cg_mounts *cm, char *line)
{
	char *f[6] = { NULL }, *sep, *save = NULL, *fstype, *super;
	struct cg_mount *m;
	int i;

	sep = strstr(line, " - ");
	if (!sep)
		return 0;
	*sep = '\0';
	f[0] = strtok_r(line, " ", &save);
	for (i = 1; i < 6 && f[i - 1]; i++)
		f[i] = strtok_r(NULL, " ", &save);
	if (!f[4])
		return 0;
	save = NULL;
	fstype = strtok_r(sep + 3, " ", &save);
	if (!fstype || (strcmp(fstype, "cgroup") && strcmp(fstype, "cgroup2")))
		return 0;
	(void)strtok_r(NULL, " ", &save);       /* source */
	super = strtok_r(NULL, " \n", &save);
	if (cm->n == CG_MOUNTS_MAX)
		return 0;
	m = &cm->m[cm->n];
	m->v2 = !strcmp(fstype, "cgroup2");
	m->root = strdup(f[3]);
	m->dir = strdup(f[4]);
	m->opts = strdup(super ? super : "");
	if (!m->root || !m->dir || !m->opts) {
		free(m->root);
		free(m->dir);
		free(m->opts);
		return -ENOMEM;
	}
	unescape(m->root);
	unescape(m->dir);
	cm->n++;
	return 0;
}

static void free_mounts(struct cg_mounts *cm)
{
	for (size_t i = 0; i < cm->n; i++) {
		free(cm->m[i].dir);
		free(cm->m[i].root);
		free(cm->m[i].opts);
	}
	cm->n = 0;
}

static int load_mounts(struct cg_mounts *cm)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!f)
		return -errno;
	while (!rc && getline(&line, &cap, f) > 0)
		rc = add_mount(cm, line);
	free(line);
	fclose(f);
	return rc;
}

/* Whether every controller in ctrls ("cpu,cpuacct", "name=systemd") is an option of m. */
static int mount_has(const struct cg_mount *m, const char *ctrls)
{
	const char *c = ctrls;

	while (*c) {
		size_t l = strcspn(c, ",");
		const char *o = m->opts;
		int found = 0;

		while (*o && !found) {
			size_t ol = strcspn(o, ",");

			found = ol == l && !strncmp(o, c, l);
			o += ol + (o[ol] == ',');
		}
		if (!found)
			return 0;
		c += l + (c[l] == ',');
	}
	return 1;
}

/* Write our pid into <mount>/<path below its root>/cgroup.procs, resolved beneath the
 * mount without symlinks. */
static int join_one(const struct cg_mount *m, const char *path)
{
	struct open_how how = {
		.flags = O_WRONLY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	const char *rel = path + (strcmp(m->root, "/") ? strlen(m->root) : 0);
	char file[4096], pid[16];
	int dfd, fd, l, rc = 0;

	rel += strspn(rel, "/");
	if ((size_t)snprintf(file, sizeof(file), "%s%scgroup.procs", rel, *rel ? "/" : "") >=
	    sizeof(file))
		return -ENAMETOOLONG;
	dfd = open(m->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, dfd, file, &how, sizeof(how));
	if (fd < 0)
		rc = -errno;
	close(dfd);
	if (rc)
		return rc;
	l = snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (write(fd, pid, (size_t)l) != l)
		rc = -errno;
	close(fd);
	return rc;
}

/* The path of our own line for hierarchy prefix "id:ctrls:" in self (/proc/self/cgroup's
 * text), its length in *len; NULL when we have no such line. */
static const char *own_path(const char *self, const char *prefix, size_t plen, size_t *len)
{
	for (const char *l = self; *l;) {
		size_t ll = strcspn(l, "\n");

		if (ll >= plen && !strncmp(l, prefix, plen)) {
			*len = ll - plen;
			return l + plen;
		}
		l += ll + (l[ll] == '\n');
	}
	return NULL;
}

/* One "id:ctrls:path" line of the task's. A hierarchy none of our mounts shows is left. */
static int join_hierarchy(struct init *in, struct cg_mounts *cm, const char *self, char *line)
{
	char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *ctrls, *path;
	const char *own;
	size_t ownlen = 0;
	int v2, seen = 0, rc;

	if (!c2 || c2[1] != '/')
		return 0;
	path = c2 + 1;
	own = own_path(self, line, (size_t)(path - line), &ownlen);
	if (!strcmp(path, "/") || (own && ownlen == strlen(path) && !strncmp(own, path, ownlen)))
		return 0;
	*c2 = '\0';
	ctrls = c1 + 1;
	v2 = !*ctrls;
	if (!cm->loaded) {
		cm->loaded = 1;
		if ((rc = load_mounts(cm)))
			return init_fail(&in->err, rc, "cgroup: /proc/self/mountinfo");
	}
	for (size_t i = 0; i < cm->n; i++) {
		const struct cg_mount *m = &cm->m[i];
		size_t rl = strlen(m->root);

		if (m->v2 != v2 || (!v2 && !mount_has(m, ctrls)))
			continue;
		seen = 1;
		if (strcmp(m->root, "/") &&
		    (strncmp(path, m->root, rl) || (path[rl] && path[rl] != '/')))
			continue;       /* this mount shows another part of the hierarchy */
		if ((rc = join_one(m, path)))
			return init_fail(&in->err, rc, "cgroup %s: join %s", v2 ? "v2" : ctrls,
					 path);
		return 0;
	}
	if (seen)
		return init_failmsg(&in->err, -ENOENT, "cgroup %s: no mount shows %s",
				    v2 ? "v2" : ctrls, path);
	return 0;
}

static int join_cgroups(struct init *in, int procfd)
{
	struct cg_mounts cm = { .n = 0, .loaded = 0 };
	char *task = malloc(CG_FILE_MAX), *self = malloc(CG_FILE_MAX), *line, *save = NULL;
	int rc;

	if (!task || !self) {
		rc = init_fail(&in->err, -ENOMEM, "cgroup");
		goto out;
	}
	if ((rc = read_file_at(procfd, "cgroup", task, CG_FILE_MAX)))
		rc = init_fail(&in->err, rc, "cgroup: the task's /proc/PID/cgroup");
	else if ((rc = read_file_at(AT_FDCWD, "/proc/self/cgroup", self, CG_FILE_MAX)))
		rc = init_fail(&in->err, rc, "cgroup: /proc/self/cgroup");
	for (line = rc ? NULL : strtok_r(task, "\n", &save); line && !rc;
	     line = strtok_r(NULL, "\n", &save))
		rc = join_hierarchy(in, &cm, self, line);
out:
	free_mounts(&cm);
	free(task);
	free(self);
	return rc;
}

/* CLONE_NEW* of every namespace of the task's that is not ours. */
static int ns_differing(struct init *in, int procfd, int *flags)
{
	*flags = 0;
	for (size_t i = 0; i < sizeof(ns_files) / sizeof(ns_files[0]); i++) {
		struct stat theirs, ours;
		char p[32];

		snprintf(p, sizeof(p), "ns/%s", ns_files[i].name);
		if (fstatat(procfd, p, &theirs, 0) < 0) {
			if (errno == ENOENT && ns_files[i].flag == CLONE_NEWCGROUP)
				continue;       /* a kernel without cgroup namespaces */
			return init_fail(&in->err, -errno, "the task's /proc/PID/%s", p);
		}
		snprintf(p, sizeof(p), "/proc/self/ns/%s", ns_files[i].name);
		if (stat(p, &ours) < 0)
			return init_fail(&in->err, -errno, "%s", p);
		if (theirs.st_ino != ours.st_ino || theirs.st_dev != ours.st_dev)
			*flags |= ns_files[i].flag;
	}
	return 0;
}

int exec_join(struct init *in, pid_t pid)
{
	char path[32];
	int pidfd, procfd, flags = 0, rc;

	/* Nothing in the container may ptrace us (and reach the worker's fds) while we join. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return init_fail(&in->err, -errno, "prctl dumpable");
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return init_fail(&in->err, -errno, "task %d", (int)pid);
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* Alive now, so the /proc directory opened before is the pidfd's process. */
	if (procfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
		rc = init_fail(&in->err, -errno, "task %d", (int)pid);
		goto out;
	}
	if ((rc = join_cgroups(in, procfd)) || (rc = ns_differing(in, procfd, &flags)))
		goto out;
	if (flags && setns(pidfd, flags) < 0)
		rc = init_fail(&in->err, -errno, "setns to task %d", (int)pid);
out:
	if (procfd >= 0)
		close(procfd);
	close(pidfd);
	if (rc)
		return rc;
	if (flags & CLONE_NEWPID)
		return ns_fork_report(in);
	rc = sync_send(in->sync_fd, sv_InitSyncType_INIT_PID, (unsigned)getpid(), 0, NULL);
	return rc ? init_fail(&in->err, rc, "sync: send pid") : 0;
}
