// SPDX-License-Identifier: GPL-2.0-only
/*
 * The allowlist: collect entries from lists and files, then compile them
 * into one LPM rule per prefix that already carries every covering entry.
 * Nothing here is quadratic: a hash index finds duplicate entries, and one
 * sweep over the sorted prefixes computes every rule (100k entries must
 * start in well under a second).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "policy.h"
#include "text.h"

#define ERR_LEN 1024

void policy_init(struct policy *p)
{
	p->entries = NULL;
	p->n = 0;
	p->cap = 0;
	p->bucket = NULL;
	p->next = NULL;
	p->nbucket = 0;
	p->nindexed = 0;
}

void policy_free(struct policy *p)
{
	free(p->entries);
	free(p->bucket);
	free(p->next);
	policy_init(p);
}

static bool entry_same(const struct entry *a, const struct entry *b)
{
	if (a->kind != b->kind || a->port != b->port || strcmp(a->name, b->name))
		return false;
	if (a->kind == ENTRY_DOMAIN)
		return a->wildcard == b->wildcard;
	return a->prefixlen == b->prefixlen && addr_equal(&a->addr, &b->addr);
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *b = data;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * Hash exactly what entry_same() compares.  Unseeded: entries come from
 * the operator's own lists and bounded resolver and GitHub answers, so
 * nobody gets to pick colliding entries by the thousand.
 */
static uint64_t entry_hash(const struct entry *e)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t kind = e->kind;

	h = fnv1a(h, &kind, sizeof(kind));
	h = fnv1a(h, &e->port, sizeof(e->port));
	h = fnv1a(h, e->name, strlen(e->name));
	if (e->kind == ENTRY_DOMAIN) {
		uint8_t wild = e->wildcard;

		h = fnv1a(h, &wild, sizeof(wild));
	} else {
		uint8_t fam = e->addr.family == AF_INET ? 4 : 6;

		h = fnv1a(h, &fam, sizeof(fam));
		h = fnv1a(h, &e->prefixlen, sizeof(e->prefixlen));
		h = fnv1a(h, e->addr.bytes, addr_len(&e->addr));
	}
	/* FNV's low bits are weak and the bucket is the low bits: mix. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static void index_insert(struct policy *p, size_t i)
{
	size_t b = entry_hash(&p->entries[i]) & (p->nbucket - 1);

	p->next[i] = p->bucket[b];
	p->bucket[b] = i + 1;
}

/* Index the first n entries from scratch.  Allocates nothing. */
static void index_rebuild(struct policy *p)
{
	size_t i;

	if (!p->nbucket)
		return;
	memset(p->bucket, 0, p->nbucket * sizeof(*p->bucket));
	for (i = 0; i < p->n; i++)
		index_insert(p, i);
	p->nindexed = p->n;
}

static bool index_contains(const struct policy *p, const struct entry *e)
{
	size_t k;

	if (!p->nbucket)
		return false;
	for (k = p->bucket[entry_hash(e) & (p->nbucket - 1)]; k; k = p->next[k - 1])
		if (entry_same(&p->entries[k - 1], e))
			return true;
	return false;
}

/*
 * Room for at least want entries.  The bucket array grows with the entry
 * array (one bucket per slot), so chains stay short.  0 or -ENOMEM, and
 * on -ENOMEM the policy is as it was.
 */
static int policy_reserve(struct policy *p, size_t want)
{
	size_t cap = p->cap ? p->cap : 16, *bucket, *next;
	struct entry *ne;

	if (want <= p->cap)
		return 0;
	while (cap < want) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	if (cap > SIZE_MAX / sizeof(*ne))
		return -ENOMEM;

	bucket = calloc(cap, sizeof(*bucket));
	if (!bucket)
		return -ENOMEM;
	/* A realloc that succeeds before a later one fails is harmless: cap is unchanged. */
	ne = realloc(p->entries, cap * sizeof(*ne));
	if (!ne)
		goto nomem;
	p->entries = ne;
	next = realloc(p->next, cap * sizeof(*next));
	if (!next)
		goto nomem;
	p->next = next;

	free(p->bucket);
	p->bucket = bucket;
	p->nbucket = cap;
	p->cap = cap;
	index_rebuild(p);
	return 0;
nomem:
	free(bucket);
	return -ENOMEM;
}

int policy_add(struct policy *p, const struct entry *e)
{
	int ret;

	/* n went down since the last add (a caller undid adds): re-index. */
	if (p->nindexed != p->n)
		index_rebuild(p);
	if (index_contains(p, e))
		return 0;
	ret = policy_reserve(p, p->n + 1);
	if (ret)
		return ret;
	p->entries[p->n] = *e;
	index_insert(p, p->n);
	p->n++;
	p->nindexed = p->n;
	return 0;
}

/*
 * Move every entry of src into p, all or nothing: room for all of them
 * is made first, after which policy_add() cannot fail.
 */
static int policy_merge(struct policy *p, const struct policy *src, char *err,
			size_t errlen)
{
	size_t i, n0 = p->n;
	int ret;

	if (src->n > SIZE_MAX - p->n)
		ret = -ENOMEM;
	else
		ret = policy_reserve(p, p->n + src->n);
	for (i = 0; !ret && i < src->n; i++)
		ret = policy_add(p, &src->entries[i]);
	if (ret) {
		/* Only reachable without the room; policy_add only appends. */
		p->n = n0;
		index_rebuild(p);
		text_errf(err, errlen, "out of memory adding allowlist entries");
	}
	return ret;
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
				text_errf(err, errlen,
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
			text_errf(err, errlen, "%sout of memory", where);
			return -ENOMEM;
		}
		ret = entry_parse(tok, &e, eerr, sizeof(eerr));
		free(tok);
		if (ret) {
			if (*where)
				text_errf(err, errlen, "%s%s", where, eerr);
			else
				text_errf(err, errlen, "list item %zu: %s", item, eerr);
			return ret;
		}
		ret = policy_add(tmp, &e);
		if (ret) {
			text_errf(err, errlen, "%sout of memory", where);
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
		text_errf(err, errlen, "%s", lerr);
		goto out;
	}
	ret = policy_merge(p, &tmp, err, errlen);
out:
	policy_free(&tmp);
	return ret;
}

/* One line of an allow file, NUL-terminated, without its newline. */
static int add_line(struct policy *tmp, char *line, const char *path, size_t lineno,
		    char *err, size_t errlen)
{
	char where[512], *hash;

	hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	text_errf(where, sizeof(where), "%s:%zu: ", path, lineno);
	return add_items(tmp, line, where, err, errlen);
}

static int file_too_big(const char *path, char *err, size_t errlen)
{
	text_errf(err, errlen, "\"%s\": larger than %u MiB, the most an allow file may hold", path,
	     POLICY_FILE_MAX >> 20);
	return -EFBIG;
}

/*
 * The file is read in chunks into a fixed line buffer, never with
 * getline(): a file with no newline (/dev/zero) would grow getline()'s
 * buffer until the OOM killer came.  Bytes are counted as they arrive,
 * since a pipe or a device has no size to check first.
 */
int policy_add_file(struct policy *p, const char *path, char *err, size_t errlen)
{
	char lerr[ERR_LEN] = "", buf[16384], line[POLICY_LINE_MAX + 1];
	size_t len = 0, lineno = 1, total = 0;
	struct policy tmp;
	struct stat st;
	ssize_t got, i;
	int fd, ret = 0;

	policy_init(&tmp);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		text_errf(lerr, sizeof(lerr), "cannot open \"%s\": %s", path, strerror(-ret));
		goto cleanup;
	}
	/* A regular file can fail before anything is parsed. */
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > POLICY_FILE_MAX) {
		ret = file_too_big(path, lerr, sizeof(lerr));
		goto cleanup;
	}

	for (;;) {
		got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = -errno;
			text_errf(lerr, sizeof(lerr), "cannot read \"%s\": %s", path,
			     strerror(-ret));
			goto cleanup;
		}
		if (!got)
			break;
		if ((size_t)got > POLICY_FILE_MAX - total) {
			ret = file_too_big(path, lerr, sizeof(lerr));
			goto cleanup;
		}
		total += got;

		for (i = 0; i < got; i++) {
			char c = buf[i];

			if (c == '\n') {
				line[len] = '\0';
				ret = add_line(&tmp, line, path, lineno, lerr, sizeof(lerr));
				if (ret)
					goto cleanup;
				len = 0;
				lineno++;
				continue;
			}
			/* It would end the line for every str*() below, silently. */
			if (c == '\0') {
				ret = -EINVAL;
				text_errf(lerr, sizeof(lerr),
				     "%s:%zu: NUL byte at column %zu (not a text file?)", path,
				     lineno, len + 1);
				goto cleanup;
			}
			if (len == POLICY_LINE_MAX) {
				ret = -EINVAL;
				text_errf(lerr, sizeof(lerr), "%s:%zu: line longer than %d bytes", path,
				     lineno, POLICY_LINE_MAX);
				goto cleanup;
			}
			line[len++] = c;
		}
	}
	if (len) {
		/* The last line has no newline. */
		line[len] = '\0';
		ret = add_line(&tmp, line, path, lineno, lerr, sizeof(lerr));
		if (ret)
			goto cleanup;
	}
	ret = policy_merge(p, &tmp, lerr, sizeof(lerr));
cleanup:
	if (ret)
		text_errf(err, errlen, "%s", lerr);
	if (fd >= 0)
		close(fd);
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

/* An entry's prefix, masked, and where the entry stands in the input. */
struct prefix_key {
	struct addr addr; /* host bits and bytes past addr_len() zero */
	uint8_t prefixlen;
	size_t idx;
};

/*
 * IPv4 first, then address, prefix length, input order: the rule order,
 * and a pre-order walk of the prefix tree (a prefix comes right before
 * everything it covers), with each prefix's entries in input order.
 */
static int key_cmp(const void *pa, const void *pb)
{
	const struct prefix_key *a = pa, *b = pb;
	int c;

	if (a->addr.family != b->addr.family)
		return a->addr.family == AF_INET ? -1 : 1;
	c = memcmp(a->addr.bytes, b->addr.bytes, addr_len(&a->addr));
	if (c)
		return c;
	if (a->prefixlen != b->prefixlen)
		return (int)a->prefixlen - (int)b->prefixlen;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static bool key_same_prefix(const struct prefix_key *a, const struct prefix_key *b)
{
	return a->prefixlen == b->prefixlen && addr_equal(&a->addr, &b->addr);
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

/* A rule on the stack of open prefixes, and whether its ports overflowed. */
struct open_prefix {
	const struct rule *r;
	bool too_many;
};

/*
 * Covering prefixes are nested and strictly longer down the stack, and
 * never of two families: at most 129 (/0 to /128) are open at once.
 */
#define OPEN_MAX 129

static int check_entries(const struct policy *p, char *err, size_t errlen)
{
	char a[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct entry *e = &p->entries[i];

		if (e->kind == ENTRY_DOMAIN) {
			text_errf(err, errlen,
			     "unresolved domain \"%s\" (resolve names before compiling)",
			     e->name);
			return -EINVAL;
		}
		if ((e->addr.family != AF_INET && e->addr.family != AF_INET6) ||
		    e->prefixlen > addr_len(&e->addr) * 8) {
			text_errf(err, errlen, "invalid prefix %s/%u (family %d)",
			     addr_format(&e->addr, a, sizeof(a)), e->prefixlen, e->addr.family);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * One sweep over the sorted entries.  Each run of equal prefixes becomes
 * one rule; the stack holds the open prefixes that cover it, so its union
 * is its own entries plus the innermost covering rule's union, which
 * already holds everything covering that.
 */
int policy_compile(const struct policy *p, struct rule **out, size_t *nout,
		   char *err, size_t errlen)
{
	struct open_prefix open[OPEN_MAX];
	struct prefix_key *keys = NULL;
	struct rule *rules = NULL;
	size_t i, end, nr = 0, nopen = 0, bad = 0, bad_idx = SIZE_MAX;
	char a[ADDR_STRLEN];
	int ret;

	ret = check_entries(p, err, errlen);
	if (ret)
		return ret;

	keys = calloc(p->n ? p->n : 1, sizeof(*keys));
	if (!keys) {
		ret = -ENOMEM;
		text_errf(err, errlen, "out of memory compiling the allowlist");
		goto cleanup;
	}
	for (i = 0; i < p->n; i++) {
		const struct entry *e = &p->entries[i];

		keys[i].addr.family = e->addr.family;
		memcpy(keys[i].addr.bytes, e->addr.bytes, addr_len(&e->addr));
		addr_mask(&keys[i].addr, e->prefixlen);
		keys[i].prefixlen = e->prefixlen;
		keys[i].idx = i;
	}
	qsort(keys, p->n, sizeof(*keys), key_cmp);
	for (i = 0; i < p->n; i++)
		if (!i || !key_same_prefix(&keys[i - 1], &keys[i]))
			nr++;

	rules = calloc(nr ? nr : 1, sizeof(*rules));
	if (!rules) {
		ret = -ENOMEM;
		text_errf(err, errlen, "out of memory compiling the allowlist");
		goto cleanup;
	}

	for (i = 0, nr = 0; i < p->n; i = end, nr++) {
		struct rule *r = &rules[nr];
		bool too_many = false;
		uint16_t k;

		r->addr = keys[i].addr;
		r->prefixlen = keys[i].prefixlen;
		for (end = i; end < p->n && key_same_prefix(&keys[end], &keys[i]); end++) {
			const struct entry *e = &p->entries[keys[end].idx];

			/* Named after its first named entry. */
			if (!r->name[0] && e->name[0])
				memcpy(r->name, e->name, sizeof(r->name));
			if (!e->port)
				r->flags = EGRESS_RULE_ALL_PORTS;
			else if (!port_set_add(r->ports, &r->nports, e->port))
				too_many = true;
		}

		while (nopen && !addr_prefix_covers(&open[nopen - 1].r->addr,
						    open[nopen - 1].r->prefixlen, &r->addr,
						    r->prefixlen))
			nopen--;
		if (nopen) {
			const struct rule *up = open[nopen - 1].r;

			if (up->flags & EGRESS_RULE_ALL_PORTS)
				r->flags = EGRESS_RULE_ALL_PORTS;
			too_many |= open[nopen - 1].too_many;
			for (k = 0; k < up->nports; k++)
				if (!port_set_add(r->ports, &r->nports, up->ports[k]))
					too_many = true;
		}
		/* Every port wins over any list, even one too long. */
		if (r->flags & EGRESS_RULE_ALL_PORTS) {
			r->nports = 0;
			memset(r->ports, 0, sizeof(r->ports));
			too_many = false;
		}
		/* Report the prefix that comes first in the input. */
		if (too_many && keys[i].idx < bad_idx) {
			bad_idx = keys[i].idx;
			bad = nr;
		}

		if (nopen == OPEN_MAX) {
			ret = -EOVERFLOW;
			text_errf(err, errlen, "%s/%u: prefixes nested deeper than %d",
			     addr_format(&r->addr, a, sizeof(a)), r->prefixlen, OPEN_MAX);
			goto cleanup;
		}
		open[nopen].r = r;
		open[nopen].too_many = too_many;
		nopen++;
	}

	if (bad_idx != SIZE_MAX) {
		ret = -EINVAL;
		text_errf(err, errlen,
		     "%s/%u: more than %d distinct ports (its own and those of every prefix covering it)",
		     addr_format(&rules[bad].addr, a, sizeof(a)), rules[bad].prefixlen,
		     EGRESS_MAX_PORTS);
		goto cleanup;
	}

	*out = rules;
	*nout = nr;
	rules = NULL;
cleanup:
	free(keys);
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

bool rule_is_exact(const struct rule *r)
{
	return r->prefixlen == addr_len(&r->addr) * 8;
}
