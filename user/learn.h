/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The books of what the DNS proxy learned: which allowed name vouches for
 * which address, until when, on which ports.  Pure code: time comes in as
 * now_ms, and every change to the BPF allowlist goes out through
 * learn_ops, one call per address touched, so learning an address costs
 * one map update and never a rebuild.
 *
 * An address is allowed while at least one name vouches for it.  Its
 * value is the union of the ports of every name vouching for it and the
 * latest of their expiries.  A vouch lasts the answer's TTL clamped to
 * [min_ttl_s, max_ttl_s]; a new answer only ever extends it (a client may
 * still hold the earlier answer).
 */
#ifndef EGRESSD_LEARN_H
#define EGRESSD_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dnsmsg.h"
#include "namematch.h"

struct learn_config {
	uint32_t min_ttl_s;          /* default 60 */
	uint32_t max_ttl_s;          /* default 86400 */
	uint32_t max_ips_per_name;   /* default 64; a new one evicts the name's oldest */
	/*
	 * default 16; a new name evicts the address's oldest vouch.  Bounds
	 * the books when endless names under a wildcard share one address.
	 */
	uint32_t max_names_per_addr;
	uint32_t max_total;          /* distinct addresses, default 65536; then refuse */
	bool allow_private;          /* lift the rebinding guard entirely */
	uint64_t hash_seed;          /* from getrandom(); answers pick the addresses */
};

void learn_config_default(struct learn_config *c);

/* What the allowlist map should hold for one address. */
struct learn_value {
	struct portset ports;
	uint64_t expiry_ms; /* latest expiry among the names vouching for it */
};

/*
 * The map operations.  Each returns 0 or -errno.  A failed update leaves
 * the books as the map still is (the address is not learned, or keeps its
 * old value).  A failed remove keeps the address in the books, marked for
 * retry: learn_next_expiry() then says "now" and learn_sweep() tries
 * again, because until it succeeds the map allows more than the books.
 * remove returning -ENOENT counts as done.
 */
struct learn_ops {
	int (*update)(void *ctx, const struct addr *a, const struct learn_value *v);
	int (*remove)(void *ctx, const struct addr *a);
	void *ctx;
};

/* What learn_answer() did with each address, for the caller's log line. */
enum learn_verdict {
	LEARN_NEW = 0,         /* not learned before: added */
	LEARN_ADDED,           /* learned for another name; this one vouches too */
	LEARN_REFRESHED,       /* this name already vouched: expiry extended */
	LEARN_DROP_METADATA,   /* a cloud metadata address */
	LEARN_DROP_PRIVATE,    /* private/local, and the name matched only a wildcard */
	LEARN_DROP_NAME_FULL,  /* max_ips_per_name new addresses in this one answer */
	LEARN_DROP_TOTAL_FULL, /* max_total addresses learned */
	LEARN_DROP_PORTS,      /* the port union would exceed EGRESS_MAX_PORTS */
	LEARN_DROP_INVALID,    /* not an IPv4 or IPv6 address */
	LEARN_ERROR,           /* ops->update failed (or -ENOMEM) */
};

const char *learn_verdict_str(enum learn_verdict v);

/*
 * Addresses refused since learn_new(), for egressd status: the cap
 * (LEARN_DROP_TOTAL_FULL) and failed map updates (LEARN_ERROR).  Each is
 * an address some answer held that the workload cannot reach.
 */
struct learn_faults {
	uint64_t cap_refused;
	uint64_t map_errors;
};

static inline bool learn_verdict_dropped(enum learn_verdict v)
{
	return v >= LEARN_DROP_METADATA;
}

enum learn_class {
	LEARN_PUBLIC = 0,
	/*
	 * 0.0.0.0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12,
	 * 192.168/16, 224/3 (multicast, class E, broadcast); ::, ::1,
	 * fe80::/10, fec0::/10, fc00::/7, ff00::/8; and the same
	 * IPv4 ranges inside ::ffff:0:0/96, ::/96 and 64:ff9b::/96.
	 */
	LEARN_PRIVATE,
	/* 169.254.169.254 and fd00:ec2::254, in any of those forms. */
	LEARN_METADATA,
};

enum learn_class learn_classify(const struct addr *a);

struct learn; /* opaque */

void learn_get_faults(const struct learn *l, struct learn_faults *out);

/* -EINVAL (min_ttl_s > max_ttl_s, a limit of 0) or -ENOMEM. */
int learn_new(const struct learn_config *c, struct learn **out);
void learn_free(struct learn *l); /* accepts NULL; emits nothing */

/*
 * Learn addrs[0..n) from one answer for name (the query name; any case,
 * trailing dot or not).  exact_match: the allowlist names it, not only a
 * wildcard.  ports: the union namematch_lookup() gave; NULL = all ports.
 * The rebinding guard: a metadata address is never learned, and a private
 * one only for an exact match; allow_private lifts both.  IPv4-mapped
 * IPv6 is learned as the IPv4 it is, as the BPF side folds it.  When the
 * name already has max_ips_per_name addresses, its oldest (least recently
 * confirmed) from earlier answers is evicted.  verdicts (NULL or n
 * entries) says per address what happened.  0, or the first error of an
 * ops call (-EINVAL for a bad name or arguments, before anything
 * changes); the other addresses are still processed.
 */
int learn_answer(struct learn *l, const char *name, bool exact_match,
		 const struct portset *ports, const struct dnsmsg_addr *addrs, size_t n,
		 uint64_t now_ms, const struct learn_ops *ops, enum learn_verdict *verdicts);

/*
 * Drop every vouch due at now_ms (expiry <= now_ms), then emit, once per
 * address and in the order the first of its vouches fell due, a remove
 * (no name left) or an update (ports or expiry changed); retry failed
 * operations.  0 or the first error (the rest are still done).
 */
int learn_sweep(struct learn *l, uint64_t now_ms, const struct learn_ops *ops);

/* When learn_sweep() has work next: 0 = now (a retry).  -ENOENT: never. */
int learn_next_expiry(const struct learn *l, uint64_t *out_ms);

/*
 * The names vouching for a (mapped folded), most recently confirmed
 * first: up to max into names[], valid until the next learn_answer() or
 * learn_sweep().  Returns how many there are in all (0: not learned).
 */
size_t learn_names_of(const struct learn *l, const struct addr *a, const char **names,
		      size_t max);

/* What the map holds for a (as last emitted).  0 or -ENOENT. */
int learn_lookup(const struct learn *l, const struct addr *a, struct learn_value *out);

/* Addresses in the books (those awaiting a retried remove included). */
size_t learn_count(const struct learn *l);

/* One learned address as learn_list() reports it. */
struct learn_item {
	struct addr addr;         /* folded: IPv4 never mapped */
	struct learn_value value; /* what the map holds (as last emitted) */
	uint64_t seq;             /* when last confirmed by an answer: larger is newer */
};

/*
 * The addresses the map holds, most recently confirmed first (ties: later
 * expiry first): up to max into items[] (NULL with max 0 only counts).
 * For egressd status.  Returns how many there are in all.  O(n log n).
 * Names: learn_names_of().
 */
size_t learn_list(const struct learn *l, struct learn_item *items, size_t max);

#endif
