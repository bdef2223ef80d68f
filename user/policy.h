/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The allowlist: entries collected from --allow-domains and --allow-file,
 * and their compilation into the rules the LPM tries hold.
 */
#ifndef EGRESSD_POLICY_H
#define EGRESSD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "egressd.h"
#include "entry.h"

/*
 * Callers may read entries, and may lower n to undo their latest
 * policy_add() calls (ghmeta does); entries are added only through
 * policy_add().
 */
struct policy {
	struct entry *entries;
	size_t n, cap;
	/*
	 * policy_add()'s duplicate index, private to policy.c: hash chains
	 * of entry index + 1 (0 ends a chain), nbucket heads and one link
	 * per entry (cap of them), covering the first nindexed entries.
	 */
	size_t *bucket, *next;
	size_t nbucket, nindexed;
};

void policy_init(struct policy *p);
void policy_free(struct policy *p); /* accepts an initialised empty policy */

/* Append one entry; an exact duplicate is merged.  0 or -ENOMEM.  O(1) amortized. */
int policy_add(struct policy *p, const struct entry *e);

/*
 * Entries separated by commas and/or whitespace.  "" and all-blank are an
 * empty list (isolation on, nothing allowed); an empty entry between
 * separators ("a,,b", "a,") is an error.  On error nothing is added.
 */
int policy_add_list(struct policy *p, const char *list, char *err, size_t errlen);

/* The most policy_add_file() reads, counted as read (pipes and devices too). */
#define POLICY_FILE_MAX (64u << 20)
/* The longest line policy_add_file() takes, in bytes, without the newline. */
#define POLICY_LINE_MAX 4096

/*
 * One entry per line; '#' starts a comment; blank lines are skipped.
 * Errors name "path:line".  More than POLICY_FILE_MAX bytes (-EFBIG), a
 * line longer than POLICY_LINE_MAX (-EINVAL) and a NUL byte (-EINVAL) are
 * errors, so /dev/zero or an endless pipe fails at once in bounded memory.
 * On error nothing is added.
 */
int policy_add_file(struct policy *p, const char *path, char *err, size_t errlen);

/* Count entries of one kind. */
size_t policy_count(const struct policy *p, enum entry_kind kind);

/* One LPM trie element, ready for the map. */
struct rule {
	struct addr addr;
	uint8_t prefixlen;
	uint16_t flags; /* EGRESS_RULE_ALL_PORTS */
	uint16_t nports;
	uint16_t ports[EGRESS_MAX_PORTS]; /* sorted, unique */
	char name[NAME_MAX_LEN + 1];      /* a domain it came from, or "" */
};

/*
 * Compile the CIDR entries (domains must be resolved first; a remaining
 * ENTRY_DOMAIN, or a prefix longer than its family's address, is an
 * error) into one rule per distinct prefix.  Each rule
 * carries the union of every entry that covers its prefix, so the single
 * longest-prefix match answers "does any entry allow this address:port".
 * Rules come out sorted: IPv4 first, then by address and prefix length.
 * More than EGRESS_MAX_PORTS ports on one prefix is an error naming it
 * (the first such prefix in input order).  O(n log n) in the entries.
 * *out is malloc'd; set only on success.
 */
int policy_compile(const struct policy *p, struct rule **out, size_t *nout,
		   char *err, size_t errlen);

/*
 * Is r a whole address (/32 or /128)?  Those go to the exact hash maps,
 * every shorter prefix to the LPM tries (loader.c, bpf allow_lookup()).
 */
bool rule_is_exact(const struct rule *r);

/* Does this rule allow this port?  port 0 means "no port to read". */
bool rule_allows_port(const struct rule *r, uint16_t port);

#endif
