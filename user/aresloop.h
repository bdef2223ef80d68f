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

#include "loop.h"

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

/* Removes every source; the channel stays the caller's.  Accepts NULL. */
void aresloop_free(struct aresloop *al);

#endif
