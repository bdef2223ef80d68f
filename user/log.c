// SPDX-License-Identifier: GPL-2.0-only
/*
 * pr_err/pr_warn/pr_info/pr_debug: one "egressd: " line each, to stderr, by level.
 * libbpf is hooked in by log_libbpf.c, so that what links log.o alone
 * (the unit tests) needs no libbpf.
 */
#include <stdio.h>

#include "log.h"

static enum log_level cur_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	/* Build the line first so concurrent writers never interleave mid-line. */
	char line[1024];
	int n = snprintf(line, sizeof(line), "egressd: %s", prefix);

	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

#define DEFINE_PR(fn, min_level, prefix)                    \
	void fn(const char *fmt, ...)                       \
	{                                                   \
		va_list ap;                                 \
		if (cur_level < (min_level))                \
			return;                             \
		va_start(ap, fmt);                          \
		vlog(prefix, fmt, ap);                      \
		va_end(ap);                                 \
	}

DEFINE_PR(pr_err, LOG_LEVEL_QUIET, "ERROR: ")
DEFINE_PR(pr_warn, LOG_LEVEL_QUIET, "WARNING: ")
DEFINE_PR(pr_info, LOG_LEVEL_INFO, "")
DEFINE_PR(pr_debug, LOG_LEVEL_DEBUG, "debug: ")
