// SPDX-License-Identifier: GPL-2.0-only
/* policy_add_list(), policy_add_file(), policy_compile(), rule_allows_port(). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("message \"%s\" does not contain \"%s\"", hay, needle);
}

static const char *fmt(const struct entry *e)
{
	static char buf[ENTRY_STRLEN];

	return entry_format(e, buf, sizeof(buf));
}

/* Assert the policy holds exactly these entries, in canonical form. */
static void assert_entries(const struct policy *p, const char *const *want, size_t n)
{
	size_t i;

	if (p->n != n) {
		for (i = 0; i < p->n; i++)
			print_message("  have %s\n", fmt(&p->entries[i]));
		fail_msg("policy has %zu entries, want %zu", p->n, n);
	}
	for (i = 0; i < n; i++)
		assert_string_equal(fmt(&p->entries[i]), want[i]);
}

/* ---- lists ------------------------------------------------------------ */

static void test_list_separators(void **state)
{
	static const struct {
		const char *list;
		size_t n;
	} cases[] = {
		{ "", 0 },
		{ "   ", 0 },
		{ " \t\n\r ", 0 },
		{ "example.com", 1 },
		{ "a.com,b.com", 2 },
		{ "a.com b.com", 2 },
		{ "a.com, b.com", 2 },
		{ "a.com ,b.com", 2 },
		{ "  a.com\tb.com\nc.com  ", 3 },
		{ "a.com , b.com  c.com,d.com", 4 },
		{ "1.2.3.4,[2001:db8::1]:443 example.com:443", 3 },
	};
	char err[1024];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct policy p;

		policy_init(&p);
		if (policy_add_list(&p, cases[i].list, err, sizeof(err)))
			fail_msg("list \"%s\" rejected: %s", cases[i].list, err);
		assert_int_equal(p.n, cases[i].n);
		policy_free(&p);
	}
}

static void test_list_content(void **state)
{
	static const char *const want[] = {
		"a.com", "198.51.100.0/24:443", "[2001:db8::1]:53", "b.com",
	};
	struct policy p;
	char err[1024];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_list(&p, "A.com., 198.51.100.0/24:443 [2001:db8::1]:53,b.com",
					 err, sizeof(err)), 0);
	assert_entries(&p, want, ARRAY_SIZE(want));
	assert_int_equal(policy_count(&p, ENTRY_DOMAIN), 2);
	assert_int_equal(policy_count(&p, ENTRY_CIDR), 2);
	policy_free(&p);
	assert_null(p.entries);
	assert_int_equal(p.n, 0);
	policy_free(&p); /* twice is fine */
}

static void test_list_errors_atomic(void **state)
{
	static const struct {
		const char *list;
		const char *msg;
	} cases[] = {
		{ "a.com,,b.com", "list item 2 is empty" },
		{ "a.com,", "list item 2 is empty" },
		{ ",a.com", "list item 1 is empty" },
		{ ",", "list item 1 is empty" },
		{ "a.com, ,b.com", "list item 2 is empty" },
		{ "a.com b.com,,c.com", "list item 3 is empty" },
		{ "a.com,b.com,10.0.0.1/33", "list item 3: invalid entry \"10.0.0.1/33\"" },
		{ "ok.com bad_name.com", "list item 2: invalid entry \"bad_name.com\"" },
	};
	static const char *const pre[] = { "keep.example" };
	struct policy p;
	char err[1024];
	size_t i;

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_list(&p, "keep.example", err, sizeof(err)), 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = '\0';
		if (policy_add_list(&p, cases[i].list, err, sizeof(err)) != -EINVAL)
			fail_msg("list \"%s\" accepted", cases[i].list);
		assert_contains(err, cases[i].msg);
		/* Nothing from the failed list was added. */
		assert_entries(&p, pre, ARRAY_SIZE(pre));
	}
	policy_free(&p);
}

static void test_duplicates(void **state)
{
	static const char *const want[] = {
		"a.com", "a.com:443", "10.0.0.0/8", "10.0.0.0/8:80",
	};
	struct policy p;
	struct entry e;
	char err[1024];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_list(&p, "a.com A.COM a.com. a.com:443 a.com:443", err,
					 sizeof(err)), 0);
	assert_int_equal(policy_add_list(&p, "10.0.0.0/8 10.0.0.0/8:80 ::ffff:10.0.0.0/104",
					 err, sizeof(err)), 0);
	assert_entries(&p, want, ARRAY_SIZE(want));

	/* Same prefix, different name: kept (the name is information). */
	assert_int_equal(entry_parse("10.0.0.0/8", &e, err, sizeof(err)), 0);
	strcpy(e.name, "ten.example");
	assert_int_equal(policy_add(&p, &e), 0);
	assert_int_equal(policy_add(&p, &e), 0);
	assert_int_equal(p.n, 5);
	policy_free(&p);
}

static void test_list_grows(void **state)
{
	char list[4096], err[1024];
	struct policy p;
	size_t i, o = 0;

	(void)state;
	for (i = 0; i < 300; i++)
		o += snprintf(list + o, sizeof(list) - o, "10.0.%zu.%zu,", i / 256, i % 256);
	list[o - 1] = '\0';
	policy_init(&p);
	assert_int_equal(policy_add_list(&p, list, err, sizeof(err)), 0);
	assert_int_equal(p.n, 300);
	assert_string_equal(fmt(&p.entries[299]), "10.0.1.43");
	policy_free(&p);
}

/* ---- files ------------------------------------------------------------ */

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/egressd-test-policy-XXXXXX");
	size_t len = strlen(text);
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void drop_temp(char *path)
{
	unlink(path);
	free(path);
}

static void test_file_good(void **state)
{
	static const char *const want[] = {
		"example.com", "198.51.100.0/24:443", "2001:db8::/32", "a.com", "b.com:22",
		"last.example",
	};
	char *path = write_temp("# allowlist\n"
				"\n"
				"example.com\n"
				"   198.51.100.0/24:443   # trailing comment\n"
				"\t\n"
				"2001:db8::/32\r\n"
				"#10.0.0.0/8 commented out\n"
				"a.com, b.com:22\n"
				"   # indented comment\n"
				"last.example");
	struct policy p;
	char err[1024];

	(void)state;
	policy_init(&p);
	if (policy_add_file(&p, path, err, sizeof(err)))
		fail_msg("rejected: %s", err);
	assert_entries(&p, want, ARRAY_SIZE(want));
	policy_free(&p);
	drop_temp(path);
}

static void test_file_empty(void **state)
{
	char *path = write_temp("# nothing allowed\n\n   \n");
	struct policy p;
	char err[1024];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_file(&p, path, err, sizeof(err)), 0);
	assert_int_equal(p.n, 0);
	policy_free(&p);
	drop_temp(path);
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text;
		unsigned int line;
		const char *msg;
	} cases[] = {
		{ "a.com\n# c\n10.0.0.1/33\n", 3, "invalid entry \"10.0.0.1/33\"" },
		{ "bad_name\n", 1, "invalid entry \"bad_name\"" },
		{ "a.com\n\nb.com,,c.com\n", 3, "item 2 is empty" },
		{ "a.com\nb.com,\n", 2, "item 2 is empty" },
		{ "a.com\n198.51.100.7/24 # typo\n", 2, "did you mean 198.51.100.0/24?" },
		{ "a.com\nexample.com:0", 2, "port 0" },
	};
	static const char *const pre[] = { "keep.example" };
	char err[1024], where[300];
	struct policy p;
	size_t i;

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_list(&p, "keep.example", err, sizeof(err)), 0);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *path = write_temp(cases[i].text);

		err[0] = '\0';
		assert_int_equal(policy_add_file(&p, path, err, sizeof(err)), -EINVAL);
		snprintf(where, sizeof(where), "%s:%u: ", path, cases[i].line);
		if (strncmp(err, where, strlen(where)))
			fail_msg("message \"%s\" does not start with \"%s\"", err, where);
		assert_contains(err, cases[i].msg);
		assert_entries(&p, pre, ARRAY_SIZE(pre));
		drop_temp(path);
	}
	policy_free(&p);
}

static void test_file_missing(void **state)
{
	const char *path = "/nonexistent/egressd/allow.txt";
	struct policy p;
	char err[1024], want[300];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_file(&p, path, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "\"%s\": %s", path, strerror(ENOENT));
	assert_contains(err, want);
	assert_int_equal(p.n, 0);

	/* A directory opens but cannot be read. */
	assert_int_equal(policy_add_file(&p, "/tmp", err, sizeof(err)), -EISDIR);
	assert_contains(err, "\"/tmp\"");
	assert_contains(err, strerror(EISDIR));
	assert_int_equal(p.n, 0);
	policy_free(&p);
}

/* ---- compile ---------------------------------------------------------- */

static int compile_list(const char *list, struct rule **rules, size_t *n, char *err,
			size_t errlen)
{
	struct policy p;
	int ret;

	policy_init(&p);
	if (policy_add_list(&p, list, err, errlen))
		fail_msg("list \"%s\" rejected: %s", list, err);
	ret = policy_compile(&p, rules, n, err, errlen);
	policy_free(&p);
	return ret;
}

static const struct rule *find_rule(const struct rule *r, size_t n, const char *cidr)
{
	char buf[ADDR_STRLEN + 8], a[ADDR_STRLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s/%u", addr_format(&r[i].addr, a, sizeof(a)),
			 r[i].prefixlen);
		if (!strcmp(buf, cidr))
			return &r[i];
	}
	fail_msg("no rule for %s", cidr);
	return NULL;
}

/* "ALL" or "p1,p2,..." */
static const char *ports_str(const struct rule *r)
{
	static char buf[128];
	size_t o = 0;
	uint16_t i;

	if (r->flags & EGRESS_RULE_ALL_PORTS)
		return r->nports ? "ALL+ports?" : "ALL";
	buf[0] = '\0';
	for (i = 0; i < r->nports; i++)
		o += snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "," : "", r->ports[i]);
	return buf;
}

static void test_compile_cover_merge(void **state)
{
	struct rule *r = NULL;
	size_t n = 0;
	char err[1024];

	(void)state;
	/* /8 all ports covers the /32 limited to 443: the /32 allows everything. */
	assert_int_equal(compile_list("10.0.0.0/8 10.1.2.3:443", &r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ports_str(find_rule(r, n, "10.0.0.0/8")), "ALL");
	assert_string_equal(ports_str(find_rule(r, n, "10.1.2.3/32")), "ALL");
	assert_true(rule_allows_port(find_rule(r, n, "10.1.2.3/32"), 22));
	free(r);

	/* The other way round: the /8's port is added to the /32. */
	assert_int_equal(compile_list("10.0.0.0/8:80 10.1.2.3:443 10.1.0.0/16:8080", &r, &n,
				      err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ports_str(find_rule(r, n, "10.0.0.0/8")), "80");
	assert_string_equal(ports_str(find_rule(r, n, "10.1.0.0/16")), "80,8080");
	assert_string_equal(ports_str(find_rule(r, n, "10.1.2.3/32")), "80,443,8080");
	free(r);

	/* An unrelated prefix does not leak ports; a covering /0 does. */
	assert_int_equal(compile_list("10.1.2.3:443 192.0.2.0/24:25", &r, &n, err,
				      sizeof(err)), 0);
	assert_string_equal(ports_str(find_rule(r, n, "10.1.2.3/32")), "443");
	assert_string_equal(ports_str(find_rule(r, n, "192.0.2.0/24")), "25");
	free(r);
	assert_int_equal(compile_list("10.1.2.3:443 0.0.0.0/0:53", &r, &n, err, sizeof(err)), 0);
	assert_string_equal(ports_str(find_rule(r, n, "10.1.2.3/32")), "53,443");
	free(r);

	/* IPv4 never covers IPv6 or the reverse. */
	assert_int_equal(compile_list("0.0.0.0/0 2001:db8::1:443 [2001:db8::1]:443", &r, &n, err,
				      sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ports_str(find_rule(r, n, "2001:db8::1/128")), "443");
	assert_string_equal(ports_str(find_rule(r, n, "2001:db8::1:443/128")), "ALL");
	free(r);
}

static void test_compile_port_union(void **state)
{
	const struct rule *x;
	struct rule *r = NULL;
	size_t n = 0;
	char err[1024];

	(void)state;
	assert_int_equal(compile_list("198.51.100.7:443 198.51.100.7:80 198.51.100.7:443 "
				      "198.51.100.7:22 198.51.100.7:65535 198.51.100.7:1",
				      &r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	x = &r[0];
	assert_string_equal(ports_str(x), "1,22,80,443,65535");
	assert_int_equal(x->flags, 0);
	assert_true(rule_allows_port(x, 443));
	assert_true(rule_allows_port(x, 1));
	assert_true(rule_allows_port(x, 65535));
	assert_false(rule_allows_port(x, 8443));
	assert_false(rule_allows_port(x, 0));
	free(r);

	/* Ports plus a port-less entry for the same prefix: every port. */
	assert_int_equal(compile_list("198.51.100.7:443 198.51.100.7", &r, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].flags, EGRESS_RULE_ALL_PORTS);
	assert_int_equal(r[0].nports, 0);
	assert_true(rule_allows_port(&r[0], 0));
	assert_true(rule_allows_port(&r[0], 12345));
	free(r);
}

static void test_compile_too_many_ports(void **state)
{
	char list[1024], err[1024];
	struct rule *r = NULL, *sentinel = (struct rule *)0x1;
	size_t n = 77, o = 0;
	int i;

	(void)state;
	/* Exactly EGRESS_MAX_PORTS, half of them inherited: fine. */
	for (i = 0; i < EGRESS_MAX_PORTS / 2; i++)
		o += snprintf(list + o, sizeof(list) - o, "203.0.113.0/24:%d ", 1000 + i);
	for (; i < EGRESS_MAX_PORTS; i++)
		o += snprintf(list + o, sizeof(list) - o, "203.0.113.9:%d ", 1000 + i);
	assert_int_equal(compile_list(list, &r, &n, err, sizeof(err)), 0);
	assert_int_equal(find_rule(r, n, "203.0.113.9/32")->nports, EGRESS_MAX_PORTS);
	free(r);

	/* One more on the /32 only: the /32 fails, named. */
	snprintf(list + o, sizeof(list) - o, "203.0.113.9:9999");
	r = sentinel;
	n = 77;
	assert_int_equal(compile_list(list, &r, &n, err, sizeof(err)), -EINVAL);
	assert_contains(err, "203.0.113.9/32");
	assert_contains(err, "more than 16");
	assert_ptr_equal(r, sentinel);
	assert_int_equal(n, 77);

	/* ...unless something covering it allows every port. */
	strcat(list, " 203.0.0.0/16");
	assert_int_equal(compile_list(list, &r, &n, err, sizeof(err)), 0);
	assert_int_equal(find_rule(r, n, "203.0.113.9/32")->flags, EGRESS_RULE_ALL_PORTS);
	free(r);
}

static void test_compile_order(void **state)
{
	static const char *const want[] = {
		"10.0.0.0/8", "10.0.0.0/16", "10.0.0.1/32", "192.0.2.0/24", "192.0.2.128/25",
		"::/0", "2001:db8::/32", "2001:db8::1/128", "2001:db8:1::/48",
	};
	char a[ADDR_STRLEN], buf[64], err[1024];
	struct rule *r = NULL;
	size_t n = 0, i;

	(void)state;
	assert_int_equal(compile_list("[2001:db8:1::/48]:443 192.0.2.128/25 2001:db8::1 [::/0]:53 "
				      "10.0.0.1 10.0.0.0/16 10.0.0.0/8 192.0.2.0/24 "
				      "[2001:db8::/32]:8080 10.0.0.0/8:80",
				      &r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, ARRAY_SIZE(want));
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s/%u", addr_format(&r[i].addr, a, sizeof(a)),
			 r[i].prefixlen);
		assert_string_equal(buf, want[i]);
	}
	/* ::/0:53 reaches every IPv6 rule but no IPv4 rule. */
	assert_string_equal(ports_str(&r[0]), "ALL");
	assert_string_equal(ports_str(&r[5]), "53");
	assert_string_equal(ports_str(&r[6]), "53,8080");
	assert_string_equal(ports_str(&r[7]), "ALL");
	assert_string_equal(ports_str(&r[8]), "53,443,8080");
	free(r);
}

static void test_compile_names(void **state)
{
	struct policy p;
	struct entry e;
	struct rule *r;
	size_t n;
	char err[1024];

	(void)state;
	policy_init(&p);
	assert_int_equal(entry_parse("198.51.100.7", &e, err, sizeof(err)), 0);
	assert_int_equal(policy_add(&p, &e), 0);
	strcpy(e.name, "first.example");
	e.port = 443;
	assert_int_equal(policy_add(&p, &e), 0);
	strcpy(e.name, "second.example");
	e.port = 0;
	assert_int_equal(policy_add(&p, &e), 0);
	assert_int_equal(entry_parse("198.51.100.0/24", &e, err, sizeof(err)), 0);
	strcpy(e.name, "net.example");
	assert_int_equal(policy_add(&p, &e), 0);
	assert_int_equal(policy_compile(&p, &r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(find_rule(r, n, "198.51.100.7/32")->name, "first.example");
	assert_string_equal(find_rule(r, n, "198.51.100.0/24")->name, "net.example");
	free(r);
	policy_free(&p);
}

static void test_compile_unresolved(void **state)
{
	struct rule *r = (struct rule *)0x1;
	size_t n = 5;
	char err[1024];

	(void)state;
	assert_int_equal(compile_list("10.0.0.1 api.example.com:443", &r, &n, err, sizeof(err)),
			 -EINVAL);
	assert_contains(err, "unresolved domain \"api.example.com\"");
	assert_ptr_equal(r, (struct rule *)0x1);
	assert_int_equal(n, 5);
}

static void test_compile_empty(void **state)
{
	struct rule *r = NULL;
	size_t n = 5;
	char err[1024];

	(void)state;
	assert_int_equal(compile_list("", &r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(r);
}

static void test_rule_allows_port(void **state)
{
	struct rule r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_false(rule_allows_port(&r, 0));
	assert_false(rule_allows_port(&r, 443));
	r.nports = 2;
	r.ports[0] = 53;
	r.ports[1] = 443;
	assert_true(rule_allows_port(&r, 53));
	assert_true(rule_allows_port(&r, 443));
	assert_false(rule_allows_port(&r, 80));
	assert_false(rule_allows_port(&r, 0));
	r.flags = EGRESS_RULE_ALL_PORTS;
	assert_true(rule_allows_port(&r, 80));
	assert_true(rule_allows_port(&r, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_separators),
		cmocka_unit_test(test_list_content),
		cmocka_unit_test(test_list_errors_atomic),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_list_grows),
		cmocka_unit_test(test_file_good),
		cmocka_unit_test(test_file_empty),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_compile_cover_merge),
		cmocka_unit_test(test_compile_port_union),
		cmocka_unit_test(test_compile_too_many_ports),
		cmocka_unit_test(test_compile_order),
		cmocka_unit_test(test_compile_names),
		cmocka_unit_test(test_compile_unresolved),
		cmocka_unit_test(test_compile_empty),
		cmocka_unit_test(test_rule_allows_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
