// SPDX-License-Identifier: GPL-2.0-only
/*
 * IP addresses of either family: parse, format, compare, prefix tests; and
 * the host, port and bracket syntax around them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "addr.h"
#include "text.h"

/* Room for an echoed port or suffix in a message; longer is cut "...". */
#define PORT_QUOTE_LEN 96

int addr_parse(const char *text, struct addr *out)
{
	struct addr a = { 0 };
	struct in6_addr in6;

	if (!text || !*text)
		return -EINVAL;

	/* inet_pton, not inet_aton: "010.1.1.1" and "1.2.3" are errors. */
	if (inet_pton(AF_INET, text, a.bytes) == 1) {
		a.family = AF_INET;
		*out = a;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &in6) != 1)
		return -EINVAL;

	if (IN6_IS_ADDR_V4MAPPED(&in6)) {
		a.family = AF_INET;
		memcpy(a.bytes, &in6.s6_addr[12], 4);
	} else {
		a.family = AF_INET6;
		memcpy(a.bytes, in6.s6_addr, 16);
	}
	*out = a;
	return 0;
}

const char *addr_format(const struct addr *a, char *buf, size_t len)
{
	if (!len)
		return buf;
	/* glibc's inet_ntop is RFC 5952: lowercase, longest zero run as "::". */
	if (!inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->bytes, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

bool addr_equal(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && !memcmp(a->bytes, b->bytes, addr_len(a));
}

static unsigned int addr_bits(const struct addr *a)
{
	return addr_len(a) * 8;
}

bool addr_host_bits_clear(const struct addr *a, unsigned int prefixlen)
{
	unsigned int i, bits = addr_bits(a);

	for (i = prefixlen; i < bits; i++)
		if (a->bytes[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

bool addr_prefix_covers(const struct addr *a, unsigned int alen,
			const struct addr *b, unsigned int blen)
{
	unsigned int full, rest;

	if (a->family != b->family || alen > blen || blen > addr_bits(a))
		return false;

	full = alen / 8;
	rest = alen % 8;
	if (memcmp(a->bytes, b->bytes, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((a->bytes[full] & mask) != (b->bytes[full] & mask))
			return false;
	}
	return true;
}

int text_copy(char *buf, size_t size, const char *s, size_t len)
{
	if (len >= size)
		return -E2BIG;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

const char *text_find_blank(const char *s)
{
	for (; *s; s++)
		if (text_is_space(*s) || text_is_cntrl(*s))
			return s;
	return NULL;
}

int decimal_parse(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	bool over = false;
	size_t i;

	if (len == 0 || !text_is_digit(s[0]))
		return -EINVAL;
	if (s[0] == '0' && len > 1)
		return text_is_digit(s[1]) ? -EDOM : -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned int d = s[i] - '0';

		if (!text_is_digit(s[i]))
			return -EINVAL;
		/* Past max, only look for a non-digit: that is worse. */
		if (over)
			continue;
		if (v > max / 10 || (v == max / 10 && d > max % 10))
			over = true;
		else
			v = v * 10 + d;
	}
	if (over)
		return -ERANGE;
	*out = v;
	return 0;
}

int port_parse(const char *s, size_t len, uint16_t *out, char *why, size_t whylen)
{
	char q[PORT_QUOTE_LEN];
	unsigned long v;
	int ret;

	if (len == 0) {
		snprintf(why, whylen, "missing port after \":\"");
		return -EINVAL;
	}
	ret = decimal_parse(s, len, 65535, &v);
	if (ret == -EDOM) {
		snprintf(why, whylen, "port \"%s\" has a leading zero",
			 text_quote(s, len, q, sizeof(q)));
		return -EINVAL;
	}
	if (ret == -ERANGE || (!ret && v == 0)) {
		snprintf(why, whylen, "port %.*s is out of range (1-65535)", (int)len, s);
		return -EINVAL;
	}
	if (ret) {
		snprintf(why, whylen, "port \"%s\" is not a number",
			 text_quote(s, len, q, sizeof(q)));
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

int hostport_split(const char *text, struct hostport *out, char *why, size_t whylen)
{
	struct hostport hp = { .host = text, .hostlen = strlen(text) };
	const char *colon;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close) {
			snprintf(why, whylen, "missing \"]\" after the IPv6 address");
			return -EINVAL;
		}
		hp.bracketed = true;
		hp.host = text + 1;
		hp.hostlen = close - hp.host;
		if (close[1] == ':') {
			hp.port = close + 2;
		} else if (close[1]) {
			char q[PORT_QUOTE_LEN];

			snprintf(why, whylen, "unexpected \"%s\" after \"]\" (expected \":PORT\")",
				 text_quote(close + 1, strlen(close + 1), q, sizeof(q)));
			return -EINVAL;
		}
	} else if ((colon = strchr(text, ':')) && strchr(colon + 1, ':')) {
		hp.bare_v6 = true;
	} else if (colon) {
		hp.hostlen = colon - text;
		hp.port = colon + 1;
	}
	if (hp.port)
		hp.portlen = strlen(hp.port);
	*out = hp;
	return 0;
}
