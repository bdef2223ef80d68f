/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one escaper for untrusted text (allowlist entries, resolver
 * addresses, documents from the network, a process's comm): for messages,
 * and as JSON strings.
 */
#ifndef EGRESSD_TEXT_H
#define EGRESSD_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Room text_quote() needs to show len bytes whole, every one escaped. */
#define TEXT_QUOTE_SIZE(len) (4 * (len) + 1)

/*
 * len bytes of s, fit to stand between double quotes in a message: bytes
 * below 0x20, DEL and non-ASCII as "\xHH", '"' and '\\' backslashed, so a
 * hostile value can neither forge a line nor drive a terminal, and the
 * quotes around it stay unambiguous.  NUL bytes in s are shown too
 * ("\x00"), so pass strlen(s) for a C string.  What does not fit in size
 * is cut at an escape boundary and marked "..." (size >= 4 for that mark
 * to fit).  Always NUL-terminated when size > 0.  Returns buf.
 */
const char *text_quote(const char *s, size_t len, char *buf, size_t size);

/*
 * A JSON string, quotes included, of s up to its NUL or max bytes: '"'
 * and '\\' backslashed, bytes below 0x20 and from 0x7f up as "\u00HH".
 */
void text_json_str(FILE *f, const char *s, size_t max);

/*
 * printf into an error buffer the caller hands down (err may be NULL or
 * errlen 0: nothing is written).  Messages nest other messages, so
 * truncation is fine.
 */
void __attribute__((format(printf, 3, 4))) text_errf(char *err, size_t errlen, const char *fmt, ...);

#endif
