// SPDX-License-Identifier: GPL-2.0-only
/*
 * egressd run: the pipeline.  Parse; check the capabilities; plan
 * (resolve, compile: plan.c); act (load, attach, launch, supervise,
 * tear down: session.c).  Every failure before the launch means the
 * command never runs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "cli.h"
#include "identity.h"
#include "launch.h"
#include "log.h"
#include "plan.h"
#include "run.h"
#include "session.h"

int do_run(int argc, char **argv)
{
	struct session s = SESSION_INIT;
	struct plan plan = {};
	struct run_config cfg;
	struct identity id;
	int ret, status = EXIT_EGRESSD_FAILURE;

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
	if (cfg.isolation && (launch_check_stdio() || plan_build(&cfg, &plan)))
		goto out;
	if (session_prepare(&s, &cfg, &plan, &id) == 0)
		status = session_run(&s, &id);
	session_end(&s);
out:
	plan_free(&plan);
	cli_free(&cfg);
	return status;
}
