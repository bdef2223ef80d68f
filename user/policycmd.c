// SPDX-License-Identifier: GPL-2.0-only
/*
 * "egressd policy export --format cilium": read the allowlist exactly as
 * "egressd run" does (policy_add_list, policy_add_file: same entries, same
 * messages), turn it into another enforcer's policy (export.c), and print
 * it on stdout.  Nothing is resolved or fetched.  The text goes out only
 * once it is whole, so a failure never leaves half a policy on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "launch.h"
#include "log.h"
#include "policycmd.h"
#include "text.h"

#define ERR_LEN 1024
/* Room for an option value in a message, escaped. */
#define VAL_LEN TEXT_QUOTE_SIZE(64)

enum {
	OPT_FORMAT = 256,
	OPT_NAME,
	OPT_NAMESPACE,
	OPT_SELECTOR,
	OPT_DNS_SELECTOR,
	OPT_LOOPBACK,
};

static const struct option export_opts[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "allow-domains", required_argument, NULL, 'a' },
	{ "allow-file", required_argument, NULL, 'f' },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "namespace", required_argument, NULL, OPT_NAMESPACE },
	{ "selector", required_argument, NULL, OPT_SELECTOR },
	{ "dns-selector", required_argument, NULL, OPT_DNS_SELECTOR },
	/* Known, to be refused with the reason rather than as unknown. */
	{ "loopback", required_argument, NULL, OPT_LOOPBACK },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static void usage_policy(FILE *f)
{
	fprintf(f, "Usage: egressd policy export --format cilium [OPTIONS]\n"
		   "\n"
		   "Print the allowlist \"egressd run\" would enforce as another enforcer's policy.\n"
		   "Nothing is resolved or fetched.\n");
}

static void usage_export(void)
{
	printf("Usage: egressd policy export --format cilium [OPTIONS]\n"
	       "\n"
	       "Print the allowlist as one CiliumNetworkPolicy (cilium.io/v2) in YAML, so that\n"
	       "pods under Cilium get the allowlist sessions have under egressd run.  Entries\n"
	       "are read as egressd run reads them.  Nothing is resolved or fetched.  Where\n"
	       "Cilium cannot say exactly what egressd does, the policy allows less, says so\n"
	       "in a comment, and a WARNING line goes to stderr (see docs/cilium.md).\n"
	       "\n"
	       "      --format cilium        the only format (required)\n"
	       "  -a, --allow-domains LIST   entries separated by commas/whitespace; \"\" allows nothing\n"
	       "  -f, --allow-file FILE      one entry per line, '#' comments\n"
	       "      --name NAME            metadata.name (default %s)\n"
	       "      --namespace NS         metadata.namespace (default: none; kubectl -n decides)\n"
	       "      --selector KEY=VALUE   the pods it applies to (repeatable;\n"
	       "                             default %s=NAME)\n"
	       "      --dns-selector KEY=VALUE  the DNS server pods (repeatable; default\n"
	       "                             k8s:io.kubernetes.pod.namespace=kube-system,\n"
	       "                             k8s:k8s-app=kube-dns)\n",
	       EXPORT_DEFAULT_NAME, EXPORT_DEFAULT_SELECTOR_KEY);
}

static void warn_cb(void *ctx, const char *msg)
{
	(void)ctx;
	pr_warn("%s", msg);
}

static int add_label(const char *opt, const char *arg, struct export_label *l, size_t *n)
{
	char err[ERR_LEN];

	if (*n == EXPORT_MAX_LABELS) {
		pr_err("%s: more than %d labels", opt, EXPORT_MAX_LABELS);
		return -EINVAL;
	}
	if (export_label_parse(arg, &l[*n], err, sizeof(err))) {
		pr_err("%s: %s", opt, err);
		return -EINVAL;
	}
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp(l[i].key, l[*n].key)) {
			pr_err("%s: label key \"%s\" given twice", opt, l[*n].key);
			return -EINVAL;
		}
	}
	(*n)++;
	return 0;
}

/* Write all of s to stdout, or say why not. */
static int write_out(const char *s)
{
	size_t len = strlen(s);

	if (fwrite(s, 1, len, stdout) != len || fflush(stdout)) {
		pr_err("cannot write the policy to stdout: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

static int do_policy_export(int argc, char **argv)
{
	static struct export_label sel[EXPORT_MAX_LABELS], dns[EXPORT_MAX_LABELS];
	struct export_opts o = { .warn = warn_cb };
	char err[ERR_LEN], val[VAL_LEN];
	const char *format = NULL;
	bool have_list = false;
	struct policy p;
	char *yaml = NULL;
	int opt, status = EXIT_EGRESSD_FAILURE;

	policy_init(&p);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a:f:h", export_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_FORMAT:
			if (strcmp(optarg, "cilium")) {
				pr_err("--format: unknown format \"%s\" (the one format is cilium)",
				       text_quote(optarg, strlen(optarg), val, sizeof(val)));
				goto out;
			}
			format = optarg;
			break;
		case 'a':
			have_list = true;
			if (policy_add_list(&p, optarg, err, sizeof(err))) {
				pr_err("--allow-domains: %s", err);
				goto out;
			}
			break;
		case 'f':
			have_list = true;
			if (policy_add_file(&p, optarg, err, sizeof(err))) {
				pr_err("--allow-file: %s", err);
				goto out;
			}
			break;
		case OPT_NAME:
			if (export_name_validate(optarg, err, sizeof(err))) {
				pr_err("--name: %s", err);
				goto out;
			}
			o.name = optarg;
			break;
		case OPT_NAMESPACE:
			if (export_namespace_validate(optarg, err, sizeof(err))) {
				pr_err("--namespace: %s", err);
				goto out;
			}
			o.namespace = optarg;
			break;
		case OPT_SELECTOR:
			if (add_label("--selector", optarg, sel, &o.nselector))
				goto out;
			break;
		case OPT_DNS_SELECTOR:
			if (add_label("--dns-selector", optarg, dns, &o.ndns_selector))
				goto out;
			break;
		case OPT_LOOPBACK:
			pr_err("--loopback has no Cilium equivalent: a pod's loopback never meets Cilium's policy (see docs/cilium.md)");
			goto out;
		case 'h':
			usage_export();
			status = 0;
			goto out;
		case ':':
			pr_err("option %s needs a value", argv[optind - 1]);
			goto out;
		default:
			if (optopt)
				pr_err("unknown option -%c (see egressd policy export --help)", optopt);
			else
				pr_err("unknown option %s (see egressd policy export --help)",
				       text_quote(argv[optind - 1], strlen(argv[optind - 1]), val,
						  sizeof(val)));
			goto out;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument \"%s\" (see egressd policy export --help)",
		       text_quote(argv[optind], strlen(argv[optind]), val, sizeof(val)));
		goto out;
	}
	if (!format) {
		pr_err("missing --format (the one format is cilium: egressd policy export --format cilium ...)");
		goto out;
	}
	if (!have_list) {
		pr_err("no allowlist: give --allow-domains or --allow-file (--allow-domains \"\" exports a policy that allows nothing)");
		goto out;
	}
	o.selector = sel;
	o.dns_selector = dns;
	if (export_cilium(&p, &o, &yaml, err, sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	if (write_out(yaml))
		goto out;
	status = 0;
out:
	free(yaml);
	policy_free(&p);
	return status;
}

int do_policy(int argc, char **argv)
{
	char val[VAL_LEN];

	if (argc < 2) {
		usage_policy(stderr);
		pr_err("missing subcommand (egressd policy export ...)");
		return EXIT_EGRESSD_FAILURE;
	}
	if (!strcmp(argv[1], "export"))
		return do_policy_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage_policy(stdout);
		return 0;
	}
	pr_err("unknown policy subcommand \"%s\" (the one subcommand is export)",
	       text_quote(argv[1], strlen(argv[1]), val, sizeof(val)));
	return EXIT_EGRESSD_FAILURE;
}
