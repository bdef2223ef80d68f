// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the books of learned addresses (learn.c), the last step of
 * the DNS proxy's path, driven harder than fuzz_dnsproxy can through
 * c-ares: long sequences of answers (names, exact or wildcard, ports,
 * IPv4, IPv6, mapped, private and metadata addresses, TTLs), sweeps at
 * moving times, and map updates and removes that fail on demand.  The
 * first bytes pick the limits, kept small so the caps and evictions are
 * reached.
 *
 * The oracle is the BPF map, a table here: after every step, what
 * learn_list() and learn_lookup() say the map holds must be exactly what
 * the update/remove calls left in it; no metadata address is ever in it;
 * no more than max_total addresses; and once every vouch has expired and
 * the failures stop, the map and the books are both empty.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "learn.h"

#define MAP_MAX 512
#define MAX_ADDRS 12

static struct {
	struct addr addr[MAP_MAX];
	struct learn_value v[MAP_MAX];
	size_t n;
	bool fail_update, fail_remove;
	bool allow_private;
} map;

struct in {
	const uint8_t *d;
	size_t n, off;
};

static uint8_t u8(struct in *in)
{
	return in->off < in->n ? in->d[in->off++] : 0;
}

static uint16_t u16(struct in *in)
{
	return (uint16_t)(u8(in) << 8 | u8(in));
}

static bool more(const struct in *in)
{
	return in->off < in->n;
}

static ssize_t map_find(const struct addr *a)
{
	for (size_t i = 0; i < map.n; i++)
		if (addr_equal(&map.addr[i], a))
			return (ssize_t)i;
	return -1;
}

static int op_update(void *ctx, const struct addr *a, const struct learn_value *v)
{
	ssize_t i;

	(void)ctx;
	FUZZ_CHECK(a->family == AF_INET || a->family == AF_INET6);
	FUZZ_CHECK(map.allow_private || learn_classify(a) != LEARN_METADATA);
	FUZZ_CHECK(v->ports.all || (v->ports.n > 0 && v->ports.n <= EGRESS_MAX_PORTS));
	if (map.fail_update)
		return -ENOSPC;
	i = map_find(a);
	if (i < 0) {
		FUZZ_CHECK(map.n < MAP_MAX);
		i = (ssize_t)map.n++;
		map.addr[i] = *a;
	}
	map.v[i] = *v;
	return 0;
}

static int op_remove(void *ctx, const struct addr *a)
{
	ssize_t i = map_find(a);

	(void)ctx;
	if (map.fail_remove)
		return -EIO;
	if (i < 0)
		return -ENOENT;
	map.addr[i] = map.addr[map.n - 1];
	map.v[i] = map.v[map.n - 1];
	map.n--;
	return 0;
}

static const struct learn_ops ops = { .update = op_update, .remove = op_remove };

static const char *const names[] = {
	"a.example.com", "B.example.com.", "c.example.org", "x.y.example.net",
	"example.com", "d.example.com", "e.example.com", "f.example.com",
};

static void read_addr(struct in *in, struct dnsmsg_addr *a)
{
	uint8_t kind = u8(in);

	memset(a, 0, sizeof(*a));
	a->ttl = (uint32_t)u16(in) * ((kind & 0x80) ? 4096u : 1u);
	switch (kind & 7) {
	case 0: /* 198.51.100.x */
		a->addr.family = AF_INET;
		a->addr.bytes[0] = 198, a->addr.bytes[1] = 51, a->addr.bytes[2] = 100;
		a->addr.bytes[3] = u8(in) & 31;
		break;
	case 1: /* ::ffff:198.51.100.x: the same address as case 0 */
		a->addr.family = AF_INET6;
		a->addr.bytes[10] = a->addr.bytes[11] = 0xff;
		a->addr.bytes[12] = 198, a->addr.bytes[13] = 51, a->addr.bytes[14] = 100;
		a->addr.bytes[15] = u8(in) & 31;
		break;
	case 2: /* 2001:db8::x */
		a->addr.family = AF_INET6;
		a->addr.bytes[0] = 0x20, a->addr.bytes[1] = 0x01;
		a->addr.bytes[2] = 0x0d, a->addr.bytes[3] = 0xb8;
		a->addr.bytes[15] = u8(in) & 31;
		break;
	case 3: /* private */
		a->addr.family = AF_INET;
		a->addr.bytes[0] = 10, a->addr.bytes[3] = u8(in) & 7;
		break;
	case 4: /* metadata, in one of its forms */
		if (u8(in) & 1) {
			a->addr.family = AF_INET;
			a->addr.bytes[0] = 169, a->addr.bytes[1] = 254;
			a->addr.bytes[2] = 169, a->addr.bytes[3] = 254;
		} else {
			a->addr.family = AF_INET6;
			a->addr.bytes[10] = a->addr.bytes[11] = 0xff;
			a->addr.bytes[12] = 169, a->addr.bytes[13] = 254;
			a->addr.bytes[14] = 169, a->addr.bytes[15] = 254;
		}
		break;
	case 5: /* anything at all */
		a->addr.family = (u8(in) & 1) ? AF_INET6 : AF_INET;
		for (int i = 0; i < 16; i++)
			a->addr.bytes[i] = u8(in);
		if (a->addr.family == AF_INET)
			memset(a->addr.bytes + 4, 0, 12);
		break;
	case 6: /* not an address */
		a->addr.family = u8(in);
		break;
	default: /* 64:ff9b::198.51.100.x */
		a->addr.family = AF_INET6;
		a->addr.bytes[1] = 0x64, a->addr.bytes[2] = 0xff, a->addr.bytes[3] = 0x9b;
		a->addr.bytes[12] = 198, a->addr.bytes[13] = 51, a->addr.bytes[14] = 100;
		a->addr.bytes[15] = u8(in) & 31;
		break;
	}
}

static void check_books(const struct learn *l, const struct learn_config *c)
{
	struct learn_item items[MAP_MAX];
	size_t n = learn_list(l, items, MAP_MAX);

	FUZZ_CHECK(n <= MAP_MAX);
	FUZZ_CHECK(learn_count(l) >= n);
	FUZZ_CHECK(learn_count(l) <= c->max_total);
	/* What the books say the map holds is what the map holds. */
	FUZZ_CHECK(n == map.n);
	for (size_t i = 0; i < n; i++) {
		struct learn_value v;
		ssize_t j = map_find(&items[i].addr);

		FUZZ_CHECK(j >= 0);
		FUZZ_CHECK(portset_equal(&items[i].value.ports, &map.v[j].ports));
		FUZZ_CHECK(items[i].value.expiry_ms == map.v[j].expiry_ms);
		FUZZ_CHECK(learn_lookup(l, &items[i].addr, &v) == 0);
		FUZZ_CHECK(portset_equal(&v.ports, &map.v[j].ports) &&
			   v.expiry_ms == map.v[j].expiry_ms);
		if (i)
			FUZZ_CHECK(items[i - 1].seq >= items[i].seq);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size, 0 };
	struct learn_config c;
	struct learn *l = NULL;
	uint64_t now = 1000000;
	int steps = 0;

	learn_config_default(&c);
	c.min_ttl_s = u8(&in) % 120;
	c.max_ttl_s = c.min_ttl_s + u16(&in);
	c.max_ips_per_name = 1 + u8(&in) % 8;
	c.max_names_per_addr = 1 + u8(&in) % 4;
	c.max_total = 1 + u8(&in) % 32;
	c.allow_private = u8(&in) & 1;
	c.hash_seed = 42;
	if (learn_new(&c, &l))
		abort();
	memset(&map, 0, sizeof(map));
	map.allow_private = c.allow_private;

	while (more(&in) && steps++ < 256) {
		uint8_t op = u8(&in);

		now += (uint64_t)(op >> 3) * 7000;
		switch (op & 7) {
		case 0:
		case 1:
		case 2:
		case 3: {
			struct dnsmsg_addr addrs[MAX_ADDRS];
			enum learn_verdict v[MAX_ADDRS];
			struct portset ps = { 0 };
			uint8_t nb = u8(&in), pb = u8(&in);
			const char *name = names[nb & 7];
			size_t n = (nb >> 3) % (MAX_ADDRS + 1);
			int ret;

			for (int i = 0; i < (pb & 3); i++)
				portset_add(&ps, (uint16_t)(1 + u8(&in) % 24));
			for (size_t i = 0; i < n; i++)
				read_addr(&in, &addrs[i]);
			ret = learn_answer(l, name, op & 1, (pb & 3) ? &ps : NULL, addrs, n, now,
					   &ops, v);
			FUZZ_CHECK(ret == 0 || ret == -ENOSPC || ret == -EIO || ret == -ENOMEM);
			for (size_t i = 0; i < n; i++) {
				enum learn_class k = learn_classify(&addrs[i].addr);

				if (k == LEARN_METADATA && !c.allow_private)
					FUZZ_CHECK(learn_verdict_dropped(v[i]));
				if (k == LEARN_PRIVATE && !(op & 1) && !c.allow_private)
					FUZZ_CHECK(learn_verdict_dropped(v[i]));
			}
			break;
		}
		case 4:
		case 5: {
			int ret = learn_sweep(l, now, &ops);

			FUZZ_CHECK(ret == 0 || ret == -ENOSPC || ret == -EIO);
			break;
		}
		case 6:
			map.fail_update = u8(&in) & 1;
			map.fail_remove = u8(&in) & 1;
			break;
		default: {
			uint64_t at;
			int ret = learn_next_expiry(l, &at);

			FUZZ_CHECK(ret == 0 || (ret == -ENOENT && learn_count(l) == 0));
			break;
		}
		}
		check_books(l, &c);
	}

	/* Failures stop, every vouch expires: nothing may stay allowed. */
	map.fail_update = map.fail_remove = false;
	now += (uint64_t)c.max_ttl_s * 1000 + 86400000ULL * 2;
	FUZZ_CHECK(learn_sweep(l, now, &ops) == 0);
	check_books(l, &c);
	FUZZ_CHECK(learn_count(l) == 0);
	FUZZ_CHECK(map.n == 0);
	learn_free(l);
	return 0;
}
