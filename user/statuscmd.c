// SPDX-License-Identifier: GPL-2.0-only
/*
 * egressd status [--cgroup PATH|self] [--format text|json] [--verify]:
 * what the egressd serving a cgroup enforces, as a summary or as its
 * JSON document; --verify is the silent check (exit 0, or one ERROR:
 * line and exit 1) that the cgroup is filtered, enforcing, with every
 * program the kernel says is attached.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "log.h"
#include "statusq.h"
#include "text.h"

/* Exit statuses: 0 fine, 1 failed (or --verify failed), 2 bad usage. */
#define STATUS_EXIT_FAIL 1
#define STATUS_EXIT_USAGE 2

static const struct option status_opts[] = {
	{ "cgroup", required_argument, NULL, 'c' },
	{ "format", required_argument, NULL, 'F' },
	{ "verify", no_argument, NULL, 'V' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

static void usage(void)
{
	printf("Usage: egressd status [--cgroup PATH|self] [--format text|json] [--verify]\n"
	       "\n"
	       "Ask the egressd filtering a cgroup what it enforces (root only).\n"
	       "\n"
	       "  -c, --cgroup PATH|self   the cgroup (default self: this process's own);\n"
	       "                           a path absolute or relative to the cgroup2 mount\n"
	       "      --format text|json   a summary (text), or the whole document (json)\n"
	       "      --verify             print nothing; exit 0 only if the cgroup is filtered:\n"
	       "                           enforcing, and every program attached (kernel-checked)\n"
	       "\n"
	       "Exit status: 0; 1 if no egressd serves the cgroup, it is not root, or --verify\n"
	       "fails (one ERROR: line says which check); 2 for bad options.\n"
	       "The socket directory is /run/egressd, or $EGRESSD_RUNTIME_DIR.\n");
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/*
 * A field (key NULL: o itself) as text quoted for the terminal, "" when
 * missing: the document is root's egressd's, but it quotes the workload.
 */
static const char *str(struct json_object *o, const char *key, char *buf, size_t len)
{
	struct json_object *v = key ? get(o, key) : o;
	const char *s;

	buf[0] = '\0';
	if (!v || json_object_is_type(v, json_type_null))
		return buf;
	s = json_object_get_string(v);
	return text_quote(s, strlen(s), buf, len);
}

/* An array element or other value as text; "" for none. */
static const char *sval(struct json_object *v)
{
	const char *s = v ? json_object_get_string(v) : NULL;

	return s ? s : "";
}

static long long num(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v ? (long long)json_object_get_int64(v) : 0;
}

static size_t alen(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static void print_text(struct json_object *d)
{
	char b1[TEXT_QUOTE_SIZE(256)], b2[TEXT_QUOTE_SIZE(256)], b3[TEXT_QUOTE_SIZE(256)];
	struct json_object *a, *v, *u = get(d, "session_user"), *dns = get(d, "dns");
	time_t started = (time_t)num(d, "started");
	long long ago = num(d, "time") - num(d, "started");
	char when[64] = "?";
	struct tm tm;
	size_t n;

	if (gmtime_r(&started, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("egressd %s, pid %lld, started %s (%llds ago)\n", str(d, "version", b1, sizeof(b1)),
	       num(d, "pid"), when, ago < 0 ? 0 : ago);
	printf("cgroup:    %s (id %s)\n", str(d, "cgroup", b1, sizeof(b1)), sval(get(d, "cgroup_id")));
	printf("mode:      %s\n", str(d, "mode", b1, sizeof(b1)));
	printf("user:      %s (uid %lld, gid %lld)\n",
	       *str(u, "name", b1, sizeof(b1)) ? b1 : "-", num(u, "uid"), num(u, "gid"));
	a = get(d, "programs");
	printf("programs:  %zu attached\n", alen(a));
	for (size_t i = 0; i < alen(a); i++) {
		v = json_object_array_get_idx(a, i);
		printf("  %-22s id %-6lld %s\n", str(v, "name", b1, sizeof(b1)), num(v, "id"),
		       str(v, "attach_type", b2, sizeof(b2)));
	}
	if (json_object_get_boolean(get(dns, "proxy")))
		printf("dns:       egressd's proxy on port %lld; names not allowed get %s\n",
		       num(dns, "port"), str(dns, "deny_rcode", b1, sizeof(b1)));
	else
		printf("dns:       straight to the upstreams (--no-dns-proxy: names unfiltered)\n");
	a = get(dns, "upstreams");
	for (size_t i = 0; i < alen(a); i++)
		printf("  upstream %s\n", str(json_object_array_get_idx(a, i), NULL, b1, sizeof(b1)));
	printf("loopback:  %s\n", str(d, "loopback", b1, sizeof(b1)));
	a = get(d, "static");
	printf("static:    %zu prefix(es)\n", alen(a));
	for (size_t i = 0; i < alen(a); i++) {
		v = json_object_array_get_idx(a, i);
		str(v, "name", b3, sizeof(b3));
		printf("  %-40s ports %s%s%s%s\n", str(v, "prefix", b1, sizeof(b1)),
		       str(v, "ports", b2, sizeof(b2)), b3[0] ? " (" : "", b3, b3[0] ? ")" : "");
	}
	a = get(d, "names");
	printf("names:     %zu\n", alen(a));
	for (size_t i = 0; i < alen(a); i++) {
		printf("  %s\n", str(json_object_array_get_idx(a, i), NULL, b1, sizeof(b1)));
	}
	a = get(d, "learned");
	printf("learned:   %lld address(es)%s\n", num(d, "learned_total"),
	       json_object_get_boolean(get(d, "learned_truncated")) ? " (list truncated)" : "");
	for (size_t i = 0; i < alen(a); i++) {
		struct json_object *names;
		char nm[TEXT_QUOTE_SIZE(256)] = "";
		size_t o = 0;

		v = json_object_array_get_idx(a, i);
		names = get(v, "names");
		for (size_t k = 0; k < alen(names) && o < sizeof(nm); k++) {
			o += (size_t)snprintf(nm + o, sizeof(nm) - o, "%s%s", k ? ", " : "",
					      str(json_object_array_get_idx(names, k), NULL, b3,
						  sizeof(b3)));
		}
		printf("  %-40s (%s) ports %s, expires in %llds\n", str(v, "address", b1, sizeof(b1)),
		       nm, str(v, "ports", b2, sizeof(b2)), num(v, "expires_in_s"));
	}
	printf("counters:  (non-zero; packets for the packet hook, calls for the socket hooks)\n");
	n = 0;
	v = get(d, "counters");
	if (!v || !json_object_is_type(v, json_type_object))
		v = NULL;
	for (struct json_object_iterator it = json_object_iter_begin(v), end = json_object_iter_end(v);
	     v && !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *reason = json_object_iter_peek_name(&it);
		struct json_object *c = json_object_iter_peek_value(&it);

		if (!num(c, "packets"))
			continue;
		n++;
		printf("  %-8s %-50s %10lld\n", str(c, "verdict", b1, sizeof(b1)),
		       text_quote(reason, strlen(reason), b2, sizeof(b2)), num(c, "packets"));
	}
	if (!n)
		printf("  none\n");
	/* What failed closed: each a count, shown only when non-zero. */
	printf("faults:   ");
	n = 0;
	v = get(d, "faults");
	if (!v || !json_object_is_type(v, json_type_object))
		v = NULL;
	for (struct json_object_iterator it = json_object_iter_begin(v), end = json_object_iter_end(v);
	     v && !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		long long c = json_object_get_int64(json_object_iter_peek_value(&it));

		if (!c)
			continue;
		printf("%s %s=%lld", n++ ? "," : "", text_quote(k, strlen(k), b1, sizeof(b1)), c);
	}
	printf("%s\n", n ? "" : " none");
	a = get(d, "recent_denials");
	printf("recent denials: %zu\n", alen(a));
	for (size_t i = 0; i < alen(a); i++) {
		char dst[2 * TEXT_QUOTE_SIZE(256) + 32], hook[TEXT_QUOTE_SIZE(16)];
		time_t t;

		v = json_object_array_get_idx(a, i);
		t = (time_t)num(v, "time");
		strcpy(when, "?");
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
		str(v, "destination", b1, sizeof(b1));
		str(v, "hook", hook, sizeof(hook));
		if (strcmp(hook, "dns") == 0)
			snprintf(dst, sizeof(dst), "DNS %s %s", b1, str(v, "proto", b2, sizeof(b2)));
		else if (num(v, "port"))
			snprintf(dst, sizeof(dst), strchr(b1, ':') ? "[%s]:%lld/%s" : "%s:%lld/%s", b1,
				 num(v, "port"), str(v, "proto", b2, sizeof(b2)));
		else
			snprintf(dst, sizeof(dst), "%s%s%s", b1, *str(v, "proto", b2, sizeof(b2)) ? "/" : "", b2);
		str(v, "name", b3, sizeof(b3));
		printf("  %s %s%s[%lld] -> %s%s%s%s: %s (%s)\n", when,
		       json_object_get_boolean(get(v, "audit")) ? "(audit) " : "",
		       str(v, "comm", b2, sizeof(b2)), num(v, "pid"), dst, b3[0] ? " (" : "", b3,
		       b3[0] ? ")" : "", str(v, "reason", b1, sizeof(b1)), hook);
	}
}

int do_status(int argc, char **argv)
{
	const char *cgroup = NULL, *format = "text";
	char dir[PATH_MAX], err[PATH_MAX + 512], ex[CLI_EXCERPT_SIZE];
	struct json_object *doc = NULL;
	bool verify = false;
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:c:vh", status_opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (!*optarg) {
				pr_err("--cgroup: empty path (use a cgroup directory, or 'self')");
				return STATUS_EXIT_USAGE;
			}
			cgroup = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				pr_err("--format: unknown format \"%s\" (use text or json)",
				       cli_excerpt(optarg, strlen(optarg), ex, sizeof(ex)));
				return STATUS_EXIT_USAGE;
			}
			format = optarg;
			break;
		case 'V':
			verify = true;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage();
			return 0;
		case ':':
			pr_err("option %s needs a value", argv[optind - 1]);
			return STATUS_EXIT_USAGE;
		default:
			if (optopt)
				pr_err("unknown option -%c (see egressd status --help)", optopt);
			else
				pr_err("unknown option %s (see egressd status --help)", argv[optind - 1]);
			return STATUS_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument \"%s\" (usage: egressd status [--cgroup PATH|self] [--format text|json] [--verify])",
		       cli_excerpt(argv[optind], strlen(argv[optind]), ex, sizeof(ex)));
		return STATUS_EXIT_USAGE;
	}
	ret = statusq_cgroup_dir(cgroup, dir, sizeof(dir), err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return STATUS_EXIT_FAIL;
	}
	ret = statusq_fetch(dir, &doc, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return STATUS_EXIT_FAIL;
	}
	if (verify) {
		ret = statusq_verify(dir, doc, err, sizeof(err));
		if (ret)
			pr_err("%s", err);
		json_object_put(doc);
		return ret ? STATUS_EXIT_FAIL : 0;
	}
	if (strcmp(format, "json") == 0)
		printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
									JSON_C_TO_STRING_SPACED |
									JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_text(doc);
	json_object_put(doc);
	return 0;
}
