/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/json.c: a small JSON writer; always emits valid UTF-8, whatever bytes it is given. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client/cli/cli.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; cp = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; cp = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; cp = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json_escape(struct sbuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	sb_putc(b, '"');
	while (i < n) {
		unsigned char ch = s[i];
		size_t len;

		switch (ch) {
		case '"':  sb_put(b, "\\\"", 2); i++; continue;
		case '\\': sb_put(b, "\\\\", 2); i++; continue;
		case '\n': sb_put(b, "\\n", 2); i++; continue;
		case '\r': sb_put(b, "\\r", 2); i++; continue;
		case '\t': sb_put(b, "\\t", 2); i++; continue;
		case '\b': sb_put(b, "\\b", 2); i++; continue;
		case '\f': sb_put(b, "\\f", 2); i++; continue;
		default:   break;
		}
		if (ch < 0x20 || ch == 0x7f) {
			sb_printf(b, "\\u%04x", ch);
			i++;
			continue;
		}
		len = utf8_len(s + i, n - i);
		if (len == 0) {
			sb_puts(b, "\\ufffd");    /* not UTF-8: replacement character */
			i++;
			continue;
		}
		sb_put(b, (const char *)s + i, len);
		i += len;
	}
	sb_putc(b, '"');
}

void jw_init(struct jw *w, struct sbuf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* Before any value: a comma when one came before at this level (not after a key). */
static void pre_value(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->comma[w->depth])
		sb_putc(w->b, ',');
	w->comma[w->depth] = true;
}

static void open_level(struct jw *w, char ch)
{
	pre_value(w);
	sb_putc(w->b, ch);
	if (w->depth < JW_DEPTH - 1)
		w->depth++;
	w->comma[w->depth] = false;
}

static void close_level(struct jw *w, char ch)
{
	sb_putc(w->b, ch);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj(struct jw *w) { open_level(w, '{'); }
void jw_obj_end(struct jw *w) { close_level(w, '}'); }
void jw_arr(struct jw *w) { open_level(w, '['); }
void jw_arr_end(struct jw *w) { close_level(w, ']'); }

void jw_key(struct jw *w, const char *k)
{
	jw_keyn(w, k, strlen(k));
}

void jw_keyn(struct jw *w, const char *k, size_t n)
{
	pre_value(w);
	json_escape(w->b, k, n);
	sb_putc(w->b, ':');
	w->after_key = true;
}

void jw_str(struct jw *w, const char *s)
{
	pre_value(w);
	json_escape(w->b, s ? s : "", s ? strlen(s) : 0);
}

void jw_u64(struct jw *w, uint64_t v)
{
	pre_value(w);
	sb_printf(w->b, "%" PRIu64, v);
}

void jw_i64(struct jw *w, int64_t v)
{
	pre_value(w);
	sb_printf(w->b, "%" PRId64, v);
}

void jw_bool(struct jw *w, bool v)
{
	pre_value(w);
	sb_puts(w->b, v ? "true" : "false");
}
