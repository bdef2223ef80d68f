// SPDX-License-Identifier: GPL-2.0-only
/*
 * Escaping untrusted text for messages and for JSON (see text.h): the one
 * place that decides what a hostile byte looks like on output.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "text.h"

/* How many bytes c takes escaped, into piece (5 bytes, with the NUL). */
static size_t quote_byte(unsigned char c, char *piece)
{
	if (text_is_cntrl(c) || c >= 0x80)
		return (size_t)snprintf(piece, 5, "\\x%02x", c);
	if (c == '"' || c == '\\')
		return (size_t)snprintf(piece, 5, "\\%c", c);
	piece[0] = (char)c;
	piece[1] = '\0';
	return 1;
}

const char *text_quote(const char *s, size_t len, char *buf, size_t size)
{
	size_t i, o = 0, need = 0, room;
	char piece[5];

	if (!size)
		return buf;
	for (i = 0; i < len; i++)
		need += quote_byte(s[i], piece);
	/* Cut: keep room for "..." so that a cut value is always marked. */
	room = need < size ? size - 1 : (size >= 4 ? size - 4 : 0);
	for (i = 0; i < len; i++) {
		size_t n = quote_byte(s[i], piece);

		if (o + n > room)
			break;
		memcpy(buf + o, piece, n);
		o += n;
	}
	if (i < len && size >= 4) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

void text_json_str(FILE *f, const char *s, size_t max)
{
	fputc('"', f);
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void text_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
