// SPDX-License-Identifier: GPL-2.0-only
/*
 * events_new(), events_record() with an explicit clock, events_summary():
 * what the deny reports look like, how repeats and floods are collapsed,
 * JSON Lines output and the audit summary with its suggestion.
 *
 * Every case writes to a --log-file in a private temp dir and reads it
 * back; the audit summary goes through pr_info() to stderr, which is
 * captured into a file around events_summary().
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "addr.h"
#include "dns.h"
#include "events.h"
#include "log.h"
#include "policy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_LINES 8192

struct fixture {
	char dir[64];
	char log[128];
	char err[128];
	char *lines[MAX_LINES];
	size_t nlines;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/egressd-test-events.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->log, sizeof(f->log), "%s/events.log", f->dir);
	snprintf(f->err, sizeof(f->err), "%s/stderr.log", f->dir);
	log_set_level(LOG_LEVEL_INFO);
	*state = f;
	return 0;
}

static void free_lines(struct fixture *f)
{
	for (size_t i = 0; i < f->nlines; i++)
		free(f->lines[i]);
	f->nlines = 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char py[160];

	free_lines(f);
	unlink(f->log);
	unlink(f->err);
	snprintf(py, sizeof(py), "%s/check.py", f->dir);
	unlink(py);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Read PATH into f->lines (newline stripped); returns the line count. */
static size_t read_lines(struct fixture *f, const char *path)
{
	FILE *in = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	free_lines(f);
	assert_non_null(in);
	while ((n = getline(&line, &cap, in)) >= 0) {
		assert_true(f->nlines < MAX_LINES);
		/* Every record ends with a newline: no torn last line. */
		assert_true(n > 0 && line[n - 1] == '\n');
		line[n - 1] = '\0';
		f->lines[f->nlines++] = strdup(line);
	}
	free(line);
	fclose(in);
	return f->nlines;
}

static size_t count_containing(const struct fixture *f, const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nlines; i++)
		n += strstr(f->lines[i], needle) != NULL;
	return n;
}

static size_t count_occurrences(const char *hay, const char *needle)
{
	size_t n = 0, len = strlen(needle);

	for (const char *p = strstr(hay, needle); p; p = strstr(p + len, needle))
		n++;
	return n;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static void assert_not_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("\"%s\" unexpectedly contains \"%s\"", hay, needle);
}

static struct events *open_events(struct fixture *f, enum log_format fmt, bool audit,
				  const struct rule *rules, size_t nrules,
				  const struct dns_answer *answers, size_t nanswers)
{
	struct events_config c = { .format = fmt, .log_file = f->log, .audit = audit };
	struct events *ev = events_new(&c, rules, nrules, answers, nanswers);

	assert_non_null(ev);
	return ev;
}

/* Run events_summary() with stderr going to f->err. */
static void summary_to_file(struct fixture *f, struct events *ev)
{
	int saved, fd;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	fd = open(f->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	events_summary(ev);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
}

static struct egress_event ev4(const char *ip, uint16_t port, uint8_t proto, uint8_t reason)
{
	struct egress_event e;

	memset(&e, 0, sizeof(e));
	e.pid = 1234;
	e.uid = 65534;
	snprintf(e.comm, sizeof(e.comm), "probe");
	e.hook = proto == IPPROTO_UDP ? EGRESS_HOOK_SENDMSG4 : EGRESS_HOOK_CONNECT4;
	e.reason = reason;
	e.proto = proto;
	e.family = 4;
	e.dport = port;
	assert_int_equal(inet_pton(AF_INET, ip, e.daddr), 1);
	return e;
}

static struct egress_event ev6(const char *ip, uint16_t port, uint8_t proto, uint8_t reason)
{
	struct egress_event e = ev4("0.0.0.0", port, proto, reason);

	e.family = 6;
	e.hook = proto == IPPROTO_UDP ? EGRESS_HOOK_SENDMSG6 : EGRESS_HOOK_CONNECT6;
	assert_int_equal(inet_pton(AF_INET6, ip, e.daddr), 1);
	return e;
}

static struct addr mkaddr(const char *text)
{
	struct addr a;

	assert_int_equal(addr_parse(text, &a), 0);
	return a;
}

static const char *python3(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static bool have_python3(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "%s -c 'import json' >/dev/null 2>&1", python3());
	return system(cmd) == 0;
}

/* ---- text lines ---------------------------------------------------------- */

static void test_first_event_text(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event e = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);

	events_record(ev, &e, 1000);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 1);
	assert_string_equal(f->lines[0],
			    "egressd: blocked probe[1234] -> 198.51.100.20:80/tcp: not in allowlist");
}

/* A refused socket option: named, with its group, and no "->". */
static void test_sockopt_text(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event j = ev4("239.9.9.9", 35, 0, EGRESS_DROP_MCAST_JOIN);
	struct egress_event fb = ev4("0.0.0.0", 78, 41, EGRESS_DROP_SPOOF);
	struct egress_event lo = ev4("127.0.0.1", 7, IPPROTO_UDP, EGRESS_DROP_LOOPBACK_DEV);

	j.hook = EGRESS_HOOK_SETSOCKOPT;
	fb.hook = EGRESS_HOOK_SETSOCKOPT;
	events_record(ev, &j, 1000);
	events_record(ev, &fb, 1000);
	events_record(ev, &lo, 1000);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 3);
	assert_string_equal(f->lines[0], "egressd: blocked probe[1234] setsockopt(IP_ADD_MEMBERSHIP, "
					 "239.9.9.9): multicast group not in allowlist");
	assert_string_equal(f->lines[1],
			    "egressd: blocked probe[1234] setsockopt(IPV6_FREEBIND): source address not "
			    "this host's (FREEBIND, TRANSPARENT or nonlocal bind)");
	assert_string_equal(f->lines[2], "egressd: blocked probe[1234] -> 127.0.0.1:7/udp: loopback "
					 "address sent out of a non-loopback device");
}

static void test_udp_and_reasons_text(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event a = ev4("198.51.100.10", 8080, IPPROTO_TCP, EGRESS_DROP_PORT);
	struct egress_event b = ev4("198.51.100.30", 53, IPPROTO_UDP, EGRESS_DROP_DNS);
	struct egress_event c = ev4("198.51.100.20", 7, IPPROTO_UDP, EGRESS_DROP_NOT_ALLOWED);

	/* The packet backstop has no process: uid instead, marked (packet). */
	c.hook = EGRESS_HOOK_SKB;
	c.pid = 0;
	memset(c.comm, 0, sizeof(c.comm));
	events_record(ev, &a, 1000);
	events_record(ev, &b, 1000);
	events_record(ev, &c, 1000);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 3);
	assert_string_equal(f->lines[0],
			    "egressd: blocked probe[1234] -> 198.51.100.10:8080/tcp: port not allowed");
	assert_string_equal(f->lines[1],
			    "egressd: blocked probe[1234] -> 198.51.100.30:53/udp: DNS to a non-resolver");
	assert_string_equal(f->lines[2],
			    "egressd: blocked uid 65534 -> 198.51.100.20:7/udp: not in allowlist (packet)");
}

static void test_ipv6_brackets(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event e = ev6("2001:db8::20", 443, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	struct egress_event u = ev6("2001:db8::20", 7, IPPROTO_UDP, EGRESS_DROP_NOT_ALLOWED);

	events_record(ev, &e, 1000);
	events_record(ev, &u, 1000);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 2);
	assert_string_equal(f->lines[0],
			    "egressd: blocked probe[1234] -> [2001:db8::20]:443/tcp: not in allowlist");
	assert_string_equal(f->lines[1],
			    "egressd: blocked probe[1234] -> [2001:db8::20]:7/udp: not in allowlist");
}

/* A comm is whatever the process set with PR_SET_NAME: no forged lines. */
static void test_text_comm_sanitized(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event e = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);

	memcpy(e.comm, "x\negressd: ok\x1b", 15);
	e.comm[15] = '\0';
	events_record(ev, &e, 1000);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 1);
	/* Escaped as every message escapes untrusted text; quoted for the space. */
	assert_string_equal(f->lines[0], "egressd: blocked \"x\\x0aegressd: ok\\x1b\"[1234] -> "
					 "198.51.100.20:80/tcp: not in allowlist");
	for (const char *p = f->lines[0]; *p; p++)
		assert_false((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f);
}

/* A retitled process ("npm install x") stays one token; UDP connect is named. */
static void test_text_comm_spaces_and_udp_connect(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event e = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	struct egress_event u = ev4("198.51.100.20", 443, IPPROTO_UDP, EGRESS_DROP_NOT_ALLOWED);

	snprintf(e.comm, sizeof(e.comm), "npm install x");
	u.hook = EGRESS_HOOK_CONNECT4;
	events_record(ev, &e, 1000);
	events_record(ev, &u, 1000);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 2);
	assert_string_equal(f->lines[0], "egressd: blocked \"npm install x\"[1234] -> "
					 "198.51.100.20:80/tcp: not in allowlist");
	assert_string_equal(f->lines[1], "egressd: blocked probe[1234] -> "
					 "198.51.100.20:443/udp: not in allowlist (UDP connect)");
}

/* ---- collapsing repeats ---------------------------------------------------- */

static void test_repeats_collapse(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event e = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	const char *base = "egressd: blocked probe[1234] -> 198.51.100.20:80/tcp: not in allowlist";
	char want[160];

	/* All at one instant: the bucket is no excuse for a missing line. */
	for (int i = 0; i < 1000; i++)
		events_record(ev, &e, 5000);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 4);
	assert_string_equal(f->lines[0], base);
	snprintf(want, sizeof(want), "%s [10 times so far]", base);
	assert_string_equal(f->lines[1], want);
	snprintf(want, sizeof(want), "%s [100 times so far]", base);
	assert_string_equal(f->lines[2], want);
	snprintf(want, sizeof(want), "%s [1000 times so far]", base);
	assert_string_equal(f->lines[3], want);
}

/* At exit, repeats collapsed since the last line are totalled once. */
static void test_final_total(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event e = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	struct egress_event once = ev4("198.51.100.21", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	const char *base = "egressd: blocked probe[1234] -> 198.51.100.20:80/tcp: not in allowlist";
	char want[160];

	for (int i = 0; i < 1500; i++)
		events_record(ev, &e, 5000);
	events_record(ev, &once, 5000); /* printed once, nothing to total */
	events_summary(ev);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 6);
	snprintf(want, sizeof(want), "%s [1000 times so far]", base);
	assert_string_equal(f->lines[3], want);
	snprintf(want, sizeof(want), "%s [1500 times in total]", base);
	assert_string_equal(f->lines[5], want);
}

/* A scan of many destinations is bounded: 4096 tracked, the rest counted. */
static void test_destination_cap(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);

	for (int i = 0; i < 5000; i++) {
		struct egress_event e = ev4("198.51.100.20", (uint16_t)(1 + i), IPPROTO_TCP,
					    EGRESS_DROP_NOT_ALLOWED);

		/* An hour apart: the bucket never holds anything back. */
		events_record(ev, &e, 1000 + (uint64_t)i * 3600 * 1000);
	}
	/* A tracked destination is still found and counted. */
	struct egress_event again = ev4("198.51.100.20", 1, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);

	for (int i = 0; i < 9; i++)
		events_record(ev, &again, 1000 + (uint64_t)6000 * 3600 * 1000);
	events_free(ev);
	/* 4096 first lines, plus the 10th occurrence of port 1. */
	assert_int_equal(read_lines(f, f->log), 4097);
	assert_string_equal(f->lines[4096], "egressd: blocked probe[1234] -> 198.51.100.20:1/tcp: "
					    "not in allowlist [10 times so far]");
}

/* Port, protocol and reason each make a destination distinct. */
static void test_distinct_destinations(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event e[] = {
		ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED),
		ev4("198.51.100.20", 81, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED),
		ev4("198.51.100.20", 80, IPPROTO_UDP, EGRESS_DROP_NOT_ALLOWED),
		ev4("198.51.100.21", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED),
		ev6("2001:db8::20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED),
	};

	for (int round = 0; round < 9; round++)
		for (size_t i = 0; i < ARRAY_SIZE(e); i++)
			events_record(ev, &e[i], 1000 + (uint64_t)round);
	events_free(ev);
	/* 9 each: only the first of every destination prints. */
	assert_int_equal(read_lines(f, f->log), ARRAY_SIZE(e));
	assert_int_equal(count_containing(f, "times so far"), 0);
}

static void test_token_bucket(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	const uint64_t t0 = 100000;
	int d = 0;

	/* 200 distinct destinations at one instant: the burst only. */
	for (int i = 0; i < 200; i++, d++) {
		struct egress_event e;

		e = ev4("203.0.113.7", (uint16_t)(1000 + d), IPPROTO_TCP,
			EGRESS_DROP_NOT_ALLOWED);
		events_record(ev, &e, t0);
	}
	fflush(NULL);
	assert_int_equal(read_lines(f, f->log), 50);

	/* One second later: 20 more tokens, no more. */
	for (int i = 0; i < 30; i++, d++) {
		struct egress_event e;

		e = ev4("203.0.113.7", (uint16_t)(1000 + d), IPPROTO_TCP,
			EGRESS_DROP_NOT_ALLOWED);
		events_record(ev, &e, t0 + 1000);
	}
	assert_int_equal(read_lines(f, f->log), 70);

	/* Half a second: 10 tokens. */
	for (int i = 0; i < 30; i++, d++) {
		struct egress_event e;

		e = ev4("203.0.113.7", (uint16_t)(1000 + d), IPPROTO_TCP,
			EGRESS_DROP_NOT_ALLOWED);
		events_record(ev, &e, t0 + 1500);
	}
	assert_int_equal(read_lines(f, f->log), 80);

	/* A long quiet spell refills to the burst, not beyond. */
	for (int i = 0; i < 60; i++, d++) {
		struct egress_event e;

		e = ev4("203.0.113.7", (uint16_t)(1000 + d), IPPROTO_TCP,
			EGRESS_DROP_NOT_ALLOWED);
		events_record(ev, &e, t0 + 1500 + 3600 * 1000);
	}
	assert_int_equal(read_lines(f, f->log), 130);

	/* What was held back is owned up to: 150 + 10 + 20 + 10. */
	summary_to_file(f, ev);
	events_free(ev);
	read_lines(f, f->err);
	assert_int_equal(f->nlines, 1);
	assert_string_equal(f->lines[0], "egressd: WARNING: 190 deny reports were rate-limited");
	/* Not in audit mode: no summary. */
	assert_int_equal(count_containing(f, "audit"), 0);
}

/* A clock that steps back must not mint tokens twice for one interval. */
static void test_token_bucket_clock_backwards(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	char ip[32];
	int d = 0;

	for (int i = 0; i < 50; i++, d++) {
		struct egress_event e;

		snprintf(ip, sizeof(ip), "203.0.113.%d", d + 1);
		e = ev4(ip, 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
		events_record(ev, &e, 10000);
	}
	/* Empty bucket.  The clock reads 9000, then 10000 again. */
	for (int i = 0; i < 10; i++, d++) {
		struct egress_event e;

		snprintf(ip, sizeof(ip), "203.0.113.%d", d + 1);
		e = ev4(ip, 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
		events_record(ev, &e, i % 2 ? 10000 : 9000);
	}
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 50);
}

/* ---- names ----------------------------------------------------------------- */

static void test_names(void **state)
{
	struct fixture *f = *state;
	struct addr a20 = mkaddr("198.51.100.20"), a6 = mkaddr("2001:db8::20");
	struct addr both[] = { a20, a6 }, narrow = mkaddr("192.0.2.5");
	struct dns_answer ans[] = {
		{ .name = "denied.test", .addrs = both, .naddrs = 2, .ok = 1 },
		{ .name = "narrow.test", .addrs = &narrow, .naddrs = 1, .ok = 1 },
	};
	struct rule r = { .addr = mkaddr("198.51.100.10"), .prefixlen = 32, .nports = 1,
			  .ports = { 443 }, .name = "allowed.test" };
	struct rule unnamed = { .addr = mkaddr("198.51.100.0"), .prefixlen = 24, .nports = 1,
				.ports = { 22 } };
	struct rule wide = { .addr = mkaddr("192.0.2.0"), .prefixlen = 24, .nports = 1,
			     .ports = { 22 }, .name = "wide.test" };
	struct rule rules[] = { unnamed, r, wide };
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, rules, 3, ans, 2);
	struct egress_event e1 = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	struct egress_event e2 = ev6("2001:db8::20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	struct egress_event e3 = ev4("198.51.100.10", 80, IPPROTO_TCP, EGRESS_DROP_PORT);
	struct egress_event e4 = ev4("198.51.100.30", 80, IPPROTO_TCP, EGRESS_DROP_PORT);
	struct egress_event e5 = ev4("192.0.2.5", 80, IPPROTO_TCP, EGRESS_DROP_PORT);
	struct egress_event e6 = ev4("192.0.2.6", 80, IPPROTO_TCP, EGRESS_DROP_PORT);

	events_record(ev, &e1, 1000);
	events_record(ev, &e2, 1000);
	events_record(ev, &e3, 1000);
	events_record(ev, &e4, 1000);
	events_record(ev, &e5, 1000);
	events_record(ev, &e6, 1000);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 6);
	assert_string_equal(
		f->lines[0],
		"egressd: blocked probe[1234] -> 198.51.100.20:80/tcp (denied.test): not in allowlist");
	assert_string_equal(
		f->lines[1],
		"egressd: blocked probe[1234] -> [2001:db8::20]:80/tcp (denied.test): not in allowlist");
	assert_string_equal(
		f->lines[2],
		"egressd: blocked probe[1234] -> 198.51.100.10:80/tcp (allowed.test): port not allowed");
	/* Covered only by an unnamed /24: no name. */
	assert_string_equal(f->lines[3],
			    "egressd: blocked probe[1234] -> 198.51.100.30:80/tcp: port not allowed");
	/* The longest matching prefix names the address. */
	assert_string_equal(
		f->lines[4],
		"egressd: blocked probe[1234] -> 192.0.2.5:80/tcp (narrow.test): port not allowed");
	assert_string_equal(
		f->lines[5],
		"egressd: blocked probe[1234] -> 192.0.2.6:80/tcp (wide.test): port not allowed");
}

/* ---- JSON Lines ------------------------------------------------------------- */

static void test_json_lines(void **state)
{
	struct fixture *f = *state;
	struct addr a20 = mkaddr("198.51.100.20");
	struct dns_answer ans = { .name = "denied.test", .addrs = &a20, .naddrs = 1, .ok = 1 };
	struct events *ev = open_events(f, LOG_FORMAT_JSON, false, NULL, 0, &ans, 1);
	struct egress_event e1 = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	struct egress_event e2 = ev6("2001:db8::30", 7, IPPROTO_UDP, EGRESS_DROP_NOT_ALLOWED);
	struct egress_event e3 = ev4("198.51.100.31", 0, IPPROTO_ICMP, EGRESS_DROP_NOT_ALLOWED);
	char cmd[512], py[160];
	FILE *s;
	int rc;

	/* Quote, backslash, control bytes and a high byte, 15 bytes in all. */
	memcpy(e2.comm, "a\"b\\c\x01\n\t\x7f\xff" "xyz", 13);
	e2.comm[13] = '\0';
	e3.hook = EGRESS_HOOK_SKB;
	e3.pid = 0;
	memset(e3.comm, 0, sizeof(e3.comm));

	for (int i = 0; i < 10; i++)
		events_record(ev, &e1, 1000);
	events_record(ev, &e2, 1000);
	events_record(ev, &e3, 1000);
	events_free(ev);

	assert_int_equal(read_lines(f, f->log), 4);
	for (size_t i = 0; i < f->nlines; i++) {
		assert_true(f->lines[i][0] == '{');
		assert_true(f->lines[i][strlen(f->lines[i]) - 1] == '}');
		/* Raw control bytes never reach the file. */
		for (const char *p = f->lines[i]; *p; p++)
			assert_false((unsigned char)*p < 0x20);
	}
	if (!have_python3()) {
		print_message("python3 missing: JSON only checked structurally\n");
		skip();
	}

	snprintf(cmd, sizeof(cmd), "%s -m json.tool --json-lines %s >/dev/null", python3(), f->log);
	rc = system(cmd);
	assert_int_equal(rc, 0);

	/* Field by field, through a real JSON parser. */
	snprintf(py, sizeof(py), "%s/check.py", f->dir);
	s = fopen(py, "we");
	assert_non_null(s);
	fputs("import json, sys\n"
	      "L = [json.loads(l) for l in open(sys.argv[1])]\n"
	      "assert len(L) == 4, len(L)\n"
	      "want = [\n"
	      " dict(event='deny', hook='connect4', pid=1234, comm='probe', uid=65534, proto='tcp',\n"
	      "      family=4, daddr='198.51.100.20', dport=80, name='denied.test',\n"
	      "      reason='not in allowlist', count=1),\n"
	      " dict(event='deny', hook='connect4', pid=1234, comm='probe', uid=65534, proto='tcp',\n"
	      "      family=4, daddr='198.51.100.20', dport=80, name='denied.test',\n"
	      "      reason='not in allowlist', count=10),\n"
	      " dict(event='deny', hook='sendmsg6', pid=1234, uid=65534, proto='udp',\n"
	      "      family=6, daddr='2001:db8::30', dport=7, name=None,\n"
	      "      reason='not in allowlist', count=1),\n"
	      " dict(event='deny', hook='packet', pid=0, comm='', uid=65534, proto='icmp',\n"
	      "      family=4, daddr='198.51.100.31', dport=0, name=None,\n"
	      "      reason='not in allowlist', count=1),\n"
	      "]\n"
	      "for i, (got, w) in enumerate(zip(L, want)):\n"
	      "    for k, v in w.items():\n"
	      "        assert k in got, (i, k, got)\n"
	      "        assert got[k] == v, (i, k, got[k], v)\n"
	      "c = L[2]['comm']\n"
	      "assert c.startswith('a\"b\\\\c\\x01\\n\\t\\x7f'), repr(c)\n"
	      "assert c.endswith('xyz'), repr(c)\n"
	      "assert len(c) == 13, repr(c)\n",
	      s);
	assert_int_equal(fclose(s), 0);
	snprintf(cmd, sizeof(cmd), "%s %s %s", python3(), py, f->log);
	rc = system(cmd);
	assert_int_equal(rc, 0);
}

static void test_json_audit_flag(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_JSON, true, NULL, 0, NULL, 0);
	struct egress_event e = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);

	e.flags = EGRESS_EVENT_AUDIT;
	events_record(ev, &e, 1000);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 1);
	assert_contains(f->lines[0], "\"event\":\"audit\"");
	assert_not_contains(f->lines[0], "\"deny\"");
}

/* ---- audit ------------------------------------------------------------------- */

static void record_n(struct events *ev, struct egress_event e, int n, uint64_t now)
{
	e.flags |= EGRESS_EVENT_AUDIT;
	for (int i = 0; i < n; i++)
		events_record(ev, &e, now);
}

static void test_audit_summary(void **state)
{
	struct fixture *f = *state;
	struct addr v6 = mkaddr("2001:db8::10");
	struct dns_answer ans = { .name = "allowed.test", .addrs = &v6, .naddrs = 1, .ok = 1 };
	struct rule r = { .addr = mkaddr("198.51.100.10"), .prefixlen = 32, .nports = 1,
			  .ports = { 443 }, .name = "allowed.test" };
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, true, &r, 1, &ans, 1);
	const char *suggest = NULL;
	size_t i20 = 0, i10 = 0, idns = 0, i6 = 0, iv6 = 0;

	/* Recorded in an order unlike the by-count order of the summary. */
	record_n(ev, ev6("2001:db8::10", 80, IPPROTO_TCP, EGRESS_DROP_PORT), 2, 1000);
	record_n(ev, ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED), 5, 1000);
	record_n(ev, ev6("2001:db8::20", 443, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED), 1, 1000);
	record_n(ev, ev4("198.51.100.30", 53, IPPROTO_UDP, EGRESS_DROP_DNS), 7, 1000);
	record_n(ev, ev4("198.51.100.10", 80, IPPROTO_TCP, EGRESS_DROP_PORT), 3, 1000);

	/* The live lines say "would block". */
	read_lines(f, f->log);
	assert_true(f->nlines >= 5);
	assert_int_equal(count_containing(f, "egressd: audit: would block probe[1234] -> "), f->nlines);
	assert_int_equal(count_containing(f, "egressd: blocked"), 0);

	summary_to_file(f, ev);
	events_free(ev);
	read_lines(f, f->err);
	for (size_t i = 0; i < f->nlines; i++) {
		const char *l = f->lines[i];

		if (strstr(l, "--allow-domains")) {
			assert_null(suggest);
			suggest = l;
		} else if (strstr(l, "198.51.100.30:53/udp")) {
			idns = i;
		} else if (strstr(l, "198.51.100.20:80/tcp")) {
			i20 = i;
		} else if (strstr(l, "198.51.100.10:80/tcp")) {
			i10 = i;
		} else if (strstr(l, "[2001:db8::10]:80/tcp")) {
			i6 = i;
		} else if (strstr(l, "[2001:db8::20]:443/tcp")) {
			iv6 = i;
		}
	}
	assert_int_equal(count_containing(f, "egressd: audit summary: 5 destination(s)"), 1);
	/* Each listed with its count, reason and name, most frequent first. */
	assert_true(idns && i20 && i10 && i6 && iv6);
	assert_true(idns < i20 && i20 < i10 && i10 < i6 && i6 < iv6);
	assert_contains(f->lines[idns], " 7  198.51.100.30:53/udp  DNS to a non-resolver");
	assert_contains(f->lines[i20], " 5  198.51.100.20:80/tcp  not in allowlist");
	assert_contains(f->lines[i10], " 3  198.51.100.10:80/tcp (allowed.test)  port not allowed");
	assert_contains(f->lines[i6], " 2  [2001:db8::10]:80/tcp (allowed.test)  port not allowed");
	assert_contains(f->lines[iv6], " 1  [2001:db8::20]:443/tcp  not in allowlist");

	assert_non_null(suggest);
	assert_contains(suggest, "egressd: audit: to allow all of it, run with: --allow-domains \"");
	assert_int_equal(count_occurrences(suggest, "allowed.test"), 1);
	assert_int_equal(count_occurrences(suggest, "198.51.100.20:80"), 1);
	assert_int_equal(count_occurrences(suggest, "[2001:db8::20]:443"), 1);
	/* DNS to a non-resolver is not something to allowlist. */
	assert_not_contains(suggest, "198.51.100.30");
	assert_not_contains(suggest, ":53");
	assert_contains(suggest,
			"--allow-domains \"198.51.100.20:80,allowed.test,[2001:db8::20]:443\"");
	assert_int_equal(count_containing(f, "add it with --resolver ADDR"), 1);
}

/*
 * Audit lets a would-be-denied connect through, so its packets reach the
 * packet hook too: they are the same attempt, not more of them.  Packets
 * no socket hook saw (here ICMP) still count, one each.
 */
static void test_audit_packets_of_reported_socket(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, true, NULL, 0, NULL, 0);
	struct egress_event c = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	struct egress_event p = c, icmp = ev4("198.51.100.21", 0, IPPROTO_ICMP,
					      EGRESS_DROP_NOT_ALLOWED);

	p.hook = EGRESS_HOOK_SKB;
	p.pid = 0;
	memset(p.comm, 0, sizeof(p.comm));
	icmp.hook = EGRESS_HOOK_SKB;
	icmp.pid = 0;
	memset(icmp.comm, 0, sizeof(icmp.comm));
	/* Two connects, each followed by the 5 packets of its connection. */
	for (int i = 0; i < 2; i++) {
		record_n(ev, c, 1, 1000);
		record_n(ev, p, 5, 1000);
	}
	record_n(ev, icmp, 12, 1000);
	read_lines(f, f->log);
	assert_int_equal(f->nlines, 3);
	assert_string_equal(f->lines[0], "egressd: audit: would block probe[1234] -> "
					 "198.51.100.20:80/tcp: not in allowlist");
	assert_string_equal(f->lines[1], "egressd: audit: would block uid 65534 -> "
					 "198.51.100.21/icmp: not in allowlist (packet)");
	assert_string_equal(f->lines[2], "egressd: audit: would block uid 65534 -> "
					 "198.51.100.21/icmp: not in allowlist (packet) [10 times so far]");

	summary_to_file(f, ev);
	events_free(ev);
	read_lines(f, f->err);
	assert_int_equal(count_containing(f, "        12  198.51.100.21/icmp  not in allowlist"), 1);
	assert_int_equal(count_containing(f, "         2  198.51.100.20:80/tcp  not in allowlist"), 1);
	assert_int_equal(count_containing(f, "--allow-domains \"198.51.100.21,198.51.100.20:80\""), 1);
}

/* Enforcing, the packet hook only sees what no socket hook judged: count all. */
static void test_enforce_counts_packets(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event c = ev4("198.51.100.20", 7, IPPROTO_UDP, EGRESS_DROP_NOT_ALLOWED);
	struct egress_event p = c;

	p.hook = EGRESS_HOOK_SKB;
	p.pid = 0;
	events_record(ev, &c, 1000);
	for (int i = 0; i < 9; i++)
		events_record(ev, &p, 1000);
	events_free(ev);
	assert_int_equal(read_lines(f, f->log), 2);
	assert_contains(f->lines[1], "[10 times so far]");
}

static void test_audit_nothing(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, true, NULL, 0, NULL, 0);

	summary_to_file(f, ev);
	events_free(ev);
	assert_int_equal(read_lines(f, f->err), 1);
	assert_string_equal(f->lines[0], "egressd: audit: nothing would have been blocked");
}

/* Only DNS to a non-resolver: no suggestion line at all. */
static void test_audit_only_dns(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, true, NULL, 0, NULL, 0);

	record_n(ev, ev4("198.51.100.30", 53, IPPROTO_UDP, EGRESS_DROP_DNS), 2, 1000);
	summary_to_file(f, ev);
	events_free(ev);
	read_lines(f, f->err);
	assert_int_equal(count_containing(f, "--allow-domains"), 0);
	assert_int_equal(count_containing(f, "198.51.100.30:53/udp"), 1);
}

static void test_log_file_error(void **state)
{
	struct fixture *f = *state;
	char bad[192];
	struct events_config c = { .format = LOG_FORMAT_TEXT, .log_file = bad };
	int saved = dup(STDERR_FILENO), fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	snprintf(bad, sizeof(bad), "%s/no/such/dir/log", f->dir);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	errno = 0;
	assert_null(events_new(&c, NULL, 0, NULL, 0));
	assert_int_equal(errno, ENOENT);
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* ---- --log-file write failures ------------------------------------------------ */

/* Send stderr to f->err until stderr_restore(); returns the saved fd. */
static int stderr_to_file(struct fixture *f)
{
	int saved, fd;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	fd = open(f->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	return saved;
}

static void stderr_restore(int saved)
{
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
}

/*
 * A --log-file that takes nothing (/dev/full: ENOSPC): every report goes
 * to stderr instead, a warning says so at once, and at exit an ERROR:
 * line counts them; events_check_written() fails with -ENOSPC.
 */
static void test_log_file_full_text(void **state)
{
	struct fixture *f = *state;
	struct events_config c = { .format = LOG_FORMAT_TEXT, .log_file = "/dev/full" };
	struct egress_event a = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	struct egress_event b = ev6("2001:db8::20", 7, IPPROTO_UDP, EGRESS_DROP_NOT_ALLOWED);
	struct events *ev;
	int saved, ret;

	if (access("/dev/full", W_OK))
		skip();
	saved = stderr_to_file(f);
	ev = events_new(&c, NULL, 0, NULL, 0);
	assert_non_null(ev);
	for (int i = 0; i < 12; i++) /* reported at the 1st and the 10th */
		events_record(ev, &a, 1000);
	events_record(ev, &b, 1000);
	events_summary(ev); /* and a's total */
	ret = events_check_written(ev);
	events_free(ev);
	stderr_restore(saved);

	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(read_lines(f, f->err), 6);
	assert_string_equal(f->lines[0], "egressd: WARNING: cannot write deny events to /dev/full: "
					 "No space left on device; writing them to stderr instead");
	assert_string_equal(f->lines[1], "egressd: blocked probe[1234] -> 198.51.100.20:80/tcp: "
					 "not in allowlist");
	assert_contains(f->lines[2], "198.51.100.20:80/tcp: not in allowlist [10 times so far]");
	assert_string_equal(f->lines[3], "egressd: blocked probe[1234] -> [2001:db8::20]:7/udp: "
					 "not in allowlist");
	assert_contains(f->lines[4], "198.51.100.20:80/tcp: not in allowlist [12 times in total]");
	assert_string_equal(f->lines[5], "egressd: ERROR: 4 deny events could not be written to "
					 "/dev/full: No space left on device (they went to stderr instead)");
}

/* JSON Lines fall back to stderr as JSON Lines. */
static void test_log_file_full_json(void **state)
{
	struct fixture *f = *state;
	struct events_config c = { .format = LOG_FORMAT_JSON, .log_file = "/dev/full" };
	struct egress_event a = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	struct events *ev;
	int saved, ret;

	if (access("/dev/full", W_OK))
		skip();
	saved = stderr_to_file(f);
	ev = events_new(&c, NULL, 0, NULL, 0);
	assert_non_null(ev);
	events_record(ev, &a, 1000);
	ret = events_check_written(ev);
	events_free(ev);
	stderr_restore(saved);

	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(read_lines(f, f->err), 3);
	assert_contains(f->lines[1], "{\"event\":\"deny\",\"hook\":\"connect4\",\"pid\":1234,");
	assert_contains(f->lines[1], "\"count\":1}");
	assert_string_equal(f->lines[2], "egressd: ERROR: 1 deny event could not be written to "
					 "/dev/full: No space left on device (they went to stderr instead)");
}

/* A log file that takes every line: nothing to report. */
static void test_log_file_written(void **state)
{
	struct fixture *f = *state;
	struct events *ev = open_events(f, LOG_FORMAT_TEXT, false, NULL, 0, NULL, 0);
	struct egress_event a = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	int saved, ret;

	saved = stderr_to_file(f);
	events_record(ev, &a, 1000);
	ret = events_check_written(ev);
	stderr_restore(saved);
	events_free(ev);
	assert_int_equal(ret, 0);
	assert_int_equal(read_lines(f, f->err), 0);
	assert_int_equal(read_lines(f, f->log), 1);
}

/*
 * Without --log-file reports go to stderr, and a failing stderr has no
 * fallback and no one to tell: not counted (exit status unchanged).
 */
static void test_stderr_full_not_counted(void **state)
{
	struct fixture *f = *state;
	struct events_config c = { .format = LOG_FORMAT_TEXT };
	struct egress_event a = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_DROP_NOT_ALLOWED);
	struct events *ev;
	int saved, fd, ret;

	(void)f;
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		skip();
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	ev = events_new(&c, NULL, 0, NULL, 0);
	assert_non_null(ev);
	events_record(ev, &a, 1000);
	ret = events_check_written(ev);
	events_free(ev);
	stderr_restore(saved);
	assert_int_equal(ret, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_event_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_and_reasons_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sockopt_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_brackets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_comm_sanitized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_final_total, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destination_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_comm_spaces_and_udp_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeats_collapse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_distinct_destinations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_bucket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_bucket_clock_backwards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_audit_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_packets_of_reported_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enforce_counts_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_only_dns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_file_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_file_full_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_file_full_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_file_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stderr_full_not_counted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
