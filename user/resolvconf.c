// SPDX-License-Identifier: GPL-2.0-only
/* Resolver addresses: from --resolver text and from /etc/resolv.conf. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "resolvconf.h"
#include "text.h"

#define WHY_LEN 256
#define QUOTE_LEN 256

/*
 * A resolver's port.  Unlike an entry's, "0x35" and other text after a
 * "0" counts as a leading zero rather than as not a number.
 */
static int parse_port(const char *s, size_t len, uint16_t *port, char *why,
		      size_t whylen)
{
	char q[QUOTE_LEN];

	if (len > 1 && s[0] == '0' && !text_is_digit(s[1])) {
		snprintf(why, whylen, "port \"%s\" has a leading zero",
			 text_quote(s, len, q, sizeof(q)));
		return -EINVAL;
	}
	return port_parse(s, len, port, why, whylen);
}

/* A bare address: no brackets, prefix, port or zone. */
static int parse_host(const char *host, size_t len, bool v6, struct addr *out,
		      char *why, size_t whylen)
{
	char buf[INET6_ADDRSTRLEN + 1], q[QUOTE_LEN];
	const char *pct;

	if (len == 0) {
		snprintf(why, whylen, "missing address");
		return -EINVAL;
	}
	pct = memchr(host, '%', len);
	if (pct) {
		snprintf(why, whylen,
			 "scoped IPv6 address (zone \"%s\") is not supported; use a global address",
			 text_quote(pct, len - (size_t)(pct - host), q, sizeof(q)));
		return -EINVAL;
	}
	if (memchr(host, '/', len)) {
		snprintf(why, whylen, "a resolver is one address, not a prefix");
		return -EINVAL;
	}
	if (text_copy(buf, sizeof(buf), host, len)) {
		snprintf(why, whylen, "not an IP address");
		return -EINVAL;
	}
	if ((v6 && !strchr(buf, ':')) || addr_parse(buf, out)) {
		snprintf(why, whylen, "\"%s\" is not an %s address",
			 text_quote(buf, strlen(buf), q, sizeof(q)), v6 ? "IPv6" : "IP");
		return -EINVAL;
	}
	return 0;
}

static int parse(const char *text, struct resolver *r, char *why, size_t whylen)
{
	struct hostport hp;
	int ret;

	memset(r, 0, sizeof(*r));
	r->port = DNS_PORT;
	if (!*text) {
		snprintf(why, whylen, "empty resolver");
		return -EINVAL;
	}
	if (text_find_blank(text)) {
		snprintf(why, whylen, "contains whitespace or a control character");
		return -EINVAL;
	}

	/* The address first: its error is the one to report. */
	ret = hostport_split(text, &hp, why, whylen);
	if (!ret)
		ret = parse_host(hp.host, hp.hostlen, hp.bracketed || hp.bare_v6, &r->addr,
				 why, whylen);
	if (!ret && hp.port)
		ret = parse_port(hp.port, hp.portlen, &r->port, why, whylen);
	return ret;
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
				 text_quote(text, strlen(text), q, sizeof(q)), why);
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
				 path, lineno, text_quote(val, strlen(val), q, sizeof(q)), why);
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
