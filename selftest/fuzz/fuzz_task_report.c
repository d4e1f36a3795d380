/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_task_report.c: libFuzzer target: the engine's reader of a worker's link
 * (conn_input: ttrpc framing, each DATA frame on the report stream decoded as a Report and
 * its event applied to the task, each response matched to a call or dropped). */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "engine_fixture.h"
#include "wire/ttrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0]: the fixture's task (engine_fixture.h; it always has a link); the rest: what its
 * worker wrote on the link before it ended. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_engine f;
	struct conn *c;

	if (size < 1 || size - 1 > 60000)       /* within a socket's buffer */
		return 0;
	fz_engine_init(&f, data[0] | 8);
	if (size > 1 && sv_write_all(f.peers[2], data + 1, size - 1) < 0)
		abort();
	close(f.peers[2]);
	f.peers[2] = -1;
	c = f.task->link;
	conn_input(&f.e, c);
	if (!c->closing)
		abort();        /* the writer is gone: its link ends, whatever it sent */
	fz_engine_free(&f);
	return 0;
}
