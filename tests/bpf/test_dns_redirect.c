// SPDX-License-Identifier: GPL-2.0-only
/*
 * DNS proxy mode and learned addresses with real sockets: what
 * bpf_prog_test_run cannot show, since sock_addr and recvmsg programs
 * cannot be test-run (ENOTSUPP) and test_run packets have no socket.
 *
 * The real loader loads and attaches the programs to a cgroup of our own;
 * a child joins it and plays the workload, while "the proxy" and "the
 * resolver" are sockets the parent made outside the cgroup (a socket
 * belongs to the cgroup it was created in), so they are never filtered.
 *
 *   test_dns_redirect           own network namespace; 198.51.100.1 (the
 *                               "resolver", a UDP echo we run) and
 *                               198.51.100.40 sit on a veth
 *   test_dns_redirect --remote  in the e2e lab's client namespace: the
 *                               resolver is a UDP echo on 198.51.100.1:53
 *                               across the veth (tests/e2e/63_dns_redirect_bpf.sh)
 *
 * Prints one "ok"/"not ok" line per check.  Exit 0 all passed, 1 a check
 * failed, 2 setup error, 77 not root.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>

#include "egress.skel.h"
#include "loader.h"
#include "log.h"

static int fails, checks;
static bool remote;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		fails++;
	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void die(const char *what)
{
	fprintf(stderr, "test_dns_redirect: setup: %s: %s\n", what, strerror(errno));
	exit(2);
}

union sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

static socklen_t mk(union sa *a, const char *ip, unsigned short port)
{
	memset(a, 0, sizeof(*a));
	if (strchr(ip, ':')) {
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons(port);
		if (inet_pton(AF_INET6, ip, &a->in6.sin6_addr) != 1)
			die(ip);
		return sizeof(a->in6);
	}
	a->in.sin_family = AF_INET;
	a->in.sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &a->in.sin_addr) != 1)
		die(ip);
	return sizeof(a->in);
}

/* "ip:port" or "[ip6]:port" */
static const char *fmt(const union sa *a, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
		snprintf(buf, n, "[%s]:%u", ip, ntohs(a->in6.sin6_port));
	} else {
		inet_ntop(AF_INET, &a->in.sin_addr, ip, sizeof(ip));
		snprintf(buf, n, "%s:%u", ip, ntohs(a->in.sin_port));
	}
	return buf;
}

static bool is(const union sa *a, const char *want)
{
	char b[80];

	return strcmp(fmt(a, b, sizeof(b)), want) == 0;
}

static int sock_bound(int family, int type, const char *ip, unsigned short port)
{
	union sa a;
	socklen_t len = mk(&a, ip, port);
	int one = 1, fd = socket(family, type, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &a.sa, len))
		die(ip);
	if (type == SOCK_STREAM && listen(fd, 8))
		die("listen");
	return fd;
}

/* Wait up to ms for a datagram; its length, or -1. */
static ssize_t recv_wait(int fd, char *buf, size_t n, union sa *from, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	socklen_t len = sizeof(*from);

	if (poll(&p, 1, ms) != 1)
		return -1;
	return recvfrom(fd, buf, n, MSG_DONTWAIT, from ? &from->sa : NULL, from ? &len : NULL);
}

static void drain(int fd)
{
	char b[512];

	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) >= 0)
		;
}

static int sendto_s(int fd, const char *msg, const char *ip, unsigned short port)
{
	union sa a;
	socklen_t len = mk(&a, ip, port);

	return sendto(fd, msg, strlen(msg), 0, &a.sa, len) < 0 ? -errno : 0;
}

static int connect_s(int fd, const char *ip, unsigned short port)
{
	union sa a;
	socklen_t len = mk(&a, ip, port);

	return connect(fd, &a.sa, len) ? -errno : 0;
}

/* ---- the world the parent sets up ---- */

static unsigned short P;          /* the proxy's port */
static int px4, px6, pxt;         /* proxy: udp 127.0.0.1:P, udp [::1]:P, tcp 127.0.0.1:P */
static int resolver = -1;         /* local mode: udp 198.51.100.1:53 */
static int lt = -1, lu = -1;      /* local mode: tcp/udp on 198.51.100.40 (learned) */
static struct egress_bpf *skel;
static char wire_dev[IF_NAMESIZE];

#define RESOLVER "198.51.100.1"
#define LEARNED "198.51.100.40"

/*
 * One proxy round trip: the datagram the client sent must reach the proxy
 * (and not the resolver), the proxy answers, and the client must see the
 * answer come from want_src.
 */
static void proxy_roundtrip(int c, int proxy, const char *what, const char *want_src)
{
	char buf[64], b[80];
	union sa from;
	ssize_t n;

	n = recv_wait(proxy, buf, sizeof(buf), &from, 1000);
	check(n > 0, "%s: arrives at the proxy on port %u", what, P);
	if (n <= 0)
		return;
	if (resolver >= 0)
		check(recv_wait(resolver, buf, sizeof(buf), NULL, 0) < 0, "%s: not at the resolver", what);
	sendto(proxy, "answer", 6, 0, &from.sa,
	       from.sa.sa_family == AF_INET6 ? sizeof(from.in6) : sizeof(from.in));
	n = recv_wait(c, buf, sizeof(buf), &from, 1000);
	check(n == 6 && is(&from, want_src), "%s: the answer's source is %s (got %s)", what, want_src,
	      n > 0 ? fmt(&from, b, sizeof(b)) : "nothing");
}

/* Local mode: the resolver echoes what it gets (remote: the lab's echo does). */
static void resolver_echo(void)
{
	char buf[64];
	union sa from;
	ssize_t n;

	if (resolver < 0)
		return;
	n = recv_wait(resolver, buf, sizeof(buf), &from, 1000);
	if (n > 0)
		sendto(resolver, buf, (size_t)n, 0, &from.sa, sizeof(from.in));
}

static void test_redirect(int pre_plain, int pre_exempt)
{
	char buf[64], b[80];
	union sa from;
	socklen_t len;
	ssize_t n;
	int c, err;

	/* UDP sendto the resolver from an ordinary socket. */
	c = socket(AF_INET, SOCK_DGRAM, 0);
	check(sendto_s(c, "q", RESOLVER, 53) == 0, "udp sendto %s:53 is accepted", RESOLVER);
	proxy_roundtrip(c, px4, "udp " RESOLVER ":53", RESOLVER ":53");

	/* A stub on loopback and a hard-coded public resolver: both to the proxy. */
	check(sendto_s(c, "q", "127.0.0.53", 53) == 0, "udp sendto 127.0.0.53:53 is accepted");
	proxy_roundtrip(c, px4, "udp 127.0.0.53:53", "127.0.0.53:53");
	check(sendto_s(c, "q", "8.8.8.8", 53) == 0, "udp sendto 8.8.8.8:53 is accepted");
	proxy_roundtrip(c, px4, "udp 8.8.8.8:53", "8.8.8.8:53");

	/* Exempt: reaches the resolver itself; unexempt again: the proxy. */
	err = loader_exempt_socket(skel, c);
	check(err == 0, "loader_exempt_socket: %s", strerror(-err));
	drain(px4);
	check(sendto_s(c, "direct", RESOLVER, 53) == 0, "exempt: udp sendto %s:53 is accepted", RESOLVER);
	resolver_echo();
	n = recv_wait(c, buf, sizeof(buf), &from, 1000);
	check(n == 6 && is(&from, RESOLVER ":53"), "exempt: the resolver itself answers");
	check(recv_wait(px4, buf, sizeof(buf), NULL, 0) < 0, "exempt: nothing at the proxy");
	check(loader_unexempt_socket(skel, c) == 0, "loader_unexempt_socket");
	check(loader_unexempt_socket(skel, c) == 0, "loader_unexempt_socket twice");
	check(sendto_s(c, "q", RESOLVER, 53) == 0, "unexempt: udp sendto %s:53", RESOLVER);
	proxy_roundtrip(c, px4, "unexempt udp " RESOLVER ":53", RESOLVER ":53");

	/*
	 * The packet hook: sockets connected before the programs were
	 * attached send with no sock_addr hook in front.  Only the exempt
	 * one reaches the resolver.
	 */
	err = send(pre_plain, "pre", 3, 0) < 0 ? -errno : 0;
	resolver_echo();
	n = recv_wait(pre_plain, buf, sizeof(buf), NULL, 500);
	check(n < 0, "packet hook: a non-exempt socket does not reach %s:53 (send: %s)", RESOLVER,
	      err ? strerror(-err) : "accepted");
	check(send(pre_exempt, "pre", 3, 0) == 3, "packet hook: an exempt socket sends to %s:53",
	      RESOLVER);
	resolver_echo();
	n = recv_wait(pre_exempt, buf, sizeof(buf), NULL, 1000);
	check(n == 3, "packet hook: the exempt socket gets the resolver's answer");
	close(c);

	/* Connected UDP: send(), recv() and getpeername(). */
	c = socket(AF_INET, SOCK_DGRAM, 0);
	check(connect_s(c, "8.8.8.8", 53) == 0, "udp connect 8.8.8.8:53");
	len = sizeof(from);
	err = getpeername(c, &from.sa, &len);
	check(err == 0 && is(&from, "8.8.8.8:53"),
	      "connected udp: getpeername shows 8.8.8.8:53 (got %s)", fmt(&from, b, sizeof(b)));
	check(send(c, "q", 1, 0) == 1, "connected udp: send");
	proxy_roundtrip(c, px4, "connected udp 8.8.8.8:53", "8.8.8.8:53");
	close(c);

	/* TCP connect to 8.8.8.8:53 lands on the proxy's listener. */
	c = socket(AF_INET, SOCK_STREAM, 0);
	check(connect_s(c, "8.8.8.8", 53) == 0, "tcp connect 8.8.8.8:53");
	{
		struct pollfd p = { .fd = pxt, .events = POLLIN };
		int a = poll(&p, 1, 1000) == 1 ? accept(pxt, NULL, NULL) : -1;

		check(a >= 0, "tcp: the proxy's listener accepts it");
		len = sizeof(from);
		err = getpeername(c, &from.sa, &len);
		check(err == 0 && is(&from, "8.8.8.8:53"),
		      "tcp: getpeername shows 8.8.8.8:53 (got %s)", fmt(&from, b, sizeof(b)));
		if (a >= 0)
			close(a);
	}
	close(c);

	/* AF_INET6: to ::1, or ::ffff:127.0.0.1 for a mapped destination. */
	c = socket(AF_INET6, SOCK_DGRAM, 0);
	check(sendto_s(c, "q", "2001:db8::1", 53) == 0, "udp6 sendto [2001:db8::1]:53");
	proxy_roundtrip(c, px6, "udp6 [2001:db8::1]:53", "[2001:db8::1]:53");
	check(sendto_s(c, "q", "::ffff:" RESOLVER, 53) == 0, "udp6 sendto [::ffff:%s]:53", RESOLVER);
	proxy_roundtrip(c, px4, "udp6 mapped", "[::ffff:" RESOLVER "]:53");
	close(c);
	c = socket(AF_INET6, SOCK_STREAM, 0);
	check(connect_s(c, "::ffff:8.8.8.8", 53) == 0, "tcp6 connect [::ffff:8.8.8.8]:53");
	{
		struct pollfd p = { .fd = pxt, .events = POLLIN };
		int a = poll(&p, 1, 1000) == 1 ? accept(pxt, NULL, NULL) : -1;

		check(a >= 0, "tcp6 mapped: the proxy's IPv4 listener accepts it");
		len = sizeof(from);
		err = getpeername(c, &from.sa, &len);
		check(err == 0 && is(&from, "[::ffff:8.8.8.8]:53"),
		      "tcp6 mapped: getpeername (got %s)", fmt(&from, b, sizeof(b)));
		if (a >= 0)
			close(a);
	}
	close(c);

	/* Bound to a real device, the redirect would push loopback out of it. */
	c = socket(AF_INET, SOCK_DGRAM, 0);
	if (setsockopt(c, SOL_SOCKET, SO_BINDTODEVICE, wire_dev, (socklen_t)strlen(wire_dev)))
		die("SO_BINDTODEVICE");
	check(sendto_s(c, "q", RESOLVER, 53) == -EPERM, "bound to %s: sendto :53 is EPERM", wire_dev);
	close(c);
}

static void learn(const char *ip, int64_t ttl_ns)
{
	struct egress_learned v = { .nports = 2, .ports = { 8080, 8081 } };
	struct timespec ts;
	struct addr a;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	v.expires_ns = (uint64_t)((int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec + ttl_ns);
	if (addr_parse(ip, &a) || loader_learn(skel, &a, &v))
		die("loader_learn");
}

/* The verdict cache: a learned address that expires cuts no open flow. */
static void test_learned_flows(void)
{
	char buf[16];
	struct addr a;
	int t, u, s, x;

	learn(LEARNED, 60ll * 1000000000);
	t = socket(AF_INET, SOCK_STREAM, 0);
	check(connect_s(t, LEARNED, 8080) == 0, "tcp connect to a learned address");
	s = accept(lt, NULL, NULL);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	check(connect_s(u, LEARNED, 8081) == 0, "udp connect to a learned address");
	check(send(t, "1", 1, 0) == 1 && s >= 0 && recv_wait(s, buf, sizeof(buf), NULL, 1000) == 1,
	      "tcp data arrives");
	check(send(u, "1", 1, 0) == 1 && recv_wait(lu, buf, sizeof(buf), NULL, 1000) == 1,
	      "udp data arrives");

	/* Expired (in the past), then forgotten altogether. */
	learn(LEARNED, -1);
	check(send(t, "2", 1, 0) == 1 && recv_wait(s, buf, sizeof(buf), NULL, 1000) == 1,
	      "expired: the established tcp stream goes on");
	check(send(u, "2", 1, 0) == 1 && recv_wait(lu, buf, sizeof(buf), NULL, 1000) == 1,
	      "expired: the connected udp flow goes on");
	if (addr_parse(LEARNED, &a) || loader_unlearn(skel, &a))
		die("loader_unlearn");
	check(send(t, "3", 1, 0) == 1 && recv_wait(s, buf, sizeof(buf), NULL, 1000) == 1,
	      "forgotten: the tcp stream goes on");
	x = socket(AF_INET, SOCK_STREAM, 0);
	check(connect_s(x, LEARNED, 8080) == -EPERM, "forgotten: a new tcp connect is EPERM");
	close(x);
	x = socket(AF_INET, SOCK_DGRAM, 0);
	check(sendto_s(x, "4", LEARNED, 8081) == -EPERM, "forgotten: a new udp sendto is EPERM");
	close(x);
	check(sendto_s(u, "5", "198.51.100.41", 8081) == -EPERM,
	      "the connected udp socket's sendto elsewhere is decided afresh: EPERM");
	close(t);
	close(u);
	if (s >= 0)
		close(s);
}

static void child(int go_r, int ready_w, int cgfd)
{
	int pre_plain, pre_exempt;
	char c;

	if (write(cgfd, "0", 1) != 1)
		die("joining the cgroup");
	/* Connected before the programs exist: only the packet hook sees them. */
	pre_plain = socket(AF_INET, SOCK_DGRAM, 0);
	pre_exempt = socket(AF_INET, SOCK_DGRAM, 0);
	if (connect_s(pre_plain, RESOLVER, 53) || connect_s(pre_exempt, RESOLVER, 53))
		die("connect before attach");
	if (write(ready_w, "r", 1) != 1 || read(go_r, &c, 1) != 1 || c != 'g')
		die("waiting for the attach");
	if (loader_exempt_socket(skel, pre_exempt))
		die("exempting");
	test_redirect(pre_plain, pre_exempt);
	if (!remote)
		test_learned_flows();
	printf("%d checks, %d failed\n", checks, fails);
	exit(fails ? 1 : 0);
}

/* The first cgroup2 mount, from /proc/self/mounts. */
static void cgroup2_mount(char *out, size_t n)
{
	char dev[64], dir[256], type[64];
	FILE *f = fopen("/proc/self/mounts", "r");

	if (!f)
		die("/proc/self/mounts");
	while (fscanf(f, "%63s %255s %63s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2") == 0) {
			snprintf(out, n, "%s", dir);
			fclose(f);
			return;
		}
	}
	fclose(f);
	fprintf(stderr, "SKIP: no cgroup2 mount\n");
	exit(77);
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "test_dns_redirect: setup: %s failed\n", cmd);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	char cg2[256], cgdir[320], procs[340], c;
	int go[2], ready[2], cgfd, cgdirfd, status = 0, rc;
	struct resolver res[2];
	char err[128];
	union sa a;
	socklen_t len = sizeof(a);
	pid_t pid;

	remote = argc > 1 && strcmp(argv[1], "--remote") == 0;
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: needs root (CAP_BPF, CAP_NET_ADMIN)\n");
		return 77;
	}
	if (!remote) {
		if (unshare(CLONE_NEWNET))
			die("unshare(CLONE_NEWNET)");
		sh("ip link set lo up && ip link add egd0 type veth peer name egd1 && "
		   "ip addr add 198.51.100.1/24 dev egd0 && ip addr add 198.51.100.40/24 dev egd0 && "
		   "ip link set egd0 up && ip link set egd1 up");
		strcpy(wire_dev, "egd0");
		resolver = sock_bound(AF_INET, SOCK_DGRAM, RESOLVER, 53);
		lt = sock_bound(AF_INET, SOCK_STREAM, LEARNED, 8080);
		lu = sock_bound(AF_INET, SOCK_DGRAM, LEARNED, 8081);
	} else {
		struct if_nameindex *ifs = if_nameindex();

		for (struct if_nameindex *i = ifs; i && i->if_index; i++)
			if (strcmp(i->if_name, "lo") && !wire_dev[0])
				snprintf(wire_dev, sizeof(wire_dev), "%s", i->if_name);
		if_freenameindex(ifs);
		if (!wire_dev[0])
			die("no device but lo");
	}

	/* The proxy: any free port on 127.0.0.1, the same on ::1. */
	px4 = sock_bound(AF_INET, SOCK_DGRAM, "127.0.0.1", 0);
	if (getsockname(px4, &a.sa, &len))
		die("getsockname");
	P = ntohs(a.in.sin_port);
	px6 = sock_bound(AF_INET6, SOCK_DGRAM, "::1", P);
	pxt = sock_bound(AF_INET, SOCK_STREAM, "127.0.0.1", P);

	if (resolver_parse(RESOLVER, &res[0], err, sizeof(err)) ||
	    resolver_parse("[2001:db8::1]:53", &res[1], err, sizeof(err))) {
		fprintf(stderr, "test_dns_redirect: %s\n", err);
		return 2;
	}
	struct loader_config lc = {
		.events = true,
		.resolvers = res,
		.nresolvers = 2,
		.dns_proxy = true,
		.proxy_port = P,
		.learn = true,
	};

	log_setup_libbpf();
	cgroup2_mount(cg2, sizeof(cg2));
	snprintf(cgdir, sizeof(cgdir), "%s/egt-dns-%d", cg2, (int)getpid());
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgdir);
	if (mkdir(cgdir, 0755))
		die(cgdir);
	if ((cgdirfd = open(cgdir, O_RDONLY | O_DIRECTORY)) < 0 || (cgfd = open(procs, O_WRONLY)) < 0 ||
	    pipe(go) || pipe(ready)) {
		rmdir(cgdir);
		die("cgroup");
	}
	rc = loader_load(&lc, &skel);
	if (rc) {
		rmdir(cgdir);
		fprintf(stderr, "test_dns_redirect: loader_load: %s\n", strerror(-rc));
		return 2;
	}
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		child(go[0], ready[1], cgfd);
	close(go[0]);
	close(ready[1]);
	rc = 2;
	if (read(ready[0], &c, 1) == 1 && loader_attach(skel, cgdirfd) == 0) {
		if (write(go[1], "g", 1) == 1 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
			rc = WEXITSTATUS(status);
		loader_detach(skel, cgdirfd);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	loader_destroy(skel);
	/* The child is gone, so the cgroup is empty. */
	if (rmdir(cgdir))
		fprintf(stderr, "test_dns_redirect: cannot remove %s: %s\n", cgdir, strerror(errno));
	return rc;
}
