/* SPDX-License-Identifier: Apache-2.0 */
/* wire/pbio.h: nanopb encode/decode to and from heap buffers (wire/pbmsg.h), and the
 * Library convention: 0 or a negative errno. */
#ifndef SV_WIRE_PBIO_H
#define SV_WIRE_PBIO_H
#include <stddef.h>
#include <stdint.h>
#include <pb.h>
#include "wire/pbmsg.h"

/* Duplicate a decoded FT_POINTER string into a fixed buffer; "" for NULL. -ENAMETOOLONG when
 * it does not fit (dst then holds the truncated, NUL-terminated prefix). */
int sv_strlcpy_pb(char *dst, size_t dstsz, const char *src);

#endif
