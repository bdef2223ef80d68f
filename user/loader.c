// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF object's life: probe the kernel, set rodata, size and fill the
 * maps, attach every program to the cgroup, and detach them again.
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "egress.skel.h"
#include "loader.h"
#include "log.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct prog_attach {
	const char *name;
	enum bpf_attach_type type;
};

/* Index order matches progs_of(). */
static const struct prog_attach attach_points[] = {
	{ "egress_skb", BPF_CGROUP_INET_EGRESS },
	{ "egress_connect4", BPF_CGROUP_INET4_CONNECT },
	{ "egress_connect6", BPF_CGROUP_INET6_CONNECT },
	{ "egress_sendmsg4", BPF_CGROUP_UDP4_SENDMSG },
	{ "egress_sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
	{ "egress_setsockopt", BPF_CGROUP_SETSOCKOPT },
	{ "egress_bind4", BPF_CGROUP_INET4_BIND },
	{ "egress_bind6", BPF_CGROUP_INET6_BIND },
};

static void progs_of(struct egress_bpf *s, struct bpf_program *p[ARRAY_SIZE(attach_points)])
{
	p[0] = s->progs.egress_skb;
	p[1] = s->progs.egress_connect4;
	p[2] = s->progs.egress_connect6;
	p[3] = s->progs.egress_sendmsg4;
	p[4] = s->progs.egress_sendmsg6;
	p[5] = s->progs.egress_setsockopt;
	p[6] = s->progs.egress_bind4;
	p[7] = s->progs.egress_bind6;
}

int loader_probe(void)
{
	static const struct {
		enum bpf_prog_type type;
		const char *what;
	} need[] = {
		{ BPF_PROG_TYPE_CGROUP_SKB, "cgroup_skb (kernel 4.10+)" },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "cgroup sock_addr hooks (kernel 4.17+)" },
		{ BPF_PROG_TYPE_CGROUP_SOCKOPT, "cgroup sockopt hooks (kernel 5.3+)" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		int ret = libbpf_probe_bpf_prog_type(need[i].type, NULL);

		if (ret == 1)
			continue;
		pr_err("this kernel cannot load %s programs (%s); egressd needs kernel 5.8 or later with CONFIG_BPF_SYSCALL and CONFIG_CGROUP_BPF",
		       need[i].what, ret < 0 ? strerror(-ret) : "not supported");
		return ret < 0 ? ret : -EOPNOTSUPP;
	}
	return 0;
}

/* The maps' 16-byte address keys hold IPv4 mapped (::ffff:a.b.c.d). */
static void addr_key16(__u8 key[16], const struct addr *a)
{
	memset(key, 0, 16);
	if (a->family == AF_INET) {
		key[10] = 0xff;
		key[11] = 0xff;
		memcpy(&key[12], a->bytes, 4);
	} else {
		memcpy(key, a->bytes, 16);
	}
}

static __u32 at_least_one(size_t n)
{
	return n ? (__u32)n : 1;
}

static int fill_maps(struct egress_bpf *s, const struct loader_config *c)
{
	int v4fd = bpf_map__fd(s->maps.allow_v4), v6fd = bpf_map__fd(s->maps.allow_v6);
	int rfd = bpf_map__fd(s->maps.resolvers), lfd = bpf_map__fd(s->maps.local_addrs);
	char buf[ADDR_STRLEN];

	for (size_t i = 0; i < c->nrules; i++) {
		const struct rule *r = &c->rules[i];
		struct egress_rule val = {
			.rule_id = (__u32)i,
			.flags = r->flags,
			.nports = r->nports,
		};
		int err;

		memcpy(val.ports, r->ports, sizeof(val.ports));
		if (r->addr.family == AF_INET) {
			struct egress_v4_key k = { .prefixlen = r->prefixlen };

			memcpy(&k.addr, r->addr.bytes, 4);
			err = bpf_map_update_elem(v4fd, &k, &val, BPF_NOEXIST);
		} else {
			struct egress_v6_key k = { .prefixlen = r->prefixlen };

			memcpy(k.addr, r->addr.bytes, 16);
			err = bpf_map_update_elem(v6fd, &k, &val, BPF_NOEXIST);
		}
		if (err) {
			err = -errno;
			pr_err("cannot add %s/%u to the allowlist map: %s",
			       addr_format(&r->addr, buf, sizeof(buf)), r->prefixlen, strerror(errno));
			return err;
		}
	}
	for (size_t i = 0; i < c->nresolvers; i++) {
		const struct resolver *r = &c->resolvers[i];
		struct egress_resolver_key k = { .port = r->port };
		__u8 one = 1;

		addr_key16(k.addr, &r->addr);
		if (bpf_map_update_elem(rfd, &k, &one, BPF_ANY)) {
			int err = -errno;

			pr_err("cannot add resolver %s to its map: %s",
			       addr_format(&r->addr, buf, sizeof(buf)), strerror(errno));
			return err;
		}
	}
	for (size_t i = 0; i < c->nlocal; i++) {
		struct egress_addr_key k;
		__u8 one = 1;

		addr_key16(k.addr, &c->local[i]);
		if (bpf_map_update_elem(lfd, &k, &one, BPF_ANY)) {
			int err = -errno;

			pr_err("cannot add local address %s to its map: %s",
			       addr_format(&c->local[i], buf, sizeof(buf)), strerror(errno));
			return err;
		}
	}
	return 0;
}

int loader_load(const struct loader_config *c, struct egress_bpf **out)
{
	struct egress_bpf *s;
	size_t n4 = 0, n6 = 0;
	int err;

	for (size_t i = 0; i < c->nrules; i++) {
		if (c->rules[i].addr.family == AF_INET)
			n4++;
		else
			n6++;
	}

	s = egress_bpf__open();
	if (!s) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(errno));
		return err;
	}
	s->rodata->audit_mode = c->audit;
	s->rodata->emit_events = c->events;
	s->rodata->check_source = c->check_source;
	s->rodata->task_helpers =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_get_current_pid_tgid, NULL) == 1 &&
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_get_current_comm, NULL) == 1;
	for (size_t i = 0; i < c->nresolvers; i++) {
		__u32 n = s->rodata->nresolver_ports, j;

		for (j = 0; j < n && s->rodata->resolver_ports[j] != c->resolvers[i].port; j++)
			;
		if (j == n && n < EGRESS_MAX_RESOLVERS)
			s->rodata->resolver_ports[s->rodata->nresolver_ports++] = c->resolvers[i].port;
	}
	if (!s->rodata->task_helpers)
		pr_debug("this kernel gives socket hooks no pid/comm; deny events will name the uid");

	/* Sized exactly; a later runtime-update mode will add headroom here. */
	if ((err = bpf_map__set_max_entries(s->maps.allow_v4, at_least_one(n4))) ||
	    (err = bpf_map__set_max_entries(s->maps.allow_v6, at_least_one(n6))) ||
	    (err = bpf_map__set_max_entries(s->maps.resolvers, at_least_one(c->nresolvers))) ||
	    (err = bpf_map__set_max_entries(s->maps.local_addrs, at_least_one(c->nlocal))) ||
	    (err = bpf_map__set_max_entries(s->maps.rule_hits, at_least_one(c->nrules)))) {
		pr_err("cannot size the BPF maps: %s", strerror(-err));
		goto fail;
	}

	err = egress_bpf__load(s);
	if (err) {
		pr_err("cannot load the BPF programs into the kernel: %s (run with -v for the verifier log)",
		       strerror(-err));
		goto fail;
	}
	err = fill_maps(s, c);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	egress_bpf__destroy(s);
	return err;
}

int loader_attach(struct egress_bpf *s, int cgfd)
{
	struct bpf_program *p[ARRAY_SIZE(attach_points)];
	size_t i;
	int err = 0;

	progs_of(s, p);
	for (i = 0; i < ARRAY_SIZE(attach_points); i++) {
		if (bpf_prog_attach(bpf_program__fd(p[i]), cgfd, attach_points[i].type,
				    BPF_F_ALLOW_MULTI)) {
			err = -errno;
			pr_err("cannot attach %s to the cgroup: %s%s", attach_points[i].name,
			       strerror(errno),
			       errno == EPERM ? " (a parent cgroup may hold a non-multi program that forbids it)" : "");
			break;
		}
	}
	if (!err)
		return 0;
	/*
	 * The command has not started: unwinding returns the cgroup to how we
	 * found it, and egressd then exits without running anything.
	 */
	while (i-- > 0)
		bpf_prog_detach2(bpf_program__fd(p[i]), cgfd, attach_points[i].type);
	return err;
}

int loader_detach(struct egress_bpf *s, int cgfd)
{
	struct bpf_program *p[ARRAY_SIZE(attach_points)];
	int first = 0;

	progs_of(s, p);
	for (size_t i = 0; i < ARRAY_SIZE(attach_points); i++) {
		if (bpf_prog_detach2(bpf_program__fd(p[i]), cgfd, attach_points[i].type) && !first)
			first = -errno;
	}
	return first;
}

void loader_destroy(struct egress_bpf *s)
{
	egress_bpf__destroy(s);
}
