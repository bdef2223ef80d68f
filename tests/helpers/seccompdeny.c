// SPDX-License-Identifier: GPL-2.0-only
/*
 * seccompdeny SYSCALL[,SYSCALL...] -- CMD [ARG...]: run CMD under a seccomp
 * filter that makes the named system calls fail with EPERM, as a
 * container's seccomp profile refuses bpf() or unshare().  Native
 * architecture only (any other is killed, like nouserns); sets
 * no_new_privs, which an unprivileged filter needs.  For the e2e test of
 * egressd check.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "seccompdeny: add this architecture's AUDIT_ARCH"
#endif

#define MAX_DENY 16

static const struct {
	const char *name;
	int nr;
} known[] = {
	{ "bpf", __NR_bpf },
	{ "unshare", __NR_unshare },
	{ "clone3", __NR_clone3 },
	{ "setns", __NR_setns },
	{ "perf_event_open", __NR_perf_event_open },
};

static int lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strlen(known[i].name) == len && strncmp(known[i].name, name, len) == 0)
			return known[i].nr;
	}
	return -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: seccompdeny SYSCALL[,SYSCALL...] -- CMD [ARG...]\n"
			"SYSCALL: bpf, unshare, clone3, setns, perf_event_open\n");
}

int main(int argc, char **argv)
{
	/* arch check (3), load nr (1), a compare and a return per call, allow */
	struct sock_filter f[4 + 2 * MAX_DENY + 1];
	struct sock_fprog prog;
	const char *p;
	size_t n = 0, k = 0;
	int nrs[MAX_DENY];

	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		usage();
		return 2;
	}
	for (p = argv[1];;) {
		size_t len = strcspn(p, ",");
		int nr = lookup(p, len);

		if (nr < 0 || n == MAX_DENY) {
			fprintf(stderr, "seccompdeny: unknown system call \"%.*s\"\n", (int)len, p);
			usage();
			return 2;
		}
		nrs[n++] = nr;
		if (!p[len])
			break;
		p += len + 1;
	}

	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < n; i++) {
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i], 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)k;
	prog.filter = f;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)) {
		perror("seccompdeny: seccomp");
		return 2;
	}
	execvp(argv[3], argv + 3);
	fprintf(stderr, "seccompdeny: %s: %s\n", argv[3], strerror(errno));
	return 127;
}
