/* SPDX-License-Identifier: Apache-2.0 */
/* wire/ttrpc.c: ttrpc v1.1 framing: header codec, incremental reader, output queue, Request/Response bodies, blocking calls. */
#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "common/clock.h"
#include "ttrpc.h"
#include "pbio.h"
#include "status.h"

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void ttrpc_hdr_pack(uint8_t out[SV_TTRPC_HEADER_LEN], const struct ttrpc_hdr *h)
{
	put_be32(out, h->len);
	put_be32(out + 4, h->stream);
	out[8] = h->type;
	out[9] = h->flags;
}

void ttrpc_hdr_unpack(const uint8_t in[SV_TTRPC_HEADER_LEN], struct ttrpc_hdr *h)
{
	h->len = get_be32(in);
	h->stream = get_be32(in + 4);
	h->type = in[8];
	h->flags = in[9];
}

/* ---- reader ---- */

/* One or more read() calls; with `once` at most one (for blocking fds behind poll()).
 * 1 = frame complete, 0 = incomplete / would block, -errno. */
#define READER_FIRST_ALLOC (64u << 10)

static int reader_fill(struct ttrpc_reader *r, int fd, int once)
{
	for (;;) {
		uint8_t *dst;
		size_t want;

		if (r->have < SV_TTRPC_HEADER_LEN) {
			dst = r->hdrbuf + r->have;
			want = SV_TTRPC_HEADER_LEN - r->have;
		} else {
			size_t got = r->have - SV_TTRPC_HEADER_LEN;

			if (got >= r->hdr.len)
				return 1;
			if (got == r->cap) {
				size_t ncap = r->cap * 2 < r->hdr.len ? r->cap * 2 : r->hdr.len;
				uint8_t *nb = realloc(r->body, ncap);
				if (!nb)
					return -ENOMEM;
				r->body = nb;
				r->cap = ncap;
			}
			dst = r->body + got;
			want = r->cap - got;
		}
		ssize_t n = read(fd, dst, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		r->have += (size_t)n;
		if (r->have == SV_TTRPC_HEADER_LEN) {
			ttrpc_hdr_unpack(r->hdrbuf, &r->hdr);
			if (r->hdr.len > SV_TTRPC_MAX_BODY)
				return -EMSGSIZE;   /* r->hdr stays valid: stream id for the error reply */
			if (r->hdr.len == 0)
				return 1;
			r->cap = r->hdr.len < READER_FIRST_ALLOC ? r->hdr.len : READER_FIRST_ALLOC;
			r->body = malloc(r->cap);
			if (!r->body) {
				r->have = 0;
				return -ENOMEM;
			}
		}
		if (r->have >= SV_TTRPC_HEADER_LEN && r->have - SV_TTRPC_HEADER_LEN == r->hdr.len)
			return 1;
		if (once)
			return 0;
	}
}

int ttrpc_read(struct ttrpc_reader *r, int fd)
{
	if (r->have >= SV_TTRPC_HEADER_LEN && r->hdr.len > SV_TTRPC_MAX_BODY)
		return -EMSGSIZE;
	return reader_fill(r, fd, 0);
}

void ttrpc_reader_next(struct ttrpc_reader *r)
{
	free(r->body);
	r->body = NULL;
	r->have = 0;
	r->cap = 0;
	memset(&r->hdr, 0, sizeof(r->hdr));
}

void ttrpc_reader_free(struct ttrpc_reader *r)
{
	ttrpc_reader_next(r);
}

/* ---- output queue ---- */

static void outq_compact(struct sv_outq *q)
{
	if (q->off == 0)
		return;
	if (q->off < q->len)
		memmove(q->buf, q->buf + q->off, q->len - q->off);
	q->len -= q->off;
	q->off = 0;
}

int sv_outq_append(struct sv_outq *q, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (q->cap - q->len < len && q->off > 0)
		outq_compact(q);
	if (q->cap - q->len < len) {
		size_t need = q->len + len, ncap = q->cap ? q->cap : 4096;

		if (need < q->len)
			return -ENOMEM;
		while (ncap < need) {
			if (ncap > SIZE_MAX / 2)
				return -ENOMEM;
			ncap *= 2;
		}
		uint8_t *nb = realloc(q->buf, ncap);
		if (!nb)
			return -ENOMEM;
		q->buf = nb;
		q->cap = ncap;
	}
	memcpy(q->buf + q->len, data, len);
	q->len += len;
	return 0;
}

int sv_outq_frame(struct sv_outq *q, uint32_t stream, uint8_t type, const void *body, size_t len)
{
	uint8_t hdr[SV_TTRPC_HEADER_LEN];
	struct ttrpc_hdr h = { .len = (uint32_t)len, .stream = stream, .type = type, .flags = 0 };
	size_t oldlen = q->len;
	int err;

	if (len > SV_TTRPC_MAX_BODY)
		return -EMSGSIZE;
	ttrpc_hdr_pack(hdr, &h);
	err = sv_outq_append(q, hdr, sizeof(hdr));
	if (err == 0)
		err = sv_outq_append(q, body, len);
	if (err < 0 && q->len > oldlen)
		q->len = oldlen;   /* frames are queued whole or not at all */
	q->frames += err == 0;
	return err;
}

/* n bytes from q->off were sent: count the frames they finish. A frame's header is read
 * when its first byte goes; it is still in the buffer then (frames are queued whole). */
static void outq_sent(struct sv_outq *q, size_t n)
{
	const uint8_t *p = q->buf + q->off;

	while (n && q->frames) {
		size_t k;

		if (!q->head_left)
			q->head_left = SV_TTRPC_HEADER_LEN + (size_t)get_be32(p);
		k = n < q->head_left ? n : q->head_left;
		q->head_left -= k;
		n -= k;
		p += k;
		q->frames -= !q->head_left;
	}
}

size_t sv_outq_drop_unsent(struct sv_outq *q)
{
	size_t keep = q->head_left, dropped = q->frames - (keep ? 1 : 0);

	q->len = q->off + keep;
	q->frames = keep ? 1 : 0;
	return dropped;
}

/* send() with MSG_NOSIGNAL, or write() for what is not a socket (pipes; learned once). */
static ssize_t send_or_write(struct sv_outq *q, int fd, const void *buf, size_t len)
{
	ssize_t n;

	if (q->not_sock)
		return write(fd, buf, len);
	n = send(fd, buf, len, MSG_NOSIGNAL);
	if (n < 0 && errno == ENOTSOCK) {
		q->not_sock = 1;
		n = write(fd, buf, len);
	}
	return n;
}

int sv_outq_flush(struct sv_outq *q, int fd)
{
	while (q->off < q->len) {
		ssize_t n = send_or_write(q, fd, q->buf + q->off, q->len - q->off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		outq_sent(q, (size_t)n);
		q->off += (size_t)n;
	}
	if (q->off == q->len) {
		/* idle connections hold no buffer: per-task memory matters more than a malloc */
		free(q->buf);
		q->buf = NULL;
		q->off = q->len = q->cap = q->frames = q->head_left = 0;
		return 0;
	}
	if (q->off > q->len / 2)
		outq_compact(q);
	return 1;
}

void sv_outq_free(struct sv_outq *q)
{
	unsigned char not_sock = q->not_sock;

	free(q->buf);
	memset(q, 0, sizeof(*q));
	q->not_sock = not_sock;
}

/* ---- Request / Response bodies ---- */

/* Encode a payload message into a pb_bytes_array_t (NULL when it encodes to nothing). */
static int payload_bytes(const pb_msgdesc_t *fields, const void *msg, pb_bytes_array_t **out)
{
	size_t size = 0;
	pb_ostream_t os;
	pb_bytes_array_t *b;

	*out = NULL;
	if (!fields || !msg)
		return 0;
	if (!pb_get_encoded_size(&size, fields, msg))
		return -EINVAL;
	if (size == 0)
		return 0;
	if (size > SV_TTRPC_MAX_BODY || size > SV_BYTES_MAX)
		return -EMSGSIZE;       /* a pb_bytes_array_t holds a 16-bit size: never truncate */
	b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(size));
	if (!b)
		return -ENOMEM;
	os = pb_ostream_from_buffer(b->bytes, size);
	if (!pb_encode(&os, fields, msg)) {
		free(b);
		return -EINVAL;
	}
	b->size = (pb_size_t)size;
	*out = b;
	return 0;
}

int ttrpc_encode_request(const char *service, const char *method, const char *ns, int64_t timeout_ns,
			 const pb_msgdesc_t *payload_fields, const void *payload, uint8_t **out, size_t *len)
{
	sv_Request req = sv_Request_init_zero;
	sv_KeyValue kv = { .key = (char *)SV_NS_METADATA_KEY, .value = (char *)ns };
	int err;

	err = payload_bytes(payload_fields, payload, &req.payload);
	if (err < 0)
		return err;
	req.service = (char *)service;
	req.method = (char *)method;
	req.timeout_nano = timeout_ns;
	if (ns) {
		req.metadata_count = 1;
		req.metadata = &kv;
	}
	err = sv_pb_encode(sv_Request_fields, &req, out, len);
	free(req.payload);
	if (err == 0 && *len > SV_TTRPC_MAX_BODY) {
		free(*out);
		*out = NULL;
		*len = 0;
		err = -EMSGSIZE;
	}
	return err;
}

/* The Response envelope, written by hand: nanopb's bytes field holds at most 64 KiB
 * (16-bit pb_size_t), a payload as a submessage has a size_t length. */
static bool response_envelope(pb_ostream_t *os, int code, const sv_Status *st,
			      const pb_msgdesc_t *payload_fields, const void *payload)
{
	size_t n = 0;

	if (code != SV_OK)
		return pb_encode_tag(os, PB_WT_STRING, sv_Response_status_tag) &&
		       pb_encode_submessage(os, sv_Status_fields, st);
	if (!payload_fields || !payload)
		return true;
	if (!pb_get_encoded_size(&n, payload_fields, payload))
		return false;
	return n == 0 || (pb_encode_tag(os, PB_WT_STRING, sv_Response_payload_tag) &&
			  pb_encode_submessage(os, payload_fields, payload));
}

int ttrpc_encode_response(int code, const char *message, const pb_msgdesc_t *payload_fields,
			  const void *payload, uint8_t **out, size_t *len)
{
	sv_Status st = { .code = code, .message = (message && *message) ? (char *)message : NULL };
	pb_ostream_t os = PB_OSTREAM_SIZING;
	uint8_t *buf;

	*out = NULL;
	*len = 0;
	if (!response_envelope(&os, code, &st, payload_fields, payload))
		return -EINVAL;
	if (os.bytes_written > SV_TTRPC_MAX_BODY)
		return -EMSGSIZE;
	buf = malloc(os.bytes_written ? os.bytes_written : 1);
	if (!buf)
		return -ENOMEM;
	*len = os.bytes_written;
	os = pb_ostream_from_buffer(buf, *len);
	if (!response_envelope(&os, code, &st, payload_fields, payload)) {
		free(buf);
		*len = 0;
		return -EINVAL;
	}
	*out = buf;
	return 0;
}

int ttrpc_decode_response(const uint8_t *body, size_t len, int *code, char *msg, size_t msgsz,
			  const uint8_t **payload, size_t *plen)
{
	pb_istream_t is = pb_istream_from_buffer(body, len);

	*code = SV_OK;
	*payload = NULL;
	*plen = 0;
	if (msg && msgsz)
		msg[0] = 0;
	while (is.bytes_left) {
		pb_wire_type_t wt;
		uint32_t tag;
		bool eof;

		if (!pb_decode_tag(&is, &wt, &tag, &eof))
			return eof ? 0 : -EBADMSG;
		if (tag == sv_Response_status_tag && wt == PB_WT_STRING) {
			sv_Status st = sv_Status_init_zero;
			pb_istream_t sub;
			bool ok;

			if (!pb_make_string_substream(&is, &sub))
				return -EBADMSG;
			ok = pb_decode(&sub, sv_Status_fields, &st);
			ok = pb_close_string_substream(&is, &sub) && ok;
			if (ok) {
				*code = st.code;
				if (msg && msgsz)
					snprintf(msg, msgsz, "%s", st.message ? st.message : "");
			}
			pb_release(sv_Status_fields, &st);
			if (!ok)
				return -EBADMSG;
		} else if (tag == sv_Response_payload_tag && wt == PB_WT_STRING) {
			uint64_t n;

			if (!pb_decode_varint(&is, &n) || n > is.bytes_left)
				return -EBADMSG;
			*payload = body + (len - is.bytes_left);
			*plen = (size_t)n;
			if (!pb_read(&is, NULL, (size_t)n))
				return -EBADMSG;
		} else if (!pb_skip_field(&is, wt)) {
			return -EBADMSG;
		}
	}
	return 0;
}

int ttrpc_queue_response(struct sv_outq *q, uint32_t stream, int code, const char *message,
			 const pb_msgdesc_t *payload_fields, const void *payload)
{
	uint8_t *body = NULL;
	size_t len = 0;
	int err = ttrpc_encode_response(code, message, payload_fields, payload, &body, &len);

	if (err < 0)
		return err;
	err = sv_outq_frame(q, stream, SV_TTRPC_TYPE_RESPONSE, body, len);
	free(body);
	return err;
}

const char *ttrpc_request_ns(const sv_Request *req)
{
	if (!req->metadata)
		return NULL;
	for (pb_size_t i = 0; i < req->metadata_count; i++) {
		const sv_KeyValue *kv = &req->metadata[i];

		if (kv->key && strcmp(kv->key, SV_NS_METADATA_KEY) == 0)
			return kv->value ? kv->value : "";     /* an empty value is not sent */
	}
	return NULL;
}

/* ---- blocking helpers ---- */

/* Milliseconds left until deadline (-1 = none), for poll(). */
static int left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - sv_now_ms();
	if (left < 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int n = poll(&p, 1, left_ms(deadline));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ETIMEDOUT;
		if (p.revents & POLLNVAL)
			return -EBADF;
		return 0;   /* readable, writable, or POLLERR/POLLHUP: the next call reports it */
	}
}

static int write_all_deadline(int fd, const void *buf, size_t len, int64_t deadline)
{
	const uint8_t *p = buf;
	struct sv_outq how = { 0 };     /* only what send_or_write learns of fd */

	while (len > 0) {
		ssize_t n = send_or_write(&how, fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				int err = wait_fd(fd, POLLOUT, deadline);

				if (err < 0)
					return err;
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sv_write_all(int fd, const void *buf, size_t len)
{
	return write_all_deadline(fd, buf, len, -1);
}

static int read_frame_deadline(int fd, struct ttrpc_hdr *hdr, uint8_t **body, int64_t deadline)
{
	struct ttrpc_reader r = { 0 };
	int rc;

	*body = NULL;
	for (;;) {
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc < 0)
			break;
		rc = reader_fill(&r, fd, 1);
		if (rc != 0)
			break;
	}
	if (r.have >= SV_TTRPC_HEADER_LEN)
		*hdr = r.hdr;
	if (rc == 1) {
		*body = r.body;
		return 0;
	}
	ttrpc_reader_free(&r);
	return rc;
}

int ttrpc_read_frame(int fd, struct ttrpc_hdr *hdr, uint8_t **body, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : sv_now_ms() + timeout_ms;

	return read_frame_deadline(fd, hdr, body, deadline);
}

static void set_msg(char *msg, size_t msgsz, const char *s)
{
	if (msg && msgsz > 0)
		sv_strlcpy_pb(msg, msgsz, s);
}

/* Initialise resp to its defaults so the caller may always sv_pb_free it. */
static void init_resp(const pb_msgdesc_t *fields, void *resp)
{
	pb_istream_t is = pb_istream_from_buffer(NULL, 0);

	if (fields && resp)
		pb_decode(&is, fields, resp);
}

static int call_inner(int fd, uint32_t stream, const char *service, const char *method, const char *ns,
		      const pb_msgdesc_t *req_fields, const void *req,
		      const pb_msgdesc_t *resp_fields, void *resp, int timeout_ms,
		      int *code, char *msg, size_t msgsz)
{
	int64_t deadline = timeout_ms < 0 ? -1 : sv_now_ms() + timeout_ms;
	int64_t timeout_ns = timeout_ms > 0 ? (int64_t)timeout_ms * 1000000 : 0;
	uint8_t hdrbuf[SV_TTRPC_HEADER_LEN], *body = NULL;
	size_t len = 0;
	struct ttrpc_hdr h;
	const uint8_t *p;
	size_t n;
	int err;

	err = ttrpc_encode_request(service, method, ns, timeout_ns, req_fields, req, &body, &len);
	if (err < 0)
		return err;
	h = (struct ttrpc_hdr){ .len = (uint32_t)len, .stream = stream, .type = SV_TTRPC_TYPE_REQUEST };
	ttrpc_hdr_pack(hdrbuf, &h);
	err = write_all_deadline(fd, hdrbuf, sizeof(hdrbuf), deadline);
	if (err == 0)
		err = write_all_deadline(fd, body, len, deadline);
	free(body);
	if (err < 0)
		return err;

	for (;;) {
		err = read_frame_deadline(fd, &h, &body, deadline);
		if (err < 0)
			return err;
		if (h.type == SV_TTRPC_TYPE_RESPONSE)
			break;
		free(body);   /* not a response: ignored, as ttrpc does */
		body = NULL;
	}
	if (h.stream != stream) {
		free(body);
		return -EPROTO;
	}
	err = ttrpc_decode_response(body, h.len, code, msg, msgsz, &p, &n);
	if (err == 0 && *code == SV_OK && resp_fields && resp)
		err = sv_pb_decode(resp_fields, resp, p, n);
	free(body);
	return err;
}

int ttrpc_call(int fd, uint32_t stream, const char *service, const char *method, const char *ns,
	       const pb_msgdesc_t *req_fields, const void *req,
	       const pb_msgdesc_t *resp_fields, void *resp, int timeout_ms,
	       int *code, char *msg, size_t msgsz)
{
	int c = SV_OK, err;

	init_resp(resp_fields, resp);
	set_msg(msg, msgsz, NULL);
	err = call_inner(fd, stream, service, method, ns, req_fields, req, resp_fields, resp,
			 timeout_ms, &c, msg, msgsz);
	if (err < 0) {
		c = sv_code_from_errno(err);
		set_msg(msg, msgsz, strerror(-err));
	}
	if (code)
		*code = c;
	return err;
}
