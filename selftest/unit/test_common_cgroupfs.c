/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_cgroupfs.c: cgroup discovery and file helpers (common/cgroupfs.h):
 * controller names, number parsing, the hierarchies of a process, mkdir -p with its hook and
 * its undo on failure. */
#include <check.h>
#include "tap_main.h"
#include "cgroup_fixture.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cgroupfs.h"

START_TEST(ctrl_names)
{
	char b[128];

	ck_assert_uint_eq(cgfs_ctrl_mask("cpu,cpuacct"), CGC_CPU | CGC_CPUACCT);
	ck_assert_uint_eq(cgfs_ctrl_mask("cpuset cpu io memory hugetlb pids rdma misc\n"),
			  CGC_CPUSET | CGC_CPU | CGC_BLKIO | CGC_MEMORY | CGC_HUGETLB | CGC_PIDS |
			  CGC_RDMA | CGC_MISC);
	ck_assert_uint_eq(cgfs_ctrl_mask("name=systemd"), CGC_NAMED);
	ck_assert_uint_eq(cgfs_ctrl_mask("cpuacctx,-,"), 0);
	ck_assert_int_eq(cgfs_ctrl_names(CGC_CPU | CGC_CPUACCT, false, b, sizeof(b)), 0);
	ck_assert_str_eq(b, "cpu,cpuacct");
	ck_assert_int_eq(cgfs_ctrl_names(CGC_BLKIO | CGC_MEMORY, false, b, sizeof(b)), 0);
	ck_assert_str_eq(b, "memory,blkio");
	ck_assert_int_eq(cgfs_ctrl_names(CGC_BLKIO | CGC_MEMORY, true, b, sizeof(b)), 0);
	ck_assert_str_eq(b, "memory,io");
	ck_assert_int_eq(cgfs_ctrl_names(0, true, b, sizeof(b)), 0);
	ck_assert_str_eq(b, "-");
	ck_assert_int_eq(cgfs_ctrl_names(CGC_MEMORY, false, b, 4), -ENOSPC);
	ck_assert_uint_eq(cgfs_ctrl_mask("memory,blkio"), CGC_MEMORY | CGC_BLKIO);
}
END_TEST

START_TEST(numbers)
{
	const char *stat = "nr_periods 7\nnr_throttled 0\nthrottled_time 12345\nthrottled 9\n";
	const char *p;
	uint64_t v = 1;

	ck_assert_int_eq(cgfs_kv(stat, "nr_periods", &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(cgfs_kv(stat, "throttled_time", &v), 0);
	ck_assert_uint_eq(v, 12345);
	ck_assert_int_eq(cgfs_kv(stat, "throttled", &v), 0);    /* the whole key, not a prefix */
	ck_assert_uint_eq(v, 9);
	ck_assert_int_eq(cgfs_kv(stat, "nr", &v), -ENOENT);
	p = "max\n";
	ck_assert_int_eq(cgfs_parse_u64(&p, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	p = " 18446744073709551615 1";
	ck_assert_int_eq(cgfs_parse_u64(&p, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(cgfs_parse_u64(&p, &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(cgfs_parse_u64(&p, &v), -EINVAL);
	p = "18446744073709551616";
	ck_assert_int_eq(cgfs_parse_u64(&p, &v), -ERANGE);
}
END_TEST

/* Our hierarchies: mounted, path == own; a child has the same. */
START_TEST(list_self)
{
	struct cg_hier *h = NULL;
	size_t n = 0;
	bool seen_v2 = false;

	ck_assert_int_eq(cgfs_list(0, &h, &n), 0);
	if (n == 0) {
		printf("# SKIP no cgroup mounted\n");
		cgfs_free(h, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int fd;

		ck_assert_ptr_nonnull(h[i].mnt);
		ck_assert_ptr_nonnull(h[i].own);
		ck_assert_str_eq(h[i].path, h[i].own);
		ck_assert(!seen_v2 || h[i].v2);        /* v1 first */
		seen_v2 |= h[i].v2;
		fd = cgfs_open_dir(h[i].mnt, h[i].path, false, NULL, NULL, NULL);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(cgfs_fs_kind(fd), h[i].v2 ? 2 : 1);
		close(fd);
	}
	cgfs_free(h, n);
	ck_assert_int_eq(cgfs_list(1, &h, &n), 0);      /* another process: init */
	cgfs_free(h, n);
	ck_assert_int_eq(cgfs_open_dir("/tmp", "/", false, NULL, NULL, NULL), -ENOTDIR);
	ck_assert_int_eq(cgfs_open_abs("/proc/self"), -ENOTDIR);
}
END_TEST

struct hook {
	int calls, fresh, fail_at;
};

static int hook(int parent, int child, bool fresh, void *arg)
{
	struct hook *k = arg;

	ck_assert_int_ge(parent, 0);
	ck_assert_int_ge(child, 0);
	k->calls++;
	k->fresh += fresh;
	return k->calls == k->fail_at ? -EIO : 0;
}

/* mkdir -p calls the hook per component; a failure removes what this call made. */
START_TEST(mkdir_hook_and_undo)
{
	char mnt[512], name[64], dir[200];
	struct hook k = { 0, 0, 0 };
	int fd, created = -1;

	if (!cgfx_mnt(CGC_PIDS, false, mnt, sizeof(mnt)) &&
	    !cgfx_mnt(CGC_MEMORY, false, mnt, sizeof(mnt))) {
		printf("# SKIP no v1 pids or memory hierarchy\n");
		return;
	}
	cgfx_name(name, sizeof(name), "mk");
	snprintf(dir, sizeof(dir), "/%s/a/b", name);
	k.fail_at = 3;                          /* on b */
	ck_assert_int_eq(cgfs_open_dir(mnt, dir, true, hook, &k, &created), -EIO);
	ck_assert_int_eq(k.fresh, 3);
	snprintf(dir, sizeof(dir), "%s/%s", mnt, name);
	ck_assert_int_eq(access(dir, F_OK), -1);        /* all three removed */

	snprintf(dir, sizeof(dir), "/%s/a", name);
	memset(&k, 0, sizeof(k));
	fd = cgfs_open_dir(mnt, dir, true, hook, &k, &created);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(created, 2);
	close(fd);
	snprintf(dir, sizeof(dir), "/%s/a/b", name);
	memset(&k, 0, sizeof(k));
	k.fail_at = 3;
	ck_assert_int_eq(cgfs_open_dir(mnt, dir, true, hook, &k, &created), -EIO);
	ck_assert_int_eq(k.fresh, 1);
	snprintf(dir, sizeof(dir), "%s/%s/a", mnt, name);
	ck_assert_int_eq(access(dir, F_OK), 0);         /* made before: kept */
	snprintf(dir, sizeof(dir), "/%s/a", name);
	ck_assert_int_eq(cgfs_rmdir_tail(mnt, dir, 2), 0);
	snprintf(dir, sizeof(dir), "%s/%s", mnt, name);
	ck_assert_int_eq(access(dir, F_OK), -1);
	ck_assert_int_eq(cgfs_open_dir(mnt, "/x/../y", true, NULL, NULL, NULL), -EINVAL);
}
END_TEST

static void teardown(void)
{
	cgfx_cleanup();
}

int main(void)
{
	Suite *s = suite_create("common_cgroupfs");
	TCase *tc = tcase_create("cgroupfs");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, ctrl_names);
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, list_self);
	if (geteuid() == 0) {
		tcase_add_unchecked_fixture(tc, NULL, teardown);
		tcase_add_test(tc, mkdir_hook_and_undo);
	}
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
