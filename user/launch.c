// SPDX-License-Identifier: GPL-2.0-only
/*
 * Start the workload: fork, move into the filtered cgroup, drop to its
 * user, close inherited fds, strip capabilities, install the seccomp
 * filter, exec.  Failures before exec exit 125/126/127 like a shell.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/types.h>
#include <netinet/in.h>
#ifndef AF_PACKET
#define AF_PACKET 17
#endif

#include "caps.h"
#include "cgroup.h"
#include "fileio.h"
#include "launch.h"
#include "log.h"
#include "seccomp.h"

int launch_lookup_user(const char *spec, uid_t *uid, gid_t *gid, char *name, size_t namelen)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	if (!spec || !*spec)
		return -EINVAL;
	errno = 0;
	pw = getpwnam(spec);
	if (!pw) {
		errno = 0;
		v = strtoul(spec, &end, 10);
		if (errno || *end || spec[0] == '-' || v >= (uid_t)-1)
			return -ENOENT;
		pw = getpwuid((uid_t)v);
		if (!pw) {
			*uid = (uid_t)v;
			*gid = (gid_t)v;
			if (name && namelen)
				name[0] = '\0';
			return 0;
		}
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (name && namelen)
		snprintf(name, namelen, "%s", pw->pw_name);
	return 0;
}

int launch_check_stdio(void)
{
	static const char *const names[] = { "stdin", "stdout", "stderr" };

	for (int fd = 0; fd <= 2; fd++) {
		socklen_t len = sizeof(int);
		struct stat st;
		int dom;

		if (fstat(fd, &st) || !S_ISSOCK(st.st_mode))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len))
			dom = -1;
		if (dom == AF_UNIX)
			continue;
		pr_err("%s (fd %d) is %s socket created outside the filter: the command could send anything through it. Give the command a pipe, file or terminal instead",
		       names[fd], fd,
		       dom == AF_INET ? "an IPv4" : dom == AF_INET6 ? "an IPv6" : dom == AF_PACKET ? "a packet" : "a network");
		return -EPERM;
	}
	return 0;
}

/* close_range() is 5.9+; walk /proc/self/fd on older kernels. */
static int close_fds_from(int first)
{
	DIR *d;
	struct dirent *de;

	if (syscall(SYS_close_range, first, ~0U, 0) == 0)
		return 0;
	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || fd < first || fd == dirfd(d))
			continue;
		close((int)fd);
	}
	closedir(d);
	return 0;
}

/* Is there a file the command name refers to (as this user can see)? */
static bool command_exists(const char *cmd)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	struct stat st;

	if (strchr(cmd, '/'))
		return stat(cmd, &st) == 0;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if ((size_t)snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", cmd) <
			    sizeof(buf) &&
		    stat(buf, &st) == 0 && !S_ISDIR(st.st_mode))
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

static void reset_signals(void)
{
	sigset_t all;
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL); /* fails harmlessly for KILL/STOP */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/*
 * unshare a user namespace mapping only uid and gid to themselves.
 * -EAGAIN: unshare() was refused and nothing changed; other errors leave
 * us half inside and must be fatal.
 */
static int enter_userns(uid_t uid, gid_t gid)
{
	char map[64];
	int err;

	/*
	 * After setresuid() we are not dumpable, which makes /proc/self
	 * root-owned and the maps unwritable.  exec() would make us dumpable
	 * anyway, and the fds worth stealing are closed already.
	 */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -errno;
	if (unshare(CLONE_NEWUSER))
		return -EAGAIN;
	err = file_write_text("/proc/self", "setgroups", "deny");
	if (err && err != -ENOENT)
		return err;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	err = file_write_text("/proc/self", "uid_map", map);
	if (err)
		return err;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return file_write_text("/proc/self", "gid_map", map);
}

/* Only async-signal-safe-ish calls until exec; we are single-threaded. */
static void __attribute__((noreturn)) child_fail(const char *what, int err)
{
	pr_err("workload setup failed: %s: %s; the command was not run", what, strerror(-err));
	_exit(EXIT_EGRESSD_FAILURE);
}

static void __attribute__((noreturn)) child_main(const struct launch_opts *o)
{
	int err;

	reset_signals();

	/*
	 * A session of its own, with no controlling terminal: on the
	 * caller's terminal the command could push keystrokes into the
	 * shell that started egressd (TIOCSTI), which runs them unfiltered
	 * and with that shell's privileges once egressd exits.  TIOCSTI
	 * needs the terminal to be the caller's controlling one (or
	 * CAP_SYS_ADMIN), and a session leader cannot take it back
	 * (TIOCSCTTY steals only with CAP_SYS_ADMIN).  The command still
	 * reads and writes the terminal through fds 0-2; egressd forwards
	 * the signals the terminal sends (see session.c).
	 */
	if (setsid() < 0)
		child_fail("setsid", -errno);

	/* The filter is already attached to this cgroup: joining it is enforcement. */
	if (o->cgroup_dir) {
		err = cgroup_enter(o->cgroup_dir, 0);
		if (err)
			child_fail(o->cgroup_dir, err);
	}

	/*
	 * Like su and runuser: a tool run as another user must not write
	 * into the caller's home (npm's cache in /root/.npm, say).
	 */
	if (o->home && o->uid != getuid()) {
		if (setenv("HOME", o->home, 1) ||
		    (o->user && (setenv("USER", o->user, 1) || setenv("LOGNAME", o->user, 1))))
			child_fail("setting HOME/USER", -errno);
	}

	err = caps_drop_bounding();
	if (err)
		child_fail("dropping the capability bounding set", err);

	/* An unprivileged egressd (isolation OFF) running as itself has nothing to switch. */
	if (geteuid() == 0 || o->uid != getuid() || o->gid != getgid()) {
		if (o->user ? initgroups(o->user, o->gid) : setgroups(1, &o->gid))
			child_fail("setting supplementary groups", -errno);
		if (setresgid(o->gid, o->gid, o->gid))
			child_fail("setgid", -errno);
		if (setresuid(o->uid, o->uid, o->uid))
			child_fail("setuid", -errno);
	}

	/*
	 * An inherited socket was created outside the cgroup: a proven bypass.
	 * Close everything now, while setresuid() has left us non-dumpable,
	 * so nothing of egressd's (BPF fds, the cgroup fd) is ever reachable
	 * through pidfd_getfd() once we become dumpable below.
	 */
	err = close_fds_from(3);
	if (err)
		child_fail("closing inherited file descriptors", err);

	/*
	 * A socket is filtered by the cgroup of whoever created it.  A
	 * process of the same uid outside the cgroup (the user's shell, a
	 * daemon running as nobody) would lend its sockets via pidfd_getfd(),
	 * or its whole self via ptrace or /proc/PID/mem.  All of those need
	 * CAP_SYS_PTRACE in the target's user namespace once the caller is
	 * in another one, so the command gets a user namespace of its own
	 * that maps just its uid and gid.  Where user namespaces are denied
	 * (a container's seccomp profile, a sysctl), say what that leaves.
	 */
	err = enter_userns(o->uid, o->gid);
	if (err == -EAGAIN) {
		/* unshare() itself was refused: nothing changed. */
		pr_warn("cannot give the command its own user namespace: other processes of uid %u outside the filter could be used to get around it; prefer a --user that runs nothing else",
			(unsigned)o->uid);
	} else if (err) {
		child_fail("setting up the user namespace", err);
	} else {
		/* A new user namespace starts with a full bounding set and default securebits. */
		err = caps_drop_bounding();
		if (err)
			child_fail("dropping the capability bounding set in the user namespace", err);
	}

	err = caps_drop_all();
	if (err)
		child_fail("dropping capabilities", err);

	/* After no_new_privs (caps_drop_all), which seccomp requires. */
	if (o->filtered) {
		err = seccomp_deny_compat_sockopt();
		if (err == -EOPNOTSUPP)
			pr_warn("no compat-syscall filter for this architecture: a 32-bit binary could set socket options unjudged");
		else if (err)
			child_fail("installing the seccomp filter", err);
	}

	execvp(o->argv[0], o->argv);
	err = errno;
	/*
	 * execvp() reports EACCES when any PATH directory was unsearchable,
	 * even if the command exists nowhere.  Like the shell, say "not
	 * found" (127) unless there is a file by that name to blame (126).
	 */
	if (err == ENOENT || err == ENOTDIR || (err == EACCES && !command_exists(o->argv[0]))) {
		pr_err("command not found: %s", o->argv[0]);
		_exit(EXIT_NOT_FOUND);
	}
	pr_err("cannot execute %s: %s", o->argv[0], strerror(err));
	_exit(EXIT_CANNOT_EXEC);
}

const int launch_signals[] = { SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM,
			       SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };
const size_t launch_nsignals = sizeof(launch_signals) / sizeof(launch_signals[0]);

void launch_forward_signal(pid_t child, const struct signalfd_siginfo *si)
{
	if (child <= 0 || si->ssi_signo == SIGCHLD)
		return;
	/*
	 * From the terminal (SI_KERNEL: ^C, ^\, a resize, a hangup): the
	 * command has left the terminal's session, so deliver them as the
	 * terminal would have, to its whole process group.  Anything sent
	 * to egressd (docker stop's SIGTERM) goes to the command.
	 */
	if (si->ssi_code == SI_KERNEL)
		kill(-child, (int)si->ssi_signo);
	else
		kill(child, (int)si->ssi_signo);
}

/* clone3()'s arguments up to cgroup (CLONE_ARGS_SIZE_VER2, Linux 5.7). */
struct launch_clone_args {
	__u64 flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	__u64 set_tid, set_tid_size, cgroup;
};
#define LAUNCH_CLONE_INTO_CGROUP 0x200000000ULL

/*
 * fork straight into the cgroup (clone3 CLONE_INTO_CGROUP): the child is
 * born filtered, and skips the write to cgroup.procs, a migration that
 * costs about 10 ms of the start (it waits for an RCU grace period).
 * -ENOSYS and friends: the kernel or the cgroup cannot; fork instead.
 */
static pid_t clone_into(const char *cgroup_dir)
{
	int fd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct launch_clone_args a = {
		.flags = LAUNCH_CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
	};
	pid_t pid;
	int err;

	if (fd < 0)
		return -1;
	a.cgroup = (__u64)fd;
	pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
	err = errno;
	if (pid != 0)
		close(fd); /* the child's copy goes with close_fds_from() */
	errno = err;
	return pid;
}

int launch_start(const struct launch_opts *o, pid_t *pid_out)
{
	struct launch_opts co = *o;
	pid_t pid = -1;

	fflush(NULL);
	if (o->cgroup_dir) {
		pid = clone_into(o->cgroup_dir);
		if (pid == 0) {
			co.cgroup_dir = NULL; /* in it already */
			child_main(&co);
		}
		if (pid < 0 && errno != ENOSYS && errno != E2BIG && errno != EINVAL &&
		    errno != EOPNOTSUPP)
			return -errno;
	}
	if (pid < 0) {
		pid = fork();
		if (pid < 0)
			return -errno;
		if (pid == 0)
			child_main(o);
	}
	*pid_out = pid;
	return 0;
}
