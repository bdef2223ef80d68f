// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fault counters egressd status shows (docs/hardening.md, "Fault
 * injection"): learn.c counts the addresses refused at the cap and the
 * ones whose map update failed, each refusal leaving the books as they
 * were; status_document() puts every counter in its "faults" object.
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

#include "learn.h"
#include "status.h"

static int fail_updates;

static int update(void *ctx, const struct addr *a, const struct learn_value *v)
{
	(void)ctx;
	(void)a;
	(void)v;
	return fail_updates ? -ENOMEM : 0;
}

static int remove_ok(void *ctx, const struct addr *a)
{
	(void)ctx;
	(void)a;
	return 0;
}

static const struct learn_ops OPS = { update, remove_ok, NULL };

static struct dnsmsg_addr A4(const char *s)
{
	struct dnsmsg_addr a;

	memset(&a, 0, sizeof(a));
	assert_int_equal(inet_pton(AF_INET, s, a.addr.bytes), 1);
	a.addr.family = AF_INET;
	a.ttl = 300;
	return a;
}

static struct learn *mk(uint32_t max_total)
{
	struct learn_config c;
	struct learn *l = NULL;

	learn_config_default(&c);
	c.max_total = max_total;
	c.hash_seed = 11;
	assert_int_equal(learn_new(&c, &l), 0);
	return l;
}

static enum learn_verdict learn1(struct learn *l, const char *name, const char *addr, int want_ret)
{
	struct dnsmsg_addr a = A4(addr);
	enum learn_verdict v;

	assert_int_equal(learn_answer(l, name, true, NULL, &a, 1, 1000, &OPS, &v), want_ret);
	return v;
}

static void test_cap(void **state)
{
	struct learn_faults f;
	struct learn_value v;
	struct learn *l = mk(2);
	struct dnsmsg_addr a;

	(void)state;
	fail_updates = 0;
	learn_get_faults(l, &f);
	assert_int_equal(f.cap_refused, 0);
	assert_int_equal(f.map_errors, 0);
	assert_int_equal(learn1(l, "a.test", "198.51.100.1", 0), LEARN_NEW);
	assert_int_equal(learn1(l, "b.test", "198.51.100.2", 0), LEARN_NEW);
	/* Full: a new address is refused (not an error: the answer is still good). */
	assert_int_equal(learn1(l, "c.test", "198.51.100.3", 0), LEARN_DROP_TOTAL_FULL);
	assert_int_equal(learn1(l, "c.test", "198.51.100.4", 0), LEARN_DROP_TOTAL_FULL);
	a = A4("198.51.100.3");
	assert_int_equal(learn_lookup(l, &a.addr, &v), -ENOENT);
	assert_int_equal(learn_count(l), 2);
	/* What is learned stays usable: refreshed, and a second name for it. */
	assert_int_equal(learn1(l, "a.test", "198.51.100.1", 0), LEARN_REFRESHED);
	assert_int_equal(learn1(l, "d.test", "198.51.100.2", 0), LEARN_ADDED);
	learn_get_faults(l, &f);
	assert_int_equal(f.cap_refused, 2);
	assert_int_equal(f.map_errors, 0);
	learn_free(l);
}

static void test_map_error(void **state)
{
	struct learn_faults f;
	struct learn_value v;
	struct learn *l = mk(16);
	struct dnsmsg_addr a = A4("198.51.100.9");

	(void)state;
	fail_updates = 1;
	assert_int_equal(learn1(l, "a.test", "198.51.100.9", -ENOMEM), LEARN_ERROR);
	/* The books are as the map is: nothing learned. */
	assert_int_equal(learn_lookup(l, &a.addr, &v), -ENOENT);
	assert_int_equal(learn_count(l), 0);
	learn_get_faults(l, &f);
	assert_int_equal(f.map_errors, 1);
	assert_int_equal(f.cap_refused, 0);
	/* The map working again, the same answer is learned. */
	fail_updates = 0;
	assert_int_equal(learn1(l, "a.test", "198.51.100.9", 0), LEARN_NEW);
	assert_int_equal(learn_lookup(l, &a.addr, &v), 0);
	learn_get_faults(l, &f);
	assert_int_equal(f.map_errors, 1);
	learn_free(l);
}

static int64_t fault(struct json_object *faults, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(faults, key, &v))
		fail_msg("no faults.%s", key);
	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static void test_document(void **state)
{
	struct status_input in;
	struct json_object *d, *f;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.version = "9.9";
	in.cgroup = "/sys/fs/cgroup/egressd-1";
	in.loopback = "all";
	d = status_document(&in);
	assert_non_null(d);
	assert_true(json_object_object_get_ex(d, "faults", &f));
	assert_int_equal(fault(f, "dns_upstream_failed"), 0);
	assert_int_equal(fault(f, "log_write_failures"), 0);
	json_object_put(d);

	in.faults.dns_upstream_failed = 1;
	in.faults.dns_learn_failed = 2;
	in.faults.learn_cap_refused = 3;
	in.faults.learn_map_errors = 4;
	in.faults.learn_expire_errors = 5;
	in.faults.log_write_failures = 6;
	d = status_document(&in);
	assert_non_null(d);
	assert_true(json_object_object_get_ex(d, "faults", &f));
	assert_int_equal(fault(f, "dns_upstream_failed"), 1);
	assert_int_equal(fault(f, "dns_learn_failed"), 2);
	assert_int_equal(fault(f, "learn_cap_refused"), 3);
	assert_int_equal(fault(f, "learn_map_errors"), 4);
	assert_int_equal(fault(f, "learn_expire_errors"), 5);
	assert_int_equal(fault(f, "log_write_failures"), 6);
	assert_int_equal(json_object_object_length(f), 6);
	json_object_put(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_map_error),
		cmocka_unit_test(test_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
