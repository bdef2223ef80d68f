/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the test helpers (probe, attack) share: errno names for their
 * verdict lines, and the strict number and address parsers.  Header-only,
 * because each helper is one self-contained binary.
 */
#ifndef EGRESSD_HELPER_UTIL_H
#define EGRESSD_HELPER_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static inline const char *errname(int err)
{
	const char *name = strerrorname_np(err);
	static char buf[32];

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}

static inline int parse_ulong(const char *s, unsigned long min, unsigned long max,
			      unsigned long *ret)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -1;
	*ret = v;
	return 0;
}

/*
 * ADDR is IPv4, IPv6 or IPv4-mapped IPv6, optionally in brackets.  A mapped
 * address deliberately stays AF_INET6: the tests check that the filter sees
 * through a dual-stack socket.
 */
static inline int parse_addr(const char *s, unsigned short port, struct sockaddr_storage *ss,
			     socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);

	if (n >= sizeof(buf))
		return -1;
	if (n > 2 && s[0] == '[' && s[n - 1] == ']') {
		memcpy(buf, s + 1, n - 2);
		buf[n - 2] = '\0';
	} else {
		memcpy(buf, s, n + 1);
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

#endif
