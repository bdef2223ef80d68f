// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: resolv.conf and --resolver values.  The input goes whole
 * through resolvconf_parse() (from memory, NUL bytes and all), and each
 * line alone through resolver_parse().  Checked: the count is within max
 * with no duplicate address, every resolver is port 53 from resolv.conf,
 * and resolver_format() of a parsed --resolver parses back to the same.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "resolvconf.h"

static void one_resolver(const char *text)
{
	char err[512] = "", buf[128];
	struct resolver r, back;

	if (resolver_parse(text, &r, err, sizeof(err))) {
		FUZZ_CHECK(err[0]);
		FUZZ_CHECK_MSG(err);
		return;
	}
	FUZZ_CHECK(r.addr.family == AF_INET || r.addr.family == AF_INET6);
	resolver_format(&r, buf, sizeof(buf));
	FUZZ_CHECK(resolver_parse(buf, &back, err, sizeof(err)) == 0);
	FUZZ_CHECK(addr_equal(&r.addr, &back.addr) && r.port == back.port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resolver out[MAX_RESOLVERS];
	char *s, *line, *save = NULL, err[1024] = "";
	size_t n = 0;
	FILE *f;
	int ret;

	/* fmemopen() of 0 bytes is EINVAL on older glibc: give it one. */
	f = fmemopen((void *)(size ? data : (const uint8_t *)"\n"), size ? size : 1, "r");
	if (!f)
		abort();
	ret = resolvconf_parse(f, "fuzz", out, MAX_RESOLVERS, &n, err, sizeof(err));
	fclose(f);
	if (!ret) {
		FUZZ_CHECK(n >= 1 && n <= MAX_RESOLVERS);
		for (size_t i = 0; i < n; i++) {
			FUZZ_CHECK(out[i].port == DNS_PORT);
			for (size_t j = 0; j < i; j++)
				FUZZ_CHECK(!addr_equal(&out[i].addr, &out[j].addr));
		}
	} else {
		FUZZ_CHECK(ret < 0 && err[0]);
		FUZZ_CHECK_MSG(err);
	}

	s = fuzz_str(data, size);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		one_resolver(line);
	free(s);
	return 0;
}
