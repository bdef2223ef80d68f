/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's one event loop, in the spirit of systemd's sd-event: every
 * source (a file descriptor, a timer, a set of signals, a child process)
 * is one typed registration with a callback and userdata, and loop_run()
 * dispatches them all from one epoll.  No module keeps a poll() of its own.
 */
#ifndef EGRESSD_LOOP_H
#define EGRESSD_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/types.h>

struct loop;
struct loop_source;

/*
 * Callbacks return 0 to go on, or a negative errno to stop the loop with
 * that error (loop_run() returns it).
 */
typedef int (*loop_io_fn)(struct loop_source *s, int fd, uint32_t revents, void *userdata);
typedef int (*loop_timer_fn)(struct loop_source *s, void *userdata);
typedef int (*loop_signal_fn)(struct loop_source *s, const struct signalfd_siginfo *si,
			      void *userdata);
/* status is a wait status (WIFEXITED() and friends). */
typedef int (*loop_child_fn)(struct loop_source *s, pid_t pid, int status, void *userdata);

int loop_new(struct loop **out);
/* Frees every source still registered.  Accepts NULL. */
void loop_free(struct loop *l);

/* events: EPOLLIN / EPOLLOUT.  The fd stays the caller's to close. */
/* Every loop_add_*() takes out = NULL when the caller never removes the source itself. */
int loop_add_io(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *userdata,
		struct loop_source **out);
int loop_io_set_events(struct loop_source *s, uint32_t events);

/* A timer, disarmed until loop_timer_arm(). */
int loop_add_timer(struct loop *l, loop_timer_fn fn, void *userdata, struct loop_source **out);
/* Fire once, usec from now (monotonic); 0 disarms. */
int loop_timer_arm(struct loop_source *s, uint64_t usec);

/*
 * The signals are blocked (they must already be blocked in any thread
 * forked before this, or they may be lost) and read through a signalfd.
 */
int loop_add_signals(struct loop *l, const int *signos, size_t n, loop_signal_fn fn,
		     void *userdata, struct loop_source **out);

/*
 * pid's exit, through a pidfd: the callback gets its wait status, and the
 * source is then spent (the child is reaped).  Other children (orphans
 * reparented to a PID 1) are reaped by loop_reap_others().
 */
int loop_add_child(struct loop *l, pid_t pid, loop_child_fn fn, void *userdata,
		   struct loop_source **out);

/* Reap every exited child except those watched by loop_add_child(). */
void loop_reap_others(struct loop *l);

/* Unregister and free.  Safe from inside any callback, s's own included. */
void loop_remove(struct loop_source *s);

/* Dispatch until loop_exit() or a callback's error; returns code or -errno. */
int loop_run(struct loop *l);
void loop_exit(struct loop *l, int code);

#endif
