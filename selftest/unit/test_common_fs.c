/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_common_fs.c: atomic writes, bounded reads, mkdir, mount-safe removal, fd flags, SHA-256. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "common/sha256.h"
#include "common/unixsock.h"

/* A fresh scratch directory: its path in buf, an O_DIRECTORY fd returned. */
static int scratch(char buf[64])
{
	int fd;

	snprintf(buf, 64, "/tmp/svfs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(buf));
	fd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static void scratch_done(int fd, const char *path)
{
	const char *base = strrchr(path, '/') + 1;

	int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	close(fd);
	ck_assert_int_ge(tmp, 0);
	ck_assert_int_eq(sv_remove_tree(tmp, base), 0);
	ck_assert_int_eq(faccessat(tmp, base, F_OK, AT_SYMLINK_NOFOLLOW), -1);
	close(tmp);
}

static void put(int dfd, const char *name, const char *s)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void expect(int dfd, const char *name, const char *want)
{
	char *s;
	size_t len;

	ck_assert_int_eq(sv_read_file(dfd, name, 1 << 20, &s, &len), 0);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(s, want);
	free(s);
}

START_TEST(atomic_write)
{
	char path[64], name[300];
	int d = scratch(path), o;
	struct stat st1, st2;

	umask(022);
	ck_assert_int_eq(sv_write_atomic(d, "exit", "0 1 2\n", 6, 0640), 0);
	expect(d, "exit", "0 1 2\n");
	ck_assert_int_eq(fstatat(d, "exit", &st1, 0), 0);
	ck_assert_uint_eq(st1.st_mode & 07777, 0640);
	ck_assert_int_eq(faccessat(d, "exit.tmp", F_OK, 0), -1);
	/* replaced by rename: a new inode, never a half-written file */
	ck_assert_int_eq(sv_write_atomic(d, "exit", "137 3 4\n", 8, 0640), 0);
	expect(d, "exit", "137 3 4\n");
	ck_assert_int_eq(fstatat(d, "exit", &st2, 0), 0);
	ck_assert_uint_ne(st1.st_ino, st2.st_ino);
	ck_assert_int_eq(sv_write_atomic(d, "empty", "", 0, 0600), 0);
	expect(d, "empty", "");

	/* a planted name.tmp symlink is not followed: it is replaced by a new file */
	ck_assert_int_eq(mkdirat(d, "outside", 0755), 0);
	o = openat(d, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(o, "victim", "keep");
	ck_assert_int_eq(symlinkat("outside/victim", d, "pid.tmp"), 0);
	ck_assert_int_eq(sv_write_atomic(d, "pid", "1", 1, 0644), 0);
	expect(o, "victim", "keep");
	expect(d, "pid", "1");
	/* nor a hard link planted as name.tmp (it was truncated and written before) */
	ck_assert_int_eq(linkat(o, "victim", d, "exit.tmp", 0), 0);
	ck_assert_int_eq(sv_replace_file(d, "exit", "9 1 2\n", 6, 0644), 0);
	expect(o, "victim", "keep");
	expect(d, "exit", "9 1 2\n");
	/* nor a symlink planted as name itself: the link is replaced, its target kept */
	ck_assert_int_eq(unlinkat(d, "pid", 0), 0);
	ck_assert_int_eq(symlinkat("outside/victim", d, "pid"), 0);
	ck_assert_int_eq(sv_write_atomic(d, "pid", "2", 1, 0644), 0);
	expect(o, "victim", "keep");
	expect(d, "pid", "2");

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(sv_write_atomic(d, name, "x", 1, 0644), -ENAMETOOLONG);
	ck_assert_int_eq(sv_write_atomic(d, "", "x", 1, 0644), -EINVAL);
	close(o);
	scratch_done(d, path);
}
END_TEST

START_TEST(read_cap)
{
	char path[64], *s = (char *)1, big[10001];
	int d = scratch(path), o;
	size_t len = 7;

	put(d, "hundred", "0123456789012345678901234567890123456789012345678901234567890123456789"
			  "012345678901234567890123456789");
	ck_assert_int_eq(sv_read_file(d, "hundred", 100, &s, &len), 0);
	ck_assert_uint_eq(len, 100);
	ck_assert_int_eq(s[100], '\0');
	free(s);
	ck_assert_int_eq(sv_read_file(d, "hundred", 99, &s, &len), -EFBIG);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(sv_read_file(d, "hundred", 0, &s, &len), -EFBIG);

	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(d, "big", big);
	ck_assert_int_eq(sv_read_file(d, "big", 10000, &s, &len), 0);   /* grows past 4 KiB */
	ck_assert_uint_eq(len, 10000);
	ck_assert_str_eq(s, big);
	free(s);
	ck_assert_int_eq(sv_read_file(d, "big", 9999, &s, &len), -EFBIG);

	put(d, "empty", "");
	ck_assert_int_eq(sv_read_file(d, "empty", 0, &s, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(s, "");
	free(s);

	ck_assert_int_eq(sv_read_file(d, "missing", 10, &s, &len), -ENOENT);
	ck_assert_int_eq(mkdirat(d, "outside", 0755), 0);
	o = openat(d, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(o, "secret", "s");
	ck_assert_int_eq(symlinkat("outside/secret", d, "config.json"), 0);
	ck_assert_int_eq(sv_read_file(d, "config.json", 10, &s, &len), -ELOOP);
	close(o);
	scratch_done(d, path);
}
END_TEST

START_TEST(remove_tree_no_follow)
{
	char path[64];
	int d = scratch(path), o, t, a;

	ck_assert_int_eq(mkdirat(d, "outside", 0755), 0);
	o = openat(d, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(o, "keep", "precious");

	ck_assert_int_eq(mkdirat(d, "t", 0711), 0);
	t = openat(d, "t", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(mkdirat(t, "a", 0755), 0);
	a = openat(t, "a", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(mkdirat(a, "b", 0), 0);   /* mode 0: we are root, still removable */
	put(a, "file", "x");
	ck_assert_int_eq(symlinkat("../../outside", t, "dirlink"), 0);
	ck_assert_int_eq(symlinkat("../../outside/keep", a, "filelink"), 0);
	ck_assert_int_eq(symlinkat("/nonexistent", a, "dangling"), 0);
	ck_assert_int_eq(mkfifoat(t, "fifo", 0600), 0);
	close(a);
	close(t);

	ck_assert_int_eq(sv_remove_tree(d, "t"), 0);
	ck_assert_int_eq(faccessat(d, "t", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	expect(o, "keep", "precious");
	ck_assert_int_eq(sv_remove_tree(d, "t"), 0);   /* ENOENT is success */

	/* a top-level symlink to a directory: the link goes, the target stays */
	ck_assert_int_eq(symlinkat("outside", d, "lnk"), 0);
	ck_assert_int_eq(sv_remove_tree(d, "lnk"), 0);
	ck_assert_int_eq(faccessat(d, "lnk", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	expect(o, "keep", "precious");

	/* a plain file */
	put(d, "f", "1");
	ck_assert_int_eq(sv_remove_tree(d, "f"), 0);
	ck_assert_int_eq(faccessat(d, "f", F_OK, AT_SYMLINK_NOFOLLOW), -1);

	ck_assert_int_eq(sv_remove_tree(d, "outside/keep"), -EINVAL);
	ck_assert_int_eq(sv_remove_tree(d, ".."), -EINVAL);
	ck_assert_int_eq(sv_remove_tree(d, "."), -EINVAL);
	ck_assert_int_eq(sv_remove_tree(d, ""), -EINVAL);
	expect(o, "keep", "precious");
	close(o);
	scratch_done(d, path);
}
END_TEST

START_TEST(remove_tree_mounts)
{
	char path[64], sub[128];
	int d, t, o;

	/* needs a private mount namespace (root); this test runs in its own forked child */
	if (unshare(CLONE_NEWNS) < 0) {
		fprintf(stderr, "# skip remove_tree_mounts: unshare: %s\n", strerror(errno));
		return;
	}
	ck_assert_int_eq(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL), 0);
	d = scratch(path);
	ck_assert_int_eq(mkdirat(d, "outside", 0755), 0);
	o = openat(d, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	put(o, "keep", "bind source");
	ck_assert_int_eq(mkdirat(d, "t", 0755), 0);
	t = openat(d, "t", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(mkdirat(t, "m", 0755), 0);
	put(t, "plain", "p");

	/* a tmpfs (another device) */
	snprintf(sub, sizeof(sub), "%s/t/m", path);
	ck_assert_int_eq(mount("tmpfs", sub, "tmpfs", 0, "size=64k"), 0);
	put(t, "m/inside", "on tmpfs");
	ck_assert_int_eq(sv_remove_tree(d, "t"), -EBUSY);
	expect(t, "m/inside", "on tmpfs");
	ck_assert_int_eq(faccessat(t, "plain", F_OK, 0), -1);   /* the rest is removed */
	ck_assert_int_eq(sv_remove_tree(t, "m"), -EBUSY);   /* the mount point itself */
	expect(t, "m/inside", "on tmpfs");
	ck_assert_int_eq(umount(sub), 0);

	/* a bind mount of the same filesystem (same st_dev, other mount id) */
	ck_assert_int_eq(mkdirat(t, "b", 0755), 0);
	snprintf(sub, sizeof(sub), "%s/t/b", path);
	char src[128];

	snprintf(src, sizeof(src), "%s/outside", path);
	ck_assert_msg(mount(src, sub, "none", MS_BIND, NULL) == 0, "bind %s %s: %s", src, sub, strerror(errno));
	ck_assert_int_eq(sv_remove_tree(d, "t"), -EBUSY);
	expect(o, "keep", "bind source");
	ck_assert_int_eq(umount(sub), 0);

	ck_assert_int_eq(sv_remove_tree(d, "t"), 0);
	expect(o, "keep", "bind source");
	close(t);
	close(o);
	scratch_done(d, path);
}
END_TEST

/* exists without following the last component: what faccessat(AT_SYMLINK_NOFOLLOW) would
 * say, also where musl has no faccessat2 (Linux < 5.8: selftest/e2e/85-floor.t) */
START_TEST(lexists_at)
{
	char path[64];
	int d = scratch(path);

	put(d, "f", "1");
	ck_assert_int_eq(symlinkat("/nonexistent", d, "dangling"), 0);
	ck_assert_int_eq(sv_lexists_at(d, "f"), 0);
	ck_assert_int_eq(sv_lexists_at(d, "dangling"), 0);
	ck_assert_int_eq(sv_lexists_at(d, "missing"), -ENOENT);
	ck_assert_int_eq(sv_lexists_at(d, "f/x"), -ENOTDIR);
	ck_assert_int_eq(sv_lexists_at(-1, "f"), -EBADF);
	scratch_done(d, path);
}
END_TEST

START_TEST(mkdirs)
{
	char path[64], p[160];
	int d = scratch(path), fd, fd2;
	struct stat st;

	fd = sv_mkdir_open(d, "bundle", 0711);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	fd2 = sv_mkdir_open(d, "bundle", 0711);   /* exists: fine */
	ck_assert_int_ge(fd2, 0);
	close(fd2);
	close(fd);
	ck_assert_int_eq(symlinkat("bundle", d, "lnk"), 0);
	ck_assert_int_lt(sv_mkdir_open(d, "lnk", 0711), 0);
	put(d, "file", "");
	ck_assert_int_eq(sv_mkdir_open(d, "file", 0711), -ENOTDIR);

	snprintf(p, sizeof(p), "%s/x/y//z/", path);
	ck_assert_int_eq(sv_mkdir_p(p, 0755), 0);
	ck_assert_int_eq(sv_mkdir_p(p, 0755), 0);
	ck_assert_int_eq(fstatat(d, "x/y/z", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISDIR(st.st_mode));
	snprintf(p, sizeof(p), "%s/file/sub", path);
	ck_assert_int_eq(sv_mkdir_p(p, 0755), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/file", path);
	ck_assert_int_eq(sv_mkdir_p(p, 0755), -ENOTDIR);
	ck_assert_int_eq(sv_mkdir_p("relative/dir", 0755), -EINVAL);
	ck_assert_int_eq(sv_mkdir_p("/", 0755), 0);
	scratch_done(d, path);
}
END_TEST

START_TEST(fd_flags_and_self_dir)
{
	char dir[4096];
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(sv_set_cloexec(p[0], 1), 0);
	ck_assert_int_eq(fcntl(p[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(sv_set_cloexec(p[0], 0), 0);
	ck_assert_int_eq(fcntl(p[0], F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(sv_set_nonblock(p[0], 1), 0);
	ck_assert_int_eq(fcntl(p[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	ck_assert_int_eq(sv_set_nonblock(p[0], 0), 0);
	ck_assert_int_eq(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(sv_set_cloexec(p[0], 1), -EBADF);

	ck_assert_int_eq(sv_self_dir(dir, sizeof(dir)), 0);
	ck_assert_int_eq(dir[0], '/');
	ck_assert_msg(strlen(dir) > 9 && strcmp(dir + strlen(dir) - 9, "/selftest") == 0, "%s", dir);
	ck_assert_int_eq(sv_self_dir(dir, 2), -ENAMETOOLONG);
}
END_TEST

static void hash_is(const void *data, size_t len, const char *want)
{
	char hex[65];

	sv_sha256_hex(data, len, hex, 32);
	ck_assert_str_eq(hex, want);
}

START_TEST(sha256_vectors)
{
	static const struct { size_t n; const char *hex; } as[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
		{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
		{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
		{ 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
		{ 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
		{ 128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e" },
	};
	char *million = malloc(1000000), hex[65];

	hash_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hash_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hash_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	ck_assert_ptr_nonnull(million);
	memset(million, 'a', 1000000);
	hash_is(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	for (size_t i = 0; i < sizeof(as) / sizeof(as[0]); i++)
		hash_is(million, as[i].n, as[i].hex);   /* padding edges around 56/64 bytes */
	free(million);

	sv_sha256_hex("abc", 3, hex, 6);   /* a prefix, as for socket names */
	ck_assert_str_eq(hex, "ba7816bf8f01");
}
END_TEST

/* The shim socket name the monitor and a worker under containerd both derive: the same
 * function, the same bytes as sha256 of "<prefix>/<ns>/<id>" (or "<ns>/<id>"). */
START_TEST(shim_socket_name)
{
	char path[108], longdir[120];

	ck_assert_int_eq(sv_shim_socket_name("/run/x/.s", "/run/x", "default", "t1", path,
					     sizeof(path)), 0);
	ck_assert_str_eq(path, "/run/x/.s/428d1c2b44ca3eacc039fe1c6f703ac5");
	ck_assert_int_eq(sv_shim_socket_name("/d", "", "default", "t1", path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/d/62a0a9a4cc0fa64c9533175591209644");
	ck_assert_int_eq(sv_shim_socket_name("/d", NULL, "default", "t1", path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/d/62a0a9a4cc0fa64c9533175591209644");
	/* a name past sun_path is refused, never cut */
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[80] = 0;
	ck_assert_int_eq(sv_shim_socket_name(longdir, "p", "n", "i", path, sizeof(path)),
			 -ENAMETOOLONG);
}
END_TEST

/* Mounts on an entry come off only when it is a directory of the fd's own: a symlink
 * planted there (to a mount elsewhere) is refused and that mount left; stacked mounts on
 * the real one all come off, up to max. */
START_TEST(umount_no_follow)
{
	char path[64], sub[128];
	int d, r;

	if (unshare(CLONE_NEWNS) < 0) {
		fprintf(stderr, "# skip umount_no_follow: unshare: %s\n", strerror(errno));
		return;
	}
	ck_assert_int_eq(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL), 0);
	d = scratch(path);
	ck_assert_int_eq(mkdirat(d, "victim", 0755), 0);
	snprintf(sub, sizeof(sub), "%s/victim", path);
	ck_assert_int_eq(mount("tmpfs", sub, "tmpfs", 0, "size=64k"), 0);
	ck_assert_int_eq(symlinkat("victim", d, "rootfs"), 0);
	ck_assert_int_eq(sv_umount_all_at(d, "rootfs", 16), -ENOTDIR);
	ck_assert_int_eq(sv_umount_all_at(AT_FDCWD, sub, 16), -EINVAL);   /* one name only */
	r = openat(d, "victim", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(r, 0);
	ck_assert_int_eq(sv_umount_all_at(r, "..", 16), -EINVAL);
	close(r);
	/* still mounted: a file made there is on the tmpfs */
	ck_assert_int_eq(sv_remove_tree(d, "victim"), -EBUSY);

	/* the real directory: two stacked mounts, then nothing */
	ck_assert_int_eq(unlinkat(d, "rootfs", 0), 0);
	ck_assert_int_eq(mkdirat(d, "rootfs", 0755), 0);
	snprintf(sub, sizeof(sub), "%s/rootfs", path);
	ck_assert_int_eq(mount("tmpfs", sub, "tmpfs", 0, "size=64k"), 0);
	ck_assert_int_eq(mount("tmpfs", sub, "tmpfs", 0, "size=64k"), 0);
	ck_assert_int_eq(sv_umount_all_at(d, "rootfs", 1), 1);
	ck_assert_int_eq(sv_umount_all_at(d, "rootfs", 16), 1);
	ck_assert_int_eq(sv_umount_all_at(d, "rootfs", 16), 0);
	ck_assert_int_eq(sv_umount_all_at(d, "absent", 16), 0);
	ck_assert_int_eq(sv_remove_tree(d, "rootfs"), 0);
	snprintf(sub, sizeof(sub), "%s/victim", path);
	ck_assert_int_eq(umount(sub), 0);
	scratch_done(d, path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common_fs");
	TCase *tc = tcase_create("fs");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, atomic_write);
	tcase_add_test(tc, read_cap);
	tcase_add_test(tc, remove_tree_no_follow);
	tcase_add_test(tc, remove_tree_mounts);
	tcase_add_test(tc, umount_no_follow);
	tcase_add_test(tc, lexists_at);
	tcase_add_test(tc, mkdirs);
	tcase_add_test(tc, fd_flags_and_self_dir);
	tcase_add_test(tc, sha256_vectors);
	tcase_add_test(tc, shim_socket_name);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
