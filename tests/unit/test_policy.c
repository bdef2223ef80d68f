// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy_add_list(), policy_add_file(), policy_compile(), rule_allows_port();
 * the allow-file limits (size, line length, NUL bytes) on files, pipes and
 * /dev/zero in bounded memory; the compiler checked against the original
 * quadratic one, kept here as the oracle, on random allowlists and on 100k
 * entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/wait.h>
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

/* "*.a.com" covers names below a.com, "a.com" a.com itself: both stay. */
static void test_duplicates_wildcard(void **state)
{
	static const char *const want[] = {
		"a.com", "*.a.com", "*.a.com:443", "*.b.a.com",
	};
	struct policy p;
	char err[1024];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_list(&p, "a.com *.a.com *.A.com. a.com *.a.com:443 *.b.a.com",
					 err, sizeof(err)), 0);
	assert_entries(&p, want, ARRAY_SIZE(want));
	assert_int_equal(policy_count(&p, ENTRY_DOMAIN), 4);
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

/* ---- allow-file limits --------------------------------------------------- */

/* Like write_temp(), for text that may hold NUL bytes. */
static char *write_temp_len(const char *text, size_t len)
{
	char *path = strdup("/tmp/egressd-test-policy-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* path must fail with ret, an error starting with where and holding msg, adding nothing. */
static void expect_file_error(const char *path, int ret, const char *where, const char *msg)
{
	static const char *const pre[] = { "keep.example" };
	struct policy p;
	char err[1024] = "";

	policy_init(&p);
	assert_int_equal(policy_add_list(&p, "keep.example", err, sizeof(err)), 0);
	assert_int_equal(policy_add_file(&p, path, err, sizeof(err)), ret);
	if (strncmp(err, where, strlen(where)))
		fail_msg("message \"%s\" does not start with \"%s\"", err, where);
	assert_contains(err, msg);
	assert_entries(&p, pre, ARRAY_SIZE(pre));
	policy_free(&p);
}

static void test_file_nul(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		unsigned int line;
		const char *msg;
	} cases[] = {
		{ "a.com\nb.c\0om\n", 13, 2, "NUL byte at column 4" },
		{ "a.com\0", 6, 1, "NUL byte at column 6" },
		{ "a.com\n# a comment \0 still\n", 27, 2, "NUL byte" },
		{ "a.com\n\nb.com\n\0", 14, 4, "NUL byte at column 1" },
	};
	char where[300];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *path = write_temp_len(cases[i].text, cases[i].len);

		snprintf(where, sizeof(where), "%s:%u: ", path, cases[i].line);
		expect_file_error(path, -EINVAL, where, cases[i].msg);
		drop_temp(path);
	}
}

static void test_file_long_line(void **state)
{
	size_t max = POLICY_LINE_MAX, o;
	char *text = malloc(3 * max + 64), where[300], want[64], *path;
	struct policy p;
	char err[1024];

	(void)state;
	assert_non_null(text);
	/* Exactly POLICY_LINE_MAX bytes, then again as the unterminated last line. */
	o = sprintf(text, "a.com #");
	memset(text + o, 'x', max - o);
	o = max;
	o += sprintf(text + o, "\nb.com #");
	memset(text + o, 'y', 2 * max + 1 - o);
	o = 2 * max + 1;
	path = write_temp_len(text, o);
	policy_init(&p);
	if (policy_add_file(&p, path, err, sizeof(err)))
		fail_msg("lines of exactly %zu bytes rejected: %s", max, err);
	assert_int_equal(p.n, 2);
	policy_free(&p);
	drop_temp(path);

	/* One byte more, on line 2, with or without a newline after it. */
	snprintf(want, sizeof(want), "line longer than %d bytes", POLICY_LINE_MAX);
	text[o++] = 'z';
	path = write_temp_len(text, o);
	snprintf(where, sizeof(where), "%s:2: ", path);
	expect_file_error(path, -EINVAL, where, want);
	drop_temp(path);
	text[o++] = '\n';
	memcpy(text + o, "c.com\n", 6);
	path = write_temp_len(text, o + 6);
	snprintf(where, sizeof(where), "%s:2: ", path);
	expect_file_error(path, -EINVAL, where, want);
	drop_temp(path);
	free(text);
}

/*
 * What a bounded child must see: policy_add_file(path) returns ret with
 * an error starting with where and holding msg, and adds nentries.
 */
struct file_case {
	char path[64];
	int ret;
	char where[80];
	char msg[80];
	size_t nentries;
};

static int file_case_check(const struct file_case *c)
{
	char err[1024] = "";
	struct policy p;
	int ret;

	policy_init(&p);
	ret = policy_add_file(&p, c->path, err, sizeof(err));
	if (ret != c->ret || strncmp(err, c->where, strlen(c->where)) || !strstr(err, c->msg) ||
	    p.n != c->nentries) {
		fprintf(stderr, "%s: returned %d (want %d) with %zu entries (want %zu): \"%s\""
			" (want \"%s...%s...\")\n", c->path, ret, c->ret, p.n, c->nentries, err,
			c->where, c->msg);
		return 1;
	}
	policy_free(&p);
	return 0;
}

/*
 * Run the check in a child whose address space may grow by POLICY_FILE_MAX
 * at most: reading must take bounded memory, whatever the file holds.  (A
 * getline() reader of /dev/zero fails here with ENOMEM, or worse.)
 */
static void file_case_bounded(const struct file_case *c)
{
	unsigned long pages = 0;
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl;
		FILE *f = fopen("/proc/self/statm", "re");

		if (!f || fscanf(f, "%lu", &pages) != 1)
			_exit(2);
		fclose(f);
		rl.rlim_cur = rl.rlim_max = pages * sysconf(_SC_PAGESIZE) + POLICY_FILE_MAX;
		if (setrlimit(RLIMIT_AS, &rl))
			_exit(3);
		_exit(file_case_check(c));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("%s: the bounded child failed (status 0x%x)", c->path, status);
}

static void test_file_dev_zero(void **state)
{
	struct file_case c = {
		.path = "/dev/zero", .ret = -EINVAL, .where = "/dev/zero:1: ",
		.msg = "NUL byte at column 1",
	};

	(void)state;
	file_case_bounded(&c);
}

/*
 * A writer child on a pipe: total bytes of 4096-byte comment lines, the
 * last one starting "a.com #" (so exactly one entry), plus extra; or,
 * with total 0, 'a' without end.  Returns the read end.
 */
static int pipe_writer(size_t total, size_t extra, pid_t *pid)
{
	static char line[4096];
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		size_t done = 0;

		close(fds[0]);
		/* The reader gives up early: die of SIGPIPE, quietly. */
		signal(SIGPIPE, SIG_DFL);
		if (!total) {
			memset(line, 'a', sizeof(line));
			while (write(fds[1], line, sizeof(line)) > 0)
				;
			_exit(0);
		}
		memset(line, 'x', sizeof(line));
		line[0] = '#';
		line[sizeof(line) - 1] = '\n';
		while (done < total) {
			if (total - done == sizeof(line))
				memcpy(line, "a.com #", 7);
			if (write(fds[1], line, sizeof(line)) != (ssize_t)sizeof(line))
				_exit(1);
			done += sizeof(line);
		}
		while (extra--)
			if (write(fds[1], "\n", 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(fds[1]);
	return fds[0];
}

static void pipe_case(size_t total, size_t extra, int ret, const char *msg, size_t nentries)
{
	struct file_case c = { .ret = ret, .nentries = nentries };
	int rfd, status;
	pid_t writer;

	rfd = pipe_writer(total, extra, &writer);
	snprintf(c.path, sizeof(c.path), "/dev/fd/%d", rfd);
	if (ret == -EFBIG)
		snprintf(c.where, sizeof(c.where), "\"%s\"", c.path);
	else if (ret)
		snprintf(c.where, sizeof(c.where), "%s:1: ", c.path);
	snprintf(c.msg, sizeof(c.msg), "%s", msg);
	file_case_bounded(&c);
	close(rfd);
	assert_int_equal(waitpid(writer, &status, 0), writer);
}

static void test_file_endless_pipe(void **state)
{
	char msg[64];

	(void)state;
	snprintf(msg, sizeof(msg), "line longer than %d bytes", POLICY_LINE_MAX);
	pipe_case(0, 0, -EINVAL, msg, 0);
}

static void test_file_size_limit(void **state)
{
	struct file_case c = { .ret = -EFBIG, .msg = "larger than 64 MiB" };
	char *path;
	int fd;

	(void)state;
	/* Through a pipe: counted as read.  Exactly the limit is fine. */
	assert_int_equal(POLICY_FILE_MAX % 4096, 0);
	pipe_case(POLICY_FILE_MAX, 0, 0, "", 1);
	pipe_case(POLICY_FILE_MAX, 1, -EFBIG, "larger than 64 MiB", 0);

	/* A regular file fails before a byte is parsed (this one is all NULs). */
	path = write_temp("");
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)POLICY_FILE_MAX + 1), 0);
	close(fd);
	snprintf(c.path, sizeof(c.path), "%s", path);
	snprintf(c.where, sizeof(c.where), "\"%s\"", path);
	file_case_bounded(&c);
	drop_temp(path);
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

static void test_compile_bad_prefix(void **state)
{
	struct rule *r = (struct rule *)0x1;
	struct policy p;
	struct entry e;
	size_t n = 5;
	char err[1024];

	(void)state;
	policy_init(&p);
	assert_int_equal(entry_parse("10.0.0.0/8", &e, err, sizeof(err)), 0);
	e.prefixlen = 33; /* only a caller bypassing entry_parse() can do this */
	assert_int_equal(policy_add(&p, &e), 0);
	assert_int_equal(policy_compile(&p, &r, &n, err, sizeof(err)), -EINVAL);
	assert_contains(err, "10.0.0.0/33");
	assert_ptr_equal(r, (struct rule *)0x1);
	assert_int_equal(n, 5);
	policy_free(&p);
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


/* ---- adds after a caller truncated (ghmeta's all-or-nothing undo) ----- */

static void test_add_after_truncate(void **state)
{
	static const char *const want[] = { "a.example", "c.example", "b.example" };
	struct policy p;
	struct entry a, b, c;
	char err[1024];

	(void)state;
	assert_int_equal(entry_parse("a.example", &a, err, sizeof(err)), 0);
	assert_int_equal(entry_parse("b.example", &b, err, sizeof(err)), 0);
	assert_int_equal(entry_parse("c.example", &c, err, sizeof(err)), 0);
	policy_init(&p);
	assert_int_equal(policy_add(&p, &a), 0);
	assert_int_equal(policy_add(&p, &b), 0);
	assert_int_equal(policy_add(&p, &c), 0);
	p.n = 1; /* undo b and c */
	assert_int_equal(policy_add(&p, &c), 0);
	assert_int_equal(policy_add(&p, &a), 0); /* still a duplicate */
	assert_int_equal(policy_add(&p, &c), 0); /* a duplicate again */
	assert_int_equal(policy_add(&p, &b), 0); /* no longer one */
	assert_entries(&p, want, ARRAY_SIZE(want));
	policy_free(&p);
}

/* ---- the oracle: policy.c's original O(n^2) algorithm ------------------ */

static bool ref_entry_same(const struct entry *a, const struct entry *b)
{
	if (a->kind != b->kind || a->port != b->port || strcmp(a->name, b->name))
		return false;
	if (a->kind == ENTRY_DOMAIN)
		return true;
	return a->prefixlen == b->prefixlen && addr_equal(&a->addr, &b->addr);
}

/* Keep the first of every set of exact duplicates; returns the new count. */
static size_t ref_dedup(struct entry *es, size_t n)
{
	size_t i, j, o = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < o; j++)
			if (ref_entry_same(&es[j], &es[i]))
				break;
		if (j == o)
			es[o++] = es[i];
	}
	return o;
}

static void ref_addr_mask(struct addr *a, unsigned int prefixlen)
{
	unsigned int i, bits = addr_len(a) * 8;

	for (i = prefixlen; i < bits; i++)
		a->bytes[i / 8] &= ~(0x80 >> (i % 8));
}

static int ref_rule_cmp(const void *pa, const void *pb)
{
	const struct rule *a = pa, *b = pb;
	int c;

	if (a->addr.family != b->addr.family)
		return a->addr.family == AF_INET ? -1 : 1;
	c = memcmp(a->addr.bytes, b->addr.bytes, addr_len(&a->addr));
	if (c)
		return c;
	return (int)a->prefixlen - (int)b->prefixlen;
}

static bool ref_port_add(uint16_t *set, uint16_t *n, uint16_t port)
{
	uint16_t i, j;

	for (i = 0; i < *n && set[i] < port; i++)
		;
	if (i < *n && set[i] == port)
		return true;
	if (*n == EGRESS_MAX_PORTS)
		return false;
	for (j = *n; j > i; j--)
		set[j] = set[j - 1];
	set[i] = port;
	(*n)++;
	return true;
}

static int ref_rule_fill(struct rule *r, const struct entry *es, size_t n)
{
	bool too_many = false;
	size_t i;

	r->flags = 0;
	r->nports = 0;
	for (i = 0; i < n; i++) {
		const struct entry *e = &es[i];

		if (!addr_prefix_covers(&e->addr, e->prefixlen, &r->addr, r->prefixlen))
			continue;
		if (!e->port) {
			r->flags = EGRESS_RULE_ALL_PORTS;
			r->nports = 0;
			memset(r->ports, 0, sizeof(r->ports));
			return 0;
		}
		if (!ref_port_add(r->ports, &r->nports, e->port))
			too_many = true;
	}
	return too_many ? -EINVAL : 0;
}

/* CIDR entries only.  0 or -EINVAL naming the prefix in err. */
static int ref_compile(const struct entry *es, size_t n, struct rule **out, size_t *nout,
		       char *err, size_t errlen)
{
	char a[ADDR_STRLEN];
	struct rule *rules;
	size_t i, j, nr = 0;

	rules = calloc(n ? n : 1, sizeof(*rules));
	assert_non_null(rules);
	for (i = 0; i < n; i++) {
		const struct entry *e = &es[i];

		for (j = 0; j < nr; j++)
			if (rules[j].prefixlen == e->prefixlen &&
			    addr_prefix_covers(&rules[j].addr, rules[j].prefixlen, &e->addr,
					       e->prefixlen))
				break;
		if (j == nr) {
			rules[nr].addr.family = e->addr.family;
			memcpy(rules[nr].addr.bytes, e->addr.bytes, addr_len(&e->addr));
			ref_addr_mask(&rules[nr].addr, e->prefixlen);
			rules[nr].prefixlen = e->prefixlen;
			nr++;
		}
		if (!rules[j].name[0] && e->name[0])
			memcpy(rules[j].name, e->name, sizeof(rules[j].name));
	}
	for (j = 0; j < nr; j++) {
		if (ref_rule_fill(&rules[j], es, n)) {
			snprintf(err, errlen,
				 "%s/%u: more than %d distinct ports (its own and those of every prefix covering it)",
				 addr_format(&rules[j].addr, a, sizeof(a)), rules[j].prefixlen,
				 EGRESS_MAX_PORTS);
			free(rules);
			return -EINVAL;
		}
	}
	qsort(rules, nr, sizeof(*rules), ref_rule_cmp);
	*out = rules;
	*nout = nr;
	return 0;
}

/* ---- random allowlists ------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure can be replayed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static const char *cidr_str(const struct addr *addr, unsigned int plen)
{
	static char buf[ADDR_STRLEN + 8];
	char a[ADDR_STRLEN];

	snprintf(buf, sizeof(buf), "%s/%u", addr_format(addr, a, sizeof(a)), plen);
	return buf;
}

/* How random_entries() draws: ports[] is the alphabet, 0 = every port. */
struct gen {
	const uint16_t *ports;
	size_t nports;
	bool dense; /* a tiny address space: almost everything nests */
};

/*
 * A random CIDR entry in a small address space, so prefixes nest often:
 * lengths from /0 to /32 (/128), a few names shared between entries, and
 * now and then host bits left set (policy_add takes them; compile masks).
 * Short prefixes are rarely all-ports: one would turn everything below it
 * into "every port" and hide the unions.
 */
static void random_entry(struct entry *e, const struct gen *g)
{
	static const uint8_t len4[] = { 8, 16, 20, 22, 24, 24, 28, 30, 31, 32, 32, 32, 32 };
	static const uint8_t len6[] = { 32, 48, 56, 64, 120, 126, 128, 128, 128, 128 };
	static const uint8_t first4[] = { 10, 11, 12, 172, 192, 198 };
	uint64_t r = rng(), h = rng();
	bool v4 = r % 3, shortp;

	memset(e, 0, sizeof(*e));
	e->kind = ENTRY_CIDR;
	if (v4) {
		e->addr.family = AF_INET;
		e->addr.bytes[0] = g->dense ? 10 : first4[h % sizeof(first4)];
		e->addr.bytes[1] = (h >> 8) % (g->dense ? 1 : 3);
		e->addr.bytes[2] = (h >> 16) % (g->dense ? 2 : 8);
		e->addr.bytes[3] = (h >> 24) % (g->dense ? 16 : 256);
		e->prefixlen = len4[(r >> 8) % sizeof(len4)];
	} else {
		e->addr.family = AF_INET6;
		e->addr.bytes[0] = 0x20;
		e->addr.bytes[1] = 0x01;
		e->addr.bytes[2] = 0x0d;
		e->addr.bytes[3] = 0xb8;
		e->addr.bytes[5] = (h >> 8) % (g->dense ? 1 : 3);
		e->addr.bytes[7] = (h >> 16) % 3;
		e->addr.bytes[15] = (h >> 24) % 8;
		e->prefixlen = len6[(r >> 8) % sizeof(len6)];
	}
	if ((r >> 48) % 400 == 0)
		e->prefixlen = 0;
	/* One in eight keeps its host bits. */
	if ((r >> 16) % 8)
		ref_addr_mask(&e->addr, e->prefixlen);

	shortp = e->prefixlen < (v4 ? 24 : 64);
	do
		e->port = g->ports[rng() % g->nports];
	while (!e->port && shortp && rng() % 50);
	if ((r >> 32) % 4 == 0)
		snprintf(e->name, sizeof(e->name), "n%u.example", (unsigned int)((r >> 40) % 5));
}

/* n entries, about a tenth of them exact copies of an earlier one. */
static struct entry *random_entries(size_t n, const struct gen *g)
{
	struct entry *es = calloc(n ? n : 1, sizeof(*es));
	size_t i;

	assert_non_null(es);
	for (i = 0; i < n; i++) {
		if (i && rng() % 10 == 0)
			es[i] = es[rng() % i];
		else
			random_entry(&es[i], g);
	}
	return es;
}

static void assert_rule_equal(const struct rule *got, const struct rule *want, size_t i)
{
	char g[ADDR_STRLEN + 8];

	snprintf(g, sizeof(g), "%s", cidr_str(&got->addr, got->prefixlen));
	if (got->addr.family != want->addr.family || got->prefixlen != want->prefixlen ||
	    memcmp(got->addr.bytes, want->addr.bytes, sizeof(got->addr.bytes)))
		fail_msg("rule %zu is %s, want %s", i, g, cidr_str(&want->addr, want->prefixlen));
	if (got->flags != want->flags || got->nports != want->nports ||
	    memcmp(got->ports, want->ports, sizeof(got->ports))) {
		char gp[128];

		snprintf(gp, sizeof(gp), "%s", ports_str(got));
		fail_msg("rule %zu (%s): ports %s, want %s", i, g, gp, ports_str(want));
	}
	if (strcmp(got->name, want->name))
		fail_msg("rule %zu (%s): name \"%s\", want \"%s\"", i, g, got->name, want->name);
}

/*
 * Add es to a policy through policy_add(), then check the entries kept
 * and the compiled rules (or the error) against the oracle.
 */
static void check_against_oracle(struct entry *es, size_t n)
{
	char err[1024] = "", ref_err[1024] = "";
	struct rule *r = NULL, *ref = NULL;
	size_t i, nr = 0, nref = 0, nkept;
	struct policy p;
	int ret, ref_ret;

	policy_init(&p);
	for (i = 0; i < n; i++)
		assert_int_equal(policy_add(&p, &es[i]), 0);
	nkept = ref_dedup(es, n);
	assert_int_equal(p.n, nkept);
	for (i = 0; i < nkept; i++)
		if (!ref_entry_same(&p.entries[i], &es[i]))
			fail_msg("entry %zu is %s, want %s", i, fmt(&p.entries[i]),
				 cidr_str(&es[i].addr, es[i].prefixlen));

	ret = policy_compile(&p, &r, &nr, err, sizeof(err));
	ref_ret = ref_compile(es, nkept, &ref, &nref, ref_err, sizeof(ref_err));
	if (ret != ref_ret)
		fail_msg("policy_compile: %d (%s), oracle %d (%s)", ret, err, ref_ret, ref_err);
	if (ret) {
		assert_string_equal(err, ref_err);
	} else {
		assert_int_equal(nr, nref);
		for (i = 0; i < nr; i++)
			assert_rule_equal(&r[i], &ref[i], i);
	}
	free(r);
	free(ref);
	policy_free(&p);
}

static void test_compile_oracle(void **state)
{
	static const uint16_t few[] = { 0, 22, 53, 80, 443, 443, 8080, 8443 };
	static const size_t sizes[] = { 0, 1, 2, 10, 100, 1000, 3000 };
	const struct gen g = { few, ARRAY_SIZE(few), false };
	size_t i, round;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (round = 0; round < (sizes[i] < 1000 ? 20 : 3); round++) {
			struct entry *es;

			rng_state = 0x9e3779b97f4a7c15ULL * (i * 100 + round + 1);
			es = random_entries(sizes[i], &g);
			check_against_oracle(es, sizes[i]);
			free(es);
		}
	}
}

/* Many ports from a large alphabet: some sets overflow, and must name the same prefix. */
static void test_compile_oracle_too_many(void **state)
{
	uint16_t many[40];
	const struct gen g = { many, ARRAY_SIZE(many), true };
	size_t i, round, nfail = 0, nok = 0;

	(void)state;
	many[0] = 0;
	for (i = 1; i < ARRAY_SIZE(many); i++)
		many[i] = 1000 + i;
	for (round = 0; round < 200; round++) {
		size_t n = 20 + round % 60;
		struct entry *es;
		char err[1024];
		struct rule *r = NULL;
		size_t nr;
		struct policy p;

		rng_state = 0x2545f4914f6cdd1dULL * (round + 7);
		es = random_entries(n, &g);
		check_against_oracle(es, n);

		/* Count both outcomes so the test knows it saw each. */
		policy_init(&p);
		for (i = 0; i < n; i++)
			assert_int_equal(policy_add(&p, &es[i]), 0);
		if (policy_compile(&p, &r, &nr, err, sizeof(err)))
			nfail++;
		else
			nok++;
		free(r);
		policy_free(&p);
		free(es);
	}
	if (nfail < 10 || nok < 10)
		fail_msg("the random sets did not exercise both outcomes: %zu failed, %zu compiled",
			 nfail, nok);
}

/* ---- 100k entries ------------------------------------------------------ */

#define BIG_V4_HOSTS 60000
#define BIG_V4_NETS 400
#define BIG_V6_HOSTS 20000
#define BIG_V6_NETS 100
#define BIG_DISTINCT (BIG_V4_HOSTS + BIG_V4_NETS + 1 + BIG_V6_HOSTS + BIG_V6_NETS)
#define BIG_TOTAL 100000

static void big_v4(struct entry *e, uint32_t a, uint8_t plen, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->kind = ENTRY_CIDR;
	e->addr.family = AF_INET;
	a = htonl(a);
	memcpy(e->addr.bytes, &a, 4);
	e->prefixlen = plen;
	e->port = port;
}

static void big_v6(struct entry *e, uint16_t group3, uint16_t low, uint8_t plen, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->kind = ENTRY_CIDR;
	e->addr.family = AF_INET6;
	e->addr.bytes[0] = 0x20;
	e->addr.bytes[1] = 0x01;
	e->addr.bytes[2] = 0x0d;
	e->addr.bytes[3] = 0xb8;
	e->addr.bytes[4] = group3 >> 8;
	e->addr.bytes[5] = group3 & 0xff;
	e->addr.bytes[14] = low >> 8;
	e->addr.bytes[15] = low & 0xff;
	e->prefixlen = plen;
	e->port = port;
}

/*
 * 100,000 entries:
 *   10.0.0.0/8:8080, covering every IPv4 entry;
 *   60,000 IPv4 /32s, 10.0.0.0 + 3k: every port when k % 4 == 0, else
 *     port 1000 + k % 5; the first 34,134 lie under the /24s;
 *   400 /24s 10.0.0.0/24..10.1.143.0/24 named netJ.example: every port
 *     when J % 10 == 0, else 443;
 *   20,000 IPv6 /128s 2001:db8:T::M with T = M % 200: every port when
 *     M % 3 == 0, else 443;
 *   100 /48s 2001:db8:T::/48, T < 100: every port for even T, else 53;
 *   19,499 exact copies of earlier entries, shuffled in.
 * Every distinct prefix is its own rule: 80,501.
 */
static struct entry *big_entries(void)
{
	struct entry *es = calloc(BIG_TOTAL, sizeof(*es));
	size_t n = 0, i, k;

	assert_non_null(es);
	big_v4(&es[n++], 0x0a000000, 8, 8080);
	for (k = 0; k < BIG_V4_HOSTS; k++)
		big_v4(&es[n++], 0x0a000000 + 3 * k, 32, k % 4 ? 1000 + k % 5 : 0);
	for (k = 0; k < BIG_V4_NETS; k++) {
		big_v4(&es[n], 0x0a000000 + (k << 8), 24, k % 10 ? 443 : 0);
		snprintf(es[n].name, sizeof(es[n].name), "net%zu.example", k);
		n++;
	}
	for (k = 0; k < BIG_V6_HOSTS; k++)
		big_v6(&es[n++], k % 200, k, 128, k % 3 ? 443 : 0);
	for (k = 0; k < BIG_V6_NETS; k++)
		big_v6(&es[n++], k, 0, 48, k % 2 ? 53 : 0);
	assert_int_equal(n, BIG_DISTINCT);
	rng_state = 0x5deece66dULL;
	for (; n < BIG_TOTAL; n++)
		es[n] = es[rng() % n];
	/* Shuffle, so covering entries come before and after what they cover. */
	for (i = BIG_TOTAL - 1; i > 0; i--) {
		struct entry t = es[i];

		k = rng() % (i + 1);
		es[i] = es[k];
		es[k] = t;
	}
	return es;
}

/* The rule for cidr, by binary search: the rules must be sorted. */
static const struct rule *big_rule(const struct rule *r, size_t n, const char *cidr)
{
	const struct rule *found;
	struct rule key;
	struct entry e;
	char err[1024];

	if (entry_parse(cidr, &e, err, sizeof(err)))
		fail_msg("%s", err);
	memset(&key, 0, sizeof(key));
	key.addr = e.addr;
	key.prefixlen = e.prefixlen;
	found = bsearch(&key, r, n, sizeof(*r), ref_rule_cmp);
	if (!found)
		fail_msg("no rule for %s", cidr);
	return found;
}

static void test_compile_100k(void **state)
{
	static const struct {
		const char *cidr, *ports, *name;
	} spot[] = {
		{ "10.0.0.0/8", "8080", "" },
		{ "10.0.0.0/32", "ALL", "" },           /* k = 0: its own */
		{ "10.0.0.3/32", "ALL", "" },           /* under net0, every port */
		{ "10.0.1.2/32", "443,1001,8080", "" }, /* k = 86, under net1 */
		{ "10.1.143.255/32", "443,1003,8080", "" }, /* the last under a /24 */
		{ "10.1.144.2/32", "1004,8080", "" },   /* the first under none */
		{ "10.2.191.29/32", "1004,8080", "" },  /* k = 59999 */
		{ "10.0.10.0/24", "ALL", "net10.example" },
		{ "10.1.143.0/24", "443,8080", "net399.example" },
		{ "2001:db8:1::/48", "53", "" },
		{ "2001:db8:1::1/128", "53,443", "" },
		{ "2001:db8:2::2/128", "ALL", "" },
		{ "2001:db8:97::97/128", "443", "" },   /* M = 151: no /48 */
		{ "2001:db8:63::12b/128", "53,443", "" }, /* M = 299, T = 99 */
	};
	struct rule *r = NULL, *rf = NULL;
	size_t nr = 0, nrf = 0, i, j;
	struct entry *es = big_entries();
	char err[1024], buf[ENTRY_STRLEN];
	struct policy p, pf;
	char *path;
	FILE *f;
	int fd;

	(void)state;
	policy_init(&p);
	for (i = 0; i < BIG_TOTAL; i++)
		assert_int_equal(policy_add(&p, &es[i]), 0);
	assert_int_equal(p.n, BIG_DISTINCT);
	if (policy_compile(&p, &r, &nr, err, sizeof(err)))
		fail_msg("compile: %s", err);
	assert_int_equal(nr, BIG_DISTINCT);
	for (i = 1; i < nr; i++)
		if (ref_rule_cmp(&r[i - 1], &r[i]) >= 0)
			fail_msg("rules %zu and %zu out of order", i - 1, i);
	for (i = 0; i < nr && r[i].addr.family == AF_INET; i++)
		;
	assert_int_equal(i, BIG_V4_HOSTS + BIG_V4_NETS + 1);

	for (i = 0; i < ARRAY_SIZE(spot); i++) {
		const struct rule *x = big_rule(r, nr, spot[i].cidr);

		if (strcmp(ports_str(x), spot[i].ports))
			fail_msg("%s: ports %s, want %s", spot[i].cidr, ports_str(x), spot[i].ports);
		assert_string_equal(x->name, spot[i].name);
	}

	/* Every 401st rule against the definition: scan all the entries. */
	for (j = 0; j < nr; j += 401) {
		struct rule want;

		memset(&want, 0, sizeof(want));
		want.addr = r[j].addr;
		want.prefixlen = r[j].prefixlen;
		assert_int_equal(ref_rule_fill(&want, es, BIG_TOTAL), 0);
		for (i = 0; i < p.n; i++) {
			const struct entry *e = &p.entries[i];

			if (e->prefixlen == want.prefixlen && e->name[0] &&
			    addr_prefix_covers(&e->addr, e->prefixlen, &want.addr, want.prefixlen)) {
				memcpy(want.name, e->name, sizeof(want.name));
				break;
			}
		}
		assert_rule_equal(&r[j], &want, j);
	}

	/* The same entries from a file: the same rules, less the names. */
	path = strdup("/tmp/egressd-test-policy-XXXXXX");
	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (i = 0; i < BIG_TOTAL; i++) {
		es[i].name[0] = '\0';
		fprintf(f, "%s\n", entry_format(&es[i], buf, sizeof(buf)));
	}
	assert_int_equal(fclose(f), 0);
	policy_init(&pf);
	if (policy_add_file(&pf, path, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(pf.n, BIG_DISTINCT);
	assert_int_equal(policy_compile(&pf, &rf, &nrf, err, sizeof(err)), 0);
	assert_int_equal(nrf, nr);
	for (i = 0; i < nr; i++) {
		r[i].name[0] = '\0';
		assert_rule_equal(&rf[i], &r[i], i);
	}

	drop_temp(path);
	free(rf);
	free(r);
	policy_free(&pf);
	policy_free(&p);
	free(es);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_separators),
		cmocka_unit_test(test_list_content),
		cmocka_unit_test(test_list_errors_atomic),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_duplicates_wildcard),
		cmocka_unit_test(test_list_grows),
		cmocka_unit_test(test_file_good),
		cmocka_unit_test(test_file_empty),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_file_nul),
		cmocka_unit_test(test_file_long_line),
		cmocka_unit_test(test_file_dev_zero),
		cmocka_unit_test(test_file_endless_pipe),
		cmocka_unit_test(test_file_size_limit),
		cmocka_unit_test(test_compile_cover_merge),
		cmocka_unit_test(test_compile_port_union),
		cmocka_unit_test(test_compile_too_many_ports),
		cmocka_unit_test(test_compile_order),
		cmocka_unit_test(test_compile_names),
		cmocka_unit_test(test_compile_unresolved),
		cmocka_unit_test(test_compile_bad_prefix),
		cmocka_unit_test(test_compile_empty),
		cmocka_unit_test(test_rule_allows_port),
		cmocka_unit_test(test_add_after_truncate),
		cmocka_unit_test(test_compile_oracle),
		cmocka_unit_test(test_compile_oracle_too_many),
		cmocka_unit_test(test_compile_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
