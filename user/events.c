// SPDX-License-Identifier: GPL-2.0-only
/* Deny and audit event reports: formatting, collapsing, writing, summary. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>

#include "addr.h"
#include "events.h"
#include "log.h"
#include "text.h"

/*
 * Rate limiting.  Each destination prints on its 1st, 10th, 100th, ...
 * occurrence, so a retry loop of N attempts costs log10(N)+1 lines.  On
 * top, a token bucket caps lines per second across destinations, so a
 * scan of many destinations cannot flood either; what it holds back is
 * counted and reported.
 */
/*
 * At most this many distinct destinations are tracked (a workload scanning
 * addresses must not grow egressd without bound); beyond it, reports are
 * counted as rate-limited.  Looked up through an open-addressing index.
 */
#define EVENTS_MAX_DESTS 4096
#define EVENTS_INDEX_SIZE (2 * EVENTS_MAX_DESTS) /* power of two */

#define BUCKET_BURST 50
#define BUCKET_PER_SEC 20

struct dest_stat {
	struct egress_event first; /* pid/comm of the first offender */
	uint64_t count;
	uint64_t next_report; /* print when count reaches this */
	uint64_t reported;    /* count at the last printed line, 0: never */
	const char *name;     /* resolved-from name, or NULL */
};

/* Bounds on what the DNS proxy adds at run time: a flood costs no more. */
#define EVENTS_MAX_DYN_NAMES 65536
#define EVENTS_MAX_DNS_NAMES 4096

struct dyn_name {
	struct addr addr;
	char *name;
};

struct dns_denied {
	char *name;
	char qtype[12];
	uint64_t count;
};

struct name_ent {
	struct addr addr;
	unsigned int prefixlen;
	const char *name;
};

struct events {
	struct events_config cfg;
	int out_fd; /* the --log-file, or STDERR_FILENO */
	uint64_t write_failures; /* reports the --log-file did not take */
	int write_errno;	 /* why, the first time */
	bool warned;
	struct dest_stat *dests;
	size_t ndests, capdests;
	uint32_t *index; /* dests[i] stored as i + 1; 0 is empty */
	struct name_ent *names;
	size_t nnames;
	char (*name_store)[NAME_MAX_LEN + 1];
	double tokens;
	uint64_t last_ms;
	uint64_t suppressed;
	/* Names the DNS proxy learned addresses for, at run time. */
	struct dyn_name *dyn;
	size_t ndyn, capdyn;
	/* Names the proxy refused (or, audit, would have). */
	struct dns_denied *denied;
	size_t ndenied, capdenied;
	uint64_t denied_dropped; /* distinct names past EVENTS_MAX_DNS_NAMES */
	/* The last denials, for egressd status: a ring, next the slot to fill. */
	struct events_recent recent[EVENTS_RECENT_MAX];
	size_t nrecent, next_recent;
};

static const char *const reason_str[EGRESS_REASON_MAX] = {
	[EGRESS_PASS_LOOPBACK] = "loopback",
	[EGRESS_PASS_RESOLVER] = "DNS to a resolver",
	[EGRESS_PASS_ALLOWLIST] = "in allowlist",
	[EGRESS_PASS_DNS_PROXY] = "DNS redirected to egressd's proxy",
	[EGRESS_PASS_LEARNED] = "learned from DNS",
	[EGRESS_DROP_NOT_ALLOWED] = "not in allowlist",
	[EGRESS_DROP_PORT] = "port not allowed",
	[EGRESS_DROP_NO_PORT] = "no port to check against a port-limited entry",
	[EGRESS_DROP_DNS] = "DNS to a non-resolver",
	[EGRESS_DROP_MALFORMED] = "malformed packet or socket option",
	[EGRESS_DROP_NOT_IP] = "not IPv4 or IPv6",
	[EGRESS_DROP_IPV6_RTHDR] = "IPv6 routing header",
	[EGRESS_DROP_LOOPBACK_DEV] = "loopback address sent out of a non-loopback device",
	[EGRESS_DROP_SRCROUTE] = "IPv4 source route",
	[EGRESS_DROP_SPOOF] = "source address not this host's (FREEBIND, TRANSPARENT or nonlocal bind)",
	[EGRESS_DROP_MCAST_JOIN] = "multicast group not in allowlist",
	[EGRESS_DROP_LOOPBACK_PORT] = "loopback port not allowed",
};

static const char *const hook_str[EGRESS_HOOK_MAX] = {
	[EGRESS_HOOK_SKB] = "packet",   [EGRESS_HOOK_CONNECT4] = "connect4",
	[EGRESS_HOOK_CONNECT6] = "connect6", [EGRESS_HOOK_SENDMSG4] = "sendmsg4",
	[EGRESS_HOOK_SENDMSG6] = "sendmsg6", [EGRESS_HOOK_SETSOCKOPT] = "setsockopt",
	[EGRESS_HOOK_BIND4] = "bind4",       [EGRESS_HOOK_BIND6] = "bind6",
};

const char *events_reason_str(unsigned int reason)
{
	return reason < EGRESS_REASON_MAX && reason_str[reason] ? reason_str[reason] : "unknown";
}

const char *events_hook_str(unsigned int hook)
{
	return hook < EGRESS_HOOK_MAX ? hook_str[hook] : "unknown";
}

static const char *proto_str(unsigned int p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return NULL;
	}
}

static void event_addr(const struct egress_event *e, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = e->family == 4 ? AF_INET : AF_INET6;
	memcpy(a->bytes, e->daddr, e->family == 4 ? 4 : 16);
}

static const char *lookup_name(const struct events *ev, const struct addr *a)
{
	const char *best = NULL;
	int bestlen = -1;

	/* A name the proxy learned the address for, the latest first. */
	for (size_t i = ev->ndyn; i-- > 0;) {
		if (addr_equal(&ev->dyn[i].addr, a))
			return ev->dyn[i].name;
	}

	for (size_t i = 0; i < ev->nnames; i++) {
		const struct name_ent *n = &ev->names[i];
		unsigned int full = a->family == AF_INET ? 32 : 128;

		if ((int)n->prefixlen > bestlen && addr_prefix_covers(&n->addr, n->prefixlen, a, full)) {
			best = n->name;
			bestlen = (int)n->prefixlen;
		}
	}
	return best;
}

struct events *events_new(const struct events_config *c, const struct rule *rules, size_t nrules,
			  const struct dns_answer *answers, size_t nanswers)
{
	struct events *ev = calloc(1, sizeof(*ev));
	size_t total = nrules;

	if (!ev)
		return NULL;
	ev->cfg = *c;
	ev->out_fd = STDERR_FILENO;
	ev->tokens = BUCKET_BURST;
	ev->index = calloc(EVENTS_INDEX_SIZE, sizeof(*ev->index));
	if (!ev->index) {
		free(ev);
		errno = ENOMEM;
		return NULL;
	}
	if (c->log_file) {
		/* egressd is root: never follow a symlink planted in a shared directory. */
		int fd = open(c->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

		if (fd < 0) {
			int err = errno;

			pr_err("--log-file: cannot open %s: %s", c->log_file, strerror(err));
			free(ev->index);
			free(ev);
			errno = err;
			return NULL;
		}
		ev->out_fd = fd;
	}

	for (size_t i = 0; i < nanswers; i++)
		total += answers[i].naddrs;
	ev->names = calloc(total ? total : 1, sizeof(*ev->names));
	ev->name_store = calloc(total ? total : 1, sizeof(*ev->name_store));
	if (!ev->names || !ev->name_store) {
		events_free(ev);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < nanswers; i++) {
		for (size_t k = 0; k < answers[i].naddrs; k++) {
			struct name_ent *n = &ev->names[ev->nnames];

			n->addr = answers[i].addrs[k];
			n->prefixlen = n->addr.family == AF_INET ? 32 : 128;
			snprintf(ev->name_store[ev->nnames], NAME_MAX_LEN + 1, "%s", answers[i].name);
			n->name = ev->name_store[ev->nnames++];
		}
	}
	for (size_t i = 0; i < nrules; i++) {
		struct name_ent *n;

		if (!rules[i].name[0])
			continue;
		n = &ev->names[ev->nnames];
		n->addr = rules[i].addr;
		n->prefixlen = rules[i].prefixlen;
		snprintf(ev->name_store[ev->nnames], NAME_MAX_LEN + 1, "%s", rules[i].name);
		n->name = ev->name_store[ev->nnames++];
	}
	return ev;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	if (ev->out_fd != STDERR_FILENO)
		close(ev->out_fd);
	free(ev->dests);
	free(ev->index);
	free(ev->names);
	free(ev->name_store);
	for (size_t i = 0; i < ev->ndyn; i++)
		free(ev->dyn[i].name);
	free(ev->dyn);
	for (size_t i = 0; i < ev->ndenied; i++)
		free(ev->denied[i].name);
	free(ev->denied);
	free(ev);
}

/* The socket options the setsockopt program refuses (see egress.bpf.c). */
static const char *sockopt_str(unsigned int level, unsigned int name)
{
	static const struct {
		unsigned short level, name;
		const char *str;
	} opts[] = {
		{ 0, 4, "IP_OPTIONS" },
		{ 0, 15, "IP_FREEBIND" },
		{ 0, 19, "IP_TRANSPARENT" },
		{ 0, 35, "IP_ADD_MEMBERSHIP" },
		{ 0, 37, "IP_UNBLOCK_SOURCE" },
		{ 0, 38, "IP_BLOCK_SOURCE" },
		{ 0, 39, "IP_ADD_SOURCE_MEMBERSHIP" },
		{ 0, 41, "IP_MSFILTER" },
		{ 41, 20, "IPV6_JOIN_GROUP" },
		{ 41, 27, "IPV6_JOIN_ANYCAST" },
		{ 41, 50, "IPV6_PKTINFO" },
		{ 41, 75, "IPV6_TRANSPARENT" },
		{ 41, 78, "IPV6_FREEBIND" },
	};
	static const char *const mcast[] = { [42] = "MCAST_JOIN_GROUP", [43] = "MCAST_BLOCK_SOURCE",
					     [44] = "MCAST_UNBLOCK_SOURCE",
					     [46] = "MCAST_JOIN_SOURCE_GROUP",
					     [48] = "MCAST_MSFILTER" };

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (opts[i].level == level && opts[i].name == name)
			return opts[i].str;
	}
	if (name < sizeof(mcast) / sizeof(mcast[0]) && mcast[name])
		return mcast[name];
	return "an IP option";
}

/*
 * What was refused.  A setsockopt event carries the level in proto and
 * the option in dport, and the group (or source address) if any.
 */
static const char *dest_text(const struct egress_event *e, char *buf, size_t len)
{
	char a[ADDR_STRLEN];
	struct addr ad;
	const char *p = proto_str(e->proto);
	static const uint8_t zero[16];

	event_addr(e, &ad);
	addr_format(&ad, a, sizeof(a));
	if (e->hook == EGRESS_HOOK_SETSOCKOPT) {
		if (memcmp(e->daddr, zero, sizeof(zero)))
			snprintf(buf, len, "setsockopt(%s, %s)", sockopt_str(e->proto, e->dport), a);
		else
			snprintf(buf, len, "setsockopt(%s)", sockopt_str(e->proto, e->dport));
	} else if (e->dport && p)
		snprintf(buf, len, e->family == 6 ? "[%s]:%u/%s" : "%s:%u/%s", a, e->dport, p);
	else if (p)
		snprintf(buf, len, "%s/%s", a, p);
	else
		snprintf(buf, len, "%s/proto-%u", a, e->proto);
	return buf;
}

/*
 * Where the verdict came from, when it is not a plain connect/sendto.  A
 * connect() of a UDP socket sends nothing: getaddrinfo() does it to every
 * candidate address when sorting them (RFC 6724), so say what it was.
 */
static const char *hook_note(const struct egress_event *e)
{
	if (e->hook == EGRESS_HOOK_SKB)
		return " (packet)";
	if (e->hook == EGRESS_HOOK_SETSOCKOPT)
		return " (setsockopt)";
	if (e->hook == EGRESS_HOOK_BIND4 || e->hook == EGRESS_HOOK_BIND6)
		return " (bind)";
	if ((e->hook == EGRESS_HOOK_CONNECT4 || e->hook == EGRESS_HOOK_CONNECT6) &&
	    e->proto == IPPROTO_UDP)
		return " (UDP connect)";
	return "";
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void count_lost(struct events *ev, int err)
{
	if (!ev->write_failures++)
		ev->write_errno = err;
}

/*
 * A whole line per write(), so reports never interleave mid-line.  A
 * --log-file that refuses one (full disk, quota, I/O error) must not make
 * the report vanish: it goes to stderr instead, and the failure is counted
 * for events_check_written() at exit.  Writing to stderr itself has no
 * fallback left, and is not counted.
 */
static void emit(struct events *ev, const char *line, size_t len)
{
	int err = write_all(ev->out_fd, line, len);

	if (!err || ev->out_fd == STDERR_FILENO)
		return;
	if (!ev->warned)
		pr_warn("cannot write deny events to %s: %s; writing them to stderr instead",
			ev->cfg.log_file, strerror(-err));
	ev->warned = true;
	count_lost(ev, -err);
	write_all(STDERR_FILENO, line, len);
}

static void format_json(FILE *out, const struct dest_stat *d, const struct egress_event *e,
			bool final)
{
	const char *p = proto_str(e->proto);
	char a[ADDR_STRLEN];
	struct addr ad;

	event_addr(e, &ad);
	fprintf(out, "{\"event\":\"%s\",\"hook\":\"%s\",\"pid\":%u,\"comm\":",
		(e->flags & EGRESS_EVENT_AUDIT) ? "audit" : "deny", events_hook_str(e->hook), e->pid);
	text_json_str(out, e->comm, sizeof(e->comm));
	fprintf(out, ",\"uid\":%u,\"proto\":", e->uid);
	if (p)
		fprintf(out, "\"%s\"", p);
	else
		fprintf(out, "%u", e->proto);
	fprintf(out, ",\"family\":%u,\"daddr\":\"%s\",\"dport\":%u,\"name\":", e->family == 4 ? 4 : 6,
		addr_format(&ad, a, sizeof(a)), e->dport);
	if (d->name)
		text_json_str(out, d->name, NAME_MAX_LEN);
	else
		fputs("null", out);
	if (e->hook == EGRESS_HOOK_SETSOCKOPT)
		fprintf(out, ",\"option\":\"%s\"", sockopt_str(e->proto, e->dport));
	fprintf(out, ",\"reason\":\"%s\",\"count\":%llu%s}\n", events_reason_str(e->reason),
		(unsigned long long)d->count, final ? ",\"final\":true" : "");
}

static void format_text(FILE *out, const struct dest_stat *d, const struct egress_event *e,
			bool final)
{
	const char *verb = (e->flags & EGRESS_EVENT_AUDIT) ? "audit: would block" : "blocked";
	char who[TEXT_QUOTE_SIZE(EGRESS_COMM_LEN) + 16], name[NAME_MAX_LEN + 8] = "", times[48] = "";
	char comm[TEXT_QUOTE_SIZE(EGRESS_COMM_LEN)];
	char dst[ADDR_STRLEN + 32];

	/*
	 * comm is whatever the process set with PR_SET_NAME: a newline in it
	 * would forge a line of its own, an escape byte would drive the
	 * terminal, a '"' would end the quotes around it.
	 */
	text_quote(e->comm, strnlen(e->comm, sizeof(e->comm)), comm, sizeof(comm));
	/* Programs retitle themselves ("npm install x"): keep the name one token. */
	if (e->pid)
		snprintf(who, sizeof(who), strchr(comm, ' ') ? "\"%s\"[%u]" : "%s[%u]", comm, e->pid);
	else
		snprintf(who, sizeof(who), "uid %u", e->uid);
	if (d->name)
		snprintf(name, sizeof(name), " (%s)", d->name);
	if (d->count > 1)
		snprintf(times, sizeof(times), final ? " [%llu times in total]" : " [%llu times so far]",
			 (unsigned long long)d->count);
	/* A refused socket option has no destination to point at. */
	fprintf(out, "egressd: %s %s %s%s%s: %s%s%s\n", verb, who,
		e->hook == EGRESS_HOOK_SETSOCKOPT ? "" : "-> ", dest_text(e, dst, sizeof(dst)), name,
		events_reason_str(e->reason), e->hook == EGRESS_HOOK_SETSOCKOPT ? "" : hook_note(e),
		times);
}

static void print_event(struct events *ev, struct dest_stat *d, const struct egress_event *e,
			bool final)
{
	char *line = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&line, &len);

	d->reported = d->count;
	/* Out of memory, the report is lost: counted like a refused write. */
	if (!out) {
		count_lost(ev, errno);
		return;
	}
	if (ev->cfg.format == LOG_FORMAT_JSON)
		format_json(out, d, e, final);
	else
		format_text(out, d, e, final);
	if (fclose(out))
		count_lost(ev, ENOMEM);
	else
		emit(ev, line, len);
	free(line);
}

static bool same_dest(const struct egress_event *a, const struct egress_event *b)
{
	return a->family == b->family && a->proto == b->proto && a->dport == b->dport &&
	       a->reason == b->reason && memcmp(a->daddr, b->daddr, 16) == 0;
}

static bool take_token(struct events *ev, uint64_t now_ms)
{
	if (now_ms > ev->last_ms) {
		ev->tokens += (double)(now_ms - ev->last_ms) * BUCKET_PER_SEC / 1000.0;
		if (ev->tokens > BUCKET_BURST)
			ev->tokens = BUCKET_BURST;
		ev->last_ms = now_ms;
	}
	/* A clock that steps back refills nothing until it passes last_ms again. */
	if (ev->tokens < 1.0)
		return false;
	ev->tokens -= 1.0;
	return true;
}

/* FNV-1a over what makes a destination distinct (see same_dest()). */
static uint32_t dest_hash(const struct egress_event *e)
{
	uint8_t key[21];
	uint32_t h = 2166136261u;

	key[0] = e->family;
	key[1] = e->proto;
	key[2] = e->reason;
	key[3] = (uint8_t)(e->dport >> 8);
	key[4] = (uint8_t)e->dport;
	memcpy(key + 5, e->daddr, 16);
	for (size_t i = 0; i < sizeof(key); i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/* The index slot holding e's destination, or the empty slot for it. */
static uint32_t *index_slot(struct events *ev, const struct egress_event *e)
{
	uint32_t i = dest_hash(e) & (EVENTS_INDEX_SIZE - 1);

	while (ev->index[i] && !same_dest(&ev->dests[ev->index[i] - 1].first, e))
		i = (i + 1) & (EVENTS_INDEX_SIZE - 1);
	return &ev->index[i];
}

static struct events_recent *recent_slot(struct events *ev)
{
	struct events_recent *r = &ev->recent[ev->next_recent];

	ev->next_recent = (ev->next_recent + 1) % EVENTS_RECENT_MAX;
	if (ev->nrecent < EVENTS_RECENT_MAX)
		ev->nrecent++;
	memset(r, 0, sizeof(*r));
	r->time = (int64_t)time(NULL);
	return r;
}

static void recent_event(struct events *ev, const struct egress_event *e, const char *name)
{
	struct events_recent *r = recent_slot(ev);
	const char *p = proto_str(e->proto);
	struct addr ad;

	r->pid = e->pid;
	r->uid = e->uid;
	memcpy(r->comm, e->comm, EGRESS_COMM_LEN);
	snprintf(r->hook, sizeof(r->hook), "%s", events_hook_str(e->hook));
	if (e->hook == EGRESS_HOOK_SETSOCKOPT) {
		dest_text(e, r->dest, sizeof(r->dest));
	} else {
		event_addr(e, &ad);
		addr_format(&ad, r->dest, sizeof(r->dest));
		r->port = e->dport;
		if (p)
			snprintf(r->proto, sizeof(r->proto), "%s", p);
		else
			snprintf(r->proto, sizeof(r->proto), "proto-%u", e->proto);
	}
	snprintf(r->reason, sizeof(r->reason), "%s", events_reason_str(e->reason));
	if (name)
		snprintf(r->name, sizeof(r->name), "%s", name);
	r->audit = e->flags & EGRESS_EVENT_AUDIT;
}

size_t events_recent(const struct events *ev, struct events_recent *out, size_t max)
{
	size_t n = 0;

	if (!ev)
		return 0;
	for (; n < ev->nrecent && n < max; n++)
		out[n] = ev->recent[(ev->next_recent + EVENTS_RECENT_MAX - 1 - n) % EVENTS_RECENT_MAX];
	return n;
}

void events_record(struct events *ev, const struct egress_event *e, uint64_t now_ms)
{
	struct dest_stat *d = NULL;
	uint32_t *slot = index_slot(ev, e);

	if (*slot)
		d = &ev->dests[*slot - 1];
	/*
	 * In audit mode a connect or sendmsg that would have been denied is
	 * let through, so the packets of that very connection then reach the
	 * packet hook and are reported again, one event per packet: a single
	 * TCP connect would count 5 or more and its 10th "occurrence" would
	 * print as "uid N ... (packet)" after two attempts.  Enforcing, those
	 * packets never exist.  So once a socket hook has reported a
	 * destination, audit events of the packet hook for it are not counted;
	 * packets no socket hook sees (raw, ICMP) still are.
	 */
	if (d && (e->flags & EGRESS_EVENT_AUDIT) && e->hook == EGRESS_HOOK_SKB &&
	    d->first.hook != EGRESS_HOOK_SKB)
		return;
	if (!d) {
		struct addr a;

		if (ev->ndests == EVENTS_MAX_DESTS) {
			event_addr(e, &a);
			recent_event(ev, e, lookup_name(ev, &a));
			ev->suppressed++;
			return;
		}
		if (ev->ndests == ev->capdests) {
			size_t cap = ev->capdests ? ev->capdests * 2 : 64;
			struct dest_stat *n = realloc(ev->dests, cap * sizeof(*n));

			if (!n) {
				event_addr(e, &a);
				recent_event(ev, e, lookup_name(ev, &a));
				ev->suppressed++;
				return;
			}
			ev->dests = n;
			ev->capdests = cap;
		}
		d = &ev->dests[ev->ndests++];
		*slot = (uint32_t)ev->ndests;
		memset(d, 0, sizeof(*d));
		d->first = *e;
		d->next_report = 1;
		event_addr(e, &a);
		d->name = lookup_name(ev, &a);
	}
	recent_event(ev, e, d->name);
	d->count++;
	if (d->count < d->next_report)
		return;
	d->next_report *= 10;
	if (!take_token(ev, now_ms)) {
		ev->suppressed++;
		return;
	}
	print_event(ev, d, e, false);
}

int events_handle(void *ctx, void *data, size_t len)
{
	struct timespec ts;

	if (len < sizeof(struct egress_event))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	events_record(ctx, data, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
	return 0;
}

static int by_count_desc(const void *a, const void *b)
{
	const struct dest_stat *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

void events_summary(struct events *ev)
{
	char dst[ADDR_STRLEN + 32], a[ADDR_STRLEN];
	char (*entries)[NAME_MAX_LEN + 1] = NULL;
	size_t nentries = 0, nlo = 0;
	uint16_t lo_ports[EGRESS_MAX_LOOPBACK_PORTS];
	bool dns = false;

	if (!ev)
		return;
	/*
	 * Close the books on destinations whose repeats were collapsed since
	 * their last line (1500 attempts last printed at 1000).  Ones never
	 * printed at all are what the warning below counts.
	 */
	for (size_t i = 0; i < ev->ndests; i++) {
		struct dest_stat *d = &ev->dests[i];

		if (d->reported && d->count > d->reported)
			print_event(ev, d, &d->first, true);
	}
	/* Without --audit no counts follow, so promise none. */
	if (ev->suppressed)
		pr_warn("%llu deny reports were rate-limited%s", (unsigned long long)ev->suppressed,
			ev->cfg.audit ? "; the counts below are complete" : "");
	if (!ev->cfg.audit)
		return;
	if (ev->ndenied) {
		pr_info("audit summary: %zu name(s) looked up that the allowlist would have refused:",
			ev->ndenied);
		for (size_t i = 0; i < ev->ndenied; i++)
			pr_info("  %8llu  %s %s", (unsigned long long)ev->denied[i].count,
				ev->denied[i].name, ev->denied[i].qtype);
	}
	if (!ev->ndests && !ev->ndenied) {
		pr_info("audit: nothing would have been blocked");
		return;
	}
	/* Reorders dests under the index: nothing may be recorded after this. */
	qsort(ev->dests, ev->ndests, sizeof(*ev->dests), by_count_desc);
	pr_info("audit summary: %zu destination(s) would have been blocked:", ev->ndests);
	entries = calloc(ev->ndests + ev->ndenied + 1, sizeof(*entries));
	/* Names first: what the workload looked up is what to allow. */
	for (size_t i = 0; entries && i < ev->ndenied; i++) {
		bool dup = false;

		for (size_t j = 0; j < nentries && !dup; j++)
			dup = strcmp(entries[j], ev->denied[i].name) == 0;
		if (!dup)
			snprintf(entries[nentries++], NAME_MAX_LEN + 1, "%s", ev->denied[i].name);
	}
	for (size_t i = 0; i < ev->ndests; i++) {
		const struct dest_stat *d = &ev->dests[i];
		const struct egress_event *e = &d->first;
		char entry[NAME_MAX_LEN + 1];
		struct addr ad;
		bool dup = false;

		pr_info("  %8llu  %s%s%s%s  %s", (unsigned long long)d->count,
			dest_text(e, dst, sizeof(dst)), d->name ? " (" : "", d->name ? d->name : "",
			d->name ? ")" : "", events_reason_str(e->reason));
		if (e->reason == EGRESS_DROP_DNS) {
			dns = true;
			continue;
		}
		/* A local service: --loopback names it, not --allow-domains. */
		if (e->reason == EGRESS_DROP_LOOPBACK_PORT) {
			bool seen = false;

			for (size_t j = 0; j < nlo && !seen; j++)
				seen = lo_ports[j] == e->dport;
			if (!seen && e->dport && nlo < EGRESS_MAX_LOOPBACK_PORTS)
				lo_ports[nlo++] = e->dport;
			continue;
		}
		/*
		 * These name no destination an allowlist entry could open:
		 * the address is a first hop, a forged source or loopback.
		 */
		if (e->reason == EGRESS_DROP_LOOPBACK_DEV || e->reason == EGRESS_DROP_SRCROUTE ||
		    e->reason == EGRESS_DROP_SPOOF || e->reason == EGRESS_DROP_MALFORMED ||
		    e->reason == EGRESS_DROP_NOT_IP || e->reason == EGRESS_DROP_IPV6_RTHDR)
			continue;
		if (!entries)
			continue;
		/* Suggest the name when we know it, else the address[:port]. */
		event_addr(e, &ad);
		addr_format(&ad, a, sizeof(a));
		if (d->name)
			snprintf(entry, sizeof(entry), "%s", d->name);
		else if (e->dport)
			snprintf(entry, sizeof(entry), ad.family == AF_INET ? "%s:%u" : "[%s]:%u", a,
				 e->dport);
		else
			snprintf(entry, sizeof(entry), "%s", a);
		for (size_t j = 0; j < nentries && !dup; j++)
			dup = strcmp(entries[j], entry) == 0;
		if (!dup)
			memcpy(entries[nentries++], entry, sizeof(entry));
	}
	if (nentries) {
		char *line = NULL;
		size_t len = 0;
		FILE *s = open_memstream(&line, &len);

		if (s) {
			for (size_t j = 0; j < nentries; j++)
				fprintf(s, "%s%s", j ? "," : "", entries[j]);
			fclose(s);
			pr_info("audit: to allow all of it, run with: --allow-domains \"%s\"", line);
		}
		free(line);
	}
	if (nlo) {
		char ports[EGRESS_MAX_LOOPBACK_PORTS * 6 + 1] = "";
		size_t o = 0;

		for (size_t j = 0; j < nlo; j++)
			o += (size_t)snprintf(ports + o, sizeof(ports) - o, "%s%u", j ? "," : "",
					      lo_ports[j]);
		pr_info("audit: to allow the local services it used, run with: --loopback %s", ports);
	}
	if (dns)
		pr_info("audit: DNS went to a server that is not a resolver; add it with --resolver ADDR if intended");
	free(entries);
}

uint64_t events_write_failures(const struct events *ev)
{
	return ev ? ev->write_failures : 0;
}

int events_check_written(const struct events *ev)
{
	if (!ev || !ev->write_failures)
		return 0;
	pr_err("%llu deny event%s could not be written to %s: %s%s",
	       (unsigned long long)ev->write_failures, ev->write_failures == 1 ? "" : "s",
	       ev->cfg.log_file ? ev->cfg.log_file : "stderr", strerror(ev->write_errno),
	       ev->cfg.log_file ? " (they went to stderr instead)" : "");
	return ev->write_errno > 0 ? -ev->write_errno : -EIO;
}

static uint64_t now_ms_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void events_learned_name(struct events *ev, const struct addr *a, const char *name)
{
	struct dyn_name *d;

	if (!ev)
		return;
	for (size_t i = ev->ndyn; i-- > 0;) {
		if (addr_equal(&ev->dyn[i].addr, a) && strcmp(ev->dyn[i].name, name) == 0)
			return;
	}
	if (ev->ndyn == EVENTS_MAX_DYN_NAMES)
		return; /* lines then show the address alone */
	if (ev->ndyn == ev->capdyn) {
		size_t cap = ev->capdyn ? ev->capdyn * 2 : 64;

		d = realloc(ev->dyn, cap * sizeof(*d));
		if (!d)
			return;
		ev->dyn = d;
		ev->capdyn = cap;
	}
	d = &ev->dyn[ev->ndyn];
	d->name = strdup(name);
	if (!d->name)
		return;
	d->addr = *a;
	ev->ndyn++;
}

/* A query name as c-ares prints it is safe as is; anything else is quoted. */
static const char *dns_name_text(const char *name, char *buf, size_t size)
{
	for (const char *p = name; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return text_quote(name, strlen(name), buf, size);
	}
	return name[0] ? name : ".";
}

static void recent_dns(struct events *ev, pid_t pid, uid_t uid, const char *comm,
		       const char *name, const char *qtype, const char *reason, bool audit)
{
	struct events_recent *r = recent_slot(ev);

	r->pid = pid > 0 ? (uint32_t)pid : 0;
	r->uid = uid;
	snprintf(r->comm, sizeof(r->comm), "%s", comm ? comm : "");
	snprintf(r->hook, sizeof(r->hook), "dns");
	snprintf(r->dest, sizeof(r->dest), "%s", name);
	r->port = 53;
	snprintf(r->proto, sizeof(r->proto), "%s", qtype);
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	r->audit = audit;
}

void events_dns(struct events *ev, pid_t pid, uid_t uid, const char *comm, const char *name,
		const char *qtype, const char *reason, bool audit)
{
	struct dns_denied *d = NULL;
	char who[64], nbuf[TEXT_QUOTE_SIZE(NAME_MAX_LEN)], *line = NULL;
	size_t len = 0;
	FILE *out;

	if (!ev)
		return;
	recent_dns(ev, pid, uid, comm, name, qtype, reason, audit);
	for (size_t i = 0; i < ev->ndenied; i++) {
		if (strcmp(ev->denied[i].name, name) == 0 && strcmp(ev->denied[i].qtype, qtype) == 0) {
			d = &ev->denied[i];
			break;
		}
	}
	if (d) {
		d->count++;
		return; /* one line per name and type */
	}
	if (ev->ndenied == EVENTS_MAX_DNS_NAMES) {
		ev->denied_dropped++;
		return;
	}
	if (ev->ndenied == ev->capdenied) {
		size_t cap = ev->capdenied ? ev->capdenied * 2 : 32;
		struct dns_denied *nd = realloc(ev->denied, cap * sizeof(*nd));

		if (!nd)
			return;
		ev->denied = nd;
		ev->capdenied = cap;
	}
	d = &ev->denied[ev->ndenied];
	d->name = strdup(name);
	if (!d->name)
		return;
	snprintf(d->qtype, sizeof(d->qtype), "%s", qtype);
	d->count = 1;
	ev->ndenied++;
	if (!take_token(ev, now_ms_mono())) {
		ev->suppressed++;
		return;
	}
	out = open_memstream(&line, &len);
	if (!out)
		return;
	if (ev->cfg.format == LOG_FORMAT_JSON) {
		fprintf(out, "{\"event\":\"%s\",\"hook\":\"dns\",\"pid\":%d,\"comm\":",
			audit ? "audit" : "deny", (int)pid);
		text_json_str(out, comm ? comm : "", EGRESS_COMM_LEN);
		fprintf(out, ",\"uid\":%u,\"name\":", (unsigned)uid);
		text_json_str(out, name, 4 * NAME_MAX_LEN);
		fprintf(out, ",\"qtype\":\"%s\",\"reason\":\"%s\"}\n", qtype, reason);
	} else {
		if (pid && comm && comm[0])
			snprintf(who, sizeof(who), "%s[%d]",
				 text_quote(comm, strlen(comm), nbuf, sizeof(nbuf)), (int)pid);
		else if (pid)
			snprintf(who, sizeof(who), "pid %d", (int)pid);
		else
			snprintf(who, sizeof(who), "a process");
		fprintf(out, "egressd: %s DNS %s -> %s %s: %s\n",
			audit ? "audit: would block" : "blocked", who,
			dns_name_text(name, nbuf, sizeof(nbuf)), qtype, reason);
	}
	if (fclose(out))
		count_lost(ev, ENOMEM);
	else
		emit(ev, line, len);
	free(line);
}
