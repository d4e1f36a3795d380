/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_replies.c: libFuzzer target: the engine's side of the monitor channel
 * (engine_monitor_input: the reply table's check, then the handler) fed one packet as a
 * broken monitor could send it, against the one-task engine of engine_fixture.h. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <pb_encode.h>
#include "engine_fixture.h"
#include "packet.h"
#include "wire/pbio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0]: bits 0-4 the fixture's task (its request outstanding as seq 7), bits 5-6 how many
 * fds come with the packet (0-2; 3: none); the rest: the packet. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int warm;
	struct fz_engine f;
	int low, r;

	if (size < 1 || size > 65536)
		return 0;
	if (!warm) {            /* the fixture's first use keeps its log fd open */
		fz_engine_init(&f, 0);
		fz_engine_free(&f);
		warm = 1;
	}
	low = lowest_free_fd();
	fz_engine_init(&f, data[0] & 31);
	f.task->mon_seq = 7;
	send_packet(f.peers[0], data + 1, size - 1, (data[0] >> 5) % 3);
	r = engine_monitor_input(&f.e);
	/* a packet is taken and handled (0: none left), or refused (-EPROTO: outside the table,
	 * or another -errno: it does not decode): the engine then ends */
	if (r > 0)
		abort();
	if (r == 0 && size - 1 > 0) {
		/* what was taken fit a row: it decodes, and is exactly its fields */
		sv_MonReply rep = { 0 };
		size_t enc = 0;
		if (sv_pb_decode(sv_MonReply_fields, &rep, data + 1, size - 1) < 0 ||
		    !pb_get_encoded_size(&enc, sv_MonReply_fields, &rep) || enc != size - 1)
			abort();
		sv_pb_free(sv_MonReply_fields, &rep);
	}
	fz_engine_free(&f);
	if (lowest_free_fd() != low)
		abort();        /* an fd that came with a packet outlived the engine's tasks */
	return 0;
}
