/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_task_report.c: libFuzzer target: the engine's reader of a worker's
 * report pipe (task_report_input: framing, Report decode, each event applied to the task). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "engine_fixture.h"
#include "wire/pbio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0]: the fixture's task (engine_fixture.h); the rest: what its worker wrote. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_engine f;
	int p[2];

	if (size < 1 || size - 1 > 60000)       /* within a pipe's 64 KiB */
		return 0;
	fz_engine_init(&f, data[0]);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		abort();
	if (size > 1 && sv_write_all(p[1], data + 1, size - 1) < 0)
		abort();
	close(p[1]);
	f.task->report_fd = p[0];
	if (ev_watch(&f.e, p[0], EPOLLIN, &f.task->ev) < 0)
		abort();
	task_report_input(&f.e, f.task);
	if (task_find(&f.e, SV_DEFAULT_NS, "t1") == f.task && (f.task->report_fd != -1 || f.task->rbuf))
		abort();        /* the writer is gone: the pipe is closed and nothing is held */
	fz_engine_free(&f);
	return 0;
}
