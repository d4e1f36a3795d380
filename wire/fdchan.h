/* SPDX-License-Identifier: Apache-2.0 */
/* wire/fdchan.h: one nanopb message per SOCK_SEQPACKET packet, with fds passed alongside
 * (SCM_RIGHTS): the engine<->monitor channel and the monitor's hand-over to a warm worker. */
#ifndef SV_WIRE_FDCHAN_H
#define SV_WIRE_FDCHAN_H
#include <stddef.h>
#include <stdint.h>
#include <pb.h>

#define FDCHAN_MAX_FDS 4

/* Send msg with nfds fds (0..FDCHAN_MAX_FDS). 0 or -errno. */
int fdchan_send(int sock, const pb_msgdesc_t *fields, const void *msg, const int *fds, int nfds);
/* Receive one message into msg (decoded, caller frees with sv_pb_free). fds[0..*nfds) get the
 * passed fds (O_CLOEXEC); extra ones are closed. Returns 1 for a message, 0 when it would block
 * (flags MSG_DONTWAIT) , -ECONNRESET on EOF, -EBADMSG for a packet that does not decode (or is
 * truncated), other -errno. */
int fdchan_recv(int sock, const pb_msgdesc_t *fields, void *msg, int *fds, int *nfds, int flags);
/* The same into the caller's buffer (a larger packet is -EBADMSG): no heap for small channels. */
int fdchan_recv_buf(int sock, const pb_msgdesc_t *fields, void *msg, int *fds, int *nfds, int flags,
		    uint8_t *buf, size_t bufsz);

#endif
