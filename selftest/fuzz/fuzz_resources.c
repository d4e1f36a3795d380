/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_resources.c: libFuzzer target: the LinuxResources JSON of an Update
 * (shimvisor-init --update), parsed on its own. */
#include <stdint.h>
#include <stdlib.h>
#include "worker/init/spec_resources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec_resources *r = NULL;
	char err[256];

	if (spec_resources_parse_json((const char *)data, size, &r, err, sizeof(err)) == 0) {
		spec_resources_empty(r);
		spec_resources_free(r);
	} else if (!err[0] || r) {
		abort();        /* every refusal says why, and leaves nothing */
	}
	return 0;
}
