// SPDX-License-Identifier: GPL-2.0-only
/*
 * egressd run: resolve, load, attach, launch, wait, clean up.
 *
 * Ordering is the security argument:
 *   1. everything that can fail (capabilities, parsing, resolution, load,
 *      attach) happens before the command exists, so any failure means the
 *      command never runs (fail closed);
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
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "caps.h"
#include "cgroup.h"
#include "cli.h"
#include "dns.h"
#include "egress.skel.h"
#include "events.h"
#include "ghmeta.h"
#include "hostaddr.h"
#include "identity.h"
#include "launch.h"
#include "loader.h"
#include "log.h"
#include "run.h"
#include "stats.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define KILL_TIMEOUT_MS 5000

static const int forwarded_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM,
					 SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };

int run_load_resolvers(struct run_config *c)
{
	char err[512];
	FILE *f;
	int ret;

	if (c->nresolvers)
		return 0;
	f = fopen(RESOLV_CONF, "re");
	if (!f) {
		pr_err("cannot read %s: %s; name a DNS server with --resolver ADDR", RESOLV_CONF,
		       strerror(errno));
		return -errno;
	}
	ret = resolvconf_parse(f, RESOLV_CONF, c->resolvers, MAX_RESOLVERS, &c->nresolvers, err,
			       sizeof(err));
	fclose(f);
	if (ret)
		pr_err("%s; name a DNS server with --resolver ADDR", err);
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Replace every domain entry by its addresses (same port, name kept for
 * messages), and add GitHub's ranges when github.com is allowed.  Linear
 * in the entries, n log n in the names.
 */
static int resolve_domains(struct run_config *c, struct dns_answer **answers_out, size_t *n_out)
{
	const char **names = NULL;
	struct dns_answer *ans = NULL;
	struct dns_opts opts = { .timeout_ms = 2000, .tries = 2 };
	struct policy resolved;
	size_t nnames = 0;
	bool github = false;
	char err[512];
	int ret = 0;

	policy_init(&resolved);
	names = calloc(c->policy.n ? c->policy.n : 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	/* Each name once: sorted, so the rebuild below finds it by bsearch. */
	for (size_t i = 0; i < c->policy.n; i++) {
		const struct entry *e = &c->policy.entries[i];

		if (e->kind != ENTRY_DOMAIN)
			continue;
		names[nnames++] = e->name;
		if (strcmp(e->name, "github.com") == 0)
			github = true;
	}
	if (!nnames)
		goto out;
	qsort(names, nnames, sizeof(*names), name_cmp);
	{
		size_t u = 1;

		for (size_t i = 1; i < nnames; i++) {
			if (strcmp(names[i], names[u - 1]))
				names[u++] = names[i];
		}
		nnames = u;
	}

	pr_debug("resolving %zu names", nnames);
	ret = dns_resolve_all(names, nnames, c->resolvers, c->nresolvers, &opts, &ans);
	if (ret == -ENOENT) {
		for (size_t i = 0; i < nnames; i++) {
			if (!ans[i].ok)
				pr_err("Failed to resolve domain: %s (%s)", ans[i].name, ans[i].reason);
		}
		pr_err("refusing to start: every allowed domain must resolve");
		goto out;
	} else if (ret) {
		pr_err("cannot resolve domains: %s", strerror(-ret));
		goto out;
	}

	/* Rebuild: CIDRs as given, each domain entry once per address. */
	for (size_t i = 0; i < c->policy.n && !ret; i++) {
		const struct entry *e = &c->policy.entries[i];
		const char *key = e->name, **hit;
		const struct dns_answer *an;

		if (e->kind != ENTRY_DOMAIN) {
			ret = policy_add(&resolved, e);
			continue;
		}
		/* Every domain is in names[]; ans[] follows its order. */
		hit = bsearch(&key, names, nnames, sizeof(*names), name_cmp);
		if (!hit) {
			ret = -EINVAL;
			break;
		}
		an = &ans[hit - names];
		for (size_t k = 0; k < an->naddrs && !ret; k++) {
			struct entry a = { .kind = ENTRY_CIDR, .addr = an->addrs[k], .port = e->port };

			a.prefixlen = a.addr.family == AF_INET ? 32 : 128;
			snprintf(a.name, sizeof(a.name), "%s", e->name);
			ret = policy_add(&resolved, &a);
		}
	}
	if (ret)
		goto out;

	if (github) {
		struct ghmeta_opts go = {
			.url = c->github_meta_url ? c->github_meta_url : GHMETA_DEFAULT_URL,
			.ca_file = c->ca_file,
			.connect_timeout_ms = 5000,
			.total_timeout_ms = 15000,
			.resolvers = c->resolvers,
			.nresolvers = c->nresolvers,
		};

		ret = ghmeta_fetch(&go, &resolved, err, sizeof(err));
		if (ret) {
			pr_err("Failed to fetch GitHub IP ranges: %s", err);
			goto out;
		}
	}

	policy_free(&c->policy);
	c->policy = resolved;
	policy_init(&resolved);
out:
	policy_free(&resolved);
	free(names);
	if (!ret) {
		*answers_out = ans;
		*n_out = ans ? nnames : 0;
	} else {
		dns_answers_free(ans, ans ? nnames : 0);
	}
	return ret;
}

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

struct session {
	struct run_config *cfg;
	struct egress_bpf *skel;
	struct events *events;
	struct ring_buffer *rb;
	char cg_dir[PATH_MAX];
	int cg_fd;
	bool cg_created;
	bool attached;
	pid_t child;
	int sfd;
	int epfd;
};

/* Wait for the child, forwarding signals and printing events. */
static int supervise(struct session *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int status = 0, st;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return -errno;
	ev.data.fd = s->sfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sfd, &ev))
		return -errno;
	if (s->rb) {
		ev.data.fd = ring_buffer__epoll_fd(s->rb);
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
			return -errno;
	}

	for (;;) {
		struct epoll_event got[4];
		int n = epoll_wait(s->epfd, got, 4, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct signalfd_siginfo si;

			if (got[i].data.fd != s->sfd) {
				ring_buffer__consume(s->rb);
				continue;
			}
			if (read(s->sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo != SIGCHLD) {
				/*
				 * Terminal-generated signals (SI_KERNEL) already
				 * reached the command through its process group;
				 * forwarding them would deliver them twice.
				 */
				if (si.ssi_code != SI_KERNEL)
					kill(s->child, (int)si.ssi_signo);
				continue;
			}
			/*
			 * Reap every child, not just ours: as PID 1 of a
			 * container (--cgroup self) orphans are reparented to
			 * us, and left unreaped they pile up as zombies.
			 */
			bool done = false;
			pid_t w;

			while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
				if (w == s->child) {
					status = st;
					done = true;
				}
			}
			if (!done)
				continue;
			if (s->rb)
				ring_buffer__consume(s->rb);
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			if (WIFSIGNALED(status))
				return 128 + WTERMSIG(status);
			return EXIT_EGRESSD_FAILURE;
		}
	}
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
	return ret;
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
	pr_info("isolation ON%s: allowing %zu IPv4 + %zu IPv6 prefixes; DNS only to %s; cgroup %s; running %s as uid %u",
		s->cfg->audit ? " (AUDIT: nothing is blocked)" : "", n4, n6, res, s->cg_dir,
		s->cfg->argv[0], (unsigned)id->uid);
}

int do_run(int argc, char **argv)
{
	struct session s = { .cg_fd = -1, .sfd = -1, .epfd = -1 };
	struct run_config cfg;
	struct identity id;
	struct rule *rules = NULL;
	struct dns_answer *answers = NULL;
	size_t nrules = 0, nanswers = 0;
	struct loader_config lc = {};
	struct addr *local = NULL;
	sigset_t mask, oldmask;
	char err[512];
	int ret, status = EXIT_EGRESSD_FAILURE;

	s.cfg = &cfg;
	ret = cli_parse_run(argc, argv, &cfg);
	if (ret) {
		cli_free(&cfg);
		return ret > 0 ? 0 : EXIT_EGRESSD_FAILURE;
	}
	/*
	 * OFF means no filter, nothing else: the command is still started
	 * the same way (no capabilities, no_new_privs, no inherited fds,
	 * never uid 0 by accident), so a default-off para session does not
	 * hand its workload the capabilities egressd was given.
	 */
	if (!cfg.isolation) {
		pr_warn("Network isolation: OFF (use --allow-domains to enable)");
		if (cfg.audit || cfg.stats)
			pr_warn("--audit and --stats do nothing with isolation OFF");
	} else if (caps_check_required()) {
		/* Before anything privileged or on the network. */
		goto out;
	}
	if (identity_resolve(cfg.user, &id))
		goto out;
	if (!cfg.isolation)
		goto launch;
	if (launch_check_stdio())
		goto out;

	if (run_load_resolvers(&cfg))
		goto out;
	if (resolve_domains(&cfg, &answers, &nanswers))
		goto out;
	if (policy_compile(&cfg.policy, &rules, &nrules, err, sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	if (loader_probe())
		goto out;

	lc.audit = cfg.audit;
	lc.events = true;
	lc.rules = rules;
	lc.nrules = nrules;
	lc.resolvers = cfg.resolvers;
	lc.nresolvers = cfg.nresolvers;
	if (setup_source_check(&lc, &local))
		goto out;
	if (loader_load(&lc, &s.skel))
		goto out;

	s.events = events_new(&(struct events_config){ .format = cfg.log_format,
						      .log_file = cfg.log_file,
						      .audit = cfg.audit },
			      rules, nrules, answers, nanswers);
	if (!s.events) {
		pr_err("cannot set up deny event reporting: %s", strerror(errno));
		goto out;
	}
	s.rb = ring_buffer__new(bpf_map__fd(s.skel->maps.events), events_handle, s.events, NULL);
	if (!s.rb) {
		pr_err("cannot open the events ring buffer: %s", strerror(errno));
		goto out;
	}

	if (setup_cgroup(&s, &id))
		goto out;
	if (loader_attach(s.skel, s.cg_fd))
		goto out_cgroup;
	s.attached = true;

	print_startup(&s, rules, nrules, &id);

launch:
	/* Blocked before fork so no signal is lost; the child unblocks them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(&mask, forwarded_signals[i]);
	if (sigprocmask(SIG_BLOCK, &mask, &oldmask) ||
	    (s.sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		pr_err("cannot set up signal handling: %s", strerror(errno));
		goto out_cgroup;
	}

	struct launch_opts lo = {
		.argv = cfg.argv,
		.cgroup_dir = !cfg.isolation || cfg.cgroup_mode == CGROUP_MODE_SELF ? NULL : s.cg_dir,
		.uid = id.uid,
		.gid = id.gid,
		.user = id.name[0] ? id.name : NULL,
		.home = id.home[0] ? id.home : NULL,
		.filtered = cfg.isolation,
	};
	ret = launch_start(&lo, &s.child);
	if (ret) {
		pr_err("cannot start the command: %s", strerror(-ret));
		goto out_cgroup;
	}
	ret = supervise(&s);
	if (ret < 0) {
		pr_err("lost track of the command: %s; killing it", strerror(-ret));
		kill(s.child, SIGKILL);
		waitpid(s.child, NULL, 0);
		status = EXIT_EGRESSD_FAILURE;
	} else {
		status = ret;
	}
	/* Rate-limited reports, and in audit mode the summary. */
	if (s.events) {
		events_summary(s.events);
		/* Deny events lost from --log-file fail a run that succeeded. */
		if (events_check_written(s.events) && status == 0)
			status = EXIT_EGRESSD_FAILURE;
	}
	if (cfg.stats && s.skel)
		stats_print(s.skel, rules, nrules);

out_cgroup:
	teardown(&s);
out:
	if (s.sfd >= 0)
		close(s.sfd);
	if (s.epfd >= 0)
		close(s.epfd);
	ring_buffer__free(s.rb);
	events_free(s.events);
	loader_destroy(s.skel);
	dns_answers_free(answers, nanswers);
	free(rules);
	free(local);
	cli_free(&cfg);
	return status;
}
