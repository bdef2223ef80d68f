// SPDX-License-Identifier: GPL-2.0-only
/*
 * The workload's seccomp filter (user/seccomp.c): in a child process,
 * native setsockopt still works, the same call through the 32-bit entry
 * (int $0x80) fails with EPERM, and other 32-bit calls still work.  A
 * control child without the filter shows the 32-bit setsockopt working,
 * so the test proves the filter, not a kernel that lacks the 32-bit ABI.
 * Where seccomp(2) itself answers ENOSYS (valgrind 3.19), the same filter
 * must still be installed, through prctl().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <cmocka.h>

#include "seccomp.h"

#if defined(__x86_64__)
/* i386 syscall numbers (arch/x86/entry/syscalls/syscall_32.tbl). */
#define NR32_GETPID 20
#define NR32_SOCKETCALL 102
#define NR32_SETSOCKOPT 366
#define SYS_SETSOCKOPT_CALL 14

static long int80(long nr, long a, long b, long c, long d, long e)
{
	long ret;

	asm volatile("int $0x80"
		     : "=a"(ret)
		     : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
		     : "memory");
	return ret;
}

/* Set: the child first makes seccomp(2) answer ENOSYS, as valgrind does. */
static bool no_seccomp_syscall;

static int refuse_seccomp_syscall(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(insns) / sizeof(insns[0]), .filter = insns };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		return -1;
	/* The control: seccomp(2) really is refused now. */
	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &(uint32_t){ SECCOMP_RET_ALLOW }) == -1 &&
			       errno == ENOSYS ? 0 : -1;
}

/* Child exit codes: 0 all as expected, else the number of the check. */
static int child_checks(bool filtered)
{
	uint32_t *one, *args;
	int fd, rc = 0;
	long r;

	if (no_seccomp_syscall && refuse_seccomp_syscall())
		return 13;
	if (filtered) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || seccomp_deny_compat_sockopt())
			return 10;
	}
	/* The 32-bit entry takes 32-bit pointers: keep its buffers low. */
	one = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		   -1, 0);
	if (one == MAP_FAILED)
		return 11;
	one[0] = 1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 12;
	/* Native: untouched either way. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, sizeof(*one)))
		return 1;
	r = int80(NR32_SETSOCKOPT, fd, SOL_SOCKET, SO_REUSEADDR, (long)(uintptr_t)one, 4);
	if (filtered ? r != -EPERM : r != 0)
		rc = 2;
	/* socketcall(SYS_SETSOCKOPT, args) */
	args = one + 16;
	args[0] = (uint32_t)fd;
	args[1] = SOL_SOCKET;
	args[2] = SO_REUSEADDR;
	args[3] = (uint32_t)(uintptr_t)one;
	args[4] = 4;
	r = int80(NR32_SOCKETCALL, SYS_SETSOCKOPT_CALL, (long)(uintptr_t)args, 0, 0, 0);
	if (!rc && (filtered ? r != -EPERM : r != 0))
		rc = 3;
	/* Other 32-bit calls still work. */
	if (!rc && int80(NR32_GETPID, 0, 0, 0, 0, 0) != getpid())
		rc = 4;
	return rc;
}

static int run_child(bool filtered)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(child_checks(filtered));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_control_without_filter(void **state)
{
	(void)state;
	/* If this fails the kernel has no 32-bit ABI, and the filter test means nothing. */
	assert_int_equal(run_child(false), 0);
}

static void test_filter_refuses_compat_setsockopt(void **state)
{
	(void)state;
	assert_int_equal(run_child(true), 0);
}

static void test_filter_without_seccomp_syscall(void **state)
{
	(void)state;
	no_seccomp_syscall = true;
	assert_int_equal(run_child(false), 0); /* control: the ENOSYS filter alone changes nothing */
	assert_int_equal(run_child(true), 0);
	no_seccomp_syscall = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_without_filter),
		cmocka_unit_test(test_filter_refuses_compat_setsockopt),
		cmocka_unit_test(test_filter_without_seccomp_syscall),
	};

	/*
	 * No ia32 emulation (not built, or ia32_emulation=0): int $0x80
	 * faults or returns ENOSYS, and nothing can take that path.
	 */
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(int80(NR32_GETPID, 0, 0, 0, 0, 0) == getpid() ? 0 : 1);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "SKIP: this kernel has no 32-bit syscall ABI\n");
		return 77;
	}
	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
#else
int main(void)
{
	fprintf(stderr, "SKIP: the compat-syscall test is written for x86_64\n");
	return 77;
}
#endif
