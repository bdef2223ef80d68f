// SPDX-License-Identifier: GPL-2.0-only
/*
 * seedprobe: does connect() alone leave a verdict in egressd's `verdicts`
 * socket storage (tests/e2e/48_verdict_seed.sh)?
 *
 *   seedprobe hold tcp|udp ADDR PORT SECONDS [send]
 *	(the workload, under egressd) connect, send nothing (with "send":
 *	one byte, so the packet hook makes the entry itself), print
 *	"connected pid=PID fd=FD" or "connect error=ENAME", then keep the
 *	socket open for SECONDS.  Exit 0 connected, 1 refused, 2 usage.
 *   seedprobe lookup PID FD CGROUP_DIR
 *	(root, outside) take fd FD of process PID (pidfd_getfd), find the
 *	`verdicts` map through the programs effective on CGROUP_DIR's
 *	connect4 hook, and print the socket's entry:
 *	"entry family=4 proto=17 has_port=1 dport=7 via_lo=0
 *	 addr=198.51.100.10 reason=allowlist rule=0", or "none".
 *	Exit 0 either way, 2 on any setup error.
 *
 * Raw bpf(2), no libbpf: each helper is one self-contained binary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "egressd.h"
#include "helper_util.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif

/* bpf/egress.bpf.c's struct dest and struct verdict, byte for byte. */
struct seed_dest {
	uint8_t family;
	uint8_t proto;
	uint8_t has_port;
	uint8_t via_lo;
	uint16_t dport;
	uint16_t sport;
	union {
		uint32_t v4;
		uint8_t v6[16];
	} addr;
};

struct seed_verdict {
	struct seed_dest d;
	uint32_t reason;
	uint32_t rule_id;
};

static int usage(void)
{
	fprintf(stderr, "usage: seedprobe hold tcp|udp ADDR PORT SECONDS [send]\n"
			"       seedprobe lookup PID FD CGROUP_DIR\n");
	return 2;
}

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int cmd_hold(char **argv, int send_one)
{
	unsigned long port, secs;
	struct sockaddr_storage ss;
	socklen_t len;
	int type, fd;

	if (!strcmp(argv[0], "tcp"))
		type = SOCK_STREAM;
	else if (!strcmp(argv[0], "udp"))
		type = SOCK_DGRAM;
	else
		return fprintf(stderr, "seedprobe: bad protocol '%s'\n", argv[0]), 2;
	if (parse_ulong(argv[2], 1, 65535, &port) || parse_addr(argv[1], port, &ss, &len) ||
	    parse_ulong(argv[3], 0, 3600, &secs))
		return fprintf(stderr, "seedprobe: bad address, port or seconds: %s %s %s\n",
			       argv[1], argv[2], argv[3]), 2;
	fd = socket(ss.ss_family, type, 0);
	if (fd < 0)
		return fprintf(stderr, "seedprobe: socket: %s\n", strerror(errno)), 2;
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		printf("connect error=%s\n", errname(errno));
		return 1;
	}
	if (send_one && send(fd, "x", 1, 0) != 1)
		return fprintf(stderr, "seedprobe: send: %s\n", strerror(errno)), 2;
	printf("connected pid=%d fd=%d\n", getpid(), fd);
	fflush(stdout);
	sleep(secs);
	close(fd);
	return 0;
}

/* The fd of the map named `verdicts` used by a program id, or -1. */
static int verdicts_of_prog(uint32_t id)
{
	uint32_t map_ids[64];
	struct bpf_prog_info pi;
	union bpf_attr a;
	int pfd, ret = -1;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	pfd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (pfd < 0)
		return -1;
	memset(&pi, 0, sizeof(pi));
	pi.nr_map_ids = sizeof(map_ids) / sizeof(map_ids[0]);
	pi.map_ids = (uintptr_t)map_ids;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = pfd;
	a.info.info_len = sizeof(pi);
	a.info.info = (uintptr_t)&pi;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a))
		goto out;
	for (uint32_t i = 0; i < pi.nr_map_ids && i < 64 && ret < 0; i++) {
		struct bpf_map_info mi;
		int mfd;

		memset(&a, 0, sizeof(a));
		a.map_id = map_ids[i];
		mfd = sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
		if (mfd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = mfd;
		a.info.info_len = sizeof(mi);
		a.info.info = (uintptr_t)&mi;
		if (!sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) && !strcmp(mi.name, "verdicts") &&
		    mi.type == BPF_MAP_TYPE_SK_STORAGE) {
			if (mi.value_size != sizeof(struct seed_verdict)) {
				fprintf(stderr, "seedprobe: verdicts value is %u bytes, expected %zu\n",
					mi.value_size, sizeof(struct seed_verdict));
				close(mfd);
				ret = -2;
				break;
			}
			ret = mfd;
		} else {
			close(mfd);
		}
	}
out:
	close(pfd);
	return ret;
}

static const char *reason_name(uint32_t r)
{
	switch (r) {
	case EGRESS_PASS_ALLOWLIST:
		return "allowlist";
	case EGRESS_PASS_LEARNED:
		return "learned";
	case EGRESS_PASS_LOOPBACK:
		return "loopback";
	case EGRESS_PASS_RESOLVER:
		return "resolver";
	default:
		return "other";
	}
}

static int cmd_lookup(char **argv)
{
	unsigned long pid, fd;
	uint32_t ids[64], cnt = 64;
	struct seed_verdict v;
	char addr[INET6_ADDRSTRLEN];
	union bpf_attr a;
	int cg, pidfd, sk, map = -1;

	if (parse_ulong(argv[0], 1, 1UL << 22, &pid) || parse_ulong(argv[1], 0, 1 << 20, &fd))
		return fprintf(stderr, "seedprobe: bad pid or fd: %s %s\n", argv[0], argv[1]), 2;
	cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (cg < 0)
		return fprintf(stderr, "seedprobe: %s: %s\n", argv[2], strerror(errno)), 2;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = cg;
	a.query.attach_type = BPF_CGROUP_INET4_CONNECT;
	a.query.query_flags = BPF_F_QUERY_EFFECTIVE;
	a.query.prog_ids = (uintptr_t)ids;
	a.query.prog_cnt = cnt;
	if (sys_bpf(BPF_PROG_QUERY, &a))
		return fprintf(stderr, "seedprobe: prog query on %s: %s\n", argv[2], strerror(errno)), 2;
	cnt = a.query.prog_cnt;
	for (uint32_t i = 0; i < cnt && i < 64 && map == -1; i++)
		map = verdicts_of_prog(ids[i]);
	if (map < 0)
		return fprintf(stderr, "seedprobe: no usable verdicts map on %s's connect4 programs\n",
			       argv[2]), 2;

	pidfd = syscall(__NR_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0)
		return fprintf(stderr, "seedprobe: pidfd_open %lu: %s\n", pid, strerror(errno)), 2;
	sk = syscall(__NR_pidfd_getfd, pidfd, (int)fd, 0);
	if (sk < 0)
		return fprintf(stderr, "seedprobe: pidfd_getfd %lu/%lu: %s\n", pid, fd, strerror(errno)), 2;

	memset(&a, 0, sizeof(a));
	memset(&v, 0, sizeof(v));
	a.map_fd = map;
	a.key = (uintptr_t)&sk;
	a.value = (uintptr_t)&v;
	if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a)) {
		if (errno == ENOENT) {
			printf("none\n");
			return 0;
		}
		return fprintf(stderr, "seedprobe: lookup: %s\n", strerror(errno)), 2;
	}
	if (!inet_ntop(v.d.family == 4 ? AF_INET : AF_INET6, &v.d.addr, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	printf("entry family=%u proto=%u has_port=%u dport=%u via_lo=%u addr=%s reason=%s rule=%u\n",
	       v.d.family, v.d.proto, v.d.has_port, v.d.dport, v.d.via_lo, addr,
	       reason_name(v.reason), v.rule_id);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "hold"))
		return cmd_hold(argv + 2, 0);
	if (argc == 7 && !strcmp(argv[1], "hold") && !strcmp(argv[6], "send"))
		return cmd_hold(argv + 2, 1);
	if (argc == 5 && !strcmp(argv[1], "lookup"))
		return cmd_lookup(argv + 2);
	return usage();
}
