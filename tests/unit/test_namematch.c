// SPDX-License-Identifier: GPL-2.0-only
/*
 * namematch_build() and namematch_lookup(): exact and wildcard names, case
 * and trailing dots, the exact/wildcard distinction the rebinding guard
 * needs, port unions, bad query names, and 20k entries; portset_*().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "namematch.h"
#include "policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static struct namematch *build(const char *list)
{
	struct namematch *m = NULL;
	struct policy p;
	char err[1024];

	policy_init(&p);
	if (policy_add_list(&p, list, err, sizeof(err)))
		fail_msg("list \"%s\": %s", list, err);
	if (namematch_build(p.entries, p.n, &m, err, sizeof(err)))
		fail_msg("build \"%s\": %s", list, err);
	policy_free(&p);
	return m;
}

/* "" = no match; else "E" or "W" or "EW", then ":all" or ":p1,p2". */
static void expect(const struct namematch *m, const char *q, const char *want)
{
	struct namematch_hit h;
	char got[256];
	int ret, o;

	memset(&h, 0x5a, sizeof(h));
	ret = namematch_lookup(m, q, &h);
	if (ret == -ENOENT) {
		if (want[0])
			fail_msg("\"%s\": no match, want %s", q, want);
		assert_int_equal(h.ports.n, 0x5a5a); /* untouched */
		return;
	}
	assert_int_equal(ret, 0);
	o = snprintf(got, sizeof(got), "%s%s:", h.exact ? "E" : "", h.wildcard ? "W" : "");
	if (h.ports.all) {
		snprintf(got + o, sizeof(got) - o, "all");
	} else {
		for (int i = 0; i < h.ports.n; i++)
			o += snprintf(got + o, sizeof(got) - o, "%s%u", i ? "," : "",
				      h.ports.ports[i]);
	}
	if (strcmp(got, want))
		fail_msg("\"%s\": got %s, want %s", q, got, want[0] ? want : "no match");
}

static void test_exact(void **state)
{
	struct namematch *m = build("example.com api.example.org:443 10.0.0.0/8 "
				    "xn--bcher-kva.example");

	(void)state;
	assert_int_equal(namematch_count(m), 3);
	expect(m, "example.com", "E:all");
	expect(m, "EXAMPLE.Com", "E:all");
	expect(m, "example.com.", "E:all");
	expect(m, "api.example.org", "E:443");
	expect(m, "XN--BCHER-KVA.example.", "E:all");
	expect(m, "www.example.com", "");
	expect(m, "example.org", "");
	expect(m, "badexample.com", "");
	expect(m, "example.co", "");
	expect(m, "example.com.evil", "");
	expect(m, "10.0.0.1", "");
	namematch_free(m);
}

static void test_wildcard(void **state)
{
	struct namematch *m = build("*.example.com *.cdn.example.net:443 *.com:8443");

	(void)state;
	expect(m, "www.example.com", "W:all");
	expect(m, "a.b.c.d.example.com", "W:all");
	expect(m, "WWW.Example.COM.", "W:all");
	/* Not the name itself, not a name that merely ends the same way. */
	expect(m, "example.com", "W:8443"); /* only "*.com" */
	expect(m, "example.net", "");
	expect(m, "cdn.example.net", "");
	expect(m, "x.cdn.example.net", "W:443");
	expect(m, "xcdn.example.net", "");
	expect(m, "badexample.net", "");
	/* *.com covers every .com name, and unions with *.example.com. */
	expect(m, "badexample.com", "W:8443");
	expect(m, "com", "");
	expect(m, "xn--bcher-kva.example.com", "W:all");
	namematch_free(m);
}

static void test_exact_and_wildcard(void **state)
{
	struct namematch *m = build("a.example.com:80 *.example.com:443 *.a.example.com:8080 "
				    "a.example.com:81 b.example.com");

	(void)state;
	expect(m, "a.example.com", "EW:80,81,443");
	expect(m, "x.a.example.com", "W:443,8080");
	expect(m, "b.example.com", "EW:all");
	expect(m, "c.example.com", "W:443");
	expect(m, "example.com", "");
	namematch_free(m);
}

static void test_bad_qnames(void **state)
{
	struct namematch *m = build("*.example.com example.com");
	char n[400], l64[65];

	(void)state;
	expect(m, "", "");
	expect(m, ".", "");
	expect(m, "..", "");
	expect(m, ".example.com", "");
	expect(m, "a..example.com", "");
	expect(m, "example.com..", "");
	expect(m, "a b.example.com", "");
	expect(m, "a\\.b.example.com", ""); /* c-ares' escaped dot */
	expect(m, "a\\001.example.com", "");
	expect(m, "b\xc3\xbc.example.com", "");
	expect(m, "*.example.com", "");
	expect(m, "a/b.example.com", "");
	assert_int_equal(namematch_lookup(m, NULL, &(struct namematch_hit){ 0 }), -ENOENT);
	/* Underscores are real in queries (SRV, DKIM, ACME). */
	expect(m, "_acme-challenge.example.com", "W:all");

	memset(l64, 'a', 64);
	l64[64] = '\0';
	snprintf(n, sizeof(n), "%s.example.com", l64);
	expect(m, n, "");
	snprintf(n, sizeof(n), "%.63s.example.com", l64);
	expect(m, n, "W:all");

	/* 253 characters match, 254 do not, a trailing dot aside. */
	memset(n, 0, sizeof(n));
	for (int i = 0; i < 241; i += 2)
		memcpy(n + i, "a.", 2);
	strcpy(n + 242, "example.com");
	assert_int_equal(strlen(n), 253);
	expect(m, n, "W:all");
	strcat(n, ".");
	expect(m, n, "W:all");
	memmove(n + 1, n, strlen(n) + 1);
	n[0] = 'b';
	n[strlen(n) - 1] = '\0';
	assert_int_equal(strlen(n), 254);
	expect(m, n, "");
	namematch_free(m);
}

static void test_empty_and_cidr_only(void **state)
{
	struct namematch *m = build("");

	(void)state;
	assert_int_equal(namematch_count(m), 0);
	expect(m, "example.com", "");
	namematch_free(m);
	m = build("198.51.100.0/24 2001:db8::1");
	assert_int_equal(namematch_count(m), 0);
	expect(m, "example.com", "");
	namematch_free(m);
	namematch_free(NULL);
}

static void test_too_many_ports(void **state)
{
	char list[1024], err[256];
	struct namematch *m = NULL;
	struct policy p;
	int o = 0;

	(void)state;
	/* 16 ports on one name fit; a 17th is an error naming it. */
	for (int i = 1; i <= 16; i++)
		o += snprintf(list + o, sizeof(list) - o, "*.a.com:%d ", i);
	m = build(list);
	expect(m, "x.a.com", "W:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16");
	namematch_free(m);

	snprintf(list + o, sizeof(list) - o, "*.a.com:17");
	policy_init(&p);
	assert_int_equal(policy_add_list(&p, list, err, sizeof(err)), 0);
	m = (struct namematch *)0x1;
	assert_int_equal(namematch_build(p.entries, p.n, &m, err, sizeof(err)), -E2BIG);
	assert_ptr_equal(m, (struct namematch *)0x1);
	assert_non_null(strstr(err, "\"*.a.com\""));
	policy_free(&p);

	/* Within limits one by one, over them together: refused at lookup. */
	o = 0;
	for (int i = 1; i <= 10; i++)
		o += snprintf(list + o, sizeof(list) - o, "x.a.com:%d *.a.com:%d ", i, i + 100);
	m = build(list);
	struct namematch_hit h;

	memset(&h, 0x5a, sizeof(h));
	assert_int_equal(namematch_lookup(m, "x.a.com", &h), -E2BIG);
	assert_int_equal(h.ports.n, 0x5a5a);
	expect(m, "y.a.com", "W:101,102,103,104,105,106,107,108,109,110");
	namematch_free(m);
}

static void test_portset(void **state)
{
	struct portset a = { 0 }, b = { 0 };

	(void)state;
	assert_int_equal(portset_add(&a, 443), 0);
	assert_int_equal(portset_add(&a, 80), 0);
	assert_int_equal(portset_add(&a, 443), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.ports[0], 80);
	assert_int_equal(a.ports[1], 443);
	assert_int_equal(portset_add(&b, 80), 0);
	assert_false(portset_equal(&a, &b));
	assert_int_equal(portset_add(&b, 443), 0);
	assert_true(portset_equal(&a, &b));
	for (int i = 1000; i < 1014; i++)
		assert_int_equal(portset_add(&a, i), 0);
	assert_int_equal(a.n, 16);
	assert_int_equal(portset_add(&a, 1), -E2BIG);
	assert_int_equal(a.n, 16);
	b.n = 0;
	assert_int_equal(portset_add(&b, 7), 0);
	assert_int_equal(portset_union(&a, &b), -E2BIG);
	assert_int_equal(a.n, 16);
	/* All ports absorbs everything. */
	assert_int_equal(portset_add(&b, 0), 0);
	assert_true(b.all);
	assert_int_equal(portset_union(&a, &b), 0);
	assert_true(a.all);
	assert_int_equal(portset_add(&a, 5), 0);
	assert_true(a.all);
	assert_true(portset_equal(&a, &b));
}

/* 20k names, half wildcards: every one found, their neighbours not. */
static void test_many(void **state)
{
	const size_t n = 20000;
	struct entry *e = calloc(n, sizeof(*e));
	struct namematch *m = NULL;
	char q[NAME_MAX_LEN + 1], err[256];

	(void)state;
	assert_non_null(e);
	for (size_t i = 0; i < n; i++) {
		e[i].kind = ENTRY_DOMAIN;
		e[i].wildcard = i % 2;
		e[i].port = i % 3 ? 0 : 443;
		snprintf(e[i].name, sizeof(e[i].name), "n%zu.example", n - i);
	}
	assert_int_equal(namematch_build(e, n, &m, err, sizeof(err)), 0);
	assert_int_equal(namematch_count(m), n);
	for (size_t i = 0; i < n; i++) {
		struct namematch_hit h;

		snprintf(q, sizeof(q), "%sn%zu.example", e[i].wildcard ? "x.y." : "", n - i);
		assert_int_equal(namematch_lookup(m, q, &h), 0);
		assert_int_equal(h.exact, !e[i].wildcard);
		assert_int_equal(h.wildcard, e[i].wildcard);
		assert_int_equal(h.ports.all, e[i].port == 0);
		snprintf(q, sizeof(q), "%sn%zu.example", e[i].wildcard ? "" : "x.", n - i);
		assert_int_equal(namematch_lookup(m, q, &h), -ENOENT);
	}
	namematch_free(m);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_exact_and_wildcard),
		cmocka_unit_test(test_bad_qnames),
		cmocka_unit_test(test_empty_and_cidr_only),
		cmocka_unit_test(test_too_many_ports),
		cmocka_unit_test(test_portset),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
