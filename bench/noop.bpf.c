// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/noop.bpf.c: the floor.  An empty cgroup_skb/egress program that
 * passes everything: attached to the client's cgroup it measures what the
 * hook alone costs, and run through test_run it is what bench/progcost.c
 * subtracts from egress_skb's figure.
 */
/* No CO-RE, as in bpf/egress.bpf.c: the floor loads the same way. */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("cgroup_skb/egress")
int bench_noop(struct __sk_buff *skb)
{
	(void)skb;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
