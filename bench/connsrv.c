// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/connsrv.c: the accept/echo/close server behind bench's "new TCP
 * connections per second" metric (its client is bench/connrate.c).
 *
 *   connsrv ADDR PORT SECONDS
 *
 * Accepts on ADDR:PORT, reads one byte from each connection, writes it
 * back and closes first, so TIME_WAIT lands here and not on the client's
 * ports.  Exits by itself after SECONDS (a bench never leaves it behind),
 * or on SIGTERM.  Prints "ready" once listening.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "benchutil.h"

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	long port, secs;
	int one = 1, fd;
	double end;

	if (argc != 4) {
		fprintf(stderr, "usage: connsrv ADDR PORT SECONDS\n");
		return 2;
	}
	if (bench_parse_long(argv[2], 1, 65535, &port) ||
	    bench_parse_long(argv[3], 1, 86400, &secs)) {
		fprintf(stderr, "connsrv: bad PORT '%s' or SECONDS '%s'\n", argv[2], argv[3]);
		return 2;
	}
	if (bench_sockaddr(argv[1], (int)port, &ss, &sslen)) {
		fprintf(stderr, "connsrv: bad address '%s'\n", argv[1]);
		return 2;
	}
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, sslen) || listen(fd, 1024)) {
		fprintf(stderr, "connsrv: %s:%ld: %s\n", argv[1], port, strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	end = bench_now() + (double)secs;
	while (bench_now() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;
		int cfd;

		if (poll(&p, 1, 200) <= 0)
			continue;
		cfd = accept(fd, NULL, NULL);
		if (cfd < 0)
			continue;
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (read(cfd, &c, 1) == 1 && write(cfd, &c, 1) != 1)
			fprintf(stderr, "connsrv: write: %s\n", strerror(errno));
		close(cfd);
	}
	close(fd);
	return 0;
}
