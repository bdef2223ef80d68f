/* SPDX-License-Identifier: GPL-2.0-only */
/* --stats and egressd status: the per-CPU counters, summed; printed at exit. */
#ifndef EGRESSD_STATS_H
#define EGRESSD_STATS_H

#include <stddef.h>

#include "policy.h"

struct egress_bpf;

/*
 * The counters map summed over every CPU: out[hook][reason], packets for
 * the packet hook, calls for the socket hooks.  0 or the first -errno (a
 * slot that cannot be read is left zero).
 */
int stats_read(struct egress_bpf *skel, struct egress_counter out[EGRESS_HOOK_MAX][EGRESS_REASON_MAX]);

void stats_print(struct egress_bpf *skel, const struct rule *rules, size_t nrules);

#endif
