// SPDX-License-Identifier: GPL-2.0-only
/*
 * Resolve every allowed name with c-ares, a bounded window at a time,
 * failing closed.
 *
 * One channel, one A and one AAAA query per name, driven by the event
 * loop (loop.h, aresloop.h) until every query has called back.  At most
 * DNS_MAX_INFLIGHT queries are in flight: names start in list order, both
 * queries of a name together, and each query that ends starts the next
 * name from its callback (so the loop that drives the channel through
 * ARES_OPT_SOCK_STATE_CB keeps the window full, whoever drives it).
 * Sending every query at once overflowed resolvers' buffers and queues
 * (issue 7); in a window, c-ares' own retry (opts->tries) of a lost answer
 * goes out alone, not in another burst that is dropped again.
 *
 * When to stop asking.  A query that times out has failed the run already
 * (only NODATA excuses a family); the rest of the list is asked only for
 * the error report, and with a window every round of silent queries costs
 * a whole query schedule.  So:
 * - a query that times out while no reply of any kind reached us since it
 *   was sent means the resolvers are not answering: start nothing more;
 * - otherwise keep starting names for one more query schedule (other
 *   names' failures are still reported), then stop.
 * Names never asked fail with their own reason.  A run then ends at most
 * two query schedules (query_budget_ms) after its first timeout, one when
 * the resolvers are silent, as when every query went out at once; and the
 * rule never turns a run that would succeed into a failure.
 *
 * The channel is configured entirely from our arguments:
 * servers are set explicitly, lookups are "b" (DNS only, never /etc/hosts),
 * and every option that would otherwise make ares_init_options() read
 * /etc/resolv.conf is given, so it does not.
 *
 * Choices:
 * - ARES_FLAG_NOCHECKRESP: without it c-ares 1.18 treats SERVFAIL/REFUSED
 *   as "try the next server" and, once the tries are spent, reports
 *   ECONNREFUSED, which hides the real cause.  With it the rcode reaches us.
 *   The cost: a SERVFAIL from the first resolver is not retried on the
 *   others.  We fail closed either way; a precise reason matters more.
 * - Truncation: c-ares retries over TCP by itself (IGNTC is not set).  To
 *   tell "truncated answer and TCP retry failed" from a plain failure we
 *   install our own socket functions and note every UDP answer with TC set.
 * - Unspecified answers (0.0.0.0, ::, ::ffff:0.0.0.0) are dropped: they are
 *   what DNS-level blockers answer, and allowing 0.0.0.0/32 means nothing.
 *   A name whose only answers were unspecified fails with its own reason.
 * - IPv4-mapped AAAA answers become the IPv4 address, as addr_parse() does.
 */
#include <ares.h>
#include <ares_dns.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "aresloop.h"
#include "dns.h"
#include "log.h"
#include "loop.h"

enum { Q_A = 0, Q_AAAA = 1, Q_NUM = 2 };

struct dns_run;

struct dns_query {
	struct dns_run *run;
	size_t idx;
	int fam;          /* Q_A or Q_AAAA */
	bool sent;        /* handed to c-ares (the stop rule may leave it unsent) */
	bool done;
	int status;       /* ARES_* once done */
	bool truncated;   /* a UDP answer to it had TC set */
	bool unspecified; /* it answered only 0.0.0.0 / :: */
	unsigned long replies_at_send; /* run->nreplies when it was sent */
};

struct dns_run {
	const char *const *names;
	size_t n;
	struct dns_answer *ans;
	struct dns_query *q;   /* 2 * n, q[2 * i + fam] */
	ares_channel ch;
	struct loop *loop;     /* drives ch; ends when inflight reaches 0 */
	size_t next;           /* the next name to start */
	size_t inflight;       /* queries sent that have not called back */
	unsigned long nreplies; /* reads that returned data, from any server */
	int64_t budget_ms;     /* one query's whole schedule (query_budget_ms) */
	int64_t stop_at;       /* CLOCK_MONOTONIC ms: start nothing from then on */
	bool stopping;         /* stop_at is set */
	bool filling;          /* fill_window() is running (callbacks re-enter it) */
	bool closing;          /* the channel is being destroyed */
	int err;               /* -ENOMEM from a callback */
};

_Static_assert(DNS_MAX_INFLIGHT >= Q_NUM, "the window must hold one name's queries");

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_status = ARES_SUCCESS;

static void ares_global_init(void)
{
	ares_init_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* Names compare case-insensitively, and "a.b." equals "a.b". */
static bool name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* A UDP answer with TC set: remember which query it was for. */
static void note_truncated(struct dns_run *run, const unsigned char *buf, size_t len)
{
	char *qname = NULL;
	long enclen;
	int qtype, fam;
	size_t i;

	if (len < HFIXEDSZ || !(buf[2] & 0x02) || DNS_HEADER_QDCOUNT(buf) != 1)
		return;
	if (ares_expand_name(buf + HFIXEDSZ, buf, (int)len, &qname, &enclen) != ARES_SUCCESS)
		return;
	if (HFIXEDSZ + (size_t)enclen + QFIXEDSZ > len)
		goto out;
	qtype = DNS_QUESTION_TYPE(buf + HFIXEDSZ + enclen);
	if (qtype == T_A)
		fam = Q_A;
	else if (qtype == T_AAAA)
		fam = Q_AAAA;
	else
		goto out;
	for (i = 0; i < run->n; i++)
		if (name_eq(run->names[i], qname))
			run->q[2 * i + fam].truncated = true;
out:
	ares_free_string(qname);
}

/*
 * User socket functions.  With these installed c-ares leaves socket setup
 * to us, so we do what it would: non-blocking, close-on-exec, TCP_NODELAY.
 */
static ares_socket_t sock_open(int af, int type, int proto, void *data)
{
	int fd, one = 1;

	(void)data;
	fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd >= 0 && type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd < 0 ? ARES_SOCKET_BAD : fd;
}

static int sock_close(ares_socket_t fd, void *data)
{
	(void)data;
	return close(fd);
}

static int sock_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len,
			void *data)
{
	(void)data;
	return connect(fd, sa, len);
}

static ares_ssize_t sock_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
				  struct sockaddr *from, ares_socklen_t *fromlen, void *data)
{
	struct dns_run *run = data;
	ssize_t r = recvfrom(fd, buf, len, flags, from, fromlen);

	/* Any data at all: a resolver is answering (see "When to stop"). */
	if (r > 0)
		run->nreplies++;
	/* c-ares passes an address only for UDP; TCP reads are stream pieces. */
	if (r > 0 && from)
		note_truncated(run, buf, (size_t)r);
	return r;
}

static ares_ssize_t sock_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *data)
{
	(void)data;
	return writev(fd, iov, n);
}

static const struct ares_socket_functions sock_funcs = {
	.asocket = sock_open,
	.aclose = sock_close,
	.aconnect = sock_connect,
	.arecvfrom = sock_recvfrom,
	.asendv = sock_sendv,
};

static bool addr_unspecified(const struct addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->bytes, zero, addr_len(a)) == 0;
}

static bool answer_has(const struct dns_answer *ans, const struct addr *a)
{
	size_t i;

	for (i = 0; i < ans->naddrs; i++)
		if (ans->addrs[i].family == a->family &&
		    memcmp(ans->addrs[i].bytes, a->bytes, addr_len(a)) == 0)
			return true;
	return false;
}

/* Parse one successful answer into the name's address list. */
static int collect(struct dns_run *run, struct dns_query *q, const unsigned char *abuf,
		   int alen)
{
	struct dns_answer *ans = &run->ans[q->idx];
	struct hostent *he = NULL;
	size_t nnew = 0, nskipped = 0, cnt = 0, i;
	struct addr *tmp;
	int status;

	if (q->fam == Q_A)
		status = ares_parse_a_reply(abuf, alen, &he, NULL, NULL);
	else
		status = ares_parse_aaaa_reply(abuf, alen, &he, NULL, NULL);
	if (status != ARES_SUCCESS)
		return status;

	while (he->h_addr_list[cnt])
		cnt++;
	if (!cnt) {
		status = ARES_ENODATA; /* e.g. a CNAME chain ending nowhere */
		goto out;
	}
	if (cnt > SIZE_MAX / sizeof(*tmp) - ans->naddrs) {
		status = ARES_ENOMEM;
		goto out;
	}
	tmp = realloc(ans->addrs, (ans->naddrs + cnt) * sizeof(*tmp));
	if (!tmp) {
		status = ARES_ENOMEM;
		goto out;
	}
	ans->addrs = tmp;

	for (i = 0; i < cnt; i++) {
		const uint8_t *raw = (const uint8_t *)he->h_addr_list[i];
		struct addr a = { 0 };

		if (he->h_addrtype == AF_INET && he->h_length == 4) {
			a.family = AF_INET;
			memcpy(a.bytes, raw, 4);
		} else if (he->h_addrtype == AF_INET6 && he->h_length == 16) {
			if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)raw)) {
				a.family = AF_INET;
				memcpy(a.bytes, raw + 12, 4);
			} else {
				a.family = AF_INET6;
				memcpy(a.bytes, raw, 16);
			}
		} else {
			nskipped++;
			continue;
		}
		if (addr_unspecified(&a)) {
			nskipped++;
			continue;
		}
		if (answer_has(ans, &a))
			continue;
		ans->addrs[ans->naddrs++] = a;
		nnew++;
	}

	if (!nnew && nskipped == cnt) {
		q->unspecified = true;
		status = ARES_ENODATA;
	}
out:
	ares_free_hostent(he);
	return status;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The longest c-ares 1.18 spends on one query: tries passes over the
 * servers, the timeout doubling after each pass (ares__send_query).
 * Saturates at a day, far beyond any sane opts.
 */
static int64_t query_budget_ms(const struct dns_opts *opts, size_t nservers)
{
	const int64_t cap = 24 * 3600 * 1000LL;
	int64_t sum = 0;
	int t;

	for (t = 0; t < opts->tries && sum < cap; t++)
		sum += ((int64_t)opts->timeout_ms << (t < 20 ? t : 20)) * (int64_t)nservers;
	return sum < cap ? sum : cap;
}

static void stop_asking_at(struct dns_run *run, int64_t at)
{
	if (!run->stopping || at < run->stop_at)
		run->stop_at = at;
	run->stopping = true;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen);

/*
 * Start names, both queries of each, while the window has room.  Called
 * once to open the window, then from every callback: c-ares may call back
 * from inside ares_query() (a query that fails at once), so a nested call
 * returns and leaves the refill to the loop already running.
 */
static void fill_window(struct dns_run *run)
{
	if (run->filling)
		return;
	run->filling = true;
	while (run->next < run->n && run->inflight + Q_NUM <= DNS_MAX_INFLIGHT && !run->err &&
	       !run->closing && !(run->stopping && now_ms() >= run->stop_at)) {
		size_t i = run->next++;
		int f;

		for (f = 0; f < Q_NUM; f++) {
			struct dns_query *q = &run->q[Q_NUM * i + f];

			q->sent = true;
			q->replies_at_send = run->nreplies;
			run->inflight++;
			ares_query(run->ch, run->names[i], C_IN, f == Q_A ? T_A : T_AAAA, on_answer, q);
		}
	}
	run->filling = false;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_query *q = arg;
	struct dns_run *run = q->run;

	(void)timeouts;
	if (q->done)
		return;
	if (status == ARES_SUCCESS)
		status = collect(run, q, abuf, alen);
	if (status == ARES_ENOMEM)
		run->err = -ENOMEM;
	if (status == ARES_ETIMEOUT) {
		int64_t now = now_ms();

		stop_asking_at(run, run->nreplies == q->replies_at_send ? now
									: now + run->budget_ms);
	}
	q->status = status;
	q->done = true;
	run->inflight--;
	fill_window(run);
	/* The last answer ends the loop (not while the channel is closing). */
	if ((!run->inflight || run->err) && !run->closing && run->loop)
		loop_exit(run->loop, 0);
}

/* Higher is more informative when both families failed. */
static int reason_rank(const struct dns_query *q)
{
	switch (q->status) {
	case ARES_ENOTFOUND:
		return 10;
	case ARES_ESERVFAIL:
		return 9;
	case ARES_EREFUSED:
		return 8;
	case ARES_EFORMERR:
	case ARES_ENOTIMP:
	case ARES_EBADRESP:
		return q->truncated ? 7 : 6;
	case ARES_ECONNREFUSED: /* a definite answer beats silence */
		return q->truncated ? 7 : 5;
	case ARES_ETIMEOUT:
		return q->truncated ? 7 : 4;
	case ARES_ENODATA:
		return q->unspecified ? 2 : 1;
	default:
		return 3;
	}
}

static const char *status_text(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
		return "NXDOMAIN";
	case ARES_ESERVFAIL:
		return "SERVFAIL";
	case ARES_EREFUSED:
		return "REFUSED";
	case ARES_EFORMERR:
		return "FORMERR (the resolver could not parse the query)";
	case ARES_ENOTIMP:
		return "NOTIMP";
	case ARES_EBADRESP:
		return "malformed answer";
	case ARES_ETIMEOUT:
		return "timeout";
	case ARES_ECONNREFUSED:
		return "connection refused";
	case ARES_ENODATA:
		return "no addresses (NOERROR, no A/AAAA records)";
	case ARES_ENOMEM:
		return "out of memory";
	case ARES_EBADNAME:
		return "invalid name";
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return "cancelled";
	default:
		return ares_strerror(status);
	}
}

static void set_reason(struct dns_answer *ans, const struct dns_query *q)
{
	if (q->truncated && reason_rank(q) == 7)
		snprintf(ans->reason, sizeof(ans->reason),
			 "truncated answer and TCP retry failed (%s)", status_text(q->status));
	else if (q->status == ARES_ENODATA && q->unspecified)
		snprintf(ans->reason, sizeof(ans->reason),
			 "no addresses (the resolver answered only 0.0.0.0 or ::)");
	else
		snprintf(ans->reason, sizeof(ans->reason), "%s", status_text(q->status));
}

static int make_channel(const struct resolver *servers, size_t nservers,
			const struct dns_opts *opts, struct dns_run *run, struct aresloop *al,
			ares_channel *out)
{
	const struct aresloop_channel_opts o = {
		.timeout_ms = opts->timeout_ms,
		.tries = opts->tries,
		.funcs = &sock_funcs,
		.funcs_data = run,
	};

	return aresloop_channel(al, servers, nservers, &o, out);
}

/* Nothing to watch and nothing to wait for, with queries still out. */
static void on_stall(void *userdata)
{
	struct dns_run *run = userdata;

	if (run->inflight && !run->closing) {
		run->err = -EIO;
		loop_exit(run->loop, 0);
	}
}

/* Drive the channel on a loop of its own until every query has called back. */
static int run_queries(struct dns_run *run, struct aresloop *al)
{
	int ret;

	fill_window(run);
	if (!run->inflight || run->err)
		return run->err;
	aresloop_kick(al);
	ret = loop_run(run->loop);
	return ret < 0 ? ret : run->err;
}

void dns_answers_free(struct dns_answer *a, size_t n)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < n; i++)
		free(a[i].addrs);
	free(a);
}

int dns_resolve_all(const char *const *names, size_t n, const struct resolver *servers,
		    size_t nservers, const struct dns_opts *opts, struct dns_answer **out)
{
	struct dns_run run = { .names = names, .n = n };
	ares_channel ch = NULL;
	struct aresloop *al = NULL;
	size_t i, nfailed = 0;
	int err, f;

	if ((n && !names) || !servers || !nservers || nservers > MAX_RESOLVERS || !opts ||
	    opts->timeout_ms <= 0 || opts->tries <= 0 || !out)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!names[i] || !names[i][0] || strlen(names[i]) > NAME_MAX_LEN)
			return -EINVAL;
	if (!n) {
		*out = NULL;
		return 0;
	}

	pthread_once(&ares_once, ares_global_init);
	if (ares_init_status != ARES_SUCCESS)
		return -EIO;

	run.ans = calloc(n, sizeof(*run.ans));
	run.q = calloc(n * Q_NUM, sizeof(*run.q));
	if (!run.ans || !run.q) {
		err = -ENOMEM;
		goto out;
	}
	err = loop_new(&run.loop);
	if (err)
		goto out;
	err = aresloop_new(run.loop, on_stall, &run, &al);
	if (err)
		goto out;
	err = make_channel(servers, nservers, opts, &run, al, &ch);
	if (err)
		goto out;
	run.ch = ch;
	run.budget_ms = query_budget_ms(opts, nservers);

	for (i = 0; i < n; i++) {
		snprintf(run.ans[i].name, sizeof(run.ans[i].name), "%s", names[i]);
		for (f = 0; f < Q_NUM; f++) {
			struct dns_query *q = &run.q[Q_NUM * i + f];

			q->run = &run;
			q->idx = i;
			q->fam = f;
		}
	}

	err = run_queries(&run, al);
	if (err)
		goto out;

	for (i = 0; i < n; i++) {
		struct dns_answer *ans = &run.ans[i];
		const struct dns_query *qa = &run.q[Q_NUM * i + Q_A];
		const struct dns_query *q6 = &run.q[Q_NUM * i + Q_AAAA];

		/*
		 * Only NODATA may excuse a family: a name with just A or just
		 * AAAA records is fine, but a timeout or SERVFAIL on one of
		 * them is a failure, not a silently half-allowed name.
		 */
		bool hard_a = qa->status != ARES_SUCCESS && qa->status != ARES_ENODATA;
		bool hard_6 = q6->status != ARES_SUCCESS && q6->status != ARES_ENODATA;

		if (!qa->sent) {
			/* Both queries of a name start together, or neither. */
			nfailed++;
			snprintf(ans->reason, sizeof(ans->reason),
				 "not asked: earlier queries timed out");
			pr_debug("resolving %s failed: %s", ans->name, ans->reason);
			continue;
		}
		if (ans->naddrs && !hard_a && !hard_6) {
			ans->ok = 1;
			continue;
		}
		nfailed++;
		if (ans->naddrs) {
			const struct dns_query *bad = hard_a ? qa : q6;

			set_reason(ans, bad);
			snprintf(ans->reason + strlen(ans->reason), sizeof(ans->reason) - strlen(ans->reason),
				 " for %s", bad == qa ? "A" : "AAAA");
		} else {
			set_reason(ans, reason_rank(qa) >= reason_rank(q6) ? qa : q6);
		}
		pr_debug("resolving %s failed: %s", ans->name, ans->reason);
	}
	*out = run.ans;
	run.ans = NULL;
	err = nfailed ? -ENOENT : 0;
out:
	/*
	 * Destroying the channel calls back pending queries: q stays valid,
	 * and closing keeps those callbacks from starting new ones.
	 */
	run.closing = true;
	if (ch)
		ares_destroy(ch);
	aresloop_free(al);
	loop_free(run.loop);
	dns_answers_free(run.ans, n);
	free(run.q);
	return err;
}
