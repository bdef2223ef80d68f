/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every fuzz target shares: libFuzzer's entry point and a check that
 * turns a broken invariant into a crash libFuzzer reports and keeps.
 */
#ifndef EGRESSD_FUZZ_H
#define EGRESSD_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sanitizer/common_interface_defs.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Say why, then crash.  Through the sanitizers' report channel too: with
 * -close_fd_mask (fuzz/run.sh) the target's own stderr is closed.
 */
static inline void __attribute__((noreturn)) fuzz_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void fuzz_fail(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", msg);
	__sanitizer_report_error_summary(msg);
	abort();
}

#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond))                                                          \
			fuzz_fail("fuzz: %s:%d: invariant broken: %s", __FILE__,     \
				  __LINE__, #cond);                                   \
	} while (0)

/*
 * text.h's promise: a hostile value can neither forge a line nor drive a
 * terminal.  So every error message about one is printable ASCII.
 */
#define FUZZ_CHECK_MSG(msg)                                                           \
	do {                                                                          \
		for (const unsigned char *_m = (const unsigned char *)(msg); *_m; _m++) \
			if (*_m < 0x20 || *_m >= 0x7f)                                \
				fuzz_fail("fuzz: %s:%d: raw byte 0x%02x in a message", \
					  __FILE__, __LINE__, *_m);                   \
	} while (0)

/* data[0..size) as a NUL-terminated string, cut at its first NUL; free() it. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

#endif
