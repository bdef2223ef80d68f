// SPDX-License-Identifier: GPL-2.0-only
/* Resolver addresses: from --resolver text and from /etc/resolv.conf. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "resolvconf.h"

#define WHY_LEN 256
#define QUOTE_LEN 256

static bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* User text for a message, control and non-ASCII bytes escaped. */
static const char *quote(const char *s, char *buf, size_t buflen)
{
	size_t o = 0;

	for (; *s && o + 5 < buflen; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c >= 0x7f)
			o += snprintf(buf + o, buflen - o, "\\x%02x", c);
		else if (c == '"' || c == '\\')
			o += snprintf(buf + o, buflen - o, "\\%c", c);
		else
			buf[o++] = c;
	}
	if (*s && o + 4 <= buflen) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* Digits only, no leading zero, 1..65535. */
static int parse_port(const char *s, uint16_t *port, char *why, size_t whylen)
{
	unsigned long v;
	char *end;

	if (!*s) {
		snprintf(why, whylen, "missing port after \":\"");
		return -EINVAL;
	}
	if (s[0] < '0' || s[0] > '9') {
		snprintf(why, whylen, "port \"%s\" is not a number", s);
		return -EINVAL;
	}
	if (s[0] == '0' && s[1]) {
		snprintf(why, whylen, "port \"%s\" has a leading zero", s);
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end) {
		snprintf(why, whylen, "port \"%s\" is not a number", s);
		return -EINVAL;
	}
	if (errno == ERANGE || v == 0 || v > 65535) {
		snprintf(why, whylen, "port %s is out of range (1-65535)", s);
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

/* A bare address: no brackets, prefix, port or zone. */
static int parse_host(const char *host, size_t len, bool v6, struct addr *out,
		      char *why, size_t whylen)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *pct;

	if (len == 0) {
		snprintf(why, whylen, "missing address");
		return -EINVAL;
	}
	pct = memchr(host, '%', len);
	if (pct) {
		snprintf(why, whylen,
			 "scoped IPv6 address (zone \"%.*s\") is not supported; use a global address",
			 (int)(len - (pct - host)), pct);
		return -EINVAL;
	}
	if (memchr(host, '/', len)) {
		snprintf(why, whylen, "a resolver is one address, not a prefix");
		return -EINVAL;
	}
	if (len >= sizeof(buf)) {
		snprintf(why, whylen, "not an IP address");
		return -EINVAL;
	}
	memcpy(buf, host, len);
	buf[len] = '\0';
	if ((v6 && !strchr(buf, ':')) || addr_parse(buf, out)) {
		snprintf(why, whylen, "\"%s\" is not an %s address", buf, v6 ? "IPv6" : "IP");
		return -EINVAL;
	}
	return 0;
}

static int parse(const char *text, struct resolver *r, char *why, size_t whylen)
{
	const char *s, *colon, *port = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	r->port = DNS_PORT;
	if (!*text) {
		snprintf(why, whylen, "empty resolver");
		return -EINVAL;
	}
	for (s = text; *s; s++) {
		if (is_space(*s) || (unsigned char)*s < 0x20 || *s == 0x7f) {
			snprintf(why, whylen, "contains whitespace or a control character");
			return -EINVAL;
		}
	}

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close) {
			snprintf(why, whylen, "missing \"]\" after the IPv6 address");
			return -EINVAL;
		}
		if (close[1] == ':')
			port = close + 2;
		else if (close[1]) {
			snprintf(why, whylen, "unexpected \"%s\" after \"]\" (expected \":PORT\")",
				 close + 1);
			return -EINVAL;
		}
		ret = parse_host(text + 1, close - text - 1, true, &r->addr, why, whylen);
	} else if ((colon = strchr(text, ':')) && strchr(colon + 1, ':')) {
		/* Bare IPv6: no port, it would be ambiguous. */
		ret = parse_host(text, strlen(text), true, &r->addr, why, whylen);
	} else {
		if (colon)
			port = colon + 1;
		ret = parse_host(text, colon ? (size_t)(colon - text) : strlen(text), false,
				 &r->addr, why, whylen);
	}
	if (ret)
		return ret;
	if (port)
		return parse_port(port, &r->port, why, whylen);
	return 0;
}

int resolver_parse(const char *text, struct resolver *out, char *err, size_t errlen)
{
	char why[WHY_LEN], q[QUOTE_LEN];
	struct resolver r;
	int ret;

	if (!text)
		text = "";
	ret = parse(text, &r, why, sizeof(why));
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "invalid resolver \"%s\": %s",
				 quote(text, q, sizeof(q)), why);
		return ret;
	}
	*out = r;
	return 0;
}

const char *resolver_format(const struct resolver *r, char *buf, size_t len)
{
	char a[ADDR_STRLEN];

	if (!len)
		return buf;
	addr_format(&r->addr, a, sizeof(a));
	if (r->addr.family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, r->port);
	else
		snprintf(buf, len, "%s:%u", a, r->port);
	return buf;
}

int resolvconf_parse(FILE *f, const char *path, struct resolver *out, size_t max,
		     size_t *n, char *err, size_t errlen)
{
	char lerr[512] = "", why[WHY_LEN], q[QUOTE_LEN];
	struct resolver *tmp = NULL, r;
	size_t cap = 0, lineno = 0, cnt = 0, i;
	char *line = NULL;
	int ret = 0;

	if (!path)
		path = "resolv.conf";
	if (!max) {
		ret = -EINVAL;
		snprintf(lerr, sizeof(lerr), "%s: no room for any resolver", path);
		goto out;
	}
	tmp = calloc(max, sizeof(*tmp));
	if (!tmp) {
		ret = -ENOMEM;
		snprintf(lerr, sizeof(lerr), "%s: out of memory", path);
		goto out;
	}

	for (;;) {
		char *s, *kw, *val, *save = NULL;
		bool dup = false;

		errno = 0;
		if (getline(&line, &cap, f) < 0) {
			if (ferror(f)) {
				ret = errno ? -errno : -EIO;
				snprintf(lerr, sizeof(lerr), "cannot read \"%s\": %s", path,
					 strerror(-ret));
				goto out;
			}
			break;
		}
		lineno++;
		s = line + strcspn(line, "#;");
		*s = '\0';
		kw = strtok_r(line, " \t\r\n\v\f", &save);
		if (!kw || strcmp(kw, "nameserver"))
			continue; /* search, domain, options, sortlist, ... */
		val = strtok_r(NULL, " \t\r\n\v\f", &save);
		if (!val) {
			ret = -EINVAL;
			snprintf(lerr, sizeof(lerr), "%s:%zu: \"nameserver\" without an address",
				 path, lineno);
			goto out;
		}
		/* resolv.conf has no port syntax: a plain address, port 53. */
		memset(&r, 0, sizeof(r));
		r.port = DNS_PORT;
		ret = parse_host(val, strlen(val), false, &r.addr, why, sizeof(why));
		if (ret) {
			snprintf(lerr, sizeof(lerr), "%s:%zu: invalid nameserver \"%s\": %s",
				 path, lineno, quote(val, q, sizeof(q)), why);
			goto out;
		}
		for (i = 0; i < cnt; i++)
			if (addr_equal(&tmp[i].addr, &r.addr))
				dup = true;
		if (!dup && cnt < max)
			tmp[cnt++] = r;
	}
	if (!cnt) {
		ret = -ENOENT;
		snprintf(lerr, sizeof(lerr),
			 "%s: no \"nameserver\" line; name resolution would be impossible (give resolvers explicitly)",
			 path);
		goto out;
	}
	memcpy(out, tmp, cnt * sizeof(*tmp));
	*n = cnt;
out:
	if (ret && err && errlen)
		snprintf(err, errlen, "%s", lerr);
	free(line);
	free(tmp);
	return ret;
}
