/* SPDX-License-Identifier: Apache-2.0 */
/* common/ids.h: validation of task ids and namespaces, before they touch any path. */
#ifndef SV_COMMON_IDS_H
#define SV_COMMON_IDS_H
#include <stdbool.h>
#include <stddef.h>

/* The rule, for messages ("must match " SV_ID_RULE): its {0,75} is SV_ID_MAX - 1. */
#define SV_ID_RULE  "[A-Za-z0-9][A-Za-z0-9_.-]{0,75}"
#define SV_ID_MAX   76      /* the longest id or namespace */
/* An id's buffer: the char[80] of every generated id field (wire/sv.options max_size:80,
 * which nanopb reads as a literal), with room to spare beyond SV_ID_MAX + 1. */
#define SV_ID_SZ    80

/* SV_ID_RULE; also refuses "." and ".." (impossible by the first rule). */
bool sv_id_valid(const char *s);

/* Labels (run --label K=V): config.json annotations SV_LABEL_PREFIX "K": "V". */
#define SV_LABEL_PREFIX     "io.shimvisor.label."
#define SV_LABEL_KEY_MAX    128
#define SV_LABEL_VALUE_MAX  1024
/* NULL if kv is a label: K of 1 to SV_LABEL_KEY_MAX printable bytes without blanks (so
 * without '='), V of at most SV_LABEL_VALUE_MAX bytes without control characters; then
 * *keylen is K's length. Else why not. */
const char *sv_label_invalid(const char *kv, size_t *keylen);

#endif
