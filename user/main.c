// SPDX-License-Identifier: GPL-2.0-only
/* egressd: an eBPF egress allowlist for containers and sandboxed sessions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "dns.h"
#include "launch.h"
#include "log.h"
#include "plan.h"
#include "policycmd.h"
#include "run.h"
#include "statusq.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help; /* NULL: hidden */
};

static int do_help(int argc, char **argv);

static int do_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("egressd %s (libbpf %s)\n", EGRESSD_VERSION, libbpf_version_string());
	return 0;
}

/*
 * egressd resolve [--resolver ADDR]... NAME...: what run would allow for
 * NAME, through the same resolver code.  For debugging and bench/.
 */
static int do_resolve(int argc, char **argv)
{
	struct run_config c = {};
	struct dns_opts opts = { .timeout_ms = 2000, .tries = 2 };
	struct dns_answer *ans = NULL;
	char err[256], a[ADDR_STRLEN];
	const char **names;
	struct timespec t0, t1;
	size_t n = 0;
	int i, ret, status = EXIT_EGRESSD_FAILURE;

	names = calloc((size_t)argc, sizeof(*names));
	if (!names)
		return EXIT_EGRESSD_FAILURE;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--resolver") == 0 && i + 1 < argc) {
			if (c.nresolvers == MAX_RESOLVERS ||
			    resolver_parse(argv[++i], &c.resolvers[c.nresolvers++], err, sizeof(err))) {
				pr_err("--resolver: %s", err);
				goto out;
			}
		} else if (strcmp(argv[i], "-v") == 0) {
			log_set_level(LOG_LEVEL_DEBUG);
		} else if (name_validate(argv[i], err, sizeof(err))) {
			pr_err("%s", err);
			goto out;
		} else {
			names[n++] = argv[i];
		}
	}
	if (!n) {
		pr_err("usage: egressd resolve [-v] [--resolver ADDR[:PORT]]... NAME...");
		goto out;
	}
	if (plan_load_resolvers(&c))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = dns_resolve_all(names, n, c.resolvers, c.nresolvers, &opts, &ans);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_debug("resolved %zu names in %.2f ms", n,
		 (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	if (ret && ret != -ENOENT) {
		pr_err("cannot resolve: %s", strerror(-ret));
		goto out;
	}
	status = 0;
	for (size_t k = 0; k < n; k++) {
		if (!ans[k].ok) {
			pr_err("Failed to resolve domain: %s (%s)", ans[k].name, ans[k].reason);
			status = EXIT_EGRESSD_FAILURE;
			continue;
		}
		printf("%s", ans[k].name);
		for (size_t j = 0; j < ans[k].naddrs; j++)
			printf(" %s", addr_format(&ans[k].addrs[j], a, sizeof(a)));
		printf("\n");
	}
	dns_answers_free(ans, n);
out:
	free(names);
	return status;
}

static const struct command commands[] = {
	{ "run", do_run, "run a command under an egress allowlist" },
	{ "exec", do_exec, "start a command in a container egressd filters (docker exec)" },
	{ "check", do_check, "preflight: can egressd run here, and what to fix" },
	{ "policy", do_policy, "policy tools: export the allowlist for other enforcers" },
	{ "status", do_status, "what a running egressd enforces (root)" },
	{ "resolve", do_resolve, NULL },
	{ "version", do_version, "print the version" },
	{ "help", do_help, "this help" },
};

static int do_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("Usage: egressd COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].help)
			printf("  %-10s %s\n", commands[i].name, commands[i].help);
	}
	printf("\negressd run --help shows the options of run.\n"
	       "Example: egressd run --user nobody --allow-domains registry.npmjs.org -- npm install\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		do_help(argc, argv);
		return EXIT_EGRESSD_FAILURE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return do_version(argc, argv);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return do_help(argc, argv);

	log_setup_libbpf();
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	}
	pr_err("unknown command \"%s\" (see egressd --help)", argv[1]);
	return EXIT_EGRESSD_FAILURE;
}
