// SPDX-License-Identifier: GPL-2.0-only
/*
 * Regression tests for what the fuzz targets (fuzz/) found, each on the
 * input that crashed the target, plus the sibling inputs that reach the
 * same fault by another path.
 *
 * Found 2026-12-01 (docs/fuzzing.md): error messages echoed parts of the
 * bad value raw (the prefix length, the address, the port, the text after
 * "]", the zone), so bytes from 0x80 up reached stderr unescaped; "\u009b"
 * in a GitHub meta document (from the network) is U+009B, the C1 control
 * CSI, which terminals obey.  text.h promises that a hostile value can
 * neither forge a line nor drive a terminal: every message here must be
 * printable ASCII, and show the bytes as \xHH.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "entry.h"
#include "ghmeta.h"
#include "policy.h"
#include "resolvconf.h"

static void assert_printable(const char *msg)
{
	assert_non_null(msg);
	assert_true(msg[0] != '\0');
	for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			fail_msg("raw byte 0x%02x at %td in message: %s", *p,
				 (const char *)p - msg, msg);
	}
}

/* A failed entry_parse() whose message is printable and shows escape. */
static void entry_bad(const char *text, const char *escape)
{
	char err[1024] = "";
	struct entry e;

	assert_int_equal(entry_parse(text, &e, err, sizeof(err)), -EINVAL);
	assert_printable(err);
	assert_non_null(strstr(err, escape));
}

static void resolver_bad(const char *text, const char *escape)
{
	char err[1024] = "";
	struct resolver r;

	assert_int_equal(resolver_parse(text, &r, err, sizeof(err)), -EINVAL);
	assert_printable(err);
	assert_non_null(strstr(err, escape));
}

/* fuzz_entry crash-f64cf760: "::/" then 0xcd bytes, as a prefix length. */
static void test_entry_prefix_length_crash(void **state)
{
	char text[80] = "::/";

	(void)state;
	memset(text + 3, 0xcd, 60);
	text[63] = '0';
	text[64] = '\0';
	entry_bad(text, "\\xcd");
}

/* The same fault on the other echoes of an entry's text. */
static void test_entry_echoes(void **state)
{
	(void)state;
	entry_bad("[2001:db8::1]\xc2\x9b" "31m", "\\xc2\\x9b31m");      /* after "]" */
	entry_bad("example.com:4\xc3\xa9", "\\xc3\\xa9");              /* not a port */
	entry_bad("example.com:0\xc3\xa9", "\\xc3\\xa9");              /* leading zero */
	entry_bad("2001:db8::\xc3\xa9/32", "\\xc3\\xa9");              /* an IPv6 address */
	entry_bad("198.51.100.\xc3\xa9/24", "\\xc3\\xa9");             /* an IPv4 address */
	entry_bad("[198.51.100.\xc3\xa9]", "\\xc3\\xa9");              /* in brackets */
	entry_bad("198.51.100.0/0\xc3\xa9", "\\xc3\\xa9");             /* leading zero */
	entry_bad("fe80::1%e\xc2\x9b", "\\xc2\\x9b");                  /* a zone */
	entry_bad("2001:db8::/32:4\xc2\x9b", "\\xc2\\x9b");            /* the brackets hint */
	/* Negative control: plain text is still shown as it was. */
	entry_bad("198.51.100.0/33", "prefix length 33 is out of range");
}

/* fuzz_resolvconf crash-1304efa7: the line that reached resolver_parse(). */
static void test_resolver_address_crash(void **state)
{
	(void)state;
	resolver_bad("nameser\x8a\x9a\x8d\xdf\xce\xc6\xc7\xcc" "51.100.10",
		     "\\x8a\\x9a\\x8d\\xdf\\xce\\xc6\\xc7\\xcc51.100.10\" is not an IP address");
	resolver_bad("[2001:db8::1]:0\xc3\xa9", "\\xc3\\xa9");         /* leading zero */
	resolver_bad("[2001:db8::1]:5\xc3\xa9", "\\xc3\\xa9");         /* not a port */
	resolver_bad("fe80::1%\xc2\x9b", "\\xc2\\x9b");                /* a zone */
	resolver_bad("[2001:db8::1]x\xc2\x9b", "\\xc2\\x9b");          /* after "]" */
}

/* resolv.conf has no control-character filter before the address. */
static void test_resolvconf_escape(void **state)
{
	static const char conf[] = "nameserver 198.51.100.1\x1b[2J\n";
	struct resolver out[MAX_RESOLVERS];
	char err[1024] = "";
	size_t n = 0;
	FILE *f;

	(void)state;
	f = fmemopen((void *)conf, sizeof(conf) - 1, "r");
	assert_non_null(f);
	assert_int_equal(resolvconf_parse(f, "resolv.conf", out, MAX_RESOLVERS, &n, err,
					  sizeof(err)),
			 -EINVAL);
	fclose(f);
	assert_printable(err);
	assert_non_null(strstr(err, "\\x1b[2J"));
}

/* fuzz_ghmeta crash-03ccba6c: "\u8000" after a prefix, from the network. */
static void test_ghmeta_crash(void **state)
{
	static const char *const docs[] = {
		"{\"web\":[\"198.51.100.0/24\\u8000\"],\"api\":[],\"git\":[]}",
		"{\"web\":[\"198.51.100.0/24\\u009b31m\"],\"api\":[],\"git\":[]}",
		"{\"web\":[],\"api\":[\"2001:db8::\\u009b/32\"],\"git\":[]}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char err[1024] = "";
		struct policy p;

		policy_init(&p);
		assert_int_equal(ghmeta_parse(docs[i], strlen(docs[i]), &p, err, sizeof(err)),
				 -EINVAL);
		assert_int_equal(p.n, 0);
		assert_printable(err);
		assert_non_null(strstr(err, i ? "\\xc2\\x9b" : "\\xe8\\x80\\x80"));
		policy_free(&p);
	}
}

/* An allow file reaches the same echoes, with path:line in front. */
static void test_allow_file_escape(void **state)
{
	char path[] = "/tmp/egressd-fuzz-regress.XXXXXX", err[1024] = "";
	static const char body[] = "example.com\n198.51.100.0/2\xc2\x9b" "4\n";
	struct policy p;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, sizeof(body) - 1), (ssize_t)(sizeof(body) - 1));
	close(fd);
	policy_init(&p);
	assert_int_equal(policy_add_file(&p, path, err, sizeof(err)), -EINVAL);
	unlink(path);
	assert_int_equal(p.n, 0);
	assert_printable(err);
	assert_non_null(strstr(err, ":2: "));
	assert_non_null(strstr(err, "\\xc2\\x9b"));
	policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_prefix_length_crash),
		cmocka_unit_test(test_entry_echoes),
		cmocka_unit_test(test_resolver_address_crash),
		cmocka_unit_test(test_resolvconf_escape),
		cmocka_unit_test(test_ghmeta_crash),
		cmocka_unit_test(test_allow_file_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
