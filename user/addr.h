/* SPDX-License-Identifier: GPL-2.0-only */
/* An IP address of either family, the one type the loader passes around. */
#ifndef EGRESSD_ADDR_H
#define EGRESSD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct addr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t bytes[16]; /* network byte order; IPv4 uses the first 4 */
};

/* Longest text addr_format()/cidr text can produce, with NUL. */
#define ADDR_STRLEN INET6_ADDRSTRLEN

/*
 * Parse a bare IPv4 or IPv6 literal (no brackets, no prefix, no zone).
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is returned as the IPv4 address it is,
 * because that is what the kernel puts on the wire.  0 or -EINVAL.
 */
int addr_parse(const char *text, struct addr *out);

/* Canonical text: dotted quad, or RFC 5952 compressed lowercase IPv6. */
const char *addr_format(const struct addr *a, char *buf, size_t len);

/* 4 or 16. */
static inline int addr_len(const struct addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

bool addr_equal(const struct addr *a, const struct addr *b);

/* True when the bits past prefixlen are all zero. */
bool addr_host_bits_clear(const struct addr *a, unsigned int prefixlen);

/* True when a/alen covers b/blen (same family, alen <= blen, prefix equal). */
bool addr_prefix_covers(const struct addr *a, unsigned int alen,
			const struct addr *b, unsigned int blen);

#endif
