// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event loop (user/loop.c): each source type fires its callback with
 * the right data, a callback may remove any source (itself included)
 * during dispatch, a child's wait status arrives through its pidfd, and
 * loop_reap_others() reaps orphans but never the watched child.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "loop.h"

struct ctx {
	struct loop *l;
	struct loop_source *a, *b, *t;
	int fired_a, fired_b, timer_fired, sig, child_status;
	pid_t child_pid;
};

static int on_timer_exit(struct loop_source *s, void *ud)
{
	struct ctx *c = ud;

	(void)s;
	c->timer_fired++;
	loop_exit(c->l, 7);
	return 0;
}

static void test_timer_and_exit_code(void **state)
{
	struct ctx c = {};

	(void)state;
	assert_int_equal(loop_new(&c.l), 0);
	assert_int_equal(loop_add_timer(c.l, on_timer_exit, &c, &c.t), 0);
	assert_int_equal(loop_timer_arm(c.t, 1000), 0);
	assert_int_equal(loop_run(c.l), 7);
	assert_int_equal(c.timer_fired, 1);
	loop_free(c.l);
}

/* Both pipes are readable in one batch; a's callback removes b. */
static int on_a(struct loop_source *s, int fd, uint32_t ev, void *ud)
{
	struct ctx *c = ud;
	char x;

	(void)ev;
	assert_int_equal(read(fd, &x, 1), 1);
	c->fired_a++;
	loop_remove(c->b);
	loop_remove(s); /* itself, too */
	loop_exit(c->l, 0);
	return 0;
}

static int on_b(struct loop_source *s, int fd, uint32_t ev, void *ud)
{
	struct ctx *c = ud;

	(void)s;
	(void)fd;
	(void)ev;
	c->fired_b++;
	return 0;
}

static void test_remove_during_dispatch(void **state)
{
	struct ctx c = {};
	int p1[2], p2[2];

	(void)state;
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	assert_int_equal(loop_new(&c.l), 0);
	/* Registered so that whichever the kernel reports first, a runs once. */
	assert_int_equal(loop_add_io(c.l, p1[0], EPOLLIN, on_a, &c, &c.a), 0);
	assert_int_equal(loop_add_io(c.l, p2[0], EPOLLIN, on_a, &c, &c.b), 0);
	assert_int_equal(write(p1[1], "x", 1), 1);
	assert_int_equal(write(p2[1], "x", 1), 1);
	assert_int_equal(loop_run(c.l), 0);
	/* One of them ran and removed the other before it could run. */
	assert_int_equal(c.fired_a, 1);
	assert_int_equal(c.fired_b, 0);
	loop_free(c.l);
	close(p1[0]), close(p1[1]), close(p2[0]), close(p2[1]);
}

static int on_sig(struct loop_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct ctx *c = ud;

	(void)s;
	c->sig = (int)si->ssi_signo;
	loop_exit(c->l, 0);
	return 0;
}

static void test_signal(void **state)
{
	struct ctx c = {};
	struct loop_source *s;
	int sigs[] = { SIGUSR1 };

	(void)state;
	assert_int_equal(loop_new(&c.l), 0);
	assert_int_equal(loop_add_signals(c.l, sigs, 1, on_sig, &c, &s), 0);
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	assert_int_equal(loop_run(c.l), 0);
	assert_int_equal(c.sig, SIGUSR1);
	(void)on_b;
	loop_free(c.l);
}

static int on_child(struct loop_source *s, pid_t pid, int status, void *ud)
{
	struct ctx *c = ud;

	assert_null(s); /* spent */
	c->child_pid = pid;
	c->child_status = status;
	loop_exit(c->l, 0);
	return 0;
}

static void test_child_status_and_orphans(void **state)
{
	struct ctx c = {};
	pid_t watched, other;

	(void)state;
	other = fork();
	if (other == 0)
		_exit(5);
	watched = fork();
	if (watched == 0) {
		usleep(100 * 1000);
		_exit(3);
	}
	assert_int_equal(loop_new(&c.l), 0);
	assert_int_equal(loop_add_child(c.l, watched, on_child, &c, NULL), 0);
	/* Wait until the other child is a zombie, then reap it (and only it). */
	siginfo_t si = {};

	assert_int_equal(waitid(P_PID, (id_t)other, &si, WEXITED | WNOWAIT), 0);
	loop_reap_others(c.l);
	assert_int_equal(waitpid(other, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(loop_run(c.l), 0);
	assert_int_equal(c.child_pid, watched);
	assert_true(WIFEXITED(c.child_status));
	assert_int_equal(WEXITSTATUS(c.child_status), 3);
	loop_free(c.l);
}

static void test_child_killed(void **state)
{
	struct ctx c = {};
	pid_t pid = fork();

	(void)state;
	if (pid == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(loop_new(&c.l), 0);
	assert_int_equal(loop_add_child(c.l, pid, on_child, &c, NULL), 0);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(loop_run(c.l), 0);
	assert_true(WIFSIGNALED(c.child_status));
	assert_int_equal(WTERMSIG(c.child_status), SIGTERM);
	loop_free(c.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_and_exit_code),
		cmocka_unit_test(test_remove_during_dispatch),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_child_status_and_orphans),
		cmocka_unit_test(test_child_killed),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
