/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the BPF programs and the loader share: map keys and values, verdict
 * reasons, counters and the deny event.  Nothing else belongs here.
 *
 * This header has no includes on purpose: the BPF side gets __u32 and
 * friends from vmlinux.h, userspace from <linux/types.h>.  Mixing the two
 * in one translation unit is what breaks builds.
 */
#ifndef EGRESSD_H
#define EGRESSD_H

/* Ports one allowlist prefix may be limited to (after merging covers). */
#define EGRESS_MAX_PORTS 16

/* Ports --loopback PORT,... may list. */
#define EGRESS_MAX_LOOPBACK_PORTS 16

/* Resolvers the maps and rodata hold (MAX_RESOLVERS in userspace). */
#define EGRESS_MAX_RESOLVERS 8

/* IPv6 extension headers walked before giving up on finding L4. */
#define EGRESS_MAX_EXTHDRS 8

/* learned_v4 and learned_v6 entries each, unless loader_config says. */
#define EGRESS_LEARNED_DEFAULT 65536

/* LPM trie keys, katran style.  addr is in network byte order. */
struct egress_v4_key {
	__u32 prefixlen;
	__u32 addr; /* __be32 */
};

struct egress_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

enum egress_rule_flags {
	EGRESS_RULE_ALL_PORTS = 1 << 0,
};

/*
 * Value of both LPM tries.  The loader merges every entry that covers a
 * prefix into the prefix's own value (see policy_compile()), so the single
 * longest-prefix match the kernel returns carries the whole answer.
 * Ports are host byte order and apply to TCP and UDP alike.
 */
struct egress_rule {
	__u32 rule_id; /* index into the rule_hits counters */
	__u16 flags;   /* enum egress_rule_flags */
	__u16 nports;
	__u16 ports[EGRESS_MAX_PORTS];
};

/*
 * Value of learned_v4 (key: __be32) and learned_v6 (key: struct
 * egress_addr_key, never IPv4-mapped: the programs fold those into v4).
 * An address the DNS proxy saw in an allowed answer, until expires_ns on
 * the bpf_ktime_get_ns() clock (CLOCK_MONOTONIC).  Ports as in
 * egress_rule; flags are enum egress_rule_flags.
 */
struct egress_learned {
	__u64 expires_ns;
	__u16 flags;
	__u16 nports;
	__u16 ports[EGRESS_MAX_PORTS];
};

/*
 * Key of the local-address set (this network namespace's own addresses,
 * for source checks where the kernel would accept any source address):
 * IPv4 stored mapped, as for resolvers.
 */
struct egress_addr_key {
	__u8 addr[16];
};

/*
 * Resolver key: IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so one hash
 * map serves both families.  port is host byte order.
 */
struct egress_resolver_key {
	__u8 addr[16];
	__u16 port;
	__u16 pad;
};

/* Why a packet or socket call was passed or denied.  Indexes counters. */
enum egress_reason {
	EGRESS_PASS_LOOPBACK = 0,
	EGRESS_PASS_RESOLVER,
	EGRESS_PASS_ALLOWLIST,
	EGRESS_PASS_DNS_PROXY, /* DNS redirected to egressd's proxy */
	EGRESS_PASS_LEARNED,   /* an unexpired address the DNS proxy learned */
	EGRESS_PASS_MAX_, /* reasons below this pass */
	EGRESS_DROP_NOT_ALLOWED = EGRESS_PASS_MAX_,
	EGRESS_DROP_PORT,       /* prefix allowed, port not */
	EGRESS_DROP_NO_PORT,    /* port-limited prefix, packet has no port */
	EGRESS_DROP_DNS,        /* port 53 to something not a resolver */
	EGRESS_DROP_MALFORMED,  /* too short or inconsistent header */
	EGRESS_DROP_NOT_IP,     /* neither IPv4 nor IPv6 */
	EGRESS_DROP_IPV6_RTHDR, /* routing header hides the real destination */
	EGRESS_DROP_LOOPBACK_DEV, /* loopback address sent out of another device */
	EGRESS_DROP_SRCROUTE,     /* IPv4 LSRR/SSRR: the header's daddr is a first hop */
	EGRESS_DROP_SPOOF,        /* a source address that is not this host's */
	EGRESS_DROP_MCAST_JOIN,   /* joining a multicast group not in the allowlist */
	EGRESS_DROP_LOOPBACK_PORT, /* --loopback none|PORTS: a local port not listed */
	EGRESS_REASON_MAX,
};

struct egress_counter {
	__u64 packets;
	__u64 bytes;
};

/* Which program saw the traffic. */
enum egress_hook {
	EGRESS_HOOK_SKB = 0,
	EGRESS_HOOK_CONNECT4,
	EGRESS_HOOK_CONNECT6,
	EGRESS_HOOK_SENDMSG4,
	EGRESS_HOOK_SENDMSG6,
	EGRESS_HOOK_SETSOCKOPT,
	EGRESS_HOOK_BIND4,
	EGRESS_HOOK_BIND6,
	EGRESS_HOOK_MAX,
};

enum egress_event_flags {
	EGRESS_EVENT_AUDIT = 1 << 0, /* would have been denied; was passed */
};

#define EGRESS_COMM_LEN 16

/* One denial, sent through the events ring buffer. */
struct egress_event {
	__u64 ts_ns;
	__u32 pid; /* 0 where the hook has no process context */
	__u32 uid;
	char comm[EGRESS_COMM_LEN];
	__u8 hook;   /* enum egress_hook */
	__u8 reason; /* enum egress_reason */
	__u8 proto;  /* IPPROTO_*; EGRESS_HOOK_SETSOCKOPT: the option's level */
	__u8 family; /* 4 or 6 */
	__u16 dport; /* host byte order, 0 if none; setsockopt: the optname */
	__u8 flags;  /* enum egress_event_flags */
	__u8 pad;
	__u8 daddr[16]; /* IPv4 in the first 4 bytes; setsockopt: the group */
};

#endif /* EGRESSD_H */
