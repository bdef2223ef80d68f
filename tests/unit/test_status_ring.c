// SPDX-License-Identifier: GPL-2.0-only
/*
 * events_recent(), the ring of the last denials egressd status shows:
 * newest first, at most EVENTS_RECENT_MAX, every event kept (repeats the
 * deny lines collapse, and rate-limited ones, included), the fields of a
 * connect, a packet, a setsockopt and a DNS refusal, and the resolved
 * name of an address.  Deny lines go to a --log-file in a temp dir.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "events.h"
#include "log.h"
#include "policy.h"

static char dir[64], logpath[128];

static struct events *mk(const struct rule *rules, size_t nrules)
{
	struct events_config c = { .format = LOG_FORMAT_TEXT, .log_file = logpath };
	struct events *ev = events_new(&c, rules, nrules, NULL, 0);

	assert_non_null(ev);
	return ev;
}

static struct egress_event ev4(const char *daddr, uint16_t port, uint8_t proto, uint8_t hook,
			       uint8_t reason, uint32_t pid, const char *comm)
{
	struct egress_event e;

	memset(&e, 0, sizeof(e));
	e.family = 4;
	assert_int_equal(inet_pton(AF_INET, daddr, e.daddr), 1);
	e.dport = port;
	e.proto = proto;
	e.hook = hook;
	e.reason = reason;
	e.pid = pid;
	e.uid = 65534;
	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	return e;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/egressd-test-ring.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/events.log", dir);
	log_set_level(LOG_LEVEL_QUIET);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(logpath);
	rmdir(dir);
	return 0;
}

static void test_empty(void **state)
{
	struct events *ev = mk(NULL, 0);
	struct events_recent r[4];

	(void)state;
	assert_int_equal(events_recent(ev, r, 4), 0);
	assert_int_equal(events_recent(NULL, r, 4), 0);
	events_free(ev);
}

static void test_fields(void **state)
{
	struct rule rule = { .prefixlen = 32 };
	struct events *ev;
	struct events_recent r[4];
	struct egress_event e;
	time_t t0 = time(NULL);

	(void)state;
	rule.addr.family = AF_INET;
	inet_pton(AF_INET, "198.51.100.20", rule.addr.bytes);
	snprintf(rule.name, sizeof(rule.name), "denied.test");
	ev = mk(&rule, 1);

	e = ev4("198.51.100.20", 80, IPPROTO_TCP, EGRESS_HOOK_CONNECT4, EGRESS_DROP_NOT_ALLOWED, 42,
		"curl");
	events_record(ev, &e, 1000);
	e = ev4("198.51.100.30", 0, IPPROTO_ICMP, EGRESS_HOOK_SKB, EGRESS_DROP_NOT_ALLOWED, 0, "");
	events_record(ev, &e, 1001);
	e = ev4("0.0.0.0", 15, 0, EGRESS_HOOK_SETSOCKOPT, EGRESS_DROP_SPOOF, 43, "py");
	memset(e.daddr, 0, sizeof(e.daddr));
	events_record(ev, &e, 1002);
	events_dns(ev, 44, 65534, "dig", "x.exfil.test", "A", "name not in allowlist", false);

	assert_int_equal(events_recent(ev, r, 4), 4);
	/* Newest first: the DNS refusal. */
	assert_string_equal(r[0].hook, "dns");
	assert_string_equal(r[0].dest, "x.exfil.test");
	assert_string_equal(r[0].proto, "A");
	assert_int_equal(r[0].port, 53);
	assert_int_equal(r[0].pid, 44);
	assert_string_equal(r[0].comm, "dig");
	assert_string_equal(r[0].reason, "name not in allowlist");

	assert_string_equal(r[1].hook, "setsockopt");
	assert_string_equal(r[1].dest, "setsockopt(IP_FREEBIND)");
	assert_string_equal(r[1].proto, "");
	assert_int_equal(r[1].port, 0);

	assert_string_equal(r[2].hook, "packet");
	assert_string_equal(r[2].dest, "198.51.100.30");
	assert_string_equal(r[2].proto, "icmp");
	assert_int_equal(r[2].pid, 0);
	assert_string_equal(r[2].name, "");

	assert_string_equal(r[3].hook, "connect4");
	assert_string_equal(r[3].dest, "198.51.100.20");
	assert_int_equal(r[3].port, 80);
	assert_string_equal(r[3].proto, "tcp");
	assert_string_equal(r[3].comm, "curl");
	assert_int_equal(r[3].uid, 65534);
	assert_string_equal(r[3].reason, "not in allowlist");
	assert_string_equal(r[3].name, "denied.test");
	assert_false(r[3].audit);
	assert_true(r[3].time >= t0 && r[3].time <= time(NULL));

	/* Room for 2: the newest 2. */
	assert_int_equal(events_recent(ev, r, 2), 2);
	assert_string_equal(r[0].hook, "dns");
	assert_string_equal(r[1].hook, "setsockopt");
	events_free(ev);
}

static void test_ring_wraps_and_keeps_repeats(void **state)
{
	struct events *ev = mk(NULL, 0);
	struct events_recent r[EVENTS_RECENT_MAX + 8];
	struct egress_event e;
	char a[32];

	(void)state;
	/* 100 events, 5 of them repeats of one destination that lines collapse. */
	for (int i = 0; i < 100; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", i < 95 ? i : 7);
		e = ev4(a, (uint16_t)(1000 + i), IPPROTO_UDP, EGRESS_HOOK_SENDMSG4,
			EGRESS_DROP_NOT_ALLOWED, (uint32_t)(100 + i), "w");
		/* Same port for the repeats, so they are one destination. */
		if (i >= 95)
			e.dport = 1007;
		events_record(ev, &e, 5000); /* one instant: the rate limit holds most lines back */
	}
	assert_int_equal(events_recent(ev, r, EVENTS_RECENT_MAX + 8), EVENTS_RECENT_MAX);
	/* Newest first: pids 199 down to 168. */
	for (int i = 0; i < EVENTS_RECENT_MAX; i++)
		assert_int_equal(r[i].pid, 199 - i);
	assert_string_equal(r[0].dest, "198.51.100.7");
	assert_string_equal(r[0].proto, "udp");
	assert_string_equal(r[0].hook, "sendmsg4");
	events_free(ev);
}

static void test_audit_flag(void **state)
{
	struct events *ev = mk(NULL, 0);
	struct events_recent r[2];
	struct egress_event e;

	(void)state;
	e = ev4("198.51.100.20", 443, IPPROTO_TCP, EGRESS_HOOK_CONNECT4, EGRESS_DROP_PORT, 1, "x");
	e.flags = EGRESS_EVENT_AUDIT;
	events_record(ev, &e, 0);
	events_dns(ev, 2, 0, "y", "a.test", "AAAA", "name not in allowlist", true);
	assert_int_equal(events_recent(ev, r, 2), 2);
	assert_true(r[0].audit);
	assert_true(r[1].audit);
	assert_string_equal(r[1].reason, "port not allowed");
	events_free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_ring_wraps_and_keeps_repeats),
		cmocka_unit_test(test_audit_flag),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
