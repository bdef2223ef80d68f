// SPDX-License-Identifier: GPL-2.0-only
/* IP addresses of either family: parse, format, compare, prefix tests. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "addr.h"

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
