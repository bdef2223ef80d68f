/* SPDX-License-Identifier: GPL-2.0-only */
/* Start the workload: in the filtered cgroup, as its user, with nothing. */
#ifndef EGRESSD_LAUNCH_H
#define EGRESSD_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/signalfd.h>
#include <sys/types.h>

/* egressd's own failures, and the shell's conventions for exec failures. */
#define EXIT_EGRESSD_FAILURE 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

struct launch_opts {
	char *const *argv;
	const char *cgroup_dir; /* move the child here first; NULL: stay */
	uid_t uid;
	gid_t gid;
	const char *user; /* for supplementary groups and $USER; NULL: just gid */
	const char *home; /* $HOME when switching users; NULL: leave env alone */
	bool filtered;    /* isolation on: also install seccomp.h's filter */
};

/*
 * Resolve "name" or "uid" into uid, gid and canonical name.  An unknown
 * numeric uid gets gid = uid.  0 or -ENOENT / -EINVAL.
 */
int launch_lookup_user(const char *spec, uid_t *uid, gid_t *gid, char *name, size_t namelen);

/*
 * fds 0-2 stay open for the command, so they must not be sockets that can
 * reach the network: one created outside the cgroup is not filtered.  Unix
 * sockets (journald, a supervisor) are fine.  Prints the error; -EPERM.
 */
int launch_check_stdio(void);

/*
 * fork; the child leaves the caller's session and terminal (setsid), joins
 * the cgroup, drops every privilege, closes every fd above 2, restores
 * signals, and execs.  A child that cannot do any of
 * that exits 125 (126/127 for exec failures) without running the command.
 */
int launch_start(const struct launch_opts *o, pid_t *pid_out);

/*
 * The signals a supervisor takes on its loop (loop_add_signals) before
 * launch_start(): SIGCHLD, and those it forwards to the command with
 * launch_forward_signal().
 */
extern const int launch_signals[];
extern const size_t launch_nsignals;

/* Forward si to the command (pid child; 0 once reaped: nothing). */
void launch_forward_signal(pid_t child, const struct signalfd_siginfo *si);

#endif
