/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_wire_nul.c: sv_pb_decode refuses a string holding a NUL byte (`a\0b`
 * would be read as `a`), at any depth, and nothing else. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "wire/pbio.h"
#include "control.pb.h"
#include "monitor.pb.h"
#include "task.pb.h"
#include "ttrpc.pb.h"

#define B(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

START_TEST(ids_with_nul_refused)
{
	sv_DeleteRequest d;
	sv_CtlDeleteRequest cd;

	/* DeleteRequest{id = "a\0b"}: before, decoded as id "a" */
	ck_assert_int_eq(sv_pb_decode(sv_DeleteRequest_fields, &d, B(0x0a, 3, 'a', 0, 'b')), -EILSEQ);
	ck_assert_str_eq(d.id, "");             /* reset, nothing half-decoded kept */
	/* a trailing NUL too: "a\0" */
	ck_assert_int_eq(sv_pb_decode(sv_DeleteRequest_fields, &d, B(0x0a, 2, 'a', 0)), -EILSEQ);
	/* the exec id */
	ck_assert_int_eq(sv_pb_decode(sv_DeleteRequest_fields, &d,
				      B(0x0a, 2, 'a', 'b', 0x12, 2, 'x', 0)), -EILSEQ);
	ck_assert_int_eq(sv_pb_decode(sv_CtlDeleteRequest_fields, &cd,
				      B(0x0a, 1, 'a', 0x10, 1, 0x1a, 3, 'e', 0, 'x')), -EILSEQ);
	/* the same without the NUL decodes */
	ck_assert_int_eq(sv_pb_decode(sv_DeleteRequest_fields, &d,
				      B(0x0a, 2, 'a', 'b', 0x12, 1, 'x')), 0);
	ck_assert_str_eq(d.id, "ab");
	ck_assert_str_eq(d.exec_id, "x");
	/* still a plain decode error for what does not decode */
	ck_assert_int_eq(sv_pb_decode(sv_DeleteRequest_fields, &d, B(0x0a, 9, 'a')), -EBADMSG);
}
END_TEST

START_TEST(nested_and_repeated)
{
	sv_Request rq;
	sv_CtlCreateRequest cc;
	sv_ForwardRequest fr;
	sv_MonRequest mr;

	/* the ttrpc namespace header: Request.metadata[0].value = "a\0b" (a repeated, allocated
	 * submessage) */
	ck_assert_int_eq(sv_pb_decode(sv_Request_fields, &rq,
				      B(0x0a, 1, 's', 0x2a, 8, 0x0a, 1, 'k', 0x12, 3, 'a', 0, 'b')), -EILSEQ);
	ck_assert_ptr_null(rq.service);
	ck_assert_ptr_null(rq.metadata);
	/* in the second entry */
	ck_assert_int_eq(sv_pb_decode(sv_Request_fields, &rq,
				      B(0x2a, 3, 0x0a, 1, 'k', 0x2a, 5, 0x12, 3, 'n', 0, 's')), -EILSEQ);
	/* its key */
	ck_assert_int_eq(sv_pb_decode(sv_Request_fields, &rq, B(0x2a, 4, 0x0a, 2, 0, 'k')), -EILSEQ);
	/* bytes may hold NULs: a payload */
	ck_assert_int_eq(sv_pb_decode(sv_Request_fields, &rq,
				      B(0x0a, 1, 's', 0x1a, 3, 0, 0, 0, 0x2a, 5, 0x0a, 1, 'k', 0x12, 0)), 0);
	ck_assert_str_eq(rq.service, "s");
	ck_assert_uint_eq(rq.payload->size, 3);
	ck_assert_uint_eq(rq.metadata_count, 1);
	sv_pb_free(sv_Request_fields, &rq);
	/* a repeated string (an argument) */
	ck_assert_int_eq(sv_pb_decode(sv_CtlCreateRequest_fields, &cc,
				      B(0x0a, 1, 't', 0x12, 2, 's', 'h', 0x12, 3, '-', 'c', 0)), -EILSEQ);
	ck_assert_ptr_null(cc.args);
	/* two levels down: ForwardRequest.envelope.topic */
	ck_assert_int_eq(sv_pb_decode(sv_ForwardRequest_fields, &fr,
				      B(0x0a, 5, 0x1a, 3, '/', 't', 0)), -EILSEQ);
	ck_assert_int_eq(sv_pb_decode(sv_ForwardRequest_fields, &fr, B(0x0a, 4, 0x1a, 2, '/', 't')), 0);
	ck_assert_str_eq(fr.envelope.topic, "/t");
	sv_pb_free(sv_ForwardRequest_fields, &fr);
	/* a oneof member: MonRequest{seq 1, spawn{ns "a\0", id "b"}} */
	ck_assert_int_eq(sv_pb_decode(sv_MonRequest_fields, &mr,
				      B(0x08, 1, 0x12, 7, 0x0a, 2, 'a', 0, 0x12, 1, 'b')), -EILSEQ);
	ck_assert_int_eq(sv_pb_decode(sv_MonRequest_fields, &mr,
				      B(0x08, 1, 0x12, 6, 0x0a, 1, 'a', 0x12, 1, 'b')), 0);
	ck_assert_str_eq(mr.op.spawn.ns, "a");
	sv_pb_free(sv_MonRequest_fields, &mr);
}
END_TEST

/* Fields the descriptor does not know are skipped as nanopb skips them, NULs or not. */
START_TEST(unknown_fields_skipped)
{
	sv_DeleteRequest d;

	ck_assert_int_eq(sv_pb_decode(sv_DeleteRequest_fields, &d,
				      B(0x0a, 1, 'a', 0x7a, 2, 0, 0, 0x78, 5)), 0);
	ck_assert_str_eq(d.id, "a");
}
END_TEST

/* What we encode ourselves always decodes (no false refusal). */
START_TEST(round_trip)
{
	char *args[] = { "sh", "-c", "echo hi" }, *env[] = { "A=1" };
	sv_CtlCreateRequest in = { .id = "t1", .args = args, .args_count = 3, .env = env,
				   .env_count = 1, .cwd = "/", .hostname = "h", .memory = 1 << 20 };
	sv_CtlCreateRequest out;
	uint8_t *buf;
	size_t len;

	ck_assert_int_eq(sv_pb_encode(sv_CtlCreateRequest_fields, &in, &buf, &len), 0);
	ck_assert_int_eq(sv_pb_decode(sv_CtlCreateRequest_fields, &out, buf, len), 0);
	ck_assert_str_eq(out.id, "t1");
	ck_assert_uint_eq(out.args_count, 3);
	ck_assert_str_eq(out.args[2], "echo hi");
	sv_pb_free(sv_CtlCreateRequest_fields, &out);
	free(buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire_nul");

	SV_TCASE(s, "nul", 10, ids_with_nul_refused, nested_and_repeated, unknown_fields_skipped,
		 round_trip);
	return sv_run_suite(s);
}
