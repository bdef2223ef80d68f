/* SPDX-License-Identifier: GPL-2.0-only */
/* egressd run: the subcommand's pipeline (plan.h, then session.h). */
#ifndef EGRESSD_RUN_H
#define EGRESSD_RUN_H

/* egressd run ...: returns the process exit status. */
int do_run(int argc, char **argv);

/* egressd exec ...: becomes the command, or returns the exit status (execcmd.c). */
int do_exec(int argc, char **argv);

#endif
