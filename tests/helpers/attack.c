// SPDX-License-Identifier: GPL-2.0-only
/*
 * attack: the side-channel attacks of tests/adversarial/, as a workload.
 *
 * Every syscall the attack depends on is reported on its own line,
 * "CALL[ OPTION][ (VIA)]: RESULT", RESULT being "ok" or the errno name:
 *
 *   setsockopt SO_BINDTODEVICE: ok
 *   setsockopt IPV6_FREEBIND (int 0x80): EPERM
 *   sendmsg: ok
 *
 * Exit status, as with probe: 0 = every syscall of the attack succeeded,
 * 1 = one was refused (the line above names it and the errno), 2 = usage
 * or a setup error that makes the result meaningless.  The first refusal
 * ends the attack: what would follow depends on it.
 *
 *   attack send [OPTIONS] udp|tcp DST PORT
 *     --dev IF              SO_BINDTODEVICE (unprivileged since 5.7)
 *     --ip-unicast-if IF    IP_UNICAST_IF (SOL_IP, also on AF_INET6)
 *     --ipv6-unicast-if IF  IPV6_UNICAST_IF
 *     --freebind            IP_FREEBIND / IPV6_FREEBIND
 *     --freebind-compat     the same setsockopt through int $0x80 (the
 *                           32-bit compat syscall; optval below 4 GiB)
 *     --bind ADDR           bind to ADDR (port --sport, else 0)
 *     --sport PORT          bind to PORT (on ADDR, else the wildcard)
 *     --ipopt SPEC          setsockopt IP_OPTIONS
 *     --retopts SPEC        IP_RETOPTS cmsg on every sendmsg (UDP)
 *     --pktinfo SRC         IP_PKTINFO / IPV6_PKTINFO cmsg with source SRC
 *     --marker TEXT         the payload (UDP; TCP: sent once connected)
 *     --dns NAME            the payload is a DNS query (A, IN) for NAME
 *     --dns-smuggle KIND:TEXT   ...carrying TEXT where a proxy that forwards
 *                           the client's bytes would pass it on: ar (an
 *                           additional TXT record), an (an answer record),
 *                           edns (an EDNS option), trail (bytes after it)
 *     --count N             send the datagram N times (default 1)
 *     --reply MS            wait MS for an answer: UDP any datagram, TCP
 *                           the connection; none is a failure (exit 1)
 *     --hold MS             keep the socket open MS after the attack
 *                           (default 200: the frames leave before close)
 *     --mptcp               TCP: socket(IPPROTO_MPTCP)
 *     --fastopen            TCP: sendto(MSG_FASTOPEN) instead of connect
 *     --fastopen-connect    TCP: TCP_FASTOPEN_CONNECT; the first write
 *                           sends the SYN
 *     --connect-to A --connect-port P   UDP: connect to A:P first, then
 *                           sendmsg to DST all the same
 *     --mmsg-with A --mmsg-port P [--mmsg-denied-first]   UDP: one sendmmsg
 *                           of a datagram to A:P and the marker to DST
 *     --name-family unspec  the destination's sa_family is AF_UNSPEC
 *     --v6-socket           an IPv4 DST as a sockaddr_in to an AF_INET6 socket
 *     --unshare user|user+net   first unshare a user (and network)
 *                           namespace, as an unprivileged process may
 *     --hdrincl             raw, IPv4: IP_HDRINCL, the attack's own header
 *     --sockopt-uring[-sqpoll]  every socket option above through io_uring
 *                           (URING_CMD SETSOCKOPT; with SQPOLL: its thread)
 *   attack send [OPTIONS] udplite|icmp|raw DST PORT   UDP-Lite; an echo
 *     request on a ping socket; SOCK_RAW protocol 253 (PORT unused)
 *   attack send [OPTIONS] packet|sockpacket IF PORT   a broadcast frame
 *     (ethertype 0x88b5, the marker) on IF by AF_PACKET or SOCK_PACKET
 *   attack uring [--async] [--sqpoll] [--marker TEXT] [--sport P] [--hold MS]
 *                socket|connect|sendmsg|send|send-zc|sendmsg-zc DST PORT
 *     io_uring through its raw syscalls (see cmd_uring)
 *   attack escape [--cgroup2 MNT] [--target PID] [-- send ARGS...]
 *     bpf() QUERY/DETACH/GET_FD_BY_ID/OBJ_GET, signals, ptrace,
 *     pidfd_getfd and /proc against egressd, then (after --) a send
 *   attack join [--compat|--uring|--uring-sqpoll] [--hold MS] METHOD IF GROUP [SOURCE]
 *     (--uring: the option through io_uring's URING_CMD SETSOCKOPT, 6.7+)
 *     METHOD: ip-add-membership, mcast-join-group,
 *             ip-add-source-membership, mcast-join-source-group,
 *             ipv6-join-group; the family is GROUP's.  --compat goes
 *             through int $0x80 (ip-add-membership,
 *             ip-add-source-membership and ipv6-join-group, whose
 *             structures are the same for 32 and 64 bits).
 *
 * SPEC for IPv4 options: lsrr:ADDR,ADDR...  ssrr:ADDR,...  rr:SLOTS  nop,
 * joined with + in list order (nop+nop+lsrr:A,B; rr:1+lsrr:A,B)
 * As for setsockopt(IP_OPTIONS) itself, the first address of a source
 * route is the first hop (the packet's destination on the wire) and the
 * socket's destination is appended by the kernel as the last one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/io_uring.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "helper_util.h"

#define EXIT_DONE 0
#define EXIT_REFUSED 1
#define EXIT_USAGE 2

/* i386 syscall numbers: what int $0x80 dispatches on. */
#define COMPAT_NR_SETSOCKOPT 366

static int usage(void)
{
	fprintf(stderr,
		"usage: attack send [--dev IF] [--ip-unicast-if IF] [--ipv6-unicast-if IF]\n"
		"                   [--freebind|--freebind-compat] [--bind ADDR] [--sport PORT]\n"
		"                   [--ipopt SPEC] [--retopts SPEC] [--pktinfo SRC]\n"
		"                   [--marker TEXT|--dns NAME] [--count N] [--reply MS]\n"
		"                   [--hold MS] udp|tcp DST PORT\n"
		"                   [--mptcp] [--fastopen|--fastopen-connect]\n"
		"                   [--connect-to ADDR --connect-port PORT]\n"
		"                   [--mmsg-with ADDR --mmsg-port PORT [--mmsg-denied-first]]\n"
		"                   [--name-family unspec] [--v6-socket] [--unshare user|user+net]\n"
		"                   [--hdrincl] [--sockopt-uring|--sockopt-uring-sqpoll]\n"
		"                   udplite|icmp|raw DST PORT | packet|sockpacket IF PORT\n"
		"       attack uring [--async] [--sqpoll] [--marker TEXT] [--sport PORT] [--hold MS]\n"
		"                    socket|connect|sendmsg|send|send-zc|sendmsg-zc DST PORT\n"
		"       attack escape [--cgroup2 MNT] [--target PID] [-- send ARGS...]\n"
		"       attack join [--compat|--uring|--uring-sqpoll] [--hold MS] METHOD IF GROUP [SOURCE]\n"
		"SPEC: lsrr:ADDR,...  ssrr:ADDR,...  rr:SLOTS  nop, joined with +\n");
	return EXIT_USAGE;
}

static int setup_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "attack: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/*
 * One line per syscall: "WHAT: ok" or "WHAT: ERRNO".  Returns 0 on ok.
 * Call it as report("x", x(...)): errno is read here, after the call
 * (an errno argument could be evaluated before it).
 */
static int report(const char *what, int ret)
{
	int err = errno;

	if (ret < 0)
		printf("%s: %s\n", what, errname(err));
	else
		printf("%s: ok\n", what);
	fflush(stdout);
	return ret < 0 ? -1 : 0;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int n;

	do {
		left = deadline - now_ms();
		n = poll(&pfd, 1, left > 0 ? (int)left : 0);
	} while (n < 0 && errno == EINTR);
	return n;
}

/*
 * The 32-bit compat syscall path from 64-bit code.  The kernel reads only
 * the low 32 bits of every argument, so pointers must lie below 4 GiB
 * (MAP_32BIT).  If the kernel has no IA32 emulation, int $0x80 faults:
 * that is a setup error, not a refusal.
 */
static sigjmp_buf int80_jmp;

static void int80_fault(int sig)
{
	(void)sig;
	siglongjmp(int80_jmp, 1);
}

static long compat_syscall5(long nr, long a1, long a2, long a3, long a4, long a5)
{
	long ret = nr;

	__asm__ volatile("int $0x80"
			 : "+a"(ret)
			 : "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5)
			 : "memory", "cc", "r8", "r9", "r10", "r11");
	return ret;
}

static void *low_page;

/*
 * setsockopt through int $0x80.  Returns like setsockopt(); -2 when the
 * compat path itself is unusable (already reported as a setup error).
 */
static int compat_setsockopt(int fd, int level, int name, const void *val,
			     socklen_t len)
{
	struct sigaction sa = { .sa_handler = int80_fault }, old_segv, old_bus;
	long ret;

	if (!low_page) {
		low_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (low_page == MAP_FAILED) {
			low_page = NULL;
			fprintf(stderr, "attack: mmap MAP_32BIT: %s\n", strerror(errno));
			return -2;
		}
	}
	if ((uintptr_t)low_page > UINT32_MAX - 4096 || len > 4096) {
		fprintf(stderr, "attack: no optval buffer below 4 GiB\n");
		return -2;
	}
	memcpy(low_page, val, len);

	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigsetjmp(int80_jmp, 1)) {
		sigaction(SIGSEGV, &old_segv, NULL);
		sigaction(SIGBUS, &old_bus, NULL);
		fprintf(stderr, "attack: int $0x80 faulted: this kernel has no IA32 emulation\n");
		return -2;
	}
	ret = compat_syscall5(COMPAT_NR_SETSOCKOPT, fd, level, name,
			      (long)(uintptr_t)low_page, len);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return 0;
}

/*
 * setsockopt, natively or through int $0x80, reported as
 * "setsockopt NAME[ (int 0x80)]: RESULT".  Returns 0 ok, 1 refused,
 * 2 setup error (exit codes).
 */
/*
 * join --optlen N: pass the option in an N-byte buffer (the struct first,
 * zeros after).  Over a page, the kernel re-reads the caller's buffer
 * after the cgroup program judged a copy: egressd must refuse that.
 */
static unsigned long join_optlen;

/*
 * join --uring / --uring-sqpoll: the option goes through io_uring's
 * IORING_OP_URING_CMD SOCKET_URING_OP_SETSOCKOPT (6.7+), from the
 * submitting task or the SQPOLL thread.  Defined with the io_uring code.
 */
static int join_uring; /* 0: setsockopt(2), 1: io_uring, 2: io_uring SQPOLL */
static int uring_setsockopt(int fd, int level, int opt, const void *val, socklen_t len,
			    bool sqpoll);

static int do_setsockopt(int fd, int level, int opt, const char *name,
			 const void *val, socklen_t len, bool compat)
{
	static unsigned char big[65536];
	char what[96];
	int ret;

	if (join_optlen > len && !compat) {
		memset(big, 0, sizeof(big));
		memcpy(big, val, len);
		val = big;
		len = (socklen_t)join_optlen;
	}

	snprintf(what, sizeof(what), "setsockopt %s%s", name,
		 compat ? " (int 0x80)" : join_uring == 2 ? " (io_uring SQPOLL)" :
		 join_uring ? " (io_uring)" : "");
	if (compat) {
		ret = compat_setsockopt(fd, level, opt, val, len);
		if (ret == -2)
			return EXIT_USAGE;
	} else if (join_uring) {
		ret = uring_setsockopt(fd, level, opt, val, len, join_uring == 2);
		if (ret == -2)
			return EXIT_USAGE;
	} else {
		ret = setsockopt(fd, level, opt, val, len);
	}
	return report(what, ret) ? EXIT_REFUSED : EXIT_DONE;
}

/* One option of a SPEC at buf[0..room): its length, or -1. */
static int parse_one_ipopt(const char *spec, size_t speclen, unsigned char *buf, size_t room)
{
	char one[256];
	unsigned char type;
	const char *list;
	size_t n = 3;

	if (speclen >= sizeof(one))
		return -1;
	memcpy(one, spec, speclen);
	one[speclen] = '\0';
	if (!strcmp(one, "nop")) {
		if (room < 1)
			return -1;
		buf[0] = IPOPT_NOOP;
		return 1;
	}
	if (!strncmp(one, "rr:", 3)) {
		unsigned long slots;

		if (parse_ulong(one + 3, 1, 9, &slots) < 0 || 3 + 4 * slots > room)
			return -1;
		buf[0] = IPOPT_RR;
		buf[1] = (unsigned char)(3 + 4 * slots);
		buf[2] = 4;
		return buf[1];
	}
	if (!strncmp(one, "lsrr:", 5)) {
		type = IPOPT_LSRR;
		list = one + 5;
	} else if (!strncmp(one, "ssrr:", 5)) {
		type = IPOPT_SSRR;
		list = one + 5;
	} else {
		return -1;
	}
	while (*list) {
		char addr[INET_ADDRSTRLEN];
		size_t l = strcspn(list, ",");
		struct in_addr in;

		if (l == 0 || l >= sizeof(addr) || n + 4 > room)
			return -1;
		memcpy(addr, list, l);
		addr[l] = '\0';
		if (inet_pton(AF_INET, addr, &in) != 1)
			return -1;
		memcpy(buf + n, &in, 4);
		n += 4;
		list += l;
		if (*list == ',')
			list++;
	}
	if (n == 3)
		return -1;
	buf[0] = type;
	buf[1] = (unsigned char)n;
	buf[2] = 4;
	return (int)n;
}

/*
 * SPEC[+SPEC...] -> an IPv4 options block (<= 40), each SPEC one of
 * lsrr:A,B,...  ssrr:A,...  rr:SLOTS  nop, in order (so "nop+nop+lsrr:..."
 * or "rr:1+lsrr:..." put the source route further into the list).
 */
static int parse_ipopt(const char *spec, unsigned char *buf, socklen_t *len)
{
	size_t n = 0;

	memset(buf, 0, 40);
	while (*spec) {
		size_t l = strcspn(spec, "+");
		int r = parse_one_ipopt(spec, l, buf + n, 40 - n);

		if (r < 0)
			return -1;
		n += (size_t)r;
		spec += l;
		if (*spec == '+')
			spec++;
	}
	if (n == 0)
		return -1;
	/* Pad with IPOPT_END to a multiple of 4, as the kernel would. */
	*len = (socklen_t)((n + 3) & ~3u);
	return 0;
}

/* A DNS query (RD, one question, A IN) for NAME. */
static int build_dns(const char *name, unsigned char *buf, size_t size,
		     size_t *len)
{
	size_t n = 12;
	const char *p = name;

	if (size < 12 + strlen(name) + 6)
		return -1;
	memset(buf, 0, 12);
	buf[0] = (unsigned char)(getpid() >> 8);
	buf[1] = (unsigned char)getpid();
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	while (*p) {
		size_t l = strcspn(p, ".");

		if (l == 0 || l > 63)
			return -1;
		buf[n++] = (unsigned char)l;
		memcpy(buf + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	buf[n++] = 0;
	buf[n++] = 0;
	buf[n++] = 1; /* A */
	buf[n++] = 0;
	buf[n++] = 1; /* IN */
	*len = n;
	return 0;
}

/*
 * Append TEXT to the query in buf (built by build_dns()) where kind says:
 * a record or option a filter must not forward.  The counts in the header
 * follow, so the message stays well formed.
 */
static int smuggle_dns(const char *spec, unsigned char *buf, size_t size, size_t *len)
{
	const char *text = strchr(spec, ':');
	size_t n = *len, tl;

	if (!text)
		return -1;
	text++;
	tl = strlen(text);
	if (tl > 200 || n + tl + 32 > size)
		return -1;
	if (!strncmp(spec, "trail:", 6)) {
		memcpy(buf + n, text, tl);
		*len = n + tl;
		return 0;
	}
	if (!strncmp(spec, "edns:", 5)) {
		/* OPT: root name, type 41, payload 1232, ttl 0, rdata = one option */
		unsigned char opt[] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };

		opt[9] = (unsigned char)((tl + 4) >> 8);
		opt[10] = (unsigned char)(tl + 4);
		memcpy(buf + n, opt, sizeof(opt));
		n += sizeof(opt);
		buf[n++] = 0xfd; /* option code 65001 (experimental) */
		buf[n++] = 0xe9;
		buf[n++] = (unsigned char)(tl >> 8);
		buf[n++] = (unsigned char)tl;
		memcpy(buf + n, text, tl);
		*len = n + tl;
		buf[11] = 1; /* ARCOUNT */
		return 0;
	}
	if (!strncmp(spec, "ar:", 3) || !strncmp(spec, "an:", 3)) {
		/* name: a pointer to the question's; TXT IN, ttl 0, one string */
		unsigned char rr[] = { 0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0 };

		rr[10] = (unsigned char)((tl + 1) >> 8);
		rr[11] = (unsigned char)(tl + 1);
		memcpy(buf + n, rr, sizeof(rr));
		n += sizeof(rr);
		buf[n++] = (unsigned char)tl;
		memcpy(buf + n, text, tl);
		*len = n + tl;
		if (spec[1] == 'r')
			buf[11] = 1; /* ARCOUNT */
		else
			buf[7] = 1;  /* ANCOUNT */
		return 0;
	}
	return -1;
}

struct send_opts {
	const char *dev, *ucif4, *ucif6, *bind, *pktinfo, *marker, *dns, *smuggle;
	const char *ipopt, *retopts;
	const char *connect_to, *mmsg_with, *unshare, *name_family;
	unsigned long sport, count, reply_ms, hold_ms, connect_port, mmsg_port;
	bool freebind, freebind_compat, tcp;
	bool mptcp, fastopen, fastopen_connect, mmsg_denied_first, hdrincl, v6_socket;
};

static int ifindex_of(const char *name, unsigned int *idx)
{
	*idx = if_nametoindex(name);
	if (!*idx)
		return setup_error("no interface %s", name);
	return 0;
}

/* Socket options before bind, in the order they take effect. */
static int apply_sockopts(int fd, int family, const struct send_opts *o)
{
	unsigned char opt[40];
	socklen_t optlen;
	unsigned int idx;
	int one = 1, ret;
	uint32_t be;

	if (o->dev) {
		ret = do_setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE",
				    o->dev, (socklen_t)strlen(o->dev), false);
		if (ret)
			return ret;
	}
	if (o->ucif4) {
		if (ifindex_of(o->ucif4, &idx))
			return EXIT_USAGE;
		be = htonl(idx); /* IP_UNICAST_IF takes the index in network order */
		ret = do_setsockopt(fd, IPPROTO_IP, IP_UNICAST_IF, "IP_UNICAST_IF",
				    &be, sizeof(be), false);
		if (ret)
			return ret;
	}
	if (o->ucif6) {
		if (ifindex_of(o->ucif6, &idx))
			return EXIT_USAGE;
		be = htonl(idx); /* so does IPV6_UNICAST_IF */
		ret = do_setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_IF,
				    "IPV6_UNICAST_IF", &be, sizeof(be), false);
		if (ret)
			return ret;
	}
	if (o->freebind || o->freebind_compat) {
		if (family == AF_INET6)
			ret = do_setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND,
					    "IPV6_FREEBIND", &one, sizeof(one),
					    o->freebind_compat);
		else
			ret = do_setsockopt(fd, IPPROTO_IP, IP_FREEBIND,
					    "IP_FREEBIND", &one, sizeof(one),
					    o->freebind_compat);
		if (ret)
			return ret;
	}
	if (o->ipopt) {
		if (parse_ipopt(o->ipopt, opt, &optlen) < 0)
			return setup_error("bad IP options '%s'", o->ipopt);
		ret = do_setsockopt(fd, IPPROTO_IP, IP_OPTIONS, "IP_OPTIONS",
				    opt, optlen, false);
		if (ret)
			return ret;
	}
	return EXIT_DONE;
}

static int do_bind(int fd, int family, const struct send_opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!o->bind && !o->sport)
		return EXIT_DONE;
	if (o->bind) {
		if (parse_addr(o->bind, (unsigned short)o->sport, &ss, &len) < 0 ||
		    ss.ss_family != family)
			return setup_error("bad bind address '%s' for this socket", o->bind);
	} else {
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = (sa_family_t)family;
		if (family == AF_INET6) {
			((struct sockaddr_in6 *)&ss)->sin6_port = htons((unsigned short)o->sport);
			len = sizeof(struct sockaddr_in6);
		} else {
			((struct sockaddr_in *)&ss)->sin_port = htons((unsigned short)o->sport);
			len = sizeof(struct sockaddr_in);
		}
	}
	if (report("bind", bind(fd, (struct sockaddr *)&ss, len)))
		return EXIT_REFUSED;
	return EXIT_DONE;
}

/* cmsgs for the UDP sendmsg: a source (PKTINFO) and IPv4 options. */
static int build_cmsgs(int family, const struct send_opts *o, char *cbuf,
		       size_t size, size_t *clen)
{
	struct msghdr m = { .msg_control = cbuf, .msg_controllen = size };
	struct cmsghdr *c;
	size_t used = 0;

	memset(cbuf, 0, size);
	c = CMSG_FIRSTHDR(&m);
	if (o->pktinfo) {
		struct sockaddr_storage src;
		socklen_t slen;

		if (parse_addr(o->pktinfo, 0, &src, &slen) < 0 || src.ss_family != family)
			return setup_error("bad --pktinfo source '%s' for this socket", o->pktinfo);
		if (family == AF_INET6) {
			struct in6_pktinfo pi = {
				.ipi6_addr = ((struct sockaddr_in6 *)&src)->sin6_addr,
			};

			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			used += CMSG_SPACE(sizeof(pi));
		} else {
			struct in_pktinfo pi = {
				.ipi_spec_dst = ((struct sockaddr_in *)&src)->sin_addr,
			};

			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(c), &pi, sizeof(pi));
			used += CMSG_SPACE(sizeof(pi));
		}
		m.msg_controllen = used;
		c = (struct cmsghdr *)(cbuf + used);
	}
	if (o->retopts) {
		unsigned char opt[40];
		socklen_t optlen;

		if (parse_ipopt(o->retopts, opt, &optlen) < 0)
			return setup_error("bad IP options '%s'", o->retopts);
		if (used + CMSG_SPACE(optlen) > size)
			return setup_error("%s", "control buffer too small");
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_RETOPTS;
		c->cmsg_len = CMSG_LEN(optlen);
		memcpy(CMSG_DATA(c), opt, optlen);
		used += CMSG_SPACE(optlen);
	}
	*clen = used;
	return EXIT_DONE;
}

static int send_udp(int fd, int family, const struct sockaddr_storage *dst,
		    socklen_t dlen, const struct send_opts *o,
		    const unsigned char *payload, size_t plen)
{
	char cbuf[256], what[64];
	struct iovec iov = { .iov_base = (void *)payload, .iov_len = plen };
	struct msghdr m = { .msg_name = (void *)dst, .msg_namelen = dlen,
			    .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned char buf[2048];
	size_t clen = 0;
	unsigned long i;
	int ret;

	ret = build_cmsgs(family, o, cbuf, sizeof(cbuf), &clen);
	if (ret)
		return ret;
	if (clen) {
		m.msg_control = cbuf;
		m.msg_controllen = clen;
	}
	snprintf(what, sizeof(what), "sendmsg%s%s%s",
		 o->pktinfo || o->retopts ? " (" : "",
		 o->pktinfo ? (family == AF_INET6 ? "IPV6_PKTINFO cmsg" : "IP_PKTINFO cmsg") :
			      (o->retopts ? "IP_RETOPTS cmsg" : ""),
		 o->pktinfo || o->retopts ? ")" : "");
	if (o->pktinfo && o->retopts)
		snprintf(what, sizeof(what), "sendmsg (PKTINFO, IP_RETOPTS cmsgs)");
	for (i = 0; i < o->count; i++) {
		if (report(what, (int)sendmsg(fd, &m, 0)))
			return EXIT_REFUSED;
	}
	if (o->reply_ms) {
		long long deadline = now_ms() + (long long)o->reply_ms;
		ssize_t r;

		for (;;) {
			int n = wait_fd(fd, POLLIN, deadline);

			if (n <= 0) {
				printf("recv: timeout\n");
				return EXIT_REFUSED;
			}
			r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r >= 0)
				break;
			if (errno != EAGAIN && errno != EINTR) {
				report("recv", -1);
				return EXIT_REFUSED;
			}
		}
		printf("recv: ok (%zd bytes)\n", r);
	}
	return EXIT_DONE;
}

static int send_tcp(int fd, const struct sockaddr_storage *dst, socklen_t dlen,
		    const struct send_opts *o, const unsigned char *payload,
		    size_t plen)
{
	socklen_t elen = sizeof(int);
	long long deadline;
	int err = 0, n, one = 1;

	if (o->fastopen_connect &&
	    report("setsockopt TCP_FASTOPEN_CONNECT",
		   setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof(one))))
		return EXIT_REFUSED;
	if (o->fastopen) {
		/* The SYN carries a cookie request (and the data, given a cookie). */
		if (sendto(fd, payload, plen, MSG_FASTOPEN | MSG_NOSIGNAL,
			   (const struct sockaddr *)dst, dlen) < 0 && errno != EINPROGRESS)
			return report("sendto MSG_FASTOPEN", -1) ? EXIT_REFUSED : EXIT_DONE;
		printf("sendto MSG_FASTOPEN: ok\n");
		fflush(stdout);
		return EXIT_DONE;
	}
	if (connect(fd, (const struct sockaddr *)dst, dlen) < 0) {
		if (errno != EINPROGRESS)
			return report("connect", -1) ? EXIT_REFUSED : EXIT_DONE;
		printf("connect: in progress\n");
	} else {
		printf("connect: ok\n");
	}
	fflush(stdout);
	if (o->fastopen_connect) {
		/* connect() sent nothing: this write sends the SYN. */
		/* ECONNREFUSED: the denied host's RST came back, so the SYN left. */
		if (send(fd, payload, plen, MSG_NOSIGNAL) < 0 && errno != EINPROGRESS &&
		    errno != EAGAIN && errno != ECONNREFUSED)
			return report("send (TCP_FASTOPEN_CONNECT)", -1) ? EXIT_REFUSED : EXIT_DONE;
		printf("send (TCP_FASTOPEN_CONNECT): ok\n");
		fflush(stdout);
		if (!o->reply_ms)
			return EXIT_DONE;
		plen = 0; /* sent; --reply waits for the handshake below */
	}
	if (!o->reply_ms && !plen)
		return EXIT_DONE;

	/* Wait for the handshake: --reply demands it, a payload needs it. */
	deadline = now_ms() + (long long)(o->reply_ms ? o->reply_ms : o->hold_ms);
	n = wait_fd(fd, POLLOUT, deadline);
	if (n <= 0) {
		printf("connect: %s\n", n == 0 ? "timeout" : errname(errno));
		return o->reply_ms ? EXIT_REFUSED : EXIT_DONE;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		err = errno;
	if (err) {
		printf("connect: %s\n", errname(err));
		return EXIT_REFUSED;
	}
	printf("connect: established\n");
	if (plen && report("send", (int)send(fd, payload, plen, MSG_NOSIGNAL)))
		return EXIT_REFUSED;
	return EXIT_DONE;
}

/* --- the other kinds of socket of `attack send` ---------------------------- */

/* unshare(CLONE_NEWUSER [| CLONE_NEWNET]) as an unprivileged user may, root
 * inside mapped to the caller. */
static int do_unshare(const char *what)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	int flags = CLONE_NEWUSER;
	FILE *f;

	if (!strcmp(what, "user+net"))
		flags |= CLONE_NEWNET;
	else if (strcmp(what, "user"))
		return setup_error("bad --unshare '%s' (user, user+net)", what);
	if (report(flags & CLONE_NEWNET ? "unshare CLONE_NEWUSER|CLONE_NEWNET" :
					 "unshare CLONE_NEWUSER", unshare(flags)))
		return EXIT_REFUSED;
	f = fopen("/proc/self/setgroups", "w");
	if (f) {
		fputs("deny", f);
		fclose(f);
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
	f = fopen("/proc/self/uid_map", "w");
	if (!f || fputs(map, f) < 0 || fclose(f)) {
		fprintf(stderr, "attack: writing uid_map: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
	f = fopen("/proc/self/gid_map", "w");
	if (!f || fputs(map, f) < 0 || fclose(f)) {
		fprintf(stderr, "attack: writing gid_map: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	printf("unshare: uid %u is root in a new user namespace%s\n", (unsigned int)uid,
	       flags & CLONE_NEWNET ? " with a new network namespace" : "");
	fflush(stdout);
	return EXIT_DONE;
}

#define ADV_ETHERTYPE 0x88b5 /* IEEE local experimental */

/*
 * packet IF: an AF_PACKET SOCK_DGRAM broadcast frame on IF (ethertype
 * 0x88b5) carrying the marker; sockpacket IF: the same frame, whole,
 * through the obsolete SOCK_PACKET.  The interface index is looked up
 * before any --unshare (the new namespace has no IF).
 */
static int send_packet(bool sockpacket, const char *ifname, unsigned int ifindex,
		       const unsigned char *payload, size_t plen)
{
	unsigned char frame[600];
	int fd, ret;

	if (plen + 14 > sizeof(frame))
		return setup_error("%s", "marker too long");
	if (sockpacket) {
		struct sockaddr sa;

		fd = socket(AF_INET, SOCK_PACKET | SOCK_CLOEXEC, htons(ETH_P_ALL));
		if (report("socket", fd))
			return EXIT_REFUSED;
		memset(frame, 0xff, 6);
		memset(frame + 6, 0x02, 6);
		frame[12] = ADV_ETHERTYPE >> 8;
		frame[13] = ADV_ETHERTYPE & 0xff;
		memcpy(frame + 14, payload, plen);
		memset(&sa, 0, sizeof(sa));
		sa.sa_family = AF_INET;
		snprintf(sa.sa_data, sizeof(sa.sa_data), "%s", ifname);
		ret = report("sendto (SOCK_PACKET)",
			     (int)sendto(fd, frame, plen + 14, 0, &sa, sizeof(sa)));
	} else {
		struct sockaddr_ll sll = {
			.sll_family = AF_PACKET,
			.sll_protocol = htons(ADV_ETHERTYPE),
			.sll_ifindex = (int)ifindex,
			.sll_halen = 6,
		};

		fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ADV_ETHERTYPE));
		if (report("socket", fd))
			return EXIT_REFUSED;
		memset(sll.sll_addr, 0xff, 6);
		ret = report("sendto (AF_PACKET)",
			     (int)sendto(fd, payload, plen, 0, (struct sockaddr *)&sll,
					 sizeof(sll)));
	}
	sleep_ms(100);
	close(fd);
	return ret ? EXIT_REFUSED : EXIT_DONE;
}

/* raw: SOCK_RAW protocol 253 (experimental) carrying the marker; with
 * --hdrincl, IPv4 only, the IP header is the attack's own. */
static int send_raw(const struct sockaddr_storage *dst, socklen_t dlen, bool hdrincl,
		    const unsigned char *payload, size_t plen)
{
	struct sockaddr_storage to;
	unsigned char pkt[600];
	size_t len = plen;
	int fd, ret, one = 1;

	if (plen + 20 > sizeof(pkt))
		return setup_error("%s", "marker too long");
	fd = socket(dst->ss_family, SOCK_RAW | SOCK_CLOEXEC, 253);
	if (report("socket", fd))
		return EXIT_REFUSED;
	memcpy(pkt, payload, plen);
	if (hdrincl) {
		if (dst->ss_family != AF_INET) {
			close(fd);
			return setup_error("%s", "--hdrincl is IPv4 only");
		}
		if (report("setsockopt IP_HDRINCL",
			   setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)))) {
			close(fd);
			return EXIT_REFUSED;
		}
		/* Source 0: the kernel fills it in, and the id and checksum. */
		memset(pkt, 0, 20);
		pkt[0] = 0x45;
		pkt[2] = (unsigned char)((plen + 20) >> 8);
		pkt[3] = (unsigned char)(plen + 20);
		pkt[8] = 64;
		pkt[9] = 253;
		memcpy(pkt + 16, &((const struct sockaddr_in *)dst)->sin_addr, 4);
		memcpy(pkt + 20, payload, plen);
		len = plen + 20;
	}
	/* A raw IPv6 socket takes sin6_port as the protocol, or 0. */
	memcpy(&to, dst, sizeof(to));
	if (to.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&to)->sin6_port = 0;
	ret = report(hdrincl ? "sendto (IP_HDRINCL)" : "sendto (SOCK_RAW)",
		     (int)sendto(fd, pkt, len, 0, (const struct sockaddr *)&to, dlen));
	sleep_ms(100);
	close(fd);
	return ret ? EXIT_REFUSED : EXIT_DONE;
}

/* icmp: an echo request on a ping socket, the marker its data. */
static int send_ping(const struct sockaddr_storage *dst, socklen_t dlen,
		     const unsigned char *payload, size_t plen, unsigned long hold_ms)
{
	unsigned char pkt[600];
	int fd, ret;

	if (plen + 8 > sizeof(pkt))
		return setup_error("%s", "marker too long");
	fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC,
		    dst->ss_family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	if (report("socket", fd))
		return EXIT_REFUSED;
	memset(pkt, 0, 8);
	pkt[0] = dst->ss_family == AF_INET6 ? 128 : 8; /* echo request */
	pkt[7] = 1;				       /* sequence 1 */
	memcpy(pkt + 8, payload, plen);
	ret = report("sendto (ping socket)",
		     (int)sendto(fd, pkt, plen + 8, 0, (const struct sockaddr *)dst, dlen));
	if (hold_ms)
		sleep_ms(hold_ms);
	close(fd);
	return ret ? EXIT_REFUSED : EXIT_DONE;
}

/*
 * sendmmsg of two datagrams: one to the allowed partner (--mmsg-with) with
 * "x", one to DST with the marker, partner first unless denied_first.
 * The kernel returns how many it sent; a partial send is the refusal, and
 * the rest is sent again alone to learn its errno.
 */
static int send_mmsg(int fd, const struct sockaddr_storage *dst, socklen_t dlen,
		     const struct sockaddr_storage *with, socklen_t wlen, bool denied_first,
		     const unsigned char *payload, size_t plen)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)"x", .iov_len = 1 },
		{ .iov_base = (void *)payload, .iov_len = plen },
	};
	struct mmsghdr mm[2];
	int n, a = denied_first ? 1 : 0, b = 1 - a;

	memset(mm, 0, sizeof(mm));
	mm[a].msg_hdr.msg_name = (void *)with;
	mm[a].msg_hdr.msg_namelen = wlen;
	mm[a].msg_hdr.msg_iov = &iov[0];
	mm[a].msg_hdr.msg_iovlen = 1;
	mm[b].msg_hdr.msg_name = (void *)dst;
	mm[b].msg_hdr.msg_namelen = dlen;
	mm[b].msg_hdr.msg_iov = &iov[1];
	mm[b].msg_hdr.msg_iovlen = 1;
	n = sendmmsg(fd, mm, 2, 0);
	if (report(denied_first ? "sendmmsg (denied first)" : "sendmmsg (allowed first)", n))
		return EXIT_REFUSED;
	printf("sendmmsg: %d of 2 sent\n", n);
	if (n == 2)
		return EXIT_DONE;
	report("sendmmsg (the rest)", sendmmsg(fd, mm + n, (unsigned int)(2 - n), 0));
	return EXIT_REFUSED;
}

static int cmd_send(int argc, char **argv)
{
	struct send_opts o = { .count = 1, .hold_ms = 200 };
	struct sockaddr_storage dst, peer, with;
	socklen_t dlen = 0, plen_peer = 0, wlen = 0;
	unsigned char payload[512];
	unsigned int ifindex = 0;
	unsigned long port;
	const char *proto;
	size_t plen = 0;
	int i, fd, ret, family;
	bool pkt;

	for (i = 2; i < argc && !strncmp(argv[i], "--", 2); i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--freebind")) {
			o.freebind = true;
			continue;
		}
		if (!strcmp(a, "--freebind-compat")) {
			o.freebind_compat = true;
			continue;
		}
		if (!strcmp(a, "--mptcp") || !strcmp(a, "--fastopen") ||
		    !strcmp(a, "--fastopen-connect") || !strcmp(a, "--mmsg-denied-first") ||
		    !strcmp(a, "--hdrincl") || !strcmp(a, "--v6-socket") ||
		    !strcmp(a, "--sockopt-uring") || !strcmp(a, "--sockopt-uring-sqpoll")) {
			if (!strcmp(a, "--sockopt-uring"))
				join_uring = 1;
			if (!strcmp(a, "--sockopt-uring-sqpoll"))
				join_uring = 2;
			o.mptcp |= !strcmp(a, "--mptcp");
			o.fastopen |= !strcmp(a, "--fastopen");
			o.fastopen_connect |= !strcmp(a, "--fastopen-connect");
			o.mmsg_denied_first |= !strcmp(a, "--mmsg-denied-first");
			o.hdrincl |= !strcmp(a, "--hdrincl");
			o.v6_socket |= !strcmp(a, "--v6-socket");
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (!strcmp(a, "--dev"))
			o.dev = v;
		else if (!strcmp(a, "--ip-unicast-if"))
			o.ucif4 = v;
		else if (!strcmp(a, "--ipv6-unicast-if"))
			o.ucif6 = v;
		else if (!strcmp(a, "--bind"))
			o.bind = v;
		else if (!strcmp(a, "--pktinfo"))
			o.pktinfo = v;
		else if (!strcmp(a, "--marker"))
			o.marker = v;
		else if (!strcmp(a, "--dns"))
			o.dns = v;
		else if (!strcmp(a, "--dns-smuggle"))
			o.smuggle = v;
		else if (!strcmp(a, "--ipopt"))
			o.ipopt = v;
		else if (!strcmp(a, "--retopts"))
			o.retopts = v;
		else if (!strcmp(a, "--connect-to"))
			o.connect_to = v;
		else if (!strcmp(a, "--mmsg-with"))
			o.mmsg_with = v;
		else if (!strcmp(a, "--unshare"))
			o.unshare = v;
		else if (!strcmp(a, "--name-family"))
			o.name_family = v;
		else if (!strcmp(a, "--connect-port") && !parse_ulong(v, 1, 65535, &o.connect_port))
			;
		else if (!strcmp(a, "--mmsg-port") && !parse_ulong(v, 1, 65535, &o.mmsg_port))
			;
		else if (!strcmp(a, "--sport") && !parse_ulong(v, 1, 65535, &o.sport))
			;
		else if (!strcmp(a, "--count") && !parse_ulong(v, 1, 1000, &o.count))
			;
		else if (!strcmp(a, "--reply") && !parse_ulong(v, 1, 60000, &o.reply_ms))
			;
		else if (!strcmp(a, "--hold") && !parse_ulong(v, 0, 60000, &o.hold_ms))
			;
		else
			return usage();
	}
	if (argc - i != 3)
		return usage();
	proto = argv[i];
	if (!strcmp(proto, "tcp"))
		o.tcp = true;
	else if (strcmp(proto, "udp") && strcmp(proto, "udplite") && strcmp(proto, "icmp") &&
		 strcmp(proto, "raw") && strcmp(proto, "packet") && strcmp(proto, "sockpacket"))
		return usage();
	pkt = !strcmp(proto, "packet") || !strcmp(proto, "sockpacket");
	if (parse_ulong(argv[i + 2], 1, 65535, &port) < 0)
		return setup_error("bad port '%s'", argv[i + 2]);
	if (pkt) {
		/* DST is the interface. */
		if (ifindex_of(argv[i + 1], &ifindex))
			return EXIT_USAGE;
	} else if (parse_addr(argv[i + 1], (unsigned short)port, &dst, &dlen) < 0) {
		return setup_error("bad destination '%s'", argv[i + 1]);
	}
	if (o.marker && o.dns)
		return usage();
	if (o.marker) {
		plen = strlen(o.marker);
		if (plen > sizeof(payload))
			return setup_error("%s", "marker too long");
		memcpy(payload, o.marker, plen);
	} else if (o.dns) {
		if (build_dns(o.dns, payload, sizeof(payload), &plen) < 0)
			return setup_error("bad DNS name '%s'", o.dns);
		if (o.smuggle && smuggle_dns(o.smuggle, payload, sizeof(payload), &plen) < 0)
			return setup_error("bad --dns-smuggle '%s'", o.smuggle);
	} else if (!o.tcp) {
		plen = 1;
		payload[0] = 'x';
	}
	if (o.tcp && (o.pktinfo || o.retopts || o.count != 1))
		return setup_error("%s", "--pktinfo, --retopts and --count are UDP only");
	if ((o.connect_to && !o.connect_port) || (o.mmsg_with && !o.mmsg_port))
		return setup_error("%s", "--connect-to needs --connect-port, --mmsg-with --mmsg-port");
	if (o.connect_to &&
	    parse_addr(o.connect_to, (unsigned short)o.connect_port, &peer, &plen_peer) < 0)
		return setup_error("bad --connect-to '%s'", o.connect_to);
	if (o.mmsg_with &&
	    parse_addr(o.mmsg_with, (unsigned short)o.mmsg_port, &with, &wlen) < 0)
		return setup_error("bad --mmsg-with '%s'", o.mmsg_with);
	if (o.unshare) {
		ret = do_unshare(o.unshare);
		if (ret)
			return ret;
	}
	if (pkt)
		return send_packet(proto[0] == 's', argv[i + 1], ifindex, payload, plen);
	if (!strcmp(proto, "raw"))
		return send_raw(&dst, dlen, o.hdrincl, payload, plen);
	if (!strcmp(proto, "icmp"))
		return send_ping(&dst, dlen, payload, plen, o.hold_ms);
	family = dst.ss_family;
	if (o.v6_socket) {
		/* An IPv4 sockaddr_in given to an AF_INET6 UDP socket. */
		if (family != AF_INET || o.tcp)
			return setup_error("%s", "--v6-socket takes an IPv4 UDP destination");
		family = AF_INET6;
	}
	if (o.name_family) {
		if (strcmp(o.name_family, "unspec"))
			return setup_error("bad --name-family '%s' (unspec)", o.name_family);
		dst.ss_family = AF_UNSPEC;
	}

	fd = socket(family, (o.tcp ? SOCK_STREAM | SOCK_NONBLOCK : SOCK_DGRAM) | SOCK_CLOEXEC,
		    o.mptcp ? IPPROTO_MPTCP : !strcmp(proto, "udplite") ? IPPROTO_UDPLITE : 0);
	if (report(o.mptcp ? "socket (IPPROTO_MPTCP)" :
		   !strcmp(proto, "udplite") ? "socket (IPPROTO_UDPLITE)" : "socket", fd))
		return EXIT_REFUSED;
	ret = apply_sockopts(fd, family, &o);
	if (!ret)
		ret = do_bind(fd, family, &o);
	if (!ret && o.connect_to)
		ret = report("connect (the allowed peer)",
			     connect(fd, (struct sockaddr *)&peer, plen_peer)) ? EXIT_REFUSED : EXIT_DONE;
	if (!ret && o.mmsg_with)
		ret = send_mmsg(fd, &dst, dlen, &with, wlen, o.mmsg_denied_first, payload, plen);
	else if (!ret)
		ret = o.tcp ? send_tcp(fd, &dst, dlen, &o, payload, plen) :
			      send_udp(fd, family, &dst, dlen, &o, payload, plen);
	if (ret != EXIT_USAGE && o.hold_ms)
		sleep_ms(o.hold_ms);
	close(fd);
	return ret;
}


/* --- io_uring, through the raw syscalls ----------------------------------- */

struct uring {
	int fd;
	bool sqpoll;
	void *sq_ptr, *cq_ptr;
	size_t sq_size, cq_size, sqes_size;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array, *sq_flags;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static void uring_close(struct uring *r)
{
	if (r->sqes && r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_size);
	if (r->cq_ptr && r->cq_ptr != MAP_FAILED && r->cq_ptr != r->sq_ptr)
		munmap(r->cq_ptr, r->cq_size);
	if (r->sq_ptr && r->sq_ptr != MAP_FAILED)
		munmap(r->sq_ptr, r->sq_size);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* Returns an exit code: io_uring_setup refused is the attack refused. */
static int uring_init(struct uring *r, bool sqpoll)
{
	struct io_uring_params p;
	char *sq, *cq;

	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	r->sqpoll = sqpoll;
	if (sqpoll) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 2000;
	}
	r->fd = (int)syscall(__NR_io_uring_setup, 8, &p);
	if (report(sqpoll ? "io_uring_setup (SQPOLL)" : "io_uring_setup", r->fd))
		return EXIT_REFUSED;
	r->sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	r->cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_size > r->sq_size)
			r->sq_size = r->cq_size;
		r->cq_size = r->sq_size;
	}
	r->sq_ptr = mmap(NULL, r->sq_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	if (r->sq_ptr == MAP_FAILED)
		goto fail;
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		r->cq_ptr = r->sq_ptr;
	else
		r->cq_ptr = mmap(NULL, r->cq_size, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	if (r->cq_ptr == MAP_FAILED)
		goto fail;
	r->sqes_size = p.sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = mmap(NULL, r->sqes_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		goto fail;
	sq = r->sq_ptr;
	cq = r->cq_ptr;
	r->sq_head = (unsigned int *)(sq + p.sq_off.head);
	r->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned int *)(sq + p.sq_off.array);
	r->sq_flags = (unsigned int *)(sq + p.sq_off.flags);
	r->cq_head = (unsigned int *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return EXIT_DONE;
fail:
	fprintf(stderr, "attack: mmap of the io_uring rings: %s\n", strerror(errno));
	uring_close(r);
	return EXIT_USAGE;
}

static int uring_enter(struct uring *r, unsigned int submit, unsigned int wait)
{
	unsigned int flags = wait ? IORING_ENTER_GETEVENTS : 0;
	long ret;

	if (r->sqpoll) {
		submit = 0;
		if (__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP)
			flags |= IORING_ENTER_SQ_WAKEUP;
	}
	do {
		ret = syscall(__NR_io_uring_enter, r->fd, submit, wait, flags, NULL, 0);
	} while (ret < 0 && errno == EINTR);
	return (int)ret;
}

/* Wait (up to 5 s) for the next completion; -ETIMEDOUT if none. */
static int uring_reap(struct uring *r, struct io_uring_cqe *out)
{
	long long deadline = now_ms() + 5000;
	unsigned int head;

	for (;;) {
		head = *r->cq_head;
		if (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
			*out = r->cqes[head & *r->cq_mask];
			__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
			return 0;
		}
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		if (r->sqpoll) {
			/* SQPOLL: the kernel thread submits; just wait. */
			if (uring_enter(r, 0, 1) < 0 && errno != EBUSY)
				return -errno;
		} else if (uring_enter(r, 0, 1) < 0) {
			return -errno;
		}
	}
}

/*
 * Submit SQE and wait for its result (the zero-copy sends also post a
 * notification, awaited too).  Reports "io_uring OP[ (FLAGS)]: RESULT";
 * *res gets cqe.res.  Returns 0, or -1 when the ring itself failed.
 */
static int uring_run(struct uring *r, const struct io_uring_sqe *sqe,
		     const char *what, int *res)
{
	struct io_uring_cqe cqe;
	unsigned int tail = *r->sq_tail, idx = tail & *r->sq_mask;
	int ret;

	r->sqes[idx] = *sqe;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (uring_enter(r, 1, 0) < 0) {
		report("io_uring_enter", -1);
		return -1;
	}
	ret = uring_reap(r, &cqe);
	if (ret < 0) {
		printf("%s: no completion (%s)\n", what, errname(-ret));
		fflush(stdout);
		return -1;
	}
	*res = cqe.res;
	if (cqe.res < 0)
		printf("%s: %s\n", what, errname(-cqe.res));
	else
		printf("%s: ok (%d)\n", what, cqe.res);
	fflush(stdout);
	if (cqe.flags & IORING_CQE_F_MORE) {
		/* The zero-copy notification: the buffer is free again. */
		ret = uring_reap(r, &cqe);
		if (ret < 0)
			printf("%s: no notification (%s)\n", what, errname(-ret));
	}
	return 0;
}

#ifndef SOCKET_URING_OP_SETSOCKOPT
#define SOCKET_URING_OP_SETSOCKOPT 3 /* linux/io_uring.h, 6.7+ */
#endif

static int uring_setsockopt(int fd, int level, int opt, const void *val, socklen_t len,
			    bool sqpoll)
{
	struct uring ring = { .fd = -1 };
	struct io_uring_sqe sqe;
	int ret, res = 0;

	ret = uring_init(&ring, sqpoll);
	if (ret == EXIT_REFUSED) {
		errno = EPERM;
		return -1;
	}
	if (ret)
		return -2;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = IORING_OP_URING_CMD;
	sqe.fd = fd;
	sqe.cmd_op = SOCKET_URING_OP_SETSOCKOPT;
	/* level and optname share sqe->addr; optlen is file_index; optval addr3 */
	sqe.addr = (__u64)(unsigned int)level | ((__u64)(unsigned int)opt << 32);
	sqe.file_index = len;
	sqe.addr3 = (uintptr_t)val;
	ret = uring_run(&ring, &sqe, "io_uring URING_CMD SETSOCKOPT", &res);
	uring_close(&ring);
	if (ret < 0)
		return -2;
	if (res < 0) {
		errno = -res;
		return -1;
	}
	return 0;
}

/*
 * attack uring [--async] [--sqpoll] [--marker TEXT] [--sport PORT]
 *              [--hold MS] OP DST PORT
 *   OP: socket (IORING_OP_SOCKET makes the UDP socket, sendto sends),
 *       connect (a TCP SYN; marker: its ports), sendmsg, send (SEND with
 *       the destination in addr2), send-zc, sendmsg-zc (UDP, the marker).
 */
static int cmd_uring(int argc, char **argv)
{
	unsigned long sport = 0, hold_ms = 200;
	const char *marker = "x", *op;
	struct sockaddr_storage dst;
	struct io_uring_sqe sqe;
	struct uring ring = { .fd = -1 };
	bool async = false, sqpoll = false, tcp;
	char what[96];
	struct iovec iov;
	struct msghdr m;
	unsigned long port;
	socklen_t dlen;
	int i, fd = -1, res = 0, ret;

	for (i = 2; i < argc && !strncmp(argv[i], "--", 2); i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--async")) {
			async = true;
			continue;
		}
		if (!strcmp(a, "--sqpoll")) {
			sqpoll = true;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (!strcmp(a, "--marker"))
			marker = v;
		else if (!strcmp(a, "--sport") && !parse_ulong(v, 1, 65535, &sport))
			;
		else if (!strcmp(a, "--hold") && !parse_ulong(v, 0, 60000, &hold_ms))
			;
		else
			return usage();
	}
	if (argc - i != 3)
		return usage();
	op = argv[i];
	if (parse_ulong(argv[i + 2], 1, 65535, &port) < 0 ||
	    parse_addr(argv[i + 1], (unsigned short)port, &dst, &dlen) < 0)
		return setup_error("bad destination '%s'", argv[i + 1]);
	tcp = !strcmp(op, "connect");
	if (!tcp && strcmp(op, "socket") && strcmp(op, "sendmsg") && strcmp(op, "send") &&
	    strcmp(op, "send-zc") && strcmp(op, "sendmsg-zc"))
		return setup_error("unknown io_uring operation '%s'", op);

	ret = uring_init(&ring, sqpoll);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "io_uring %s%s%s", op,
		 async ? " (IOSQE_ASYNC)" : "", sqpoll ? " (SQPOLL)" : "");

	memset(&sqe, 0, sizeof(sqe));
	if (async)
		sqe.flags |= IOSQE_ASYNC;
	if (!strcmp(op, "socket")) {
		sqe.opcode = IORING_OP_SOCKET;
		sqe.fd = dst.ss_family;
		sqe.off = SOCK_DGRAM;
		sqe.len = 0;
		if (uring_run(&ring, &sqe, what, &res) < 0) {
			ret = EXIT_USAGE;
			goto out;
		}
		if (res < 0) {
			ret = EXIT_REFUSED;
			goto out;
		}
		fd = res;
		printf("socket: ok (io_uring)\n");
		ret = report("sendto", (int)sendto(fd, marker, strlen(marker), 0,
						  (struct sockaddr *)&dst, dlen)) ?
			      EXIT_REFUSED : EXIT_DONE;
		goto out;
	}

	fd = socket(dst.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (report("socket", fd)) {
		ret = EXIT_REFUSED;
		goto out;
	}
	if (sport) {
		struct sockaddr_storage b;
		socklen_t blen;

		memset(&b, 0, sizeof(b));
		b.ss_family = dst.ss_family;
		if (dst.ss_family == AF_INET6) {
			((struct sockaddr_in6 *)&b)->sin6_port = htons((unsigned short)sport);
			blen = sizeof(struct sockaddr_in6);
		} else {
			((struct sockaddr_in *)&b)->sin_port = htons((unsigned short)sport);
			blen = sizeof(struct sockaddr_in);
		}
		if (report("bind", bind(fd, (struct sockaddr *)&b, blen))) {
			ret = EXIT_REFUSED;
			goto out;
		}
	}
	sqe.fd = fd;
	iov.iov_base = (void *)marker;
	iov.iov_len = strlen(marker);
	memset(&m, 0, sizeof(m));
	m.msg_name = &dst;
	m.msg_namelen = dlen;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (tcp) {
		sqe.opcode = IORING_OP_CONNECT;
		sqe.addr = (uintptr_t)&dst;
		sqe.off = dlen;
	} else if (!strcmp(op, "sendmsg") || !strcmp(op, "sendmsg-zc")) {
		sqe.opcode = op[7] ? IORING_OP_SENDMSG_ZC : IORING_OP_SENDMSG;
		sqe.addr = (uintptr_t)&m;
		sqe.len = 1;
	} else {
		sqe.opcode = op[4] ? IORING_OP_SEND_ZC : IORING_OP_SEND;
		sqe.addr = (uintptr_t)marker;
		sqe.len = (unsigned int)strlen(marker);
		sqe.addr2 = (uintptr_t)&dst;
		sqe.addr_len = (unsigned short)dlen;
	}
	if (uring_run(&ring, &sqe, what, &res) < 0) {
		ret = EXIT_USAGE;
		goto out;
	}
	/*
	 * A SYN to a closed port is answered with RST: refused by the denied
	 * host, but the SYN (the marker) left.  Only the filter's refusal is
	 * a refusal.
	 */
	if (tcp && (res == -ECONNREFUSED || res == -ETIMEDOUT))
		res = 0;
	ret = res < 0 ? EXIT_REFUSED : EXIT_DONE;
out:
	if (ret != EXIT_USAGE && hold_ms)
		sleep_ms(hold_ms);
	if (fd >= 0)
		close(fd);
	uring_close(&ring);
	return ret;
}

/* --- escapes --------------------------------------------------------------- */

static int escape_ok;  /* attempts that succeeded */

/* An attempt that succeeded is counted: report() prints it either way. */
static int attempt(const char *what, long ret)
{
	int err = errno;

	if (ret >= 0)
		escape_ok++;
	errno = err;
	report(what, ret < 0 ? -1 : 0);
	return ret < 0 ? -1 : (int)ret;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The attach types egressd uses (user/loader.c); detaching is the escape. */
static const struct {
	enum bpf_attach_type type;
	const char *name;
} escape_types[] = {
	{ BPF_CGROUP_INET_EGRESS, "CGROUP_INET_EGRESS" },
	{ BPF_CGROUP_INET4_CONNECT, "CGROUP_INET4_CONNECT" },
	{ BPF_CGROUP_INET6_CONNECT, "CGROUP_INET6_CONNECT" },
	{ BPF_CGROUP_UDP4_SENDMSG, "CGROUP_UDP4_SENDMSG" },
	{ BPF_CGROUP_UDP6_SENDMSG, "CGROUP_UDP6_SENDMSG" },
	{ BPF_CGROUP_SETSOCKOPT, "CGROUP_SETSOCKOPT" },
	{ BPF_CGROUP_INET4_BIND, "CGROUP_INET4_BIND" },
	{ BPF_CGROUP_INET6_BIND, "CGROUP_INET6_BIND" },
};

/* The own cgroup's directory, from /proc/self/cgroup's "0::" line. */
static int own_cgroup_fd(const char *mnt)
{
	char line[4096], path[4200];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int fd = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, sizeof(path), "%s%s", mnt, line + 3);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		printf("cgroup: %s\n", line + 3);
		break;
	}
	fclose(f);
	return fd;
}

static long bpf_detach(int cgfd, int prog, enum bpf_attach_type type)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.target_fd = (unsigned int)cgfd;
	a.attach_bpf_fd = (unsigned int)prog;
	a.attach_type = type;
	return sys_bpf(BPF_PROG_DETACH, &a);
}

/*
 * The bpf() escapes, for every hook egressd attaches: PROG_DETACH without
 * a program fd; PROG_QUERY of the own cgroup; PROG_GET_FD_BY_ID of each id
 * it names, and PROG_DETACH with that fd.  Then PROG_GET_NEXT_ID and
 * OBJ_GET of whatever is pinned under /sys/fs/bpf.
 */
static void escape_bpf(const char *mnt)
{
	union bpf_attr a;
	char what[600];
	__u32 ids[64], i;
	size_t t;
	int cgfd, fd;
	DIR *d;

	cgfd = own_cgroup_fd(mnt);
	if (cgfd < 0) {
		printf("open own cgroup: %s\n", errname(errno));
		return;
	}
	for (t = 0; t < sizeof(escape_types) / sizeof(escape_types[0]); t++) {
		const char *name = escape_types[t].name;
		__u32 cnt = 0;

		snprintf(what, sizeof(what), "bpf PROG_DETACH %s (no program fd)", name);
		attempt(what, bpf_detach(cgfd, 0, escape_types[t].type));
		memset(&a, 0, sizeof(a));
		a.query.target_fd = (unsigned int)cgfd;
		a.query.attach_type = escape_types[t].type;
		a.query.prog_ids = (uintptr_t)ids;
		a.query.prog_cnt = 64;
		snprintf(what, sizeof(what), "bpf PROG_QUERY %s", name);
		if (attempt(what, sys_bpf(BPF_PROG_QUERY, &a)) >= 0)
			cnt = a.query.prog_cnt;
		for (i = 0; i < cnt && i < 64; i++) {
			memset(&a, 0, sizeof(a));
			a.prog_id = ids[i];
			snprintf(what, sizeof(what), "bpf PROG_GET_FD_BY_ID %u (%s)", ids[i], name);
			fd = attempt(what, sys_bpf(BPF_PROG_GET_FD_BY_ID, &a));
			if (fd < 0)
				continue;
			snprintf(what, sizeof(what), "bpf PROG_DETACH %s (with the program's fd)", name);
			attempt(what, bpf_detach(cgfd, fd, escape_types[t].type));
			close(fd);
		}
	}
	memset(&a, 0, sizeof(a));
	attempt("bpf PROG_GET_NEXT_ID", sys_bpf(BPF_PROG_GET_NEXT_ID, &a));
	memset(&a, 0, sizeof(a));
	a.prog_id = 1;
	/* Id 1 rarely exists: ENOENT there is no refusal, EPERM is. */
	fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (fd >= 0 || errno != ENOENT) {
		attempt("bpf PROG_GET_FD_BY_ID 1", fd);
		if (fd >= 0)
			close(fd);
	}
	d = opendir("/sys/fs/bpf");
	if (d) {
		struct dirent *e;
		int n = 0;

		while ((e = readdir(d))) {
			char path[512];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/fs/bpf/%s", e->d_name);
			memset(&a, 0, sizeof(a));
			a.pathname = (uintptr_t)path;
			snprintf(what, sizeof(what), "bpf OBJ_GET %s", path);
			fd = attempt(what, sys_bpf(BPF_OBJ_GET, &a));
			if (fd >= 0)
				close(fd);
			n++;
		}
		closedir(d);
		if (!n)
			printf("bpf OBJ_GET: nothing pinned under /sys/fs/bpf\n");
	} else {
		printf("bpf OBJ_GET: no /sys/fs/bpf to look in (%s)\n", errname(errno));
	}
	close(cgfd);
}

/* Signals, ptrace, pidfd_getfd and /proc against PID (egressd). */
static void escape_proc(pid_t pid)
{
	char what[96], path[64], comm[32] = "";
	int pidfd, fd, i;
	FILE *f;

	/* Only egressd is a target: never stop or trace anything else. */
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	comm[strcspn(comm, "\n")] = '\0';
	if (strcmp(comm, "egressd")) {
		printf("escape: pid %d is '%s', not egressd: not a target\n", (int)pid, comm);
		return;
	}

	snprintf(what, sizeof(what), "kill %d 0", (int)pid);
	attempt(what, kill(pid, 0));
	snprintf(what, sizeof(what), "kill %d SIGSTOP", (int)pid);
	if (attempt(what, kill(pid, SIGSTOP)) >= 0)
		kill(pid, SIGCONT);
	snprintf(what, sizeof(what), "ptrace SEIZE %d", (int)pid);
	if (attempt(what, ptrace(PTRACE_SEIZE, pid, NULL, NULL)) >= 0)
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* pidfd_open itself is anyone's: only what it leads to counts. */
	report("pidfd_open", pidfd);
	if (pidfd >= 0) {
		for (i = 0; i < 32; i++) {
			fd = (int)syscall(SYS_pidfd_getfd, pidfd, i, 0);
			if (fd >= 0 || errno != EBADF || i == 31) {
				snprintf(what, sizeof(what), "pidfd_getfd %d", i);
				if (attempt(what, fd) >= 0)
					close(fd);
				break;
			}
		}
		close(pidfd);
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	snprintf(what, sizeof(what), "open %s", path);
	if (attempt(what, fd) >= 0)
		close(fd);
	snprintf(path, sizeof(path), "/proc/%d/fd/3", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(what, sizeof(what), "open %s", path);
	if (attempt(what, fd) >= 0)
		close(fd);
}

/*
 * attack escape [--cgroup2 MNT] [--target PID] [-- send ARGS...]
 *   Tries the bpf() escapes, then signals, ptrace, pidfd_getfd and /proc
 *   against PID (default: the parent, egressd when egressd runs it), and
 *   prints "escape: every attempt refused" or "escape: N attempt(s)
 *   succeeded".  After "--", goes on as `attack send ARGS` in the same
 *   process: the proof that the filter still holds.
 */
static int cmd_send(int argc, char **argv);

static int cmd_escape(int argc, char **argv)
{
	const char *mnt = "/sys/fs/cgroup";
	unsigned long target = 0;
	int i;

	for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--cgroup2") && i + 1 < argc)
			mnt = argv[++i];
		else if (!strcmp(argv[i], "--target") && i + 1 < argc &&
			 !parse_ulong(argv[i + 1], 1, 1UL << 22, &target))
			i++;
		else
			return usage();
	}
	printf("escape: begins\n");
	escape_bpf(mnt);
	escape_proc(target ? (pid_t)target : getppid());
	if (escape_ok)
		printf("escape: %d attempt(s) succeeded\n", escape_ok);
	else
		printf("escape: every attempt refused\n");
	fflush(stdout);
	if (i < argc - 1 && !strcmp(argv[i + 1], "send"))
		return cmd_send(argc - i, argv + i);
	if (i < argc)
		return usage();
	return escape_ok ? EXIT_DONE : EXIT_REFUSED;
}

static int if_addr4(const char *ifname, struct in_addr *addr)
{
	struct ifaddrs *ifa, *p;
	int ret = -1;

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (p = ifa; p; p = p->ifa_next) {
		if (p->ifa_addr && p->ifa_addr->sa_family == AF_INET &&
		    !strcmp(p->ifa_name, ifname)) {
			*addr = ((struct sockaddr_in *)p->ifa_addr)->sin_addr;
			ret = 0;
			break;
		}
	}
	freeifaddrs(ifa);
	return ret;
}

static int cmd_join(int argc, char **argv)
{
	struct sockaddr_storage grp, src;
	unsigned long hold = 200;
	const char *method, *ifname;
	bool compat = false, ssm;
	socklen_t glen, slen;
	unsigned int idx;
	int i, fd, ret;

	for (i = 2; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--compat"))
			compat = true;
		else if (!strcmp(argv[i], "--hold") && i + 1 < argc &&
			 !parse_ulong(argv[i + 1], 0, 60000, &hold))
			i++;
		else if (!strcmp(argv[i], "--uring"))
			join_uring = 1;
		else if (!strcmp(argv[i], "--uring-sqpoll"))
			join_uring = 2;
		else if (!strcmp(argv[i], "--optlen") && i + 1 < argc &&
			 !parse_ulong(argv[i + 1], 1, 65536, &join_optlen))
			i++;
		else
			return usage();
	}
	if (argc - i < 3 || argc - i > 4)
		return usage();
	method = argv[i];
	ifname = argv[i + 1];
	ssm = !strcmp(method, "ip-add-source-membership") ||
	      !strcmp(method, "mcast-join-source-group");
	if (ssm != (argc - i == 4))
		return setup_error("%s needs a SOURCE exactly when source-specific", method);
	if (parse_addr(argv[i + 2], 0, &grp, &glen) < 0)
		return setup_error("bad group '%s'", argv[i + 2]);
	if (ssm && (parse_addr(argv[i + 3], 0, &src, &slen) < 0 ||
		    src.ss_family != grp.ss_family))
		return setup_error("bad source '%s'", argv[i + 3]);
	if (ifindex_of(ifname, &idx))
		return EXIT_USAGE;
	if (compat && strcmp(method, "ip-add-membership") &&
	    strcmp(method, "ip-add-source-membership") && strcmp(method, "ipv6-join-group"))
		return setup_error("--compat does not do %s (its struct differs for 32 bits)", method);

	fd = socket(grp.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (report("socket", fd))
		return EXIT_REFUSED;

	if (!strcmp(method, "ip-add-membership") && grp.ss_family == AF_INET) {
		struct ip_mreqn mr = {
			.imr_multiaddr = ((struct sockaddr_in *)&grp)->sin_addr,
			.imr_ifindex = (int)idx,
		};

		ret = do_setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP,
				    "IP_ADD_MEMBERSHIP", &mr, sizeof(mr), compat);
	} else if (!strcmp(method, "ip-add-source-membership") && grp.ss_family == AF_INET) {
		struct ip_mreq_source mr = {
			.imr_multiaddr = ((struct sockaddr_in *)&grp)->sin_addr,
			.imr_sourceaddr = ((struct sockaddr_in *)&src)->sin_addr,
		};

		/* ip_mreq_source names the interface by its address. */
		if (if_addr4(ifname, &mr.imr_interface)) {
			close(fd);
			return setup_error("no IPv4 address on %s", ifname);
		}
		ret = do_setsockopt(fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP,
				    "IP_ADD_SOURCE_MEMBERSHIP", &mr, sizeof(mr), compat);
	} else if (!strcmp(method, "mcast-join-group")) {
		struct group_req gr = { .gr_interface = idx };

		memcpy(&gr.gr_group, &grp, glen);
		ret = do_setsockopt(fd, grp.ss_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
				    MCAST_JOIN_GROUP, "MCAST_JOIN_GROUP", &gr,
				    sizeof(gr), false);
	} else if (!strcmp(method, "mcast-join-source-group")) {
		struct group_source_req gr = { .gsr_interface = idx };

		memcpy(&gr.gsr_group, &grp, glen);
		memcpy(&gr.gsr_source, &src, slen);
		ret = do_setsockopt(fd, grp.ss_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
				    MCAST_JOIN_SOURCE_GROUP, "MCAST_JOIN_SOURCE_GROUP",
				    &gr, sizeof(gr), false);
	} else if (!strcmp(method, "ipv6-join-group") && grp.ss_family == AF_INET6) {
		struct ipv6_mreq mr = {
			.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&grp)->sin6_addr,
			.ipv6mr_interface = idx,
		};

		ret = do_setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP,
				    "IPV6_JOIN_GROUP", &mr, sizeof(mr), compat);
	} else {
		close(fd);
		return setup_error("unknown method '%s' for this group's family", method);
	}
	if (ret != EXIT_USAGE && hold)
		sleep_ms(hold);
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "send"))
		ret = cmd_send(argc, argv);
	else if (!strcmp(argv[1], "join"))
		ret = cmd_join(argc, argv);
	else if (!strcmp(argv[1], "uring"))
		ret = cmd_uring(argc, argv);
	else if (!strcmp(argv[1], "escape"))
		ret = cmd_escape(argc, argv);
	else
		ret = usage();
	fflush(stdout);
	return ret;
}
