/* SPDX-License-Identifier: Apache-2.0 */
/* wire/bytes.h: allocate a nanopb bytes field (pb_bytes_array_t) holding a copy of data. */
#ifndef SV_WIRE_BYTES_H
#define SV_WIRE_BYTES_H
#include <stddef.h>
#include <pb.h>

/* NULL when out of memory or len does not fit pb_size_t. Free with free(). */
pb_bytes_array_t *sv_bytes_new(const void *data, size_t len);

#endif
