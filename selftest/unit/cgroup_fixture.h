/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/cgroup_fixture.h: test cgroups named "sv-test-<runner pid>-<tag>" in the
 * host's hierarchies, and their removal (processes killed first) from an unchecked fixture. */
#ifndef SV_CGROUP_FIXTURE_H
#define SV_CGROUP_FIXTURE_H
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "common/cgroupfs.h"

/* The name of a test cgroup; tests run forked, so the runner is the parent. */
static inline void cgfx_name(char *buf, size_t sz, const char *tag)
{
	snprintf(buf, sz, "sv-test-%d-%s", (int)getppid(), tag);
}

/* Mount point of the v1 hierarchy holding ctrl, or of cgroup2 (v2). 1 found, 0 not. */
static inline int cgfx_mnt(unsigned ctrl, bool v2, char *buf, size_t sz)
{
	struct cg_hier *h;
	size_t n;
	int found = 0;

	if (cgfs_list(0, &h, &n))
		return 0;
	for (size_t i = 0; i < n && !found; i++)
		if (v2 ? h[i].v2 : (!h[i].v2 && (h[i].ctrls & ctrl))) {
			snprintf(buf, sz, "%s", h[i].mnt);
			found = 1;
		}
	cgfs_free(h, n);
	return found;
}

/* The cgroup path of pid in the v1 hierarchy holding ctrl ("" if none). */
static inline void cgfx_proc_cgroup(pid_t pid, const char *ctrl, char *out, size_t sz)
{
	char p[64], line[1024];
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	f = fopen(p, "re");
	ck_assert_ptr_nonnull(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;

		if (!b)
			continue;
		*b = '\0';
		for (char *tok = strtok(a + 1, ","); tok; tok = strtok(NULL, ","))
			if (!strcmp(tok, ctrl)) {
				snprintf(out, sz, "%s", b + 1);
				out[strcspn(out, "\n")] = '\0';
			}
	}
	fclose(f);
}

/* Our own cgroup in the hierarchy of ctrl (v1), relative to its mount. */
static inline int cgfx_own(unsigned ctrl, char *buf, size_t sz)
{
	struct cg_hier *h;
	size_t n;
	int found = 0;

	if (cgfs_list(0, &h, &n))
		return 0;
	for (size_t i = 0; i < n && !found; i++)
		if (!h[i].v2 && (h[i].ctrls & ctrl)) {
			snprintf(buf, sz, "%s", h[i].own);
			found = 1;
		}
	cgfs_free(h, n);
	return found;
}

static inline int cgfx_path(unsigned ctrl, bool v2, const char *rel, char *buf, size_t sz)
{
	char mnt[512];

	if (!cgfx_mnt(ctrl, v2, mnt, sizeof(mnt)))
		return 0;
	snprintf(buf, sz, "%s/%s", mnt, rel[0] == '/' ? rel + 1 : rel);
	return 1;
}

/* The content of <hierarchy of ctrl>/rel/file, trailing newline cut; -errno. */
static inline int cgfx_read(unsigned ctrl, bool v2, const char *rel, const char *file,
			    char *buf, size_t sz)
{
	char p[1024];
	FILE *f;
	size_t n;

	if (!cgfx_path(ctrl, v2, rel, p, sizeof(p)))
		return -ENOENT;
	strncat(p, "/", sizeof(p) - strlen(p) - 1);
	strncat(p, file, sizeof(p) - strlen(p) - 1);
	if (!(f = fopen(p, "re")))
		return -errno;
	n = fread(buf, 1, sz - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static inline int cgfx_write(unsigned ctrl, bool v2, const char *rel, const char *file,
			     const char *val)
{
	char p[1024];
	int fd, rc = 0;

	if (!cgfx_path(ctrl, v2, rel, p, sizeof(p)))
		return -ENOENT;
	strncat(p, "/", sizeof(p) - strlen(p) - 1);
	strncat(p, file, sizeof(p) - strlen(p) - 1);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		rc = -errno;
	close(fd);
	return rc;
}

/* mkdir rel in the hierarchy of ctrl (a v1 cpuset gets its parent's cpus and mems). */
static inline int cgfx_mkdir(unsigned ctrl, bool v2, const char *rel)
{
	char p[1024], v[256];

	if (!cgfx_path(ctrl, v2, rel, p, sizeof(p)))
		return -ENOENT;
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (!v2 && (ctrl & CGC_CPUSET)) {
		if (cgfx_read(ctrl, false, "/", "cpuset.cpus", v, sizeof(v)) == 0)
			cgfx_write(ctrl, false, rel, "cpuset.cpus", v);
		if (cgfx_read(ctrl, false, "/", "cpuset.mems", v, sizeof(v)) == 0)
			cgfx_write(ctrl, false, rel, "cpuset.mems", v);
	}
	return 0;
}

static inline int cgfx_join(unsigned ctrl, bool v2, const char *rel, pid_t pid)
{
	char b[16];

	snprintf(b, sizeof(b), "%d", (int)pid);
	return cgfx_write(ctrl, v2, rel, "cgroup.procs", b);
}

/* Thaw and kill what is in dir, its children first, then rmdir it (retried 2 s). */
static inline void cgfx_remove_dir(const char *dir)
{
	char p[1200], b[4096];
	struct timespec nap = { 0, 5000000 };
	DIR *d = opendir(dir);
	struct dirent *de;
	FILE *f;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			cgfx_remove_dir(p);
		}
	closedir(d);
	snprintf(p, sizeof(p), "%s/freezer.state", dir);
	if ((f = fopen(p, "we"))) {
		fputs("THAWED", f);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/cgroup.freeze", dir);
	if ((f = fopen(p, "we"))) {
		fputs("0", f);
		fclose(f);
	}
	for (int i = 0; i < 400; i++) {
		snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
		if ((f = fopen(p, "re"))) {
			while (fgets(b, sizeof(b), f))
				kill(atoi(b), SIGKILL);
			fclose(f);
		}
		if (rmdir(dir) == 0 || errno == ENOENT)
			return;
		nanosleep(&nap, NULL);
	}
}

/* Remove every sv-test-<runner>-* directory at the top of each hierarchy and below our own
 * cgroup there. Run in the runner (unchecked teardown): its pid is the runner's. */
static inline void cgfx_cleanup(void)
{
	struct cg_hier *h;
	char prefix[64], base[1024], p[1200];
	size_t n;

	snprintf(prefix, sizeof(prefix), "sv-test-%d-", (int)getpid());
	if (cgfs_list(0, &h, &n))
		return;
	for (size_t i = 0; i < n; i++)
		for (int pass = 0; pass < 2; pass++) {
			DIR *d;
			struct dirent *de;

			if (pass == 1 && (!h[i].own || !strcmp(h[i].own, "/")))
				continue;
			snprintf(base, sizeof(base), "%s%s", h[i].mnt, pass ? h[i].own : "");
			if (!(d = opendir(base)))
				continue;
			while ((de = readdir(d)))
				if (!strncmp(de->d_name, prefix, strlen(prefix))) {
					snprintf(p, sizeof(p), "%s/%s", base, de->d_name);
					cgfx_remove_dir(p);
				}
			closedir(d);
		}
	cgfs_free(h, n);
}

/* Whether path exists. */
static inline bool cgfx_exists(unsigned ctrl, bool v2, const char *rel)
{
	char p[1024];

	return cgfx_path(ctrl, v2, rel, p, sizeof(p)) && access(p, F_OK) == 0;
}

#endif
