/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which allowlist domain entries a DNS query name matches: the exact name
 * and "*.SUFFIX" wildcards, with the union of their ports.  The DNS proxy
 * asks this before it forwards a query.  Pure code, no I/O.
 */
#ifndef EGRESSD_NAMEMATCH_H
#define EGRESSD_NAMEMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "egressd.h"
#include "entry.h"

/* A set of ports as one BPF rule holds it: every port, or a short list. */
struct portset {
	bool all;                         /* every port; ports[] unused */
	uint16_t n;
	uint16_t ports[EGRESS_MAX_PORTS]; /* sorted, unique, none 0 */
};

/*
 * Add one entry's port to s (0 = every port).  0, or -E2BIG (s untouched)
 * when it would hold more than EGRESS_MAX_PORTS ports.
 */
int portset_add(struct portset *s, uint16_t port);

/* Add every port of b to a.  0 or -E2BIG (a untouched). */
int portset_union(struct portset *a, const struct portset *b);

bool portset_equal(const struct portset *a, const struct portset *b);

struct namematch_hit {
	bool exact;           /* an entry names the query name itself */
	bool wildcard;        /* a "*.SUFFIX" entry covers it */
	struct portset ports; /* union over every matching entry */
};

struct namematch; /* opaque */

/*
 * Index the ENTRY_DOMAIN entries of entries[0..n) (others are skipped).
 * The same name given several times (as exact, or as the same wildcard)
 * is merged; more than EGRESS_MAX_PORTS ports on one is -E2BIG naming it
 * in err.  O(n log n).  -ENOMEM.  *out is set only on success; free it
 * with namematch_free().
 */
int namematch_build(const struct entry *entries, size_t n, struct namematch **out,
		    char *err, size_t errlen);

void namematch_free(struct namematch *m); /* accepts NULL */

/*
 * Match qname, in any case, with or without a trailing dot.  "*.a.com"
 * matches every name below a.com at any depth, never a.com itself.  A
 * name that is not one a query may carry (empty label, a label over 63,
 * over 253 characters, a byte other than letters, digits, '-' and '_')
 * matches nothing.  0 with *out set; -ENOENT: no entry matches;
 * -E2BIG: the matching entries name more than EGRESS_MAX_PORTS ports
 * between them (refuse the query: no rule could hold them).
 * O(labels * log n).
 */
int namematch_lookup(const struct namematch *m, const char *qname,
		     struct namematch_hit *out);

/* Distinct (name, wildcard) keys indexed. */
size_t namematch_count(const struct namematch *m);

#endif
