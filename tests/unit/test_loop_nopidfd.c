// SPDX-License-Identifier: GPL-2.0-only
/*
 * loop_add_child() where pidfd_open is refused (valgrind 3.19, an old
 * seccomp profile): the child is then polled with waitid(P_PID) on a
 * timerfd, and its exit status must still arrive, exactly once, and only
 * once it has exited.  Each case runs in a forked process whose seccomp
 * filter answers pidfd_open with the errno under test, so the test runner
 * itself keeps pidfd_open.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <cmocka.h>

#include "loop.h"

struct ctx {
	struct loop *l;
	int calls, status;
	pid_t pid;
};

static int on_child(struct loop_source *s, pid_t pid, int status, void *ud)
{
	struct ctx *c = ud;

	(void)s;
	c->calls++;
	c->pid = pid;
	c->status = status;
	loop_exit(c->l, 0);
	return 0;
}

/* pidfd_open -> errno e; everything else allowed.  0 or -errno. */
static int refuse_pidfd_open(int e)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)e),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(insns) / sizeof(insns[0]), .filter = insns };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		return -errno;
	return 0;
}

/*
 * In this process: refuse pidfd_open with e (0: leave it), watch a child
 * that sleeps 200 ms and exits 7.  Exit codes name the first failed step.
 */
static int watch_child(int e)
{
	struct ctx c = { 0 };
	struct timespec t0, t1;
	pid_t pid;
	long ms;

	if (e && refuse_pidfd_open(e))
		return 10;
	if (e && syscall(SYS_pidfd_open, getpid(), 0) >= 0)
		return 11; /* the filter does not bite: the test would prove nothing */
	if (loop_new(&c.l))
		return 12;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0)
		return 13;
	if (pid == 0) {
		usleep(200000);
		_exit(7);
	}
	if (loop_add_child(c.l, pid, on_child, &c, NULL))
		return 14;
	if (loop_run(c.l))
		return 15;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (c.calls != 1)
		return 16;
	if (c.pid != pid || !WIFEXITED(c.status) || WEXITSTATUS(c.status) != 7)
		return 17;
	if (ms < 190)
		return 18; /* reported before the child exited */
	if (waitpid(pid, NULL, WNOHANG) != -1 || errno != ECHILD)
		return 19; /* the loop must have reaped it */
	loop_free(c.l);
	return 0;
}

static int in_child(int e)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(watch_child(e));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_pidfd(void **state)
{
	(void)state;
	assert_int_equal(in_child(0), 0);
}

static void test_enosys_polls(void **state)
{
	(void)state;
	assert_int_equal(in_child(ENOSYS), 0);
}

static void test_eperm_polls(void **state)
{
	(void)state;
	assert_int_equal(in_child(EPERM), 0);
}

/* Any other refusal is an error, as before: the caller kills the command. */
static int other_errno(void)
{
	struct loop *l;
	pid_t pid;
	int err;

	if (refuse_pidfd_open(EMFILE) || loop_new(&l))
		return 10;
	pid = fork();
	if (pid == 0)
		_exit(0);
	err = loop_add_child(l, pid, on_child, NULL, NULL);
	waitpid(pid, NULL, 0);
	loop_free(l);
	return err == -EMFILE ? 0 : 11;
}

static void test_other_errno_fails(void **state)
{
	int status;
	pid_t pid = fork();

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(other_errno());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pidfd),
		cmocka_unit_test(test_enosys_polls),
		cmocka_unit_test(test_eperm_polls),
		cmocka_unit_test(test_other_errno_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
