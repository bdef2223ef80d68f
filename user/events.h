/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Deny events: one line per distinct destination, repeats collapsed with
 * a count, text or JSON Lines; and the audit summary with a suggestion.
 */
#ifndef EGRESSD_EVENTS_H
#define EGRESSD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include <sys/types.h>

#include "cli.h"
#include "dns.h"
#include "egressd.h"
#include "policy.h"

struct events_config {
	enum log_format format;
	const char *log_file; /* NULL: stderr */
	bool audit;
};

struct events;

/* Names for addresses come from the resolution answers and named rules. */
struct events *events_new(const struct events_config *c, const struct rule *rules, size_t nrules,
			  const struct dns_answer *answers, size_t nanswers);
void events_free(struct events *ev); /* accepts NULL */

/* ring_buffer_sample_fn */
int events_handle(void *ctx, void *data, size_t len);

/* Feed one event with an explicit clock (ms); what events_handle calls. */
void events_record(struct events *ev, const struct egress_event *e, uint64_t now_ms);

/* At exit: flush collapsed repeats; in audit mode, print the summary. */
void events_summary(struct events *ev);

/*
 * At exit, after events_summary(): were all reports written?  0, or, when
 * some could not be written to the --log-file (each then went to stderr),
 * an ERROR: line with how many and why, and -errno of the first failure.
 */
int events_check_written(const struct events *ev);

/* Deny reports the --log-file refused so far (they went to stderr), for status. */
uint64_t events_write_failures(const struct events *ev);

/*
 * From the DNS proxy: name the addresses it learned for name, so deny
 * lines and the audit summary say the name (bounded; later ones are not
 * named).  And a refused query: one line per name and type, counted.
 */
void events_learned_name(struct events *ev, const struct addr *a, const char *name);
void events_dns(struct events *ev, pid_t pid, uid_t uid, const char *comm, const char *name,
		const char *qtype, const char *reason, bool audit);

/* Human text for a reason ("not in allowlist", ...). */
const char *events_reason_str(unsigned int reason);
const char *events_hook_str(unsigned int hook);

/* The last denials egressd status shows, newest first. */
#define EVENTS_RECENT_MAX 32

struct events_recent {
	int64_t time; /* unix seconds */
	uint32_t pid; /* 0: the hook had no process context */
	uint32_t uid;
	char comm[EGRESS_COMM_LEN + 1];
	char hook[16];               /* "connect4", "packet", ..., "dns" */
	char dest[NAME_MAX_LEN + 1]; /* the address; setsockopt(...); the DNS query name */
	uint16_t port;               /* 0 if none */
	char proto[16];              /* "tcp", "udp", "icmp", "proto-N", "" (setsockopt); dns: the query type */
	char reason[96];
	char name[NAME_MAX_LEN + 1]; /* the name the address was learned or resolved from, or "" */
	bool audit;                  /* would have been denied */
};

/*
 * Every deny (or audit) event recorded, DNS refusals included, before
 * collapsing and rate limiting: the last EVENTS_RECENT_MAX of them, newest
 * first, up to max into out.  Returns how many were copied.
 */
size_t events_recent(const struct events *ev, struct events_recent *out, size_t max);

#endif
