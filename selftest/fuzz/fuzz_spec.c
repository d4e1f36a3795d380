/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_spec.c: libFuzzer target: shimvisor-init's config.json parser and its
 * bare Process parser (an exec's spec). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "worker/init/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec_process p;
	struct spec s;
	char err[256];

	memset(&s, 0, sizeof(s));
	if (spec_parse((const char *)data, size, &s, err, sizeof(err)) == 0)
		spec_free(&s);
	else if (!err[0])
		abort();        /* every refusal says why */
	if (spec_parse_process((const char *)data, size, &p, err, sizeof(err)) == 0)
		spec_process_free(&p);
	else if (!err[0])
		abort();
	return 0;
}
