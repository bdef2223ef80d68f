// SPDX-License-Identifier: GPL-2.0-only
/* --stats: sum the per-CPU counters of the BPF object and print them at exit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "egress.skel.h"
#include "events.h"
#include "log.h"
#include "stats.h"

/* Sum one per-CPU egress_counter slot. 0 or -errno. */
static int sum_counter(int fd, __u32 key, struct egress_counter *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct egress_counter *v;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ncpu; i++) {
		out->packets += v[i].packets;
		out->bytes += v[i].bytes;
	}
	free(v);
	return 0;
}

int stats_read(struct egress_bpf *s, struct egress_counter out[EGRESS_HOOK_MAX][EGRESS_REASON_MAX])
{
	int cfd = bpf_map__fd(s->maps.counters), first = 0;

	for (__u32 hook = 0; hook < EGRESS_HOOK_MAX; hook++) {
		for (__u32 r = 0; r < EGRESS_REASON_MAX; r++) {
			int err = sum_counter(cfd, hook * EGRESS_REASON_MAX + r, &out[hook][r]);

			if (err) {
				memset(&out[hook][r], 0, sizeof(out[hook][r]));
				if (!first)
					first = err;
			}
		}
	}
	return first;
}

void stats_print(struct egress_bpf *s, const struct rule *rules, size_t nrules)
{
	struct egress_counter all[EGRESS_HOOK_MAX][EGRESS_REASON_MAX] = {};
	int hfd = bpf_map__fd(s->maps.rule_hits);
	struct egress_counter pass = {}, deny = {}, c;
	char a[ADDR_STRLEN];

	stats_read(s, all);
	for (__u32 hook = 0; hook < EGRESS_HOOK_MAX; hook++) {
		for (__u32 r = 0; r < EGRESS_REASON_MAX; r++) {
			c = all[hook][r];
			if (!c.packets)
				continue;
			if (hook == EGRESS_HOOK_SKB) {
				struct egress_counter *t = r < EGRESS_PASS_MAX_ ? &pass : &deny;

				t->packets += c.packets;
				t->bytes += c.bytes;
			}
			pr_info("stats: %-8s %-8s %-46s %10llu%s", events_hook_str(hook),
				r < EGRESS_PASS_MAX_ ? "allowed" : "denied", events_reason_str(r),
				(unsigned long long)c.packets, hook == EGRESS_HOOK_SKB ? " packets" : " calls");
		}
	}
	pr_info("stats: packets allowed %llu (%llu bytes), denied %llu (%llu bytes)",
		(unsigned long long)pass.packets, (unsigned long long)pass.bytes,
		(unsigned long long)deny.packets, (unsigned long long)deny.bytes);
	for (size_t i = 0; i < nrules; i++) {
		if (sum_counter(hfd, (__u32)i, &c))
			continue;
		pr_info("stats: rule %s/%u%s%s%s: %llu packets, %llu bytes",
			addr_format(&rules[i].addr, a, sizeof(a)), rules[i].prefixlen,
			rules[i].name[0] ? " (" : "", rules[i].name, rules[i].name[0] ? ")" : "",
			(unsigned long long)c.packets, (unsigned long long)c.bytes);
	}
}
