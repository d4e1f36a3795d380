/* SPDX-License-Identifier: Apache-2.0 */
/* wire/pbio.h: nanopb encode/decode to and from heap buffers (wire/pbmsg.h), and the
 * length-delimited Report framing. Library convention: 0 or a negative errno. */
#ifndef SV_WIRE_PBIO_H
#define SV_WIRE_PBIO_H
#include <stddef.h>
#include <stdint.h>
#include <pb.h>
#include "wire/pbmsg.h"

/* Report framing: varint length prefix + message. Encode into a new buffer. */
int sv_report_frame(const pb_msgdesc_t *fields, const void *msg, uint8_t **out, size_t *len);
/* Given buffered bytes, the size of the first complete frame's prefix and body:
 * 1 = complete (*hdr + *body bytes), 0 = need more, -EMSGSIZE over SV_REPORT_MAX, -EBADMSG. */
int sv_report_peek(const uint8_t *buf, size_t len, size_t *hdr, size_t *body);

/* Duplicate a decoded FT_POINTER string into a fixed buffer; "" for NULL. -ENAMETOOLONG when
 * it does not fit (dst then holds the truncated, NUL-terminated prefix). */
int sv_strlcpy_pb(char *dst, size_t dstsz, const char *src);

#endif
