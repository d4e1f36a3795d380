/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_init_spec.c: the config.json parser (worker/init/spec.c), the bare
 * Process parser of an exec (spec_process.c) and the mount option mapping: valid specs,
 * defaults, tables of malformed inputs, and mutated bytes. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include <seccomp.h>

#include "worker/init/init.h"
#include "worker/init/spec.h"

static const char full_spec[] =
	"{\"ociVersion\":\"1.0.2\","
	"\"process\":{\"terminal\":false,\"user\":{\"uid\":1000,\"gid\":100,\"umask\":18,"
	"\"additionalGids\":[5,6]},\"args\":[\"sh\",\"-c\",\"true\"],"
	"\"env\":[\"PATH=/bin\",\"A=b=c\"],\"cwd\":\"/work\","
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],\"effective\":[\"CAP_KILL\"],"
	"\"permitted\":[\"CAP_KILL\",\"CAP_NET_RAW\"],\"inheritable\":[\"CAP_NET_RAW\"],"
	"\"ambient\":[\"CAP_NET_RAW\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":512},"
	"{\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,\"soft\":0}],"
	"\"noNewPrivileges\":true,\"oomScoreAdj\":-500},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"h\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv\","
	"\"options\":[\"rbind\",\"ro\",\"rprivate\"]}],"
	"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":\"uts\"},"
	"{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}],"
	"\"rootfsPropagation\":\"rslave\",\"maskedPaths\":[\"/proc/kcore\"],"
	"\"readonlyPaths\":[\"/proc/sys\"],\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},"
	"\"resources\":{\"memory\":{\"limit\":1000000}},\"cgroupsPath\":\"/x\","
	"\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
	"\"architectures\":[\"SCMP_ARCH_X86_64\"],\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
	"\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
	"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
	"\"value\":8,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
	"{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}}}";

#define MIN_SPEC(process, rest) \
	"{\"process\":{\"args\":[\"/bin/true\"]" process "},\"root\":{\"path\":\"/\"}" rest "}"

START_TEST(parse_full)
{
	struct spec s;
	char err[256];
	const struct spec_process *p = &s.process;

	ck_assert_int_eq(spec_parse(full_spec, strlen(full_spec), &s, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(p->nargs, 3);
	ck_assert_str_eq(p->args[2], "true");
	ck_assert_ptr_null(p->args[3]);
	ck_assert_uint_eq(p->nenv, 2);
	ck_assert_str_eq(p->env[1], "A=b=c");
	ck_assert_str_eq(p->cwd, "/work");
	ck_assert_uint_eq(p->uid, 1000);
	ck_assert_uint_eq(p->gid, 100);
	ck_assert_uint_eq(p->ngids, 2);
	ck_assert_uint_eq(p->gids[1], 6);
	ck_assert(p->has_umask && p->umask == 022);
	ck_assert_uint_eq(p->nrlimits, 2);
	ck_assert_int_eq(p->rlimits[0].resource, RLIMIT_NOFILE);
	ck_assert(p->rlimits[0].soft == 512 && p->rlimits[0].hard == 1024);
	ck_assert(p->rlimits[1].hard == UINT64_MAX && p->rlimits[1].soft == 0);
	ck_assert(p->has_caps);
	ck_assert(p->caps[CAPSET_BOUNDING] ==
		  ((UINT64_C(1) << CAP_KILL) | (UINT64_C(1) << CAP_CHOWN)));
	ck_assert(p->caps[CAPSET_AMBIENT] == (UINT64_C(1) << CAP_NET_RAW));
	ck_assert(p->no_new_privs);
	ck_assert(p->has_oom_score_adj && p->oom_score_adj == -500);
	ck_assert_str_eq(s.root_path, "rootfs");
	ck_assert(s.root_readonly);
	ck_assert_str_eq(s.hostname, "h");
	ck_assert_uint_eq(s.nmounts, 2);
	ck_assert_str_eq(s.mounts[1].dest, "/data");
	ck_assert_str_eq(s.mounts[1].type, "bind");
	ck_assert_uint_eq(s.mounts[1].noptions, 3);
	ck_assert_str_eq(s.mounts[0].options ? "ok" : "null", "ok");
	ck_assert_uint_eq(s.nns, 4);
	ck_assert_int_eq(s.ns[3].flag, CLONE_NEWNET);
	ck_assert_str_eq(s.ns[3].path, "/proc/1/ns/net");
	ck_assert_ptr_null(s.ns[0].path);
	ck_assert_ptr_nonnull(spec_find_ns(&s, CLONE_NEWUTS));
	ck_assert_ptr_null(spec_find_ns(&s, CLONE_NEWIPC));
	ck_assert(s.rootfs_propagation == MS_SLAVE);
	ck_assert_uint_eq(s.nmasked, 1);
	ck_assert_uint_eq(s.nreadonly, 1);
	ck_assert_uint_eq(s.nsysctl, 1);
	ck_assert_str_eq(s.sysctl[0].key, "net.ipv4.ip_forward");
	ck_assert_ptr_nonnull(s.seccomp);
	ck_assert(s.seccomp->default_action == SCMP_ACT_ERRNO(38));
	ck_assert_uint_eq(s.seccomp->narchs, 1);
	ck_assert(s.seccomp->archs[0] == SCMP_ARCH_X86_64);
	ck_assert(s.seccomp->flag_log && !s.seccomp->flag_spec_allow);
	ck_assert_uint_eq(s.seccomp->nrules, 3);
	ck_assert(s.seccomp->rules[0].action == SCMP_ACT_ALLOW);
	ck_assert_uint_eq(s.seccomp->rules[1].nargs, 1);
	ck_assert(s.seccomp->rules[1].args[0].op == SCMP_CMP_EQ);
	ck_assert(s.seccomp->rules[1].args[0].value == 8);
	ck_assert(s.seccomp->rules[2].action == SCMP_ACT_ERRNO(13));
	spec_free(&s);
	ck_assert_ptr_null(s.process.args);
}
END_TEST

START_TEST(parse_defaults)
{
	static const char j[] = MIN_SPEC("", "");
	struct spec s;
	char err[256];

	ck_assert_int_eq(spec_parse(j, strlen(j), &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.process.cwd, "/");
	ck_assert_uint_eq(s.process.nenv, 0);
	ck_assert_ptr_nonnull(s.process.env);
	ck_assert_ptr_null(s.process.env[0]);
	ck_assert(!s.process.has_caps && !s.process.no_new_privs && !s.root_readonly);
	ck_assert(s.process.uid == 0 && s.process.gid == 0);
	ck_assert(s.rootfs_propagation == MS_PRIVATE);
	ck_assert_ptr_null(s.seccomp);
	ck_assert_ptr_null(s.hostname);
	ck_assert_uint_eq(s.nmounts + s.nns + s.nmasked + s.nsysctl, 0);
	spec_free(&s);
}
END_TEST

/* Accepts JSON null as absent, and unknown members (forward compatible). */
START_TEST(parse_nulls_and_unknown)
{
	static const char j[] = MIN_SPEC(",\"env\":null,\"user\":null,\"future\":{\"x\":[1]}",
					 ",\"mounts\":null,\"linux\":{\"seccomp\":null},\"z\":7");
	struct spec s;
	char err[256];

	ck_assert_int_eq(spec_parse(j, strlen(j), &s, err, sizeof(err)), 0);
	spec_free(&s);
}
END_TEST

static const struct { const char *json; const char *want; } bad[] = {
	{ "", "empty" },
	{ "{", "not valid JSON" },
	{ "{\"process\":{}} trailing", "not valid JSON" },
	{ "[]", "must be a JSON object" },
	{ "\"str\"", "must be a JSON object" },
	{ "{}", "process: is required" },
	{ "{\"process\":[]}", "process: must be an object" },
	{ "{\"process\":{},\"root\":{\"path\":\"/\"}}", "process.args" },
	{ MIN_SPEC("", "") "x", "not valid JSON" },
	{ "{\"process\":{\"args\":[]},\"root\":{\"path\":\"/\"}}", "must name a program" },
	{ "{\"process\":{\"args\":[\"\"]},\"root\":{\"path\":\"/\"}}", "must name a program" },
	{ "{\"process\":{\"args\":\"ls\"},\"root\":{\"path\":\"/\"}}", "process.args: must be an array" },
	{ "{\"process\":{\"args\":[1]},\"root\":{\"path\":\"/\"}}", "array of strings" },
	{ "{\"process\":{\"args\":[\"a\",null]},\"root\":{\"path\":\"/\"}}", "array of strings" },
	{ MIN_SPEC(",\"env\":[\"NOEQUALS\"]", ""), "KEY=VALUE" },
	{ MIN_SPEC(",\"env\":[\"=x\"]", ""), "KEY=VALUE" },
	{ MIN_SPEC(",\"cwd\":\"rel\"", ""), "process.cwd: must be an absolute path" },
	{ MIN_SPEC(",\"cwd\":5", ""), "process.cwd: must be a string" },
	{ MIN_SPEC(",\"terminal\":\"yes\"", ""), "process.terminal: must be true or false" },
	{ MIN_SPEC(",\"user\":{\"uid\":-1}", ""), "process.user.uid: is out of range" },
	{ MIN_SPEC(",\"user\":{\"uid\":1.5}", ""), "process.user.uid: must be an integer" },
	{ MIN_SPEC(",\"user\":{\"uid\":1e300}", ""), "out of range" },
	{ MIN_SPEC(",\"user\":{\"uid\":4294967295}", ""), "out of range" },
	{ MIN_SPEC(",\"user\":{\"gid\":\"0\"}", ""), "process.user.gid: must be a number" },
	{ MIN_SPEC(",\"user\":{\"additionalGids\":[-3]}", ""), "additionalGids" },
	{ MIN_SPEC(",\"user\":{\"additionalGids\":{}}", ""), "additionalGids: must be an array" },
	{ MIN_SPEC(",\"user\":{\"umask\":512}", ""), "umask: is out of range" },
	{ MIN_SPEC(",\"user\":7", ""), "process.user: must be an object" },
	{ MIN_SPEC(",\"oomScoreAdj\":1001", ""), "oomScoreAdj: is out of range" },
	{ MIN_SPEC(",\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\"}]", ""), "unknown resource" },
	{ MIN_SPEC(",\"rlimits\":[{\"soft\":1}]", ""), "type: is required" },
	{ MIN_SPEC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":-1}]", ""), "soft: is out of range" },
	{ MIN_SPEC(",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\"},{\"type\":\"RLIMIT_NOFILE\"}]", ""),
	  "duplicate type" },
	{ MIN_SPEC(",\"rlimits\":[3]", ""), "array of objects" },
	{ MIN_SPEC(",\"capabilities\":{\"bounding\":[\"CAP_FLY\"]}", ""), "unknown capability" },
	{ MIN_SPEC(",\"capabilities\":{\"bounding\":[\"CAP_\"]}", ""), "unknown capability" },
	{ MIN_SPEC(",\"capabilities\":{\"effective\":\"CAP_KILL\"}", ""), "must be an array" },
	{ MIN_SPEC(",\"capabilities\":{\"ambient\":[\"CAP_KILL\"]}", ""),
	  "must be permitted and inheritable" },
	{ MIN_SPEC("", ",\"linux\":{\"cgroupsPath\":\"/a/../b\"}"), "cgroupsPath: must not contain . or .." },
	{ MIN_SPEC("", ",\"annotations\":{\"io.shimvisor.cgroup.lazy\":\"/sv/default/../x\"}"),
	  "annotations.io.shimvisor.cgroup.lazy: must not contain . or .." },
	{ MIN_SPEC("", ",\"annotations\":{\"io.shimvisor.cgroup.lazy\":\"/a\\nb\"}"),
	  "io.shimvisor.cgroup.lazy: must not contain a newline" },
	{ MIN_SPEC("", ",\"annotations\":{\"io.shimvisor.cgroup.lazy\":3}"),
	  "io.shimvisor.cgroup.lazy: must be a string" },
	{ "{\"process\":{\"args\":[\"x\"]}}", "root: is required" },
	{ "{\"process\":{\"args\":[\"x\"]},\"root\":{}}", "root.path: is required" },
	{ "{\"process\":{\"args\":[\"x\"]},\"root\":{\"path\":\"\"}}", "root.path: must not be empty" },
	{ "{\"process\":{\"args\":[\"x\"]},\"root\":{\"path\":\"/\",\"readonly\":1}}",
	  "root.readonly: must be true or false" },
	{ MIN_SPEC("", ",\"hostname\":\"h\""), "hostname: needs a uts namespace" },
	{ MIN_SPEC("", ",\"hostname\":[]"), "hostname: must be a string" },
	{ MIN_SPEC("", ",\"mounts\":{}"), "mounts: must be an array" },
	{ MIN_SPEC("", ",\"mounts\":[\"/proc\"]"), "array of objects" },
	{ MIN_SPEC("", ",\"mounts\":[{\"type\":\"proc\"}]"), "destination: is required" },
	{ MIN_SPEC("", ",\"mounts\":[{\"destination\":\"proc\"}]"), "must be an absolute path" },
	{ MIN_SPEC("", ",\"mounts\":[{\"destination\":\"/p\",\"options\":[1]}]"), "array of strings" },
	{ MIN_SPEC("", ",\"linux\":[]"), "linux: must be an object" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"time\"}]}"), "unknown namespace type" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{}]}"), "type: is required" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}"),
	  "duplicate type" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"net\",\"path\":\"x\"}]}"),
	  "unknown namespace type" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"x\"}]}"),
	  "path: must be an absolute path" },
	{ MIN_SPEC("", ",\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]}"), "linux.uidMappings: needs a user namespace" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]}"), "linux.gidMappings: a new user namespace needs them" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}"), "linux.uidMappings: a new user namespace needs them" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}],\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]}"),
	  "linux.uidMappings: not with a user namespace joined by path" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],\"uidMappings\":[{\"hostID\":1}]}"),
	  "linux.uidMappings[].size: is required" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],\"uidMappings\":[{\"hostID\":-1,\"size\":1}]}"),
	  "linux.uidMappings[].hostID: is out of range" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],\"uidMappings\":[{\"hostID\":4294967295,\"size\":2}]}"),
	  "linux.uidMappings[].size: goes beyond the 32-bit ids" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],\"uidMappings\":[{\"size\":0}]}"),
	  "linux.uidMappings[].size: is out of range" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],\"uidMappings\":[3]}"), "uidMappings: must be an array of objects" },
	{ MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],\"uidMappings\":{}}"), "uidMappings: must be an array" },
	{ MIN_SPEC("", ",\"linux\":{\"rootfsPropagation\":\"sideways\"}"), "unknown propagation" },
	{ MIN_SPEC("", ",\"linux\":{\"maskedPaths\":[\"rel\"]}"), "maskedPaths: must be absolute" },
	{ MIN_SPEC("", ",\"linux\":{\"readonlyPaths\":\"/x\"}"), "readonlyPaths: must be an array" },
	{ MIN_SPEC("", ",\"linux\":{\"sysctl\":{\"a\":1}}"), "sysctl: values must be strings" },
	{ MIN_SPEC("", ",\"linux\":{\"sysctl\":[]}"), "sysctl: must be an object" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{}}"), "defaultAction: is required" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}}"),
	  "SCMP_ACT_NOTIFY is not supported" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"ALLOW\"}}"), "unknown action" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
		   "\"defaultErrnoRet\":70000}}"), "defaultErrnoRet: is out of range" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"architectures\":[\"SCMP_ARCH_VAX\"]}}"), "unknown architecture" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"flags\":[\"SECCOMP_FILTER_FLAG_X\"]}}"), "unknown flag" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_KILL\"}]}}"),
	  "names: must not be empty" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"syscalls\":[{\"names\":[\"\"],\"action\":\"SCMP_ACT_KILL\"}]}}"),
	  "must not contain empty names" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"syscalls\":[{\"names\":[\"read\"]}]}}"), "action: is required" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\","
		   "\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}}"),
	  "index: is out of range" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\","
		   "\"args\":[{\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}}"), "index: is required" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\","
		   "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_LIKE\"}]}]}}"),
	  "unknown operator" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\","
		   "\"args\":[{\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\"}]}]}}"),
	  "value: is out of range" },
	{ MIN_SPEC("", ",\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		   "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_KILL\","
		   "\"args\":[{},{},{},{},{},{},{}]}]}}"), "at most 6 conditions" },
};

START_TEST(parse_malformed)
{
	struct spec s;
	char err[256];
	int rc;

	memset(&s, 0xa5, sizeof(s));
	rc = spec_parse(bad[_i].json, strlen(bad[_i].json), &s, err, sizeof(err));
	ck_assert_msg(rc == -EINVAL, "case %d: rc %d for %s", _i, rc, bad[_i].json);
	ck_assert_msg(strstr(err, bad[_i].want) != NULL, "case %d: error \"%s\", want \"%s\"", _i,
		      err, bad[_i].want);
	ck_assert_msg(!strncmp(err, "config.json: ", 13), "case %d: prefix: %s", _i, err);
	ck_assert_ptr_null(s.process.args);     /* nothing left to free */
	ck_assert_ptr_null(s.mounts);
	ck_assert_ptr_null(s.seccomp);
}
END_TEST

/* The length is honoured: no reading past it, and a NUL inside is not the end. */
/* A new user namespace with its mappings; and 341 lines, one over the kernel's limit. */
START_TEST(parse_userns)
{
	static const char j[] = MIN_SPEC("", ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}],"
		"\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536},"
		"{\"containerID\":65536,\"hostID\":4294967294,\"size\":2}],"
		"\"gidMappings\":[{\"hostID\":200000,\"size\":1}]}");
	char err[256], *big = malloc(341 * 64 + 512), *p;
	struct spec s;

	ck_assert_int_eq(spec_parse(j, sizeof(j) - 1, &s, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(spec_find_ns(&s, CLONE_NEWUSER));
	ck_assert_uint_eq(s.nuid_map, 2);
	ck_assert_uint_eq(s.uid_map[0].host, 100000);
	ck_assert_uint_eq(s.uid_map[0].size, 65536);
	ck_assert_uint_eq(s.uid_map[1].container, 65536);
	ck_assert_uint_eq(s.uid_map[1].host, 4294967294u);
	ck_assert_uint_eq(s.ngid_map, 1);
	ck_assert_uint_eq(s.gid_map[0].container, 0);
	ck_assert_uint_eq(s.gid_map[0].host, 200000);
	spec_free(&s);
	p = big + sprintf(big, "{\"process\":{\"args\":[\"x\"]},\"root\":{\"path\":\"/\"},"
			  "\"linux\":{\"namespaces\":[{\"type\":\"user\"}],\"gidMappings\":"
			  "[{\"size\":1}],\"uidMappings\":[");
	for (int i = 0; i < 341; i++)
		p += sprintf(p, "%s{\"containerID\":%d,\"hostID\":%d,\"size\":1}", i ? "," : "", i,
			     100000 + i);
	strcpy(p, "]}}");
	ck_assert_int_eq(spec_parse(big, strlen(big), &s, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "config.json: linux.uidMappings: more than 340 mappings (the kernel's limit)");
	free(big);
}
END_TEST

START_TEST(parse_length_bound)
{
	static const char j[] = MIN_SPEC("", "");
	struct spec s;
	char err[64], *copy = malloc(sizeof(j) + 8);

	memcpy(copy, j, sizeof(j));
	memcpy(copy + sizeof(j) - 1, "garbage", 8);
	ck_assert_int_eq(spec_parse(copy, sizeof(j) - 1, &s, err, sizeof(err)), 0);
	spec_free(&s);
	ck_assert_int_eq(spec_parse(copy, sizeof(j) + 7, &s, err, sizeof(err)), -EINVAL);
	free(copy);
	/* A tiny error buffer truncates, never overflows. */
	ck_assert_int_eq(spec_parse("{}", 2, &s, err, 8), -EINVAL);
	ck_assert_uint_eq(strlen(err), 7);
	ck_assert_int_eq(spec_parse("{}", 2, &s, NULL, 0), -EINVAL);
}
END_TEST

/* Every prefix of a valid spec is refused cleanly; mutated bytes never crash. */
START_TEST(parse_truncated_and_mutated)
{
	size_t len = strlen(full_spec);
	char *buf = malloc(len + 1);
	unsigned seed = 12345;
	struct spec s;
	char err[256];

	for (size_t l = 0; l < len; l++) {
		memcpy(buf, full_spec, l);
		ck_assert_int_eq(spec_parse(buf, l, &s, err, sizeof(err)), -EINVAL);
	}
	for (int round = 0; round < 4000; round++) {
		memcpy(buf, full_spec, len + 1);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] = (char)(seed >> 20);
		}
		if (spec_parse(buf, len, &s, err, sizeof(err)) == 0)
			spec_free(&s);
		else
			ck_assert_uint_gt(strlen(err), 0);
	}
	free(buf);
}
END_TEST

START_TEST(mount_options)
{
	char *o1[] = { "nosuid", "noexec", "mode=755", "size=65536k", "strictatime", "ro", "rw" };
	char *o2[] = { "rbind", "rprivate", "ro", "nodev", "defaults" };
	char *o3[] = { "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", "" };
	char *o4[] = { "a,b" };
	char big[1100];
	char *o5[] = { big };
	struct mount_opts o;

	ck_assert_int_eq(mount_opts_parse(o1, 7, &o), 0);
	ck_assert(o.flags == (MS_NOSUID | MS_NOEXEC | MS_STRICTATIME));
	ck_assert(o.clear == MS_RDONLY);
	ck_assert_str_eq(o.data, "mode=755,size=65536k");
	ck_assert(!o.bind && !o.rbind && !o.propagation);
	ck_assert_int_eq(mount_opts_parse(o2, 5, &o), 0);
	ck_assert(o.bind && o.rbind);
	ck_assert(o.propagation == (MS_PRIVATE | MS_REC));
	ck_assert(o.flags == (MS_RDONLY | MS_NODEV));
	ck_assert_str_eq(o.data, "");
	ck_assert_int_eq(mount_opts_parse(o3, 5, &o), 0);
	ck_assert_str_eq(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
	ck_assert_int_eq(mount_opts_parse(o4, 1, &o), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(mount_opts_parse(o5, 1, &o), -E2BIG);
	ck_assert_int_eq(mount_opts_parse(NULL, 0, &o), 0);
}
END_TEST

/* containerd's ExecProcessRequest.spec: a bare OCI Process object. */
static const char exec_process[] =
	"{\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5]},"
	"\"args\":[\"sh\",\"-c\",\"id\"],\"env\":[\"PATH=/bin\",\"TERM=xterm\"],"
	"\"cwd\":\"/work\",\"terminal\":true,"
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
	"\"permitted\":[\"CAP_KILL\"]},"
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
	"\"noNewPrivileges\":true,\"apparmorProfile\":\"x\",\"consoleSize\":{\"height\":1}}";

START_TEST(parse_process_bare)
{
	struct spec_process p;
	char err[256];

	ck_assert_int_eq(spec_parse_process(exec_process, strlen(exec_process), &p, err,
					    sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(p.nargs, 3);
	ck_assert_str_eq(p.args[0], "sh");
	ck_assert_ptr_null(p.args[3]);
	ck_assert_uint_eq(p.nenv, 2);
	ck_assert_str_eq(p.env[1], "TERM=xterm");
	ck_assert_str_eq(p.cwd, "/work");
	ck_assert(p.terminal && p.no_new_privs && p.has_caps);
	ck_assert(p.uid == 1000 && p.gid == 100 && p.ngids == 1 && p.gids[0] == 5);
	ck_assert(p.caps[CAPSET_BOUNDING] == (UINT64_C(1) << CAP_KILL));
	ck_assert_uint_eq(p.nrlimits, 1);
	ck_assert_int_eq(p.rlimits[0].resource, RLIMIT_NOFILE);
	spec_process_free(&p);
	ck_assert_ptr_null(p.args);
	spec_process_free(&p);  /* twice is harmless */
}
END_TEST

START_TEST(parse_process_defaults)
{
	static const char j[] = " {\"args\":[\"/bin/true\"]}\n";
	struct spec_process p;
	char err[64];

	ck_assert_int_eq(spec_parse_process(j, strlen(j), &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.cwd, "/");
	ck_assert(p.env && !p.env[0] && p.nenv == 0);
	ck_assert(!p.terminal && !p.has_caps && !p.no_new_privs && p.uid == 0 && p.gid == 0);
	spec_process_free(&p);
}
END_TEST

static const struct { const char *json; const char *want; } bad_process[] = {
	{ "", "exec spec: empty" },
	{ "{", "exec spec: not valid JSON" },
	{ "{\"args\":[\"a\"]} x", "exec spec: not valid JSON" },
	{ "[\"sh\"]", "exec spec: must be a JSON object" },
	{ "{}", "exec spec: process.args: must name a program" },
	{ "{\"process\":{\"args\":[\"sh\"]}}", "exec spec: process.args: must name a program" },
	{ "{\"args\":[\"sh\"],\"env\":[\"X\"]}", "exec spec: process.env: entries must be KEY=VALUE" },
	{ "{\"args\":[\"sh\"],\"cwd\":\"rel\"}", "exec spec: process.cwd: must be an absolute path" },
	{ "{\"args\":[\"sh\"],\"terminal\":1}", "exec spec: process.terminal: must be true or false" },
	{ "{\"args\":[\"sh\"],\"user\":{\"uid\":-1}}", "exec spec: process.user.uid: is out of range" },
	{ "{\"args\":[\"sh\"],\"capabilities\":{\"ambient\":[\"CAP_KILL\"]}}",
	  "exec spec: process.capabilities.ambient: must be permitted and inheritable too" },
	{ "{\"args\":[\"sh\"],\"rlimits\":[{\"type\":\"RLIMIT_X\"}]}",
	  "exec spec: process.rlimits[].type: unknown resource" },
};

START_TEST(parse_process_malformed)
{
	struct spec_process p;
	char err[256];
	int rc;

	memset(&p, 0xa5, sizeof(p));
	rc = spec_parse_process(bad_process[_i].json, strlen(bad_process[_i].json), &p, err,
				sizeof(err));
	ck_assert_msg(rc == -EINVAL, "case %d: rc %d", _i, rc);
	ck_assert_msg(!strcmp(err, bad_process[_i].want), "case %d: error \"%s\", want \"%s\"",
		      _i, err, bad_process[_i].want);
	ck_assert_ptr_null(p.args);     /* nothing left to free */
	ck_assert_ptr_null(p.rlimits);
}
END_TEST

/* Every prefix is refused; a whole config.json is not a Process (no top-level args). */
START_TEST(parse_process_truncated)
{
	size_t len = strlen(exec_process);
	struct spec_process p;
	char err[256];

	for (size_t l = 0; l < len; l++)
		ck_assert_int_eq(spec_parse_process(exec_process, l, &p, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(spec_parse_process(full_spec, strlen(full_spec), &p, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "exec spec: process.args: must name a program");
}
END_TEST

/* An exec is clamped to its task's process: capabilities within its bounding set, its
 * no_new_privs; none given = the task's. */
START_TEST(exec_clamp)
{
	static const char task_json[] = "{\"args\":[\"a\"],\"noNewPrivileges\":true,"
		"\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],"
		"\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"]}}";
	struct spec_process task, ex;
	char err[256];

	ck_assert_int_eq(spec_parse_process(task_json, strlen(task_json), &task, err,
					    sizeof(err)), 0);
	/* beyond the bounding set, in any one set: refused, naming it */
	static const struct { const char *json, *msg; } bad_execs[] = {
		{ "{\"args\":[\"b\"],\"capabilities\":{\"bounding\":[\"CAP_SYS_ADMIN\"]}}",
		  "exec spec: process.capabilities.bounding: CAP_SYS_ADMIN is not in the task's "
		  "bounding set" },
		{ "{\"args\":[\"b\"],\"capabilities\":{\"effective\":[\"CAP_KILL\",\"CAP_SYS_MODULE\"]}}",
		  "exec spec: process.capabilities.effective: CAP_SYS_MODULE is not in the task's "
		  "bounding set" },
		{ "{\"args\":[\"b\"],\"capabilities\":{\"inheritable\":[\"CAP_NET_ADMIN\"]}}",
		  "exec spec: process.capabilities.inheritable: CAP_NET_ADMIN is not in the task's "
		  "bounding set" },
		{ "{\"args\":[\"b\"],\"capabilities\":{\"permitted\":[\"CAP_SETUID\"],"
		  "\"inheritable\":[\"CAP_SETUID\"],\"ambient\":[\"CAP_SETUID\"]}}",
		  "exec spec: process.capabilities.permitted: CAP_SETUID is not in the task's "
		  "bounding set" },
	};
	for (size_t i = 0; i < sizeof(bad_execs) / sizeof(bad_execs[0]); i++) {
		ck_assert_int_eq(spec_parse_process(bad_execs[i].json, strlen(bad_execs[i].json),
						    &ex, err, sizeof(err)), 0);
		err[0] = '\0';
		ck_assert_int_eq(spec_exec_clamp(&task, &ex, err, sizeof(err)), -EPERM);
		ck_assert_str_eq(err, bad_execs[i].msg);
		spec_process_free(&ex);
	}
	/* within it: kept as asked, with the task's no_new_privs */
	static const char ok_json[] = "{\"args\":[\"b\"],\"noNewPrivileges\":false,"
		"\"capabilities\":{\"bounding\":[\"CAP_CHOWN\"],\"effective\":[\"CAP_CHOWN\"]}}";
	ck_assert_int_eq(spec_parse_process(ok_json, strlen(ok_json), &ex, err, sizeof(err)), 0);
	ck_assert_int_eq(spec_exec_clamp(&task, &ex, err, sizeof(err)), 0);
	ck_assert_uint_eq(ex.caps[CAPSET_BOUNDING], UINT64_C(1) << CAP_CHOWN);
	ck_assert_int_eq(ex.no_new_privs, 1);
	spec_process_free(&ex);
	/* none given: the task's five sets */
	ck_assert_int_eq(spec_parse_process("{\"args\":[\"b\"]}", 14, &ex, err, sizeof(err)), 0);
	ck_assert_int_eq(spec_exec_clamp(&task, &ex, err, sizeof(err)), 0);
	ck_assert_int_eq(ex.has_caps, 1);
	ck_assert_mem_eq(ex.caps, task.caps, sizeof(ex.caps));
	spec_process_free(&ex);
	/* a task that names no capabilities keeps its init's: so may its execs */
	spec_process_free(&task);
	ck_assert_int_eq(spec_parse_process("{\"args\":[\"a\"]}", 14, &task, err, sizeof(err)), 0);
	ck_assert_int_eq(spec_parse_process(bad_execs[0].json, strlen(bad_execs[0].json), &ex,
					    err, sizeof(err)), 0);
	ck_assert_int_eq(spec_exec_clamp(&task, &ex, err, sizeof(err)), 0);
	ck_assert_int_eq(ex.no_new_privs, 0);
	spec_process_free(&ex);
	spec_process_free(&task);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("init_spec");
	TCase *tc = tcase_create("spec");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, parse_full);
	tcase_add_test(tc, parse_defaults);
	tcase_add_test(tc, parse_nulls_and_unknown);
	tcase_add_loop_test(tc, parse_malformed, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, parse_userns);
	tcase_add_test(tc, parse_length_bound);
	tcase_add_test(tc, parse_truncated_and_mutated);
	tcase_add_test(tc, mount_options);
	tcase_add_test(tc, parse_process_bare);
	tcase_add_test(tc, parse_process_defaults);
	tcase_add_loop_test(tc, parse_process_malformed, 0,
			    (int)(sizeof(bad_process) / sizeof(bad_process[0])));
	tcase_add_test(tc, parse_process_truncated);
	tcase_add_test(tc, exec_clamp);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
