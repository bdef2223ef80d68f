/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The allowlist as another enforcer's policy: one CiliumNetworkPolicy
 * (cilium.io/v2) as YAML text, so that sessions moving to Kubernetes keep
 * the allowlist they had.  Pure code: no I/O, no resolution, no fetch.
 * docs/cilium.md says where Cilium and egressd differ, and why each
 * difference is exported the way it is.
 */
#ifndef EGRESSD_EXPORT_H
#define EGRESSD_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

#define EXPORT_DEFAULT_NAME "egressd-allowlist"
/* The label pods opt in with when no --selector is given: KEY=NAME. */
#define EXPORT_DEFAULT_SELECTOR_KEY "egressd.io/policy"

/*
 * A label key: an optional Cilium source ("k8s:" or "any:"), an optional
 * DNS-1123 subdomain prefix of up to 253 characters and "/", and a name of
 * up to 63.  A value: up to 63 characters, or none.
 */
#define EXPORT_LABEL_KEY_MAX (4 + 253 + 1 + 63)
#define EXPORT_LABEL_VALUE_MAX 63
/* Labels in one selector. */
#define EXPORT_MAX_LABELS 32

struct export_label {
	char key[EXPORT_LABEL_KEY_MAX + 1];
	char value[EXPORT_LABEL_VALUE_MAX + 1];
};

struct export_opts {
	const char *name;      /* metadata.name; NULL: EXPORT_DEFAULT_NAME */
	const char *namespace; /* metadata.namespace; NULL: none */
	/* spec.endpointSelector; none: EXPORT_DEFAULT_SELECTOR_KEY=name */
	const struct export_label *selector;
	size_t nselector;
	/* the DNS server pods; none: kube-dns in kube-system */
	const struct export_label *dns_selector;
	size_t ndns_selector;
	/*
	 * Called once per difference the export could not express exactly
	 * (each is exported narrower, never broader); may be NULL.
	 */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
};

/*
 * metadata.name: a DNS-1123 subdomain (lowercase letters, digits, '-' and
 * '.', alphanumeric at both ends, at most 253).  0 or -EINVAL with a
 * message naming the value in err.
 */
int export_name_validate(const char *name, char *err, size_t errlen);

/* metadata.namespace: a DNS-1123 label (as a name, no '.', at most 63). */
int export_namespace_validate(const char *ns, char *err, size_t errlen);

/*
 * "KEY=VALUE" as a Kubernetes label (rules above).  0 or -EINVAL with a
 * message naming the bad text; *out is set only on success.
 */
int export_label_parse(const char *text, struct export_label *out, char *err,
		       size_t errlen);

/*
 * The CiliumNetworkPolicy for every entry of p, as NUL-terminated YAML in
 * *out (malloc'd; set only on success).  Options are validated again
 * here.  0, -EINVAL (bad option, or more ports on one destination than
 * egressd run takes; err says which), or -ENOMEM.
 */
int export_cilium(const struct policy *p, const struct export_opts *o, char **out,
		  char *err, size_t errlen);

#endif
