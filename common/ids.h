/* SPDX-License-Identifier: Apache-2.0 */
/* common/ids.h: validation of task ids and namespaces, before they touch any path. */
#ifndef SV_COMMON_IDS_H
#define SV_COMMON_IDS_H
#include <stdbool.h>

/* The rule, for messages ("must match " SV_ID_RULE): its {0,75} is SV_ID_MAX - 1. */
#define SV_ID_RULE  "[A-Za-z0-9][A-Za-z0-9_.-]{0,75}"
#define SV_ID_MAX   76      /* the longest id or namespace */
/* An id's buffer: the char[80] of every generated id field (wire/sv.options max_size:80,
 * which nanopb reads as a literal), with room to spare beyond SV_ID_MAX + 1. */
#define SV_ID_SZ    80

/* SV_ID_RULE; also refuses "." and ".." (impossible by the first rule). */
bool sv_id_valid(const char *s);

#endif
