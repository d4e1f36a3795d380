/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/cgroups_v2_devices.c: the devices rules on cgroup2, a BPF_CGROUP_DEVICE program.
 * The rules are first folded the way the v1 devices cgroup folds them ("a" resets the list
 * and the default; other rules add or take away exceptions), then each exception becomes a
 * match block, as runc's devicefilter does. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "worker/init/cgroups.h"

struct devrule {
	char type;              /* 'c' or 'b' or 'a' (both) */
	int64_t major, minor;   /* -1 = any */
	unsigned access;        /* BPF_DEVCG_ACC_* */
};

struct folded {
	int default_allow;
	struct devrule *ex;     /* exceptions to the default */
	size_t n;
};

static unsigned access_bits(const char *a)
{
	return (strchr(a, 'm') ? BPF_DEVCG_ACC_MKNOD : 0) | (strchr(a, 'r') ? BPF_DEVCG_ACC_READ : 0) |
	       (strchr(a, 'w') ? BPF_DEVCG_ACC_WRITE : 0);
}

static void fold(struct folded *f, const struct res_device *d)
{
	struct devrule r = { d->type, d->major, d->minor, access_bits(d->access) };
	size_t i;

	if (d->type == 'a' && d->major < 0 && d->minor < 0) {
		f->default_allow = d->allow;    /* "a": a new default, no exceptions */
		f->n = 0;
		return;
	}
	for (i = 0; i < f->n; i++)
		if (f->ex[i].type == r.type && f->ex[i].major == r.major && f->ex[i].minor == r.minor)
			break;
	if (d->allow != f->default_allow) {     /* one more exception */
		if (i < f->n)
			f->ex[i].access |= r.access;
		else
			f->ex[f->n++] = r;
	} else if (i < f->n) {                  /* back to the default for these bits */
		f->ex[i].access &= ~r.access;
		if (!f->ex[i].access)
			f->ex[i] = f->ex[--f->n];
	}
}

/* One BPF instruction. */
static struct bpf_insn ins(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i;

	memset(&i, 0, sizeof(i));
	i.code = code;
	i.dst_reg = dst & 0xf;
	i.src_reg = src & 0xf;
	i.off = off;
	i.imm = imm;
	return i;
}

#define LDX_W(dst, src, off)  ins(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) ins(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src)   ins(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define JNE_IMM(dst, imm, off) ins(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define JNE_REG(dst, src, off) ins(BPF_JMP | BPF_JNE | BPF_X, dst, src, off, 0)
#define MOV64_IMM(dst, imm)   ins(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define EXIT_INSN()           ins(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* The program: R2 = device type, R3 = access, R4 = major, R5 = minor; one block per
 * exception (first match returns its verdict), then the default. */
static size_t build(const struct folded *f, struct bpf_insn *p)
{
	size_t n = 0;

	p[n++] = LDX_W(BPF_REG_2, BPF_REG_1, 0);
	p[n++] = ALU32_IMM(BPF_AND, BPF_REG_2, 0xffff);
	p[n++] = LDX_W(BPF_REG_3, BPF_REG_1, 0);
	p[n++] = ALU32_IMM(BPF_RSH, BPF_REG_3, 16);
	p[n++] = LDX_W(BPF_REG_4, BPF_REG_1, 4);
	p[n++] = LDX_W(BPF_REG_5, BPF_REG_1, 8);
	for (size_t i = 0; i < f->n; i++) {
		const struct devrule *r = &f->ex[i];
		size_t jumps[4], nj = 0;
		unsigned all = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

		if (r->type != 'a') {
			jumps[nj++] = n;
			p[n++] = JNE_IMM(BPF_REG_2, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK :
					 BPF_DEVCG_DEV_CHAR, 0);
		}
		if (r->access != all) {         /* the request must ask for no other bit */
			p[n++] = MOV32_REG(BPF_REG_1, BPF_REG_3);
			p[n++] = ALU32_IMM(BPF_AND, BPF_REG_1, (int32_t)r->access);
			jumps[nj++] = n;
			p[n++] = JNE_REG(BPF_REG_1, BPF_REG_3, 0);
		}
		if (r->major >= 0) {
			jumps[nj++] = n;
			p[n++] = JNE_IMM(BPF_REG_4, (int32_t)r->major, 0);
		}
		if (r->minor >= 0) {
			jumps[nj++] = n;
			p[n++] = JNE_IMM(BPF_REG_5, (int32_t)r->minor, 0);
		}
		p[n++] = MOV64_IMM(BPF_REG_0, !f->default_allow);
		p[n++] = EXIT_INSN();
		for (size_t k = 0; k < nj; k++)
			p[jumps[k]].off = (int16_t)(n - jumps[k] - 1);
	}
	p[n++] = MOV64_IMM(BPF_REG_0, f->default_allow);
	p[n++] = EXIT_INSN();
	return n;
}

static int sys_bpf(int cmd, union bpf_attr *a)
{
	long rc = syscall(SYS_bpf, cmd, a, sizeof(*a));

	return rc < 0 ? -errno : (int)rc;
}

/* Detach the device programs attached to cg before ours (their ids in ids[0..n)). */
static void detach_old(int cg, const uint32_t *ids, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		union bpf_attr a;
		int fd;

		memset(&a, 0, sizeof(a));
		a.prog_id = ids[i];
		if ((fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a)) < 0)
			continue;
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)cg;
		a.attach_bpf_fd = (uint32_t)fd;
		a.attach_type = BPF_CGROUP_DEVICE;
		sys_bpf(BPF_PROG_DETACH, &a);
		close(fd);
	}
}

int cgv2_devices(int dfd, const struct spec_resources *r, struct init_err *e)
{
	size_t ndef = 0;
	struct folded f = { 1, NULL, 0 };
	struct bpf_insn *prog = NULL;
	uint32_t old[64], nold;
	union bpf_attr a;
	int cg = -1, pfd = -1, rc;
	size_t n;

	while (cgv1_default_devices[ndef])
		ndef++;
	f.ex = calloc(r->ndevices + ndef, sizeof(*f.ex));
	prog = calloc((r->ndevices + ndef) * 11 + 8, sizeof(*prog));
	if (!f.ex || !prog) {
		rc = init_fail(e, -ENOMEM, "cgroup devices");
		goto out;
	}
	for (size_t i = 0; i < r->ndevices; i++) {
		if (r->devices[i].major > INT32_MAX || r->devices[i].minor > INT32_MAX) {
			rc = init_failmsg(e, -EINVAL, "linux.resources.devices: device number too big");
			goto out;
		}
		fold(&f, &r->devices[i]);
	}
	for (size_t i = 0; cgv1_default_devices[i]; i++) {
		const char *s = cgv1_default_devices[i];
		struct res_device d = { 1, s[0], -1, -1, "" };
		char *end;

		if (s[2] != '*')
			d.major = strtol(s + 2, &end, 10);
		end = strchr(s, ':') + 1;
		if (*end != '*')
			d.minor = strtol(end, NULL, 10);
		snprintf(d.access, sizeof(d.access), "%s", strchr(end, ' ') + 1);
		fold(&f, &d);
	}
	n = build(&f, prog);
	/* A real fd (not O_PATH) of the directory: BPF wants to read it as a cgroup. */
	cg = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		rc = init_fail(e, -errno, "cgroup devices: open");
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cg;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uintptr_t)old;
	a.query.prog_cnt = sizeof(old) / sizeof(old[0]);
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		a.query.prog_cnt = 0;
	nold = a.query.prog_cnt;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uintptr_t)prog;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t)"Apache-2.0";
	if ((pfd = sys_bpf(BPF_PROG_LOAD, &a)) < 0) {
		rc = init_fail(e, pfd, "cgroup devices: load the BPF filter");
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cg;
	a.attach_bpf_fd = (uint32_t)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if ((rc = sys_bpf(BPF_PROG_ATTACH, &a)) < 0) {
		rc = init_fail(e, rc, "cgroup devices: attach the BPF filter");
		goto out;
	}
	detach_old(cg, old, nold);
	rc = 0;
out:
	if (pfd >= 0)
		close(pfd);
	if (cg >= 0)
		close(cg);
	free(prog);
	free(f.ex);
	return rc;
}
