// SPDX-License-Identifier: GPL-2.0-only
/*
 * dns_resolve_all() against a real DNS server: a tiny responder thread in
 * this process, on an ephemeral 127.0.0.1 port (UDP, and TCP for the
 * truncation cases), that crafts each answer from the query name.
 * Loopback only; nothing else is contacted.
 *
 * The window tests (2,000 names) count queries in flight at the responder:
 * it holds every answer until the resolving thread sleeps in poll(), when
 * that thread has sent all it will send until it hears back, so what is
 * held then is exactly what is in flight.  No test depends on how long
 * anything takes.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dns.h"

#define T_A 1
#define T_CNAME 5
#define T_AAAA 28
#define RC_NOERROR 0
#define RC_SERVFAIL 2
#define RC_NXDOMAIN 3
#define RC_REFUSED 5

#define MAX_HELD 128
#define MAX_CONNS 8
#define MAX_INDEX 4096 /* names like n17.many.test */

/* ---- packet building ---------------------------------------------------- */

struct pkt {
	uint8_t b[65535];
	size_t len;
	uint16_t ancount;
};

static void put(struct pkt *p, const void *d, size_t n)
{
	if (p->len + n <= sizeof(p->b)) {
		memcpy(p->b + p->len, d, n);
		p->len += n;
	}
}

static void put16(struct pkt *p, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	put(p, b, 2);
}

static void put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void put_name(struct pkt *p, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		uint8_t lb = l;

		put(p, &lb, 1);
		put(p, name, l);
		name += l + (dot ? 1 : 0);
	}
	put(p, "", 1);
}

static void put_rr(struct pkt *p, const char *owner, uint16_t type, const void *rd, uint16_t rdlen)
{
	put_name(p, owner);
	put16(p, type);
	put16(p, 1); /* IN */
	put32(p, 60);
	put16(p, rdlen);
	put(p, rd, rdlen);
	p->ancount++;
}

static void put_a(struct pkt *p, const char *owner, const char *text)
{
	struct in_addr a;

	inet_pton(AF_INET, text, &a);
	put_rr(p, owner, T_A, &a, 4);
}

static void put_aaaa(struct pkt *p, const char *owner, const char *text)
{
	struct in6_addr a;

	inet_pton(AF_INET6, text, &a);
	put_rr(p, owner, T_AAAA, &a, 16);
}

static void put_cname(struct pkt *p, const char *owner, const char *target)
{
	struct pkt rd = { .len = 0 };

	put_name(&rd, target);
	put_rr(p, owner, T_CNAME, rd.b, rd.len);
}

/* ---- the responder ------------------------------------------------------ */

struct held {
	uint8_t q[512];
	size_t len;
	struct sockaddr_in from;
};

struct responder {
	int udp, tcp, stop[2];
	uint16_t port;
	bool tcp_listen;
	int batch;                  /* hold UDP answers until this many queries */
	pid_t client;               /* or: until this thread sleeps in poll() */
	struct held held[MAX_HELD];
	int nheld;
	int max_held;               /* the most UDP queries held at once */
	bool overflow;              /* a query found held[] full (answered at once) */
	int seen;                   /* UDP queries received */
	int seen_at_first_answer;   /* -1 until the first answer is sent */
	int lost;                   /* first tries of *.lossy.test not answered */
	uint8_t lost_once[MAX_INDEX]; /* lI.lossy.test: bit 0 A, bit 1 AAAA lost */
	pthread_t th;
};

/* Decode the question; returns its end offset or 0. */
static size_t parse_query(const uint8_t *q, size_t len, char *name, size_t namelen,
			  uint16_t *qtype)
{
	size_t off = 12, o = 0;

	if (len < 12)
		return 0;
	while (off < len && q[off]) {
		size_t l = q[off++];

		if (l > 63 || off + l > len || o + l + 2 > namelen)
			return 0;
		if (o)
			name[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			char c = q[off + i];
			name[o++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
		}
		off += l;
	}
	name[o] = 0;
	if (off + 5 > len)
		return 0;
	off++;
	*qtype = (q[off] << 8) | q[off + 1];
	return off + 4;
}

/* NAME is PREFIX, a number below MAX_INDEX, SUFFIX: the number. */
static bool indexed(const char *name, const char *prefix, const char *suffix, unsigned *idx)
{
	size_t lp = strlen(prefix);
	unsigned long v;
	char *end;

	if (strncmp(name, prefix, lp) || !isdigit((unsigned char)name[lp]))
		return false;
	v = strtoul(name + lp, &end, 10);
	if (strcmp(end, suffix) || v >= MAX_INDEX)
		return false;
	*idx = v;
	return true;
}

/* The addresses of the numbered names: 10.1.I/256.I%256 and 2001:db8:1::I. */
static void index_addr(unsigned idx, int family, char *buf, size_t len)
{
	if (family == AF_INET)
		snprintf(buf, len, "10.1.%u.%u", idx >> 8, idx & 0xff);
	else
		snprintf(buf, len, "2001:db8:1::%x", idx);
}

static void put_indexed(struct pkt *p, const char *owner, unsigned idx, bool a, bool aaaa)
{
	char buf[64];

	if (a) {
		index_addr(idx, AF_INET, buf, sizeof(buf));
		put_a(p, owner, buf);
	}
	if (aaaa) {
		index_addr(idx, AF_INET6, buf, sizeof(buf));
		put_aaaa(p, owner, buf);
	}
}

/* Craft the answer to one query.  Returns its length, or 0 for no reply. */
static size_t craft(const uint8_t *q, size_t qlen, bool tcp, struct pkt *p)
{
	char name[256];
	uint16_t qtype, flags;
	size_t qend = parse_query(q, qlen, name, sizeof(name), &qtype);
	int rcode = RC_NOERROR;
	bool tc = false;
	bool a = qtype == T_A, aaaa = qtype == T_AAAA;
	unsigned idx;

	if (!qend)
		return 0;
	p->len = 0;
	p->ancount = 0;
	put(p, q, 2);                /* id */
	put16(p, 0);                 /* flags, below */
	put16(p, 1);
	put16(p, 0);                 /* ancount, below */
	put32(p, 0);
	put(p, q + 12, qend - 12);   /* the question */

	if (!strcmp(name, "a.test")) {
		if (a) {
			put_a(p, name, "192.0.2.1");
			put_a(p, name, "192.0.2.1"); /* duplicate */
			put_a(p, name, "192.0.2.2");
		}
		if (aaaa)
			put_aaaa(p, name, "2001:db8::1");
	} else if (!strcmp(name, "v4only.test")) {
		if (a)
			put_a(p, name, "192.0.2.4");
	} else if (!strcmp(name, "v6only.test")) {
		if (aaaa)
			put_aaaa(p, name, "2001:db8::6");
	} else if (!strcmp(name, "cname.test")) {
		put_cname(p, name, "mid.test");
		put_cname(p, "mid.test", "end.test");
		if (a)
			put_a(p, "end.test", "192.0.2.3");
	} else if (!strcmp(name, "dangling.test")) {
		put_cname(p, name, "nowhere.test");
	} else if (!strcmp(name, "mapped.test")) {
		if (aaaa)
			put_aaaa(p, name, "::ffff:192.0.2.9");
	} else if (!strcmp(name, "zero.test")) {
		if (a)
			put_a(p, name, "0.0.0.0");
		if (aaaa)
			put_aaaa(p, name, "::");
	} else if (!strcmp(name, "servfail.test")) {
		rcode = RC_SERVFAIL;
	} else if (!strcmp(name, "refused.test")) {
		rcode = RC_REFUSED;
	} else if (!strcmp(name, "empty.test")) {
		/* NOERROR, nothing */
	} else if (!strcmp(name, "silent.test")) {
		return 0;
	} else if (!strcmp(name, "nxmix.test")) {
		if (a)
			rcode = RC_NXDOMAIN;
	} else if (!strcmp(name, "slowmix.test")) {
		if (aaaa)
			return 0;
	} else if (!strcmp(name, "halfslow.test")) {
		if (aaaa)
			return 0; /* A answers, AAAA never does */
		put_a(p, name, "192.0.2.7");
	} else if (!strcmp(name, "halfbroken.test")) {
		if (aaaa)
			rcode = RC_SERVFAIL;
		else
			put_a(p, name, "192.0.2.8");
	} else if (!strcmp(name, "garbage.test")) {
		p->ancount = 1; /* claims an answer it does not carry */
	} else if (!strcmp(name, "big.test") || !strcmp(name, "tcfail.test")) {
		if (!tcp) {
			tc = true;
		} else if (!strcmp(name, "tcfail.test")) {
			return 0;
		} else if (a) {
			for (int i = 0; i < 100; i++) {
				char buf[32];

				snprintf(buf, sizeof(buf), "10.0.%d.%d", i / 50, i % 50 + 1);
				put_a(p, name, buf);
			}
		}
	} else if (indexed(name, "n", ".many.test", &idx) ||
		   indexed(name, "l", ".lossy.test", &idx)) {
		put_indexed(p, name, idx, a, aaaa); /* lossy: see lose_first_try() */
	} else if (indexed(name, "v", ".many.test", &idx)) {
		put_indexed(p, name, idx, a, false);
	} else if (indexed(name, "c", ".many.test", &idx)) {
		char target[64];

		snprintf(target, sizeof(target), "n%u.many.test", idx);
		put_cname(p, name, target);
		put_indexed(p, target, idx, a, aaaa);
	} else if (indexed(name, "h", ".many.test", &idx)) {
		if (aaaa)
			rcode = RC_SERVFAIL;
		else
			put_indexed(p, name, idx, a, false);
	} else if (indexed(name, "s", ".many.test", &idx)) {
		rcode = RC_SERVFAIL;
	} else if (indexed(name, "r", ".many.test", &idx)) {
		rcode = RC_REFUSED;
	} else if (indexed(name, "e", ".many.test", &idx)) {
		/* NOERROR, nothing */
	} else if (indexed(name, "q", ".silent.test", &idx)) {
		return 0;
	} else if (!strncmp(name, "p", 1) && strstr(name, ".par.test")) {
		if (a) {
			char buf[32];

			snprintf(buf, sizeof(buf), "192.0.2.%d", 100 + atoi(name + 1));
			put_a(p, name, buf);
		}
	} else {
		rcode = RC_NXDOMAIN;
	}

	flags = 0x8000 | (q[2] & 0x01) << 8 | 0x0080 | rcode;
	if (tc)
		flags |= 0x0200;
	p->b[2] = flags >> 8;
	p->b[3] = flags & 0xff;
	p->b[6] = p->ancount >> 8;
	p->b[7] = p->ancount & 0xff;
	return p->len;
}

static void answer_udp(struct responder *r, const uint8_t *q, size_t len,
		       const struct sockaddr_in *from)
{
	static struct pkt p;
	size_t n = craft(q, len, false, &p);

	if (!n)
		return;
	if (r->seen_at_first_answer < 0)
		r->seen_at_first_answer = r->seen;
	sendto(r->udp, p.b, n, 0, (const struct sockaddr *)from, sizeof(*from));
}

static void flush_held(struct responder *r)
{
	for (int i = 0; i < r->nheld; i++)
		answer_udp(r, r->held[i].q, r->held[i].len, &r->held[i].from);
	r->nheld = 0;
}

/* lI.lossy.test: the first UDP try of its A and of its AAAA gets no answer. */
static bool lose_first_try(struct responder *r, const uint8_t *q, size_t len)
{
	char name[256];
	uint16_t qtype;
	unsigned idx;
	uint8_t bit;

	if (!parse_query(q, len, name, sizeof(name), &qtype) ||
	    !indexed(name, "l", ".lossy.test", &idx))
		return false;
	bit = qtype == T_AAAA ? 2 : 1;
	if (r->lost_once[idx] & bit)
		return false;
	r->lost_once[idx] |= bit;
	r->lost++;
	return true;
}

static void hold(struct responder *r, const struct held *h)
{
	/* The same bytes (id and question) again: a retry of a held query. */
	for (int i = 0; i < r->nheld; i++)
		if (r->held[i].len == h->len && !memcmp(r->held[i].q, h->q, h->len))
			return;
	if (r->nheld == MAX_HELD) {
		r->overflow = true;
		answer_udp(r, h->q, h->len, &h->from);
		return;
	}
	r->held[r->nheld++] = *h;
	if (r->nheld > r->max_held)
		r->max_held = r->nheld;
	if (r->batch && r->nheld >= r->batch)
		flush_held(r);
}

/* Take one UDP query if there is one; false when none was waiting. */
static bool take_udp(struct responder *r)
{
	struct held h;
	socklen_t sl = sizeof(h.from);
	ssize_t n = recvfrom(r->udp, h.q, sizeof(h.q), MSG_DONTWAIT, (struct sockaddr *)&h.from,
			     &sl);

	if (n <= 0)
		return false;
	h.len = n;
	r->seen++;
	if (lose_first_try(r, h.q, h.len))
		return true;
	if (r->batch || r->client)
		hold(r, &h);
	else
		answer_udp(r, h.q, h.len, &h.from);
	return true;
}

/*
 * The thread TID sleeps in the loop's epoll_wait(): it has sent everything it will send
 * until an answer or a timeout wakes it.  The kernel reports a syscall only
 * for a task that is not running ("running" otherwise), and loopback UDP
 * has queued a datagram at the receiver by the time sendto() returns.
 */
static bool asleep_in_poll(pid_t tid)
{
	char path[64], buf[128], *end;
	long nr;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	nr = strtol(buf, &end, 10);
	if (end == buf)
		return false;
	/* The resolver waits in the event loop's epoll_wait (user/loop.c). */
#ifdef SYS_epoll_wait
	if (nr == SYS_epoll_wait)
		return true;
#endif
	return nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2;
}

/* One length-prefixed query from a TCP client; false when it is done. */
static bool serve_tcp(int fd)
{
	static struct pkt p;
	uint8_t q[1024], lb[2];
	size_t n, len;

	if (recv(fd, lb, 2, MSG_WAITALL) != 2)
		return false;
	len = (lb[0] << 8) | lb[1];
	if (len > sizeof(q) || recv(fd, q, len, MSG_WAITALL) != (ssize_t)len)
		return false;
	n = craft(q, len, true, &p);
	if (!n)
		return false; /* hang up without answering */
	lb[0] = n >> 8;
	lb[1] = n & 0xff;
	return send(fd, lb, 2, MSG_NOSIGNAL) == 2 && send(fd, p.b, n, MSG_NOSIGNAL) == (ssize_t)n;
}

static void *responder_main(void *arg)
{
	struct responder *r = arg;
	int conns[MAX_CONNS], nconns = 0;

	for (;;) {
		struct pollfd pfd[3 + MAX_CONNS];
		int nfds = 0, rc;

		pfd[nfds++] = (struct pollfd){ .fd = r->stop[0], .events = POLLIN };
		pfd[nfds++] = (struct pollfd){ .fd = r->udp, .events = POLLIN };
		if (r->tcp_listen)
			pfd[nfds++] = (struct pollfd){ .fd = r->tcp, .events = POLLIN };
		for (int i = 0; i < nconns; i++)
			pfd[nfds++] = (struct pollfd){ .fd = conns[i], .events = POLLIN };

		/*
		 * A partial batch is flushed after 3 s so a failing test ends.
		 * Held for a client: look every 1 ms whether it sleeps; once it
		 * does, take what it sent before sleeping, then answer it all.
		 */
		rc = poll(pfd, nfds, !r->nheld ? -1 : r->client ? 1 : 3000);
		if (rc == 0) {
			if (r->client && !asleep_in_poll(r->client))
				continue;
			while (take_udp(r))
				;
			flush_held(r);
			continue;
		}
		if (rc < 0 || pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN)
			take_udp(r);
		if (r->tcp_listen && (pfd[2].revents & POLLIN)) {
			int c = accept(r->tcp, NULL, NULL);

			if (c >= 0 && nconns < MAX_CONNS)
				conns[nconns++] = c;
			else if (c >= 0)
				close(c);
		}
		for (int i = (r->tcp_listen ? 3 : 2), j = 0; i < nfds; i++, j++) {
			if (!pfd[i].revents)
				continue;
			if (!serve_tcp(pfd[i].fd)) {
				close(pfd[i].fd);
				for (int k = 0; k < nconns; k++)
					if (conns[k] == pfd[i].fd)
						conns[k] = -1;
			}
		}
		for (int k = 0; k < nconns;)
			if (conns[k] < 0)
				conns[k] = conns[--nconns];
			else
				k++;
	}
	for (int k = 0; k < nconns; k++)
		close(conns[k]);
	return NULL;
}

/* client: hold every UDP answer until that thread sleeps in poll() (0: don't). */
static int responder_start_for(struct responder *r, bool tcp_listen, int batch, pid_t client)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int one = 1;

	memset(r, 0, sizeof(*r));
	r->seen_at_first_answer = -1;
	r->tcp_listen = tcp_listen;
	r->batch = batch;
	r->client = client;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (pipe(r->stop))
		return -1;
	r->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	r->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->udp < 0 || r->tcp < 0)
		return -1;
	if (bind(r->udp, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(r->udp, (struct sockaddr *)&sin, &sl))
		return -1;
	r->port = ntohs(sin.sin_port);
	/*
	 * TCP on the same port: listening, or bound but not listening so a
	 * connect is refused rather than reaching some other process.
	 */
	setsockopt(r->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(r->tcp, (struct sockaddr *)&sin, sizeof(sin)))
		return -1;
	if (tcp_listen && listen(r->tcp, 8))
		return -1;
	return pthread_create(&r->th, NULL, responder_main, r) ? -1 : 0;
}

static int responder_start(struct responder *r, bool tcp_listen, int batch)
{
	return responder_start_for(r, tcp_listen, batch, 0);
}

static void responder_stop(struct responder *r)
{
	if (write(r->stop[1], "x", 1) == 1)
		pthread_join(r->th, NULL);
	close(r->udp);
	close(r->tcp);
	close(r->stop[0]);
	close(r->stop[1]);
}

/* ---- helpers ------------------------------------------------------------ */

static struct responder *srv;

static struct resolver loopback(uint16_t port)
{
	struct resolver res = { .port = port };

	res.addr.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", res.addr.bytes);
	return res;
}

static int resolve(const char *const *names, size_t n, struct dns_answer **out)
{
	struct resolver res = loopback(srv->port);
	struct dns_opts o = { .timeout_ms = 300, .tries = 1 };

	return dns_resolve_all(names, n, &res, 1, &o, out);
}

static bool has_addr(const struct dns_answer *a, const char *text)
{
	struct addr want = { 0 };

	if (inet_pton(AF_INET, text, want.bytes) == 1)
		want.family = AF_INET;
	else if (inet_pton(AF_INET6, text, want.bytes) == 1)
		want.family = AF_INET6;
	else
		fail_msg("bad test address %s", text);
	for (size_t i = 0; i < a->naddrs; i++)
		if (a->addrs[i].family == want.family &&
		    !memcmp(a->addrs[i].bytes, want.bytes, want.family == AF_INET ? 4 : 16))
			return true;
	return false;
}

/* Resolve one name that must fail, and check its reason. */
static void expect_fail(const char *name, const char *reason)
{
	const char *names[] = { name };
	struct dns_answer *ans = NULL;

	assert_int_equal(resolve(names, 1, &ans), -ENOENT);
	assert_non_null(ans);
	assert_string_equal(ans[0].name, name);
	assert_false(ans[0].ok);
	assert_int_equal(ans[0].naddrs, 0);
	assert_string_equal(ans[0].reason, reason);
	dns_answers_free(ans, 1);
}

static int group_setup(void **state)
{
	(void)state;
	srv = calloc(1, sizeof(*srv));
	return srv && responder_start(srv, true, 0) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	responder_stop(srv);
	free(srv);
	return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_a_and_aaaa_deduped(void **state)
{
	const char *names[] = { "a.test" };
	struct dns_answer *ans = NULL;

	(void)state;
	assert_int_equal(resolve(names, 1, &ans), 0);
	assert_true(ans[0].ok);
	assert_int_equal(ans[0].naddrs, 3);
	assert_true(has_addr(&ans[0], "192.0.2.1"));
	assert_true(has_addr(&ans[0], "192.0.2.2"));
	assert_true(has_addr(&ans[0], "2001:db8::1"));
	dns_answers_free(ans, 1);
}

static void test_single_family(void **state)
{
	const char *names[] = { "v4only.test", "v6only.test", "mapped.test" };
	struct dns_answer *ans = NULL;

	(void)state;
	assert_int_equal(resolve(names, 3, &ans), 0);
	assert_true(ans[0].ok);
	assert_int_equal(ans[0].naddrs, 1);
	assert_true(has_addr(&ans[0], "192.0.2.4"));
	assert_true(ans[1].ok);
	assert_int_equal(ans[1].naddrs, 1);
	assert_true(has_addr(&ans[1], "2001:db8::6"));
	/* An IPv4-mapped AAAA answer is the IPv4 address it carries. */
	assert_true(ans[2].ok);
	assert_int_equal(ans[2].naddrs, 1);
	assert_int_equal(ans[2].addrs[0].family, AF_INET);
	assert_true(has_addr(&ans[2], "192.0.2.9"));
	dns_answers_free(ans, 3);
}

static void test_cname_chain(void **state)
{
	const char *names[] = { "cname.test" };
	struct dns_answer *ans = NULL;

	(void)state;
	assert_int_equal(resolve(names, 1, &ans), 0);
	assert_true(ans[0].ok);
	assert_int_equal(ans[0].naddrs, 1);
	assert_true(has_addr(&ans[0], "192.0.2.3"));
	dns_answers_free(ans, 1);
}

static void test_cname_dangling(void **state)
{
	(void)state;
	expect_fail("dangling.test", "no addresses (NOERROR, no A/AAAA records)");
}

static void test_nxdomain(void **state)
{
	(void)state;
	expect_fail("nx.test", "NXDOMAIN");
}

static void test_hosts_not_consulted(void **state)
{
	/* /etc/hosts has localhost; the responder says NXDOMAIN. */
	(void)state;
	expect_fail("localhost", "NXDOMAIN");
}

static void test_servfail(void **state)
{
	(void)state;
	expect_fail("servfail.test", "SERVFAIL");
}

static void test_refused(void **state)
{
	(void)state;
	expect_fail("refused.test", "REFUSED");
}

static void test_noerror_empty(void **state)
{
	(void)state;
	expect_fail("empty.test", "no addresses (NOERROR, no A/AAAA records)");
}

static void test_timeout(void **state)
{
	(void)state;
	expect_fail("silent.test", "timeout");
}

static void test_unspecified_rejected(void **state)
{
	(void)state;
	expect_fail("zero.test", "no addresses (the resolver answered only 0.0.0.0 or ::)");
}

static void test_reason_priority(void **state)
{
	(void)state;
	/* A: NXDOMAIN, AAAA: NOERROR/no data -> NXDOMAIN is the reason. */
	expect_fail("nxmix.test", "NXDOMAIN");
	/* A: NOERROR/no data, AAAA: no reply -> timeout. */
	expect_fail("slowmix.test", "timeout");
}

/* One family answering does not excuse the other failing (NODATA would). */
static void test_half_failure(void **state)
{
	const char *names[] = { "halfslow.test", "halfbroken.test", "v4only.test" };
	struct dns_answer *ans = NULL;

	(void)state;
	assert_int_equal(resolve(names, 3, &ans), -ENOENT);
	assert_non_null(ans);
	assert_false(ans[0].ok);
	assert_string_equal(ans[0].reason, "timeout for AAAA");
	assert_false(ans[1].ok);
	assert_string_equal(ans[1].reason, "SERVFAIL for AAAA");
	assert_true(ans[2].ok); /* AAAA NODATA is fine */
	dns_answers_free(ans, 3);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_fail("garbage.test", "malformed answer");
}

static void test_truncated_tcp_ok(void **state)
{
	const char *names[] = { "big.test" };
	struct dns_answer *ans = NULL;

	(void)state;
	assert_int_equal(resolve(names, 1, &ans), 0);
	assert_true(ans[0].ok);
	assert_int_equal(ans[0].naddrs, 100);
	assert_true(has_addr(&ans[0], "10.0.0.1"));
	assert_true(has_addr(&ans[0], "10.0.1.50"));
	dns_answers_free(ans, 1);
}

static void test_truncated_tcp_fails(void **state)
{
	(void)state;
	expect_fail("tcfail.test", "truncated answer and TCP retry failed (connection refused)");
}

static void test_truncated_tcp_refused(void **state)
{
	struct responder r;
	struct resolver res;
	struct dns_opts o = { .timeout_ms = 300, .tries = 1 };
	const char *names[] = { "big.test" };
	struct dns_answer *ans = NULL;

	(void)state;
	assert_int_equal(responder_start(&r, false, 0), 0);
	res = loopback(r.port);
	assert_int_equal(dns_resolve_all(names, 1, &res, 1, &o, &ans), -ENOENT);
	assert_false(ans[0].ok);
	assert_string_equal(ans[0].reason,
			    "truncated answer and TCP retry failed (connection refused)");
	dns_answers_free(ans, 1);
	responder_stop(&r);
}

static void test_udp_refused(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct dns_opts o = { .timeout_ms = 1000, .tries = 1 };
	const char *names[] = { "a.test" };
	struct dns_answer *ans = NULL;
	struct resolver res;
	int fd;

	(void)state;
	/* Borrow a free loopback port, then free it: nothing listens there. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	res = loopback(ntohs(sin.sin_port));
	assert_int_equal(dns_resolve_all(names, 1, &res, 1, &o, &ans), -ENOENT);
	assert_string_equal(ans[0].reason, "connection refused");
	dns_answers_free(ans, 1);
}

static void test_mixed_order(void **state)
{
	const char *names[] = { "a.test", "nx.test", "cname.test", "silent.test", "v6only.test" };
	struct dns_answer *ans = NULL;

	(void)state;
	assert_int_equal(resolve(names, 5, &ans), -ENOENT);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(ans[i].name, names[i]);
	assert_true(ans[0].ok);
	assert_false(ans[1].ok);
	assert_string_equal(ans[1].reason, "NXDOMAIN");
	assert_true(ans[2].ok);
	assert_false(ans[3].ok);
	assert_string_equal(ans[3].reason, "timeout");
	assert_true(ans[4].ok);
	dns_answers_free(ans, 5);
}

static void test_concurrent(void **state)
{
	enum { N = 20 };
	struct responder r;
	struct resolver res;
	struct dns_opts o = { .timeout_ms = 5000, .tries = 1 };
	char buf[N][32];
	const char *names[N];
	struct dns_answer *ans = NULL;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(buf[i], sizeof(buf[i]), "p%d.par.test", i);
		names[i] = buf[i];
	}
	/* The responder holds every answer until it has seen 2N queries. */
	assert_int_equal(responder_start(&r, true, 2 * N), 0);
	res = loopback(r.port);
	assert_int_equal(dns_resolve_all(names, N, &res, 1, &o, &ans), 0);
	responder_stop(&r);
	assert_int_equal(r.seen_at_first_answer, 2 * N);
	for (int i = 0; i < N; i++) {
		char want[32];

		snprintf(want, sizeof(want), "192.0.2.%d", 100 + i);
		assert_true(ans[i].ok);
		assert_int_equal(ans[i].naddrs, 1);
		assert_true(has_addr(&ans[i], want));
	}
	dns_answers_free(ans, N);
}

/* ---- many names: the window ------------------------------------------- */

enum { MANY = 2000 };

struct many {
	char buf[MANY][32];
	const char *names[MANY];
};

/* fmt(i) for every name; returns the array for dns_resolve_all(). */
static struct many *many_names(const char *(*fmt)(size_t i))
{
	struct many *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	for (size_t i = 0; i < MANY; i++) {
		snprintf(m->buf[i], sizeof(m->buf[i]), fmt(i), (unsigned)i);
		m->names[i] = m->buf[i];
	}
	return m;
}

static void assert_indexed(const struct dns_answer *a, size_t idx, bool v6)
{
	char want[64];

	if (!a->ok)
		fail_msg("%s: %s", a->name, a->reason);
	assert_int_equal(a->naddrs, v6 ? 2 : 1);
	index_addr(idx, AF_INET, want, sizeof(want));
	assert_true(has_addr(a, want));
	if (v6) {
		index_addr(idx, AF_INET6, want, sizeof(want));
		assert_true(has_addr(a, want));
	}
}

static const char *fmt_plain(size_t i)
{
	(void)i;
	return "n%u.many.test";
}

/*
 * 2,000 names, every one with its A and AAAA; the responder answers only
 * when this thread sleeps in poll(), so the most it ever held is the most
 * that were in flight: exactly the window, never more.
 */
static void test_window_bounds_inflight(void **state)
{
	struct dns_opts o = { .timeout_ms = 10000, .tries = 1 };
	struct many *m = many_names(fmt_plain);
	struct dns_answer *ans = NULL;
	struct responder r;
	struct resolver res;
	char path[64];
	int ret;

	(void)state;
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)gettid());
	if (access(path, R_OK))
		fail_msg("cannot read %s (%s): this test needs it to see this thread sleep in epoll_wait()",
			 path, strerror(errno));
	assert_int_equal(responder_start_for(&r, false, 0, gettid()), 0);
	res = loopback(r.port);
	ret = dns_resolve_all(m->names, MANY, &res, 1, &o, &ans);
	responder_stop(&r);
	assert_false(r.overflow); /* more than MAX_HELD in flight */
	assert_int_equal(r.max_held, DNS_MAX_INFLIGHT);
	assert_int_equal(ret, 0);
	assert_int_equal(r.seen, 2 * MANY); /* nothing needed a retry */
	for (size_t i = 0; i < MANY; i++)
		assert_indexed(&ans[i], i, true);
	dns_answers_free(ans, MANY);
	free(m);
}

static const char *fmt_lossy(size_t i)
{
	return i % 10 == 3 ? "l%u.lossy.test" : "n%u.many.test";
}

/* Every 10th name's first A and first AAAA are lost; the retries resolve them. */
static void test_window_retries_lost(void **state)
{
	struct dns_opts o = { .timeout_ms = 300, .tries = 3 };
	struct many *m = many_names(fmt_lossy);
	struct dns_answer *ans = NULL;
	struct responder r;
	struct resolver res;

	(void)state;
	assert_int_equal(responder_start(&r, false, 0), 0);
	res = loopback(r.port);
	assert_int_equal(dns_resolve_all(m->names, MANY, &res, 1, &o, &ans), 0);
	responder_stop(&r);
	assert_int_equal(r.lost, 2 * (MANY / 10));
	for (size_t i = 0; i < MANY; i++)
		assert_indexed(&ans[i], i, true);
	dns_answers_free(ans, MANY);
	free(m);
}

/* Without a retry (tries 1) the same loss is a timeout: the test above is not vacuous. */
static void test_lost_without_retry(void **state)
{
	(void)state;
	expect_fail("l4000.lossy.test", "timeout");
}

static const char *fmt_mixed(size_t i)
{
	static const char *const fmts[] = {
		"n%u.many.test", "x%u.many.test", "s%u.many.test", "v%u.many.test",
		"e%u.many.test", "h%u.many.test", "c%u.many.test", "r%u.many.test",
	};

	return fmts[i % 8];
}

/* 2,000 names, all kinds of failure among them: each reported for its name. */
static void test_window_failures_per_name(void **state)
{
	static const char *const reasons[] = {
		NULL, "NXDOMAIN", "SERVFAIL", NULL, "no addresses (NOERROR, no A/AAAA records)",
		"SERVFAIL for AAAA", NULL, "REFUSED",
	};
	struct many *m = many_names(fmt_mixed);
	struct dns_answer *ans = NULL;

	(void)state;
	assert_int_equal(resolve(m->names, MANY, &ans), -ENOENT);
	for (size_t i = 0; i < MANY; i++) {
		const char *want = reasons[i % 8];

		assert_string_equal(ans[i].name, m->names[i]);
		if (!want) {
			assert_indexed(&ans[i], i, i % 8 != 3); /* v: A only, AAAA NODATA */
			continue;
		}
		if (ans[i].ok)
			fail_msg("%s resolved, expected %s", ans[i].name, want);
		assert_string_equal(ans[i].reason, want);
	}
	dns_answers_free(ans, MANY);
	free(m);
}

static const char *fmt_silent(size_t i)
{
	(void)i;
	return "q%u.silent.test";
}

/*
 * Silent resolvers: the first window times out, with no reply to anything,
 * and no further name is sent (window after window would take ~60 times
 * as long to reach the same verdict).
 */
static void test_window_silent_resolver(void **state)
{
	struct dns_opts o = { .timeout_ms = 300, .tries = 1 };
	struct many *m = many_names(fmt_silent);
	struct dns_answer *ans = NULL;
	struct responder r;
	struct resolver res;

	(void)state;
	assert_int_equal(responder_start(&r, false, 0), 0);
	res = loopback(r.port);
	assert_int_equal(dns_resolve_all(m->names, MANY, &res, 1, &o, &ans), -ENOENT);
	responder_stop(&r);
	assert_true(r.seen <= DNS_MAX_INFLIGHT);
	for (size_t i = 0; i < MANY; i++) {
		assert_false(ans[i].ok);
		assert_string_equal(ans[i].reason, i < DNS_MAX_INFLIGHT / 2
							   ? "timeout"
							   : "not asked: earlier queries timed out");
	}
	dns_answers_free(ans, MANY);
	free(m);
}

static const char *fmt_one_silent(size_t i)
{
	return i == 5 ? "q%u.silent.test" : "n%u.many.test";
}

/*
 * One silent name among answering ones: the run fails with "timeout" for
 * it; every other name resolved or, if the stop rule came first, was not
 * asked.  Which of the two depends on timing, so both are accepted.
 */
static void test_window_one_silent(void **state)
{
	struct many *m = many_names(fmt_one_silent);
	struct dns_answer *ans = NULL;

	(void)state;
	assert_int_equal(resolve(m->names, MANY, &ans), -ENOENT);
	assert_false(ans[5].ok);
	assert_string_equal(ans[5].reason, "timeout");
	for (size_t i = 0; i < MANY; i++) {
		if (i == 5 || (!ans[i].ok && !strcmp(ans[i].reason,
						     "not asked: earlier queries timed out")))
			continue;
		assert_indexed(&ans[i], i, true);
	}
	dns_answers_free(ans, MANY);
	free(m);
}

static void test_bad_args(void **state)
{
	struct resolver res = loopback(53);
	struct dns_opts o = { .timeout_ms = 300, .tries = 1 }, bad = { 0, 1 };
	const char *names[] = { "a.test" }, *empty[] = { "" };
	struct dns_answer *ans = (void *)0x1;

	(void)state;
	assert_int_equal(dns_resolve_all(names, 1, &res, 0, &o, &ans), -EINVAL);
	assert_int_equal(dns_resolve_all(names, 1, &res, 1, &bad, &ans), -EINVAL);
	assert_int_equal(dns_resolve_all(empty, 1, &res, 1, &o, &ans), -EINVAL);
	assert_ptr_equal(ans, (void *)0x1); /* untouched on error */
	assert_int_equal(dns_resolve_all(names, 0, &res, 1, &o, &ans), 0);
	assert_null(ans);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_and_aaaa_deduped),
		cmocka_unit_test(test_single_family),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_cname_dangling),
		cmocka_unit_test(test_nxdomain),
		cmocka_unit_test(test_hosts_not_consulted),
		cmocka_unit_test(test_servfail),
		cmocka_unit_test(test_half_failure),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_noerror_empty),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_unspecified_rejected),
		cmocka_unit_test(test_reason_priority),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_truncated_tcp_ok),
		cmocka_unit_test(test_truncated_tcp_fails),
		cmocka_unit_test(test_truncated_tcp_refused),
		cmocka_unit_test(test_udp_refused),
		cmocka_unit_test(test_mixed_order),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_window_bounds_inflight),
		cmocka_unit_test(test_window_retries_lost),
		cmocka_unit_test(test_lost_without_retry),
		cmocka_unit_test(test_window_failures_per_name),
		cmocka_unit_test(test_window_silent_resolver),
		cmocka_unit_test(test_window_one_silent),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
