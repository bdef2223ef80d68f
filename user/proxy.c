// SPDX-License-Identifier: GPL-2.0-only
/*
 * The filtering DNS proxy (see proxy.h), on the event loop.
 *
 * A query's path:
 *   1. parse it (dnsmsg.c); malformed: FORMERR, never forwarded;
 *   2. ANY, AXFR, IXFR: REFUSED, for every name;
 *   3. the name must match the allowlist (namematch.c), else the deny
 *      rcode and a deny line, and the query goes nowhere: no DNS
 *      exfiltration through the resolver;
 *   4. forward it upstream with ares_send() on a channel whose sockets are
 *      exempted from the redirect before they connect;
 *   5. for A and AAAA, learn every address of the answer (learn.c -> one
 *      map update each) BEFORE the answer reaches the workload, so its
 *      connect() that follows finds the address allowed;
 *   6. any upstream failure (timeout, a malformed answer, a socket error)
 *      is SERVFAIL: DNS fails closed, it never passes through.
 * Audit mode forwards every query, learns nothing for names the allowlist
 * would refuse, and records them for the summary.
 *
 * TCP clients get length-prefixed messages and may pipeline queries; an
 * answer too big for a UDP client (512 bytes without EDNS) goes back
 * truncated (TC), so the client retries over TCP, as from any server.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "aresloop.h"
#include "dnsmsg.h"
#include "loader.h"
#include "log.h"
#include "proxy.h"
#include "sockowner.h"

#define PROXY_MAX_CONNS 64
#define PROXY_MSG_MAX 65535
#define PROXY_UPSTREAM_TIMEOUT_MS 2000
#define PROXY_UPSTREAM_TRIES 2
#define PROXY_MAX_ADDRS 256
#define PROXY_WARN_PER_ANSWER 8 /* "not learned" lines; then a count */
#define PROXY_OWNER_LOOKUPS 20 /* /proc scans a second for deny lines */
#define PROXY_MAX_INFLIGHT 4096 /* queries upstream at once; more: SERVFAIL */
/* Header, the largest question (255 + 4) and a bare OPT record (11). */
#define PROXY_FWD_MAX (DNSMSG_HDR_LEN + 259 + 11)
/* A learned address the map will not let go: retry after 100 ms, doubling to 5 s. */
#define PROXY_SWEEP_BACKOFF_MIN_MS 100
#define PROXY_SWEEP_BACKOFF_MAX_MS 5000

enum { L_UDP4, L_UDP6, L_TCP4, L_TCP6, L_NUM };

struct proxy;

struct conn {
	struct proxy *p;
	int fd;
	struct loop_source *src;
	uint8_t buf[2 + PROXY_MSG_MAX];
	size_t have;
	int refs;    /* the conn, plus one per query in flight */
	bool closed; /* EOF or error: answers still in flight are dropped */
	struct conn *next, *prev; /* the proxy's open connections */
	uint64_t last_ms;         /* last data from the client */
};

struct pending {
	struct proxy *p;
	bool tcp;
	struct conn *conn;              /* tcp */
	int fd;                         /* udp: the listener */
	struct sockaddr_storage peer;   /* udp */
	socklen_t peerlen;
	uint16_t id;                    /* the client's query id */
	size_t udp_max;                 /* largest answer the UDP client takes */
	struct dnsmsg_query q;
	struct namematch_hit hit;
	bool allowed;                   /* the allowlist allows the name */
	uint8_t *query;                 /* kept to build a SERVFAIL */
	size_t qlen;
	bool inflight;                  /* counted in proxy.inflight */
};

struct proxy {
	struct loop *loop;
	int fd[L_NUM];
	struct loop_source *src[L_NUM];
	uint16_t port;
	struct proxy_config cfg;
	struct egress_bpf *skel;
	struct aresloop *al_udp, *al_tcp;
	ares_channel ch_udp, ch_tcp;
	int nconns;
	struct conn *conns;
	unsigned int inflight;       /* queries sent upstream, not answered */
	bool started;
	struct loop_source *sweeper; /* expires learned addresses */
	uint64_t owner_sec;          /* report()'s rate limit */
	unsigned int owner_lookups;
	struct learn_ops ops;        /* learn.c -> the BPF learned maps */
	struct proxy_faults faults;  /* for egressd status */
	uint32_t sweep_backoff_ms;   /* 0, or removals are failing: the retry delay */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Not inlined: gcc cannot see that a caller holding a ref keeps c alive. */
static __attribute__((noinline)) void conn_put(struct conn *c)
{
	if (--c->refs)
		return;
	free(c);
}

static void conn_close(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = true;
	loop_remove(c->src);
	loader_unexempt_socket(c->p->skel, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->p->nconns--;
	conn_put(c);
}

/* Send one reply where the query came from. */
static void reply(struct pending *pq, const uint8_t *msg, size_t len)
{
	if (!pq->tcp) {
		sendto(pq->fd, msg, len, MSG_DONTWAIT, (struct sockaddr *)&pq->peer, pq->peerlen);
		return;
	}
	if (pq->conn->closed || len > PROXY_MSG_MAX)
		return;

	uint8_t lb[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	struct iovec iov[2] = { { lb, 2 }, { (void *)msg, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	/* A client that does not read its answers loses its connection. */
	if (sendmsg(pq->conn->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)(len + 2))
		conn_close(pq->conn);
}

static void reply_rcode(struct pending *pq, const uint8_t *query, size_t qlen, int rcode)
{
	uint8_t out[600];
	size_t n;

	if (dnsmsg_build_reply(query, qlen, rcode, out, sizeof(out), &n) == 0)
		reply(pq, out, n);
}

static const char *qtype_str(uint16_t t, char *buf, size_t len)
{
	switch (t) {
	case ns_t_a: return "A";
	case ns_t_aaaa: return "AAAA";
	case ns_t_cname: return "CNAME";
	case ns_t_mx: return "MX";
	case ns_t_txt: return "TXT";
	case ns_t_srv: return "SRV";
	case ns_t_ns: return "NS";
	case ns_t_ptr: return "PTR";
	case ns_t_soa: return "SOA";
	case 65: return "HTTPS";
	case 64: return "SVCB";
	case ns_t_any: return "ANY";
	case ns_t_axfr: return "AXFR";
	case ns_t_ixfr: return "IXFR";
	}
	snprintf(buf, len, "TYPE%u", t);
	return buf;
}

/* A deny line for a query (or, in audit mode, the record of one). */
static void report(struct pending *pq, const char *reason)
{
	struct proxy *p = pq->p;
	struct sockowner who = { 0 };
	uint64_t sec = mono_ms() / 1000;
	char tb[16];

	/*
	 * Naming the process reads /proc: at most PROXY_OWNER_LOOKUPS a
	 * second, so a flood of refused names costs egressd little (the
	 * lines past it say "a process").
	 */
	if (sec != p->owner_sec) {
		p->owner_sec = sec;
		p->owner_lookups = 0;
	}
	if (p->owner_lookups++ < PROXY_OWNER_LOOKUPS) {
		if (pq->tcp)
			sockowner_tcp(p->cfg.cgroup_dir, pq->conn->fd, &who);
		else
			sockowner_udp(p->cfg.cgroup_dir, (struct sockaddr *)&pq->peer, &who);
	}
	events_dns(pq->p->cfg.events, who.pid, who.uid, who.comm, pq->q.name,
		   qtype_str(pq->q.qtype, tb, sizeof(tb)), reason, pq->p->cfg.audit);
}

static void pending_free(struct pending *pq)
{
	if (pq->inflight)
		pq->p->inflight--;
	if (pq->tcp)
		conn_put(pq->conn);
	free(pq->query);
	free(pq);
}


/* learn.c's map operations: one BPF map update or delete each. */
static int map_update(void *ctx, const struct addr *a, const struct learn_value *v)
{
	struct proxy *p = ctx;
	/* Both clocks are CLOCK_MONOTONIC: bpf_ktime_get_ns() is too. */
	struct egress_learned l = { .expires_ns = v->expiry_ms * 1000000ULL };

	if (v->ports.all) {
		l.flags = EGRESS_RULE_ALL_PORTS;
	} else {
		l.nports = v->ports.n;
		memcpy(l.ports, v->ports.ports, sizeof(l.ports));
	}
	return loader_learn(p->skel, a, &l);
}

static int map_remove(void *ctx, const struct addr *a)
{
	struct proxy *p = ctx;

	return loader_unlearn(p->skel, a);
}

/*
 * Arm the sweeper for the next expiry (or a retry, "now").  While
 * removals fail, retries wait sweep_backoff_ms: the kernel checks each
 * entry's expiry itself, so an entry egressd could not delete no longer
 * passes anyway, and retrying every millisecond would only spin.
 */
static void arm_sweeper(struct proxy *p)
{
	uint64_t at, now = mono_ms(), us;

	if (learn_next_expiry(p->cfg.learn, &at)) {
		loop_timer_arm(p->sweeper, 0);
		return;
	}
	us = at > now ? (at - now) * 1000 : 1000;
	if (us < (uint64_t)p->sweep_backoff_ms * 1000)
		us = (uint64_t)p->sweep_backoff_ms * 1000;
	loop_timer_arm(p->sweeper, us);
}

static int on_sweep(struct loop_source *s, void *userdata)
{
	struct proxy *p = userdata;
	int ret;

	(void)s;
	ret = learn_sweep(p->cfg.learn, mono_ms(), &p->ops);
	if (ret) {
		p->faults.expire_failed++;
		/* Said once per run of failures, not once per retry. */
		if (!p->sweep_backoff_ms) {
			pr_warn("DNS proxy: cannot expire a learned address: %s (retrying; the kernel refuses it past its expiry meanwhile)",
				strerror(-ret));
			p->sweep_backoff_ms = PROXY_SWEEP_BACKOFF_MIN_MS;
		} else if (p->sweep_backoff_ms < PROXY_SWEEP_BACKOFF_MAX_MS) {
			p->sweep_backoff_ms *= 2;
			if (p->sweep_backoff_ms > PROXY_SWEEP_BACKOFF_MAX_MS)
				p->sweep_backoff_ms = PROXY_SWEEP_BACKOFF_MAX_MS;
		}
	} else if (p->sweep_backoff_ms) {
		pr_info("DNS proxy: expired learned addresses removed after %llu failed attempts",
			(unsigned long long)p->faults.expire_failed);
		p->sweep_backoff_ms = 0;
	}
	arm_sweeper(p);
	return 0;
}

/*
 * Learn addrs under name.  Addresses learn.c refuses (the rebinding
 * guard, the caps) are said once each, the first PROXY_WARN_PER_ANSWER
 * of an answer by address and the rest in one count: an answer of 256
 * addresses past the cap is not 256 lines.  A failed map update fails
 * the answer, so the workload never gets an address it could not reach.
 */
static int proxy_learn(struct proxy *p, const char *name, const struct namematch_hit *hit,
		       const struct dnsmsg_addr *addrs, size_t n)
{
	enum learn_verdict v[PROXY_MAX_ADDRS];
	char a[ADDR_STRLEN];
	size_t said = 0, more = 0;
	int ret;

	ret = learn_answer(p->cfg.learn, name, hit->exact, hit->ports.all ? NULL : &hit->ports,
			   addrs, n, mono_ms(), &p->ops, v);

	for (size_t i = 0; i < n; i++) {
		if (!learn_verdict_dropped(v[i]))
			continue;
		if (said++ < PROXY_WARN_PER_ANSWER)
			pr_warn("DNS proxy: %s -> %s not learned: %s", name,
				addr_format(&addrs[i].addr, a, sizeof(a)), learn_verdict_str(v[i]));
		else
			more++;
	}
	if (more)
		pr_warn("DNS proxy: %s: %zu more addresses of this answer not learned", name, more);
	arm_sweeper(p);
	return ret;
}

/* Learn the answer's addresses under the name that allowed them. */
static int learn_from(struct pending *pq, const uint8_t *abuf, size_t alen)
{
	struct dnsmsg_addr addrs[PROXY_MAX_ADDRS];
	size_t n = 0;
	int ret;

	ret = dnsmsg_answer_addrs(abuf, alen, pq->q.name, pq->q.qtype, addrs, PROXY_MAX_ADDRS, &n);
	if (ret)
		return ret;
	if (!pq->allowed) {
		/* Audit: name the addresses for the summary; allow nothing. */
		for (size_t i = 0; i < n; i++)
			events_learned_name(pq->p->cfg.events, &addrs[i].addr, pq->q.name);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		events_learned_name(pq->p->cfg.events, &addrs[i].addr, pq->q.name);
	return proxy_learn(pq->p, pq->q.name, &pq->hit, addrs, n);
}

static void on_upstream(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct pending *pq = arg;
	uint8_t *out;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		pending_free(pq);
		return;
	}
	if (status != ARES_SUCCESS || alen < HFIXEDSZ) {
		pr_warn("DNS proxy: upstream failed for %s: %s; answered SERVFAIL", pq->q.name,
			ares_strerror(status));
		pq->p->faults.upstream_failed++;
		reply_rcode(pq, pq->query, pq->qlen, ns_r_servfail);
		pending_free(pq);
		return;
	}
	if (pq->q.qtype == ns_t_a || pq->q.qtype == ns_t_aaaa) {
		int ret = learn_from(pq, abuf, (size_t)alen);

		if (ret) {
			pr_warn("DNS proxy: cannot use the answer for %s: %s; answered SERVFAIL",
				pq->q.name, strerror(-ret));
			pq->p->faults.learn_failed++;
			reply_rcode(pq, pq->query, pq->qlen, ns_r_servfail);
			pending_free(pq);
			return;
		}
	}
	out = malloc((size_t)alen);
	if (!out) {
		reply_rcode(pq, pq->query, pq->qlen, ns_r_servfail);
		pending_free(pq);
		return;
	}
	memcpy(out, abuf, (size_t)alen);
	/* c-ares sent it with an id of its own. */
	out[0] = (uint8_t)(pq->id >> 8);
	out[1] = (uint8_t)pq->id;
	/* The name went up lowercased: give the client back its own spelling. */
	if ((size_t)alen >= pq->q.len &&
	    dnsmsg_same_wire_name(out + DNSMSG_HDR_LEN, pq->query + DNSMSG_HDR_LEN,
				  pq->q.len - DNSMSG_HDR_LEN - 4))
		memcpy(out + DNSMSG_HDR_LEN, pq->query + DNSMSG_HDR_LEN,
		       pq->q.len - DNSMSG_HDR_LEN - 4);
	if (!pq->tcp && (size_t)alen > pq->udp_max) {
		/* Too big for the client: truncated, so it asks again over TCP. */
		uint8_t tc[600];
		size_t n;

		if (dnsmsg_build_reply(pq->query, pq->qlen, ns_r_noerror, tc, sizeof(tc), &n) == 0) {
			tc[2] |= 0x02; /* TC */
			reply(pq, tc, n);
		}
	} else {
		reply(pq, out, (size_t)alen);
	}
	free(out);
	pending_free(pq);
}

/* What an UDP client can take: 512, or its EDNS0 payload size. */
static size_t udp_limit(const uint8_t *q, size_t len, size_t qend)
{
	/* ARCOUNT 1 and an OPT record right after the question. */
	if (len >= qend + 11 && ((q[10] << 8) | q[11]) >= 1 && q[qend] == 0 &&
	    ((q[qend + 1] << 8) | q[qend + 2]) == ns_t_opt) {
		size_t sz = (size_t)((q[qend + 3] << 8) | q[qend + 4]);

		return sz < 512 ? 512 : sz;
	}
	return 512;
}

/*
 * What goes upstream is rebuilt, never the client's bytes: the header
 * (id, RD and CD only), the question with its name lowercased, and, when
 * the client sent EDNS, a bare OPT record (its payload size and DO bit, no
 * options).  Everything else a query can carry (answer, authority and
 * additional records, EDNS options, trailing bytes, the Z bit, the case of
 * the name's letters) would reach the resolver: a way out for data.
 */
static size_t upstream_query(const struct pending *pq, const uint8_t *msg, size_t len,
			     uint8_t *out)
{
	size_t n = pq->q.len, qend = pq->q.len;
	uint16_t flags = pq->q.flags & (DNSMSG_F_RD | DNSMSG_F_CD);

	memcpy(out, msg, n);
	dnsmsg_lower_wire_name(out + DNSMSG_HDR_LEN, n - DNSMSG_HDR_LEN - 4);
	out[2] = (uint8_t)(flags >> 8);
	out[3] = (uint8_t)flags;
	memset(out + 4, 0, 8);
	out[5] = 1; /* QDCOUNT */
	if (len >= qend + 11 && ((msg[10] << 8) | msg[11]) >= 1 && msg[qend] == 0 &&
	    ((msg[qend + 1] << 8) | msg[qend + 2]) == ns_t_opt) {
		size_t sz = pq->udp_max > 4096 ? 4096 : pq->udp_max;
		uint8_t opt[11] = { 0, 0, 41, (uint8_t)(sz >> 8), (uint8_t)sz, 0, 0,
				    (uint8_t)(msg[qend + 7] & 0x80), 0, 0, 0 };

		memcpy(out + n, opt, sizeof(opt));
		n += sizeof(opt);
		out[11] = 1; /* ARCOUNT */
	}
	return n;
}

static void handle_query(struct proxy *p, struct pending *pq, const uint8_t *msg, size_t len)
{
	uint8_t fwd[PROXY_FWD_MAX];
	size_t flen;
	int ret;

	pq->p = p;
	if (len < 2) {
		pending_free(pq);
		return;
	}
	pq->id = (uint16_t)((msg[0] << 8) | msg[1]);
	pq->query = malloc(len);
	if (!pq->query) {
		pending_free(pq);
		return;
	}
	memcpy(pq->query, msg, len);
	pq->qlen = len;
	if (dnsmsg_parse_query(msg, len, &pq->q)) {
		reply_rcode(pq, msg, len, ns_r_formerr);
		pending_free(pq);
		return;
	}
	pq->udp_max = udp_limit(msg, len, pq->q.len);
	if (dnsmsg_qtype_policy(pq->q.qtype) != DNSMSG_FORWARD || pq->q.qclass != DNSMSG_CLASS_IN) {
		report(pq, pq->q.qclass != DNSMSG_CLASS_IN ? "query class refused" : "query type refused");
		reply_rcode(pq, msg, len, ns_r_refused);
		pending_free(pq);
		return;
	}
	ret = namematch_lookup(p->cfg.names, pq->q.name, &pq->hit);
	pq->allowed = ret == 0;
	if (!pq->allowed) {
		report(pq, ret == -E2BIG ? "too many ports for one rule" : "name not in allowlist");
		if (!p->cfg.audit) {
			reply_rcode(pq, msg, len, p->cfg.deny_rcode);
			pending_free(pq);
			return;
		}
	}
	if (p->inflight >= PROXY_MAX_INFLIGHT) {
		reply_rcode(pq, msg, len, ns_r_servfail);
		pending_free(pq);
		return;
	}
	flen = upstream_query(pq, msg, len, fwd);
	pq->inflight = true;
	p->inflight++;
	ares_send(pq->tcp ? p->ch_tcp : p->ch_udp, fwd, (int)flen, on_upstream, pq);
	/* Arm the timeout: a silent upstream must still end in SERVFAIL. */
	aresloop_kick(pq->tcp ? p->al_tcp : p->al_udp);
}

static int on_udp(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct proxy *p = userdata;
	uint8_t buf[PROXY_MSG_MAX];

	(void)s;
	(void)revents;
	/* A bounded batch per wakeup, so a flood cannot starve the loop. */
	for (int i = 0; i < 64; i++) {
		struct pending *pq = calloc(1, sizeof(*pq));
		ssize_t n;

		if (!pq)
			return 0;
		pq->fd = fd;
		pq->peerlen = sizeof(pq->peer);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&pq->peer,
			     &pq->peerlen);
		if (n < 0) {
			free(pq);
			return 0;
		}
		if (!p->started) {
			free(pq);
			continue;
		}
		handle_query(p, pq, buf, (size_t)n);
	}
	return 0;
}

static int on_conn(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct conn *c = userdata;
	ssize_t n;

	(void)s;
	(void)revents;
	n = recv(fd, c->buf + c->have, sizeof(c->buf) - c->have, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return 0;
	}
	c->have += (size_t)n;
	c->last_ms = mono_ms();
	/* Hold c: a reply that fails closes it, and its last query would free it. */
	c->refs++;
	while (!c->closed && c->have >= 2) {
		size_t len = (size_t)((c->buf[0] << 8) | c->buf[1]);
		struct pending *pq;

		if (c->have < 2 + len)
			break;
		pq = calloc(1, sizeof(*pq));
		if (!pq) {
			conn_close(c);
			break;
		}
		pq->tcp = true;
		pq->conn = c;
		c->refs++;
		handle_query(c->p, pq, c->buf + 2, len);
		memmove(c->buf, c->buf + 2 + len, c->have - 2 - len);
		c->have -= 2 + len;
	}
	conn_put(c);
	return 0;
}

static int on_accept(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct proxy *p = userdata;
	struct conn *c;
	int cfd;

	(void)s;
	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return 0;
	if (!p->started) {
		close(cfd);
		return 0;
	}
	/*
	 * Full: the least recently active connection makes room, so clients
	 * that open connections and hold them cannot lock TCP DNS out.
	 */
	if (p->nconns >= PROXY_MAX_CONNS) {
		struct conn *old = p->conns;

		for (struct conn *i = p->conns; i; i = i->next) {
			if (i->last_ms < old->last_ms)
				old = i;
		}
		if (old)
			conn_close(old);
	}
	/*
	 * Exempt, as the listeners are: where egressd filters its own cgroup
	 * (--cgroup self) under a loopback port list, only the exempt set
	 * lets this socket's answers reach the client's port.
	 */
	if (loader_exempt_socket(p->skel, cfd)) {
		pr_warn("DNS proxy: cannot exempt a TCP client's socket; closing it");
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		loader_unexempt_socket(p->skel, cfd);
		close(cfd);
		return 0;
	}
	c->p = p;
	c->fd = cfd;
	c->refs = 1;
	if (loop_add_io(p->loop, cfd, EPOLLIN, on_conn, c, &c->src)) {
		loader_unexempt_socket(p->skel, cfd);
		close(cfd);
		free(c);
		return 0;
	}
	c->last_ms = mono_ms();
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->nconns++;
	return 0;
}

static int bind_one(int family, int type, uint16_t port, int *fd_out, uint16_t *port_out)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	int fd, one = 1;

	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    (type == SOCK_STREAM && listen(fd, 64))) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (port_out) {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len)) {
			int err = -errno;

			close(fd);
			return err;
		}
		*port_out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	*fd_out = fd;
	return 0;
}

static void close_listeners(struct proxy *p)
{
	for (int i = 0; i < L_NUM; i++) {
		loop_remove(p->src[i]);
		p->src[i] = NULL;
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
	}
}

int proxy_open(struct loop *l, struct proxy **out, uint16_t *port_out)
{
	struct proxy *p = calloc(1, sizeof(*p));
	int ret = -EADDRINUSE;

	if (!p)
		return -ENOMEM;
	p->loop = l;
	for (int i = 0; i < L_NUM; i++)
		p->fd[i] = -1;
	/* One port on both loopbacks, both transports: retry if taken. */
	for (int attempt = 0; attempt < 32 && ret; attempt++) {
		close_listeners(p);
		ret = bind_one(AF_INET, SOCK_DGRAM, 0, &p->fd[L_UDP4], &p->port);
		if (!ret)
			ret = bind_one(AF_INET, SOCK_STREAM, p->port, &p->fd[L_TCP4], NULL);
		if (!ret)
			ret = bind_one(AF_INET6, SOCK_DGRAM, p->port, &p->fd[L_UDP6], NULL);
		if (!ret)
			ret = bind_one(AF_INET6, SOCK_STREAM, p->port, &p->fd[L_TCP6], NULL);
		if (ret && ret != -EADDRINUSE)
			break;
	}
	if (ret) {
		pr_err("cannot listen for the DNS proxy on 127.0.0.1 and ::1: %s (use --no-dns-proxy to run without it)",
		       strerror(-ret));
		goto fail;
	}
	for (int i = 0; i < L_NUM && !ret; i++)
		ret = loop_add_io(l, p->fd[i], EPOLLIN, i < L_TCP4 ? on_udp : on_accept, p, &p->src[i]);
	if (ret) {
		pr_err("cannot watch the DNS proxy's sockets: %s", strerror(-ret));
		goto fail;
	}
	*out = p;
	*port_out = p->port;
	return 0;
fail:
	close_listeners(p);
	free(p);
	return ret;
}

/*
 * c-ares' upstream sockets, made here so that each is exempted from the
 * redirect before it connects (egressd may itself be in the filtered
 * cgroup) and un-exempted before it closes (the exempt map is not LRU:
 * an evicted upstream would loop back into the proxy).  A socket that
 * cannot be exempted is not handed to c-ares: that query fails, SERVFAIL.
 */
static ares_socket_t up_open(int af, int type, int proto, void *data)
{
	struct proxy *p = data;
	int fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto), ret;

	if (fd < 0)
		return ARES_SOCKET_BAD;
	ret = loader_exempt_socket(p->skel, fd);
	if (ret) {
		pr_warn("DNS proxy: cannot exempt an upstream socket: %s; its query fails",
			strerror(-ret));
		close(fd);
		return ARES_SOCKET_BAD;
	}
	return fd;
}

static int up_close(ares_socket_t fd, void *data)
{
	struct proxy *p = data;

	loader_unexempt_socket(p->skel, fd);
	return close(fd);
}

static int up_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len, void *data)
{
	(void)data;
	return connect(fd, sa, len);
}

static ares_ssize_t up_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
				struct sockaddr *from, ares_socklen_t *fromlen, void *data)
{
	(void)data;
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

static ares_ssize_t up_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *data)
{
	(void)data;
	return writev(fd, iov, n);
}

static const struct ares_socket_functions up_funcs = {
	.asocket = up_open,
	.aclose = up_close,
	.aconnect = up_connect,
	.arecvfrom = up_recvfrom,
	.asendv = up_sendv,
};

static int upstream_channel(struct proxy *p, bool tcp, struct aresloop **al_out, ares_channel *out)
{
	const struct aresloop_channel_opts o = {
		.timeout_ms = PROXY_UPSTREAM_TIMEOUT_MS,
		.tries = PROXY_UPSTREAM_TRIES,
		.tcp = tcp,
		.funcs = &up_funcs,
		.funcs_data = p,
	};
	int ret;

	ret = aresloop_new(p->loop, NULL, NULL, al_out);
	if (ret)
		return ret;
	return aresloop_channel(*al_out, p->cfg.resolvers, p->cfg.nresolvers, &o, out);
}

int proxy_start(struct proxy *p, const struct proxy_config *c, struct egress_bpf *skel)
{
	int ret;

	p->cfg = *c;
	p->skel = skel;
	p->ops = (struct learn_ops){ .update = map_update, .remove = map_remove, .ctx = p };
	/*
	 * The listeners too: an answer to a client bound to port 53 must
	 * not be redirected back to the proxy.
	 */
	for (int i = 0; i < L_NUM; i++) {
		ret = loader_exempt_socket(skel, p->fd[i]);
		if (ret) {
			pr_err("cannot exempt the DNS proxy's sockets from the redirect: %s",
			       strerror(-ret));
			return ret;
		}
	}
	ret = loop_add_timer(p->loop, on_sweep, p, &p->sweeper);
	if (ret) {
		pr_err("cannot set up the learned-address sweeper: %s", strerror(-ret));
		return ret;
	}
	ret = upstream_channel(p, false, &p->al_udp, &p->ch_udp);
	if (!ret)
		ret = upstream_channel(p, true, &p->al_tcp, &p->ch_tcp);
	if (ret) {
		pr_err("cannot set up the DNS proxy's upstream: %s", strerror(-ret));
		return ret;
	}
	p->started = true;
	return 0;
}

void proxy_get_faults(const struct proxy *p, struct proxy_faults *out)
{
	*out = p->faults;
}

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	close_listeners(p);
	while (p->conns)
		conn_close(p->conns);
	/* Pending queries call back with ARES_EDESTRUCTION and free themselves. */
	if (p->ch_udp)
		ares_destroy(p->ch_udp);
	if (p->ch_tcp)
		ares_destroy(p->ch_tcp);
	aresloop_free(p->al_udp);
	aresloop_free(p->al_tcp);
	loop_remove(p->sweeper);
	free(p);
}
