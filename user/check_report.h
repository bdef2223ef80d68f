/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * egressd check, the pure half: the report (one item per line, ok / warn /
 * FAIL, with its fix), its text and JSON renderings, and the parsers of
 * what the probes read (/proc/self/status fields, a kernel release).
 * Nothing here touches the system; check.c does the probing.
 */
#ifndef EGRESSD_CHECK_REPORT_H
#define EGRESSD_CHECK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum check_status {
	CHECK_OK = 0,
	CHECK_WARN,
	CHECK_FAIL,
};

/* Room for a line's detail and fix; longer text is cut with "...". */
#define CHECK_TEXT_MAX 640
#define CHECK_MAX_ITEMS 32

struct check_item {
	const char *id; /* a stable short id (static storage), e.g. "kernel" */
	enum check_status status;
	char detail[CHECK_TEXT_MAX];
	char fix[CHECK_TEXT_MAX]; /* "" when there is none */
};

struct check_report {
	struct check_item items[CHECK_MAX_ITEMS];
	size_t n;
};

/*
 * Append an item; fix may be NULL.  detail is a format: any outside data
 * in it must already be escaped (text_quote()).  -ENOSPC when full.
 */
int check_report_add(struct check_report *r, const char *id, enum check_status st,
		     const char *fix, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* How many items have this status. */
size_t check_report_count(const struct check_report *r, enum check_status st);

/* "ok", "warn", "FAIL". */
const char *check_status_name(enum check_status st);

/*
 * One line per item, "STATUS  ID  DETAIL[; fix: FIX]", then the summary
 * line: "egressd can run here" or "egressd cannot run here: N problem(s)".
 */
void check_render_text(const struct check_report *r, FILE *f);

/*
 * The same content as one JSON object and a newline:
 * {"ok":B,"problems":N,"warnings":N,"items":[{"item":ID,"status":S,
 * "detail":D,"fix":F|null},...]}.  0 or -ENOMEM.
 */
int check_render_json(const struct check_report *r, FILE *f);

/*
 * The decimal value of "KEY:\tVALUE" in /proc/PID/status text (key without
 * the colon).  0, -ENOENT when there is no such line, -EINVAL when its
 * value is not a whole decimal number.
 */
int check_status_field(const char *status, const char *key, unsigned long *out);

/*
 * "6.18.44-fc-v769" -> 6, 18.  0 or -EINVAL (no "MAJOR.MINOR" at the start).
 */
int check_kernel_version(const char *release, unsigned int *major, unsigned int *minor);

/* Is major.minor at least want_major.want_minor? */
bool check_version_at_least(unsigned int major, unsigned int minor, unsigned int want_major,
			    unsigned int want_minor);

#endif
