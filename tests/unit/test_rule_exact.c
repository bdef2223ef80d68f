// SPDX-License-Identifier: GPL-2.0-only
/*
 * rule_is_exact(): which compiled rules go to the exact hashes (/32 and
 * /128) and which to the LPM tries, from real entries through
 * policy_compile(), including IPv4-mapped forms and /0; and that the
 * exact rule of an overlapping pair carries its cover's ports (what makes
 * a hash hit the longest-prefix answer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"

struct want {
	const char *entry;
	const char *addr; /* the compiled rule's address */
	unsigned int prefixlen;
	bool exact;
};

static const struct want wants[] = {
	{ "198.51.100.5", "198.51.100.5", 32, true },
	{ "198.51.100.5/32:443", "198.51.100.5", 32, true },
	{ "198.51.100.4/31", "198.51.100.4", 31, false },
	{ "198.51.100.0/24", "198.51.100.0", 24, false },
	{ "0.0.0.0/0", "0.0.0.0", 0, false },
	{ "2001:db8::5", "2001:db8::5", 128, true },
	{ "[2001:db8::5/128]:53", "2001:db8::5", 128, true },
	{ "2001:db8::4/127", "2001:db8::4", 127, false },
	{ "2001:db8::/64", "2001:db8::", 64, false },
	{ "::/0", "::", 0, false },
	/* IPv4-mapped entries are IPv4 rules: /128 mapped is an exact /32 */
	{ "::ffff:198.51.100.7", "198.51.100.7", 32, true },
	{ "::ffff:198.51.100.0/120", "198.51.100.0", 24, false },
};

static void test_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		const struct want *w = &wants[i];
		struct policy p;
		struct rule *r = NULL;
		size_t n = 0;
		char err[256], a[ADDR_STRLEN];

		policy_init(&p);
		if (policy_add_list(&p, w->entry, err, sizeof(err)))
			fail_msg("%s: %s", w->entry, err);
		assert_int_equal(policy_compile(&p, &r, &n, err, sizeof(err)), 0);
		assert_int_equal(n, 1);
		if (strcmp(addr_format(&r[0].addr, a, sizeof(a)), w->addr) || r[0].prefixlen != w->prefixlen)
			fail_msg("%s: compiled to %s/%u, want %s/%u", w->entry, a, r[0].prefixlen,
				 w->addr, w->prefixlen);
		if (rule_is_exact(&r[0]) != w->exact)
			fail_msg("%s: rule_is_exact says %d, want %d", w->entry, rule_is_exact(&r[0]),
				 w->exact);
		free(r);
		policy_free(&p);
	}
}

/* /32:443 inside /24:80: the exact rule holds both ports, the /24 only 80. */
static void test_overlap_merged(void **state)
{
	struct policy p;
	struct rule *r = NULL;
	size_t n = 0;
	char err[256];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_list(&p, "198.51.100.5:443,198.51.100.0/24:80", err, sizeof(err)), 0);
	assert_int_equal(policy_compile(&p, &r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (rule_is_exact(&r[i])) {
			assert_int_equal(r[i].prefixlen, 32);
			assert_int_equal(r[i].nports, 2);
			assert_true(rule_allows_port(&r[i], 80));
			assert_true(rule_allows_port(&r[i], 443));
		} else {
			assert_int_equal(r[i].prefixlen, 24);
			assert_int_equal(r[i].nports, 1);
			assert_false(rule_allows_port(&r[i], 443));
		}
	}
	assert_true(rule_is_exact(&r[0]) != rule_is_exact(&r[1]));
	free(r);
	policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_overlap_merged),
	};

	return cmocka_run_group_tests_name("rule_exact", tests, NULL, NULL);
}
