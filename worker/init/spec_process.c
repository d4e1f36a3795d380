/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/spec_process.c: parse and validate an OCI Process object: config.json's
 * "process", or a bare one (the spec of an exec process). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <cap-ng.h>

#include "worker/init/spec.h"
#include "worker/init/spec_json.h"

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

static const char *const capset_names[CAPSET_COUNT] = {
	"bounding", "effective", "permitted", "inheritable", "ambient",
};

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

/* process.consoleSize {height, width}: the pty's size from its start (TIOCSWINSZ). */
static int parse_console_size(struct jctx *j, const cJSON *proc, struct spec_process *p)
{
	const cJSON *cs = NULL;
	int64_t w = 0, h = 0;
	int rc = j_object(j, proc, "consoleSize", "process", &cs);

	if (rc || !cs)
		return rc;
	if ((rc = j_int(j, cs, "width", "process.consoleSize", 0, UINT16_MAX, &w, NULL)) ||
	    (rc = j_int(j, cs, "height", "process.consoleSize", 0, UINT16_MAX, &h, NULL)))
		return rc;
	p->console_w = (uint16_t)w;
	p->console_h = (uint16_t)h;
	return 0;
}

int spec_parse_process_obj(struct jctx *j, const cJSON *proc, struct spec_process *p)
{
	int64_t v = 0;
	int rc, has = 0;

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
	if ((rc = parse_user(j, proc, p)) || (rc = parse_rlimits(j, proc, p)) ||
	    (rc = parse_console_size(j, proc, p)) ||
	    (rc = parse_caps(j, proc, p)))
		return rc;
	if (p->caps[CAPSET_AMBIENT] & ~(p->caps[CAPSET_PERMITTED] & p->caps[CAPSET_INHERITABLE]))
		return j_fail(j, "process.capabilities", "ambient",
			      "must be permitted and inheritable too");
	return 0;
}

int spec_parse_process(const char *json, size_t len, struct spec_process *out, char *err,
		       size_t errsz)
{
	struct jctx j = { .err = err, .errsz = errsz, .doc = "exec spec" };
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	if (errsz)
		err[0] = '\0';
	if ((rc = j_parse_object(&j, json, len, &root)))
		return rc;
	rc = spec_parse_process_obj(&j, root, out);
	cJSON_Delete(root);
	if (rc)
		spec_process_free(out);
	return rc;
}

/* An exec may hold nothing its task could not: see spec.h. */
int spec_exec_clamp(const struct spec_process *task, struct spec_process *exec, char *err,
		    size_t errsz)
{
	if (task->no_new_privs)
		exec->no_new_privs = 1;
	if (!task->has_caps)
		return 0;       /* the task keeps every capability its init had: so may an exec */
	if (!exec->has_caps) {
		/* runc's rule: an exec without capabilities gets the task's */
		exec->has_caps = 1;
		memcpy(exec->caps, task->caps, sizeof(exec->caps));
		return 0;
	}
	for (int set = 0; set < CAPSET_COUNT; set++) {
		uint64_t extra = exec->caps[set] & ~task->caps[CAPSET_BOUNDING];

		if (extra) {
			int cap = __builtin_ctzll(extra);
			const char *nm = capng_capability_to_name((unsigned)cap);
			char name[32];
			size_t i;

			if (!nm)
				snprintf(name, sizeof(name), "%d", cap);
			for (i = 0; nm && nm[i] && i < sizeof(name) - 1; i++)
				name[i] = (char)toupper((unsigned char)nm[i]);
			if (nm)
				name[i] = '\0';
			snprintf(err, errsz, "exec spec: process.capabilities.%s: CAP_%s is not in "
				 "the task's bounding set", capset_names[set], name);
			return -EPERM;
		}
	}
	return 0;
}

void spec_process_free(struct spec_process *p)
{
	j_strv_free(p->args);
	j_strv_free(p->env);
	free(p->cwd);
	free(p->gids);
	free(p->rlimits);
	memset(p, 0, sizeof(*p));
}

