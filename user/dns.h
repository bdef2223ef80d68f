/* SPDX-License-Identifier: GPL-2.0-only */
/* Resolve every allowed name, a bounded window at a time, with c-ares, failing closed. */
#ifndef EGRESSD_DNS_H
#define EGRESSD_DNS_H

#include <stddef.h>

#include "addr.h"
#include "entry.h"
#include "resolvconf.h"

/*
 * At most this many queries (A and AAAA count one each) are in flight at
 * once.  A burst of every name's queries overflowed the lab dnsmasq's
 * socket buffer after ~256 (issue 7), and real resolvers bound it too:
 * dnsmasq, the usual local forwarder, handles at most 150 concurrent
 * forwarded queries by default (--dns-forward-max) and drops the rest.
 * 64 leaves room for the host's other clients, and ~64 small datagrams
 * fit any receive buffer.  It costs no speed that matters: at 1 ms per
 * answer, 64 in flight resolve 2,000 names in ~60 ms.
 */
#define DNS_MAX_INFLIGHT 64

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
 * Ask the given servers for every name's A and AAAA, DNS_MAX_INFLIGHT
 * queries at a time (the next name starts as soon as a query ends), each
 * retried by c-ares per opts.  Returns 0 when every name has at least one address, -ENOENT when any
 * failed (each failure's reason is in its answer), another -errno when
 * resolution could not run at all.  *out (n answers, same order as names)
 * is set in both of the first two cases; free it with dns_answers_free().
 */
int dns_resolve_all(const char *const *names, size_t n, const struct resolver *servers,
		    size_t nservers, const struct dns_opts *opts, struct dns_answer **out);

void dns_answers_free(struct dns_answer *a, size_t n);

#endif
