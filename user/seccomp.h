/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The workload's one seccomp filter: it closes the path around the cgroup
 * setsockopt program that 32-bit (compat) system calls take.
 */
#ifndef EGRESSD_SECCOMP_H
#define EGRESSD_SECCOMP_H

/*
 * The kernel runs cgroup setsockopt programs only for native system calls
 * (net/socket.c: "if (!compat) BPF_CGROUP_RUN_PROG_SETSOCKOPT(...)"), and
 * io_uring's setsockopt likewise skips them inside a compat syscall.  So a
 * 32-bit binary, or a 64-bit one using the 32-bit entry (int $0x80),
 * could set IPV6_FREEBIND or join a group unjudged.  This filter makes
 * setsockopt, socketcall(SYS_SETSOCKOPT) and the io_uring calls fail with
 * EPERM on the compat ABI, and every x32 call likewise; native calls and
 * every other compat call are untouched.  Needs no_new_privs already set.
 * 0 or -errno; -EOPNOTSUPP on an architecture it does not know.
 */
int seccomp_deny_compat_sockopt(void);

#endif
