/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/spec_json.h: typed, bounds-checked getters over cJSON for the spec parser. */
#ifndef SV_INIT_SPEC_JSON_H
#define SV_INIT_SPEC_JSON_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Where errors go: "<doc>: <where>.<key>: <why>"; doc is "config.json" when NULL. */
struct jctx {
	char *err;
	size_t errsz;
	const char *doc;
};

/* Parse json[0..len) as one JSON object (only whitespace may follow). The tree in *root,
 * for cJSON_Delete; -EINVAL with the reason recorded. */
int j_parse_object(struct jctx *j, const char *json, size_t len, cJSON **root);

/* Record an error (the first one wins) and return -EINVAL. */
int j_fail(struct jctx *j, const char *where, const char *key, const char *why);
/* Record -ENOMEM. */
int j_nomem(struct jctx *j);

/* Each getter: absent (or JSON null) leaves *out untouched and returns 0 (or -EINVAL when
 * required); the wrong type returns -EINVAL. "where" names the parent for messages. */
int j_object(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	     const cJSON **out);
int j_array(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	    const cJSON **out);
int j_string(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	     int required, char **out);
int j_bool(struct jctx *j, const cJSON *obj, const char *key, const char *where, int *out);
/* An integer in [min, max] (doubles are exact up to 2^53; larger values must still be
 * integral and below max+1). *present is set to 1 when found (may be NULL). */
int j_int(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	  int64_t min, int64_t max, int64_t *out, int *present);
int j_u64(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	  uint64_t *out, int *present);
/* An array of strings: a new NULL-terminated vector and its count. */
int j_strv(struct jctx *j, const cJSON *obj, const char *key, const char *where,
	   char ***out, size_t *n);
/* Convert a number item itself. */
int j_item_u64(struct jctx *j, const cJSON *it, const char *where, const char *key,
	       uint64_t *out);

void j_strv_free(char **v);

/* The process object, bare or as config.json's "process" (spec_process.c). Error names
 * start with "process". */
struct spec_process;
int spec_parse_process_obj(struct jctx *j, const cJSON *proc, struct spec_process *p);

/* linux.seccomp (spec_seccomp.c). */
struct spec_seccomp;
int spec_parse_seccomp(struct jctx *j, const cJSON *obj, struct spec_seccomp **out);
void spec_seccomp_free(struct spec_seccomp *sc);

#endif
