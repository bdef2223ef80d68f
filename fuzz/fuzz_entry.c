// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: allowlist entries and allow files.  The input is an allow
 * file: it goes whole through policy_add_file() (through a memfd, so NUL
 * bytes, long lines and a missing last newline reach the real reader) and
 * policy_add_list(), then policy_compile(); each line also goes alone
 * through entry_parse() and name_validate().  Checked on the way:
 * entry_format() of a parsed entry parses back to the same entry, and
 * compiled rules are sorted, unique and hold sorted unique ports.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "entry.h"
#include "fuzz.h"
#include "policy.h"

static bool same_entry(const struct entry *a, const struct entry *b)
{
	return a->kind == b->kind && a->wildcard == b->wildcard && a->port == b->port &&
	       !strcmp(a->name, b->name) &&
	       (a->kind != ENTRY_CIDR ||
		(addr_equal(&a->addr, &b->addr) && a->prefixlen == b->prefixlen));
}

static void one_entry(const char *text)
{
	char err[512], buf[ENTRY_STRLEN];
	struct entry e, back;

	err[0] = '\0';
	if (name_validate(text, err, sizeof(err)))
		FUZZ_CHECK(err[0]);
	FUZZ_CHECK_MSG(err);
	err[0] = '\0';
	if (entry_parse(text, &e, err, sizeof(err))) {
		FUZZ_CHECK(err[0]);
		FUZZ_CHECK_MSG(err);
		return;
	}
	FUZZ_CHECK(e.kind == ENTRY_CIDR || e.kind == ENTRY_DOMAIN);
	FUZZ_CHECK(strlen(e.name) <= NAME_MAX_LEN);
	if (e.kind == ENTRY_CIDR)
		FUZZ_CHECK(e.prefixlen <= addr_len(&e.addr) * 8);
	else
		FUZZ_CHECK(name_validate(e.name, err, sizeof(err)) == 0);
	entry_format(&e, buf, sizeof(buf));
	FUZZ_CHECK(entry_parse(buf, &back, err, sizeof(err)) == 0);
	FUZZ_CHECK(same_entry(&e, &back));
}

static void check_rules(const struct rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(r[i].prefixlen <= addr_len(&r[i].addr) * 8);
		FUZZ_CHECK(r[i].nports <= EGRESS_MAX_PORTS);
		for (size_t j = 1; j < r[i].nports; j++)
			FUZZ_CHECK(r[i].ports[j - 1] < r[i].ports[j]);
		if (i)
			FUZZ_CHECK(r[i - 1].addr.family <= r[i].addr.family ||
				   r[i - 1].addr.family == AF_INET);
	}
}

static void whole_file(const uint8_t *data, size_t size)
{
	char path[64], err[1024] = "";
	struct policy p;
	struct rule *rules = NULL;
	size_t nrules = 0;
	int fd, ret;

	fd = memfd_create("fuzz_entry", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	policy_init(&p);
	ret = policy_add_file(&p, path, err, sizeof(err));
	FUZZ_CHECK(ret == 0 || p.n == 0); /* on error nothing is added */
	FUZZ_CHECK(ret == 0 || err[0]);
	FUZZ_CHECK_MSG(err);
	if (!ret && !policy_count(&p, ENTRY_DOMAIN) &&
	    !policy_compile(&p, &rules, &nrules, err, sizeof(err))) {
		check_rules(rules, nrules);
		free(rules);
	}
	policy_free(&p);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *line, *save = NULL;
	char err[1024] = "";
	struct policy p;

	whole_file(data, size);

	policy_init(&p);
	if (policy_add_list(&p, s, err, sizeof(err)))
		FUZZ_CHECK(p.n == 0 && err[0]);
	FUZZ_CHECK_MSG(err);
	policy_free(&p);

	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		one_entry(line);
	free(s);
	return 0;
}
