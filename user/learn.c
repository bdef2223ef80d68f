// SPDX-License-Identifier: GPL-2.0-only
/*
 * Learned addresses.  Three pools addressed by index (so realloc moves
 * nothing that is pointed to): addresses and names, each in a seeded hash,
 * and vouches, one per (name, address), linked into both and kept in a
 * min-heap by expiry.  Every limit is checked before anything changes, so
 * a refused address leaves the books and the map as they were.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "learn.h"

#define NIL UINT32_MAX
#define POOL_MIN 16

struct vouch {
	uint32_t name, addr;
	uint32_t nprev, nnext; /* the name's vouches; nnext links the free list */
	uint32_t aprev, anext; /* the address's vouches */
	uint32_t heap;         /* index in l->heap */
	uint64_t expiry_ms;
	uint64_t seq;          /* when last confirmed: larger is newer */
	struct portset ports;
};

struct laddr {
	struct addr a;     /* folded: IPv4 never mapped, unused bytes 0 */
	uint32_t hnext;    /* hash chain; free list */
	uint32_t tnext;    /* learn_sweep()'s touched list */
	uint32_t vhead, nvouch;
	bool used, in_map, dirty, touched;
	struct learn_value emitted; /* valid when in_map */
};

struct lname {
	char name[NAME_MAX_LEN + 1];
	uint32_t hnext; /* hash chain; free list */
	uint32_t vhead, nvouch;
	bool used;
};

struct learn {
	struct learn_config c;
	struct laddr *addrs;
	struct lname *names;
	struct vouch *vouches;
	uint32_t acap, ncap, vcap;
	uint32_t afree, nfree, vfree;
	uint32_t naddrs, nnames, nvouches, ndirty;
	uint32_t *abucket, *nbucket; /* heads; NIL ends a chain */
	uint32_t abuckets, nbuckets; /* powers of two */
	uint32_t *heap;
	uint64_t seq;
	struct learn_faults faults;
};

void learn_config_default(struct learn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->min_ttl_s = 60;
	c->max_ttl_s = 86400;
	c->max_ips_per_name = 64;
	c->max_names_per_addr = 16;
	c->max_total = 65536;
}

const char *learn_verdict_str(enum learn_verdict v)
{
	switch (v) {
	case LEARN_NEW:
		return "learned";
	case LEARN_ADDED:
		return "learned for one more name";
	case LEARN_REFRESHED:
		return "refreshed";
	case LEARN_DROP_METADATA:
		return "a cloud metadata address";
	case LEARN_DROP_PRIVATE:
		return "a private or local address for a name matched only by a wildcard";
	case LEARN_DROP_NAME_FULL:
		return "too many addresses for one name";
	case LEARN_DROP_TOTAL_FULL:
		return "too many learned addresses";
	case LEARN_DROP_PORTS:
		return "too many ports for one address";
	case LEARN_DROP_INVALID:
		return "not an IP address";
	case LEARN_ERROR:
		return "the allowlist map update failed";
	}
	return "?";
}

/* ---- addresses -------------------------------------------------------- */

/* IPv4-mapped IPv6 becomes IPv4; unused bytes are zeroed.  0 or -EINVAL. */
static int fold(const struct addr *in, struct addr *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct addr a = { 0 };

	if (in->family == AF_INET) {
		a.family = AF_INET;
		memcpy(a.bytes, in->bytes, 4);
	} else if (in->family == AF_INET6) {
		if (!memcmp(in->bytes, mapped, 12)) {
			a.family = AF_INET;
			memcpy(a.bytes, in->bytes + 12, 4);
		} else {
			a.family = AF_INET6;
			memcpy(a.bytes, in->bytes, 16);
		}
	} else {
		return -EINVAL;
	}
	*out = a;
	return 0;
}

static enum learn_class classify4(const uint8_t *b)
{
	if (b[0] == 169 && b[1] == 254 && b[2] == 169 && b[3] == 254)
		return LEARN_METADATA;
	if (b[0] == 0 || b[0] == 10 || b[0] == 127 ||
	    (b[0] == 100 && (b[1] & 0xc0) == 64) ||
	    (b[0] == 169 && b[1] == 254) ||
	    (b[0] == 172 && (b[1] & 0xf0) == 16) ||
	    (b[0] == 192 && b[1] == 168) ||
	    /* Multicast and class E / broadcast: no name's address, but a join or a flood. */
	    b[0] >= 224)
		return LEARN_PRIVATE;
	return LEARN_PUBLIC;
}

enum learn_class learn_classify(const struct addr *in)
{
	/* fd00:ec2::254 */
	static const uint8_t ec2[16] = { 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					 0x02, 0x54 };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t zero12[12];
	struct addr a;
	const uint8_t *b;

	if (fold(in, &a))
		return LEARN_PRIVATE; /* nothing that is not an address is public */
	b = a.bytes;
	if (a.family == AF_INET)
		return classify4(b);
	if (!memcmp(b, ec2, 16))
		return LEARN_METADATA;
	/* ::/96 (::, ::1, IPv4-compatible) and NAT64: judge the IPv4 inside. */
	if (!memcmp(b, zero12, 12) || !memcmp(b, nat64, 12)) {
		/* ::1 is ::0.0.0.1, in 0/8; :: likewise. */
		return classify4(b + 12);
	}
	if (b[0] == 0xff ||                          /* ff00::/8 multicast */
	    (b[0] & 0xfe) == 0xfc ||                 /* fc00::/7 ULA */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || /* fe80::/10 link-local */
	    (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0))   /* fec0::/10 site-local */
		return LEARN_PRIVATE;
	return LEARN_PUBLIC;
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(uint64_t seed, const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = mix(seed ^ 0x9e3779b97f4a7c15ULL);

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return mix(h ^ len);
}

static uint32_t addr_bucket(const struct learn *l, const struct addr *a)
{
	uint8_t key[17];

	key[0] = (uint8_t)a->family;
	memcpy(key + 1, a->bytes, 16);
	return (uint32_t)hash_bytes(l->c.hash_seed, key, sizeof(key)) & (l->abuckets - 1);
}

static uint32_t name_bucket(const struct learn *l, const char *name)
{
	return (uint32_t)hash_bytes(l->c.hash_seed, name, strlen(name)) & (l->nbuckets - 1);
}

static bool same_addr(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && !memcmp(a->bytes, b->bytes, 16);
}

static uint32_t addr_find(const struct learn *l, const struct addr *a)
{
	uint32_t i;

	for (i = l->abucket[addr_bucket(l, a)]; i != NIL; i = l->addrs[i].hnext)
		if (same_addr(&l->addrs[i].a, a))
			return i;
	return NIL;
}

static uint32_t name_find(const struct learn *l, const char *name)
{
	uint32_t i;

	for (i = l->nbucket[name_bucket(l, name)]; i != NIL; i = l->names[i].hnext)
		if (!strcmp(l->names[i].name, name))
			return i;
	return NIL;
}

/* ---- pools and hashes ------------------------------------------------- */

static int grow(void **arr, uint32_t *cap, size_t elem)
{
	uint32_t ncap = *cap ? *cap * 2 : POOL_MIN;
	void *p;

	if (*cap >= NIL / 2)
		return -ENOMEM;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Rebuild a hash with twice the buckets once it holds as many entries. */
static int rehash_addrs(struct learn *l)
{
	uint32_t nb = l->abuckets * 2, *b, i;

	b = malloc((size_t)nb * sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(b, 0xff, (size_t)nb * sizeof(*b));
	free(l->abucket);
	l->abucket = b;
	l->abuckets = nb;
	for (i = 0; i < l->acap; i++) {
		uint32_t h;

		if (!l->addrs[i].used)
			continue;
		h = addr_bucket(l, &l->addrs[i].a);
		l->addrs[i].hnext = b[h];
		b[h] = i;
	}
	return 0;
}

static int rehash_names(struct learn *l)
{
	uint32_t nb = l->nbuckets * 2, *b, i;

	b = malloc((size_t)nb * sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(b, 0xff, (size_t)nb * sizeof(*b));
	free(l->nbucket);
	l->nbucket = b;
	l->nbuckets = nb;
	for (i = 0; i < l->ncap; i++) {
		uint32_t h;

		if (!l->names[i].used)
			continue;
		h = name_bucket(l, l->names[i].name);
		l->names[i].hnext = b[h];
		b[h] = i;
	}
	return 0;
}

static int addr_alloc(struct learn *l, const struct addr *a, uint32_t *out)
{
	struct laddr *s;
	uint32_t i, h;
	int ret;

	if (l->naddrs >= l->abuckets && (ret = rehash_addrs(l)))
		return ret;
	if (l->afree == NIL) {
		uint32_t old = l->acap;

		ret = grow((void **)&l->addrs, &l->acap, sizeof(*l->addrs));
		if (ret)
			return ret;
		for (i = l->acap; i-- > old;) {
			l->addrs[i].used = false;
			l->addrs[i].hnext = l->afree;
			l->afree = i;
		}
	}
	i = l->afree;
	s = &l->addrs[i];
	l->afree = s->hnext;
	memset(s, 0, sizeof(*s));
	s->a = *a;
	s->vhead = NIL;
	s->used = true;
	h = addr_bucket(l, a);
	s->hnext = l->abucket[h];
	l->abucket[h] = i;
	l->naddrs++;
	*out = i;
	return 0;
}

static void addr_release(struct learn *l, uint32_t ai)
{
	struct laddr *s = &l->addrs[ai];
	uint32_t *pp = &l->abucket[addr_bucket(l, &s->a)];

	while (*pp != ai)
		pp = &l->addrs[*pp].hnext;
	*pp = s->hnext;
	if (s->dirty)
		l->ndirty--;
	s->used = false;
	s->hnext = l->afree;
	l->afree = ai;
	l->naddrs--;
}

static int name_alloc(struct learn *l, const char *name, uint32_t *out)
{
	struct lname *s;
	uint32_t i, h;
	int ret;

	if (l->nnames >= l->nbuckets && (ret = rehash_names(l)))
		return ret;
	if (l->nfree == NIL) {
		uint32_t old = l->ncap;

		ret = grow((void **)&l->names, &l->ncap, sizeof(*l->names));
		if (ret)
			return ret;
		for (i = l->ncap; i-- > old;) {
			l->names[i].used = false;
			l->names[i].hnext = l->nfree;
			l->nfree = i;
		}
	}
	i = l->nfree;
	s = &l->names[i];
	l->nfree = s->hnext;
	memset(s, 0, sizeof(*s));
	strcpy(s->name, name); /* checked to fit by the caller */
	s->vhead = NIL;
	s->used = true;
	h = name_bucket(l, name);
	s->hnext = l->nbucket[h];
	l->nbucket[h] = i;
	l->nnames++;
	*out = i;
	return 0;
}

static void name_release_if_empty(struct learn *l, uint32_t ni)
{
	struct lname *s = &l->names[ni];
	uint32_t *pp;

	if (!s->used || s->nvouch)
		return;
	pp = &l->nbucket[name_bucket(l, s->name)];
	while (*pp != ni)
		pp = &l->names[*pp].hnext;
	*pp = s->hnext;
	s->used = false;
	s->hnext = l->nfree;
	l->nfree = ni;
	l->nnames--;
}

/* ---- the expiry heap -------------------------------------------------- */

static bool vouch_before(const struct learn *l, uint32_t a, uint32_t b)
{
	const struct vouch *x = &l->vouches[a], *y = &l->vouches[b];

	if (x->expiry_ms != y->expiry_ms)
		return x->expiry_ms < y->expiry_ms;
	return x->seq < y->seq;
}

static void heap_set(struct learn *l, uint32_t pos, uint32_t vi)
{
	l->heap[pos] = vi;
	l->vouches[vi].heap = pos;
}

static void heap_fix(struct learn *l, uint32_t pos)
{
	uint32_t vi = l->heap[pos];

	while (pos > 0) {
		uint32_t up = (pos - 1) / 2;

		if (!vouch_before(l, vi, l->heap[up]))
			break;
		heap_set(l, pos, l->heap[up]);
		pos = up;
	}
	for (;;) {
		uint32_t c = 2 * pos + 1;

		if (c >= l->nvouches)
			break;
		if (c + 1 < l->nvouches && vouch_before(l, l->heap[c + 1], l->heap[c]))
			c++;
		if (!vouch_before(l, l->heap[c], vi))
			break;
		heap_set(l, pos, l->heap[c]);
		pos = c;
	}
	heap_set(l, pos, vi);
}

/* ---- vouches ---------------------------------------------------------- */

static int vouch_add(struct learn *l, uint32_t ni, uint32_t ai, uint64_t expiry,
		     const struct portset *ports, uint32_t *out)
{
	struct vouch *v;
	uint32_t i;
	int ret;

	if (l->vfree == NIL) {
		uint32_t old = l->vcap, *h;

		ret = grow((void **)&l->vouches, &l->vcap, sizeof(*l->vouches));
		if (ret)
			return ret;
		h = realloc(l->heap, (size_t)l->vcap * sizeof(*h));
		if (!h) {
			l->vcap = old; /* the larger pool is kept but not used */
			return -ENOMEM;
		}
		l->heap = h;
		for (i = l->vcap; i-- > old;) {
			l->vouches[i].nnext = l->vfree;
			l->vfree = i;
		}
	}
	i = l->vfree;
	v = &l->vouches[i];
	l->vfree = v->nnext;
	memset(v, 0, sizeof(*v));
	v->name = ni;
	v->addr = ai;
	v->expiry_ms = expiry;
	v->seq = ++l->seq;
	v->ports = *ports;
	v->nprev = NIL;
	v->nnext = l->names[ni].vhead;
	if (v->nnext != NIL)
		l->vouches[v->nnext].nprev = i;
	l->names[ni].vhead = i;
	l->names[ni].nvouch++;
	v->aprev = NIL;
	v->anext = l->addrs[ai].vhead;
	if (v->anext != NIL)
		l->vouches[v->anext].aprev = i;
	l->addrs[ai].vhead = i;
	l->addrs[ai].nvouch++;
	l->nvouches++;
	heap_set(l, l->nvouches - 1, i);
	heap_fix(l, l->nvouches - 1);
	*out = i;
	return 0;
}

/* Unlink and free; the address and name stay (their callers settle them). */
static void vouch_drop(struct learn *l, uint32_t vi)
{
	struct vouch *v = &l->vouches[vi];
	uint32_t pos = v->heap;

	if (v->nprev != NIL)
		l->vouches[v->nprev].nnext = v->nnext;
	else
		l->names[v->name].vhead = v->nnext;
	if (v->nnext != NIL)
		l->vouches[v->nnext].nprev = v->nprev;
	l->names[v->name].nvouch--;
	if (v->aprev != NIL)
		l->vouches[v->aprev].anext = v->anext;
	else
		l->addrs[v->addr].vhead = v->anext;
	if (v->anext != NIL)
		l->vouches[v->anext].aprev = v->aprev;
	l->addrs[v->addr].nvouch--;

	l->nvouches--;
	if (pos != l->nvouches) {
		heap_set(l, pos, l->heap[l->nvouches]);
		heap_fix(l, pos);
	}
	v->nnext = l->vfree;
	l->vfree = vi;
}

/* Relink at the head of both lists, which stay newest first. */
static void vouch_to_front(struct learn *l, uint32_t vi)
{
	struct vouch *v = &l->vouches[vi];
	struct lname *n = &l->names[v->name];
	struct laddr *a = &l->addrs[v->addr];

	if (v->nprev != NIL) {
		l->vouches[v->nprev].nnext = v->nnext;
		if (v->nnext != NIL)
			l->vouches[v->nnext].nprev = v->nprev;
		v->nprev = NIL;
		v->nnext = n->vhead;
		l->vouches[n->vhead].nprev = vi;
		n->vhead = vi;
	}
	if (v->aprev != NIL) {
		l->vouches[v->aprev].anext = v->anext;
		if (v->anext != NIL)
			l->vouches[v->anext].aprev = v->aprev;
		v->aprev = NIL;
		v->anext = a->vhead;
		l->vouches[a->vhead].aprev = vi;
		a->vhead = vi;
	}
}

static uint32_t vouch_find(const struct learn *l, uint32_t ai, uint32_t ni)
{
	uint32_t vi;

	for (vi = l->addrs[ai].vhead; vi != NIL; vi = l->vouches[vi].anext)
		if (l->vouches[vi].name == ni)
			return vi;
	return NIL;
}

/* The address's value from its vouches, leaving skip out.  0 or -E2BIG. */
static int addr_value(const struct learn *l, uint32_t ai, uint32_t skip,
		      struct learn_value *out)
{
	struct learn_value v = { 0 };
	uint32_t vi;

	for (vi = l->addrs[ai].vhead; vi != NIL; vi = l->vouches[vi].anext) {
		const struct vouch *x = &l->vouches[vi];

		if (vi == skip)
			continue;
		if (portset_union(&v.ports, &x->ports))
			return -E2BIG;
		if (x->expiry_ms > v.expiry_ms)
			v.expiry_ms = x->expiry_ms;
	}
	*out = v;
	return 0;
}

static bool value_equal(const struct learn_value *a, const struct learn_value *b)
{
	return a->expiry_ms == b->expiry_ms && portset_equal(&a->ports, &b->ports);
}

static void set_dirty(struct learn *l, uint32_t ai, bool dirty)
{
	struct laddr *s = &l->addrs[ai];

	if (s->dirty != dirty)
		l->ndirty += dirty ? 1 : -1;
	s->dirty = dirty;
}

/*
 * Make the map agree with the books for one address: remove it when no
 * name is left (and forget it), else update it if its value changed.
 */
static int addr_sync(struct learn *l, uint32_t ai, const struct learn_ops *ops)
{
	struct laddr *s = &l->addrs[ai];
	struct learn_value v;
	int ret;

	if (!s->nvouch) {
		if (s->in_map) {
			ret = ops->remove(ops->ctx, &s->a);
			if (ret && ret != -ENOENT) {
				set_dirty(l, ai, true);
				return ret;
			}
		}
		addr_release(l, ai);
		return 0;
	}
	if (addr_value(l, ai, NIL, &v)) {
		/* Cannot happen: every vouch was checked to fit when added. */
		set_dirty(l, ai, true);
		return -E2BIG;
	}
	if (s->in_map && value_equal(&v, &s->emitted)) {
		set_dirty(l, ai, false);
		return 0;
	}
	ret = ops->update(ops->ctx, &s->a, &v);
	if (ret) {
		set_dirty(l, ai, true);
		return ret;
	}
	s->emitted = v;
	s->in_map = true;
	set_dirty(l, ai, false);
	return 0;
}

/*
 * After a failed update was undone in the books: forget an address the
 * map never had; else it is dirty only if the books and map now differ.
 */
static void addr_settle(struct learn *l, uint32_t ai)
{
	struct laddr *s = &l->addrs[ai];
	struct learn_value v;

	if (!s->nvouch && !s->in_map) {
		addr_release(l, ai);
		return;
	}
	set_dirty(l, ai, !s->in_map || !s->nvouch || addr_value(l, ai, NIL, &v) ||
			       !value_equal(&v, &s->emitted));
}

/* ---- life cycle ------------------------------------------------------- */

int learn_new(const struct learn_config *c, struct learn **out)
{
	struct learn *l;

	if (!c || c->min_ttl_s > c->max_ttl_s || !c->max_ips_per_name ||
	    !c->max_names_per_addr || !c->max_total)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->c = *c;
	l->afree = l->nfree = l->vfree = NIL;
	l->abuckets = l->nbuckets = POOL_MIN;
	l->abucket = malloc(POOL_MIN * sizeof(*l->abucket));
	l->nbucket = malloc(POOL_MIN * sizeof(*l->nbucket));
	if (!l->abucket || !l->nbucket) {
		learn_free(l);
		return -ENOMEM;
	}
	memset(l->abucket, 0xff, POOL_MIN * sizeof(*l->abucket));
	memset(l->nbucket, 0xff, POOL_MIN * sizeof(*l->nbucket));
	*out = l;
	return 0;
}

void learn_free(struct learn *l)
{
	if (!l)
		return;
	free(l->addrs);
	free(l->names);
	free(l->vouches);
	free(l->abucket);
	free(l->nbucket);
	free(l->heap);
	free(l);
}

/* ---- learning --------------------------------------------------------- */

static int canon_name(const char *in, char *out)
{
	size_t len, i;

	if (!in)
		return -EINVAL;
	len = strnlen(in, NAME_MAX_LEN + 2);
	if (len && in[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		char ch = in[i];

		out[i] = (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch;
	}
	out[len] = '\0';
	return 0;
}

static uint64_t expiry_of(const struct learn *l, uint32_t ttl, uint64_t now_ms)
{
	uint64_t ms;

	if (ttl < l->c.min_ttl_s)
		ttl = l->c.min_ttl_s;
	if (ttl > l->c.max_ttl_s)
		ttl = l->c.max_ttl_s;
	ms = (uint64_t)ttl * 1000;
	return now_ms > UINT64_MAX - ms ? UINT64_MAX : now_ms + ms;
}

/* The oldest vouch of a name confirmed before seq, or NIL. */
static uint32_t oldest_of_name(const struct learn *l, uint32_t ni, uint64_t before)
{
	uint32_t vi, best = NIL;

	for (vi = l->names[ni].vhead; vi != NIL; vi = l->vouches[vi].nnext) {
		const struct vouch *v = &l->vouches[vi];

		if (v->seq < before && (best == NIL || v->seq < l->vouches[best].seq))
			best = vi;
	}
	return best;
}

static uint32_t oldest_of_addr(const struct learn *l, uint32_t ai)
{
	uint32_t vi, best = NIL;

	for (vi = l->addrs[ai].vhead; vi != NIL; vi = l->vouches[vi].anext)
		if (best == NIL || l->vouches[vi].seq < l->vouches[best].seq)
			best = vi;
	return best;
}

static enum learn_verdict refresh(struct learn *l, uint32_t ai, uint32_t vi,
				  const struct portset *ports, uint64_t expiry,
				  const struct learn_ops *ops, int *err)
{
	struct vouch *v = &l->vouches[vi], old = *v;
	struct learn_value val;
	int ret;

	/* The new ports with every other name's must still fit a rule. */
	if (addr_value(l, ai, vi, &val) || portset_union(&val.ports, ports))
		return LEARN_DROP_PORTS;
	if (expiry > v->expiry_ms)
		v->expiry_ms = expiry;
	v->seq = ++l->seq;
	v->ports = *ports;
	heap_fix(l, v->heap);
	ret = addr_sync(l, ai, ops);
	if (!ret) {
		vouch_to_front(l, vi);
		return LEARN_REFRESHED;
	}
	v = &l->vouches[vi];
	v->expiry_ms = old.expiry_ms;
	v->seq = old.seq;
	v->ports = old.ports;
	heap_fix(l, v->heap);
	addr_settle(l, ai);
	*err = ret;
	return LEARN_ERROR;
}

static enum learn_verdict learn_one(struct learn *l, const char *name, uint32_t *ni,
				    const struct portset *ports, const struct addr *a,
				    uint64_t expiry, uint64_t answer_seq,
				    const struct learn_ops *ops, int *err)
{
	uint32_t ai = addr_find(l, a), vi = NIL, victim = NIL, avictim = NIL;
	struct learn_value val;
	bool fresh;
	int ret;

	if (ai != NIL && *ni != NIL)
		vi = vouch_find(l, ai, *ni);
	if (vi != NIL)
		return refresh(l, ai, vi, ports, expiry, ops, err);

	/* Every check first, so that a refusal changes nothing. */
	if (ai != NIL) {
		if (l->addrs[ai].nvouch >= l->c.max_names_per_addr)
			avictim = oldest_of_addr(l, ai);
		if (addr_value(l, ai, avictim, &val) || portset_union(&val.ports, ports))
			return LEARN_DROP_PORTS;
	}
	if (*ni != NIL && l->names[*ni].nvouch >= l->c.max_ips_per_name) {
		victim = oldest_of_name(l, *ni, answer_seq);
		if (victim == NIL)
			return LEARN_DROP_NAME_FULL;
	}
	if (ai == NIL && l->naddrs >= l->c.max_total &&
	    !(victim != NIL && l->addrs[l->vouches[victim].addr].nvouch == 1))
		return LEARN_DROP_TOTAL_FULL;

	if (victim != NIL) {
		uint32_t vai = l->vouches[victim].addr;

		vouch_drop(l, victim);
		ret = addr_sync(l, vai, ops);
		if (ret && !*err)
			*err = ret;
		if (ai == NIL && l->naddrs >= l->c.max_total)
			return LEARN_DROP_TOTAL_FULL; /* its remove failed */
	}
	fresh = ai == NIL;
	if (fresh && (ret = addr_alloc(l, a, &ai)))
		goto fail;
	if (*ni == NIL && (ret = name_alloc(l, name, ni)))
		goto fail_addr;
	if (avictim != NIL) {
		uint32_t vni = l->vouches[avictim].name;

		vouch_drop(l, avictim);
		name_release_if_empty(l, vni);
	}
	ret = vouch_add(l, *ni, ai, expiry, ports, &vi);
	if (ret)
		goto fail_addr;
	ret = addr_sync(l, ai, ops);
	if (!ret)
		return fresh ? LEARN_NEW : LEARN_ADDED;
	vouch_drop(l, vi);
fail_addr:
	addr_settle(l, ai);
fail:
	if (!*err)
		*err = ret;
	return LEARN_ERROR;
}

int learn_answer(struct learn *l, const char *name, bool exact_match,
		 const struct portset *ports, const struct dnsmsg_addr *addrs, size_t n,
		 uint64_t now_ms, const struct learn_ops *ops, enum learn_verdict *verdicts)
{
	static const struct portset all = { .all = true };
	char nm[NAME_MAX_LEN + 1];
	uint64_t answer_seq;
	uint32_t ni;
	int err = 0;

	if (!l || !ops || !ops->update || !ops->remove || (n && !addrs) ||
	    canon_name(name, nm))
		return -EINVAL;
	if (!ports)
		ports = &all;
	ni = name_find(l, nm);
	answer_seq = l->seq + 1;
	for (size_t i = 0; i < n; i++) {
		enum learn_verdict v;
		struct addr a;

		if (fold(&addrs[i].addr, &a)) {
			v = LEARN_DROP_INVALID;
		} else {
			enum learn_class c = learn_classify(&a);

			if (c == LEARN_METADATA && !l->c.allow_private)
				v = LEARN_DROP_METADATA;
			else if (c == LEARN_PRIVATE && !exact_match && !l->c.allow_private)
				v = LEARN_DROP_PRIVATE;
			else
				v = learn_one(l, nm, &ni, ports, &a,
					      expiry_of(l, addrs[i].ttl, now_ms), answer_seq,
					      ops, &err);
		}
		if (v == LEARN_DROP_TOTAL_FULL)
			l->faults.cap_refused++;
		else if (v == LEARN_ERROR)
			l->faults.map_errors++;
		if (verdicts)
			verdicts[i] = v;
	}
	if (ni != NIL)
		name_release_if_empty(l, ni);
	return err;
}

/* ---- expiry ----------------------------------------------------------- */

/* Append to the touched list once; tail points at the last link. */
static void touch(struct learn *l, uint32_t ai, uint32_t **tail)
{
	struct laddr *s = &l->addrs[ai];

	if (s->touched)
		return;
	s->touched = true;
	s->tnext = NIL;
	**tail = ai;
	*tail = &s->tnext;
}

int learn_sweep(struct learn *l, uint64_t now_ms, const struct learn_ops *ops)
{
	uint32_t head = NIL, *tail = &head, ai;
	int err = 0, ret;

	if (!l || !ops || !ops->update || !ops->remove)
		return -EINVAL;
	while (l->nvouches && l->vouches[l->heap[0]].expiry_ms <= now_ms) {
		uint32_t vi = l->heap[0], ni = l->vouches[vi].name;

		ai = l->vouches[vi].addr;
		vouch_drop(l, vi);
		name_release_if_empty(l, ni);
		touch(l, ai, &tail);
	}
	if (l->ndirty) {
		for (ai = 0; ai < l->acap; ai++)
			if (l->addrs[ai].used && l->addrs[ai].dirty)
				touch(l, ai, &tail);
	}
	for (ai = head; ai != NIL;) {
		uint32_t next = l->addrs[ai].tnext;

		l->addrs[ai].touched = false;
		ret = addr_sync(l, ai, ops);
		if (ret && !err)
			err = ret;
		ai = next;
	}
	return err;
}

int learn_next_expiry(const struct learn *l, uint64_t *out_ms)
{
	if (l->ndirty) {
		*out_ms = 0;
		return 0;
	}
	if (!l->nvouches)
		return -ENOENT;
	*out_ms = l->vouches[l->heap[0]].expiry_ms;
	return 0;
}

/* ---- queries ---------------------------------------------------------- */

size_t learn_names_of(const struct learn *l, const struct addr *in, const char **names,
		      size_t max)
{
	uint32_t ai, vi;
	struct addr a;
	size_t n = 0;

	if (fold(in, &a))
		return 0;
	ai = addr_find(l, &a);
	if (ai == NIL)
		return 0;
	/* The list is newest first (vouch_add() and refresh() keep it so). */
	for (vi = l->addrs[ai].vhead; vi != NIL; vi = l->vouches[vi].anext, n++)
		if (names && n < max)
			names[n] = l->names[l->vouches[vi].name].name;
	return n;
}

int learn_lookup(const struct learn *l, const struct addr *in, struct learn_value *out)
{
	struct addr a;
	uint32_t ai;

	if (fold(in, &a))
		return -ENOENT;
	ai = addr_find(l, &a);
	if (ai == NIL || !l->addrs[ai].in_map)
		return -ENOENT;
	*out = l->addrs[ai].emitted;
	return 0;
}

void learn_get_faults(const struct learn *l, struct learn_faults *out)
{
	*out = l->faults;
}

size_t learn_count(const struct learn *l)
{
	return l->naddrs;
}

static uint64_t addr_seq(const struct learn *l, uint32_t ai)
{
	uint64_t seq = 0;

	for (uint32_t vi = l->addrs[ai].vhead; vi != NIL; vi = l->vouches[vi].anext)
		if (l->vouches[vi].seq > seq)
			seq = l->vouches[vi].seq;
	return seq;
}

static int by_seq_desc(const void *a, const void *b)
{
	const struct learn_item *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? 1 : -1;
	if (x->value.expiry_ms != y->value.expiry_ms)
		return x->value.expiry_ms < y->value.expiry_ms ? 1 : -1;
	return 0;
}

static size_t learn_count_mapped(const struct learn *l)
{
	size_t total = 0;

	for (uint32_t ai = 0; ai < l->acap; ai++)
		if (l->addrs[ai].used && l->addrs[ai].in_map)
			total++;
	return total;
}

size_t learn_list(const struct learn *l, struct learn_item *items, size_t max)
{
	size_t n = 0, total = learn_count_mapped(l);
	struct learn_item *all;

	if (!items || !max || !total)
		return total;
	/* Sorting needs every one; the caller's array may be shorter. */
	all = max >= total ? items : malloc(total * sizeof(*all));
	if (!all) {
		/* Out of memory: the first max found, sorted among themselves. */
		all = items;
		total = max;
	}
	for (uint32_t ai = 0; ai < l->acap && n < total; ai++) {
		const struct laddr *s = &l->addrs[ai];

		if (!s->used || !s->in_map)
			continue;
		all[n].addr = s->a;
		all[n].value = s->emitted;
		all[n].seq = addr_seq(l, ai);
		n++;
	}
	qsort(all, n, sizeof(*all), by_seq_desc);
	if (all != items) {
		memcpy(items, all, max * sizeof(*items));
		free(all);
	}
	return learn_count_mapped(l);
}
