// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session: load the plan's filter, make and attach the cgroup, launch
 * the command, supervise it on the event loop, and tear down.
 *
 * Ordering is the security argument:
 *   1. everything that can fail (load, cgroup, attach) happens before the
 *      command exists, so any failure means it never runs (fail closed);
 *   2. the filter is attached to the cgroup before the child joins it, so
 *      there is no instant at which the command runs unfiltered;
 *   3. at exit, every process in the cgroup is killed before anything is
 *      detached, so nothing ever runs unfiltered afterwards either.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <linux/magic.h>

#include "caps.h"
#include "cgroup.h"
#include "egress.skel.h"
#include "hostaddr.h"
#include "launch.h"
#include "learn.h"
#include "listeners.h"
#include "log.h"
#include "namematch.h"
#include "proxy.h"
#include "session.h"
#include "stats.h"
#include "status.h"

#define KILL_TIMEOUT_MS 5000
/* The learned maps' size (loader.c sizes them with EGRESS_LEARNED_DEFAULT). */
#define EGRESS_LEARNED_DEFAULT_STR "65536"
_Static_assert(EGRESS_LEARNED_DEFAULT == 65536, "say the learned maps' size right");

static int open_cgroup_dir(const char *path, int *fd_out)
{
	struct statfs sfs;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		int err = -errno;

		pr_err("cannot open cgroup %s: %s", path, strerror(errno));
		return err;
	}
	if (fstatfs(fd, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		pr_err("%s is not a cgroup v2 directory", path);
		close(fd);
		return -EINVAL;
	}
	*fd_out = fd;
	return 0;
}

/*
 * Never detach while anything may still run in the cgroup: kill what we
 * own, and for a cgroup we don't own, leave the filter in place.
 */
static void teardown(struct session *s)
{
	int left;

	if (!s->attached) {
		/* Attach failed: nothing ever ran in the cgroup we made. */
		if (s->cg_created && cgroup_remove(s->cg_dir))
			pr_warn("cannot remove cgroup %s: %s", s->cg_dir, strerror(errno));
		goto close_fd;
	}
	if (s->cg_created) {
		left = cgroup_kill_all(s->cg_dir, KILL_TIMEOUT_MS);
		if (left) {
			pr_warn("processes in %s did not exit; leaving the filter attached so they stay contained",
				s->cg_dir);
			goto close_fd;
		}
	} else {
		left = cgroup_count_procs(s->cg_dir, getpid());
		if (left) {
			pr_info("%d process(es) remain in %s; leaving the filter attached so they stay contained",
				left, s->cg_dir);
			goto close_fd;
		}
	}
	if (loader_detach(s->skel, s->cg_fd))
		pr_warn("detaching from %s failed; the cgroup keeps its filter", s->cg_dir);
	if (s->cg_created && cgroup_remove(s->cg_dir))
		pr_warn("cannot remove cgroup %s: %s", s->cg_dir, strerror(errno));
close_fd:
	if (s->cg_fd >= 0)
		close(s->cg_fd);
}

/*
 * The root cgroup of the cgroup2 hierarchy is kernfs node 1, whatever
 * cgroup namespace we see it from; a container's namespace root is a
 * cgroup of its own with another id.
 */
static bool is_root_cgroup(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_ino == CGROUP_ROOT_INO;
}

/* The workload's groups, for the cgroup permission walk. */
static int identity_groups(const struct identity *id, gid_t *groups, int max)
{
	int n = max;

	if (id->name[0] && getgrouplist(id->name, id->gid, groups, &n) >= 0)
		return n;
	groups[0] = id->gid;
	return 1;
}

static int setup_cgroup(struct session *s, const struct identity *id)
{
	char mnt[PATH_MAX], own[PATH_MAX], parent[PATH_MAX], bad[PATH_MAX] = "";
	gid_t groups[256];
	int ret, ngroups = identity_groups(id, groups, 256);

	ret = cgroup_self_dir(mnt, sizeof(mnt), own, sizeof(own));
	if (ret)
		return ret;
	switch (s->cfg->cgroup_mode) {
	case CGROUP_MODE_NEW:
		/*
		 * Not under a cgroup the workload may write: from there it
		 * could move itself out.  uid 0 can anyway (see identity.c).
		 */
		if (id->uid == 0) {
			snprintf(parent, sizeof(parent), "%s", own);
		} else {
			ret = cgroup_safe_parent(mnt, own, id->uid, groups, ngroups, parent,
						 sizeof(parent), bad, sizeof(bad));
			if (ret) {
				pr_err("every cgroup up to %s is writable by uid %u, so the command could move itself out of the filter",
				       bad[0] ? bad : mnt, (unsigned)id->uid);
				return ret;
			}
			if (bad[0])
				pr_info("%s is writable by uid %u (a delegated cgroup): creating the filtered cgroup under %s instead",
					bad, (unsigned)id->uid, parent);
		}
		cgroup_reap_stale(parent);
		ret = cgroup_create_child(parent, s->cg_dir, sizeof(s->cg_dir));
		if (ret)
			return ret;
		s->cg_created = true;
		break;
	case CGROUP_MODE_SELF:
		snprintf(s->cg_dir, sizeof(s->cg_dir), "%s", own);
		break;
	case CGROUP_MODE_PATH:
		if (s->cfg->cgroup_path[0] == '/')
			ret = snprintf(s->cg_dir, sizeof(s->cg_dir), "%s", s->cfg->cgroup_path);
		else
			ret = snprintf(s->cg_dir, sizeof(s->cg_dir), "%s/%s", mnt, s->cfg->cgroup_path);
		if (ret < 0 || (size_t)ret >= sizeof(s->cg_dir)) {
			char ex[CLI_EXCERPT_SIZE];
			const char *p = s->cfg->cgroup_path;

			pr_err("--cgroup: the path \"%s\" is %zu characters long under the cgroup2 mount %s; the limit is %d (PATH_MAX)",
			       cli_excerpt(p, strlen(p), ex, sizeof(ex)), strlen(mnt) + 1 + strlen(p),
			       mnt, CLI_PATH_MAX);
			return -ENAMETOOLONG;
		}
		break;
	}
	if (!s->cg_created && id->uid != 0) {
		ret = cgroup_safe_parent(mnt, s->cg_dir, id->uid, groups, ngroups, parent, sizeof(parent),
					 bad, sizeof(bad));
		if (ret == -EINVAL) {
			pr_err("--cgroup %s is not under the cgroup2 mount %s", s->cg_dir, mnt);
			return ret;
		}
		if (ret == -ENOENT) {
			pr_err("cannot open cgroup %s: %s", bad, strerror(-ret));
			return ret;
		}
		if (ret || bad[0]) {
			pr_err("--cgroup %s: %s/cgroup.procs is writable by uid %u, so the command could move itself out of the filter; use a cgroup it cannot write, or another --user",
			       s->cfg->cgroup_mode == CGROUP_MODE_SELF ? "self" : s->cg_dir,
			       bad[0] ? bad : mnt, (unsigned)id->uid);
			return -EPERM;
		}
	}
	ret = open_cgroup_dir(s->cg_dir, &s->cg_fd);
	if (ret && s->cg_created) {
		cgroup_remove(s->cg_dir);
		s->cg_created = false;
	}
	if (!ret && s->cfg->cgroup_mode == CGROUP_MODE_SELF && cgroup_fd_has_pid(s->cg_fd, getpid()) != 1) {
		pr_err("--cgroup self: egressd is not in %s, the cgroup its /proc/self/cgroup and mounts point at (is another cgroup2 mount stacked over /sys/fs/cgroup?); refusing to filter a cgroup that is not its own",
		       s->cg_dir);
		close(s->cg_fd);
		s->cg_fd = -1;
		return -ESTALE;
	}
	if (!ret && !s->cg_created && is_root_cgroup(s->cg_fd)) {
		pr_err("--cgroup %s is the machine's root cgroup: filtering it would filter every process on the machine. Use the default (a fresh cgroup for the command), or run egressd inside a container with a cgroup namespace",
		       s->cfg->cgroup_mode == CGROUP_MODE_SELF ? "self" : s->cg_dir);
		close(s->cg_fd);
		s->cg_fd = -1;
		return -EPERM;
	}
	return ret;
}

/*
 * --cgroup self in a container: processes that join the cgroup later
 * (docker exec) get the container's capabilities and no seccomp filter
 * of ours, not what egressd gives its own command.  Say what that means
 * for the flags the container was made with.
 */
static void warn_joiners(const struct session *s)
{
	if (s->cfg->cgroup_mode != CGROUP_MODE_SELF)
		return;
	if (caps_bounding_has(CAP_NET_RAW))
		pr_warn("CAP_NET_RAW is in this container's capability set: packet sockets bypass every cgroup hook, so a process that joins this cgroup with it (docker exec -u root) is not filtered. Create the container with --cap-drop NET_RAW");
	if (caps_bounding_has(CAP_NET_ADMIN))
		pr_warn("a process that joins this cgroup later as root (a plain docker exec) gets the container's capabilities, CAP_NET_ADMIN included, which can route traffic around the filter through a kernel tunnel; start sessions with: egressd exec -- COMMAND");
	if (!caps_no_new_privs())
		pr_warn("no_new_privs is off: setuid programs (sudo) in processes that join this cgroup can regain root. Create the container with --security-opt no-new-privileges");
}

/*
 * The kernel refuses a source address that is not the host's, once the
 * filter refuses IP(V6)_FREEBIND and _TRANSPARENT, unless the nonlocal
 * bind sysctls are on.  Then the filter checks sources itself, against
 * the addresses the namespace has now.
 */
static int setup_source_check(struct loader_config *lc, struct addr **local_out)
{
	const char *knob = NULL;
	struct addr *local = NULL;
	size_t n = 0;
	int ret;

	ret = hostaddr_list(&local, &n);
	if (ret) {
		pr_err("cannot list this network namespace's addresses: %s", strerror(-ret));
		return ret;
	}
	lc->local = local;
	lc->nlocal = n;
	lc->check_source = hostaddr_nonlocal_bind(&knob);
	if (lc->check_source)
		pr_warn("%s is set: the kernel would accept any source address, so egressd checks every source against this namespace's %zu addresses; an address added later cannot be used by the command",
			knob, n);
	*local_out = local;
	return 0;
}

/*
 * A host run with --loopback all: say when local services are there for
 * the command to use (a dev server, a database, a Docker API on 2375).
 */
static void warn_listeners(const struct session *s, uint16_t proxy_port)
{
	int n;

	if (s->cfg->loopback_restricted || s->cfg->cgroup_mode == CGROUP_MODE_SELF)
		return;
	n = listeners_loopback(proxy_port);
	if (n > 0)
		pr_warn("%d service(s) listen on loopback here and the command can reach them; restrict with --loopback none|PORT,...",
			n);
}

const char *session_loopback_text(const struct run_config *c, char *buf, size_t len)
{
	size_t o;

	if (!c->loopback_restricted)
		return "all";
	if (!c->nloopback_ports)
		return "none";
	o = (size_t)snprintf(buf, len, "ports ");
	for (size_t i = 0; i < c->nloopback_ports && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%u", i ? "," : "", c->loopback_ports[i]);
	return buf;
}

static void print_startup(const struct session *s, const struct rule *rules, size_t nrules,
			  const struct identity *id)
{
	char res[MAX_RESOLVERS * 64] = "", one[64];
	size_t n4 = 0, n6 = 0;

	for (size_t i = 0; i < nrules; i++) {
		if (rules[i].addr.family == AF_INET)
			n4++;
		else
			n6++;
	}
	for (size_t i = 0; i < s->cfg->nresolvers; i++) {
		if (i)
			strcat(res, ",");
		strcat(res, resolver_format(&s->cfg->resolvers[i], one, sizeof(one)));
	}
	char lo[128];

	pr_info("isolation ON%s: allowing %zu IPv4 + %zu IPv6 prefixes; %s %s%s; loopback: %s; cgroup %s; running %s as uid %u",
		s->cfg->audit ? " (AUDIT: nothing is blocked)" : "", n4, n6,
		s->proxy ? "DNS through egressd's proxy (names filtered, answers learned), upstream" :
			   "DNS only to",
		res, s->proxy ? "; up to " EGRESS_LEARNED_DEFAULT_STR " learned addresses per family" :
				" (--no-dns-proxy: names unfiltered)",
		session_loopback_text(s->cfg, lo, sizeof(lo)), s->cg_dir,
		s->cfg->argv[0], (unsigned)id->uid);
}


static int on_signal(struct loop_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	struct session *s = userdata;

	(void)src;
	if (si->ssi_signo == SIGCHLD) {
		/*
		 * Reap every child but ours (its pidfd reaps it): as PID 1
		 * of a container (--cgroup self) orphans are reparented to
		 * us, and left unreaped they pile up as zombies.
		 */
		loop_reap_others(s->loop);
		return 0;
	}
	launch_forward_signal(s->child, si);
	return 0;
}

static int on_child(struct loop_source *src, pid_t pid, int status, void *userdata)
{
	struct session *s = userdata;

	(void)src;
	(void)pid;
	s->child = 0; /* reaped: never signal the pid again */
	if (s->rb)
		ring_buffer__consume(s->rb);
	if (WIFEXITED(status))
		loop_exit(s->loop, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		loop_exit(s->loop, 128 + WTERMSIG(status));
	else
		loop_exit(s->loop, EXIT_EGRESSD_FAILURE);
	return 0;
}

static int on_events(struct loop_source *src, int fd, uint32_t revents, void *userdata)
{
	struct session *s = userdata;

	(void)src;
	(void)fd;
	(void)revents;
	ring_buffer__consume(s->rb);
	return 0;
}


static int start_proxy(struct session *s, struct run_config *cfg, const struct plan *p)
{
	struct learn_config lcfg;
	char err[512];
	int ret;

	ret = namematch_build(p->domains, p->ndomains, &s->names, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret;
	}
	learn_config_default(&lcfg);
	lcfg.min_ttl_s = cfg->min_ttl;
	lcfg.max_ttl_s = cfg->max_ttl;
	lcfg.max_ips_per_name = cfg->max_ips_per_name;
	lcfg.allow_private = cfg->allow_private_answers;
	/* Answers choose the addresses: an unseeded hash could be steered. */
	if (getrandom(&lcfg.hash_seed, sizeof(lcfg.hash_seed), 0) != sizeof(lcfg.hash_seed)) {
		ret = -errno;
		pr_err("cannot seed the learned-address table: %s", strerror(errno));
		return ret;
	}
	ret = learn_new(&lcfg, &s->learn);
	if (ret) {
		pr_err("cannot set up the learned-address table: %s", strerror(-ret));
		return ret;
	}
	struct proxy_config pc = {
		.resolvers = cfg->resolvers,
		.nresolvers = cfg->nresolvers,
		.names = s->names,
		.learn = s->learn,
		.events = s->events,
		.audit = cfg->audit,
		.deny_rcode = cfg->dns_deny_rcode,
		.cgroup_dir = s->cg_dir, /* filled in by setup_cgroup() below */
	};
	return proxy_start(s->proxy, &pc, s->skel);
}

int session_prepare(struct session *s, struct run_config *cfg, const struct plan *p,
		    const struct identity *id)
{
	struct loader_config lc = {
		.audit = cfg->audit,
		.events = true,
		.rules = p->rules,
		.nrules = p->nrules,
		.resolvers = cfg->resolvers,
		.nresolvers = cfg->nresolvers,
	};
	int ret;

	s->cfg = cfg;
	s->plan = p;
	s->id = id;
	ret = loop_new(&s->loop);
	if (ret) {
		pr_err("cannot set up the event loop: %s", strerror(-ret));
		return ret;
	}
	if (!cfg->isolation)
		return 0;
	ret = loader_probe();
	if (ret)
		return ret;
	ret = setup_source_check(&lc, &s->local);
	if (ret)
		return ret;
	lc.loopback_restricted = cfg->loopback_restricted;
	memcpy(lc.loopback_ports, cfg->loopback_ports, sizeof(lc.loopback_ports));
	lc.nloopback_ports = cfg->nloopback_ports;
	if (cfg->dns_proxy) {
		/* Listening first: the programs are loaded with its port. */
		ret = proxy_open(s->loop, &s->proxy, &lc.proxy_port);
		if (ret)
			return ret;
		lc.dns_proxy = true;
		lc.learn = true;
	}
	ret = loader_load(&lc, &s->skel);
	if (ret)
		return ret;
	s->events = events_new(&(struct events_config){ .format = cfg->log_format,
						       .log_file = cfg->log_file,
						       .audit = cfg->audit },
			       p->rules, p->nrules, p->answers, p->nanswers);
	if (!s->events) {
		ret = -errno;
		pr_err("cannot set up deny event reporting: %s", strerror(errno));
		return ret;
	}
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), events_handle, s->events, NULL);
	if (!s->rb) {
		ret = -errno;
		pr_err("cannot open the events ring buffer: %s", strerror(errno));
		return ret;
	}
	ret = loop_add_io(s->loop, ring_buffer__epoll_fd(s->rb), EPOLLIN, on_events, s, NULL);
	if (ret) {
		pr_err("cannot watch the events ring buffer: %s", strerror(-ret));
		return ret;
	}
	if (s->proxy) {
		ret = start_proxy(s, cfg, p);
		if (ret)
			return ret;
	}
	ret = setup_cgroup(s, id);
	if (ret)
		return ret;
	ret = loader_attach(s->skel, s->cg_fd);
	if (ret)
		return ret;
	s->attached = true;
	s->proxy_port = lc.proxy_port;
	print_startup(s, p->rules, p->nrules, id);
	warn_listeners(s, lc.proxy_port);
	warn_joiners(s);
	/* Not fatal: filtering never depends on the status socket. */
	status_start(s->loop, s, &s->status);
	return 0;
}

int session_run(struct session *s, const struct identity *id)
{
	struct loop_source *sig;
	int ret;

	/* Blocked before fork so no signal is lost; the child unblocks them. */
	ret = loop_add_signals(s->loop, launch_signals, launch_nsignals, on_signal, s, &sig);
	if (ret) {
		pr_err("cannot set up signal handling: %s", strerror(-ret));
		return EXIT_EGRESSD_FAILURE;
	}

	struct launch_opts lo = {
		.argv = s->cfg->argv,
		.cgroup_dir = !s->cfg->isolation || s->cfg->cgroup_mode == CGROUP_MODE_SELF ? NULL :
											  s->cg_dir,
		.uid = id->uid,
		.gid = id->gid,
		.user = id->name[0] ? id->name : NULL,
		.home = id->home[0] ? id->home : NULL,
		.filtered = s->cfg->isolation,
	};
	ret = launch_start(&lo, &s->child);
	if (ret) {
		pr_err("cannot start the command: %s", strerror(-ret));
		return EXIT_EGRESSD_FAILURE;
	}
	ret = loop_add_child(s->loop, s->child, on_child, s, NULL);
	if (!ret)
		ret = loop_run(s->loop);
	if (ret < 0) {
		pr_err("lost track of the command: %s; killing it", strerror(-ret));
		if (s->child > 0) {
			kill(s->child, SIGKILL);
			waitpid(s->child, NULL, 0);
		}
		return EXIT_EGRESSD_FAILURE;
	}
	/* Rate-limited reports, and in audit mode the summary. */
	if (s->events) {
		events_summary(s->events);
		/* Deny events lost from --log-file fail a run that succeeded. */
		if (events_check_written(s->events) && ret == 0)
			ret = EXIT_EGRESSD_FAILURE;
	}
	if (s->cfg->stats && s->skel)
		stats_print(s->skel, s->plan->rules, s->plan->nrules);
	return ret;
}

void session_end(struct session *s)
{
	/* First: nobody may be told a filter is attached that is going away. */
	status_free(s->status);
	s->status = NULL;
	teardown(s);
	/* Before the skeleton: closing upstream sockets un-exempts them. */
	proxy_free(s->proxy);
	s->proxy = NULL;
	namematch_free(s->names);
	learn_free(s->learn);
	s->names = NULL;
	s->learn = NULL;
	ring_buffer__free(s->rb);
	events_free(s->events);
	loader_destroy(s->skel);
	loop_free(s->loop);
	free(s->local);
	s->rb = NULL;
	s->events = NULL;
	s->skel = NULL;
	s->loop = NULL;
	s->local = NULL;
}
