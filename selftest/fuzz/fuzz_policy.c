/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_policy.c: libFuzzer target: the monitor's policy check of a config.json
 * (the one set of untrusted bytes the root monitor parses). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "supervisor/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sv_policy p;
	static int ready;
	const struct sv_policy_task t = { .ns = "default", .id = "f", .cgroup_parent = "/shimvisor" };
	char why[256];

	if (!ready) {
		sv_policy_defaults(&p);
		ready = 1;
	}
	if (sv_policy_check(&p, &t, (const char *)data, size, why, sizeof(why)) < 0 && !why[0])
		abort();        /* every refusal says why */
	return 0;
}
