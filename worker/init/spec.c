/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/spec.c: parse and validate config.json (OCI runtime spec) into struct spec. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "wire/limits.h"
#include "worker/init/spec.h"
#include "worker/init/spec_json.h"
#include "worker/init/spec_resources.h"

static const struct { const char *name; int flag; } ns_types[] = {
	{ "pid", CLONE_NEWPID }, { "mount", CLONE_NEWNS }, { "uts", CLONE_NEWUTS },
	{ "ipc", CLONE_NEWIPC }, { "network", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP },
	{ "user", CLONE_NEWUSER },
};

static const struct { const char *name; unsigned long flag; } propagations[] = {
	{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE }, { "slave", MS_SLAVE },
	{ "rslave", MS_SLAVE }, { "shared", MS_SHARED }, { "rshared", MS_SHARED },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE },
};

const struct spec_ns *spec_find_ns(const struct spec *s, int flag)
{
	for (size_t i = 0; i < s->nns; i++)
		if (s->ns[i].flag == flag)
			return &s->ns[i];
	return NULL;
}

static int parse_mounts(struct jctx *j, const cJSON *root, struct spec *s)
{
	const cJSON *arr = NULL, *it;
	size_t i = 0;
	int rc = j_array(j, root, "mounts", "", &arr);

	if (rc || !arr)
		return rc;
	s->mounts = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*s->mounts));
	if (!s->mounts)
		return j_nomem(j);
	cJSON_ArrayForEach(it, arr) {
		struct spec_mount *m = &s->mounts[i++];

		s->nmounts = i;
		if (!cJSON_IsObject(it))
			return j_fail(j, "", "mounts", "must be an array of objects");
		if ((rc = j_string(j, it, "destination", "mounts[]", 1, &m->dest)) ||
		    (rc = j_string(j, it, "type", "mounts[]", 0, &m->type)) ||
		    (rc = j_string(j, it, "source", "mounts[]", 0, &m->source)) ||
		    (rc = j_strv(j, it, "options", "mounts[]", &m->options, &m->noptions)))
			return rc;
		if (m->dest[0] != '/')
			return j_fail(j, "mounts[]", "destination", "must be an absolute path");
		if ((!m->type && !(m->type = strdup(""))) ||
		    (!m->source && !(m->source = strdup(""))) ||
		    (!m->options && !(m->options = calloc(1, sizeof(char *)))))
			return j_nomem(j);
	}
	return 0;
}

static int parse_namespaces(struct jctx *j, const cJSON *linux_, struct spec *s)
{
	const cJSON *arr = NULL, *it;
	size_t i = 0;
	int rc = j_array(j, linux_, "namespaces", "linux", &arr);

	if (rc || !arr)
		return rc;
	s->ns = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*s->ns));
	if (!s->ns)
		return j_nomem(j);
	cJSON_ArrayForEach(it, arr) {
		struct spec_ns *n = &s->ns[i];
		char *type = NULL;
		size_t k;

		if (!cJSON_IsObject(it))
			return j_fail(j, "linux", "namespaces", "must be an array of objects");
		if ((rc = j_string(j, it, "type", "linux.namespaces[]", 1, &type)))
			return rc;
		for (k = 0; k < sizeof(ns_types) / sizeof(ns_types[0]); k++)
			if (!strcmp(type, ns_types[k].name))
				break;
		free(type);
		if (k == sizeof(ns_types) / sizeof(ns_types[0]))
			return j_fail(j, "linux.namespaces[]", "type", "unknown namespace type");
		n->flag = ns_types[k].flag;
		if (spec_find_ns(s, n->flag))
			return j_fail(j, "linux", "namespaces", "duplicate type");
		s->nns = ++i;
		if ((rc = j_string(j, it, "path", "linux.namespaces[]", 0, &n->path)))
			return rc;
		if (n->path && n->path[0] != '/')
			return j_fail(j, "linux.namespaces[]", "path", "must be an absolute path");
	}
	return 0;
}

/* linux.uidMappings or gidMappings: at most the kernel's 340 lines, each range within the
 * 32-bit ids (the kernel checks overlaps). */
static int parse_idmap(struct jctx *j, const cJSON *linux_, const char *key,
		       struct spec_idmap **out, size_t *n)
{
	static const char *const f[3] = { "containerID", "hostID", "size" };
	const cJSON *arr = NULL, *it;
	char where[32];
	int rc = j_array(j, linux_, key, "linux", &arr);

	if (rc || !arr)
		return rc;
	if (cJSON_GetArraySize(arr) > SPEC_IDMAP_MAX)
		return j_fail(j, "linux", key, "more than 340 mappings (the kernel's limit)");
	*out = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(**out));
	if (!*out)
		return j_nomem(j);
	snprintf(where, sizeof(where), "linux.%s[]", key);
	cJSON_ArrayForEach(it, arr) {
		struct spec_idmap *m = &(*out)[(*n)++];
		int64_t v[3] = { 0, 0, 0 };
		int has_size = 0;

		if (!cJSON_IsObject(it))
			return j_fail(j, "linux", key, "must be an array of objects");
		for (int k = 0; k < 3; k++)
			if ((rc = j_int(j, it, f[k], where, k == 2, UINT32_MAX, &v[k],
					k == 2 ? &has_size : NULL)))
				return rc;
		if (!has_size)
			return j_fail(j, where, "size", "is required");
		if (v[0] + v[2] > (int64_t)UINT32_MAX + 1 || v[1] + v[2] > (int64_t)UINT32_MAX + 1)
			return j_fail(j, where, "size", "goes beyond the 32-bit ids");
		m->container = (uint32_t)v[0];
		m->host = (uint32_t)v[1];
		m->size = (uint32_t)v[2];
	}
	return 0;
}

/* A new user namespace needs both mappings; a joined one (path) or none takes none. */
static int check_userns(struct jctx *j, const struct spec *s)
{
	const struct spec_ns *u = spec_find_ns(s, CLONE_NEWUSER);

	if ((!u || u->path) && (s->nuid_map || s->ngid_map))
		return j_fail(j, "linux", s->nuid_map ? "uidMappings" : "gidMappings",
			      u ? "not with a user namespace joined by path" :
			      "needs a user namespace (linux.namespaces)");
	if (u && !u->path && (!s->nuid_map || !s->ngid_map))
		return j_fail(j, "linux", !s->nuid_map ? "uidMappings" : "gidMappings",
			      "a new user namespace needs them");
	return 0;
}

static int parse_sysctl(struct jctx *j, const cJSON *linux_, struct spec *s)
{
	const cJSON *obj = NULL, *it;
	size_t i = 0;
	int rc = j_object(j, linux_, "sysctl", "linux", &obj);

	if (rc || !obj)
		return rc;
	s->sysctl = calloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(*s->sysctl));
	if (!s->sysctl)
		return j_nomem(j);
	cJSON_ArrayForEach(it, obj) {
		struct spec_kv *kv = &s->sysctl[i];

		if (!cJSON_IsString(it) || !it->valuestring || !it->string)
			return j_fail(j, "linux", "sysctl", "values must be strings");
		kv->key = strdup(it->string);
		kv->value = strdup(it->valuestring);
		s->nsysctl = ++i;
		if (!kv->key || !kv->value)
			return j_nomem(j);
	}
	return 0;
}

/* A cgroup path (linux.cgroupsPath, or the lazy one's annotation): no . or .., no newline. */
static int cgroup_path_ok(struct jctx *j, const char *path, const char *where, const char *key)
{
	for (const char *p = path; p && *p; p += strcspn(p, "/"), p += *p == '/') {
		size_t len = strcspn(p, "/");

		if ((len == 1 && p[0] == '.') || (len == 2 && !strncmp(p, "..", 2)))
			return j_fail(j, where, key, "must not contain . or ..");
	}
	if (path && strchr(path, '\n'))
		return j_fail(j, where, key, "must not contain a newline");
	return 0;
}

/* linux.cgroupsPath and linux.resources (applied by cgroups.c). */
static int parse_cgroups(struct jctx *j, const cJSON *linux_, struct spec *s)
{
	const cJSON *res = NULL;
	int rc;

	if ((rc = j_string(j, linux_, "cgroupsPath", "linux", 0, &s->cgroups_path)) ||
	    (rc = j_object(j, linux_, "resources", "linux", &res)))
		return rc;
	if ((rc = cgroup_path_ok(j, s->cgroups_path, "linux", "cgroupsPath")))
		return rc;
	if (res && (rc = spec_parse_resources(j, res, "linux.resources", &s->resources)))
		return rc;
	if (s->resources && (!s->cgroups_path || !*s->cgroups_path) &&
	    !spec_resources_empty(s->resources))
		return j_fail(j, "linux", "resources", "needs linux.cgroupsPath");
	return 0;
}

static int parse_linux(struct jctx *j, const cJSON *root, struct spec *s)
{
	const cJSON *linux_ = NULL, *sc = NULL;
	char *prop = NULL;
	int rc = j_object(j, root, "linux", "", &linux_);

	s->rootfs_propagation = MS_PRIVATE;
	if (rc || !linux_)
		return rc;
	if ((rc = parse_namespaces(j, linux_, s)) ||
	    (rc = parse_idmap(j, linux_, "uidMappings", &s->uid_map, &s->nuid_map)) ||
	    (rc = parse_idmap(j, linux_, "gidMappings", &s->gid_map, &s->ngid_map)) ||
	    (rc = check_userns(j, s)) || (rc = parse_sysctl(j, linux_, s)) ||
	    (rc = parse_cgroups(j, linux_, s)) ||
	    (rc = j_strv(j, linux_, "maskedPaths", "linux", &s->masked, &s->nmasked)) ||
	    (rc = j_strv(j, linux_, "readonlyPaths", "linux", &s->readonly, &s->nreadonly)) ||
	    (rc = j_string(j, linux_, "rootfsPropagation", "linux", 0, &prop)))
		return rc;
	if (prop) {
		size_t k;

		for (k = 0; k < sizeof(propagations) / sizeof(propagations[0]); k++)
			if (!strcmp(prop, propagations[k].name))
				break;
		free(prop);
		if (k == sizeof(propagations) / sizeof(propagations[0]))
			return j_fail(j, "linux", "rootfsPropagation", "unknown propagation");
		s->rootfs_propagation = propagations[k].flag;
	}
	for (size_t i = 0; i < s->nmasked; i++)
		if (s->masked[i][0] != '/')
			return j_fail(j, "linux", "maskedPaths", "must be absolute paths");
	for (size_t i = 0; i < s->nreadonly; i++)
		if (s->readonly[i][0] != '/')
			return j_fail(j, "linux", "readonlyPaths", "must be absolute paths");
	if ((rc = j_object(j, linux_, "seccomp", "linux", &sc)) || !sc)
		return rc;
	return spec_parse_seccomp(j, sc, &s->seccomp);
}

static int parse_root(struct jctx *j, const cJSON *root, struct spec *s)
{
	const cJSON *r = NULL;
	int rc = j_object(j, root, "root", "", &r);

	if (rc)
		return rc;
	if (!r)
		return j_fail(j, "", "root", "is required");
	if ((rc = j_string(j, r, "path", "root", 1, &s->root_path)) ||
	    (rc = j_bool(j, r, "readonly", "root", &s->root_readonly)))
		return rc;
	if (!s->root_path[0])
		return j_fail(j, "root", "path", "must not be empty");
	return 0;
}

/* shimvisor's own annotations: io.shimvisor.net ("none" | "loopback" | "host"),
 * io.shimvisor.root.nodev ("true": the root is mounted nodev), io.shimvisor.cgroup.lazy (the
 * cgroup a task started without one is given at its first Pause or Update). */
static int parse_annotations(struct jctx *j, const cJSON *root, struct spec *out)
{
	const cJSON *a = NULL;
	char *net = NULL, *nodev = NULL;
	int rc = j_object(j, root, "annotations", "", &a);

	if (rc || !a)
		return rc;
	rc = j_string(j, a, "io.shimvisor.net", "annotations", 0, &net);
	if (!rc && net)
		out->lo_down = !strcmp(net, "none");
	if (!rc)
		rc = j_string(j, a, "io.shimvisor.root.nodev", "annotations", 0, &nodev);
	if (!rc && nodev)
		out->root_nodev = !strcmp(nodev, "true");
	if (!rc && !(rc = j_string(j, a, SV_ANNOT_CGROUP_LAZY, "annotations", 0, &out->cgroup_lazy)))
		rc = cgroup_path_ok(j, out->cgroup_lazy, "annotations", SV_ANNOT_CGROUP_LAZY);
	free(net);
	free(nodev);
	return rc;
}

static int parse_process(struct jctx *j, const cJSON *root, struct spec_process *p)
{
	const cJSON *proc = NULL;
	int rc = j_object(j, root, "process", "", &proc);

	if (rc)
		return rc;
	if (!proc)
		return j_fail(j, "", "process", "is required");
	return spec_parse_process_obj(j, proc, p);
}

int spec_parse(const char *json, size_t len, struct spec *out, char *err, size_t errsz)
{
	struct jctx j = { .err = err, .errsz = errsz };
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	if (errsz)
		err[0] = '\0';
	if ((rc = j_parse_object(&j, json, len, &root)))
		return rc;
	if (!(rc = parse_annotations(&j, root, out)) &&
	    !(rc = parse_process(&j, root, &out->process)) &&
	    !(rc = parse_root(&j, root, out)) &&
	    !(rc = j_string(&j, root, "hostname", "", 0, &out->hostname)) &&
	    !(rc = parse_mounts(&j, root, out)))
		rc = parse_linux(&j, root, out);
	if (!rc && out->hostname && !spec_find_ns(out, CLONE_NEWUTS))
		rc = j_fail(&j, "", "hostname", "needs a uts namespace");
	cJSON_Delete(root);
	if (rc)
		spec_free(out);
	return rc;
}

void spec_free(struct spec *s)
{
	spec_process_free(&s->process);
	free(s->root_path);
	free(s->hostname);
	for (size_t i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].dest);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		j_strv_free(s->mounts[i].options);
	}
	free(s->mounts);
	for (size_t i = 0; i < s->nns; i++)
		free(s->ns[i].path);
	free(s->ns);
	free(s->uid_map);
	free(s->gid_map);
	j_strv_free(s->masked);
	j_strv_free(s->readonly);
	for (size_t i = 0; i < s->nsysctl; i++) {
		free(s->sysctl[i].key);
		free(s->sysctl[i].value);
	}
	free(s->sysctl);
	spec_seccomp_free(s->seccomp);
	free(s->cgroups_path);
	free(s->cgroup_lazy);
	spec_resources_free(s->resources);
	memset(s, 0, sizeof(*s));
}
