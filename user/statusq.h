/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * egressd status, the client side: find the egressd serving a cgroup, ask
 * it for its status document, and check with the kernel that what it says
 * is attached really is.  Used by "egressd status" and by other commands
 * that need to know a cgroup is filtered ("egressd exec").
 */
#ifndef EGRESSD_STATUSQ_H
#define EGRESSD_STATUSQ_H

#include <stddef.h>
#include <json-c/json.h>

/* The most of a reply statusq_fetch() reads. */
#define STATUSQ_REPLY_MAX (32u << 20)
/* How long it waits on one egressd (connect, write, each read). */
#define STATUSQ_TIMEOUT_MS 5000

/*
 * The cgroup directory for a --cgroup argument: NULL or "self" = the
 * caller's own (cgroup_self_dir), an absolute path, or a path relative
 * to the cgroup2 mount.  0 or -errno, err filled.
 */
int statusq_cgroup_dir(const char *arg, char *dir, size_t len, char *err, size_t errlen);

/*
 * Ask every live egressd serving that cgroup (by its inode) for its
 * document; the first that answers goes to *out (json_object_put() it).
 * -ENOENT: no egressd serves it; -EACCES: not root; other -errno.  err
 * says what, for the user.
 */
int statusq_fetch(const char *cgroup_dir, struct json_object **out, char *err, size_t errlen);

/*
 * 0 only if doc's mode is "enforcing", its cgroup_id is cgroup_dir's
 * inode, and the kernel confirms (BPF_PROG_QUERY on the cgroup fd for
 * each attach type listed -- bpf_prog_query(); needs CAP_NET_ADMIN) that
 * every program id in doc["programs"] is attached to that very cgroup.
 * Otherwise -errno and err says which check failed.
 */
int statusq_verify(const char *cgroup_dir, struct json_object *doc, char *err, size_t errlen);

/* egressd status [--cgroup PATH|self] [--format text|json] [--verify] */
int do_status(int argc, char **argv);

#endif
