// SPDX-License-Identifier: GPL-2.0-only
/*
 * The network namespace's own addresses and its nonlocal-bind sysctls,
 * for the BPF source checks (see check_source in bpf/egress.bpf.c).
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "hostaddr.h"

int hostaddr_list(struct addr **out, size_t *nout)
{
	struct ifaddrs *ifa, *i;
	struct addr *v;
	size_t n = 0, k = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			v[k].family = AF_INET;
			memcpy(v[k].bytes, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
			k++;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			v[k].family = AF_INET6;
			memcpy(v[k].bytes, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			k++;
		}
	}
	freeifaddrs(ifa);
	*out = v;
	*nout = k;
	return 0;
}

static bool sysctl_on(const char *path)
{
	char buf[16] = "";
	FILE *f = fopen(path, "re");
	bool on = true; /* unreadable: assume the kernel accepts any source */

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			on = strtol(buf, NULL, 10) != 0;
		fclose(f);
	}
	return on;
}

bool hostaddr_nonlocal_bind(const char **which)
{
	static const char *const knobs[] = {
		"/proc/sys/net/ipv4/ip_nonlocal_bind",
		"/proc/sys/net/ipv6/ip_nonlocal_bind",
	};

	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		/* A kernel without IPv6 has no IPv6 knob, and no IPv6 to forge. */
		if (i == 1 && access("/proc/sys/net/ipv6", F_OK))
			continue;
		if (sysctl_on(knobs[i])) {
			if (which)
				*which = knobs[i] + strlen("/proc/sys/");
			return true;
		}
	}
	return false;
}
