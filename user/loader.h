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
	/*
	 * DNS proxy mode: port-53 (and resolver) destinations are rewritten
	 * to 127.0.0.1/::1 port proxy_port (host order), and only sockets
	 * given to loader_exempt_socket() may reach the resolvers.  The proxy
	 * must listen on 127.0.0.1 and ::1, same port.
	 */
	bool dns_proxy;
	unsigned short proxy_port;
	/*
	 * Consult the learned_v4/v6 maps (loader_learn()) and cache each
	 * socket's passed destination, so expiry ends no flow it let start.
	 * learned_max: entries per family; 0 means EGRESS_LEARNED_DEFAULT.
	 */
	bool learn;
	unsigned int learned_max;
	/* --loopback none|PORTS: only these loopback ports (and the proxy's). */
	bool loopback_restricted;
	unsigned short loopback_ports[EGRESS_MAX_LOOPBACK_PORTS];
	size_t nloopback_ports;
	/*
	 * Tests only (tests/bpf/test_packets.c): the packet hook copies every
	 * header with bpf_skb_load_bytes(), as for a non-linear skb, never
	 * from the linear part.  Same verdicts, slower.  No command sets it.
	 */
	bool test_copy_headers;
	/*
	 * Bench only (bench/verifier.c): the kernel reports each program's
	 * verifier statistics (log level 4), which libbpf hands to its print
	 * hook.  No command sets it.
	 */
	bool verifier_stats;
};

/* Can this kernel run our program types?  Prints what is missing. */
int loader_probe(void);

/*
 * For egressd check: probe one by one, without loading egressd's object,
 * what its programs use (program types, the sock_addr attach types, map
 * types, helpers).  Prints nothing.  needed gets what egressd cannot run
 * without, degrade what it runs without in a weaker way (loader_load()
 * warns), each as a comma-separated list ("" when nothing is missing).
 * Returns how many needed features are missing.  Needs CAP_BPF (before
 * 5.8 CAP_SYS_ADMIN) and bpf() allowed: otherwise every probe load fails,
 * libbpf then calls program types missing but helpers present, so the
 * caller checks those first.
 */
int loader_probe_features(char *needed, size_t neededlen, char *degrade, size_t degradelen);

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

/*
 * Mark the socket fd as one of the DNS proxy's upstreams (by SO_COOKIE):
 * never redirected, and in proxy mode the only sockets the resolver rule
 * serves.  Call it before the socket connects or sends (egressd may run in
 * the filtered cgroup itself), and loader_unexempt_socket() before close.
 * 0 or a negative errno (-ENOSPC: the exempt map is full).
 */
int loader_exempt_socket(struct egress_bpf *skel, int fd);

/* Undo loader_exempt_socket().  A socket that was not exempt is fine. */
int loader_unexempt_socket(struct egress_bpf *skel, int fd);

/*
 * Let the programs pass a (family AF_INET or AF_INET6; IPv4-mapped is
 * stored as IPv4) as v says, until v->expires_ns on CLOCK_MONOTONIC.  One
 * map update, replacing any entry for a.  0 or a negative errno (-E2BIG:
 * learned_max entries already).  Needs loader_config.learn.
 */
int loader_learn(struct egress_bpf *skel, const struct addr *a, const struct egress_learned *v);

/* Forget a.  An address not learned is fine.  0 or a negative errno. */
int loader_unlearn(struct egress_bpf *skel, const struct addr *a);

/* One program of the object, as egressd status names it. */
struct loader_prog {
	const char *name;        /* "egress_skb" */
	unsigned int id;         /* the kernel's program id */
	int attach_type;         /* enum bpf_attach_type */
	const char *attach_name; /* "cgroup_inet_egress" (libbpf_bpf_attach_type_str) */
};

/* Most programs loader_programs() can list. */
#define LOADER_MAX_PROGS 16

/*
 * The loaded programs (those loader_attach() attaches), up to max into
 * out.  Returns how many, or -errno when a program's id cannot be read.
 */
int loader_programs(struct egress_bpf *skel, struct loader_prog *out, size_t max);

/* Accepts NULL. */
void loader_destroy(struct egress_bpf *skel);

#endif
