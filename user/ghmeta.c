// SPDX-License-Identifier: GPL-2.0-only
/*
 * GitHub's published address ranges (https://api.github.com/meta): the
 * document parsed into the policy.  Fetching it is ghmeta_fetch.c.
 *
 * Choices:
 * - "web", "api" and "git" must all be present and be arrays.  Any one may
 *   be empty, but all three empty is an error: the user asked for GitHub,
 *   and an allowlist with no GitHub in it means the document is not what
 *   we think it is.
 * - Every element must be a string entry_parse() reads as a CIDR with no
 *   port (a bare address is its /32 or /128); a domain is refused.  Other
 *   keys (hooks, actions, ...) are ignored.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ghmeta.h"
#include "log.h"
#include "text.h"

#define GHMETA_NAME "github.com"

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
