/* SPDX-License-Identifier: Apache-2.0 */
/* common/ids.c: task id and namespace validation (SV_ID_RULE). */
#include <stddef.h>

#include "ids.h"

static bool is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool sv_id_valid(const char *s)
{
	size_t i;

	if (!s || !is_alnum((unsigned char)s[0]))
		return false;
	for (i = 1; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= SV_ID_MAX)
			return false;
		if (!is_alnum(c) && c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}
