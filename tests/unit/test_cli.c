// SPDX-License-Identifier: GPL-2.0-only
/*
 * cli_parse_run() on values too long to work, and cli_excerpt(): every
 * such value is refused up front with an ERROR: line that names it (cut
 * down) and the limit, instead of failing later without a word.
 *
 * pr_err() writes to stderr, which each case captures into a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"
#include "log.h"

struct fixture {
	char err[64];
	char *text; /* what stderr received */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (!f)
		return -1;
	snprintf(f->err, sizeof(f->err), "/tmp/egressd-test-cli.XXXXXX");
	fd = mkstemp(f->err);
	if (fd < 0) {
		free(f);
		return -1;
	}
	close(fd);
	log_set_level(LOG_LEVEL_INFO);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->err);
	free(f->text);
	free(f);
	return 0;
}

/* A string of n copies of ch; the caller frees it. */
static char *repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

/* "/aaa.../aaa..." of exactly len characters, no component over 200. */
static char *long_path(size_t len)
{
	char *s = repeat('a', len);

	for (size_t i = 0; i < len; i += 201)
		s[i] = '/';
	return s;
}

/* Parse "run OPT VAL --allow-domains 198.51.100.1 -- true"; stderr to f->text. */
static int parse(struct fixture *f, const char *opt, const char *val)
{
	char *argv[] = { "run", (char *)opt, (char *)val, "--allow-domains", "198.51.100.1",
			 "--", "true", NULL };
	struct run_config c;
	int saved, fd, ret;
	FILE *in;
	long n;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	fd = open(f->err, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
	ret = cli_parse_run(7, argv, &c);
	cli_free(&c);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);

	in = fopen(f->err, "re");
	assert_non_null(in);
	fseek(in, 0, SEEK_END);
	n = ftell(in);
	rewind(in);
	free(f->text);
	f->text = calloc(1, (size_t)n + 1);
	assert_non_null(f->text);
	assert_int_equal(fread(f->text, 1, (size_t)n, in), (size_t)n);
	fclose(in);
	return ret;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Refused, one ERROR: line naming the value's head and tail and the limit. */
static void expect_too_long(struct fixture *f, const char *opt, const char *val, const char *limit)
{
	char head[31], tail[31], want[128];
	size_t len = strlen(val);

	assert_int_equal(parse(f, opt, val), -ENAMETOOLONG);
	snprintf(head, sizeof(head), "%s", val);
	snprintf(tail, sizeof(tail), "%s", val + len - 30);
	snprintf(want, sizeof(want), "egressd: ERROR: %s: ", opt);
	assert_contains(f->text, want);
	snprintf(want, sizeof(want), "\"%s...%s\"", head, tail);
	assert_contains(f->text, want);
	snprintf(want, sizeof(want), "is %zu characters long; the limit is %s", len, limit);
	assert_contains(f->text, want);
	/* One short line: the reason is not cut off. */
	assert_true(strlen(f->text) < 300);
	assert_int_equal(count_lines(f->text), 1);
}

static void test_cgroup_5000(void **state)
{
	char *p = long_path(5000);

	expect_too_long(*state, "--cgroup", p, "4095 (PATH_MAX)");
	free(p);
}

static void test_path_options_5000(void **state)
{
	static const char *const opts[] = { "--log-file", "--ca-file", "--allow-file" };
	char *p = long_path(5000);

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		expect_too_long(*state, opts[i], p, "4095 (PATH_MAX)");
	free(p);
}

/* A 4095-character path is the longest the kernel takes: not refused here. */
static void test_path_at_limit(void **state)
{
	struct fixture *f = *state;
	char *p = long_path(CLI_PATH_MAX);

	assert_int_equal(parse(f, "--log-file", p), 0);
	assert_int_equal(parse(f, "--cgroup", p), 0);
	free(p);
	p = long_path(CLI_PATH_MAX + 1);
	expect_too_long(f, "--log-file", p, "4095 (PATH_MAX)");
	free(p);
}

static void test_path_component(void **state)
{
	struct fixture *f = *state;
	char *name = repeat('b', 300), path[400];

	snprintf(path, sizeof(path), "/tmp/%s/log", name);
	assert_int_equal(parse(f, "--log-file", path), -ENAMETOOLONG);
	assert_contains(f->text, "egressd: ERROR: --log-file: the path component \"bbbbbbbbbb");
	assert_contains(f->text, "is 300 characters long; the limit is 255 (NAME_MAX)");
	/* 255 is still a valid name. */
	name[255] = '\0';
	snprintf(path, sizeof(path), "/tmp/%s", name);
	assert_int_equal(parse(f, "--log-file", path), 0);
	free(name);
}

static void test_user_and_url(void **state)
{
	struct fixture *f = *state;
	char *user = repeat('u', 5000), *url = repeat('x', 5000);

	expect_too_long(f, "--user", user, "63");
	user[63] = '\0';
	assert_int_equal(parse(f, "--user", user), 0);

	memcpy(url, "https://", 8);
	expect_too_long(f, "--github-meta-url", url, "400");
	url[400] = '\0';
	assert_int_equal(parse(f, "--github-meta-url", url), 0);
	free(user);
	free(url);
}

/* An unknown --log-format is quoted cut down, so "(use text or json)" shows. */
static void test_log_format_excerpt(void **state)
{
	struct fixture *f = *state;
	char *v = repeat('j', 5000);

	assert_int_equal(parse(f, "--log-format", v), -EINVAL);
	assert_contains(f->text, "\" (use text or json)\n");
	assert_true(strlen(f->text) < 200);
	free(v);
}

static void test_excerpt(void **state)
{
	char buf[CLI_EXCERPT_SIZE], small[8], tiny[4];
	char *s = repeat('a', 100);

	(void)state;
	assert_string_equal(cli_excerpt("/sys/fs/cgroup", 14, buf, sizeof(buf)), "/sys/fs/cgroup");
	/* Only the first len characters count. */
	assert_string_equal(cli_excerpt("abcdef", 3, buf, sizeof(buf)), "abc");
	/* 63 fit whole, 64 do not. */
	assert_int_equal(strlen(cli_excerpt(s, 63, buf, sizeof(buf))), 63);
	assert_null(strstr(buf, "..."));
	s[0] = 'H';
	s[63] = 'T';
	cli_excerpt(s, 64, buf, sizeof(buf));
	assert_int_equal(strlen(buf), 63);
	assert_int_equal(buf[0], 'H');
	assert_int_equal(buf[62], 'T');
	assert_memory_equal(buf + 30, "...", 3);
	assert_string_equal(cli_excerpt(s, 100, small, sizeof(small)), "Ha...aa");
	/* A buffer too small for head...tail is just cut. */
	assert_string_equal(cli_excerpt(s, 100, tiny, sizeof(tiny)), "Haa");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cgroup_5000, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_options_5000, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_at_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_component, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_and_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_format_excerpt, setup, teardown),
		cmocka_unit_test(test_excerpt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
