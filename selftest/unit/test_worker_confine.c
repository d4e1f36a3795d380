/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_worker_confine.c: the worker's self-confinement, applied in a child:
 * its capability sets, no_new_privs, and the seccomp filter (native, x32 and i386 numbers)
 * refusing what it lists while the duties' capabilities still work. */
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "worker/worker.h"
#include "tap_main.h"
#include "build_fixture.h"

/* The hex value of a "Name:\t..." line of /proc/self/status. */
static uint64_t status_hex(const char *name)
{
	char line[256];
	size_t l = strlen(name);
	uint64_t v = UINT64_MAX;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, l) && line[l] == ':')
			v = strtoull(line + l + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

static long bpf_map_create(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	return syscall(__NR_bpf, BPF_MAP_CREATE, &a, sizeof(a));
}

#define TASK_CAPS ((UINT64_C(1) << CAP_NET_RAW) | (UINT64_C(1) << CAP_MKNOD))

#if defined(__x86_64__)
/* Whether this kernel runs i386 calls (IA32 emulation; without it int 0x80 is a SIGSEGV). */
static int ia32_works(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		long r = 20;

		signal(SIGSEGV, SIG_DFL);       /* a sanitizer's handler would report the probe */
		__asm__ volatile("int $0x80" : "+a"(r) : : "memory", "r8", "r9", "r10", "r11");
		_exit(r == getpid() ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}
#endif

static int confined_child(void)
{
#if defined(__x86_64__)
	int ia32 = ia32_works();
#endif
	/* what we hold to begin with bounds what is kept (a container may lack some) */
	uint64_t had = status_hex("CapBnd"), duty = confine_duty_caps() & had;
	uint64_t keep = (confine_duty_caps() | TASK_CAPS) & had;
	long fd;

	/* before: a bpf map can be made (root, CAP_SYS_ADMIN), so a refusal later is the filter's */
	fd = bpf_map_create();
	if (fd < 0)
		return 10;
	close((int)fd);
	if (confine_self(TASK_CAPS) < 0)
		return 11;
	if (status_hex("CapBnd") != keep || status_hex("CapPrm") != keep)
		return 12;
	if (status_hex("CapEff") != duty || status_hex("CapInh") != 0)
		return 13;
	if (status_hex("NoNewPrivs") != 1 || status_hex("Seccomp") != 2)
		return 14;
	/* dropped for good */
	if (prctl(PR_CAPBSET_READ, CAP_SYS_MODULE, 0, 0, 0) != 0 ||
	    prctl(PR_CAPBSET_READ, CAP_SYS_BOOT, 0, 0, 0) != 0)
		return 15;
	/* refused by the filter although CAP_SYS_ADMIN is still held */
	if (bpf_map_create() >= 0 || errno != EPERM)
		return 20;
	if (syscall(__NR_kexec_load, 0, 0, NULL, 0) >= 0 || errno != EPERM)
		return 21;
	if (syscall(__NR_init_module, NULL, 0, "") >= 0 || errno != EPERM)
		return 22;
	if (syscall(__NR_open_by_handle_at, -1, NULL, 0) >= 0 || errno != EPERM)
		return 23;
#if defined(__x86_64__)
	/* x32 numbers (ENOSYS on a kernel without x32, were they not refused first) */
	if (syscall(0x40000000 | __NR_bpf, 0, NULL, 0) >= 0 || errno != EPERM)
		return 24;
	if (syscall(0x40000000 | 528, 0, 0, NULL, 0) >= 0 || errno != EPERM)
		return 25;
	if (ia32) {
		/* i386's bpf (357) through int 0x80 */
		long r = 357;

		/* (the kernel zeroes r8-r11 on an int 0x80 from 64-bit code) */
		__asm__ volatile("int $0x80" : "+a"(r) : "b"(0), "c"(0), "d"(0)
				 : "memory", "r8", "r9", "r10", "r11");
		if (r != -EPERM)
			return 26;
		/* i386's getpid (20) still works */
		r = 20;
		__asm__ volatile("int $0x80" : "+a"(r) : : "memory", "r8", "r9", "r10", "r11");
		if (r != getpid())
			return 27;
	}
#endif
	/* the duties: ordinary calls, a namespace, a signal */
	if (getpid() <= 0 || unshare(CLONE_NEWUTS) < 0 || kill(getpid(), 0) < 0)
		return 30;
	return 0;
}

START_TEST(confine_sets_and_filter)
{
	int st;
	pid_t pid;

	if (geteuid() != 0)
		return;         /* needs root: as the worker is */
	FX_QEMU_SKIP(FX_QEMU_NO_SECCOMP);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(confined_child());
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "status %#x", st);
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

START_TEST(filter_fits)
{
	struct sock_filter prog[96];
	size_t len = 0;

	ck_assert_int_eq(confine_filter(prog, 96, &len), 0);
	/* the arch load, the arch test, the nr load, the 12 calls every architecture denies, allow
	 * and deny (x86_64 adds its x32 mask and the i386 section) */
	ck_assert_uint_ge(len, 17);
	ck_assert_int_eq(confine_filter(prog, len - 1, &len), -ENOSPC);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("worker_confine");

	SV_TCASE(s, "confine", 10, confine_sets_and_filter, filter_fits);
	return sv_run_suite(s);
}
