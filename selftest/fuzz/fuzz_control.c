/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_control.c: libFuzzer target: the engine's shimvisor.v1.Control
 * dispatch (control_request): a client's ttrpc Request body, decoded, dispatched by method
 * name to each method's own request decoder, against a task table of one task. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "engine_fixture.h"
#include "wire/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0]: the fixture's task (engine_fixture.h); the rest: the Request body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_engine f;
	struct conn *c;

	if (size < 1 || size - 1 > SV_TTRPC_MAX_BODY)
		return 0;
	fz_engine_init(&f, data[0]);
	c = f.client;
	c->rd.hdr.type = SV_TTRPC_TYPE_REQUEST;
	c->rd.hdr.stream = 1;
	c->rd.hdr.len = (uint32_t)(size - 1);
	if (size > 1) {
		if (!(c->rd.body = malloc(size - 1)))
			abort();
		memcpy(c->rd.body, data + 1, size - 1);
		c->rd.cap = size - 1;
	}
	c->rd.have = SV_TTRPC_HEADER_LEN + size - 1;
	control_request(&f.e, c);
	fz_engine_free(&f);
	return 0;
}
