// SPDX-License-Identifier: GPL-2.0-only
/*
 * probe: what the workload runs in the end-to-end tests.
 *
 * Each subcommand prints a verdict a test can grep for and exits
 * 0 = the expected good outcome, 1 = the other outcome, 2 = usage or a
 * setup error that makes the result meaningless.  A setup error must never
 * look like "blocked": a test that only checks for failure would then pass
 * without having tested anything.
 *
 *   probe tcp ADDR PORT [timeout_ms]
 *   probe udp ADDR PORT [timeout_ms]
 *   probe udp-connected ADDR PORT [timeout_ms]
 *   probe icmp ADDR [timeout_ms]      (echo over a ping socket)
 *   probe fds
 *   probe escape CGROUP2_MOUNT
 *   probe bpf-detach CGROUP_DIR
 *   probe caps
 *   probe sleep SECONDS
 *   probe spawn-sleeper SECONDS
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper_util.h"

#define EXIT_GOOD 0
#define EXIT_BAD 1
#define EXIT_USAGE 2

#define DEFAULT_TIMEOUT_MS 2000
/* How long to wait for a TCP server's greeting once connected. */
#define TCP_REPLY_WAIT_MS 1000

static long long start_ms;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: probe tcp|udp|udp-connected ADDR PORT [timeout_ms]\n"
		"       probe icmp ADDR [timeout_ms]\n"
		"       probe fds | caps\n"
		"       probe escape CGROUP2_MOUNT\n"
		"       probe bpf-detach CGROUP_DIR\n"
		"       probe sleep|spawn-sleeper SECONDS\n");
	return EXIT_USAGE;
}

static void print_elapsed(void)
{
	printf("elapsed_ms=%lld\n", now_ms() - start_ms);
	fflush(stdout);
}

/* EPERM is what the cgroup hooks return; anything else is a plain error. */
static int report_err(const char *what, int err)
{
	if (err == EPERM)
		printf("blocked errno=%s\n", errname(err));
	else
		printf("error errno=%s\n", errname(err));
	printf("failed_at=%s\n", what);
	print_elapsed();
	return EXIT_BAD;
}

static int report_timeout(const char *what)
{
	printf("timeout\nfailed_at=%s\n", what);
	print_elapsed();
	return EXIT_BAD;
}

static int remaining_ms(long long deadline)
{
	long long left = deadline - now_ms();

	return left > 0 ? (int)left : 0;
}

/* Poll one fd, restarting on EINTR.  Returns poll()'s result. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&pfd, 1, remaining_ms(deadline));
	} while (n < 0 && errno == EINTR);
	return n;
}

static void print_reply(const char *buf, ssize_t n)
{
	ssize_t i;

	printf("reply=");
	for (i = 0; i < n && buf[i] != '\n'; i++)
		putchar(buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '?');
	putchar('\n');
}

static int do_tcp(const struct sockaddr_storage *ss, socklen_t len,
		  long long deadline)
{
	char buf[256];
	socklen_t elen = sizeof(int);
	int fd, err = 0, n;
	ssize_t r;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report_err("socket", errno);

	if (connect(fd, (const struct sockaddr *)ss, len) < 0) {
		if (errno != EINPROGRESS)
			return report_err("connect", errno);
		n = wait_fd(fd, POLLOUT, deadline);
		if (n < 0)
			return report_err("poll", errno);
		if (n == 0)
			return report_timeout("connect");
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			return report_err("getsockopt", errno);
		if (err)
			return report_err("connect", err);
	}

	printf("ok\n");
	/* A greeting is optional: its absence does not undo the connect. */
	if (remaining_ms(deadline) > TCP_REPLY_WAIT_MS)
		deadline = now_ms() + TCP_REPLY_WAIT_MS;
	if (wait_fd(fd, POLLIN, deadline) > 0) {
		r = read(fd, buf, sizeof(buf));
		if (r > 0)
			print_reply(buf, r);
	}
	close(fd);
	print_elapsed();
	return EXIT_GOOD;
}

static int do_udp(const struct sockaddr_storage *ss, socklen_t len,
		  bool connected, long long deadline)
{
	char msg[64], buf[256];
	ssize_t r;
	int fd, n;

	snprintf(msg, sizeof(msg), "egressd-probe %d %lld\n", (int)getpid(),
		 start_ms);

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report_err("socket", errno);

	if (connected) {
		if (connect(fd, (const struct sockaddr *)ss, len) < 0)
			return report_err("connect", errno);
		r = send(fd, msg, strlen(msg), 0);
	} else {
		r = sendto(fd, msg, strlen(msg), 0,
			   (const struct sockaddr *)ss, len);
	}
	if (r < 0)
		return report_err(connected ? "send" : "sendto", errno);

	for (;;) {
		n = wait_fd(fd, POLLIN, deadline);
		if (n < 0)
			return report_err("poll", errno);
		if (n == 0)
			return report_timeout("recv");
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return report_err("recv", errno);
		}
		/* Only our own echo counts; ignore anything else. */
		if ((size_t)r == strlen(msg) && !memcmp(buf, msg, r))
			break;
	}
	close(fd);
	printf("ok\nreply=echo\n");
	print_elapsed();
	return EXIT_GOOD;
}

/*
 * ICMP echo through an unprivileged ping socket (the lab opens
 * net.ipv4.ping_group_range in the client namespace).  No connect or
 * sendmsg hook sees a ping socket, so this reaches the cgroup/skb program
 * alone.  The kernel fills in the id and the checksum.
 */
static int do_icmp(const struct sockaddr_storage *ss, socklen_t len,
		   long long deadline)
{
	bool v6 = ss->ss_family == AF_INET6;
	unsigned char req[64] = { 0 }, buf[256];
	const char payload[] = "egressd-probe";
	ssize_t r;
	int fd, n;

	req[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	req[7] = 1; /* sequence 1 */
	memcpy(req + 8, payload, sizeof(payload));

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	if (fd < 0)
		return report_err("socket", errno);
	if (sendto(fd, req, 8 + sizeof(payload), 0,
		   (const struct sockaddr *)ss, len) < 0)
		return report_err("sendto", errno);

	for (;;) {
		n = wait_fd(fd, POLLIN, deadline);
		if (n < 0)
			return report_err("poll", errno);
		if (n == 0)
			return report_timeout("recv");
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return report_err("recv", errno);
		}
		if (r >= 8 && buf[0] == (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY))
			break;
	}
	close(fd);
	printf("ok\nreply=echo\n");
	print_elapsed();
	return EXIT_GOOD;
}

static int cmd_icmp(int argc, char **argv)
{
	struct sockaddr_storage ss;
	unsigned long timeout = DEFAULT_TIMEOUT_MS;
	socklen_t len;

	if (argc < 3 || argc > 4)
		return usage();
	if (argc == 4 && parse_ulong(argv[3], 1, 600000, &timeout) < 0) {
		fprintf(stderr, "probe: bad timeout '%s'\n", argv[3]);
		return EXIT_USAGE;
	}
	if (parse_addr(argv[2], 0, &ss, &len) < 0) {
		fprintf(stderr, "probe: bad address '%s'\n", argv[2]);
		return EXIT_USAGE;
	}
	return do_icmp(&ss, len, start_ms + timeout);
}

static int cmd_net(int argc, char **argv)
{
	struct sockaddr_storage ss;
	unsigned long port, timeout = DEFAULT_TIMEOUT_MS;
	socklen_t len;

	if (argc < 4 || argc > 5)
		return usage();
	if (parse_ulong(argv[3], 1, 65535, &port) < 0) {
		fprintf(stderr, "probe: bad port '%s'\n", argv[3]);
		return EXIT_USAGE;
	}
	if (argc == 5 && parse_ulong(argv[4], 1, 600000, &timeout) < 0) {
		fprintf(stderr, "probe: bad timeout '%s'\n", argv[4]);
		return EXIT_USAGE;
	}
	if (parse_addr(argv[2], port, &ss, &len) < 0) {
		fprintf(stderr, "probe: bad address '%s'\n", argv[2]);
		return EXIT_USAGE;
	}

	if (!strcmp(argv[1], "tcp"))
		return do_tcp(&ss, len, start_ms + timeout);
	if (!strcmp(argv[1], "udp"))
		return do_udp(&ss, len, false, start_ms + timeout);
	return do_udp(&ss, len, true, start_ms + timeout);
}

static int cmd_fds(void)
{
	char path[64], target[PATH_MAX];
	struct dirent *de;
	int self, found = 0;
	ssize_t n;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d) {
		fprintf(stderr, "probe: /proc/self/fd: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	self = dirfd(d);
	while ((de = readdir(d))) {
		unsigned long fd;

		if (parse_ulong(de->d_name, 0, INT_MAX, &fd) < 0)
			continue;
		if (fd <= 2 || (int)fd == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%lu", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			snprintf(target, sizeof(target), "? (%s)", errname(errno));
		else
			target[n] = '\0';
		printf("fd %lu -> %s\n", fd, target);
		found++;
	}
	closedir(d);
	if (found) {
		printf("open_fds=%d\n", found);
		return EXIT_BAD;
	}
	printf("no fds above 2\n");
	return EXIT_GOOD;
}

/* The cgroup2 path of this process ("0::PATH" in /proc/self/cgroup). */
static int read_cgroup(char *buf, size_t size)
{
	char line[PATH_MAX + 8];
	int ret = -1;
	FILE *f;

	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line + 3) >= size)
			break;
		memcpy(buf, line + 3, strlen(line + 3) + 1);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static void try_move(const char *dir)
{
	char path[PATH_MAX + 32];
	char pid[32];
	int fd, len;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("escape to %s: open errno=%s\n", path, errname(errno));
		return;
	}
	if (write(fd, pid, len) < 0)
		printf("escape to %s: write errno=%s\n", path, errname(errno));
	else
		printf("escape to %s: write succeeded\n", path);
	close(fd);
}

/*
 * Try the root cgroup and the parent of our own cgroup: either would take
 * the process out from under the filter.
 */
static int cmd_escape(const char *mount)
{
	char before[PATH_MAX], after[PATH_MAX], parent[2 * PATH_MAX];
	char *slash;

	if (read_cgroup(before, sizeof(before)) < 0) {
		fprintf(stderr, "probe: no cgroup2 line in /proc/self/cgroup\n");
		return EXIT_USAGE;
	}
	printf("cgroup=%s\n", before);

	try_move(mount);
	snprintf(parent, sizeof(parent), "%s%s", mount, before);
	slash = strrchr(parent, '/');
	if (slash && (size_t)(slash - parent) > strlen(mount)) {
		*slash = '\0';
		try_move(parent);
	}

	if (read_cgroup(after, sizeof(after)) < 0) {
		fprintf(stderr, "probe: no cgroup2 line in /proc/self/cgroup\n");
		return EXIT_USAGE;
	}
	if (strcmp(before, after)) {
		printf("escaped: now in %s\n", after);
		return EXIT_BAD;
	}
	printf("contained: still in %s\n", after);
	return EXIT_GOOD;
}

/*
 * attach_bpf_fd = 0 is the interesting case: for a program attached
 * without BPF_F_ALLOW_MULTI the kernel detaches whatever is there when the
 * fd does not name a program.
 */
static int cmd_bpf_detach(const char *dir)
{
	static const struct {
		enum bpf_attach_type type;
		const char *name;
	} types[] = {
		{ BPF_CGROUP_INET_EGRESS, "cgroup_inet_egress" },
		{ BPF_CGROUP_INET4_CONNECT, "cgroup_inet4_connect" },
		{ BPF_CGROUP_INET6_CONNECT, "cgroup_inet6_connect" },
		{ BPF_CGROUP_UDP4_SENDMSG, "cgroup_udp4_sendmsg" },
		{ BPF_CGROUP_UDP6_SENDMSG, "cgroup_udp6_sendmsg" },
	};
	int cg, detached = 0;
	size_t i;

	cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		fprintf(stderr, "probe: open %s: %s\n", dir, strerror(errno));
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		union bpf_attr attr;

		memset(&attr, 0, sizeof(attr));
		attr.target_fd = cg;
		attr.attach_bpf_fd = 0;
		attr.attach_type = types[i].type;
		if (syscall(__NR_bpf, BPF_PROG_DETACH, &attr, sizeof(attr)) == 0) {
			printf("detach %s: succeeded\n", types[i].name);
			detached++;
		} else {
			printf("detach %s: failed errno=%s\n", types[i].name,
			       errname(errno));
		}
	}
	close(cg);
	return detached ? EXIT_BAD : EXIT_GOOD;
}

static int cmd_caps(void)
{
	static const char *const keys[] = { "CapInh:", "CapPrm:", "CapEff:",
					    "CapBnd:", "CapAmb:" };
	char line[256];
	int seen = 0, bad = 0, nnp = -1;
	size_t i;
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f) {
		fprintf(stderr, "probe: /proc/self/status: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) ||
		    !strncmp(line, "Groups:", 7)) {
			printf("%s\n", line);
			continue;
		}
		if (!strncmp(line, "NoNewPrivs:", 11)) {
			printf("%s\n", line);
			nnp = atoi(line + 11);
			continue;
		}
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			unsigned long long v;
			size_t klen = strlen(keys[i]);

			if (strncmp(line, keys[i], klen))
				continue;
			printf("%s\n", line);
			seen++;
			v = strtoull(line + klen, NULL, 16);
			if (v)
				bad++;
		}
	}
	fclose(f);
	if (seen != (int)(sizeof(keys) / sizeof(keys[0])) || nnp < 0) {
		fprintf(stderr, "probe: capability lines missing\n");
		return EXIT_USAGE;
	}
	if (bad || nnp != 1) {
		printf("caps: NOT dropped (%d non-zero sets, NoNewPrivs=%d)\n",
		       bad, nnp);
		return EXIT_BAD;
	}
	printf("caps: all dropped, NoNewPrivs=1\n");
	return EXIT_GOOD;
}

static void sleep_s(unsigned long secs)
{
	struct timespec ts = { .tv_sec = (time_t)secs };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int cmd_sleep(const char *arg)
{
	unsigned long secs;

	if (parse_ulong(arg, 0, 86400, &secs) < 0)
		return usage();
	printf("pid=%d\n", (int)getpid());
	fflush(stdout);
	sleep_s(secs);
	return EXIT_GOOD;
}

/*
 * A grandchild in its own session: it is not our child, not in our process
 * group, and its stdio does not hold the caller's pipes open.
 */
static int cmd_spawn_sleeper(const char *arg)
{
	unsigned long secs;
	int pfd[2], status, gpid = 0;
	pid_t child, grandchild;

	if (parse_ulong(arg, 0, 86400, &secs) < 0)
		return usage();
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		perror("probe: pipe");
		return EXIT_USAGE;
	}
	fflush(stdout);
	child = fork();
	if (child < 0) {
		perror("probe: fork");
		return EXIT_USAGE;
	}
	if (child == 0) {
		grandchild = fork();
		if (grandchild < 0)
			_exit(1);
		if (grandchild == 0) {
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);

			setsid();
			gpid = (int)getpid();
			if (write(pfd[1], &gpid, sizeof(gpid)) != sizeof(gpid))
				_exit(1);
			close(pfd[1]);
			if (null >= 0) {
				dup2(null, 0);
				dup2(null, 1);
				dup2(null, 2);
			}
			sleep_s(secs);
			_exit(0);
		}
		_exit(0);
	}
	close(pfd[1]);
	waitpid(child, &status, 0);
	if (read(pfd[0], &gpid, sizeof(gpid)) != sizeof(gpid) || gpid <= 0) {
		fprintf(stderr, "probe: sleeper did not report its pid\n");
		return EXIT_USAGE;
	}
	printf("sleeper_pid=%d\n", gpid);
	return EXIT_GOOD;
}

int main(int argc, char **argv)
{
	int ret;

	start_ms = now_ms();
	if (argc < 2)
		return usage();

	if (!strcmp(argv[1], "tcp") || !strcmp(argv[1], "udp") ||
	    !strcmp(argv[1], "udp-connected"))
		ret = cmd_net(argc, argv);
	else if (!strcmp(argv[1], "icmp"))
		ret = cmd_icmp(argc, argv);
	else if (!strcmp(argv[1], "fds") && argc == 2)
		ret = cmd_fds();
	else if (!strcmp(argv[1], "escape") && argc == 3)
		ret = cmd_escape(argv[2]);
	else if (!strcmp(argv[1], "bpf-detach") && argc == 3)
		ret = cmd_bpf_detach(argv[2]);
	else if (!strcmp(argv[1], "caps") && argc == 2)
		ret = cmd_caps();
	else if (!strcmp(argv[1], "sleep") && argc == 3)
		ret = cmd_sleep(argv[2]);
	else if (!strcmp(argv[1], "spawn-sleeper") && argc == 3)
		ret = cmd_spawn_sleeper(argv[2]);
	else
		ret = usage();
	fflush(stdout);
	return ret;
}
