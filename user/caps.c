// SPDX-License-Identifier: GPL-2.0-only
/* Capabilities: check that egressd holds what it needs; drop them all for the workload. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/securebits.h>

#include "caps.h"
#include "log.h"

static int capget2(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return syscall(SYS_capget, &hdr, data) ? -errno : 0;
}

bool caps_have(int cap)
{
	struct __user_cap_data_struct d[2] = {};

	if (capget2(d))
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

bool caps_bounding_has(int cap)
{
	return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1;
}

bool caps_no_new_privs(void)
{
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
}

static int cap_last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = -1;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = -1;
		fclose(f);
	}
	return last;
}

bool caps_kernel_has_cap_bpf(void)
{
	return cap_last_cap() >= CAP_BPF;
}

int caps_check_required(void)
{
	bool has_bpf = caps_kernel_has_cap_bpf();
	bool ok_bpf = has_bpf ? caps_have(CAP_BPF) : caps_have(CAP_SYS_ADMIN);
	bool ok_net = caps_have(CAP_NET_ADMIN);

	if (ok_bpf && ok_net)
		return 0;
	pr_err("Network isolation requires CAP_BPF and CAP_NET_ADMIN capabilities");
	pr_err("missing: %s%s%s. Run egressd as root, or grant them: for Docker use --cap-add=BPF --cap-add=NET_ADMIN%s",
	       ok_bpf ? "" : (has_bpf ? "CAP_BPF" : "CAP_SYS_ADMIN (this kernel predates CAP_BPF)"),
	       !ok_bpf && !ok_net ? ", " : "", ok_net ? "" : "CAP_NET_ADMIN",
	       has_bpf ? "" : " --cap-add=SYS_ADMIN");
	return -EPERM;
}

/* Whether caps_drop_bounding() could empty the bounding set. */
static bool bounding_dropped;

int caps_drop_bounding(void)
{
	int last = cap_last_cap();

	/*
	 * Without CAP_SETPCAP (an unprivileged egressd with isolation OFF)
	 * the bounding set cannot be changed, and need not be: no_new_privs,
	 * set below, already stops exec from granting anything.
	 */
	bounding_dropped = caps_have(CAP_SETPCAP);
	if (!bounding_dropped)
		return 0;

	if (last < 0)
		last = CAP_LAST_CAP;
	for (int c = 0; c <= last; c++) {
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL)
			return -errno;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;
	/* uid 0 must not regain capabilities through exec or setuid. */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED,
		  0, 0, 0))
		return -errno;
	return 0;
}

int caps_drop_all(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = {};
	int last = cap_last_cap();

	if (syscall(SYS_capset, &hdr, d))
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;

	/* Trust, but verify: a capability left behind is a way out. */
	if (capget2(d))
		return -errno;
	if (d[0].effective | d[1].effective | d[0].permitted | d[1].permitted | d[0].inheritable |
	    d[1].inheritable)
		return -EPERM;
	for (int c = 0; bounding_dropped && c <= (last < 0 ? CAP_LAST_CAP : last); c++) {
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			return -EPERM;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_ADMIN, 0, 0) == 1)
		return -EPERM;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -EPERM;
	return 0;
}
