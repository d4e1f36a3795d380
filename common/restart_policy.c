/* SPDX-License-Identifier: Apache-2.0 */
/* common/restart_policy.c: restart policies as docker run --restart defines them, and their
 * backoff (restart_policy.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "names.h"
#include "restart_policy.h"

SV_NAMES_BEGIN         /* inline (names.h): no pointer to relocate at load */
static const char names[SV_RESTART_NKINDS][16] = {
	[SV_RESTART_NO] = "no", [SV_RESTART_ON_FAILURE] = "on-failure",
	[SV_RESTART_ALWAYS] = "always", [SV_RESTART_UNLESS_STOPPED] = "unless-stopped",
};
SV_NAMES_END

/* A decimal 1..max, digits only. */
static int parse_n(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 7)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v == 0 || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int sv_restart_parse(const char *s, struct sv_restart *out)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return 0;
	for (int k = 0; k < SV_RESTART_NKINDS; k++) {
		size_t n = strlen(names[k]);
		if (strncmp(s, names[k], n))
			continue;
		if (!s[n]) {
			out->kind = (uint32_t)k;
			return 0;
		}
		if (k == SV_RESTART_ON_FAILURE && s[n] == ':' &&
		    parse_n(s + n + 1, SV_RESTART_MAX_N, &out->max) == 0) {
			out->kind = (uint32_t)k;
			return 0;
		}
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

const char *sv_restart_str(const struct sv_restart *r, char *buf, size_t size)
{
	const char *n = r->kind < SV_RESTART_NKINDS ? names[r->kind] : "?";

	if (r->kind == SV_RESTART_ON_FAILURE && r->max)
		snprintf(buf, size, "%s:%u", n, r->max);
	else
		snprintf(buf, size, "%s", n);
	return buf;
}

bool sv_restart_wanted(const struct sv_restart *r, uint32_t status)
{
	if (r->stopped)
		return false;
	switch (r->kind) {
	case SV_RESTART_ON_FAILURE:
		return status != 0 && (!r->max || r->count < r->max);
	case SV_RESTART_ALWAYS:
	case SV_RESTART_UNLESS_STOPPED:
		return true;
	default:
		return false;
	}
}

int64_t sv_restart_backoff(int64_t prev_ms, int64_t ran_ms)
{
	if (prev_ms <= 0 || ran_ms >= SV_RESTART_RESET_MS)
		return SV_RESTART_BACKOFF_MIN_MS;
	return prev_ms >= SV_RESTART_BACKOFF_MAX_MS / 2 ? SV_RESTART_BACKOFF_MAX_MS : prev_ms * 2;
}

size_t sv_restart_record(const struct sv_restart *r, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%u %u %u %u %u\n", r->kind, r->max, r->count,
			 r->stopped ? 1u : 0u, r->auto_remove ? 1u : 0u);

	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

int sv_restart_record_parse(const char *s, size_t len, struct sv_restart *out)
{
	char buf[64], tail;
	unsigned k, max, count, stopped, rm = 0;
	int n;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(buf) || memchr(s, 0, len) || memchr(s, '\n', len) != s + len - 1)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	n = sscanf(buf, "%u %u %u %u%c", &k, &max, &count, &stopped, &tail);
	if (n == 5 && tail == ' ')      /* the fifth field */
		n = sscanf(buf, "%u %u %u %u %u%c", &k, &max, &count, &stopped, &rm, &tail) - 1;
	if (n != 5 || tail != '\n' || k >= SV_RESTART_NKINDS || max > SV_RESTART_MAX_N ||
	    stopped > 1 || rm > 1 || (k != SV_RESTART_ON_FAILURE && max) ||
	    (k == SV_RESTART_NO) != (rm == 1) || (k == SV_RESTART_NO && (count || stopped)))
		return -EINVAL;
	*out = (struct sv_restart){ .kind = k, .max = max, .count = count, .stopped = stopped,
				    .auto_remove = rm };
	return 0;
}
