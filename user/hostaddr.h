/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What this network namespace lets a socket use as its source: its own
 * addresses, and whether the ip_nonlocal_bind sysctls let the kernel
 * accept any other.  Read once, before the filter is loaded.
 */
#ifndef EGRESSD_HOSTADDR_H
#define EGRESSD_HOSTADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"

/*
 * Every address of every interface (getifaddrs), IPv6 link-local ones
 * included.  *out is malloc'd, set only on success.  0 or -errno.
 */
int hostaddr_list(struct addr **out, size_t *nout);

/*
 * net.ipv4.ip_nonlocal_bind or net.ipv6.ip_nonlocal_bind is set here.
 * A sysctl that cannot be read counts as set (fail closed: the source
 * checks then run).  *which names the first one that is set.
 */
bool hostaddr_nonlocal_bind(const char **which);

#endif
