/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup v2: find it, make a child, move into it, empty it, remove it. */
#ifndef EGRESSD_CGROUP_H
#define EGRESSD_CGROUP_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define CGROUP_CHILD_PREFIX "egressd-"

/* The inode number (kernfs id) of the cgroup2 hierarchy's root cgroup. */
#define CGROUP_ROOT_INO 1

/*
 * From mountinfo text, the cgroup2 mount that contains own_path (the
 * "0::" path from /proc/self/cgroup), and own_path's directory under it.
 * Handles bind mounts of a subtree (mountinfo "root" field).  Pure.
 * 0, or -ENOENT when no cgroup2 mount contains own_path.
 */
int cgroup_parse_mountinfo(FILE *mountinfo, const char *own_path, char *mnt, size_t mntlen,
			   char *dir, size_t dirlen);

/* The "0::/path" line of a /proc/PID/cgroup file.  Pure.  0 or -ENOENT. */
int cgroup_parse_proc(FILE *f, char *path, size_t len);

/*
 * The calling process's cgroup v2 directory and the mount it is under.
 * Logs an actionable error (how to mount cgroup2) on failure.
 */
int cgroup_self_dir(char *mnt, size_t mntlen, char *dir, size_t dirlen);

/*
 * The kernel lets a process move between two cgroups if it may write the
 * cgroup.procs of their common ancestor.  A workload whose uid owns an
 * ancestor of its cgroup (a systemd user session delegates
 * user@UID.service to UID) could therefore move itself out.
 *
 * From the mount root down to dir, find the deepest cgroup such that no
 * cgroup.procs on the path to it is writable by uid/groups: out.  The first
 * writable one, if any, goes to bad ("" if none).  -EPERM when even the
 * mount root is writable; -ENOENT, with its path in bad, when a cgroup on
 * the way does not exist.  Mode bits only; ACLs are not read.
 */
int cgroup_safe_parent(const char *mnt, const char *dir, uid_t uid, const gid_t *groups, int ngroups,
		       char *out, size_t len, char *bad, size_t badlen);

/* mkdir parent/egressd-<pid>; -EEXIST is an error, never reuse. */
int cgroup_create_child(const char *parent, char *out, size_t len);

/* Write pid (0: the caller) into dir/cgroup.procs. */
int cgroup_enter(const char *dir, pid_t pid);

/* Processes in dir and all cgroups below it, not counting 'except'. */
int cgroup_count_procs(const char *dir, pid_t except);

/*
 * SIGKILL every process listed in the cgroup.procs of dir and of every
 * cgroup below it (the sweep for kernels without cgroup.kill); how many,
 * or -errno.
 */
int cgroup_kill_tree(const char *dir);

/*
 * Is pid listed in the cgroup.procs of the cgroup open at dirfd (read
 * through that fd, so it is this very cgroup)?  1, 0 or -errno.  "self"
 * resolved through /proc/self/cgroup and mountinfo names the wrong cgroup
 * when another cgroup2 mount is stacked over the one found.
 */
int cgroup_fd_has_pid(int dirfd, pid_t pid);

/*
 * The "populated" field of dir/cgroup.events: 1 while a live process is
 * in dir or any cgroup below it, else 0; -errno when it cannot be read.
 */
int cgroup_populated(const char *dir);

/*
 * SIGKILL everything in dir and below (cgroup.kill, or a cgroup.procs
 * sweep of the subtree on kernels before 5.14) and wait up to timeout_ms
 * until the whole subtree is empty.  0, or -ETIMEDOUT / -errno: then
 * something may still run, and the filter must stay.
 */
int cgroup_kill_all(const char *dir, int timeout_ms);

/*
 * rmdir dir and every cgroup below it, deepest first; removing dir
 * releases every program attached to it.  0, or -errno (errno is set too,
 * for callers that print it).  Empty the subtree first (cgroup_kill_all).
 */
int cgroup_remove(const char *dir);

/*
 * Remove egressd-<pid> children of parent left by an egressd that was
 * killed, once they are empty.  Populated ones stay: their filter is
 * what keeps the workload contained.  Best effort.
 */
void cgroup_reap_stale(const char *parent);

#endif
