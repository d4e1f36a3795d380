/* SPDX-License-Identifier: Apache-2.0 */
/* wire/stdio_fields.h: lets the task API's fields named stdin, stdout and stderr be written
 * as such under musl (the MUSL build force-includes it into every object of $(B)/musl/). */
#ifndef SV_WIRE_STDIO_FIELDS_H
#define SV_WIRE_STDIO_FIELDS_H
/* musl's <stdio.h> defines `#define stdin (stdin)` (and stdout, stderr): `req.stdin` then
 * expands to `req.(stdin)`, which does not parse. The macros only wrap the objects' own names
 * (`extern FILE *const stdin;`), so without them the names still denote the same FILEs;
 * <stdio.h> is included here first, and its include guard keeps them from coming back. */
#include <stdio.h>
#undef stdin
#undef stdout
#undef stderr
#endif
