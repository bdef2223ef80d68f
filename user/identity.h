/* SPDX-License-Identifier: GPL-2.0-only */
/* Who the workload runs as. */
#ifndef EGRESSD_IDENTITY_H
#define EGRESSD_IDENTITY_H

#include <stdbool.h>
#include <sys/types.h>

struct identity {
	uid_t uid;
	gid_t gid;
	char name[64]; /* "" for a uid with no passwd entry */
	char home[256]; /* passwd home, "" if none */
	bool explicit_user;
};

/*
 * --user if given; else SUDO_UID/SUDO_GID; else the caller.  A uid-0
 * workload can leave the cgroup, read root-owned pins and kill egressd,
 * so uid 0 is refused unless --user named it.  Prints the error.
 */
int identity_resolve(const char *user_opt, struct identity *out);

#endif
