// SPDX-License-Identifier: GPL-2.0-only
/*
 * egressd's allowlist as one CiliumNetworkPolicy, written as YAML by hand
 * (every string double-quoted, so that no value can turn into a number, a
 * boolean or an alias).  Each construct is chosen to allow exactly what
 * egressd allows, or less where Cilium cannot say the same thing; those
 * places carry a YAML comment and a warning, and docs/cilium.md explains
 * them.  The Cilium semantics relied on (pkg/policy/api, pkg/fqdn/
 * matchpattern) are cited where they are used.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "export.h"
#include "namematch.h"
#include "text.h"

#define MSG_LEN 512

/* One destination: a domain key (name, wildcard) or a prefix, with its ports. */
struct dest {
	const struct entry *e; /* the first entry naming it */
	size_t first;          /* that entry's index, for input order */
	struct portset ports;  /* union over every entry naming it */
};

static void __attribute__((format(printf, 2, 3)))
warnf(const struct export_opts *o, const char *fmt, ...)
{
	char msg[MSG_LEN];
	va_list ap;

	if (!o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->warn(o->warn_ctx, msg);
}

/* ---- validation (Kubernetes' IsDNS1123Subdomain, IsQualifiedName) ------ */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* A value for a message: quoted, escaped, cut if long. */
static const char *q(const char *s, char *buf, size_t size)
{
	return text_quote(s, strlen(s), buf, size);
}

/* Why s (len bytes) is not a DNS-1123 subdomain (dots = false: label), or NULL. */
static const char *dns1123_why(const char *s, size_t len, bool dots, size_t max)
{
	size_t i;

	if (len == 0)
		return "it is empty";
	if (len > max)
		return dots ? "it is longer than 253 characters" : "it is longer than 63 characters";
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (is_lower_alnum(c) || c == '-' || (dots && c == '.'))
			continue;
		if (c >= 'A' && c <= 'Z')
			return "it has an uppercase letter (only lowercase letters, digits, '-' and '.')";
		return dots ? "it has a character other than lowercase letters, digits, '-' and '.'" :
			      "it has a character other than lowercase letters, digits and '-'";
	}
	for (i = 0; i < len; i++) {
		/* Every dot-separated part starts and ends alphanumeric. */
		bool start = i == 0 || s[i - 1] == '.';
		bool end = i + 1 == len || s[i + 1] == '.';

		if ((start || end) && !is_lower_alnum(s[i]))
			return dots ? "each part between dots must start and end with a letter or digit" :
				      "it must start and end with a letter or digit";
	}
	return NULL;
}

int export_name_validate(const char *name, char *err, size_t errlen)
{
	char b[TEXT_QUOTE_SIZE(64)];
	const char *why;

	if (!name)
		name = "";
	why = dns1123_why(name, strlen(name), true, 253);
	if (!why)
		return 0;
	text_errf(err, errlen, "invalid policy name \"%s\": %s (a Kubernetes name is a DNS-1123 subdomain, like \"%s\")",
	     q(name, b, sizeof(b)), why, EXPORT_DEFAULT_NAME);
	return -EINVAL;
}

int export_namespace_validate(const char *ns, char *err, size_t errlen)
{
	char b[TEXT_QUOTE_SIZE(64)];
	const char *why;

	if (!ns)
		ns = "";
	why = dns1123_why(ns, strlen(ns), false, 63);
	if (!why)
		return 0;
	text_errf(err, errlen, "invalid namespace \"%s\": %s (a namespace is a DNS-1123 label, like \"default\")",
	     q(ns, b, sizeof(b)), why);
	return -EINVAL;
}

/* A label name part or value: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, up to 63. */
static const char *label_part_why(const char *s, size_t len)
{
	size_t i;

	if (len > 63)
		return "is longer than 63 characters";
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!is_alnum(c) && c != '-' && c != '_' && c != '.')
			return "has a character other than letters, digits, '-', '_' and '.'";
	}
	if (len && (!is_alnum(s[0]) || !is_alnum(s[len - 1])))
		return "does not start and end with a letter or digit";
	return NULL;
}

int export_label_parse(const char *text, struct export_label *out, char *err, size_t errlen)
{
	char b[TEXT_QUOTE_SIZE(64)];
	struct export_label l;
	const char *eq, *key, *name, *slash, *why;
	size_t keylen, namelen;

	if (!text)
		text = "";
	eq = strchr(text, '=');
	if (!eq) {
		text_errf(err, errlen, "invalid label \"%s\": not KEY=VALUE", q(text, b, sizeof(b)));
		return -EINVAL;
	}
	key = text;
	keylen = (size_t)(eq - text);
	/* Cilium's label sources: "k8s:app" selects only Kubernetes labels. */
	name = key;
	if (keylen > 4 && (!strncmp(key, "k8s:", 4) || !strncmp(key, "any:", 4)))
		name += 4;
	namelen = keylen - (size_t)(name - key);
	slash = memchr(name, '/', namelen);
	if (slash) {
		size_t plen = (size_t)(slash - name);

		why = dns1123_why(name, plen, true, 253);
		if (why) {
			text_errf(err, errlen, "invalid label key in \"%s\": the prefix before '/' is not a DNS-1123 subdomain: %s",
			     q(text, b, sizeof(b)), why);
			return -EINVAL;
		}
		namelen -= plen + 1;
		name = slash + 1;
	}
	why = namelen ? label_part_why(name, namelen) : "is empty";
	if (why) {
		text_errf(err, errlen, "invalid label key in \"%s\": the name part %s (a key is [PREFIX/]NAME, like \"app\" or \"example.com/app\")",
		     q(text, b, sizeof(b)), why);
		return -EINVAL;
	}
	why = label_part_why(eq + 1, strlen(eq + 1));
	if (why) {
		text_errf(err, errlen, "invalid label value in \"%s\": it %s", q(text, b, sizeof(b)), why);
		return -EINVAL;
	}
	memcpy(l.key, key, keylen);
	l.key[keylen] = '\0';
	snprintf(l.value, sizeof(l.value), "%s", eq + 1);
	*out = l;
	return 0;
}

static int labels_check(const char *opt, const struct export_label *l, size_t n, char *err,
			size_t errlen)
{
	char text[EXPORT_LABEL_KEY_MAX + EXPORT_LABEL_VALUE_MAX + 2];
	struct export_label tmp;
	size_t i, j;

	if (n > EXPORT_MAX_LABELS) {
		text_errf(err, errlen, "%s: more than %d labels", opt, EXPORT_MAX_LABELS);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "%s=%s", l[i].key, l[i].value);
		if (export_label_parse(text, &tmp, err, errlen))
			return -EINVAL;
		for (j = 0; j < i; j++) {
			if (!strcmp(l[i].key, l[j].key)) {
				text_errf(err, errlen, "%s: label key \"%s\" given twice", opt, l[i].key);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* ---- YAML output ------------------------------------------------------ */

/* A double-quoted YAML scalar: nothing inside can change its type or end it. */
static void yq(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void labels_out(FILE *f, const char *indent, const struct export_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputs(indent, f);
		yq(f, l[i].key);
		fputs(": ", f);
		yq(f, l[i].value);
		fputc('\n', f);
	}
}

/*
 * egressd's ports hold for TCP and UDP alike, and for nothing else (the
 * BPF side reads a port only from those two).  Cilium's "ANY" would add
 * SCTP, so each port is written twice, TCP and UDP, instead.
 */
static void ports_out(FILE *f, const struct portset *ps)
{
	fputs("    toPorts:\n    - ports:\n", f);
	for (uint16_t i = 0; i < ps->n; i++) {
		fprintf(f, "      - port: \"%u\"\n        protocol: \"TCP\"\n", ps->ports[i]);
		fprintf(f, "      - port: \"%u\"\n        protocol: \"UDP\"\n", ps->ports[i]);
	}
}

static void ports_comment(FILE *f, const struct portset *ps)
{
	if (ps->all) {
		fputs("  # Every port and protocol (ICMP too), as egressd allows for an entry without a port.\n",
		      f);
		return;
	}
	fputs(ps->n > 1 ? "  # Ports " : "  # Port ", f);
	for (uint16_t i = 0; i < ps->n; i++)
		fprintf(f, "%s%u", i ? ", " : "", ps->ports[i]);
	fputs(" over TCP and UDP, as egressd (not ANY, which would add SCTP).\n", f);
}

/*
 * egressd's "*.example.com" is every name below example.com, at any
 * depth, never example.com itself (entry.h, namematch.c).  Cilium's
 * "**.example.com" is exactly that from 1.19 on (matchpattern: "**."
 * prefix = one or more labels); before 1.19 every run of '*' is one '*',
 * which stays within one label: narrower, never broader.  Cilium's plain
 * "*.example.com" would be narrower on every version.
 */
static void fqdn_out(FILE *f, const char *indent, const struct entry *e)
{
	char pat[NAME_MAX_LEN + 4];

	if (e->wildcard) {
		snprintf(pat, sizeof(pat), "**.%s", e->name);
		fprintf(f, "%s- matchPattern: ", indent);
		yq(f, pat);
	} else {
		fprintf(f, "%s- matchName: ", indent);
		yq(f, e->name);
	}
	fputc('\n', f);
}

/* ---- destinations ----------------------------------------------------- */

static int dest_key_cmp(const struct entry *a, const struct entry *b)
{
	int c;

	if (a->kind == ENTRY_DOMAIN) {
		c = strcmp(a->name, b->name);
		if (c)
			return c;
		return (int)a->wildcard - (int)b->wildcard;
	}
	if (a->addr.family != b->addr.family)
		return a->addr.family == AF_INET ? -1 : 1;
	c = memcmp(a->addr.bytes, b->addr.bytes, addr_len(&a->addr));
	if (c)
		return c;
	return (int)a->prefixlen - (int)b->prefixlen;
}

static int dest_cmp_key(const void *pa, const void *pb)
{
	const struct dest *a = pa, *b = pb;
	int c = dest_key_cmp(a->e, b->e);

	if (c)
		return c;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* Every port first, then by the port lists; input order within one set. */
static int portset_cmp(const struct portset *a, const struct portset *b)
{
	if (a->all != b->all)
		return a->all ? -1 : 1;
	for (uint16_t i = 0; i < a->n && i < b->n; i++) {
		if (a->ports[i] != b->ports[i])
			return a->ports[i] < b->ports[i] ? -1 : 1;
	}
	return (int)a->n - (int)b->n;
}

static int dest_cmp_group(const void *pa, const void *pb)
{
	const struct dest *a = pa, *b = pb;
	int c = portset_cmp(&a->ports, &b->ports);

	if (c)
		return c;
	return a->first < b->first ? -1 : a->first > b->first;
}

static int dest_cmp_first(const void *pa, const void *pb)
{
	const struct dest *a = pa, *b = pb;

	return a->first < b->first ? -1 : a->first > b->first;
}

/*
 * The distinct destinations of one kind, each with the union of its
 * entries' ports (as egressd merges them), sorted by port set and then
 * input order.  *out is malloc'd (NULL when none).
 */
static int dests_collect(const struct policy *p, enum entry_kind kind, struct dest **out,
			 size_t *nout, char *err, size_t errlen)
{
	char buf[ENTRY_STRLEN];
	struct dest *d;
	size_t n = 0, u = 0, i;

	d = calloc(p->n ? p->n : 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; i < p->n; i++) {
		if (p->entries[i].kind != kind)
			continue;
		d[n].e = &p->entries[i];
		d[n].first = i;
		n++;
	}
	/* Equal keys end up side by side, the first entry first. */
	qsort(d, n, sizeof(*d), dest_cmp_key);
	for (i = 0; i < n; i++) {
		struct entry e;

		if (!u || dest_key_cmp(d[u - 1].e, d[i].e)) {
			d[u] = d[i];
			memset(&d[u].ports, 0, sizeof(d[u].ports));
			u++;
		}
		if (!portset_add(&d[u - 1].ports, d[i].e->port))
			continue;
		/* The limit egressd run has for one name or prefix. */
		e = *d[i].e;
		e.port = 0;
		text_errf(err, errlen, "more than %d ports for %s: egressd run refuses this allowlist too",
		     EGRESS_MAX_PORTS, entry_format(&e, buf, sizeof(buf)));
		free(d);
		return -EINVAL;
	}
	qsort(d, u, sizeof(*d), dest_cmp_group);
	*out = d;
	*nout = u;
	return 0;
}

/*
 * Does a CIDR destination cover a/bits: 2 with every port, 1 only with
 * some ports, 0 not at all?
 */
static int cidr_covers(const struct dest *c, size_t nc, const char *text, unsigned int bits)
{
	struct addr a;
	int best = 0;

	if (addr_parse(text, &a))
		return 0;
	for (size_t i = 0; i < nc; i++)
		if (addr_prefix_covers(&c[i].e->addr, c[i].e->prefixlen, &a, bits))
			best = c[i].ports.all ? 2 : (best > 1 ? best : 1);
	return best;
}

static bool is_loopback(const struct entry *e)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (e->addr.family == AF_INET)
		return e->addr.bytes[0] == 127;
	return e->prefixlen == 128 && !memcmp(e->addr.bytes, lo6, 16);
}

/* ---- the policy ------------------------------------------------------- */

static void header_out(FILE *f, const char *name, bool default_selector)
{
	fprintf(f,
		"# CiliumNetworkPolicy exported from an egressd allowlist by\n"
		"# \"egressd policy export --format cilium\" (egressd %s).\n"
		"# It allows what the allowlist allows, or less where Cilium cannot say\n"
		"# the same thing; each such place has a comment, and docs/cilium.md\n"
		"# lists every difference.  Nothing was resolved or fetched to make it.\n",
		EGRESSD_VERSION);
	if (default_selector)
		fprintf(f, "# Pods opt in with the label %s=%s.\n", EXPORT_DEFAULT_SELECTOR_KEY, name);
}

static int dns_rule_out(FILE *f, const struct export_opts *o, const struct dest *d, size_t nd)
{
	static const struct export_label kube_dns[] = {
		{ "k8s:io.kubernetes.pod.namespace", "kube-system" },
		{ "k8s:k8s-app", "kube-dns" },
	};
	struct dest *byfirst;
	size_t i;

	/* d is grouped by ports; the names read best in input order. */
	byfirst = malloc(nd * sizeof(*byfirst));
	if (!byfirst)
		return -ENOMEM;
	memcpy(byfirst, d, nd * sizeof(*byfirst));
	qsort(byfirst, nd, sizeof(*byfirst), dest_cmp_first);

	fputs("  # DNS: lookups go to the cluster's DNS pods through Cilium's DNS proxy,\n"
	      "  # which lets only the names below through (and learns their addresses\n"
	      "  # for the toFQDNs rules).  There is deliberately no matchPattern \"*\":\n"
	      "  # it would let any name be looked up, a channel out (DNS exfiltration)\n"
	      "  # that egressd's own DNS proxy refuses.\n"
	      "  - toEndpoints:\n"
	      "    - matchLabels:\n",
	      f);
	if (o->ndns_selector)
		labels_out(f, "        ", o->dns_selector, o->ndns_selector);
	else
		labels_out(f, "        ", kube_dns, 2);
	fputs("    toPorts:\n"
	      "    - ports:\n"
	      "      - port: \"53\"\n"
	      "        protocol: \"UDP\"\n"
	      "      - port: \"53\"\n"
	      "        protocol: \"TCP\"\n"
	      "      rules:\n"
	      "        dns:\n",
	      f);
	for (i = 0; i < nd; i++)
		fqdn_out(f, "        ", byfirst[i].e);
	free(byfirst);
	return 0;
}

static void fqdn_rules_out(FILE *f, const struct dest *d, size_t nd)
{
	size_t i = 0, j;

	while (i < nd) {
		bool wild = false, github = false;

		for (j = i; j < nd && portset_equal(&d[j].ports, &d[i].ports); j++) {
			wild |= d[j].e->wildcard;
			github |= !d[j].e->wildcard && !strcmp(d[j].e->name, "github.com");
		}
		ports_comment(f, &d[i].ports);
		if (github)
			fputs("  # github.com: egressd run also allows GitHub's published web, api and git\n"
			      "  # ranges (api.github.com/meta).  The export fetches nothing, so they are\n"
			      "  # not here: add them as toCIDRSet entries if the pods need them.\n",
			      f);
		if (wild)
			fputs("  # \"**.NAME\" is egressd's \"*.NAME\": every name below NAME at any depth,\n"
			      "  # not NAME itself.  Cilium before 1.19 reads \"**.\" as \"*.\" (one label\n"
			      "  # only): narrower there, never broader.\n",
			      f);
		fputs("  - toFQDNs:\n", f);
		for (size_t k = i; k < j; k++)
			fqdn_out(f, "    ", d[k].e);
		if (!d[i].ports.all)
			ports_out(f, &d[i].ports);
		i = j;
	}
}

static void cidr_rules_out(FILE *f, const struct dest *d, size_t nd)
{
	char a[ADDR_STRLEN], cidr[ADDR_STRLEN + 8];
	size_t i = 0, j;

	while (i < nd) {
		bool lo = false;

		for (j = i; j < nd && portset_equal(&d[j].ports, &d[i].ports); j++)
			lo |= is_loopback(d[j].e);
		ports_comment(f, &d[i].ports);
		if (lo)
			fputs("  # A loopback prefix here has no effect: a pod's loopback never meets\n"
			      "  # Cilium's policy.\n",
			      f);
		fputs("  - toCIDRSet:\n", f);
		for (size_t k = i; k < j; k++) {
			const struct entry *e = d[k].e;

			snprintf(cidr, sizeof(cidr), "%s/%u", addr_format(&e->addr, a, sizeof(a)),
				 e->prefixlen);
			fputs("    - cidr: ", f);
			yq(f, cidr);
			fputc('\n', f);
		}
		if (!d[i].ports.all)
			ports_out(f, &d[i].ports);
		i = j;
	}
}

/*
 * egressd never learns a cloud metadata address from a DNS answer
 * (learn.c); Cilium's toFQDNs would allow whatever a name resolves to.
 * A deny rule takes precedence over every allow, so it closes that, but
 * it would also override an explicit CIDR entry: leave it out for an
 * address a CIDR entry allows on every port (warnings() says so for one
 * allowed on some ports only, where the deny stays).
 */
static const struct {
	const char *addr;
	unsigned int bits;
} meta[] = {
	{ "169.254.169.254", 32 },
	{ "fd00:ec2::254", 128 },
};

static void metadata_deny_out(FILE *f, const struct dest *c, size_t nc)
{
	bool any = false;

	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++) {
		/*
		 * Covered on some ports only: the deny stays, on every port,
		 * narrower than egressd (which allows those ports).  Without
		 * it a wildcard answer naming the address would open it on
		 * every port in Cilium.
		 */
		if (cidr_covers(c, nc, meta[i].addr, meta[i].bits) == 2)
			continue;
		if (!any) {
			fputs("  # egressd never learns a cloud metadata address from a DNS answer;\n"
			      "  # Cilium's toFQDNs would allow any answer, so deny those outright.\n"
			      "  egressDeny:\n"
			      "  - toCIDRSet:\n",
			      f);
			any = true;
		}
		fprintf(f, "    - cidr: \"%s/%u\"\n", meta[i].addr, meta[i].bits);
	}
}

static void warnings(const struct export_opts *o, const struct dest *d, size_t nd,
		     const struct dest *c, size_t nc)
{
	bool wild = false;
	size_t i;

	for (i = 0; i < nd; i++) {
		const struct entry *e = d[i].e;

		if (e->wildcard) {
			wild = true;
			warnf(o, "*.%s is exported as matchPattern \"**.%s\": the same names in Cilium 1.19 and later; "
				 "earlier Cilium matches one label only (a.%s, not a.b.%s)",
			      e->name, e->name, e->name, e->name);
		} else if (!strcmp(e->name, "github.com")) {
			warnf(o, "github.com: egressd run also allows GitHub's published web, api and git ranges; "
				 "the export fetches nothing and does not include them (list them as CIDR entries if needed)");
		}
	}
	if (wild)
		warnf(o, "Cilium learns every address a wildcard name resolves to; egressd does not learn "
			 "private or local ones for wildcard names (--allow-private-answers): see docs/cilium.md");
	for (i = 0; nd && i < sizeof(meta) / sizeof(meta[0]); i++)
		if (cidr_covers(c, nc, meta[i].addr, meta[i].bits) == 1)
			warnf(o, "%s/%u is allowed on some ports only: the export denies it on every port, since Cilium's toFQDNs would otherwise reach it on every port through a name that resolves to it (narrower than egressd run)",
			      meta[i].addr, meta[i].bits);
	for (i = 0; i < nc; i++) {
		char buf[ENTRY_STRLEN];
		struct entry e = *c[i].e;

		if (!is_loopback(&e))
			continue;
		e.port = 0;
		warnf(o, "%s: a loopback destination has no effect in Cilium (a pod's loopback is never filtered)",
		      entry_format(&e, buf, sizeof(buf)));
	}
}

/*
 * The CIDR entries through the same compiler egressd run uses, so that an
 * allowlist run refuses (more ports on a prefix, with those of every
 * prefix covering it, than a rule holds) is refused here with the same
 * words, not exported.
 */
static int cidrs_compile(const struct policy *p, char *err, size_t errlen)
{
	struct policy cidrs;
	struct rule *rules = NULL;
	size_t nrules = 0;
	int ret = 0;

	policy_init(&cidrs);
	for (size_t i = 0; i < p->n && !ret; i++)
		if (p->entries[i].kind == ENTRY_CIDR)
			ret = policy_add(&cidrs, &p->entries[i]);
	if (ret)
		text_errf(err, errlen, "out of memory");
	else
		ret = policy_compile(&cidrs, &rules, &nrules, err, errlen) ? -EINVAL : 0;
	free(rules);
	policy_free(&cidrs);
	return ret;
}

int export_cilium(const struct policy *p, const struct export_opts *o, char **out, char *err,
		  size_t errlen)
{
	struct export_label def_sel;
	const char *name = o->name ? o->name : EXPORT_DEFAULT_NAME;
	struct dest *d = NULL, *c = NULL;
	size_t nd = 0, nc = 0, len = 0;
	char *buf = NULL;
	FILE *f = NULL;
	int ret;

	ret = export_name_validate(name, err, errlen);
	if (!ret && o->namespace)
		ret = export_namespace_validate(o->namespace, err, errlen);
	if (!ret)
		ret = labels_check("--selector", o->selector, o->nselector, err, errlen);
	if (!ret)
		ret = labels_check("--dns-selector", o->dns_selector, o->ndns_selector, err, errlen);
	if (ret)
		return ret;
	if (!o->nselector) {
		if (strlen(name) > EXPORT_LABEL_VALUE_MAX) {
			text_errf(err, errlen, "the policy name \"%s\" is longer than %d characters, too long for the default selector %s=NAME; give --selector KEY=VALUE",
			     name, EXPORT_LABEL_VALUE_MAX, EXPORT_DEFAULT_SELECTOR_KEY);
			return -EINVAL;
		}
		snprintf(def_sel.key, sizeof(def_sel.key), "%s", EXPORT_DEFAULT_SELECTOR_KEY);
		snprintf(def_sel.value, sizeof(def_sel.value), "%s", name);
	}

	ret = cidrs_compile(p, err, errlen);
	if (!ret)
		ret = dests_collect(p, ENTRY_DOMAIN, &d, &nd, err, errlen);
	if (!ret)
		ret = dests_collect(p, ENTRY_CIDR, &c, &nc, err, errlen);
	if (ret)
		goto cleanup;

	ret = -ENOMEM;
	f = open_memstream(&buf, &len);
	if (!f)
		goto cleanup;
	header_out(f, name, !o->nselector);
	fputs("apiVersion: \"cilium.io/v2\"\n"
	      "kind: \"CiliumNetworkPolicy\"\n"
	      "metadata:\n"
	      "  name: ",
	      f);
	yq(f, name);
	fputc('\n', f);
	if (o->namespace) {
		fputs("  namespace: ", f);
		yq(f, o->namespace);
		fputc('\n', f);
	}
	fputs("spec:\n  endpointSelector:\n    matchLabels:\n", f);
	if (o->nselector)
		labels_out(f, "      ", o->selector, o->nselector);
	else
		labels_out(f, "      ", &def_sel, 1);
	fputs("  egress:\n", f);
	if (!nd && !nc) {
		/*
		 * Cilium: "If omitted or empty, this rule does not apply at
		 * egress" (pkg/policy/api/rule.go), so "egress: []" would leave
		 * egress open.  A rule must be there, and it must select
		 * nothing: the entity "none" "can be selected but never exist"
		 * (pkg/policy/api/entity.go).
		 */
		fputs("  # The allowlist is empty: nothing may be reached, DNS included.  An empty\n"
		      "  # \"egress: []\" would not do that: Cilium ignores an empty egress section,\n"
		      "  # which leaves egress open.  One rule selecting the entity \"none\" (which\n"
		      "  # never exists) puts the pods in egress default-deny and allows nothing.\n"
		      "  - toEntities:\n"
		      "    - \"none\"\n",
		      f);
	} else {
		if (nd && dns_rule_out(f, o, d, nd))
			goto cleanup;
		fqdn_rules_out(f, d, nd);
		cidr_rules_out(f, c, nc);
		if (nd)
			metadata_deny_out(f, c, nc);
	}
	if (ferror(f))
		goto cleanup;
	ret = fclose(f) ? -ENOMEM : 0;
	f = NULL;
	if (ret)
		goto cleanup;
	warnings(o, d, nd, c, nc);
	*out = buf;
	buf = NULL;
cleanup:
	if (f)
		fclose(f);
	free(buf);
	free(d);
	free(c);
	if (ret == -ENOMEM)
		text_errf(err, errlen, "out of memory");
	return ret;
}
