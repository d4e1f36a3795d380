/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/spec.c: the OCI config.json of a create request: generated from the CLI's
 * options, or the client's --bundle config with root.path made absolute. */
#include <errno.h>
#include <stdbool.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "policy.h"
#include "spec_options.h"
#include "wire/limits.h"

/* The policy's default set (Docker's) less CAP_MKNOD: a task makes no device node, so the
 * devices it can open are those its /dev holds, with or without a devices cgroup (DESIGN,
 * Default task confinement). etc/seccomp-default.json is resolved for this set. */
static cJSON *default_caps(void)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < sv_n_default_caps; i++)
		if (strcmp(sv_default_caps[i], "CAP_MKNOD"))
			cJSON_AddItemToArray(a, cJSON_CreateString(sv_default_caps[i]));
	return a;
}

static cJSON *strings(const char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

/* The same of policy.h's default paths (held inline, not as pointers). */
static cJSON *default_paths(const char (*v)[SV_DEFAULT_PATH_SIZE], size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

static void add_mount(cJSON *mounts, const char *dst, const char *type, const char *src,
		      const char *const *opts, size_t nopts)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "destination", dst);
	cJSON_AddStringToObject(m, "type", type);
	cJSON_AddStringToObject(m, "source", src);
	cJSON_AddItemToObject(m, "options", strings(opts, nopts));
	cJSON_AddItemToArray(mounts, m);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static cJSON *default_mounts(void)
{
	static const char *const proc[] = { "nosuid", "noexec", "nodev" };
	static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k" };
	static const char *const pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" };
	static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" };
	static const char *const mq[] = { "nosuid", "noexec", "nodev" };
	static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro" };
	static const char *const tmp[] = { "nosuid", "nodev", "mode=1777" };
	cJSON *m = cJSON_CreateArray();

	add_mount(m, "/proc", "proc", "proc", proc, N(proc));
	add_mount(m, "/dev", "tmpfs", "tmpfs", dev, N(dev));
	add_mount(m, "/dev/pts", "devpts", "devpts", pts, N(pts));
	add_mount(m, "/dev/shm", "tmpfs", "shm", shm, N(shm));
	add_mount(m, "/dev/mqueue", "mqueue", "mqueue", mq, N(mq));
	add_mount(m, "/sys", "sysfs", "sysfs", sys, N(sys));
	add_mount(m, "/tmp", "tmpfs", "tmpfs", tmp, N(tmp));
	return m;
}

static cJSON *namespaces(const char *net)
{
	static const char *const base[] = { "pid", "ipc", "uts", "mount" };
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < N(base); i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", base[i]);
		cJSON_AddItemToArray(a, o);
	}
	if (strcmp(net, "host") != 0) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "network");
		if (net[0] == '/')      /* joined: the policy says which paths */
			cJSON_AddStringToObject(o, "path", net);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* What an OCI process object is made of, from a create or an exec request. */
struct proc_opts {
	char **args;
	pb_size_t nargs;
	char **env;
	pb_size_t nenv;
	const char *cwd;
	bool set_user;
	uint32_t uid, gid;
	uint32_t *gids;             /* additionalGids */
	pb_size_t ngids;
	bool terminal;
	bool no_caps;               /* an exec's: it gets its task's sets */
	uint32_t console_w, console_h;  /* with terminal: process.consoleSize (0 = none) */
	const char *extra_env;      /* one more KEY=VALUE after PATH (HOSTNAME=), or NULL */
};

/* The process object: /bin/sh without args, PATH first, the default capabilities (none named
 * for an exec) and no new privileges. NULL with err set on a bad env entry or cwd (or out of
 * memory). */
static cJSON *process_obj(const struct proc_opts *o, char *err, size_t errsz)
{
	static const char *const sh[] = { "/bin/sh" };
	cJSON *p, *user, *env, *caps;

	if (o->cwd && o->cwd[0] && o->cwd[0] != '/') {
		snprintf(err, errsz, "cwd \"%.200s\" is not an absolute path", o->cwd);
		return NULL;
	}
	p = cJSON_CreateObject();
	if (!p) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	cJSON_AddBoolToObject(p, "terminal", o->terminal);
	if (o->terminal && o->console_w && o->console_h) {
		cJSON *cs = cJSON_AddObjectToObject(p, "consoleSize");
		cJSON_AddNumberToObject(cs, "height", o->console_h);
		cJSON_AddNumberToObject(cs, "width", o->console_w);
	}
	user = cJSON_AddObjectToObject(p, "user");
	cJSON_AddNumberToObject(user, "uid", o->set_user ? o->uid : 0);
	cJSON_AddNumberToObject(user, "gid", o->set_user ? o->gid : 0);
	if (o->ngids) {
		cJSON *g = cJSON_AddArrayToObject(user, "additionalGids");
		for (pb_size_t i = 0; i < o->ngids; i++)
			cJSON_AddItemToArray(g, cJSON_CreateNumber(o->gids[i]));
	}
	if (o->nargs) {
		cJSON *a = cJSON_AddArrayToObject(p, "args");
		for (pb_size_t i = 0; i < o->nargs; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(o->args[i] ? o->args[i] : ""));
	} else {
		cJSON_AddItemToObject(p, "args", strings(sh, 1));
	}
	env = cJSON_AddArrayToObject(p, "env");
	/* the default PATH, unless the caller gives one (docker's rule: one PATH, theirs) */
	bool own_path = o->extra_env && !strncmp(o->extra_env, "PATH=", 5);
	for (pb_size_t i = 0; i < o->nenv && !own_path; i++)
		own_path = o->env[i] && !strncmp(o->env[i], "PATH=", 5);
	if (!own_path)
		cJSON_AddItemToArray(env, cJSON_CreateString("PATH=" SV_DEFAULT_PATH));
	if (o->extra_env)
		cJSON_AddItemToArray(env, cJSON_CreateString(o->extra_env));
	for (pb_size_t i = 0; i < o->nenv; i++) {
		if (!o->env[i] || !strchr(o->env[i], '=')) {
			snprintf(err, errsz, "env \"%.64s\" is not KEY=VALUE", o->env[i] ? o->env[i] : "");
			cJSON_Delete(p);
			return NULL;
		}
		cJSON_AddItemToArray(env, cJSON_CreateString(o->env[i]));
	}
	cJSON_AddStringToObject(p, "cwd", o->cwd && o->cwd[0] ? o->cwd : "/");
	if (!o->no_caps) {
		caps = cJSON_AddObjectToObject(p, "capabilities");
		cJSON_AddItemToObject(caps, "bounding", default_caps());
		cJSON_AddItemToObject(caps, "effective", default_caps());
		cJSON_AddItemToObject(caps, "permitted", default_caps());
	}
	cJSON_AddBoolToObject(p, "noNewPrivileges", true);
	return p;
}

int spec_process(const sv_CtlExecRequest *rq, char **json, size_t *len, char *err, size_t errsz)
{
	cJSON *p = process_obj(&(struct proc_opts){ .args = rq->args, .nargs = rq->args_count,
						     .env = rq->env, .nenv = rq->env_count,
						     .cwd = rq->cwd, .set_user = rq->set_user,
						     .uid = rq->uid, .gid = rq->gid, .no_caps = true,
						     .terminal = rq->terminal,
						     .console_w = rq->console_width,
						     .console_h = rq->console_height },
			       err, errsz);

	if (!p)
		return -EINVAL;
	*json = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	if (!*json) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	*len = strlen(*json);
	return 0;
}

static cJSON *device_rules(void)
{
	cJSON *a = cJSON_CreateArray(), *d = cJSON_CreateObject();

	cJSON_AddBoolToObject(d, "allow", false);
	cJSON_AddStringToObject(d, "access", "rwm");
	cJSON_AddItemToArray(a, d);
	/* runc's rules: deny all, then the default devices (the init adds its own defaults
	 * after them, worker/init/cgroups_v1.c) */
	for (size_t i = 0; i < sv_n_default_devices; i++) {
		char type[2] = { sv_default_devices[i].type, 0 };

		d = cJSON_CreateObject();
		cJSON_AddBoolToObject(d, "allow", true);
		cJSON_AddStringToObject(d, "type", type);
		cJSON_AddNumberToObject(d, "major", (double)sv_default_devices[i].major);
		if (sv_default_devices[i].minor >= 0)
			cJSON_AddNumberToObject(d, "minor", (double)sv_default_devices[i].minor);
		cJSON_AddStringToObject(d, "access", "rwm");
		cJSON_AddItemToArray(a, d);
	}
	return a;
}

static int generate(const sv_CtlCreateRequest *rq, const char *seccomp, cJSON **out, char *err,
		    size_t errsz)
{
	const char *net = rq->net && rq->net[0] ? rq->net : "loopback";
	cJSON *s, *p, *root, *linux_, *annotations;
	char buf[80], host[64];

	if (!spec_net_valid(net)) {
		snprintf(err, errsz, "net mode \"%.32s\": want none, host, loopback or the absolute "
			 "path of a network namespace", net);
		return -EINVAL;
	}
	if (rq->rootfs && rq->rootfs[0] && rq->rootfs[0] != '/') {
		snprintf(err, errsz, "rootfs \"%.200s\" is not an absolute path", rq->rootfs);
		return -EINVAL;
	}
	if (rq->hostname && strlen(rq->hostname) > 64) {
		snprintf(err, errsz, "hostname \"%.64s...\" is longer than 64 bytes", rq->hostname);
		return -EINVAL;
	}
	/* the default hostname is the id, cut to what sethostname takes */
	snprintf(host, sizeof(host), "%s", rq->hostname && rq->hostname[0] ? rq->hostname : rq->id);
	s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "ociVersion", "1.0.2");
	snprintf(buf, sizeof(buf), "HOSTNAME=%s", host);
	p = process_obj(&(struct proc_opts){ .args = rq->args, .nargs = rq->args_count,
					     .env = rq->env, .nenv = rq->env_count, .cwd = rq->cwd,
					     .set_user = rq->set_user, .uid = rq->uid, .gid = rq->gid,
					     .gids = rq->additional_gids,
					     .ngids = rq->additional_gids_count,
					     .terminal = rq->terminal,
					     .console_w = rq->console_width,
					     .console_h = rq->console_height, .extra_env = buf },
			err, errsz);
	if (!p) {
		cJSON_Delete(s);
		return -EINVAL;
	}
	cJSON_AddItemToObject(s, "process", p);
	if ((rq->cap_add_count || rq->cap_drop_count) && spec_set_caps(p, rq, err, errsz) < 0) {
		cJSON_Delete(s);
		return -EINVAL;
	}
	root = cJSON_AddObjectToObject(s, "root");
	if (rq->rootfs && rq->rootfs[0]) {
		cJSON_AddStringToObject(root, "path", rq->rootfs);
		cJSON_AddBoolToObject(root, "readonly", rq->read_only);
	} else {
		cJSON_AddStringToObject(root, "path", "/");
		cJSON_AddBoolToObject(root, "readonly", true);
	}
	cJSON_AddStringToObject(s, "hostname", host);
	cJSON_AddItemToObject(s, "mounts", default_mounts());
	if (spec_add_mounts(cJSON_GetObjectItemCaseSensitive(s, "mounts"), rq, err, errsz) < 0) {
		cJSON_Delete(s);
		return -EINVAL;
	}
	linux_ = cJSON_AddObjectToObject(s, "linux");
	cJSON_AddItemToObject(linux_, "namespaces", namespaces(net));
	cJSON_AddItemToObject(linux_, "maskedPaths", default_paths(sv_default_masked_paths, sv_n_default_masked_paths));
	cJSON_AddItemToObject(linux_, "readonlyPaths", default_paths(sv_default_readonly_paths, sv_n_default_readonly_paths));
	if (seccomp)
		cJSON_AddRawToObject(linux_, "seccomp", seccomp);
	annotations = cJSON_AddObjectToObject(s, "annotations");
	cJSON_AddStringToObject(annotations, "io.shimvisor.net", net);
	/* no device node in the root opens (the init mounts it nodev), devices cgroup or not */
	cJSON_AddStringToObject(annotations, "io.shimvisor.root.nodev", "true");
	*out = s;
	return 0;
}

/* A client's config.json: an object, root.path absolute against bundle_dir. */
static int adopt(const sv_CtlCreateRequest *rq, cJSON **out, char *err, size_t errsz)
{
	const pb_bytes_array_t *b = rq->bundle_config;
	cJSON *s = cJSON_ParseWithLength((const char *)b->bytes, b->size);
	cJSON *root, *path;
	char abs[PATH_MAX];

	if (!s || !cJSON_IsObject(s)) {
		snprintf(err, errsz, "the bundle's config.json is not a JSON object");
		cJSON_Delete(s);
		return -EINVAL;
	}
	root = cJSON_GetObjectItemCaseSensitive(s, "root");
	path = root ? cJSON_GetObjectItemCaseSensitive(root, "path") : NULL;
	if (!cJSON_IsString(path) || !path->valuestring[0]) {
		snprintf(err, errsz, "the bundle's config.json has no root.path");
		cJSON_Delete(s);
		return -EINVAL;
	}
	if (path->valuestring[0] != '/') {
		if (!rq->bundle_dir || rq->bundle_dir[0] != '/') {
			snprintf(err, errsz, "relative root.path needs an absolute bundle directory");
			cJSON_Delete(s);
			return -EINVAL;
		}
		snprintf(abs, sizeof(abs), "%s/%s", rq->bundle_dir, path->valuestring);
		cJSON_SetValuestring(path, abs);
	}
	*out = s;
	return 0;
}

static cJSON *object_in(cJSON *parent, const char *name)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, name);

	if (cJSON_IsObject(o))
		return o;
	cJSON_DeleteItemFromObjectCaseSensitive(parent, name);
	return cJSON_AddObjectToObject(parent, name);
}

static void set_number(cJSON *o, const char *name, double v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	cJSON_AddNumberToObject(o, name, v);
}

/* 0 is "not set"; the bounds keep the JSON numbers exact integers */
static bool limits_valid(int64_t memory, int64_t pids)
{
	return memory >= 0 && memory <= (1LL << 49) && pids >= 0 && pids <= 4194304;
}

/* OCI LinuxResources: the limits that are not 0 */
static void add_limits(cJSON *res, int64_t memory, int64_t pids, uint32_t cpus_milli)
{
	if (memory)
		set_number(object_in(res, "memory"), "limit", (double)memory);
	if (pids)
		set_number(object_in(res, "pids"), "limit", (double)pids);
	if (cpus_milli) {
		cJSON *cpu = object_in(res, "cpu");
		set_number(cpu, "period", SV_CPU_PERIOD_US);
		set_number(cpu, "quota", (double)cpus_milli * SV_CPU_PERIOD_US / 1000);
	}
}

/* linux.cgroupsPath (unless the config names one) and the limits asked for; a task that gets
 * no cgroup now keeps lazy_path for later (annotation io.shimvisor.cgroup.lazy: made at its
 * first Pause or Update). */
static int cgroup_and_limits(cJSON *s, const sv_CtlCreateRequest *rq, const char *cgroups_path,
			     const char *lazy_path, bool generated, char *err, size_t errsz)
{
	bool limits = rq->memory || rq->pids || rq->cpus_milli;
	cJSON *linux_, *cp;

	if (!limits_valid(rq->memory, rq->pids)) {
		snprintf(err, errsz, "memory must be 1 to 2^49 bytes, pids 1 to 4194304");
		return -EINVAL;
	}
	linux_ = object_in(s, "linux");
	cp = cJSON_GetObjectItemCaseSensitive(linux_, "cgroupsPath");
	if (!cJSON_IsString(cp) || !cp->valuestring[0]) {
		if (!cgroups_path || !cgroups_path[0]) {
			if (!limits && lazy_path && lazy_path[0]) {
				cJSON *a = object_in(s, "annotations");

				cJSON_DeleteItemFromObjectCaseSensitive(a, SV_ANNOT_CGROUP_LAZY);
				cJSON_AddStringToObject(a, SV_ANNOT_CGROUP_LAZY, lazy_path);
			}
			if (!limits)
				return 0;
			snprintf(err, errsz, "limits need a cgroup: the daemon's cgroup_parent is empty");
			return -EINVAL;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(linux_, "cgroupsPath");
		cJSON_AddStringToObject(linux_, "cgroupsPath", cgroups_path);
	}
	if (generated)
		cJSON_AddItemToObject(object_in(linux_, "resources"), "devices", device_rules());
	if (!limits)
		return 0;
	add_limits(object_in(linux_, "resources"), rq->memory, rq->pids, rq->cpus_milli);
	return 0;
}

int spec_resources(const sv_CtlUpdateRequest *rq, char **json, size_t *len)
{
	cJSON *res;

	if (!limits_valid(rq->memory, rq->pids) || !(rq->memory || rq->pids || rq->cpus_milli))
		return -EINVAL;
	res = cJSON_CreateObject();
	if (!res)
		return -ENOMEM;
	add_limits(res, rq->memory, rq->pids, rq->cpus_milli);
	*json = cJSON_PrintUnformatted(res);
	cJSON_Delete(res);
	if (!*json)
		return -ENOMEM;
	*len = strlen(*json);
	return 0;
}

int spec_build(const sv_CtlCreateRequest *rq, const char *cgroups_path, const char *seccomp,
	       char **json, size_t *len, char *err, size_t errsz)
{
	return spec_build_summary(rq, cgroups_path, NULL, seccomp, NULL, json, len, NULL, err, errsz);
}

int spec_build_cg(const sv_CtlCreateRequest *rq, const char *cgroups_path, const char *lazy_path,
		  const char *seccomp, char **json, size_t *len, char *err, size_t errsz)
{
	return spec_build_summary(rq, cgroups_path, lazy_path, seccomp, NULL, json, len, NULL, err,
				  errsz);
}

int spec_build_summary(const sv_CtlCreateRequest *rq, const char *cgroups_path,
		       const char *lazy_path, const char *seccomp,
		       const struct spec_seccomp_sum *ssum, char **json, size_t *len,
		       pb_bytes_array_t **summary, char *err, size_t errsz)
{
	bool generated = !(rq->bundle_config && rq->bundle_config->size);
	cJSON *s = NULL;
	int r;

	if (summary)
		*summary = NULL;
	if (!generated) {
		if (rq->mounts_count || rq->read_only || rq->cap_add_count || rq->cap_drop_count ||
		    (rq->seccomp && rq->seccomp[0]) || rq->additional_gids_count) {
			snprintf(err, errsz, "a bundle's config.json says its mounts, capabilities, "
				 "seccomp and groups: no run option sets them");
			return -EINVAL;
		}
		if ((size_t)rq->bundle_config->size + 1 > SV_CONFIG_MAX + 1u) {
			snprintf(err, errsz, "config.json is over %u bytes", SV_CONFIG_MAX);
			return -EMSGSIZE;
		}
		r = adopt(rq, &s, err, errsz);
	} else {
		char *own = NULL;
		const char *sc;

		r = spec_seccomp_choice(rq, seccomp, &own, &sc, err, errsz);
		if (r == 0)
			r = generate(rq, sc, &s, err, errsz);
		free(own);
	}
	if (r == 0 && (r = cgroup_and_limits(s, rq, cgroups_path, lazy_path, generated, err, errsz)) == 0 &&
	    rq->labels_count)   /* a bundle's config is left alone without labels */
		r = spec_add_labels(object_in(s, "annotations"), rq->labels, rq->labels_count, err, errsz);
	if (r < 0) {
		cJSON_Delete(s);
		return r;
	}
	*json = cJSON_PrintUnformatted(s);
	if (summary && *json && spec_summary(s, seccomp, ssum, summary) < 0)
		*summary = NULL;        /* inspect then shows the state alone */
	cJSON_Delete(s);
	if (!*json) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	*len = strlen(*json);
	if (*len > SV_CONFIG_MAX) {
		free(*json);
		*json = NULL;
		if (summary) {
			free(*summary);
			*summary = NULL;
		}
		snprintf(err, errsz, "config.json is over %u bytes", SV_CONFIG_MAX);
		return -EMSGSIZE;
	}
	return 0;
}
