// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the DNS proxy's whole message path, as proxy.c runs it.
 * proxy.c is #included, so its own static handle_query() and
 * on_upstream() run unchanged: parse the workload's query, refuse or
 * match it against the allowlist, rebuild it for upstream, then take
 * upstream's answer, learn its addresses (learn.c) and rewrite it for
 * the client.  Only the edges are replaced: sendto()/sendmsg() capture
 * the replies, ares_send() captures the forwarded query, clock_gettime()
 * is a fake clock, and the BPF map is a table here.
 *
 * The input is a sequence of exchanges, each
 *   [flags:1] [query length:2] [query] [answer length:2] [answer]
 * flags: bit 0 TCP, bit 1 audit mode, bit 2 the map update fails, bit 3
 * upstream fails (timeout), bits 4-7 seconds to advance the clock by
 * (times 16).  One learn book lives through all exchanges of an input.
 *
 * Checked: every query gets at most one reply, with the client's id and
 * QR set; the forwarded query is the rebuilt one (one question, the name
 * lowercased, no records but a bare OPT, never the client's extra bytes);
 * names reach the deny and learned lines as printable ASCII;
 * a name the allowlist refuses is never forwarded (but in audit mode) and
 * never learned; no metadata address is ever learned, and a private one
 * only for an exact name; an address the client gets in a NOERROR answer
 * is in the map before the reply goes out (where no cap applies); a failed
 * map update means SERVFAIL; and at the end, when every vouch has
 * expired, the map is empty again.
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

#include <ares.h>

#include "fuzz.h"

static ssize_t fuzz_sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *to, socklen_t tolen);
static ssize_t fuzz_sendmsg(int fd, const struct msghdr *mh, int flags);
static void fuzz_ares_send(ares_channel ch, const unsigned char *qbuf, int qlen,
			   ares_callback cb, void *arg);
static int fuzz_clock_gettime(clockid_t id, struct timespec *ts);

#define sendto fuzz_sendto
#define sendmsg fuzz_sendmsg
#define ares_send fuzz_ares_send
#define clock_gettime fuzz_clock_gettime
#include "../user/proxy.c"
#undef sendto
#undef sendmsg
#undef ares_send
#undef clock_gettime

#define MAX_REPLIES 4
#define MAP_MAX 256

/* ---- the edges ------------------------------------------------------- */

static struct {
	uint8_t msg[MAX_REPLIES][PROXY_MSG_MAX];
	size_t len[MAX_REPLIES];
	int n;
} replies;

static struct {
	uint8_t msg[PROXY_FWD_MAX];
	size_t len;
	ares_callback cb;
	void *arg;
	int n;
} fwd;

static struct {
	struct addr addr[MAP_MAX];
	struct learn_value v[MAP_MAX];
	size_t n;
	bool fail;   /* updates fail (-ENOSPC) */
	int nfailed; /* updates that failed in this exchange */
} map;

static uint64_t now_ms = 1000000;

static void capture(const uint8_t *msg, size_t len)
{
	FUZZ_CHECK(replies.n < MAX_REPLIES);
	FUZZ_CHECK(len <= PROXY_MSG_MAX);
	memcpy(replies.msg[replies.n], msg, len);
	replies.len[replies.n++] = len;
}

static ssize_t fuzz_sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *to, socklen_t tolen)
{
	(void)fd;
	(void)flags;
	(void)to;
	(void)tolen;
	capture(buf, len);
	return (ssize_t)len;
}

static ssize_t fuzz_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	const uint8_t *lb = mh->msg_iov[0].iov_base;
	size_t len = mh->msg_iov[1].iov_len;

	(void)fd;
	(void)flags;
	FUZZ_CHECK(mh->msg_iovlen == 2 && mh->msg_iov[0].iov_len == 2);
	FUZZ_CHECK((size_t)((lb[0] << 8) | lb[1]) == len);
	capture(mh->msg_iov[1].iov_base, len);
	return (ssize_t)(len + 2);
}

static void fuzz_ares_send(ares_channel ch, const unsigned char *qbuf, int qlen,
			   ares_callback cb, void *arg)
{
	(void)ch;
	FUZZ_CHECK(fwd.n == 0);
	FUZZ_CHECK(qlen > 0 && (size_t)qlen <= sizeof(fwd.msg));
	memcpy(fwd.msg, qbuf, (size_t)qlen);
	fwd.len = (size_t)qlen;
	fwd.cb = cb;
	fwd.arg = arg;
	fwd.n++;
}

static int fuzz_clock_gettime(clockid_t id, struct timespec *ts)
{
	(void)id;
	ts->tv_sec = (time_t)(now_ms / 1000);
	ts->tv_nsec = (long)(now_ms % 1000) * 1000000;
	return 0;
}

static ssize_t map_find(const struct addr *a)
{
	for (size_t i = 0; i < map.n; i++)
		if (addr_equal(&map.addr[i], a))
			return (ssize_t)i;
	return -1;
}

int loader_learn(struct egress_bpf *skel, const struct addr *a, const struct egress_learned *v)
{
	struct learn_value lv = { 0 };
	ssize_t i;

	(void)skel;
	if (map.fail) {
		map.nfailed++;
		return -ENOSPC;
	}
	FUZZ_CHECK(learn_classify(a) != LEARN_METADATA);
	FUZZ_CHECK(v->nports <= EGRESS_MAX_PORTS);
	FUZZ_CHECK((v->flags & EGRESS_RULE_ALL_PORTS) || v->nports > 0);
	lv.expiry_ms = v->expires_ns / 1000000;
	i = map_find(a);
	if (i < 0) {
		FUZZ_CHECK(map.n < MAP_MAX);
		i = (ssize_t)map.n++;
		map.addr[i] = *a;
	}
	map.v[i] = lv;
	return 0;
}

int loader_unlearn(struct egress_bpf *skel, const struct addr *a)
{
	ssize_t i = map_find(a);

	(void)skel;
	if (i < 0)
		return -ENOENT;
	map.addr[i] = map.addr[map.n - 1];
	map.v[i] = map.v[map.n - 1];
	map.n--;
	return 0;
}

int loader_exempt_socket(struct egress_bpf *skel, int fd)
{
	(void)skel;
	(void)fd;
	return 0;
}

int loader_unexempt_socket(struct egress_bpf *skel, int fd)
{
	(void)skel;
	(void)fd;
	return 0;
}

void events_learned_name(struct events *ev, const struct addr *a, const char *name)
{
	(void)ev;
	(void)a;
	FUZZ_CHECK(strlen(name) < DNSMSG_NAME_STRLEN);
	FUZZ_CHECK_MSG(name); /* c-ares writes odd bytes as \DDD */
}

void events_dns(struct events *ev, pid_t pid, uid_t uid, const char *comm, const char *name,
		const char *qtype, const char *reason, bool audit)
{
	(void)ev;
	(void)pid;
	(void)uid;
	(void)comm;
	(void)audit;
	FUZZ_CHECK(name && qtype && reason);
	/* The deny line names what the workload asked: never raw bytes. */
	FUZZ_CHECK_MSG(name);
	FUZZ_CHECK_MSG(qtype);
}

void sockowner_udp(const char *cgroup_dir, const struct sockaddr *peer, struct sockowner *out)
{
	(void)cgroup_dir;
	(void)peer;
	(void)out;
}

void sockowner_tcp(const char *cgroup_dir, int connfd, struct sockowner *out)
{
	(void)cgroup_dir;
	(void)connfd;
	(void)out;
}

/* The loop: the sweeper's timer is all the exchanges reach. */
static int sweeper_dummy;

int loop_timer_arm(struct loop_source *s, uint64_t usec)
{
	(void)usec;
	FUZZ_CHECK(s == (struct loop_source *)&sweeper_dummy);
	return 0;
}

void loop_remove(struct loop_source *s)
{
	(void)s;
}

int loop_add_io(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *userdata,
		struct loop_source **out)
{
	(void)l, (void)fd, (void)events, (void)fn, (void)userdata, (void)out;
	return -ENOSYS;
}

int loop_add_timer(struct loop *l, loop_timer_fn fn, void *userdata, struct loop_source **out)
{
	(void)l, (void)fn, (void)userdata, (void)out;
	return -ENOSYS;
}

int aresloop_new(struct loop *l, void (*on_stall)(void *userdata), void *userdata,
		 struct aresloop **out)
{
	(void)l, (void)on_stall, (void)userdata, (void)out;
	return -ENOSYS;
}

int aresloop_channel(struct aresloop *al, const struct resolver *servers, size_t nservers,
		     const struct aresloop_channel_opts *o, ares_channel *out)
{
	(void)al, (void)servers, (void)nservers, (void)o, (void)out;
	return -ENOSYS;
}

void aresloop_kick(struct aresloop *al)
{
	(void)al;
}

void aresloop_free(struct aresloop *al)
{
	(void)al;
}

/* ---- the allowlist --------------------------------------------------- */

static const char *const allow[] = {
	"example.com", "www.example.com:443", "www.example.com:8443", "*.example.org:443",
	"*.cdn.example.net", "internal.example", "xn--bcher-kva.example",
};
static struct namematch *names;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct entry e[sizeof(allow) / sizeof(allow[0])];
	char err[512];

	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_QUIET);
	for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		if (entry_parse(allow[i], &e[i], err, sizeof(err)))
			abort();
	if (namematch_build(e, sizeof(allow) / sizeof(allow[0]), &names, err, sizeof(err)))
		abort();
	return 0;
}

/* ---- one exchange ---------------------------------------------------- */

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* The rebuilt query: header, the question lowercased, maybe a bare OPT. */
static void check_forwarded(const struct dnsmsg_query *cq)
{
	struct dnsmsg_query q;

	FUZZ_CHECK(dnsmsg_parse_query(fwd.msg, fwd.len, &q) == 0);
	FUZZ_CHECK(!strcmp(q.name, cq->name) && q.qtype == cq->qtype && q.qclass == cq->qclass);
	FUZZ_CHECK((q.flags & ~(DNSMSG_F_RD | DNSMSG_F_CD)) == 0);
	FUZZ_CHECK(get16(fwd.msg + 6) == 0 && get16(fwd.msg + 8) == 0);
	for (size_t i = DNSMSG_HDR_LEN; i < q.len - 4; i++)
		FUZZ_CHECK(fwd.msg[i] < 'A' || fwd.msg[i] > 'Z');
	if (fwd.len == q.len) {
		FUZZ_CHECK(get16(fwd.msg + 10) == 0);
	} else {
		FUZZ_CHECK(fwd.len == q.len + 11 && get16(fwd.msg + 10) == 1);
		FUZZ_CHECK(fwd.msg[q.len] == 0 && get16(fwd.msg + q.len + 1) == ns_t_opt);
		FUZZ_CHECK(get16(fwd.msg + q.len + 9) == 0); /* no options */
	}
}

/* IPv4-mapped IPv6 as the IPv4 it is, as learn.c and the BPF side fold it. */
static struct addr fold(const struct addr *in)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct addr a = { .family = AF_INET };

	if (in->family != AF_INET6 || memcmp(in->bytes, mapped, 12))
		return *in;
	memcpy(a.bytes, in->bytes + 12, 4);
	return a;
}

/*
 * An answer the client got as NOERROR: every address the proxy takes from
 * it (dnsmsg_answer_addrs()) that the guard lets through is in the map,
 * unexpired, before the client could read the answer.  Only where no cap
 * applies: at most max_ips_per_name addresses, the total not reached.
 */
static void check_learned(const struct dnsmsg_query *cq, const struct namematch_hit *hit,
			  const uint8_t *ans, size_t alen)
{
	struct dnsmsg_addr addrs[8];
	size_t n = 0;

	if (dnsmsg_answer_addrs(ans, alen, cq->name, cq->qtype, addrs, 8, &n) || n > 4 ||
	    map.n >= 16)
		return;
	for (size_t i = 0; i < n; i++) {
		struct addr f = fold(&addrs[i].addr);
		enum learn_class k = learn_classify(&f);
		ssize_t j;

		if (k == LEARN_METADATA || (k == LEARN_PRIVATE && !hit->exact))
			continue;
		j = map_find(&f);
		FUZZ_CHECK(j >= 0);
		FUZZ_CHECK(map.v[j].expiry_ms > now_ms);
	}
}

static void exchange(struct proxy *p, uint8_t flags, const uint8_t *q, size_t qlen,
		     const uint8_t *a, size_t alen)
{
	struct namematch_hit hit;
	struct dnsmsg_query cq;
	struct pending *pq;
	struct conn *c = NULL;
	bool parsed, allowed, forwarded;
	size_t before = map.n;

	replies.n = 0;
	fwd.n = 0;
	map.fail = flags & 4;
	map.nfailed = 0;
	p->cfg.audit = flags & 2;
	now_ms += (uint64_t)(flags >> 4) * 16000;

	pq = calloc(1, sizeof(*pq));
	if (!pq)
		abort();
	if (flags & 1) {
		c = calloc(1, sizeof(*c));
		if (!c)
			abort();
		c->p = p;
		c->fd = -1;
		c->refs = 2; /* ours, and on_conn's for the query */
		pq->tcp = true;
		pq->conn = c;
	} else {
		pq->fd = -1;
		pq->peerlen = sizeof(struct sockaddr_in);
	}
	parsed = dnsmsg_parse_query(q, qlen, &cq) == 0;
	allowed = parsed && namematch_lookup(names, cq.name, &hit) == 0;
	handle_query(p, pq, q, qlen);
	forwarded = fwd.n == 1;

	if (!parsed || dnsmsg_qtype_policy(cq.qtype) != DNSMSG_FORWARD ||
	    cq.qclass != DNSMSG_CLASS_IN)
		FUZZ_CHECK(!forwarded);
	if (parsed && !allowed && !p->cfg.audit)
		FUZZ_CHECK(!forwarded);
	if (!forwarded) {
		/* Answered at once (or dropped: fewer than 2 bytes, a response). */
		FUZZ_CHECK(replies.n <= 1);
		if (replies.n) {
			FUZZ_CHECK(replies.len[0] >= DNSMSG_HDR_LEN);
			FUZZ_CHECK(!memcmp(replies.msg[0], q, 2));
			FUZZ_CHECK(replies.msg[0][2] & 0x80);
			FUZZ_CHECK((replies.msg[0][3] & 0xf) != DNSMSG_NOERROR);
		}
		goto out;
	}
	FUZZ_CHECK(parsed && replies.n == 0);
	check_forwarded(&cq);

	/* The answer: what c-ares hands back (it is the caller's to keep). */
	{
		uint8_t *ans = malloc(alen ? alen : 1);

		if (!ans)
			abort();
		memcpy(ans, a, alen);
		fwd.cb(fwd.arg, (flags & 8) ? ARES_ETIMEOUT : ARES_SUCCESS, 0, ans, (int)alen);
		free(ans);
	}
	FUZZ_CHECK(replies.n == 1);
	FUZZ_CHECK(replies.len[0] >= DNSMSG_HDR_LEN);
	FUZZ_CHECK(!memcmp(replies.msg[0], q, 2));
	if (map.nfailed)
		FUZZ_CHECK((replies.msg[0][3] & 0xf) == DNSMSG_SERVFAIL);
	if (!allowed)
		FUZZ_CHECK(map.n == before && map.nfailed == 0);
	for (size_t i = before; i < map.n; i++) {
		if (learn_classify(&map.addr[i]) == LEARN_PRIVATE)
			FUZZ_CHECK(hit.exact);
	}
	if (allowed && map.nfailed == 0 && (cq.qtype == ns_t_a || cq.qtype == ns_t_aaaa) &&
	    !(flags & 8) && (replies.msg[0][3] & 0xf) == DNSMSG_NOERROR)
		check_learned(&cq, &hit, a, alen);
	if (!(flags & 1) && replies.len[0] > 512) { /* pq is freed by now */
		/* Over 512 only for a client that said EDNS. */
		FUZZ_CHECK(get16(q + 10) >= 1);
	}
out:
	if (c)
		conn_put(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct learn_config lc;
	struct proxy *p;
	size_t off = 0;
	int n = 0;

	p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	learn_config_default(&lc);
	/* Small caps, so the fuzzer reaches them. */
	lc.max_ips_per_name = 4;
	lc.max_names_per_addr = 3;
	lc.max_total = 16;
	lc.hash_seed = 1;
	if (learn_new(&lc, &p->cfg.learn))
		abort();
	p->cfg.names = names;
	p->cfg.deny_rcode = ns_r_refused;
	p->ops = (struct learn_ops){ .update = map_update, .remove = map_remove, .ctx = p };
	p->sweeper = (struct loop_source *)&sweeper_dummy;
	p->started = true;
	map.n = 0;
	now_ms = 1000000;

	while (off + 3 <= size && n++ < 16) {
		uint8_t flags = data[off];
		size_t qlen = get16(data + off + 1), alen = 0;
		const uint8_t *q = data + off + 3, *a;
		uint8_t *qcopy;

		off += 3;
		if (qlen > size - off)
			qlen = size - off;
		off += qlen;
		if (off + 2 <= size) {
			alen = get16(data + off);
			off += 2;
			if (alen > size - off)
				alen = size - off;
		}
		a = data + off;
		off += alen;
		/* An exact-size copy, so ASan sees a read past the query. */
		qcopy = malloc(qlen ? qlen : 1);
		if (!qcopy)
			abort();
		memcpy(qcopy, q, qlen);
		exchange(p, flags, qcopy, qlen, a, alen);
		free(qcopy);
	}

	/* Every vouch expired: the map must be as empty as the books. */
	map.fail = false;
	now_ms += 2ULL * 86400 * 1000;
	FUZZ_CHECK(learn_sweep(p->cfg.learn, now_ms, &p->ops) == 0);
	FUZZ_CHECK(learn_count(p->cfg.learn) == 0);
	FUZZ_CHECK(map.n == 0);
	learn_free(p->cfg.learn);
	free(p);
	return 0;
}
