/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * egressd status, the server side: while "egressd run" filters a cgroup,
 * it answers root's questions about what it enforces on a Unix socket,
 * /run/egressd/cg-<CGID>.<PID>.sock, served from the event loop.  The
 * document is built by pure code (status_document()) from a
 * status_input, so that what it says is unit-tested; the server only
 * gathers the input from the live session.  See docs/status.md.
 */
#ifndef EGRESSD_STATUS_H
#define EGRESSD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "entry.h"
#include "events.h"
#include "learn.h"
#include "loader.h"
#include "policy.h"
#include "resolvconf.h"

#define STATUS_RUNTIME_DIR "/run/egressd"
/* Overrides STATUS_RUNTIME_DIR, for egressd run and egressd status alike. */
#define STATUS_RUNTIME_ENV "EGRESSD_RUNTIME_DIR"
/* The longest request line, newline included. */
#define STATUS_REQUEST_MAX 4096
/* Learned addresses listed at most (learned_total counts them all). */
#define STATUS_LEARNED_MAX 4096
/* Connections served at once; more are closed at once. */
#define STATUS_MAX_CONNS 16
/* A connection that makes no progress for this long is closed. */
#define STATUS_IDLE_MS 2000

/* $EGRESSD_RUNTIME_DIR if set and not empty, else /run/egressd. */
const char *status_runtime_dir(void);

/*
 * The runtime directory must be a real directory (not a symlink), root's,
 * with no group or other bits: otherwise a workload could reach the
 * sockets or plant one of its own.  create: mkdir it 0700 first if
 * missing (the server).  0, or -errno with why filled.
 */
int status_check_dir(const char *dir, bool create, char *why, size_t whylen);

/* DIR/cg-<cgid>.<pid>.sock into buf.  0, or -ENAMETOOLONG (sun_path). */
int status_socket_path(const char *dir, uint64_t cgid, pid_t pid, char *buf, size_t len);

/* "cg-<cgid>.<pid>.sock": 0 with both set, or -EINVAL.  Pure. */
int status_parse_socket_name(const char *name, uint64_t *cgid, pid_t *pid);

/*
 * The request: len bytes, one JSON object, a trailing newline allowed.
 * 0 for {"request":"status"}; -EINVAL (not JSON, not an object, no
 * "request" string) or -EOPNOTSUPP (another request), with the reason,
 * naming the bad value, in err.  Pure.
 */
int status_parse_request(const char *buf, size_t len, char *err, size_t errlen);

/* {"error": msg}.  NULL on ENOMEM. */
struct json_object *status_error(const char *msg);

/* Everything the document says, gathered from the session (or a test). */
struct status_input {
	const char *version;
	pid_t pid;
	int64_t started; /* unix time */
	int64_t now;     /* unix time, when answered */
	const char *cgroup;
	uint64_t cgroup_id;
	bool audit;
	uid_t uid;
	gid_t gid;
	const char *user_name; /* "" if the uid has no passwd entry */
	const struct loader_prog *progs;
	size_t nprogs;
	bool dns_proxy;
	unsigned int proxy_port;
	const struct resolver *resolvers;
	size_t nresolvers;
	int deny_rcode; /* 5 REFUSED, 3 NXDOMAIN */
	const char *loopback; /* "all", "none", "ports 8080,5432" */
	const struct rule *rules;
	size_t nrules;
	const struct entry *domains;
	size_t ndomains;
	const struct learn *learn; /* NULL: nothing learned (no proxy) */
	uint64_t now_ms;           /* CLOCK_MONOTONIC, the learn clock */
	size_t learned_max;        /* list at most this many (STATUS_LEARNED_MAX) */
	/* [hook][reason], summed over CPUs (stats_read()); NULL: none. */
	const struct egress_counter (*counters)[EGRESS_REASON_MAX];
	const struct events_recent *recent; /* newest first */
	size_t nrecent;
	/* Faults so far, each failed closed (docs/hardening.md "Fault injection"). */
	struct {
		uint64_t dns_upstream_failed; /* queries answered SERVFAIL: upstream */
		uint64_t dns_learn_failed;    /* answers withheld (SERVFAIL): map update failed */
		uint64_t learn_cap_refused;   /* addresses not learned: the cap was reached */
		uint64_t learn_map_errors;    /* addresses not learned: the map update failed */
		uint64_t learn_expire_errors; /* sweeps that could not delete an expired address */
		uint64_t log_write_failures;  /* deny reports the --log-file refused */
	} faults;
};

/*
 * The status document (docs/status.md names every field).  Pure.  NULL
 * with errno ENOMEM.  json_object_put() it.
 */
struct json_object *status_document(const struct status_input *in);

struct loop;
struct session;
struct status_server;

/*
 * Serve s's status on l.  Never fatal to the run: when the socket cannot
 * be set up (a read-only /run, a directory that is not root's own), it
 * warns "status socket unavailable (...)" and returns -errno with *out
 * NULL; filtering goes on regardless.
 */
int status_start(struct loop *l, const struct session *s, struct status_server **out);

/* Close every connection, remove the socket.  Accepts NULL. */
void status_free(struct status_server *st);

#endif
