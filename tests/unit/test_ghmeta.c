// SPDX-License-Identifier: GPL-2.0-only
/* ghmeta_parse(): GitHub's meta document into the policy, all or nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ghmeta.h"

static char err[256];

static int parse(const char *doc, struct policy *p)
{
	err[0] = 0;
	return ghmeta_parse(doc, strlen(doc), p, err, sizeof(err));
}

/* The policy holds text/prefixlen as an all-ports "github.com" CIDR. */
static bool has_cidr(const struct policy *p, const char *text, unsigned int plen)
{
	struct addr want = { 0 };

	if (inet_pton(AF_INET, text, want.bytes) == 1)
		want.family = AF_INET;
	else if (inet_pton(AF_INET6, text, want.bytes) == 1)
		want.family = AF_INET6;
	else
		fail_msg("bad test address %s", text);
	for (size_t i = 0; i < p->n; i++) {
		const struct entry *e = &p->entries[i];

		if (e->kind == ENTRY_CIDR && e->addr.family == want.family &&
		    !memcmp(e->addr.bytes, want.bytes, want.family == AF_INET ? 4 : 16) &&
		    e->prefixlen == plen && e->port == 0 && !strcmp(e->name, "github.com"))
			return true;
	}
	return false;
}

/* Parsing doc must fail with exactly msg and leave an empty policy empty. */
static void expect_err(const char *doc, const char *msg)
{
	struct policy p;

	policy_init(&p);
	assert_int_equal(parse(doc, &p), -EINVAL);
	assert_string_equal(err, msg);
	assert_int_equal(p.n, 0);
	policy_free(&p);
}

static const char good[] =
	"{\"verifiable_password_authentication\": true,"
	" \"hooks\": [\"192.30.252.0/22\"],"
	" \"web\": [\"192.30.252.0/22\", \"185.199.108.0/22\", \"2a0a:a440::/29\"],"
	" \"api\": [\"192.30.252.0/22\", \"140.82.112.0/20\", \"2606:50c0::/32\"],"
	" \"git\": [\"143.55.64.0/20\", \"140.82.121.4/32\"],"
	" \"domains\": {\"website\": [\"*.github.com\"]}}";

static void test_good(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(parse(good, &p), 0);
	/* Seven distinct ranges; the duplicate 192.30.252.0/22 is merged. */
	assert_int_equal(p.n, 7);
	assert_true(has_cidr(&p, "192.30.252.0", 22));
	assert_true(has_cidr(&p, "185.199.108.0", 22));
	assert_true(has_cidr(&p, "2a0a:a440::", 29));
	assert_true(has_cidr(&p, "140.82.112.0", 20));
	assert_true(has_cidr(&p, "2606:50c0::", 32));
	assert_true(has_cidr(&p, "143.55.64.0", 20));
	assert_true(has_cidr(&p, "140.82.121.4", 32));
	policy_free(&p);
}

static void test_length_respected(void **state)
{
	const char doc[] = "{\"web\":[\"192.0.2.0/24\"],\"api\":[],\"git\":[]}GARBAGE";
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(ghmeta_parse(doc, strlen(doc) - 7, &p, err, sizeof(err)), 0);
	assert_int_equal(p.n, 1);
	assert_true(has_cidr(&p, "192.0.2.0", 24));
	policy_free(&p);
	expect_err(doc, "invalid JSON at offset 42: trailing data");
}

static void test_missing_fields(void **state)
{
	(void)state;
	expect_err("{\"api\": [], \"git\": [\"192.0.2.0/24\"]}", "field \"web\" missing");
	expect_err("{\"web\": [], \"git\": [\"192.0.2.0/24\"]}", "field \"api\" missing");
	expect_err("{\"web\": [\"192.0.2.0/24\"], \"api\": []}", "field \"git\" missing");
}

static void test_empty_object(void **state)
{
	(void)state;
	expect_err("{}", "field \"web\" missing");
}

static void test_empty_arrays(void **state)
{
	struct policy p;

	(void)state;
	/* One empty array is fine... */
	policy_init(&p);
	assert_int_equal(parse("{\"web\": [], \"api\": [\"192.0.2.0/24\"], \"git\": []}", &p), 0);
	assert_int_equal(p.n, 1);
	policy_free(&p);
	/* ...no ranges at all is not. */
	expect_err("{\"web\": [], \"api\": [], \"git\": []}",
		   "no address ranges in \"web\", \"api\" or \"git\"");
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_err("{\"web\": \"192.0.2.0/24\", \"api\": [], \"git\": []}",
		   "field \"web\" is a string, not an array");
	expect_err("{\"web\": [], \"api\": {}, \"git\": []}",
		   "field \"api\" is an object, not an array");
	expect_err("{\"web\": [], \"api\": [], \"git\": null}",
		   "field \"git\" is null, not an array");
	expect_err("{\"web\": [], \"api\": [], \"git\": [\"192.0.2.0/24\", 42]}",
		   "\"git\"[1] is a number, not a string");
	expect_err("{\"web\": [[\"192.0.2.0/24\"]], \"api\": [], \"git\": []}",
		   "\"web\"[0] is an array, not a string");
	expect_err("[\"192.0.2.0/24\"]", "the document is an array, not an object");
}

static void test_bad_cidr(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(parse("{\"web\": [\"192.0.2.0/24\", \"198.51.100.0/24\", "
			       "\"203.0.113.0/24\", \"1.2.3.999/24\"], \"api\": [], \"git\": []}",
			       &p),
			 -EINVAL);
	/* Any detail from entry_parse() may follow the fixed part. */
	assert_memory_equal(err, "\"web\"[3]: \"1.2.3.999/24\" is not a CIDR",
			    strlen("\"web\"[3]: \"1.2.3.999/24\" is not a CIDR"));
	assert_int_equal(p.n, 0);
	policy_free(&p);

	expect_err("{\"web\": [\"github.com\"], \"api\": [], \"git\": []}",
		   "\"web\"[0]: \"github.com\" is not a CIDR (a domain name)");
	expect_err("{\"web\": [\"192.0.2.0/24:443\"], \"api\": [], \"git\": []}",
		   "\"web\"[0]: \"192.0.2.0/24:443\" is not a CIDR (it has a port)");
	/* Control characters are not echoed raw. */
	policy_init(&p);
	assert_int_equal(parse("{\"web\": [\"bad\\u0001\"], \"api\": [], \"git\": []}", &p),
			 -EINVAL);
	assert_memory_equal(err, "\"web\"[0]: \"bad\\x01\" is not a CIDR",
			    strlen("\"web\"[0]: \"bad\\x01\" is not a CIDR"));
	policy_free(&p);
	/* Nor can a quote in the value end the quotes around it. */
	policy_init(&p);
	assert_int_equal(parse("{\"web\": [\"a\\\"b\"], \"api\": [], \"git\": []}", &p),
			 -EINVAL);
	assert_memory_equal(err, "\"web\"[0]: \"a\\\"b\" is not a CIDR",
			    strlen("\"web\"[0]: \"a\\\"b\" is not a CIDR"));
	policy_free(&p);
}

/* A mirror must not be able to hand out the whole Internet. */
static void test_too_wide(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	assert_int_equal(parse("{\"web\": [\"0.0.0.0/0\"], \"api\": [], \"git\": []}", &p), -EINVAL);
	assert_non_null(strstr(err, "\"web\"[0]: \"0.0.0.0/0\" is implausibly wide"));
	assert_int_equal(parse("{\"web\": [], \"api\": [\"::/1\"], \"git\": []}", &p), -EINVAL);
	assert_non_null(strstr(err, "\"api\"[0]: \"::/1\" is implausibly wide"));
	assert_int_equal(parse("{\"web\": [\"10.0.0.0/8\"], \"api\": [\"2001::/16\"], \"git\": []}", &p), 0);
	assert_int_equal(p.n, 2);
	policy_free(&p);
}

static void test_host_bits(void **state)
{
	struct policy p;
	const char *want = "\"api\"[0]: \"192.30.252.1/22\"";

	(void)state;
	policy_init(&p);
	assert_int_equal(parse("{\"web\": [], \"api\": [\"192.30.252.1/22\"], \"git\": []}", &p),
			 -EINVAL);
	/* Refused either by entry_parse() or by our own check; named either way. */
	assert_memory_equal(err, want, strlen(want));
	assert_non_null(strstr(err, "host bits"));
	assert_int_equal(p.n, 0);
	policy_free(&p);
}

static void test_invalid_json(void **state)
{
	(void)state;
	expect_err("{\"web\": [,]}", "invalid JSON at offset 9: unexpected character");
	expect_err("", "invalid JSON: empty document");
	expect_err("nope", "invalid JSON at offset 1: null expected");
}

static void test_truncated_json(void **state)
{
	(void)state;
	expect_err("{\"web\": [\"192.0.2.0/24\"", "invalid JSON at offset 23: unexpected end");
	expect_err("{\"web\": [\"192.0.2.0/24\"], \"api\": [], \"git\": [",
		   "invalid JSON at offset 45: unexpected end");
}

static void test_atomic(void **state)
{
	struct policy p;
	struct entry mine = { .kind = ENTRY_DOMAIN, .port = 443, .name = "example.com" };
	struct entry before;

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add(&p, &mine), 0);
	before = p.entries[0];
	/* web and api are good and would add three entries; git is bad. */
	assert_int_equal(parse("{\"web\": [\"192.0.2.0/24\", \"2001:db8::/32\"], "
			       "\"api\": [\"198.51.100.0/24\"], \"git\": [\"203.0.113.0/24\", 7]}",
			       &p),
			 -EINVAL);
	assert_string_equal(err, "\"git\"[1] is a number, not a string");
	assert_int_equal(p.n, 1);
	assert_memory_equal(&p.entries[0], &before, sizeof(before));

	/* And on success existing entries stay, new ones are appended. */
	assert_int_equal(parse(good, &p), 0);
	assert_int_equal(p.n, 8);
	assert_memory_equal(&p.entries[0], &before, sizeof(before));
	policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_length_respected),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_empty_object),
		cmocka_unit_test(test_empty_arrays),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_cidr),
		cmocka_unit_test(test_host_bits),
		cmocka_unit_test(test_too_wide),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_truncated_json),
		cmocka_unit_test(test_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
