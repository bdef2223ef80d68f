/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Local services the command could reach on loopback: TCP listeners and
 * bound UDP sockets on a loopback or wildcard address, read from
 * /proc/net/{tcp,udp}{,6}, for the --loopback all warning.
 */
#ifndef EGRESSD_LISTENERS_H
#define EGRESSD_LISTENERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Count the entries of one /proc/net table (f, already open) that listen
 * (TCP state 0A; UDP unconnected, 07) on 127/8, ::1, ::ffff:127.x or a
 * wildcard address, on a port other than except.  Pure: parses text.
 */
int listeners_count(FILE *f, bool tcp, uint16_t except);

/* All four tables of this network namespace; unreadable ones count 0. */
int listeners_loopback(uint16_t except);

#endif
