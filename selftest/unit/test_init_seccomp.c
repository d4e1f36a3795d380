/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_init_seccomp.c: the built-in default profile as shimvisor-init parses,
 * compiles and loads it (a forked child tries what it refuses and what it allows), and the
 * cache of compiled filters: the same BPF from it, and a file anyone could have written
 * (not root's 0600, or a symlink) ignored. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "tap_main.h"
#include "build_fixture.h"
#include "worker/init/init.h"
#include "seccomp_default.h"    /* build/gen: etc/seccomp-default.json */

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* A config.json around a profile: the '#' lines of etc/'s file blanked. */
static char *config_with(const char *profile)
{
	char *p = strdup(profile), *c;
	size_t n = strlen(p);

	for (size_t i = 0; i < n; i++)
		if ((i == 0 || p[i - 1] == '\n') && p[i] == '#')
			for (; i < n && p[i] != '\n'; i++)
				p[i] = ' ';
	ck_assert_int_gt(asprintf(&c, "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/\"},"
				  "\"process\":{\"args\":[\"x\"],\"cwd\":\"/\"},"
				  "\"linux\":{\"seccomp\":%s}}", p), 0);
	free(p);
	return c;
}

static void prepare(struct init *in, const char *profile)
{
	char *cfg = config_with(profile);

	memset(in, 0, sizeof(*in));
	ck_assert_msg(spec_parse(cfg, strlen(cfg), &in->spec, in->err.msg, sizeof(in->err.msg)) == 0,
		      "%s", in->err.msg);
	free(cfg);
	ck_assert_msg(sv_seccomp_prepare(in) == 0, "%s", in->err.msg);
	ck_assert_ptr_nonnull(in->seccomp_bpf);
}

/* Each probe: 0 when it came out as it must; exits with the probe's number otherwise. */
static int probe(int n, long r, int want_errno)
{
	if (want_errno ? (r != -1 || errno != want_errno) : r < 0)
		_exit(n);
	return 0;
}

START_TEST(default_profile_refuses_and_allows)
{
	struct init in;
	int st;

	FX_QEMU_SKIP(FX_QEMU_NO_SECCOMP);
	prepare(&in, sv_seccomp_default);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sv_seccomp_load(&in))
			_exit(100);
		probe(1, syscall(SYS_keyctl, 0, -4, 0), EPERM);
		probe(2, unshare(CLONE_NEWUSER), EPERM);
		probe(3, unshare(CLONE_NEWNS), EPERM);
		probe(4, syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
		probe(5, syscall(SYS_clone3, NULL, 0), ENOSYS);
		probe(6, mount("none", "/mnt", "tmpfs", 0, NULL), EPERM);
		probe(7, syscall(SYS_bpf, 0, NULL, 0), EPERM);
		probe(8, syscall(SYS_ptrace, 0, 0, 0, 0), EPERM);
		probe(9, syscall(SYS_open_by_handle_at, -1, NULL, 0), EPERM);
		probe(10, syscall(SYS_setns, -1, 0), EPERM);
		probe(11, socket(AF_VSOCK, SOCK_STREAM, 0), EPERM);
		probe(12, syscall(SYS_userfaultfd, 0), EPERM);
		probe(13, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
		/* what ordinary programs do */
		int s = socket(AF_INET, SOCK_STREAM, 0);
		probe(20, s, 0);
		close(s);
		probe(21, personality(0xffffffff), 0);
		probe(22, getpid(), 0);
		pid_t c = fork();
		probe(23, c, 0);
		if (c == 0)
			_exit(0);
		probe(24, waitpid(c, &st, 0), 0);
		_exit(WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 25);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "probe %d failed", WEXITSTATUS(st));
	sv_seccomp_release(&in);
	spec_free(&in.spec);
}
END_TEST

static void plant(int dfd, const char *name, const void *bpf, size_t len, mode_t mode)
{
	unlinkat(dfd, name, 0);
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(write(fd, bpf, len), (ssize_t)len);
	close(fd);
}

START_TEST(compiled_filter_cache)
{
	/* a profile of our own (the pid in it): a key no other test shares */
	static const struct sock_filter allow_all[] = { BPF_STMT(BPF_RET | BPF_K, 0x7fff0000) };
	char profile[256], name[96];
	struct init a, b;

	if (geteuid() != 0)
		return; /* the cache is root's */
	snprintf(profile, sizeof(profile), "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
		 "[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":%d}]}",
		 (int)getpid() % 4000 + 1);
	prepare(&a, profile);
	sv_seccomp_cache_name(a.spec.seccomp, name, sizeof(name));
	int dfd = open(SV_SECCOMP_CACHE, O_PATH | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
	struct stat st;
	ck_assert_int_eq(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_uint_eq(st.st_uid, 0);
	/* the second one reads what the first compiled */
	prepare(&b, profile);
	ck_assert_uint_eq(a.seccomp_ninsns, b.seccomp_ninsns);
	ck_assert(memcmp(a.seccomp_bpf, b.seccomp_bpf, a.seccomp_ninsns * sizeof(struct sock_filter)) == 0);
	sv_seccomp_release(&b);
	spec_free(&b.spec);
	/* a file others may write, or a symlink: ignored, the filter compiled */
	plant(dfd, name, allow_all, sizeof(allow_all), 0666);
	prepare(&b, profile);
	ck_assert_uint_eq(b.seccomp_ninsns, a.seccomp_ninsns);
	sv_seccomp_release(&b);
	spec_free(&b.spec);
	unlinkat(dfd, name, 0);
	plant(dfd, "planted", allow_all, sizeof(allow_all), 0600);
	ck_assert_int_eq(symlinkat("planted", dfd, name), 0);
	prepare(&b, profile);
	ck_assert_uint_eq(b.seccomp_ninsns, a.seccomp_ninsns);
	sv_seccomp_release(&b);
	spec_free(&b.spec);
	unlinkat(dfd, "planted", 0);
	/* root's own 0600 file is what is loaded: the checks above are what refused */
	unlinkat(dfd, name, 0);
	plant(dfd, name, allow_all, sizeof(allow_all), 0600);
	prepare(&b, profile);
	ck_assert_uint_eq(b.seccomp_ninsns, 1);
	sv_seccomp_release(&b);
	spec_free(&b.spec);
	unlinkat(dfd, name, 0);
	close(dfd);
	sv_seccomp_release(&a);
	spec_free(&a.spec);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("init_seccomp");

	SV_TCASE(s, "seccomp", 30, default_profile_refuses_and_allows, compiled_filter_cache);
	return sv_run_suite(s);
}
