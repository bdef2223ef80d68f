// SPDX-License-Identifier: GPL-2.0-only
/*
 * Domain entries as one sorted array of (name, wildcard) keys, each with
 * the union of its entries' ports.  A lookup is one binary search for the
 * exact name and one per proper suffix for wildcards.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "namematch.h"

#define LABEL_MAX_LEN 63

struct nm_key {
	char name[NAME_MAX_LEN + 1];
	bool wildcard;
	struct portset ports;
};

struct namematch {
	struct nm_key *keys;
	size_t n;
};

int portset_add(struct portset *s, uint16_t port)
{
	uint16_t i, at;

	if (s->all)
		return 0;
	if (port == 0) {
		s->all = true;
		s->n = 0;
		return 0;
	}
	for (at = 0; at < s->n && s->ports[at] < port; at++)
		;
	if (at < s->n && s->ports[at] == port)
		return 0;
	if (s->n == EGRESS_MAX_PORTS)
		return -E2BIG;
	for (i = s->n; i > at; i--)
		s->ports[i] = s->ports[i - 1];
	s->ports[at] = port;
	s->n++;
	return 0;
}

int portset_union(struct portset *a, const struct portset *b)
{
	struct portset t = *a;
	uint16_t i;

	if (b->all)
		return portset_add(a, 0);
	for (i = 0; i < b->n; i++)
		if (portset_add(&t, b->ports[i]))
			return -E2BIG;
	*a = t;
	return 0;
}

bool portset_equal(const struct portset *a, const struct portset *b)
{
	if (a->all || b->all)
		return a->all == b->all;
	return a->n == b->n && !memcmp(a->ports, b->ports, a->n * sizeof(a->ports[0]));
}

static int key_cmp_parts(const char *name, bool wildcard, const struct nm_key *k)
{
	int c = strcmp(name, k->name);

	if (c)
		return c;
	return (int)wildcard - (int)k->wildcard;
}

static int key_cmp(const void *a, const void *b)
{
	const struct nm_key *ka = a;

	return key_cmp_parts(ka->name, ka->wildcard, b);
}

int namematch_build(const struct entry *entries, size_t n, struct namematch **out,
		    char *err, size_t errlen)
{
	struct namematch *m;
	size_t i, u;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->keys = calloc(n ? n : 1, sizeof(*m->keys));
	if (!m->keys) {
		free(m);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct entry *e = &entries[i];
		struct nm_key *k;

		if (e->kind != ENTRY_DOMAIN)
			continue;
		k = &m->keys[m->n++];
		snprintf(k->name, sizeof(k->name), "%s", e->name);
		k->wildcard = e->wildcard;
		portset_add(&k->ports, e->port); /* one port always fits */
	}
	qsort(m->keys, m->n, sizeof(*m->keys), key_cmp);
	for (i = 1, u = m->n ? 1 : 0; i < m->n; i++) {
		struct nm_key *prev = &m->keys[u - 1];

		if (key_cmp(&m->keys[i], prev)) {
			m->keys[u++] = m->keys[i];
			continue;
		}
		if (portset_union(&prev->ports, &m->keys[i].ports)) {
			if (err && errlen)
				snprintf(err, errlen,
					 "domain \"%s%s\" is listed with more than %d ports",
					 prev->wildcard ? "*." : "", prev->name,
					 EGRESS_MAX_PORTS);
			namematch_free(m);
			return -E2BIG;
		}
	}
	m->n = u;
	*out = m;
	return 0;
}

void namematch_free(struct namematch *m)
{
	if (!m)
		return;
	free(m->keys);
	free(m);
}

size_t namematch_count(const struct namematch *m)
{
	return m->n;
}

static bool is_query_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Lowercase qname into buf without a trailing dot; -EINVAL for anything a
 * query name cannot be.  The root name (".", "") matches nothing either.
 */
static int normalize(const char *qname, char *buf)
{
	size_t len, i, llen = 0;

	if (!qname)
		return -EINVAL;
	len = strnlen(qname, NAME_MAX_LEN + 2);
	if (len && qname[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char c = qname[i];

		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (c == '.') {
			if (llen == 0)
				return -EINVAL;
			llen = 0;
		} else if (!is_query_char(c) || ++llen > LABEL_MAX_LEN) {
			return -EINVAL;
		}
		buf[i] = c;
	}
	if (llen == 0)
		return -EINVAL;
	buf[len] = '\0';
	return 0;
}

static const struct nm_key *find(const struct namematch *m, const char *name, bool wildcard)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp_parts(name, wildcard, &m->keys[mid]);

		if (c == 0)
			return &m->keys[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int namematch_lookup(const struct namematch *m, const char *qname,
		     struct namematch_hit *out)
{
	struct namematch_hit hit = { 0 };
	char name[NAME_MAX_LEN + 1];
	const struct nm_key *k;
	const char *p;

	if (normalize(qname, name))
		return -ENOENT;
	k = find(m, name, false);
	if (k) {
		hit.exact = true;
		hit.ports = k->ports;
	}
	/* Every proper suffix: "a.b.c" asks for wildcards "b.c" and "c". */
	for (p = strchr(name, '.'); p; p = strchr(p + 1, '.')) {
		k = find(m, p + 1, true);
		if (!k)
			continue;
		hit.wildcard = true;
		if (portset_union(&hit.ports, &k->ports))
			return -E2BIG;
	}
	if (!hit.exact && !hit.wildcard)
		return -ENOENT;
	*out = hit;
	return 0;
}
