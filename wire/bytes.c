/* SPDX-License-Identifier: Apache-2.0 */
/* wire/bytes.c: nanopb bytes fields on the heap. */
#include <stdlib.h>
#include <string.h>
#include "bytes.h"

pb_bytes_array_t *sv_bytes_new(const void *data, size_t len)
{
	pb_bytes_array_t *b;

	if (len > (pb_size_t)-1)
		return NULL;
	b = malloc(sizeof(*b) + len);
	if (!b)
		return NULL;
	b->size = (pb_size_t)len;
	if (len)
		memcpy(b->bytes, data, len);
	return b;
}
