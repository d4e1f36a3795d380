/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_worker_cgroup.c: the worker's cgroup module (worker/cgroup.h) against real
 * cgroups holding a real process: open, procs, freeze, metrics, OOM, save/load, remove. */
#include <check.h>
#include "tap_main.h"
#include "cgroup_fixture.h"
#include "worker_fixture.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "common/fsutil.h"
#include "metrics.pb.h"
#include "wire/pbio.h"
#include "worker/cgroup.h"
#include "worker/cgroup_backend.h"

/* A child that, once told, touches mib MiB, says so, and waits to be killed. */
struct kid {
	pid_t pid;
	int go;                 /* write a byte: start */
	int ready;              /* reads a byte once it touched its memory */
};

static void kid_start(struct kid *k, size_t mib)
{
	int go[2], ready[2];

	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	k->pid = fork();
	ck_assert_int_ge(k->pid, 0);
	if (k->pid == 0) {
		char b;

		close(go[1]);
		close(ready[0]);
		if (read(go[0], &b, 1) != 1)
			_exit(1);
		for (size_t i = 0; i < mib; i++) {
			char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED)
				_exit(2);
			memset(p, 0x5a, 1 << 20);
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(go[0]);
	close(ready[1]);
	k->go = go[1];
	k->ready = ready[0];
}

static void kid_go(struct kid *k, bool wait_ready)
{
	char b;

	ck_assert_int_eq(write(k->go, "g", 1), 1);
	if (wait_ready)
		ck_assert_int_eq(read(k->ready, &b, 1), 1);
}

static int kid_end(struct kid *k)
{
	int st;

	kill(k->pid, SIGKILL);
	while (waitpid(k->pid, &st, 0) < 0)
		ck_assert_int_eq(errno, EINTR);
	close(k->go);
	close(k->ready);
	return st;
}

static const unsigned v1_ctrls[] = { CGC_MEMORY, CGC_PIDS, CGC_FREEZER, CGC_CPU, CGC_CPUACCT,
				     CGC_BLKIO };
#define NV1 (sizeof(v1_ctrls) / sizeof(v1_ctrls[0]))

/* The test cgroup in each v1 hierarchy we use; false (SKIP printed) when one is missing. */
static bool make_v1(const char *name, unsigned need)
{
	char mnt[512];

	for (size_t i = 0; i < NV1; i++) {
		if (!cgfx_mnt(v1_ctrls[i], false, mnt, sizeof(mnt))) {
			if (need & v1_ctrls[i]) {
				printf("# SKIP no v1 hierarchy for controller mask %#x\n", v1_ctrls[i]);
				return false;
			}
			continue;
		}
		ck_assert_int_eq(cgfx_mkdir(v1_ctrls[i], false, name), 0);
	}
	return true;
}

static void join_v1(const char *name, pid_t pid)
{
	char mnt[512];

	for (size_t i = 0; i < NV1; i++)
		if (cgfx_mnt(v1_ctrls[i], false, mnt, sizeof(mnt)))
			ck_assert_int_eq(cgfx_join(v1_ctrls[i], false, name, pid), 0);
}

START_TEST(open_procs_freeze_remove)
{
	char name[64], st[64];
	struct wcgroup *cg;
	struct kid k;
	pid_t *pids = NULL;
	size_t n = 0;
	int err = 0;

	cgfx_name(name, sizeof(name), "w1");
	if (!make_v1(name, CGC_FREEZER | CGC_PIDS))
		return;
	kid_start(&k, 0);
	join_v1(name, k.pid);
	kid_go(&k, true);
	cg = wcg_open(k.pid, &err);
	ck_assert_msg(cg, "wcg_open: %s", strerror(-err));
	ck_assert_int_eq(wcg_procs(cg, &pids, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(pids[0], k.pid);
	free(pids);

	ck_assert_int_eq(wcg_freeze(cg, true, 5000), 0);
	ck_assert_int_eq(cgfx_read(CGC_FREEZER, false, name, "freezer.state", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "FROZEN");
	ck_assert_int_eq(wcg_freeze(cg, false, 5000), 0);
	ck_assert_int_eq(cgfx_read(CGC_FREEZER, false, name, "freezer.state", st, sizeof(st)), 0);
	ck_assert_str_eq(st, "THAWED");

	/* busy while the process is in: bounded by the timeout */
	ck_assert_int_eq(wcg_remove(cg, 30), -EBUSY);
	kid_end(&k);
	ck_assert_int_eq(wcg_remove(cg, 2000), 0);
	for (size_t i = 0; i < NV1; i++)
		ck_assert(!cgfx_exists(v1_ctrls[i], false, name));
	wcg_free(cg);
}
END_TEST

START_TEST(metrics_v1_decode)
{
	char name[64];
	const char *url = NULL;
	sv_Cg1Metrics m;
	struct wcgroup *cg;
	struct kid k;
	uint8_t *buf = NULL;
	size_t len = 0;
	int err = 0;

	cgfx_name(name, sizeof(name), "w2");
	if (!make_v1(name, CGC_MEMORY | CGC_PIDS | CGC_CPUACCT))
		return;
	ck_assert_int_eq(cgfx_write(CGC_PIDS, false, name, "pids.max", "100"), 0);
	kid_start(&k, 4);       /* charged to the test cgroup: it touches memory after joining */
	join_v1(name, k.pid);
	kid_go(&k, true);
	cg = wcg_open(k.pid, &err);
	ck_assert_msg(cg, "wcg_open: %s", strerror(-err));
	ck_assert_int_eq(wcg_metrics(cg, &url, &buf, &len), 0);
	ck_assert_str_eq(url, "io.containerd.cgroups.v1.Metrics");
	ck_assert_int_eq(sv_pb_decode(sv_Cg1Metrics_fields, &m, buf, len), 0);
	ck_assert(m.has_pids);
	ck_assert_uint_ge(m.pids.current, 1);
	ck_assert_uint_eq(m.pids.limit, 100);
	ck_assert(m.has_memory && m.memory.has_usage);
	ck_assert_uint_ge(m.memory.usage.usage, 4u << 20);
	ck_assert_uint_gt(m.memory.usage.limit, 0);
	ck_assert_uint_gt(m.memory.total_rss + m.memory.rss + m.memory.total_active_anon, 0);
	ck_assert(m.has_memory_oom_control);
	ck_assert(m.has_cpu && m.cpu.has_usage);
	ck_assert_uint_gt(m.cpu.usage.total, 0);
	ck_assert_uint_ge(m.cpu.usage.per_cpu_count, 1);
	ck_assert_uint_eq(m.hugetlb_count, 0);  /* no hugetlb hierarchy in this cgroup set */
	sv_pb_free(sv_Cg1Metrics_fields, &m);
	free(buf);
	kid_end(&k);
	ck_assert_int_eq(wcg_remove(cg, 2000), 0);
	wcg_free(cg);
}
END_TEST

START_TEST(oom_kill_event)
{
	char name[64];
	struct wcgroup *cg;
	struct pollfd p;
	struct kid k;
	int err = 0, fd, st;

	cgfx_name(name, sizeof(name), "oom");
	if (!cgfx_exists(CGC_MEMORY, false, "/")) {
		printf("# SKIP no v1 memory hierarchy\n");
		return;
	}
	ck_assert_int_eq(cgfx_mkdir(CGC_MEMORY, false, name), 0);
	ck_assert_int_eq(cgfx_write(CGC_MEMORY, false, name, "memory.limit_in_bytes", "8388608"), 0);
	/* no escape into swap */
	cgfx_write(CGC_MEMORY, false, name, "memory.memsw.limit_in_bytes", "8388608");
	kid_start(&k, 64);
	ck_assert_int_eq(cgfx_join(CGC_MEMORY, false, name, k.pid), 0);
	cg = wcg_open(k.pid, &err);
	ck_assert_msg(cg, "wcg_open: %s", strerror(-err));
	fd = wcg_oom_fd(cg);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(wcg_oom_fd(cg), fd);   /* one per cgroup */
	ck_assert(!wcg_oom_read(cg));
	kid_go(&k, false);
	p.fd = fd;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 15000), 1);
	ck_assert(wcg_oom_read(cg));
	ck_assert(!wcg_oom_read(cg));           /* consumed */
	st = kid_end(&k);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ck_assert_int_eq(wcg_remove(cg, 2000), 0);
	ck_assert(!wcg_oom_read(cg));           /* the removal fires the eventfd: no OOM */
	wcg_free(cg);
}
END_TEST

START_TEST(save_load_roundtrip)
{
	char name[64], dir[64], mem[512], pids_path[512], want[1200];
	struct wcgroup *cg, *cg2;
	struct kid k;
	pid_t *pids = NULL;
	size_t n = 0, len = 0;
	char *text = NULL;
	int err = 0, bfd;

	cgfx_name(name, sizeof(name), "save");
	if (!cgfx_exists(CGC_MEMORY, false, "/") || !cgfx_exists(CGC_PIDS, false, "/")) {
		printf("# SKIP no v1 memory or pids hierarchy\n");
		return;
	}
	ck_assert_int_eq(cgfx_mkdir(CGC_MEMORY, false, name), 0);
	ck_assert_int_eq(cgfx_mkdir(CGC_PIDS, false, name), 0);
	kid_start(&k, 0);
	ck_assert_int_eq(cgfx_join(CGC_MEMORY, false, name, k.pid), 0);
	ck_assert_int_eq(cgfx_join(CGC_PIDS, false, name, k.pid), 0);
	cg = wcg_open(k.pid, &err);
	ck_assert_msg(cg, "wcg_open: %s", strerror(-err));

	strcpy(dir, "/tmp/sv-cg-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	bfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(bfd, 0);
	ck_assert_int_eq(wcg_save(cg, bfd), 0);
	ck_assert_int_eq(sv_read_file(bfd, SV_BUNDLE_CGROUP, 65536, &text, &len), 0);
	cgfx_path(CGC_MEMORY, false, name, mem, sizeof(mem));
	cgfx_path(CGC_PIDS, false, name, pids_path, sizeof(pids_path));
	snprintf(want, sizeof(want), "v1 memory %s\n", mem);
	ck_assert_msg(strstr(text, want), "cgroup file:\n%s", text);
	snprintf(want, sizeof(want), "v1 pids %s\n", pids_path);
	ck_assert_msg(strstr(text, want), "cgroup file:\n%s", text);
	free(text);

	cg2 = wcg_load(bfd, &err);
	ck_assert_msg(cg2, "wcg_load: %s", strerror(-err));
	ck_assert_int_eq(wcg_procs(cg2, &pids, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(pids[0], k.pid);
	free(pids);
	kid_end(&k);
	ck_assert_int_eq(wcg_remove(cg2, 2000), 0);
	wcg_free(cg2);
	ck_assert(!cgfx_exists(CGC_MEMORY, false, name));
	/* all gone: nothing to load */
	ck_assert_ptr_null(wcg_load(bfd, &err));
	ck_assert_int_eq(err, -ENOENT);
	ck_assert_int_eq(wcg_remove(cg, 100), 0);       /* ENOENT is fine */
	wcg_free(cg);
	/* a file that is not ours */
	ck_assert_int_eq(sv_replace_file(bfd, SV_BUNDLE_CGROUP, "garbage\n", 8, 0644), 0);
	ck_assert_ptr_null(wcg_load(bfd, &err));
	ck_assert_int_eq(err, -EBADMSG);
	ck_assert_int_eq(sv_replace_file(bfd, SV_BUNDLE_CGROUP, "v1 memory /tmp\n", 15, 0644), 0);
	ck_assert_ptr_null(wcg_load(bfd, &err));
	ck_assert_int_eq(err, -ENOTDIR);        /* not a cgroup filesystem */
	/* a hierarchy's root: its processes are the host's (the cleanup would kill them) */
	cgfx_path(CGC_PIDS, false, "/", pids_path, sizeof(pids_path));
	len = (size_t)snprintf(want, sizeof(want), "v1 pids %s\n", pids_path);
	ck_assert_int_eq(sv_replace_file(bfd, SV_BUNDLE_CGROUP, want, len, 0644), 0);
	ck_assert_ptr_null(wcg_load(bfd, &err));
	ck_assert_int_eq(err, -EBADMSG);
	close(bfd);
	fx_rm_bundle(dir);
}
END_TEST

START_TEST(no_cgroup_of_its_own)
{
	struct kid k;
	int err = 0;

	ck_assert_ptr_null(wcg_open(getpid(), &err));
	ck_assert_int_eq(err, -ENOENT);
	kid_start(&k, 0);
	ck_assert_ptr_null(wcg_open(k.pid, &err));
	ck_assert_int_eq(err, -ENOENT);
	kid_end(&k);
	ck_assert_ptr_null(wcg_open(k.pid, &err));     /* gone */
	ck_assert_int_ne(err, 0);
}
END_TEST

/* An exited, unreaped task shows the root cgroups: never taken for its own. */
START_TEST(zombie_is_not_at_the_root)
{
	char name[64], p[64];
	struct kid k;
	siginfo_t si;
	int err = 0;

	cgfx_name(name, sizeof(name), "zomb");
	if (!make_v1(name, CGC_MEMORY))
		return;
	kid_start(&k, 0);
	join_v1(name, k.pid);
	kill(k.pid, SIGKILL);
	ck_assert_int_eq(waitid(P_PID, (id_t)k.pid, &si, WEXITED | WNOWAIT), 0);
	snprintf(p, sizeof(p), "/proc/%d", (int)k.pid);
	ck_assert_int_eq(access(p, F_OK), 0);           /* still there, a zombie */
	ck_assert_ptr_null(wcg_open(k.pid, &err));
	ck_assert_int_eq(err, -ENOENT);
	kid_end(&k);
}
END_TEST

/* cgroup2: where it is mounted (hybrid hosts too: the unified hierarchy). */
START_TEST(unified_freeze_procs_metrics)
{
	char name[64], ev[512];
	const char *url = NULL;
	sv_Cg2Metrics m;
	struct wcgroup *cg;
	struct kid k;
	pid_t *pids = NULL;
	uint8_t *buf = NULL;
	size_t n = 0, len = 0;
	int err = 0;

	cgfx_name(name, sizeof(name), "v2");
	if (!cgfx_exists(0, true, "/")) {
		printf("# SKIP no cgroup2 mount\n");
		return;
	}
	ck_assert_int_eq(cgfx_mkdir(0, true, name), 0);
	kid_start(&k, 0);
	ck_assert_int_eq(cgfx_join(0, true, name, k.pid), 0);
	kid_go(&k, true);
	cg = wcg_open(k.pid, &err);
	ck_assert_msg(cg, "wcg_open: %s", strerror(-err));
	ck_assert_int_eq(wcg_procs(cg, &pids, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(pids[0], k.pid);
	free(pids);
	/* only the cgroup2 directory is the task's own: its freezer is cgroup.freeze */
	ck_assert_int_eq(wcg_freeze(cg, true, 5000), 0);
	ck_assert_int_eq(cgfx_read(0, true, name, "cgroup.events", ev, sizeof(ev)), 0);
	ck_assert_ptr_nonnull(strstr(ev, "frozen 1"));
	ck_assert_int_eq(wcg_freeze(cg, false, 5000), 0);
	ck_assert_int_eq(cgfx_read(0, true, name, "cgroup.events", ev, sizeof(ev)), 0);
	ck_assert_ptr_nonnull(strstr(ev, "frozen 0"));
	ck_assert_int_eq(wcg_metrics(cg, &url, &buf, &len), 0);
	ck_assert_str_eq(url, "io.containerd.cgroups.v2.Metrics");
	ck_assert_int_eq(sv_pb_decode(sv_Cg2Metrics_fields, &m, buf, len), 0);
	ck_assert(m.has_cpu);                   /* cpu.stat is there without controllers */
	sv_pb_free(sv_Cg2Metrics_fields, &m);
	free(buf);
	snprintf(ev, sizeof(ev), "%s/memory.events", name);
	if (!cgfx_exists(0, true, ev))
		ck_assert_int_lt(wcg_oom_fd(cg), 0);    /* no memory controller here */
	kid_end(&k);
	ck_assert_int_eq(wcg_remove(cg, 2000), 0);
	ck_assert(!cgfx_exists(0, true, name));
	wcg_free(cg);
}
END_TEST

/* A bundle file naming a cgroup2 directory loads, and freezes through cgroup.freeze. */
START_TEST(unified_load_freeze)
{
	char name[64], ev[512];
	struct wcgroup *cg;
	struct kid k;
	int err = 0, bfd;
	char dir[64], line[700], p[600];

	cgfx_name(name, sizeof(name), "v2f");
	if (!cgfx_exists(0, true, "/")) {
		printf("# SKIP no cgroup2 mount\n");
		return;
	}
	ck_assert_int_eq(cgfx_mkdir(0, true, name), 0);
	kid_start(&k, 0);
	ck_assert_int_eq(cgfx_join(0, true, name, k.pid), 0);
	kid_go(&k, true);
	/* a bundle file naming only the cgroup2 directory */
	cgfx_path(0, true, name, p, sizeof(p));
	snprintf(line, sizeof(line), "v2 - %s\n", p);
	strcpy(dir, "/tmp/sv-cg-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	bfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(bfd, 0);
	ck_assert_int_eq(sv_replace_file(bfd, SV_BUNDLE_CGROUP, line, strlen(line), 0644), 0);
	cg = wcg_load(bfd, &err);
	ck_assert_msg(cg, "wcg_load: %s", strerror(-err));
	ck_assert_int_eq(wcg_freeze(cg, true, 5000), 0);
	ck_assert_int_eq(cgfx_read(0, true, name, "cgroup.events", ev, sizeof(ev)), 0);
	ck_assert_ptr_nonnull(strstr(ev, "frozen 1"));
	ck_assert_int_eq(wcg_freeze(cg, false, 5000), 0);
	ck_assert_int_eq(cgfx_read(0, true, name, "cgroup.events", ev, sizeof(ev)), 0);
	ck_assert_ptr_nonnull(strstr(ev, "frozen 0"));
	kid_end(&k);
	ck_assert_int_eq(wcg_remove(cg, 2000), 0);
	wcg_free(cg);
	close(bfd);
	fx_rm_bundle(dir);
}
END_TEST

/* A struct wcgroup over a plain directory of files standing in for a cgroup (the kernel's
 * formats, values this host cannot produce: blkio traffic, cgroup2 controllers). */
static struct wcgroup *fake_cg(const char *dir, bool v2, unsigned ctrls)
{
	struct wcgroup *cg = calloc(1, sizeof(*cg));

	ck_assert_ptr_nonnull(cg);
	cg->oom_fd = -1;
	cg->d[0].fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(cg->d[0].fd, 0);
	cg->d[0].v2 = v2;
	cg->d[0].ctrls = ctrls;
	cg->d[0].path = strdup(dir);
	cg->n = 1;
	return cg;
}

static void put(const char *dir, const char *file, const char *text)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);  /* in place: inotify */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(v1_blkio_entries)
{
	char dir[64], text[512], dev[64] = "";
	unsigned maj = 8, min = 0;
	const char *url;
	sv_Cg1Metrics m;
	struct wcgroup *cg;
	uint8_t *buf = NULL;
	size_t len = 0;
	FILE *f = fopen("/proc/partitions", "re");
	char line[256], name[64];

	/* a device the host has, so that its name is found as containerd finds it */
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %u %*u %63s", &maj, &min, name) == 3) {
			snprintf(dev, sizeof(dev), "/dev/%s", name);
			break;
		}
	if (f)
		fclose(f);
	strcpy(dir, "/tmp/sv-cg-fake-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(text, sizeof(text), "%u:%u Read 4096\n%u:%u Write 8192\n%u:%u Sync 0\n"
		 "%u:%u Async 12288\n%u:%u Discard 0\n%u:%u Total 12288\nTotal 12288\n",
		 maj, min, maj, min, maj, min, maj, min, maj, min, maj, min);
	put(dir, "blkio.throttle.io_service_bytes", text);
	snprintf(text, sizeof(text), "%u:%u Read 1\n%u:%u Write 2\nTotal 3\n", maj, min, maj, min);
	put(dir, "blkio.throttle.io_serviced", text);
	cg = fake_cg(dir, false, CGC_BLKIO);
	ck_assert_int_eq(wcg_metrics(cg, &url, &buf, &len), 0);
	ck_assert_int_eq(sv_pb_decode(sv_Cg1Metrics_fields, &m, buf, len), 0);
	ck_assert(m.has_blkio && !m.has_memory && !m.has_pids);
	ck_assert_uint_eq(m.blkio.io_service_bytes_recursive_count, 6);
	ck_assert_str_eq(m.blkio.io_service_bytes_recursive[0].op, "Read");
	ck_assert_uint_eq(m.blkio.io_service_bytes_recursive[0].value, 4096);
	ck_assert_uint_eq(m.blkio.io_service_bytes_recursive[1].major, maj);
	ck_assert_uint_eq(m.blkio.io_service_bytes_recursive[1].minor, min);
	ck_assert_str_eq(m.blkio.io_service_bytes_recursive[3].op, "Async");
	ck_assert_uint_eq(m.blkio.io_service_bytes_recursive[3].value, 12288);
	ck_assert_str_eq(m.blkio.io_service_bytes_recursive[0].device ?
			 m.blkio.io_service_bytes_recursive[0].device : "", dev);
	ck_assert_uint_eq(m.blkio.io_serviced_recursive_count, 2);
	ck_assert_uint_eq(m.blkio.io_serviced_recursive[1].value, 2);
	sv_pb_free(sv_Cg1Metrics_fields, &m);
	free(buf);
	wcg_free(cg);
	fx_rm_bundle(dir);
}
END_TEST

START_TEST(v2_metrics_and_oom_files)
{
	char dir[64];
	const char *url;
	sv_Cg2Metrics m;
	struct wcgroup *cg;
	struct pollfd p;
	uint8_t *buf = NULL;
	size_t len = 0;

	strcpy(dir, "/tmp/sv-cg-fake-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	put(dir, "pids.current", "3\n");
	put(dir, "pids.max", "max\n");
	put(dir, "cpu.stat", "usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 5\n"
	    "nr_throttled 1\nthrottled_usec 7\n");
	put(dir, "memory.stat", "anon 4096\nfile 8192\nkernel_stack 16384\nslab 1\nsock 2\n"
	    "shmem 3\nfile_mapped 4\npgfault 99\nthp_collapse_alloc 6\n");
	put(dir, "memory.current", "12288\n");
	put(dir, "memory.max", "max\n");
	put(dir, "memory.swap.current", "0\n");
	put(dir, "memory.swap.max", "1048576\n");
	put(dir, "memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 0\n");
	put(dir, "io.stat", "254:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"
	    "8:16 rbytes=5 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
	cg = fake_cg(dir, true, CGC_MEMORY | CGC_PIDS | CGC_CPU | CGC_BLKIO);
	ck_assert_int_eq(wcg_metrics(cg, &url, &buf, &len), 0);
	ck_assert_str_eq(url, "io.containerd.cgroups.v2.Metrics");
	ck_assert_int_eq(sv_pb_decode(sv_Cg2Metrics_fields, &m, buf, len), 0);
	ck_assert(m.has_pids && m.pids.current == 3 && m.pids.limit == UINT64_MAX);
	ck_assert(m.has_cpu && m.cpu.usage_usec == 100 && m.cpu.user_usec == 60 &&
		  m.cpu.system_usec == 40 && m.cpu.nr_periods == 5 && m.cpu.nr_throttled == 1 &&
		  m.cpu.throttled_usec == 7);
	ck_assert(m.has_memory && m.memory.anon == 4096 && m.memory.file == 8192 &&
		  m.memory.kernel_stack == 16384 && m.memory.pgfault == 99 &&
		  m.memory.thp_collapse_alloc == 6);
	ck_assert(m.memory.usage == 12288 && m.memory.usage_limit == UINT64_MAX &&
		  m.memory.swap_limit == 1048576);
	ck_assert(m.has_memory_events && m.memory_events.max == 2 && m.memory_events.oom == 1);
	ck_assert(m.has_io);
	ck_assert_uint_eq(m.io.usage_count, 2);
	ck_assert(m.io.usage[0].major == 254 && m.io.usage[0].rbytes == 10 &&
		  m.io.usage[0].wbytes == 20 && m.io.usage[0].rios == 1 && m.io.usage[0].wios == 2);
	ck_assert(m.io.usage[1].major == 8 && m.io.usage[1].minor == 16 && m.io.usage[1].rbytes == 5);
	sv_pb_free(sv_Cg2Metrics_fields, &m);
	free(buf);

	/* OOM: inotify on memory.events, the oom_kill count */
	p.fd = wcg_oom_fd(cg);
	p.events = POLLIN;
	ck_assert_int_ge(p.fd, 0);
	ck_assert(!wcg_oom_read(cg));
	put(dir, "memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 0\n");
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	ck_assert(!wcg_oom_read(cg));           /* an OOM, no kill yet */
	put(dir, "memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n");
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	ck_assert(wcg_oom_read(cg));
	ck_assert_int_eq(poll(&p, 1, 0), 0);    /* consumed */
	ck_assert(!wcg_oom_read(cg));
	wcg_free(cg);
	fx_rm_bundle(dir);
}
END_TEST

static void teardown(void)
{
	cgfx_cleanup();
}

int main(void)
{
	Suite *s = suite_create("worker_cgroup");
	TCase *tc = tcase_create("cgroup");

	if (geteuid() != 0) {
		printf("1..0 # SKIP cgroups need root\n");
		return 0;
	}
	tcase_set_timeout(tc, 30);
	tcase_add_unchecked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, open_procs_freeze_remove);
	tcase_add_test(tc, metrics_v1_decode);
	tcase_add_test(tc, oom_kill_event);
	tcase_add_test(tc, save_load_roundtrip);
	tcase_add_test(tc, no_cgroup_of_its_own);
	tcase_add_test(tc, zombie_is_not_at_the_root);
	tcase_add_test(tc, unified_freeze_procs_metrics);
	tcase_add_test(tc, unified_load_freeze);
	tcase_add_test(tc, v1_blkio_entries);
	tcase_add_test(tc, v2_metrics_and_oom_files);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
