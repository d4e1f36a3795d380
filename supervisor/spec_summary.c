/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/spec_summary.c: what `inspect` shows of a task (TaskSummary), taken from the
 * final config.json the engine sends the monitor, while its cJSON tree is still at hand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "engine.h"
#include "policy.h"
#include "wire/bytes.h"
#include "wire/limits.h"
#include "wire/pbio.h"

#define LABEL_PREFIX "io.shimvisor.label."

static cJSON *item(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static char *str(const cJSON *o, const char *name)
{
	const cJSON *v = item(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool flag(const cJSON *o, const char *name)
{
	return cJSON_IsTrue(item(o, name));
}

/* A JSON number as an integer: 0 when absent, not a number or out of range. */
static int64_t num(const cJSON *o, const char *name)
{
	const cJSON *v = item(o, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < -9.2e18 || v->valuedouble > 9.2e18)
		return 0;
	return (int64_t)v->valuedouble;
}

static uint32_t u32(const cJSON *o, const char *name)
{
	int64_t v = num(o, name);

	return v < 0 || v > UINT32_MAX ? 0 : (uint32_t)v;
}

/* The strings of an array, pointing into it (non-strings skipped); count 0 if none. */
static char **strings(const cJSON *a, pb_size_t *count)
{
	const cJSON *e;
	char **v;
	int n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : 0;
	pb_size_t i = 0;

	*count = 0;
	if (n <= 0 || n > 65535 || !(v = calloc((size_t)n, sizeof(*v))))
		return NULL;
	cJSON_ArrayForEach(e, a)
		if (cJSON_IsString(e))
			v[i++] = e->valuestring;
	*count = i;
	return v;
}

static uint32_t count(const cJSON *a)
{
	return cJSON_IsArray(a) ? (uint32_t)cJSON_GetArraySize(a) : 0;
}

int spec_seccomp_sum(const cJSON *profile, struct spec_seccomp_sum *out)
{
	const char *action;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(profile))
		return -EINVAL;
	action = str(profile, "defaultAction");
	snprintf(out->action, sizeof(out->action), "%s", action ? action : "");
	out->rules = count(item(profile, "syscalls"));
	return 0;
}

int spec_seccomp_sum_text(const char *json, struct spec_seccomp_sum *out)
{
	cJSON *p = json ? cJSON_Parse(json) : NULL;
	int r = spec_seccomp_sum(p, out);

	cJSON_Delete(p);
	return r;
}

/* linux.seccomp: the daemon's default profile (spliced in as raw text by spec.c), another, or
 * none. */
static void seccomp_of(const cJSON *linux_, const char *dflt, const struct spec_seccomp_sum *dsum,
		       sv_TaskSummary *s, struct spec_seccomp_sum *buf)
{
	const cJSON *sc = item(linux_, "seccomp");

	if (!sc || cJSON_IsNull(sc)) {
		s->seccomp = "unconfined";
		return;
	}
	if (cJSON_IsRaw(sc) && dflt && dsum && !strcmp(sc->valuestring, dflt)) {
		s->seccomp = "default";
		*buf = *dsum;
	} else {
		s->seccomp = "profile";
		if (cJSON_IsRaw(sc))
			spec_seccomp_sum_text(sc->valuestring, buf);
		else
			spec_seccomp_sum(sc, buf);
	}
	s->seccomp_default_action = buf->action;
	s->seccomp_rules = buf->rules;
}

/* The bounding set: the capabilities known by number as bits (8 bytes, not ~14 a name),
 * the others by name. */
static void caps_of(const cJSON *bounding, sv_TaskSummary *s)
{
	pb_size_t n = 0;

	s->capabilities = strings(bounding, &s->capabilities_count);
	for (pb_size_t i = 0; i < s->capabilities_count; i++) {
		int cap = sv_cap_from_name(s->capabilities[i]);

		if (cap >= 0 && cap < 64)
			s->capability_mask |= 1ull << cap;
		else
			s->capabilities[n++] = s->capabilities[i];
	}
	s->capabilities_count = n;
}

int spec_summary_cap_names(const sv_TaskSummary *s, char ***out, pb_size_t *n)
{
	char **v = calloc((size_t)s->capabilities_count + 64, sizeof(*v));
	pb_size_t k = 0;

	*out = v;
	*n = 0;
	if (!v)
		return -ENOMEM;
	for (int cap = 0; cap < 64; cap++)
		if (s->capability_mask & (1ull << cap) && sv_cap_name(cap))
			v[k++] = (char *)sv_cap_name(cap);
	if (s->capabilities_count)      /* NULL when none: memcpy's source must not be */
		memcpy(v + k, s->capabilities, s->capabilities_count * sizeof(*v));
	*n = k + s->capabilities_count;
	return 0;
}

/* Everything the lists point at; freed once the summary is encoded. */
struct held {
	pb_size_t nlabels, nmounts;     /* what encode() may set to 0 */
	char **labels;
	sv_SummaryMount *mounts;
	sv_SummaryNamespace *ns;
	uint32_t *gids;
};

static void labels_of(const cJSON *annotations, sv_TaskSummary *s, struct held *h)
{
	const cJSON *a;
	size_t n = 0, plen = strlen(LABEL_PREFIX);

	cJSON_ArrayForEach(a, annotations)
		n += a->string && !strncmp(a->string, LABEL_PREFIX, plen) && cJSON_IsString(a);
	if (!n || n > 65535 || !(h->labels = calloc(n, sizeof(char *))))
		return;
	cJSON_ArrayForEach(a, annotations) {
		if (!a->string || strncmp(a->string, LABEL_PREFIX, plen) || !cJSON_IsString(a))
			continue;
		if (asprintf(&h->labels[s->labels_count], "%s=%s", a->string + plen,
			     a->valuestring) < 0)
			break;
		s->labels_count++;
	}
	s->labels = h->labels;
	h->nlabels = s->labels_count;
}

static void mounts_of(const cJSON *mounts, sv_TaskSummary *s, struct held *h)
{
	const cJSON *m;
	size_t n = count(mounts);

	if (!n || n > 65535 || !(h->mounts = calloc(n, sizeof(*h->mounts))))
		return;
	cJSON_ArrayForEach(m, mounts) {
		sv_SummaryMount *o = &h->mounts[s->mounts_count];

		o->type = str(m, "type");
		o->source = str(m, "source");
		o->destination = str(m, "destination");
		o->options = strings(item(m, "options"), &o->options_count);
		s->mounts_count++;
	}
	s->mounts = h->mounts;
	h->nmounts = s->mounts_count;
}

static void namespaces_of(const cJSON *nss, sv_TaskSummary *s, struct held *h)
{
	const cJSON *n;
	size_t c = count(nss);

	if (!c || c > 65535 || !(h->ns = calloc(c, sizeof(*h->ns))))
		return;
	cJSON_ArrayForEach(n, nss) {
		h->ns[s->namespaces_count].type = str(n, "type");
		h->ns[s->namespaces_count].path = str(n, "path");
		s->namespaces_count++;
	}
	s->namespaces = h->ns;
}

static void user_of(const cJSON *user, sv_TaskSummary *s, struct held *h)
{
	const cJSON *g = item(user, "additionalGids"), *e;
	size_t n = count(g);

	s->uid = u32(user, "uid");
	s->gid = u32(user, "gid");
	if (!n || n > 65535 || !(h->gids = calloc(n, sizeof(*h->gids))))
		return;
	cJSON_ArrayForEach(e, g)
		h->gids[s->additional_gids_count++] = cJSON_IsNumber(e) ? (uint32_t)e->valuedouble : 0;
	s->additional_gids = h->gids;
}

static void held_free(sv_TaskSummary *s, struct held *h)
{
	for (pb_size_t i = 0; i < h->nlabels; i++)
		free(h->labels[i]);
	free(h->labels);
	for (pb_size_t i = 0; i < h->nmounts; i++)
		free(h->mounts[i].options);
	free(h->mounts);
	free(h->ns);
	free(h->gids);
	free(s->args);
	free(s->capabilities);
}

/* Encoded into *out; over SV_SUMMARY_MAX, again without the lists (labels kept while they
 * fit: `ls --filter` reads them). */
static int encode(sv_TaskSummary *s, pb_bytes_array_t **out)
{
	uint8_t *buf = NULL;
	size_t len = SV_SUMMARY_MAX + 1;
	int r;

	for (int pass = 0; pass < 3 && len > SV_SUMMARY_MAX; pass++) {
		if (pass) {
			s->truncated = true;
			s->args_count = s->mounts_count = s->namespaces_count = 0;
			s->capabilities_count = s->additional_gids_count = 0;
		}
		if (pass == 2)
			s->labels_count = 0;
		free(buf);
		if ((r = sv_pb_encode(sv_TaskSummary_fields, s, &buf, &len)) < 0)
			return r;
	}
	if (len > SV_SUMMARY_MAX) {
		free(buf);
		return -EMSGSIZE;
	}
	*out = sv_bytes_new(buf, len);
	free(buf);
	return *out ? 0 : -ENOMEM;
}

int spec_summary(const cJSON *config, const char *dflt_seccomp,
		 const struct spec_seccomp_sum *dflt_sum, pb_bytes_array_t **out)
{
	const cJSON *process = item(config, "process"), *root = item(config, "root");
	const cJSON *linux_ = item(config, "linux"), *res = item(linux_, "resources");
	const cJSON *annotations = item(config, "annotations");
	sv_TaskSummary s = sv_TaskSummary_init_zero;
	struct spec_seccomp_sum sc;
	struct held h = { 0 };
	const char *nodev;
	int r;

	*out = NULL;
	s.args = strings(item(process, "args"), &s.args_count);
	s.env_count = count(item(process, "env"));
	s.cwd = str(process, "cwd");
	user_of(item(process, "user"), &s, &h);
	s.terminal = flag(process, "terminal");
	caps_of(item(item(process, "capabilities"), "bounding"), &s);
	s.no_new_privileges = flag(process, "noNewPrivileges");
	s.hostname = str(config, "hostname");
	s.root_path = str(root, "path");
	s.root_readonly = flag(root, "readonly");
	mounts_of(item(config, "mounts"), &s, &h);
	namespaces_of(item(linux_, "namespaces"), &s, &h);
	seccomp_of(linux_, dflt_seccomp, dflt_sum, &s, &sc);
	s.memory_limit = num(item(res, "memory"), "limit");
	s.pids_limit = num(item(res, "pids"), "limit");
	s.cpu_quota = num(item(res, "cpu"), "quota");
	s.cpu_period = (uint64_t)num(item(res, "cpu"), "period");
	s.cgroups_path = str(linux_, "cgroupsPath");
	s.masked_paths = count(item(linux_, "maskedPaths"));
	s.readonly_paths = count(item(linux_, "readonlyPaths"));
	nodev = str(annotations, "io.shimvisor.root.nodev");
	s.root_nodev = nodev && !strcmp(nodev, "true");
	s.net = str(annotations, "io.shimvisor.net");
	if (cJSON_IsObject(annotations))
		labels_of(annotations, &s, &h);
	r = encode(&s, out);
	held_free(&s, &h);
	return r;
}
