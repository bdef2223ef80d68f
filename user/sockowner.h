/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who sent a datagram or opened a connection to the DNS proxy: for deny
 * lines that name the process ("blocked DNS curl[123] -> ...").  Best
 * effort and only on the deny path: a process is looked for among the
 * filtered cgroup's members, never the whole system.
 */
#ifndef EGRESSD_SOCKOWNER_H
#define EGRESSD_SOCKOWNER_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct sockowner {
	pid_t pid; /* 0: not found */
	uid_t uid;
	char comm[17];
};

/*
 * The process in cgroup_dir (or below) holding the UDP socket bound to
 * the loopback source port of peer.  Always fills out: pid 0 if unknown.
 */
void sockowner_udp(const char *cgroup_dir, const struct sockaddr *peer, struct sockowner *out);

/* Likewise for the client of an accepted TCP connection. */
void sockowner_tcp(const char *cgroup_dir, int connfd, struct sockowner *out);

#endif
