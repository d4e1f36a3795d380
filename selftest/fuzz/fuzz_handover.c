/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_handover.c: libFuzzer target: a warm worker's decoder of the monitor's
 * WorkerAssign (handover_take), fed one packet with 0-2 fds as the hand-over socket would. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "common/ids.h"
#include "common/log.h"
#include "packet.h"
#include "worker/worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0] % 3: how many fds come with the packet; the rest: the packet. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ns[SV_ID_SZ], id[SV_ID_SZ], bundle[PATH_MAX];
	int sp[2], fds[2], r, low, nfds;

	if (size < 1 || size > 65536)
		return 0;
	nfds = data[0] % 3;
	low = lowest_free_fd();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		abort();
	send_packet(sp[1], data + 1, size - 1, nfds);
	r = handover_take(sp[0], ns, id, bundle, sizeof(bundle), fds);
	if (r == 0) {
		/* an assignment taken is a whole one */
		if (nfds != 2 || !sv_id_valid(ns) || !sv_id_valid(id) || bundle[0] != '/' ||
		    fcntl(fds[0], F_GETFD) < 0 || fcntl(fds[1], F_GETFD) < 0)
			abort();
		close(fds[0]);
		close(fds[1]);
	} else if (r > 0) {
		abort();
	}
	close(sp[0]);
	close(sp[1]);
	if (lowest_free_fd() != low)
		abort();        /* a refused assignment's fds were kept */
	return 0;
}
