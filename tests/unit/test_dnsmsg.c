// SPDX-License-Identifier: GPL-2.0-only
/*
 * dnsmsg_parse_query(), dnsmsg_build_reply(), dnsmsg_answer_addrs() and
 * the small helpers, on messages built here byte by byte.  Every parse
 * also runs on a copy that ends at a PROT_NONE page, so a read past len
 * crashes the test instead of passing unseen; random mutations of valid
 * messages run the same way.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "dnsmsg.h"

/* ---- building messages ------------------------------------------------ */

struct mb {
	uint8_t b[8192];
	size_t n;
};

static void u8(struct mb *m, uint8_t v)
{
	assert_true(m->n < sizeof(m->b));
	m->b[m->n++] = v;
}

static void u16(struct mb *m, uint16_t v)
{
	u8(m, v >> 8);
	u8(m, v & 0xff);
}

static void u32(struct mb *m, uint32_t v)
{
	u16(m, v >> 16);
	u16(m, v & 0xffff);
}

static void hdr(struct mb *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		uint16_t ns, uint16_t ar)
{
	m->n = 0;
	u16(m, id);
	u16(m, flags);
	u16(m, qd);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

/* "a.b.c" as labels, then the root; "" is the root alone. */
static void name(struct mb *m, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		u8(m, (uint8_t)l);
		for (size_t i = 0; i < l; i++)
			u8(m, s[i]);
		s += l + (dot ? 1 : 0);
	}
	u8(m, 0);
}

static void question(struct mb *m, const char *n, uint16_t type, uint16_t class)
{
	name(m, n);
	u16(m, type);
	u16(m, class);
}

/* A record whose owner is a pointer to offset 12 (the question name). */
static void rr_ptr12(struct mb *m, uint16_t type, uint32_t ttl, const void *rd,
		     uint16_t rdlen)
{
	u16(m, 0xc00c);
	u16(m, type);
	u16(m, DNSMSG_CLASS_IN);
	u32(m, ttl);
	u16(m, rdlen);
	for (uint16_t i = 0; i < rdlen; i++)
		u8(m, ((const uint8_t *)rd)[i]);
}

static void rr(struct mb *m, const char *owner, uint16_t type, uint32_t ttl, const void *rd,
	       uint16_t rdlen)
{
	name(m, owner);
	u16(m, type);
	u16(m, DNSMSG_CLASS_IN);
	u32(m, ttl);
	u16(m, rdlen);
	for (uint16_t i = 0; i < rdlen; i++)
		u8(m, ((const uint8_t *)rd)[i]);
}

static void rr_a(struct mb *m, const char *owner, uint32_t ttl, const char *ip)
{
	uint8_t a[4];

	assert_int_equal(inet_pton(AF_INET, ip, a), 1);
	rr(m, owner, DNSMSG_TYPE_A, ttl, a, 4);
}

static void rr_aaaa(struct mb *m, const char *owner, uint32_t ttl, const char *ip)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(AF_INET6, ip, a), 1);
	rr(m, owner, DNSMSG_TYPE_AAAA, ttl, a, 16);
}

static void rr_cname(struct mb *m, const char *owner, uint32_t ttl, const char *target)
{
	struct mb t = { .n = 0 };

	name(&t, target);
	rr(m, owner, DNSMSG_TYPE_CNAME, ttl, t.b, (uint16_t)t.n);
}

/* A copy of msg that ends where a PROT_NONE page begins. */
static uint8_t *guard_base;
static size_t guard_room;

static const uint8_t *guarded(const void *msg, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);

	if (!guard_base) {
		guard_room = 3 * (size_t)pg;
		guard_base = mmap(NULL, guard_room + pg, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(guard_base != MAP_FAILED);
		assert_int_equal(mprotect(guard_base + guard_room, pg, PROT_NONE), 0);
	}
	assert_true(len <= guard_room);
	memcpy(guard_base + guard_room - len, msg, len);
	return guard_base + guard_room - len;
}

static int parse_q(const struct mb *m, struct dnsmsg_query *q)
{
	return dnsmsg_parse_query(guarded(m->b, m->n), m->n, q);
}

/* ---- queries ---------------------------------------------------------- */

static void test_query_good(void **state)
{
	struct dnsmsg_query q;
	struct mb m;

	(void)state;
	hdr(&m, 0xbeef, DNSMSG_F_RD, 1, 0, 0, 0);
	question(&m, "WWW.Example.COM", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	assert_int_equal(parse_q(&m, &q), 0);
	assert_int_equal(q.id, 0xbeef);
	assert_int_equal(q.flags, DNSMSG_F_RD);
	assert_string_equal(q.name, "www.example.com");
	assert_int_equal(q.qtype, DNSMSG_TYPE_A);
	assert_int_equal(q.qclass, DNSMSG_CLASS_IN);
	assert_int_equal(q.len, 12 + 17 + 4);

	/* An EDNS OPT record after the question is not part of len. */
	hdr(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "xn--bcher-kva.example", DNSMSG_TYPE_AAAA, DNSMSG_CLASS_IN);
	u8(&m, 0);
	u16(&m, 41);
	u16(&m, 1232);
	u32(&m, 0);
	u16(&m, 0);
	assert_int_equal(parse_q(&m, &q), 0);
	assert_string_equal(q.name, "xn--bcher-kva.example");
	assert_int_equal(q.qtype, DNSMSG_TYPE_AAAA);
	assert_int_equal(q.len, m.n - 11);

	/* The root, and any class and type: judging them is the caller's job. */
	hdr(&m, 2, 0, 1, 0, 0, 0);
	question(&m, "", 2, 3);
	assert_int_equal(parse_q(&m, &q), 0);
	assert_string_equal(q.name, "");
	assert_int_equal(q.qtype, 2);
	assert_int_equal(q.qclass, 3);
	assert_int_equal(q.len, 12 + 1 + 4);

	/* Odd bytes in a label come back escaped by c-ares, never raw. */
	hdr(&m, 3, 0, 1, 0, 0, 0);
	u8(&m, 3);
	u8(&m, 'a');
	u8(&m, '.');
	u8(&m, 'B');
	u8(&m, 1);
	u8(&m, 0x01);
	name(&m, "com");
	u16(&m, 1);
	u16(&m, 1);
	assert_int_equal(parse_q(&m, &q), 0);
	assert_string_equal(q.name, "a\\.b.\\001.com");
}

static void test_query_bad(void **state)
{
	struct dnsmsg_query q;
	struct mb m;

	(void)state;
	memset(&q, 0x5a, sizeof(q));
	/* A response, another opcode, QDCOUNT 0 or 2. */
	hdr(&m, 1, DNSMSG_F_QR, 1, 0, 0, 0);
	question(&m, "a.com", 1, 1);
	assert_int_equal(parse_q(&m, &q), -EINVAL);
	hdr(&m, 1, 2 << 11, 1, 0, 0, 0);
	question(&m, "a.com", 1, 1);
	assert_int_equal(parse_q(&m, &q), -EINVAL);
	hdr(&m, 1, 0, 0, 0, 0, 0);
	question(&m, "a.com", 1, 1);
	assert_int_equal(parse_q(&m, &q), -EINVAL);
	hdr(&m, 1, 0, 2, 0, 0, 0);
	question(&m, "a.com", 1, 1);
	question(&m, "b.com", 1, 1);
	assert_int_equal(parse_q(&m, &q), -EINVAL);

	/* Compression in the question: to the header, to itself, a loop. */
	hdr(&m, 1, 0, 1, 0, 0, 0);
	u16(&m, 0xc000);
	u16(&m, 1);
	u16(&m, 1);
	assert_int_equal(parse_q(&m, &q), -EINVAL);
	hdr(&m, 1, 0, 1, 0, 0, 0);
	u16(&m, 0xc00c);
	u16(&m, 1);
	u16(&m, 1);
	assert_int_equal(parse_q(&m, &q), -EINVAL);
	hdr(&m, 1, 0, 1, 0, 0, 0);
	u8(&m, 1);
	u8(&m, 'a');
	u16(&m, 0xc00c);
	u16(&m, 1);
	u16(&m, 1);
	assert_int_equal(parse_q(&m, &q), -EINVAL);
	/* Extended label types 0x40 and 0x80. */
	hdr(&m, 1, 0, 1, 0, 0, 0);
	u8(&m, 0x41);
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	assert_int_equal(parse_q(&m, &q), -EINVAL);
	hdr(&m, 1, 0, 1, 0, 0, 0);
	u8(&m, 0x80);
	u8(&m, 0);
	u16(&m, 1);
	u16(&m, 1);
	assert_int_equal(parse_q(&m, &q), -EINVAL);

	/* No root label before the end; no room for type and class. */
	hdr(&m, 1, 0, 1, 0, 0, 0);
	u8(&m, 3);
	u8(&m, 'c');
	u8(&m, 'o');
	u8(&m, 'm');
	assert_int_equal(parse_q(&m, &q), -EINVAL);
	hdr(&m, 1, 0, 1, 0, 0, 0);
	name(&m, "a.com");
	u16(&m, 1);
	u8(&m, 0);
	assert_int_equal(parse_q(&m, &q), -EINVAL);
	assert_int_equal(q.id, 0x5a5a); /* never touched */

	assert_int_equal(dnsmsg_parse_query(NULL, 40, &q), -EINVAL);
}

static void test_query_lengths(void **state)
{
	char n253[300], n254[300];
	struct dnsmsg_query q;
	struct mb m;

	(void)state;
	/* 4 labels: 63 + 63 + 63 + 61 + 3 dots = 253. */
	memset(n253, 'a', sizeof(n253));
	n253[63] = n253[127] = n253[191] = '.';
	n253[253] = '\0';
	memcpy(n254, n253, 253);
	n254[253] = 'b';
	n254[254] = '\0';
	hdr(&m, 1, 0, 1, 0, 0, 0);
	question(&m, n253, 1, 1);
	assert_int_equal(parse_q(&m, &q), 0);
	assert_int_equal(strlen(q.name), 253);
	hdr(&m, 1, 0, 1, 0, 0, 0);
	question(&m, n254, 1, 1);
	assert_int_equal(parse_q(&m, &q), -EINVAL);

	/* Every truncation of a good query fails, reading nothing past len. */
	hdr(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "www.example.com", 1, 1);
	for (size_t len = 0; len < 12 + 17 + 4; len++)
		assert_int_equal(dnsmsg_parse_query(guarded(m.b, len), len, &q), -EINVAL);
	assert_int_equal(dnsmsg_parse_query(guarded(m.b, m.n), m.n, &q), 0);
}

/* Mutate bytes of good messages at random: no crash, sane results. */
static void test_query_fuzz(void **state)
{
	struct dnsmsg_query q;
	struct mb base, m;
	unsigned int seed = 12345;

	(void)state;
	hdr(&base, 7, DNSMSG_F_RD, 1, 0, 0, 0);
	question(&base, "a.bb.ccc.example.com", 1, 1);
	for (int i = 0; i < 200000; i++) {
		int flips = 1 + rand_r(&seed) % 4;

		m = base;
		m.n = (size_t)rand_r(&seed) % (base.n + 1);
		for (int f = 0; f < flips && m.n; f++)
			m.b[rand_r(&seed) % m.n] = (uint8_t)rand_r(&seed);
		if (parse_q(&m, &q) == 0) {
			assert_true(q.len <= m.n);
			assert_true(strlen(q.name) < sizeof(q.name));
		}
	}
}

/* ---- replies ---------------------------------------------------------- */

static void test_reply(void **state)
{
	uint8_t out[512];
	size_t outlen = 0;
	struct dnsmsg_query q;
	struct mb m;

	(void)state;
	hdr(&m, 0x1234, DNSMSG_F_RD | DNSMSG_F_AA, 1, 0, 0, 1);
	question(&m, "Evil.Example", 255, 1);
	u8(&m, 0); /* OPT */
	u16(&m, 41);
	u16(&m, 4096);
	u32(&m, 0);
	u16(&m, 0);
	assert_int_equal(dnsmsg_build_reply(guarded(m.b, m.n), m.n, DNSMSG_REFUSED, out,
					    sizeof(out), &outlen), 0);
	assert_int_equal(outlen, 12 + 14 + 4);
	assert_int_equal(out[0], 0x12);
	assert_int_equal(out[1], 0x34);
	assert_int_equal(out[2] << 8 | out[3],
			 DNSMSG_F_QR | DNSMSG_F_RD | DNSMSG_F_RA | DNSMSG_REFUSED);
	assert_int_equal(out[4] << 8 | out[5], 1);
	for (int i = 6; i < 12; i++)
		assert_int_equal(out[i], 0);
	assert_memory_equal(out + 12, m.b + 12, 18); /* the question, case kept */
	assert_false(dnsmsg_is_truncated(out, outlen));
	assert_int_equal(dnsmsg_rcode(out, outlen), DNSMSG_REFUSED);

	/* RD clear stays clear; each rcode. */
	static const int rcodes[] = { DNSMSG_NXDOMAIN, DNSMSG_SERVFAIL, DNSMSG_FORMERR,
				      DNSMSG_NOERROR };

	hdr(&m, 9, 0, 1, 0, 0, 0);
	question(&m, "a.com", 1, 1);
	for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++) {
		assert_int_equal(dnsmsg_build_reply(m.b, m.n, rcodes[i], out, sizeof(out),
						    &outlen), 0);
		assert_int_equal(out[2] << 8 | out[3], DNSMSG_F_QR | DNSMSG_F_RA | rcodes[i]);
	}
	/* The reply parses back as a response to the same question. */
	assert_int_equal(dnsmsg_parse_query(out, outlen, &q), -EINVAL);
	size_t na = 99;

	assert_int_equal(dnsmsg_answer_addrs(out, outlen, "a.com", 1, NULL, 0, &na), 0);
	assert_int_equal(na, 0);

	/* In place. */
	struct mb c = m;

	assert_int_equal(dnsmsg_build_reply(c.b, c.n, DNSMSG_NXDOMAIN, c.b, sizeof(c.b),
					    &outlen), 0);
	assert_int_equal(outlen, m.n);
	assert_int_equal(c.b[3] & 0xf, DNSMSG_NXDOMAIN);
	assert_memory_equal(c.b + 12, m.b + 12, m.n - 12);

	/* Too small: nothing written. */
	outlen = 77;
	assert_int_equal(dnsmsg_build_reply(m.b, m.n, 5, out, m.n - 1, &outlen), -ENOSPC);
	assert_int_equal(outlen, 77);
	assert_int_equal(dnsmsg_build_reply(m.b, m.n, 16, out, sizeof(out), &outlen), -EINVAL);
	assert_int_equal(dnsmsg_build_reply(m.b, m.n, -1, out, sizeof(out), &outlen), -EINVAL);
}

static void test_reply_formerr(void **state)
{
	uint8_t out[64];
	size_t outlen = 0;
	struct mb m;

	(void)state;
	/* QDCOUNT 2: header only, FORMERR, id and RD kept. */
	hdr(&m, 0xabcd, DNSMSG_F_RD, 2, 0, 0, 0);
	question(&m, "a.com", 1, 1);
	question(&m, "b.com", 1, 1);
	assert_int_equal(dnsmsg_build_reply(guarded(m.b, m.n), m.n, DNSMSG_REFUSED, out,
					    sizeof(out), &outlen), 0);
	assert_int_equal(outlen, 12);
	assert_int_equal(out[0] << 8 | out[1], 0xabcd);
	assert_int_equal(out[2] << 8 | out[3],
			 DNSMSG_F_QR | DNSMSG_F_RD | DNSMSG_F_RA | DNSMSG_FORMERR);
	for (int i = 4; i < 12; i++)
		assert_int_equal(out[i], 0);

	/* Two bytes are enough for an id; one is not. */
	static const uint8_t two[2] = { 0x55, 0x66 };

	assert_int_equal(dnsmsg_build_reply(guarded(two, 2), 2, 5, out, sizeof(out), &outlen),
			 0);
	assert_int_equal(outlen, 12);
	assert_int_equal(out[0] << 8 | out[1], 0x5566);
	assert_int_equal(out[3] & 0xf, DNSMSG_FORMERR);
	assert_int_equal(dnsmsg_build_reply(guarded(two, 1), 1, 5, out, sizeof(out), &outlen),
			 -EINVAL);
	assert_int_equal(dnsmsg_build_reply(two, 2, 5, out, 11, &outlen), -ENOSPC);

	/* A response is never answered. */
	hdr(&m, 1, DNSMSG_F_QR, 1, 0, 0, 0);
	question(&m, "a.com", 1, 1);
	assert_int_equal(dnsmsg_build_reply(m.b, m.n, 5, out, sizeof(out), &outlen), -EINVAL);
	hdr(&m, 1, DNSMSG_F_QR, 0, 0, 0, 0);
	assert_int_equal(dnsmsg_build_reply(m.b, 3, 5, out, sizeof(out), &outlen), -EINVAL);

	/* Every truncation of a query still gets a reply, from 2 bytes on. */
	hdr(&m, 0x0102, 0, 1, 0, 0, 0);
	question(&m, "www.example.com", 1, 1);
	for (size_t len = 2; len < m.n; len++) {
		assert_int_equal(dnsmsg_build_reply(guarded(m.b, len), len, 5, out, sizeof(out),
						    &outlen), 0);
		assert_int_equal(outlen, 12);
		assert_int_equal(out[3] & 0xf, DNSMSG_FORMERR);
	}
}

/* ---- answers ---------------------------------------------------------- */

static char *fmt_addrs(const struct dnsmsg_addr *a, size_t n)
{
	static char buf[2048];
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char s[ADDR_STRLEN];

		o += snprintf(buf + o, sizeof(buf) - o, "%s%s/%u", i ? " " : "",
			      addr_format(&a[i].addr, s, sizeof(s)), a[i].ttl);
	}
	return buf;
}

static void expect_addrs(const struct mb *m, const char *qname, uint16_t qtype,
			 size_t max, const char *want)
{
	struct dnsmsg_addr out[16];
	size_t n = 999;
	int ret;

	assert_true(max <= 16);
	ret = dnsmsg_answer_addrs(guarded(m->b, m->n), m->n, qname, qtype, out, max, &n);
	if (ret)
		fail_msg("%s: %d", qname, ret);
	assert_string_equal(fmt_addrs(out, n), want);
}

static void expect_bad_answer(const struct mb *m, const char *qname, uint16_t qtype)
{
	struct dnsmsg_addr out[4];
	size_t n = 999;

	assert_int_equal(dnsmsg_answer_addrs(guarded(m->b, m->n), m->n, qname, qtype, out, 4,
					     &n), -EINVAL);
	assert_int_equal(n, 999);
}

static void test_answer_a(void **state)
{
	struct mb m;

	(void)state;
	hdr(&m, 1, DNSMSG_F_QR | DNSMSG_F_RD | DNSMSG_F_RA, 1, 2, 0, 0);
	question(&m, "www.example.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	rr_a(&m, "www.example.com", 300, "198.51.100.7");
	rr_a(&m, "WWW.example.com", 200, "198.51.100.8");
	expect_addrs(&m, "www.example.com", DNSMSG_TYPE_A, 16,
		     "198.51.100.7/300 198.51.100.8/200");
	expect_addrs(&m, "WWW.Example.Com.", DNSMSG_TYPE_A, 16,
		     "198.51.100.7/300 198.51.100.8/200");
	/* max caps the count. */
	expect_addrs(&m, "www.example.com", DNSMSG_TYPE_A, 1, "198.51.100.7/300");
	expect_addrs(&m, "www.example.com", DNSMSG_TYPE_A, 0, "");

	/* Owner names by pointer, as real servers send them. */
	hdr(&m, 1, DNSMSG_F_QR, 1, 1, 0, 0);
	question(&m, "a.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	rr_ptr12(&m, DNSMSG_TYPE_A, 60, "\xc6\x33\x64\x01", 4);
	expect_addrs(&m, "a.com", DNSMSG_TYPE_A, 16, "198.51.100.1/60");

	/* A TTL with the top bit set counts as 0. */
	hdr(&m, 1, DNSMSG_F_QR, 1, 1, 0, 0);
	question(&m, "a.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	rr_a(&m, "a.com", 0x80000000u, "198.51.100.2");
	expect_addrs(&m, "a.com", DNSMSG_TYPE_A, 16, "198.51.100.2/0");
}

static void test_answer_cname(void **state)
{
	struct mb m;

	(void)state;
	/* The chain's smallest CNAME TTL bounds the address's. */
	hdr(&m, 1, DNSMSG_F_QR, 1, 4, 0, 0);
	question(&m, "www.a.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	rr_cname(&m, "www.a.com", 50, "edge.cdn.net");
	rr_cname(&m, "edge.cdn.net", 400, "e1.cdn.net");
	rr_a(&m, "e1.cdn.net", 300, "203.0.113.1");
	rr_a(&m, "e1.cdn.net", 20, "203.0.113.2");
	expect_addrs(&m, "www.a.com", DNSMSG_TYPE_A, 16, "203.0.113.1/50 203.0.113.2/20");

	/* Addresses of names off the chain are not taken. */
	hdr(&m, 1, DNSMSG_F_QR, 1, 3, 0, 1);
	question(&m, "www.a.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	rr_a(&m, "evil.com", 300, "192.0.2.66");
	rr_cname(&m, "www.a.com", 300, "b.a.com");
	rr_a(&m, "b.a.com", 300, "203.0.113.3");
	rr_a(&m, "www.a.com", 300, "192.0.2.67"); /* additional section */
	expect_addrs(&m, "www.a.com", DNSMSG_TYPE_A, 16, "203.0.113.3/300");

	/* A chain with no address at its end: none. */
	hdr(&m, 1, DNSMSG_F_QR, 1, 1, 0, 0);
	question(&m, "www.a.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	rr_cname(&m, "www.a.com", 300, "gone.a.com");
	expect_addrs(&m, "www.a.com", DNSMSG_TYPE_A, 16, "");
}

static void test_answer_aaaa(void **state)
{
	struct mb m;

	(void)state;
	hdr(&m, 1, DNSMSG_F_QR, 1, 3, 0, 0);
	question(&m, "v6.example", DNSMSG_TYPE_AAAA, DNSMSG_CLASS_IN);
	rr_aaaa(&m, "v6.example", 120, "2001:db8::1");
	rr_a(&m, "v6.example", 120, "198.51.100.9"); /* wrong type: ignored */
	rr_aaaa(&m, "v6.example", 90, "::ffff:10.0.0.1");
	/* Mapped addresses come back as sent; learn_answer() folds them. */
	struct dnsmsg_addr out[4];
	size_t n = 0;

	assert_int_equal(dnsmsg_answer_addrs(m.b, m.n, "v6.example", DNSMSG_TYPE_AAAA, out, 4,
					     &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].addr.family, AF_INET6);
	assert_int_equal(out[0].ttl, 120);
	assert_int_equal(out[1].addr.family, AF_INET6);
	assert_int_equal(out[1].addr.bytes[10], 0xff);
	assert_int_equal(out[1].addr.bytes[12], 10);
	assert_int_equal(out[1].ttl, 90);
	/* The A answer to this AAAA question would be a mismatch. */
	expect_bad_answer(&m, "v6.example", DNSMSG_TYPE_A);
}

static void test_answer_empty(void **state)
{
	struct mb m;

	(void)state;
	hdr(&m, 1, DNSMSG_F_QR, 1, 0, 0, 0);
	question(&m, "a.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	expect_addrs(&m, "a.com", DNSMSG_TYPE_A, 16, "");
	/* NXDOMAIN, SERVFAIL: nothing, whatever records ride along. */
	hdr(&m, 1, DNSMSG_F_QR | DNSMSG_NXDOMAIN, 1, 1, 0, 0);
	question(&m, "a.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	rr_a(&m, "a.com", 300, "198.51.100.1");
	expect_addrs(&m, "a.com", DNSMSG_TYPE_A, 16, "");
	m.b[3] = (m.b[3] & 0xf0) | DNSMSG_SERVFAIL;
	expect_addrs(&m, "a.com", DNSMSG_TYPE_A, 16, "");
	assert_int_equal(dnsmsg_rcode(m.b, m.n), DNSMSG_SERVFAIL);
	assert_int_equal(dnsmsg_rcode(m.b, 11), -EINVAL);
}

static void test_answer_mismatch(void **state)
{
	struct dnsmsg_addr out[4];
	struct mb m;
	size_t n;

	(void)state;
	hdr(&m, 1, DNSMSG_F_QR, 1, 1, 0, 0);
	question(&m, "a.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	rr_a(&m, "a.com", 300, "198.51.100.1");
	expect_addrs(&m, "a.com", DNSMSG_TYPE_A, 4, "198.51.100.1/300");
	expect_bad_answer(&m, "b.com", DNSMSG_TYPE_A);
	expect_bad_answer(&m, "a.com.x", DNSMSG_TYPE_A);
	expect_bad_answer(&m, "x.a.com", DNSMSG_TYPE_A);
	expect_bad_answer(&m, "a.co", DNSMSG_TYPE_A);
	expect_bad_answer(&m, "a.com", DNSMSG_TYPE_AAAA);
	/* Only A and AAAA carry addresses. */
	expect_bad_answer(&m, "a.com", 15);
	/* Not a response; two questions; class CH. */
	m.b[2] &= ~0x80;
	expect_bad_answer(&m, "a.com", DNSMSG_TYPE_A);
	m.b[2] |= 0x80;
	m.b[5] = 2;
	expect_bad_answer(&m, "a.com", DNSMSG_TYPE_A);
	m.b[5] = 1;
	hdr(&m, 1, DNSMSG_F_QR, 1, 1, 0, 0);
	question(&m, "a.com", DNSMSG_TYPE_A, 3);
	rr_a(&m, "a.com", 300, "198.51.100.1");
	expect_bad_answer(&m, "a.com", DNSMSG_TYPE_A);
	/* A record running past the end. */
	hdr(&m, 1, DNSMSG_F_QR, 1, 2, 0, 0);
	question(&m, "a.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	rr_a(&m, "a.com", 300, "198.51.100.1");
	expect_bad_answer(&m, "a.com", DNSMSG_TYPE_A);
	n = 5;
	assert_int_equal(dnsmsg_answer_addrs(NULL, 30, "a.com", 1, out, 4, &n), -EINVAL);
	assert_int_equal(dnsmsg_answer_addrs(m.b, 11, "a.com", 1, out, 4, &n), -EINVAL);
	assert_int_equal(n, 5);
}

static void test_answer_fuzz(void **state)
{
	struct dnsmsg_addr out[8];
	unsigned int seed = 777;
	struct mb base, m;

	(void)state;
	hdr(&base, 1, DNSMSG_F_QR, 1, 3, 0, 0);
	question(&base, "www.a.com", DNSMSG_TYPE_A, DNSMSG_CLASS_IN);
	rr_cname(&base, "www.a.com", 50, "b.a.com");
	rr_a(&base, "b.a.com", 300, "203.0.113.1");
	rr_ptr12(&base, DNSMSG_TYPE_A, 60, "\xc6\x33\x64\x01", 4);
	/* Every truncation: an error or a subset, never a crash. */
	for (size_t len = 0; len <= base.n; len++) {
		size_t n = 0;
		int ret = dnsmsg_answer_addrs(guarded(base.b, len), len, "www.a.com", 1, out, 8,
					      &n);

		assert_true(ret == 0 || ret == -EINVAL);
		assert_true(ret || n <= 2);
	}
	for (int i = 0; i < 100000; i++) {
		int flips = 1 + rand_r(&seed) % 4;
		size_t n = 0;

		m = base;
		for (int f = 0; f < flips; f++)
			m.b[rand_r(&seed) % m.n] = (uint8_t)rand_r(&seed);
		if (dnsmsg_answer_addrs(guarded(m.b, m.n), m.n, "www.a.com", 1, out, 8, &n) == 0)
			assert_true(n <= 8);
	}
}

static void test_helpers(void **state)
{
	static const uint8_t tc[4] = { 0, 1, 0x82, 0x80 };
	static const uint8_t notc[4] = { 0, 1, 0x81, 0x80 };

	(void)state;
	assert_true(dnsmsg_is_truncated(tc, 4));
	assert_false(dnsmsg_is_truncated(tc, 3));
	assert_false(dnsmsg_is_truncated(notc, 4));
	assert_false(dnsmsg_is_truncated(NULL, 4));
	assert_int_equal(dnsmsg_qtype_policy(DNSMSG_TYPE_ANY), DNSMSG_REFUSE);
	assert_int_equal(dnsmsg_qtype_policy(DNSMSG_TYPE_AXFR), DNSMSG_REFUSE);
	assert_int_equal(dnsmsg_qtype_policy(DNSMSG_TYPE_IXFR), DNSMSG_REFUSE);
	assert_int_equal(dnsmsg_qtype_policy(DNSMSG_TYPE_A), DNSMSG_FORWARD);
	assert_int_equal(dnsmsg_qtype_policy(DNSMSG_TYPE_AAAA), DNSMSG_FORWARD);
	assert_int_equal(dnsmsg_qtype_policy(16), DNSMSG_FORWARD);  /* TXT */
	assert_int_equal(dnsmsg_qtype_policy(65), DNSMSG_FORWARD);  /* HTTPS */
	assert_int_equal(dnsmsg_qtype_policy(0), DNSMSG_FORWARD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_good),
		cmocka_unit_test(test_query_bad),
		cmocka_unit_test(test_query_lengths),
		cmocka_unit_test(test_query_fuzz),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_reply_formerr),
		cmocka_unit_test(test_answer_a),
		cmocka_unit_test(test_answer_cname),
		cmocka_unit_test(test_answer_aaaa),
		cmocka_unit_test(test_answer_empty),
		cmocka_unit_test(test_answer_mismatch),
		cmocka_unit_test(test_answer_fuzz),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
