/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_confine.c: what a default task's config.json holds: the built-in
 * seccomp profile (moby's list of refused calls), the capability set, device rules, nodev
 * root, masked and read-only paths; the seccomp_profile override; --bundle left alone. */
#include <check.h>
#include <errno.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "supervisor/config.h"
#include "supervisor/engine.h"
#include "tap_main.h"
#include "wire/bytes.h"
#include "wire/limits.h"

/* moby's default refuses these to a task without CAP_SYS_ADMIN & co; issue 8 adds ptrace */
static const char *const refused[] = {
	"mount", "umount", "umount2", "unshare", "setns", "keyctl", "add_key", "request_key",
	"bpf", "ptrace", "open_by_handle_at", "kexec_load", "kexec_file_load", "init_module",
	"finit_module", "delete_module", "reboot", "swapon", "swapoff", "pivot_root",
	"perf_event_open", "userfaultfd", "clone3", "fsopen", "fsmount", "move_mount",
	"open_tree", "quotactl", "acct", "settimeofday", "clock_settime", "syslog", "iopl",
	"ioperm", "lookup_dcookie", "sethostname", "setdomainname", "vhangup",
	"process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "fanotify_init",
	"mbind", "set_mempolicy", NULL,
};

static cJSON *profile_json(void)
{
	char *text = NULL, err[256] = "";

	ck_assert_msg(spec_seccomp_profile(NULL, &text, err, sizeof(err)) == 0, "%s", err);
	cJSON *p = cJSON_Parse(text);
	ck_assert_ptr_nonnull(p);
	free(text);
	return p;
}

static int has(cJSON *arr, const char *s)
{
	cJSON *it;

	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && !strcmp(it->valuestring, s))
			return 1;
	return 0;
}

START_TEST(builtin_profile_refuses_moby_list)
{
	cJSON *p = profile_json(), *r, *allowed = cJSON_CreateArray();
	int clone_rules = 0, clone3_rules = 0;

	ck_assert_str_eq(cJSON_GetObjectItem(p, "defaultAction")->valuestring, "SCMP_ACT_ERRNO");
	ck_assert_int_eq(cJSON_GetObjectItem(p, "defaultErrnoRet")->valueint, 1);
	cJSON *archs = cJSON_GetObjectItem(p, "architectures");
	ck_assert(has(archs, "SCMP_ARCH_X86_64") && has(archs, "SCMP_ARCH_X86") &&
		  has(archs, "SCMP_ARCH_X32"));
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(p, "syscalls")) {
		cJSON *names = cJSON_GetObjectItem(r, "names"), *args = cJSON_GetObjectItem(r, "args");
		const char *act = cJSON_GetObjectItem(r, "action")->valuestring;

		if (has(names, "clone")) {
			/* clone only with none of the namespace flags: (flags & mask) == 0 */
			ck_assert_str_eq(act, "SCMP_ACT_ALLOW");
			ck_assert_int_eq(cJSON_GetArraySize(args), 1);
			cJSON *a = cJSON_GetArrayItem(args, 0);
			ck_assert_str_eq(cJSON_GetObjectItem(a, "op")->valuestring, "SCMP_CMP_MASKED_EQ");
			ck_assert_int_eq(cJSON_GetObjectItem(a, "index")->valueint, 0);
			double mask = cJSON_GetObjectItem(a, "value")->valuedouble;
			unsigned long m = (unsigned long)mask;
			ck_assert((m & (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
					CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP)) ==
				  (unsigned long)(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
						  CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP));
			ck_assert(!cJSON_GetObjectItem(a, "valueTwo") ||
				  cJSON_GetObjectItem(a, "valueTwo")->valuedouble == 0);
			clone_rules++;
			continue;
		}
		if (has(names, "clone3")) {
			ck_assert_str_eq(act, "SCMP_ACT_ERRNO");
			ck_assert_int_eq(cJSON_GetObjectItem(r, "errnoRet")->valueint, ENOSYS);
			clone3_rules++;
			continue;
		}
		if (!strcmp(act, "SCMP_ACT_ALLOW") && !args) {
			cJSON *n;
			cJSON_ArrayForEach(n, names)
				cJSON_AddItemToArray(allowed, cJSON_CreateString(n->valuestring));
		}
	}
	ck_assert_int_eq(clone_rules, 1);
	ck_assert_int_eq(clone3_rules, 1);
	for (size_t i = 0; refused[i]; i++)
		ck_assert_msg(!has(allowed, refused[i]), "%s is allowed", refused[i]);
	/* what a default task does need, and the one cap-conditional entry it keeps */
	const char *const needed[] = { "read", "write", "execve", "openat", "fork", "vfork",
				       "wait4", "mknodat", "arch_prctl", "chroot",
				       "name_to_handle_at", "rt_sigreturn", "exit_group", NULL };
	for (size_t i = 0; needed[i]; i++)
		ck_assert_msg(has(allowed, needed[i]), "%s is refused", needed[i]);
	cJSON_Delete(allowed);
	cJSON_Delete(p);
}
END_TEST

static cJSON *build(sv_CtlCreateRequest *rq, const char *cg, const char *profile)
{
	char *json = NULL, err[256] = "";
	size_t len = 0;

	ck_assert_msg(spec_build(rq, cg, profile, &json, &len, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_le(len, SV_CONFIG_MAX);
	cJSON *s = cJSON_ParseWithLength(json, len);
	ck_assert_ptr_nonnull(s);
	free(json);
	return s;
}

static cJSON *at(cJSON *o, const char *const *path)
{
	for (; o && *path; path++)
		o = cJSON_GetObjectItemCaseSensitive(o, *path);
	return o;
}

START_TEST(default_spec_is_confined)
{
	char *text = NULL, err[256];
	char *args[] = { "/bin/true" };
	sv_CtlCreateRequest rq = { .args = args, .args_count = 1 };

	strcpy(rq.id, "c1");
	ck_assert_int_eq(spec_seccomp_profile(NULL, &text, err, sizeof(err)), 0);
	cJSON *s = build(&rq, "", text), *p = cJSON_Parse(text);
	/* the profile, as it is */
	ck_assert(cJSON_Compare(at(s, (const char *[]){ "linux", "seccomp", NULL }), p, true));
	/* capabilities: no CAP_MKNOD, no CAP_SYS_ADMIN, in any set; no new privileges */
	const char *const sets[] = { "bounding", "effective", "permitted" };
	for (size_t i = 0; i < 3; i++) {
		cJSON *c = at(s, (const char *[]){ "process", "capabilities", sets[i], NULL });
		ck_assert_int_eq(cJSON_GetArraySize(c), 13);
		ck_assert(!has(c, "CAP_MKNOD") && !has(c, "CAP_SYS_ADMIN") && has(c, "CAP_SYS_CHROOT"));
	}
	ck_assert(cJSON_IsTrue(at(s, (const char *[]){ "process", "noNewPrivileges", NULL })));
	ck_assert_str_eq(at(s, (const char *[]){ "annotations", "io.shimvisor.root.nodev", NULL })->valuestring,
			 "true");
	/* moby's masked and read-only paths */
	cJSON *m = at(s, (const char *[]){ "linux", "maskedPaths", NULL });
	ck_assert_int_eq(cJSON_GetArraySize(m), 11);
	ck_assert(has(m, "/proc/kcore") && has(m, "/proc/keys") && has(m, "/sys/firmware") &&
		  has(m, "/sys/devices/virtual/powercap") && has(m, "/proc/sched_debug"));
	cJSON *ro = at(s, (const char *[]){ "linux", "readonlyPaths", NULL });
	ck_assert_int_eq(cJSON_GetArraySize(ro), 5);
	ck_assert(has(ro, "/proc/sys") && has(ro, "/proc/sysrq-trigger") && has(ro, "/proc/bus"));
	/* no cgroup: no device rules (nodev and no CAP_MKNOD do it) */
	ck_assert_ptr_null(at(s, (const char *[]){ "linux", "resources", NULL }));
	/* every writable mount but /dev and /dev/pts is nodev */
	cJSON *mnt;
	cJSON_ArrayForEach(mnt, cJSON_GetObjectItem(s, "mounts")) {
		const char *dst = cJSON_GetObjectItem(mnt, "destination")->valuestring;
		cJSON *o = cJSON_GetObjectItem(mnt, "options");
		if (strcmp(dst, "/dev") && strcmp(dst, "/dev/pts"))
			ck_assert_msg(has(o, "nodev") || has(o, "ro"), "%s", dst);
	}
	cJSON_Delete(s);
	/* with a cgroup: runc's device rules, deny all first */
	s = build(&rq, "/sv/default/c1", text);
	cJSON *d = at(s, (const char *[]){ "linux", "resources", "devices", NULL });
	ck_assert_int_eq(cJSON_GetArraySize(d), 10);
	cJSON *first = cJSON_GetArrayItem(d, 0);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(first, "allow")));
	ck_assert_ptr_null(cJSON_GetObjectItem(first, "type"));
	ck_assert_str_eq(cJSON_GetObjectItem(first, "access")->valuestring, "rwm");
	static const int want[][2] = { { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 },
				       { 5, 0 }, { 5, 1 }, { 5, 2 }, { 136, -1 } };
	for (int i = 0; i < 9; i++) {
		cJSON *r = cJSON_GetArrayItem(d, i + 1), *mi = cJSON_GetObjectItem(r, "minor");
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "allow")));
		ck_assert_str_eq(cJSON_GetObjectItem(r, "type")->valuestring, "c");
		ck_assert_int_eq(cJSON_GetObjectItem(r, "major")->valueint, want[i][0]);
		if (want[i][1] < 0)
			ck_assert_ptr_null(mi);
		else
			ck_assert_int_eq(mi->valueint, want[i][1]);
	}
	cJSON_Delete(s);
	cJSON_Delete(p);
	free(text);
}
END_TEST

/* A --bundle config is the client's: no profile, rules or annotation are added. */
START_TEST(bundle_config_left_alone)
{
	const char *cfg = "{\"root\":{\"path\":\"/r\"},\"process\":{\"args\":[\"x\"]}}";
	char *text = NULL, err[256];
	sv_CtlCreateRequest rq = { 0 };

	strcpy(rq.id, "b");
	rq.bundle_config = sv_bytes_new(cfg, strlen(cfg));
	ck_assert_int_eq(spec_seccomp_profile(NULL, &text, err, sizeof(err)), 0);
	cJSON *s = build(&rq, "/sv/default/b", text);
	ck_assert_ptr_null(at(s, (const char *[]){ "linux", "seccomp", NULL }));
	ck_assert_ptr_null(at(s, (const char *[]){ "linux", "resources", NULL }));
	ck_assert_ptr_null(cJSON_GetObjectItem(s, "annotations"));
	cJSON_Delete(s);
	free(rq.bundle_config);
	free(text);
}
END_TEST

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

START_TEST(profile_file_override)
{
	char dir[] = "/tmp/sv-prof-XXXXXX", path[64], *text = NULL, err[256] = "";
	const char *good = "# a comment\n{ \"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
			   "# another\n  \"syscalls\": [ {\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ERRNO\"} ] }\n";
	struct sv_config c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json", dir);
	write_file(path, good, strlen(good));
	ck_assert_msg(spec_seccomp_profile(path, &text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(text, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
			 "[\"mount\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
	free(text);
	/* not a profile: refused, the file named */
	const char *bad[] = { "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", "[1]", "{\"syscalls\":[]}",
			      "{\"defaultAction\":1,\"syscalls\":[]}", "{\"defaultAction\":\"x\",",
			      "  # not a comment: not at a line's start\n{}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i], strlen(bad[i]));
		err[0] = 0;
		ck_assert_int_eq(spec_seccomp_profile(path, &text, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, path), "%s", err);
	}
	/* too big for config.json's 64 KiB */
	size_t big = 49 * 1024;
	char *b = malloc(big);
	memset(b, ' ', big);
	write_file(path, b, big);
	free(b);
	ck_assert_int_eq(spec_seccomp_profile(path, &text, err, sizeof(err)), -EFBIG);
	unlink(path);
	ck_assert_int_eq(spec_seccomp_profile(path, &text, err, sizeof(err)), -ENOENT);
	rmdir(dir);
	/* the config key */
	sv_config_defaults(&c);
	ck_assert_str_eq(c.seccomp_profile, "");
	ck_assert_int_eq(sv_config_set(&c, "seccomp_profile", "/etc/x.json"), 0);
	ck_assert_str_eq(c.seccomp_profile, "/etc/x.json");
	sv_policy_free(&c.policy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_confine");

	SV_TCASE(s, "confine", 10, builtin_profile_refuses_moby_list, default_spec_is_confined,
		 bundle_config_left_alone, profile_file_override);
	return sv_run_suite(s);
}
