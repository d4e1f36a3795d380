/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_sup_policy.c: the monitor's policy check, from the side of an engine
 * that lies: every config beyond the policy refused with the field named; the engine's own
 * default configs pass; the [policy] keys. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "supervisor/engine.h"
#include "supervisor/policy.h"
#include "tap_main.h"

static struct sv_policy pol;
static const struct sv_policy_task task = { .ns = "default", .id = "t1", .cgroup_parent = "/shimvisor" };
static char why[256];

/* The engine's config for `run t1 /bin/true` (with a pids limit: a cgroup of its own). */
static cJSON *engine_config(bool limit)
{
	char *args[] = { "/bin/true" };
	sv_CtlCreateRequest rq = { .id = "t1", .args = args, .args_count = 1 };
	char err[256], *json, *profile;
	size_t len;
	cJSON *c;

	if (limit)
		rq.pids = 50;
	ck_assert_int_eq(spec_seccomp_profile(NULL, &profile, err, sizeof(err)), 0);
	ck_assert_int_eq(spec_build(&rq, limit ? "/shimvisor/default/t1" : "", profile, &json, &len,
				    err, sizeof(err)), 0);
	free(profile);
	c = cJSON_ParseWithLength(json, len);
	free(json);
	ck_assert_ptr_nonnull(c);
	return c;
}

static int check(cJSON *c)
{
	char *s = cJSON_PrintUnformatted(c);
	int r = sv_policy_check(&pol, &task, s, strlen(s), why, sizeof(why));

	free(s);
	cJSON_Delete(c);
	return r;
}

#define REFUSED(c, err, text)                                                          \
	do {                                                                            \
		int r_ = check(c);                                                      \
		ck_assert_msg(r_ == (err), "got %d (%s), want %d", r_, why, (err));    \
		ck_assert_msg(strstr(why, text), "reason \"%s\" lacks \"%s\"", why, text); \
	} while (0)

static cJSON *at(cJSON *c, const char *a, const char *b)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(c, a);

	return b ? cJSON_GetObjectItemCaseSensitive(o, b) : o;
}

static void setup(void)
{
	sv_policy_defaults(&pol);
}

static void teardown(void)
{
	sv_policy_free(&pol);
}

START_TEST(engine_defaults_pass)
{
	ck_assert_int_eq(check(engine_config(false)), 0);
	ck_assert_int_eq(check(engine_config(true)), 0);
}
END_TEST

START_TEST(capability_beyond_policy)
{
	static const char *const sets[] = { "bounding", "effective", "permitted" };

	for (size_t i = 0; i < 3; i++) {
		cJSON *c = engine_config(false);
		cJSON_AddItemToArray(at(at(c, "process", "capabilities"), sets[i], NULL),
				     cJSON_CreateString("CAP_SYS_ADMIN"));
		REFUSED(c, -EPERM, "CAP_SYS_ADMIN: not permitted");
		ck_assert_msg(strstr(why, sets[i]), "%s", why);
	}
	cJSON *c = engine_config(false);
	cJSON_AddItemToObject(at(c, "process", "capabilities"), "ambient",
			      cJSON_CreateStringArray((const char *[]){ "CAP_SYS_MODULE" }, 1));
	REFUSED(c, -EPERM, "process.capabilities.ambient[0] CAP_SYS_MODULE");
	c = engine_config(false);
	cJSON_AddItemToArray(at(at(c, "process", "capabilities"), "bounding", NULL),
			     cJSON_CreateString("CAP_NO_SUCH"));
	REFUSED(c, -EINVAL, "unknown capability");
}
END_TEST

START_TEST(unknown_fields_refused)
{
	cJSON *c = engine_config(false);
	cJSON_AddItemToObject(c, "hooks", cJSON_CreateObject());
	REFUSED(c, -EPERM, "hooks: not permitted");
	c = engine_config(false);
	cJSON_AddItemToObject(at(c, "linux", NULL), "gidMappings",
			      cJSON_Parse("[{\"hostID\":100000,\"size\":1,\"x\":1}]"));
	REFUSED(c, -EPERM, "linux.gidMappings[0].x: not permitted");
	c = engine_config(false);
	cJSON_AddItemToObject(at(c, "linux", NULL), "seccomp",
			      cJSON_Parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\"}"));
	REFUSED(c, -EPERM, "linux.seccomp.listenerPath");
	c = engine_config(false);
	cJSON_ReplaceItemInObject(at(c, "process", NULL), "args", cJSON_CreateString("/bin/true"));
	REFUSED(c, -EINVAL, "process.args: must be an array");
	ck_assert_int_eq(sv_policy_check(&pol, &task, "[1]", 3, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(sv_policy_check(&pol, &task, "{\"a\"", 4, why, sizeof(why)), -EINVAL);
}
END_TEST

START_TEST(host_namespaces)
{
	cJSON *c = engine_config(false), *ns = at(c, "linux", "namespaces");
	cJSON_DeleteItemFromArray(ns, cJSON_GetArraySize(ns) - 1);    /* network */
	REFUSED(c, -EPERM, "the host's network namespace");
	ck_assert_int_eq(sv_policy_set(&pol, "host_namespaces", "net"), 0);
	c = engine_config(false);
	ns = at(c, "linux", "namespaces");
	cJSON_DeleteItemFromArray(ns, cJSON_GetArraySize(ns) - 1);
	ck_assert_int_eq(check(c), 0);
	/* the host's pid namespace stays refused */
	c = engine_config(false);
	cJSON_DeleteItemFromArray(at(c, "linux", "namespaces"), 0);
	REFUSED(c, -EPERM, "the host's pid namespace");
}
END_TEST

START_TEST(namespace_paths)
{
	char host_net[64];
	snprintf(host_net, sizeof(host_net), "/proc/%d/ns/net", (int)getpid());
	const char *const cases[][3] = {
		/* type, path, reason */
		{ "network", host_net, "the host's network namespace" },
		{ "network", "/proc/self/ns/net", "not /proc/PID/ns/net" },
		{ "network", "/tmp/x", "only /proc/PID/ns/net or /run/netns/NAME" },
		{ "network", "/run/netns/../x", "not a netns name" },
		{ "mount", "/proc/1/ns/mnt", "a mount namespace cannot be joined" },
		{ "ipc", "/proc/1/ns/net", "not /proc/PID/ns/ipc" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *c = engine_config(false), *ns = at(c, "linux", "namespaces");
		cJSON *n = cJSON_CreateObject();
		for (int k = cJSON_GetArraySize(ns) - 1; k >= 0; k--)
			if (!strcmp(cJSON_GetArrayItem(ns, k)->child->valuestring, cases[i][0]))
				cJSON_DeleteItemFromArray(ns, k);
		cJSON_AddStringToObject(n, "type", cases[i][0]);
		cJSON_AddStringToObject(n, "path", cases[i][1]);
		cJSON_AddItemToArray(ns, n);
		REFUSED(c, -EPERM, cases[i][2]);
	}
	/* another process's namespace (not the host's) may be joined */
	int pp[2];
	char p[64], b;
	ck_assert_int_eq(pipe(pp), 0);
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(0x04000000 /* CLONE_NEWUTS */) < 0)
			_exit(1);
		(void)!write(pp[1], "x", 1);
		pause();
		_exit(0);
	}
	ck_assert_int_eq(read(pp[0], &b, 1), 1);
	snprintf(p, sizeof(p), "/proc/%d/ns/uts", (int)pid);
	cJSON *c = engine_config(false), *ns = at(c, "linux", "namespaces");
	for (int k = cJSON_GetArraySize(ns) - 1; k >= 0; k--)
		if (!strcmp(cJSON_GetArrayItem(ns, k)->child->valuestring, "uts"))
			cJSON_DeleteItemFromArray(ns, k);
	cJSON *n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "type", "uts");
	cJSON_AddStringToObject(n, "path", p);
	cJSON_AddItemToArray(ns, n);
	int r = check(c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert_msg(r == 0, "joining a task's uts namespace: %s", why);
}
END_TEST

START_TEST(root_path)
{
	cJSON *c = engine_config(false);
	cJSON_ReplaceItemInObject(at(c, "root", NULL), "readonly", cJSON_CreateFalse());
	REFUSED(c, -EPERM, "root.readonly: the host's / only read-only");
	c = engine_config(false);
	cJSON_ReplaceItemInObject(at(c, "root", NULL), "path", cJSON_CreateString("/etc"));
	REFUSED(c, -EPERM, "not below the policy's rootfs_sources");
	c = engine_config(false);
	cJSON_ReplaceItemInObject(at(c, "root", NULL), "path", cJSON_CreateString("../../etc"));
	REFUSED(c, -EPERM, "not inside the bundle");
	c = engine_config(false);
	cJSON_ReplaceItemInObject(at(c, "root", NULL), "path", cJSON_CreateString("rootfs"));
	ck_assert_int_eq(check(c), 0);

	/* below a permitted directory, and only without a symlink on the way */
	char dir[] = "/tmp/sv-policy-XXXXXX", sub[64], link[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/rfs", dir);
	snprintf(link, sizeof(link), "%s/lnk", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(symlink("/etc", link), 0);
	ck_assert_int_eq(sv_policy_set(&pol, "rootfs_sources", dir), 0);
	c = engine_config(false);
	cJSON_ReplaceItemInObject(at(c, "root", NULL), "path", cJSON_CreateString(sub));
	ck_assert_int_eq(check(c), 0);
	c = engine_config(false);
	cJSON_ReplaceItemInObject(at(c, "root", NULL), "path", cJSON_CreateString(link));
	REFUSED(c, -EPERM, "a symlink on the way");
	snprintf(sub, sizeof(sub), "%s/rfs/../lnk", dir);
	c = engine_config(false);
	cJSON_ReplaceItemInObject(at(c, "root", NULL), "path", cJSON_CreateString(sub));
	REFUSED(c, -EPERM, "not a clean absolute path");
	unlink(link);
	snprintf(sub, sizeof(sub), "%s/rfs", dir);
	rmdir(sub);
	rmdir(dir);
}
END_TEST

static cJSON *mount_obj(const char *dst, const char *type, const char *src, const char *opts)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "destination", dst);
	cJSON_AddStringToObject(m, "type", type);
	cJSON_AddStringToObject(m, "source", src);
	cJSON_AddItemToObject(m, "options", cJSON_Parse(opts));
	return m;
}

START_TEST(mounts)
{
	static const struct { const char *dst, *type, *src, *opts, *why; } cases[] = {
		{ "/host", "bind", "/", "[\"rbind\"]", "not below the policy's bind_sources" },
		{ "/host", "none", "/etc", "[\"bind\",\"ro\"]", "not below the policy's bind_sources" },
		{ "/disk", "ext4", "/dev/sda1", "[]", "type \"ext4\": not permitted" },
		{ "/hostproc", "proc", "proc", "[]", "proc mounted on /hostproc" },
		{ "/sys", "sysfs", "sysfs", "[\"nosuid\"]", "sysfs only read-only" },
		{ "/sys/fs/cgroup", "cgroup", "cgroup", "[]", "cgroup file systems only read-only" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *c = engine_config(false);
		cJSON_AddItemToArray(at(c, "mounts", NULL), mount_obj(cases[i].dst, cases[i].type,
								       cases[i].src, cases[i].opts));
		REFUSED(c, -EPERM, cases[i].why);
	}
	/* a permitted bind source */
	ck_assert_int_eq(sv_policy_set(&pol, "bind_sources", "/usr/share /srv/data"), 0);
	cJSON *c = engine_config(false);
	cJSON_AddItemToArray(at(c, "mounts", NULL), mount_obj("/doc", "bind", "/usr/share/doc", "[\"rbind\",\"ro\"]"));
	ck_assert_int_eq(check(c), 0);
	c = engine_config(false);
	cJSON_AddItemToArray(at(c, "mounts", NULL), mount_obj("/u", "bind", "/usr/sharex", "[\"bind\"]"));
	REFUSED(c, -EPERM, "not below the policy's bind_sources");
}
END_TEST

START_TEST(masked_and_readonly_paths_kept)
{
	cJSON *c = engine_config(false);
	cJSON_DeleteItemFromArray(at(c, "linux", "readonlyPaths"), 3);      /* /proc/sys */
	REFUSED(c, -EPERM, "linux.readonlyPaths: must hold /proc/sys");
	c = engine_config(false);
	cJSON_DeleteItemFromObject(at(c, "linux", NULL), "maskedPaths");
	REFUSED(c, -EPERM, "linux.maskedPaths: must hold /proc/acpi");
}
END_TEST

START_TEST(devices)
{
	cJSON *c = engine_config(false);
	cJSON_AddItemToArray(at(at(c, "process", "capabilities"), "bounding", NULL),
			     cJSON_CreateString("CAP_MKNOD"));
	REFUSED(c, -EPERM, "CAP_MKNOD only with a devices cgroup");
	/* with a cgroup that denies all first, mknod opens nothing it does not allow */
	c = engine_config(true);
	cJSON_AddItemToArray(at(at(c, "process", "capabilities"), "bounding", NULL),
			     cJSON_CreateString("CAP_MKNOD"));
	cJSON_AddItemToObject(at(c, "linux", "resources"), "devices",
			      cJSON_Parse("[{\"allow\":false,\"access\":\"rwm\"},"
					  "{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
					  "{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rwm\"},"
					  "{\"allow\":true,\"type\":\"b\",\"access\":\"m\"}]"));
	ck_assert_msg(check(c) == 0, "%s", why);
	c = engine_config(true);
	cJSON_AddItemToObject(at(c, "linux", "resources"), "devices",
			      cJSON_Parse("[{\"allow\":false,\"access\":\"rwm\"},"
					  "{\"allow\":true,\"type\":\"b\",\"major\":8,\"minor\":0,\"access\":\"rw\"}]"));
	REFUSED(c, -EPERM, "device b 8:0 not permitted");
	c = engine_config(true);
	cJSON_AddItemToObject(at(c, "linux", "resources"), "devices",
			      cJSON_Parse("[{\"allow\":true,\"access\":\"rwm\"}]"));
	REFUSED(c, -EPERM, "an allow rule must name a device type and major");
	c = engine_config(false);
	cJSON_AddItemToObject(at(c, "linux", NULL), "devices",
			      cJSON_Parse("[{\"path\":\"/dev/sda\",\"type\":\"b\",\"major\":8,\"minor\":0}]"));
	REFUSED(c, -EPERM, "linux.devices[0]: device b 8:0 not permitted");
	c = engine_config(false);
	cJSON_AddItemToObject(at(c, "linux", NULL), "devices",
			      cJSON_Parse("[{\"path\":\"/dev/null\",\"type\":\"c\",\"major\":1,\"minor\":3}]"));
	ck_assert_int_eq(check(c), 0);
	/* an operator's extra device */
	ck_assert_int_eq(sv_policy_set(&pol, "devices", "null, c 10:200"), 0);
	c = engine_config(false);
	cJSON_AddItemToObject(at(c, "linux", NULL), "devices",
			      cJSON_Parse("[{\"path\":\"/dev/net/tun\",\"type\":\"c\",\"major\":10,\"minor\":200}]"));
	ck_assert_int_eq(check(c), 0);
}
END_TEST

/* The cgroup a task keeps for its first Pause or Update: the engine's own passes; an engine
 * that names another task's cgroup, a parent, a root-level or an escaping path is refused, as
 * it would be in linux.cgroupsPath. It unlocks nothing cgroupsPath does (CAP_MKNOD). */
static cJSON *with_lazy(const char *path)
{
	cJSON *c = engine_config(false);
	cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "annotations");

	if (!a)
		a = cJSON_AddObjectToObject(c, "annotations");
	cJSON_DeleteItemFromObjectCaseSensitive(a, "io.shimvisor.cgroup.lazy");
	cJSON_AddStringToObject(a, "io.shimvisor.cgroup.lazy", path);
	return c;
}

START_TEST(lazy_cgroup_annotation)
{
	char *args[] = { "/bin/true" };
	sv_CtlCreateRequest rq = { .id = "t1", .args = args, .args_count = 1 };
	char err[256], *json;
	size_t len;
	cJSON *c;

	/* the engine's: a task without limits keeps the path it would have had */
	ck_assert_int_eq(spec_build_cg(&rq, "", "/shimvisor/default/t1", NULL, &json, &len, err,
				       sizeof(err)), 0);
	c = cJSON_ParseWithLength(json, len);
	free(json);
	ck_assert_str_eq(cJSON_GetStringValue(at(c, "annotations", "io.shimvisor.cgroup.lazy")),
			 "/shimvisor/default/t1");
	ck_assert_ptr_null(at(c, "linux", "cgroupsPath"));
	ck_assert_int_eq(check(c), 0);
	/* one that gets a cgroup now keeps none */
	rq.pids = 5;
	ck_assert_int_eq(spec_build_cg(&rq, "/shimvisor/default/t1", NULL, NULL, &json, &len, err,
				       sizeof(err)), 0);
	c = cJSON_ParseWithLength(json, len);
	free(json);
	ck_assert_ptr_null(at(c, "annotations", "io.shimvisor.cgroup.lazy"));
	cJSON_Delete(c);

	ck_assert_int_eq(check(with_lazy("/shimvisor/default/t1/sub")), 0);
	REFUSED(with_lazy("/shimvisor/default/t2"), -EPERM,
		"annotations.io.shimvisor.cgroup.lazy \"/shimvisor/default/t2\": not /shimvisor/default/t1");
	REFUSED(with_lazy("/shimvisor/default"), -EPERM, "not /shimvisor/default/t1 or below it");
	REFUSED(with_lazy("/shimvisor/default/t1/../t2"), -EPERM, "not /shimvisor/default/t1");
	REFUSED(with_lazy("/"), -EPERM, "not /shimvisor/default/t1");
	REFUSED(with_lazy("shimvisor/default/t1"), -EPERM, "not /shimvisor/default/t1");
	REFUSED(with_lazy("/system.slice"), -EPERM, "not /shimvisor/default/t1");
	c = with_lazy("/shimvisor/default/t1");
	cJSON_ReplaceItemInObject(at(c, "annotations", NULL), "io.shimvisor.cgroup.lazy",
				  cJSON_CreateNumber(1));
	REFUSED(c, -EINVAL, "annotations.io.shimvisor.cgroup.lazy: must be a string");
	/* a lazy cgroup is no devices cgroup: CAP_MKNOD stays refused */
	c = with_lazy("/shimvisor/default/t1");
	cJSON *caps = at(at(c, "process", NULL), "capabilities", NULL);
	cJSON *b;
	cJSON_ArrayForEach(b, caps)
		cJSON_AddItemToArray(b, cJSON_CreateString("CAP_MKNOD"));
	REFUSED(c, -EPERM, "CAP_MKNOD only with a devices cgroup");
	/* without cgroup_parent the daemon makes no cgroups, later or not */
	struct sv_policy_task none = task;
	none.cgroup_parent = "";
	c = with_lazy("/shimvisor/default/t1");
	json = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	ck_assert_int_eq(sv_policy_check(&pol, &none, json, strlen(json), why, sizeof(why)), -EPERM);
	ck_assert_msg(strstr(why, "cgroup_parent is empty"), "%s", why);
	free(json);
}
END_TEST

START_TEST(cgroups_sysctls_and_the_rest)
{
	cJSON *c = engine_config(true);
	cJSON_ReplaceItemInObject(at(c, "linux", NULL), "cgroupsPath", cJSON_CreateString("/shimvisor/default/t2"));
	REFUSED(c, -EPERM, "not /shimvisor/default/t1 or below it");
	c = engine_config(true);
	cJSON_ReplaceItemInObject(at(c, "linux", NULL), "cgroupsPath", cJSON_CreateString("/shimvisor/default/t1/../../x"));
	REFUSED(c, -EPERM, "not /shimvisor/default/t1 or below it");
	c = engine_config(true);
	cJSON_ReplaceItemInObject(at(c, "linux", NULL), "cgroupsPath", cJSON_CreateString("/shimvisor/default/t1/sub"));
	ck_assert_int_eq(check(c), 0);

	c = engine_config(false);
	cJSON_AddItemToObject(at(c, "linux", NULL), "sysctl", cJSON_Parse("{\"kernel.core_pattern\":\"|/x\"}"));
	REFUSED(c, -EPERM, "linux.sysctl.kernel.core_pattern: not permitted");
	c = engine_config(false);
	cJSON_AddItemToObject(at(c, "linux", NULL), "sysctl", cJSON_Parse("{\"net.ipv4.ip_forward\":\"1\",\"kernel.shmmax\":\"1000\"}"));
	ck_assert_int_eq(check(c), 0);
	ck_assert_int_eq(sv_policy_set(&pol, "host_namespaces", "net"), 0);
	c = engine_config(false);
	cJSON *ns = at(c, "linux", "namespaces");
	cJSON_DeleteItemFromArray(ns, cJSON_GetArraySize(ns) - 1);
	cJSON_AddItemToObject(at(c, "linux", NULL), "sysctl", cJSON_Parse("{\"net.ipv4.ip_forward\":\"1\"}"));
	REFUSED(c, -EPERM, "not in a namespace of the task's own");

	c = engine_config(false);
	cJSON_AddNumberToObject(at(c, "process", NULL), "oomScoreAdj", -1000);
	REFUSED(c, -EPERM, "oomScoreAdj -1000: not 0 to 1000");
	c = engine_config(false);
	cJSON_AddStringToObject(at(c, "linux", NULL), "rootfsPropagation", "rshared");
	REFUSED(c, -EPERM, "only private or slave");
}
END_TEST

START_TEST(privileged_checks_only_the_shape)
{
	ck_assert_int_eq(sv_policy_set(&pol, "privileged", "yes"), 0);
	cJSON *c = engine_config(false);
	cJSON_AddItemToArray(at(at(c, "process", "capabilities"), "bounding", NULL),
			     cJSON_CreateString("CAP_SYS_ADMIN"));
	cJSON_ReplaceItemInObject(at(c, "root", NULL), "readonly", cJSON_CreateFalse());
	ck_assert_int_eq(check(c), 0);
	c = engine_config(false);
	cJSON_AddItemToObject(c, "hooks", cJSON_CreateObject());
	REFUSED(c, -EPERM, "hooks: not permitted");
}
END_TEST

/* config c with a new user namespace mapping 0..65535 to host ids from host (uid and gid) */
static cJSON *with_userns(cJSON *c, const char *uid_host, const char *gid_host)
{
	char m[96];

	cJSON_AddItemToArray(at(c, "linux", "namespaces"), cJSON_Parse("{\"type\":\"user\"}"));
	snprintf(m, sizeof(m), "[{\"containerID\":0,\"hostID\":%s,\"size\":65536}]", uid_host);
	cJSON_AddItemToObject(at(c, "linux", NULL), "uidMappings", cJSON_Parse(m));
	snprintf(m, sizeof(m), "[{\"containerID\":0,\"hostID\":%s,\"size\":65536}]", gid_host);
	cJSON_AddItemToObject(at(c, "linux", NULL), "gidMappings", cJSON_Parse(m));
	return c;
}

/* userns = allow (the default), deny, require; the host ids a mapping, or the maps of a
 * namespace joined by path, may name (userns_host_ids, by default 65536-4294967294: never
 * the host's root nor its own users). */
START_TEST(user_namespaces)
{
	char path[64];
	cJSON *c;

	ck_assert_int_eq(check(with_userns(engine_config(false), "100000", "100000")), 0);
	REFUSED(with_userns(engine_config(false), "0", "100000"), -EPERM,
		"linux.uidMappings[0]: host ids 0-65535 are outside the policy's userns_host_ids "
		"(65536-4294967294)");
	REFUSED(with_userns(engine_config(false), "100000", "65535"), -EPERM,
		"linux.gidMappings[0]: host ids 65535-131070 are outside");
	REFUSED(with_userns(engine_config(false), "4294901760", "100000"), -EPERM,
		"linux.uidMappings[0]: host ids 4294901760-4294967295 are outside");
	c = with_userns(engine_config(false), "100000", "100000");
	cJSON_ReplaceItemInObject(at(c, "linux", NULL), "uidMappings",
				  cJSON_Parse("[{\"hostID\":100000,\"size\":0}]"));
	REFUSED(c, -EPERM, "linux.uidMappings[0]: host ids");
	c = with_userns(engine_config(false), "100000", "100000");
	cJSON_ReplaceItemInObject(at(c, "linux", NULL), "uidMappings",
				  cJSON_Parse("[{\"hostID\":\"100000\",\"size\":1}]"));
	REFUSED(c, -EINVAL, "linux.uidMappings[0].hostID: must be a number");
	/* joined by path: only /proc/PID/ns/user, and not the host's own (it maps root) */
	c = engine_config(false);
	cJSON_AddItemToArray(at(c, "linux", "namespaces"),
			     cJSON_Parse("{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}"));
	REFUSED(c, -EPERM, "\"/proc/1/ns/user\": maps host ids 0-4294967294, outside");
	c = engine_config(false);
	cJSON_AddItemToArray(at(c, "linux", "namespaces"),
			     cJSON_Parse("{\"type\":\"user\",\"path\":\"/run/userns/x\"}"));
	REFUSED(c, -EPERM, "not /proc/PID/ns/user");
	/* a child of ours in a user namespace with no maps yet: nothing to check, refused */
	pid_t kid;
	int gate[2];
	ck_assert_int_eq(pipe(gate), 0);
	if ((kid = fork()) == 0) {
		char b;
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		close(gate[1]);
		(void)!read(gate[0], &b, 1);
		_exit(0);
	}
	close(gate[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)kid);
	for (int i = 0; i < 1000; i++) {
		struct stat a, b;
		if (stat(path, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && a.st_ino != b.st_ino)
			break;
		usleep(1000);
	}
	c = engine_config(false);
	cJSON *n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "type", "user");
	cJSON_AddStringToObject(n, "path", path);
	cJSON_AddItemToArray(at(c, "linux", "namespaces"), n);
	REFUSED(c, -EPERM, "no uid_map to check");
	close(gate[1]);
	waitpid(kid, NULL, 0);
	/* deny: refused, by path or not; require: a config without one refused */
	ck_assert_int_eq(sv_policy_set(&pol, "userns", "deny"), 0);
	REFUSED(with_userns(engine_config(false), "100000", "100000"), -EPERM,
		"linux.namespaces[5]: a user namespace is not permitted by the policy (userns = deny)");
	ck_assert_int_eq(check(engine_config(false)), 0);
	ck_assert_int_eq(sv_policy_set(&pol, "userns", "require"), 0);
	REFUSED(engine_config(false), -EPERM,
		"linux.namespaces: a user namespace is required by the policy (userns = require)");
	ck_assert_int_eq(check(with_userns(engine_config(false), "100000", "100000")), 0);
	/* a narrower range */
	ck_assert_int_eq(sv_policy_set(&pol, "userns_host_ids", "200000-265535"), 0);
	REFUSED(with_userns(engine_config(false), "100000", "200000"), -EPERM,
		"(200000-265535)");
	ck_assert_int_eq(check(with_userns(engine_config(false), "200000", "200000")), 0);
}
END_TEST

START_TEST(policy_keys)
{
	ck_assert_int_eq(sv_policy_set(&pol, "capabilities", "chown, CAP_KILL net_raw"), 0);
	ck_assert_uint_eq(pol.caps, (1ull << 0) | (1ull << 5) | (1ull << 13));
	ck_assert_int_eq(sv_policy_set(&pol, "capabilities", "CAP_NOPE"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "host_namespaces", "net ipc"), 0);
	ck_assert_uint_eq(pol.host_ns, SV_NS_NET | SV_NS_IPC);
	ck_assert_int_eq(sv_policy_set(&pol, "host_namespaces", "everything"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "bind_sources", "/srv/a/, /data"), 0);
	ck_assert_uint_eq(pol.nbind, 2);
	ck_assert_str_eq(pol.bind_sources[0], "/srv/a");
	ck_assert_int_eq(sv_policy_set(&pol, "bind_sources", "relative"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "bind_sources", "/a/../b"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "devices", "c 1:3, b:8:*, pts"), 0);
	ck_assert_uint_eq(pol.ndevices, 3);
	ck_assert_int_eq(pol.devices[1].type, 'b');
	ck_assert_int_eq(pol.devices[1].minor, -1);
	ck_assert_int_eq(sv_policy_set(&pol, "devices", "x 1:3"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "oom_score_adj_min", "-500"), 0);
	ck_assert_int_eq(sv_policy_set(&pol, "oom_score_adj_min", "-5000"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "privileged", "maybe"), -1);
	ck_assert_int_eq(pol.userns, SV_USERNS_ALLOW);
	ck_assert_int_eq(sv_policy_set(&pol, "userns", "require"), 0);
	ck_assert_int_eq(pol.userns, SV_USERNS_REQUIRE);
	ck_assert_int_eq(sv_policy_set(&pol, "userns", "sometimes"), -1);
	ck_assert_uint_eq(pol.userns_host_min, 65536);
	ck_assert_uint_eq(pol.userns_host_max, 4294967294u);
	ck_assert_int_eq(sv_policy_set(&pol, "userns_host_ids", "100000-165535"), 0);
	ck_assert_uint_eq(pol.userns_host_min, 100000);
	ck_assert_uint_eq(pol.userns_host_max, 165535);
	ck_assert_int_eq(sv_policy_set(&pol, "userns_host_ids", "5-4"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "userns_host_ids", "1-4294967295"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "userns_host_ids", "-1-5"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "userns_host_ids", "100000"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "userns_host_ids", "1-2x"), -1);
	ck_assert_int_eq(sv_policy_set(&pol, "no_such_key", "1"), -1);
}
END_TEST

/* What the check costs per spawn (a figure for DESIGN, not a target). */
START_TEST(check_cost)
{
	cJSON *c = engine_config(true);
	char *s = cJSON_PrintUnformatted(c);
	struct timespec a, b;
	int n = 2000;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(sv_policy_check(&pol, &task, s, strlen(s), why, sizeof(why)), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("# policy check of a %zu-byte config: %.1f us\n", strlen(s),
	       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1e3);
	free(s);
	cJSON_Delete(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sup_policy");
	TCase *tc = tcase_create("policy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, engine_defaults_pass);
	tcase_add_test(tc, capability_beyond_policy);
	tcase_add_test(tc, unknown_fields_refused);
	tcase_add_test(tc, host_namespaces);
	tcase_add_test(tc, namespace_paths);
	tcase_add_test(tc, root_path);
	tcase_add_test(tc, mounts);
	tcase_add_test(tc, masked_and_readonly_paths_kept);
	tcase_add_test(tc, devices);
	tcase_add_test(tc, cgroups_sysctls_and_the_rest);
	tcase_add_test(tc, lazy_cgroup_annotation);
	tcase_add_test(tc, privileged_checks_only_the_shape);
	tcase_add_test(tc, user_namespaces);
	tcase_add_test(tc, policy_keys);
	tcase_add_test(tc, check_cost);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
