/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/spec_options.c: the run options of a create request beyond the process basics:
 * mounts, capabilities, the seccomp choice, labels and the network mode, each checked here
 * (the client is not trusted) before the monitor's policy check. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/labels.h"
#include "engine.h"
#include "policy.h"
#include "spec_options.h"

#define CAP_MKNOD 27    /* <linux/capability.h> */
#define CAP_COUNT 64

bool spec_net_valid(const char *net)
{
	return !strcmp(net, "none") || !strcmp(net, "host") || !strcmp(net, "loopback") ||
	       (net[0] == '/' && strlen(net) < 256);
}

/* ---- mounts ---------------------------------------------------------------------- */

/* "/a/b": absolute, no empty, "." or ".." component, not "/" */
static bool clean_dest(const char *s)
{
	const char *q = s;

	if (s[0] != '/' || !s[1] || strlen(s) >= 1024)
		return false;
	while (*q) {
		const char *e = strchr(q + 1, '/');
		size_t n = e ? (size_t)(e - q - 1) : strlen(q + 1);

		if (n == 0 || (n == 1 && q[1] == '.') || (n == 2 && q[1] == '.' && q[2] == '.'))
			return false;
		if (!e)
			break;
		q = e;
	}
	return true;
}

/* An option a run mount may have: flags that only restrict (propagation and "dev"/"suid"
 * are not among them: nosuid,nodev are added to every mount), and tmpfs's sizes and modes
 * with a plain value. */
static bool option_ok(const char *o, bool tmpfs)
{
	static const char *const flags[] = { "ro", "rw", "nosuid", "nodev", "noexec", "exec",
					     "noatime", "nodiratime", "relatime", "strictatime" };
	static const char *const bind_only[] = { "bind", "rbind" };
	static const char *const tmpfs_keys[] = { "size=", "mode=", "uid=", "gid=", "nr_inodes=" };
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strcmp(o, flags[i]))
			return true;
	for (i = 0; !tmpfs && i < sizeof(bind_only) / sizeof(bind_only[0]); i++)
		if (!strcmp(o, bind_only[i]))
			return true;
	for (i = 0; tmpfs && i < sizeof(tmpfs_keys) / sizeof(tmpfs_keys[0]); i++) {
		size_t n = strlen(tmpfs_keys[i]);
		const char *v = o + n;

		if (strncmp(o, tmpfs_keys[i], n) || !*v || strlen(v) > 24)
			continue;
		while (isalnum((unsigned char)*v))
			v++;
		return *v == '\0';
	}
	return false;
}

int spec_add_mounts(cJSON *mounts, const sv_CtlCreateRequest *rq, char *err, size_t errsz)
{
	for (pb_size_t i = 0; i < rq->mounts_count; i++) {
		const sv_CtlMount *m = &rq->mounts[i];
		const char *type = m->type ? m->type : "", *dst = m->destination ? m->destination : "";
		const char *src = m->source ? m->source : "";
		bool tmpfs = !strcmp(type, "tmpfs"), bind = false;
		cJSON *o, *opts;

		if (!tmpfs && strcmp(type, "bind")) {
			snprintf(err, errsz, "mounts[%u].type \"%.20s\": want bind or tmpfs", i, type);
			return -EINVAL;
		}
		if (!clean_dest(dst)) {
			snprintf(err, errsz, "mount destination \"%.200s\": not a clean absolute path "
				 "other than /", dst);
			return -EINVAL;
		}
		if (!tmpfs && src[0] != '/') {
			snprintf(err, errsz, "mount %.200s: the bind source \"%.200s\" is not an "
				 "absolute path", dst, src);
			return -EINVAL;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "destination", dst);
		cJSON_AddStringToObject(o, "type", type);
		cJSON_AddStringToObject(o, "source", tmpfs ? "tmpfs" : src);
		opts = cJSON_AddArrayToObject(o, "options");
		cJSON_AddItemToArray(mounts, o);
		for (pb_size_t k = 0; k < m->options_count; k++) {
			const char *v = m->options[k] ? m->options[k] : "";

			if (!option_ok(v, tmpfs)) {
				snprintf(err, errsz, "mount %.200s: option \"%.40s\" not permitted", dst, v);
				return -EINVAL;
			}
			bind |= !strcmp(v, "bind") || !strcmp(v, "rbind");
			cJSON_AddItemToArray(opts, cJSON_CreateString(v));
		}
		if (!tmpfs && !bind)
			cJSON_AddItemToArray(opts, cJSON_CreateString("rbind"));
		/* last: no set-uid program and no device node through a run mount, whatever
		 * came before (DESIGN, Default task confinement) */
		cJSON_AddItemToArray(opts, cJSON_CreateString("nosuid"));
		cJSON_AddItemToArray(opts, cJSON_CreateString("nodev"));
	}
	return 0;
}

/* ---- capabilities ---------------------------------------------------------------- */

static int cap_list(char **names, pb_size_t n, const char *what, uint64_t *all, uint64_t *bits,
		    char *err, size_t errsz)
{
	for (pb_size_t i = 0; i < n; i++) {
		const char *c = names[i] ? names[i] : "";
		int k;

		if (!strcmp(c, "ALL")) {
			*all = ~0ull;
			continue;
		}
		if ((k = sv_cap_from_name(c)) < 0) {
			snprintf(err, errsz, "%s \"%.40s\": unknown capability", what, c);
			return -EINVAL;
		}
		*bits |= 1ull << k;
	}
	return 0;
}

/* The default set (Docker's less CAP_MKNOD), less cap_drop (ALL: every one), plus cap_add
 * (ALL: every known one), as docker: an add wins over a drop of the same. */
static int caps_mask(const sv_CtlCreateRequest *rq, uint64_t *out, char *err, size_t errsz)
{
	uint64_t m = 0, drop_all = 0, drop = 0, add_all = 0, add = 0;

	for (size_t i = 0; i < sv_n_default_caps; i++)
		if (sv_cap_from_name(sv_default_caps[i]) != CAP_MKNOD)
			m |= 1ull << sv_cap_from_name(sv_default_caps[i]);
	if (cap_list(rq->cap_drop, rq->cap_drop_count, "cap_drop", &drop_all, &drop, err, errsz) < 0 ||
	    cap_list(rq->cap_add, rq->cap_add_count, "cap_add", &add_all, &add, err, errsz) < 0)
		return -EINVAL;
	m &= ~(drop | drop_all);
	m |= add;
	for (int k = 0; add_all && k < CAP_COUNT; k++)
		if (sv_cap_name(k))
			m |= 1ull << k;
	*out = m;
	return 0;
}

/* The set's names: those of the default list first, in its order, then the others. */
static cJSON *caps_array(uint64_t m)
{
	cJSON *a = cJSON_CreateArray();
	uint64_t left = m;

	for (size_t i = 0; a && i < sv_n_default_caps; i++) {
		int k = sv_cap_from_name(sv_default_caps[i]);

		if (m & (1ull << k)) {
			cJSON_AddItemToArray(a, cJSON_CreateString(sv_default_caps[i]));
			left &= ~(1ull << k);
		}
	}
	for (int k = 0; a && k < CAP_COUNT; k++)
		if (left & (1ull << k))
			cJSON_AddItemToArray(a, cJSON_CreateString(sv_cap_name(k)));
	return a;
}

int spec_set_caps(cJSON *process, const sv_CtlCreateRequest *rq, char *err, size_t errsz)
{
	static const char *const sets[] = { "bounding", "effective", "permitted" };
	uint64_t m;
	cJSON *caps;

	if (caps_mask(rq, &m, err, errsz) < 0)
		return -EINVAL;
	cJSON_DeleteItemFromObjectCaseSensitive(process, "capabilities");
	caps = cJSON_AddObjectToObject(process, "capabilities");
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		cJSON_AddItemToObject(caps, sets[i], caps_array(m));
	return 0;
}

/* ---- seccomp ----------------------------------------------------------------------- */

int spec_seccomp_choice(const sv_CtlCreateRequest *rq, const char *dflt, char **own,
			const char **out, char *err, size_t errsz)
{
	const char *how = rq->seccomp ? rq->seccomp : "";
	const pb_bytes_array_t *b = rq->seccomp_profile;

	*own = NULL;
	*out = dflt;
	if (!how[0] && !(b && b->size))
		return 0;
	if (!strcmp(how, "unconfined") && !(b && b->size)) {
		*out = NULL;
		return 0;
	}
	if (strcmp(how, "profile") || !b || !b->size) {
		snprintf(err, errsz, "seccomp \"%.20s\": want \"\", \"unconfined\" or \"profile\" "
			 "with a profile (and a profile only with \"profile\")", how);
		return -EINVAL;
	}
	if (spec_seccomp_parse((const char *)b->bytes, b->size, "seccomp_profile", own, err,
			       errsz) < 0)
		return -EINVAL;
	*out = *own;
	return 0;
}

/* ---- labels -------------------------------------------------------------------------- */

int spec_add_labels(cJSON *annotations, char **labels, pb_size_t n, char *err, size_t errsz)
{
	char key[sizeof(SV_LABEL_PREFIX) + SV_LABEL_KEY_MAX];

	for (pb_size_t i = 0; i < n; i++) {
		const char *kv = labels[i] ? labels[i] : "";
		size_t kl;

		const char *why = sv_label_invalid(kv, &kl);

		if (why) {
			snprintf(err, errsz, "label \"%.64s\": %s", kv, why);
			return -EINVAL;
		}
		snprintf(key, sizeof(key), "%s%.*s", SV_LABEL_PREFIX, (int)kl, kv);
		/* a later K=V replaces an earlier one, as docker's */
		cJSON_DeleteItemFromObjectCaseSensitive(annotations, key);
		cJSON_AddStringToObject(annotations, key, kv + kl + 1);
	}
	return 0;
}
