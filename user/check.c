// SPDX-License-Identifier: GPL-2.0-only
/*
 * egressd check: probe, item by item and in a fixed order, whether egressd
 * can run here with isolation on, and say what to fix.  Nothing here
 * changes the system or egressd itself: every probe that could (bpf(),
 * unshare()) runs in a child that exits right after, and the DNS probe
 * sends one query per resolver through the event loop.  The report and
 * its renderings are check_report.c's.
 */
#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "aresloop.h"
#include "caps.h"
#include "cgroup.h"
#include "check.h"
#include "check_report.h"
#include "cli.h"
#include "launch.h"
#include "loader.h"
#include "log.h"
#include "loop.h"
#include "resolvconf.h"
#include "text.h"


#define RESOLV_CONF "/etc/resolv.conf"
#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"
/* One try per resolver; the whole DNS item ends within DNS_GUARD_MS. */
#define DNS_TIMEOUT_MS 1500
#define DNS_GUARD_MS 2500
/* The overflow uid, what --user nobody usually is: the userns probe's uid. */
#define PROBE_UID 65534

#define FIX_CAPS "docker: --cap-add BPF --cap-add NET_ADMIN; host: run as root"

enum check_format {
	CHECK_FORMAT_TEXT = 0,
	CHECK_FORMAT_JSON,
};

struct check_ctx {
	struct check_report report;
	struct resolver resolvers[MAX_RESOLVERS];
	size_t nresolvers; /* from --resolver; 0: /etc/resolv.conf */
	char status[8192]; /* /proc/self/status */
	bool have_status;
	bool bpf_caps;    /* CAP_BPF (or CAP_SYS_ADMIN before 5.8) and CAP_NET_ADMIN */
	bool bpf_blocked; /* seccomp refuses bpf() */
	char cg_mnt[PATH_MAX];
	char cg_dir[PATH_MAX];
	bool cg_found;
};

/* A quoted copy of outside text (a path, a kernel release) for a message. */
#define QUOTE(s, buf) text_quote((s), strlen(s), (buf), sizeof(buf))

static void add(struct check_ctx *c, const char *id, enum check_status st, const char *fix,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add(struct check_ctx *c, const char *id, enum check_status st, const char *fix,
		const char *fmt, ...)
{
	char detail[CHECK_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	/* The report has room for every item check makes; never silently short. */
	if (check_report_add(&c->report, id, st, fix, "%s", detail))
		pr_warn("check: no room for item %s", id);
}

static const char *errname(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "an unknown error";
}

static void read_status(struct check_ctx *c)
{
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	n = read(fd, c->status, sizeof(c->status) - 1);
	close(fd);
	if (n <= 0)
		return;
	c->status[n] = '\0';
	c->have_status = true;
}

/*
 * Run fn in a forked child that exits right after: whatever it does
 * (enter a user namespace, trip a seccomp filter that kills) never
 * touches egressd.  Returns fn's result (0 or an errno value, 1..255),
 * or -1 with *sig set when the child was killed by a signal.
 */
static int probe_in_child(int (*fn)(void), int *sig)
{
	int status;
	pid_t pid;

	*sig = 0;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(fn() & 0xff);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return errno;
	}
	if (WIFSIGNALED(status)) {
		*sig = WTERMSIG(status);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

static void check_kernel(struct check_ctx *c)
{
	struct utsname u;
	unsigned int ma, mi;
	char q[TEXT_QUOTE_SIZE(64)];

	if (uname(&u)) {
		add(c, "kernel", CHECK_FAIL, "none known", "uname() failed: %s", strerror(errno));
		return;
	}
	QUOTE(u.release, q);
	if (check_kernel_version(u.release, &ma, &mi)) {
		add(c, "kernel", CHECK_FAIL, "run egressd on Linux 5.8 or later",
		    "cannot read a version from the release \"%s\"", q);
		return;
	}
	if (check_version_at_least(ma, mi, 5, 8))
		add(c, "kernel", CHECK_OK, NULL, "%s (>= 5.8)", q);
	else
		add(c, "kernel", CHECK_FAIL, "run egressd on Linux 5.8 or later",
		    "%s: egressd needs 5.8 (CAP_BPF, BPF ring buffers)", q);
}

/*
 * Informational, like bpffs: the programs read only UAPI contexts and carry
 * no CO-RE relocations (bpf/egress.bpf.c), so they load without the
 * kernel's BTF; the line says whether bpftool could show it.
 */
static void check_btf(struct check_ctx *c)
{
	if (access(BTF_VMLINUX, R_OK) == 0)
		add(c, "btf", CHECK_OK, NULL, "%s present", BTF_VMLINUX);
	else
		add(c, "btf", CHECK_OK, NULL, "%s: %s (not needed: egressd's programs use no CO-RE)",
		    BTF_VMLINUX, strerror(errno));
}

/* The same two parsers as cgroup_self_dir(), without its messages. */
static void check_cgroup2(struct check_ctx *c)
{
	static const char *const fix = "mount -t cgroup2 cgroup2 /sys/fs/cgroup";
	char own[PATH_MAX], q[TEXT_QUOTE_SIZE(160)], q2[TEXT_QUOTE_SIZE(160)];
	struct stat st;
	FILE *f;
	int err;

	f = fopen("/proc/self/cgroup", "re");
	if (!f) {
		add(c, "cgroup2", CHECK_FAIL, fix, "cannot read /proc/self/cgroup: %s", strerror(errno));
		return;
	}
	err = cgroup_parse_proc(f, own, sizeof(own));
	fclose(f);
	if (err) {
		add(c, "cgroup2", CHECK_FAIL, fix,
		    "this process is in no cgroup v2 hierarchy (no \"0::\" line in /proc/self/cgroup)");
		return;
	}
	f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		add(c, "cgroup2", CHECK_FAIL, fix, "cannot read /proc/self/mountinfo: %s",
		    strerror(errno));
		return;
	}
	err = cgroup_parse_mountinfo(f, own, c->cg_mnt, sizeof(c->cg_mnt), c->cg_dir,
				     sizeof(c->cg_dir));
	fclose(f);
	if (err) {
		add(c, "cgroup2", CHECK_FAIL, fix,
		    err == -ENOENT ? "no cgroup2 filesystem mounted here holds this process's cgroup \"%s\"" :
				     "cgroup path too long: \"%s\"",
		    QUOTE(own, q));
		return;
	}
	if (stat(c->cg_dir, &st) || !S_ISDIR(st.st_mode)) {
		add(c, "cgroup2", CHECK_FAIL, fix, "this process's cgroup %s is missing: %s",
		    QUOTE(c->cg_dir, q), strerror(errno ? errno : ENOTDIR));
		return;
	}
	c->cg_found = true;
	add(c, "cgroup2", CHECK_OK, NULL, "mounted at %s; this process's cgroup: %s",
	    QUOTE(c->cg_mnt, q), QUOTE(c->cg_dir, q2));
}

static void check_cgroup_writable(struct check_ctx *c)
{
	char q[TEXT_QUOTE_SIZE(160)], procs[PATH_MAX + 16], how[200];
	struct statvfs sv;
	struct stat st;
	bool root_cg;

	if (!c->cg_found) {
		add(c, "cgroup-writable", CHECK_WARN, "see cgroup2", "not checked: no cgroup2 (see above)");
		return;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", c->cg_dir);
	if (statvfs(c->cg_dir, &sv) == 0 && (sv.f_flag & ST_RDONLY))
		snprintf(how, sizeof(how),
			 "read-only: use --cgroup self (egressd filters the container's own cgroup)");
	else if (faccessat(AT_FDCWD, procs, W_OK, AT_EACCESS) || faccessat(AT_FDCWD, c->cg_dir, W_OK, AT_EACCESS))
		snprintf(how, sizeof(how), "not writable by this process (%s): use --cgroup self",
			 strerror(errno));
	else
		snprintf(how, sizeof(how),
			 "writable: egressd can make a child cgroup per command (default) or use --cgroup self");
	/*
	 * The root of a cgroup2 hierarchy is the root of its kernfs, whose
	 * inode number is 1 (verified on 6.18: stat -c %i of the cgroup2
	 * mount point says 1; a child cgroup's inode is its cgroup id, above
	 * 1).  Inside a cgroup namespace, or under a bind mount of a subtree,
	 * the mount's root is some other cgroup, so its inode is not 1: the
	 * test needs neither /proc/self/ns/cgroup (which a container cannot
	 * compare with the host's) nor the mountinfo root field.
	 */
	root_cg = stat(c->cg_dir, &st) == 0 && st.st_ino == CGROUP_ROOT_INO;
	if (root_cg)
		add(c, "cgroup-writable", CHECK_WARN,
		    "use the default (a child cgroup per command), never --cgroup self here",
		    "%s is the machine's root cgroup; --cgroup self would filter every process on the machine; %s",
		    QUOTE(c->cg_dir, q), how);
	else
		add(c, "cgroup-writable", CHECK_OK, NULL, "%s: %s", QUOTE(c->cg_dir, q), how);
}

/* egressd pins nothing (no bpffs path in user/), so this is never a problem. */
static void check_bpffs(struct check_ctx *c)
{
	char *line = NULL, found[PATH_MAX] = "", q[TEXT_QUOTE_SIZE(160)];
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && !found[0] && getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX], *sep = strstr(line, " - ");

		if (sep && strncmp(sep + 3, "bpf ", 4) == 0 &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1)
			snprintf(found, sizeof(found), "%s", mnt);
	}
	free(line);
	if (f)
		fclose(f);
	if (found[0])
		add(c, "bpffs", CHECK_OK, NULL, "mounted at %s (egressd pins nothing; for bpftool)",
		    QUOTE(found, q));
	else
		add(c, "bpffs", CHECK_OK, NULL,
		    "not mounted: egressd pins nothing, so it does not need one");
}

static void check_caps(struct check_ctx *c)
{
	bool has_bpf = caps_kernel_has_cap_bpf();
	bool ok_bpf = has_bpf ? caps_have(CAP_BPF) : caps_have(CAP_SYS_ADMIN);
	bool ok_net = caps_have(CAP_NET_ADMIN);
	bool root = geteuid() == 0;
	static const struct {
		int cap;
		const char *id;
	} ids[] = { { CAP_SETUID, "CAP_SETUID" }, { CAP_SETGID, "CAP_SETGID" } };

	/* As caps_check_required(): CAP_SYS_ADMIN stands in before 5.8. */
	if (ok_bpf)
		add(c, "CAP_BPF", CHECK_OK, NULL, "%s",
		    has_bpf ? "present" : "this kernel predates CAP_BPF; CAP_SYS_ADMIN present");
	else
		add(c, "CAP_BPF", CHECK_FAIL, has_bpf ? FIX_CAPS : FIX_CAPS " --cap-add SYS_ADMIN",
		    "%s", has_bpf ? "missing (loading the programs needs it)" :
				    "missing: this kernel predates CAP_BPF and CAP_SYS_ADMIN is missing");
	if (ok_net)
		add(c, "CAP_NET_ADMIN", CHECK_OK, NULL, "present");
	else
		add(c, "CAP_NET_ADMIN", CHECK_FAIL, FIX_CAPS,
		    "missing (cgroup programs need it to load and attach)");
	c->bpf_caps = ok_bpf && ok_net;

	/*
	 * The launch (launch.c) switches to the command's user: setgroups or
	 * initgroups, setresgid, setresuid.  As root it always does (the
	 * command never runs as root unless --user root, and setgroups
	 * needs CAP_SETGID even then), so without them nothing can run.  As
	 * another uid the command runs as that uid, and only --user of
	 * someone else needs them.
	 */
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (caps_have(ids[i].cap))
			add(c, ids[i].id, CHECK_OK, NULL, "present (egressd switches the command to --user)");
		else if (root)
			add(c, ids[i].id, CHECK_FAIL,
			    "docker: do not --cap-drop it (granted by default); host: run as root",
			    "missing: egressd runs as root and cannot switch the command to another user");
		else
			add(c, ids[i].id, CHECK_WARN,
			    "run egressd as root to use --user",
			    "missing: the command can only run as uid %u, egressd's own",
			    (unsigned)getuid());
	}
	/*
	 * caps_drop_bounding() empties the command's bounding set and locks
	 * its securebits only with CAP_SETPCAP; without it no_new_privs still
	 * keeps exec from granting anything, but a file with capabilities
	 * then runs (without them) instead of failing.
	 */
	if (caps_have(CAP_SETPCAP))
		add(c, "CAP_SETPCAP", CHECK_OK, NULL,
		    "present (egressd empties the command's capability bounding set)");
	else
		add(c, "CAP_SETPCAP", CHECK_WARN,
		    "docker: do not --cap-drop SETPCAP (granted by default); host: run as root",
		    "missing: the command's bounding set stays as it is (no_new_privs still stops exec from granting capabilities)");
}

/*
 * bpf(no such command, NULL, size 4 GiB - 1): the kernel checks the size
 * before anything else (bpf_check_uarg_tail_zero(), first in __sys_bpf()
 * since 5.19; earlier kernels only put the unprivileged_bpf_disabled check
 * ahead of it, which CAP_BPF passes) and answers E2BIG without reading
 * memory or doing anything.  A seccomp filter answers before the kernel
 * looks at the arguments, with its own errno (Docker's: EPERM), or
 * kills.  So E2BIG (or EINVAL, EFAULT from a kernel that checks otherwise)
 * means bpf() reached the kernel; EPERM, EACCES or ENOSYS mean it did not.
 */
static int bpf_probe_child(void)
{
	long r = syscall(SYS_bpf, -1, NULL, (unsigned int)UINT_MAX);

	return r < 0 ? errno : 0;
}

static void check_seccomp_bpf(struct check_ctx *c)
{
	static const char *const fix =
		"docker: --cap-add BPF (Docker's default seccomp profile allows bpf() only with CAP_BPF or CAP_SYS_ADMIN), or a profile that allows bpf (--security-opt seccomp=FILE)";
	unsigned long mode = 0;
	int e, sig;

	if (!c->have_status || check_status_field(c->status, "Seccomp", &mode) || mode == 0) {
		add(c, "seccomp-bpf", CHECK_OK, NULL, "no seccomp filter: bpf() is allowed");
		return;
	}
	e = probe_in_child(bpf_probe_child, &sig);
	if (e == -1) {
		c->bpf_blocked = true;
		add(c, "seccomp-bpf", CHECK_FAIL, fix,
		    "blocked: the seccomp filter kills a caller of bpf() (signal %d, %s)", sig,
		    strsignal(sig));
	} else if (e == E2BIG || e == EINVAL || e == EFAULT || e == 0) {
		add(c, "seccomp-bpf", CHECK_OK, NULL,
		    "a seccomp filter is installed and lets bpf() through (the kernel itself answered the probe: %s)",
		    e ? errname(e) : "success");
	} else if (e == EPERM || e == EACCES || e == ENOSYS) {
		c->bpf_blocked = true;
		add(c, "seccomp-bpf", CHECK_FAIL, fix,
		    "blocked: the seccomp filter answers bpf() with %s", errname(e));
	} else {
		add(c, "seccomp-bpf", CHECK_WARN, fix,
		    "a seccomp filter is installed and bpf() failed with %s, which the kernel does not give for the probe: perhaps blocked",
		    errname(e));
	}
}

/*
 * As the launch does it (launch.c enter_userns()): after dropping to the
 * command's uid, so the limits on unprivileged user namespaces count.
 */
static int userns_probe_child(void)
{
	gid_t g = PROBE_UID;

	if (geteuid() == 0) {
		if (setgroups(1, &g) || setresgid(g, g, g) || setresuid(PROBE_UID, PROBE_UID, PROBE_UID))
			return 0xff; /* cannot drop: report as such */
	}
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return unshare(CLONE_NEWUSER) ? errno : 0;
}

/* A sysctl's decimal value, or -1. */
static long read_sysctl(const char *path)
{
	char buf[32];
	unsigned long v;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return decimal_parse(buf, strlen(buf), LONG_MAX, &v) ? -1 : (long)v;
}

static void check_seccomp_userns(struct check_ctx *c)
{
	static const char *const effect =
		"egressd still runs, but warns that other processes of the command's uid could be used to get around the filter";
	unsigned long mode = 0;
	long maxns = read_sysctl("/proc/sys/user/max_user_namespaces");
	long clone_ok = read_sysctl("/proc/sys/kernel/unprivileged_userns_clone");
	long aa = read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
	char detail[CHECK_TEXT_MAX];
	const char *why, *fix;
	int e, sig;

	e = probe_in_child(userns_probe_child, &sig);
	if (e == 0) {
		add(c, "seccomp-userns", CHECK_OK, NULL,
		    "unshare(CLONE_NEWUSER) is allowed (probed as uid %d, as the command would be)",
		    geteuid() == 0 ? PROBE_UID : (int)geteuid());
		return;
	}
	if (e == 0xff) {
		add(c, "seccomp-userns", CHECK_WARN, "see CAP_SETUID / CAP_SETGID",
		    "not probed: cannot switch to uid %d", PROBE_UID);
		return;
	}
	if (c->have_status)
		check_status_field(c->status, "Seccomp", &mode);
	/* The knobs that say so for certain first; seccomp is inferred. */
	if (maxns == 0 || e == ENOSPC) {
		why = maxns == 0 ? "user.max_user_namespaces is 0" :
				   "the user namespace limit (user.max_user_namespaces) is reached";
		fix = "sysctl -w user.max_user_namespaces=15000 (on the host); or a --user that runs nothing else";
	} else if (clone_ok == 0) {
		why = "kernel.unprivileged_userns_clone is 0";
		fix = "sysctl -w kernel.unprivileged_userns_clone=1; or a --user that runs nothing else";
	} else if (aa == 1) {
		why = "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)";
		fix = "an AppArmor profile that allows userns for egressd; or a --user that runs nothing else";
	} else if (e == -1 || (mode == 2 && (e == EPERM || e == EACCES || e == ENOSYS))) {
		why = "this process's seccomp filter refuses it (as Docker's default profile does)";
		fix = "docker: a seccomp profile that allows unshare(CLONE_NEWUSER) (--security-opt seccomp=FILE); or a --user that runs nothing else";
	} else {
		why = "refused by something other than seccomp or the user namespace sysctls (an LSM, a chroot)";
		fix = "a --user that runs nothing else";
	}
	if (e == -1)
		snprintf(detail, sizeof(detail), "blocked (the probe was killed by signal %d): %s; %s",
			 sig, why, effect);
	else
		snprintf(detail, sizeof(detail), "blocked (%s): %s; %s", errname(e), why, effect);
	add(c, "seccomp-userns", CHECK_WARN, fix, "%s", detail);
}

/*
 * Load egressd's own programs, as egressd run would, with every optional
 * part on (the source check, --loopback restrictions, the proxy): the
 * verifier judges this very build, under this process's capabilities.
 * Without CAP_PERFMON it judges more strictly than the type probes show.
 */
static int load_own(void)
{
	struct loader_config lc = {
		.events = true,
		.check_source = true,
		.dns_proxy = true,
		.proxy_port = 53,
		.learn = true,
		.learned_max = 16,
		.loopback_restricted = true,
	};
	struct egress_bpf *skel = NULL;
	int ret = loader_load(&lc, &skel);

	loader_destroy(skel);
	return ret;
}

static void check_bpf_progs(struct check_ctx *c)
{
	char needed[CHECK_TEXT_MAX / 2], degrade[CHECK_TEXT_MAX / 2];
	int missing, ret;

	if (!c->bpf_caps) {
		add(c, "bpf-progs", CHECK_WARN, "see CAP_BPF / CAP_NET_ADMIN",
		    "not probed: needs CAP_BPF and CAP_NET_ADMIN");
		return;
	}
	if (c->bpf_blocked) {
		add(c, "bpf-progs", CHECK_WARN, "see seccomp-bpf",
		    "not probed: bpf() is blocked (see seccomp-bpf)");
		return;
	}
	missing = loader_probe_features(needed, sizeof(needed), degrade, sizeof(degrade));
	if (!missing && (ret = load_own()))
		add(c, "bpf-progs", CHECK_FAIL, "run egressd run -v for the verifier's log, and report it",
		    "every program type, map and helper is there, but the kernel refuses egressd's own programs: %s",
		    strerror(-ret));
	else if (missing)
		add(c, "bpf-progs", CHECK_FAIL,
		    "Linux 5.8 or later with CONFIG_BPF_SYSCALL, CONFIG_CGROUP_BPF and CONFIG_BPF_JIT",
		    "this kernel lacks: %s%s%s", needed, degrade[0] ? "; and (egressd would degrade): " : "",
		    degrade);
	else if (degrade[0])
		add(c, "bpf-progs", CHECK_WARN, "a newer kernel",
		    "every program type, map and helper egressd needs loads; missing, so egressd degrades: %s",
		    degrade);
	else
		add(c, "bpf-progs", CHECK_OK, NULL,
		    "cgroup_skb, sock_addr (connect, sendmsg, recvmsg, bind, getpeername) and sockopt programs, their maps and helpers all load, and so do egressd's own programs");
}

/* The DNS probe: one channel per resolver, all on one loop. */
struct dns_probe {
	struct dns_check *run;
	struct aresloop *al;
	ares_channel ch;
	bool done;
	int status; /* ARES_* */
	int rcode;
	long ms;
};

struct dns_check {
	struct loop *loop;
	struct loop_source *guard;
	struct dns_probe p[MAX_RESOLVERS];
	size_t n;
	size_t pending;
	bool closing;
	struct timespec t0;
};

static long since_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void on_dns_reply(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_probe *p = arg;
	struct dns_check *run = p->run;

	(void)timeouts;
	if (run->closing || p->done)
		return;
	p->done = true;
	p->status = status;
	p->ms = since_ms(&run->t0);
	/* NOCHECKRESP (aresloop_channel): any rcode comes back as a reply. */
	if (status == ARES_SUCCESS && alen < 12)
		p->status = ARES_EBADRESP;
	else if (status == ARES_SUCCESS)
		p->rcode = abuf[3] & 0x0f;
	if (--run->pending == 0)
		loop_exit(run->loop, 0);
}

static int on_dns_guard(struct loop_source *s, void *userdata)
{
	struct dns_check *run = userdata;

	(void)s;
	loop_exit(run->loop, 0);
	return 0;
}

static const char *rcode_name(int rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };

	return rcode >= 0 && rcode < 6 ? names[rcode] : "another rcode";
}

/* Append to buf; whatever does not fit is left out (the report cuts too). */
static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t o = strlen(buf);
	va_list ap;

	if (o + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + o, len - o, fmt, ap);
	va_end(ap);
}

static int dns_probe_all(struct dns_check *run, const struct resolver *rs, size_t n)
{
	struct aresloop_channel_opts o = { .timeout_ms = DNS_TIMEOUT_MS, .tries = 1 };
	unsigned char *q = NULL;
	int qlen, ret;

	ret = loop_new(&run->loop);
	if (ret)
		return ret;
	ret = loop_add_timer(run->loop, on_dns_guard, run, &run->guard);
	if (ret)
		return ret;
	/* ". IN NS": every server answers it somehow, and it names nothing of ours. */
	if (ares_create_query(".", 1 /* IN */, 2 /* NS */, 0, 1, &q, &qlen, 0) != ARES_SUCCESS)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &run->t0);
	for (size_t i = 0; i < n; i++) {
		struct dns_probe *p = &run->p[i];

		p->run = run;
		ret = aresloop_new(run->loop, NULL, NULL, &p->al);
		if (!ret)
			ret = aresloop_channel(p->al, &rs[i], 1, &o, &p->ch);
		if (ret) {
			p->done = true;
			p->status = ARES_ENOMEM;
			continue;
		}
		run->n = i + 1;
		run->pending++;
		ares_send(p->ch, q, qlen, on_dns_reply, p);
		aresloop_kick(p->al);
	}
	run->n = n;
	ares_free_string(q);
	if (run->pending) {
		loop_timer_arm(run->guard, DNS_GUARD_MS * 1000ULL);
		ret = loop_run(run->loop);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void dns_check_free(struct dns_check *run)
{
	run->closing = true;
	for (size_t i = 0; i < run->n; i++) {
		if (run->p[i].ch)
			ares_destroy(run->p[i].ch);
		aresloop_free(run->p[i].al);
	}
	loop_free(run->loop);
}

static void check_resolvers(struct check_ctx *c)
{
	static const char *const nofix =
		"names in --allow-domains cannot be resolved, and the DNS proxy has no upstream: name a resolver that answers with --resolver ADDR, or fix /etc/resolv.conf";
	struct resolver rs[MAX_RESOLVERS];
	struct dns_check run = {};
	char err[512], detail[CHECK_TEXT_MAX] = "", one[64];
	const char *from = "--resolver";
	size_t n = c->nresolvers, answered = 0;
	FILE *f;
	int ret;

	memcpy(rs, c->resolvers, sizeof(rs));
	if (!n) {
		/* plan_load_resolvers()'s source and parser, with its error kept for the item. */
		from = RESOLV_CONF;
		f = fopen(RESOLV_CONF, "re");
		if (!f) {
			add(c, "resolvers", CHECK_FAIL, "name a DNS server with --resolver ADDR",
			    "no resolvers: cannot read %s: %s", RESOLV_CONF, strerror(errno));
			return;
		}
		ret = resolvconf_parse(f, RESOLV_CONF, rs, MAX_RESOLVERS, &n, err, sizeof(err));
		fclose(f);
		if (ret || !n) {
			/* resolvconf_parse() quotes what it read itself. */
			add(c, "resolvers", CHECK_FAIL, "name a DNS server with --resolver ADDR",
			    "no resolvers: %s", ret ? err : "none listed");
			return;
		}
	}
	ret = ares_library_init(ARES_LIB_INIT_ALL);
	if (ret != ARES_SUCCESS) {
		add(c, "resolvers", CHECK_FAIL, "none known", "cannot initialise c-ares: %s",
		    ares_strerror(ret));
		return;
	}
	ret = dns_probe_all(&run, rs, n);
	for (size_t i = 0; i < n; i++) {
		const struct dns_probe *p = &run.p[i];

		resolver_format(&rs[i], one, sizeof(one));
		if (i)
			append(detail, sizeof(detail), "; ");
		if (p->done && p->status == ARES_SUCCESS) {
			answered++;
			append(detail, sizeof(detail), "%s answers (%s, %ld ms)", one,
			       rcode_name(p->rcode), p->ms);
		} else if (!p->done || p->status == ARES_ETIMEOUT) {
			append(detail, sizeof(detail), "%s: no answer in %.1f s", one,
			       DNS_TIMEOUT_MS / 1000.0);
		} else {
			append(detail, sizeof(detail), "%s: no answer (%s%s)", one,
			       p->status == ARES_ECONNREFUSED ? "refused: " : "", ares_strerror(p->status));
		}
	}
	dns_check_free(&run);
	ares_library_cleanup();
	if (ret) {
		add(c, "resolvers", CHECK_FAIL, "none known", "cannot run the DNS probe: %s",
		    strerror(-ret));
		return;
	}
	if (answered == n)
		add(c, "resolvers", CHECK_OK, NULL, "from %s: %s", from, detail);
	else if (answered)
		add(c, "resolvers", CHECK_WARN,
		    "remove the silent ones (--resolver, /etc/resolv.conf): each costs queries a timeout",
		    "from %s: %zu of %zu answer: %s", from, answered, n, detail);
	else
		add(c, "resolvers", CHECK_FAIL, nofix, "from %s: none answers: %s", from, detail);
}

static void check_net_raw(struct check_ctx *c)
{
	bool eff = caps_have(CAP_NET_RAW), bnd = caps_bounding_has(CAP_NET_RAW);

	if (eff || bnd)
		add(c, "CAP_NET_RAW", CHECK_WARN, "docker: --cap-drop NET_RAW",
		    "present (%s): packet sockets bypass every cgroup hook, so a process started outside egressd (docker exec) could send unfiltered",
		    eff && bnd ? "effective and bounding set" : eff ? "effective set" : "bounding set");
	else
		add(c, "CAP_NET_RAW", CHECK_OK, NULL, "not in the effective or bounding set");
}

static void check_no_new_privs(struct check_ctx *c)
{
	unsigned long nnp = 0;

	if (!c->have_status || check_status_field(c->status, "NoNewPrivs", &nnp)) {
		add(c, "no-new-privs", CHECK_WARN, "none known", "cannot read NoNewPrivs from /proc/self/status");
		return;
	}
	if (nnp)
		add(c, "no-new-privs", CHECK_OK, NULL, "set: setuid programs cannot regain privileges here");
	else
		add(c, "no-new-privs", CHECK_WARN,
		    "docker: --security-opt no-new-privileges; on a host nothing to do",
		    "not set: setuid programs (sudo) in docker exec sessions could regain root (egressd's own command always gets no_new_privs)");
}

static void usage(void)
{
	printf("Usage: egressd check [--format text|json] [--resolver ADDR[:PORT]]... [-v|-q]\n"
	       "\n"
	       "Preflight: can egressd run here with isolation on, and what to fix.\n"
	       "One line per item (ok, warn or FAIL); see docs/check.md.\n"
	       "\n"
	       "      --format text|json     one line per item, or one JSON object\n"
	       "      --resolver ADDR[:PORT] the resolvers to probe (repeatable;\n"
	       "                             default: the nameservers in /etc/resolv.conf)\n"
	       "  -v, --verbose / -q, --quiet\n"
	       "\n"
	       "Exit status: 0 egressd can run here (warnings included), 1 it cannot,\n"
	       "125 bad command line.\n");
}

/* 0, 1 for --help, -EINVAL (printed). */
static int parse_args(int argc, char **argv, struct check_ctx *c, enum check_format *fmt)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "resolver", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char err[256], ex[CLI_EXCERPT_SIZE];
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vqh", opts, NULL)) != -1) {
		switch (opt) {
		case 'F':
			if (strcmp(optarg, "text") == 0) {
				*fmt = CHECK_FORMAT_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				*fmt = CHECK_FORMAT_JSON;
			} else {
				pr_err("--format: unknown format \"%s\" (use text or json)",
				       cli_excerpt(optarg, strlen(optarg), ex, sizeof(ex)));
				return -EINVAL;
			}
			break;
		case 'r':
			if (c->nresolvers == MAX_RESOLVERS) {
				pr_err("too many --resolver options (at most %d)", MAX_RESOLVERS);
				return -EINVAL;
			}
			if (resolver_parse(optarg, &c->resolvers[c->nresolvers], err, sizeof(err))) {
				pr_err("--resolver: %s", err);
				return -EINVAL;
			}
			c->nresolvers++;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'q':
			log_set_level(LOG_LEVEL_QUIET);
			break;
		case 'h':
			usage();
			return 1;
		case ':':
			pr_err("option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default: {
			const char *bad = optopt ? NULL : argv[optind - 1];
			char q[TEXT_QUOTE_SIZE(64)];

			if (bad)
				pr_err("unknown option \"%s\" (see egressd check --help)",
				       text_quote(bad, strlen(bad), q, sizeof(q)));
			else
				pr_err("unknown option -%c (see egressd check --help)", optopt);
			return -EINVAL;
		}
		}
	}
	if (optind < argc) {
		char q[TEXT_QUOTE_SIZE(64)];

		pr_err("unexpected argument \"%s\" (egressd check takes only options)",
		       text_quote(argv[optind], strlen(argv[optind]), q, sizeof(q)));
		return -EINVAL;
	}
	return 0;
}

int do_check(int argc, char **argv)
{
	enum check_format fmt = CHECK_FORMAT_TEXT;
	struct check_ctx *c;
	int ret;

	/* About 50 KiB with the report: not on the stack. */
	c = calloc(1, sizeof(*c));
	if (!c) {
		pr_err("out of memory");
		return EXIT_EGRESSD_FAILURE;
	}
	ret = parse_args(argc, argv, c, &fmt);
	if (ret) {
		free(c);
		return ret > 0 ? 0 : EXIT_EGRESSD_FAILURE;
	}
	read_status(c);
	check_kernel(c);
	check_btf(c);
	check_cgroup2(c);
	check_cgroup_writable(c);
	check_bpffs(c);
	check_caps(c);
	check_seccomp_bpf(c);
	check_seccomp_userns(c);
	check_bpf_progs(c);
	check_resolvers(c);
	check_net_raw(c);
	check_no_new_privs(c);

	if (fmt == CHECK_FORMAT_JSON) {
		if (check_render_json(&c->report, stdout)) {
			pr_err("cannot build the JSON report: out of memory");
			free(c);
			return EXIT_EGRESSD_FAILURE;
		}
	} else {
		check_render_text(&c->report, stdout);
	}
	fflush(stdout);
	ret = check_report_count(&c->report, CHECK_FAIL) ? EXIT_CHECK_PROBLEMS : 0;
	free(c);
	return ret;
}
