/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_kernel.c: each fallback of common/kernel.c (the kernel floor),
 * forced by a seccomp filter answering ENOSYS, against the real call's result. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "common/kernel.h"
#include "build_fixture.h"

/* From here on, close_range and openat2 answer ENOSYS (each test runs in its own fork). */
static void force_fallbacks(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	FX_QEMU_SKIP(FX_QEMU_NO_SECCOMP);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0), 0);
	ck_assert_int_eq(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SYS_close_range, 0), 0);
	ck_assert_int_eq(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SYS_openat2, 0), 0);
	ck_assert_int_eq(seccomp_load(ctx), 0);
	seccomp_release(ctx);
	ck_assert_int_eq(syscall(SYS_close_range, 1000, 999, 0), -1);
	ck_assert_int_eq(errno, ENOSYS);
}

/* A private mount namespace where /proc is an empty tmpfs: no /proc/self/fd. */
static void hide_proc(void)
{
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mount("none", "/proc", "tmpfs", 0, NULL), 0);
	ck_assert_int_eq(access("/proc/self/fd", F_OK), -1);
}

enum { FD_TOP = 1100 };
static const int fd_set_up[] = { 40, 41, 50, 99, 100, 101, 500, 1024, 1099 };

static void fds_open(void)
{
	int base = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(base, 0);
	for (size_t i = 0; i < sizeof(fd_set_up) / sizeof(fd_set_up[0]); i++)
		ck_assert_int_eq(dup2(base, fd_set_up[i]), fd_set_up[i]);
	close(base);
}

/* Each fd's state: -1 closed, 0 open, 1 open and close-on-exec. */
static void fds_state(signed char st[FD_TOP])
{
	for (int fd = 0; fd < FD_TOP; fd++) {
		int fl = fcntl(fd, F_GETFD);

		st[fd] = fl < 0 ? -1 : (fl & FD_CLOEXEC) ? 1 : 0;
	}
}

static void fds_clean(void)
{
	for (size_t i = 0; i < sizeof(fd_set_up) / sizeof(fd_set_up[0]); i++)
		close(fd_set_up[i]);
}

/* The fallback leaves the same fds (and flags) as close_range itself, with or without /proc. */
static void check_fd_fallback(int cloexec, int no_proc)
{
	signed char want[FD_TOP], got[FD_TOP];

	fds_open();
	ck_assert_int_eq(cloexec ? sv_cloexec_from(50) : sv_close_range(50, 500), 0);
	fds_state(want);
	fds_clean();
	if (no_proc)
		hide_proc();
	force_fallbacks();
	fds_open();
	ck_assert_int_eq(cloexec ? sv_cloexec_from(50) : sv_close_range(50, 500), 0);
	fds_state(got);
	ck_assert_int_eq(want[41], cloexec ? 0 : 0);
	ck_assert_int_eq(want[100], cloexec ? 1 : -1);
	ck_assert_int_eq(want[1024], cloexec ? 1 : 0);
	for (int fd = 0; fd < FD_TOP; fd++)
		ck_assert_msg(want[fd] == got[fd], "fd %d: close_range %d, fallback %d", fd,
			      want[fd], got[fd]);
	/* /proc back for what runs at exit (LeakSanitizer reads /proc/self/maps) */
	if (no_proc)
		ck_assert_int_eq(umount2("/proc", MNT_DETACH), 0);
}

START_TEST(close_range_fallback) { check_fd_fallback(0, 0); }
END_TEST
START_TEST(cloexec_fallback) { check_fd_fallback(1, 0); }
END_TEST
START_TEST(close_range_fallback_no_proc) { check_fd_fallback(0, 1); }
END_TEST
START_TEST(cloexec_fallback_no_proc) { check_fd_fallback(1, 1); }
END_TEST

/* A hostile tree under a scratch root: escapes by "..", absolute and looping symlinks,
 * magic links through a procfs mounted inside it (in a private mount namespace). */
static char root_path[64];

static void put_file(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int hostile_tree(void)
{
	static const char *const links[][2] = {
		{ "a/up", "../../../.." }, { "a/b/esc", "../../../../etc/passwd" },
		{ "abs", "/a/b" }, { "abs_passwd", "/etc/passwd" }, { "loop1", "loop2" },
		{ "loop2", "loop1" }, { "self_root", "/proc/self/root" },
		{ "host_root", "/proc/1/root/etc" }, { "dangling", "nowhere/x" },
		{ "a/b/to_file", "file" }, { "empty_dir_link", "a/" }, { "dotdot", ".." },
		{ "new_link", "/created_by_link" },
	};
	static const char *const dirs[] = { "a", "a/b", "etc", "proc", "chain" };
	char p[128];
	int fd;

	snprintf(root_path, sizeof(root_path), "/tmp/svkern.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root_path));
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	fd = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		ck_assert_int_eq(mkdirat(fd, dirs[i], 0755), 0);
	put_file(fd, "etc/passwd", "inside\n");
	put_file(fd, "a/b/file", "f\n");
	snprintf(p, sizeof(p), "%s/proc", root_path);
	ck_assert_int_eq(mount("proc", p, "proc", 0, NULL), 0);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		ck_assert_int_eq(symlinkat(links[i][1], fd, links[i][0]), 0);
	/* chain/l0 -> l1 -> ... -> l40 -> /a/b/file: 41 links; chain/l1 is 40 */
	for (int i = 0; i <= 40; i++) {
		char name[32], target[32];

		snprintf(name, sizeof(name), "chain/l%d", i);
		if (i == 40)
			snprintf(target, sizeof(target), "/a/b/file");
		else
			snprintf(target, sizeof(target), "l%d", i + 1);
		ck_assert_int_eq(symlinkat(target, fd, name), 0);
	}
	return fd;
}

/* The tree gone (its procfs first: it is in this process's mount namespace only). */
static void tree_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "%s/proc", root_path);
	ck_assert_int_eq(umount2(cmd, MNT_DETACH), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root_path);
	ck_assert_int_eq(system(cmd), 0);
}

static const struct walk_case {
	const char *path;
	int flags;
} walk_cases[] = {
	{ "a/b/file", O_RDONLY }, { "/a/b/file", O_PATH }, { "a/b/file/", O_RDONLY },
	{ "a/b/file/x", O_PATH }, { "", O_PATH }, { "/", O_PATH }, { ".", O_PATH | O_DIRECTORY },
	{ "..", O_PATH }, { "../../..", O_PATH }, { "../../etc/passwd", O_RDONLY },
	{ "a/up", O_PATH }, { "a/up/etc/passwd", O_RDONLY }, { "a/b/esc", O_RDONLY },
	{ "abs", O_PATH | O_DIRECTORY }, { "abs/file", O_RDONLY }, { "abs/../b/file", O_RDONLY },
	{ "abs_passwd", O_RDONLY }, { "abs_passwd", O_PATH | O_NOFOLLOW },
	{ "abs_passwd", O_RDONLY | O_NOFOLLOW }, { "loop1", O_PATH }, { "loop1/x", O_PATH },
	{ "loop1", O_PATH | O_NOFOLLOW }, { "self_root", O_PATH }, { "self_root/etc", O_PATH },
	{ "host_root", O_PATH }, { "proc/self", O_PATH }, { "proc/self/status", O_RDONLY },
	{ "proc/self/root", O_PATH }, { "proc/self/fd/0", O_RDONLY }, { "proc/1/ns/mnt", O_RDONLY },
	{ "proc/self/cwd/x", O_PATH }, { "dangling", O_PATH }, { "a/b/to_file", O_RDONLY },
	{ "a/b/to_file/", O_RDONLY }, { "empty_dir_link", O_PATH | O_DIRECTORY },
	{ "empty_dir_link/b", O_PATH }, { "dotdot/dotdot/a", O_PATH }, { "abs", O_RDONLY | O_DIRECTORY },
	{ "abs_passwd", O_PATH | O_DIRECTORY }, { "a//b///file", O_RDONLY },
	{ "a/./b/./file", O_RDONLY }, { "chain/l1", O_RDONLY }, { "chain/l0", O_RDONLY },
	{ "chain/l1/", O_RDONLY }, { "new_file", O_WRONLY | O_CREAT }, { "new_link", O_WRONLY | O_CREAT },
	{ "new_excl", O_WRONLY | O_CREAT | O_EXCL }, { "abs_passwd", O_WRONLY | O_CREAT | O_EXCL },
	{ "a/b", O_RDONLY | O_DIRECTORY }, { "a/", O_WRONLY | O_CREAT }, { "/", O_RDONLY | O_CREAT },
	{ "a/b/..", O_RDONLY | O_CREAT },
};
enum { NCASES = sizeof(walk_cases) / sizeof(walk_cases[0]) };

/* What an open gave: -errno, or the file's identity. */
struct outcome {
	int err;
	dev_t dev;
	ino_t ino;
	mode_t mode;
	int acc;
};

static struct outcome open_outcome(int rootfd, const struct walk_case *c)
{
	struct outcome o = { 0 };
	struct stat st;
	int fd = sv_open_in_root(rootfd, c->path, c->flags, 0600);

	if (fd < 0) {
		o.err = fd;
		return o;
	}
	ck_assert_int_eq(fstat(fd, &st), 0);
	o.dev = st.st_dev;
	o.ino = st.st_ino;
	o.mode = st.st_mode;
	o.acc = fcntl(fd, F_GETFL) & (O_ACCMODE | O_PATH);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);
	return o;
}

static void created_remove(int rootfd)
{
	unlinkat(rootfd, "new_file", 0);
	unlinkat(rootfd, "created_by_link", 0);
	unlinkat(rootfd, "new_excl", 0);
}

START_TEST(open_in_root_fallback)
{
	struct outcome want[NCASES], got;
	int rootfd = hostile_tree();

	for (size_t i = 0; i < NCASES; i++)
		want[i] = open_outcome(rootfd, &walk_cases[i]);
	/* what the tree is for: nothing leads out, magic links and loops refused */
	ck_assert_int_eq(want[11].err, 0);      /* a/up/etc/passwd: the root's own */
	ck_assert_int_eq(want[19].err, -ELOOP); /* loop1 */
	ck_assert_int_eq(want[27].err, -ELOOP); /* proc/self/root */
	ck_assert_int_eq(want[42].err, -ELOOP); /* 41 links */
	ck_assert_int_eq(want[41].err, 0);      /* 40 links */
	created_remove(rootfd);
	force_fallbacks();
	for (size_t i = 0; i < NCASES; i++) {
		got = open_outcome(rootfd, &walk_cases[i]);
		ck_assert_msg(got.err == want[i].err && got.dev == want[i].dev &&
			      got.ino == want[i].ino && got.mode == want[i].mode &&
			      got.acc == want[i].acc,
			      "%s (flags %#x): openat2 %d (ino %lu), walk %d (ino %lu)",
			      walk_cases[i].path, walk_cases[i].flags, want[i].err,
			      (unsigned long)want[i].ino, got.err, (unsigned long)got.ino);
	}
	created_remove(rootfd);
	close(rootfd);
	tree_remove();
}
END_TEST

/* The mount id from fdinfo (below Linux 5.8) is statx's, across a bind mount of the same
 * filesystem (which st_dev cannot tell apart), a symlink not followed, an fd itself. */
START_TEST(mnt_id_fallback)
{
	char dir[64] = "/tmp/svmnt.XXXXXX", sub[96];
	static const struct { const char *name; int flags; } objs[] = {
		{ "", AT_EMPTY_PATH }, { "sub", 0 }, { "sub/", 0 }, { "plain", 0 },
		{ "link", AT_SYMLINK_NOFOLLOW }, { "link", 0 }, { "..", 0 },
	};
	struct sv_fileid a, b;
	uint64_t mnt;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(mount(dir, sub, NULL, MS_BIND, NULL), 0);
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mkdirat(fd, "plain", 0755), 0);
	ck_assert_int_eq(symlinkat("sub", fd, "link"), 0);
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		ck_assert_int_eq(sv_fileid(fd, objs[i].name, objs[i].flags, &a), 0);
		ck_assert_int_ne(a.mnt, 0);     /* statx's own, on this kernel */
		ck_assert_msg(sv_mnt_id_fdinfo(fd, objs[i].name, objs[i].flags, &mnt) == 0, "%s", objs[i].name);
		ck_assert_msg(mnt == a.mnt, "%s: statx %llu, fdinfo %llu", objs[i].name,
			      (unsigned long long)a.mnt, (unsigned long long)mnt);
	}
	/* what it is for: the bind mount's id differs, its device does not */
	ck_assert_int_eq(sv_fileid(fd, "sub", 0, &a), 0);
	ck_assert_int_eq(sv_fileid(fd, "plain", 0, &b), 0);
	ck_assert_int_eq(a.dev, b.dev);
	ck_assert_int_ne(a.mnt, b.mnt);
	ck_assert_int_eq(sv_mnt_id_fdinfo(fd, "nowhere", 0, &mnt), -ENOENT);
	close(fd);
	ck_assert_int_eq(umount2(sub, MNT_DETACH), 0);
	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(sub), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_kernel");

	SV_TCASE(s, "fds", 20, close_range_fallback, cloexec_fallback,
		 close_range_fallback_no_proc, cloexec_fallback_no_proc);
	SV_TCASE(s, "open_in_root", 20, open_in_root_fallback);
	SV_TCASE(s, "mount_ids", 10, mnt_id_fallback);
	return sv_run_suite(s);
}
