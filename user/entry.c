// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allowlist entries: an address, a CIDR or a domain name, each optionally
 * limited to one port.  Every error names the text that caused it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "entry.h"
#include "text.h"

#define LABEL_MAX_LEN 63
#define WHY_LEN 320
/* Room for a quoted 253-character name even when every byte is escaped. */
#define QUOTE_LEN (4 * (NAME_MAX_LEN + 16) + 8)

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void set_err(char *err, size_t errlen, const char *what, const char *text,
		    const char *why)
{
	char q[QUOTE_LEN];

	if (!err || !errlen)
		return;
	snprintf(err, errlen, "invalid %s \"%s\": %s", what,
		 text_quote(text, strlen(text), q, sizeof(q)), why);
}

static void addr_mask(struct addr *a, unsigned int prefixlen)
{
	unsigned int i, bits = addr_len(a) * 8;

	for (i = prefixlen; i < bits; i++)
		a->bytes[i / 8] &= ~(0x80 >> (i % 8));
}

/* An entry's port: 0 would say "every port", which leaving it out says. */
static int parse_port(const char *s, size_t len, uint16_t *port, char *why,
		      size_t whylen)
{
	if (len == 1 && s[0] == '0') {
		snprintf(why, whylen,
			 "port 0 is not allowed (leave the port out to allow every port)");
		return -EINVAL;
	}
	return port_parse(s, len, port, why, whylen);
}

/*
 * Check a name of len bytes (not NUL-terminated).  On success *namelen is
 * its length without the optional trailing dot.
 */
static int name_check(const char *name, size_t len, size_t *namelen, char *why,
		      size_t whylen)
{
	size_t i, start, llen;
	bool last_digit = false;

	if (len == 0) {
		snprintf(why, whylen, "empty name");
		return -EINVAL;
	}
	if (len == 1 && name[0] == '.') {
		snprintf(why, whylen, "\".\" (the DNS root) is not a name that can be allowed");
		return -EINVAL;
	}
	if (memchr(name, '*', len)) {
		snprintf(why, whylen,
			 "a wildcard \"*\" is only allowed as the whole first label "
			 "of an allowlist entry (\"*.example.com\")");
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (c >= 0x80) {
			snprintf(why, whylen,
				 "non-ASCII character; give internationalized names in punycode (xn--...)");
			return -EINVAL;
		}
		if (c == ' ' || text_is_space(c)) {
			snprintf(why, whylen, "contains whitespace");
			return -EINVAL;
		}
		if (text_is_cntrl(c)) {
			snprintf(why, whylen, "contains a control character");
			return -EINVAL;
		}
		if (c == '_') {
			snprintf(why, whylen, "underscore \"_\" is not allowed in a host name");
			return -EINVAL;
		}
		if (!is_alpha(c) && !text_is_digit(c) && c != '-' && c != '.') {
			snprintf(why, whylen, "invalid character '%c' in a domain name", c);
			return -EINVAL;
		}
	}

	if (name[len - 1] == '.')
		len--;
	if (len > NAME_MAX_LEN) {
		snprintf(why, whylen, "name is %zu characters long (max %d)", len,
			 NAME_MAX_LEN);
		return -EINVAL;
	}

	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		llen = i - start;
		if (llen == 0) {
			snprintf(why, whylen, "empty label (leading dot or \"..\")");
			return -EINVAL;
		}
		if (llen > LABEL_MAX_LEN) {
			snprintf(why, whylen, "label \"%.*s\" is %zu characters long (max %d)",
				 (int)llen, name + start, llen, LABEL_MAX_LEN);
			return -EINVAL;
		}
		if (name[start] == '-' || name[i - 1] == '-') {
			snprintf(why, whylen, "label \"%.*s\" %s with a hyphen", (int)llen,
				 name + start, name[start] == '-' ? "starts" : "ends");
			return -EINVAL;
		}
		last_digit = text_is_digit(name[start]);
		start = i + 1;
	}
	/*
	 * "1.2.3", "010.1.1.1", "1.2.3.999", "1.2.3.4x": a mistyped address.
	 * No top-level domain starts with a digit.
	 */
	if (last_digit) {
		snprintf(why, whylen, "not a valid IPv4 address or domain name");
		return -EINVAL;
	}
	*namelen = len;
	return 0;
}

int name_validate(const char *name, char *err, size_t errlen)
{
	char why[WHY_LEN];
	size_t len;
	int ret;

	if (!name)
		name = "";
	ret = name_check(name, strlen(name), &len, why, sizeof(why));
	if (ret)
		set_err(err, errlen, "domain name", name, why);
	return ret;
}

/*
 * host is an address with an optional "/prefixlen" (len bytes, no port, no
 * brackets).  v6only: it came in brackets.
 */
static int parse_cidr(const char *host, size_t len, bool v6only, struct entry *e,
		      char *why, size_t whylen)
{
	char abuf[INET6_ADDRSTRLEN + 8], plbuf[32], fix[ENTRY_STRLEN];
	char q[TEXT_QUOTE_SIZE(sizeof(abuf))]; /* a longer echo is cut "..." */
	const char *slash = memchr(host, '/', len);
	size_t alen = slash ? (size_t)(slash - host) : len;
	unsigned int max;
	unsigned long plen;
	bool mapped;
	int ret;

	if (alen == 0) {
		snprintf(why, whylen, "missing address before \"/\"");
		return -EINVAL;
	}
	if (text_copy(abuf, sizeof(abuf), host, alen)) {
		snprintf(why, whylen, "not a valid IP address");
		return -EINVAL;
	}

	if (strchr(abuf, '%')) {
		const char *zone = strchr(abuf, '%');

		snprintf(why, whylen,
			 "IPv6 zone \"%s\" is not supported; use a global address",
			 text_quote(zone, strlen(zone), q, sizeof(q)));
		return -EINVAL;
	}
	if (addr_parse(abuf, &e->addr)) {
		/* abuf is the user's text: quoted, as every echo of it is. */
		text_quote(abuf, strlen(abuf), q, sizeof(q));
		if (strchr(abuf, ':'))
			snprintf(why, whylen, "\"%s\" is not a valid IPv6 address", q);
		else if (v6only)
			snprintf(why, whylen, "\"%s\" is not an IPv6 address", q);
		else
			snprintf(why, whylen,
				 "\"%s\" is not an IP address (a prefix length needs one)",
				 q);
		return -EINVAL;
	}
	mapped = strchr(abuf, ':') && e->addr.family == AF_INET;
	if (v6only && !strchr(abuf, ':')) {
		snprintf(why, whylen, "brackets are only for IPv6 addresses");
		return -EINVAL;
	}

	max = mapped ? 128 : addr_len(&e->addr) * 8;
	plen = max;
	if (slash) {
		size_t plenlen = len - alen - 1;

		if (plenlen == 0) {
			snprintf(why, whylen, "missing prefix length after \"/\"");
			return -EINVAL;
		}
		if (text_copy(plbuf, sizeof(plbuf), slash + 1, plenlen)) {
			snprintf(why, whylen, "prefix length \"%s\" is not a number",
				 text_quote(slash + 1, plenlen, q, sizeof(q)));
			return -EINVAL;
		}
		ret = decimal_parse(plbuf, plenlen, max, &plen);
		if (ret == -ERANGE) {
			snprintf(why, whylen, "prefix length %s is out of range (0-%u)",
				 plbuf, max);
			return -EINVAL;
		}
		if (ret == -EDOM) {
			snprintf(why, whylen, "prefix length \"%s\" has a leading zero",
				 text_quote(plbuf, plenlen, q, sizeof(q)));
			return -EINVAL;
		}
		if (ret) {
			snprintf(why, whylen, "prefix length \"%s\" is not a number",
				 text_quote(plbuf, plenlen, q, sizeof(q)));
			return -EINVAL;
		}
	}
	if (mapped) {
		if (plen < 96) {
			snprintf(why, whylen,
				 "prefix length %lu is shorter than the IPv4-mapped range ::ffff:0:0/96",
				 plen);
			return -EINVAL;
		}
		plen -= 96;
	}
	e->kind = ENTRY_CIDR;
	e->prefixlen = (uint8_t)plen;

	if (!addr_host_bits_clear(&e->addr, e->prefixlen)) {
		struct entry f = *e;

		addr_mask(&f.addr, f.prefixlen);
		snprintf(why, whylen, "host bits are set; did you mean %s?",
			 entry_format(&f, fix, sizeof(fix)));
		return -EINVAL;
	}
	return 0;
}

/*
 * A leading "*." makes a wildcard; the rest must be a name of its own, so
 * "*.", "*.*.x", "**.x", "*x.y" and "a.*.b" are refused (name_check()
 * rejects any other "*").  The whole text stays within 253 characters, so
 * that every name the wildcard covers can exist.
 */
static int parse_name(const char *host, size_t hostlen, struct entry *e, char *why,
		      size_t whylen)
{
	size_t namelen, i;
	bool wildcard = false;
	int ret;

	if (hostlen >= 2 && host[0] == '*' && host[1] == '.') {
		wildcard = true;
		host += 2;
		hostlen -= 2;
		if (hostlen == 0 || (hostlen == 1 && host[0] == '.')) {
			snprintf(why, whylen,
				 "a wildcard needs a domain after \"*.\" (\"*.example.com\")");
			return -EINVAL;
		}
	}
	ret = name_check(host, hostlen, &namelen, why, whylen);
	if (ret)
		return ret;
	if (wildcard && namelen + 2 > NAME_MAX_LEN) {
		snprintf(why, whylen, "name is %zu characters long (max %d)", namelen + 2,
			 NAME_MAX_LEN);
		return -EINVAL;
	}
	e->kind = ENTRY_DOMAIN;
	e->wildcard = wildcard;
	for (i = 0; i < namelen; i++) {
		char c = host[i];

		e->name[i] = (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
	}
	e->name[namelen] = '\0';
	return 0;
}

static int parse(const char *text, struct entry *e, char *why, size_t whylen)
{
	const char *p, *host;
	struct hostport hp;
	size_t hostlen;
	int ret;

	memset(e, 0, sizeof(*e));
	if (!*text) {
		snprintf(why, whylen, "empty entry");
		return -EINVAL;
	}
	p = text_find_blank(text);
	if (p) {
		snprintf(why, whylen, "%s", text_is_space(*p) ? "contains whitespace" :
			 "contains a control character");
		return -EINVAL;
	}
	/* Before the split, so that "[]x" is named for its empty brackets. */
	if (text[0] == '[' && text[1] == ']') {
		snprintf(why, whylen, "nothing between \"[\" and \"]\"");
		return -EINVAL;
	}

	/* Split off the port; a bare IPv6 address or prefix has none. */
	ret = hostport_split(text, &hp, why, whylen);
	if (ret)
		return ret;
	host = hp.host;
	hostlen = hp.hostlen;
	if (hp.port) {
		if (!hp.bracketed && hostlen == 0) {
			snprintf(why, whylen, "missing address or name before \":\"");
			return -EINVAL;
		}
		ret = parse_port(hp.port, hp.portlen, &e->port, why, whylen);
		if (ret)
			return ret;
	}

	if (hp.bracketed)
		return parse_cidr(host, hostlen, true, e, why, whylen);
	if (hp.bare_v6) {
		const char *slash = strchr(text, '/');

		ret = parse_cidr(host, hostlen, false, e, why, whylen);
		if (ret && slash && strchr(slash, ':')) {
			const char *pc = strrchr(text, ':');
			char q1[128], q2[64];

			snprintf(why, whylen,
				 "an IPv6 prefix with a port needs brackets: [%s]:%s",
				 text_quote(text, (size_t)(pc - text), q1, sizeof(q1)),
				 text_quote(pc + 1, strlen(pc + 1), q2, sizeof(q2)));
		}
		return ret;
	}
	/* A prefix length needs an address; otherwise address, else name. */
	if (memchr(host, '/', hostlen))
		return parse_cidr(host, hostlen, false, e, why, whylen);
	if (!parse_cidr(host, hostlen, false, e, why, whylen))
		return 0;
	memset(&e->addr, 0, sizeof(e->addr));
	return parse_name(host, hostlen, e, why, whylen);
}

int entry_parse(const char *text, struct entry *out, char *err, size_t errlen)
{
	char why[WHY_LEN];
	struct entry e;
	int ret;

	if (!text)
		text = "";
	ret = parse(text, &e, why, sizeof(why));
	if (ret) {
		set_err(err, errlen, "entry", text, why);
		return ret;
	}
	*out = e;
	return 0;
}

const char *entry_format(const struct entry *e, char *buf, size_t len)
{
	char a[ADDR_STRLEN], pl[8] = "", port[8] = "";

	if (!len)
		return buf;
	if (e->port)
		snprintf(port, sizeof(port), ":%u", e->port);
	if (e->kind == ENTRY_DOMAIN) {
		snprintf(buf, len, "%s%s%s", e->wildcard ? "*." : "", e->name, port);
		return buf;
	}
	addr_format(&e->addr, a, sizeof(a));
	if (e->prefixlen != addr_len(&e->addr) * 8)
		snprintf(pl, sizeof(pl), "/%u", e->prefixlen);
	if (e->port && e->addr.family == AF_INET6)
		snprintf(buf, len, "[%s%s]%s", a, pl, port);
	else
		snprintf(buf, len, "%s%s%s", a, pl, port);
	return buf;
}
