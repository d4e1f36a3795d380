/* SPDX-License-Identifier: Apache-2.0 */
/* wire/pbio.h: nanopb encode/decode to and from heap buffers, and the length-delimited
 * Report framing. Library convention: 0 or a negative errno. */
#ifndef SV_WIRE_PBIO_H
#define SV_WIRE_PBIO_H
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

/* Report framing: varint length prefix + message. Encode into a new buffer. */
int sv_report_frame(const pb_msgdesc_t *fields, const void *msg, uint8_t **out, size_t *len);
/* Given buffered bytes, the size of the first complete frame's prefix and body:
 * 1 = complete (*hdr + *body bytes), 0 = need more, -EMSGSIZE over SV_REPORT_MAX, -EBADMSG. */
int sv_report_peek(const uint8_t *buf, size_t len, size_t *hdr, size_t *body);

/* Duplicate a decoded FT_POINTER string into a fixed buffer; "" for NULL. -ENAMETOOLONG when
 * it does not fit (dst then holds the truncated, NUL-terminated prefix). */
int sv_strlcpy_pb(char *dst, size_t dstsz, const char *src);

#endif
