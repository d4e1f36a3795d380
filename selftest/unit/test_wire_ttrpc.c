/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_wire_ttrpc.c: ttrpc framing, reader caps, output queue, worked bytes and blocking calls. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "wire/ttrpc.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "task.pb.h"
#include "control.pb.h"
#include <stdio.h>

static void sockpair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
}

static void put_frame(int fd, uint32_t stream, uint8_t type, const void *body, size_t len)
{
	uint8_t h[SV_TTRPC_HEADER_LEN];
	struct ttrpc_hdr hd = { .len = (uint32_t)len, .stream = stream, .type = type };

	ttrpc_hdr_pack(h, &hd);
	ck_assert_int_eq(sv_write_all(fd, h, sizeof(h)), 0);
	ck_assert_int_eq(sv_write_all(fd, body, len), 0);
}

/* ---- header and reader ---- */

START_TEST(hdr_round_trip)
{
	struct ttrpc_hdr in = { .len = 0x01020304, .stream = 0xa0b0c0d0, .type = 2, .flags = 0x7f }, out;
	uint8_t b[SV_TTRPC_HEADER_LEN];
	static const uint8_t want[] = { 1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0, 2, 0x7f };

	ttrpc_hdr_pack(b, &in);
	ck_assert_mem_eq(b, want, sizeof(want));
	ttrpc_hdr_unpack(b, &out);
	ck_assert_uint_eq(out.len, in.len);
	ck_assert_uint_eq(out.stream, in.stream);
	ck_assert_uint_eq(out.type, in.type);
	ck_assert_uint_eq(out.flags, in.flags);
}
END_TEST

START_TEST(reader_byte_by_byte)
{
	static const uint8_t f1[] = { 0, 0, 0, 3, 0, 0, 0, 5, 1, 0, 'a', 'b', 'c' };
	static const uint8_t f2[] = { 0, 0, 0, 0, 0, 0, 0, 7, 2, 0 };   /* empty body */
	struct ttrpc_reader r = { 0 };
	int sv[2];

	sockpair(sv);
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), 0);
	for (size_t i = 0; i < sizeof(f1); i++) {
		ck_assert_int_eq(write(sv[1], &f1[i], 1), 1);
		ck_assert_int_eq(ttrpc_read(&r, sv[0]), i + 1 == sizeof(f1) ? 1 : 0);
	}
	ck_assert_uint_eq(r.hdr.len, 3);
	ck_assert_uint_eq(r.hdr.stream, 5);
	ck_assert_uint_eq(r.hdr.type, SV_TTRPC_TYPE_REQUEST);
	ck_assert_mem_eq(r.body, "abc", 3);
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), 1);   /* not consumed yet: still there */
	ttrpc_reader_next(&r);

	for (size_t i = 0; i < sizeof(f2); i++) {
		ck_assert_int_eq(write(sv[1], &f2[i], 1), 1);
		ck_assert_int_eq(ttrpc_read(&r, sv[0]), i + 1 == sizeof(f2) ? 1 : 0);
	}
	ck_assert_uint_eq(r.hdr.len, 0);
	ck_assert_uint_eq(r.hdr.stream, 7);
	ck_assert_ptr_null(r.body);
	ttrpc_reader_next(&r);

	/* two frames in one write */
	ck_assert_int_eq(write(sv[1], f1, sizeof(f1)), sizeof(f1));
	ck_assert_int_eq(write(sv[1], f2, sizeof(f2)), sizeof(f2));
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), 1);
	ck_assert_uint_eq(r.hdr.stream, 5);
	ttrpc_reader_next(&r);
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), 1);
	ck_assert_uint_eq(r.hdr.stream, 7);
	ttrpc_reader_next(&r);
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), 0);
	ttrpc_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(reader_cap_oversize)
{
	struct ttrpc_hdr h = { .len = SV_TTRPC_MAX_BODY + 1, .stream = 9, .type = 1 };
	uint8_t b[SV_TTRPC_HEADER_LEN + 16];
	struct ttrpc_reader r = { 0 };
	int sv[2], pending = 0;

	sockpair(sv);
	memset(b, 'x', sizeof(b));
	ttrpc_hdr_pack(b, &h);
	ck_assert_int_eq(write(sv[1], b, sizeof(b)), sizeof(b));
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), -EMSGSIZE);
	ck_assert_ptr_null(r.body);                      /* nothing allocated */
	ck_assert_uint_eq(r.hdr.stream, 9);              /* for the error reply */
	ck_assert_int_eq(ioctl(sv[0], FIONREAD, &pending), 0);
	ck_assert_int_eq(pending, 16);                   /* body bytes not read */
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), -EMSGSIZE);   /* sticky */
	ttrpc_reader_free(&r);

	/* the same cap through the blocking reader */
	uint8_t *body = (uint8_t *)1;
	struct ttrpc_hdr got;

	close(sv[0]);
	close(sv[1]);
	sockpair(sv);
	ck_assert_int_eq(write(sv[1], b, SV_TTRPC_HEADER_LEN), SV_TTRPC_HEADER_LEN);
	ck_assert_int_eq(ttrpc_read_frame(sv[0], &got, &body, 1000), -EMSGSIZE);
	ck_assert_ptr_null(body);
	ck_assert_uint_eq(got.len, SV_TTRPC_MAX_BODY + 1);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(reader_cap_exact)
{
	struct ttrpc_reader r = { 0 };
	uint8_t *body = malloc(SV_TTRPC_MAX_BODY);
	int sv[2], rc;
	pid_t pid;

	ck_assert_ptr_nonnull(body);
	for (size_t i = 0; i < SV_TTRPC_MAX_BODY; i++)
		body[i] = (uint8_t)(i * 7);
	sockpair(sv);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		put_frame(sv[1], 11, SV_TTRPC_TYPE_RESPONSE, body, SV_TTRPC_MAX_BODY);
		free(body);
		_exit(0);
	}
	close(sv[1]);
	for (;;) {
		struct pollfd p = { .fd = sv[0], .events = POLLIN };

		rc = ttrpc_read(&r, sv[0]);
		if (rc != 0)
			break;
		ck_assert_int_eq(poll(&p, 1, 10000), 1);
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(r.hdr.len, SV_TTRPC_MAX_BODY);
	ck_assert_uint_eq(r.hdr.stream, 11);
	ck_assert_int_eq(memcmp(r.body, body, SV_TTRPC_MAX_BODY), 0);
	ttrpc_reader_next(&r);
	/* the child closes: EOF between frames */
	while ((rc = ttrpc_read(&r, sv[0])) == 0) {
		struct pollfd p = { .fd = sv[0], .events = POLLIN };

		ck_assert_int_eq(poll(&p, 1, 10000), 1);
	}
	ck_assert_int_eq(rc, -ECONNRESET);
	ttrpc_reader_free(&r);
	ck_assert_int_eq(waitpid(pid, &rc, 0), pid);
	ck_assert_int_eq(rc, 0);
	free(body);
	close(sv[0]);
}
END_TEST

/* A peer that announces a large body and sends little holds little of our memory. */
START_TEST(reader_grows_with_data)
{
	struct ttrpc_reader r = { 0 };
	struct ttrpc_hdr h = { .len = SV_TTRPC_MAX_BODY, .stream = 1, .type = SV_TTRPC_TYPE_REQUEST };
	uint8_t hdr[SV_TTRPC_HEADER_LEN], some[100] = { 0 };
	int sv[2];

	sockpair(sv);
	ttrpc_hdr_pack(hdr, &h);
	ck_assert_int_eq(write(sv[1], hdr, sizeof(hdr)), (int)sizeof(hdr));
	ck_assert_int_eq(write(sv[1], some, sizeof(some)), (int)sizeof(some));
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), 0);
	ck_assert_uint_le(r.cap, 64u << 10);
	ck_assert_uint_eq(r.have, SV_TTRPC_HEADER_LEN + sizeof(some));
	ttrpc_reader_free(&r);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(reader_eof_mid_frame)
{
	static const uint8_t f[] = { 0, 0, 0, 4, 0, 0, 0, 1, 1, 0, 'a', 'b' };
	struct ttrpc_reader r = { 0 };
	int sv[2];

	/* EOF inside the header */
	sockpair(sv);
	ck_assert_int_eq(write(sv[1], f, 5), 5);
	close(sv[1]);
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), -ECONNRESET);
	ttrpc_reader_free(&r);
	close(sv[0]);

	/* EOF inside the body */
	sockpair(sv);
	ck_assert_int_eq(write(sv[1], f, sizeof(f)), sizeof(f));
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), 0);
	close(sv[1]);
	ck_assert_int_eq(ttrpc_read(&r, sv[0]), -ECONNRESET);
	ttrpc_reader_free(&r);
	ck_assert_ptr_null(r.body);
	close(sv[0]);
}
END_TEST

/* ---- PROTOCOL.md §2.6 worked bytes ---- */

START_TEST(worked_connect_request)
{
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00,
		0x0a, 0x17, 'c', 'o', 'n', 't', 'a', 'i', 'n', 'e', 'r', 'd', '.', 't', 'a', 's', 'k',
		'.', 'v', '2', '.', 'T', 'a', 's', 'k',
		0x12, 0x07, 'C', 'o', 'n', 'n', 'e', 'c', 't',
		0x1a, 0x04, 0x0a, 0x02, 't', '1',
	};
	sv_ConnectRequest cr = sv_ConnectRequest_init_zero;
	struct sv_outq q = { 0 };
	uint8_t *body;
	size_t len;
	sv_Request req;
	sv_ConnectRequest back;

	strcpy(cr.id, "t1");
	ck_assert_int_eq(ttrpc_encode_request(SV_TASK_SERVICE, "Connect", NULL, 0,
					      sv_ConnectRequest_fields, &cr, &body, &len), 0);
	ck_assert_int_eq(sv_outq_frame(&q, 3, SV_TTRPC_TYPE_REQUEST, body, len), 0);
	ck_assert_uint_eq(q.len, sizeof(want));
	ck_assert_mem_eq(q.buf, want, sizeof(want));

	/* and it decodes back */
	ck_assert_int_eq(sv_pb_decode(sv_Request_fields, &req, body, len), 0);
	ck_assert_str_eq(req.service, SV_TASK_SERVICE);
	ck_assert_str_eq(req.method, "Connect");
	ck_assert_ptr_null(ttrpc_request_ns(&req));
	ck_assert_int_eq(sv_pb_decode(sv_ConnectRequest_fields, &back, req.payload->bytes, req.payload->size), 0);
	ck_assert_str_eq(back.id, "t1");
	sv_pb_free(sv_Request_fields, &req);
	ck_assert_ptr_null(req.service);
	free(body);
	sv_outq_free(&q);
}
END_TEST

START_TEST(worked_connect_response)
{
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x03, 0x02, 0x00,
		0x12, 0x06, 0x08, 0xd2, 0x09, 0x10, 0xae, 0x2c,
	};
	sv_ConnectResponse cr = sv_ConnectResponse_init_zero;
	struct sv_outq q = { 0 };

	cr.shim_pid = 1234;
	cr.task_pid = 5678;
	ck_assert_int_eq(ttrpc_queue_response(&q, 3, SV_OK, NULL, sv_ConnectResponse_fields, &cr), 0);
	ck_assert_uint_eq(q.len, sizeof(want));
	ck_assert_mem_eq(q.buf, want, sizeof(want));
	sv_outq_free(&q);
}
END_TEST

START_TEST(worked_not_found_response)
{
	static const uint8_t want[] = {
		0x00, 0x00, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x03, 0x02, 0x00,
		0x0a, 0x0d, 0x08, 0x05, 0x12, 0x09, 'n', 'o', 't', ' ', 'f', 'o', 'u', 'n', 'd',
	};
	sv_ConnectResponse cr = sv_ConnectResponse_init_zero;
	struct sv_outq q = { 0 };

	cr.shim_pid = 1;   /* an error response carries no payload, whatever is passed */
	ck_assert_int_eq(ttrpc_queue_response(&q, 3, SV_NOT_FOUND, "not found",
					      sv_ConnectResponse_fields, &cr), 0);
	ck_assert_uint_eq(q.len, sizeof(want));
	ck_assert_mem_eq(q.buf, want, sizeof(want));
	sv_outq_free(&q);
}
END_TEST

START_TEST(request_ns_metadata)
{
	static const uint8_t kv[] = {
		0x2a, 0x25, 0x0a, 0x1a, 'c', 'o', 'n', 't', 'a', 'i', 'n', 'e', 'r', 'd', '-', 'n', 'a',
		'm', 'e', 's', 'p', 'a', 'c', 'e', '-', 't', 't', 'r', 'p', 'c',
		0x12, 0x07, 'd', 'e', 'f', 'a', 'u', 'l', 't',
	};
	uint8_t *body;
	size_t len;
	sv_Request req;

	ck_assert_int_eq(ttrpc_encode_request(SV_EVENTS_SERVICE, "Forward", "default", 5000000000LL,
					      NULL, NULL, &body, &len), 0);
	ck_assert_int_eq(sv_pb_decode(sv_Request_fields, &req, body, len), 0);
	ck_assert_str_eq(ttrpc_request_ns(&req), "default");
	ck_assert_int_eq(req.timeout_nano, 5000000000LL);
	ck_assert_ptr_null(req.payload);
	ck_assert_uint_eq(req.metadata_count, 1);
	sv_pb_free(sv_Request_fields, &req);
	/* the metadata entry is the last field, exactly as Go encodes it */
	ck_assert_uint_ge(len, sizeof(kv));
	ck_assert_mem_eq(body + len - sizeof(kv), kv, sizeof(kv));
	free(body);
}
END_TEST

/* A payload over nanopb's 64 KiB bytes field (an `ls` of 3000 tasks) goes out and comes
 * back whole; an error comes back as its code and message. */
START_TEST(big_response_round_trip)
{
	enum { N = 3000 };
	sv_CtlListResponse lr = sv_CtlListResponse_init_zero, back;
	const uint8_t *p;
	uint8_t *body;
	size_t len, n;
	char msg[64];
	int code;

	lr.tasks = calloc(N, sizeof(*lr.tasks));
	ck_assert_ptr_nonnull(lr.tasks);
	lr.tasks_count = N;
	for (int i = 0; i < N; i++) {
		snprintf(lr.tasks[i].namespace, sizeof(lr.tasks[i].namespace), "default");
		snprintf(lr.tasks[i].id, sizeof(lr.tasks[i].id), "task-%04d", i);
		lr.tasks[i].pid = 100000 + (uint32_t)i;
		lr.tasks[i].bundle = "/run/shimvisor/default/some-task-bundle";
	}
	ck_assert_int_eq(ttrpc_encode_response(SV_OK, NULL, sv_CtlListResponse_fields, &lr, &body, &len), 0);
	ck_assert_uint_gt(len, 65535);
	ck_assert_int_eq(ttrpc_decode_response(body, len, &code, msg, sizeof(msg), &p, &n), 0);
	ck_assert_int_eq(code, SV_OK);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sv_pb_decode(sv_CtlListResponse_fields, &back, p, n), 0);
	ck_assert_uint_eq(back.tasks_count, N);
	ck_assert_str_eq(back.tasks[N - 1].id, "task-2999");
	ck_assert_uint_eq(back.tasks[1234].pid, 101234);
	sv_pb_free(sv_CtlListResponse_fields, &back);
	free(body);
	free(lr.tasks);

	ck_assert_int_eq(ttrpc_encode_response(SV_NOT_FOUND, "task x: not found", NULL, NULL, &body, &len), 0);
	ck_assert_int_eq(ttrpc_decode_response(body, len, &code, msg, sizeof(msg), &p, &n), 0);
	ck_assert_int_eq(code, SV_NOT_FOUND);
	ck_assert_str_eq(msg, "task x: not found");
	ck_assert_ptr_null(p);
	free(body);
	/* truncated anywhere: an error, never a read past the end */
	ck_assert_int_eq(ttrpc_encode_response(SV_NOT_FOUND, "task x: not found", NULL, NULL, &body, &len), 0);
	for (size_t cut = 1; cut < len; cut++)
		ck_assert_int_eq(ttrpc_decode_response(body, cut, &code, msg, sizeof(msg), &p, &n), -EBADMSG);
	free(body);
}
END_TEST

/* ---- garbage ---- */

static void decode_garbage(const uint8_t *b, size_t n)
{
	sv_Request req;
	sv_Response resp;

	if (sv_pb_decode(sv_Request_fields, &req, b, n) == 0)
		(void)ttrpc_request_ns(&req);
	sv_pb_free(sv_Request_fields, &req);
	ck_assert_ptr_null(req.service);
	ck_assert_ptr_null(req.metadata);
	sv_pb_decode(sv_Response_fields, &resp, b, n);
	sv_pb_free(sv_Response_fields, &resp);
	ck_assert_ptr_null(resp.payload);
}

START_TEST(garbage_bodies)
{
	static const struct { const char *b; size_t n; } bad[] = {
		{ "\x0a", 1 },                      /* tag, no length */
		{ "\x0a\x05" "ab", 4 },             /* length past the end */
		{ "\x0a\xff\xff\xff\xff\x0f", 6 },  /* huge length */
		{ "\x2a\x03\x0a\x05x", 5 },         /* metadata whose inner length overruns */
		{ "\x0b", 1 },                      /* wire type 3 (start group) */
		{ "\x20\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12 },  /* 11-byte varint */
		{ "\x00", 1 },                      /* field number 0 */
	};
	sv_Request req;
	uint32_t seed = 12345;
	uint8_t buf[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(sv_pb_decode(sv_Request_fields, &req, bad[i].b, bad[i].n), -EBADMSG);
		ck_assert_ptr_null(req.service);
		ck_assert_ptr_null(req.metadata);
		ck_assert_uint_eq(req.metadata_count, 0);
		sv_pb_free(sv_Request_fields, &req);
	}
	/* deterministic pseudo-random bodies: decode or fail, never crash or leak */
	for (int round = 0; round < 20000; round++) {
		size_t n = (seed >> 8) % sizeof(buf);

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t)(seed >> 16);
			if (round & 1)
				buf[i] &= 0x2f;   /* more plausible tags */
		}
		seed = seed * 1103515245u + 12345u;
		decode_garbage(buf, n);
	}
}
END_TEST

/* ---- output queue ---- */

/* frames counts what is not wholly sent; dropping keeps the rest of a partly sent one */
START_TEST(outq_frame_count)
{
	uint8_t body[990], buf[8192];
	struct sv_outq q = { 0 };
	size_t got = 0;
	int p[2];

	memset(body, 'x', sizeof(body));
	ck_assert_int_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(p[1], F_SETPIPE_SZ, 4096), 4096);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(sv_outq_frame(&q, 1, SV_TTRPC_TYPE_RESPONSE, body, sizeof(body)), 0);
	ck_assert_uint_eq(q.frames, 10);
	ck_assert_int_eq(sv_outq_flush(&q, p[1]), 1);
	/* 4096 bytes of 1000-byte frames: 4 whole, 96 bytes of the fifth */
	ck_assert_uint_eq(q.frames, 6);
	ck_assert_uint_eq(q.head_left, 904);
	ck_assert_uint_eq(sv_outq_drop_unsent(&q), 5);
	ck_assert_uint_eq(q.frames, 1);
	ck_assert_uint_eq(q.len - q.off, 904);
	while (got < 5000) {
		ssize_t n = read(p[0], buf, sizeof(buf));
		if (n > 0)
			got += (size_t)n;
		ck_assert_int_ge(sv_outq_flush(&q, p[1]), 0);
	}
	ck_assert_uint_eq(got, 5000);           /* five whole frames: the stream stays framed */
	ck_assert_uint_eq(q.frames, 0);
	ck_assert_uint_eq(q.head_left, 0);
	/* an empty queue drops nothing */
	ck_assert_uint_eq(sv_outq_drop_unsent(&q), 0);
	close(p[0]);
	close(p[1]);
	sv_outq_free(&q);
}
END_TEST

START_TEST(outq_backpressure)
{
	struct sv_outq q = { 0 };
	uint8_t chunk[4096], sink[65536];
	size_t total = 0, drained = 0;
	ssize_t n;
	int p[2], rc;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	memset(chunk, 'q', sizeof(chunk));
	/* more than a pipe holds */
	while (total < (1u << 20)) {
		ck_assert_int_eq(sv_outq_frame(&q, 1, SV_TTRPC_TYPE_RESPONSE, chunk, sizeof(chunk)), 0);
		total += SV_TTRPC_HEADER_LEN + sizeof(chunk);
	}
	ck_assert_int_eq(sv_outq_flush(&q, p[1]), 1);   /* pipe full: wait for POLLOUT */
	ck_assert(sv_outq_pending(&q));
	for (;;) {
		while ((n = read(p[0], sink, sizeof(sink))) > 0)
			drained += (size_t)n;
		ck_assert_int_eq(errno, EAGAIN);
		rc = sv_outq_flush(&q, p[1]);
		ck_assert_int_ge(rc, 0);
		if (rc == 0)
			break;
	}
	while ((n = read(p[0], sink, sizeof(sink))) > 0)
		drained += (size_t)n;
	ck_assert_uint_eq(drained, total);
	ck_assert(!sv_outq_pending(&q));
	ck_assert_uint_eq(q.len, 0);
	sv_outq_free(&q);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(outq_peer_gone)
{
	struct sv_outq q = { 0 };
	int sv[2], p[2];

	sockpair(sv);
	close(sv[1]);
	ck_assert_int_eq(sv_outq_frame(&q, 1, SV_TTRPC_TYPE_RESPONSE, "x", 1), 0);
	ck_assert_int_eq(sv_outq_flush(&q, sv[0]), -EPIPE);   /* socket: no SIGPIPE */
	close(sv[0]);

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	close(p[0]);
	ck_assert_int_eq(sv_outq_flush(&q, p[1]), -EPIPE);   /* pipe: write() fallback */
	close(p[1]);
	sv_outq_free(&q);
}
END_TEST

/* ---- blocking calls against a forked server ---- */

enum srv_mode { SRV_OK, SRV_ERR, SRV_NOISE, SRV_WRONG_STREAM, SRV_CLOSE, SRV_SILENT, SRV_GARBAGE };

static void serve_one(int fd, enum srv_mode mode)
{
	struct ttrpc_hdr h;
	uint8_t *body, junk;
	sv_Request req;
	sv_ConnectRequest cr;
	sv_ConnectResponse resp = sv_ConnectResponse_init_zero;
	struct sv_outq q = { 0 };

	if (ttrpc_read_frame(fd, &h, &body, 10000) < 0)
		_exit(2);
	if (h.type != SV_TTRPC_TYPE_REQUEST || sv_pb_decode(sv_Request_fields, &req, body, h.len) < 0)
		_exit(3);
	free(body);
	if (strcmp(req.service, SV_TASK_SERVICE) || strcmp(req.method, "Connect") ||
	    !ttrpc_request_ns(&req) || strcmp(ttrpc_request_ns(&req), "ns1"))
		_exit(4);
	if (!req.payload || sv_pb_decode(sv_ConnectRequest_fields, &cr, req.payload->bytes, req.payload->size) < 0)
		_exit(5);
	resp.shim_pid = 4242;
	resp.task_pid = (uint32_t)strlen(cr.id);
	resp.version = (char *)"v9";
	switch (mode) {
	case SRV_OK:
		ttrpc_queue_response(&q, h.stream, SV_OK, NULL, sv_ConnectResponse_fields, &resp);
		break;
	case SRV_ERR:
		ttrpc_queue_response(&q, h.stream, SV_NOT_FOUND, "container not created: not found", NULL, NULL);
		break;
	case SRV_NOISE:
		sv_outq_frame(&q, 2, SV_TTRPC_TYPE_REQUEST, "\x0a\x01x", 3);   /* not a response: skipped */
		sv_outq_frame(&q, h.stream, 3, "", 0);                          /* unknown type: skipped */
		ttrpc_queue_response(&q, h.stream, SV_OK, NULL, sv_ConnectResponse_fields, &resp);
		break;
	case SRV_WRONG_STREAM:
		ttrpc_queue_response(&q, h.stream + 2, SV_OK, NULL, sv_ConnectResponse_fields, &resp);
		break;
	case SRV_CLOSE:
		_exit(0);
	case SRV_SILENT:
		/* say nothing; leave when the client hangs up */
		while (read(fd, &junk, 1) > 0)
			;
		_exit(0);
	case SRV_GARBAGE:
		sv_outq_frame(&q, h.stream, SV_TTRPC_TYPE_RESPONSE, "\x0a\xff", 2);
		break;
	}
	sv_pb_free(sv_Request_fields, &req);
	while (sv_outq_pending(&q))
		if (sv_outq_flush(&q, fd) < 0)
			_exit(6);
	_exit(0);
}

static int call_mode(enum srv_mode mode, int timeout_ms, int *code, char *msg, size_t msgsz,
		     sv_ConnectResponse *resp)
{
	sv_ConnectRequest cr = sv_ConnectRequest_init_zero;
	int sv[2], st, rc;
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		serve_one(sv[1], mode);
	}
	close(sv[1]);
	strcpy(cr.id, "task-17");
	rc = ttrpc_call(sv[0], 7, SV_TASK_SERVICE, "Connect", "ns1", sv_ConnectRequest_fields, &cr,
			sv_ConnectResponse_fields, resp, timeout_ms, code, msg, msgsz);
	close(sv[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "server status %d", st);
	return rc;
}

START_TEST(call_ok)
{
	sv_ConnectResponse resp;
	char msg[64] = "stale";
	int code = -1;

	ck_assert_int_eq(call_mode(SRV_OK, 5000, &code, msg, sizeof(msg), &resp), 0);
	ck_assert_int_eq(code, SV_OK);
	ck_assert_str_eq(msg, "");
	ck_assert_uint_eq(resp.shim_pid, 4242);
	ck_assert_uint_eq(resp.task_pid, 7);
	ck_assert_str_eq(resp.version, "v9");
	sv_pb_free(sv_ConnectResponse_fields, &resp);
}
END_TEST

START_TEST(call_status_error)
{
	sv_ConnectResponse resp;
	char msg[16];
	int code = -1;

	ck_assert_int_eq(call_mode(SRV_ERR, 5000, &code, msg, sizeof(msg), &resp), 0);
	ck_assert_int_eq(code, SV_NOT_FOUND);
	ck_assert_str_eq(msg, "container not c");   /* truncated to msgsz */
	ck_assert_uint_eq(resp.shim_pid, 0);
	ck_assert_ptr_null(resp.version);
	sv_pb_free(sv_ConnectResponse_fields, &resp);
}
END_TEST

START_TEST(call_skips_non_responses)
{
	sv_ConnectResponse resp;
	int code = -1;

	ck_assert_int_eq(call_mode(SRV_NOISE, 5000, &code, NULL, 0, &resp), 0);
	ck_assert_int_eq(code, SV_OK);
	ck_assert_uint_eq(resp.shim_pid, 4242);
	sv_pb_free(sv_ConnectResponse_fields, &resp);
}
END_TEST

START_TEST(call_failures)
{
	sv_ConnectResponse resp;
	char msg[64];
	int code = -1;

	ck_assert_int_eq(call_mode(SRV_WRONG_STREAM, 5000, &code, msg, sizeof(msg), &resp), -EPROTO);
	ck_assert_int_ne(code, SV_OK);
	ck_assert_ptr_null(resp.version);
	ck_assert_int_eq(call_mode(SRV_CLOSE, 5000, &code, msg, sizeof(msg), &resp), -ECONNRESET);
	ck_assert_int_eq(code, SV_UNAVAILABLE);
	ck_assert_int_eq(call_mode(SRV_SILENT, 100, &code, msg, sizeof(msg), &resp), -ETIMEDOUT);
	ck_assert_int_eq(code, SV_DEADLINE_EXCEEDED);
	ck_assert_int_eq(call_mode(SRV_GARBAGE, 5000, &code, msg, sizeof(msg), &resp), -EBADMSG);
	sv_pb_free(sv_ConnectResponse_fields, &resp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire_ttrpc");
	TCase *tc = tcase_create("ttrpc");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, hdr_round_trip);
	tcase_add_test(tc, reader_byte_by_byte);
	tcase_add_test(tc, reader_cap_oversize);
	tcase_add_test(tc, reader_cap_exact);
	tcase_add_test(tc, reader_grows_with_data);
	tcase_add_test(tc, reader_eof_mid_frame);
	tcase_add_test(tc, worked_connect_request);
	tcase_add_test(tc, worked_connect_response);
	tcase_add_test(tc, worked_not_found_response);
	tcase_add_test(tc, request_ns_metadata);
	tcase_add_test(tc, big_response_round_trip);
	tcase_add_test(tc, garbage_bodies);
	tcase_add_test(tc, outq_backpressure);
	tcase_add_test(tc, outq_frame_count);
	tcase_add_test(tc, outq_peer_gone);
	tcase_add_test(tc, call_ok);
	tcase_add_test(tc, call_status_error);
	tcase_add_test(tc, call_skips_non_responses);
	tcase_add_test(tc, call_failures);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
