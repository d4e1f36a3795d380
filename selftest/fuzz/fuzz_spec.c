/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_spec.c: libFuzzer target: shimvisor-init's config.json parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "worker/init/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec s;
	char err[256];

	memset(&s, 0, sizeof(s));
	if (spec_parse((const char *)data, size, &s, err, sizeof(err)) == 0)
		spec_free(&s);
	else if (!err[0])
		abort();        /* every refusal says why */
	return 0;
}
