/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/spec_json.c: typed, bounds-checked getters over cJSON for the spec parser. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/init/spec_json.h"

int j_fail(struct jctx *j, const char *where, const char *key, const char *why)
{
	if (j->errsz && !j->err[0])
		snprintf(j->err, j->errsz, "%s: %s%s%s%s%s", j->doc ? j->doc : "config.json",
			 where, key && *where ? "." : "", key ? key : "",
			 *where || key ? ": " : "", why);
	return -EINVAL;
}

int j_nomem(struct jctx *j)
{
	if (j->errsz && !j->err[0])
		snprintf(j->err, j->errsz, "%s: %s", j->doc ? j->doc : "config.json",
			 strerror(ENOMEM));
	return -ENOMEM;
}

int j_parse_object(struct jctx *j, const char *json, size_t len, cJSON **root)
{
	const char *end = NULL;
	cJSON *r;

	*root = NULL;
	if (!json || len == 0)
		return j_fail(j, "", NULL, "empty");
	r = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	/* Only whitespace may follow the value. */
	while (r && end < json + len && strchr(" \t\r\n", *end) && *end)
		end++;
	if (r && end < json + len) {
		cJSON_Delete(r);
		r = NULL;
	}
	if (!r)
		return j_fail(j, "", NULL, "not valid JSON");
	if (!cJSON_IsObject(r)) {
		cJSON_Delete(r);
		return j_fail(j, "", NULL, "must be a JSON object");
	}
	*root = r;
	return 0;
}

static const cJSON *j_get(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	return (it && !cJSON_IsNull(it)) ? it : NULL;
}

int j_object(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	     const cJSON **out)
{
	const cJSON *it = j_get(obj, key);

	if (!it)
		return 0;
	if (!cJSON_IsObject(it))
		return j_fail(j, where, key, "must be an object");
	*out = it;
	return 0;
}

int j_array(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	    const cJSON **out)
{
	const cJSON *it = j_get(obj, key);

	if (!it)
		return 0;
	if (!cJSON_IsArray(it))
		return j_fail(j, where, key, "must be an array");
	*out = it;
	return 0;
}

int j_string(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	     int required, char **out)
{
	const cJSON *it = j_get(obj, key);
	char *s;

	if (!it)
		return required ? j_fail(j, where, key, "is required") : 0;
	if (!cJSON_IsString(it) || !it->valuestring)
		return j_fail(j, where, key, "must be a string");
	s = strdup(it->valuestring);
	if (!s)
		return j_nomem(j);
	free(*out);
	*out = s;
	return 0;
}

int j_bool(struct jctx *j, const cJSON *obj, const char *key, const char *where, int *out)
{
	const cJSON *it = j_get(obj, key);

	if (!it)
		return 0;
	if (!cJSON_IsBool(it))
		return j_fail(j, where, key, "must be true or false");
	*out = cJSON_IsTrue(it) ? 1 : 0;
	return 0;
}

/* 2^63 and 2^64 as doubles, exactly. */
#define TWO_63 9223372036854775808.0
#define TWO_64 18446744073709551616.0

int j_int(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	  int64_t min, int64_t max, int64_t *out, int *present)
{
	const cJSON *it = j_get(obj, key);
	double d;
	int64_t v;

	if (!it)
		return 0;
	if (!cJSON_IsNumber(it))
		return j_fail(j, where, key, "must be a number");
	d = it->valuedouble;
	if (!(d >= -TWO_63 && d < TWO_63))          /* also catches NaN */
		return j_fail(j, where, key, "is out of range");
	v = (int64_t)d;
	if ((double)v != d)
		return j_fail(j, where, key, "must be an integer");
	if (v < min || v > max)
		return j_fail(j, where, key, "is out of range");
	*out = v;
	if (present)
		*present = 1;
	return 0;
}

int j_item_u64(struct jctx *j, const cJSON *it, const char *where, const char *key,
	       uint64_t *out)
{
	double d;
	uint64_t v;

	if (!cJSON_IsNumber(it))
		return j_fail(j, where, key, "must be a number");
	d = it->valuedouble;
	if (d == TWO_64) {      /* 18446744073709551615 rounds to 2^64 as a double */
		*out = UINT64_MAX;
		return 0;
	}
	if (!(d >= 0 && d < TWO_64))
		return j_fail(j, where, key, "is out of range");
	v = (uint64_t)d;
	if ((double)v != d)
		return j_fail(j, where, key, "must be an integer");
	*out = v;
	return 0;
}

int j_u64(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	  uint64_t *out, int *present)
{
	const cJSON *it = j_get(obj, key);
	int rc;

	if (!it)
		return 0;
	rc = j_item_u64(j, it, where, key, out);
	if (rc == 0 && present)
		*present = 1;
	return rc;
}

void j_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

int j_strv(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	   char ***out, size_t *n)
{
	const cJSON *arr = NULL, *it;
	char **v;
	size_t cnt, i = 0;
	int rc = j_array(j, obj, key, where, &arr);

	if (rc || !arr)
		return rc;
	cnt = (size_t)cJSON_GetArraySize(arr);
	v = calloc(cnt + 1, sizeof(*v));
	if (!v)
		return j_nomem(j);
	cJSON_ArrayForEach(it, arr) {
		if (i >= cnt || !cJSON_IsString(it) || !it->valuestring) {
			j_strv_free(v);
			return j_fail(j, where, key, "must be an array of strings");
		}
		v[i] = strdup(it->valuestring);
		if (!v[i]) {
			j_strv_free(v);
			return j_nomem(j);
		}
		i++;
	}
	j_strv_free(*out);
	*out = v;
	*n = i;
	return 0;
}
