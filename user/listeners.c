// SPDX-License-Identifier: GPL-2.0-only
/* Loopback-reachable listeners from /proc/net (see listeners.h). */
#include <stdlib.h>
#include <string.h>

#include "listeners.h"

/*
 * The kernel prints each 32-bit word of an address with %08X of its
 * in-memory value, so copying the parsed value back gives the bytes in
 * network order on any endianness.
 */
static int parse_addr(const char *hex, uint8_t *out, size_t *len)
{
	size_t n = strlen(hex);

	if (n != 8 && n != 32)
		return -1;
	for (size_t w = 0; w < n / 8; w++) {
		char word[9];
		uint32_t v;

		memcpy(word, hex + 8 * w, 8);
		word[8] = '\0';
		v = (uint32_t)strtoul(word, NULL, 16);
		memcpy(out + 4 * w, &v, 4);
	}
	*len = n / 2;
	return 0;
}

static bool reachable(const uint8_t *a, size_t len)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (len == 4)
		return a[0] == 127 || !memcmp(a, zero, 4);
	if (!memcmp(a, zero, 16))
		return true; /* :: */
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return true; /* ::1 */
	return !memcmp(a, mapped, 12) && (a[12] == 127 || !memcmp(a + 12, zero, 4));
}

int listeners_count(FILE *f, bool tcp, uint16_t except)
{
	char line[512];
	int n = 0;

	if (!fgets(line, sizeof(line), f)) /* header */
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char local[64], *colon;
		unsigned int port, st;
		uint8_t a[16];
		size_t len;

		if (sscanf(line, "%*s %63s %*s %x", local, &st) != 2)
			continue;
		colon = strchr(local, ':');
		if (!colon)
			continue;
		*colon = '\0';
		if (sscanf(colon + 1, "%x", &port) != 1 || parse_addr(local, a, &len))
			continue;
		if (st != (tcp ? 0x0a : 0x07) || port == except || !reachable(a, len))
			continue;
		n++;
	}
	return n;
}

int listeners_loopback(uint16_t except)
{
	static const struct {
		const char *path;
		bool tcp;
	} tables[] = {
		{ "/proc/net/tcp", true },
		{ "/proc/net/tcp6", true },
		{ "/proc/net/udp", false },
		{ "/proc/net/udp6", false },
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		FILE *f = fopen(tables[i].path, "re");

		if (!f)
			continue;
		n += listeners_count(f, tables[i].tcp, except);
		fclose(f);
	}
	return n;
}
