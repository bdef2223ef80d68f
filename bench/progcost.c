// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/progcost.c: what egress_skb costs per packet, through
 * bpf_prog_test_run_opts, above an empty cgroup_skb program (the floor,
 * bench/noop.bpf.o) run the same way.  Also times "file to filled maps".
 *
 *   progcost [--calls N] [--hot N] NOOP.bpf.o FILE...
 *
 * For each allowlist FILE: policy_add_file() + policy_compile() +
 * loader_load(), exactly as `egressd run` builds its filter (DNS proxy and
 * learning on, so the per-socket verdict cache is on), and once more with
 * the cache off (learning off).  The packets are UDP, v4 and v6 in the
 * file's proportion, each to an address inside a different rule, so the
 * lookups rotate over the allowlist instead of hitting one hot address.
 * Cases, each as ns/packet above the no-op program run the same way:
 *
 *   first     cache on, repeat 1 per call, rotating:  a new flow's first
 *             packet (test_run gives each call a fresh dummy socket, so
 *             this includes creating the socket's verdict)
 *   decide    cache off, repeat 1 per call, rotating: the decision alone
 *   estab     cache on, the same packet repeated (--hot times) on one
 *             socket: every packet after the first is a cached verdict,
 *             i.e. an established flow
 *   hot       cache off, one destination repeated --hot times
 *   first_exact, decide_exact
 *             as first and decide, rotating over the file's /32 and /128
 *             rules only (what domains resolve to: the exact hashes);
 *             null when the file has none
 *
 * and, per file, parse_ms (read + compile), load_ms (loader_load) and
 * fill_ms (loader_load minus loader_load of a four-rule list, one in
 * each allowlist map: the map fill.  Not an empty list: that leaves the
 * allowlist maps unused, the verifier then skips their branches, and the
 * difference would count verification as fill).  Prints one JSON object per file on stdout.  Needs root; runs in
 * a network namespace of its own with a veth device (test_run sends the
 * packets "out of" it, as a real egress hook sees them).
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchutil.h"
#include "egress.skel.h"
#include "loader.h"
#include "log.h"
#include "policy.h"

#define MAX_PKTS 4096
#define LOADS 7
#define PKT_LEN (14 + 40 + 8 + 16)

struct pkt {
	uint8_t b[PKT_LEN];
	uint32_t len;
};

static int ifindex;

static void pkt_build(struct pkt *p, const struct addr *dst, uint32_t salt)
{
	uint8_t *ip = p->b + 14, *udp;
	uint16_t tot;

	memset(p, 0, sizeof(*p));
	p->b[0] = 0x02;
	p->b[6] = 0x02;
	if (dst->family == AF_INET) {
		p->b[12] = ETH_P_IP >> 8;
		p->b[13] = ETH_P_IP & 0xff;
		ip[0] = 0x45;
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		inet_pton(AF_INET, "198.51.100.2", ip + 12);
		memcpy(ip + 16, dst->bytes, 4);
		udp = ip + 20;
		p->len = 14 + 20 + 8 + 16;
		tot = htons((uint16_t)(p->len - 14));
		memcpy(ip + 2, &tot, 2);
	} else {
		p->b[12] = ETH_P_IPV6 >> 8;
		p->b[13] = ETH_P_IPV6 & 0xff;
		ip[0] = 0x60;
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		inet_pton(AF_INET6, "2001:db8::2", ip + 8);
		memcpy(ip + 24, dst->bytes, 16);
		udp = ip + 40;
		p->len = PKT_LEN;
		tot = htons(8 + 16);
		memcpy(ip + 4, &tot, 2);
	}
	udp[0] = 0xc3; /* sport 50000 + salt, dport 5201 */
	udp[1] = (uint8_t)(0x50 + (salt & 0x7f));
	udp[2] = 5201 >> 8;
	udp[3] = 5201 & 0xff;
	udp[5] = 24;
}

/* An address inside r: its prefix with pseudo-random host bits. */
static void addr_in_rule(const struct rule *r, uint32_t seed, struct addr *out)
{
	int bits = r->addr.family == AF_INET ? 32 : 128;

	*out = r->addr;
	for (int i = r->prefixlen; i < bits; i++) {
		seed = seed * 1103515245u + 12345u;
		if (seed & 0x10000)
			out->bytes[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	}
	/* Never .0 or .255 on a /24-or-wider: keeps the packet ordinary. */
	if (r->addr.family == AF_INET && r->prefixlen <= 24)
		out->bytes[3] = (uint8_t)(1 + (out->bytes[3] % 254));
}

/* Mean ns per run of prog over the packets: calls calls, repeat each. */
static int run_cost(int prog, const struct pkt *pkts, size_t npkts, unsigned long calls,
		    unsigned int repeat, double *ns)
{
	struct __sk_buff ctx = { .ifindex = (__u32)ifindex };
	double sum = 0;

	for (unsigned long i = 0; i < calls; i++) {
		const struct pkt *p = &pkts[i % npkts];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

		if (bpf_prog_test_run_opts(prog, &o)) {
			fprintf(stderr, "progcost: test_run: %s\n", strerror(errno));
			return -errno;
		}
		if (o.retval != 1) {
			fprintf(stderr, "progcost: packet %lu was dropped (verdict %u): the allowlist does not cover it\n",
				i % npkts, o.retval);
			return -EINVAL;
		}
		sum += (double)o.duration;
	}
	*ns = sum / (double)calls;
	return 0;
}

static size_t nrules4(const struct rule *r, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += r[i].addr.family == AF_INET;
	return k;
}

static int load(const struct rule *rules, size_t n, bool cache, struct egress_bpf **out)
{
	struct resolver res;
	char err[128];
	struct loader_config lc = {
		.events = true,
		.rules = rules,
		.nrules = n,
		.resolvers = &res,
		.nresolvers = 1,
		.dns_proxy = true,
		.proxy_port = 5300,
		.learn = cache,
	};

	if (resolver_parse("198.51.100.1", &res, err, sizeof(err)))
		return -EINVAL;
	return loader_load(&lc, out);
}

static int setup_netns(void)
{
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "progcost: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return -errno;
	}
	if (system("ip link add bpc0 type veth peer name bpc1 && ip link set bpc0 up && ip link set bpc1 up && ip link set lo up")) {
		fprintf(stderr, "progcost: cannot make a veth device\n");
		return -EIO;
	}
	ifindex = (int)if_nametoindex("bpc0");
	return ifindex ? 0 : -ENODEV;
}

static int one_file(const char *path, int noop, unsigned long calls, unsigned int hot,
		    const struct rule *base, size_t nbase)
{
	double empty_load_ms = 0;
	struct egress_bpf *on = NULL, *off = NULL;
	struct rule *rules = NULL;
	struct pkt *pkts = NULL, *xpkts = NULL;
	double t0, t1, t2, c[6], nc[4];
	size_t nrules = 0, npkts, n4 = 0, nexact = 0, nxpkts;
	char xfirst[32] = "null", xdecide[32] = "null";
	struct policy pol;
	char err[256];
	int ret;

	policy_init(&pol);
	t0 = bench_now();
	ret = policy_add_file(&pol, path, err, sizeof(err));
	if (!ret)
		ret = policy_compile(&pol, &rules, &nrules, err, sizeof(err));
	t1 = bench_now();
	if (ret) {
		fprintf(stderr, "progcost: %s: %s\n", path, err);
		goto cleanup;
	}
	/*
	 * The fastest of LOADS loads, each right after a baseline load (the
	 * fastest of those is the baseline): the machine is shared and
	 * noisy, and a load's spread is larger than a 5k fill.
	 */
	for (int i = 0; i < LOADS; i++) {
		struct egress_bpf *b = NULL;
		double t = bench_now(), d;

		ret = load(base, nbase, true, &b);
		loader_destroy(b);
		if (ret)
			goto cleanup;
		d = (bench_now() - t) * 1e3;
		if (!i || d < empty_load_ms)
			empty_load_ms = d;
		t = bench_now();
		loader_destroy(on);
		on = NULL;
		ret = load(rules, nrules, true, &on);
		if (ret)
			goto cleanup;
		d = bench_now() - t;
		if (!i || d < t2 - t1)
			t2 = t1 + d;
	}
	ret = load(rules, nrules, false, &off);
	if (ret)
		goto cleanup;

	npkts = nrules < MAX_PKTS ? nrules : MAX_PKTS;
	pkts = calloc(npkts ? npkts : 1, sizeof(*pkts));
	if (!pkts || !npkts) {
		ret = npkts ? -ENOMEM : -EINVAL;
		fprintf(stderr, "progcost: %s: %s\n", path, npkts ? "out of memory" : "no rules");
		goto cleanup;
	}
	/* Spread over the whole (sorted: v4 then v6) rule list. */
	for (size_t i = 0; i < npkts; i++) {
		const struct rule *r = &rules[i * nrules / npkts];
		struct addr a;

		addr_in_rule(r, (uint32_t)i * 2654435761u, &a);
		pkt_build(&pkts[i], &a, (uint32_t)i);
		n4 += a.family == AF_INET;
	}
	/* Shuffle so v4 and v6 alternate as in real traffic, deterministically. */
	for (size_t i = npkts - 1; i > 0; i--) {
		size_t j = (i * 2654435761u) % (i + 1);
		struct pkt tmp = pkts[i];

		pkts[i] = pkts[j];
		pkts[j] = tmp;
	}

	/* The exact (/32, /128) rules alone, spread and shuffled the same way. */
	for (size_t i = 0; i < nrules; i++)
		nexact += rule_is_exact(&rules[i]);
	nxpkts = nexact < MAX_PKTS ? nexact : MAX_PKTS;
	xpkts = calloc(nxpkts ? nxpkts : 1, sizeof(*xpkts));
	if (!xpkts) {
		ret = -ENOMEM;
		fprintf(stderr, "progcost: %s: out of memory\n", path);
		goto cleanup;
	}
	for (size_t i = 0, k = 0, seen = 0; i < nrules && k < nxpkts; i++) {
		if (!rule_is_exact(&rules[i]))
			continue;
		if (seen++ == k * nexact / nxpkts) /* every (nexact/nxpkts)th one */
			pkt_build(&xpkts[k++], &rules[i].addr, (uint32_t)i);
	}
	for (size_t i = nxpkts ? nxpkts - 1 : 0; i > 0; i--) {
		size_t j = (i * 2654435761u) % (i + 1);
		struct pkt tmp = xpkts[i];

		xpkts[i] = xpkts[j];
		xpkts[j] = tmp;
	}

	int fon = bpf_program__fd(on->progs.egress_skb);
	int foff = bpf_program__fd(off->progs.egress_skb);

	if ((ret = run_cost(noop, pkts, npkts, calls, 1, &nc[0])) ||
	    (ret = run_cost(fon, pkts, npkts, calls, 1, &c[0])) ||
	    (ret = run_cost(foff, pkts, npkts, calls, 1, &c[1])) ||
	    (ret = run_cost(noop, pkts, 1, 1, hot, &nc[1])) ||
	    (ret = run_cost(fon, pkts, 1, 1, hot, &c[2])) ||
	    (ret = run_cost(foff, pkts, 1, 1, hot, &c[3])) ||
	    (ret = run_cost(noop, pkts, npkts, calls, 1, &nc[2])))
		goto cleanup;
	/* Two no-op passes around the rotated ones: their mean is the floor. */
	double floor1 = (nc[0] + nc[2]) / 2;

	if (nxpkts) {
		if ((ret = run_cost(fon, xpkts, nxpkts, calls, 1, &c[4])) ||
		    (ret = run_cost(foff, xpkts, nxpkts, calls, 1, &c[5])) ||
		    (ret = run_cost(noop, xpkts, nxpkts, calls, 1, &nc[3])))
			goto cleanup;
		double floorx = (nc[2] + nc[3]) / 2;

		snprintf(xfirst, sizeof(xfirst), "%.1f", c[4] - floorx);
		snprintf(xdecide, sizeof(xdecide), "%.1f", c[5] - floorx);
	}

	printf("{\"file\": \"%s\", \"rules\": %zu, \"rules_v4\": %zu, \"packets\": %zu, \"packets_v4\": %zu, "
	       "\"calls\": %lu, \"hot_repeat\": %u, "
	       "\"noop_rot_ns\": %.1f, \"noop_hot_ns\": %.2f, "
	       "\"first_ns\": %.1f, \"decide_ns\": %.1f, \"estab_ns\": %.2f, \"hot_ns\": %.2f, "
	       "\"rules_exact\": %zu, \"first_exact_ns\": %s, \"decide_exact_ns\": %s, "
	       "\"parse_ms\": %.3f, \"load_ms\": %.3f, \"fill_ms\": %.3f}\n",
	       path, nrules, nrules4(rules, nrules), npkts, n4, calls, hot, floor1, nc[1],
	       c[0] - floor1, c[1] - floor1, c[2] - nc[1], c[3] - nc[1], nexact, xfirst, xdecide,
	       (t1 - t0) * 1e3,
	       (t2 - t1) * 1e3, (t2 - t1) * 1e3 - empty_load_ms);
	fflush(stdout);
cleanup:
	loader_destroy(on);
	loader_destroy(off);
	free(pkts);
	free(xpkts);
	free(rules);
	policy_free(&pol);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "calls", required_argument, NULL, 'c' },
		{ "hot", required_argument, NULL, 'H' },
		{},
	};
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	long calls = 1000000, hot = 1000000;
	struct policy base = {};
	struct rule *brules = NULL;
	size_t nbrules = 0;
	char err[256];
	int opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		long *dst = opt == 'c' ? &calls : &hot;

		if (opt == '?' || bench_parse_long(optarg, 1, 100000000, dst)) {
			fprintf(stderr, "progcost: bad --%s value '%s' (1..100000000)\n",
				opt == 'c' ? "calls" : "hot", opt == '?' ? "" : optarg);
			return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: progcost [--calls N] [--hot N] NOOP.bpf.o FILE...\n");
		return 2;
	}
	log_set_level(LOG_LEVEL_QUIET);
	log_setup_libbpf();
	if (setup_netns())
		return 1;

	obj = bpf_object__open_file(argv[optind], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "progcost: cannot load %s: %s\n", argv[optind], strerror(errno));
		goto out;
	}
	prog = bpf_object__next_program(obj, NULL);
	if (!prog)
		goto out;

	/* The baseline: loader_load() itself, with (almost) nothing to fill. */
	policy_init(&base);
	if (policy_add_list(&base, "198.51.100.7 2001:db8::7 198.51.100.0/24 2001:db8::/64", err,
			    sizeof(err)) ||
	    policy_compile(&base, &brules, &nbrules, err, sizeof(err))) {
		fprintf(stderr, "progcost: the baseline list: %s\n", err);
		goto out;
	}
	for (int i = optind + 1; i < argc; i++) {
		if (one_file(argv[i], bpf_program__fd(prog), (unsigned long)calls,
			     (unsigned int)hot, brules, nbrules))
			goto out;
	}
	ret = 0;
out:
	free(brules);
	policy_free(&base);
	bpf_object__close(obj);
	return ret;
}
