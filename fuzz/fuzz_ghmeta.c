// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: GitHub's meta JSON (ghmeta_parse(), the parser only; the
 * fetch is ghmeta_fetch.c).  The input is the document, given without a
 * NUL terminator, so a read past len is ASan's to see.  Checked: all or
 * nothing (an error adds no entry to a policy that already held one),
 * and every entry added is a port-less CIDR named github.com no wider
 * than /8 or /16 with its host bits clear.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "ghmeta.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_QUIET);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1), err[1024] = "";
	struct policy p;
	struct entry first;
	int ret;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	policy_init(&p);
	/* A domain: no document can add it, so it cannot merge with one. */
	if (entry_parse("first.example", &first, err, sizeof(err)) || policy_add(&p, &first))
		abort();
	ret = ghmeta_parse(copy, size, &p, err, sizeof(err));
	if (ret) {
		FUZZ_CHECK(p.n == 1 && err[0]);
		/* The document comes from the network: its bytes stay escaped. */
		FUZZ_CHECK_MSG(err);
	} else {
		FUZZ_CHECK(p.n >= 2);
		for (size_t i = 1; i < p.n; i++) {
			const struct entry *e = &p.entries[i];

			FUZZ_CHECK(e->kind == ENTRY_CIDR && !e->port);
			FUZZ_CHECK(!strcmp(e->name, "github.com"));
			FUZZ_CHECK(e->prefixlen >= (e->addr.family == AF_INET ? 8 : 16));
			FUZZ_CHECK(addr_host_bits_clear(&e->addr, e->prefixlen));
		}
	}
	policy_free(&p);
	free(copy);
	return 0;
}
