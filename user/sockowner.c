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

void sockowner_udp(const char *cgroup_dir, const struct sockaddr *peer, struct sockowner *out)
{
	unsigned long inode = 0;
	unsigned int port;
	const char *table;

	memset(out, 0, sizeof(*out));
	if (peer->sa_family == AF_INET) {
		port = ntohs(((const struct sockaddr_in *)peer)->sin_port);
		table = "/proc/net/udp";
	} else {
		port = ntohs(((const struct sockaddr_in6 *)peer)->sin6_port);
		table = "/proc/net/udp6";
	}
	/* A v4 client of an AF_INET6 socket shows up in udp6. */
	if (find_inode(table, port, &inode, &out->uid) &&
	    find_inode(peer->sa_family == AF_INET ? "/proc/net/udp6" : "/proc/net/udp", port,
		       &inode, &out->uid))
		return;
	if (cgroup_dir)
		out->pid = scan_cgroup(cgroup_dir, inode, 0);
	if (out->pid)
		read_comm(out->pid, out);
}

void sockowner_tcp(int connfd, struct sockowner *out)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(out, 0, sizeof(*out));
	if (getsockopt(connfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || !cred.pid)
		return;
	out->pid = cred.pid;
	out->uid = cred.uid;
	read_comm(cred.pid, out);
}
