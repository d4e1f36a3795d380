/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/spec_seccomp.c: parse and validate linux.seccomp of config.json. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>

#include "common/sha256.h"
#include "worker/init/spec.h"
#include "worker/init/spec_json.h"

static const struct { const char *name; uint32_t act; int takes_errno; } actions[] = {
	{ "SCMP_ACT_KILL", SCMP_ACT_KILL, 0 },
	{ "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, 0 },
	{ "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, 0 },
	{ "SCMP_ACT_TRAP", SCMP_ACT_TRAP, 0 },
	{ "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), 1 },
	{ "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), 1 },
	{ "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, 0 },
	{ "SCMP_ACT_LOG", SCMP_ACT_LOG, 0 },
};

static const struct { const char *name; int op; } ops[] = {
	{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
	{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
	{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
	{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* Parse obj.<key> (an action name) plus obj.<errkey> into a libseccomp action. */
static int parse_action(struct jctx *j, const cJSON *obj, const char *where, const char *key,
			const char *errkey, int required, uint32_t *out)
{
	char *name = NULL;
	int64_t e = 1; /* EPERM */
	size_t k;
	int rc = j_string(j, obj, key, where, required, &name);

	if (rc || !name)
		return rc;
	for (k = 0; k < sizeof(actions) / sizeof(actions[0]); k++)
		if (!strcmp(name, actions[k].name))
			break;
	rc = !strcmp(name, "SCMP_ACT_NOTIFY");
	free(name);
	if (rc)
		return j_fail(j, where, key, "SCMP_ACT_NOTIFY is not supported");
	if (k == sizeof(actions) / sizeof(actions[0]))
		return j_fail(j, where, key, "unknown action");
	if ((rc = j_int(j, obj, errkey, where, 0, 0xffff, &e, NULL)))
		return rc;
	*out = actions[k].takes_errno ? (actions[k].act | (uint32_t)e) : actions[k].act;
	return 0;
}

static int parse_args(struct jctx *j, const cJSON *rule, struct spec_sc_rule *r)
{
	const cJSON *arr = NULL, *it;
	size_t i = 0;
	int rc = j_array(j, rule, "args", "linux.seccomp.syscalls[]", &arr);

	if (rc || !arr)
		return rc;
	if (cJSON_GetArraySize(arr) > 6)
		return j_fail(j, "linux.seccomp.syscalls[]", "args", "at most 6 conditions");
	r->args = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*r->args));
	if (!r->args)
		return j_nomem(j);
	cJSON_ArrayForEach(it, arr) {
		const char *w = "linux.seccomp.syscalls[].args[]";
		struct spec_sc_arg *a = &r->args[i];
		int64_t idx = -1;
		char *op = NULL;
		size_t k;

		if (!cJSON_IsObject(it))
			return j_fail(j, "linux.seccomp.syscalls[]", "args",
				      "must be an array of objects");
		if ((rc = j_int(j, it, "index", w, 0, 5, &idx, NULL)))
			return rc;
		if (idx < 0)
			return j_fail(j, w, "index", "is required");
		a->index = (uint32_t)idx;
		if ((rc = j_u64(j, it, "value", w, &a->value, NULL)) ||
		    (rc = j_u64(j, it, "valueTwo", w, &a->value2, NULL)) ||
		    (rc = j_string(j, it, "op", w, 1, &op)))
			return rc;
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (!strcmp(op, ops[k].name))
				break;
		free(op);
		if (k == sizeof(ops) / sizeof(ops[0]))
			return j_fail(j, w, "op", "unknown operator");
		a->op = ops[k].op;
		r->nargs = ++i;
	}
	return 0;
}

static int parse_archs(struct jctx *j, const cJSON *obj, struct spec_seccomp *sc)
{
	char **names = NULL;
	size_t n = 0;
	int rc = j_strv(j, obj, "architectures", "linux.seccomp", &names, &n);

	if (rc || !names)
		return rc;
	sc->archs = calloc(n + 1, sizeof(*sc->archs));
	if (!sc->archs) {
		j_strv_free(names);
		return j_nomem(j);
	}
	for (size_t i = 0; i < n; i++) {
		char lower[32];
		const char *nm = names[i];
		size_t l;

		if (!strncmp(nm, "SCMP_ARCH_", 10))
			nm += 10;
		for (l = 0; nm[l] && l < sizeof(lower) - 1; l++)
			lower[l] = (char)tolower((unsigned char)nm[l]);
		lower[l] = '\0';
		sc->archs[i] = (l && !nm[l]) ? seccomp_arch_resolve_name(lower) : 0;
		if (!sc->archs[i]) {
			j_strv_free(names);
			return j_fail(j, "linux.seccomp", "architectures", "unknown architecture");
		}
		sc->narchs = i + 1;
	}
	j_strv_free(names);
	return 0;
}

static int parse_flags(struct jctx *j, const cJSON *obj, struct spec_seccomp *sc)
{
	char **names = NULL;
	size_t n = 0;
	int rc = j_strv(j, obj, "flags", "linux.seccomp", &names, &n);

	for (size_t i = 0; !rc && i < n; i++) {
		if (!strcmp(names[i], "SECCOMP_FILTER_FLAG_LOG"))
			sc->flag_log = 1;
		else if (!strcmp(names[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			sc->flag_spec_allow = 1;
		else if (strcmp(names[i], "SECCOMP_FILTER_FLAG_TSYNC"))
			rc = j_fail(j, "linux.seccomp", "flags", "unknown flag");
	}
	j_strv_free(names);
	return rc;
}

/* The profile as bytes to digest: each item's type, name and value, its children, an end
 * mark. Unambiguous, and a tenth of the cost of printing it (cJSON prints each number
 * twice over to check it). */
struct dbuf {
	char *p;
	size_t n, cap;
	int oom;
};

static void put(struct dbuf *b, const void *d, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 8192) + n;
		char *p = realloc(b->p, cap);

		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void walk(struct dbuf *b, const cJSON *it)
{
	unsigned char t = (unsigned char)(it->type & 0xff), end = 0xff;
	const cJSON *c;

	put(b, &t, 1);
	put(b, it->string ? it->string : "", it->string ? strlen(it->string) + 1 : 1);
	if (cJSON_IsString(it))
		put(b, it->valuestring, strlen(it->valuestring) + 1);
	else if (cJSON_IsNumber(it))
		put(b, &it->valuedouble, sizeof(it->valuedouble));
	for (c = it->child; c; c = c->next)
		walk(b, c);
	put(b, &end, 1);
}

int spec_parse_seccomp(struct jctx *j, const cJSON *obj, struct spec_seccomp **out)
{
	const cJSON *arr = NULL, *it;
	struct spec_seccomp *sc = calloc(1, sizeof(*sc));
	size_t i = 0;
	int rc;

	struct dbuf d = { 0 };

	if (!sc)
		return j_nomem(j);
	*out = sc;
	/* the key of its compiled filter (seccomp.c): the same profile, the same BPF */
	walk(&d, obj);
	if (d.oom) {
		free(d.p);
		return j_nomem(j);
	}
	sv_sha256(d.p, d.n, sc->digest);
	free(d.p);
	if ((rc = parse_action(j, obj, "linux.seccomp", "defaultAction", "defaultErrnoRet", 1,
			       &sc->default_action)) ||
	    (rc = parse_archs(j, obj, sc)) || (rc = parse_flags(j, obj, sc)) ||
	    (rc = j_array(j, obj, "syscalls", "linux.seccomp", &arr)) || !arr)
		return rc;
	sc->rules = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*sc->rules));
	if (!sc->rules)
		return j_nomem(j);
	cJSON_ArrayForEach(it, arr) {
		struct spec_sc_rule *r = &sc->rules[i];

		sc->nrules = ++i;
		if (!cJSON_IsObject(it))
			return j_fail(j, "linux.seccomp", "syscalls", "must be an array of objects");
		if ((rc = j_strv(j, it, "names", "linux.seccomp.syscalls[]", &r->names,
				 &r->nnames)) ||
		    (rc = parse_action(j, it, "linux.seccomp.syscalls[]", "action", "errnoRet", 1,
				       &r->action)) ||
		    (rc = parse_args(j, it, r)))
			return rc;
		if (!r->nnames)
			return j_fail(j, "linux.seccomp.syscalls[]", "names", "must not be empty");
		for (size_t n = 0; n < r->nnames; n++)
			if (!r->names[n][0])
				return j_fail(j, "linux.seccomp.syscalls[]", "names",
					      "must not contain empty names");
	}
	return 0;
}

void spec_seccomp_free(struct spec_seccomp *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->nrules; i++) {
		j_strv_free(sc->rules[i].names);
		free(sc->rules[i].args);
	}
	free(sc->rules);
	free(sc->archs);
	free(sc);
}
