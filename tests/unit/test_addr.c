// SPDX-License-Identifier: GPL-2.0-only
/*
 * text_copy(), text_find_blank(), decimal_parse(), port_parse() and
 * hostport_split().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_copy(void **state)
{
	char buf[4] = "xyz";

	(void)state;
	assert_int_equal(text_copy(buf, sizeof(buf), "abcdef", 3), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(text_copy(buf, sizeof(buf), "", 0), 0);
	assert_string_equal(buf, "");
	strcpy(buf, "xyz");
	assert_int_equal(text_copy(buf, sizeof(buf), "abcd", 4), -E2BIG);
	assert_string_equal(buf, "xyz");
	assert_int_equal(text_copy(buf, 0, "", 0), -E2BIG);
}

static void test_find_blank(void **state)
{
	static const char *const clean[] = { "", "1.2.3.4", "[::1]:53", "\x80\xff" };
	static const struct {
		const char *in;
		size_t at;
	} dirty[] = {
		{ " ", 0 }, { "a b", 1 }, { "a\tb", 1 }, { "ab\r", 2 },
		{ "a\x01", 1 }, { "a\x7f", 1 }, { "ab\x1f c", 2 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(clean); i++)
		assert_null(text_find_blank(clean[i]));
	for (i = 0; i < ARRAY_SIZE(dirty); i++)
		assert_ptr_equal(text_find_blank(dirty[i].in), dirty[i].in + dirty[i].at);
}

static void test_decimal(void **state)
{
	static const struct {
		const char *in;
		unsigned long max;
		int ret;
		unsigned long val;
	} cases[] = {
		{ "0", 32, 0, 0 },
		{ "7", 32, 0, 7 },
		{ "32", 32, 0, 32 },
		{ "33", 32, -ERANGE, 0 },
		{ "65535", 65535, 0, 65535 },
		{ "65536", 65535, -ERANGE, 0 },
		{ "9", 5, -ERANGE, 0 },
		{ "5", 5, 0, 5 },
		{ "99999999999999999999999999", 65535, -ERANGE, 0 },
		/* A non-digit anywhere is worse than too big. */
		{ "99999999999999999999999999x", 65535, -EINVAL, 0 },
		{ "", 9, -EINVAL, 0 },
		{ "+1", 9, -EINVAL, 0 },
		{ "-1", 9, -EINVAL, 0 },
		{ " 1", 9, -EINVAL, 0 },
		{ "1 ", 9, -EINVAL, 0 },
		{ "01", 9, -EDOM, 0 },
		{ "00", 9, -EDOM, 0 },
		{ "01x", 9, -EDOM, 0 },
		{ "0x1", 9, -EINVAL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned long v = 12345;
		int ret = decimal_parse(cases[i].in, strlen(cases[i].in), cases[i].max, &v);

		if (ret != cases[i].ret)
			fail_msg("\"%s\": %d, want %d", cases[i].in, ret, cases[i].ret);
		assert_int_equal(v, ret ? 12345 : cases[i].val);
	}
	/* Only len bytes are read. */
	assert_int_equal(decimal_parse("443x", 3, 65535, &(unsigned long){ 0 }), 0);
}

static void test_port(void **state)
{
	static const struct {
		const char *in;
		unsigned int port;
		const char *why;
	} cases[] = {
		{ "1", 1, NULL },
		{ "53", 53, NULL },
		{ "65535", 65535, NULL },
		{ "", 0, "missing port after \":\"" },
		{ "0", 0, "port 0 is out of range (1-65535)" },
		{ "65536", 0, "port 65536 is out of range (1-65535)" },
		{ "18446744073709551616", 0, "port 18446744073709551616 is out of range (1-65535)" },
		{ "0443", 0, "port \"0443\" has a leading zero" },
		{ "00", 0, "port \"00\" has a leading zero" },
		{ "0x35", 0, "port \"0x35\" is not a number" },
		{ "http", 0, "port \"http\" is not a number" },
		{ "+80", 0, "port \"+80\" is not a number" },
		{ "443x", 0, "port \"443x\" is not a number" },
	};
	char why[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		uint16_t port = 7;
		int ret;

		why[0] = '\0';
		ret = port_parse(cases[i].in, strlen(cases[i].in), &port, why, sizeof(why));
		if (!cases[i].why) {
			if (ret)
				fail_msg("\"%s\" rejected: %s", cases[i].in, why);
			assert_int_equal(port, cases[i].port);
			continue;
		}
		if (ret != -EINVAL)
			fail_msg("\"%s\" accepted", cases[i].in);
		assert_int_equal(port, 7);
		assert_string_equal(why, cases[i].why);
	}
	/* Only len bytes are read, and only they are quoted. */
	assert_int_equal(port_parse("4431", 3, &(uint16_t){ 0 }, why, sizeof(why)), 0);
	assert_int_equal(port_parse("x443", 3, &(uint16_t){ 0 }, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "port \"x44\" is not a number");
}

static void test_split_good(void **state)
{
	static const struct {
		const char *in;
		const char *host; /* as split off */
		const char *port; /* NULL: none */
		bool bracketed, bare_v6;
	} cases[] = {
		{ "", "", NULL, false, false },
		{ "1.2.3.4", "1.2.3.4", NULL, false, false },
		{ "1.2.3.4:443", "1.2.3.4", "443", false, false },
		{ "1.2.3.4:", "1.2.3.4", "", false, false },
		{ ":53", "", "53", false, false },
		{ "example.com:x", "example.com", "x", false, false },
		{ "2001:db8::1", "2001:db8::1", NULL, false, true },
		{ "2001:db8::1:443", "2001:db8::1:443", NULL, false, true },
		{ "2001:db8::/32:443", "2001:db8::/32:443", NULL, false, true },
		{ "::", "::", NULL, false, true },
		{ "[2001:db8::1]", "2001:db8::1", NULL, true, false },
		{ "[2001:db8::1]:443", "2001:db8::1", "443", true, false },
		{ "[2001:db8::/32]:443", "2001:db8::/32", "443", true, false },
		{ "[::1]:", "::1", "", true, false },
		{ "[::1]:5:6", "::1", "5:6", true, false },
		{ "[]", "", NULL, true, false },
		{ "[]:53", "", "53", true, false },
		{ "[1.2.3.4]:53", "1.2.3.4", "53", true, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hostport hp;
		char why[128] = "";

		if (hostport_split(cases[i].in, &hp, why, sizeof(why)))
			fail_msg("\"%s\" rejected: %s", cases[i].in, why);
		assert_int_equal(hp.hostlen, strlen(cases[i].host));
		assert_memory_equal(hp.host, cases[i].host, hp.hostlen);
		if (cases[i].port) {
			assert_non_null(hp.port);
			assert_string_equal(hp.port, cases[i].port);
			assert_int_equal(hp.portlen, strlen(cases[i].port));
		} else {
			assert_null(hp.port);
			assert_int_equal(hp.portlen, 0);
		}
		assert_int_equal(hp.bracketed, cases[i].bracketed);
		assert_int_equal(hp.bare_v6, cases[i].bare_v6);
	}
}

static void test_split_bad(void **state)
{
	static const struct {
		const char *in, *why;
	} cases[] = {
		{ "[", "missing \"]\" after the IPv6 address" },
		{ "[::1", "missing \"]\" after the IPv6 address" },
		{ "[::1]53", "unexpected \"53\" after \"]\" (expected \":PORT\")" },
		{ "[::1]]", "unexpected \"]\" after \"]\" (expected \":PORT\")" },
		{ "[]x", "unexpected \"x\" after \"]\" (expected \":PORT\")" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hostport hp, before;
		char why[128] = "";

		memset(&hp, 0xa5, sizeof(hp));
		before = hp;
		if (hostport_split(cases[i].in, &hp, why, sizeof(why)) != -EINVAL)
			fail_msg("\"%s\" accepted", cases[i].in);
		assert_string_equal(why, cases[i].why);
		assert_memory_equal(&hp, &before, sizeof(hp));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_find_blank),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_port),
		cmocka_unit_test(test_split_good),
		cmocka_unit_test(test_split_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
