// SPDX-License-Identifier: GPL-2.0-only
/*
 * ghmeta_fetch(): GitHub's meta document over verified TLS, its host
 * resolved like every allowed name, then ghmeta_parse() (ghmeta.c).
 * Apart from the parser so that its unit test needs neither libcurl
 * nor c-ares.  libcurl itself is loaded here, on first use (curlso.c).
 *
 * Choices:
 * - Redirects are not followed: CURLOPT_RESOLVE pins only the URL's own
 *   host, so following one elsewhere would use the system resolver.  A 3xx
 *   is reported like any other non-200 status.
 * - Proxies from the environment are ignored for the same reason.
 * - The body is capped at GHMETA_MAX_BODY.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curlso.h"
#include "dns.h"
#include "ghmeta.h"
#include "log.h"

#ifndef EGRESSD_VERSION
#define EGRESSD_VERSION "dev"
#endif

#define GHMETA_MAX_BODY (4u << 20)
/* The meta host is resolved like every allowed name, with these. */
#define GHMETA_DNS_TIMEOUT_MS 2000
#define GHMETA_DNS_TRIES 2

struct body {
	char *buf;
	size_t len;
	bool too_big;
};

static size_t body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;
	char *nb;

	if (n > GHMETA_MAX_BODY - b->len) {
		b->too_big = true;
		return 0;
	}
	nb = realloc(b->buf, b->len + n + 1);
	if (!nb)
		return 0;
	memcpy(nb + b->len, data, n);
	b->buf = nb;
	b->len += n;
	b->buf[b->len] = 0;
	return n;
}

/* Is host (as curl_url_get() returns it: IPv6 in brackets) an address? */
static bool host_is_literal(const char *host)
{
	unsigned char buf[16];
	char v6[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(host);

	if (inet_pton(AF_INET, host, buf) == 1)
		return true;
	if (host[0] == '[' && len > 2 && len - 2 < sizeof(v6)) {
		memcpy(v6, host + 1, len - 2);
		v6[len - 2] = 0;
		return inet_pton(AF_INET6, v6, buf) == 1;
	}
	return false;
}

/*
 * Resolve host with our resolvers into a CURLOPT_RESOLVE list entry,
 * "host:port:a1,[a2],...".  0, -ENOENT (err says why) or -errno.
 */
static int pin_host(const struct curl_api *cu, const struct ghmeta_opts *o, const char *host,
		    const char *port, struct curl_slist **out, char *err, size_t errlen)
{
	struct dns_opts dopts = { .timeout_ms = GHMETA_DNS_TIMEOUT_MS,
				  .tries = GHMETA_DNS_TRIES };
	struct dns_answer *ans = NULL;
	struct curl_slist *sl;
	char *line = NULL;
	size_t cap, len, i;
	int ret;

	ret = dns_resolve_all(&host, 1, o->resolvers, o->nresolvers, &dopts, &ans);
	if (ret == -ENOENT) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, ans[0].reason);
		goto out;
	}
	if (ret) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, strerror(-ret));
		goto out;
	}

	cap = strlen(host) + strlen(port) + 3 + ans[0].naddrs * (ADDR_STRLEN + 3);
	line = malloc(cap);
	if (!line) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	len = (size_t)snprintf(line, cap, "%s:%s:", host, port);
	for (i = 0; i < ans[0].naddrs; i++) {
		const struct addr *a = &ans[0].addrs[i];
		char txt[ADDR_STRLEN];

		inet_ntop(a->family, a->bytes, txt, sizeof(txt));
		len += (size_t)snprintf(line + len, cap - len,
					a->family == AF_INET6 ? "%s[%s]" : "%s%s",
					i ? "," : "", txt);
	}
	sl = cu->slist_append(NULL, line);
	if (!sl) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	pr_debug("GitHub meta: pinning %s", line);
	*out = sl;
out:
	free(line);
	dns_answers_free(ans, 1);
	return ret;
}

/* Split url into host and port; https only. */
static int url_host_port(const struct curl_api *cu, const char *url, char **host, char **port,
			 char *err, size_t errlen)
{
	CURLU *u = cu->url();
	char *scheme = NULL, *h = NULL, *p = NULL;
	CURLUcode uc;
	int ret = -EINVAL;

	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	uc = cu->url_set(u, CURLUPART_URL, url, 0);
	if (uc) {
		snprintf(err, errlen, "bad URL \"%s\": %s", url, cu->url_strerror(uc));
		goto out;
	}
	if (cu->url_get(u, CURLUPART_SCHEME, &scheme, 0) || strcmp(scheme, "https")) {
		snprintf(err, errlen, "bad URL \"%s\": only https is allowed", url);
		goto out;
	}
	if (cu->url_get(u, CURLUPART_HOST, &h, 0) ||
	    cu->url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT)) {
		snprintf(err, errlen, "bad URL \"%s\": no host", url);
		goto out;
	}
	*host = h;
	*port = p;
	h = p = NULL;
	ret = 0;
out:
	cu->free(scheme);
	cu->free(h);
	cu->free(p);
	cu->url_cleanup(u);
	return ret;
}

int ghmeta_fetch(const struct ghmeta_opts *o, struct policy *p, char *err, size_t errlen)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	long os_errno = 0;
	const char *url;
	char *host = NULL, *port = NULL;
	struct curl_slist *pin = NULL, *hdrs = NULL;
	struct body body = { 0 };
	const struct curl_api *cu;
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	int ret;

	if (!o || !p)
		return -EINVAL;
	url = o->url ? o->url : GHMETA_DEFAULT_URL;
	cu = curlso_get(err, errlen);
	if (!cu)
		return -EIO;

	ret = url_host_port(cu, url, &host, &port, err, errlen);
	if (ret)
		goto out;
	if (!host_is_literal(host)) {
		ret = pin_host(cu, o, host, port, &pin, err, errlen);
		if (ret)
			goto out;
	}

	c = cu->easy_init();
	hdrs = cu->slist_append(NULL, "Accept: application/vnd.github+json");
	if (!c || !hdrs) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
#define SETOPT(opt, val)                                                           \
	do {                                                                       \
		cc = cu->easy_setopt(c, opt, val);                                \
		if (cc != CURLE_OK) {                                              \
			snprintf(err, errlen, "libcurl: %s: %s", #opt,              \
				 cu->easy_strerror(cc));                           \
			ret = -EIO;                                                \
			goto out;                                                  \
		}                                                                  \
	} while (0)
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_NOPROXY, "*");
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file)
		SETOPT(CURLOPT_CAINFO, o->ca_file);
	if (o->connect_timeout_ms > 0)
		SETOPT(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	if (o->total_timeout_ms > 0)
		SETOPT(CURLOPT_TIMEOUT_MS, o->total_timeout_ms);
	if (pin)
		SETOPT(CURLOPT_RESOLVE, pin);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)GHMETA_MAX_BODY);
	SETOPT(CURLOPT_HTTPHEADER, hdrs);
	/* GitHub's API refuses requests without a User-Agent. */
	SETOPT(CURLOPT_USERAGENT, "egressd/" EGRESSD_VERSION);
	SETOPT(CURLOPT_WRITEFUNCTION, body_write);
	SETOPT(CURLOPT_WRITEDATA, &body);
	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
#undef SETOPT

	cc = cu->easy_perform(c);
	if (cc != CURLE_OK) {
		if (body.too_big || cc == CURLE_FILESIZE_EXCEEDED)
			snprintf(err, errlen, "%s: response larger than %u MiB", host,
				 GHMETA_MAX_BODY >> 20);
		else if (errbuf[0])
			snprintf(err, errlen, "%s: %s", host, errbuf);
		else
			snprintf(err, errlen, "%s: %s", host, cu->easy_strerror(cc));
		/* "Couldn't connect" says nothing of why; the socket's errno does. */
		if (cc == CURLE_COULDNT_CONNECT &&
		    cu->easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno)
			snprintf(err + strlen(err), errlen - strlen(err), " (%s)", strerror((int)os_errno));
		if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
		    cc == CURLE_SSL_CERTPROBLEM)
			snprintf(err + strlen(err), errlen - strlen(err),
				 "; for a private CA, pass --ca-file");
		ret = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
		goto out;
	}
	cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(err, errlen, "HTTP status %ld%s", status,
			 status >= 300 && status < 400 ? " (redirects are not followed)" : "");
		ret = -EIO;
		goto out;
	}
	ret = ghmeta_parse(body.buf ? body.buf : "", body.len, p, err, errlen);
out:
	cu->easy_cleanup(c);
	cu->slist_free_all(hdrs);
	cu->slist_free_all(pin);
	cu->free(host);
	cu->free(port);
	free(body.buf);
	return ret;
}
