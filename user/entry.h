/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One allowlist entry as the user wrote it: an address, a CIDR or a domain
 * name, each optionally limited to one port.  Pure code, no privileges.
 */
#ifndef EGRESSD_ENTRY_H
#define EGRESSD_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* RFC 1035: 253 characters of name, plus NUL. */
#define NAME_MAX_LEN 253

enum entry_kind {
	ENTRY_CIDR = 0,
	ENTRY_DOMAIN,
};

struct entry {
	enum entry_kind kind;
	/*
	 * ENTRY_DOMAIN written "*.NAME": allows every name below NAME, at any
	 * depth, and not NAME itself.  name holds NAME, without the "*.".
	 */
	bool wildcard;
	struct addr addr;   /* ENTRY_CIDR */
	uint8_t prefixlen;  /* ENTRY_CIDR: 0..32 or 0..128 */
	uint16_t port;      /* 0 = every port */
	/*
	 * ENTRY_DOMAIN: the name, lowercased, without a trailing dot.
	 * ENTRY_CIDR: the domain it was resolved from, or "" if typed in.
	 */
	char name[NAME_MAX_LEN + 1];
};

/*
 * Parse one entry:
 *   198.51.100.7   198.51.100.0/24   198.51.100.7:443   198.51.100.0/24:443
 *   2001:db8::1    2001:db8::/32     [2001:db8::1]:443  [2001:db8::/32]:443
 *   example.com    example.com:443   example.com.
 *   *.example.com  *.example.com:443 (a wildcard: only a whole first label)
 * A bare address becomes /32 or /128.  IPv4-mapped IPv6 becomes IPv4.
 * Returns 0, or -EINVAL with a message naming the bad value in err.
 */
int entry_parse(const char *text, struct entry *out, char *err, size_t errlen);

/*
 * Validate a domain name: LDH labels of 1..63, 253 characters at most, an
 * optional trailing dot, punycode for IDNs, no wildcards (only entry_parse()
 * takes "*.NAME").  0 or -EINVAL.
 */
int name_validate(const char *name, char *err, size_t errlen);

/* Canonical text of an entry, as entry_parse() would accept it back. */
const char *entry_format(const struct entry *e, char *buf, size_t len);

/* Longest entry_format() output, with NUL. */
#define ENTRY_STRLEN (NAME_MAX_LEN + 16)

#endif
