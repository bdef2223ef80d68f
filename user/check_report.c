// SPDX-License-Identifier: GPL-2.0-only
/*
 * egressd check's report: items, the text and JSON renderings, and the
 * small parsers of what the probes read (see check_report.h).  Pure.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "addr.h"
#include "check_report.h"

/* Cut a string that did not fit at size - 1 bytes, and mark it. */
static void mark_cut(char *buf, size_t size)
{
	if (size >= 4)
		memcpy(buf + size - 4, "...", 4);
}

int check_report_add(struct check_report *r, const char *id, enum check_status st,
		     const char *fix, const char *fmt, ...)
{
	struct check_item *it;
	va_list ap;
	int n;

	if (r->n == CHECK_MAX_ITEMS)
		return -ENOSPC;
	it = &r->items[r->n++];
	it->id = id;
	it->status = st;
	va_start(ap, fmt);
	n = vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
	if (n < 0)
		it->detail[0] = '\0';
	else if ((size_t)n >= sizeof(it->detail))
		mark_cut(it->detail, sizeof(it->detail));
	n = snprintf(it->fix, sizeof(it->fix), "%s", fix ? fix : "");
	if (n > 0 && (size_t)n >= sizeof(it->fix))
		mark_cut(it->fix, sizeof(it->fix));
	return 0;
}

size_t check_report_count(const struct check_report *r, enum check_status st)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->items[i].status == st;
	return n;
}

const char *check_status_name(enum check_status st)
{
	switch (st) {
	case CHECK_OK:
		return "ok";
	case CHECK_WARN:
		return "warn";
	case CHECK_FAIL:
		return "FAIL";
	}
	return "?";
}

void check_render_text(const struct check_report *r, FILE *f)
{
	size_t fails = check_report_count(r, CHECK_FAIL);
	size_t warns = check_report_count(r, CHECK_WARN);

	for (size_t i = 0; i < r->n; i++) {
		const struct check_item *it = &r->items[i];

		fprintf(f, "%-5s %-16s %s", check_status_name(it->status), it->id, it->detail);
		if (it->fix[0])
			fprintf(f, "; fix: %s", it->fix);
		fputc('\n', f);
	}
	if (fails)
		fprintf(f, "egressd cannot run here: %zu problem(s)\n", fails);
	else if (warns)
		fprintf(f, "egressd can run here (%zu warning(s) above)\n", warns);
	else
		fprintf(f, "egressd can run here\n");
}

int check_render_json(const struct check_report *r, FILE *f)
{
	size_t fails = check_report_count(r, CHECK_FAIL);
	struct json_object *root, *items;
	const char *s;
	int err = -ENOMEM;

	root = json_object_new_object();
	items = json_object_new_array();
	if (!root || !items)
		goto out;
	if (json_object_object_add(root, "ok", json_object_new_boolean(!fails)) ||
	    json_object_object_add(root, "problems", json_object_new_int64((int64_t)fails)) ||
	    json_object_object_add(root, "warnings",
				   json_object_new_int64((int64_t)check_report_count(r, CHECK_WARN))))
		goto out;
	for (size_t i = 0; i < r->n; i++) {
		const struct check_item *it = &r->items[i];
		struct json_object *o = json_object_new_object();

		if (!o || json_object_array_add(items, o)) {
			json_object_put(o);
			goto out;
		}
		/* json-c escapes quotes, backslashes and control bytes itself. */
		if (json_object_object_add(o, "item", json_object_new_string(it->id)) ||
		    json_object_object_add(o, "status",
					   json_object_new_string(check_status_name(it->status))) ||
		    json_object_object_add(o, "detail", json_object_new_string(it->detail)) ||
		    json_object_object_add(o, "fix",
					   it->fix[0] ? json_object_new_string(it->fix) : NULL))
			goto out;
	}
	if (json_object_object_add(root, "items", items)) {
		items = NULL;
		goto out;
	}
	items = NULL; /* root owns it now */
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		goto out;
	fprintf(f, "%s\n", s);
	err = 0;
out:
	json_object_put(items);
	json_object_put(root);
	return err;
}

int check_status_field(const char *status, const char *key, unsigned long *out)
{
	size_t klen = strlen(key);
	const char *p = status;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == ':') {
			const char *v = p + klen + 1;
			const char *end = p + len;

			while (v < end && (*v == '\t' || *v == ' '))
				v++;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			return decimal_parse(v, (size_t)(end - v), ULONG_MAX, out) ? -EINVAL : 0;
		}
		p = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

int check_kernel_version(const char *release, unsigned int *major, unsigned int *minor)
{
	unsigned long ma, mi;
	size_t n1, n2;

	n1 = strspn(release, "0123456789");
	if (!n1 || release[n1] != '.')
		return -EINVAL;
	n2 = strspn(release + n1 + 1, "0123456789");
	if (!n2)
		return -EINVAL;
	/* Leading zeros do not occur in releases; decimal_parse refuses them. */
	if (decimal_parse(release, n1, UINT_MAX, &ma) ||
	    decimal_parse(release + n1 + 1, n2, UINT_MAX, &mi))
		return -EINVAL;
	*major = (unsigned int)ma;
	*minor = (unsigned int)mi;
	return 0;
}

bool check_version_at_least(unsigned int major, unsigned int minor, unsigned int want_major,
			    unsigned int want_minor)
{
	return major > want_major || (major == want_major && minor >= want_minor);
}
