/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/seccomp.c: the spec's seccomp filter as BPF: from the cache of compiled filters
 * (keyed by the profile and libseccomp), else built with libseccomp and cached; loaded as the
 * last step before exec. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "common/sha256.h"
#include "worker/init/init.h"

/* Compiling a profile the size of moby's default costs ~20 ms of CPU with libseccomp 2.5
 * (x86_64 with its x86 and x32 sub-architectures); a task would pay it at every start. The
 * BPF depends only on the profile, libseccomp's version, the native architecture and the
 * kernel API level libseccomp detects, so it is kept here, one file per key. Root-only:
 * the directory is used only when owned by root and writable by nobody else. */
#define BPF_MAX_BYTES (BPF_MAXINSNS * sizeof(struct sock_filter))
#define CACHE_MAX_FILES 256     /* distinct profiles kept (--bundle configs bring their own) */

static int add_rule(struct init *in, scmp_filter_ctx ctx, const struct spec_sc_rule *r,
		    const char *name)
{
	struct scmp_arg_cmp cmp[6];
	int nr = seccomp_syscall_resolve_name(name), rc;

	/* A syscall unknown to libseccomp or to these architectures is skipped, as runc does. */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	for (size_t i = 0; i < r->nargs && i < 6; i++) {
		cmp[i].arg = r->args[i].index;
		cmp[i].op = (enum scmp_compare)r->args[i].op;
		cmp[i].datum_a = r->args[i].value;
		cmp[i].datum_b = r->args[i].value2;
	}
	rc = seccomp_rule_add_array(ctx, r->action, nr, (unsigned)r->nargs, cmp);
	if (rc == -EDOM || rc == -EOPNOTSUPP)
		return 0; /* not expressible on one of the architectures */
	if (rc)
		return init_fail(&in->err, rc, "linux.seccomp: rule for %s", name);
	return 0;
}

static int build(struct init *in, const struct spec_seccomp *sc, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx = seccomp_init(sc->default_action);
	int rc;

	if (!ctx)
		return init_failmsg(&in->err, -EINVAL, "linux.seccomp: bad defaultAction");
	*out = ctx;
	/* no_new_privs is set by caps.c when the spec asks for it, never implicitly. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)))
		return init_fail(&in->err, rc, "linux.seccomp: attribute");
	/* A binary tree of syscall numbers, not a list: the same decisions, but the kernel's
	 * load (it runs the filter for every syscall number, to cache the allowed ones) costs
	 * half: 0.65 ms instead of 1.2 ms for the default profile here. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (size_t i = 0; i < sc->narchs; i++) {
		rc = seccomp_arch_add(ctx, sc->archs[i]);
		if (rc && rc != -EEXIST)
			return init_fail(&in->err, rc, "linux.seccomp: architecture");
	}
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct spec_sc_rule *r = &sc->rules[i];

		if (r->action == sc->default_action)
			continue;
		for (size_t n = 0; n < r->nnames; n++)
			if ((rc = add_rule(in, ctx, r, r->names[n])))
				return rc;
	}
	return 0;
}

/* Read a whole BPF program (a multiple of 8 bytes, at most BPF_MAXINSNS) from fd. */
static int read_bpf(int fd, struct init *in)
{
	struct stat st;
	char *b;
	ssize_t r;
	size_t n = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size > BPF_MAX_BYTES || st.st_size % sizeof(struct sock_filter))
		return -EINVAL;
	if (!(b = malloc((size_t)st.st_size)))
		return -ENOMEM;
	while (n < (size_t)st.st_size && (r = pread(fd, b + n, (size_t)st.st_size - n, (off_t)n)) > 0)
		n += (size_t)r;
	if (n != (size_t)st.st_size) {
		free(b);
		return -EIO;
	}
	in->seccomp_bpf = b;
	in->seccomp_ninsns = n / sizeof(struct sock_filter);
	return 0;
}

/* The cache key: the profile's digest (spec_seccomp.c) with what else shapes the BPF. */
void sv_seccomp_cache_name(const struct spec_seccomp *sc, char *name, size_t sz)
{
	const struct scmp_version *v = seccomp_version();
	char key[256], hex[65];
	int n = snprintf(key, sizeof(key), "libseccomp %u.%u.%u arch %u api %u tree profile ",
			 v->major, v->minor, v->micro, seccomp_arch_native(), seccomp_api_get());

	for (size_t i = 0; i < sizeof(sc->digest) && n + 2 < (int)sizeof(key); i++)
		n += snprintf(key + n, sizeof(key) - (size_t)n, "%02x", sc->digest[i]);
	sv_sha256_hex(key, strlen(key), hex, 32);
	snprintf(name, sz, "seccomp-%s.bpf", hex);
}

/* The cache directory, when it is root's alone (made if missing); else -1. */
static int cache_dir(void)
{
	struct stat st;
	int fd;

	if (mkdir(SV_SECCOMP_CACHE, 0700) < 0 && errno != EEXIST)
		return -1;
	fd = open(SV_SECCOMP_CACHE, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int cache_lookup(struct init *in, int dfd, const char *name)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	rc = fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022) ? -EPERM : read_bpf(fd, in);
	close(fd);
	return rc;
}

static size_t cache_files(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	size_t n = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return SIZE_MAX;
	}
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Best effort: a cache that cannot be written only costs the next start a compile. At most
 * CACHE_MAX_FILES: clients choose --bundle profiles, and /run is memory. */
static void cache_store(struct init *in, int dfd, const char *name)
{
	size_t len = in->seccomp_ninsns * sizeof(struct sock_filter);
	char tmp[96];
	int fd;

	if (cache_files(dfd) >= CACHE_MAX_FILES + 2)
		return;

	snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, in->seccomp_bpf, len) != (ssize_t)len || close(fd) < 0 ||
	    renameat(dfd, tmp, dfd, name) < 0)
		unlinkat(dfd, tmp, 0);
}

int sv_seccomp_prepare(struct init *in)
{
	const struct spec_seccomp *sc = in->spec.seccomp;
	scmp_filter_ctx ctx = NULL;
	char name[96];
	int dfd, mfd, rc;

	if (!sc || in->seccomp_bpf)
		return 0;
	sv_seccomp_cache_name(sc, name, sizeof(name));
	dfd = cache_dir();
	if (dfd >= 0 && cache_lookup(in, dfd, name) == 0) {
		close(dfd);
		return 0;
	}
	rc = build(in, sc, &ctx);
	/* the BPF once, through a memfd: what is loaded is what the cache gets */
	if (!rc && (mfd = memfd_create("seccomp", MFD_CLOEXEC)) < 0)
		rc = init_fail(&in->err, -errno, "linux.seccomp: memfd");
	else if (!rc) {
		if ((rc = seccomp_export_bpf(ctx, mfd)))
			init_fail(&in->err, rc, "linux.seccomp: compile");
		else if ((rc = read_bpf(mfd, in)))
			init_fail(&in->err, rc, "linux.seccomp: compiled filter");
		close(mfd);
	}
	if (ctx)
		seccomp_release(ctx);
	if (!rc && dfd >= 0)
		cache_store(in, dfd, name);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

int sv_seccomp_load(struct init *in)
{
	const struct spec_seccomp *sc = in->spec.seccomp;
	struct sock_fprog prog = { .len = (unsigned short)in->seccomp_ninsns,
				   .filter = in->seccomp_bpf };
	unsigned flags = 0;

	if (!in->seccomp_bpf || in->seccomp_loaded)
		return 0;
	if (sc->flag_log)
		flags |= SECCOMP_FILTER_FLAG_LOG;
	if (sc->flag_spec_allow)
		flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
		return init_fail(&in->err, -errno, "linux.seccomp: load");
	in->seccomp_loaded = 1;
	return 0;
}

void sv_seccomp_release(struct init *in)
{
	free(in->seccomp_bpf);
	in->seccomp_bpf = NULL;
}
