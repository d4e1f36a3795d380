/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/fuzz_report.c: libFuzzer target: Report pipe framing (varint prefix) and Report decode. */
#include <stdlib.h>
#include <string.h>

#include "wire/limits.h"
#include "wire/pbio.h"
#include "report.pb.h"

/* Build (from the top directory), linking every .c of wire/ and common/ and the generated
 * build/gen .pb.c files, with -fsanitize=fuzzer,address -D_GNU_SOURCE -DPB_ENABLE_MALLOC
 * -I. -Ibuild/gen and -l:libprotobuf-nanopb.a; see selftest/fuzz/README. */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, hdr, body;
	int rc;

	while ((rc = sv_report_peek(data + off, size - off, &hdr, &body)) == 1) {
		sv_Report rep;
		uint8_t *again;
		size_t len;

		if (hdr < 1 || hdr > 10 || body > SV_REPORT_MAX || hdr + body > size - off)
			abort();
		if (sv_pb_decode(sv_Report_fields, &rep, data + off + hdr, body) == 0) {
			if (rep.which_kind == sv_Report_hello_tag && rep.kind.hello.version)
				(void)strlen(rep.kind.hello.version);
			if (rep.which_kind == sv_Report_event_tag && rep.kind.event.topic)
				(void)strlen(rep.kind.event.topic);
			/* what decodes must re-frame and peek back */
			if (sv_report_frame(sv_Report_fields, &rep, &again, &len) == 0) {
				size_t h2, b2;

				if (sv_report_peek(again, len, &h2, &b2) != 1 || h2 + b2 != len)
					abort();
				free(again);
			}
		}
		sv_pb_free(sv_Report_fields, &rep);
		off += hdr + body;
	}
	if (rc == 0 && size - off >= 10 + SV_REPORT_MAX)
		abort();   /* "need more" is impossible once a whole maximal frame is buffered */
	return 0;
}
