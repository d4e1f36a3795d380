/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/spec.c: parse and validate config.json (OCI runtime spec) into struct spec. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <cap-ng.h>

#include "worker/init/spec.h"
#include "worker/init/spec_json.h"
#include "worker/init/spec_resources.h"

static const struct { const char *name; int flag; } ns_types[] = {
	{ "pid", CLONE_NEWPID }, { "mount", CLONE_NEWNS }, { "uts", CLONE_NEWUTS },
	{ "ipc", CLONE_NEWIPC }, { "network", CLONE_NEWNET }, { "cgroup", CLONE_NEWCGROUP },
	{ "user", CLONE_NEWUSER },
};

static const struct { const char *name; int res; } rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

static const struct { const char *name; unsigned long flag; } propagations[] = {
	{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE }, { "slave", MS_SLAVE },
	{ "rslave", MS_SLAVE }, { "shared", MS_SHARED }, { "rshared", MS_SHARED },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE },
};

static const char *const capset_names[CAPSET_COUNT] = {
	"bounding", "effective", "permitted", "inheritable", "ambient",
};

const struct spec_ns *spec_find_ns(const struct spec *s, int flag)
{
	for (size_t i = 0; i < s->nns; i++)
		if (s->ns[i].flag == flag)
			return &s->ns[i];
	return NULL;
}

static int parse_user(struct jctx *j, const cJSON *proc, struct spec_process *p)
{
	const cJSON *user = NULL, *gids = NULL, *it;
	int64_t v = 0;
	int rc, has = 0;
	size_t i = 0;

	rc = j_object(j, proc, "user", "process", &user);
	if (rc || !user)
		return rc;
	if ((rc = j_int(j, user, "uid", "process.user", 0, UINT32_MAX - 1, &v, NULL)))
		return rc;
	p->uid = (uint32_t)v;
	v = 0;
	if ((rc = j_int(j, user, "gid", "process.user", 0, UINT32_MAX - 1, &v, NULL)))
		return rc;
	p->gid = (uint32_t)v;
	if ((rc = j_int(j, user, "umask", "process.user", 0, 0777, &v, &has)))
		return rc;
	p->has_umask = has;
	p->umask = (uint32_t)v;
	if ((rc = j_array(j, user, "additionalGids", "process.user", &gids)) || !gids)
		return rc;
	p->gids = calloc((size_t)cJSON_GetArraySize(gids) + 1, sizeof(*p->gids));
	if (!p->gids)
		return j_nomem(j);
	cJSON_ArrayForEach(it, gids) {
		uint64_t g;

		if (j_item_u64(j, it, "process.user", "additionalGids", &g) || g >= UINT32_MAX)
			return j_fail(j, "process.user", "additionalGids",
				      "must be an array of group ids");
		p->gids[i++] = (uint32_t)g;
	}
	p->ngids = i;
	return 0;
}

static int parse_rlimits(struct jctx *j, const cJSON *proc, struct spec_process *p)
{
	const cJSON *arr = NULL, *it;
	size_t i = 0;
	int rc = j_array(j, proc, "rlimits", "process", &arr);

	if (rc || !arr)
		return rc;
	p->rlimits = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*p->rlimits));
	if (!p->rlimits)
		return j_nomem(j);
	cJSON_ArrayForEach(it, arr) {
		struct spec_rlimit *r = &p->rlimits[i];
		char *type = NULL;
		size_t k;

		if (!cJSON_IsObject(it))
			return j_fail(j, "process", "rlimits", "must be an array of objects");
		rc = j_string(j, it, "type", "process.rlimits[]", 1, &type);
		if (rc)
			return rc;
		for (k = 0; k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (!strcmp(type, rlimit_names[k].name))
				break;
		free(type);
		if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0]))
			return j_fail(j, "process.rlimits[]", "type", "unknown resource");
		r->resource = rlimit_names[k].res;
		if ((rc = j_u64(j, it, "soft", "process.rlimits[]", &r->soft, NULL)) ||
		    (rc = j_u64(j, it, "hard", "process.rlimits[]", &r->hard, NULL)))
			return rc;
		for (size_t m = 0; m < i; m++)
			if (p->rlimits[m].resource == r->resource)
				return j_fail(j, "process", "rlimits", "duplicate type");
		i++;
	}
	p->nrlimits = i;
	return 0;
}

static int parse_caps(struct jctx *j, const cJSON *proc, struct spec_process *p)
{
	const cJSON *caps = NULL;
	int rc = j_object(j, proc, "capabilities", "process", &caps);

	if (rc || !caps)
		return rc;
	p->has_caps = 1;
	for (int set = 0; set < CAPSET_COUNT; set++) {
		char **names = NULL;
		size_t n = 0;

		rc = j_strv(j, caps, capset_names[set], "process.capabilities", &names, &n);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++) {
			const char *nm = names[i];
			int cap;

			if (!strncasecmp(nm, "CAP_", 4))
				nm += 4;
			cap = *nm ? capng_name_to_capability(nm) : -1;
			if (cap < 0 || cap > 63) {
				j_strv_free(names);
				return j_fail(j, "process.capabilities", capset_names[set],
					      "unknown capability");
			}
			p->caps[set] |= UINT64_C(1) << cap;
		}
		j_strv_free(names);
	}
	return 0;
}

static int parse_process(struct jctx *j, const cJSON *root, struct spec_process *p)
{
	const cJSON *proc = NULL;
	int64_t v = 0;
	int rc, has = 0;

	if ((rc = j_object(j, root, "process", "", &proc)))
		return rc;
	if (!proc)
		return j_fail(j, "", "process", "is required");
	if ((rc = j_strv(j, proc, "args", "process", &p->args, &p->nargs)))
		return rc;
	if (p->nargs == 0 || !p->args[0][0])
		return j_fail(j, "process", "args", "must name a program");
	if ((rc = j_strv(j, proc, "env", "process", &p->env, &p->nenv)))
		return rc;
	if (!p->env && !(p->env = calloc(1, sizeof(*p->env))))
		return j_nomem(j);
	for (size_t i = 0; i < p->nenv; i++)
		if (!strchr(p->env[i], '=') || p->env[i][0] == '=')
			return j_fail(j, "process", "env", "entries must be KEY=VALUE");
	if ((rc = j_string(j, proc, "cwd", "process", 0, &p->cwd)))
		return rc;
	if (!p->cwd && !(p->cwd = strdup("/")))
		return j_nomem(j);
	if (p->cwd[0] != '/')
		return j_fail(j, "process", "cwd", "must be an absolute path");
	if ((rc = j_bool(j, proc, "terminal", "process", &p->terminal)) ||
	    (rc = j_bool(j, proc, "noNewPrivileges", "process", &p->no_new_privs)))
		return rc;
	if ((rc = j_int(j, proc, "oomScoreAdj", "process", -1000, 1000, &v, &has)))
		return rc;
	p->has_oom_score_adj = has;
	p->oom_score_adj = (int)v;
	if ((rc = parse_user(j, proc, p)) || (rc = parse_rlimits(j, proc, p)))
		return rc;
	return parse_caps(j, proc, p);
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

/* linux.cgroupsPath and linux.resources (applied by cgroups.c). */
static int parse_cgroups(struct jctx *j, const cJSON *linux_, struct spec *s)
{
	const cJSON *res = NULL;
	const char *p;
	int rc;

	if ((rc = j_string(j, linux_, "cgroupsPath", "linux", 0, &s->cgroups_path)) ||
	    (rc = j_object(j, linux_, "resources", "linux", &res)))
		return rc;
	for (p = s->cgroups_path; p && *p; p += strcspn(p, "/"), p += *p == '/') {
		size_t len = strcspn(p, "/");

		if ((len == 1 && p[0] == '.') || (len == 2 && !strncmp(p, "..", 2)))
			return j_fail(j, "linux", "cgroupsPath", "must not contain . or ..");
	}
	if (s->cgroups_path && strchr(s->cgroups_path, '\n'))
		return j_fail(j, "linux", "cgroupsPath", "must not contain a newline");
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
	if ((rc = parse_namespaces(j, linux_, s)) || (rc = parse_sysctl(j, linux_, s)) ||
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

/* shimvisor's own annotations: io.shimvisor.net ("none" | "loopback" | "host"). */
static int parse_annotations(struct jctx *j, const cJSON *root, struct spec *out)
{
	const cJSON *a = NULL;
	char *net = NULL;
	int rc = j_object(j, root, "annotations", "", &a);

	if (rc || !a)
		return rc;
	rc = j_string(j, a, "io.shimvisor.net", "annotations", 0, &net);
	if (!rc && net)
		out->lo_down = !strcmp(net, "none");
	free(net);
	return rc;
}

int spec_parse(const char *json, size_t len, struct spec *out, char *err, size_t errsz)
{
	struct jctx j = { .err = err, .errsz = errsz };
	const char *end = NULL;
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	if (errsz)
		err[0] = '\0';
	if (!json || len == 0) {
		j_fail(&j, "", NULL, "empty");
		return -EINVAL;
	}
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	/* Only whitespace may follow the value. */
	while (root && end < json + len && strchr(" \t\r\n", *end) && *end)
		end++;
	if (root && end < json + len) {
		cJSON_Delete(root);
		root = NULL;
	}
	if (!root) {
		j_fail(&j, "", NULL, "not valid JSON");
		return -EINVAL;
	}
	if (!cJSON_IsObject(root))
		rc = j_fail(&j, "", NULL, "must be a JSON object");
	else if ((rc = parse_annotations(&j, root, out)))
		;
	else if (!(rc = parse_process(&j, root, &out->process)) &&
		 !(rc = parse_root(&j, root, out)) &&
		 !(rc = j_string(&j, root, "hostname", "", 0, &out->hostname)) &&
		 !(rc = parse_mounts(&j, root, out)))
		rc = parse_linux(&j, root, out);
	if (!rc && out->hostname && !spec_find_ns(out, CLONE_NEWUTS))
		rc = j_fail(&j, "", "hostname", "needs a uts namespace");
	if (!rc && out->process.caps[CAPSET_AMBIENT] &
	    ~(out->process.caps[CAPSET_PERMITTED] & out->process.caps[CAPSET_INHERITABLE]))
		rc = j_fail(&j, "process.capabilities", "ambient",
			    "must be permitted and inheritable too");
	cJSON_Delete(root);
	if (rc)
		spec_free(out);
	return rc;
}

void spec_free(struct spec *s)
{
	struct spec_process *p = &s->process;

	j_strv_free(p->args);
	j_strv_free(p->env);
	free(p->cwd);
	free(p->gids);
	free(p->rlimits);
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
	j_strv_free(s->masked);
	j_strv_free(s->readonly);
	for (size_t i = 0; i < s->nsysctl; i++) {
		free(s->sysctl[i].key);
		free(s->sysctl[i].value);
	}
	free(s->sysctl);
	spec_seccomp_free(s->seccomp);
	free(s->cgroups_path);
	spec_resources_free(s->resources);
	memset(s, 0, sizeof(*s));
}
