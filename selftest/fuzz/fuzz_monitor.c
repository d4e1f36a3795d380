/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_monitor.c: libFuzzer target: the root monitor's request decoder and
 * table check (mon_take_request), fed one packet as the engine would send it. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "common/log.h"
#include "supervisor/monitor.h"
#include <pb_encode.h>
#include "wire/pbio.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0]: bit 0 the table's state (before the scan / serving), bits 1-2 how many fds come
 * with the packet (0-2); the rest: the packet. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sv_config cfg;
	static int ready;
	struct monitor m = { .cfg = &cfg };
	sv_MonRequest rq;
	size_t idx, enc = 0;
	int sp[2], r, low;

	if (!ready) {
		sv_config_defaults(&cfg);
		sv_log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
		ready = 1;
	}
	if (size < 1 || size > 65536)
		return 0;
	low = lowest_free_fd();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0)
		abort();
	m.engine_fd = sp[0];
	m.req_state = data[0] & 1 ? MON_SERVING : MON_AWAIT_SCAN;
	send_packet(sp[1], data + 1, size - 1, (data[0] >> 1) % 3);
	r = mon_take_request(&m, &rq, &idx);
	if (r == 1) {
		/* what passed is exactly its fields, with a sequence number, and came alone */
		if (rq.seq == 0 || !pb_get_encoded_size(&enc, sv_MonRequest_fields, &rq) ||
		    enc != size - 1 || (data[0] >> 1) % 3 != 0)
			abort();
		if (rq.which_op == sv_MonRequest_scan_tag ? !(m.req_state & MON_AWAIT_SCAN)
							  : !(m.req_state & MON_SERVING))
			abort();
		sv_pb_free(sv_MonRequest_fields, &rq);
	}
	/* one packet, taken: nothing more is there */
	if (r >= 0 && mon_take_request(&m, &rq, &idx) != 0)
		abort();
	close(sp[0]);
	close(sp[1]);
	if (lowest_free_fd() != low)
		abort();        /* an fd that came with a refused packet was kept */
	return 0;
}
