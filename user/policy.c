// SPDX-License-Identifier: GPL-2.0-only
/*
 * The allowlist: collect entries from lists and files, then compile them
 * into one LPM rule per prefix that already carries every covering entry.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define ERR_LEN 1024

/* Messages nest other messages; truncation is fine, so no -Wformat-truncation. */
static void __attribute__((format(printf, 3, 4)))
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void policy_init(struct policy *p)
{
	p->entries = NULL;
	p->n = 0;
	p->cap = 0;
}

void policy_free(struct policy *p)
{
	free(p->entries);
	policy_init(p);
}

static bool entry_same(const struct entry *a, const struct entry *b)
{
	if (a->kind != b->kind || a->port != b->port || strcmp(a->name, b->name))
		return false;
	if (a->kind == ENTRY_DOMAIN)
		return true;
	return a->prefixlen == b->prefixlen && addr_equal(&a->addr, &b->addr);
}

int policy_add(struct policy *p, const struct entry *e)
{
	struct entry *ne;
	size_t i, cap;

	for (i = 0; i < p->n; i++)
		if (entry_same(&p->entries[i], e))
			return 0;

	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 16;
		if (cap < p->cap || cap > SIZE_MAX / sizeof(*ne))
			return -ENOMEM;
		ne = realloc(p->entries, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		p->entries = ne;
		p->cap = cap;
	}
	p->entries[p->n++] = *e;
	return 0;
}

/* Move every entry of src into p, all or nothing. */
static int policy_merge(struct policy *p, const struct policy *src, char *err,
			size_t errlen)
{
	size_t i, n0 = p->n;
	int ret;

	for (i = 0; i < src->n; i++) {
		ret = policy_add(p, &src->entries[i]);
		if (ret) {
			/* policy_add only appends, so truncating undoes it. */
			p->n = n0;
			errf(err, errlen, "out of memory adding allowlist entries");
			return ret;
		}
	}
	return 0;
}

static bool is_sep(char c)
{
	return c == ',' || c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * Parse the items of one list or one line into tmp.  where is "" for a
 * list and "path:line: " for a file.
 */
static int add_items(struct policy *tmp, const char *s, const char *where, char *err,
		     size_t errlen)
{
	char eerr[ERR_LEN];
	bool after_comma = false;
	size_t item = 0;
	struct entry e;
	char *tok;
	int ret;

	for (;;) {
		const char *start;

		while (*s && is_sep(*s) && *s != ',')
			s++;
		if (!*s && !after_comma)
			return 0;
		if (!*s || *s == ',') {
			if (after_comma || item == 0) {
				errf(err, errlen,
				     "%s%sitem %zu is empty (doubled, leading or trailing comma?)",
				     where, *where ? "" : "list ", item + 1);
				return -EINVAL;
			}
			after_comma = true;
			s++;
			continue;
		}

		start = s;
		while (*s && !is_sep(*s))
			s++;
		item++;
		after_comma = false;

		tok = strndup(start, s - start);
		if (!tok) {
			errf(err, errlen, "%sout of memory", where);
			return -ENOMEM;
		}
		ret = entry_parse(tok, &e, eerr, sizeof(eerr));
		free(tok);
		if (ret) {
			if (*where)
				errf(err, errlen, "%s%s", where, eerr);
			else
				errf(err, errlen, "list item %zu: %s", item, eerr);
			return ret;
		}
		ret = policy_add(tmp, &e);
		if (ret) {
			errf(err, errlen, "%sout of memory", where);
			return ret;
		}
	}
}

int policy_add_list(struct policy *p, const char *list, char *err, size_t errlen)
{
	char lerr[ERR_LEN] = "";
	struct policy tmp;
	int ret;

	policy_init(&tmp);
	ret = add_items(&tmp, list ? list : "", "", lerr, sizeof(lerr));
	if (ret) {
		errf(err, errlen, "%s", lerr);
		goto out;
	}
	ret = policy_merge(p, &tmp, err, errlen);
out:
	policy_free(&tmp);
	return ret;
}

int policy_add_file(struct policy *p, const char *path, char *err, size_t errlen)
{
	char lerr[ERR_LEN] = "", where[512];
	struct policy tmp;
	size_t cap = 0, lineno = 0;
	char *line = NULL, *hash;
	FILE *f;
	int ret = 0;

	policy_init(&tmp);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		errf(lerr, sizeof(lerr), "cannot open \"%s\": %s", path, strerror(-ret));
		goto out;
	}
	for (;;) {
		errno = 0;
		if (getline(&line, &cap, f) < 0) {
			if (ferror(f)) {
				ret = errno ? -errno : -EIO;
				errf(lerr, sizeof(lerr), "cannot read \"%s\": %s", path,
				     strerror(-ret));
			}
			break;
		}
		lineno++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		errf(where, sizeof(where), "%s:%zu: ", path, lineno);
		ret = add_items(&tmp, line, where, lerr, sizeof(lerr));
		if (ret)
			break;
	}
	if (!ret)
		ret = policy_merge(p, &tmp, lerr, sizeof(lerr));
out:
	if (ret)
		errf(err, errlen, "%s", lerr);
	free(line);
	if (f)
		fclose(f);
	policy_free(&tmp);
	return ret;
}

size_t policy_count(const struct policy *p, enum entry_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		if (p->entries[i].kind == kind)
			n++;
	return n;
}

static void addr_mask(struct addr *a, unsigned int prefixlen)
{
	unsigned int i, bits = addr_len(a) * 8;

	for (i = prefixlen; i < bits; i++)
		a->bytes[i / 8] &= ~(0x80 >> (i % 8));
}

static int rule_cmp(const void *pa, const void *pb)
{
	const struct rule *a = pa, *b = pb;
	int c;

	if (a->addr.family != b->addr.family)
		return a->addr.family == AF_INET ? -1 : 1;
	c = memcmp(a->addr.bytes, b->addr.bytes, addr_len(&a->addr));
	if (c)
		return c;
	return (int)a->prefixlen - (int)b->prefixlen;
}

/* Insert port into the sorted set; false when the set is already full. */
static bool port_set_add(uint16_t *set, uint16_t *n, uint16_t port)
{
	uint16_t i, j;

	for (i = 0; i < *n && set[i] < port; i++)
		;
	if (i < *n && set[i] == port)
		return true;
	if (*n == EGRESS_MAX_PORTS)
		return false;
	for (j = *n; j > i; j--)
		set[j] = set[j - 1];
	set[i] = port;
	(*n)++;
	return true;
}

/* Union of every entry covering r's prefix.  0 or -EINVAL (too many ports). */
static int rule_fill(struct rule *r, const struct policy *p)
{
	bool too_many = false;
	size_t i;

	r->flags = 0;
	r->nports = 0;
	for (i = 0; i < p->n; i++) {
		const struct entry *e = &p->entries[i];

		if (!addr_prefix_covers(&e->addr, e->prefixlen, &r->addr, r->prefixlen))
			continue;
		if (!e->port) {
			r->flags = EGRESS_RULE_ALL_PORTS;
			r->nports = 0;
			memset(r->ports, 0, sizeof(r->ports));
			return 0;
		}
		if (!port_set_add(r->ports, &r->nports, e->port))
			too_many = true;
	}
	return too_many ? -EINVAL : 0;
}

int policy_compile(const struct policy *p, struct rule **out, size_t *nout,
		   char *err, size_t errlen)
{
	char a[ADDR_STRLEN];
	struct rule *rules;
	size_t i, j, nr = 0;
	int ret;

	for (i = 0; i < p->n; i++) {
		if (p->entries[i].kind == ENTRY_DOMAIN) {
			errf(err, errlen,
			     "unresolved domain \"%s\" (resolve names before compiling)",
			     p->entries[i].name);
			return -EINVAL;
		}
	}

	rules = calloc(p->n ? p->n : 1, sizeof(*rules));
	if (!rules) {
		ret = -ENOMEM;
		errf(err, errlen, "out of memory compiling the allowlist");
		goto err;
	}

	/* One rule per distinct prefix, named after its first named entry. */
	for (i = 0; i < p->n; i++) {
		const struct entry *e = &p->entries[i];

		for (j = 0; j < nr; j++) {
			struct rule *r = &rules[j];

			if (r->prefixlen == e->prefixlen &&
			    addr_prefix_covers(&r->addr, r->prefixlen, &e->addr, e->prefixlen))
				break;
		}
		if (j == nr) {
			/* Only addr_len() bytes are meaningful; zero the rest. */
			rules[nr].addr.family = e->addr.family;
			memcpy(rules[nr].addr.bytes, e->addr.bytes, addr_len(&e->addr));
			addr_mask(&rules[nr].addr, e->prefixlen);
			rules[nr].prefixlen = e->prefixlen;
			nr++;
		}
		if (!rules[j].name[0] && e->name[0])
			memcpy(rules[j].name, e->name, sizeof(rules[j].name));
	}

	for (j = 0; j < nr; j++) {
		ret = rule_fill(&rules[j], p);
		if (ret) {
			errf(err, errlen,
			     "%s/%u: more than %d distinct ports (its own and those of every prefix covering it)",
			     addr_format(&rules[j].addr, a, sizeof(a)),
			     rules[j].prefixlen, EGRESS_MAX_PORTS);
			goto err;
		}
	}

	qsort(rules, nr, sizeof(*rules), rule_cmp);
	*out = rules;
	*nout = nr;
	return 0;
err:
	free(rules);
	return ret;
}

bool rule_allows_port(const struct rule *r, uint16_t port)
{
	uint16_t i;

	if (r->flags & EGRESS_RULE_ALL_PORTS)
		return true;
	if (!port)
		return false;
	for (i = 0; i < r->nports && i < EGRESS_MAX_PORTS; i++)
		if (r->ports[i] == port)
			return true;
	return false;
}
