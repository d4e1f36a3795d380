/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/policy_check.c: the monitor's check of a config.json against the policy: a
 * table of every field a config may hold (anything else is refused, named), a check per
 * field where its value matters, then the checks across fields. */
#include <errno.h>
#include <limits.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/names.h"
#include "policy.h"
#include "wire/limits.h"

#define CAP_MKNOD 27    /* <linux/capability.h> */

#define PATHSZ 160

struct chk {
	const struct sv_policy *p;
	const struct sv_policy_task *t;
	char *why;
	size_t whysz;
	int err;
	/* what the walk saw, for the checks across fields */
	unsigned ns_new, ns_joined, ns_joined_host;
	bool mknod;
	bool dev_deny_all_first;
	bool has_cgroup_path;
	bool has_proc, has_sysfs;      /* the masks under /proc and /sys apply to these */
	const cJSON *root_path, *root_ro, *masked, *readonly, *hostname, *sysctl;
};

static int refuse(struct chk *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->err)
		return c->err;
	va_start(ap, fmt);
	vsnprintf(c->why, c->whysz, fmt, ap);
	va_end(ap);
	c->err = err;
	return err;
}

enum kind { J_STR, J_BOOL, J_NUM, J_OBJ, J_ARR, J_ANY, J_END };

/* The tables of fields and the checks, by index: a field holds no pointer (nothing for a
 * static-pie binary to relocate at load). */
enum table {
	T_NONE, T_STR_ENTRY, T_NUM_ENTRY, T_ANY_ENTRY, T_CAP_ENTRY, T_CAPS, T_USER, T_RLIMIT,
	T_RLIMIT_ENTRY, T_CONSOLE, T_PROCESS, T_ROOT, T_MOUNT, T_MOUNT_ENTRY, T_NS, T_NS_ENTRY,
	T_DEVICE, T_DEVICE_ENTRY, T_DEV_RULE, T_DEV_RULE_ENTRY, T_RESOURCES, T_SECCOMP,
	T_SYSCTL, T_ANNOTATIONS, T_LINUX, T_CONFIG, T_IDMAP, T_IDMAP_ENTRY, T_NTABLES
};
enum check {
	C_NONE, C_CAPS, C_OOM, C_MOUNT, C_NAMESPACE, C_DEVICE, C_DEV_RULE, C_CGROUPS_PATH,
	C_CGROUP_LAZY, C_PROPAGATION, C_ROOT_PATH, C_ROOT_RO, C_MASKED, C_READONLY, C_HOSTNAME,
	C_SYSCTL, C_IDMAP, C_NCHECKS
};

struct field {
	char name[25];          /* "*" any member (a map); J_END ends a table */
	uint8_t kind;           /* enum kind */
	uint8_t members;        /* enum table: J_OBJ its members; J_ARR: entry 0 is each entry */
	uint8_t check;          /* enum check */
};

/* ---- checks of one field ---------------------------------------------------------- */

/* "/a/b": absolute, no empty, "." or ".." component */
static bool clean_abs(const char *s)
{
	if (s[0] != '/')
		return false;
	for (const char *q = s; *q;) {
		const char *e = strchr(q + 1, '/');
		size_t n = e ? (size_t)(e - q - 1) : strlen(q + 1);
		if ((n == 1 && q[1] == '.') || (n == 2 && q[1] == '.' && q[2] == '.') ||
		    (n == 0 && e))
			return false;
		if (!e)
			break;
		q = e;
	}
	return true;
}

/* path is dir or below it (dir has no trailing /, "/" is everything) */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(path, dir, n) && (path[n] == 0 || path[n] == '/');
}

/* A host path a task is given (root.path, a bind source): clean, below one of dirs, and
 * with no symlink on the way (what is checked is what the init will open). */
static int host_path(struct chk *c, const char *path, const char *what, char *const *dirs,
		     size_t n, const char *key)
{
	char real[PATH_MAX];
	size_t i;

	if (!clean_abs(path))
		return refuse(c, -EPERM, "%s \"%.100s\": not a clean absolute path", what, path);
	for (i = 0; i < n; i++)
		if (below(path, dirs[i]))
			break;
	if (i == n)
		return refuse(c, -EPERM, "%s \"%.100s\": not below the policy's %s", what, path, key);
	if (!realpath(path, real) || strcmp(real, path))
		return refuse(c, -EPERM, "%s \"%.100s\": %s", what, path,
			      errno == ENOENT ? "does not exist" : "a symlink on the way, or unreadable");
	return 0;
}

static int ck_caps(struct chk *c, const cJSON *a, const char *path)
{
	const cJSON *e;
	int i = 0, n;

	cJSON_ArrayForEach(e, a) {
		if ((n = sv_cap_from_name(e->valuestring)) < 0)
			return refuse(c, -EINVAL, "%s[%d] %.40s: unknown capability", path, i, e->valuestring);
		if (n == CAP_MKNOD)     /* only with a devices cgroup (checked across fields) */
			c->mknod = true;
		if (!(c->p->caps & (1ull << n)))
			return refuse(c, -EPERM, "%s[%d] %.40s: not permitted by the policy", path, i,
				      e->valuestring);
		i++;
	}
	return 0;
}

static int ck_oom(struct chk *c, const cJSON *v, const char *path)
{
	if (!(v->valuedouble >= c->p->oom_score_adj_min && v->valuedouble <= 1000))
		return refuse(c, -EPERM, "%s %g: not %d to 1000 (the policy's oom_score_adj_min)",
			      path, v->valuedouble, c->p->oom_score_adj_min);
	return 0;
}

static bool has_option(const cJSON *m, const char *opt)
{
	const cJSON *o, *opts = cJSON_GetObjectItemCaseSensitive(m, "options");

	cJSON_ArrayForEach(o, opts)
		if (cJSON_IsString(o) && !strcmp(o->valuestring, opt))
			return true;
	return false;
}

static const char *str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One mount: a kernel file system the task gets its own of, or a bind of a permitted
 * host directory. */
static int ck_mount(struct chk *c, const cJSON *m, const char *path)
{
	SV_NAMES_BEGIN
	static const char fs[][8] = { "proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup",
				      "cgroup2" };
	SV_NAMES_END
	const char *type = str_of(m, "type"), *src = str_of(m, "source"), *dst = str_of(m, "destination");
	size_t i;

	if (!dst)
		return refuse(c, -EINVAL, "%s: no destination", path);
	if ((type && !strcmp(type, "bind")) || has_option(m, "bind") || has_option(m, "rbind")) {
		if (!src)
			return refuse(c, -EINVAL, "%s: a bind mount without a source", path);
		char what[PATHSZ + 16];
		snprintf(what, sizeof(what), "%s.source", path);
		return host_path(c, src, what, c->p->bind_sources, c->p->nbind, "bind_sources");
	}
	for (i = 0; type && i < sizeof(fs) / sizeof(fs[0]); i++)
		if (!strcmp(type, fs[i]))
			break;
	if (!type || i == sizeof(fs) / sizeof(fs[0]))
		return refuse(c, -EPERM, "%s.type \"%.40s\": not permitted by the policy", path,
			      type ? type : "");
	/* the masked and read-only paths are under these destinations only */
	c->has_proc |= !strcmp(type, "proc");
	c->has_sysfs |= !strcmp(type, "sysfs");
	if (!strcmp(type, "proc") && strcmp(dst, "/proc"))
		return refuse(c, -EPERM, "%s: proc mounted on %.100s, not /proc", path, dst);
	if (!strcmp(type, "sysfs") && (strcmp(dst, "/sys") || !has_option(m, "ro")))
		return refuse(c, -EPERM, "%s: sysfs only read-only on /sys", path);
	if (!strncmp(type, "cgroup", 6) && !has_option(m, "ro"))
		return refuse(c, -EPERM, "%s: cgroup file systems only read-only", path);
	return 0;
}

SV_NAMES_BEGIN
static const struct {
	char oci[8], proc[8];
	unsigned bit;
} ns_types[] = {
	{ "pid", "pid", SV_NS_PID }, { "network", "net", SV_NS_NET }, { "ipc", "ipc", SV_NS_IPC },
	{ "uts", "uts", SV_NS_UTS }, { "mount", "mnt", SV_NS_MOUNT },
	{ "cgroup", "cgroup", SV_NS_CGROUP }, { "user", "user", SV_NS_USER },
};
SV_NAMES_END

/* A namespace joined by path: only net, ipc, uts and pid, named as /proc/PID/ns/X or an
 * `ip netns` name; the host's own counts as sharing the host's. */
static int ck_ns_path(struct chk *c, size_t k, const char *p, const char *path)
{
	char self[64];
	struct stat a, b;
	const char *q;

	if (!(ns_types[k].bit & (SV_NS_NET | SV_NS_IPC | SV_NS_UTS | SV_NS_PID)))
		return refuse(c, -EPERM, "%s.path: a %s namespace cannot be joined", path,
			      ns_types[k].oci);
	if (!strncmp(p, "/proc/", 6)) {
		q = p + 6 + strspn(p + 6, "0123456789");
		if (q == p + 6 || strncmp(q, "/ns/", 4) || strcmp(q + 4, ns_types[k].proc))
			return refuse(c, -EPERM, "%s.path \"%.100s\": not /proc/PID/ns/%s", path, p,
				      ns_types[k].proc);
	} else if ((!strncmp(p, "/run/netns/", 11) || !strncmp(p, "/var/run/netns/", 15)) &&
		   ns_types[k].bit == SV_NS_NET) {
		q = strrchr(p, '/') + 1;
		if (!*q || !strcmp(q, ".") || !strcmp(q, "..") ||
		    q != p + (p[1] == 'r' ? 11 : 15))
			return refuse(c, -EPERM, "%s.path \"%.100s\": not a netns name", path, p);
	} else {
		return refuse(c, -EPERM, "%s.path \"%.100s\": only /proc/PID/ns/%s%s", path, p,
			      ns_types[k].proc,
			      ns_types[k].bit == SV_NS_NET ? " or /run/netns/NAME" : "");
	}
	snprintf(self, sizeof(self), "/proc/self/ns/%s", ns_types[k].proc);
	if (stat(p, &a) < 0)
		return refuse(c, -EINVAL, "%s.path \"%.100s\": %s", path, p, strerror(errno));
	if (stat(self, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		c->ns_joined_host |= ns_types[k].bit;
	c->ns_joined |= ns_types[k].bit;
	return 0;
}

/* Host ids first..first+size-1 within the policy's userns_host_ids. */
static bool host_ids_ok(const struct sv_policy *p, double first, double size)
{
	return first >= p->userns_host_min && size >= 1 && first + size - 1 <= p->userns_host_max;
}

/* A user namespace joined by path: /proc/PID/ns/user, whose maps (read now) name only
 * host ids the policy permits (the host's own maps 0-4294967294). */
static int ck_userns_path(struct chk *c, const char *p, const char *path)
{
	static const char *const maps[2] = { "uid_map", "gid_map" };
	const char *q = p + 6 + strspn(p + 6, "0123456789");
	char file[64];

	if (strncmp(p, "/proc/", 6) || q == p + 6 || strcmp(q, "/ns/user") || q - p > 20)
		return refuse(c, -EPERM, "%s.path \"%.100s\": not /proc/PID/ns/user", path, p);
	for (int i = 0; i < 2; i++) {
		unsigned long long in = 0, host = 0, size = 0;
		FILE *f;
		int n = 0, r;

		snprintf(file, sizeof(file), "%.*s/%s", (int)(q - p), p, maps[i]);
		if (!(f = fopen(file, "re")))
			return refuse(c, -EINVAL, "%s.path \"%.100s\": %s", path, p, strerror(errno));
		while ((r = fscanf(f, "%llu %llu %llu", &in, &host, &size)) == 3 &&
		       host_ids_ok(c->p, (double)host, (double)size))
			n++;
		fclose(f);
		if (r == 3)
			return refuse(c, -EPERM, "%s.path \"%.100s\": maps host ids %llu-%llu, outside "
				      "the policy's userns_host_ids", path, p, host, host + size - 1);
		if (r != EOF || n == 0)
			return refuse(c, -EPERM, "%s.path \"%.100s\": no %s to check", path, p,
				      maps[i]);
	}
	c->ns_joined |= SV_NS_USER;
	return 0;
}

static int ck_namespace(struct chk *c, const cJSON *n, const char *path)
{
	const char *type = str_of(n, "type"), *p = str_of(n, "path");
	size_t k;

	for (k = 0; type && k < sizeof(ns_types) / sizeof(ns_types[0]); k++)
		if (!strcmp(type, ns_types[k].oci))
			break;
	if (!type || k == sizeof(ns_types) / sizeof(ns_types[0]))
		return refuse(c, -EINVAL, "%s.type \"%.40s\": unknown", path, type ? type : "");
	if (ns_types[k].bit == SV_NS_USER && c->p->userns == SV_USERNS_DENY)
		return refuse(c, -EPERM, "%s: a user namespace is not permitted by the policy "
			      "(userns = deny)", path);
	if (ns_types[k].bit == SV_NS_USER && p && *p)
		return ck_userns_path(c, p, path);
	if (p && *p)
		return ck_ns_path(c, k, p, path);
	c->ns_new |= ns_types[k].bit;
	return 0;
}

/* type, major, minor of a device entry or rule; any = the rule names no device */
static bool dev_allowed(const struct sv_policy *p, char type, int64_t major, int64_t minor)
{
	for (size_t i = 0; i < p->ndevices; i++) {
		const struct sv_policy_dev *d = &p->devices[i];
		if (d->type == type && d->major == major && (d->minor == -1 || d->minor == minor))
			return true;
	}
	return false;
}

static int64_t num_of(const cJSON *o, const char *name, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	/* beyond 2^53 a double is no device number (and the cast would be undefined) */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= -9007199254740992.0 &&
				    v->valuedouble <= 9007199254740992.0))
		return dflt;
	return (int64_t)v->valuedouble;
}

/* linux.devices[]: a node made in the task's /dev */
static int ck_device(struct chk *c, const cJSON *d, const char *path)
{
	const char *type = str_of(d, "type");

	if (!type || (strcmp(type, "c") && strcmp(type, "b") && strcmp(type, "u") && strcmp(type, "p")))
		return refuse(c, -EINVAL, "%s.type: c, b, u or p", path);
	if (type[0] == 'p')
		return 0;       /* a FIFO */
	if (!dev_allowed(c->p, type[0] == 'u' ? 'c' : type[0], num_of(d, "major", -1),
			 num_of(d, "minor", -1)))
		return refuse(c, -EPERM, "%s: device %s %lld:%lld not permitted by the policy", path,
			      type, (long long)num_of(d, "major", -1), (long long)num_of(d, "minor", -1));
	return 0;
}

/* linux.resources.devices[]: cgroup rules. Denials are free; an allow must be a permitted
 * device (a wildcard only where the policy has the same wildcard). */
static int ck_dev_rule(struct chk *c, const cJSON *r, const char *path)
{
	const cJSON *allow = cJSON_GetObjectItemCaseSensitive(r, "allow");
	const char *type = str_of(r, "type"), *access = str_of(r, "access");
	int64_t major = num_of(r, "major", -1), minor = num_of(r, "minor", -1);
	bool first = !strcmp(path + strlen(path) - 3, "[0]");

	if (!cJSON_IsBool(allow))
		return refuse(c, -EINVAL, "%s.allow: missing", path);
	/* mknod alone ("m") opens nothing: runc's default rules allow it for every device */
	if (cJSON_IsFalse(allow) || (access && !strcmp(access, "m"))) {
		if (first && (!type || !strcmp(type, "a")) && major == -1 && minor == -1 &&
		    (!access || !strcmp(access, "rwm")))
			c->dev_deny_all_first = true;
		return 0;
	}
	if (!type || (strcmp(type, "c") && strcmp(type, "b")) || major < 0)
		return refuse(c, -EPERM, "%s: an allow rule must name a device type and major", path);
	if (!dev_allowed(c->p, type[0], major, minor))
		return refuse(c, -EPERM, "%s: device %s %lld:%lld not permitted by the policy", path,
			      type, (long long)major, (long long)minor);
	return 0;
}

/* A cgroup the task may have: <cgroup_parent>/<ns>/<id>, or below it. */
static int cgroup_allowed(struct chk *c, const cJSON *v, const char *path)
{
	char want[512];
	const char *parent = c->t->cgroup_parent;

	if (!parent || !parent[0])
		return refuse(c, -EPERM, "%s: the daemon makes no cgroups (cgroup_parent is empty)", path);
	snprintf(want, sizeof(want), "%s/%s/%s", strcmp(parent, "/") ? parent : "", c->t->ns, c->t->id);
	if (!clean_abs(v->valuestring) || !below(v->valuestring, want))
		return refuse(c, -EPERM, "%s \"%.100s\": not %s or below it", path, v->valuestring, want);
	return 0;
}

static int ck_cgroups_path(struct chk *c, const cJSON *v, const char *path)
{
	if (!v->valuestring[0])
		return 0;
	c->has_cgroup_path = true;
	return cgroup_allowed(c, v, path);
}

/* io.shimvisor.cgroup.lazy: the cgroup shimvisor-init makes at the task's first Pause or
 * Update, by the same rule as linux.cgroupsPath (it unlocks nothing else). */
static int ck_cgroup_lazy(struct chk *c, const cJSON *v, const char *path)
{
	return cgroup_allowed(c, v, path);
}

static int ck_propagation(struct chk *c, const cJSON *v, const char *path)
{
	SV_NAMES_BEGIN
	static const char ok[][9] = { "", "private", "rprivate", "slave", "rslave" };
	SV_NAMES_END

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(v->valuestring, ok[i]))
			return 0;
	return refuse(c, -EPERM, "%s \"%.20s\": only private or slave", path, v->valuestring);
}

static int ck_root_path(struct chk *c, const cJSON *v, const char *path)
{
	(void)path;
	c->root_path = v;
	return 0;
}

static int ck_root_ro(struct chk *c, const cJSON *v, const char *path)
{
	(void)path;
	c->root_ro = v;
	return 0;
}

/* linux.uidMappings[] / gidMappings[]: the host ids within the policy (the init checks the
 * rest: a new user namespace, the kernel's limits) */
static int ck_idmap(struct chk *c, const cJSON *m, const char *path)
{
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(m, "hostID");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(m, "size");
	double h = cJSON_IsNumber(host) ? host->valuedouble : 0;
	double n = cJSON_IsNumber(size) ? size->valuedouble : 0;

	if (!host_ids_ok(c->p, h, n))
		return refuse(c, -EPERM, "%s: host ids %.0f-%.0f are outside the policy's "
			      "userns_host_ids (%u-%u)", path, h, h + n - 1, c->p->userns_host_min,
			      c->p->userns_host_max);
	return 0;
}

#define KEEP(fn, field) \
	static int fn(struct chk *c, const cJSON *v, const char *path) \
	{ (void)path; c->field = v; return 0; }
KEEP(ck_masked, masked)
KEEP(ck_readonly, readonly)
KEEP(ck_hostname, hostname)
KEEP(ck_sysctl, sysctl)

/* ---- the table of what a config may hold -------------------------------------------- */

SV_NAMES_BEGIN
static const struct field str_entry[] = { { "", J_STR, T_NONE, C_NONE }, { "", J_END, 0, 0 } };
static const struct field num_entry[] = { { "", J_NUM, T_NONE, C_NONE }, { "", J_END, 0, 0 } };
static const struct field any_entry[] = { { "", J_ANY, T_NONE, C_NONE }, { "", J_END, 0, 0 } };
static const struct field cap_entry[] = { { "", J_STR, T_NONE, C_NONE }, { "", J_END, 0, 0 } };

static const struct field caps[] = {
	{ "bounding", J_ARR, T_CAP_ENTRY, C_CAPS }, { "effective", J_ARR, T_CAP_ENTRY, C_CAPS },
	{ "inheritable", J_ARR, T_CAP_ENTRY, C_CAPS }, { "permitted", J_ARR, T_CAP_ENTRY, C_CAPS },
	{ "ambient", J_ARR, T_CAP_ENTRY, C_CAPS }, { "", J_END, 0, 0 },
};
static const struct field user[] = {
	{ "uid", J_NUM, T_NONE, C_NONE }, { "gid", J_NUM, T_NONE, C_NONE },
	{ "umask", J_NUM, T_NONE, C_NONE },
	{ "additionalGids", J_ARR, T_NUM_ENTRY, C_NONE }, { "username", J_STR, T_NONE, C_NONE },
	{ "", J_END, 0, 0 },
};
static const struct field rlimit[] = {
	{ "type", J_STR, T_NONE, C_NONE }, { "hard", J_NUM, T_NONE, C_NONE },
	{ "soft", J_NUM, T_NONE, C_NONE },
	{ "", J_END, 0, 0 },
};
static const struct field rlimit_entry[] = { { "", J_OBJ, T_RLIMIT, C_NONE }, { "", J_END, 0, 0 } };
static const struct field console[] = {
	{ "height", J_NUM, T_NONE, C_NONE }, { "width", J_NUM, T_NONE, C_NONE },
	{ "", J_END, 0, 0 },
};
static const struct field process[] = {
	{ "terminal", J_BOOL, T_NONE, C_NONE }, { "consoleSize", J_OBJ, T_CONSOLE, C_NONE },
	{ "user", J_OBJ, T_USER, C_NONE }, { "args", J_ARR, T_STR_ENTRY, C_NONE },
	{ "env", J_ARR, T_STR_ENTRY, C_NONE }, { "cwd", J_STR, T_NONE, C_NONE },
	{ "capabilities", J_OBJ, T_CAPS, C_NONE }, { "rlimits", J_ARR, T_RLIMIT_ENTRY, C_NONE },
	{ "noNewPrivileges", J_BOOL, T_NONE, C_NONE }, { "apparmorProfile", J_STR, T_NONE, C_NONE },
	{ "oomScoreAdj", J_NUM, T_NONE, C_OOM }, { "selinuxLabel", J_STR, T_NONE, C_NONE },
	{ "", J_END, 0, 0 },
};
static const struct field root[] = {
	{ "path", J_STR, T_NONE, C_ROOT_PATH }, { "readonly", J_BOOL, T_NONE, C_ROOT_RO },
	{ "", J_END, 0, 0 },
};
static const struct field mount[] = {
	{ "destination", J_STR, T_NONE, C_NONE }, { "type", J_STR, T_NONE, C_NONE },
	{ "source", J_STR, T_NONE, C_NONE }, { "options", J_ARR, T_STR_ENTRY, C_NONE },
	{ "", J_END, 0, 0 },
};
static const struct field mount_entry[] = { { "", J_OBJ, T_MOUNT, C_MOUNT }, { "", J_END, 0, 0 } };
static const struct field ns[] = {
	{ "type", J_STR, T_NONE, C_NONE }, { "path", J_STR, T_NONE, C_NONE }, { "", J_END, 0, 0 },
};
static const struct field ns_entry[] = { { "", J_OBJ, T_NS, C_NAMESPACE }, { "", J_END, 0, 0 } };
static const struct field device[] = {
	{ "path", J_STR, T_NONE, C_NONE }, { "type", J_STR, T_NONE, C_NONE },
	{ "major", J_NUM, T_NONE, C_NONE },
	{ "minor", J_NUM, T_NONE, C_NONE }, { "fileMode", J_NUM, T_NONE, C_NONE },
	{ "uid", J_NUM, T_NONE, C_NONE }, { "gid", J_NUM, T_NONE, C_NONE }, { "", J_END, 0, 0 },
};
static const struct field device_entry[] = {
	{ "", J_OBJ, T_DEVICE, C_DEVICE }, { "", J_END, 0, 0 },
};
static const struct field dev_rule[] = {
	{ "allow", J_BOOL, T_NONE, C_NONE }, { "type", J_STR, T_NONE, C_NONE },
	{ "major", J_NUM, T_NONE, C_NONE },
	{ "minor", J_NUM, T_NONE, C_NONE }, { "access", J_STR, T_NONE, C_NONE },
	{ "", J_END, 0, 0 },
};
static const struct field dev_rule_entry[] = {
	{ "", J_OBJ, T_DEV_RULE, C_DEV_RULE }, { "", J_END, 0, 0 },
};
/* limits only restrict: their values are the init's to check */
static const struct field resources[] = {
	{ "devices", J_ARR, T_DEV_RULE_ENTRY, C_NONE }, { "memory", J_ANY, T_NONE, C_NONE },
	{ "cpu", J_ANY, T_NONE, C_NONE }, { "pids", J_ANY, T_NONE, C_NONE },
	{ "blockIO", J_ANY, T_NONE, C_NONE },
	{ "hugepageLimits", J_ANY, T_NONE, C_NONE }, { "network", J_ANY, T_NONE, C_NONE },
	{ "rdma", J_ANY, T_NONE, C_NONE }, { "unified", J_ANY, T_NONE, C_NONE },
	{ "", J_END, 0, 0 },
};
/* a seccomp filter only restricts; a listener (a process the kernel would consult) is not
 * permitted */
static const struct field seccomp[] = {
	{ "defaultAction", J_STR, T_NONE, C_NONE }, { "defaultErrnoRet", J_NUM, T_NONE, C_NONE },
	{ "architectures", J_ARR, T_STR_ENTRY, C_NONE }, { "flags", J_ARR, T_STR_ENTRY, C_NONE },
	{ "syscalls", J_ARR, T_ANY_ENTRY, C_NONE }, { "", J_END, 0, 0 },
};
static const struct field sysctl[] = { { "*", J_STR, T_NONE, C_NONE }, { "", J_END, 0, 0 } };
static const struct field annotations[] = {
	{ SV_ANNOT_CGROUP_LAZY, J_STR, T_NONE, C_CGROUP_LAZY }, { "*", J_STR, T_NONE, C_NONE },
	{ "", J_END, 0, 0 },
};
static const struct field idmap[] = {
	{ "containerID", J_NUM, T_NONE, C_NONE }, { "hostID", J_NUM, T_NONE, C_NONE },
	{ "size", J_NUM, T_NONE, C_NONE }, { "", J_END, 0, 0 },
};
static const struct field idmap_entry[] = { { "", J_OBJ, T_IDMAP, C_IDMAP }, { "", J_END, 0, 0 } };
static const struct field linux_[] = {
	{ "namespaces", J_ARR, T_NS_ENTRY, C_NONE }, { "sysctl", J_OBJ, T_SYSCTL, C_SYSCTL },
	{ "resources", J_OBJ, T_RESOURCES, C_NONE },
	{ "cgroupsPath", J_STR, T_NONE, C_CGROUPS_PATH },
	{ "devices", J_ARR, T_DEVICE_ENTRY, C_NONE }, { "seccomp", J_OBJ, T_SECCOMP, C_NONE },
	{ "rootfsPropagation", J_STR, T_NONE, C_PROPAGATION },
	{ "maskedPaths", J_ARR, T_STR_ENTRY, C_MASKED },
	{ "readonlyPaths", J_ARR, T_STR_ENTRY, C_READONLY },
	{ "mountLabel", J_STR, T_NONE, C_NONE }, { "personality", J_ANY, T_NONE, C_NONE },
	{ "uidMappings", J_ARR, T_IDMAP_ENTRY, C_NONE },
	{ "gidMappings", J_ARR, T_IDMAP_ENTRY, C_NONE },
	{ "", J_END, 0, 0 },
};
/* hooks (programs run on the host as root) are not permitted */
static const struct field config[] = {
	{ "ociVersion", J_STR, T_NONE, C_NONE }, { "process", J_OBJ, T_PROCESS, C_NONE },
	{ "root", J_OBJ, T_ROOT, C_NONE }, { "hostname", J_STR, T_NONE, C_HOSTNAME },
	{ "domainname", J_STR, T_NONE, C_HOSTNAME }, { "mounts", J_ARR, T_MOUNT_ENTRY, C_NONE },
	{ "linux", J_OBJ, T_LINUX, C_NONE }, { "annotations", J_OBJ, T_ANNOTATIONS, C_NONE },
	{ "", J_END, 0, 0 },
};
SV_NAMES_END
static const struct field top = { "", J_OBJ, T_CONFIG, C_NONE };

/* a field's members and check by index: the only pointers of the tables */
static const struct field *const tables[T_NTABLES] = {
	[T_STR_ENTRY] = str_entry, [T_NUM_ENTRY] = num_entry, [T_ANY_ENTRY] = any_entry,
	[T_CAP_ENTRY] = cap_entry, [T_CAPS] = caps, [T_USER] = user, [T_RLIMIT] = rlimit,
	[T_RLIMIT_ENTRY] = rlimit_entry, [T_CONSOLE] = console, [T_PROCESS] = process,
	[T_ROOT] = root, [T_MOUNT] = mount, [T_MOUNT_ENTRY] = mount_entry, [T_NS] = ns,
	[T_NS_ENTRY] = ns_entry, [T_DEVICE] = device, [T_DEVICE_ENTRY] = device_entry,
	[T_DEV_RULE] = dev_rule, [T_DEV_RULE_ENTRY] = dev_rule_entry, [T_RESOURCES] = resources,
	[T_SECCOMP] = seccomp, [T_SYSCTL] = sysctl, [T_ANNOTATIONS] = annotations,
	[T_LINUX] = linux_, [T_CONFIG] = config, [T_IDMAP] = idmap, [T_IDMAP_ENTRY] = idmap_entry,
};
static int (*const checks[C_NCHECKS])(struct chk *, const cJSON *, const char *path) = {
	[C_CAPS] = ck_caps, [C_OOM] = ck_oom, [C_MOUNT] = ck_mount, [C_NAMESPACE] = ck_namespace,
	[C_DEVICE] = ck_device, [C_DEV_RULE] = ck_dev_rule, [C_CGROUPS_PATH] = ck_cgroups_path,
	[C_CGROUP_LAZY] = ck_cgroup_lazy, [C_PROPAGATION] = ck_propagation,
	[C_ROOT_PATH] = ck_root_path, [C_ROOT_RO] = ck_root_ro, [C_MASKED] = ck_masked,
	[C_READONLY] = ck_readonly, [C_HOSTNAME] = ck_hostname, [C_SYSCTL] = ck_sysctl,
	[C_IDMAP] = ck_idmap,
};

SV_NAMES_BEGIN
static const char kind_name[][12] = { "a string", "a boolean", "a number", "an object",
				      "an array", "" };
SV_NAMES_END

static bool kind_ok(enum kind k, const cJSON *v)
{
	switch (k) {
	case J_STR: return cJSON_IsString(v);
	case J_BOOL: return cJSON_IsBool(v);
	case J_NUM: return cJSON_IsNumber(v);
	case J_OBJ: return cJSON_IsObject(v);
	case J_ARR: return cJSON_IsArray(v);
	default: return true;
	}
}

static int walk(struct chk *c, const cJSON *v, const struct field *f, const char *path)
{
	char sub[PATHSZ];
	const cJSON *e;
	int i = 0;

	if (!kind_ok(f->kind, v))
		return refuse(c, -EINVAL, "%s: must be %s", path[0] ? path : "config", kind_name[f->kind]);
	if (f->kind == J_OBJ) {
		cJSON_ArrayForEach(e, v) {
			const struct field *m;
			for (m = tables[f->members]; m->kind != J_END; m++)
				if (!strcmp(m->name, "*") || !strcmp(m->name, e->string))
					break;
			snprintf(sub, sizeof(sub), "%s%s%.60s", path, path[0] ? "." : "", e->string);
			if (m->kind == J_END)
				return refuse(c, -EPERM, "%s: not permitted by the policy", sub);
			if (walk(c, e, m, sub) < 0)
				return c->err;
		}
	} else if (f->kind == J_ARR && f->members != T_NONE) {
		cJSON_ArrayForEach(e, v) {
			snprintf(sub, sizeof(sub), "%s[%d]", path, i++);
			if (walk(c, e, &tables[f->members][0], sub) < 0)
				return c->err;
		}
	}
	/* privileged: the shape only (the KEEP checks gather, they refuse nothing) */
	return f->check != C_NONE && !c->p->privileged ? checks[f->check](c, v, path) : 0;
}

/* ---- across fields ------------------------------------------------------------------ */

static bool list_has(const cJSON *a, const char *s)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, a)
		if (cJSON_IsString(e) && !strcmp(e->valuestring, s))
			return true;
	return false;
}

static bool sysctl_allowed(const struct sv_policy *p, const char *k)
{
	for (size_t i = 0; i < p->nsysctls; i++) {
		size_t n = strlen(p->sysctls[i]);
		if (n && p->sysctls[i][n - 1] == '*' ? !strncmp(k, p->sysctls[i], n - 1)
						     : !strcmp(k, p->sysctls[i]))
			return true;
	}
	return false;
}

static bool mask_due(const struct chk *c, const char *path)
{
	return (c->has_proc && !strncmp(path, "/proc/", 6)) || (c->has_sysfs && !strncmp(path, "/sys/", 5));
}

/* In a mount namespace of its own: the root it may have, the paths it must not see. */
static int root_and_paths(struct chk *c)
{
	const char *rp;

	if (!c->root_path)
		return refuse(c, -EINVAL, "root.path: missing");
	rp = c->root_path->valuestring;
	if (!strcmp(rp, "/")) {
		if (!cJSON_IsTrue(c->root_ro))
			return refuse(c, -EPERM, "root.readonly: the host's / only read-only");
	} else if (rp[0] == '/') {
		if (host_path(c, rp, "root.path", c->p->rootfs_sources, c->p->nrootfs,
			      "rootfs_sources") < 0)
			return c->err;
	} else if (!rp[0] || strstr(rp, "..")) {
		/* relative: inside the bundle the monitor made */
		return refuse(c, -EPERM, "root.path \"%.100s\": not inside the bundle", rp);
	}
	/* the root is bound without its submounts: /proc and /sys hold what the config
	 * mounts there, and their masks are due once it does */
	for (size_t i = 0; i < sv_n_default_masked_paths; i++)
		if (mask_due(c, sv_default_masked_paths[i]) &&
		    !list_has(c->masked, sv_default_masked_paths[i]))
			return refuse(c, -EPERM, "linux.maskedPaths: must hold %s",
				      sv_default_masked_paths[i]);
	for (size_t i = 0; i < sv_n_default_readonly_paths; i++)
		if (mask_due(c, sv_default_readonly_paths[i]) &&
		    !list_has(c->readonly, sv_default_readonly_paths[i]) &&
		    !list_has(c->masked, sv_default_readonly_paths[i]))
			return refuse(c, -EPERM, "linux.readonlyPaths: must hold %s",
				      sv_default_readonly_paths[i]);
	return 0;
}

static int across(struct chk *c)
{
	const struct sv_policy *p = c->p;
	unsigned own = (c->ns_new | c->ns_joined) & ~c->ns_joined_host;
	static const unsigned need = SV_NS_PID | SV_NS_NET | SV_NS_IPC | SV_NS_UTS | SV_NS_MOUNT;
	const cJSON *e;

	for (size_t k = 0; k < sizeof(ns_types) / sizeof(ns_types[0]); k++)
		if ((ns_types[k].bit & need) && !(own & ns_types[k].bit) && !(p->host_ns & ns_types[k].bit))
			return refuse(c, -EPERM, "linux.namespaces: the host's %s namespace is not "
				      "permitted by the policy (host_namespaces)", ns_types[k].oci);
	if (p->userns == SV_USERNS_REQUIRE && !((c->ns_new | c->ns_joined) & SV_NS_USER))
		return refuse(c, -EPERM, "linux.namespaces: a user namespace is required by the "
			      "policy (userns = require)");
	if (own & SV_NS_MOUNT && root_and_paths(c) < 0)
		return c->err;
	if (c->mknod && !(c->has_cgroup_path && c->dev_deny_all_first))
		return refuse(c, -EPERM, "process.capabilities: CAP_MKNOD only with a devices cgroup "
			      "(linux.cgroupsPath, and linux.resources.devices denying all first)");
	if (c->hostname && !(own & SV_NS_UTS))
		return refuse(c, -EPERM, "hostname: needs the task's own uts namespace");
	cJSON_ArrayForEach(e, c->sysctl) {
		const char *k = e->string;
		bool net = !strncmp(k, "net.", 4);
		bool ipc = !strncmp(k, "kernel.shm", 10) || !strncmp(k, "kernel.msg", 10) ||
			   !strcmp(k, "kernel.sem") || !strncmp(k, "fs.mqueue.", 10);
		if (!sysctl_allowed(p, k))
			return refuse(c, -EPERM, "linux.sysctl.%.60s: not permitted by the policy", k);
		if ((net && !(own & SV_NS_NET)) || (ipc && !(own & SV_NS_IPC)) || (!net && !ipc))
			return refuse(c, -EPERM, "linux.sysctl.%.60s: not in a namespace of the task's own", k);
	}
	return 0;
}

int sv_policy_check(const struct sv_policy *p, const struct sv_policy_task *t,
		    const char *json, size_t len, char *why, size_t whysz)
{
	struct chk c = { .p = p, .t = t, .why = why, .whysz = whysz };
	cJSON *doc;

	why[0] = 0;
	if (len > SV_CONFIG_MAX)
		return refuse(&c, -EINVAL, "config.json: over %d bytes", SV_CONFIG_MAX);
	doc = cJSON_ParseWithLength(json, len);
	if (!doc)
		return refuse(&c, -EINVAL, "config.json: not JSON");
	if (walk(&c, doc, &top, "") == 0 && !p->privileged)
		across(&c);
	cJSON_Delete(doc);
	return c.err;
}
