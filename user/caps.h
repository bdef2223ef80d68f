/* SPDX-License-Identifier: GPL-2.0-only */
/* Capabilities: check what egressd needs; strip everything from the workload. */
#ifndef EGRESSD_CAPS_H
#define EGRESSD_CAPS_H

#include <stdbool.h>

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* Is cap in this process's effective set? */
bool caps_have(int cap);

/*
 * Is cap in this process's bounding set: what a process that joins our
 * container later (docker exec) may hold.
 */
bool caps_bounding_has(int cap);

/* Is no_new_privs set on this process? */
bool caps_no_new_privs(void);

/* Does the running kernel know CAP_BPF (5.8+)? */
bool caps_kernel_has_cap_bpf(void);

/*
 * CAP_BPF and CAP_NET_ADMIN (CAP_SYS_ADMIN in place of CAP_BPF before
 * 5.8).  On failure prints the error and how to grant them; -EPERM.
 */
int caps_check_required(void);

/*
 * In the workload, before exec: empty the bounding and ambient sets, lock
 * the securebits so uid 0 regains nothing on exec, empty the permitted,
 * effective and inheritable sets (after the uid change), and set
 * no_new_privs.  Then verify.  Call with CAP_SETPCAP still held.
 * Step 1 (caps_drop_bounding) must run before setuid, step 2 after.
 */
int caps_drop_bounding(void);
int caps_drop_all(void);

#endif
