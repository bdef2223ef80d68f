/* SPDX-License-Identifier: GPL-2.0-only */
/* Resolve every allowed name at once, with c-ares, failing closed. */
#ifndef EGRESSD_DNS_H
#define EGRESSD_DNS_H

#include <stddef.h>

#include "addr.h"
#include "entry.h"
#include "resolvconf.h"

struct dns_opts {
	int timeout_ms; /* per try */
	int tries;
};

struct dns_answer {
	char name[NAME_MAX_LEN + 1];
	struct addr *addrs; /* A and AAAA at the end of any CNAME chain */
	size_t naddrs;
	int ok;             /* 1 when the name resolved to >= 1 address */
	char reason[128];   /* when !ok: "NXDOMAIN", "SERVFAIL", "timeout", ... */
};

/*
 * Send A and AAAA for every name concurrently to the given servers.
 * Returns 0 when every name has at least one address, -ENOENT when any
 * failed (each failure's reason is in its answer), another -errno when
 * resolution could not run at all.  *out (n answers, same order as names)
 * is set in both of the first two cases; free it with dns_answers_free().
 */
int dns_resolve_all(const char *const *names, size_t n, const struct resolver *servers,
		    size_t nservers, const struct dns_opts *opts, struct dns_answer **out);

void dns_answers_free(struct dns_answer *a, size_t n);

#endif
