/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/monchan.h: the engine<->monitor channel: one nanopb message per SEQPACKET,
 * with at most one fd passed alongside (SCM_RIGHTS). */
#ifndef SV_SUP_MONCHAN_H
#define SV_SUP_MONCHAN_H
#include <pb.h>

/* Send msg; pass_fd >= 0 travels with it. 0 or -errno. */
int monchan_send(int sock, const pb_msgdesc_t *fields, const void *msg, int pass_fd);
/* Receive one message into msg (decoded, caller frees with sv_pb_free). *fd gets a passed
 * fd (O_CLOEXEC) or -1. Returns 1 for a message, 0 when it would block, -ECONNRESET on EOF,
 * -EBADMSG for a packet that does not decode (or is truncated), other -errno. */
int monchan_recv(int sock, const pb_msgdesc_t *fields, void *msg, int *fd);

#endif
