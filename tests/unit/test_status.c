// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pure parts of egressd status: the request line (status_parse_request),
 * socket names and paths, and the document status_document() builds from
 * a fake status_input (programs, DNS, loopback, static rules, names,
 * learned addresses with their expiry, counters, recent denials, an
 * untrusted comm escaped), all parsed back with json-c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "status.h"

static void expect_req(const char *req, int want, const char *err_has)
{
	char err[256] = "";
	int ret = status_parse_request(req, strlen(req), err, sizeof(err));

	if (ret != want)
		fail_msg("request \"%s\": got %d (%s), want %d", req, ret, err, want);
	if (err_has && !strstr(err, err_has))
		fail_msg("request \"%s\": error \"%s\" lacks \"%s\"", req, err, err_has);
}

static void test_request(void **state)
{
	(void)state;
	expect_req("{\"request\":\"status\"}\n", 0, NULL);
	expect_req("{\"request\":\"status\"}", 0, NULL);
	expect_req("  { \"request\" : \"status\" }\r\n", 0, NULL);
	expect_req("{\"request\":\"status\",\"extra\":1}\n", 0, NULL);
	expect_req("{\"request\":\"kill\"}\n", -EOPNOTSUPP, "unknown request \"kill\"");
	expect_req("{\"request\":\"\"}\n", -EOPNOTSUPP, "unknown request \"\"");
	expect_req("\n", -EINVAL, "empty request");
	expect_req("", -EINVAL, "empty request");
	expect_req("status\n", -EINVAL, "malformed request");
	expect_req("{\"request\":\"status\"\n", -EINVAL, "ends early");
	expect_req("{\"request\":\"status\"} {}\n", -EINVAL, "text after the JSON object");
	expect_req("[\"status\"]\n", -EINVAL, "a JSON object expected");
	expect_req("{\"request\":1}\n", -EINVAL, "no \"request\" string");
	expect_req("{}\n", -EINVAL, "no \"request\" string");
	expect_req("{\"request\":\"status\"}\n{\"request\":\"status\"}\n", -EINVAL, "one line");
	/* A hostile value is quoted, never printed raw. */
	expect_req("{\"request\":\"a\\u001b[31mb\"}\n", -EOPNOTSUPP, "\\x1b[31mb");

	/* A NUL inside the length. */
	char err[128];

	assert_int_equal(status_parse_request("{\"request\":\"status\"}\0x", 22, err, sizeof(err)),
			 -EINVAL);
}

static void test_socket_names(void **state)
{
	char buf[128];
	uint64_t id;
	pid_t pid;

	(void)state;
	assert_int_equal(status_socket_path("/run/egressd", 1234, 56, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/run/egressd/cg-1234.56.sock");
	assert_int_equal(status_parse_socket_name("cg-1234.56.sock", &id, &pid), 0);
	assert_int_equal(id, 1234);
	assert_int_equal(pid, 56);
	assert_int_equal(status_parse_socket_name("cg-18446744073709551615.1.sock", &id, &pid), 0);
	assert_true(id == UINT64_MAX);
	assert_int_equal(status_parse_socket_name("cg-18446744073709551616.1.sock", &id, &pid), -EINVAL);
	assert_int_equal(status_parse_socket_name("cg-1234.56.sock.tmp", &id, &pid), -EINVAL);
	assert_int_equal(status_parse_socket_name("cg-1234.sock", &id, &pid), -EINVAL);
	assert_int_equal(status_parse_socket_name("cg-.5.sock", &id, &pid), -EINVAL);
	assert_int_equal(status_parse_socket_name("cg-12.0.sock", &id, &pid), -EINVAL);
	assert_int_equal(status_parse_socket_name("cg-012.5.sock", &id, &pid), -EINVAL);
	assert_int_equal(status_parse_socket_name("cg-12.-5.sock", &id, &pid), -EINVAL);
	assert_int_equal(status_parse_socket_name("cg-12.5x.sock", &id, &pid), -EINVAL);
	assert_int_equal(status_parse_socket_name("xx-12.5.sock", &id, &pid), -EINVAL);
	assert_int_equal(status_parse_socket_name(".", &id, &pid), -EINVAL);
	/* sun_path holds 108 bytes. */
	memset(buf, 'a', 100);
	buf[0] = '/';
	buf[100] = '\0';
	{
		char out[256];

		assert_int_equal(status_socket_path(buf, 1, 1, out, sizeof(out)), -ENAMETOOLONG);
		assert_int_equal(status_socket_path("/run/egressd", 1, 1, out, 10), -ENAMETOOLONG);
	}
	unsetenv(STATUS_RUNTIME_ENV);
	assert_string_equal(status_runtime_dir(), "/run/egressd");
	setenv(STATUS_RUNTIME_ENV, "", 1);
	assert_string_equal(status_runtime_dir(), "/run/egressd");
	setenv(STATUS_RUNTIME_ENV, "/tmp/x", 1);
	assert_string_equal(status_runtime_dir(), "/tmp/x");
	unsetenv(STATUS_RUNTIME_ENV);
}

static int ok_update(void *ctx, const struct addr *a, const struct learn_value *v)
{
	(void)ctx;
	(void)a;
	(void)v;
	return 0;
}

static int ok_remove(void *ctx, const struct addr *a)
{
	(void)ctx;
	(void)a;
	return 0;
}

static struct json_object *get(struct json_object *o, const char *path)
{
	char key[64];
	const char *p = path;

	while (o && *p) {
		size_t n = strcspn(p, ".");

		snprintf(key, sizeof(key), "%.*s", (int)n, p);
		if (json_object_is_type(o, json_type_array)) {
			o = json_object_array_get_idx(o, (size_t)atoi(key));
		} else if (!json_object_object_get_ex(o, key, &o)) {
			fail_msg("no %s in the document (at %s)", path, key);
		}
		p += n;
		if (*p == '.')
			p++;
	}
	if (!o)
		fail_msg("no %s in the document", path);
	return o;
}

static const char *S(struct json_object *d, const char *path)
{
	return json_object_get_string(get(d, path));
}

static int64_t I(struct json_object *d, const char *path)
{
	return json_object_get_int64(get(d, path));
}

static struct addr A(const char *s)
{
	struct addr a = { .family = AF_INET };

	if (inet_pton(AF_INET, s, a.bytes) != 1) {
		a.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, s, a.bytes), 1);
	}
	return a;
}

static void test_document(void **state)
{
	static const struct learn_ops ops = { ok_update, ok_remove, NULL };
	struct loader_prog progs[2] = {
		{ "egress_skb", 11, 0, "cgroup_inet_egress" },
		{ "egress_connect4", 12, 0, "cgroup_inet4_connect" },
	};
	struct resolver res = { .addr = A("198.51.100.1"), .port = 53 };
	struct rule rules[2] = {
		{ .addr = A("198.51.100.10"), .prefixlen = 32, .flags = EGRESS_RULE_ALL_PORTS,
		  .name = "allowed.test" },
		{ .addr = A("2001:db8::"), .prefixlen = 32, .nports = 2, .ports = { 80, 443 } },
	};
	struct entry dom[2] = {
		{ .kind = ENTRY_DOMAIN, .name = "allowed.test" },
		{ .kind = ENTRY_DOMAIN, .wildcard = true, .port = 443, .name = "example.com" },
	};
	static struct egress_counter counters[EGRESS_HOOK_MAX][EGRESS_REASON_MAX];
	struct events_recent recent[1] = { {
		.time = 1700000000,
		.pid = 42,
		.uid = 65534,
		.comm = "evil\nline\x1b",
		.hook = "connect4",
		.dest = "198.51.100.20",
		.port = 80,
		.proto = "tcp",
		.reason = "not in allowlist",
	} };
	struct dnsmsg_addr da = { .addr = A("198.51.100.10"), .ttl = 57 };
	struct learn_config lc;
	struct learn *l = NULL;
	struct status_input in;
	struct json_object *d;
	char *text;

	(void)state;
	learn_config_default(&lc);
	lc.min_ttl_s = 1;
	assert_int_equal(learn_new(&lc, &l), 0);
	assert_int_equal(learn_answer(l, "allowed.test", true, NULL, &da, 1, 10000, &ops, NULL), 0);
	counters[EGRESS_HOOK_CONNECT4][EGRESS_DROP_NOT_ALLOWED] = (struct egress_counter){ 3, 0 };
	counters[EGRESS_HOOK_SKB][EGRESS_DROP_NOT_ALLOWED] = (struct egress_counter){ 2, 120 };
	counters[EGRESS_HOOK_SKB][EGRESS_PASS_ALLOWLIST] = (struct egress_counter){ 7, 700 };

	memset(&in, 0, sizeof(in));
	in.version = "9.9";
	in.pid = 4242;
	in.started = 1700000000;
	in.now = 1700000005;
	in.cgroup = "/sys/fs/cgroup/egressd-4242";
	in.cgroup_id = 987654321012ULL;
	in.uid = 65534;
	in.gid = 65533;
	in.user_name = "nobody";
	in.progs = progs;
	in.nprogs = 2;
	in.dns_proxy = true;
	in.proxy_port = 40000;
	in.resolvers = &res;
	in.nresolvers = 1;
	in.deny_rcode = 5;
	in.loopback = "ports 8080,5432";
	in.rules = rules;
	in.nrules = 2;
	in.domains = dom;
	in.ndomains = 2;
	in.learn = l;
	in.now_ms = 10000 + 2500; /* 54.5 s left: rounds up to 55 */
	in.learned_max = 10;
	in.counters = (const struct egress_counter(*)[EGRESS_REASON_MAX])counters;
	in.recent = recent;
	in.nrecent = 1;

	d = status_document(&in);
	assert_non_null(d);
	/* It survives its own serialisation. */
	/* d owns the string json-c returns: copy it before d is freed. */
	text = strdup(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
	assert_non_null(text);
	assert_null(strchr(text, '\n'));
	assert_null(strchr(text, '\x1b'));
	json_object_put(d);
	d = json_tokener_parse(text);
	free(text);
	assert_non_null(d);

	assert_string_equal(S(d, "version"), "9.9");
	assert_int_equal(I(d, "pid"), 4242);
	assert_int_equal(I(d, "started"), 1700000000);
	assert_string_equal(S(d, "cgroup"), "/sys/fs/cgroup/egressd-4242");
	assert_true(json_object_get_uint64(get(d, "cgroup_id")) == 987654321012ULL);
	assert_string_equal(S(d, "mode"), "enforcing");
	assert_int_equal(I(d, "session_user.uid"), 65534);
	assert_int_equal(I(d, "session_user.gid"), 65533);
	assert_string_equal(S(d, "session_user.name"), "nobody");
	assert_int_equal(json_object_array_length(get(d, "programs")), 2);
	assert_string_equal(S(d, "programs.0.name"), "egress_skb");
	assert_int_equal(I(d, "programs.0.id"), 11);
	assert_string_equal(S(d, "programs.1.attach_type"), "cgroup_inet4_connect");
	assert_true(json_object_get_boolean(get(d, "dns.proxy")));
	assert_int_equal(I(d, "dns.port"), 40000);
	assert_string_equal(S(d, "dns.upstreams.0"), "198.51.100.1:53");
	assert_string_equal(S(d, "dns.deny_rcode"), "refused");
	assert_string_equal(S(d, "loopback"), "ports 8080,5432");
	assert_string_equal(S(d, "static.0.prefix"), "198.51.100.10/32");
	assert_string_equal(S(d, "static.0.ports"), "all");
	assert_string_equal(S(d, "static.0.name"), "allowed.test");
	assert_string_equal(S(d, "static.1.prefix"), "2001:db8::/32");
	assert_string_equal(S(d, "static.1.ports"), "80,443");
	assert_true(json_object_is_type(get(d, "static.1"), json_type_object));
	{
		struct json_object *nm;

		assert_true(json_object_object_get_ex(get(d, "static.1"), "name", &nm));
		assert_null(nm); /* typed in: null */
	}
	assert_string_equal(S(d, "names.0"), "allowed.test");
	assert_string_equal(S(d, "names.1"), "*.example.com:443");
	assert_string_equal(S(d, "learned.0.address"), "198.51.100.10");
	assert_string_equal(S(d, "learned.0.names.0"), "allowed.test");
	assert_string_equal(S(d, "learned.0.ports"), "all");
	assert_int_equal(I(d, "learned.0.expires_in_s"), 55);
	assert_int_equal(I(d, "learned_total"), 1);
	assert_false(json_object_get_boolean(get(d, "learned_truncated")));
	assert_string_equal(S(d, "counters.not in allowlist.verdict"), "denied");
	assert_int_equal(I(d, "counters.not in allowlist.packets"), 5);
	assert_int_equal(I(d, "counters.not in allowlist.bytes"), 120);
	assert_int_equal(I(d, "counters.not in allowlist.hooks.connect4"), 3);
	assert_int_equal(I(d, "counters.not in allowlist.hooks.packet"), 2);
	assert_string_equal(S(d, "counters.in allowlist.verdict"), "allowed");
	assert_int_equal(I(d, "counters.in allowlist.packets"), 7);
	assert_int_equal(I(d, "counters.port not allowed.packets"), 0);
	assert_int_equal(json_object_object_length(get(d, "counters")), EGRESS_REASON_MAX);
	assert_int_equal(I(d, "recent_denials.0.pid"), 42);
	assert_string_equal(S(d, "recent_denials.0.destination"), "198.51.100.20");
	assert_int_equal(I(d, "recent_denials.0.port"), 80);
	assert_string_equal(S(d, "recent_denials.0.proto"), "tcp");
	assert_string_equal(S(d, "recent_denials.0.reason"), "not in allowlist");
	assert_string_equal(S(d, "recent_denials.0.hook"), "connect4");
	/* The comm is the workload's: escaped, never raw control bytes. */
	assert_string_equal(S(d, "recent_denials.0.comm"), "evil\\x0aline\\x1b");
	json_object_put(d);

	/* Audit, no proxy, nothing learned, truncation. */
	in.audit = true;
	in.dns_proxy = false;
	in.deny_rcode = 3;
	in.learned_max = 0;
	in.counters = NULL;
	in.nrecent = 0;
	d = status_document(&in);
	assert_non_null(d);
	assert_string_equal(S(d, "mode"), "audit");
	assert_false(json_object_get_boolean(get(d, "dns.proxy")));
	assert_int_equal(I(d, "dns.port"), 0);
	assert_string_equal(S(d, "dns.deny_rcode"), "nxdomain");
	assert_int_equal(json_object_array_length(get(d, "learned")), 0);
	assert_int_equal(I(d, "learned_total"), 1);
	assert_true(json_object_get_boolean(get(d, "learned_truncated")));
	assert_int_equal(I(d, "counters.not in allowlist.packets"), 0);
	assert_int_equal(json_object_array_length(get(d, "recent_denials")), 0);
	json_object_put(d);
	learn_free(l);
}

static void test_error(void **state)
{
	struct json_object *e = status_error("permission denied: only root may ask egressd's status");

	(void)state;
	assert_non_null(e);
	assert_string_equal(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN),
			    "{\"error\":\"permission denied: only root may ask egressd's status\"}");
	json_object_put(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_socket_names),
		cmocka_unit_test(test_document),
		cmocka_unit_test(test_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
