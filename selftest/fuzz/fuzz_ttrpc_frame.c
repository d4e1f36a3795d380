/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_ttrpc_frame.c: libFuzzer target: ttrpc frame reader over a socket, then Request/Response decode. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "wire/ttrpc.h"
#include "wire/pbio.h"

/* Build (from the top directory), linking every .c of wire/ and common/ and the generated
 * build/gen .pb.c files, with -fsanitize=fuzzer,address -D_GNU_SOURCE -DPB_ENABLE_MALLOC
 * -I. -Ibuild/gen and -l:libprotobuf-nanopb.a; see selftest/fuzz/README. */

static void decode_bodies(const uint8_t *body, size_t len)
{
	sv_Request req;
	sv_Response resp;

	if (sv_pb_decode(sv_Request_fields, &req, body, len) == 0) {
		const char *ns = ttrpc_request_ns(&req);

		if (ns)
			(void)strlen(ns);
		if (req.service)
			(void)strlen(req.service);
		if (req.method)
			(void)strlen(req.method);
	}
	sv_pb_free(sv_Request_fields, &req);
	if (sv_pb_decode(sv_Response_fields, &resp, body, len) == 0 && resp.has_status && resp.status.message)
		(void)strlen(resp.status.message);
	sv_pb_free(sv_Response_fields, &resp);
	{
		/* the hand-written Response decoder: the payload must lie inside the body */
		const uint8_t *p;
		size_t n;
		char msg[64];
		int code;

		if (ttrpc_decode_response(body, len, &code, msg, sizeof(msg), &p, &n) == 0 && p &&
		    (p < body || p + n > body + len))
			abort();
		if (strlen(msg) >= sizeof(msg))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ttrpc_reader r = { 0 };
	int sv[2], rc;
	int bufsz = 1 << 20;

	if (size > (64u << 10))
		size = 64u << 10;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (size && sv_write_all(sv[1], data, size) < 0)
		abort();
	close(sv[1]);
	while ((rc = ttrpc_read(&r, sv[0])) == 1) {
		if (r.hdr.len > SV_TTRPC_MAX_BODY)
			abort();
		decode_bodies(r.body, r.hdr.len);
		ttrpc_reader_next(&r);
	}
	if (rc == 0)
		abort();   /* the writer is closed: the reader must end with EOF or an error */
	if (rc == -EMSGSIZE && r.body)
		abort();   /* nothing may be allocated for an oversize frame */
	ttrpc_reader_free(&r);
	close(sv[0]);

	/* the raw input as one body, too */
	decode_bodies(data, size);
	return 0;
}
