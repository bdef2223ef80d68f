// SPDX-License-Identifier: GPL-2.0-only
/*
 * egressd exec [--user USER] -- COMMAND [ARG...]: start a command inside a
 * cgroup that a running egressd filters (--cgroup self: a container), the
 * way egressd run starts its own command.
 *
 * Why it exists: a process that enters a container by `docker exec`
 * joins the cgroup, so it is filtered, but it is not started the way
 * egressd starts its own command.  A plain `docker exec` runs as the
 * image's user, root here (the entrypoint needs it), with the container's
 * capabilities, and CAP_NET_ADMIN builds kernel tunnels whose packets no
 * cgroup owns.  `docker exec -u para` holds no capabilities after its
 * execve, but keeps the container's bounding set, shares the user
 * namespace of everything else, and has no filter for 32-bit system calls
 * (which skip the cgroup sockopt hook).  `docker exec -u root <c> egressd
 * exec -- CMD` first checks that this cgroup is really enforced (the
 * running egressd says so over its root-only status socket, and the kernel
 * confirms that its programs are attached here), then becomes CMD as the
 * session user with no capabilities, an empty bounding set, no_new_privs,
 * the compat-syscall seccomp filter and a user namespace of its own
 * (launch.c).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <json-c/json.h>

#include "identity.h"
#include "launch.h"
#include "log.h"
#include "loop.h"
#include "run.h"
#include "statusq.h"

static void usage(void)
{
	printf("Usage: egressd exec [--user USER] -- COMMAND [ARG...]\n"
	       "\n"
	       "Run COMMAND in this cgroup, which a running egressd must filter (egressd run\n"
	       "--cgroup self, as in a container), with every privilege dropped as egressd run\n"
	       "drops them for its own command.  Run it as root, e.g.\n"
	       "  docker exec -u root CONTAINER egressd exec -- claude\n"
	       "\n"
	       "  -u, --user USER   run COMMAND as USER (default: the user that egressd runs\n"
	       "                    its command as)\n"
	       "  -v, --verbose / -q, --quiet\n"
	       "\n"
	       "Exit status: COMMAND's; 125 if the cgroup is not enforced or egressd fails,\n"
	       "126 if COMMAND cannot run, 127 if not found.\n");
}

static const struct option exec_opts[] = {
	{ "user", required_argument, NULL, 'u' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

/* Does the running egressd say its command runs as uid 0 (or not say)? */
static bool session_is_root(struct json_object *doc)
{
	struct json_object *u, *v;

	return !json_object_object_get_ex(doc, "session_user", &u) ||
	       !json_object_object_get_ex(u, "uid", &v) || json_object_get_int64(v) == 0;
}

/* The session user the running egressd names: its passwd name, else its uid. */
static int session_user(struct json_object *doc, char *buf, size_t len)
{
	struct json_object *u, *v;

	if (!json_object_object_get_ex(doc, "session_user", &u))
		return -ENOENT;
	if (json_object_object_get_ex(u, "name", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0) {
		snprintf(buf, len, "%s", json_object_get_string(v));
		return 0;
	}
	if (json_object_object_get_ex(u, "uid", &v) && json_object_is_type(v, json_type_int)) {
		snprintf(buf, len, "%lld", (long long)json_object_get_int64(v));
		return 0;
	}
	return -ENOENT;
}

struct exec_state {
	struct loop *loop;
	pid_t child; /* 0 once reaped */
};

static int on_signal(struct loop_source *src, const struct signalfd_siginfo *si, void *userdata)
{
	struct exec_state *st = userdata;

	(void)src;
	if (si->ssi_signo == SIGCHLD)
		loop_reap_others(st->loop); /* a container's PID 1 may be us */
	else
		launch_forward_signal(st->child, si);
	return 0;
}

static int on_child(struct loop_source *src, pid_t pid, int status, void *userdata)
{
	struct exec_state *st = userdata;

	(void)src;
	(void)pid;
	st->child = 0;
	loop_exit(st->loop, WIFEXITED(status)   ? WEXITSTATUS(status) :
			    WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
						  EXIT_EGRESSD_FAILURE);
	return 0;
}

/*
 * Start the command (launch.c: its own session, no controlling terminal,
 * nothing held) and stay to forward signals and pass its exit status on:
 * as a supervisor, not by becoming it, since the command must leave our
 * session and terminal and we may be the session leader docker exec made.
 */
static int supervise(const struct launch_opts *lo)
{
	struct exec_state st = {};
	int ret;

	ret = loop_new(&st.loop);
	if (!ret)
		ret = loop_add_signals(st.loop, launch_signals, launch_nsignals, on_signal, &st, NULL);
	if (ret) {
		pr_err("cannot set up the event loop: %s", strerror(-ret));
		loop_free(st.loop);
		return EXIT_EGRESSD_FAILURE;
	}
	ret = launch_start(lo, &st.child);
	if (ret) {
		pr_err("cannot start the command: %s", strerror(-ret));
		loop_free(st.loop);
		return EXIT_EGRESSD_FAILURE;
	}
	ret = loop_add_child(st.loop, st.child, on_child, &st, NULL);
	if (!ret)
		ret = loop_run(st.loop);
	if (ret < 0) {
		pr_err("lost track of the command: %s; killing it", strerror(-ret));
		if (st.child > 0) {
			kill(st.child, SIGKILL);
			waitpid(st.child, NULL, 0);
		}
		ret = EXIT_EGRESSD_FAILURE;
	}
	loop_free(st.loop);
	return ret;
}

int do_exec(int argc, char **argv)
{
	char dir[PATH_MAX], err[512], user[64];
	const char *user_opt = NULL;
	struct json_object *doc = NULL;
	struct identity id;
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+u:vqh", exec_opts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			if (!*optarg) {
				pr_err("--user: empty user name");
				return EXIT_EGRESSD_FAILURE;
			}
			user_opt = optarg;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'q':
			log_set_level(LOG_LEVEL_QUIET);
			break;
		case 'h':
			usage();
			return 0;
		case ':':
			pr_err("option %s needs a value", argv[optind - 1]);
			return EXIT_EGRESSD_FAILURE;
		default:
			pr_err("unknown option %s (see egressd exec --help)", argv[optind - 1]);
			return EXIT_EGRESSD_FAILURE;
		}
	}
	if (optind < 2 || strcmp(argv[optind - 1], "--") != 0) {
		pr_err("missing \"-- COMMAND\" (usage: egressd exec [--user USER] -- COMMAND)");
		return EXIT_EGRESSD_FAILURE;
	}
	if (optind >= argc) {
		pr_err("no command after \"--\"");
		return EXIT_EGRESSD_FAILURE;
	}

	ret = statusq_cgroup_dir("self", dir, sizeof(dir), err, sizeof(err));
	if (!ret)
		ret = statusq_fetch(dir, &doc, err, sizeof(err));
	if (!ret)
		ret = statusq_verify(dir, doc, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		pr_err("egressd exec starts commands only in a cgroup that a running egressd enforces; %s was not run",
		       argv[optind]);
		json_object_put(doc);
		return EXIT_EGRESSD_FAILURE;
	}
	if (!user_opt) {
		if (session_is_root(doc)) {
			pr_err("the running egressd runs its command as root; egressd exec takes that only from an explicit --user root");
			json_object_put(doc);
			return EXIT_EGRESSD_FAILURE;
		}
		if (session_user(doc, user, sizeof(user))) {
			pr_err("the running egressd did not say which user its command runs as; pass --user");
			json_object_put(doc);
			return EXIT_EGRESSD_FAILURE;
		}
		user_opt = user;
	}
	json_object_put(doc);
	if (identity_resolve(user_opt, &id) || launch_check_stdio())
		return EXIT_EGRESSD_FAILURE;
	pr_debug("cgroup %s is enforced; running %s as uid %u", dir, argv[optind], (unsigned)id.uid);

	return supervise(&(struct launch_opts){
		.argv = &argv[optind],
		.cgroup_dir = NULL, /* already in the filtered cgroup: it is ours */
		.uid = id.uid,
		.gid = id.gid,
		.user = id.name[0] ? id.name : NULL,
		.home = id.home[0] ? id.home : NULL,
		.filtered = true,
	});
}
