/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An IP address of either family, the one type the loader passes around,
 * and the pieces of "HOST", "HOST:PORT" and "[IPV6]:PORT" text that the
 * entry and resolver parsers share.
 */
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

/* Whitespace: ' ' and '\t' through '\r'. */
static inline bool text_is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* ASCII control characters, DEL included. */
static inline bool text_is_cntrl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static inline bool text_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Copy len bytes of s, not NUL-terminated, into buf as a C string.
 * 0, or -E2BIG (buf untouched) when they do not fit with the NUL.
 */
int text_copy(char *buf, size_t size, const char *s, size_t len);

/* The first whitespace or control character in s, or NULL if none. */
const char *text_find_blank(const char *s);

/*
 * A decimal number of len bytes, digits only: no sign, no blanks, no "0x"
 * and no leading zero (is "010" ten or eight?).  0, -EINVAL (not a
 * number), -EDOM (leading zero) or -ERANGE (above max); *out is set only
 * on success.
 */
int decimal_parse(const char *s, size_t len, unsigned long max, unsigned long *out);

/*
 * A port of len bytes, the text after a ":": decimal, 1..65535, no
 * leading zero.  0 or -EINVAL with the reason in why ("missing port after
 * \":\"", "port \"x\" is not a number", "port \"01\" has a leading zero",
 * "port N is out of range (1-65535)"); *out is set only on success.
 */
int port_parse(const char *s, size_t len, uint16_t *out, char *why, size_t whylen);

/* Where the host and the port are in HOST, HOST:PORT, [HOST] or [HOST]:PORT. */
struct hostport {
	const char *host; /* into the text, hostlen bytes, not NUL-terminated */
	size_t hostlen;   /* may be 0: what is missing depends on the caller */
	const char *port; /* after the ":", to the end of the text; NULL: none */
	size_t portlen;   /* 0 for "HOST:" */
	bool bracketed;   /* "[HOST]..." */
	bool bare_v6;     /* two or more colons and no brackets: no port */
};

/*
 * Split text at "[...]" and the port ":".  Two or more colons without
 * brackets are a bare IPv6 address or prefix with no port, because one
 * would be ambiguous ("2001:db8::1:443" is an address).  Nothing is
 * checked but the brackets: a missing "]" or text after it other than
 * ":PORT" is -EINVAL with the reason in why.  *out is set only on success.
 */
int hostport_split(const char *text, struct hostport *out, char *why, size_t whylen);

#endif
