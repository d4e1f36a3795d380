/* SPDX-License-Identifier: Apache-2.0 */
/* wire/fdchan.h: one nanopb message per SOCK_SEQPACKET packet, with fds passed alongside
 * (SCM_RIGHTS): the engine<->monitor channel and the monitor's hand-over to a warm worker. */
#ifndef SV_WIRE_FDCHAN_H
#define SV_WIRE_FDCHAN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pb.h>

#define FDCHAN_MAX_FDS 4

/* Send msg with nfds fds (0..FDCHAN_MAX_FDS). 0 or -errno. */
int fdchan_send(int sock, const pb_msgdesc_t *fields, const void *msg, const int *fds, int nfds);
/* The two halves: encode msg (never empty, at most SV_MONITOR_MAX_MSG; *buf malloc'd), and
 * send an encoded packet with fds (flags: MSG_DONTWAIT). 0 or -errno. */
int fdchan_encode(const pb_msgdesc_t *fields, const void *msg, uint8_t **buf, size_t *len);
int fdchan_send_buf(int sock, const uint8_t *buf, size_t len, const int *fds, int nfds, int flags);
/* Receive one message into msg (decoded, caller frees with sv_pb_free). fds[0..*nfds) get the
 * passed fds (O_CLOEXEC); extra ones are closed. Returns 1 for a message, 0 when it would block
 * (flags MSG_DONTWAIT) , -ECONNRESET on EOF, -EBADMSG for a packet that does not decode (or is
 * truncated), other -errno. A receiver out of fds gets the message with fewer fds than were
 * sent (*nfds says how many arrived). */
int fdchan_recv(int sock, const pb_msgdesc_t *fields, void *msg, int *fds, int *nfds, int flags);
/* What came with a packet besides its message. */
struct fdchan_got {
	int fds[FDCHAN_MAX_FDS];  /* O_CLOEXEC; the caller's to close */
	int nfds;
	bool cut;                 /* MSG_CTRUNC: fewer fds were installed than were sent (the
				   * receiver is out of fds, or more than FDCHAN_MAX_FDS came) */
	size_t len;               /* the packet's length, to check a message is exactly itself */
};
/* fdchan_recv, with the fds, the packet's length and the cut said in *got. */
int fdchan_recv_packet(int sock, const pb_msgdesc_t *fields, void *msg, int flags,
		       struct fdchan_got *got);
/* The same into the caller's buffer (a larger packet is -EBADMSG): no heap for small channels. */
int fdchan_recv_buf(int sock, const pb_msgdesc_t *fields, void *msg, int *fds, int *nfds, int flags,
		    uint8_t *buf, size_t bufsz);

/* An ordered queue of packets for a non-blocking SEQPACKET socket: what the socket does not
 * take now is kept (with a dup of its fd) and sent, in order, by fdchan_q_flush once the
 * socket is writable again. Never drops a packet. */
struct fdchan_pkt;
struct fdchan_q {
	struct fdchan_pkt *head, **tail;
	size_t n;
};
void fdchan_q_init(struct fdchan_q *q);
/* Encode msg, queue it (fd >= 0 goes along; the caller keeps its own), flush. 0, or -errno
 * for a message that cannot be encoded or an fd that cannot be kept. */
int fdchan_q_send(struct fdchan_q *q, int sock, const pb_msgdesc_t *fields, const void *msg,
		  int fd);
/* The same with up to FDCHAN_Q_MAX_FDS fds (dups kept, in order). */
#define FDCHAN_Q_MAX_FDS 2
int fdchan_q_send_fds(struct fdchan_q *q, int sock, const pb_msgdesc_t *fields, const void *msg,
		      const int *fds, int nfds);
/* Drop what is queued (its peer is gone for good), closing the fds kept for it. */
void fdchan_q_clear(struct fdchan_q *q);
/* Send what is queued until the socket is full: 0, or -errno when the peer is gone. */
int fdchan_q_flush(struct fdchan_q *q, int sock);
static inline int fdchan_q_pending(const struct fdchan_q *q) { return q->head != NULL; }

#endif
