/* SPDX-License-Identifier: GPL-2.0-only */
/* One place for output: every line is prefixed "egressd: " and goes to stderr. */
#ifndef EGRESSD_LOG_H
#define EGRESSD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_QUIET = 0, /* errors and warnings only (-q) */
	LOG_LEVEL_INFO,      /* default */
	LOG_LEVEL_DEBUG,     /* -v: also libbpf's debug output */
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* "egressd: ERROR: ..." -- what failed, on which value, and what to do. */
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "egressd: WARNING: ..." -- shown even with -q. */
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "egressd: ..." -- hidden by -q. */
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "egressd: debug: ..." -- only with -v. */
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Route libbpf's messages through the levels above. */
void log_setup_libbpf(void);

#endif
