/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * curlso.h: libcurl, loaded only when GitHub's meta ranges are fetched
 * (curlso.c).  egressd is not linked with libcurl, so an ordinary start
 * maps none of its ~20 libraries.
 */
#ifndef EGRESSD_CURLSO_H
#define EGRESSD_CURLSO_H

#include <stddef.h>
#include <curl/curl.h>

/* The libcurl calls ghmeta_fetch() makes, by the names it would use. */
struct curl_api {
	CURLcode (*global_init)(long flags);
	const char *(*easy_strerror)(CURLcode code);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *u, CURLUPart part, const char *s, unsigned int flags);
	CURLUcode (*url_get)(const CURLU *u, CURLUPart part, char **out, unsigned int flags);
	const char *(*url_strerror)(CURLUcode code);
	void (*url_cleanup)(CURLU *u);
	void (*free)(void *p);
};

/*
 * libcurl's entry points, loaded and curl_global_init()ed once (thread
 * safe), or NULL with err saying why (the library is missing, too old, or
 * its init failed).
 */
const struct curl_api *curlso_get(char *err, size_t errlen);

#endif
