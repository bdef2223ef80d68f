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
 */
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

/* IPv4 allowlist: longest prefix -> merged rule (ports, rule id). */
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
	__u16 dport; /* host byte order */
	union {
		__be32 v4;
		__u8 v6[16];
	} addr;
};

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

static __always_inline bool port_listed(const struct egress_rule *r, __u16 port)
{
	__u32 n = r->nports;

	if (n > EGRESS_MAX_PORTS)
		n = EGRESS_MAX_PORTS;
	for (__u32 i = 0; i < EGRESS_MAX_PORTS; i++) {
		if (i >= n)
			break;
		if (r->ports[i] == port)
			return true;
	}
	return false;
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
	if (d->family == 4) {
		k.addr[10] = 0xff;
		k.addr[11] = 0xff;
		__builtin_memcpy(&k.addr[12], &d->addr.v4, 4);
	} else {
		__builtin_memcpy(k.addr, d->addr.v6, 16);
	}
	k.port = d->dport;
	return bpf_map_lookup_elem(&resolvers, &k) != NULL;
}

/*
 * The whole policy.  Returns an enum egress_reason; reasons below
 * EGRESS_PASS_MAX_ pass.  *rule_id is set when an allowlist rule matched.
 */
static __always_inline __u32 egress_decide(const struct dest *d, __u32 *rule_id)
{
	const struct egress_rule *r;

	if (is_loopback(d))
		return EGRESS_PASS_LOOPBACK;
	if (is_resolver(d))
		return EGRESS_PASS_RESOLVER;

	if (d->family == 4) {
		struct egress_v4_key k = { .prefixlen = 32, .addr = d->addr.v4 };

		r = bpf_map_lookup_elem(&allow_v4, &k);
	} else {
		struct egress_v6_key k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, d->addr.v6, 16);
		r = bpf_map_lookup_elem(&allow_v6, &k);
	}

	if (r) {
		*rule_id = r->rule_id;
		if (r->flags & EGRESS_RULE_ALL_PORTS)
			return EGRESS_PASS_ALLOWLIST;
		/* A port-limited rule cannot vouch for a packet without a port. */
		if (!d->has_port)
			return EGRESS_DROP_NO_PORT;
		if (port_listed(r, d->dport))
			return EGRESS_PASS_ALLOWLIST;
		return EGRESS_DROP_PORT;
	}
	if (d->has_port && d->dport == DNS_PORT)
		return EGRESS_DROP_DNS;
	return EGRESS_DROP_NOT_ALLOWED;
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

static __always_inline int load_ports(struct __sk_buff *skb, __u32 off, struct dest *d)
{
	__be16 ports[2];

	if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
		return -1;
	d->dport = bpf_ntohs(ports[1]);
	d->has_port = 1;
	return 0;
}

static __always_inline bool l4_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* Returns 0 or a DROP reason. */
static __always_inline __u32 parse_v4(struct __sk_buff *skb, struct dest *d)
{
	struct iphdr iph;
	__u32 hlen;

	if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)))
		return EGRESS_DROP_MALFORMED;
	if (iph.version != 4 || iph.ihl < 5)
		return EGRESS_DROP_MALFORMED;
	d->family = 4;
	d->proto = iph.protocol;
	d->addr.v4 = iph.daddr;
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
	if (load_ports(skb, hlen, d))
		return EGRESS_DROP_MALFORMED;
	return 0;
}

static __always_inline __u32 parse_v6(struct __sk_buff *skb, struct dest *d)
{
	struct ipv6hdr ip6h;
	__u32 off = sizeof(ip6h);
	__u8 nexthdr;

	if (bpf_skb_load_bytes(skb, 0, &ip6h, sizeof(ip6h)))
		return EGRESS_DROP_MALFORMED;
	if (ip6h.version != 6)
		return EGRESS_DROP_MALFORMED;
	dest_set_v6(d, (const __u32 *)&ip6h.daddr);
	nexthdr = ip6h.nexthdr;

	for (int i = 0; i < EGRESS_MAX_EXTHDRS; i++) {
		struct {
			__u8 nexthdr;
			__u8 hdrlen;
			__be16 frag_off; /* fragment header only */
		} eh;

		switch (nexthdr) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
			d->proto = nexthdr;
			if (load_ports(skb, off, d))
				return EGRESS_DROP_MALFORMED;
			return 0;
		case NEXTHDR_HOP:
		case NEXTHDR_DEST:
			if (bpf_skb_load_bytes(skb, off, &eh, 2))
				return EGRESS_DROP_MALFORMED;
			off += (eh.hdrlen + 1) * 8;
			nexthdr = eh.nexthdr;
			break;
		case NEXTHDR_AUTH:
			if (bpf_skb_load_bytes(skb, off, &eh, 2))
				return EGRESS_DROP_MALFORMED;
			off += (eh.hdrlen + 2) * 4;
			nexthdr = eh.nexthdr;
			break;
		case NEXTHDR_ROUTING:
			/*
			 * The header's daddr is only the next hop; the real
			 * destination is in the segment list.  Judging it
			 * would mean walking an attacker-sized list, so drop.
			 */
			d->proto = nexthdr;
			return EGRESS_DROP_IPV6_RTHDR;
		case NEXTHDR_FRAGMENT:
			if (bpf_skb_load_bytes(skb, off, &eh, 4))
				return EGRESS_DROP_MALFORMED;
			d->proto = eh.nexthdr;
			/* Later fragments: no L4 header, as for IPv4. */
			if (bpf_ntohs(eh.frag_off) & IP6_OFFSET)
				return 0;
			off += 8;
			nexthdr = eh.nexthdr;
			break;
		default:
			/* ICMPv6, ESP, no-next-header, anything else: no port. */
			d->proto = nexthdr;
			return 0;
		}
	}
	/*
	 * Chain longer than we walk: the L4 header is out of reach, so the
	 * packet has no port we trust; only all-ports rules pass it.
	 */
	d->proto = nexthdr;
	return 0;
}

SEC("cgroup_skb/egress")
int egress_skb(struct __sk_buff *skb)
{
	struct dest d = {};
	__u32 rule_id = 0, reason;

	if (skb->protocol == bpf_htons(ETH_P_IP))
		reason = parse_v4(skb, &d);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		reason = parse_v6(skb, &d);
	else
		reason = EGRESS_DROP_NOT_IP;

	if (!reason) {
		rule_id = ~0U;
		reason = egress_decide(&d, &rule_id);
		if (rule_id != ~0U && reason < EGRESS_PASS_MAX_)
			count_rule(rule_id, skb->len);
	}
	count(EGRESS_HOOK_SKB, reason, skb->len);
	if (reason < EGRESS_PASS_MAX_)
		return PASS;
	/* No process context here; the socket's owner is what we can name. */
	emit(&d, EGRESS_HOOK_SKB, reason, 0, bpf_get_socket_uid(skb), false);
	return audit_mode ? PASS : DROP;
}

/* ---- cgroup/connect and cgroup/sendmsg: fail fast with EPERM ---- */

static __always_inline int sock_verdict(struct bpf_sock_addr *ctx, struct dest *d, __u32 hook)
{
	__u32 rule_id = ~0U, reason, pid = 0;

	d->proto = ctx->protocol;
	/* Ping sockets connect too: only TCP and UDP have a port to judge. */
	if (d->proto == IPPROTO_TCP || d->proto == IPPROTO_UDP) {
		d->dport = bpf_ntohs(ctx->user_port);
		d->has_port = 1;
	}
	reason = egress_decide(d, &rule_id);
	count(hook, reason, 0);
	if (reason < EGRESS_PASS_MAX_)
		return PASS;
	if (task_helpers)
		pid = bpf_get_current_pid_tgid() >> 32;
	emit(d, hook, reason, pid, (__u32)bpf_get_current_uid_gid(), task_helpers);
	return audit_mode ? PASS : DROP;
}

static __always_inline int sock_v4(struct bpf_sock_addr *ctx, __u32 hook)
{
	struct dest d = { .family = 4 };

	d.addr.v4 = ctx->user_ip4;
	return sock_verdict(ctx, &d, hook);
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
	return sock_verdict(ctx, &d, hook);
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

SEC("cgroup/sendmsg4")
int egress_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_v4(ctx, EGRESS_HOOK_SENDMSG4);
}

SEC("cgroup/sendmsg6")
int egress_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_v6(ctx, EGRESS_HOOK_SENDMSG6);
}

char LICENSE[] SEC("license") = "GPL";
