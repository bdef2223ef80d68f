/* SPDX-License-Identifier: GPL-2.0-only */
/* The BPF object: probe, size, load, fill, attach, detach. */
#ifndef EGRESSD_LOADER_H
#define EGRESSD_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "resolvconf.h"

struct egress_bpf;

struct loader_config {
	bool audit;  /* pass everything, report what would be denied */
	bool events; /* emit deny events into the ring buffer */
	const struct rule *rules;
	size_t nrules;
	const struct resolver *resolvers;
	size_t nresolvers;
	/*
	 * The namespace's own addresses, and whether every source must be
	 * one of them (the nonlocal-bind sysctls are on; see hostaddr.h).
	 */
	bool check_source;
	const struct addr *local;
	size_t nlocal;
};

/* Can this kernel run our program types?  Prints what is missing. */
int loader_probe(void);

/* Open, configure rodata, size maps, load, fill maps.  *out on success. */
int loader_load(const struct loader_config *c, struct egress_bpf **out);

/*
 * Attach every program to the cgroup with BPF_F_ALLOW_MULTI.  Such an
 * attachment belongs to the cgroup, not to a file descriptor: it outlives
 * egressd (SIGKILL included) and can only be removed by someone holding
 * the program's fd (see docs/design.md).  On failure, detaches what it
 * attached.
 */
int loader_attach(struct egress_bpf *skel, int cgroup_fd);

/* Detach every program this skeleton attached.  Returns the first error. */
int loader_detach(struct egress_bpf *skel, int cgroup_fd);

/* Accepts NULL. */
void loader_destroy(struct egress_bpf *skel);

#endif
