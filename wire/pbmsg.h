/* SPDX-License-Identifier: Apache-2.0 */
/* wire/pbmsg.h: encode, decode and free one nanopb message (the part of wire/pbio.h that
 * libshimvisor exports, installed with <shimvisor.h>). 0 or a negative errno. */
#ifndef SV_WIRE_PBMSG_H
#define SV_WIRE_PBMSG_H
#include <stddef.h>
#include <stdint.h>
#include <pb.h>

/* Encode msg into a new malloc'd buffer (*out may be NULL when *len is 0). */
int sv_pb_encode(const pb_msgdesc_t *fields, const void *msg, uint8_t **out, size_t *len);
/* Decode len bytes into msg (zeroed first). On failure msg is released: -EBADMSG, or
 * -EILSEQ when a string field (at any depth) holds a NUL byte. nanopb keeps strings as C
 * strings, so `a\0b` would reach every consumer as `a`: no message with one is ever
 * decoded, whoever sent it (client, engine, worker, containerd). */
int sv_pb_decode(const pb_msgdesc_t *fields, void *msg, const void *buf, size_t len);
/* Release what decoding allocated inside msg (pb_release) and reset every field to its
 * default (NULL pointers, zero counts, has_* false); safe to call twice. */
void sv_pb_free(const pb_msgdesc_t *fields, void *msg);

#endif
