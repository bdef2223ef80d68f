// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: domain names and wildcards.  The input is lines: entries
 * ("example.com", "*.example.org:443", ...) up to a line "--", then query
 * names.  The entries that entry_parse() takes are indexed with
 * namematch_build(); every query goes through namematch_lookup() and
 * name_validate(), and each answer is checked against a plain linear
 * scan of the entries: exact when an entry names the query itself,
 * wildcard when a "*.SUFFIX" entry has a proper suffix of it.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "entry.h"
#include "fuzz.h"
#include "namematch.h"

#define MAX_ENTRIES 64

/* A query name as the proxy may see one, lowercased, without its dot. */
static bool plain_query(const char *q, char *out)
{
	size_t len = strlen(q), llen = 0;

	if (len && q[len - 1] == '.')
		len--;
	if (!len || len > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = q[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			if (!llen)
				return false;
			llen = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_') {
			if (++llen > 63)
				return false;
		} else {
			return false;
		}
		out[i] = c;
	}
	out[len] = '\0';
	return llen > 0;
}

static void check_query(const struct namematch *m, const struct entry *ents, size_t n,
			const char *q)
{
	char name[NAME_MAX_LEN + 2], err[1024];
	struct namematch_hit hit;
	bool exact = false, wild = false, valid;
	size_t nl;
	int ret;

	err[0] = '\0';
	name_validate(q, err, sizeof(err));
	FUZZ_CHECK_MSG(err);
	ret = namematch_lookup(m, q, &hit);
	FUZZ_CHECK(ret == 0 || ret == -ENOENT || ret == -E2BIG);
	valid = plain_query(q, name);
	if (!valid) {
		FUZZ_CHECK(ret == -ENOENT);
		return;
	}
	nl = strlen(name);
	for (size_t i = 0; i < n; i++) {
		size_t el = strlen(ents[i].name);

		if (!ents[i].wildcard && !strcmp(ents[i].name, name))
			exact = true;
		if (ents[i].wildcard && nl > el + 1 && name[nl - el - 1] == '.' &&
		    !strcmp(name + nl - el, ents[i].name))
			wild = true;
	}
	if (ret == -E2BIG) {
		FUZZ_CHECK(wild);
		return;
	}
	FUZZ_CHECK((ret == 0) == (exact || wild));
	if (ret)
		return;
	FUZZ_CHECK(hit.exact == exact && hit.wildcard == wild);
	FUZZ_CHECK(hit.ports.n <= EGRESS_MAX_PORTS);
	for (size_t j = 1; j < hit.ports.n; j++)
		FUZZ_CHECK(hit.ports.ports[j - 1] < hit.ports.ports[j]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *line, *save = NULL, err[1024];
	struct entry ents[MAX_ENTRIES];
	struct namematch *m = NULL;
	size_t n = 0;
	bool queries = false;

	/* strsep, not strtok: an empty line is an empty query name. */
	for (save = s; (line = strsep(&save, "\n"));) {
		if (!queries) {
			if (!strcmp(line, "--")) {
				queries = true;
				if (namematch_build(ents, n, &m, err, sizeof(err)))
					break; /* -E2BIG: too many ports on one name */
				FUZZ_CHECK(namematch_count(m) <= n);
				continue;
			}
			if (n < MAX_ENTRIES && !entry_parse(line, &ents[n], err, sizeof(err)) &&
			    ents[n].kind == ENTRY_DOMAIN)
				n++;
			continue;
		}
		check_query(m, ents, n, line);
	}
	namematch_free(m);
	free(s);
	return 0;
}
