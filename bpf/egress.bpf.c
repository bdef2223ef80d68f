// SPDX-License-Identifier: GPL-2.0-only
/*
 * egressd's enforcement: one policy, applied at two depths.
 *
 *  - cgroup_skb/egress sees every packet the cgroup's sockets send.  It is
 *    the backstop: raw sockets, connected UDP, anything the socket hooks
 *    cannot see.  A dropped TCP SYN only makes connect() time out, though.
 *  - cgroup/connect{4,6} and cgroup/sendmsg{4,6} judge the destination when
 *    the syscall is made and deny with EPERM at once, so a blocked
 *    connection fails fast instead of hanging in SYN retransmits.
 *
 * Both ask egress_decide(), so they can never disagree.  Every path that
 * cannot prove a packet is allowed drops it.
 *
 * Three more hooks close channels that do not look like a destination:
 *  - cgroup/setsockopt refuses the options that let a socket send with a
 *    source address that is not its own (IP(V6)_FREEBIND, _TRANSPARENT, a
 *    sticky IPV6_PKTINFO), multicast joins of groups not in the allowlist
 *    (the kernel's IGMP/MLD report names the group, from a socket no
 *    cgroup owns), and IPv4 source routes;
 *  - cgroup/bind{4,6} refuse binding a non-local address where the host's
 *    ip_nonlocal_bind sysctls would let the kernel accept it.
 * docs/design.md ("Side channels") argues why that set is complete.
 *
 * DNS proxy mode (issue 8, off unless the loader sets dns_proxy): connect
 * and sendmsg rewrite every port-53 destination to egressd's proxy on
 * loopback, cgroup/recvmsg{4,6} and cgroup/getpeername{4,6} show the
 * original address back, and only the proxy's exempt upstream sockets
 * reach the resolvers.  Addresses the proxy learns pass until they
 * expire; the packet hook caches each socket's passed destination so an
 * expiry cuts no flow already running.  Kernel needs: see loader_load().
 */
/*
 * Every struct these programs read is a UAPI context (__sk_buff,
 * bpf_sock_addr, bpf_sockopt, bpf_sock) that the kernel itself rewrites
 * per version, so none needs CO-RE.  Without this, vmlinux.h marks every
 * record preserve_access_index, each ctx field read becomes a CO-RE
 * relocation, and libbpf must parse the kernel's whole BTF (5.5 MB here)
 * at every start: 16 ms of a 56 ms start-up (bench/, issue 10).
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "egressd.h"

/* Verdicts, named (systemd restrict-ifaces style). */
#define DROP 0
#define PASS 1

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF
#define IP6_OFFSET 0xFFF8
#define DNS_PORT 53
/* Every network namespace's loopback device has this ifindex. */
#define LOOPBACK_IFINDEX 1
#define LOOPBACK4 0x7f000001 /* 127.0.0.1, host order */

/* IPv4 options (RFC 791): end, no-op, and the two source routes. */
#define IPOPT_END 0
#define IPOPT_NOOP 1
#define IPOPT_LSRR 131
#define IPOPT_SSRR 137
#define IPV4_MAX_OPTLEN 40

/* Socket options (linux/in.h, linux/in6.h); vmlinux.h has no macros. */
#define SOL_IP 0
#define SOL_IPV6 41
#define IP_OPTIONS 4
#define IP_FREEBIND 15
#define IP_TRANSPARENT 19
#define IP_ADD_MEMBERSHIP 35
#define IP_UNBLOCK_SOURCE 37
#define IP_BLOCK_SOURCE 38
#define IP_ADD_SOURCE_MEMBERSHIP 39
#define IP_MSFILTER 41
#define MCAST_JOIN_GROUP 42
#define MCAST_BLOCK_SOURCE 43
#define MCAST_UNBLOCK_SOURCE 44
#define MCAST_JOIN_SOURCE_GROUP 46
#define MCAST_MSFILTER 48
#define IPV6_ADD_MEMBERSHIP 20 /* IPV6_JOIN_GROUP */
#define IPV6_JOIN_ANYCAST 27
#define IPV6_PKTINFO 50
#define IPV6_TRANSPARENT 75
#define IPV6_FREEBIND 78
#define AF_INET 2
#define AF_INET6 10
/* struct group_req / group_source_req: sockaddr_storage is 8-aligned. */
#define GREQ_GROUP_OFF 8
#define GREQ_SOURCE_OFF 136
/* struct ip_mreq_source: multiaddr, interface, sourceaddr. */
#define MREQ_SOURCE_OFF 8

/* IPv6 extension headers (linux/in6.h; vmlinux.h has no macros). */
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH 51
#define NEXTHDR_DEST 60

/* Set through skel->rodata before load. */
const volatile bool audit_mode = false; /* report, never deny */
const volatile bool emit_events = true;
/*
 * Whether sock_addr programs may call bpf_get_current_pid_tgid/comm (newer
 * kernels only).  The loader probes it; when false the verifier never sees
 * the calls, so the same object loads on older kernels, naming uid only.
 */
const volatile bool task_helpers = true;
/*
 * The distinct resolver ports (usually just 53), so that the resolver hash
 * lookup is only paid by packets that could be DNS to a resolver.
 */
const volatile __u16 resolver_ports[EGRESS_MAX_RESOLVERS] = {};
const volatile __u32 nresolver_ports = 0;
/*
 * Set when net.ipv4.ip_nonlocal_bind or net.ipv6.ip_nonlocal_bind is on in
 * this network namespace: the kernel then accepts any source address, so
 * bind, sendmsg and every packet are checked against local_addrs.  Off,
 * the kernel itself refuses non-local sources once FREEBIND/TRANSPARENT
 * are refused, and no packet pays for the lookup.
 */
const volatile bool check_source = false;
/*
 * DNS proxy mode (issue 8).  Off, nothing below changes today's policy.
 * On, every TCP/UDP destination on port 53 (or a configured resolver's
 * address and port) is rewritten at connect/sendmsg to egressd's proxy on
 * loopback at proxy_port (host order), and only sockets in `exempt` (the
 * proxy's own upstream sockets) may use the resolver rule.
 */
/*
 * --loopback: false = every loopback destination passes (the default);
 * true = only loopback_ports[] (and the DNS proxy's port), with 0.0.0.0
 * and :: judged as the loopback they are.
 */
const volatile bool loopback_restricted = false;
const volatile __u16 loopback_ports[EGRESS_MAX_LOOPBACK_PORTS] = {};
const volatile __u32 nloopback_ports = 0;
const volatile bool dns_proxy = false;
const volatile __u16 proxy_port = 0;
/* Consult learned_v4/learned_v6 in egress_decide(). */
const volatile bool learning = false;
/*
 * Cache each full socket's last passed destination (sk_storage) in the
 * packet hook, so that learned-address expiry never cuts a flow it let
 * start.  The loader clears it where the kernel lacks sk_storage in
 * cgroup_skb (5.2).
 */
const volatile bool verdict_cache = false;
/*
 * Seed that cache from connect/sendmsg (see sock_seed()).  The loader
 * clears it where sock_addr programs cannot call bpf_sk_storage_get.
 */
const volatile bool seed_verdicts = false;

/*
 * Which allowlist maps hold anything (set by the loader).  /32 and /128
 * rules (what domains resolve to) live only in exact_v4/exact_v6, every
 * shorter prefix only in the tries; a map that is empty is never looked
 * up, and the verifier drops the dead branch.
 */
const volatile bool exact_v4_used = false;
const volatile bool exact_v6_used = false;
const volatile bool prefix_v4_used = true;
const volatile bool prefix_v6_used = true;

/*
 * The /32 rules: address (__be32) -> merged rule.  One hash probe instead
 * of a trie walk; the value is the same merged rule the trie would hold
 * (policy_compile() folds every covering prefix into it), so a hit is the
 * longest-prefix answer.  Preallocated: sized exactly by the loader, so
 * it costs no more memory than BPF_F_NO_PREALLOC would once filled, and
 * the fill skips a kmalloc per element (see docs/design.md).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct egress_rule);
	__uint(max_entries, 1); /* sized by the loader */
} exact_v4 SEC(".maps");

/* The /128 rules, as exact_v4. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct egress_addr_key);
	__type(value, struct egress_rule);
	__uint(max_entries, 1);
} exact_v6 SEC(".maps");

/* IPv4 allowlist: longest prefix (shorter than /32) -> merged rule (ports, rule id). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct egress_v4_key);
	__type(value, struct egress_rule);
	__uint(max_entries, 1); /* sized by the loader */
} allow_v4 SEC(".maps");

/* IPv6 allowlist, same value as allow_v4. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct egress_v6_key);
	__type(value, struct egress_rule);
	__uint(max_entries, 1);
} allow_v6 SEC(".maps");

/* The resolvers (IPv4 stored mapped) and their ports: the only DNS peers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct egress_resolver_key);
	__type(value, __u8);
	__uint(max_entries, 1);
} resolvers SEC(".maps");

/* This network namespace's addresses at start (IPv4 mapped). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct egress_addr_key);
	__type(value, __u8);
	__uint(max_entries, 1); /* sized by the loader */
} local_addrs SEC(".maps");

/*
 * Sockets (by cookie) that are egressd's own DNS upstreams: never
 * redirected, and in proxy mode the only ones the resolver rule serves.
 * A plain hash, not LRU: an eviction would silently turn the proxy's
 * upstream into a client of itself.  Full means loader_exempt_socket()
 * fails, and the proxy does not use that socket.  Entries are removed by
 * loader_unexempt_socket(); cookies are never reused, so one forgotten
 * entry costs a slot, never a wrong verdict.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, __u8);
	__uint(max_entries, 4096);
} exempt SEC(".maps");

/*
 * Where a redirected socket last meant to send DNS, by cookie, so that
 * recvmsg and getpeername can show the reply coming from there (glibc
 * drops an answer from an unexpected source).  LRU: a socket that closed
 * leaves its entry behind, and losing the oldest only makes an old
 * socket's late answer show the proxy's address (dropped: closed).
 */
struct dns_orig {
	__u32 addr[4]; /* as the hook saw it: user_ip4 in addr[0], or user_ip6 */
	__u32 port;    /* user_port, network byte order in the low 16 bits */
	/*
	 * The hook's user_family.  Not always the socket's: sendto() of an
	 * AF_INET6 socket to ::ffff:a.b.c.d runs cgroup/sendmsg4 with an
	 * AF_INET address (udpv6_sendmsg hands it to udp_sendmsg), while its
	 * answer comes through cgroup/recvmsg6.
	 */
	__u32 family;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u64);
	__type(value, struct dns_orig);
	__uint(max_entries, 16384);
} dns_orig SEC(".maps");

/* Addresses the DNS proxy learned (see struct egress_learned). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __be32);
	__type(value, struct egress_learned);
	__uint(max_entries, 1); /* sized by the loader */
} learned_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct egress_addr_key);
	__type(value, struct egress_learned);
	__uint(max_entries, 1);
} learned_v6 SEC(".maps");

/* Per-CPU verdict counters, index hook * EGRESS_REASON_MAX + reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct egress_counter);
	__uint(max_entries, EGRESS_HOOK_MAX * EGRESS_REASON_MAX);
} counters SEC(".maps");

/* Per-CPU hits per allowlist rule, indexed by egress_rule.rule_id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct egress_counter);
	__uint(max_entries, 1);
} rule_hits SEC(".maps");

/* Deny events for the loader to print. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Events dropped because the ring buffer was full (per CPU, index 0). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} events_lost SEC(".maps");

/* A destination, as every hook reduces it. */
struct dest {
	__u8 family; /* 4 or 6; IPv4-mapped IPv6 is folded into 4 */
	__u8 proto;
	__u8 has_port;
	/*
	 * The traffic leaves through the loopback device (packet) or may only
	 * (socket not bound to another device).  Loopback is loopback only
	 * there: SO_BINDTODEVICE or IP_UNICAST_IF push 127.x onto the wire.
	 */
	__u8 via_lo;
	__u16 dport; /* host byte order */
	__u16 sport; /* packet hook: the L4 source port; socket hooks: 0 */
	union {
		__be32 v4;
		__u8 v6[16];
	} addr;
};

/*
 * A full socket's last passed destination, so its later packets there
 * skip the lookups (packet hook only; see egress_skb()).
 */
struct verdict {
	struct dest d;
	__u32 reason;
	__u32 rule_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct verdict);
} verdicts SEC(".maps");

static __always_inline void count(__u32 hook, __u32 reason, __u64 bytes)
{
	__u32 idx = hook * EGRESS_REASON_MAX + reason;
	struct egress_counter *c = bpf_map_lookup_elem(&counters, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void count_rule(__u32 rule_id, __u64 bytes)
{
	struct egress_counter *c = bpf_map_lookup_elem(&rule_hits, &rule_id);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline bool port_listed(const __u16 *ports, __u32 n, __u16 port)
{
	if (n > EGRESS_MAX_PORTS)
		n = EGRESS_MAX_PORTS;
	for (__u32 i = 0; i < EGRESS_MAX_PORTS; i++) {
		if (i >= n)
			break;
		if (ports[i] == port)
			return true;
	}
	return false;
}

/* What one rule (static or learned) says about d: a pass or drop reason. */
static __always_inline __u32 ports_verdict(const struct dest *d, __u16 flags, const __u16 *ports,
					   __u32 nports, __u32 pass)
{
	if (flags & EGRESS_RULE_ALL_PORTS)
		return pass;
	/* A port-limited rule cannot vouch for a packet without a port. */
	if (!d->has_port)
		return EGRESS_DROP_NO_PORT;
	return port_listed(ports, nports, d->dport) ? pass : EGRESS_DROP_PORT;
}

/* Fold ::ffff:a.b.c.d into IPv4: that is what the kernel puts on the wire. */
static __always_inline void dest_set_v6(struct dest *d, const __u32 *ip6)
{
	if (ip6[0] == 0 && ip6[1] == 0 && ip6[2] == bpf_htonl(0x0000ffff)) {
		d->family = 4;
		d->addr.v4 = ip6[3];
		return;
	}
	d->family = 6;
	__builtin_memcpy(d->addr.v6, ip6, 16);
}

static __always_inline bool is_loopback(const struct dest *d)
{
	if (d->family == 4)
		return (bpf_ntohl(d->addr.v4) >> 24) == 127;

	const __u32 *w = (const __u32 *)d->addr.v6;

	return w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == bpf_htonl(1);
}

/* An address as a 16-byte key, IPv4 mapped (resolvers, local_addrs). */
static __always_inline void addr_key(__u8 key[16], const struct dest *d)
{
	if (d->family == 4) {
		__builtin_memset(key, 0, 10);
		key[10] = 0xff;
		key[11] = 0xff;
		__builtin_memcpy(&key[12], &d->addr.v4, 4);
	} else {
		__builtin_memcpy(key, d->addr.v6, 16);
	}
}

static __always_inline bool is_local_addr(const struct dest *d)
{
	struct egress_addr_key k;

	addr_key(k.addr, d);
	return bpf_map_lookup_elem(&local_addrs, &k) != NULL;
}

static __always_inline bool is_unspecified(const struct dest *d)
{
	if (d->family == 4)
		return d->addr.v4 == 0;

	const __u32 *w = (const __u32 *)d->addr.v6;

	return (w[0] | w[1] | w[2] | w[3]) == 0;
}

/*
 * The longest allowlist prefix holding d, or NULL: the exact hash first
 * (nothing is longer than /32 or /128), then the trie of shorter ones.
 */
static __always_inline const struct egress_rule *allow_lookup(const struct dest *d)
{
	const struct egress_rule *r;

	if (d->family == 4) {
		struct egress_v4_key k = { .prefixlen = 32, .addr = d->addr.v4 };

		if (exact_v4_used) {
			r = bpf_map_lookup_elem(&exact_v4, &k.addr);
			if (r)
				return r;
		}
		return prefix_v4_used ? bpf_map_lookup_elem(&allow_v4, &k) : NULL;
	}

	struct egress_v6_key k = { .prefixlen = 128 };

	__builtin_memcpy(k.addr, d->addr.v6, 16);
	if (exact_v6_used) {
		r = bpf_map_lookup_elem(&exact_v6, k.addr);
		if (r)
			return r;
	}
	return prefix_v6_used ? bpf_map_lookup_elem(&allow_v6, &k) : NULL;
}

/* An unexpired learned entry for d's address, or NULL. */
static __always_inline const struct egress_learned *learned_lookup(const struct dest *d)
{
	const struct egress_learned *l;

	if (d->family == 4) {
		__be32 k = d->addr.v4;

		l = bpf_map_lookup_elem(&learned_v4, &k);
	} else {
		struct egress_addr_key k;

		__builtin_memcpy(k.addr, d->addr.v6, 16);
		l = bpf_map_lookup_elem(&learned_v6, &k);
	}
	/* Read once: the proxy may refresh the entry under us. */
	if (l && bpf_ktime_get_ns() < *(volatile const __u64 *)&l->expires_ns)
		return l;
	return NULL;
}

static __always_inline bool is_resolver(const struct dest *d)
{
	struct egress_resolver_key k = {};

	bool port_ok = false;

	if (!d->has_port || (d->proto != IPPROTO_UDP && d->proto != IPPROTO_TCP))
		return false;
	for (__u32 i = 0; i < EGRESS_MAX_RESOLVERS; i++) {
		if (i < nresolver_ports && resolver_ports[i] == d->dport)
			port_ok = true;
	}
	if (!port_ok)
		return false;
	addr_key(k.addr, d);
	k.port = d->dport;
	return bpf_map_lookup_elem(&resolvers, &k) != NULL;
}

/*
 * The whole policy.  Returns an enum egress_reason; reasons below
 * EGRESS_PASS_MAX_ pass.  *rule_id is set when an allowlist rule matched.
 * exempt: the socket is one of the proxy's upstreams; in proxy mode only
 * those may use the resolver rule.
 *
 * A destination passes if the static rule passes it or an unexpired
 * learned entry does; when both refuse, the static rule's reason is the
 * one reported (it is what the user wrote).
 */
static __always_inline bool loopback_port_listed(__u16 port)
{
	for (__u32 i = 0; i < EGRESS_MAX_LOOPBACK_PORTS; i++) {
		if (i >= nloopback_ports)
			break;
		if (loopback_ports[i] == port)
			return true;
	}
	return false;
}

static __always_inline bool is_proxy_addr(const struct dest *d)
{
	if (d->family == 4)
		return d->addr.v4 == bpf_htonl(LOOPBACK4) || d->addr.v4 == 0;

	const __u32 *w = (const __u32 *)d->addr.v6;

	return w[0] == 0 && w[1] == 0 && w[2] == 0 && (w[3] == bpf_htonl(1) || w[3] == 0);
}

/*
 * --loopback none|PORTS.  The socket hooks are the gate: they judge the
 * destination port alone, so a socket bound to a listed port gains
 * nothing.  The packet hook also passes a TCP/UDP packet whose SOURCE port
 * is listed: the replies of a server inside the cgroup listening on a
 * listed port, on connections the socket hooks let in (a forged source
 * port needs a raw socket, so CAP_NET_RAW).
 */
static __always_inline __u32 loopback_verdict(const struct dest *d)
{
	if (!d->via_lo)
		return EGRESS_DROP_LOOPBACK_DEV;
	if (!loopback_restricted)
		return EGRESS_PASS_LOOPBACK;
	/*
	 * egressd's proxy: its port on its own addresses only (127.0.0.1,
	 * ::1, and 0.0.0.0/:: which connect() turns into them), so another
	 * local service bound to that port on 127.0.0.2 is no way round.
	 */
	if (dns_proxy && d->has_port && d->dport == proxy_port && is_proxy_addr(d))
		return EGRESS_PASS_LOOPBACK;
	if (d->has_port && (d->proto == IPPROTO_TCP || d->proto == IPPROTO_UDP) &&
	    (loopback_port_listed(d->dport) || (d->sport && loopback_port_listed(d->sport))))
		return EGRESS_PASS_LOOPBACK;
	return EGRESS_DROP_LOOPBACK_PORT;
}

static __always_inline __u32 egress_decide(const struct dest *d, __u32 *rule_id, bool exempt)
{
	const struct egress_learned *l;
	const struct egress_rule *r;
	__u32 reason = 0;

	/* 0.0.0.0 and :: are loopback to the kernel (connect() goes to lo). */
	if (is_loopback(d) || (loopback_restricted && is_unspecified(d))) {
		/* egressd's own proxy sockets (--cgroup self) answer any client. */
		if (exempt && d->via_lo)
			return EGRESS_PASS_LOOPBACK;
		return loopback_verdict(d);
	}
	if ((!dns_proxy || exempt) && is_resolver(d))
		return EGRESS_PASS_RESOLVER;

	r = allow_lookup(d);
	if (r) {
		struct egress_rule rc;

		__builtin_memcpy(&rc, r, sizeof(rc));
		*rule_id = rc.rule_id;
		reason = ports_verdict(d, rc.flags, rc.ports, rc.nports, EGRESS_PASS_ALLOWLIST);
		if (reason == EGRESS_PASS_ALLOWLIST)
			return reason;
	}
	if (learning) {
		l = learned_lookup(d);
		if (l) {
			__u32 lr = ports_verdict(d, l->flags, l->ports, l->nports,
						 EGRESS_PASS_LEARNED);

			if (lr == EGRESS_PASS_LEARNED || !reason)
				return lr;
		}
	}
	if (reason)
		return reason;
	if (d->has_port && d->dport == DNS_PORT)
		return EGRESS_DROP_DNS;
	return EGRESS_DROP_NOT_ALLOWED;
}

/*
 * egress_decide() as a global function, so that the verifier checks it
 * once per program, on its own, instead of again inside every path of
 * the caller that reaches it (each family, each way the packet or socket
 * hook got there): it was most of what the verifier walked in egress_skb
 * and the connect/sendmsg hooks (bench/verifier.c).  Global functions
 * take only scalars before 5.12 (egressd runs on 5.8), so struct dest
 * travels as its three 64-bit words, and the verdict comes back with the
 * rule id in the upper half.
 */
__attribute__((noinline)) __u64 egress_decide_words(__u64 w0, __u64 w1, __u64 w2, __u64 exempt)
{
	__u64 w[3] = { w0, w1, w2 };
	__u32 rule_id = ~0U, reason;
	struct dest d;

	__builtin_memcpy(&d, w, sizeof(d));
	reason = egress_decide(&d, &rule_id, exempt != 0);
	return (__u64)rule_id << 32 | reason;
}

/* egress_decide(), through egress_decide_words(). */
static __always_inline __u32 decide(const struct dest *d, __u32 *rule_id, bool exempt)
{
	__u64 w[3], r;

	_Static_assert(sizeof(struct dest) == sizeof(w), "struct dest is three words");
	__builtin_memcpy(w, d, sizeof(w));
	r = egress_decide_words(w[0], w[1], w[2], exempt);
	*rule_id = (__u32)(r >> 32);
	return (__u32)r;
}

static __always_inline void emit(const struct dest *d, __u32 hook, __u32 reason,
				 __u32 pid, __u32 uid, bool with_comm)
{
	struct egress_event *e;

	if (!emit_events)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&events_lost, &zero);

		if (lost)
			(*lost)++;
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid;
	e->uid = uid;
	__builtin_memset(e->comm, 0, sizeof(e->comm));
	if (with_comm)
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->hook = hook;
	e->reason = reason;
	e->proto = d->proto;
	e->family = d->family;
	e->dport = d->has_port ? d->dport : 0;
	e->flags = audit_mode ? EGRESS_EVENT_AUDIT : 0;
	e->pad = 0;
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	if (d->family == 4)
		__builtin_memcpy(e->daddr, &d->addr.v4, 4);
	else
		__builtin_memcpy(e->daddr, d->addr.v6, 16);
	bpf_ringbuf_submit(e, 0);
}

/* ---- cgroup_skb/egress: the packet backstop ---- */

/*
 * Direct packet access (issue 10).  A cgroup_skb program may read the
 * packet itself between skb->data and skb->data_end, its linear part,
 * which at this hook starts at the IP header: kernel 5.0 allowed it with
 * CAP_SYS_ADMIN, 5.8 with CAP_BPF, so within egressd's floor.  Copying a
 * header from there with a few loads instead of a bpf_skb_load_bytes()
 * call saves about 6 ns a header, for every header the stack built in the
 * linear part, which is every header it sends.  A header not there (a
 * non-linear skb) or not there at all (a short packet) is copied with
 * bpf_skb_load_bytes() as before, so whatever a failed read refuses is
 * still refused.
 *
 * Copied, not read in place: the bytes land in the stack buffer the
 * helper would fill, and all the parsing after it is one piece of code,
 * so the verifier walks it once instead of once per way in (reading in
 * place made the verifier walk the rest of the program twice).
 *
 * Only at constant offsets: without CAP_PERFMON (Docker's --cap-add BPF)
 * the verifier refuses a packet pointer plus a variable ("pointer
 * arithmetic with it prohibited for !root").  So the IP header, and the
 * ports right after a bare IPv4 or IPv6 header, are copied directly;
 * what follows IPv4 options or IPv6 extension headers, whose length the
 * packet says, is rare and keeps bpf_skb_load_bytes().  The copies are
 * up to 8 bytes wide and unaligned, which x86-64 and arm64 load at full
 * speed (where the kernel demands aligned packet reads, the verifier
 * would refuse the program at load: egressd would not start, never pass
 * packets unchecked).
 */

/*
 * Tests only (tests/bpf/test_packets.c, through loader_config's
 * test_copy_headers): copy every header with bpf_skb_load_bytes(), as
 * for a non-linear skb, which test_run cannot build.  The verdict is the
 * same either way; only the cost differs.  egressd never sets it.
 */
const volatile bool copy_headers = false;

/*
 * Copy packet bytes [off, off + len) into buf (8-byte aligned, len a
 * multiple of 4), off and len constants.  0, or non-zero when the packet
 * is shorter.
 */
static __always_inline int skb_copy(struct __sk_buff *skb, __u32 off, void *buf, __u32 len)
{
	const __u8 *data = (const __u8 *)(long)skb->data;
	const __u8 *end = (const __u8 *)(long)skb->data_end;

	if (!copy_headers && data + off + len <= end) {
		__builtin_memcpy((__u64 *)buf, (const __u64 *)(data + off), len);
		return 0;
	}
	return bpf_skb_load_bytes(skb, off, buf, len);
}

static __always_inline void set_ports(struct dest *d, const __be16 *ports)
{
	d->sport = bpf_ntohs(ports[0]);
	d->dport = bpf_ntohs(ports[1]);
	d->has_port = 1;
}

/* The L4 ports at a constant offset: copied directly when linear. */
static __always_inline int read_ports(struct __sk_buff *skb, __u32 off, struct dest *d)
{
	__be16 ports[2] __attribute__((aligned(8)));

	if (skb_copy(skb, off, ports, sizeof(ports)))
		return -1;
	set_ports(d, ports);
	return 0;
}

/* The L4 ports at an offset the packet gave: always the helper. */
static __always_inline int load_ports(struct __sk_buff *skb, __u32 off, struct dest *d)
{
	__be16 ports[2];

	if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
		return -1;
	set_ports(d, ports);
	return 0;
}

static __always_inline bool l4_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/*
 * Walk an IPv4 option list (opts holds len <= 40 bytes, zero-padded to
 * 64).  With LSRR or SSRR the header's daddr is only the first hop: the
 * route in the option names where the packet really goes, and judging
 * the whole route would mean trusting every hop, so such packets drop, as
 * IPv6 routing headers do.  Returns 0, EGRESS_DROP_SRCROUTE, or
 * EGRESS_DROP_MALFORMED for a list the kernel itself would never build.
 *
 * Every read is at a constant offset: a loader without CAP_PERFMON (Docker's
 * --cap-add BPF alone) may not index the stack with a variable.  So the
 * walk visits each of the 40 positions in turn, unrolled, and looks only
 * at the one where the next option starts.
 */
#define OPT_GO_ON 0xffffffffu

/* Position i (a constant) of the walk: OPT_GO_ON, or the verdict. */
static __always_inline __u32 opt_step(const __u8 *opts, __u32 len, __u32 i, __u32 *next)
{
	__u8 type, olen;

	if (i >= len)
		return 0;
	if (i != *next)
		return OPT_GO_ON;
	type = opts[i];
	if (type == IPOPT_END)
		return 0;
	if (type == IPOPT_NOOP) {
		*next = i + 1;
		return OPT_GO_ON;
	}
	if (type == IPOPT_LSRR || type == IPOPT_SSRR)
		return EGRESS_DROP_SRCROUTE;
	if (i + 1 >= len)
		return EGRESS_DROP_MALFORMED;
	olen = opts[i + 1];
	if (olen < 2)
		return EGRESS_DROP_MALFORMED;
	*next = i + olen;
	return OPT_GO_ON;
}

/* Written out by hand: clang 14 will not unroll a loop with these exits. */
#define OPT_STEP(i)                                              \
	do {                                                     \
		__u32 v_ = opt_step(opts, len, (i), &next);      \
		if (v_ != OPT_GO_ON)                             \
			return v_;                               \
	} while (0)
#define OPT_STEP8(b)                                                              \
	OPT_STEP(b); OPT_STEP(b + 1); OPT_STEP(b + 2); OPT_STEP(b + 3);           \
	OPT_STEP(b + 4); OPT_STEP(b + 5); OPT_STEP(b + 6); OPT_STEP(b + 7)

/*
 * Not inlined: 40 unrolled steps would crowd the frame of whichever
 * program holds them past the 512-byte stack.
 */
static __attribute__((noinline)) __u32 ipv4_opts_verdict(const __u8 *opts, __u32 len)
{
	__u32 next = 0;

	_Static_assert(IPV4_MAX_OPTLEN == 40, "the walk below covers 40 positions");
	OPT_STEP8(0);
	OPT_STEP8(8);
	OPT_STEP8(16);
	OPT_STEP8(24);
	OPT_STEP8(32);
	return 0;
}

/*
 * A global function: the verifier checks it once on its own, instead of
 * walking the option list again inside every path of egress_skb.
 */
__attribute__((noinline)) int check_v4_options(struct __sk_buff *skb, __u32 optlen)
{
	__u8 opts[64] = {};
	__u32 len = optlen & 63;

	if (len != optlen || len == 0 || len > IPV4_MAX_OPTLEN)
		return EGRESS_DROP_MALFORMED;
	/* Keep the bounded copy in the register the helper gets. */
	asm volatile("" : "+r"(len));
	len &= 63;
	if (len == 0)
		return EGRESS_DROP_MALFORMED;
	if (bpf_skb_load_bytes(skb, sizeof(struct iphdr), opts, len))
		return EGRESS_DROP_MALFORMED;
	return ipv4_opts_verdict(opts, len);
}

/* Where local_addrs is in force, a packet's source must be ours. */
static __always_inline __u32 check_v4_source(__be32 saddr, bool via_lo)
{
	struct dest s = { .family = 4, .via_lo = via_lo };

	if (!check_source)
		return 0;
	s.addr.v4 = saddr;
	if ((is_loopback(&s) && via_lo) || is_local_addr(&s))
		return 0;
	return EGRESS_DROP_SPOOF;
}

static __always_inline __u32 check_v6_source(const struct in6_addr *saddr, bool via_lo)
{
	struct dest s = { .family = 6, .via_lo = via_lo };

	if (!check_source)
		return 0;
	__builtin_memcpy(s.addr.v6, saddr, 16);
	if ((is_loopback(&s) && via_lo) || is_local_addr(&s))
		return 0;
	return EGRESS_DROP_SPOOF;
}

/* Returns 0 or a DROP reason. */
static __always_inline __u32 parse_v4(struct __sk_buff *skb, struct dest *d)
{
	struct iphdr iph __attribute__((aligned(8)));
	__u32 hlen, reason;

	if (skb_copy(skb, 0, &iph, sizeof(iph)))
		return EGRESS_DROP_MALFORMED;
	if (iph.version != 4 || iph.ihl < 5)
		return EGRESS_DROP_MALFORMED;
	d->family = 4;
	d->proto = iph.protocol;
	d->addr.v4 = iph.daddr;
	reason = check_v4_source(iph.saddr, d->via_lo);
	if (reason)
		return reason;
	/* Options are rare (the kernel sends them only when asked). */
	if (iph.ihl > 5) {
		reason = check_v4_options(skb, iph.ihl * 4 - sizeof(iph));
		if (reason)
			return reason;
	}
	/*
	 * A non-first fragment carries no L4 header; it is decided on the
	 * address alone, so only an all-ports rule lets it through.
	 */
	if (bpf_ntohs(iph.frag_off) & IP_OFFSET)
		return 0;
	if (!l4_has_ports(iph.protocol))
		return 0;
	hlen = iph.ihl * 4;
	/* A first fragment too short to hold the ports is a tiny-fragment trick. */
	if (hlen == sizeof(iph) ? read_ports(skb, sizeof(iph), d) : load_ports(skb, hlen, d))
		return EGRESS_DROP_MALFORMED;
	return 0;
}

/* The IPv6 extension headers (RFC 8200 and the IANA list), ESP aside. */
static __always_inline bool ipv6_is_exthdr(__u8 h)
{
	return h == NEXTHDR_HOP || h == NEXTHDR_ROUTING || h == NEXTHDR_FRAGMENT ||
	       h == NEXTHDR_AUTH || h == NEXTHDR_DEST || h == 135 /* mobility */ ||
	       h == 139 /* HIP */ || h == 140 /* shim6 */ || h == 253 || h == 254;
}

/*
 * The IPv6 extension-header walk, as a global function: the verifier
 * checks it once on its own, and egress_skb sees one result, not one
 * state per way out of the walk, each of which it would follow through
 * the whole decision.  A global function may take only the context and
 * scalars and return a scalar (kernel 5.6+; pointers to memory only
 * from 5.12), so the result comes back packed: WALK_* below.
 */
#define WALK_SPORT 16	      /* bits 0-15 the destination port, 16-31 the source port */
#define WALK_PROTO 32	      /* bits 32-39 the upper-layer protocol (or the header judged) */
#define WALK_HAS_PORT (1ull << 40)
#define WALK_REASON 48	      /* bits 48-55: 0 or a DROP reason */

static __always_inline __u64 walk_result(__u32 reason, __u8 proto)
{
	return (__u64)reason << WALK_REASON | (__u64)proto << WALK_PROTO;
}

/* nexthdr: the IPv6 header's Next Header; the chain starts at byte 40. */
__attribute__((noinline)) __u64 walk_v6_exthdrs(struct __sk_buff *skb, __u32 nexthdr)
{
	__u32 off = sizeof(struct ipv6hdr);
	__be16 ports[2];

	nexthdr &= 0xff;

	/*
	 * Unrolled: a loader without CAP_PERFMON (Docker's --cap-add BPF
	 * alone) gets Spectre v1 path simulation, and a loop counter the
	 * verifier tracks exactly then runs on past the bound down every
	 * mispredicted exit until "the sequence of 8193 jumps is too
	 * complex".  Straight-line copies have no back edge to follow.
	 */
#pragma unroll
	for (int i = 0; i < EGRESS_MAX_EXTHDRS; i++) {
		struct {
			__u8 nexthdr;
			__u8 hdrlen;
			__be16 frag_off; /* fragment header only */
		} eh;

		switch (nexthdr) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
			if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
				return walk_result(EGRESS_DROP_MALFORMED, nexthdr);
			return walk_result(0, nexthdr) | WALK_HAS_PORT |
			       (__u64)bpf_ntohs(ports[0]) << WALK_SPORT | bpf_ntohs(ports[1]);
		case NEXTHDR_HOP:
		case NEXTHDR_DEST:
			if (bpf_skb_load_bytes(skb, off, &eh, 2))
				return walk_result(EGRESS_DROP_MALFORMED, 0);
			off += (eh.hdrlen + 1) * 8;
			nexthdr = eh.nexthdr;
			break;
		case NEXTHDR_AUTH:
			if (bpf_skb_load_bytes(skb, off, &eh, 2))
				return walk_result(EGRESS_DROP_MALFORMED, 0);
			off += (eh.hdrlen + 2) * 4;
			nexthdr = eh.nexthdr;
			break;
		case NEXTHDR_ROUTING:
			/*
			 * The header's daddr is only the next hop; the real
			 * destination is in the segment list.  Judging it
			 * would mean walking an attacker-sized list, so drop.
			 */
			return walk_result(EGRESS_DROP_IPV6_RTHDR, nexthdr);
		case NEXTHDR_FRAGMENT:
			if (bpf_skb_load_bytes(skb, off, &eh, 4))
				return walk_result(EGRESS_DROP_MALFORMED, 0);
			/* Later fragments: no L4 header, as for IPv4. */
			if (bpf_ntohs(eh.frag_off) & IP6_OFFSET)
				return walk_result(0, eh.nexthdr);
			off += 8;
			nexthdr = eh.nexthdr;
			break;
		default:
			/* ICMPv6, ESP, no-next-header, anything else: no port. */
			return walk_result(0, nexthdr);
		}
	}
	/*
	 * Chain longer than we walk.  Still inside extension headers: one
	 * of those left could be a routing header whose segment list names
	 * the real destination, and no kernel builds such a chain for an
	 * ordinary sender, so drop.  At an upper-layer header we did not
	 * read: the packet has no port we trust; only all-ports rules pass.
	 */
	if (ipv6_is_exthdr(nexthdr))
		return walk_result(EGRESS_DROP_MALFORMED, nexthdr);
	return walk_result(0, nexthdr);
}

static __always_inline __u32 parse_v6(struct __sk_buff *skb, struct dest *d)
{
	struct ipv6hdr ip6h __attribute__((aligned(8)));
	__u32 reason;
	__u8 nexthdr;
	__u64 r;

	if (skb_copy(skb, 0, &ip6h, sizeof(ip6h)))
		return EGRESS_DROP_MALFORMED;
	if (ip6h.version != 6)
		return EGRESS_DROP_MALFORMED;
	dest_set_v6(d, (const __u32 *)&ip6h.daddr);
	/*
	 * An IPv6 packet to ::ffff:a.b.c.d: the kernel's sockets send IPv4
	 * for a mapped destination, so only a raw socket builds this, and it
	 * is not a packet to a.b.c.d: never judge it by the IPv4 allowlist.
	 */
	if (d->family == 4)
		return EGRESS_DROP_MALFORMED;
	reason = check_v6_source(&ip6h.saddr, d->via_lo);
	if (reason)
		return reason;
	nexthdr = ip6h.nexthdr;
	/* The usual packet: no extension header, the ports at a constant offset. */
	if (l4_has_ports(nexthdr)) {
		d->proto = nexthdr;
		if (read_ports(skb, sizeof(ip6h), d))
			return EGRESS_DROP_MALFORMED;
		return 0;
	}

	r = walk_v6_exthdrs(skb, nexthdr);
	d->proto = (__u8)(r >> WALK_PROTO);
	if (r & WALK_HAS_PORT) {
		d->sport = (__u16)(r >> WALK_SPORT);
		d->dport = (__u16)r;
		d->has_port = 1;
	}
	return (__u8)(r >> WALK_REASON);
}

static __always_inline bool is_exempt(__u64 cookie)
{
	return cookie && bpf_map_lookup_elem(&exempt, &cookie) != NULL;
}

static __always_inline bool dest_equal(const struct dest *a, const struct dest *b)
{
	const __u32 *x = (const __u32 *)a->addr.v6, *y = (const __u32 *)b->addr.v6;

	if (a->family != b->family || a->proto != b->proto || a->has_port != b->has_port ||
	    a->via_lo != b->via_lo || a->dport != b->dport)
		return false;
	if (a->family == 4)
		return a->addr.v4 == b->addr.v4;
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/*
 * The per-socket verdict cache.  Only allowlist and learned passes are
 * cached: they are the costly lookups, and the learned one is the verdict
 * that must not change under a flow (an expiring address must not cut a
 * TCP stream it let start).  Loopback and resolver verdicts depend on the
 * device and on the exempt set, so they are decided per packet.  A deny is
 * never cached.  The whole struct dest is the key, via_lo included: a
 * socket that changes device (IP_UNICAST_IF after connect) or sends to
 * another address (sendto on a connected UDP socket) is decided afresh.
 *
 * Everything parse_v4/parse_v6 refuse (malformed headers, IPv4 source
 * routes, which an IP_RETOPTS cmsg can add to any one send, IPv6 routing
 * headers, forged sources) is refused before this is consulted.
 *
 * The socket hooks seed it too (sock_seed(): connect4/6, sendmsg4/6), on
 * a static allowlist pass only, so that a socket's first packet hits.
 * Why a seeded verdict cannot pass a
 * packet the packet hook would drop: it is used only for a packet whose
 * parsed dest equals it field for field, and for such a dest the packet
 * hook's own decision is the same one.  egress_decide() gives an
 * allowlist or learned pass from family, address, protocol, has_port and
 * port alone; via_lo and the exempt set only steer loopback and resolver
 * verdicts, which are never seeded.  So a seed can only differ from the
 * packet hook's decision in WHEN the maps were read, not in what:
 *  - DNAT in the namespace (nat OUTPUT runs before this hook), policy
 *    routing: the packet carries the translated address or leaves by
 *    another device; a different address misses, and a device change
 *    alone does not change an allowlist verdict;
 *  - IP_UNICAST_IF / SO_BINDTODEVICE after connect: the device only;
 *  - sendto() on a connected UDP socket: sendmsg decides (and reseeds)
 *    that address first; send() to the connected address then misses the
 *    newer seed and is decided afresh;
 *  - TCP Fast Open: sendto(MSG_FASTOPEN) goes through connect4/6 like a
 *    connect(), so the SYN with data carries the judged address;
 *  - connect(AF_UNSPEC) then connect(B): the kernel runs no hook for the
 *    disconnect; connect(B) decides B and reseeds only if B passes (else
 *    EPERM, and the old seed names an address the socket no longer has:
 *    sending there again goes through sendmsg, which decides again);
 *  - learned addresses that expire: never seeded.  A connected UDP
 *    socket, or one corked with MSG_MORE (whose later sends run no socket
 *    hook), may send its first datagram after the expiry; that datagram
 *    is judged here, like any unseeded one, and refused.  A flow counts
 *    as started at its first packet, as without the seed;
 *  - DNS redirected to the proxy: dns_redirect() returns before any
 *    decision, so nothing is seeded; the packets carry the proxy's
 *    loopback address and are judged per packet, as loopback always is;
 *  - a socket passed to another cgroup (SCM_RIGHTS): the hooks that run
 *    and this map are chosen by the socket's own cgroup, set when it was
 *    created, the same for both hooks, whoever sends;
 *  - IPv4-mapped IPv6: both hooks fold it into family 4, which is what
 *    the packet carries, so it hits; a v6 packet never matches a v4 seed.
 * Another sock_addr program after ours that rewrites the address makes
 * the packet miss, as DNAT does.
 */
static __always_inline struct bpf_sock *skb_fullsock(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	return sk ? bpf_sk_fullsock(sk) : NULL;
}

SEC("cgroup_skb/egress")
int egress_skb(struct __sk_buff *skb)
{
	struct dest d = { .via_lo = skb->ifindex == LOOPBACK_IFINDEX };
	__u32 rule_id = 0, reason;
	struct bpf_sock *sk = NULL;
	bool exempt = false, cacheable;
	struct verdict *v;

	if (skb->protocol == bpf_htons(ETH_P_IP))
		reason = parse_v4(skb, &d);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		reason = parse_v6(skb, &d);
	else
		reason = EGRESS_DROP_NOT_IP;

	/*
	 * TCP and UDP sockets only: every destination of theirs passed a
	 * socket hook (connect, or sendmsg with its address) before this
	 * cache can see it.  A ping or raw socket's sendto() runs no socket
	 * hook, so this hook is
	 * its only judge, and the cache is written without a lock: two
	 * threads pinging two allowed IPv6 addresses at once could leave an
	 * entry torn between them that a third address matches.
	 */
	cacheable = d.proto == IPPROTO_TCP || d.proto == IPPROTO_UDP;
	if (!reason && verdict_cache && cacheable) {
		sk = skb_fullsock(skb);
		/* A raw socket's TCP/UDP packets met no socket hook either. */
		if (sk && sk->type == SOCK_RAW)
			sk = NULL;
		v = sk ? bpf_sk_storage_get(&verdicts, sk, NULL, 0) : NULL;
		if (v && dest_equal(&v->d, &d)) {
			/* Counted as what it was cached as: --stats reads the same. */
			reason = v->reason;
			if (reason == EGRESS_PASS_ALLOWLIST)
				count_rule(v->rule_id, skb->len);
			count(EGRESS_HOOK_SKB, reason, skb->len);
			return PASS;
		}
	}
	if (!reason) {
		rule_id = ~0U;
		/*
		 * Only packets to a resolver, and under a loopback port list
		 * packets on lo (the proxy's answers: see sock_verdict()),
		 * pay for the exempt lookup.
		 */
		if (dns_proxy && (is_resolver(&d) || (loopback_restricted && d.via_lo && is_loopback(&d))))
			exempt = is_exempt(bpf_get_socket_cookie(skb));
		reason = decide(&d, &rule_id, exempt);
		if (rule_id != ~0U && reason == EGRESS_PASS_ALLOWLIST)
			count_rule(rule_id, skb->len);
		if (verdict_cache && cacheable && sk &&
		    (reason == EGRESS_PASS_ALLOWLIST || reason == EGRESS_PASS_LEARNED)) {
			v = bpf_sk_storage_get(&verdicts, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
			if (v) {
				v->d = d;
				v->reason = reason;
				v->rule_id = rule_id;
			}
		}
	}
	count(EGRESS_HOOK_SKB, reason, skb->len);
	if (reason < EGRESS_PASS_MAX_)
		return PASS;
	/* No process context here; the socket's owner is what we can name. */
	emit(&d, EGRESS_HOOK_SKB, reason, 0, bpf_get_socket_uid(skb), false);
	return audit_mode ? PASS : DROP;
}

/* ---- cgroup/connect and cgroup/sendmsg: fail fast with EPERM ---- */

/* Count, report and return the socket hooks' verdict for reason. */
static __always_inline int sock_deny(const struct dest *d, __u32 hook, __u32 reason)
{
	__u32 pid = 0;

	count(hook, reason, 0);
	if (reason < EGRESS_PASS_MAX_)
		return PASS;
	if (task_helpers)
		pid = bpf_get_current_pid_tgid() >> 32;
	emit(d, hook, reason, pid, (__u32)bpf_get_current_uid_gid(), task_helpers);
	return audit_mode ? PASS : DROP;
}

/* A socket bound to a device other than lo cannot reach loopback. */
static __always_inline bool sock_via_lo(struct bpf_sock *sk)
{
	__u32 dev = sk ? sk->bound_dev_if : 0;

	return dev == 0 || dev == LOOPBACK_IFINDEX;
}


/*
 * Proxy mode: send this DNS to the proxy instead, and remember where it
 * was meant to go.  AF_INET sockets go to 127.0.0.1, AF_INET6 sockets to
 * ::1, or to ::ffff:127.0.0.1 when they named an IPv4-mapped address (so
 * an IPV6_V6ONLY=0 socket keeps talking IPv4).  The proxy listens on both.
 */
static __always_inline int dns_redirect(struct bpf_sock_addr *ctx, const struct dest *d,
					__u32 hook, __u64 cookie, const bool is6)
{
	struct dns_orig o = {};

	/* The rewritten destination is loopback; off lo it would leave the host. */
	if (!d->via_lo)
		return sock_deny(d, hook, EGRESS_DROP_LOOPBACK_DEV);
	o.port = ctx->user_port;
	o.family = is6 ? AF_INET6 : AF_INET;
	/*
	 * is6 is a constant per program: decided on ctx->user_family, clang
	 * would merge the two sets of stores into one with a computed ctx
	 * offset, which the verifier refuses.
	 */
	if (!is6) {
		o.addr[0] = ctx->user_ip4;
	} else {
		o.addr[0] = ctx->user_ip6[0];
		o.addr[1] = ctx->user_ip6[1];
		o.addr[2] = ctx->user_ip6[2];
		o.addr[3] = ctx->user_ip6[3];
	}
	/*
	 * If this fails the answer will show the proxy as its source and the
	 * resolver library drops it: DNS fails, nothing leaks.
	 */
	bpf_map_update_elem(&dns_orig, &cookie, &o, BPF_ANY);
	if (!is6) {
		ctx->user_ip4 = bpf_htonl(LOOPBACK4);
	} else if (d->family == 4) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0x0000ffff);
		ctx->user_ip6[3] = bpf_htonl(LOOPBACK4);
	} else {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = 0;
		ctx->user_ip6[3] = bpf_htonl(1);
	}
	ctx->user_port = bpf_htons(proxy_port);
	count(hook, EGRESS_PASS_DNS_PROXY, 0);
	return PASS;
}

/* Already the proxy's own address and port: a redirect would be a no-op. */
static __always_inline bool is_proxy(const struct dest *d)
{
	return d->dport == proxy_port && is_loopback(d);
}

/*
 * Write the socket's verdict before its first packet exists, so that the
 * packet hook's first lookup hits instead of deciding again and creating
 * the storage itself (see the comment above skb_fullsock() for why this
 * cannot pass a packet the packet hook would drop).  The dest is the one
 * the packet hook will compute for this socket's packets to d: the same
 * family (mapped IPv6 already folded into 4, as on the wire), protocol,
 * port and address, and via_lo as skb->ifindex will give it, not as
 * sock_via_lo() does: a destination that can pass the allowlist is never
 * loopback, so its packets leave through another device (via_lo 0)
 * unless the socket is bound to lo.  Where that guess is wrong (a local
 * address of the namespace, which routes through lo) the packet hook
 * misses and decides afresh; so does 0.0.0.0 under an allow-all rule,
 * whose packets carry 127.0.0.1.
 */
static __always_inline void sock_seed(struct bpf_sock_addr *ctx, const struct dest *d,
				      __u32 reason, __u32 rule_id)
{
	struct bpf_sock *sk = ctx->sk;
	struct verdict *v;

	if (!verdict_cache || !seed_verdicts || !sk)
		return;
	/*
	 * Only the static allowlist, which never expires.  A learned pass
	 * is left to the first packet: a connected UDP socket, or one corked
	 * with MSG_MORE (whose later sends run no socket hook), may send its
	 * first datagram after the address expired, and must then be refused
	 * as an unseeded socket is.
	 */
	if (reason != EGRESS_PASS_ALLOWLIST)
		return;
	v = bpf_sk_storage_get(&verdicts, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!v)
		return;
	v->d = *d;
	v->d.via_lo = sk->bound_dev_if == LOOPBACK_IFINDEX;
	v->d.sport = 0;
	v->reason = reason;
	v->rule_id = rule_id;
}

static __always_inline int sock_verdict(struct bpf_sock_addr *ctx, struct dest *d, __u32 hook,
					const bool is6)
{
	__u32 rule_id = ~0U, reason;
	bool exempt = false;

	d->proto = ctx->protocol;
	d->via_lo = sock_via_lo(ctx->sk);
	/* Ping sockets connect too: only TCP and UDP have a port to judge. */
	if (d->proto == IPPROTO_TCP || d->proto == IPPROTO_UDP) {
		d->dport = bpf_ntohs(ctx->user_port);
		d->has_port = 1;
	}
	/*
	 * Port 53 anywhere (a hard-coded 8.8.8.8, a stub on 127.0.0.53) and
	 * the configured resolvers on their own ports all go to the proxy,
	 * unless this is one of the proxy's upstream sockets.
	 */
	if (dns_proxy && d->has_port && (d->dport == DNS_PORT || is_resolver(d)) && !is_proxy(d)) {
		__u64 cookie = bpf_get_socket_cookie(ctx);

		exempt = is_exempt(cookie);
		if (!exempt)
			return dns_redirect(ctx, d, hook, cookie, is6);
	}
	/*
	 * The proxy's answers to a client on loopback (--cgroup self, where
	 * egressd's own sockets are filtered too): under --loopback none or
	 * PORTS the client's port is listed nowhere, and only the exempt
	 * set says these are egressd's.
	 */
	if (!exempt && dns_proxy && loopback_restricted && is_loopback(d))
		exempt = is_exempt(bpf_get_socket_cookie(ctx));
	reason = decide(d, &rule_id, exempt);
	sock_seed(ctx, d, reason, rule_id);
	return sock_deny(d, hook, reason);
}

/*
 * A source address for a bind, or for one sendmsg (IP_PKTINFO): the
 * unspecified address, loopback or one of ours.  Only consulted where
 * check_source is set; otherwise the kernel refuses the rest itself.
 */
static __always_inline bool source_ok(const struct dest *s)
{
	return is_unspecified(s) || is_loopback(s) || is_local_addr(s);
}

static __always_inline int sock_v4(struct bpf_sock_addr *ctx, __u32 hook)
{
	struct dest d = { .family = 4 };

	d.addr.v4 = ctx->user_ip4;
	return sock_verdict(ctx, &d, hook, false);
}

static __always_inline int sock_v6(struct bpf_sock_addr *ctx, __u32 hook)
{
	struct dest d = {};
	__u32 ip6[4];

	/* ctx fields must be read one 32-bit word at a time. */
	ip6[0] = ctx->user_ip6[0];
	ip6[1] = ctx->user_ip6[1];
	ip6[2] = ctx->user_ip6[2];
	ip6[3] = ctx->user_ip6[3];
	dest_set_v6(&d, ip6);
	return sock_verdict(ctx, &d, hook, true);
}

SEC("cgroup/connect4")
int egress_connect4(struct bpf_sock_addr *ctx)
{
	return sock_v4(ctx, EGRESS_HOOK_CONNECT4);
}

SEC("cgroup/connect6")
int egress_connect6(struct bpf_sock_addr *ctx)
{
	return sock_v6(ctx, EGRESS_HOOK_CONNECT6);
}

/*
 * The kernel runs the sendmsg hooks for a connected UDP socket too when
 * the message carries an IP-level cmsg (IP_TOS, IP_TTL, IP_PKTINFO,
 * IPV6_TCLASS ...), with no address: user_ip and user_port are zero.  A
 * send that names an address has a non-zero port (udp_sendmsg() and
 * udpv6_sendmsg() refuse port 0 before the hook), so zero means "the
 * connected peer", which connect4/6 judged; the packet hook judges each
 * datagram as ever.  Judging 0.0.0.0:0 instead refused every such send.
 */
SEC("cgroup/sendmsg4")
int egress_sendmsg4(struct bpf_sock_addr *ctx)
{
	if (check_source) {
		struct dest s = { .family = 4 };

		s.addr.v4 = ctx->msg_src_ip4;
		if (!source_ok(&s))
			return sock_deny(&s, EGRESS_HOOK_SENDMSG4, EGRESS_DROP_SPOOF);
	}
	if (!ctx->user_ip4 && !ctx->user_port)
		return PASS;
	return sock_v4(ctx, EGRESS_HOOK_SENDMSG4);
}

SEC("cgroup/sendmsg6")
int egress_sendmsg6(struct bpf_sock_addr *ctx)
{
	if (check_source) {
		struct dest s = {};
		__u32 ip6[4];

		ip6[0] = ctx->msg_src_ip6[0];
		ip6[1] = ctx->msg_src_ip6[1];
		ip6[2] = ctx->msg_src_ip6[2];
		ip6[3] = ctx->msg_src_ip6[3];
		dest_set_v6(&s, ip6);
		if (!source_ok(&s))
			return sock_deny(&s, EGRESS_HOOK_SENDMSG6, EGRESS_DROP_SPOOF);
	}
	/* No address: the connected peer (see egress_sendmsg4()). */
	if (!ctx->user_port && !(ctx->user_ip6[0] | ctx->user_ip6[1] | ctx->user_ip6[2] |
				 ctx->user_ip6[3]))
		return PASS;
	return sock_v6(ctx, EGRESS_HOOK_SENDMSG6);
}

/*
 * ---- cgroup/recvmsg{4,6}, cgroup/getpeername{4,6}: undo the redirect ----
 *
 * A UDP answer from the proxy, or a redirected socket's peer, is shown as
 * the address the caller asked for: resolver libraries drop answers from
 * an unexpected source.  Only sockets with a dns_orig entry, and only the
 * proxy's address and port, are rewritten.  These hooks cannot refuse
 * (the kernel requires 1), and nothing here is a policy decision: without
 * them DNS through the proxy fails, it does not leak.
 */
static __always_inline const struct dns_orig *orig_of(struct bpf_sock_addr *ctx)
{
	__u64 cookie;

	if (ctx->user_port != bpf_htons(proxy_port))
		return NULL;
	cookie = bpf_get_socket_cookie(ctx);
	return bpf_map_lookup_elem(&dns_orig, &cookie);
}

static __always_inline int restore4(struct bpf_sock_addr *ctx)
{
	const struct dns_orig *o;

	if (!dns_proxy || ctx->user_ip4 != bpf_htonl(LOOPBACK4))
		return PASS;
	o = orig_of(ctx);
	if (!o)
		return PASS;
	if (o->family == AF_INET) {
		ctx->user_ip4 = o->addr[0];
	} else {
		/* Cannot happen (an AF_INET socket runs no v6 hook); be exact anyway. */
		if (o->addr[0] || o->addr[1] || o->addr[2] != bpf_htonl(0x0000ffff))
			return PASS;
		ctx->user_ip4 = o->addr[3];
	}
	ctx->user_port = o->port;
	return PASS;
}

static __always_inline int restore6(struct bpf_sock_addr *ctx)
{
	const struct dns_orig *o;
	__u32 w2 = ctx->user_ip6[2], w3 = ctx->user_ip6[3];

	if (!dns_proxy || ctx->user_ip6[0] || ctx->user_ip6[1])
		return PASS;
	/* ::1 or ::ffff:127.0.0.1, the two addresses dns_redirect() uses. */
	if (!((w2 == 0 && w3 == bpf_htonl(1)) ||
	      (w2 == bpf_htonl(0x0000ffff) && w3 == bpf_htonl(LOOPBACK4))))
		return PASS;
	o = orig_of(ctx);
	if (!o)
		return PASS;
	if (o->family == AF_INET) { /* an AF_INET6 socket's mapped sendto */
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0x0000ffff);
		ctx->user_ip6[3] = o->addr[0];
	} else {
		ctx->user_ip6[0] = o->addr[0];
		ctx->user_ip6[1] = o->addr[1];
		ctx->user_ip6[2] = o->addr[2];
		ctx->user_ip6[3] = o->addr[3];
	}
	ctx->user_port = o->port;
	return PASS;
}

SEC("cgroup/recvmsg4")
int egress_recvmsg4(struct bpf_sock_addr *ctx)
{
	return restore4(ctx);
}

SEC("cgroup/recvmsg6")
int egress_recvmsg6(struct bpf_sock_addr *ctx)
{
	return restore6(ctx);
}

SEC("cgroup/getpeername4")
int egress_getpeername4(struct bpf_sock_addr *ctx)
{
	return restore4(ctx);
}

SEC("cgroup/getpeername6")
int egress_getpeername6(struct bpf_sock_addr *ctx)
{
	return restore6(ctx);
}

/* ---- cgroup/bind4 and bind6: no non-local source under nonlocal_bind ---- */

SEC("cgroup/bind4")
int egress_bind4(struct bpf_sock_addr *ctx)
{
	struct dest s = { .family = 4 };

	if (!check_source)
		return PASS;
	s.addr.v4 = ctx->user_ip4;
	/* The kernel accepts a multicast bind (a receive filter) anyway. */
	if (source_ok(&s) || (bpf_ntohl(s.addr.v4) >> 28) == 0xe)
		return PASS;
	return sock_deny(&s, EGRESS_HOOK_BIND4, EGRESS_DROP_SPOOF);
}

SEC("cgroup/bind6")
int egress_bind6(struct bpf_sock_addr *ctx)
{
	struct dest s = {};
	__u32 ip6[4];

	if (!check_source)
		return PASS;
	ip6[0] = ctx->user_ip6[0];
	ip6[1] = ctx->user_ip6[1];
	ip6[2] = ctx->user_ip6[2];
	ip6[3] = ctx->user_ip6[3];
	dest_set_v6(&s, ip6);
	if (source_ok(&s) || (s.family == 6 && s.addr.v6[0] == 0xff) ||
	    (s.family == 4 && (bpf_ntohl(s.addr.v4) >> 28) == 0xe))
		return PASS;
	return sock_deny(&s, EGRESS_HOOK_BIND6, EGRESS_DROP_SPOOF);
}

/* ---- cgroup/setsockopt: source forging, group joins, source routes ---- */

/*
 * optval is the caller's buffer as the kernel copied it (up to a page).
 * Every read is bounds-checked against optval_end; an option we judge
 * whose bytes we cannot read is refused, never waved through.
 */
#define opt_read(ctx, off, dst, len)                                          \
	({                                                                     \
		__u8 *p_ = (ctx)->optval, *end_ = (ctx)->optval_end;           \
		__u32 off_ = (off);                                            \
		int r_ = -1;                                                   \
		if (off_ <= 4096 && p_ + off_ + (len) <= end_) {               \
			__builtin_memcpy((dst), p_ + off_, (len));             \
			r_ = 0;                                                \
		}                                                              \
		r_;                                                            \
	})

/* IP(V6)_FREEBIND/_TRANSPARENT: only turning the flag off is fine. */
static __always_inline __u32 judge_flag(struct bpf_sockopt *ctx)
{
	__u32 v = 0;

	if (ctx->optlen <= 0)
		return 0; /* the kernel rejects it */
	if (ctx->optlen >= 4) {
		if (opt_read(ctx, 0, &v, 4))
			return EGRESS_DROP_SPOOF;
	} else if (opt_read(ctx, 0, &v, 1)) {
		return EGRESS_DROP_SPOOF;
	}
	return v ? EGRESS_DROP_SPOOF : 0;
}

/* A group (or an SSM source) must be in the allowlist. */
static __always_inline __u32 judge_addr4(struct bpf_sockopt *ctx, __u32 off, struct dest *d)
{
	d->family = 4;
	if (opt_read(ctx, off, &d->addr.v4, 4))
		return EGRESS_DROP_MCAST_JOIN;
	return allow_lookup(d) ? 0 : EGRESS_DROP_MCAST_JOIN;
}

static __always_inline __u32 judge_addr6(struct bpf_sockopt *ctx, __u32 off, struct dest *d)
{
	__u32 ip6[4];

	if (opt_read(ctx, off, ip6, 16)) {
		d->family = 6;
		return EGRESS_DROP_MCAST_JOIN;
	}
	dest_set_v6(d, ip6);
	return allow_lookup(d) ? 0 : EGRESS_DROP_MCAST_JOIN;
}

/* A struct sockaddr_storage at off, as MCAST_* options carry. */
static __always_inline __u32 judge_sockaddr(struct bpf_sockopt *ctx, __u32 off, struct dest *d)
{
	__u16 family = 0;

	if (opt_read(ctx, off, &family, 2))
		return EGRESS_DROP_MCAST_JOIN;
	if (family == AF_INET)
		return judge_addr4(ctx, off + 4, d); /* sin_addr */
	if (family == AF_INET6)
		return judge_addr6(ctx, off + 8, d); /* sin6_addr */
	return EGRESS_DROP_MCAST_JOIN;
}

/* MCAST_{JOIN_SOURCE_GROUP,BLOCK_SOURCE,UNBLOCK_SOURCE}: group and source. */
static __always_inline __u32 judge_gsr(struct bpf_sockopt *ctx, struct dest *d)
{
	__u32 r = judge_sockaddr(ctx, GREQ_GROUP_OFF, d);

	return r ? r : judge_sockaddr(ctx, GREQ_SOURCE_OFF, d);
}

/*
 * The protocol-independent MCAST_* options, the same at SOL_IP and
 * SOL_IPV6 (the sockaddr says the family).  False if optname is not one.
 */
static __always_inline bool judge_mcast(struct bpf_sockopt *ctx, struct dest *d, __u32 *reason)
{
	switch (ctx->optname) {
	case MCAST_JOIN_GROUP:
		*reason = judge_sockaddr(ctx, GREQ_GROUP_OFF, d);
		return true;
	case MCAST_JOIN_SOURCE_GROUP:
	case MCAST_BLOCK_SOURCE:
	case MCAST_UNBLOCK_SOURCE:
		*reason = judge_gsr(ctx, d);
		return true;
	case MCAST_MSFILTER: /* whole source lists: not judged, refused */
		*reason = EGRESS_DROP_MCAST_JOIN;
		return true;
	}
	return false;
}

static __always_inline __u32 judge_ip_options(struct bpf_sockopt *ctx)
{
	__u8 opts[64], *p = ctx->optval, *end = ctx->optval_end;
	__u32 len = ctx->optlen;

	if (ctx->optlen <= 0)
		return 0; /* clears the options */
	if (len > IPV4_MAX_OPTLEN)
		return 0; /* the kernel rejects it (EINVAL) */
	/*
	 * One byte at a time, at constant offsets (see ipv4_opts_verdict()):
	 * without CAP_PERFMON not even p + len may be computed.  A byte of
	 * the list that cannot be read is refused.
	 *
	 * Every one of the 40 positions is written on every path, the list's
	 * bytes with themselves and the rest with 0xff (never read: the walk
	 * stops at len), so that all paths reach the walk with the same stack
	 * (every byte STACK_MISC).  Without CAP_PERFMON the verifier prunes
	 * only identical stack states: a zeroed buffer filled up to a
	 * variable length made it verify the walk once per length and
	 * readable prefix, 230 ms of a 300 ms start-up (bench/, issue 10).
	 */
#define OPT_COPY(i)                                                  \
	do {                                                         \
		if ((i) < len) {                                     \
			if (p + (i) + 1 > end)                       \
				return EGRESS_DROP_SRCROUTE;         \
			opts[i] = p[i];                              \
		} else {                                             \
			opts[i] = 0xff;                              \
		}                                                    \
	} while (0)
#define OPT_COPY8(b)                                                              \
	OPT_COPY(b); OPT_COPY(b + 1); OPT_COPY(b + 2); OPT_COPY(b + 3);           \
	OPT_COPY(b + 4); OPT_COPY(b + 5); OPT_COPY(b + 6); OPT_COPY(b + 7)
	OPT_COPY8(0);
	OPT_COPY8(8);
	OPT_COPY8(16);
	OPT_COPY8(24);
	OPT_COPY8(32);
#undef OPT_COPY8
#undef OPT_COPY
	__builtin_memset(opts + IPV4_MAX_OPTLEN, 0, sizeof(opts) - IPV4_MAX_OPTLEN);
	/* The kernel rejects a malformed list (EINVAL) by itself. */
	return ipv4_opts_verdict(opts, len) == EGRESS_DROP_SRCROUTE ? EGRESS_DROP_SRCROUTE : 0;
}

SEC("cgroup/setsockopt")
int egress_setsockopt(struct bpf_sockopt *ctx)
{
	struct dest d = { .family = 4 };
	__u32 reason = 0;
	bool judged = true;

	if (ctx->level == SOL_IP) {
		switch (ctx->optname) {
		case IP_FREEBIND:
		case IP_TRANSPARENT:
			reason = judge_flag(ctx);
			break;
		case IP_OPTIONS:
			reason = judge_ip_options(ctx);
			break;
		case IP_ADD_MEMBERSHIP: /* ip_mreq / ip_mreqn: the group first */
			reason = judge_addr4(ctx, 0, &d);
			break;
		case IP_ADD_SOURCE_MEMBERSHIP:
		case IP_BLOCK_SOURCE:
		case IP_UNBLOCK_SOURCE: /* a source list change sends a report too */
			reason = judge_addr4(ctx, 0, &d);
			if (!reason)
				reason = judge_addr4(ctx, MREQ_SOURCE_OFF, &d);
			break;
		case IP_MSFILTER: /* whole source lists: not judged, refused */
			reason = EGRESS_DROP_MCAST_JOIN;
			break;
		default:
			judged = judge_mcast(ctx, &d, &reason);
		}
	} else if (ctx->level == SOL_IPV6) {
		switch (ctx->optname) {
		case IPV6_FREEBIND:
		case IPV6_TRANSPARENT:
			reason = judge_flag(ctx);
			break;
		case IPV6_ADD_MEMBERSHIP: /* ipv6_mreq: the group first */
		case IPV6_JOIN_ANYCAST:   /* joins the solicited-node group */
			reason = judge_addr6(ctx, 0, &d);
			break;
		case IPV6_PKTINFO: {
			/*
			 * A sticky source address is not checked by the
			 * kernel when it is set: it must be ours (or ::).
			 */
			__u32 ip6[4];

			if (ctx->optlen <= 0)
				break;
			if (opt_read(ctx, 0, ip6, 16)) {
				reason = EGRESS_DROP_SPOOF;
				break;
			}
			dest_set_v6(&d, ip6);
			if (!source_ok(&d))
				reason = EGRESS_DROP_SPOOF;
			break;
		}
		default:
			judged = judge_mcast(ctx, &d, &reason);
		}
	} else {
		judged = false;
	}
	/*
	 * optlen over a page: the program judged a copy of the first page
	 * only, and since it leaves optlen alone the kernel handler then
	 * reads the caller's buffer again (kernel/bpf/cgroup.c), which
	 * another thread may have changed in between.  No judged option
	 * needs that much, so refuse rather than judge a stale copy.  (Up to
	 * a page, the kernel hands the handler the very copy judged here.)
	 */
	if (!reason && judged && ctx->optlen > 4096)
		reason = EGRESS_DROP_MALFORMED;
	if (!reason)
		return PASS;
	/* The event names the option: level in proto, optname in dport. */
	d.proto = (__u8)ctx->level;
	d.dport = (__u16)ctx->optname;
	d.has_port = 1;
	return sock_deny(&d, EGRESS_HOOK_SETSOCKOPT, reason);
}

char LICENSE[] SEC("license") = "GPL";
