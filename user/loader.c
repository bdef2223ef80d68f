// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF object's life: probe the kernel, set rodata, size and fill the
 * maps, attach every program to the cgroup, and detach them again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
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
	/* DNS proxy mode only (not loaded otherwise, so never attached). */
	{ "egress_recvmsg4", BPF_CGROUP_UDP4_RECVMSG },
	{ "egress_recvmsg6", BPF_CGROUP_UDP6_RECVMSG },
	{ "egress_getpeername4", BPF_CGROUP_INET4_GETPEERNAME },
	{ "egress_getpeername6", BPF_CGROUP_INET6_GETPEERNAME },
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
	p[8] = s->progs.egress_recvmsg4;
	p[9] = s->progs.egress_recvmsg6;
	p[10] = s->progs.egress_getpeername4;
	p[11] = s->progs.egress_getpeername6;
}

/* Programs left out of the load (proxy mode off) have no fd; skip them. */
static bool loaded(struct bpf_program *p)
{
	return bpf_program__fd(p) >= 0;
}

/*
 * Can this kernel load a sock_addr program for this attach type?  libbpf
 * probes program types, not attach types, so load the smallest such
 * program (return 1) the way libbpf's own probes do.
 */
static bool probe_sock_addr_attach(enum bpf_attach_type type)
{
	/* r0 = 1; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type);
	int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, NULL, "GPL", insns,
			       ARRAY_SIZE(insns), &opts);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The program types; loader_probe() and loader_probe_features() share them. */
static const struct {
	enum bpf_prog_type type;
	const char *what;
} prog_types[] = {
	{ BPF_PROG_TYPE_CGROUP_SKB, "cgroup_skb (kernel 4.10+)" },
	{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "cgroup sock_addr hooks (kernel 4.17+)" },
	{ BPF_PROG_TYPE_CGROUP_SOCKOPT, "cgroup sockopt hooks (kernel 5.3+)" },
};

int loader_probe(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(prog_types); i++) {
		int ret = libbpf_probe_bpf_prog_type(prog_types[i].type, NULL);

		if (ret == 1)
			continue;
		pr_err("this kernel cannot load %s programs (%s); egressd needs kernel 5.8 or later with CONFIG_BPF_SYSCALL and CONFIG_CGROUP_BPF",
		       prog_types[i].what, ret < 0 ? strerror(-ret) : "not supported");
		return ret < 0 ? ret : -EOPNOTSUPP;
	}
	return 0;
}

/* Append ", what" (or "what") to list. */
static void list_add(char *list, size_t len, const char *what)
{
	size_t o = strlen(list);

	if (o < len)
		snprintf(list + o, len - o, "%s%s", o ? ", " : "", what);
}

int loader_probe_features(char *needed, size_t neededlen, char *degrade, size_t degradelen)
{
	/* As bpf/egress.bpf.c uses them; "degrade": loader_load() copes without. */
	static const struct {
		enum bpf_attach_type type;
		const char *what;
		bool degrade;
	} attach[] = {
		{ BPF_CGROUP_INET4_CONNECT, "cgroup/connect4", false },
		{ BPF_CGROUP_INET6_CONNECT, "cgroup/connect6", false },
		{ BPF_CGROUP_UDP4_SENDMSG, "cgroup/sendmsg4", false },
		{ BPF_CGROUP_UDP6_SENDMSG, "cgroup/sendmsg6", false },
		{ BPF_CGROUP_INET4_BIND, "cgroup/bind4", false },
		{ BPF_CGROUP_INET6_BIND, "cgroup/bind6", false },
		{ BPF_CGROUP_UDP4_RECVMSG, "cgroup/recvmsg4 (the DNS proxy, 5.2+)", false },
		{ BPF_CGROUP_UDP6_RECVMSG, "cgroup/recvmsg6 (the DNS proxy, 5.2+)", false },
		{ BPF_CGROUP_INET4_GETPEERNAME, "cgroup/getpeername4 (5.8+)", true },
		{ BPF_CGROUP_INET6_GETPEERNAME, "cgroup/getpeername6 (5.8+)", true },
	};
	static const struct {
		enum bpf_map_type type;
		const char *what;
		bool degrade;
	} maps[] = {
		{ BPF_MAP_TYPE_HASH, "hash maps", false },
		{ BPF_MAP_TYPE_LRU_HASH, "LRU hash maps", false },
		{ BPF_MAP_TYPE_LPM_TRIE, "LPM trie maps", false },
		{ BPF_MAP_TYPE_PERCPU_ARRAY, "per-CPU array maps", false },
		{ BPF_MAP_TYPE_RINGBUF, "ring buffers (5.8+)", false },
		{ BPF_MAP_TYPE_SK_STORAGE, "socket storage (5.2+; learned-address expiry)", true },
	};
	static const struct {
		enum bpf_prog_type prog;
		enum bpf_func_id func;
		const char *what;
		bool degrade;
	} helpers[] = {
		{ BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_skb_load_bytes, "bpf_skb_load_bytes", false },
		{ BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_ringbuf_reserve, "bpf_ringbuf_reserve", false },
		{ BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_ringbuf_submit, "bpf_ringbuf_submit", false },
		{ BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_get_socket_cookie, "bpf_get_socket_cookie (skb)", false },
		{ BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_get_socket_uid, "bpf_get_socket_uid", false },
		{ BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_sk_fullsock, "bpf_sk_fullsock (5.1+)", true },
		{ BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_sk_storage_get, "bpf_sk_storage_get (5.2+)", true },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_get_socket_cookie,
		  "bpf_get_socket_cookie (sock_addr, 5.0+)", false },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_ringbuf_reserve, "bpf_ringbuf_reserve (sock_addr)", false },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_get_current_uid_gid, "bpf_get_current_uid_gid", false },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_get_current_pid_tgid,
		  "bpf_get_current_pid_tgid (deny lines name the pid)", true },
		{ BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_get_current_comm,
		  "bpf_get_current_comm (deny lines name the command)", true },
	};
	int missing = 0;

	needed[0] = '\0';
	degrade[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(prog_types); i++) {
		if (libbpf_probe_bpf_prog_type(prog_types[i].type, NULL) != 1) {
			list_add(needed, neededlen, prog_types[i].what);
			missing++;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(attach); i++) {
		if (probe_sock_addr_attach(attach[i].type))
			continue;
		if (attach[i].degrade) {
			list_add(degrade, degradelen, attach[i].what);
		} else {
			list_add(needed, neededlen, attach[i].what);
			missing++;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		if (libbpf_probe_bpf_map_type(maps[i].type, NULL) == 1)
			continue;
		if (maps[i].degrade) {
			list_add(degrade, degradelen, maps[i].what);
		} else {
			list_add(needed, neededlen, maps[i].what);
			missing++;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(helpers); i++) {
		if (libbpf_probe_bpf_helper(helpers[i].prog, helpers[i].func, NULL) == 1)
			continue;
		if (helpers[i].degrade) {
			list_add(degrade, degradelen, helpers[i].what);
		} else {
			list_add(needed, neededlen, helpers[i].what);
			missing++;
		}
	}
	return missing;
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

static void rule_value(const struct rule *r, size_t i, struct egress_rule *val)
{
	memset(val, 0, sizeof(*val));
	val->rule_id = (__u32)i;
	val->flags = r->flags;
	val->nports = r->nports;
	memcpy(val->ports, r->ports, sizeof(val->ports));
}

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's own; bpf() can return it */
#endif

/*
 * The four allowlist maps, in the order fill_rules() fills them: each rule
 * goes to exactly one (rule_is_exact(): /32 and /128 to the hashes).
 */
enum allow_set { SET_TRIE_V4, SET_EXACT_V4, SET_TRIE_V6, SET_EXACT_V6, SET_MAX };

static enum allow_set set_of(const struct rule *r)
{
	bool v4 = r->addr.family == AF_INET;

	if (rule_is_exact(r))
		return v4 ? SET_EXACT_V4 : SET_EXACT_V6;
	return v4 ? SET_TRIE_V4 : SET_TRIE_V6;
}

static void count_sets(const struct rule *rules, size_t n, size_t count[SET_MAX])
{
	memset(count, 0, SET_MAX * sizeof(*count));
	for (size_t i = 0; i < n; i++)
		count[set_of(&rules[i])]++;
}

/* Each set's key: an LPM key, a __be32, or 16 bytes. */
static const size_t set_key_size[SET_MAX] = {
	[SET_TRIE_V4] = sizeof(struct egress_v4_key),
	[SET_EXACT_V4] = 4,
	[SET_TRIE_V6] = sizeof(struct egress_v6_key),
	[SET_EXACT_V6] = sizeof(struct egress_addr_key),
};

/* Rule r's key in its set. */
static void rule_key(const struct rule *r, enum allow_set set, void *key)
{
	switch (set) {
	case SET_TRIE_V4: {
		struct egress_v4_key *k = key;

		k->prefixlen = r->prefixlen;
		memcpy(&k->addr, r->addr.bytes, 4);
		break;
	}
	case SET_EXACT_V4:
		memcpy(key, r->addr.bytes, 4);
		break;
	case SET_TRIE_V6: {
		struct egress_v6_key *k = key;

		k->prefixlen = r->prefixlen;
		memcpy(k->addr, r->addr.bytes, 16);
		break;
	}
	default:
		memcpy(key, r->addr.bytes, 16);
		break;
	}
}

static void fill_failed(const struct rule *r, int err)
{
	char buf[ADDR_STRLEN];

	pr_err("cannot add %s/%u to the allowlist map: %s",
	       addr_format(&r->addr, buf, sizeof(buf)), r->prefixlen, strerror(-err));
}

/*
 * One set's cnt elements (keys of ksz bytes, vals, idx[i] = the rule's
 * index, to name a failure) in one BPF_MAP_UPDATE_BATCH call: 5,000 single
 * updates were 7.8 ms of a 5k start (bench/), one syscall each.  A kernel
 * that takes no batch (EINVAL and friends before anything is added) gets
 * single updates.  -errno, with the failing entry named.
 */
static int fill_set(int fd, const struct rule *rules, const size_t *idx, const __u8 *keys,
		    size_t ksz, const struct egress_rule *vals, size_t cnt)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo); /* elem_flags: only BPF_F_LOCK is taken */
	__u32 done = (__u32)cnt;
	int err;

	if (!cnt || !bpf_map_update_batch(fd, keys, vals, &done, &bo))
		return 0;
	err = -errno;
	/*
	 * Refused before the first element, the kernel leaves count as it
	 * was (or says 0): then nothing was added.
	 */
	if ((done == 0 || done == cnt) &&
	    (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP || err == -ENOSYS)) {
		for (size_t i = 0; i < cnt; i++) {
			if (bpf_map_update_elem(fd, keys + i * ksz, &vals[i], BPF_NOEXIST)) {
				err = -errno;
				fill_failed(&rules[idx[i]], err);
				return err;
			}
		}
		return 0;
	}
	if (done < cnt)
		fill_failed(&rules[idx[done]], err); /* the first not added */
	else
		pr_err("cannot fill the allowlist map: %s", strerror(-err));
	return err;
}

/*
 * The allowlist rules into the two LPM tries and the two exact hashes,
 * one batch per map.  The value's rule_id stays the rule's index in rules
 * (rule_hits), whichever map holds it.
 */
static int fill_rules(const int fds[SET_MAX], const struct rule *rules, size_t n)
{
	struct egress_rule *vals = NULL;
	size_t count[SET_MAX], *idx = NULL;
	__u8 *keys = NULL;
	int err = 0;

	if (!n)
		return 0;
	count_sets(rules, n, count);
	vals = calloc(n, sizeof(*vals));
	keys = calloc(n, sizeof(struct egress_v6_key));
	idx = calloc(n, sizeof(*idx));
	if (!vals || !keys || !idx) {
		err = -ENOMEM;
		pr_err("cannot fill the allowlist maps: %s", strerror(ENOMEM));
		goto out;
	}
	for (int set = 0; set < SET_MAX && !err; set++) {
		size_t k = 0, ksz = set_key_size[set];

		if (!count[set])
			continue;
		for (size_t i = 0; i < n; i++) {
			if (set_of(&rules[i]) != (enum allow_set)set)
				continue;
			rule_key(&rules[i], set, keys + k * ksz);
			rule_value(&rules[i], i, &vals[k]);
			idx[k++] = i;
		}
		err = fill_set(fds[set], rules, idx, keys, ksz, vals, k);
	}
out:
	free(vals);
	free(keys);
	free(idx);
	return err;
}

static int fill_maps(struct egress_bpf *s, const struct loader_config *c)
{
	const int fds[SET_MAX] = {
		[SET_TRIE_V4] = bpf_map__fd(s->maps.allow_v4),
		[SET_EXACT_V4] = bpf_map__fd(s->maps.exact_v4),
		[SET_TRIE_V6] = bpf_map__fd(s->maps.allow_v6),
		[SET_EXACT_V6] = bpf_map__fd(s->maps.exact_v6),
	};
	int rfd = bpf_map__fd(s->maps.resolvers), lfd = bpf_map__fd(s->maps.local_addrs);
	char buf[ADDR_STRLEN];

	int err = fill_rules(fds, c->rules, c->nrules);

	if (err)
		return err;
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

/*
 * Can a connect4 program call bpf_get_current_pid_tgid() and
 * bpf_get_current_comm()?  Not on old kernels, and on new ones not without
 * CAP_PERFMON (Docker's --cap-add BPF alone).  libbpf 1.1's helper probe
 * takes the newer refusal, "program of this type cannot use helper", for
 * a yes, so load the calls for real.
 */
static bool probe_task_helpers(void)
{
	const struct bpf_insn insns[] = {
		/* *(u64 *)(r10 - 16) = 0; *(u64 *)(r10 - 8) = 0 */
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -16, .imm = 0 },
		{ .code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_10, .off = -8, .imm = 0 },
		/* r1 = r10; r1 += -16; r2 = 16; call get_current_comm */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_1, .imm = -16 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 16 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_current_comm },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_current_pid_tgid },
		/* r0 = 1; exit */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_CGROUP_INET4_CONNECT);
	int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "egressd_probe", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), &o);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * Can a connect4 program call bpf_sk_storage_get (the verdict seed)?
 * libbpf 1.1's helper probe reads this kernel's refusal ("program of this
 * type cannot use helper") as a yes, so read the verifier log here: the
 * call is made without its arguments, so a kernel that knows the helper
 * for this type refuses the arguments instead.
 */
static bool probe_sock_addr_sk_storage(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_sk_storage_get },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char log[512] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_CGROUP_INET4_CONNECT,
		    .log_buf = log, .log_size = sizeof(log), .log_level = 1);
	int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "egressd_probe", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), &o);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	return !strstr(log, "cannot use helper") && !strstr(log, "unknown func") &&
	       !strstr(log, "invalid func") && strstr(log, "sk_storage_get");
}

int loader_load(const struct loader_config *c, struct egress_bpf **out)
{
	struct egress_bpf *s;
	size_t count[SET_MAX];
	__u32 learned;
	int err;

	count_sets(c->rules, c->nrules, count);

	LIBBPF_OPTS(bpf_object_open_opts, oo, .kernel_log_level = c->verifier_stats ? 4 : 0);

	s = egress_bpf__open_opts(&oo);
	if (!s) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(errno));
		return err;
	}
	s->rodata->audit_mode = c->audit;
	s->rodata->emit_events = c->events;
	s->rodata->check_source = c->check_source;
	s->rodata->loopback_restricted = c->loopback_restricted;
	for (size_t i = 0; i < c->nloopback_ports && i < EGRESS_MAX_LOOPBACK_PORTS; i++)
		s->rodata->loopback_ports[i] = c->loopback_ports[i];
	s->rodata->nloopback_ports = (__u32)c->nloopback_ports;
	s->rodata->task_helpers = probe_task_helpers();
	for (size_t i = 0; i < c->nresolvers; i++) {
		__u32 n = s->rodata->nresolver_ports, j;

		for (j = 0; j < n && s->rodata->resolver_ports[j] != c->resolvers[i].port; j++)
			;
		if (j == n && n < EGRESS_MAX_RESOLVERS)
			s->rodata->resolver_ports[s->rodata->nresolver_ports++] = c->resolvers[i].port;
	}
	if (!s->rodata->task_helpers)
		pr_debug("this kernel gives socket hooks no pid/comm; deny events will name the uid");

	/*
	 * Kernel needs, all within egressd's 5.8 floor, probed anyway so that
	 * a kernel built without one says so instead of failing the load:
	 *  - redirect in connect/sendmsg, bpf_get_socket_cookie in sock_addr
	 *    programs: 5.0 (cookie), writes to user_ip4/6 and user_port: 4.17;
	 *  - cgroup/recvmsg4/6: 5.2 (without them, UDP answers show the
	 *    proxy's address and resolvers drop them: refused);
	 *  - cgroup/getpeername4/6: 5.8 (without them, getpeername() on a
	 *    redirected socket shows the proxy: cosmetic, so degrade);
	 *  - the verdict cache: skb->sk and bpf_sk_fullsock 5.1, sk_storage
	 *    in cgroup_skb 5.2 (without it learned-address expiry would cut
	 *    flows: degrade with a warning; still closed, never open).
	 */
	s->rodata->dns_proxy = c->dns_proxy;
	s->rodata->proxy_port = c->proxy_port;
	s->rodata->learning = c->learn;
	s->rodata->copy_headers = c->test_copy_headers;
	s->rodata->exact_v4_used = count[SET_EXACT_V4] > 0;
	s->rodata->exact_v6_used = count[SET_EXACT_V6] > 0;
	s->rodata->prefix_v4_used = count[SET_TRIE_V4] > 0;
	s->rodata->prefix_v6_used = count[SET_TRIE_V6] > 0;
	if (c->dns_proxy) {
		if (!c->proxy_port) {
			pr_err("DNS proxy mode needs the proxy's port");
			err = -EINVAL;
			goto fail;
		}
		if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_FUNC_get_socket_cookie, NULL) != 1) {
			pr_err("this kernel gives socket hooks no socket cookie (kernel 5.0+), which the DNS proxy needs");
			err = -EOPNOTSUPP;
			goto fail;
		}
		if (!probe_sock_addr_attach(BPF_CGROUP_UDP4_RECVMSG) ||
		    !probe_sock_addr_attach(BPF_CGROUP_UDP6_RECVMSG)) {
			pr_err("this kernel has no cgroup/recvmsg hooks (kernel 5.2+), which the DNS proxy needs");
			err = -EOPNOTSUPP;
			goto fail;
		}
		if (!probe_sock_addr_attach(BPF_CGROUP_INET4_GETPEERNAME) ||
		    !probe_sock_addr_attach(BPF_CGROUP_INET6_GETPEERNAME)) {
			pr_warn("this kernel has no cgroup/getpeername hooks (kernel 5.8+); getpeername() on a redirected DNS socket will name the proxy");
			bpf_program__set_autoload(s->progs.egress_getpeername4, false);
			bpf_program__set_autoload(s->progs.egress_getpeername6, false);
		}
	} else {
		bpf_program__set_autoload(s->progs.egress_recvmsg4, false);
		bpf_program__set_autoload(s->progs.egress_recvmsg6, false);
		bpf_program__set_autoload(s->progs.egress_getpeername4, false);
		bpf_program__set_autoload(s->progs.egress_getpeername6, false);
	}
	if (c->learn) {
		s->rodata->verdict_cache =
			libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SK_STORAGE, NULL) == 1 &&
			libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_sk_storage_get, NULL) == 1 &&
			libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_sk_fullsock, NULL) == 1;
		if (!s->rodata->verdict_cache)
			pr_warn("this kernel has no socket storage for cgroup_skb programs (kernel 5.2+); a flow to a learned address will be cut when the address expires");
		/* Without it the packet hook makes each verdict itself: slower, same policy. */
		s->rodata->seed_verdicts = s->rodata->verdict_cache && !getenv("EGRESSD_NO_SEED") &&
					   probe_sock_addr_sk_storage();
		if (s->rodata->verdict_cache && !s->rodata->seed_verdicts)
			pr_debug("socket hooks do not seed the verdict cache (no sk_storage in sock_addr programs, or EGRESSD_NO_SEED)");
	}
	learned = c->learned_max ? c->learned_max : EGRESS_LEARNED_DEFAULT;
	if (!c->learn)
		learned = 1;

	/* Sized exactly; a later runtime-update mode will add headroom here. */
	if ((err = bpf_map__set_max_entries(s->maps.allow_v4, at_least_one(count[SET_TRIE_V4]))) ||
	    (err = bpf_map__set_max_entries(s->maps.allow_v6, at_least_one(count[SET_TRIE_V6]))) ||
	    (err = bpf_map__set_max_entries(s->maps.exact_v4, at_least_one(count[SET_EXACT_V4]))) ||
	    (err = bpf_map__set_max_entries(s->maps.exact_v6, at_least_one(count[SET_EXACT_V6]))) ||
	    (err = bpf_map__set_max_entries(s->maps.resolvers, at_least_one(c->nresolvers))) ||
	    (err = bpf_map__set_max_entries(s->maps.local_addrs, at_least_one(c->nlocal))) ||
	    (err = bpf_map__set_max_entries(s->maps.rule_hits, at_least_one(c->nrules))) ||
	    (err = bpf_map__set_max_entries(s->maps.learned_v4, learned)) ||
	    (err = bpf_map__set_max_entries(s->maps.learned_v6, learned))) {
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
		if (!loaded(p[i]))
			continue;
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
		if (loaded(p[i]))
			bpf_prog_detach2(bpf_program__fd(p[i]), cgfd, attach_points[i].type);
	return err;
}

int loader_detach(struct egress_bpf *s, int cgfd)
{
	struct bpf_program *p[ARRAY_SIZE(attach_points)];
	int first = 0;

	progs_of(s, p);
	for (size_t i = 0; i < ARRAY_SIZE(attach_points); i++) {
		if (!loaded(p[i]))
			continue;
		if (bpf_prog_detach2(bpf_program__fd(p[i]), cgfd, attach_points[i].type) && !first)
			first = -errno;
	}
	return first;
}

static int socket_cookie(int fd, __u64 *cookie)
{
	socklen_t len = sizeof(*cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len))
		return -errno;
	return *cookie ? 0 : -EINVAL;
}

int loader_exempt_socket(struct egress_bpf *s, int fd)
{
	__u64 cookie;
	__u8 one = 1;
	int err = socket_cookie(fd, &cookie);

	if (err) {
		pr_warn("cannot read the cookie of socket %d: %s", fd, strerror(-err));
		return err;
	}
	if (bpf_map_update_elem(bpf_map__fd(s->maps.exempt), &cookie, &one, BPF_ANY)) {
		err = errno == E2BIG ? -ENOSPC : -errno;
		pr_warn("cannot exempt socket %d from DNS redirection: %s", fd, strerror(errno));
		return err;
	}
	return 0;
}

int loader_unexempt_socket(struct egress_bpf *s, int fd)
{
	__u64 cookie;
	int err = socket_cookie(fd, &cookie);

	if (err)
		return err;
	if (bpf_map_delete_elem(bpf_map__fd(s->maps.exempt), &cookie) && errno != ENOENT)
		return -errno;
	return 0;
}

/* The learned maps' key for a: __be32, or 16 bytes with mapped folded. */
static int learned_key(struct egress_bpf *s, const struct addr *a, __u8 key[16], int *fd)
{
	static const __u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (a->family == AF_INET6 && memcmp(a->bytes, mapped, 12)) {
		memcpy(key, a->bytes, 16);
		*fd = bpf_map__fd(s->maps.learned_v6);
		return 0;
	}
	if (a->family != AF_INET && a->family != AF_INET6)
		return -EAFNOSUPPORT;
	memcpy(key, a->family == AF_INET ? a->bytes : a->bytes + 12, 4);
	*fd = bpf_map__fd(s->maps.learned_v4);
	return 0;
}

int loader_learn(struct egress_bpf *s, const struct addr *a, const struct egress_learned *v)
{
	__u8 key[16];
	int fd, err = learned_key(s, a, key, &fd);

	if (err)
		return err;
	if (v->nports > EGRESS_MAX_PORTS)
		return -EINVAL;
	if (bpf_map_update_elem(fd, key, v, BPF_ANY))
		return -errno;
	return 0;
}

int loader_unlearn(struct egress_bpf *s, const struct addr *a)
{
	__u8 key[16];
	int fd, err = learned_key(s, a, key, &fd);

	if (err)
		return err;
	if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
		return -errno;
	return 0;
}

int loader_programs(struct egress_bpf *s, struct loader_prog *out, size_t max)
{
	struct bpf_program *p[ARRAY_SIZE(attach_points)];
	size_t n = 0;

	_Static_assert(ARRAY_SIZE(attach_points) <= LOADER_MAX_PROGS, "raise LOADER_MAX_PROGS");
	progs_of(s, p);
	for (size_t i = 0; i < ARRAY_SIZE(attach_points) && n < max; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		const char *an;

		if (!loaded(p[i]))
			continue;
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p[i]), &info, &len))
			return -errno;
		an = libbpf_bpf_attach_type_str(attach_points[i].type);
		out[n].name = attach_points[i].name;
		out[n].id = info.id;
		out[n].attach_type = (int)attach_points[i].type;
		out[n].attach_name = an ? an : "unknown";
		n++;
	}
	return (int)n;
}

void loader_destroy(struct egress_bpf *s)
{
	egress_bpf__destroy(s);
}
