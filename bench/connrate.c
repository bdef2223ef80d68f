// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/connrate.c: new TCP connections per second, the client half of
 * bench's connection-rate metric (the server is bench/connsrv.c).
 *
 *   connrate ADDR PORT SECONDS
 *
 * One connection at a time, as fast as it can for SECONDS: connect, send
 * one byte, read it back, wait for the server's FIN, close.  Prints
 * "conns N seconds S rate R" (R = N / S).  Any failed connection is an
 * error (exit 1): a filter that drops some would otherwise look fast.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "benchutil.h"

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	double start, now, end;
	unsigned long n = 0;
	socklen_t sslen;
	long port, secs;
	int one = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: connrate ADDR PORT SECONDS\n");
		return 2;
	}
	if (bench_parse_long(argv[2], 1, 65535, &port) ||
	    bench_parse_long(argv[3], 1, 3600, &secs)) {
		fprintf(stderr, "connrate: bad PORT '%s' or SECONDS '%s'\n", argv[2], argv[3]);
		return 2;
	}
	if (bench_sockaddr(argv[1], (int)port, &ss, &sslen)) {
		fprintf(stderr, "connrate: bad address '%s'\n", argv[1]);
		return 2;
	}
	start = bench_now();
	end = start + (double)secs;
	do {
		char c = 'x', buf[8];
		int fd = socket(ss.ss_family, SOCK_STREAM, 0);

		if (fd < 0) {
			fprintf(stderr, "connrate: socket: %s\n", strerror(errno));
			return 1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (struct sockaddr *)&ss, sslen) || write(fd, &c, 1) != 1 ||
		    read(fd, buf, 1) != 1) {
			fprintf(stderr, "connrate: connection %lu to %s:%ld: %s\n", n + 1, argv[1],
				port, errno ? strerror(errno) : "short read");
			return 1;
		}
		/* The server closes first: its FIN, then ours. */
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		n++;
		now = bench_now();
	} while (now < end);
	printf("conns %lu seconds %.3f rate %.1f\n", n, now - start, (double)n / (now - start));
	return 0;
}
