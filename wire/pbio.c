/* SPDX-License-Identifier: Apache-2.0 */
/* wire/pbio.c: nanopb encode/decode to and from heap buffers, and the varint-prefixed Report framing. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <pb_common.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "pbio.h"
#include "limits.h"

int sv_pb_encode(const pb_msgdesc_t *fields, const void *msg, uint8_t **out, size_t *len)
{
	size_t size = 0;
	pb_ostream_t os;
	uint8_t *buf;

	*out = NULL;
	*len = 0;
	if (!pb_get_encoded_size(&size, fields, msg))
		return -EINVAL;
	if (size == 0)
		return 0;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	os = pb_ostream_from_buffer(buf, size);
	if (!pb_encode(&os, fields, msg) || os.bytes_written != size) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*len = size;
	return 0;
}

/* The bytes of one string field: -EILSEQ when one is NUL. */
static int string_has_no_nul(pb_istream_t *s)
{
	uint8_t chunk[256];

	while (s->bytes_left > 0) {
		size_t n = s->bytes_left < sizeof(chunk) ? s->bytes_left : sizeof(chunk);

		if (!pb_read(s, chunk, n))
			return -EBADMSG;
		if (memchr(chunk, 0, n))
			return -EILSEQ;
	}
	return 0;
}

/* Room for the largest generated struct (sv_Cg1Metrics, 624 bytes): the field iterator
 * computes each field's address from a base; a submessage's fields are looked up against
 * this zeroed buffer (nothing is read from it but what the iterator itself loads). */
#define SCRATCH_MAX 4096
#define NEST_MAX 16

/* Walk the wire bytes of one message against its descriptor: every string field, at any
 * depth, must be free of NUL bytes. nanopb stores a string as a C string, so `a\0b` would
 * be read as `a` by every consumer (an id `a\0b` named task `a`). Bytes fields, numbers
 * and unknown fields are skipped. msg: valid memory of the top-level type (the decoded
 * message) for the iterator's base. 0, -EILSEQ, or -EBADMSG. */
static int strings_without_nul(pb_istream_t *is, const pb_msgdesc_t *desc, const void *msg,
			       int depth)
{
	static const union {
		max_align_t align;
		uint8_t b[SCRATCH_MAX];
	} zero;
	pb_field_iter_t it;
	bool have = pb_field_iter_begin_const(&it, desc, msg);

	while (is->bytes_left > 0) {
		pb_istream_t sub;
		pb_wire_type_t wt;
		uint32_t tag;
		bool eof;
		int r = 0;

		if (!pb_decode_tag(is, &wt, &tag, &eof))
			return eof ? 0 : -EBADMSG;
		if (!have || wt != PB_WT_STRING || !pb_field_iter_find(&it, tag)) {
			if (!pb_skip_field(is, wt))
				return -EBADMSG;
			continue;
		}
		if (!pb_make_string_substream(is, &sub))
			return -EBADMSG;
		if (PB_LTYPE(it.type) == PB_LTYPE_STRING)
			r = string_has_no_nul(&sub);
		else if (PB_LTYPE_IS_SUBMSG(it.type))
			r = depth >= NEST_MAX || !it.submsg_desc || it.data_size > sizeof(zero) ? -EBADMSG :
			    strings_without_nul(&sub, it.submsg_desc, &zero, depth + 1);
		/* else bytes or packed numbers: closing the substream skips them */
		if (!pb_close_string_substream(is, &sub) && r == 0)
			r = -EBADMSG;
		if (r < 0)
			return r;
	}
	return 0;
}

int sv_pb_decode(const pb_msgdesc_t *fields, void *msg, const void *buf, size_t len)
{
	pb_istream_t is = pb_istream_from_buffer(buf, len);
	int r = 0;

	if (!pb_decode_ex(&is, fields, msg, 0)) {
		r = -EBADMSG;
	} else {
		is = pb_istream_from_buffer(buf, len);
		r = strings_without_nul(&is, fields, msg, 0);
	}
	if (r < 0) {
		pb_release(fields, msg);
		/* leave msg in its default (empty) state */
		is = pb_istream_from_buffer(NULL, 0);
		pb_decode_ex(&is, fields, msg, 0);
	}
	return r;
}

void sv_pb_free(const pb_msgdesc_t *fields, void *msg)
{
	pb_istream_t is = pb_istream_from_buffer(NULL, 0);

	pb_release(fields, msg);
	/* pb_msgdesc_t carries no struct size, so "zero" means: reset every field to its
	 * proto3 default (NULL pointers, zero counts, has_ flags false). */
	pb_decode_ex(&is, fields, msg, 0);
}

int sv_strlcpy_pb(char *dst, size_t dstsz, const char *src)
{
	size_t n;

	if (dstsz == 0)
		return -ENAMETOOLONG;
	if (!src) {
		dst[0] = '\0';
		return 0;
	}
	n = strlen(src);
	if (n >= dstsz) {
		memcpy(dst, src, dstsz - 1);
		dst[dstsz - 1] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}
