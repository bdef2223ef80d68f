// SPDX-License-Identifier: GPL-2.0-only
/*
 * The planning stage of run (and resolve, and the coming check): find the
 * resolvers, resolve every allowed name, add GitHub's ranges, and compile
 * the policy into rules.  Nothing here attaches, launches or changes the
 * system; any failure is reported and ends the run before anything runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "ghmeta.h"
#include "log.h"
#include "plan.h"

#define RESOLV_CONF "/etc/resolv.conf"

int plan_load_resolvers(struct run_config *c)
{
	char err[512];
	FILE *f;
	int ret;

	if (c->nresolvers)
		return 0;
	f = fopen(RESOLV_CONF, "re");
	if (!f) {
		pr_err("cannot read %s: %s; name a DNS server with --resolver ADDR", RESOLV_CONF,
		       strerror(errno));
		return -errno;
	}
	ret = resolvconf_parse(f, RESOLV_CONF, c->resolvers, MAX_RESOLVERS, &c->nresolvers, err,
			       sizeof(err));
	fclose(f);
	if (ret)
		pr_err("%s; name a DNS server with --resolver ADDR", err);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Replace every domain entry by its addresses (same port, name kept for
 * messages), and add GitHub's ranges when github.com is allowed.  Linear
 * in the entries, n log n in the names.
 */
static int resolve_domains(struct run_config *c, struct dns_answer **answers_out, size_t *n_out)
{
	const char **names = NULL;
	struct dns_answer *ans = NULL;
	struct dns_opts opts = { .timeout_ms = 2000, .tries = 2 };
	struct policy resolved;
	size_t nnames = 0;
	bool github = false;
	char err[512];
	int ret = 0;

	policy_init(&resolved);
	names = calloc(c->policy.n ? c->policy.n : 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	/* Each name once: sorted, so the rebuild below finds it by bsearch. */
	for (size_t i = 0; i < c->policy.n; i++) {
		const struct entry *e = &c->policy.entries[i];

		/* *.NAME is for the DNS proxy: nothing to resolve at start. */
		if (e->kind != ENTRY_DOMAIN || e->wildcard)
			continue;
		names[nnames++] = e->name;
		if (strcmp(e->name, "github.com") == 0)
			github = true;
	}
	/* Only wildcards (or nothing) to resolve: still rebuild, to drop them. */
	if (!nnames)
		goto rebuild;
	qsort(names, nnames, sizeof(*names), name_cmp);
	{
		size_t u = 1;

		for (size_t i = 1; i < nnames; i++) {
			if (strcmp(names[i], names[u - 1]))
				names[u++] = names[i];
		}
		nnames = u;
	}

	pr_debug("resolving %zu names", nnames);
	ret = dns_resolve_all(names, nnames, c->resolvers, c->nresolvers, &opts, &ans);
	if (ret == -ENOENT) {
		for (size_t i = 0; i < nnames; i++) {
			if (!ans[i].ok)
				pr_err("Failed to resolve domain: %s (%s)", ans[i].name, ans[i].reason);
		}
		pr_err("refusing to start: every allowed domain must resolve");
		goto out;
	} else if (ret) {
		pr_err("cannot resolve domains: %s", strerror(-ret));
		goto out;
	}

rebuild:
	/* Rebuild: CIDRs as given, each domain entry once per address. */
	for (size_t i = 0; i < c->policy.n && !ret; i++) {
		const struct entry *e = &c->policy.entries[i];
		const char *key = e->name, **hit;
		const struct dns_answer *an;

		if (e->kind != ENTRY_DOMAIN) {
			ret = policy_add(&resolved, e);
			continue;
		}
		if (e->wildcard)
			continue;
		/* Every domain is in names[]; ans[] follows its order. */
		hit = bsearch(&key, names, nnames, sizeof(*names), name_cmp);
		if (!hit) {
			ret = -EINVAL;
			break;
		}
		an = &ans[hit - names];
		for (size_t k = 0; k < an->naddrs && !ret; k++) {
			struct entry a = { .kind = ENTRY_CIDR, .addr = an->addrs[k], .port = e->port };

			a.prefixlen = a.addr.family == AF_INET ? 32 : 128;
			snprintf(a.name, sizeof(a.name), "%s", e->name);
			ret = policy_add(&resolved, &a);
		}
	}
	if (ret)
		goto out;

	if (github) {
		struct ghmeta_opts go = {
			.url = c->github_meta_url ? c->github_meta_url : GHMETA_DEFAULT_URL,
			.ca_file = c->ca_file,
			.connect_timeout_ms = 5000,
			.total_timeout_ms = 15000,
			.resolvers = c->resolvers,
			.nresolvers = c->nresolvers,
		};

		ret = ghmeta_fetch(&go, &resolved, err, sizeof(err));
		if (ret) {
			pr_err("Failed to fetch GitHub IP ranges: %s", err);
			goto out;
		}
	}

	policy_free(&c->policy);
	c->policy = resolved;
	policy_init(&resolved);
out:
	policy_free(&resolved);
	free(names);
	if (!ret) {
		*answers_out = ans;
		*n_out = ans ? nnames : 0;
	} else {
		dns_answers_free(ans, ans ? nnames : 0);
	}
	return ret;
}

/* The domain entries as given, for the DNS proxy's name matching. */
static int keep_domains(const struct run_config *c, struct plan *p)
{
	size_t n = policy_count(&c->policy, ENTRY_DOMAIN);

	p->domains = calloc(n ? n : 1, sizeof(*p->domains));
	if (!p->domains)
		return -ENOMEM;
	for (size_t i = 0; i < c->policy.n; i++) {
		const struct entry *e = &c->policy.entries[i];

		if (e->kind != ENTRY_DOMAIN)
			continue;
		if (e->wildcard && !c->dns_proxy) {
			pr_err("*.%s: a wildcard needs the DNS proxy, which --no-dns-proxy turns off",
			       e->name);
			return -EINVAL;
		}
		p->domains[p->ndomains++] = *e;
	}
	return 0;
}

int plan_build(struct run_config *c, struct plan *out)
{
	struct plan p = {};
	char err[512];
	int ret;

	ret = keep_domains(c, &p);
	if (ret) {
		plan_free(&p);
		return ret;
	}
	ret = plan_load_resolvers(c);
	if (ret) {
		plan_free(&p);
		return ret;
	}
	ret = resolve_domains(c, &p.answers, &p.nanswers);
	if (ret) {
		plan_free(&p);
		return ret;
	}
	ret = policy_compile(&c->policy, &p.rules, &p.nrules, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		plan_free(&p);
		return ret;
	}
	*out = p;
	return 0;
}

void plan_free(struct plan *p)
{
	dns_answers_free(p->answers, p->nanswers);
	free(p->rules);
	free(p->domains);
	*p = (struct plan){};
}
