/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/build_fixture.h: where a unit test finds the binaries it runs (without
 * /proc/self/exe, which names qemu under some loaders), and the cases qemu-user cannot serve
 * (make check-qemu, selftest/cross/RESULTS.md). */
#ifndef SV_BUILD_FIXTURE_H
#define SV_BUILD_FIXTURE_H
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The build directory: $SV_TEST_BUILD_DIR, else $BUILD (make check sets it), else the test
 * binary's own place (build/selftest/..). */
static inline void fx_build_dir(char *buf, size_t sz)
{
	const char *e = getenv("SV_TEST_BUILD_DIR");
	char self[PATH_MAX];
	ssize_t n;

	if (!e || !*e)
		e = getenv("BUILD");
	if (e && *e) {
		ck_assert_int_lt(snprintf(buf, sz, "%s", e), (int)sz);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';             /* build/selftest */
	*strrchr(self, '/') = '\0';             /* build */
	ck_assert_int_lt(snprintf(buf, sz, "%s", self), (int)sz);
}

/* build/NAME */
static inline void fx_build_path(char *buf, size_t sz, const char *name)
{
	char dir[PATH_MAX];

	fx_build_dir(dir, sizeof(dir));
	ck_assert_int_lt(snprintf(buf, sz, "%s/%s", dir, name), (int)sz);
}

/* Under qemu-user (make check-qemu sets SV_QEMU=1; never set on a real kernel). */
static inline bool fx_qemu(void)
{
	const char *e = getenv("SV_QEMU");

	return e && strcmp(e, "1") == 0;
}

/* Under qemu-user, can this process exec a binary of the target's architecture? Only when
 * the kernel has a binfmt_misc handler for it (selftest/cross/run-qemu.sh sets
 * SV_QEMU_BINFMT=1 then); a plain qemu-user cannot follow execve into another guest binary. */
static inline bool fx_qemu_exec(void)
{
	const char *e = getenv("SV_QEMU_BINFMT");

	return !fx_qemu() || (e && strcmp(e, "1") == 0);
}

/* In a test or a helper it calls: under qemu-user only, when cond holds, the case says why
 * it is skipped and ends, passing (each case runs in its own forked child, tap_main.h: Check
 * counts an exit 0 as a pass). On a real kernel it runs as always. */
#define FX_QEMU_SKIP_IF(cond, why)                                                      \
	do {                                                                            \
		if (fx_qemu() && (cond)) {                                              \
			printf("# SKIP %s: qemu-user %s\n", __func__, (why));           \
			exit(0);                                                        \
		}                                                                       \
	} while (0)
#define FX_QEMU_SKIP(why) FX_QEMU_SKIP_IF(1, why)
#define FX_QEMU_NO_EXEC "has no binfmt_misc handler to exec a target binary"
#define FX_QEMU_NO_SUBREAPER "refuses PR_SET_CHILD_SUBREAPER"
#define FX_QEMU_NO_SECCOMP "refuses seccomp filters"

#endif
