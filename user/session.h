/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Acting on a plan (plan.h): the filter, the cgroup, the command and its
 * supervision on the event loop, and teardown.  The pipeline in run.c is
 * session_prepare -> session_run -> session_end.
 */
#ifndef EGRESSD_SESSION_H
#define EGRESSD_SESSION_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cli.h"
#include "events.h"
#include "identity.h"
#include "loader.h"
#include "loop.h"
#include "plan.h"

struct session {
	struct run_config *cfg;
	const struct plan *plan;
	struct loop *loop;
	struct egress_bpf *skel;
	struct events *events;
	struct ring_buffer *rb;
	struct addr *local; /* the namespace's addresses, for the source checks */
	struct proxy *proxy; /* the DNS proxy, unless --no-dns-proxy */
	struct namematch *names;
	struct learn *learn;
	char cg_dir[PATH_MAX];
	int cg_fd;
	bool cg_created;
	bool attached;
	pid_t child; /* 0 once reaped */
	const struct identity *id;     /* who the command runs as (egressd status) */
	unsigned short proxy_port;     /* the DNS proxy's, 0 without it */
	struct status_server *status;  /* egressd status's socket, or NULL */
};

#define SESSION_INIT { .cg_fd = -1 }

/*
 * Load and fill the filter, make the cgroup and attach (isolation on);
 * with isolation off, only the loop.  Prints every failure; nothing has
 * run yet, and session_end() undoes what was done.
 */
int session_prepare(struct session *s, struct run_config *cfg, const struct plan *p,
		    const struct identity *id);

/* Launch the command and supervise it; returns the exit status to use. */
int session_run(struct session *s, const struct identity *id);

/* Kill what runs in our cgroup, detach, remove it, free everything. */
void session_end(struct session *s);

/* --loopback as text: "all", "none" or "ports 8080,5432" (in buf). */
const char *session_loopback_text(const struct run_config *c, char *buf, size_t len);

#endif
