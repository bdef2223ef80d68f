// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exact-address hashes in front of the LPM tries (issue 10): /32 and
 * /128 rules live in exact_v4/exact_v6, shorter prefixes in allow_v4/
 * allow_v6, and allow_lookup() must answer exactly as one trie did.  Each
 * scenario compiles a real list, loads it with the real loader, checks
 * which map holds what and which rodata flags the loader set, then runs
 * packets through egress_skb (bpf_prog_test_run_opts) and checks verdict
 * and reason counter.  Needs root (CAP_BPF).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sched.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>

/* Table rows name only the fields that matter; the rest are zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "egress.skel.h"
#include "loader.h"
#include "log.h"
#include "policy.h"

#define PASS 1
#define DROP 0
#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define ICMP IPPROTO_ICMP

struct pkt {
	uint8_t b[128];
	uint32_t len;
};

/* Ethernet (stripped by test_run), IPv4 or IPv6 by dst's form, then L4. */
static void build(struct pkt *p, const char *dst, uint8_t proto, uint16_t dport)
{
	bool v6 = strchr(dst, ':') != NULL;
	uint8_t *ip = p->b + 14, *l4;
	uint16_t len;

	memset(p, 0, sizeof(*p));
	p->b[0] = 0x02;
	p->b[6] = 0x02;
	p->b[12] = (v6 ? ETH_P_IPV6 : ETH_P_IP) >> 8;
	p->b[13] = (v6 ? ETH_P_IPV6 : ETH_P_IP) & 0xff;
	if (v6) {
		ip[0] = 0x60;
		ip[6] = proto == ICMP ? IPPROTO_ICMPV6 : proto;
		ip[7] = 64;
		assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", ip + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, ip + 24), 1);
		l4 = ip + 40;
	} else {
		ip[0] = 0x45;
		ip[8] = 64;
		ip[9] = proto;
		assert_int_equal(inet_pton(AF_INET, "198.51.100.2", ip + 12), 1);
		assert_int_equal(inet_pton(AF_INET, dst, ip + 16), 1);
		l4 = ip + 20;
	}
	l4[0] = 0xc3; /* sport 50000 */
	l4[1] = 0x50;
	if (proto != ICMP) {
		l4[2] = dport >> 8;
		l4[3] = dport & 0xff;
	}
	p->len = (uint32_t)(l4 - p->b) + 20;
	len = htons((uint16_t)(v6 ? 20 : p->len - 14));
	memcpy(ip + (v6 ? 4 : 2), &len, 2);
}

struct fixture {
	struct egress_bpf *skel;
	struct rule *rules;
	size_t nrules;
};

static struct fixture *fixture_load(const char *const *entries)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct resolver res;
	struct policy pol;
	char err[256];

	assert_non_null(f);
	policy_init(&pol);
	for (size_t i = 0; entries[i]; i++)
		if (policy_add_list(&pol, entries[i], err, sizeof(err)))
			fail_msg("entry %s: %s", entries[i], err);
	assert_int_equal(policy_compile(&pol, &f->rules, &f->nrules, err, sizeof(err)), 0);
	policy_free(&pol);
	assert_int_equal(resolver_parse("198.51.100.1", &res, err, sizeof(err)), 0);

	struct loader_config lc = {
		.events = true,
		.rules = f->rules,
		.nrules = f->nrules,
		.resolvers = &res,
		.nresolvers = 1,
	};
	assert_int_equal(loader_load(&lc, &f->skel), 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	if (!f)
		return;
	loader_destroy(f->skel);
	free(f->rules);
	free(f);
}

static uint64_t percpu_sum(int fd, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	struct egress_counter *v = calloc((size_t)ncpu, sizeof(*v));
	uint64_t sum = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(fd, &key, v), 0);
	for (int i = 0; i < ncpu; i++)
		sum += v[i].packets;
	free(v);
	return sum;
}

static uint64_t counter(struct fixture *f, unsigned int reason)
{
	return percpu_sum(bpf_map__fd(f->skel->maps.counters),
			  EGRESS_HOOK_SKB * EGRESS_REASON_MAX + reason);
}

/* The index (rule_id) of the compiled rule addr/prefixlen. */
static __u32 rule_id_of(struct fixture *f, const char *addr, unsigned int prefixlen)
{
	for (size_t i = 0; i < f->nrules; i++) {
		char a[ADDR_STRLEN];

		if (f->rules[i].prefixlen == prefixlen &&
		    strcmp(addr_format(&f->rules[i].addr, a, sizeof(a)), addr) == 0)
			return (__u32)i;
	}
	fail_msg("no compiled rule %s/%u", addr, prefixlen);
	return ~0U;
}

static uint64_t hits(struct fixture *f, __u32 id)
{
	return percpu_sum(bpf_map__fd(f->skel->maps.rule_hits), id);
}

/* Elements in a map, walked with get_next_key. */
static unsigned int map_count(struct bpf_map *m)
{
	__u8 key[32], next[32];
	unsigned int n = 0;
	void *prev = NULL;

	assert_true(bpf_map__key_size(m) <= sizeof(key));
	while (!bpf_map_get_next_key(bpf_map__fd(m), prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

struct row {
	const char *dst;
	uint8_t proto;
	uint16_t dport;
	int verdict;
	unsigned int reason;
	const char *rule; /* "ADDR/LEN": that rule's hit counter moves by one */
};

struct scenario {
	const char *name;
	const char *entries[8];
	unsigned int exact4, trie4, exact6, trie6; /* elements per map */
	struct row rows[16];
};

#define END { NULL }

static void run_row(struct fixture *f, const char *sc, const struct row *r)
{
	uint64_t before[EGRESS_REASON_MAX], h = 0;
	LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 1);
	__u32 id = ~0U;
	struct pkt p;

	build(&p, r->dst, r->proto, r->dport);
	o.data_in = p.b;
	o.data_size_in = p.len;
	if (r->rule) {
		char a[ADDR_STRLEN];
		unsigned int len;
		const char *slash = strchr(r->rule, '/');

		assert_non_null(slash);
		snprintf(a, sizeof(a), "%.*s", (int)(slash - r->rule), r->rule);
		len = (unsigned int)atoi(slash + 1);
		id = rule_id_of(f, a, len);
		h = hits(f, id);
	}
	for (unsigned int i = 0; i < EGRESS_REASON_MAX; i++)
		before[i] = counter(f, i);
	if (bpf_prog_test_run_opts(bpf_program__fd(f->skel->progs.egress_skb), &o))
		fail_msg("%s: %s:%u: test_run failed: %s", sc, r->dst, r->dport, strerror(errno));
	if ((int)o.retval != r->verdict)
		fail_msg("%s: %s proto %u port %u: verdict %u, want %d", sc, r->dst, r->proto,
			 r->dport, o.retval, r->verdict);
	for (unsigned int i = 0; i < EGRESS_REASON_MAX; i++) {
		uint64_t want = before[i] + (i == r->reason);

		if (counter(f, i) != want)
			fail_msg("%s: %s port %u: reason %u moved by %lld, want reason %u", sc,
				 r->dst, r->dport, i, (long long)(counter(f, i) - before[i]),
				 r->reason);
	}
	if (r->rule && hits(f, id) != h + 1)
		fail_msg("%s: %s port %u: hit not counted on rule %s", sc, r->dst, r->dport,
			 r->rule);
}

#define P EGRESS_PASS_ALLOWLIST
#define NA EGRESS_DROP_NOT_ALLOWED
#define PORT EGRESS_DROP_PORT
#define NOPORT EGRESS_DROP_NO_PORT

/*
 * A /32 (/128) inside a shorter prefix with other ports: the merged /32
 * rule (its ports plus the cover's) must win for its address, the cover
 * alone for its neighbours; in both entry orders.
 */
static const struct scenario scenarios[] = {
	{ "v4 /32:443 then /24:80",
	  { "198.51.100.5:443", "198.51.100.0/24:80", NULL }, 1, 1, 0, 0,
	  { { "198.51.100.5", TCP, 443, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.5", UDP, 80, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.5", TCP, 22, DROP, PORT },
	    { "198.51.100.5", ICMP, 0, DROP, NOPORT },
	    { "198.51.100.6", TCP, 80, PASS, P, "198.51.100.0/24" },
	    { "198.51.100.6", TCP, 443, DROP, PORT },
	    { "198.51.101.5", TCP, 443, DROP, NA },
	    END } },
	{ "v4 /24:80 then /32:443",
	  { "198.51.100.0/24:80", "198.51.100.5:443", NULL }, 1, 1, 0, 0,
	  { { "198.51.100.5", TCP, 443, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.5", TCP, 80, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.5", TCP, 22, DROP, PORT },
	    { "198.51.100.4", TCP, 80, PASS, P, "198.51.100.0/24" },
	    { "198.51.100.4", TCP, 443, DROP, PORT },
	    END } },
	{ "v4 all-ports /32 in a port-limited /24",
	  { "198.51.100.0/24:80", "198.51.100.5", NULL }, 1, 1, 0, 0,
	  { { "198.51.100.5", TCP, 22, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.5", ICMP, 0, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.7", TCP, 22, DROP, PORT },
	    END } },
	{ "v4 port-limited /32 in an all-ports /24",
	  { "198.51.100.5:443", "198.51.100.0/24", NULL }, 1, 1, 0, 0,
	  { { "198.51.100.5", TCP, 22, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.9", UDP, 9, PASS, P, "198.51.100.0/24" },
	    END } },
	{ "v4 merged duplicates of one /32",
	  { "198.51.100.5:443", "198.51.100.5:8443", "198.51.100.5/32:22", NULL }, 1, 0, 0, 0,
	  { { "198.51.100.5", TCP, 443, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.5", TCP, 8443, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.5", UDP, 22, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.5", TCP, 80, DROP, PORT },
	    { "198.51.100.6", TCP, 443, DROP, NA },
	    END } },
	{ "v6 /128:443 then /64:80",
	  { "[2001:db8::5]:443", "[2001:db8::/64]:80", NULL }, 0, 0, 1, 1,
	  { { "2001:db8::5", TCP, 443, PASS, P, "2001:db8::5/128" },
	    { "2001:db8::5", UDP, 80, PASS, P, "2001:db8::5/128" },
	    { "2001:db8::5", TCP, 22, DROP, PORT },
	    { "2001:db8::5", ICMP, 0, DROP, NOPORT },
	    { "2001:db8::6", TCP, 80, PASS, P, "2001:db8::/64" },
	    { "2001:db8::6", TCP, 443, DROP, PORT },
	    { "2001:db8:0:1::5", TCP, 443, DROP, NA },
	    END } },
	{ "v6 /64:80 then /128:443",
	  { "[2001:db8::/64]:80", "[2001:db8::5]:443", NULL }, 0, 0, 1, 1,
	  { { "2001:db8::5", TCP, 443, PASS, P, "2001:db8::5/128" },
	    { "2001:db8::5", TCP, 80, PASS, P, "2001:db8::5/128" },
	    { "2001:db8::5", TCP, 22, DROP, PORT },
	    { "2001:db8::ffff", TCP, 80, PASS, P, "2001:db8::/64" },
	    { "2001:db8::ffff", TCP, 443, DROP, PORT },
	    END } },
	{ "exact only",
	  { "198.51.100.5", "198.51.100.6:443", "2001:db8::5", "[2001:db8::6]:443", NULL },
	  2, 0, 2, 0,
	  { { "198.51.100.5", TCP, 22, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.6", TCP, 443, PASS, P, "198.51.100.6/32" },
	    { "198.51.100.6", TCP, 22, DROP, PORT },
	    { "198.51.100.7", TCP, 22, DROP, NA },
	    { "2001:db8::5", UDP, 22, PASS, P, "2001:db8::5/128" },
	    { "2001:db8::6", TCP, 443, PASS, P, "2001:db8::6/128" },
	    { "2001:db8::6", TCP, 80, DROP, PORT },
	    { "2001:db8::7", TCP, 22, DROP, NA },
	    END } },
	{ "prefix only",
	  { "198.51.100.0/25:443", "198.51.100.128/25", "[2001:db8::/64]:443", NULL }, 0, 2, 0, 1,
	  { { "198.51.100.5", TCP, 443, PASS, P, "198.51.100.0/25" },
	    { "198.51.100.5", TCP, 80, DROP, PORT },
	    { "198.51.100.200", TCP, 80, PASS, P, "198.51.100.128/25" },
	    { "198.51.101.1", TCP, 443, DROP, NA },
	    { "2001:db8::5", TCP, 443, PASS, P, "2001:db8::/64" },
	    { "2001:db8::5", TCP, 80, DROP, PORT },
	    { "2001:db8:1::5", TCP, 443, DROP, NA },
	    END } },
	/*
	 * IPv4-mapped: mapped entries compile to IPv4 rules, so the /32 hash
	 * and the /24 trie both answer the IPv4 packets.  An IPv6 packet to
	 * a mapped address (only a raw socket builds one) is dropped as
	 * malformed, never judged by an IPv4 rule; a v4 rule never answers a
	 * non-mapped v6 address.
	 */
	{ "ipv4-mapped",
	  { "[::ffff:198.51.100.5]:443", "[::ffff:198.51.100.0/120]:80", "198.51.100.9", NULL },
	  2, 1, 0, 0,
	  { { "198.51.100.5", TCP, 443, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.5", TCP, 80, PASS, P, "198.51.100.5/32" },
	    { "198.51.100.5", TCP, 22, DROP, PORT },
	    { "198.51.100.6", TCP, 80, PASS, P, "198.51.100.0/24" },
	    { "198.51.100.9", UDP, 22, PASS, P, "198.51.100.9/32" },
	    { "::ffff:198.51.100.5", TCP, 443, DROP, EGRESS_DROP_MALFORMED },
	    { "::ffff:198.51.100.6", TCP, 80, DROP, EGRESS_DROP_MALFORMED },
	    { "::ffff:198.51.101.9", UDP, 22, DROP, EGRESS_DROP_MALFORMED },
	    { "::c633:6409", UDP, 22, DROP, NA }, /* 198.51.100.9 as IPv4-compatible */
	    END } },
};

static void check_layout(struct fixture *f, const struct scenario *s)
{
	const struct egress_bpf__rodata *ro = f->skel->rodata;
	struct egress_bpf *k = f->skel;

	if (map_count(k->maps.exact_v4) != s->exact4 || map_count(k->maps.allow_v4) != s->trie4 ||
	    map_count(k->maps.exact_v6) != s->exact6 || map_count(k->maps.allow_v6) != s->trie6)
		fail_msg("%s: maps hold exact_v4 %u allow_v4 %u exact_v6 %u allow_v6 %u, want %u %u %u %u",
			 s->name, map_count(k->maps.exact_v4), map_count(k->maps.allow_v4),
			 map_count(k->maps.exact_v6), map_count(k->maps.allow_v6), s->exact4,
			 s->trie4, s->exact6, s->trie6);
	if (ro->exact_v4_used != (s->exact4 > 0) || ro->prefix_v4_used != (s->trie4 > 0) ||
	    ro->exact_v6_used != (s->exact6 > 0) || ro->prefix_v6_used != (s->trie6 > 0))
		fail_msg("%s: rodata flags %d %d %d %d do not match the maps", s->name,
			 ro->exact_v4_used, ro->prefix_v4_used, ro->exact_v6_used, ro->prefix_v6_used);
}

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		const struct scenario *s = &scenarios[i];
		struct fixture *f = fixture_load(s->entries);

		check_layout(f, s);
		for (size_t j = 0; s->rows[j].dst; j++)
			run_row(f, s->name, &s->rows[j]);
		fixture_free(f);
	}
}

/* The merged /32 value in the hash: rule id = its index, ports the union. */
static void test_exact_value(void **state)
{
	static const char *const entries[] = { "198.51.100.0/24:80", "198.51.100.5:443",
					       "2001:db8::5", NULL };
	struct fixture *f = fixture_load(entries);
	struct egress_rule v;
	__u8 k6[16];
	__u32 k4;

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "198.51.100.5", &k4), 1);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(f->skel->maps.exact_v4), &k4, &v), 0);
	assert_int_equal(v.rule_id, rule_id_of(f, "198.51.100.5", 32));
	assert_int_equal(v.flags, 0);
	assert_int_equal(v.nports, 2);
	assert_int_equal(v.ports[0], 80);
	assert_int_equal(v.ports[1], 443);
	/* a neighbour is not in the hash */
	assert_int_equal(inet_pton(AF_INET, "198.51.100.6", &k4), 1);
	assert_int_not_equal(bpf_map_lookup_elem(bpf_map__fd(f->skel->maps.exact_v4), &k4, &v), 0);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", k6), 1);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(f->skel->maps.exact_v6), k6, &v), 0);
	assert_int_equal(v.rule_id, rule_id_of(f, "2001:db8::5", 128));
	assert_int_equal(v.flags, EGRESS_RULE_ALL_PORTS);
	fixture_free(f);
}

/*
 * Rules the kernel refuses fail the load, whichever map they were bound
 * for, and leave nothing: a /33 "IPv4" rule (not exact, so the trie
 * refuses its prefix length) after good ones.
 */
static void test_bad_rule_fails(void **state)
{
	struct rule r[3] = {};
	struct resolver res;
	struct egress_bpf *s = NULL;
	char err[128];

	(void)state;
	assert_int_equal(addr_parse("198.51.100.5", &r[0].addr), 0);
	r[0].prefixlen = 32;
	r[0].flags = EGRESS_RULE_ALL_PORTS;
	assert_int_equal(addr_parse("198.51.100.0", &r[1].addr), 0);
	r[1].prefixlen = 24;
	assert_int_equal(addr_parse("198.51.100.0", &r[2].addr), 0);
	r[2].prefixlen = 33;
	assert_int_equal(resolver_parse("198.51.100.1", &res, err, sizeof(err)), 0);

	struct loader_config lc = {
		.rules = r, .nrules = 3, .resolvers = &res, .nresolvers = 1,
	};
	assert_int_not_equal(loader_load(&lc, &s), 0);
	assert_null(s);
	/* negative control: the two good rules alone load */
	lc.nrules = 2;
	assert_int_equal(loader_load(&lc, &s), 0);
	assert_non_null(s);
	loader_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_exact_value),
		cmocka_unit_test(test_bad_rule_fails),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: BPF exact-map tests need root (CAP_BPF)\n");
		return 77;
	}
	/* Nothing made here outlives the process. */
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "FAIL: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 1;
	}
	log_setup_libbpf();
	return cmocka_run_group_tests_name("bpf_exact", tests, NULL, NULL);
}
