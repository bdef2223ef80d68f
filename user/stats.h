/* SPDX-License-Identifier: GPL-2.0-only */
/* --stats: the per-CPU counters, summed and printed at exit. */
#ifndef EGRESSD_STATS_H
#define EGRESSD_STATS_H

#include <stddef.h>

#include "policy.h"

struct egress_bpf;

void stats_print(struct egress_bpf *skel, const struct rule *rules, size_t nrules);

#endif
