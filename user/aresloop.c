// SPDX-License-Identifier: GPL-2.0-only
/* c-ares on the event loop (see aresloop.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "aresloop.h"

/* c-ares 1.18 uses at most a few sockets per server (UDP, TCP). */
#define ARESLOOP_MAX_SOCKS 64

struct aresloop {
	struct loop *loop;
	ares_channel ch;
	struct loop_source *timer;
	struct {
		ares_socket_t fd;
		struct loop_source *src;
	} socks[ARESLOOP_MAX_SOCKS];
	size_t nsocks;
	void (*on_stall)(void *);
	void *userdata;
};

static void rearm(struct aresloop *al)
{
	struct timeval tv, *tvp;

	if (!al->ch)
		return;
	tvp = ares_timeout(al->ch, NULL, &tv);
	if (tvp) {
		uint64_t usec = (uint64_t)tvp->tv_sec * 1000000 + (uint64_t)tvp->tv_usec;

		/* Already due: fire at once (0 would disarm). */
		loop_timer_arm(al->timer, usec ? usec : 1);
	} else
		loop_timer_arm(al->timer, 0);
	if (!tvp && !al->nsocks && al->on_stall)
		al->on_stall(al->userdata);
}

static int on_io(struct loop_source *s, int fd, uint32_t revents, void *userdata)
{
	struct aresloop *al = userdata;

	(void)s;
	ares_process_fd(al->ch, revents & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
			revents & (EPOLLOUT | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD);
	rearm(al);
	return 0;
}

static int on_timer(struct loop_source *s, void *userdata)
{
	struct aresloop *al = userdata;

	(void)s;
	ares_process_fd(al->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(al);
	return 0;
}

/* c-ares: watch fd for readable/writable, or stop watching it (both 0). */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct aresloop *al = data;
	uint32_t ev = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
	size_t i;

	for (i = 0; i < al->nsocks && al->socks[i].fd != fd; i++)
		;
	if (i < al->nsocks) {
		if (ev) {
			loop_io_set_events(al->socks[i].src, ev);
			return;
		}
		loop_remove(al->socks[i].src);
		al->socks[i] = al->socks[--al->nsocks];
		return;
	}
	/*
	 * No room, or the loop refuses the fd: the queries on it will time
	 * out, and time-outs fail closed, so this degrades, never opens.
	 */
	if (!ev || al->nsocks == ARESLOOP_MAX_SOCKS)
		return;
	if (loop_add_io(al->loop, fd, ev, on_io, al, &al->socks[al->nsocks].src) == 0)
		al->socks[al->nsocks++].fd = fd;
}

int aresloop_new(struct loop *l, void (*on_stall)(void *userdata), void *userdata,
		 struct aresloop **out)
{
	struct aresloop *al = calloc(1, sizeof(*al));
	int err;

	if (!al)
		return -ENOMEM;
	al->loop = l;
	al->on_stall = on_stall;
	al->userdata = userdata;
	err = loop_add_timer(l, on_timer, al, &al->timer);
	if (err) {
		free(al);
		return err;
	}
	*out = al;
	return 0;
}

void aresloop_options(struct aresloop *al, struct ares_options *ao, int *optmask)
{
	ao->sock_state_cb = sock_state;
	ao->sock_state_cb_data = al;
	*optmask |= ARES_OPT_SOCK_STATE_CB;
}

void aresloop_set_channel(struct aresloop *al, ares_channel ch)
{
	al->ch = ch;
}

void aresloop_kick(struct aresloop *al)
{
	rearm(al);
}

void aresloop_free(struct aresloop *al)
{
	if (!al)
		return;
	for (size_t i = 0; i < al->nsocks; i++)
		loop_remove(al->socks[i].src);
	loop_remove(al->timer);
	free(al);
}
