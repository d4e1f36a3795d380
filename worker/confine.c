/* SPDX-License-Identifier: Apache-2.0 */
/* worker/confine.c: the worker's own confinement once its task starts: bounding
 * set, capability sets, no_new_privs, then a hand-made classic BPF seccomp filter (no
 * libcap-ng, no libseccomp: the worker stays libc + nanopb, static-pie). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "worker.h"

#define CAPBIT(c) (UINT64_C(1) << (c))

/* What the worker's remaining duties need (DESIGN.md, "The worker confines itself", gives
 * the reason for each). Its effective set is exactly this. */
uint64_t confine_duty_caps(void)
{
	return CAPBIT(CAP_CHOWN) | CAPBIT(CAP_DAC_OVERRIDE) | CAPBIT(CAP_KILL) |
	       CAPBIT(CAP_SETGID) | CAPBIT(CAP_SETUID) | CAPBIT(CAP_SETPCAP) |
	       CAPBIT(CAP_SYS_CHROOT) | CAPBIT(CAP_SYS_PTRACE) | CAPBIT(CAP_SYS_ADMIN) |
	       CAPBIT(CAP_SYS_RESOURCE);
}

/* Syscalls no worker, and no task under the policy, may ever make: module loading (CAP_SYS_MODULE),
 * kexec and reboot (CAP_SYS_BOOT), port I/O (CAP_SYS_RAWIO), process accounting
 * (CAP_SYS_PACCT), file handles (CAP_DAC_READ_SEARCH: the "shocker" escape), bpf, swap,
 * and the obsolete calls (uselib, _sysctl, nfsservctl, ...) that Docker's default refuses. */
static const uint32_t deny_native[] = {
	__NR_kexec_load, __NR_kexec_file_load, __NR_init_module, __NR_finit_module,
	__NR_delete_module, __NR_open_by_handle_at, __NR_bpf, __NR_reboot, __NR_swapon,
	__NR_swapoff, __NR_acct,
#ifdef __NR_iopl
	__NR_iopl,
#endif
#ifdef __NR_ioperm
	__NR_ioperm,
#endif
#ifdef __NR_create_module
	__NR_create_module,
#endif
#ifdef __NR_get_kernel_syms
	__NR_get_kernel_syms,
#endif
#ifdef __NR_query_module
	__NR_query_module,
#endif
#ifdef __NR_uselib
	__NR_uselib,
#endif
#ifdef __NR__sysctl
	__NR__sysctl,
#endif
#ifdef __NR_nfsservctl
	__NR_nfsservctl,
#endif
	__NR_lookup_dcookie,
#if defined(__x86_64__)
	528,    /* x32's own kexec_load (the x32 bit is masked off first) */
#endif
};

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define X32_BIT 0x40000000u
/* i386 programs run on x86_64 (int 0x80) with their own numbers (syscall_32.tbl). */
#define COMPAT_ARCH AUDIT_ARCH_I386
static const uint32_t deny_compat[] = {
	283 /* kexec_load */, 128 /* init_module */, 350 /* finit_module */,
	129 /* delete_module */, 342 /* open_by_handle_at */, 357 /* bpf */, 88 /* reboot */,
	87 /* swapon */, 115 /* swapoff */, 51 /* acct */, 110 /* iopl */, 101 /* ioperm */,
	127 /* create_module */, 130 /* get_kernel_syms */, 167 /* query_module */,
	86 /* uselib */, 149 /* _sysctl */, 169 /* nfsservctl */, 253 /* lookup_dcookie */,
};
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__) && defined(__ARMEB__)
#define NATIVE_ARCH AUDIT_ARCH_ARMEB
#elif defined(__arm__)
#define NATIVE_ARCH AUDIT_ARCH_ARM
#else
#error "confine.c: add this architecture's AUDIT_ARCH (and its compat table)"
#endif

#define NDENY(a) (sizeof(a) / sizeof((a)[0]))
#define DENY_RET (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

/* One arch's section: if arch matches, load nr (x32 bit masked), jump to the denial for a
 * listed nr, else allow. Appends to prog at *n; deny_at is the index of the shared denial. */
static void section(struct sock_filter *prog, size_t *n, uint32_t arch, const uint32_t *nrs,
		    size_t nnrs, int mask_x32, size_t deny_at)
{
	size_t len = 1 + (mask_x32 ? 1 : 0) + nnrs + 1;   /* after the arch test */

	prog[(*n)++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0,
						    (uint8_t)len);
	prog[(*n)++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						    offsetof(struct seccomp_data, nr));
#ifdef X32_BIT
	if (mask_x32)
		prog[(*n)++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~X32_BIT);
#endif
	for (size_t i = 0; i < nnrs; i++) {
		size_t here = *n;

		prog[(*n)++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nrs[i],
							    (uint8_t)(deny_at - here - 1), 0);
	}
	prog[(*n)++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
}

#ifdef X32_BIT
#define MASK_X32 1
#else
#define MASK_X32 0
#endif

/* The filter: arch first, then the numbers; a listed number and an unknown arch are
 * refused with EPERM (the last instruction). */
int confine_filter(struct sock_filter *prog, size_t cap, size_t *len)
{
	size_t need = 1 + (3 + MASK_X32 + NDENY(deny_native)) + 1, n = 0;

#ifdef COMPAT_ARCH
	need += 1 + 3 + NDENY(deny_compat);
#endif
	if (cap < need)
		return -ENOSPC;
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, arch));
	section(prog, &n, NATIVE_ARCH, deny_native, NDENY(deny_native), MASK_X32, need - 1);
#ifdef COMPAT_ARCH
	/* the native section left nr in A: arch again for this one's test */
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, arch));
	section(prog, &n, COMPAT_ARCH, deny_compat, NDENY(deny_compat), 0, need - 1);
#endif
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, DENY_RET);
	*len = n;
	return n == need ? 0 : -EFAULT;
}

int confine_self(uint64_t task_bounding)
{
	uint64_t keep = confine_duty_caps() | task_bounding, prm;
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	struct sock_filter prog[96];
	struct sock_fprog fprog;
	size_t len;
	int rc;

	/* bounding set first (dropping needs CAP_SETPCAP, kept until capset) */
	for (unsigned cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r < 0)
			break;          /* past the kernel's last capability */
		if (r == 1 && !(keep & CAPBIT(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	prm = (((uint64_t)data[1].permitted << 32) | data[0].permitted) & keep;
	data[0].permitted = (uint32_t)prm;
	data[1].permitted = (uint32_t)(prm >> 32);
	data[0].effective = (uint32_t)(prm & confine_duty_caps());
	data[1].effective = (uint32_t)((prm & confine_duty_caps()) >> 32);
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if ((rc = confine_filter(prog, sizeof(prog) / sizeof(prog[0]), &len)))
		return rc;
	fprog.len = (unsigned short)len;
	fprog.filter = prog;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
		return -errno;
	return 0;
}

int worker_confine(struct worker *w, const struct wtask *t)
{
	int rc;

	if (w->confined)
		return 0;
	if ((rc = confine_self(t->cap_bounding)) < 0)
		return rc;
	w->confined = true;
	return 0;
}
