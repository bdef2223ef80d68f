/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The DNS messages the filtering proxy reads and writes: the workload's
 * query, the short error replies the proxy makes itself, and the
 * addresses (with TTLs) in an upstream answer.  Pure code: c-ares does the
 * name and record decoding, this file the few checks it lacks.  Every
 * parser reads only within the len it is given.
 */
#ifndef EGRESSD_DNSMSG_H
#define EGRESSD_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "entry.h"

#define DNSMSG_HDR_LEN 12
#define DNSMSG_MAX_LEN 65535

enum dnsmsg_type {
	DNSMSG_TYPE_A = 1,
	DNSMSG_TYPE_CNAME = 5,
	DNSMSG_TYPE_AAAA = 28,
	DNSMSG_TYPE_IXFR = 251,
	DNSMSG_TYPE_AXFR = 252,
	DNSMSG_TYPE_ANY = 255,
};

#define DNSMSG_CLASS_IN 1

enum dnsmsg_rcode {
	DNSMSG_NOERROR = 0,
	DNSMSG_FORMERR = 1,
	DNSMSG_SERVFAIL = 2,
	DNSMSG_NXDOMAIN = 3,
	DNSMSG_NOTIMP = 4,
	DNSMSG_REFUSED = 5,
};

/* Header flag bits, host order (the 16 bits after the id). */
#define DNSMSG_F_QR 0x8000
#define DNSMSG_F_OPCODE 0x7800
#define DNSMSG_F_AA 0x0400
#define DNSMSG_F_TC 0x0200
#define DNSMSG_F_RD 0x0100
#define DNSMSG_F_RA 0x0080
#define DNSMSG_F_CD 0x0010
#define DNSMSG_F_RCODE 0x000f

/*
 * A query name as text: c-ares writes a byte that is not printable, or is
 * one of . \ " ( ) ; @ $ inside a label, as \DDD or \c, so a 253-octet
 * name can take up to four characters per octet.
 */
#define DNSMSG_NAME_STRLEN (4 * NAME_MAX_LEN + 1)

struct dnsmsg_query {
	uint16_t id;
	uint16_t flags;                 /* DNSMSG_F_* */
	char name[DNSMSG_NAME_STRLEN];  /* lowercased, no trailing dot; root is "" */
	uint16_t qtype;
	uint16_t qclass;
	size_t len;                     /* header + question, in bytes */
};

/*
 * A query: QR=0, opcode QUERY, QDCOUNT 1, a question name of plain labels
 * (no compression pointer: nothing precedes it to point to) of at most
 * 253 characters.  Records after the question (an EDNS OPT) are not read.
 * 0, or -EINVAL for anything else; *q is set only on success.
 */
int dnsmsg_parse_query(const uint8_t *msg, size_t len, struct dnsmsg_query *q);

/*
 * The proxy's own reply to query: same id, QR=1, opcode and RD copied,
 * RA=1, the question echoed as it came, no records, rcode.  A query too
 * malformed to echo gets a header-only FORMERR (QDCOUNT 0) when it has the
 * two bytes of an id.  0; -EINVAL (rcode over 15, fewer than 2 bytes, or
 * a message with QR=1: a response is never answered, so two proxies
 * cannot ping-pong); -ENOSPC (cap too small).  *outlen set only on success.
 */
int dnsmsg_build_reply(const uint8_t *query, size_t qlen, int rcode, uint8_t *out,
		       size_t cap, size_t *outlen);

struct dnsmsg_addr {
	struct addr addr; /* AF_INET for A; AF_INET6 as sent for AAAA */
	uint32_t ttl;     /* seconds, see dnsmsg_answer_addrs() */
};

/*
 * The addresses in an upstream answer to an A or AAAA query for qname
 * (any case, trailing dot or not).  The answer must be a response with
 * QDCOUNT 1 whose question is qname, qtype, class IN; else -EINVAL.
 * Only records of qtype on the CNAME chain from qname are taken (c-ares'
 * ares_parse_a_reply()/ares_parse_aaaa_reply()), so an address for an
 * unrelated owner name in the same answer is not.  Each ttl is the
 * smaller of the record's TTL and the smallest CNAME TTL in the answer
 * (c-ares computes it so); a TTL with the top bit set counts as 0
 * (RFC 2181 8).  An rcode other than NOERROR, or NOERROR with no address,
 * gives 0 addresses.  At most max are returned, in answer order; the rest
 * are not (nothing learns them: fail closed).  Whether the answer was
 * truncated is the caller's business (dnsmsg_is_truncated()).
 * 0 with *n set; -EINVAL (malformed, question mismatch, qtype not A or
 * AAAA); -ENOMEM.  out[] and *n are written only on success.
 */
int dnsmsg_answer_addrs(const uint8_t *answer, size_t len, const char *qname,
			uint16_t qtype, struct dnsmsg_addr *out, size_t max, size_t *n);

/* TC set: the answer was cut to fit UDP; retry over TCP. */
bool dnsmsg_is_truncated(const uint8_t *msg, size_t len);

/* The rcode of a message of at least a header; -EINVAL if shorter. */
int dnsmsg_rcode(const uint8_t *msg, size_t len);

enum dnsmsg_policy {
	DNSMSG_FORWARD = 0,
	DNSMSG_REFUSE,
};

/*
 * ANY, AXFR and IXFR are refused: zone transfers and ANY hand out names
 * and addresses never asked for one by one (and ANY is an amplifier).
 * Every other type is forwarded for an allowed name.
 */
enum dnsmsg_policy dnsmsg_qtype_policy(uint16_t qtype);

/* Lowercase the letters of a plain (pointer-free) wire name of len bytes. */
void dnsmsg_lower_wire_name(uint8_t *name, size_t len);
/* Are two plain wire names of len bytes the same, but for case? */
bool dnsmsg_same_wire_name(const uint8_t *a, const uint8_t *b, size_t len);

#endif
