/* SPDX-License-Identifier: GPL-2.0-only */
/* The resolvers the workload may send DNS to, and egressd resolves with. */
#ifndef EGRESSD_RESOLVCONF_H
#define EGRESSD_RESOLVCONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/types.h>

#include "addr.h"
#include "egressd.h"

#define MAX_RESOLVERS EGRESS_MAX_RESOLVERS
#define DNS_PORT 53

struct resolver {
	struct addr addr;
	uint16_t port; /* host byte order */
};

/*
 * "ADDR", "ADDR:PORT", "IPV6", "[IPV6]" or "[IPV6]:PORT".  Port defaults
 * to 53.  0 or -EINVAL with the bad value named in err.
 */
int resolver_parse(const char *text, struct resolver *out, char *err, size_t errlen);

/* "198.51.100.1:53" / "[2001:db8::1]:53" */
const char *resolver_format(const struct resolver *r, char *buf, size_t len);

/*
 * Read "nameserver ADDR" lines (other keywords ignored, '#' and ';'
 * comments).  A scoped IPv6 (fe80::1%eth0) or malformed address is an
 * error naming path:line.  No nameserver at all is an error too: with
 * isolation on there would be no way to resolve anything.
 * Up to max resolvers are returned in out, count in *n.
 */
int resolvconf_parse(FILE *f, const char *path, struct resolver *out, size_t max,
		     size_t *n, char *err, size_t errlen);

#endif
