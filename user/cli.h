/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The command line of "egressd run": parsed and checked into a run_config.
 * Not pure: -v/-q set the log level as they are parsed, --allow-file reads
 * the file into the policy, and errors are printed (pr_err).
 */
#ifndef EGRESSD_CLI_H
#define EGRESSD_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy.h"
#include "resolvconf.h"

enum cgroup_mode {
	CGROUP_MODE_NEW = 0, /* a fresh child of egressd's own cgroup */
	CGROUP_MODE_PATH,    /* --cgroup PATH */
	CGROUP_MODE_SELF,    /* --cgroup self: egressd's own cgroup */
};

enum log_format {
	LOG_FORMAT_TEXT = 0,
	LOG_FORMAT_JSON,
};

struct run_config {
	bool isolation; /* any --allow-domains / --allow-file given */
	struct policy policy;
	struct resolver resolvers[MAX_RESOLVERS];
	size_t nresolvers; /* from --resolver; 0: use resolv.conf */
	const char *user;  /* --user, or NULL */
	enum cgroup_mode cgroup_mode;
	const char *cgroup_path;
	bool audit;
	bool stats;
	enum log_format log_format;
	const char *log_file;
	const char *github_meta_url;
	const char *ca_file;
	/* The DNS proxy (proxy.h); --no-dns-proxy keeps DNS to the resolvers. */
	bool dns_proxy;
	int dns_deny_rcode;         /* --dns-deny-rcode: 5 REFUSED, 3 NXDOMAIN */
	unsigned int min_ttl;       /* --min-ttl seconds (60) */
	unsigned int max_ttl;       /* --max-ttl seconds (86400) */
	unsigned int max_ips_per_name; /* --max-ips-per-name (64) */
	bool allow_private_answers; /* --allow-private-answers */
	/* --loopback: all (false), or none / only these ports (true). */
	bool loopback_restricted;
	unsigned short loopback_ports[EGRESS_MAX_LOOPBACK_PORTS];
	size_t nloopback_ports;
	char **argv; /* the command, NULL-terminated */
};

/* Longest file path an option takes: PATH_MAX counts the final NUL. */
#define CLI_PATH_MAX (PATH_MAX - 1)
/*
 * Longest --github-meta-url: a 253-character host name and a path fit,
 * and every message quoting the URL stays whole.
 */
#define CLI_URL_MAX 400
/* Room cli_excerpt() needs: 30 characters, "...", 30 characters, NUL. */
#define CLI_EXCERPT_SIZE 64

/*
 * Prints "ERROR: ..." naming the bad value; -EINVAL, or -ENAMETOOLONG for
 * a value longer than its limit (the message names both).  1 for --help.
 */
int cli_parse_run(int argc, char **argv, struct run_config *c);
void cli_free(struct run_config *c);
void cli_usage_run(void);

/*
 * The first len characters of s, for a message: whole when they fit in
 * buf, else head and tail around "..." so that a 5,000-character value
 * cannot crowd the reason out of the line.  Returns buf.  Pure.
 */
const char *cli_excerpt(const char *s, size_t len, char *buf, size_t size);

#endif
