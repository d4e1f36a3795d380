/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_task_payloads.c: libFuzzer target: every request payload the worker
 * decodes (containerd.task.v2.Task methods, InitSync from shimvisor-init, and the runc
 * options of Create and of `start`'s stdin), chosen by the first byte, decoded and released; what a decoder accepts must re-encode. */
#include <stdint.h>
#include <stdlib.h>

#include "wire/pbio.h"
#include "init.pb.h"
#include "task.pb.h"

/* Build: as fuzz_ttrpc_frame.c (selftest/fuzz/README). */

static const pb_msgdesc_t *const msgs[] = {
	sv_CreateTaskRequest_fields, sv_StartRequest_fields, sv_DeleteRequest_fields,
	sv_ExecProcessRequest_fields, sv_ResizePtyRequest_fields, sv_StateRequest_fields,
	sv_KillRequest_fields, sv_CloseIORequest_fields, sv_PidsRequest_fields,
	sv_CheckpointTaskRequest_fields, sv_UpdateTaskRequest_fields, sv_WaitRequest_fields,
	sv_StatsRequest_fields, sv_ConnectRequest_fields, sv_ShutdownRequest_fields,
	sv_PauseRequest_fields, sv_ResumeRequest_fields, sv_InitSync_fields,
	sv_RuncOptions_fields, sv_Any_fields,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		sv_CreateTaskRequest c;
		sv_ExecProcessRequest e;
		sv_UpdateTaskRequest u;
		sv_CheckpointTaskRequest k;
		sv_InitSync i;
		sv_RuncOptions r;
		uint8_t raw[1024];
	} m;
	const pb_msgdesc_t *f;
	uint8_t *out = NULL;
	size_t len = 0;

	if (size < 1)
		return 0;
	f = msgs[data[0] % (sizeof(msgs) / sizeof(msgs[0]))];
	if (sv_pb_decode(f, &m, data + 1, size - 1) == 0) {
		if (sv_pb_encode(f, &m, &out, &len) < 0)
			abort();
		free(out);
	}
	sv_pb_free(f, &m);
	return 0;
}
