// SPDX-License-Identifier: GPL-2.0-only
/*
 * The /proc/net parser behind the --loopback all warning: which entries
 * count as a service the command can reach on loopback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "listeners.h"

static int count(const char *text, bool tcp, uint16_t except)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int n;

	assert_non_null(f);
	n = listeners_count(f, tcp, except);
	fclose(f);
	return n;
}

/* Addresses as a little-endian kernel prints them. */
static const char tcp4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1\n" /* 127.0.0.1:8080 listen */
	"   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2\n" /* 0.0.0.0:22 listen */
	"   2: 0264A8C6:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3\n" /* 198.51.100.2:80 */
	"   3: 0100007F:1F91 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 4\n" /* established */
	"   4: 0100007F:8B26 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n"; /* the proxy's port 35622 */

static const char tcp6[] =
	"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 6\n" /* [::1]:8080 */
	"   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7\n" /* [::]:80 */
	"   2: 0000000000000000FFFF00000100007F:0051 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8\n" /* ::ffff:127.0.0.1:81 */
	"   3: B80D0120000000000000000002000000:0052 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9\n"; /* 2001:db8::2:82 */

static const char udp4[] =
	"   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	"  1: 0100007F:0007 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 10 2 0 0\n" /* 127.0.0.1:7 */
	"  2: 0100007F:E0A5 0100007F:0035 01 00000000:00000000 00:00000000 00000000  1000        0 11 2 0 0\n"; /* connected client */

static void test_tcp4(void **state)
{
	(void)state;
	/* 127.0.0.1:8080 and 0.0.0.0:22; not the public address, not established, not the proxy */
	assert_int_equal(count(tcp4, true, 35622), 2);
	assert_int_equal(count(tcp4, true, 0), 3);
}

static void test_tcp6(void **state)
{
	(void)state;
	assert_int_equal(count(tcp6, true, 0), 3); /* ::1, ::, ::ffff:127.0.0.1 */
}

static void test_udp(void **state)
{
	(void)state;
	assert_int_equal(count(udp4, false, 0), 1);
	/* TCP's listen state means nothing in a UDP table. */
	assert_int_equal(count(udp4, true, 0), 0);
}

static void test_garbage(void **state)
{
	(void)state;
	assert_int_equal(count("", true, 0), 0);
	assert_int_equal(count("header\nnot a line\n  0: zz:yy 0 0A\n", true, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_tcp6),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests_name("listeners", tests, NULL, NULL);
}
