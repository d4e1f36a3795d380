/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_client_stats.c: what `stats` prints from cgroup v1 and v2 metrics. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/cli.h"
#include "metrics.pb.h"
#include "wire/pbio.h"

#define CG1 "io.containerd.cgroups.v1.Metrics"
#define CG2 "io.containerd.cgroups.v2.Metrics"
#define PROC "io.shimvisor.proc.v1.Metrics"

static char err[CLI_ERR_MAX];

/* A StatsResponse whose Any holds msg encoded; free with free_resp. */
static sv_StatsResponse resp_of(const char *url, const pb_msgdesc_t *fields, const void *msg)
{
	sv_StatsResponse r = { .has_stats = true, .stats.type_url = (char *)url };
	uint8_t *buf = NULL;
	size_t len = 0;

	ck_assert_int_eq(sv_pb_encode(fields, msg, &buf, &len), 0);
	r.stats.value = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len + 1));
	ck_assert_ptr_nonnull(r.stats.value);
	r.stats.value->size = (pb_size_t)len;
	if (len)
		memcpy(r.stats.value->bytes, buf, len);
	free(buf);
	return r;
}

static void free_resp(sv_StatsResponse *r)
{
	free(r->stats.value);
	r->stats.value = NULL;
}

/* r prints as table and as json (one line each way); r is freed. */
static void expect(sv_StatsResponse *r, const char *table, const char *json)
{
	struct stats_view v;
	struct sbuf b = { 0 };

	ck_assert_msg(cli_stats_view(&v, "web", r, err, sizeof(err)) == 0, "%s", err);
	cli_stats_table(&b, &v);
	ck_assert_str_eq(sb_str(&b), table);
	sb_free(&b);
	cli_stats_json(&b, &v);
	ck_assert_str_eq(sb_str(&b), json);
	sb_free(&b);
	free_resp(r);
}

static sv_Cg1Metrics cg1(uint64_t mem_limit, uint64_t pids_limit)
{
	static uint64_t per_cpu[2] = { 1000, 234 };

	return (sv_Cg1Metrics){
		.has_pids = true, .pids = { .current = 17, .limit = pids_limit },
		.has_cpu = true, .cpu = { .has_usage = true, .usage = {
			.total = 1234567890, .kernel = 5, .user = 6, .per_cpu_count = 2,
			.per_cpu = per_cpu } },
		.has_memory = true, .memory = {
			.cache = 77, .rss = 88, .has_usage = true,
			.usage = { .usage = 4194304, .limit = mem_limit, .max = 5000000 } },
	};
}

START_TEST(v1_table_and_json)
{
	sv_Cg1Metrics m = cg1(67108864, 64);
	sv_StatsResponse r = resp_of(CG1, sv_Cg1Metrics_fields, &m);

	expect(&r, "ID     CPU-NS        MEMORY     MEMORY-LIMIT    PIDS    PIDS-LIMIT    SOURCE\n"
		   "web    1234567890    4194304    67108864        17      64            cgroup\n",
	       "{\"id\":\"web\",\"cpu_usage_ns\":1234567890,\"memory_usage_bytes\":4194304,"
	       "\"memory_limit_bytes\":67108864,\"pids\":17,\"pids_limit\":64,\"cgroup\":\"v1\",\"source\":\"cgroup\"}\n");
	/* no limits: memory says so with LONG_MAX rounded to a page; pids "max" comes as 0 */
	m = cg1(9223372036854771712ull, 0);
	r = resp_of(CG1, sv_Cg1Metrics_fields, &m);
	expect(&r, "ID     CPU-NS        MEMORY     MEMORY-LIMIT    PIDS    PIDS-LIMIT    SOURCE\n"
		   "web    1234567890    4194304    max             17      max           cgroup\n",
	       "{\"id\":\"web\",\"cpu_usage_ns\":1234567890,\"memory_usage_bytes\":4194304,"
	       "\"memory_limit_bytes\":0,\"pids\":17,\"pids_limit\":0,\"cgroup\":\"v1\",\"source\":\"cgroup\"}\n");
}
END_TEST

START_TEST(v2_table_and_json)
{
	/* v2 counts CPU in microseconds; "max" limits come as UINT64_MAX */
	sv_Cg2Metrics m = {
		.has_pids = true, .pids = { .current = 12, .limit = UINT64_MAX },
		.has_cpu = true, .cpu = { .usage_usec = 2500, .user_usec = 2000 },
		.has_memory = true, .memory = { .anon = 9, .usage = 1048576, .usage_limit = 536870912 },
	};
	sv_StatsResponse r = resp_of(CG2, sv_Cg2Metrics_fields, &m);

	expect(&r, "ID     CPU-NS     MEMORY     MEMORY-LIMIT    PIDS    PIDS-LIMIT    SOURCE\n"
		   "web    2500000    1048576    536870912       12      max           cgroup\n",
	       "{\"id\":\"web\",\"cpu_usage_ns\":2500000,\"memory_usage_bytes\":1048576,"
	       "\"memory_limit_bytes\":536870912,\"pids\":12,\"pids_limit\":0,\"cgroup\":\"v2\",\"source\":\"cgroup\"}\n");
	/* memory "max", a pids limit, and a CPU count too large for nanoseconds */
	m.memory.usage_limit = UINT64_MAX;
	m.pids.limit = 100;
	m.cpu.usage_usec = UINT64_MAX / 10;
	r = resp_of(CG2, sv_Cg2Metrics_fields, &m);
	expect(&r, "ID     CPU-NS                  MEMORY     MEMORY-LIMIT    PIDS    PIDS-LIMIT    SOURCE\n"
		   "web    18446744073709551615    1048576    max             12      100           cgroup\n",
	       "{\"id\":\"web\",\"cpu_usage_ns\":18446744073709551615,\"memory_usage_bytes\":1048576,"
	       "\"memory_limit_bytes\":0,\"pids\":12,\"pids_limit\":100,\"cgroup\":\"v2\",\"source\":\"cgroup\"}\n");
	/* a task whose cgroup files were all absent: an Any with no bytes */
	r = (sv_StatsResponse){ .has_stats = true, .stats.type_url = (char *)CG2 };
	expect(&r, "ID     CPU-NS    MEMORY    MEMORY-LIMIT    PIDS    PIDS-LIMIT    SOURCE\n"
		   "web    0         0         max             0       max           cgroup\n",
	       "{\"id\":\"web\",\"cpu_usage_ns\":0,\"memory_usage_bytes\":0,"
	       "\"memory_limit_bytes\":0,\"pids\":0,\"pids_limit\":0,\"cgroup\":\"v2\",\"source\":\"cgroup\"}\n");
}
END_TEST

/* a task without a cgroup: the worker's figures from /proc, in a v1 message of its own type */
START_TEST(proc_table_and_json)
{
	sv_Cg1Metrics m = {
		.has_pids = true, .pids = { .current = 3 },
		.has_cpu = true, .cpu = { .has_usage = true, .usage = { .total = 40000000 } },
		.has_memory = true, .memory = { .rss = 2097152, .has_usage = true,
						.usage = { .usage = 2097152 } },
	};
	sv_StatsResponse r = resp_of(PROC, sv_Cg1Metrics_fields, &m);

	expect(&r, "ID     CPU-NS      MEMORY     MEMORY-LIMIT    PIDS    PIDS-LIMIT    SOURCE\n"
		   "web    40000000    2097152    max             3       max           proc\n",
	       "{\"id\":\"web\",\"cpu_usage_ns\":40000000,\"memory_usage_bytes\":2097152,"
	       "\"memory_limit_bytes\":0,\"pids\":3,\"pids_limit\":0,\"cgroup\":\"none\","
	       "\"source\":\"proc\"}\n");
}
END_TEST

START_TEST(unknown_or_bad_metrics_are_errors)
{
	sv_Cg1Metrics m = cg1(1, 1);
	sv_StatsResponse r = resp_of("io.containerd.cgroups.v3.Metrics", sv_Cg1Metrics_fields, &m);
	sv_StatsResponse none = { 0 };
	struct stats_view v;

	ck_assert_int_eq(cli_stats_view(&v, "web", &r, err, sizeof(err)), -EPROTONOSUPPORT);
	ck_assert_str_eq(err, "unknown metrics type \"io.containerd.cgroups.v3.Metrics\"");
	r.stats.type_url = (char *)"";
	ck_assert_int_eq(cli_stats_view(&v, "web", &r, err, sizeof(err)), -EPROTONOSUPPORT);
	r.stats.type_url = NULL;
	ck_assert_int_eq(cli_stats_view(&v, "web", &r, err, sizeof(err)), -EPROTONOSUPPORT);
	ck_assert_int_eq(cli_stats_view(&v, "web", &none, err, sizeof(err)), -ENODATA);
	ck_assert_str_eq(err, "no metrics in the answer");
	/* the right name on bytes that are not the message: field 3 (cpu) says "varint" */
	r.stats.type_url = (char *)CG1;
	r.stats.value->size = 2;
	memcpy(r.stats.value->bytes, "\x18\x01", 2);
	ck_assert_int_eq(cli_stats_view(&v, "web", &r, err, sizeof(err)), -EBADMSG);
	ck_assert_str_eq(err, "metrics do not decode as io.containerd.cgroups.v1.Metrics");
	free_resp(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client_stats");

	SV_TCASE(s, "stats", 10, v1_table_and_json, v2_table_and_json, proc_table_and_json,
		 unknown_or_bad_metrics_are_errors);
	return sv_run_suite(s);
}
