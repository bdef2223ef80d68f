// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event loop (see loop.h): one epoll, sources as typed registrations.
 *
 * Timers are timerfds, signals a signalfd, children pidfds (or, where
 * pidfd_open is refused, a timerfd that polls the child), so every
 * source is a file descriptor and one epoll_wait() serves them all.  A
 * source removed during dispatch is only marked dead and freed after the
 * batch, so a callback may remove any source, itself included, without
 * leaving a dangling pointer in the batch still to be dispatched.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loop.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

enum source_type { SRC_IO, SRC_TIMER, SRC_SIGNAL, SRC_CHILD };

struct loop_source {
	struct loop *loop;
	struct loop_source *next, *prev; /* every live source */
	struct loop_source *next_dead;
	enum source_type type;
	int fd;
	bool owns_fd; /* timers, signals and children: the loop's fd */
	bool dead;
	uint32_t events;
	union {
		loop_io_fn io;
		loop_timer_fn timer;
		loop_signal_fn signal;
		loop_child_fn child;
	} fn;
	void *userdata;
	pid_t pid;
	bool polled; /* a child watched by a timerfd: no pidfd_open here */
	sigset_t mask;
};

struct loop {
	int epfd;
	struct loop_source *sources;
	struct loop_source *dead;
	bool exiting;
	int exit_code;
};

int loop_new(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = -errno;

		free(l);
		return err;
	}
	*out = l;
	return 0;
}

static void reap_dead(struct loop *l)
{
	while (l->dead) {
		struct loop_source *s = l->dead;

		l->dead = s->next_dead;
		free(s);
	}
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	while (l->sources)
		loop_remove(l->sources);
	reap_dead(l);
	close(l->epfd);
	free(l);
}

static int add_source(struct loop *l, enum source_type type, int fd, bool owns_fd,
		      uint32_t events, void *userdata, struct loop_source **out)
{
	struct loop_source *s = calloc(1, sizeof(*s));
	struct epoll_event ev = { .events = events };

	if (!s)
		return -ENOMEM;
	s->loop = l;
	s->type = type;
	s->fd = fd;
	s->owns_fd = owns_fd;
	s->events = events;
	s->userdata = userdata;
	ev.data.ptr = s;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = -errno;

		free(s);
		return err;
	}
	s->next = l->sources;
	if (l->sources)
		l->sources->prev = s;
	l->sources = s;
	*out = s;
	return 0;
}

int loop_add_io(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *userdata,
		struct loop_source **out)
{
	struct loop_source *s;
	int err = add_source(l, SRC_IO, fd, false, events, userdata, &s);

	if (err)
		return err;
	s->fn.io = fn;
	if (out)
		*out = s;
	return 0;
}

int loop_io_set_events(struct loop_source *s, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };

	if (s->events == events)
		return 0;
	if (epoll_ctl(s->loop->epfd, EPOLL_CTL_MOD, s->fd, &ev))
		return -errno;
	s->events = events;
	return 0;
}

int loop_add_timer(struct loop *l, loop_timer_fn fn, void *userdata, struct loop_source **out)
{
	struct loop_source *s;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), err;

	if (fd < 0)
		return -errno;
	err = add_source(l, SRC_TIMER, fd, true, EPOLLIN, userdata, &s);
	if (err) {
		close(fd);
		return err;
	}
	s->fn.timer = fn;
	if (out)
		*out = s;
	return 0;
}

int loop_timer_arm(struct loop_source *s, uint64_t usec)
{
	struct itimerspec its = {};

	if (s->type != SRC_TIMER)
		return -EINVAL;
	/* A zero it_value disarms, so "now" is one nanosecond from now. */
	its.it_value.tv_sec = (time_t)(usec / 1000000);
	its.it_value.tv_nsec = (long)(usec % 1000000) * 1000;
	if (usec && !its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	return timerfd_settime(s->fd, 0, &its, NULL) ? -errno : 0;
}

int loop_add_signals(struct loop *l, const int *signos, size_t n, loop_signal_fn fn,
		     void *userdata, struct loop_source **out)
{
	struct loop_source *s;
	sigset_t mask;
	int fd, err;

	sigemptyset(&mask);
	for (size_t i = 0; i < n; i++)
		sigaddset(&mask, signos[i]);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	err = add_source(l, SRC_SIGNAL, fd, true, EPOLLIN, userdata, &s);
	if (err) {
		close(fd);
		return err;
	}
	s->fn.signal = fn;
	s->mask = mask;
	if (out)
		*out = s;
	return 0;
}

int loop_add_child(struct loop *l, pid_t pid, loop_child_fn fn, void *userdata,
		   struct loop_source **out)
{
	struct loop_source *s;
	int fd = (int)syscall(SYS_pidfd_open, pid, 0), err;
	bool polled = false;

	/*
	 * No pidfd_open: valgrind before 3.20 answers ENOSYS, and so may a
	 * seccomp profile older than the syscall (5.3).  Poll the child with
	 * waitid(P_PID) every 50 ms instead: it is ours and unreaped until
	 * we reap it, so its pid cannot be reused in between.
	 */
	if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
		struct itimerspec its = { .it_interval.tv_nsec = 50000000, .it_value.tv_nsec = 50000000 };

		fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL)) {
			err = -errno;
			close(fd);
			return err;
		}
		polled = true;
	}
	if (fd < 0)
		return -errno;
	err = add_source(l, SRC_CHILD, fd, true, EPOLLIN, userdata, &s);
	if (err) {
		close(fd);
		return err;
	}
	s->fn.child = fn;
	s->pid = pid;
	s->polled = polled;
	if (out)
		*out = s;
	return 0;
}

static bool watched(struct loop *l, pid_t pid)
{
	for (struct loop_source *s = l->sources; s; s = s->next) {
		if (s->type == SRC_CHILD && !s->dead && s->pid == pid)
			return true;
	}
	return false;
}

void loop_reap_others(struct loop *l)
{
	for (;;) {
		siginfo_t si = {};

		/* Look without reaping: a watched child is its pidfd's to reap. */
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) || !si.si_pid)
			return;
		if (watched(l, si.si_pid))
			return;
		waitpid(si.si_pid, NULL, WNOHANG);
	}
}

void loop_remove(struct loop_source *s)
{
	struct loop *l;

	if (!s || s->dead)
		return;
	l = s->loop;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->owns_fd)
		close(s->fd);
	if (s->prev)
		s->prev->next = s->next;
	else
		l->sources = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->dead = true;
	s->next_dead = l->dead;
	l->dead = s;
}

void loop_exit(struct loop *l, int code)
{
	l->exiting = true;
	l->exit_code = code;
}

static int dispatch(struct loop_source *s, uint32_t revents)
{
	switch (s->type) {
	case SRC_IO:
		return s->fn.io(s, s->fd, revents, s->userdata);
	case SRC_TIMER: {
		uint64_t ticks;

		if (read(s->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
			return errno == EAGAIN ? 0 : -errno;
		return s->fn.timer(s, s->userdata);
	}
	case SRC_SIGNAL: {
		struct signalfd_siginfo si;
		ssize_t r;

		while ((r = read(s->fd, &si, sizeof(si))) == sizeof(si)) {
			int err = s->fn.signal(s, &si, s->userdata);

			if (err || s->dead)
				return err;
		}
		return r < 0 && errno != EAGAIN ? -errno : 0;
	}
	case SRC_CHILD: {
		siginfo_t si = {};
		uint64_t ticks;
		int status;

		if (s->polled && read(s->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
			return -errno;
		if (waitid(s->polled ? P_PID : P_PIDFD, s->polled ? (id_t)s->pid : (id_t)s->fd, &si,
			   WEXITED | WNOHANG))
			return -errno;
		if (!si.si_pid)
			return 0; /* not exited yet */
		if (si.si_code == CLD_EXITED)
			status = W_EXITCODE(si.si_status, 0);
		else /* killed, or dumped (WCOREDUMP's bit) */
			status = (si.si_status & 0x7f) | (si.si_code == CLD_DUMPED ? 0x80 : 0);
		/* Spent: the pid is reaped and may be reused. */
		loop_child_fn fn = s->fn.child;
		pid_t pid = s->pid;
		void *ud = s->userdata;

		loop_remove(s);
		return fn(NULL, pid, status, ud);
	}
	}
	return -EINVAL;
}

int loop_run(struct loop *l)
{
	while (!l->exiting) {
		struct epoll_event evs[16];
		int n = epoll_wait(l->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->exiting; i++) {
			struct loop_source *s = evs[i].data.ptr;
			int err;

			if (s->dead)
				continue;
			err = dispatch(s, evs[i].events);
			if (err < 0) {
				reap_dead(l);
				return err;
			}
		}
		reap_dead(l);
	}
	return l->exit_code;
}
