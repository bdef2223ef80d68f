// SPDX-License-Identifier: GPL-2.0-only
/*
 * pktsock: try to open the sockets that bypass every cgroup hook (packet
 * sockets see and send raw frames; a raw IP socket with IP_HDRINCL writes
 * its own headers).  For the container tests: a session must get EPERM.
 *
 * One line per socket, "KIND: ok" or "KIND: ERRNO".  Exit 0 = every one
 * was refused, 1 = at least one opened.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <netinet/in.h>

#include "helper_util.h"

#ifndef AF_PACKET
#define AF_PACKET 17
#endif

int main(void)
{
	static const struct {
		const char *name;
		int family, type, proto;
	} kinds[] = {
		{ "packet raw", AF_PACKET, SOCK_RAW, ETH_P_ALL },
		{ "packet dgram", AF_PACKET, SOCK_DGRAM, ETH_P_IP },
		{ "inet raw", AF_INET, SOCK_RAW, IPPROTO_RAW },
		{ "inet6 raw", AF_INET6, SOCK_RAW, IPPROTO_RAW },
	};
	int opened = 0;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int proto = kinds[i].family == AF_PACKET ? htons(kinds[i].proto) : kinds[i].proto;
		int fd = socket(kinds[i].family, kinds[i].type, proto);

		if (fd < 0) {
			printf("%s: %s\n", kinds[i].name, errname(errno));
			continue;
		}
		printf("%s: ok\n", kinds[i].name);
		opened++;
		close(fd);
	}
	return opened ? 1 : 0;
}
