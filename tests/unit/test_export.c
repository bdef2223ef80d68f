// SPDX-License-Identifier: GPL-2.0-only
/*
 * export_cilium(): allowlist text in, CiliumNetworkPolicy YAML out, checked
 * line by line for names, wildcards, ports, v4/v6 CIDRs, mixed lists and
 * the empty list; the warnings it gives; and the name, namespace and label
 * validators.  tests/e2e/83_policy_export.sh parses the YAML for real.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "export.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAXS 16

struct warns {
	char text[4096];
	int n;
};

static void collect(void *ctx, const char *msg)
{
	struct warns *w = ctx;
	size_t len = strlen(w->text);

	snprintf(w->text + len, sizeof(w->text) - len, "%s\n", msg);
	w->n++;
}

/* The policy for list (with opts, may be NULL); fails the test on error. */
static char *export_list(const char *list, const struct export_opts *opts, struct warns *w)
{
	struct export_opts o = {};
	struct policy p;
	char err[1024] = "", *yaml = NULL;
	int ret;

	if (opts)
		o = *opts;
	o.warn = collect;
	o.warn_ctx = w;
	memset(w, 0, sizeof(*w));
	policy_init(&p);
	if (policy_add_list(&p, list, err, sizeof(err)))
		fail_msg("policy_add_list(\"%s\"): %s", list, err);
	ret = export_cilium(&p, &o, &yaml, err, sizeof(err));
	policy_free(&p);
	if (ret)
		fail_msg("export_cilium(\"%s\"): %d %s", list, ret, err);
	assert_non_null(yaml);
	return yaml;
}

/* Each of want[] is in yaml, in this order (as substrings of successive text). */
static void assert_in_order(const char *yaml, const char *const *want, const char *ctx)
{
	const char *at = yaml;

	for (int i = 0; i < MAXS && want[i]; i++) {
		const char *hit = strstr(at, want[i]);

		if (!hit) {
			print_message("%s\n", yaml);
			fail_msg("%s: \"%s\" missing (or out of order)", ctx, want[i]);
		}
		at = hit + strlen(want[i]);
	}
}

static void assert_absent(const char *yaml, const char *const *nowant, const char *ctx)
{
	for (int i = 0; i < MAXS && nowant[i]; i++) {
		if (strstr(yaml, nowant[i])) {
			print_message("%s\n", yaml);
			fail_msg("%s: \"%s\" must not be there", ctx, nowant[i]);
		}
	}
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/*
 * Every scalar outside comments is double-quoted: after "key: " and "- "
 * comes '"' (or the line opens a mapping or a list).
 */
static void assert_all_quoted(const char *yaml, const char *ctx)
{
	const char *line = yaml;

	while (*line) {
		const char *end = strchr(line, '\n'), *p = line, *v;

		if (!end)
			fail_msg("%s: the YAML does not end with a newline", ctx);
		while (*p == ' ')
			p++;
		if (*p != '#') {
			while (*p == '-' && p[1] == ' ')
				p += 2;
			v = memchr(p, ':', (size_t)(end - p));
			/* a quoted key: the ':' after its closing quote */
			if (*p == '"') {
				const char *q = strchr(p + 1, '"');

				v = q && q < end ? memchr(q, ':', (size_t)(end - q)) : NULL;
			}
			if (!v && *p != '"')
				fail_msg("%s: bare scalar in line \"%.*s\"", ctx, (int)(end - line), line);
			if (v && v + 1 != end && (v[1] != ' ' || v[2] != '"'))
				fail_msg("%s: unquoted value in line \"%.*s\"", ctx, (int)(end - line), line);
		}
		line = end + 1;
	}
}

/* ---- allowlist -> YAML ------------------------------------------------ */

#define TCP_UDP(port)                                                       \
	"      - port: \"" port "\"\n        protocol: \"TCP\"\n"              \
	"      - port: \"" port "\"\n        protocol: \"UDP\"\n"

static const struct yaml_case {
	const char *list;
	const char *want[MAXS];   /* in this order */
	const char *nowant[MAXS]; /* nowhere */
	const char *warn;         /* a warning holds this; NULL: no warnings */
} yaml_cases[] = {
	{ "example.com",
	  { "apiVersion: \"cilium.io/v2\"\nkind: \"CiliumNetworkPolicy\"\n",
	    "  name: \"egressd-allowlist\"\n",
	    "      \"egressd.io/policy\": \"egressd-allowlist\"\n",
	    "  egress:\n",
	    "  - toEndpoints:\n    - matchLabels:\n"
	    "        \"k8s:io.kubernetes.pod.namespace\": \"kube-system\"\n"
	    "        \"k8s:k8s-app\": \"kube-dns\"\n",
	    "      - port: \"53\"\n        protocol: \"UDP\"\n"
	    "      - port: \"53\"\n        protocol: \"TCP\"\n"
	    "      rules:\n        dns:\n        - matchName: \"example.com\"\n",
	    "  - toFQDNs:\n    - matchName: \"example.com\"\n",
	    "  egressDeny:\n  - toCIDRSet:\n    - cidr: \"169.254.169.254/32\"\n"
	    "    - cidr: \"fd00:ec2::254/128\"\n" },
	  /* all ports: the toFQDNs rule has no toPorts; no open DNS; no namespace */
	  { "matchPattern: \"*\"", "namespace:", "toCIDRSet:\n    - cidr: \"198", "toEntities",
	    "matchName: \"example.com\"\n    toPorts" },
	  NULL },
	{ "*.example.com:443",
	  { "        - matchPattern: \"**.example.com\"\n",
	    "  # Port 443 over TCP and UDP",
	    "Cilium before 1.19 reads \"**.\" as \"*.\"",
	    "  - toFQDNs:\n    - matchPattern: \"**.example.com\"\n"
	    "    toPorts:\n    - ports:\n" TCP_UDP("443") },
	  { "matchName: \"example.com\"", "\"*.example.com\"", "protocol: \"ANY\"" },
	  "matchPattern \"**.example.com\"" },
	/* one name, two ports: one rule with both; ports sorted */
	{ "example.com:443 example.com:80",
	  { "  # Ports 80, 443 over TCP and UDP",
	    "  - toFQDNs:\n    - matchName: \"example.com\"\n"
	    "    toPorts:\n    - ports:\n" TCP_UDP("80") TCP_UDP("443") },
	  { "Every port" },
	  NULL },
	/* a port-less entry for the same name: every port wins, as in egressd */
	{ "example.com:443 example.com",
	  { "  # Every port", "  - toFQDNs:\n    - matchName: \"example.com\"\n  # egressd never learns" },
	  { "port: \"443\"" },
	  NULL },
	/* names grouped by port set: every port first, then by ports */
	{ "a.example:443 b.example c.example:443 d.example:8443",
	  { "        - matchName: \"a.example\"\n        - matchName: \"b.example\"\n"
	    "        - matchName: \"c.example\"\n        - matchName: \"d.example\"\n",
	    "  - toFQDNs:\n    - matchName: \"b.example\"\n  #",
	    "  - toFQDNs:\n    - matchName: \"a.example\"\n    - matchName: \"c.example\"\n"
	    "    toPorts:\n    - ports:\n" TCP_UDP("443"),
	    "  - toFQDNs:\n    - matchName: \"d.example\"\n    toPorts:\n    - ports:\n"
	    TCP_UDP("8443") },
	  { NULL },
	  NULL },
	/* CIDRs, v4 and v6, with and without ports: no DNS rule, no deny */
	{ "198.51.100.0/24 2001:db8::/32 [2001:db8::1]:443 198.51.100.7:443 2001:db8:0:0::",
	  { "  - toCIDRSet:\n    - cidr: \"198.51.100.0/24\"\n    - cidr: \"2001:db8::/32\"\n"
	    "    - cidr: \"2001:db8::/128\"\n  #",
	    "  - toCIDRSet:\n    - cidr: \"2001:db8::1/128\"\n    - cidr: \"198.51.100.7/32\"\n"
	    "    toPorts:\n    - ports:\n" TCP_UDP("443") },
	  { "toEndpoints", "toFQDNs", "dns:", "egressDeny" },
	  NULL },
	/* mixed; an explicit CIDR over the metadata address keeps it allowed */
	{ "registry.npmjs.org:443, 169.254.0.0/16, *.s3.example",
	  { "        - matchName: \"registry.npmjs.org\"\n        - matchPattern: \"**.s3.example\"\n",
	    "  - toFQDNs:\n    - matchPattern: \"**.s3.example\"\n",
	    "  - toFQDNs:\n    - matchName: \"registry.npmjs.org\"\n",
	    "  - toCIDRSet:\n    - cidr: \"169.254.0.0/16\"\n",
	    "  egressDeny:\n  - toCIDRSet:\n    - cidr: \"fd00:ec2::254/128\"\n" },
	  { "169.254.169.254/32" },
	  "private or local" },
	/* github.com: the meta ranges are named, not fetched */
	{ "github.com:443",
	  { "  # github.com: egressd run also allows GitHub's published", "matchName: \"github.com\"" },
	  { "api.github.com/meta\n" },
	  "GitHub's published web, api and git ranges" },
	/* a loopback destination: kept, but said to do nothing */
	{ "127.0.0.1:8080",
	  { "  # A loopback prefix here has no effect", "    - cidr: \"127.0.0.1/32\"\n" },
	  { NULL },
	  "loopback destination has no effect" },
	/* the empty allowlist: default-deny that allows nothing, DNS included */
	{ "",
	  { "  egress:\n", "Cilium ignores an empty egress section",
	    "  - toEntities:\n    - \"none\"\n" },
	  { "\n  egress: []", "toFQDNs", "toCIDRSet", "toEndpoints", "toPorts", "egressDeny" },
	  NULL },
};

static void test_yaml(void **state)
{
	struct warns w;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(yaml_cases); i++) {
		const struct yaml_case *c = &yaml_cases[i];
		char ctx[256];
		char *yaml = export_list(c->list, NULL, &w);

		snprintf(ctx, sizeof(ctx), "case %zu \"%s\"", i, c->list);
		assert_in_order(yaml, c->want, ctx);
		assert_absent(yaml, c->nowant, ctx);
		assert_all_quoted(yaml, ctx);
		if (c->warn && !strstr(w.text, c->warn))
			fail_msg("%s: no warning holding \"%s\" in:\n%s", ctx, c->warn, w.text);
		if (!c->warn && w.n)
			fail_msg("%s: unexpected warnings:\n%s", ctx, w.text);
		free(yaml);
	}
}

/* Every domain is in the DNS rule once; no rule lists "*" alone. */
static void test_dns_names_once(void **state)
{
	struct warns w;
	char *yaml;

	(void)state;
	yaml = export_list("a.example:443 a.example:80 *.a.example a.example 198.51.100.1", NULL, &w);
	/* DNS rule + one toFQDNs rule each */
	assert_int_equal(count(yaml, "matchName: \"a.example\""), 2);
	assert_int_equal(count(yaml, "matchPattern: \"**.a.example\""), 2);
	assert_int_equal(count(yaml, "matchPattern: \"*\""), 0);
	assert_int_equal(count(yaml, "  - toFQDNs:"), 1); /* both all-ports */
	free(yaml);
}

static void test_options(void **state)
{
	static const struct export_label sel[] = { { "app", "builder" }, { "k8s:team", "infra" } };
	static const struct export_label dns[] = { { "k8s:io.kubernetes.pod.namespace", "dns" },
						   { "k8s:app", "coredns" } };
	const struct export_opts o = {
		.name = "build-egress",
		.namespace = "ci",
		.selector = sel,
		.nselector = 2,
		.dns_selector = dns,
		.ndns_selector = 2,
	};
	const char *want[MAXS] = {
		"  name: \"build-egress\"\n  namespace: \"ci\"\n",
		"    matchLabels:\n      \"app\": \"builder\"\n      \"k8s:team\": \"infra\"\n",
		"    - matchLabels:\n        \"k8s:io.kubernetes.pod.namespace\": \"dns\"\n"
		"        \"k8s:app\": \"coredns\"\n    toPorts:",
	};
	const char *nowant[MAXS] = { "kube-dns", "egressd.io/policy", "Pods opt in" };
	struct warns w;
	char *yaml = export_list("example.com", &o, &w);

	(void)state;
	assert_in_order(yaml, want, "options");
	assert_absent(yaml, nowant, "options");
	free(yaml);
}

static void expect_export_error(const char *list, const struct export_opts *o, const char *what)
{
	struct policy p;
	char err[1024] = "", *yaml = NULL;
	int ret;

	policy_init(&p);
	assert_int_equal(policy_add_list(&p, list, err, sizeof(err)), 0);
	ret = export_cilium(&p, o, &yaml, err, sizeof(err));
	policy_free(&p);
	if (ret != -EINVAL)
		fail_msg("\"%s\": export_cilium returned %d, want -EINVAL", list, ret);
	assert_null(yaml);
	if (!strstr(err, what))
		fail_msg("\"%s\": error \"%s\" does not hold \"%s\"", list, err, what);
}

static void test_export_errors(void **state)
{
	static const struct export_label dup[] = { { "app", "a" }, { "app", "b" } };
	static const struct export_label bad[] = { { "app", "a b" } };
	char list[512] = "", longname[80];
	struct export_opts o = {};

	(void)state;
	/* egressd run takes at most EGRESS_MAX_PORTS ports per destination */
	for (int i = 1; i <= EGRESS_MAX_PORTS + 1; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "x.example:%d ", 1000 + i);
	expect_export_error(list, &o, "more than 16 ports for x.example");
	list[0] = '\0';
	for (int i = 1; i <= EGRESS_MAX_PORTS + 1; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "198.51.100.0/24:%d ", i);
	expect_export_error(list, &o, "198.51.100.0/24: more than 16 distinct ports");

	o.name = "Not_A_Name";
	expect_export_error("x.example", &o, "\"Not_A_Name\"");
	o.name = NULL;
	o.namespace = "has.dot";
	expect_export_error("x.example", &o, "\"has.dot\"");
	o.namespace = NULL;
	o.selector = dup;
	o.nselector = 2;
	expect_export_error("x.example", &o, "\"app\" given twice");
	o.selector = bad;
	o.nselector = 1;
	expect_export_error("x.example", &o, "\"app=a b\"");
	o.selector = NULL;
	o.nselector = 0;
	/* a name too long to be the default selector's value */
	memset(longname, 'a', 64);
	longname[64] = '\0';
	o.name = longname;
	expect_export_error("x.example", &o, "give --selector");
	/* ... is fine with a selector of its own */
	{
		static const struct export_label s[] = { { "app", "a" } };
		struct policy p;
		char err[256], *yaml = NULL;

		o.selector = s;
		o.nselector = 1;
		policy_init(&p);
		assert_int_equal(policy_add_list(&p, "x.example", err, sizeof(err)), 0);
		assert_int_equal(export_cilium(&p, &o, &yaml, err, sizeof(err)), 0);
		assert_non_null(strstr(yaml, longname));
		free(yaml);
		policy_free(&p);
	}
}

/* ---- validators ------------------------------------------------------- */

static void test_names(void **state)
{
	static const char *const good[] = { "a", "egressd-allowlist", "a.b-c.d", "0abc",
					    "x1.y2" };
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "", "empty" },
		{ "Upper", "uppercase" },
		{ "under_score", "other than" },
		{ "-lead", "start and end" },
		{ "trail-", "start and end" },
		{ "a..b", "start and end" },
		{ "a.-b", "start and end" },
		{ "sp ace", "other than" },
		{ ".", "start and end" },
	};
	char err[512], longname[300];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(export_name_validate(good[i], err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(export_name_validate(bad[i].in, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].why) || !strstr(err, "invalid policy name"))
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", bad[i].in, err, bad[i].why);
	}
	memset(longname, 'a', 253);
	longname[253] = '\0';
	assert_int_equal(export_name_validate(longname, err, sizeof(err)), 0);
	longname[253] = 'a';
	longname[254] = '\0';
	assert_int_equal(export_name_validate(longname, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 253"));

	assert_int_equal(export_namespace_validate("team-a", err, sizeof(err)), 0);
	assert_int_equal(export_namespace_validate("a.b", err, sizeof(err)), -EINVAL);
	assert_int_equal(export_namespace_validate("", err, sizeof(err)), -EINVAL);
	memset(longname, 'a', 64);
	longname[64] = '\0';
	assert_int_equal(export_namespace_validate(longname, err, sizeof(err)), -EINVAL);
	longname[63] = '\0';
	assert_int_equal(export_namespace_validate(longname, err, sizeof(err)), 0);
}

static void test_labels(void **state)
{
	static const struct {
		const char *in, *key, *value;
	} good[] = {
		{ "app=web", "app", "web" },
		{ "app=", "app", "" },
		{ "example.com/app=a.b_c-d", "example.com/app", "a.b_c-d" },
		{ "k8s:k8s-app=kube-dns", "k8s:k8s-app", "kube-dns" },
		{ "any:io.kubernetes.pod.namespace=kube-system", "any:io.kubernetes.pod.namespace",
		  "kube-system" },
		{ "App_1=Value", "App_1", "Value" },
	};
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "app", "not KEY=VALUE" },
		{ "=v", "name part is empty" },
		{ "a/=v", "name part is empty" },
		{ "/a=v", "prefix before '/'" },
		{ "Ex.com/a=v", "prefix before '/'" },
		{ "-a=v", "start and end" },
		{ "a-=v", "start and end" },
		{ "a b=v", "other than" },
		{ "a=b c", "label value" },
		{ "a=-b", "label value" },
		{ "a=b=c", "label value" },
		{ "a/b/c=v", "other than" },
		{ "k8s:=v", "other than" }, /* "k8s:" alone is no source */
	};
	struct export_label l;
	char err[512], text[400], a63[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		if (export_label_parse(good[i].in, &l, err, sizeof(err)))
			fail_msg("\"%s\": %s", good[i].in, err);
		assert_string_equal(l.key, good[i].key);
		assert_string_equal(l.value, good[i].value);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (export_label_parse(bad[i].in, &l, err, sizeof(err)) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i].in);
		if (!strstr(err, bad[i].why))
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", bad[i].in, err, bad[i].why);
	}
	/* 63 is the most a name part or value may have */
	memset(a63, 'a', 63);
	a63[63] = '\0';
	snprintf(text, sizeof(text), "%s=%s", a63, a63);
	assert_int_equal(export_label_parse(text, &l, err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "b%s=v", a63);
	assert_int_equal(export_label_parse(text, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 63"));
	snprintf(text, sizeof(text), "k=b%s", a63);
	assert_int_equal(export_label_parse(text, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 63"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_dns_names_once),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_export_errors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
