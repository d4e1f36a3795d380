/* SPDX-License-Identifier: Apache-2.0 */
/* common/ids.c: task id and namespace validation (SV_ID_RULE), and labels' K=V. */
#include <stddef.h>
#include <string.h>

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
