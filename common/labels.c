/* SPDX-License-Identifier: Apache-2.0 */
/* common/labels.c: a label's K=V checked (common/labels.h). */
#include <string.h>

#include "labels.h"

const char *sv_label_invalid(const char *kv, size_t *keylen)
{
	const char *eq = strchr(kv, '=');
	size_t n = eq ? (size_t)(eq - kv) : strlen(kv);

	if (!eq)
		return "want K=V";
	if (n == 0 || n > SV_LABEL_KEY_MAX)
		return "K must be 1 to 128 bytes";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)kv[i] <= 0x20 || (unsigned char)kv[i] >= 0x7f)
			return "K must be printable, without blanks";
	if (strlen(eq + 1) > SV_LABEL_VALUE_MAX)
		return "V is over 1024 bytes";
	for (const char *v = eq + 1; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return "V has a control character";
	*keylen = n;
	return NULL;
}
