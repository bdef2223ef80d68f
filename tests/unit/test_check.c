// SPDX-License-Identifier: GPL-2.0-only
/*
 * egressd check's pure half (check_report.c): /proc/self/status fields,
 * kernel release parsing and the version floor, and the text and JSON
 * renderings of a report (same items, same content, exit-relevant counts).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "check_report.h"

static const char status_text[] = "Name:\tegressd\n"
				  "Umask:\t0022\n"
				  "NoNewPrivs:\t1\n"
				  "Seccomp:\t2\n"
				  "Seccomp_filters:\t3\n"
				  "CapBnd:\t000001ffffffffff\n"
				  "Weird:\tx12\n"
				  "Last:\t7";

static void test_status_field(void **state)
{
	unsigned long v = 99;

	(void)state;
	assert_int_equal(check_status_field(status_text, "NoNewPrivs", &v), 0);
	assert_int_equal(v, 1);
	/* "Seccomp" must not match "Seccomp_filters", nor the reverse. */
	assert_int_equal(check_status_field(status_text, "Seccomp", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(check_status_field(status_text, "Seccomp_filters", &v), 0);
	assert_int_equal(v, 3);
	/* No trailing newline on the last line. */
	assert_int_equal(check_status_field(status_text, "Last", &v), 0);
	assert_int_equal(v, 7);
	v = 42;
	assert_int_equal(check_status_field(status_text, "Missing", &v), -ENOENT);
	assert_int_equal(check_status_field(status_text, "Secc", &v), -ENOENT);
	assert_int_equal(check_status_field(status_text, "Weird", &v), -EINVAL);
	/* Hex is not decimal: refused, not half-read. */
	assert_int_equal(check_status_field(status_text, "CapBnd", &v), -EINVAL);
	/* "0022" has a leading zero: refused rather than guessed. */
	assert_int_equal(check_status_field(status_text, "Umask", &v), -EINVAL);
	assert_int_equal(v, 42);
	assert_int_equal(check_status_field("", "Seccomp", &v), -ENOENT);
	assert_int_equal(check_status_field("Seccomp:\t0\n", "Seccomp", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(check_status_field("Seccomp:\n", "Seccomp", &v), -EINVAL);
}

static void test_kernel_version(void **state)
{
	static const struct {
		const char *rel;
		int ret;
		unsigned int ma, mi;
	} cases[] = {
		{ "6.18.44-fc-v769", 0, 6, 18 },
		{ "5.8.0", 0, 5, 8 },
		{ "5.10", 0, 5, 10 },
		{ "4.19.0-26-amd64", 0, 4, 19 },
		{ "10.0.1", 0, 10, 0 },
		{ "6", -EINVAL, 0, 0 },
		{ "6.", -EINVAL, 0, 0 },
		{ ".18", -EINVAL, 0, 0 },
		{ "v6.1", -EINVAL, 0, 0 },
		{ "", -EINVAL, 0, 0 },
		{ "99999999999999999999.1", -EINVAL, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int ma = 1234, mi = 5678;
		int ret = check_kernel_version(cases[i].rel, &ma, &mi);

		assert_int_equal(ret, cases[i].ret);
		if (!ret) {
			assert_int_equal(ma, cases[i].ma);
			assert_int_equal(mi, cases[i].mi);
		} else {
			assert_int_equal(ma, 1234); /* untouched on failure */
		}
	}
}

static void test_version_floor(void **state)
{
	(void)state;
	assert_true(check_version_at_least(5, 8, 5, 8));
	assert_true(check_version_at_least(5, 10, 5, 8));
	assert_true(check_version_at_least(6, 0, 5, 8));
	/* 5.10 > 5.8: numbers, not strings. */
	assert_false(check_version_at_least(5, 7, 5, 8));
	assert_false(check_version_at_least(4, 19, 5, 8));
	assert_false(check_version_at_least(4, 99, 5, 8));
}

static void build(struct check_report *r, bool with_fail)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(check_report_add(r, "kernel", CHECK_OK, NULL, "%s (>= 5.8)", "6.18.0"), 0);
	assert_int_equal(check_report_add(r, "CAP_BPF", with_fail ? CHECK_FAIL : CHECK_OK,
					  with_fail ? "docker: --cap-add BPF" : NULL, "%s",
					  with_fail ? "missing" : "present"), 0);
	/* Outside text arrives escaped (text_quote); JSON must keep it as it is. */
	assert_int_equal(check_report_add(r, "cgroup2", CHECK_WARN, "say \"hi\"",
					  "path /a\\x0ab \"q\""), 0);
}

/* Render into a string. */
static char *render(const struct check_report *r, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (json)
		assert_int_equal(check_render_json(r, f), 0);
	else
		check_render_text(r, f);
	fclose(f);
	return buf;
}

static void test_text(void **state)
{
	struct check_report r;
	char *out;

	(void)state;
	build(&r, true);
	assert_int_equal(check_report_count(&r, CHECK_FAIL), 1);
	assert_int_equal(check_report_count(&r, CHECK_WARN), 1);
	assert_int_equal(check_report_count(&r, CHECK_OK), 1);
	out = render(&r, false);
	assert_string_equal(out,
			    "ok    kernel           6.18.0 (>= 5.8)\n"
			    "FAIL  CAP_BPF          missing; fix: docker: --cap-add BPF\n"
			    "warn  cgroup2          path /a\\x0ab \"q\"; fix: say \"hi\"\n"
			    "egressd cannot run here: 1 problem(s)\n");
	free(out);

	build(&r, false);
	out = render(&r, false);
	assert_non_null(strstr(out, "\negressd can run here (1 warning(s) above)\n"));
	free(out);

	memset(&r, 0, sizeof(r));
	check_report_add(&r, "kernel", CHECK_OK, NULL, "fine");
	out = render(&r, false);
	assert_string_equal(out, "ok    kernel           fine\negressd can run here\n");
	free(out);
}

static void test_json(void **state)
{
	struct check_report r;
	struct json_object *root, *items, *it, *v;
	char *out;

	(void)state;
	build(&r, true);
	out = render(&r, true);
	root = json_tokener_parse(out);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "ok", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(root, "problems", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(root, "warnings", &v));
	assert_int_equal(json_object_get_int(v), 1);
	assert_true(json_object_object_get_ex(root, "items", &items));
	assert_int_equal(json_object_array_length(items), 3);

	it = json_object_array_get_idx(items, 0);
	assert_true(json_object_object_get_ex(it, "item", &v));
	assert_string_equal(json_object_get_string(v), "kernel");
	assert_true(json_object_object_get_ex(it, "status", &v));
	assert_string_equal(json_object_get_string(v), "ok");
	/* An ok item's fix is null, present but null. */
	assert_true(json_object_object_get_ex(it, "fix", &v));
	assert_null(v);

	it = json_object_array_get_idx(items, 1);
	assert_true(json_object_object_get_ex(it, "status", &v));
	assert_string_equal(json_object_get_string(v), "FAIL");
	assert_true(json_object_object_get_ex(it, "fix", &v));
	assert_string_equal(json_object_get_string(v), "docker: --cap-add BPF");

	/* The same text as the text rendering, byte for byte. */
	it = json_object_array_get_idx(items, 2);
	assert_true(json_object_object_get_ex(it, "detail", &v));
	assert_string_equal(json_object_get_string(v), "path /a\\x0ab \"q\"");
	assert_true(json_object_object_get_ex(it, "fix", &v));
	assert_string_equal(json_object_get_string(v), "say \"hi\"");
	json_object_put(root);
	/* One line: one object and a newline. */
	assert_int_equal(strchr(out, '\n') - out, (long)strlen(out) - 1);
	free(out);

	build(&r, false);
	out = render(&r, true);
	root = json_tokener_parse(out);
	assert_true(json_object_object_get_ex(root, "ok", &v));
	assert_true(json_object_get_boolean(v));
	json_object_put(root);
	free(out);
}

static void test_limits(void **state)
{
	struct check_report *r = calloc(1, sizeof(*r));
	char big[3 * CHECK_TEXT_MAX];

	(void)state;
	assert_non_null(r);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* A detail too long is cut and marked, never overflowing. */
	assert_int_equal(check_report_add(r, "long", CHECK_WARN, big, "%s", big), 0);
	assert_int_equal(strlen(r->items[0].detail), CHECK_TEXT_MAX - 1);
	assert_string_equal(r->items[0].detail + CHECK_TEXT_MAX - 4, "...");
	assert_string_equal(r->items[0].fix + CHECK_TEXT_MAX - 4, "...");
	for (size_t i = 1; i < CHECK_MAX_ITEMS; i++)
		assert_int_equal(check_report_add(r, "x", CHECK_OK, NULL, "ok"), 0);
	assert_int_equal(check_report_add(r, "one-too-many", CHECK_FAIL, NULL, "no"), -ENOSPC);
	assert_int_equal(check_report_count(r, CHECK_FAIL), 0);
	assert_string_equal(check_status_name(CHECK_OK), "ok");
	assert_string_equal(check_status_name(CHECK_WARN), "warn");
	assert_string_equal(check_status_name(CHECK_FAIL), "FAIL");
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_field), cmocka_unit_test(test_kernel_version),
		cmocka_unit_test(test_version_floor), cmocka_unit_test(test_text),
		cmocka_unit_test(test_json), cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
