// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/verifier.c: what the kernel's verifier spends on each of egressd's
 * programs, loaded with the configuration `egressd run` uses by default
 * (DNS proxy and learning on, events on, one resolver, an empty list).
 *
 *   verifier [--runs N]
 *
 * Loads the object N times (default 5) through loader_load() with the
 * kernel's verifier statistics on (log level 4), for two lists: an empty
 * one (the allowlist lookups are dead code then, and the verifier skips
 * them) and one rule in each allowlist map (a /32, a /24, a /128, a /64:
 * the whole decision).  Prints one JSON object per list and program on
 * stdout: the median "verification time" the kernel reports, instructions
 * processed, total and peak states.  Run it
 * as root and again without CAP_PERFMON and CAP_SYS_ADMIN (Docker's
 * --cap-add BPF --cap-add NET_ADMIN): the verifier prunes less and checks
 * speculative paths without them, so the two differ (bench/run.sh does
 * both).  Loads only; attaches nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "benchutil.h"
#include "egress.skel.h"
#include "loader.h"
#include "log.h"
#include "policy.h"
#include "resolvconf.h"

#define MAX_PROGS 32
#define MAX_RUNS 51

struct prog_stats {
	char name[64];
	unsigned long us[MAX_RUNS], insns, states, peak;
	int nruns;
};

static struct prog_stats progs[MAX_PROGS];
static int nprogs;
static char cur[64]; /* the program whose load log is being printed */

static struct prog_stats *prog_get(const char *name)
{
	for (int i = 0; i < nprogs; i++)
		if (!strcmp(progs[i].name, name))
			return &progs[i];
	if (nprogs == MAX_PROGS)
		return NULL;
	snprintf(progs[nprogs].name, sizeof(progs[nprogs].name), "%s", name);
	return &progs[nprogs++];
}

/* libbpf prints each load log between BEGIN and END lines; parse it. */
static int on_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[8192], *l, *save = NULL;
	struct prog_stats *p;
	unsigned long v, a, b, c;

	(void)level;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (sscanf(l, "libbpf: prog '%63[^']': -- BEGIN PROG LOAD LOG --", cur) == 1)
			continue;
		if (!cur[0] || !(p = prog_get(cur)))
			continue;
		if (sscanf(l, "verification time %lu usec", &v) == 1 && p->nruns < MAX_RUNS)
			p->us[p->nruns++] = v;
		else if (sscanf(l, "processed %lu insns (limit %*u) max_states_per_insn %*u total_states %lu peak_states %lu mark_read %lu",
				&a, &b, &c, &v) == 4) {
			p->insns = a;
			p->states = b;
			p->peak = c;
		} else if (strstr(l, "-- END PROG LOAD LOG --")) {
			cur[0] = 0;
		}
	}
	return 0;
}

static int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Load LIST (NULL: none) RUNS times; print its programs' medians. */
static int one_list(const char *label, const char *list, struct loader_config *lc, long runs)
{
	struct rule *rules = NULL;
	struct policy pol;
	size_t nrules = 0;
	char err[256];
	int ret = 0;

	policy_init(&pol);
	if (list && (policy_add_list(&pol, list, err, sizeof(err)) ||
		     policy_compile(&pol, &rules, &nrules, err, sizeof(err)))) {
		fprintf(stderr, "ERROR: the %s list: %s\n", label, err);
		ret = 1;
		goto out;
	}
	lc->rules = rules;
	lc->nrules = nrules;
	nprogs = 0;
	memset(progs, 0, sizeof(progs));
	for (long r = 0; r < runs; r++) {
		struct egress_bpf *s = NULL;

		libbpf_set_print(on_print);
		ret = loader_load(lc, &s);
		libbpf_set_print(NULL);
		if (ret) {
			fprintf(stderr, "ERROR: loader_load: %s\n", strerror(-ret));
			ret = 1;
			goto out;
		}
		egress_bpf__destroy(s);
	}
	for (int i = 0; i < nprogs; i++) {
		struct prog_stats *p = &progs[i];

		if (!p->nruns)
			continue;
		qsort(p->us, (size_t)p->nruns, sizeof(p->us[0]), cmp_ul);
		printf("{\"list\": \"%s\", \"prog\": \"%s\", \"verify_us\": %lu, \"insns\": %lu, "
		       "\"states\": %lu, \"peak_states\": %lu, \"runs\": %d}\n",
		       label, p->name, p->us[p->nruns / 2], p->insns, p->states, p->peak, p->nruns);
	}
out:
	lc->rules = NULL;
	lc->nrules = 0;
	free(rules);
	policy_free(&pol);
	return ret;
}

int main(int argc, char **argv)
{
	struct resolver res;
	char err[128];
	struct loader_config lc = {
		.events = true,
		.resolvers = &res,
		.nresolvers = 1,
		.dns_proxy = true,
		.proxy_port = 5300,
		.learn = true,
		.verifier_stats = true,
	};
	long runs = 5;

	if (argc == 3 && !strcmp(argv[1], "--runs")) {
		if (bench_parse_long(argv[2], 1, MAX_RUNS, &runs)) {
			fprintf(stderr, "ERROR: --runs: bad value '%s' (1..%d)\n", argv[2], MAX_RUNS);
			return 2;
		}
	} else if (argc != 1) {
		fprintf(stderr, "usage: verifier [--runs N]\n");
		return 2;
	}
	if (resolver_parse("198.51.100.1", &res, err, sizeof(err))) {
		fprintf(stderr, "ERROR: resolver: %s\n", err);
		return 1;
	}
	log_set_level(LOG_LEVEL_QUIET);
	if (one_list("empty", NULL, &lc, runs) ||
	    one_list("four", "198.51.100.7 198.51.100.0/24 2001:db8::7 2001:db8::/64", &lc, runs))
		return 1;
	return 0;
}
