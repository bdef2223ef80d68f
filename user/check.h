/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * egressd check: the preflight.  Run where egressd would run (a host, or
 * inside the container as root), it says item by item whether egressd can
 * run there with isolation on, and for anything that is not ok, the fix.
 * The probes live in check.c; the report and its renderings in
 * check_report.c.
 */
#ifndef EGRESSD_CHECK_H
#define EGRESSD_CHECK_H

/* Exit status when egressd cannot run here (warnings never change it). */
#define EXIT_CHECK_PROBLEMS 1

/*
 * egressd check [--format text|json] [--resolver ADDR[:PORT]]... [-v|-q]:
 * 0 when egressd can run here, EXIT_CHECK_PROBLEMS when it cannot,
 * EXIT_EGRESSD_FAILURE for a bad command line (as egressd run).
 */
int do_check(int argc, char **argv);

#endif
