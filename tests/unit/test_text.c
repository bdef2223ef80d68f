// SPDX-License-Identifier: GPL-2.0-only
/*
 * text_quote() and text_json_str(): what untrusted bytes look like in a
 * message and in JSON, and how a value too long for its buffer is cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "text.h"

static void test_quote_escapes(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "", 0, "" },
		{ "example.com:443", 15, "example.com:443" },
		{ "a b", 3, "a b" },
		{ "a\nb", 3, "a\\x0ab" },
		{ "\x1b[2J", 4, "\\x1b[2J" },
		{ "x\x7f", 2, "x\\x7f" },
		{ "b\xc3\xbc", 3, "b\\xc3\\xbc" },
		{ "\xff", 1, "\\xff" },
		{ "say \"hi\"", 8, "say \\\"hi\\\"" },
		{ "a\\b", 3, "a\\\\b" },
		/* An embedded NUL is shown, not taken as the end. */
		{ "a\0b", 3, "a\\x00b" },
		/* len, not the NUL, bounds the input. */
		{ "abcdef", 3, "abc" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_ptr_equal(text_quote(cases[i].in, cases[i].len, buf, sizeof(buf)), buf);
		assert_string_equal(buf, cases[i].out);
	}
}

/* Whatever the input, the output has no raw control or non-ASCII byte. */
static void test_quote_every_byte(void **state)
{
	char in[256], buf[TEXT_QUOTE_SIZE(256)];

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	text_quote(in, sizeof(in), buf, sizeof(buf));
	/* 161 bytes as \\xHH, '"' and '\\' backslashed, 93 as they are. */
	assert_int_equal(strlen(buf), 161 * 4 + 2 * 2 + 93);
	for (const char *p = buf; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	assert_null(strstr(buf, "..."));
}

static void test_quote_cut(void **state)
{
	char buf[8], big[TEXT_QUOTE_SIZE(4)];

	(void)state;
	/* Fits exactly: no mark. */
	assert_string_equal(text_quote("abcdefg", 7, buf, sizeof(buf)), "abcdefg");
	/* One more: cut, marked, still NUL-terminated in 8 bytes. */
	assert_string_equal(text_quote("abcdefgh", 8, buf, sizeof(buf)), "abcd...");
	/* An escape is never split, and the cut is still marked. */
	assert_string_equal(text_quote("ab\x01\x02", 4, buf, sizeof(buf)), "ab...");
	assert_string_equal(text_quote("\x01\x02", 2, buf, sizeof(buf)), "\\x01...");
	/* The last escape may use the room kept for the mark. */
	assert_string_equal(text_quote("abc\x01", 4, buf, sizeof(buf)), "abc\\x01");
	/* TEXT_QUOTE_SIZE is enough for the worst case. */
	assert_string_equal(text_quote("\x01\x02\x03\x04", 4, big, sizeof(big)),
			    "\\x01\\x02\\x03\\x04");
	/* Too small for the mark: empty, but terminated. */
	memset(buf, 'z', sizeof(buf));
	assert_string_equal(text_quote("abcdef", 6, buf, 3), "");
	assert_string_equal(text_quote("ab", 2, buf, 3), "ab");
	buf[0] = 'z';
	text_quote("ab", 2, buf, 0);
	assert_int_equal(buf[0], 'z');
}

static char *json_of(const char *s, size_t max)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	text_json_str(f, s, max);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void test_json_str(void **state)
{
	static const struct {
		const char *in;
		size_t max;
		const char *out;
	} cases[] = {
		{ "", 16, "\"\"" },
		{ "probe", 16, "\"probe\"" },
		{ "a\"b\\c", 16, "\"a\\\"b\\\\c\"" },
		{ "x\negressd: ok\x1b", 16, "\"x\\u000aegressd: ok\\u001b\"" },
		{ "\x7f\xc3\xbc", 16, "\"\\u007f\\u00c3\\u00bc\"" },
		/* max bounds a field that need not be NUL-terminated. */
		{ "abcdef", 3, "\"abc\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = json_of(cases[i].in, cases[i].max);

		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_escapes),
		cmocka_unit_test(test_quote_every_byte),
		cmocka_unit_test(test_quote_cut),
		cmocka_unit_test(test_json_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
