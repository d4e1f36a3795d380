/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/spec_resources.c: parse and validate linux.resources (and an Update's resources). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/init/spec_json.h"
#include "worker/init/spec_resources.h"

#define WHERE_SZ 96

static void where_of(char *buf, const char *base, const char *key)
{
	snprintf(buf, WHERE_SZ, "%s%s%s", base, *base ? "." : "", key);
}

static int get_i64(struct jctx *j, const cJSON *o, const char *key, const char *where,
		   int64_t min, int64_t max, struct opt_i64 *out)
{
	int64_t v = 0;
	int has = 0, rc = j_int(j, o, key, where, min, max, &v, &has);

	if (!rc && has) {
		out->set = 1;
		out->v = v;
	}
	return rc;
}

/* A key whose value is only type-checked (what the kernel no longer has, or we do not set). */
static int ignore_num(struct jctx *j, const cJSON *o, const char *key, const char *where)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	if (it && !cJSON_IsNull(it) && !cJSON_IsNumber(it))
		return j_fail(j, where, key, "must be a number");
	return 0;
}

static int parse_memory(struct jctx *j, const cJSON *res, const char *base,
			struct spec_resources *r)
{
	const cJSON *m = NULL;
	char w[WHERE_SZ];
	int rc, dummy = 0;

	where_of(w, base, "memory");
	if ((rc = j_object(j, res, "memory", base, &m)) || !m)
		return rc;
	if ((rc = get_i64(j, m, "limit", w, -1, INT64_MAX, &r->mem_limit)) ||
	    (rc = get_i64(j, m, "reservation", w, -1, INT64_MAX, &r->mem_reservation)) ||
	    (rc = get_i64(j, m, "swap", w, -1, INT64_MAX, &r->mem_swap)) ||
	    (rc = get_i64(j, m, "swappiness", w, 0, 100, &r->swappiness)) ||
	    (rc = j_bool(j, m, "disableOOMKiller", w, &r->disable_oom_killer)) ||
	    (rc = j_bool(j, m, "useHierarchy", w, &dummy)) ||
	    (rc = j_bool(j, m, "checkBeforeUpdate", w, &dummy)) ||
	    (rc = ignore_num(j, m, "kernel", w)) || (rc = ignore_num(j, m, "kernelTCP", w)))
		return rc;
	return 0;
}

/* cpuset lists: "0-3,5". */
static int cpu_list(struct jctx *j, const cJSON *c, const char *key, const char *where, char **out)
{
	int rc = j_string(j, c, key, where, 0, out);

	if (rc || !*out)
		return rc;
	if (strspn(*out, "0123456789,-") != strlen(*out))
		return j_fail(j, where, key, "must be a list like \"0-3,5\"");
	return 0;
}

static int parse_cpu(struct jctx *j, const cJSON *res, const char *base, struct spec_resources *r)
{
	const cJSON *c = NULL;
	char w[WHERE_SZ];
	int rc;

	where_of(w, base, "cpu");
	if ((rc = j_object(j, res, "cpu", base, &c)) || !c)
		return rc;
	if ((rc = get_i64(j, c, "shares", w, 0, INT64_MAX, &r->cpu_shares)) ||
	    (rc = get_i64(j, c, "quota", w, -1, INT64_MAX, &r->cpu_quota)) ||
	    (rc = get_i64(j, c, "period", w, 0, INT64_MAX, &r->cpu_period)) ||
	    (rc = get_i64(j, c, "realtimeRuntime", w, -1, INT64_MAX, &r->rt_runtime)) ||
	    (rc = get_i64(j, c, "realtimePeriod", w, 0, INT64_MAX, &r->rt_period)) ||
	    (rc = ignore_num(j, c, "burst", w)) || (rc = ignore_num(j, c, "idle", w)) ||
	    (rc = cpu_list(j, c, "cpus", w, &r->cpus)) || (rc = cpu_list(j, c, "mems", w, &r->mems)))
		return rc;
	return 0;
}

static int parse_blkdevs(struct jctx *j, const cJSON *b, const char *key, const char *base,
			 int weights, struct res_blkdev **out, size_t *n)
{
	const cJSON *arr = NULL, *it;
	char w[WHERE_SZ];
	size_t i = 0;
	int rc;

	where_of(w, base, key);
	if ((rc = j_array(j, b, key, base, &arr)) || !arr)
		return rc;
	*out = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(**out));
	if (!*out)
		return j_nomem(j);
	cJSON_ArrayForEach(it, arr) {
		struct res_blkdev *d = &(*out)[i];
		struct opt_i64 maj = { 0, 0 }, min = { 0, 0 }, rate = { 0, 0 };

		if (!cJSON_IsObject(it))
			return j_fail(j, base, key, "must be an array of objects");
		if ((rc = get_i64(j, it, "major", w, 0, UINT32_MAX, &maj)) ||
		    (rc = get_i64(j, it, "minor", w, 0, UINT32_MAX, &min)))
			return rc;
		if (!maj.set || !min.set)
			return j_fail(j, w, "major", "major and minor are required");
		d->major = maj.v;
		d->minor = min.v;
		if (weights) {
			if ((rc = get_i64(j, it, "weight", w, 0, 1000, &d->weight)) ||
			    (rc = get_i64(j, it, "leafWeight", w, 0, 1000, &d->leaf_weight)))
				return rc;
		} else {
			if ((rc = get_i64(j, it, "rate", w, 0, INT64_MAX, &rate)))
				return rc;
			if (!rate.set)
				return j_fail(j, w, "rate", "is required");
			d->rate = (uint64_t)rate.v;
		}
		*n = ++i;
	}
	return 0;
}

static int parse_blkio(struct jctx *j, const cJSON *res, const char *base, struct spec_resources *r)
{
	static const char *const thr[THR_COUNT] = {
		"throttleReadBpsDevice", "throttleWriteBpsDevice",
		"throttleReadIOPSDevice", "throttleWriteIOPSDevice",
	};
	const cJSON *b = NULL;
	struct opt_i64 leaf = { 0, 0 };
	char w[WHERE_SZ];
	int rc;

	where_of(w, base, "blockIO");
	if ((rc = j_object(j, res, "blockIO", base, &b)) || !b)
		return rc;
	if ((rc = get_i64(j, b, "weight", w, 0, 1000, &r->blkio_weight)) ||
	    (rc = get_i64(j, b, "leafWeight", w, 0, 1000, &leaf)))   /* gone from the kernel */
		return rc;
	if (r->blkio_weight.set && r->blkio_weight.v == 0)
		r->blkio_weight.set = 0;                /* 0: leave it */
	else if (r->blkio_weight.set && r->blkio_weight.v < 10)
		return j_fail(j, w, "weight", "must be 10 to 1000");
	if ((rc = parse_blkdevs(j, b, "weightDevice", w, 1, &r->weight_dev, &r->nweight_dev)))
		return rc;
	for (int t = 0; t < THR_COUNT; t++)
		if ((rc = parse_blkdevs(j, b, thr[t], w, 0, &r->throttle[t], &r->nthrottle[t])))
			return rc;
	return 0;
}

/* "2MB", "1GB", "64KB": it becomes part of a file name. */
static int page_size_ok(const char *s)
{
	size_t d = strspn(s, "0123456789");

	return d > 0 && d < 8 && strchr("KMG", s[d]) && s[d] && s[d + 1] == 'B' && !s[d + 2];
}

static int parse_hugepages(struct jctx *j, const cJSON *res, const char *base,
			   struct spec_resources *r)
{
	const cJSON *arr = NULL, *it;
	char w[WHERE_SZ];
	size_t i = 0;
	int rc;

	where_of(w, base, "hugepageLimits");
	if ((rc = j_array(j, res, "hugepageLimits", base, &arr)) || !arr)
		return rc;
	r->hugepages = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*r->hugepages));
	if (!r->hugepages)
		return j_nomem(j);
	cJSON_ArrayForEach(it, arr) {
		struct res_hugepage *h = &r->hugepages[i];
		int has = 0;

		if (!cJSON_IsObject(it))
			return j_fail(j, base, "hugepageLimits", "must be an array of objects");
		rc = j_string(j, it, "pageSize", w, 1, &h->page_size);
		r->nhugepages = ++i;
		if (rc || (rc = j_u64(j, it, "limit", w, &h->limit, &has)))
			return rc;
		if (!page_size_ok(h->page_size))
			return j_fail(j, w, "pageSize", "must be like \"2MB\"");
		if (!has)
			return j_fail(j, w, "limit", "is required");
	}
	return 0;
}

static int parse_devices(struct jctx *j, const cJSON *res, const char *base,
			 struct spec_resources *r)
{
	const cJSON *arr = NULL, *it;
	char w[WHERE_SZ];
	size_t i = 0;
	int rc;

	where_of(w, base, "devices");
	if ((rc = j_array(j, res, "devices", base, &arr)) || !arr)
		return rc;
	r->devices = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*r->devices));
	if (!r->devices)
		return j_nomem(j);
	cJSON_ArrayForEach(it, arr) {
		struct res_device *d = &r->devices[i];
		struct opt_i64 maj = { 0, 0 }, min = { 0, 0 };
		char *type = NULL, *access = NULL;
		const cJSON *allow;
		size_t k = 0;

		if (!cJSON_IsObject(it))
			return j_fail(j, base, "devices", "must be an array of objects");
		allow = cJSON_GetObjectItemCaseSensitive(it, "allow");
		if (!cJSON_IsBool(allow))
			return j_fail(j, w, "allow", "is required (true or false)");
		d->allow = cJSON_IsTrue(allow);
		if ((rc = get_i64(j, it, "major", w, -1, UINT32_MAX, &maj)) ||
		    (rc = get_i64(j, it, "minor", w, -1, UINT32_MAX, &min)))
			return rc;
		d->major = maj.set ? maj.v : -1;
		d->minor = min.set ? min.v : -1;
		if ((rc = j_string(j, it, "type", w, 0, &type)))
			return rc;
		d->type = type ? type[0] : 'a';
		rc = (type && (strlen(type) != 1 || !strchr("acb", type[0])));
		free(type);
		if (rc)
			return j_fail(j, w, "type", "must be \"a\", \"c\" or \"b\"");
		if ((rc = j_string(j, it, "access", w, 0, &access)))
			return rc;
		for (const char *p = "rwm"; *p; p++)
			if (!access || strchr(access, *p))
				d->access[k++] = *p;
		rc = access && (strspn(access, "rwm") != strlen(access) || k == 0);
		free(access);
		if (rc)
			return j_fail(j, w, "access", "must be letters of \"rwm\"");
		r->ndevices = ++i;
	}
	return 0;
}

static int parse_unified(struct jctx *j, const cJSON *res, const char *base,
			 struct spec_resources *r)
{
	const cJSON *obj = NULL, *it;
	size_t i = 0, n;
	int rc;

	if ((rc = j_object(j, res, "unified", base, &obj)) || !obj)
		return rc;
	n = (size_t)cJSON_GetArraySize(obj) + 1;
	r->unified_keys = calloc(n, sizeof(char *));
	r->unified_vals = calloc(n, sizeof(char *));
	if (!r->unified_keys || !r->unified_vals)
		return j_nomem(j);
	cJSON_ArrayForEach(it, obj) {
		const char *k = it->string;

		if (!cJSON_IsString(it) || !it->valuestring || !k)
			return j_fail(j, base, "unified", "values must be strings");
		if (!*k || k[0] == '.' || strchr(k, '/') || !strchr(k, '.') ||
		    !strncmp(k, "cgroup.", 7))
			return j_fail(j, base, "unified", "keys must be controller file names");
		r->unified_keys[i] = strdup(k);
		r->unified_vals[i] = strdup(it->valuestring);
		r->nunified = ++i;
		if (!r->unified_keys[i - 1] || !r->unified_vals[i - 1])
			return j_nomem(j);
	}
	return 0;
}

/* The resources object at res; base names it in messages ("linux.resources" or ""). */
int spec_parse_resources(struct jctx *j, const cJSON *res, const char *base,
			 struct spec_resources **out)
{
	struct spec_resources *r = calloc(1, sizeof(*r));
	const cJSON *pids = NULL;
	char w[WHERE_SZ];
	int rc;

	*out = NULL;
	if (!r)
		return j_nomem(j);
	where_of(w, base, "pids");
	if ((rc = parse_memory(j, res, base, r)) || (rc = parse_cpu(j, res, base, r)) ||
	    (rc = j_object(j, res, "pids", base, &pids)) ||
	    (pids && (rc = get_i64(j, pids, "limit", w, INT64_MIN, INT64_MAX, &r->pids_limit))) ||
	    (rc = parse_blkio(j, res, base, r)) || (rc = parse_hugepages(j, res, base, r)) ||
	    (rc = parse_devices(j, res, base, r)) || (rc = parse_unified(j, res, base, r))) {
		spec_resources_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int spec_resources_empty(const struct spec_resources *r)
{
	const struct opt_i64 *o[] = {
		&r->mem_limit, &r->mem_reservation, &r->mem_swap, &r->swappiness, &r->cpu_shares,
		&r->cpu_quota, &r->cpu_period, &r->rt_runtime, &r->rt_period, &r->pids_limit,
		&r->blkio_weight,
	};

	for (size_t i = 0; i < sizeof(o) / sizeof(o[0]); i++)
		if (o[i]->set)
			return 0;
	for (int t = 0; t < THR_COUNT; t++)
		if (r->nthrottle[t])
			return 0;
	return !r->disable_oom_killer && !r->cpus && !r->mems && !r->nweight_dev &&
	       !r->nhugepages && !r->ndevices && !r->nunified;
}

void spec_resources_free(struct spec_resources *r)
{
	if (!r)
		return;
	free(r->cpus);
	free(r->mems);
	free(r->weight_dev);
	for (int t = 0; t < THR_COUNT; t++)
		free(r->throttle[t]);
	for (size_t i = 0; i < r->nhugepages; i++)
		free(r->hugepages[i].page_size);
	free(r->hugepages);
	free(r->devices);
	for (size_t i = 0; r->unified_keys && i < r->nunified; i++) {
		free(r->unified_keys[i]);
		free(r->unified_vals[i]);
	}
	free(r->unified_keys);
	free(r->unified_vals);
	free(r);
}

int spec_resources_parse_json(const char *json, size_t len, struct spec_resources **out,
			      char *err, size_t errsz)
{
	struct jctx j = { .err = err, .errsz = errsz };
	const char *end = NULL;
	cJSON *root;
	int rc;

	*out = NULL;
	if (errsz)
		err[0] = '\0';
	root = json && len ? cJSON_ParseWithLengthOpts(json, len, &end, 0) : NULL;
	while (root && end < json + len && *end && strchr(" \t\r\n", *end))
		end++;
	if (root && end < json + len) {
		cJSON_Delete(root);
		root = NULL;
	}
	if (!root)
		rc = j_fail(&j, "", NULL, "not valid JSON");
	else if (!cJSON_IsObject(root))
		rc = j_fail(&j, "", NULL, "must be a JSON object");
	else
		rc = spec_parse_resources(&j, root, "", out);
	cJSON_Delete(root);
	/* The getters say "config.json: ..."; this document is the Update's resources. */
	if (rc && errsz && !strncmp(err, "config.json: ", 13)) {
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "resources: %s", err + 13 + 2 * !strncmp(err + 13, ": ", 2));
		snprintf(err, errsz, "%s", tmp);
	}
	return rc;
}
