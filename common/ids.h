/* SPDX-License-Identifier: Apache-2.0 */
/* common/ids.h: validation of task ids and namespaces, before they touch any path. */
#ifndef SV_COMMON_IDS_H
#define SV_COMMON_IDS_H
#include <stdbool.h>

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,75}; also refuses "." and ".." (impossible by the first rule). */
bool sv_id_valid(const char *s);

#endif
