// SPDX-License-Identifier: GPL-2.0-only
/*
 * A classic-BPF seccomp filter, built here rather than with libseccomp so
 * that the only rule it holds is the one seccomp.h explains.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "seccomp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* socketcall(2)'s call number for setsockopt (linux/net.h). */
#define SYS_SETSOCKOPT_CALL 14

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define COMPAT_ARCH AUDIT_ARCH_I386
#define X32_BIT 0x40000000U
/* arch/x86/entry/syscalls/syscall_32.tbl */
#define COMPAT_SETSOCKOPT 366
#define COMPAT_SOCKETCALL 102
#define COMPAT_IO_URING_SETUP 425
#define COMPAT_IO_URING_ENTER 426
#define COMPAT_IO_URING_REGISTER 427
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#define COMPAT_ARCH AUDIT_ARCH_ARM
/* arch/arm/tools/syscall.tbl (EABI has no socketcall; 102 is unused) */
#define COMPAT_SETSOCKOPT 294
#define COMPAT_SOCKETCALL 102
#define COMPAT_IO_URING_SETUP 425
#define COMPAT_IO_URING_ENTER 426
#define COMPAT_IO_URING_REGISTER 427
#endif

#ifdef NATIVE_ARCH
#define LD_ARCH BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))
#define LD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LD_ARG0 BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define DENY RET(SECCOMP_RET_ERRNO | EPERM)
#define ALLOW RET(SECCOMP_RET_ALLOW)

int seccomp_deny_compat_sockopt(void)
{
	/* Jump offsets count instructions forward from the next one. */
	static struct sock_filter insns[] = {
		/* 0 */ LD_ARCH,
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 4),
		/* 2 */ LD_NR,
#ifdef X32_BIT
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1),
#else
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JA | BPF_K, 1, 0, 0),
#endif
		/* 4 */ DENY,
		/* 5 */ ALLOW,
		/* 6: not native; compat is judged, any other arch is refused */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_ARCH, 1, 0),
		/* 7 */ DENY,
		/* 8 */ LD_NR,
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_SETSOCKOPT, 6, 0),
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_IO_URING_SETUP, 5, 0),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_IO_URING_ENTER, 4, 0),
		/* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_IO_URING_REGISTER, 3, 0),
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, COMPAT_SOCKETCALL, 0, 3),
		/* 14 */ LD_ARG0,
		/* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_SETSOCKOPT_CALL, 0, 1),
		/* 16 */ DENY,
		/* 17 */ ALLOW,
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(insns), .filter = insns };

	/*
	 * prctl() installs the same filter (flags 0) where seccomp(2) itself
	 * is missing: valgrind 3.19 answers it ENOSYS, and `make valgrind`
	 * runs this child under valgrind until its exec.
	 */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) &&
	    (errno != ENOSYS || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)))
		return -errno;
	return 0;
}
#else
int seccomp_deny_compat_sockopt(void)
{
	return -EOPNOTSUPP;
}
#endif
