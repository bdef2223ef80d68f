// SPDX-License-Identifier: GPL-2.0-only
/* "egressd run" options: parsed and checked here, acted on by user/run. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "identity.h"
#include "log.h"

/* The --user name is kept in struct identity. */
#define USER_NAME_MAX (sizeof(((struct identity *)0)->name) - 1)

enum {
	OPT_RESOLVER = 256,
	OPT_AUDIT,
	OPT_STATS,
	OPT_LOG_FORMAT,
	OPT_LOG_FILE,
	OPT_GITHUB_META_URL,
	OPT_CA_FILE,
	OPT_NO_DNS_PROXY,
	OPT_DNS_DENY_RCODE,
	OPT_MIN_TTL,
	OPT_MAX_TTL,
	OPT_MAX_IPS_PER_NAME,
	OPT_ALLOW_PRIVATE_ANSWERS,
	OPT_LOOPBACK,
};

static const struct option run_opts[] = {
	{ "allow-domains", required_argument, NULL, 'a' },
	{ "allow-file", required_argument, NULL, 'f' },
	{ "resolver", required_argument, NULL, OPT_RESOLVER },
	{ "user", required_argument, NULL, 'u' },
	{ "cgroup", required_argument, NULL, 'c' },
	{ "audit", no_argument, NULL, OPT_AUDIT },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "github-meta-url", required_argument, NULL, OPT_GITHUB_META_URL },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "no-dns-proxy", no_argument, NULL, OPT_NO_DNS_PROXY },
	{ "dns-deny-rcode", required_argument, NULL, OPT_DNS_DENY_RCODE },
	{ "min-ttl", required_argument, NULL, OPT_MIN_TTL },
	{ "max-ttl", required_argument, NULL, OPT_MAX_TTL },
	{ "max-ips-per-name", required_argument, NULL, OPT_MAX_IPS_PER_NAME },
	{ "allow-private-answers", no_argument, NULL, OPT_ALLOW_PRIVATE_ANSWERS },
	{ "loopback", required_argument, NULL, OPT_LOOPBACK },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

void cli_usage_run(void)
{
	printf("Usage: egressd run [OPTIONS] -- COMMAND [ARG...]\n"
	       "\n"
	       "Run COMMAND with its egress limited to an allowlist, enforced by eBPF.\n"
	       "Without --allow-domains or --allow-file, isolation is OFF (with a warning).\n"
	       "\n"
	       "  -a, --allow-domains LIST   entries separated by commas/whitespace; \"\" allows nothing\n"
	       "  -f, --allow-file FILE      one entry per line, '#' comments\n"
	       "      --resolver ADDR[:PORT] the only DNS server the command may use (repeatable;\n"
	       "                             default: nameservers in /etc/resolv.conf)\n"
	       "  -u, --user USER            run COMMAND as USER (default: $SUDO_UID, else caller;\n"
	       "                             uid 0 only with an explicit --user root)\n"
	       "  -c, --cgroup PATH|self     filter this cgroup instead of a fresh child cgroup\n"
	       "      --audit                enforce nothing; report what would be blocked\n"
	       "      --stats                print counters at exit\n"
	       "      --log-format text|json deny events as text lines or JSON Lines\n"
	       "      --log-file FILE        write deny events to FILE instead of stderr\n"
	       "      --github-meta-url URL  where to fetch GitHub's ranges (default api.github.com/meta)\n"
	       "      --ca-file FILE         CA bundle for that fetch\n"
	       "      --no-dns-proxy         DNS goes straight to the resolvers (no name filtering,\n"
	       "                             addresses fixed at start)\n"
	       "      --dns-deny-rcode refused|nxdomain  answer to a name not allowed (refused)\n"
	       "      --min-ttl SEC / --max-ttl SEC      bounds on how long a learned address\n"
	       "                             stays allowed (60 / 86400)\n"
	       "      --max-ips-per-name N   learned addresses kept per name (64; oldest go)\n"
	       "      --allow-private-answers  learn private and metadata answers too\n"
	       "      --loopback all|none|PORT,...  what the command may reach on loopback\n"
	       "                             (all; none: only egressd's DNS proxy)\n"
	       "  -v, --verbose              debug output, including libbpf's\n"
	       "  -q, --quiet                only errors and warnings\n"
	       "\n"
	       "Entries: 198.51.100.7  198.51.100.0/24  198.51.100.7:443  2001:db8::/32\n"
	       "         [2001:db8::1]:443  example.com  example.com:443  *.example.com\n"
	       "\n"
	       "Exit status: COMMAND's; 125 if egressd fails, 126 if COMMAND cannot run, 127 if not found;\n"
	       "125 also when COMMAND exits 0 but deny events could not be written to --log-file.\n");
}

const char *cli_excerpt(const char *s, size_t len, char *buf, size_t size)
{
	size_t keep;

	if (len < size || size < 8) {
		snprintf(buf, size, "%.*s", (int)len, s);
		return buf;
	}
	keep = (size - 4) / 2; /* "..." and the NUL */
	snprintf(buf, size, "%.*s...%.*s", (int)keep, s, (int)keep, s + len - keep);
	return buf;
}

/*
 * Refuse a value that cannot work before anything uses it: a path the
 * kernel would reject (ENAMETOOLONG), or a value longer than the buffer it
 * lands in.  Found later, such a value failed with no message at all
 * (--cgroup) or with one cut off before the reason.
 */
static int check_len(const char *opt, const char *what, const char *val, size_t max,
		     const char *limit)
{
	char ex[CLI_EXCERPT_SIZE];
	size_t len = strlen(val);

	if (len <= max)
		return 0;
	pr_err("%s: %s \"%s\" is %zu characters long; the limit is %zu%s", opt, what,
	       cli_excerpt(val, len, ex, sizeof(ex)), len, max, limit);
	return -ENAMETOOLONG;
}

static int check_path(const char *opt, const char *path)
{
	char ex[CLI_EXCERPT_SIZE];
	const char *p = path;
	int ret;

	ret = check_len(opt, "the path", path, CLI_PATH_MAX, " (PATH_MAX)");
	if (ret)
		return ret;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n > NAME_MAX) {
			pr_err("%s: the path component \"%s\" is %zu characters long; the limit is %d (NAME_MAX)",
			       opt, cli_excerpt(p, n, ex, sizeof(ex)), n, NAME_MAX);
			return -ENAMETOOLONG;
		}
		p += n;
		p += strspn(p, "/");
	}
	return 0;
}

static int add_resolver(struct run_config *c, const char *arg)
{
	char err[256];

	if (c->nresolvers == MAX_RESOLVERS) {
		pr_err("too many --resolver options (at most %d)", MAX_RESOLVERS);
		return -EINVAL;
	}
	if (resolver_parse(arg, &c->resolvers[c->nresolvers], err, sizeof(err))) {
		pr_err("--resolver: %s", err);
		return -EINVAL;
	}
	c->nresolvers++;
	return 0;
}

/* A whole decimal number in [min, max] for option name. */
static int number_arg(const char *name, const char *arg, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	char buf[CLI_EXCERPT_SIZE];

	if (decimal_parse(arg, strlen(arg), max, out) || *out < min) {
		pr_err("%s: \"%s\" is not a whole number from %lu to %lu", name,
		       cli_excerpt(arg, strlen(arg), buf, sizeof(buf)), min, max);
		return -EINVAL;
	}
	return 0;
}

/* --loopback all|none|PORT[,PORT...] */
static int loopback_arg(const char *arg, struct run_config *c)
{
	char buf[CLI_EXCERPT_SIZE];
	const char *p = arg;

	if (strcmp(arg, "all") == 0) {
		c->loopback_restricted = false;
		c->nloopback_ports = 0;
		return 0;
	}
	c->loopback_restricted = true;
	c->nloopback_ports = 0;
	if (strcmp(arg, "none") == 0)
		return 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		unsigned long port;

		if (!n || decimal_parse(p, n, 65535, &port) || port == 0) {
			pr_err("--loopback: \"%s\" is not all, none or a list of ports 1-65535 (\"8080,5432\")",
			       cli_excerpt(arg, strlen(arg), buf, sizeof(buf)));
			return -EINVAL;
		}
		if (c->nloopback_ports == EGRESS_MAX_LOOPBACK_PORTS) {
			pr_err("--loopback: more than %d ports", EGRESS_MAX_LOOPBACK_PORTS);
			return -EINVAL;
		}
		c->loopback_ports[c->nloopback_ports++] = (unsigned short)port;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int cli_parse_run(int argc, char **argv, struct run_config *c)
{
	unsigned long num;
	char err[512];
	int opt, dashdash = 0;

	memset(c, 0, sizeof(*c));
	policy_init(&c->policy);
	c->dns_proxy = true;
	c->dns_deny_rcode = 5; /* REFUSED */
	c->min_ttl = 60;
	c->max_ttl = 86400;
	c->max_ips_per_name = 64;

	/* getopt_long permutes; "+" stops at the first non-option instead. */
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+a:f:u:c:vqh", run_opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			c->isolation = true;
			if (policy_add_list(&c->policy, optarg, err, sizeof(err))) {
				pr_err("--allow-domains: %s", err);
				return -EINVAL;
			}
			break;
		case 'f':
			c->isolation = true;
			if (check_path("--allow-file", optarg))
				return -ENAMETOOLONG;
			if (policy_add_file(&c->policy, optarg, err, sizeof(err))) {
				pr_err("--allow-file: %s", err);
				return -EINVAL;
			}
			break;
		case OPT_RESOLVER:
			if (add_resolver(c, optarg))
				return -EINVAL;
			break;
		case 'u':
			if (!*optarg) {
				pr_err("--user: empty user name");
				return -EINVAL;
			}
			if (check_len("--user", "the user name", optarg, USER_NAME_MAX, ""))
				return -ENAMETOOLONG;
			c->user = optarg;
			break;
		case 'c':
			if (!*optarg) {
				pr_err("--cgroup: empty path (use a cgroup directory, or 'self')");
				return -EINVAL;
			}
			if (strcmp(optarg, "self") == 0) {
				c->cgroup_mode = CGROUP_MODE_SELF;
			} else {
				if (check_path("--cgroup", optarg))
					return -ENAMETOOLONG;
				c->cgroup_mode = CGROUP_MODE_PATH;
				c->cgroup_path = optarg;
			}
			break;
		case OPT_AUDIT:
			c->audit = true;
			break;
		case OPT_STATS:
			c->stats = true;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "text") == 0) {
				c->log_format = LOG_FORMAT_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				c->log_format = LOG_FORMAT_JSON;
			} else {
				char ex[CLI_EXCERPT_SIZE];

				pr_err("--log-format: unknown format \"%s\" (use text or json)",
				       cli_excerpt(optarg, strlen(optarg), ex, sizeof(ex)));
				return -EINVAL;
			}
			break;
		case OPT_LOG_FILE:
			if (!*optarg) {
				pr_err("--log-file: empty file name");
				return -EINVAL;
			}
			if (check_path("--log-file", optarg))
				return -ENAMETOOLONG;
			c->log_file = optarg;
			break;
		case OPT_GITHUB_META_URL:
			if (check_len("--github-meta-url", "the URL", optarg, CLI_URL_MAX, ""))
				return -ENAMETOOLONG;
			if (strncmp(optarg, "https://", 8) != 0) {
				pr_err("--github-meta-url: \"%s\" is not an https:// URL", optarg);
				return -EINVAL;
			}
			c->github_meta_url = optarg;
			break;
		case OPT_CA_FILE:
			if (!*optarg) {
				pr_err("--ca-file: empty file name");
				return -EINVAL;
			}
			if (check_path("--ca-file", optarg))
				return -ENAMETOOLONG;
			c->ca_file = optarg;
			break;
		case OPT_NO_DNS_PROXY:
			c->dns_proxy = false;
			break;
		case OPT_DNS_DENY_RCODE:
			if (strcmp(optarg, "refused") == 0) {
				c->dns_deny_rcode = 5;
			} else if (strcmp(optarg, "nxdomain") == 0) {
				c->dns_deny_rcode = 3;
			} else {
				char buf[CLI_EXCERPT_SIZE];

				pr_err("--dns-deny-rcode: \"%s\" is neither refused nor nxdomain",
				       cli_excerpt(optarg, strlen(optarg), buf, sizeof(buf)));
				return -EINVAL;
			}
			break;
		case OPT_MIN_TTL:
			if (number_arg("--min-ttl", optarg, 0, 86400 * 7, &num))
				return -EINVAL;
			c->min_ttl = (unsigned int)num;
			break;
		case OPT_MAX_TTL:
			if (number_arg("--max-ttl", optarg, 1, 86400 * 7, &num))
				return -EINVAL;
			c->max_ttl = (unsigned int)num;
			break;
		case OPT_MAX_IPS_PER_NAME:
			if (number_arg("--max-ips-per-name", optarg, 1, 4096, &num))
				return -EINVAL;
			c->max_ips_per_name = (unsigned int)num;
			break;
		case OPT_ALLOW_PRIVATE_ANSWERS:
			c->allow_private_answers = true;
			break;
		case OPT_LOOPBACK:
			if (loopback_arg(optarg, c))
				return -EINVAL;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'q':
			log_set_level(LOG_LEVEL_QUIET);
			break;
		case 'h':
			cli_usage_run();
			return 1;
		case ':':
			pr_err("option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt)
				pr_err("unknown option -%c (see egressd run --help)", optopt);
			else
				pr_err("unknown option %s (see egressd run --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}

	/* Demand "--": without it a typo'd option would become the command. */
	if (optind > 1 && strcmp(argv[optind - 1], "--") == 0)
		dashdash = 1;
	if (!dashdash) {
		if (optind < argc)
			pr_err("missing \"--\" before the command \"%s\" (usage: egressd run [OPTIONS] -- COMMAND)",
			       argv[optind]);
		else
			pr_err("missing \"-- COMMAND\" (usage: egressd run [OPTIONS] -- COMMAND)");
		return -EINVAL;
	}
	if (optind >= argc) {
		pr_err("no command after \"--\"");
		return -EINVAL;
	}
	if (c->min_ttl > c->max_ttl) {
		pr_err("--min-ttl %u is above --max-ttl %u", c->min_ttl, c->max_ttl);
		return -EINVAL;
	}
	c->argv = &argv[optind];
	return 0;
}

void cli_free(struct run_config *c)
{
	policy_free(&c->policy);
}
