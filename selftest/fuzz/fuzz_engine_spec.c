/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_engine_spec.c: libFuzzer target: the engine's parse of a client's
 * config.json (`run --bundle`: spec_build adopts it, adds the cgroup and limits), the summary
 * it keeps of it (spec_summary.c), and the monitor's policy check of what it then sends. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "supervisor/engine.h"
#include "supervisor/policy.h"
#include "wire/limits.h"
#include "wire/pbio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0]: which of the request's limits are set (bit 0 memory, 1 pids, 2 cpus, 3 a cgroup
 * path); the rest: the bundle's config.json, as the client read it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sv_policy p;
	static int ready;
	const struct sv_policy_task t = { .ns = "default", .id = "f", .cgroup_parent = "/shimvisor" };
	sv_CtlCreateRequest rq = { .id = "f", .bundle_dir = "/srv/b" };
	char err[256] = "", why[256] = "", *json = NULL;
	size_t len = 0, n = size ? size - 1 : 0;
	pb_bytes_array_t *sum = NULL;
	sv_TaskSummary ts;
	int r;

	if (!ready) {
		sv_policy_defaults(&p);
		ready = 1;
	}
	if (size == 0 || n > SV_CONFIG_MAX + 1u)
		return 0;
	rq.bundle_config = malloc(offsetof(pb_bytes_array_t, bytes) + n + 1);
	if (!rq.bundle_config)
		abort();
	rq.bundle_config->size = (pb_size_t)n;
	memcpy(rq.bundle_config->bytes, data + 1, n);
	rq.memory = data[0] & 1 ? 64 << 20 : 0;
	rq.pids = data[0] & 2 ? 100 : 0;
	rq.cpus_milli = data[0] & 4 ? 500 : 0;
	r = spec_build_summary(&rq, data[0] & 8 ? "/shimvisor/default/f" : "", NULL, NULL, NULL, &json,
			       &len, &sum, err, sizeof(err));
	if (r < 0 && !err[0])
		abort();        /* every refusal says why */
	if (r == 0) {
		if (!json || strlen(json) != len || len > SV_CONFIG_MAX)
			abort();
		if (sv_policy_check(&p, &t, json, len, why, sizeof(why)) < 0 && !why[0])
			abort();
		/* the summary, when made, fits the cap and decodes (Inspect, List) */
		if (sum && (sum->size > SV_SUMMARY_MAX ||
			    sv_pb_decode(sv_TaskSummary_fields, &ts, sum->bytes, sum->size) < 0))
			abort();
		if (sum)
			sv_pb_free(sv_TaskSummary_fields, &ts);
	} else if (sum) {
		abort();        /* a refused config leaves no summary */
	}
	free(sum);
	free(json);
	free(rq.bundle_config);
	return 0;
}
