/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Plan, then act: what can be decided without side effects (resolvers,
 * names, GitHub's ranges, the compiled rules), shared by run, resolve and
 * check.  The session (session.h) then acts on a plan.
 */
#ifndef EGRESSD_PLAN_H
#define EGRESSD_PLAN_H

#include <stddef.h>

#include "cli.h"
#include "dns.h"
#include "policy.h"

struct plan {
	struct rule *rules; /* compiled, for the LPM maps */
	size_t nrules;
	struct dns_answer *answers; /* each allowed name's addresses, for messages */
	size_t nanswers;
	struct entry *domains; /* the domain entries, *.NAME too, for the DNS proxy */
	size_t ndomains;
};

/* Fill c->resolvers from /etc/resolv.conf unless --resolver gave some. */
int plan_load_resolvers(struct run_config *c);

/*
 * Resolvers, names (replacing c->policy's domain entries by addresses),
 * GitHub's ranges, compile.  Prints every failure.  *out only on success.
 */
int plan_build(struct run_config *c, struct plan *out);

/* Accepts a zeroed plan. */
void plan_free(struct plan *p);

#endif
