/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/stats.c: what `stats` prints: a task's cgroup v1 or v2 metrics, or for a task
 * without a cgroup what /proc shows of its processes, as text or JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client/cli/cli.h"
#include "metrics.pb.h"
#include "wire/limits.h"
#include "wire/pbio.h"


/* At or above this a limit means none: v1 says "no limit" with LONG_MAX rounded down to a
 * page (or -1), v2 with "max" (both read as huge numbers by the worker); v1's pids "max"
 * comes as 0. */
#define NO_LIMIT_FLOOR (1ull << 62)

static uint64_t limit_of(uint64_t v)
{
	return v >= NO_LIMIT_FLOOR ? 0 : v;
}

static void from_cg1(struct stats_view *v, const sv_Cg1Metrics *m)
{
	v->cpu_ns = m->cpu.usage.total;
	v->mem_usage = m->memory.usage.usage;
	v->mem_limit = limit_of(m->memory.usage.limit);
	v->pids = m->pids.current;
	v->pids_limit = limit_of(m->pids.limit);
}

static void from_cg2(struct stats_view *v, const sv_Cg2Metrics *m)
{
	uint64_t us = m->cpu.usage_usec;

	v->cgroup = "v2";
	v->source = "cgroup";
	v->cpu_ns = us > UINT64_MAX / 1000 ? UINT64_MAX : us * 1000;
	v->mem_usage = m->memory.usage;
	v->mem_limit = limit_of(m->memory.usage_limit);
	v->pids = m->pids.current;
	v->pids_limit = limit_of(m->pids.limit);
}

int cli_stats_view(struct stats_view *v, const char *id, const sv_StatsResponse *r,
		   char *err, size_t errsz)
{
	const char *url = r->has_stats && r->stats.type_url ? r->stats.type_url : "";
	const pb_bytes_array_t *val = r->stats.value;
	const void *bytes = val ? (const void *)val->bytes : "";
	size_t len = val ? val->size : 0;
	union { sv_Cg1Metrics v1; sv_Cg2Metrics v2; } m;
	bool proc = strcmp(url, SV_PROC_METRICS_URL) == 0;     /* the same message, from /proc */
	bool v1 = proc || strcmp(url, SV_CG1_METRICS_URL) == 0;
	const pb_msgdesc_t *fields = v1 ? sv_Cg1Metrics_fields : sv_Cg2Metrics_fields;

	memset(v, 0, sizeof(*v));
	v->id = id;
	if (!r->has_stats) {
		snprintf(err, errsz, "no metrics in the answer");
		return -ENODATA;
	}
	if (!v1 && strcmp(url, SV_CG2_METRICS_URL) != 0) {
		snprintf(err, errsz, "unknown metrics type \"%.128s\"", url);
		return -EPROTONOSUPPORT;
	}
	if (sv_pb_decode(fields, &m, bytes, len) < 0) {
		snprintf(err, errsz, "metrics do not decode as %s", url);
		return -EBADMSG;
	}
	if (v1) {
		from_cg1(v, &m.v1);
		v->cgroup = proc ? "none" : "v1";
		v->source = proc ? "proc" : "cgroup";
	} else {
		from_cg2(v, &m.v2);
	}
	sv_pb_free(fields, &m);
	return 0;
}

/* A number cell; a limit of 0 (none) is "max", as in cgroup files. */
static const char *num_cell(char buf[24], uint64_t n, bool limit)
{
	if (limit && n == 0)
		return "max";
	snprintf(buf, 24, "%" PRIu64, n);
	return buf;
}

#define STATS_COLS 7
void cli_stats_table(struct sbuf *b, const struct stats_view *v)
{
	static const char *const head[STATS_COLS] = {
		"ID", "CPU-NS", "MEMORY", "MEMORY-LIMIT", "PIDS", "PIDS-LIMIT", "SOURCE",
	};
	char n[STATS_COLS][24];
	const char *const cell[STATS_COLS] = {
		v->id, num_cell(n[1], v->cpu_ns, false), num_cell(n[2], v->mem_usage, false),
		num_cell(n[3], v->mem_limit, true), num_cell(n[4], v->pids, false),
		num_cell(n[5], v->pids_limit, true), v->source,
	};
	size_t width[STATS_COLS] = { 0 };

	cli_table_widen(width, STATS_COLS, head);
	cli_table_widen(width, STATS_COLS, cell);
	cli_table_row(b, STATS_COLS, head, width);
	cli_table_row(b, STATS_COLS, cell, width);
}

void cli_stats_json(struct sbuf *b, const struct stats_view *v)
{
	const struct { const char *key; uint64_t val; } nums[] = {
		{ "cpu_usage_ns", v->cpu_ns }, { "memory_usage_bytes", v->mem_usage },
		{ "memory_limit_bytes", v->mem_limit }, { "pids", v->pids },
		{ "pids_limit", v->pids_limit },
	};
	struct jw w;

	jw_init(&w, b);
	jw_obj(&w);
	jw_key(&w, "id");
	jw_str(&w, v->id);
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		jw_key(&w, nums[i].key);
		jw_u64(&w, nums[i].val);
	}
	jw_key(&w, "cgroup");
	jw_str(&w, v->cgroup);
	jw_key(&w, "source");
	jw_str(&w, v->source);
	jw_obj_end(&w);
	sb_putc(b, '\n');
}
