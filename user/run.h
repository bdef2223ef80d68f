/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef EGRESSD_RUN_H
#define EGRESSD_RUN_H

#include "cli.h"

/* egressd run ...: returns the process exit status. */
int do_run(int argc, char **argv);

/* Fill c->resolvers from /etc/resolv.conf unless --resolver gave some. */
int run_load_resolvers(struct run_config *c);

#endif
