/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_wire_report.c: Report framing (varint prefix), pbio helpers and status codes. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/limits.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "report.pb.h"

START_TEST(frame_round_trip)
{
	sv_Report in = sv_Report_init_zero, out;
	uint8_t *buf, *two;
	size_t len, hdr = 0, body = 0;

	in.seq = 1;
	in.which_kind = sv_Report_hello_tag;
	in.kind.hello.version = (char *)SV_VERSION;
	in.kind.hello.worker_pid = 4321;
	ck_assert_int_eq(sv_report_frame(sv_Report_fields, &in, &buf, &len), 0);
	ck_assert_uint_eq(buf[0], len - 1);   /* short body: one-byte prefix */

	/* fed byte by byte: need more until the last byte */
	for (size_t i = 0; i < len; i++)
		ck_assert_int_eq(sv_report_peek(buf, i, &hdr, &body), 0);
	ck_assert_int_eq(sv_report_peek(buf, len, &hdr, &body), 1);
	ck_assert_uint_eq(hdr, 1);
	ck_assert_uint_eq(hdr + body, len);

	ck_assert_int_eq(sv_pb_decode(sv_Report_fields, &out, buf + hdr, body), 0);
	ck_assert_uint_eq(out.seq, 1);
	ck_assert_uint_eq(out.which_kind, sv_Report_hello_tag);
	ck_assert_str_eq(out.kind.hello.version, SV_VERSION);
	ck_assert_uint_eq(out.kind.hello.worker_pid, 4321);
	sv_pb_free(sv_Report_fields, &out);

	/* two frames back to back: peek sees the first only */
	two = malloc(2 * len);
	ck_assert_ptr_nonnull(two);
	memcpy(two, buf, len);
	memcpy(two + len, buf, len);
	ck_assert_int_eq(sv_report_peek(two, 2 * len, &hdr, &body), 1);
	ck_assert_uint_eq(hdr + body, len);
	ck_assert_int_eq(sv_report_peek(two + len, len, &hdr, &body), 1);
	free(two);
	free(buf);
}
END_TEST

START_TEST(frame_empty_and_event)
{
	sv_Report in = sv_Report_init_zero, out;
	uint8_t *buf;
	size_t len, hdr, body;

	/* all defaults: a zero-length body is a valid frame */
	ck_assert_int_eq(sv_report_frame(sv_Report_fields, &in, &buf, &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(buf[0], 0);
	ck_assert_int_eq(sv_report_peek(buf, len, &hdr, &body), 1);
	ck_assert_uint_eq(hdr, 1);
	ck_assert_uint_eq(body, 0);
	free(buf);

	/* a body of 300 bytes needs a two-byte prefix */
	char topic[301];

	memset(topic, 't', 300);
	topic[300] = '\0';
	in.seq = 2;
	in.which_kind = sv_Report_event_tag;
	strcpy(in.kind.event.namespace, "default");
	in.kind.event.topic = topic;
	ck_assert_int_eq(sv_report_frame(sv_Report_fields, &in, &buf, &len), 0);
	ck_assert_int_eq(sv_report_peek(buf, len, &hdr, &body), 1);
	ck_assert_uint_eq(hdr, 2);
	ck_assert_uint_eq(hdr + body, len);
	ck_assert_int_eq(sv_pb_decode(sv_Report_fields, &out, buf + hdr, body), 0);
	ck_assert_uint_eq(out.which_kind, sv_Report_event_tag);
	ck_assert_str_eq(out.kind.event.namespace, "default");
	ck_assert_str_eq(out.kind.event.topic, topic);
	sv_pb_free(sv_Report_fields, &out);
	free(buf);
}
END_TEST

START_TEST(peek_truncated_and_bad_varint)
{
	static const uint8_t cont[] = { 0x80, 0x80, 0x80 };
	static const uint8_t ten[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t big9[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02 };
	static const uint8_t overlong[] = { 0x83, 0x80, 0x00, 'a', 'b', 'c' };   /* 3, padded */
	size_t hdr = 99, body = 99;

	ck_assert_int_eq(sv_report_peek(NULL, 0, &hdr, &body), 0);
	ck_assert_int_eq(sv_report_peek(cont, 1, &hdr, &body), 0);
	ck_assert_int_eq(sv_report_peek(cont, sizeof(cont), &hdr, &body), 0);
	ck_assert_int_eq(sv_report_peek(ten, 9, &hdr, &body), 0);
	ck_assert_int_eq(sv_report_peek(ten, sizeof(ten), &hdr, &body), -EBADMSG);  /* > 10 bytes */
	ck_assert_int_eq(sv_report_peek(big9, sizeof(big9), &hdr, &body), -EBADMSG); /* > 64 bits */
	ck_assert_uint_eq(hdr, 99);   /* untouched on failure */
	ck_assert_int_eq(sv_report_peek(overlong, sizeof(overlong), &hdr, &body), 1);
	ck_assert_uint_eq(hdr, 3);
	ck_assert_uint_eq(body, 3);
}
END_TEST

START_TEST(peek_oversize)
{
	uint8_t p[10];
	size_t hdr, body, n;
	uint64_t v;

	/* exactly SV_REPORT_MAX: fine, wants the body */
	v = SV_REPORT_MAX;
	for (n = 0; v >= 0x80; v >>= 7)
		p[n++] = (uint8_t)(v | 0x80);
	p[n++] = (uint8_t)v;
	ck_assert_int_eq(sv_report_peek(p, n, &hdr, &body), 0);
	/* one more: refused, already from the prefix */
	v = SV_REPORT_MAX + 1;
	for (n = 0; v >= 0x80; v >>= 7)
		p[n++] = (uint8_t)(v | 0x80);
	p[n++] = (uint8_t)v;
	ck_assert_int_eq(sv_report_peek(p, n, &hdr, &body), -EMSGSIZE);
	/* a huge prefix is refused before it is complete */
	memset(p, 0xff, sizeof(p));
	ck_assert_int_eq(sv_report_peek(p, 3, &hdr, &body), -EMSGSIZE);
	ck_assert_int_eq(sv_report_peek(p, sizeof(p), &hdr, &body), -EMSGSIZE);
}
END_TEST

START_TEST(frame_oversize)
{
	sv_Report in = sv_Report_init_zero;
	char *big = malloc(SV_REPORT_MAX + 1);
	uint8_t *buf = (uint8_t *)1;
	size_t len = 1;

	ck_assert_ptr_nonnull(big);
	memset(big, 'v', SV_REPORT_MAX);
	big[SV_REPORT_MAX] = '\0';
	in.which_kind = sv_Report_hello_tag;
	in.kind.hello.version = big;
	ck_assert_int_eq(sv_report_frame(sv_Report_fields, &in, &buf, &len), -EMSGSIZE);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	free(big);
}
END_TEST

START_TEST(pb_helpers)
{
	sv_Hello h = sv_Hello_init_zero, out;
	uint8_t *buf;
	size_t len;
	char dst[4];

	ck_assert_int_eq(sv_pb_encode(sv_Hello_fields, &h, &buf, &len), 0);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(sv_pb_decode(sv_Hello_fields, &out, NULL, 0), 0);
	ck_assert_ptr_null(out.version);
	h.version = (char *)"1.2";
	ck_assert_int_eq(sv_pb_encode(sv_Hello_fields, &h, &buf, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(sv_pb_decode(sv_Hello_fields, &out, buf, len), 0);
	ck_assert_str_eq(out.version, "1.2");
	sv_pb_free(sv_Hello_fields, &out);
	sv_pb_free(sv_Hello_fields, &out);   /* twice is harmless */
	ck_assert_ptr_null(out.version);
	ck_assert_int_eq(sv_pb_decode(sv_Hello_fields, &out, buf, len - 1), -EBADMSG);
	ck_assert_ptr_null(out.version);
	free(buf);

	ck_assert_int_eq(sv_strlcpy_pb(dst, sizeof(dst), NULL), 0);
	ck_assert_str_eq(dst, "");
	ck_assert_int_eq(sv_strlcpy_pb(dst, sizeof(dst), "abc"), 0);
	ck_assert_str_eq(dst, "abc");
	ck_assert_int_eq(sv_strlcpy_pb(dst, sizeof(dst), "abcd"), -ENAMETOOLONG);
	ck_assert_str_eq(dst, "abc");
	ck_assert_int_eq(sv_strlcpy_pb(dst, 0, "a"), -ENAMETOOLONG);
}
END_TEST

START_TEST(status_codes)
{
	ck_assert_str_eq(sv_code_class(SV_INVALID_ARGUMENT), "invalid argument");
	ck_assert_str_eq(sv_code_class(SV_NOT_FOUND), "not found");
	ck_assert_str_eq(sv_code_class(SV_ALREADY_EXISTS), "already exists");
	ck_assert_str_eq(sv_code_class(SV_FAILED_PRECONDITION), "failed precondition");
	ck_assert_str_eq(sv_code_class(SV_UNIMPLEMENTED), "not implemented");
	ck_assert_str_eq(sv_code_class(SV_UNAVAILABLE), "unavailable");
	ck_assert_ptr_null(sv_code_class(SV_OK));
	ck_assert_ptr_null(sv_code_class(SV_INTERNAL));
	ck_assert_ptr_null(sv_code_class(-1));

	static const struct { int err, code; } map[] = {
		{ 0, SV_OK }, { -ENOENT, SV_NOT_FOUND }, { -ESRCH, SV_NOT_FOUND },
		{ -EEXIST, SV_ALREADY_EXISTS }, { -EINVAL, SV_INVALID_ARGUMENT },
		{ -EBUSY, SV_FAILED_PRECONDITION }, { -EALREADY, SV_FAILED_PRECONDITION },
		{ -ENOSYS, SV_UNIMPLEMENTED }, { -EOPNOTSUPP, SV_UNIMPLEMENTED },
		{ -ETIMEDOUT, SV_DEADLINE_EXCEEDED }, { -EMSGSIZE, SV_RESOURCE_EXHAUSTED },
		{ -ENOMEM, SV_RESOURCE_EXHAUSTED }, { -EPERM, SV_PERMISSION_DENIED },
		{ -EACCES, SV_PERMISSION_DENIED }, { -ECONNREFUSED, SV_UNAVAILABLE },
		{ -EPIPE, SV_UNAVAILABLE }, { -ECONNRESET, SV_UNAVAILABLE },
		{ -EIO, SV_UNKNOWN }, { -EBADMSG, SV_UNKNOWN }, { ENOENT, SV_NOT_FOUND },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		ck_assert_int_eq(sv_code_from_errno(map[i].err), map[i].code);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire_report");
	TCase *tc = tcase_create("report");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, frame_round_trip);
	tcase_add_test(tc, frame_empty_and_event);
	tcase_add_test(tc, peek_truncated_and_bad_varint);
	tcase_add_test(tc, peek_oversize);
	tcase_add_test(tc, frame_oversize);
	tcase_add_test(tc, pb_helpers);
	tcase_add_test(tc, status_codes);
	suite_add_tcase(s, tc);
	return sv_run_suite(s);
}
