/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_worker_runc_options.c: containerd's runc options: decoding from an Any,
 * the fields refused by name, ShimCgroup joined, io_uid/io_gid on pipes only. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "tap_main.h"
#include "cgroup_fixture.h"
#include "wire/pbio.h"
#include "worker/runc_options.h"

/* An encoded Any of type url holding o. */
static uint8_t *any_of(const char *url, const sv_RuncOptions *o, size_t *len)
{
	uint8_t *val = NULL, *out = NULL;
	size_t vlen = 0;
	pb_bytes_array_t *b;
	sv_Any any = { .type_url = (char *)url };

	ck_assert_int_eq(sv_pb_encode(sv_RuncOptions_fields, o, &val, &vlen), 0);
	b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(vlen));
	ck_assert_ptr_nonnull(b);
	b->size = (pb_size_t)vlen;
	if (vlen)
		memcpy(b->bytes, val, vlen);
	any.value = b;
	ck_assert_int_eq(sv_pb_encode(sv_Any_fields, &any, &out, len), 0);
	free(b);
	free(val);
	return out;
}

START_TEST(test_decode)
{
	sv_RuncOptions in = { .shim_cgroup = (char *)"/pods/p1", .io_uid = 1000, .io_gid = 1001,
			      .no_new_keyring = true, .binary_name = (char *)"/usr/bin/crun" }, o;
	const char *urls[] = { SV_RUNC_OPTIONS_URL, "type.googleapis.com/containerd.runc.v1.Options" };
	uint8_t *buf;
	size_t len;

	for (size_t i = 0; i < 2; i++) {
		buf = any_of(urls[i], &in, &len);
		ck_assert_int_eq(runc_options_from_bytes(buf, len, &o), 1);
		ck_assert_str_eq(o.shim_cgroup, "/pods/p1");
		ck_assert_str_eq(o.binary_name, "/usr/bin/crun");
		ck_assert_uint_eq(o.io_uid, 1000);
		ck_assert_uint_eq(o.io_gid, 1001);
		ck_assert(o.no_new_keyring && !o.no_pivot_root && !o.systemd_cgroup);
		sv_pb_free(sv_RuncOptions_fields, &o);
		free(buf);
	}
	/* another type (ctr's --runtime-config-path): ignored, nothing decoded */
	buf = any_of("runtimeoptions.v1.Options", &in, &len);
	ck_assert_int_eq(runc_options_from_bytes(buf, len, &o), 0);
	ck_assert_ptr_null(o.shim_cgroup);
	free(buf);
	ck_assert_int_eq(runc_options_from_any("containerd.runc.v1.OptionsX", NULL, 0, &o), 0);
	ck_assert_int_eq(runc_options_from_any(NULL, NULL, 0, &o), 0);
	/* nothing on stdin; an empty message of the type: decoded, every field zero */
	ck_assert_int_eq(runc_options_from_bytes(NULL, 0, &o), 0);
	ck_assert_int_eq(runc_options_from_any(SV_RUNC_OPTIONS_URL, NULL, 0, &o), 1);
	ck_assert_int_eq(runc_options_refused(&o, (char[8]){ 0 }, 8), 0);
}
END_TEST

START_TEST(test_decode_hostile)
{
	/* a truncated length; a string "a\0b" (would be read as "a"); a wrong wire type */
	const uint8_t trunc[] = { 0x1a, 0x40, '/', 'x' };
	const uint8_t nul[] = { 0x1a, 0x03, 'a', 0, 'b' };
	const uint8_t wire[] = { 0x1d, 1, 2, 3, 4 };
	const uint8_t notany[] = { 0xff, 0xff, 0xff };
	sv_RuncOptions o;

	ck_assert_int_eq(runc_options_from_any(SV_RUNC_OPTIONS_URL, trunc, sizeof(trunc), &o), -EBADMSG);
	ck_assert_int_eq(runc_options_from_any(SV_RUNC_OPTIONS_URL, nul, sizeof(nul), &o), -EILSEQ);
	ck_assert_int_eq(runc_options_from_any(SV_RUNC_OPTIONS_URL, wire, sizeof(wire), &o), -EBADMSG);
	ck_assert_ptr_null(o.shim_cgroup);
	ck_assert_int_eq(runc_options_from_bytes(notany, sizeof(notany), &o), -EBADMSG);
}
END_TEST

START_TEST(test_refused)
{
	static const struct { const char *toml, *proto; } each[] = {
		{ "NoPivotRoot", "no_pivot_root" }, { "BinaryName", "binary_name" },
		{ "Root", "root" }, { "CriuPath", "criu_path" },
		{ "SystemdCgroup", "systemd_cgroup" }, { "CriuImagePath", "criu_image_path" },
		{ "CriuWorkPath", "criu_work_path" },
	};
	sv_RuncOptions o;
	char msg[512], want[64];

	for (size_t i = 0; i < sizeof(each) / sizeof(each[0]); i++) {
		memset(&o, 0, sizeof(o));
		switch (i) {
		case 0: o.no_pivot_root = true; break;
		case 1: o.binary_name = (char *)"runc"; break;
		case 2: o.root = (char *)"/run/x"; break;
		case 3: o.criu_path = (char *)"/usr/sbin/criu"; break;
		case 4: o.systemd_cgroup = true; break;
		case 5: o.criu_image_path = (char *)"/img"; break;
		case 6: o.criu_work_path = (char *)"/work"; break;
		}
		ck_assert_int_eq(runc_options_refused(&o, msg, sizeof(msg)), 1);
		snprintf(want, sizeof(want), "runc option %s (%s) is not supported: ", each[i].toml,
			 each[i].proto);
		ck_assert_msg(strncmp(msg, want, strlen(want)) == 0, "'%s' for %s", msg, each[i].proto);
		ck_assert_msg(strstr(msg, ": not implemented"), "%s", msg);
	}
	/* the honoured ones, and zero values ("" is not set) */
	o = (sv_RuncOptions){ .shim_cgroup = (char *)"/x", .io_uid = 1, .io_gid = 2,
			      .no_new_keyring = true, .binary_name = (char *)"", .root = (char *)"" };
	ck_assert_int_eq(runc_options_refused(&o, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
	/* several: every one named, in a message that never overflows */
	o = (sv_RuncOptions){ .systemd_cgroup = true, .binary_name = (char *)"runc",
			      .root = (char *)"/r" };
	ck_assert_int_eq(runc_options_refused(&o, msg, sizeof(msg)), 3);
	ck_assert(strstr(msg, "BinaryName") && strstr(msg, "Root (root)") && strstr(msg, "SystemdCgroup"));
	ck_assert_int_eq(runc_options_refused(&o, msg, 40), 3);
	ck_assert_uint_eq(strlen(msg), 39);
}
END_TEST

START_TEST(test_io_chown)
{
	char dir[] = "/tmp/sv-ro-XXXXXX", fifo[64], file[64];
	int p[2], fds[3];
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(file, sizeof(file), "%s/file", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(pipe(p), 0);
	fds[0] = p[0];
	fds[1] = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	fds[2] = open(fifo, O_RDWR | O_CLOEXEC);
	ck_assert(fds[1] >= 0 && fds[2] >= 0);
	ck_assert_int_eq(runc_io_chown(fds, 3, 4321, 4322), 0);
	ck_assert_int_eq(fstat(p[1], &st), 0);     /* the pipe: both ends */
	ck_assert(st.st_uid == 4321 && st.st_gid == 4322);
	ck_assert_int_eq(stat(file, &st), 0);      /* a file, a named FIFO: never */
	ck_assert(st.st_uid == 0 && st.st_gid == 0);
	ck_assert_int_eq(stat(fifo, &st), 0);
	ck_assert(st.st_uid == 0 && st.st_gid == 0);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(p[1]);
	unlink(fifo);
	unlink(file);
	rmdir(dir);
}
END_TEST

START_TEST(test_shim_cgroup_join)
{
	char name[64], rel[80], got[256], mnt[256];
	pid_t pid;

	if (!cgfx_mnt(CGC_PIDS, false, mnt, sizeof(mnt)) || !cgfx_mnt(CGC_MEMORY, false, mnt, sizeof(mnt))) {
		fprintf(stderr, "# SKIP: no v1 pids and memory hierarchies\n");
		return;
	}
	cgfx_name(name, sizeof(name), "shim");
	snprintf(rel, sizeof(rel), "/%s", name);
	/* in pids and memory only: the other hierarchies have no such directory, and are left */
	ck_assert_int_eq(cgfx_mkdir(CGC_PIDS, false, rel), 0);
	ck_assert_int_eq(cgfx_mkdir(CGC_MEMORY, false, rel), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	ck_assert_int_eq(runc_shim_cgroup_join(rel, pid), 0);
	cgfx_proc_cgroup(pid, "pids", got, sizeof(got));
	ck_assert_str_eq(got, rel);
	cgfx_proc_cgroup(pid, "memory", got, sizeof(got));
	ck_assert_str_eq(got, rel);
	cgfx_proc_cgroup(pid, "cpu", got, sizeof(got));
	ck_assert_str_ne(got, rel);
	/* a path in no hierarchy: refused, nothing made; no way out of the hierarchy */
	ck_assert_int_eq(runc_shim_cgroup_join("/sv-no-such-cgroup/x", pid), -ENOENT);
	ck_assert_int_eq(runc_shim_cgroup_join("/../..", pid), -EINVAL);
	ck_assert_int_eq(runc_shim_cgroup_join("", pid), -EINVAL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("runc_options");
	TCase *tc = tcase_create("cgroup");

	SV_TCASE(s, "decode", 10, test_decode, test_decode_hostile, test_refused, test_io_chown);
	tcase_add_unchecked_fixture(tc, NULL, cgfx_cleanup);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_shim_cgroup_join);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
