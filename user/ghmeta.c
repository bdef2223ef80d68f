// SPDX-License-Identifier: GPL-2.0-only
/*
 * GitHub's published address ranges (https://api.github.com/meta).
 *
 * Choices:
 * - "web", "api" and "git" must all be present and be arrays.  Any one may
 *   be empty, but all three empty is an error: the user asked for GitHub,
 *   and an allowlist with no GitHub in it means the document is not what
 *   we think it is.
 * - Every element must be a string entry_parse() reads as a CIDR with no
 *   port (a bare address is its /32 or /128); a domain is refused.  Other
 *   keys (hooks, actions, ...) are ignored.
 * - Redirects are not followed: CURLOPT_RESOLVE pins only the URL's own
 *   host, so following one elsewhere would use the system resolver.  A 3xx
 *   is reported like any other non-200 status.
 * - Proxies from the environment are ignored for the same reason.
 * - The body is capped at GHMETA_MAX_BODY.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "ghmeta.h"
#include "log.h"
#include "text.h"

#ifndef EGRESSD_VERSION
#define EGRESSD_VERSION "dev"
#endif

#define GHMETA_NAME "github.com"
#define GHMETA_MAX_BODY (4u << 20)
/* The meta host is resolved like every allowed name, with these. */
#define GHMETA_DNS_TIMEOUT_MS 2000
#define GHMETA_DNS_TRIES 2

static const char *const ghmeta_fields[] = { "web", "api", "git" };

static const char *type_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
	case json_type_int:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "unknown";
}

/* One element of one field; 0 with *e filled, or -EINVAL with err set. */
static int parse_cidr(const char *field, size_t idx, struct json_object *v, struct entry *e,
		      char *err, size_t errlen)
{
	char why[256], shown[72];
	const char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "\"%s\"[%zu] is %s, not a string", field, idx,
			 type_name(v));
		return -EINVAL;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	text_quote(s, len, shown, sizeof(shown));
	if (strlen(s) != len || len > ENTRY_STRLEN) {
		snprintf(err, errlen, "\"%s\"[%zu]: \"%s\" is not a CIDR", field, idx, shown);
		return -EINVAL;
	}
	why[0] = 0;
	if (entry_parse(s, e, why, sizeof(why))) {
		snprintf(err, errlen, "\"%s\"[%zu]: \"%s\" is not a CIDR%s%s", field, idx, shown,
			 why[0] ? ": " : "", why);
		return -EINVAL;
	}
	if (e->kind != ENTRY_CIDR) {
		snprintf(err, errlen, "\"%s\"[%zu]: \"%s\" is not a CIDR (a domain name)", field,
			 idx, shown);
		return -EINVAL;
	}
	if (e->port) {
		snprintf(err, errlen, "\"%s\"[%zu]: \"%s\" is not a CIDR (it has a port)", field,
			 idx, shown);
		return -EINVAL;
	}
	if (!addr_host_bits_clear(&e->addr, e->prefixlen)) {
		snprintf(err, errlen, "\"%s\"[%zu]: \"%s\" has host bits set", field, idx, shown);
		return -EINVAL;
	}
	/*
	 * The document comes from the network (or --github-meta-url): a
	 * compromised mirror must not be able to hand out 0.0.0.0/0.  GitHub's
	 * widest ranges are /16 (IPv4) and /32 (IPv6); refuse anything
	 * wider than /8 and /16.
	 */
	if (e->prefixlen < (e->addr.family == AF_INET ? 8 : 16)) {
		snprintf(err, errlen, "\"%s\"[%zu]: \"%s\" is implausibly wide for GitHub (shorter than /%d)",
			 field, idx, shown, e->addr.family == AF_INET ? 8 : 16);
		return -EINVAL;
	}
	snprintf(e->name, sizeof(e->name), "%s", GHMETA_NAME);
	return 0;
}

static int parse_doc(const char *json, size_t len, struct policy *tmp, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *root = NULL;
	enum json_tokener_error jerr;
	size_t f, i, end;
	int ret = 0;

	if (!len) {
		snprintf(err, errlen, "invalid JSON: empty document");
		return -EINVAL;
	}
	if (len > INT_MAX) {
		snprintf(err, errlen, "document too large");
		return -E2BIG;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!root) {
		if (jerr == json_tokener_continue)
			snprintf(err, errlen, "invalid JSON at offset %zu: unexpected end", len);
		else
			snprintf(err, errlen, "invalid JSON at offset %zu: %s", end,
				 json_tokener_error_desc(jerr));
		ret = -EINVAL;
		goto out;
	}
	for (i = end; i < len; i++) {
		if (!strchr(" \t\r\n", json[i]) || !json[i]) {
			snprintf(err, errlen, "invalid JSON at offset %zu: trailing data", i);
			ret = -EINVAL;
			goto out;
		}
	}
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "the document is %s, not an object", type_name(root));
		ret = -EINVAL;
		goto out;
	}

	for (f = 0; f < sizeof(ghmeta_fields) / sizeof(ghmeta_fields[0]); f++) {
		const char *field = ghmeta_fields[f];
		struct json_object *arr;
		size_t n;

		if (!json_object_object_get_ex(root, field, &arr)) {
			snprintf(err, errlen, "field \"%s\" missing", field);
			ret = -EINVAL;
			goto out;
		}
		if (!json_object_is_type(arr, json_type_array)) {
			snprintf(err, errlen, "field \"%s\" is %s, not an array", field,
				 type_name(arr));
			ret = -EINVAL;
			goto out;
		}
		n = json_object_array_length(arr);
		for (i = 0; i < n; i++) {
			struct entry e;

			ret = parse_cidr(field, i, json_object_array_get_idx(arr, i), &e, err,
					 errlen);
			if (ret)
				goto out;
			ret = policy_add(tmp, &e);
			if (ret) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
		}
	}
	if (!tmp->n) {
		snprintf(err, errlen, "no address ranges in \"web\", \"api\" or \"git\"");
		ret = -EINVAL;
	}
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

int ghmeta_parse(const char *json, size_t len, struct policy *p, char *err, size_t errlen)
{
	struct policy tmp;
	size_t i, n0;
	int ret;

	if (!json || !p)
		return -EINVAL;
	policy_init(&tmp);
	ret = parse_doc(json, len, &tmp, err, errlen);
	if (ret)
		goto out;

	/* All or nothing: policy_add() appends, so truncating undoes it. */
	n0 = p->n;
	for (i = 0; i < tmp.n; i++) {
		ret = policy_add(p, &tmp.entries[i]);
		if (ret) {
			p->n = n0;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	pr_debug("GitHub meta: %zu address ranges", tmp.n);
out:
	policy_free(&tmp);
	return ret;
}

/* ---- fetching ---------------------------------------------------------- */

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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_status = CURLE_FAILED_INIT;

static void curl_global(void)
{
	curl_init_status = curl_global_init(CURL_GLOBAL_DEFAULT);
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
static int pin_host(const struct ghmeta_opts *o, const char *host, const char *port,
		    struct curl_slist **out, char *err, size_t errlen)
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
	sl = curl_slist_append(NULL, line);
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
static int url_host_port(const char *url, char **host, char **port, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *h = NULL, *p = NULL;
	CURLUcode uc;
	int ret = -EINVAL;

	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc) {
		snprintf(err, errlen, "bad URL \"%s\": %s", url, curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || strcmp(scheme, "https")) {
		snprintf(err, errlen, "bad URL \"%s\": only https is allowed", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &h, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT)) {
		snprintf(err, errlen, "bad URL \"%s\": no host", url);
		goto out;
	}
	*host = h;
	*port = p;
	h = p = NULL;
	ret = 0;
out:
	curl_free(scheme);
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
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
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	int ret;

	if (!o || !p)
		return -EINVAL;
	url = o->url ? o->url : GHMETA_DEFAULT_URL;
	pthread_once(&curl_once, curl_global);
	if (curl_init_status != CURLE_OK) {
		snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(curl_init_status));
		return -EIO;
	}

	ret = url_host_port(url, &host, &port, err, errlen);
	if (ret)
		goto out;
	if (!host_is_literal(host)) {
		ret = pin_host(o, host, port, &pin, err, errlen);
		if (ret)
			goto out;
	}

	c = curl_easy_init();
	hdrs = curl_slist_append(NULL, "Accept: application/vnd.github+json");
	if (!c || !hdrs) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
#define SETOPT(opt, val)                                                           \
	do {                                                                       \
		cc = curl_easy_setopt(c, opt, val);                                \
		if (cc != CURLE_OK) {                                              \
			snprintf(err, errlen, "libcurl: %s: %s", #opt,              \
				 curl_easy_strerror(cc));                           \
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

	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		if (body.too_big || cc == CURLE_FILESIZE_EXCEEDED)
			snprintf(err, errlen, "%s: response larger than %u MiB", host,
				 GHMETA_MAX_BODY >> 20);
		else if (errbuf[0])
			snprintf(err, errlen, "%s: %s", host, errbuf);
		else
			snprintf(err, errlen, "%s: %s", host, curl_easy_strerror(cc));
		/* "Couldn't connect" says nothing of why; the socket's errno does. */
		if (cc == CURLE_COULDNT_CONNECT &&
		    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno)
			snprintf(err + strlen(err), errlen - strlen(err), " (%s)", strerror((int)os_errno));
		if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
		    cc == CURLE_SSL_CERTPROBLEM)
			snprintf(err + strlen(err), errlen - strlen(err),
				 "; for a private CA, pass --ca-file");
		ret = cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(err, errlen, "HTTP status %ld%s", status,
			 status >= 300 && status < 400 ? " (redirects are not followed)" : "");
		ret = -EIO;
		goto out;
	}
	ret = ghmeta_parse(body.buf ? body.buf : "", body.len, p, err, errlen);
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(pin);
	curl_free(host);
	curl_free(port);
	free(body.buf);
	return ret;
}
