/* SPDX-License-Identifier: GPL-2.0-only */
/* GitHub's published address ranges (https://api.github.com/meta). */
#ifndef EGRESSD_GHMETA_H
#define EGRESSD_GHMETA_H

#include <stddef.h>

#include "policy.h"
#include "resolvconf.h"

#define GHMETA_DEFAULT_URL "https://api.github.com/meta"

/*
 * Parse a meta document.  The "web", "api" and "git" arrays are required;
 * every CIDR in them is validated and added to p as an all-ports entry
 * named "github.com".  On error nothing is added and err says why.
 */
int ghmeta_parse(const char *json, size_t len, struct policy *p, char *err, size_t errlen);

struct ghmeta_opts {
	const char *url;     /* GHMETA_DEFAULT_URL unless overridden */
	const char *ca_file; /* NULL: the system store */
	long connect_timeout_ms;
	long total_timeout_ms;
	/* The URL's host is resolved with these, like every other name. */
	const struct resolver *resolvers;
	size_t nresolvers;
};

/* Fetch over verified TLS and parse.  Non-200 is an error. */
int ghmeta_fetch(const struct ghmeta_opts *o, struct policy *p, char *err, size_t errlen);

#endif
