// SPDX-License-Identifier: GPL-2.0-only
/*
 * DNS message checks for the proxy.  c-ares expands names and walks
 * answers; the hand-written part is the header, a compression-free walk
 * of the query's question, and the reply, each bounded by len.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <ares.h>

#include "dnsmsg.h"

#define LABEL_MAX_LEN 63

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = *s - 'A' + 'a';
}

/*
 * Walk the plain labels at msg[off..len): no pointer (0xc0), no extended
 * label type (0x40, 0x80), at most 253 characters as text.  On success
 * *end is the offset after the root label.
 */
static int walk_plain_name(const uint8_t *msg, size_t len, size_t off, size_t *end)
{
	size_t text = 0;

	for (;;) {
		uint8_t c;

		if (off >= len)
			return -EINVAL;
		c = msg[off];
		if (c == 0)
			break;
		if (c > LABEL_MAX_LEN) /* 0x40 and up: pointers and the rest */
			return -EINVAL;
		if (len - off - 1 < c)
			return -EINVAL;
		text += (text ? 1 : 0) + c;
		if (text > NAME_MAX_LEN)
			return -EINVAL;
		off += 1 + c;
	}
	*end = off + 1;
	return 0;
}

/* c-ares' text of the name at msg+off into buf, lowercased.  0 or -EINVAL. */
static int expand(const uint8_t *msg, size_t len, size_t off, char *buf, size_t size,
		  size_t *enclen)
{
	char *s = NULL;
	long el = 0;
	size_t sl;

	if (ares_expand_name(msg + off, msg, (int)len, &s, &el) != ARES_SUCCESS)
		return -EINVAL;
	sl = strlen(s);
	if (sl >= size || el <= 0) {
		ares_free_string(s);
		return -EINVAL;
	}
	memcpy(buf, s, sl + 1);
	ares_free_string(s);
	lower(buf);
	*enclen = (size_t)el;
	return 0;
}

int dnsmsg_parse_query(const uint8_t *msg, size_t len, struct dnsmsg_query *q)
{
	struct dnsmsg_query r;
	size_t end, enclen;

	if (!msg || len < DNSMSG_HDR_LEN || len > DNSMSG_MAX_LEN)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.id = get16(msg);
	r.flags = get16(msg + 2);
	if (r.flags & (DNSMSG_F_QR | DNSMSG_F_OPCODE))
		return -EINVAL;
	if (get16(msg + 4) != 1)
		return -EINVAL;
	if (walk_plain_name(msg, len, DNSMSG_HDR_LEN, &end))
		return -EINVAL;
	if (len - end < 4)
		return -EINVAL;
	/* The walk proved the name plain and bounded; c-ares writes its text. */
	if (expand(msg, len, DNSMSG_HDR_LEN, r.name, sizeof(r.name), &enclen) ||
	    enclen != end - DNSMSG_HDR_LEN)
		return -EINVAL;
	r.qtype = get16(msg + end);
	r.qclass = get16(msg + end + 2);
	r.len = end + 4;
	*q = r;
	return 0;
}

int dnsmsg_build_reply(const uint8_t *query, size_t qlen, int rcode, uint8_t *out,
		       size_t cap, size_t *outlen)
{
	struct dnsmsg_query q;
	uint16_t flags;
	size_t n;

	if (!query || qlen < 2 || rcode < 0 || rcode > 15 || !out)
		return -EINVAL;
	if (qlen >= 3 && (query[2] & (DNSMSG_F_QR >> 8)))
		return -EINVAL;
	if (dnsmsg_parse_query(query, qlen, &q)) {
		/* Header only: FORMERR, opcode and RD kept when present. */
		if (cap < DNSMSG_HDR_LEN)
			return -ENOSPC;
		flags = qlen >= 3 ? (uint16_t)(query[2] << 8) & (DNSMSG_F_OPCODE | DNSMSG_F_RD) : 0;
		memset(out, 0, DNSMSG_HDR_LEN);
		memcpy(out, query, 2);
		put16(out + 2, flags | DNSMSG_F_QR | DNSMSG_F_RA | DNSMSG_FORMERR);
		*outlen = DNSMSG_HDR_LEN;
		return 0;
	}
	n = q.len;
	if (cap < n)
		return -ENOSPC;
	/* out may be query itself: memmove, and read flags first. */
	flags = q.flags & (DNSMSG_F_OPCODE | DNSMSG_F_RD);
	memmove(out, query, n);
	put16(out + 2, flags | DNSMSG_F_QR | DNSMSG_F_RA | (uint16_t)rcode);
	put16(out + 4, 1);
	memset(out + 6, 0, 6); /* AN, NS, AR: none */
	*outlen = n;
	return 0;
}

bool dnsmsg_is_truncated(const uint8_t *msg, size_t len)
{
	return msg && len >= 4 && (get16(msg + 2) & DNSMSG_F_TC);
}

int dnsmsg_rcode(const uint8_t *msg, size_t len)
{
	if (!msg || len < DNSMSG_HDR_LEN)
		return -EINVAL;
	return get16(msg + 2) & DNSMSG_F_RCODE;
}

enum dnsmsg_policy dnsmsg_qtype_policy(uint16_t qtype)
{
	switch (qtype) {
	case DNSMSG_TYPE_ANY:
	case DNSMSG_TYPE_AXFR:
	case DNSMSG_TYPE_IXFR:
		return DNSMSG_REFUSE;
	default:
		return DNSMSG_FORWARD;
	}
}

/* Does the answer's question name equal want (any case, dot or not)? */
static bool same_name(const char *got, const char *want)
{
	size_t gl = strlen(got), wl = strlen(want);

	if (wl && want[wl - 1] == '.')
		wl--;
	if (gl && got[gl - 1] == '.')
		gl--;
	return gl == wl && strncasecmp(got, want, gl) == 0;
}

static uint32_t ttl_of(int ttl)
{
	return ttl < 0 ? 0 : (uint32_t)ttl;
}

int dnsmsg_answer_addrs(const uint8_t *answer, size_t len, const char *qname,
			uint16_t qtype, struct dnsmsg_addr *out, size_t max, size_t *n)
{
	char name[DNSMSG_NAME_STRLEN];
	size_t enclen, off, i;
	int got = 0, ret = 0, st;
	void *buf = NULL;
	uint16_t flags;

	if (!answer || !qname || !n || (max && !out))
		return -EINVAL;
	if (qtype != DNSMSG_TYPE_A && qtype != DNSMSG_TYPE_AAAA)
		return -EINVAL;
	if (len < DNSMSG_HDR_LEN || len > DNSMSG_MAX_LEN)
		return -EINVAL;
	flags = get16(answer + 2);
	if (!(flags & DNSMSG_F_QR) || (flags & DNSMSG_F_OPCODE) || get16(answer + 4) != 1)
		return -EINVAL;
	if (expand(answer, len, DNSMSG_HDR_LEN, name, sizeof(name), &enclen))
		return -EINVAL;
	off = DNSMSG_HDR_LEN + enclen;
	if (off > len || len - off < 4)
		return -EINVAL;
	if (!same_name(name, qname) || get16(answer + off) != qtype ||
	    get16(answer + off + 2) != DNSMSG_CLASS_IN)
		return -EINVAL;
	if ((flags & DNSMSG_F_RCODE) != DNSMSG_NOERROR || max == 0) {
		*n = 0;
		return 0;
	}
	if (max > 4096)
		max = 4096; /* far more than a 64 KiB message holds; keeps int safe */
	got = (int)max;
	if (qtype == DNSMSG_TYPE_A) {
		struct ares_addrttl *t = calloc(max, sizeof(*t));

		if (!t)
			return -ENOMEM;
		buf = t;
		st = ares_parse_a_reply(answer, (int)len, NULL, t, &got);
	} else {
		struct ares_addr6ttl *t = calloc(max, sizeof(*t));

		if (!t)
			return -ENOMEM;
		buf = t;
		st = ares_parse_aaaa_reply(answer, (int)len, NULL, t, &got);
	}
	if (st == ARES_ENODATA) {
		got = 0;
	} else if (st == ARES_ENOMEM) {
		ret = -ENOMEM;
		goto out;
	} else if (st != ARES_SUCCESS || got < 0 || (size_t)got > max) {
		ret = -EINVAL;
		goto out;
	}
	for (i = 0; i < (size_t)got; i++) {
		struct dnsmsg_addr *a = &out[i];

		memset(a, 0, sizeof(*a));
		if (qtype == DNSMSG_TYPE_A) {
			const struct ares_addrttl *t = &((struct ares_addrttl *)buf)[i];

			a->addr.family = AF_INET;
			memcpy(a->addr.bytes, &t->ipaddr, 4);
			a->ttl = ttl_of(t->ttl);
		} else {
			const struct ares_addr6ttl *t = &((struct ares_addr6ttl *)buf)[i];

			a->addr.family = AF_INET6;
			memcpy(a->addr.bytes, &t->ip6addr, 16);
			a->ttl = ttl_of(t->ttl);
		}
	}
	*n = (size_t)got;
out:
	free(buf);
	return ret;
}

void dnsmsg_lower_wire_name(uint8_t *name, size_t len)
{
	size_t off = 0;

	while (off < len && name[off] && name[off] <= LABEL_MAX_LEN) {
		size_t end = off + 1 + name[off];

		for (off++; off < end && off < len; off++)
			if (name[off] >= 'A' && name[off] <= 'Z')
				name[off] = (uint8_t)(name[off] - 'A' + 'a');
	}
}

bool dnsmsg_same_wire_name(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t x = a[i], y = b[i];

		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}
