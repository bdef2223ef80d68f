// SPDX-License-Identifier: GPL-2.0-only
/*
 * curlso.c: libcurl by dlopen(), on first use.  Linking it would map
 * libcurl and its TLS, Kerberos, LDAP, SSH and IDN libraries into every
 * egressd start for the one option (--github-meta) that needs them; the
 * dynamic loader's relocations and the extra RSS are paid by every
 * session otherwise (issue 10).
 *
 * The soname is libcurl.so.4, the ABI the headers describe; the symbols
 * are resolved by name, all or none, so a missing or partial library is
 * one clear error and never a call through NULL.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "curlso.h"

#define CURLSO_NAME "libcurl.so.4"

static struct curl_api api;
static const struct curl_api *loaded;
static char load_err[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Each member of struct curl_api and the symbol that fills it. */
#define SYM(member, name) { offsetof(struct curl_api, member), name }
static const struct {
	size_t off;
	const char *name;
} syms[] = {
	SYM(global_init, "curl_global_init"),
	SYM(easy_strerror, "curl_easy_strerror"),
	SYM(easy_init, "curl_easy_init"),
	SYM(easy_setopt, "curl_easy_setopt"),
	SYM(easy_perform, "curl_easy_perform"),
	SYM(easy_getinfo, "curl_easy_getinfo"),
	SYM(easy_cleanup, "curl_easy_cleanup"),
	SYM(slist_append, "curl_slist_append"),
	SYM(slist_free_all, "curl_slist_free_all"),
	SYM(url, "curl_url"),
	SYM(url_set, "curl_url_set"),
	SYM(url_get, "curl_url_get"),
	SYM(url_strerror, "curl_url_strerror"),
	SYM(url_cleanup, "curl_url_cleanup"),
	SYM(free, "curl_free"),
};
#undef SYM

static void load(void)
{
	struct curl_api a;
	CURLcode cc;
	void *h, *f;
	size_t i;

	h = dlopen(CURLSO_NAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(load_err, sizeof(load_err), "cannot load %s (install libcurl4): %s",
			 CURLSO_NAME, dlerror());
		return;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		f = dlsym(h, syms[i].name);
		if (!f) {
			snprintf(load_err, sizeof(load_err), "%s has no %s (libcurl 7.80 or later is needed)",
				 CURLSO_NAME, syms[i].name);
			dlclose(h);
			return;
		}
		/* POSIX: a function pointer round-trips through void *. */
		memcpy((char *)&a + syms[i].off, &f, sizeof(f));
	}
	cc = a.global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK) {
		snprintf(load_err, sizeof(load_err), "libcurl: %s", a.easy_strerror(cc));
		return; /* stays loaded: libcurl may hold state even after a failed init */
	}
	api = a;
	loaded = &api;
}

const struct curl_api *curlso_get(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!loaded)
		snprintf(err, errlen, "%s", load_err);
	return loaded;
}
