/* SPDX-License-Identifier: Apache-2.0 */
/* wire/ttrpc.h: the one ttrpc frame reader and writer (10-byte big-endian header, 4 MiB cap
 * checked before any allocation), non-blocking output queues, and Request/Response bodies. */
#ifndef SV_WIRE_TTRPC_H
#define SV_WIRE_TTRPC_H
#include <stddef.h>
#include <stdint.h>
#include <pb.h>
#include "limits.h"
#include "ttrpc.pb.h"

struct ttrpc_hdr {
	uint32_t len;
	uint32_t stream;
	uint8_t type;
	uint8_t flags;
};

void ttrpc_hdr_pack(uint8_t out[SV_TTRPC_HEADER_LEN], const struct ttrpc_hdr *h);
void ttrpc_hdr_unpack(const uint8_t in[SV_TTRPC_HEADER_LEN], struct ttrpc_hdr *h);

/* Incremental reader for a non-blocking stream fd. */
struct ttrpc_reader {
	uint8_t hdrbuf[SV_TTRPC_HEADER_LEN];
	size_t have;            /* bytes of header+body read so far */
	struct ttrpc_hdr hdr;   /* valid once have >= SV_TTRPC_HEADER_LEN */
	uint8_t *body;          /* malloc'd, hdr.len bytes once whole (NULL when len is 0) */
	size_t cap;             /* allocated: grows with what arrives, so a peer that
				 * announces 4 MiB and sends nothing holds 64 KiB */
};

/* Read what is available. Returns 1 when a whole frame is in r->hdr/r->body (the caller
 * consumes it, then calls ttrpc_reader_next), 0 when the fd would block, -ECONNRESET at EOF
 * (also mid-frame), -EMSGSIZE when the header announces more than SV_TTRPC_MAX_BODY
 * (nothing allocated; r->hdr stays valid so the caller can answer RESOURCE_EXHAUSTED on
 * r->hdr.stream, then must drop the connection), -ENOMEM, or another -errno from read(). */
int ttrpc_read(struct ttrpc_reader *r, int fd);
void ttrpc_reader_next(struct ttrpc_reader *r);   /* drop the consumed frame */
void ttrpc_reader_free(struct ttrpc_reader *r);

/* A growable output queue: frames are appended whole, flushed as the fd accepts. frames
 * counts those queued by sv_outq_frame and not wholly sent yet (a queue of raw appends
 * keeps it 0); head_left is what is left to send of the first, once it is partly sent. */
struct sv_outq {
	uint8_t *buf;
	size_t len, off, cap;
	size_t frames, head_left;
	unsigned char not_sock;         /* the fd is a pipe: write(), not send() */
};
int sv_outq_frame(struct sv_outq *q, uint32_t stream, uint8_t type, const void *body, size_t len);
int sv_outq_append(struct sv_outq *q, const void *data, size_t len);
/* Write queued bytes: 0 when empty afterwards, 1 when bytes remain (wait for POLLOUT),
 * or -errno (-EPIPE when the peer is gone). Sockets use send(MSG_NOSIGNAL); other fds
 * (pipes) fall back to write(), so a process writing to pipes must ignore SIGPIPE.
 * The fd must be non-blocking. */
int sv_outq_flush(struct sv_outq *q, int fd);
static inline int sv_outq_pending(const struct sv_outq *q) { return q->len > q->off; }
void sv_outq_free(struct sv_outq *q);
/* Drop every frame not begun yet (the rest of one partly sent stays, so the stream stays
 * whole). How many were dropped. For a queue of frames only. */
size_t sv_outq_drop_unsent(struct sv_outq *q);

/* Request/Response bodies. `payload_fields`/`payload` may be NULL for an empty payload.
 * ns may be NULL (no metadata). timeout_ns 0 = none. Output is a new malloc'd buffer. */
int ttrpc_encode_request(const char *service, const char *method, const char *ns, int64_t timeout_ns,
			 const pb_msgdesc_t *payload_fields, const void *payload, uint8_t **out, size_t *len);
/* code SV_OK: payload only; otherwise status {code, message} and no payload. */
int ttrpc_encode_response(int code, const char *message, const pb_msgdesc_t *payload_fields,
			  const void *payload, uint8_t **out, size_t *len);
/* Convenience: encode a response and queue it as a frame on `stream`. */
/* A Response body taken apart without a copy: the status code (SV_OK when absent) and message
 * (into msg), and the payload as a pointer into body (NULL, 0 when absent). Any payload
 * size (nanopb's own decoder stops at 64 KiB). 0 or -EBADMSG. */
int ttrpc_decode_response(const uint8_t *body, size_t len, int *code, char *msg, size_t msgsz,
			  const uint8_t **payload, size_t *plen);
int ttrpc_queue_response(struct sv_outq *q, uint32_t stream, int code, const char *message,
			 const pb_msgdesc_t *payload_fields, const void *payload);

/* The namespace in a decoded request's metadata: NULL when no such key was sent, "" when
 * the key came with an empty value (protobuf leaves an empty string off the wire). */
const char *ttrpc_request_ns(const sv_Request *req);

/* Blocking client call on a connected stream fd (libshimvisor and short-lived tools):
 * sends one request on `stream`, reads frames until the response with that stream id
 * (others are an error), decodes the payload into resp (if resp_fields). Waits at most
 * timeout_ms (-1 = forever; also sent as timeout_nano). Frames that are not responses are
 * skipped; a response on another stream is -EPROTO. Returns 0 when a response arrived:
 * *code and msg (if non-NULL) get its status (SV_OK, msg ""); the payload is decoded only
 * for SV_OK. resp (if resp_fields) is always left initialised, so sv_pb_free is safe.
 * On -errno (-ETIMEDOUT, -ECONNRESET, -EBADMSG, ...) *code = sv_code_from_errno(err) and
 * msg = strerror. */
int ttrpc_call(int fd, uint32_t stream, const char *service, const char *method, const char *ns,
	       const pb_msgdesc_t *req_fields, const void *req,
	       const pb_msgdesc_t *resp_fields, void *resp, int timeout_ms,
	       int *code, char *msg, size_t msgsz);
/* Blocking: read one whole frame with a timeout (-1 forever); the fd may be blocking or
 * not. Caller frees *body (NULL for an empty body). -ETIMEDOUT, -ECONNRESET, -EMSGSIZE
 * (*hdr filled, body not read), -errno. */
int ttrpc_read_frame(int fd, struct ttrpc_hdr *hdr, uint8_t **body, int timeout_ms);
/* Blocking: write all bytes (retries EINTR/EAGAIN with poll). */
int sv_write_all(int fd, const void *buf, size_t len);

#endif
