// SPDX-License-Identifier: GPL-2.0-only
/*
 * learn_list(), the iteration egressd status shows the learned addresses
 * with: only what the map holds, most recently confirmed first, the
 * total whatever the room, truncation keeping the newest, the values
 * (ports, expiry) as emitted, and a refresh moving an address to the front.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "learn.h"

static int fail_next;

static int ok_update(void *ctx, const struct addr *a, const struct learn_value *v)
{
	(void)ctx;
	(void)a;
	(void)v;
	if (fail_next) {
		fail_next = 0;
		return -EIO;
	}
	return 0;
}

static int ok_remove(void *ctx, const struct addr *a)
{
	(void)ctx;
	(void)a;
	return 0;
}

static const struct learn_ops OPS = { ok_update, ok_remove, NULL };

static struct learn *mk(void)
{
	struct learn_config c;
	struct learn *l = NULL;

	learn_config_default(&c);
	c.hash_seed = 7;
	assert_int_equal(learn_new(&c, &l), 0);
	return l;
}

static void learn1(struct learn *l, const char *name, const char *addr, uint32_t ttl,
		   const struct portset *ports, uint64_t now_ms)
{
	struct dnsmsg_addr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, addr, a.addr.bytes) == 1)
		a.addr.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, a.addr.bytes) == 1)
		a.addr.family = AF_INET6;
	else
		fail_msg("bad address %s", addr);
	a.ttl = ttl;
	learn_answer(l, name, true, ports, &a, 1, now_ms, &OPS, NULL);
}

static const char *fmt(const struct learn_item *it, char *buf)
{
	return addr_format(&it->addr, buf, ADDR_STRLEN);
}

static void test_empty(void **state)
{
	struct learn *l = mk();
	struct learn_item it[4];

	(void)state;
	assert_int_equal(learn_list(l, NULL, 0), 0);
	assert_int_equal(learn_list(l, it, 4), 0);
	learn_free(l);
}

static void test_order_and_values(void **state)
{
	struct learn *l = mk();
	struct portset p443 = { .n = 1, .ports = { 443 } };
	struct learn_item it[8];
	char b[ADDR_STRLEN];

	(void)state;
	learn1(l, "a.test", "198.51.100.1", 300, NULL, 1000);
	learn1(l, "b.test", "198.51.100.2", 60, &p443, 2000);
	learn1(l, "c.test", "2001:db8::3", 120, NULL, 3000);
	assert_int_equal(learn_list(l, NULL, 0), 3);
	assert_int_equal(learn_list(l, it, 8), 3);
	/* Newest first. */
	assert_string_equal(fmt(&it[0], b), "2001:db8::3");
	assert_string_equal(fmt(&it[1], b), "198.51.100.2");
	assert_string_equal(fmt(&it[2], b), "198.51.100.1");
	/* Values as emitted to the map. */
	assert_true(it[0].value.ports.all);
	assert_int_equal(it[0].value.expiry_ms, 3000 + 120 * 1000);
	assert_false(it[1].value.ports.all);
	assert_int_equal(it[1].value.ports.n, 1);
	assert_int_equal(it[1].value.ports.ports[0], 443);
	assert_int_equal(it[1].value.expiry_ms, 2000 + 60 * 1000);
	assert_int_equal(it[2].value.expiry_ms, 1000 + 300 * 1000);

	/* A refresh of a.test's address makes it the newest. */
	learn1(l, "a.test", "198.51.100.1", 300, NULL, 4000);
	assert_int_equal(learn_list(l, it, 8), 3);
	assert_string_equal(fmt(&it[0], b), "198.51.100.1");
	assert_int_equal(it[0].value.expiry_ms, 4000 + 300 * 1000);
	assert_string_equal(fmt(&it[1], b), "2001:db8::3");
	learn_free(l);
}

static void test_truncated_keeps_newest(void **state)
{
	struct learn *l = mk();
	struct learn_item it[3];
	char a[32], b[ADDR_STRLEN];

	(void)state;
	for (int i = 0; i < 50; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", 100 + i);
		learn1(l, "many.test", a, 60, NULL, 1000 + (uint64_t)i);
	}
	/* Room for 3 of 50: the total is still 50, and the 3 are the newest. */
	assert_int_equal(learn_list(l, it, 3), 50);
	assert_string_equal(fmt(&it[0], b), "198.51.100.149");
	assert_string_equal(fmt(&it[1], b), "198.51.100.148");
	assert_string_equal(fmt(&it[2], b), "198.51.100.147");
	learn_free(l);
}

static void test_expired_and_failed_not_listed(void **state)
{
	struct learn *l = mk();
	struct learn_item it[4];
	char b[ADDR_STRLEN];

	(void)state;
	learn1(l, "a.test", "198.51.100.1", 60, NULL, 0);
	learn1(l, "b.test", "198.51.100.2", 600, NULL, 0);
	/* A map update that fails: never in the map, so never listed. */
	fail_next = 1;
	learn1(l, "c.test", "198.51.100.3", 600, NULL, 0);
	assert_int_equal(learn_list(l, it, 4), 2);
	/* a.test's vouch expires at 60 s. */
	assert_int_equal(learn_sweep(l, 60 * 1000, &OPS), 0);
	assert_int_equal(learn_list(l, it, 4), 1);
	assert_string_equal(fmt(&it[0], b), "198.51.100.2");
	learn_free(l);
}

static void test_names_alongside(void **state)
{
	struct learn *l = mk();
	struct learn_item it[2];
	const char *names[4];

	(void)state;
	learn1(l, "one.test", "198.51.100.9", 60, NULL, 0);
	learn1(l, "two.test", "198.51.100.9", 60, NULL, 10);
	assert_int_equal(learn_list(l, it, 2), 1);
	assert_int_equal(learn_names_of(l, &it[0].addr, names, 4), 2);
	assert_string_equal(names[0], "two.test");
	assert_string_equal(names[1], "one.test");
	learn_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_order_and_values),
		cmocka_unit_test(test_truncated_keeps_newest),
		cmocka_unit_test(test_expired_and_failed_not_listed),
		cmocka_unit_test(test_names_alongside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
