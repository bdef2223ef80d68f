// SPDX-License-Identifier: GPL-2.0-only
/* entry_parse(), entry_format(), name_validate() and the addr helpers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "addr.h"
#include "entry.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void assert_contains(const char *hay, const char *needle, const char *ctx)
{
	if (!strstr(hay, needle))
		fail_msg("%s: message \"%s\" does not contain \"%s\"", ctx, hay, needle);
}

/* ---- malformed entries ------------------------------------------------ */

struct bad_case {
	const char *in;
	const char *why; /* a second substring the message must hold */
};

static const struct bad_case bad_entries[] = {
	{ "", "empty" },
	{ "10.0.0.1/33", "prefix length 33 is out of range (0-32)" },
	{ "2001:db8::/129", "prefix length 129 is out of range (0-128)" },
	{ "198.51.100.7/24", "did you mean 198.51.100.0/24?" },
	{ "198.51.100.7/24:443", "did you mean 198.51.100.0/24:443?" },
	{ "2001:db8::1/64", "did you mean 2001:db8::/64?" },
	{ "10.0.0.0/-1", "\"-1\" is not a number" },
	{ "10.0.0.0/abc", "\"abc\" is not a number" },
	{ "10.0.0.0/", "missing prefix length" },
	{ "10.0.0.0/24/8", "\"24/8\" is not a number" },
	{ "10.0.0.0/08", "leading zero" },
	{ "10.0.0.0/4294967328", "out of range" },
	{ "/24", "missing address" },
	{ "1.2.3.4:0", "port 0 is not allowed" },
	{ "1.2.3.4:65536", "port 65536 is out of range (1-65535)" },
	{ "1.2.3.4:18446744073709551616", "out of range" },
	{ "1.2.3.4:http", "port \"http\" is not a number" },
	{ "1.2.3.4:+80", "port \"+80\" is not a number" },
	{ "1.2.3.4:0443", "leading zero" },
	{ "example.com:", "missing port" },
	{ "example.com:-1", "port \"-1\" is not a number" },
	{ ":443", "missing address or name" },
	{ "[2001:db8::1", "missing \"]\"" },
	{ "[2001:db8::1]443", "unexpected \"443\" after \"]\"" },
	{ "[2001:db8::1]:", "missing port" },
	{ "[2001:db8::1]:99999", "port 99999 is out of range" },
	{ "[]", "nothing between" },
	{ "[]:443", "nothing between" },
	{ "fe80::1%eth0", "zone \"%eth0\"" },
	{ "[fe80::1%eth0]:443", "zone \"%eth0\"" },
	{ "010.1.1.1", "not a valid IPv4 address or domain name" },
	{ "1.2.3", "not a valid IPv4 address or domain name" },
	{ "256.1.1.1", "not a valid IPv4 address or domain name" },
	{ "1.2.3.4.5", "not a valid IPv4 address or domain name" },
	{ "0x7f.0.0.1", "not a valid IPv4 address or domain name" },
	{ "1.2.3.999", "not a valid IPv4 address or domain name" },
	{ "1.2.3.4x", "not a valid IPv4 address or domain name" },
	{ "1.2.3.4.", "not a valid IPv4 address or domain name" },
	{ " 1.2.3.4", "whitespace" },
	{ "1.2.3.4 ", "whitespace" },
	{ "1.2.3.4/ 24", "whitespace" },
	{ "exa mple.com", "whitespace" },
	{ "1.2.3.4/24x", "\"24x\" is not a number" },
	{ "1.2.3.4:443x", "port \"443x\" is not a number" },
	{ "1.2.3.4,5.6.7.8", "invalid character ','" },
	{ "2001:db8::/32:443", "needs brackets: [2001:db8::/32]:443" },
	{ "2001:db8::zz", "not a valid IPv6 address" },
	{ "[1.2.3.4]:80", "brackets are only for IPv6" },
	{ "[example.com]:443", "not an IPv6 address" },
	{ "::ffff:1.2.3.0/95", "shorter than the IPv4-mapped range" },
	{ "example.com/24", "not an IP address" },
	{ "*", "wildcard" },
	{ "*.", "needs a domain after" },
	{ "*..", "needs a domain after" },
	{ "*.:443", "needs a domain after" },
	{ "*.*.example.com", "only allowed as the whole first label" },
	{ "**.example.com", "only allowed as the whole first label" },
	{ "*a.example.com", "only allowed as the whole first label" },
	{ "a*.example.com", "only allowed as the whole first label" },
	{ "a.*.example.com", "only allowed as the whole first label" },
	{ "example.*", "only allowed as the whole first label" },
	{ "*example.com", "only allowed as the whole first label" },
	{ "*.-a.com", "starts with a hyphen" },
	{ "*..example.com", "empty label" },
	{ "*.1.2.3.4", "not a valid IPv4 address or domain name" },
	{ "*.example.com:0", "port 0 is not allowed" },
	{ "foo_bar.com", "underscore" },
};

/* Inputs whose quoted form in the message is escaped. */
static const struct bad_case bad_escaped[] = {
	{ "1.2.3.4\x01", "1.2.3.4\\x01" },
	{ "exa\x7fmple.com", "exa\\x7fmple.com" },
	{ "b\xc3\xbc" "cher.de", "b\\xc3\\xbccher.de" },
	{ "ex\"ample.com", "ex\\\"ample.com" },
};

static void test_bad_entries(void **state)
{
	char err[1024], quoted[600];
	struct entry e, before;
	size_t i;

	(void)state;
	assert_true(ARRAY_SIZE(bad_entries) >= 35);
	for (i = 0; i < ARRAY_SIZE(bad_entries); i++) {
		const struct bad_case *c = &bad_entries[i];

		memset(&e, 0xa5, sizeof(e));
		before = e;
		err[0] = '\0';
		if (entry_parse(c->in, &e, err, sizeof(err)) != -EINVAL)
			fail_msg("entry \"%s\" was accepted", c->in);
		snprintf(quoted, sizeof(quoted), "\"%s\"", c->in);
		assert_contains(err, quoted, c->in);
		assert_contains(err, c->why, c->in);
		/* Out-params are only set on success. */
		assert_memory_equal(&e, &before, sizeof(e));
	}
}

static void test_bad_entries_escaped(void **state)
{
	char err[1024];
	struct entry e;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_escaped); i++) {
		assert_int_equal(entry_parse(bad_escaped[i].in, &e, err, sizeof(err)), -EINVAL);
		assert_contains(err, bad_escaped[i].why, bad_escaped[i].why);
		/* No raw control or non-ASCII byte reaches the message. */
		for (const char *s = err; *s; s++)
			assert_true((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
	}
}

static void test_err_spec_example(void **state)
{
	char err[256];
	struct entry e;

	(void)state;
	assert_int_equal(entry_parse("10.0.0.1/33", &e, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "invalid entry \"10.0.0.1/33\": prefix length 33 is out of range (0-32)");
	/* NULL and a tiny buffer are tolerated. */
	assert_int_equal(entry_parse("10.0.0.1/33", &e, NULL, 0), -EINVAL);
	assert_int_equal(entry_parse("10.0.0.1/33", &e, err, 4), -EINVAL);
	assert_string_equal(err, "inv");
	assert_int_equal(entry_parse(NULL, &e, err, sizeof(err)), -EINVAL);
}

/* ---- good entries ----------------------------------------------------- */

struct good_case {
	const char *in;
	const char *canon;
	enum entry_kind kind;
	int family; /* 0 for domains */
	unsigned int prefixlen;
	unsigned int port;
};

static const struct good_case good_entries[] = {
	{ "198.51.100.7", "198.51.100.7", ENTRY_CIDR, AF_INET, 32, 0 },
	{ "198.51.100.7/32", "198.51.100.7", ENTRY_CIDR, AF_INET, 32, 0 },
	{ "198.51.100.0/24", "198.51.100.0/24", ENTRY_CIDR, AF_INET, 24, 0 },
	{ "198.51.100.7:443", "198.51.100.7:443", ENTRY_CIDR, AF_INET, 32, 443 },
	{ "198.51.100.0/24:443", "198.51.100.0/24:443", ENTRY_CIDR, AF_INET, 24, 443 },
	{ "0.0.0.0/0", "0.0.0.0/0", ENTRY_CIDR, AF_INET, 0, 0 },
	{ "10.0.0.0/8:1", "10.0.0.0/8:1", ENTRY_CIDR, AF_INET, 8, 1 },
	{ "1.2.3.4:65535", "1.2.3.4:65535", ENTRY_CIDR, AF_INET, 32, 65535 },
	{ "2001:db8::1", "2001:db8::1", ENTRY_CIDR, AF_INET6, 128, 0 },
	{ "2001:DB8:0:0::1", "2001:db8::1", ENTRY_CIDR, AF_INET6, 128, 0 },
	{ "2001:db8::1/128", "2001:db8::1", ENTRY_CIDR, AF_INET6, 128, 0 },
	{ "2001:db8::/32", "2001:db8::/32", ENTRY_CIDR, AF_INET6, 32, 0 },
	{ "[2001:db8::1]", "2001:db8::1", ENTRY_CIDR, AF_INET6, 128, 0 },
	{ "[2001:db8::1]:443", "[2001:db8::1]:443", ENTRY_CIDR, AF_INET6, 128, 443 },
	{ "[2001:db8::/32]:443", "[2001:db8::/32]:443", ENTRY_CIDR, AF_INET6, 32, 443 },
	/* Bare IPv6 never has a port: this is the address ...:1bb. */
	{ "2001:db8::1:443", "2001:db8::1:443", ENTRY_CIDR, AF_INET6, 128, 0 },
	{ "::/0", "::/0", ENTRY_CIDR, AF_INET6, 0, 0 },
	{ "::1", "::1", ENTRY_CIDR, AF_INET6, 128, 0 },
	{ "2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1", ENTRY_CIDR, AF_INET6,
	  128, 0 },
	/* IPv4-mapped IPv6 becomes the IPv4 it is. */
	{ "::ffff:198.51.100.7", "198.51.100.7", ENTRY_CIDR, AF_INET, 32, 0 },
	{ "::FFFF:198.51.100.0/120", "198.51.100.0/24", ENTRY_CIDR, AF_INET, 24, 0 },
	{ "::ffff:198.51.100.7/128", "198.51.100.7", ENTRY_CIDR, AF_INET, 32, 0 },
	{ "[::ffff:198.51.100.7]:443", "198.51.100.7:443", ENTRY_CIDR, AF_INET, 32, 443 },
	{ "::ffff:0:0/96", "0.0.0.0/0", ENTRY_CIDR, AF_INET, 0, 0 },
	{ "example.com", "example.com", ENTRY_DOMAIN, 0, 0, 0 },
	{ "Example.COM.", "example.com", ENTRY_DOMAIN, 0, 0, 0 },
	{ "example.com:443", "example.com:443", ENTRY_DOMAIN, 0, 0, 443 },
	{ "API.GitHub.com.:8443", "api.github.com:8443", ENTRY_DOMAIN, 0, 0, 8443 },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example", ENTRY_DOMAIN, 0, 0, 0 },
	{ "localhost", "localhost", ENTRY_DOMAIN, 0, 0, 0 },
	{ "3com.com", "3com.com", ENTRY_DOMAIN, 0, 0, 0 },
	{ "*.example.com", "*.example.com", ENTRY_DOMAIN, 0, 0, 0 },
	{ "*.Example.COM.", "*.example.com", ENTRY_DOMAIN, 0, 0, 0 },
	{ "*.example.com:443", "*.example.com:443", ENTRY_DOMAIN, 0, 0, 443 },
	{ "*.com", "*.com", ENTRY_DOMAIN, 0, 0, 0 },
	{ "*.xn--bcher-kva.example", "*.xn--bcher-kva.example", ENTRY_DOMAIN, 0, 0, 0 },
};

static void test_good_entries(void **state)
{
	char buf[ENTRY_STRLEN], err[1024];
	struct entry e;
	size_t i;

	(void)state;
	assert_true(ARRAY_SIZE(good_entries) >= 15);
	for (i = 0; i < ARRAY_SIZE(good_entries); i++) {
		const struct good_case *c = &good_entries[i];

		err[0] = '\0';
		if (entry_parse(c->in, &e, err, sizeof(err)))
			fail_msg("entry \"%s\" rejected: %s", c->in, err);
		assert_int_equal(e.kind, c->kind);
		assert_int_equal(e.port, c->port);
		if (c->kind == ENTRY_CIDR) {
			assert_int_equal(e.addr.family, c->family);
			assert_int_equal(e.prefixlen, c->prefixlen);
			assert_string_equal(e.name, "");
		}
		entry_format(&e, buf, sizeof(buf));
		if (strcmp(buf, c->canon))
			fail_msg("\"%s\" formats as \"%s\", want \"%s\"", c->in, buf, c->canon);
		if (c->kind == ENTRY_DOMAIN) {
			const char *colon = strchr(c->canon, ':');
			size_t len = colon ? (size_t)(colon - c->canon) : strlen(c->canon);

			const char *nm = c->canon;

			/* The stored name is without the wildcard's "*.". */
			assert_int_equal(e.wildcard, strncmp(nm, "*.", 2) == 0);
			if (e.wildcard) {
				nm += 2;
				len -= 2;
			}
			assert_int_equal(strlen(e.name), len);
			assert_memory_equal(e.name, nm, len);
		}
	}
}

static void assert_entry_equal(const struct entry *a, const struct entry *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->wildcard, b->wildcard);
	assert_int_equal(a->port, b->port);
	assert_string_equal(a->name, b->name);
	if (a->kind == ENTRY_CIDR) {
		assert_int_equal(a->prefixlen, b->prefixlen);
		assert_true(addr_equal(&a->addr, &b->addr));
	}
}

static void test_round_trip(void **state)
{
	char buf[ENTRY_STRLEN], buf2[ENTRY_STRLEN], err[1024];
	struct entry a, b;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good_entries); i++) {
		assert_int_equal(entry_parse(good_entries[i].in, &a, err, sizeof(err)), 0);
		entry_format(&a, buf, sizeof(buf));
		if (entry_parse(buf, &b, err, sizeof(err)))
			fail_msg("canonical \"%s\" does not parse back: %s", buf, err);
		assert_entry_equal(&a, &b);
		assert_string_equal(entry_format(&b, buf2, sizeof(buf2)), buf);
	}
}

static void test_mapped_v4_bytes(void **state)
{
	static const uint8_t want[4] = { 198, 51, 100, 0 };
	char err[256];
	struct entry e;

	(void)state;
	assert_int_equal(entry_parse("::ffff:198.51.100.0/120:", &e, err, sizeof(err)), -EINVAL);
	assert_int_equal(entry_parse("[::ffff:198.51.100.0/120]:53", &e, err, sizeof(err)), 0);
	assert_int_equal(e.addr.family, AF_INET);
	assert_memory_equal(e.addr.bytes, want, 4);
	assert_int_equal(e.prefixlen, 24);
	assert_int_equal(e.port, 53);
	/* Host bits in the mapped form are reported in IPv4 terms. */
	assert_int_equal(entry_parse("::ffff:198.51.100.7/120", &e, err, sizeof(err)), -EINVAL);
	assert_contains(err, "did you mean 198.51.100.0/24?", "mapped host bits");
}

static void test_format_small_buffer(void **state)
{
	struct entry e;
	char buf[8];

	(void)state;
	assert_int_equal(entry_parse("[2001:db8::/32]:443", &e, NULL, 0), 0);
	assert_ptr_equal(entry_format(&e, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "[2001:d");
}

/* ---- names ------------------------------------------------------------ */

static char label63[64], label64[65], name253[254], name254[255], name253dot[255];

static void build_long_names(void)
{
	memset(label63, 'a', 63);
	memset(label64, 'b', 64);
	/* 3 * 63 + 61 + 3 dots = 253 */
	snprintf(name253, sizeof(name253), "%.63s.%.63s.%.63s.%.61s", label63, label63, label63,
		 label63);
	snprintf(name254, sizeof(name254), "%.63s.%.63s.%.63s.%.62s", label63, label63, label63,
		 label63);
	snprintf(name253dot, sizeof(name253dot), "%s.", name253);
}

struct name_case {
	const char *in;
	const char *quoted; /* how the message names it; NULL: the input itself */
	const char *why;
};

static const struct name_case bad_names_static[] = {
	{ "", NULL, "empty" },
	{ ".", NULL, "root" },
	{ "..", NULL, "empty label" },
	{ "a..b", NULL, "empty label" },
	{ ".a", NULL, "empty label" },
	{ ".example.com", NULL, "empty label" },
	{ "example.com..", NULL, "empty label" },
	{ "-a.com", NULL, "label \"-a\" starts with a hyphen" },
	{ "a-.com", NULL, "label \"a-\" ends with a hyphen" },
	{ "www.-b.com", NULL, "starts with a hyphen" },
	{ "example.com-", NULL, "ends with a hyphen" },
	{ "foo_bar.com", NULL, "underscore" },
	{ "_dmarc.example.com", NULL, "underscore" },
	{ "exa mple.com", NULL, "whitespace" },
	{ "a\tb.com", "a\\x09b.com", "whitespace" },
	{ "a\x01" "b.com", "a\\x01b.com", "control character" },
	{ "ex\x7f" "ample.com", "ex\\x7fample.com", "control character" },
	{ "*.example.com", NULL, "wildcard" },
	{ "foo.*.com", NULL, "wildcard" },
	{ "*", NULL, "wildcard" },
	{ "b\xc3\xbc" "cher.de", "b\\xc3\\xbccher.de", "punycode" },
	{ "\xff.com", "\\xff.com", "non-ASCII" },
	{ "exa!mple.com", NULL, "invalid character '!'" },
	{ "a/b.com", NULL, "invalid character '/'" },
	{ "user@example.com", NULL, "invalid character '@'" },
	{ "example.com:443", NULL, "invalid character ':'" },
	{ "1.2.3.999", NULL, "not a valid IPv4 address or domain name" },
	{ "123", NULL, "not a valid IPv4 address or domain name" },
	{ "example.123.", NULL, "not a valid IPv4 address or domain name" },
};

static void check_bad_name(const char *in, const char *quoted, const char *why)
{
	char err[2048], want[1024];
	struct entry e;

	snprintf(want, sizeof(want), "\"%s\"", quoted ? quoted : in);
	err[0] = '\0';
	if (name_validate(in, err, sizeof(err)) != -EINVAL)
		fail_msg("name \"%s\" was accepted", in);
	assert_contains(err, "invalid domain name", in);
	assert_contains(err, want, in);
	assert_contains(err, why, in);

	/*
	 * entry_parse() names the same problem (except for ":443" which it
	 * splits, and "*.NAME", a wildcard entry but not a name to resolve).
	 */
	if (strchr(in, ':') || strncmp(in, "*.", 2) == 0)
		return;
	err[0] = '\0';
	assert_int_equal(entry_parse(in, &e, err, sizeof(err)), -EINVAL);
	assert_contains(err, want, in);
}

static void test_bad_names(void **state)
{
	size_t i;

	(void)state;
	assert_true(ARRAY_SIZE(bad_names_static) + 2 >= 22);
	for (i = 0; i < ARRAY_SIZE(bad_names_static); i++)
		check_bad_name(bad_names_static[i].in, bad_names_static[i].quoted,
			       bad_names_static[i].why);

	char l64[100];

	snprintf(l64, sizeof(l64), "%s.com", label64);
	check_bad_name(l64, NULL, "is 64 characters long (max 63)");
	check_bad_name(name254, NULL, "name is 254 characters long (max 253)");
}

static void test_good_names(void **state)
{
	char err[1024], n[300];
	struct entry e;
	const char *good[] = {
		"example.com", "example.com.", "EXAMPLE.com", "xn--bcher-kva.example",
		"a", "a-b.c-d.e", "0.example", "123.example.com", "x1.y2",
		"xn--80ak6aa92e.com",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++)
		if (name_validate(good[i], err, sizeof(err)))
			fail_msg("\"%s\" rejected: %s", good[i], err);

	snprintf(n, sizeof(n), "%s.com", label63);
	assert_int_equal(name_validate(n, err, sizeof(err)), 0);
	assert_int_equal(strlen(name253), 253);
	assert_int_equal(name_validate(name253, err, sizeof(err)), 0);
	assert_int_equal(name_validate(name253dot, err, sizeof(err)), 0);

	/* entry_parse keeps all 253 characters and drops the trailing dot. */
	assert_int_equal(entry_parse(name253dot, &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, ENTRY_DOMAIN);
	assert_string_equal(e.name, name253);

	/* Lowercased, trailing dot gone. */
	assert_int_equal(entry_parse("WWW.Example.ORG.", &e, err, sizeof(err)), 0);
	assert_string_equal(e.name, "www.example.org");
	assert_int_equal(entry_parse("XN--BCHER-KVA.Example:443", &e, err, sizeof(err)), 0);
	assert_string_equal(e.name, "xn--bcher-kva.example");
	assert_int_equal(e.port, 443);

	/* The longest name with the longest port fits ENTRY_STRLEN. */
	snprintf(n, sizeof(n), "%s:65535", name253);
	assert_int_equal(entry_parse(n, &e, err, sizeof(err)), 0);
	char buf[ENTRY_STRLEN];

	assert_string_equal(entry_format(&e, buf, sizeof(buf)), n);
}

/* ---- wildcards -------------------------------------------------------- */

static void test_wildcards(void **state)
{
	char err[1024], n[300], buf[ENTRY_STRLEN];
	struct entry e;

	(void)state;
	assert_int_equal(entry_parse("*.Sub.Example.com.:8443", &e, err, sizeof(err)), 0);
	assert_int_equal(e.kind, ENTRY_DOMAIN);
	assert_true(e.wildcard);
	assert_string_equal(e.name, "sub.example.com");
	assert_int_equal(e.port, 8443);
	assert_string_equal(entry_format(&e, buf, sizeof(buf)), "*.sub.example.com:8443");

	/* A plain name is not a wildcard. */
	assert_int_equal(entry_parse("example.com", &e, err, sizeof(err)), 0);
	assert_false(e.wildcard);

	/* "*." plus 251 characters is 253: the longest wildcard. */
	snprintf(n, sizeof(n), "*.%.63s.%.63s.%.63s.%.59s", label63, label63, label63, label63);
	assert_int_equal(strlen(n), 253);
	assert_int_equal(entry_parse(n, &e, err, sizeof(err)), 0);
	assert_true(e.wildcard);
	assert_int_equal(strlen(e.name), 251);
	snprintf(n, sizeof(n), "*.%s:65535", name253 + 2);
	assert_int_equal(entry_parse(n, &e, err, sizeof(err)), 0);
	assert_string_equal(entry_format(&e, buf, sizeof(buf)), n);

	/* One more is too long, though the name after "*." alone is not. */
	snprintf(n, sizeof(n), "*.%.63s.%.63s.%.63s.%.60s", label63, label63, label63, label63);
	memset(&e, 0x5a, sizeof(e));
	assert_int_equal(entry_parse(n, &e, err, sizeof(err)), -EINVAL);
	assert_contains(err, "name is 254 characters long (max 253)", "long wildcard");
	assert_int_equal(e.port, 0x5a5a); /* untouched */

	/* A 64-character label after "*." is still a bad label. */
	snprintf(n, sizeof(n), "*.%s.com", label64);
	assert_int_equal(entry_parse(n, &e, err, sizeof(err)), -EINVAL);
	assert_contains(err, "is 64 characters long (max 63)", "wildcard label");
}

/* ---- addr helpers ----------------------------------------------------- */

static struct addr A(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a))
		fail_msg("addr_parse(\"%s\") failed", s);
	return a;
}

static void test_addr(void **state)
{
	struct addr a, b;
	char buf[ADDR_STRLEN];

	(void)state;
	a = A("::ffff:10.1.2.3");
	assert_int_equal(a.family, AF_INET);
	assert_string_equal(addr_format(&a, buf, sizeof(buf)), "10.1.2.3");
	a = A("2001:DB8::0:1");
	assert_string_equal(addr_format(&a, buf, sizeof(buf)), "2001:db8::1");
	b = A("2001:db8::1");
	assert_true(addr_equal(&a, &b));
	b = A("2001:db8::2");
	assert_false(addr_equal(&a, &b));

	memset(&b, 0x5a, sizeof(b));
	assert_int_equal(addr_parse("1.2.3", &b), -EINVAL);
	assert_int_equal(addr_parse("010.1.1.1", &b), -EINVAL);
	assert_int_equal(addr_parse("fe80::1%eth0", &b), -EINVAL);
	assert_int_equal(addr_parse("[::1]", &b), -EINVAL);
	assert_int_equal(addr_parse("", &b), -EINVAL);
	assert_int_equal(addr_parse(NULL, &b), -EINVAL);
	assert_int_equal(b.family, 0x5a5a5a5a);

	a = A("10.0.0.0");
	assert_true(addr_host_bits_clear(&a, 8));
	assert_false(addr_host_bits_clear(&a, 0));
	a = A("0.0.0.0");
	assert_true(addr_host_bits_clear(&a, 0));
	a = A("10.128.0.0");
	assert_true(addr_host_bits_clear(&a, 9));
	assert_false(addr_host_bits_clear(&a, 8));
	a = A("2001:db8::1");
	assert_false(addr_host_bits_clear(&a, 127));
	assert_true(addr_host_bits_clear(&a, 128));

	a = A("10.0.0.0");
	b = A("10.255.1.2");
	assert_true(addr_prefix_covers(&a, 8, &b, 32));
	assert_false(addr_prefix_covers(&b, 32, &a, 8));
	assert_true(addr_prefix_covers(&a, 0, &b, 32));
	b = A("11.0.0.1");
	assert_false(addr_prefix_covers(&a, 8, &b, 32));
	assert_true(addr_prefix_covers(&a, 4, &b, 32)); /* 0000 1010 vs 0000 1011 */
	assert_false(addr_prefix_covers(&a, 8, &b, 8));
	b = A("::a00:1");
	assert_false(addr_prefix_covers(&a, 0, &b, 128)); /* families differ */
	a = A("2001:db8::");
	b = A("2001:db8:ffff::1");
	assert_true(addr_prefix_covers(&a, 32, &b, 128));
	assert_false(addr_prefix_covers(&a, 33, &b, 128));
	assert_false(addr_prefix_covers(&a, 32, &b, 129));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_bad_entries_escaped),
		cmocka_unit_test(test_err_spec_example),
		cmocka_unit_test(test_good_entries),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_mapped_v4_bytes),
		cmocka_unit_test(test_format_small_buffer),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_good_names),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_addr),
	};

	build_long_names();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
