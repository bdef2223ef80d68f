// SPDX-License-Identifier: GPL-2.0-only
/* log_setup_libbpf(): libbpf's messages through log.h's levels and prefix. */
#include <stdio.h>
#include <bpf/libbpf.h>

#include "log.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_get_level() < LOG_LEVEL_DEBUG)
		return 0;
	if (level == LIBBPF_INFO && log_get_level() < LOG_LEVEL_DEBUG)
		return 0;
	fputs("egressd: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
