/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A c-ares channel driven by the event loop: c-ares says which sockets it
 * wants watched through ARES_OPT_SOCK_STATE_CB, each becomes one I/O
 * source, and one timer source follows ares_timeout().  The resolver at
 * start and the DNS proxy's upstream both use it; neither polls.
 */
#ifndef EGRESSD_ARESLOOP_H
#define EGRESSD_ARESLOOP_H

#include <ares.h>
#include <stdbool.h>

#include "loop.h"
#include "resolvconf.h"

struct aresloop;

/*
 * on_stall is called when the channel has neither a socket to watch nor a
 * timeout pending: if queries are still outstanding, nothing will ever
 * complete them.  NULL: never called.
 */
int aresloop_new(struct loop *l, void (*on_stall)(void *userdata), void *userdata,
		 struct aresloop **out);

/* Adds the socket-state callback to options/optmask for ares_init_options(). */
void aresloop_options(struct aresloop *al, struct ares_options *ao, int *optmask);

/* The channel made with those options; then call aresloop_kick(). */
void aresloop_set_channel(struct aresloop *al, ares_channel ch);

/* After queries were started outside a callback: re-arm the timer. */
void aresloop_kick(struct aresloop *al);

/*
 * A channel for al, configured from these arguments alone: the servers
 * are set explicitly, lookups are DNS only (never /etc/hosts), no search
 * domains, and every option that would make ares_init_options() read
 * /etc/resolv.conf is given, so it does not.  NOCHECKRESP: an upstream
 * SERVFAIL or REFUSED comes back as an answer with its rcode, not as
 * "try the next server" ending in ECONNREFUSED, which hides the cause.
 * tcp: every query over TCP.  funcs/data: the socket functions (NULL for
 * c-ares' own).  The channel is set on al (aresloop_set_channel()).
 * 0, -ENOMEM, -EINVAL (a server of no known family), -EIO.
 */
struct aresloop_channel_opts {
	int timeout_ms; /* per try */
	int tries;
	bool tcp;
	const struct ares_socket_functions *funcs;
	void *funcs_data;
};

int aresloop_channel(struct aresloop *al, const struct resolver *servers, size_t nservers,
		     const struct aresloop_channel_opts *o, ares_channel *out);

/* Removes every source; the channel stays the caller's.  Accepts NULL. */
void aresloop_free(struct aresloop *al);

#endif
