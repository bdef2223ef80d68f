// SPDX-License-Identifier: GPL-2.0-only
/* c-ares on the event loop (see aresloop.h). */
#include <errno.h>
#include <netinet/in.h>
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

static int set_servers(ares_channel ch, const struct resolver *servers, size_t nservers)
{
	struct ares_addr_port_node nodes[MAX_RESOLVERS];

	if (nservers > MAX_RESOLVERS)
		return -EINVAL;
	memset(nodes, 0, sizeof(nodes));
	for (size_t i = 0; i < nservers; i++) {
		const struct resolver *r = &servers[i];

		nodes[i].next = i + 1 < nservers ? &nodes[i + 1] : NULL;
		nodes[i].family = r->addr.family;
		if (r->addr.family == AF_INET)
			memcpy(&nodes[i].addr.addr4, r->addr.bytes, 4);
		else if (r->addr.family == AF_INET6)
			memcpy(&nodes[i].addr.addr6, r->addr.bytes, 16);
		else
			return -EINVAL;
		nodes[i].udp_port = r->port ? r->port : 53;
		nodes[i].tcp_port = nodes[i].udp_port;
	}
	switch (ares_set_servers_ports(ch, nservers ? nodes : NULL)) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ENOMEM:
		return -ENOMEM;
	default:
		return -EINVAL;
	}
}

int aresloop_channel(struct aresloop *al, const struct resolver *servers, size_t nservers,
		     const struct aresloop_channel_opts *o, ares_channel *out)
{
	static char lookups[] = "b";
	struct ares_options ao;
	ares_channel ch;
	int mask, err;

	/* Every option ARES_CONFIG_CHECK() looks at (servers, domains, sortlist). */
	memset(&ao, 0, sizeof(ao));
	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
	       ARES_OPT_LOOKUPS | ARES_OPT_SERVERS | ARES_OPT_DOMAINS | ARES_OPT_SORTLIST;
	ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP |
		   (o->tcp ? ARES_FLAG_USEVC : 0);
	ao.timeout = o->timeout_ms;
	ao.tries = o->tries;
	ao.ndots = 1;
	ao.lookups = lookups;
	aresloop_options(al, &ao, &mask);
	switch (ares_init_options(&ch, &ao, mask)) {
	case ARES_SUCCESS:
		break;
	case ARES_ENOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
	err = set_servers(ch, servers, nservers);
	if (err) {
		ares_destroy(ch);
		return err;
	}
	if (o->funcs)
		ares_set_socket_functions(ch, o->funcs, o->funcs_data);
	aresloop_set_channel(al, ch);
	*out = ch;
	return 0;
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
