// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who the workload runs as: --user, else SUDO_UID/SUDO_GID, else the
 * caller; uid 0 only when --user names it.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "launch.h"
#include "log.h"

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || *out >= (uid_t)-1)
		return -EINVAL;
	return 0;
}

int identity_resolve(const char *user_opt, struct identity *id)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	struct identity r = {};
	unsigned long v;

	if (user_opt) {
		if (launch_lookup_user(user_opt, &r.uid, &r.gid, r.name, sizeof(r.name))) {
			pr_err("--user: no such user \"%s\"", user_opt);
			return -EINVAL;
		}
		r.explicit_user = true;
	} else if (su && *su) {
		if (parse_id(su, &v)) {
			pr_err("SUDO_UID=\"%s\" is not a uid; pass --user", su);
			return -EINVAL;
		}
		r.uid = (uid_t)v;
		r.gid = (gid_t)v;
		if (sg && *sg) {
			if (parse_id(sg, &v)) {
				pr_err("SUDO_GID=\"%s\" is not a gid; pass --user", sg);
				return -EINVAL;
			}
			r.gid = (gid_t)v;
		}
		struct passwd *pw = getpwuid(r.uid);

		if (pw)
			snprintf(r.name, sizeof(r.name), "%s", pw->pw_name);
	} else {
		struct passwd *pw;

		r.uid = getuid();
		r.gid = getgid();
		pw = getpwuid(r.uid);
		if (pw)
			snprintf(r.name, sizeof(r.name), "%s", pw->pw_name);
	}

	struct passwd *pw = getpwuid(r.uid);

	if (pw && pw->pw_dir)
		snprintf(r.home, sizeof(r.home), "%s", pw->pw_dir);

	if (r.uid == 0 && !r.explicit_user) {
		pr_err("refusing to run the command as root: a uid-0 workload can leave the cgroup, read root-owned BPF pins and kill egressd");
		pr_err("use --user USER (e.g. --user nobody), or --user root to accept that risk");
		return -EPERM;
	}
	if (r.uid == 0)
		pr_warn("running the command as root (--user root): it can leave the cgroup and kill egressd; the filter is advisory against it");
	*id = r;
	return 0;
}
