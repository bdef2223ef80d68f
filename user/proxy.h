/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The filtering DNS proxy.  The BPF programs redirect every UDP and TCP
 * destination on port 53 the workload uses to 127.0.0.1/::1 on the
 * proxy's port.  The proxy answers only names the allowlist allows,
 * forwards those upstream through c-ares on the event loop, learns every
 * A/AAAA address of an answer into the BPF allowlist (learn.h) before the
 * workload sees it, and refuses everything else without sending it on.
 */
#ifndef EGRESSD_PROXY_H
#define EGRESSD_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "events.h"
#include "learn.h"
#include "loop.h"
#include "namematch.h"
#include "resolvconf.h"

struct egress_bpf;
struct proxy;

struct proxy_config {
	const struct resolver *resolvers; /* upstream */
	size_t nresolvers;
	const struct namematch *names; /* which names may be asked */
	struct learn *learn;           /* where answers' addresses go */
	struct events *events;         /* deny lines; audit names */
	bool audit;                    /* forward everything, report */
	int deny_rcode;                /* DNS rcode for refused names (5 REFUSED, 3 NXDOMAIN) */
	const char *cgroup_dir;        /* to name the asking process in deny lines */
};

/*
 * Listen on 127.0.0.1 and ::1 (UDP and TCP) on one free port, registered
 * on l but answering nothing until proxy_start().  *port_out for the BPF
 * redirect (loader_config.proxy_port).  0 or -errno, printed.
 */
int proxy_open(struct loop *l, struct proxy **out, uint16_t *port_out);

/*
 * Make the upstream channels: every upstream socket is exempted from the
 * redirect (loader_exempt_socket) before it connects, so egressd's own
 * queries reach the resolvers even when egressd runs in the filtered
 * cgroup.  0 or -errno, printed.
 */
int proxy_start(struct proxy *p, const struct proxy_config *c, struct egress_bpf *skel);

/*
 * Queries answered SERVFAIL since proxy_start(), for egressd status:
 * the upstream failed (dead, silent, a bad answer), or the answer's
 * addresses could not be allowed (a failed map update); and sweeps that
 * could not remove an expired address from the map.
 */
struct proxy_faults {
	uint64_t upstream_failed;
	uint64_t learn_failed;
	uint64_t expire_failed; /* sweeps that could not delete an expired address */
};

void proxy_get_faults(const struct proxy *p, struct proxy_faults *out);

/* Closes the listeners and the channels.  Accepts NULL. */
void proxy_free(struct proxy *p);

#endif
