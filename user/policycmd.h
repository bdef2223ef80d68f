/* SPDX-License-Identifier: GPL-2.0-only */
/* egressd policy: tools for the allowlist itself (export it for other enforcers). */
#ifndef EGRESSD_POLICYCMD_H
#define EGRESSD_POLICYCMD_H

/* egressd policy SUBCOMMAND ...: returns the process exit status. */
int do_policy(int argc, char **argv);

#endif
