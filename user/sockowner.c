// SPDX-License-Identifier: GPL-2.0-only
/* Naming the process behind a DNS query (see sockowner.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sockowner.h"

static void read_comm(pid_t pid, struct sockowner *o)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(o->comm, sizeof(o->comm), f))
		o->comm[strcspn(o->comm, "\n")] = '\0';
	fclose(f);
}

/* The inode and uid of the UDP socket bound to local port in /proc/net/udp{,6}. */
static int find_inode(const char *table, unsigned int port, unsigned long *inode, uid_t *uid)
{
	char line[512];
	FILE *f = fopen(table, "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), f)) {
		char local[64];
		unsigned int lport, u;
		unsigned long ino;
		char *colon;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, "%*s %63s %*s %*s %*s %*s %*s %u %*s %lu", local, &u, &ino) != 3)
			continue;
		colon = strrchr(local, ':');
		if (!colon || sscanf(colon + 1, "%x", &lport) != 1 || lport != port)
			continue;
		*inode = ino;
		*uid = (uid_t)u;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static bool pid_has_inode(pid_t pid, unsigned long inode)
{
	char dir[64], link[PATH_MAX], want[64], target[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		found = strcmp(target, want) == 0;
	}
	closedir(d);
	return found;
}

/* Depth-first over cgroup_dir: the first member holding inode. */
static pid_t scan_cgroup(const char *dir, unsigned long inode, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	pid_t found = 0;
	FILE *f;
	DIR *d;
	int pid;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= sizeof(path))
		return 0;
	f = fopen(path, "re");
	if (f) {
		while (!found && fscanf(f, "%d", &pid) == 1) {
			if (pid_has_inode(pid, inode))
				found = pid;
		}
		fclose(f);
	}
	if (found || depth > 8)
		return found;
	d = opendir(dir);
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		found = scan_cgroup(path, inode, depth + 1);
	}
	closedir(d);
	return found;
}

/* The local port of peer, and the process owning it among the cgroup's. */
static void owner_of(const char *cgroup_dir, const struct sockaddr *peer, const char *t4,
		     const char *t6, struct sockowner *out)
{
	unsigned long inode = 0;
	unsigned int port;

	memset(out, 0, sizeof(*out));
	if (peer->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)peer)->sin_port);
	else
		port = ntohs(((const struct sockaddr_in6 *)peer)->sin6_port);
	/* A v4 client of an AF_INET6 socket shows up in the v6 table. */
	if (find_inode(peer->sa_family == AF_INET ? t4 : t6, port, &inode, &out->uid) &&
	    find_inode(peer->sa_family == AF_INET ? t6 : t4, port, &inode, &out->uid))
		return;
	if (cgroup_dir)
		out->pid = scan_cgroup(cgroup_dir, inode, 0);
	if (out->pid)
		read_comm(out->pid, out);
}

void sockowner_udp(const char *cgroup_dir, const struct sockaddr *peer, struct sockowner *out)
{
	owner_of(cgroup_dir, peer, "/proc/net/udp", "/proc/net/udp6", out);
}

void sockowner_tcp(const char *cgroup_dir, int connfd, struct sockowner *out)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);

	memset(out, 0, sizeof(*out));
	if (getpeername(connfd, (struct sockaddr *)&peer, &len))
		return;
	/*
	 * The client's port, as its local port: the listener's accepted
	 * socket has the same 4-tuple reversed, with our port as local.
	 */
	owner_of(cgroup_dir, (struct sockaddr *)&peer, "/proc/net/tcp", "/proc/net/tcp6", out);
}
