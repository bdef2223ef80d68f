// SPDX-License-Identifier: GPL-2.0-only
/*
 * learn_answer(), learn_sweep() and friends against a fake map that logs
 * every operation: TTL floor and cap, the rebinding guard, per-name and
 * per-address eviction, the total cap, port unions across names, expiry
 * and refresh, sweep order, failed map operations, and 10k addresses.
 * Time is a number passed in; nothing here sleeps or measures.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "learn.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a fake map ------------------------------------------------------- */

struct fake {
	char log[8192];
	size_t len;
	bool quiet;          /* count only */
	size_t updates, removes;
	int fail_update;     /* returned by update when non-zero */
	int fail_remove;
};

static void logf_(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	if (f->quiet)
		return;
	va_start(ap, fmt);
	f->len += vsnprintf(f->log + f->len, sizeof(f->log) - f->len, fmt, ap);
	va_end(ap);
	assert_true(f->len < sizeof(f->log));
}

static int fake_update(void *ctx, const struct addr *a, const struct learn_value *v)
{
	struct fake *f = ctx;
	char s[ADDR_STRLEN];

	if (f->fail_update)
		return f->fail_update;
	f->updates++;
	logf_(f, "%sU %s ", f->len ? "; " : "", addr_format(a, s, sizeof(s)));
	if (v->ports.all) {
		logf_(f, "all");
	} else {
		for (int i = 0; i < v->ports.n; i++)
			logf_(f, "%s%u", i ? "," : "", v->ports.ports[i]);
	}
	logf_(f, " @%llu", (unsigned long long)(v->expiry_ms / 1000));
	return 0;
}

static int fake_remove(void *ctx, const struct addr *a)
{
	struct fake *f = ctx;
	char s[ADDR_STRLEN];

	if (f->fail_remove)
		return f->fail_remove;
	f->removes++;
	logf_(f, "%sD %s", f->len ? "; " : "", addr_format(a, s, sizeof(s)));
	return 0;
}

static struct fake F;
static const struct learn_ops OPS = { fake_update, fake_remove, &F };

/* The log since the last call, then cleared. */
static void expect_ops(const char *want)
{
	if (strcmp(F.log, want))
		fail_msg("map ops:\n  got  \"%s\"\n  want \"%s\"", F.log, want);
	F.len = 0;
	F.log[0] = '\0';
}

static struct learn *mk(void (*tweak)(struct learn_config *))
{
	struct learn_config c;
	struct learn *l = NULL;

	memset(&F, 0, sizeof(F));
	learn_config_default(&c);
	c.hash_seed = 42;
	if (tweak)
		tweak(&c);
	assert_int_equal(learn_new(&c, &l), 0);
	return l;
}

static struct addr A(const char *s)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.bytes) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.bytes) == 1)
		a.family = AF_INET6; /* mapped kept as sent, like dnsmsg */
	else
		fail_msg("bad address %s", s);
	return a;
}

/*
 * Learn "addr/ttl addr/ttl ..." for name at second t; returns the
 * verdicts as text ("new added refreshed metadata private name-full
 * total-full ports invalid error").
 */
static const char *learn(struct learn *l, const char *name, bool exact,
			 const struct portset *ports, const char *list, uint64_t t_s, int want_ret)
{
	static const char *const vn[] = { "new", "added", "refreshed", "metadata", "private",
					  "name-full", "total-full", "ports", "invalid",
					  "error" };
	static char out[1024];
	struct dnsmsg_addr addrs[64];
	enum learn_verdict v[64];
	char buf[1024], *save = NULL, *tok;
	size_t n = 0, o = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *slash = strchr(tok, '/');

		assert_non_null(slash);
		*slash = '\0';
		addrs[n].addr = A(tok);
		addrs[n].ttl = (uint32_t)strtoul(slash + 1, NULL, 10);
		n++;
	}
	assert_int_equal(learn_answer(l, name, exact, ports, addrs, n, t_s * 1000, &OPS, v),
			 want_ret);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		o += snprintf(out + o, sizeof(out) - o, "%s%s", i ? " " : "", vn[v[i]]);
	return out;
}

static struct portset P(int n, ...)
{
	struct portset s = { 0 };
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(portset_add(&s, (uint16_t)va_arg(ap, int)), 0);
	va_end(ap);
	return s;
}

static uint64_t next_expiry_s(struct learn *l)
{
	uint64_t ms = 12345;

	if (learn_next_expiry(l, &ms) == -ENOENT)
		return UINT64_MAX;
	return ms / 1000;
}

/* ---- tests ------------------------------------------------------------ */

static void test_ttl_clamp(void **state)
{
	struct learn *l = mk(NULL);

	(void)state;
	assert_string_equal(learn(l, "a.com", true, NULL,
				  "198.51.100.1/0 198.51.100.2/5 198.51.100.3/300 "
				  "198.51.100.4/100000 198.51.100.5/4294967295",
				  1000, 0),
			    "new new new new new");
	expect_ops("U 198.51.100.1 all @1060; U 198.51.100.2 all @1060; "
		   "U 198.51.100.3 all @1300; U 198.51.100.4 all @87400; "
		   "U 198.51.100.5 all @87400");
	assert_int_equal(learn_count(l), 5);
	learn_free(l);
}

static void custom_ttls(struct learn_config *c)
{
	c->min_ttl_s = 10;
	c->max_ttl_s = 20;
}

static void test_ttl_custom(void **state)
{
	struct learn *l = mk(custom_ttls);
	struct learn_config c;
	struct learn *bad = (struct learn *)0x1;

	(void)state;
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.1/1 198.51.100.2/15 "
				  "198.51.100.3/99", 0, 0), "new new new");
	expect_ops("U 198.51.100.1 all @10; U 198.51.100.2 all @15; U 198.51.100.3 all @20");
	learn_free(l);

	learn_config_default(&c);
	c.min_ttl_s = 100;
	c.max_ttl_s = 99;
	assert_int_equal(learn_new(&c, &bad), -EINVAL);
	learn_config_default(&c);
	c.max_total = 0;
	assert_int_equal(learn_new(&c, &bad), -EINVAL);
	learn_config_default(&c);
	c.max_ips_per_name = 0;
	assert_int_equal(learn_new(&c, &bad), -EINVAL);
	assert_ptr_equal(bad, (struct learn *)0x1);
	learn_free(NULL);
}

static void test_classify(void **state)
{
	static const struct {
		const char *a;
		enum learn_class c;
	} cases[] = {
		{ "169.254.169.254", LEARN_METADATA },
		{ "::ffff:169.254.169.254", LEARN_METADATA },
		{ "64:ff9b::a9fe:a9fe", LEARN_METADATA },
		{ "fd00:ec2::254", LEARN_METADATA },
		{ "0.0.0.0", LEARN_PRIVATE },
		{ "0.255.1.1", LEARN_PRIVATE },
		{ "10.0.0.1", LEARN_PRIVATE },
		{ "10.255.255.255", LEARN_PRIVATE },
		{ "11.0.0.1", LEARN_PUBLIC },
		{ "100.63.255.255", LEARN_PUBLIC },
		{ "100.64.0.0", LEARN_PRIVATE },
		{ "100.127.255.255", LEARN_PRIVATE },
		{ "100.128.0.0", LEARN_PUBLIC },
		{ "127.0.0.1", LEARN_PRIVATE },
		{ "127.255.0.9", LEARN_PRIVATE },
		{ "169.254.0.1", LEARN_PRIVATE },
		{ "169.253.0.1", LEARN_PUBLIC },
		{ "172.15.255.255", LEARN_PUBLIC },
		{ "172.16.0.0", LEARN_PRIVATE },
		{ "172.31.255.255", LEARN_PRIVATE },
		{ "172.32.0.0", LEARN_PUBLIC },
		{ "192.168.1.1", LEARN_PRIVATE },
		{ "192.169.0.1", LEARN_PUBLIC },
		{ "198.51.100.1", LEARN_PUBLIC },
		{ "8.8.8.8", LEARN_PUBLIC },
		{ "::", LEARN_PRIVATE },
		{ "::1", LEARN_PRIVATE },
		{ "::ffff:10.1.2.3", LEARN_PRIVATE },
		{ "::ffff:127.0.0.1", LEARN_PRIVATE },
		{ "::ffff:0.0.0.0", LEARN_PRIVATE },
		{ "::ffff:8.8.8.8", LEARN_PUBLIC },
		{ "::10.1.2.3", LEARN_PRIVATE },
		{ "64:ff9b::10.1.2.3", LEARN_PRIVATE },
		{ "64:ff9b::8.8.8.8", LEARN_PUBLIC },
		{ "fc00::1", LEARN_PRIVATE },
		{ "fdff:ffff::1", LEARN_PRIVATE },
		{ "fe80::1", LEARN_PRIVATE },
		{ "febf::1", LEARN_PRIVATE },
		{ "fec0::1", LEARN_PRIVATE },
		{ "fe00::1", LEARN_PUBLIC },
		{ "fb00::1", LEARN_PUBLIC },
		{ "2001:db8::1", LEARN_PUBLIC },
		{ "2606:4700::1111", LEARN_PUBLIC },
		{ "223.255.255.255", LEARN_PUBLIC },
		{ "224.0.0.251", LEARN_PRIVATE },
		{ "239.1.2.3", LEARN_PRIVATE },
		{ "240.0.0.1", LEARN_PRIVATE },
		{ "255.255.255.255", LEARN_PRIVATE },
		{ "::ffff:224.0.0.1", LEARN_PRIVATE },
		{ "ff02::fb", LEARN_PRIVATE },
		{ "ff0e::1", LEARN_PRIVATE },
	};
	struct addr bad = { 0 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct addr a = A(cases[i].a);

		if (learn_classify(&a) != cases[i].c)
			fail_msg("%s: class %d, want %d", cases[i].a, learn_classify(&a),
				 cases[i].c);
	}
	assert_int_equal(learn_classify(&bad), LEARN_PRIVATE);
}

static void test_guard(void **state)
{
	struct learn *l = mk(NULL);
	struct addr a;

	(void)state;
	/* A name matched only by a wildcard: public only, metadata never. */
	assert_string_equal(learn(l, "x.example.com", false, NULL,
				  "198.51.100.1/60 10.0.0.1/60 127.0.0.1/60 169.254.169.254/60 "
				  "100.64.1.1/60 192.168.0.1/60 172.16.5.5/60 0.0.0.0/60",
				  0, 0),
			    "new private private metadata private private private private");
	assert_string_equal(learn(l, "x.example.com", false, NULL,
				  "2001:db8::1/60 ::1/60 fe80::1/60 fd12::1/60 fd00:ec2::254/60 "
				  "::ffff:10.0.0.1/60 ::ffff:198.51.100.9/60 ::/60",
				  0, 0),
			    "new private private private metadata private new private");
	/* Mapped IPv6 is learned as the IPv4 it is. */
	expect_ops("U 198.51.100.1 all @60; U 2001:db8::1 all @60; U 198.51.100.9 all @60");
	a = A("198.51.100.9");
	assert_int_equal(learn_names_of(l, &a, NULL, 0), 1);

	/* An exactly listed name may be private, never metadata. */
	assert_string_equal(learn(l, "db.internal", true, NULL,
				  "10.0.0.1/60 fd12::1/60 127.0.0.1/60 169.254.169.254/60 "
				  "fd00:ec2::254/60 ::ffff:169.254.169.254/60",
				  0, 0),
			    "new new new metadata metadata metadata");
	expect_ops("U 10.0.0.1 all @60; U fd12::1 all @60; U 127.0.0.1 all @60");

	/* Not an address at all. */
	struct dnsmsg_addr junk = { .addr = { .family = 99 }, .ttl = 60 };
	enum learn_verdict v = LEARN_NEW;

	assert_int_equal(learn_answer(l, "a.com", true, NULL, &junk, 1, 0, &OPS, &v), 0);
	assert_int_equal(v, LEARN_DROP_INVALID);
	expect_ops("");
	learn_free(l);
}

static void allow_private(struct learn_config *c)
{
	c->allow_private = true;
}

static void test_guard_allow_private(void **state)
{
	struct learn *l = mk(allow_private);

	(void)state;
	assert_string_equal(learn(l, "x.example.com", false, NULL,
				  "10.0.0.1/60 169.254.169.254/60 fd00:ec2::254/60 ::1/60",
				  0, 0),
			    "new new new new");
	expect_ops("U 10.0.0.1 all @60; U 169.254.169.254 all @60; U fd00:ec2::254 all @60; "
		   "U ::1 all @60");
	learn_free(l);
}

static void small_name_cap(struct learn_config *c)
{
	c->max_ips_per_name = 3;
}

static void test_per_name_eviction(void **state)
{
	struct learn *l = mk(small_name_cap);
	struct learn_value v;
	struct addr a;

	(void)state;
	assert_string_equal(learn(l, "a.com", true, NULL,
				  "198.51.100.1/60 198.51.100.2/60 198.51.100.3/60", 0, 0),
			    "new new new");
	expect_ops("U 198.51.100.1 all @60; U 198.51.100.2 all @60; U 198.51.100.3 all @60");
	/* A fourth evicts the oldest: one remove, one update. */
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.4/60", 1, 0), "new");
	expect_ops("D 198.51.100.1; U 198.51.100.4 all @61");
	/* A refresh makes .2 young again, so .3 goes next. */
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.2/60", 2, 0),
			    "refreshed");
	expect_ops("U 198.51.100.2 all @62");
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.5/60", 3, 0), "new");
	expect_ops("D 198.51.100.3; U 198.51.100.5 all @63");
	a = A("198.51.100.3");
	assert_int_equal(learn_lookup(l, &a, &v), -ENOENT);
	assert_int_equal(learn_count(l), 3);

	/* One answer with more than the cap: its first three, the rest refused. */
	assert_string_equal(learn(l, "b.com", true, NULL,
				  "203.0.113.1/60 203.0.113.2/60 203.0.113.3/60 203.0.113.4/60 "
				  "203.0.113.5/60",
				  4, 0),
			    "new new new name-full name-full");
	expect_ops("U 203.0.113.1 all @64; U 203.0.113.2 all @64; U 203.0.113.3 all @64");
	/* An answer repeating an address refreshes it (no op if unchanged). */
	assert_string_equal(learn(l, "b.com", true, NULL, "203.0.113.1/60 203.0.113.1/60", 4,
				  0),
			    "refreshed refreshed");
	expect_ops("");
	/* A later answer of three new ones replaces all three old ones. */
	assert_string_equal(learn(l, "b.com", true, NULL,
				  "203.0.113.7/60 203.0.113.8/60 203.0.113.9/60", 5, 0),
			    "new new new");
	expect_ops("D 203.0.113.2; U 203.0.113.7 all @65; D 203.0.113.3; "
		   "U 203.0.113.8 all @65; D 203.0.113.1; U 203.0.113.9 all @65");
	learn_free(l);
}

static void small_total(struct learn_config *c)
{
	c->max_total = 3;
	c->max_ips_per_name = 2;
}

static void test_total_cap(void **state)
{
	struct learn *l = mk(small_total);

	(void)state;
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.1/60 198.51.100.2/60", 0,
				  0), "new new");
	assert_string_equal(learn(l, "b.com", true, NULL, "198.51.100.3/60 198.51.100.4/60", 0,
				  0), "new total-full");
	expect_ops("U 198.51.100.1 all @60; U 198.51.100.2 all @60; U 198.51.100.3 all @60");
	/* A known address costs no slot. */
	assert_string_equal(learn(l, "b.com", true, NULL, "198.51.100.1/120", 1, 0), "added");
	expect_ops("U 198.51.100.1 all @121");
	/*
	 * a.com's oldest is .1, which b.com still vouches for: evicting it
	 * would free no slot, so .5 is refused and nothing is evicted.
	 */
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.5/60", 2, 0),
			    "total-full");
	expect_ops("");
	/* Confirm .1 for a.com: now .2 is its oldest, and evicting it frees one. */
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.1/60", 2, 0),
			    "refreshed");
	expect_ops(""); /* .1 is still all ports until 121 */
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.5/60", 3, 0), "new");
	expect_ops("D 198.51.100.2; U 198.51.100.5 all @63");
	assert_int_equal(learn_count(l), 3);
	/* Nothing frees a slot: refused, nothing evicted. */
	assert_string_equal(learn(l, "c.com", true, NULL, "198.51.100.6/60", 3, 0),
			    "total-full");
	expect_ops("");
	learn_free(l);
}

static void test_port_union(void **state)
{
	struct learn *l = mk(NULL);
	struct portset p443 = P(1, 443), p80 = P(1, 80), many1, many2;
	struct learn_value v;
	const char *names[4];
	struct addr a = A("198.51.100.1");

	(void)state;
	assert_string_equal(learn(l, "a.com", true, &p443, "198.51.100.1/100", 0, 0), "new");
	assert_string_equal(learn(l, "b.com", false, &p80, "198.51.100.1/200", 0, 0), "added");
	assert_string_equal(learn(l, "c.com", true, NULL, "198.51.100.1/50", 0, 0), "added");
	expect_ops("U 198.51.100.1 443 @100; U 198.51.100.1 80,443 @200; "
		   "U 198.51.100.1 all @200");
	assert_int_equal(learn_lookup(l, &a, &v), 0);
	assert_true(v.ports.all);
	assert_int_equal(v.expiry_ms, 200000);
	assert_int_equal(learn_names_of(l, &a, names, 4), 3);
	assert_string_equal(names[0], "c.com");
	assert_string_equal(names[1], "b.com");
	assert_string_equal(names[2], "a.com");

	/* c.com expires first: back to 80,443; then a.com: 80; then none. */
	assert_int_equal(next_expiry_s(l), 60);
	assert_int_equal(learn_sweep(l, 60000, &OPS), 0);
	expect_ops("U 198.51.100.1 80,443 @200");
	assert_int_equal(learn_sweep(l, 100000, &OPS), 0);
	expect_ops("U 198.51.100.1 80 @200");
	assert_int_equal(learn_sweep(l, 200000, &OPS), 0);
	expect_ops("D 198.51.100.1");
	assert_int_equal(learn_count(l), 0);
	assert_int_equal(next_expiry_s(l), UINT64_MAX);

	/* Two names of 10 ports each cannot share one rule: refused. */
	many1 = P(10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	many2 = P(10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20);
	assert_string_equal(learn(l, "a.com", true, &many1, "198.51.100.1/100", 0, 0), "new");
	assert_string_equal(learn(l, "b.com", true, &many2, "198.51.100.1/100", 0, 0), "ports");
	expect_ops("U 198.51.100.1 1,2,3,4,5,6,7,8,9,10 @100");
	assert_int_equal(learn_names_of(l, &a, NULL, 0), 1);
	learn_free(l);
}

static void test_refresh_extends(void **state)
{
	struct learn *l = mk(NULL);
	struct addr a = A("198.51.100.1");

	(void)state;
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.1/100", 0, 0), "new");
	expect_ops("U 198.51.100.1 all @100");
	assert_string_equal(learn(l, "A.Com.", true, NULL, "198.51.100.1/100", 50, 0),
			    "refreshed");
	expect_ops("U 198.51.100.1 all @150");
	/* A shorter TTL later never shortens what a client may hold. */
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.1/60", 60, 0),
			    "refreshed");
	expect_ops("");
	assert_int_equal(next_expiry_s(l), 150);
	assert_int_equal(learn_sweep(l, 149999, &OPS), 0);
	expect_ops("");
	assert_int_equal(learn_names_of(l, &a, NULL, 0), 1);
	assert_int_equal(learn_sweep(l, 150000, &OPS), 0);
	expect_ops("D 198.51.100.1");
	assert_int_equal(learn_names_of(l, &a, NULL, 0), 0);
	/* Learned again after expiry: new. */
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.1/100", 200, 0), "new");
	expect_ops("U 198.51.100.1 all @300");
	learn_free(l);
}

static void test_sweep_order(void **state)
{
	struct learn *l = mk(NULL);

	(void)state;
	assert_string_equal(learn(l, "a.com", true, NULL,
				  "198.51.100.3/300 198.51.100.1/100 198.51.100.2/200", 0, 0),
			    "new new new");
	assert_string_equal(learn(l, "b.com", true, NULL,
				  "198.51.100.4/150 198.51.100.1/250", 0, 0), "new added");
	expect_ops("U 198.51.100.3 all @300; U 198.51.100.1 all @100; U 198.51.100.2 all @200; "
		   "U 198.51.100.4 all @150; U 198.51.100.1 all @250");
	assert_int_equal(next_expiry_s(l), 100);
	/* .1 (a.com's vouch at 100: b.com still vouches), .4 at 150, .2 at 200. */
	assert_int_equal(learn_sweep(l, 200000, &OPS), 0);
	expect_ops("D 198.51.100.4; D 198.51.100.2");
	/* a.com's vouch for .1 fell due; its value (all, @250) did not change. */
	struct addr a = A("198.51.100.1");
	const char *names[2];

	assert_int_equal(learn_names_of(l, &a, names, 2), 1);
	assert_string_equal(names[0], "b.com");
	assert_int_equal(next_expiry_s(l), 250);
	assert_int_equal(learn_sweep(l, 1000000, &OPS), 0);
	expect_ops("D 198.51.100.1; D 198.51.100.3");
	assert_int_equal(learn_count(l), 0);
	learn_free(l);
}

static void addr_cap2(struct learn_config *c)
{
	c->max_names_per_addr = 2;
}

static void test_names_per_addr(void **state)
{
	struct learn *l = mk(addr_cap2);
	struct addr a = A("198.51.100.1");
	const char *names[3];

	(void)state;
	assert_string_equal(learn(l, "n1.x.com", false, NULL, "198.51.100.1/100", 0, 0), "new");
	assert_string_equal(learn(l, "n2.x.com", false, NULL, "198.51.100.1/300", 1, 0),
			    "added");
	assert_string_equal(learn(l, "n3.x.com", false, NULL, "198.51.100.1/200", 2, 0),
			    "added");
	expect_ops("U 198.51.100.1 all @100; U 198.51.100.1 all @301");
	assert_int_equal(learn_names_of(l, &a, names, 3), 2);
	assert_string_equal(names[0], "n3.x.com");
	assert_string_equal(names[1], "n2.x.com");
	/* names[] holds at most max; the count is all of them. */
	assert_int_equal(learn_names_of(l, &a, names, 1), 2);
	assert_string_equal(names[0], "n3.x.com");
	assert_int_equal(learn_names_of(l, &(struct addr){ .family = AF_INET }, names, 3), 0);
	/* n1's vouch went with its eviction: nothing is due at 100. */
	assert_int_equal(next_expiry_s(l), 202);
	learn_free(l);
}

static void test_failures(void **state)
{
	struct learn *l = mk(NULL);
	struct learn_value v;
	struct addr a = A("198.51.100.1");
	uint64_t ms;

	(void)state;
	/* An update that fails learns nothing. */
	F.fail_update = -ENOSPC;
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.1/100 198.51.100.2/100",
				  0, -ENOSPC), "error error");
	assert_int_equal(learn_count(l), 0);
	assert_int_equal(learn_next_expiry(l, &ms), -ENOENT);
	F.fail_update = 0;
	assert_string_equal(learn(l, "a.com", true, &(struct portset){ .n = 1, .ports = { 443 } },
				  "198.51.100.1/100", 0, 0), "new");
	expect_ops("U 198.51.100.1 443 @100");
	/* A failed refresh keeps the map's old value in the books. */
	F.fail_update = -EIO;
	assert_string_equal(learn(l, "b.com", true, NULL, "198.51.100.1/300", 10, -EIO),
			    "error");
	assert_string_equal(learn(l, "a.com", true, NULL, "198.51.100.1/300", 10, -EIO),
			    "error");
	F.fail_update = 0;
	assert_int_equal(learn_lookup(l, &a, &v), 0);
	assert_false(v.ports.all);
	assert_int_equal(v.expiry_ms, 100000);
	assert_int_equal(learn_names_of(l, &a, NULL, 0), 1);
	assert_int_equal(next_expiry_s(l), 100);

	/* A failed remove is retried, and the timer says "now" meanwhile. */
	F.fail_remove = -EBUSY;
	assert_int_equal(learn_sweep(l, 100000, &OPS), -EBUSY);
	assert_int_equal(learn_count(l), 1);
	assert_int_equal(learn_names_of(l, &a, NULL, 0), 0);
	assert_int_equal(learn_next_expiry(l, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(learn_lookup(l, &a, &v), 0); /* the map still has it */
	F.fail_remove = -ENOENT; /* already gone counts as done */
	assert_int_equal(learn_sweep(l, 100001, &OPS), 0);
	assert_int_equal(learn_count(l), 0);
	assert_int_equal(learn_next_expiry(l, &ms), -ENOENT);
	F.fail_remove = 0;

	/* Bad arguments change nothing. */
	char n254[300];

	memset(n254, 'a', 254);
	n254[254] = '\0';
	struct dnsmsg_addr one = { .addr = A("198.51.100.1"), .ttl = 60 };

	assert_int_equal(learn_answer(l, "", true, NULL, &one, 1, 0, &OPS, NULL), -EINVAL);
	assert_int_equal(learn_answer(l, ".", true, NULL, &one, 1, 0, &OPS, NULL), -EINVAL);
	assert_int_equal(learn_answer(l, n254, true, NULL, &one, 1, 0, &OPS, NULL), -EINVAL);
	assert_int_equal(learn_answer(l, NULL, true, NULL, &one, 1, 0, &OPS, NULL), -EINVAL);
	assert_int_equal(learn_answer(l, "a.com", true, NULL, NULL, 1, 0, &OPS, NULL), -EINVAL);
	assert_int_equal(learn_answer(l, "a.com", true, NULL, &one, 1, 0, NULL, NULL), -EINVAL);
	assert_int_equal(learn_sweep(l, 0, NULL), -EINVAL);
	assert_int_equal(learn_count(l), 0);
	expect_ops("");
	/* No addresses, no verdicts: fine. */
	assert_int_equal(learn_answer(l, "a.com", true, NULL, NULL, 0, 0, &OPS, NULL), 0);
	learn_free(l);
}

static void big(struct learn_config *c)
{
	c->max_ips_per_name = 100;
	c->max_total = 10000;
	c->min_ttl_s = 1;
}

/* 10k addresses over 100 names: all learned, found, and expired in order. */
static void test_10k(void **state)
{
	struct learn *l = mk(big);
	struct dnsmsg_addr addrs[100];
	char name[32];
	uint64_t ms;

	(void)state;
	F.quiet = true;
	for (int n = 0; n < 100; n++) {
		snprintf(name, sizeof(name), "n%d.example", n);
		for (int i = 0; i < 100; i++) {
			int k = n * 100 + i;

			memset(&addrs[i], 0, sizeof(addrs[i]));
			if (k % 2) {
				addrs[i].addr.family = AF_INET;
				addrs[i].addr.bytes[0] = 198;
				addrs[i].addr.bytes[1] = 51;
				addrs[i].addr.bytes[2] = (uint8_t)(k >> 8);
				addrs[i].addr.bytes[3] = (uint8_t)k;
			} else {
				addrs[i].addr = A("2001:db8::");
				addrs[i].addr.bytes[14] = (uint8_t)(k >> 8);
				addrs[i].addr.bytes[15] = (uint8_t)k;
			}
			addrs[i].ttl = 1 + (uint32_t)(k % 1000); /* 1..1000 s */
		}
		assert_int_equal(learn_answer(l, name, true, NULL, addrs, 100, 0, &OPS, NULL), 0);
	}
	assert_int_equal(learn_count(l), 10000);
	assert_int_equal(F.updates, 10000);
	/* One more is over the total. */
	enum learn_verdict v;
	struct dnsmsg_addr extra = { .addr = A("203.0.113.1"), .ttl = 60 };

	assert_int_equal(learn_answer(l, "other.example", true, NULL, &extra, 1, 0, &OPS, &v),
			 0);
	assert_int_equal(v, LEARN_DROP_TOTAL_FULL);
	/* Every address is there, with its name. */
	for (int k = 0; k < 10000; k += 97) {
		struct addr a = { 0 };
		struct learn_value val;
		const char *nm;

		if (k % 2) {
			a.family = AF_INET;
			a.bytes[0] = 198;
			a.bytes[1] = 51;
			a.bytes[2] = (uint8_t)(k >> 8);
			a.bytes[3] = (uint8_t)k;
		} else {
			a = A("2001:db8::");
			a.bytes[14] = (uint8_t)(k >> 8);
			a.bytes[15] = (uint8_t)k;
		}
		assert_int_equal(learn_lookup(l, &a, &val), 0);
		assert_int_equal(val.expiry_ms, (uint64_t)(1 + k % 1000) * 1000);
		assert_int_equal(learn_names_of(l, &a, &nm, 1), 1);
		snprintf(name, sizeof(name), "n%d.example", k / 100);
		assert_string_equal(nm, name);
	}
	/* TTLs 1..500 s are due at 500 s: exactly half. */
	assert_int_equal(learn_next_expiry(l, &ms), 0);
	assert_int_equal(ms, 1000);
	assert_int_equal(learn_sweep(l, 500000, &OPS), 0);
	assert_int_equal(F.removes, 5000);
	assert_int_equal(learn_count(l), 5000);
	assert_int_equal(learn_next_expiry(l, &ms), 0);
	assert_int_equal(ms, 501000);
	assert_int_equal(learn_sweep(l, 1000000, &OPS), 0);
	assert_int_equal(F.removes, 10000);
	assert_int_equal(learn_count(l), 0);
	assert_int_equal(learn_next_expiry(l, &ms), -ENOENT);
	learn_free(l);
}

static void test_verdict_str(void **state)
{
	(void)state;
	for (int v = LEARN_NEW; v <= LEARN_ERROR; v++)
		assert_string_not_equal(learn_verdict_str(v), "?");
	assert_false(learn_verdict_dropped(LEARN_REFRESHED));
	assert_true(learn_verdict_dropped(LEARN_DROP_METADATA));
	assert_true(learn_verdict_dropped(LEARN_ERROR));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ttl_clamp),
		cmocka_unit_test(test_ttl_custom),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_guard_allow_private),
		cmocka_unit_test(test_per_name_eviction),
		cmocka_unit_test(test_total_cap),
		cmocka_unit_test(test_port_union),
		cmocka_unit_test(test_refresh_extends),
		cmocka_unit_test(test_sweep_order),
		cmocka_unit_test(test_names_per_addr),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_10k),
		cmocka_unit_test(test_verdict_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
