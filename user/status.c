// SPDX-License-Identifier: GPL-2.0-only
/*
 * egressd status, the server (see status.h and docs/status.md): a Unix
 * stream socket on the event loop that gives root one JSON document
 * saying what this egressd enforces, and nobody else anything.
 *
 * Two walls keep the workload out: the socket lives in a directory only
 * root may enter (checked, not assumed: lstat, uid 0, no group or other
 * bits), and every connection's peer credentials must say uid 0.  The
 * socket is a convenience: if it cannot be set up, egressd warns and
 * filters exactly as before.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "session.h"
#include "stats.h"
#include "status.h"
#include "text.h"

const char *status_runtime_dir(void)
{
	const char *d = getenv(STATUS_RUNTIME_ENV);

	return d && *d ? d : STATUS_RUNTIME_DIR;
}

int status_socket_path(const char *dir, uint64_t cgid, pid_t pid, char *buf, size_t len)
{
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path);
	int n = snprintf(buf, len, "%s/cg-%llu.%d.sock", dir, (unsigned long long)cgid, (int)pid);

	if (n < 0 || (size_t)n >= len || (size_t)n >= max)
		return -ENAMETOOLONG;
	return 0;
}

int status_parse_socket_name(const char *name, uint64_t *cgid, pid_t *pid)
{
	unsigned long id, p;
	const char *dot, *end;
	size_t len = strlen(name);

	if (len < 3 + 1 + 1 + 1 + 5 || strncmp(name, "cg-", 3) || strcmp(name + len - 5, ".sock"))
		return -EINVAL;
	end = name + len - 5;
	dot = memchr(name + 3, '.', (size_t)(end - (name + 3)));
	/* Digits, no leading zero: each socket has one spelling. */
	if (!dot || decimal_parse(name + 3, (size_t)(dot - name - 3), ULONG_MAX, &id) ||
	    decimal_parse(dot + 1, (size_t)(end - dot - 1), 0x3fffffff, &p) || !p)
		return -EINVAL;
	*cgid = id;
	*pid = (pid_t)p;
	return 0;
}

int status_parse_request(const char *buf, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *req = NULL, *v;
	enum json_tokener_error jerr;
	char ex[TEXT_QUOTE_SIZE(40)];
	const char *what;
	int ret = -EINVAL;

	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (!len) {
		snprintf(err, errlen, "empty request (send {\"request\":\"status\"})");
		return -EINVAL;
	}
	if (memchr(buf, '\0', len) || memchr(buf, '\n', len)) {
		snprintf(err, errlen, "malformed request: one line of JSON expected");
		return -EINVAL;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	req = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!req || jerr != json_tokener_success || tok->char_offset != (int)len) {
		if (jerr == json_tokener_continue)
			snprintf(err, errlen, "malformed request: the JSON ends early");
		else if (req)
			snprintf(err, errlen, "malformed request: text after the JSON object at byte %d",
				 tok->char_offset);
		else
			snprintf(err, errlen, "malformed request: %s at byte %d",
				 json_tokener_error_desc(jerr), tok->char_offset);
		goto out;
	}
	if (!json_object_is_type(req, json_type_object)) {
		snprintf(err, errlen, "malformed request: a JSON object expected, not \"%s\"",
			 text_quote(buf, len > 40 ? 40 : len, ex, sizeof(ex)));
		goto out;
	}
	if (!json_object_object_get_ex(req, "request", &v) || !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "malformed request: no \"request\" string (send {\"request\":\"status\"})");
		goto out;
	}
	what = json_object_get_string(v);
	if (strcmp(what, "status")) {
		snprintf(err, errlen, "unknown request \"%s\" (the only one is \"status\")",
			 text_quote(what, strnlen(what, 40), ex, sizeof(ex)));
		ret = -EOPNOTSUPP;
		goto out;
	}
	ret = 0;
out:
	json_object_put(req);
	json_tokener_free(tok);
	return ret;
}

struct json_object *status_error(const char *msg)
{
	struct json_object *o = json_object_new_object();

	if (o && json_object_object_add(o, "error", json_object_new_string(msg))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- the document ----------------------------------------------------- */

/*
 * Untrusted text (a process's comm, a queried name) as it is when it is
 * printable ASCII, else escaped, so the document is always valid UTF-8
 * and a reader's terminal never sees a control byte.
 */
static struct json_object *safe_string(const char *s, size_t max)
{
	char buf[TEXT_QUOTE_SIZE(NAME_MAX_LEN)];
	size_t len = strnlen(s, max);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f) {
			if (len > NAME_MAX_LEN)
				len = NAME_MAX_LEN;
			return json_object_new_string(text_quote(s, len, buf, sizeof(buf)));
		}
	}
	return json_object_new_string_len(s, (int)len);
}

/* "all", or the ports "80,443". */
static const char *ports_text(bool all, const uint16_t *ports, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	if (all)
		return "all";
	buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%u", i ? "," : "", ports[i]);
	return buf;
}

/*
 * Build an object from (key, value) pairs; a NULL value means out of
 * memory, and then the whole object is dropped.
 */
static int add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int push(struct json_object *a, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_array_add(a, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static struct json_object *doc_programs(const struct status_input *in)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < in->nprogs; i++) {
		struct json_object *p = json_object_new_object();

		if (!p || add(p, "name", json_object_new_string(in->progs[i].name)) ||
		    add(p, "id", json_object_new_int64(in->progs[i].id)) ||
		    add(p, "attach_type", json_object_new_string(in->progs[i].attach_name)) ||
		    push(a, p)) {
			json_object_put(p);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static struct json_object *doc_dns(const struct status_input *in)
{
	struct json_object *o = json_object_new_object(), *ups = json_object_new_array();
	char buf[ADDR_STRLEN + 16];

	if (!o || !ups)
		goto fail;
	for (size_t i = 0; i < in->nresolvers; i++)
		if (push(ups, json_object_new_string(resolver_format(&in->resolvers[i], buf, sizeof(buf)))))
			goto fail;
	if (add(o, "proxy", json_object_new_boolean(in->dns_proxy)) ||
	    add(o, "port", json_object_new_int64(in->dns_proxy ? in->proxy_port : 0)))
		goto fail;
	if (add(o, "upstreams", ups)) {
		ups = NULL;
		goto fail;
	}
	ups = NULL;
	if (add(o, "deny_rcode", json_object_new_string(in->deny_rcode == 3 ? "nxdomain" : "refused")))
		goto fail;
	return o;
fail:
	json_object_put(ups);
	json_object_put(o);
	return NULL;
}

static struct json_object *doc_static(const struct status_input *in)
{
	struct json_object *a = json_object_new_array();
	char addr[ADDR_STRLEN], pfx[ADDR_STRLEN + 8], ports[EGRESS_MAX_PORTS * 6 + 1];

	for (size_t i = 0; a && i < in->nrules; i++) {
		const struct rule *r = &in->rules[i];
		struct json_object *o = json_object_new_object();

		snprintf(pfx, sizeof(pfx), "%s/%u", addr_format(&r->addr, addr, sizeof(addr)),
			 r->prefixlen);
		if (!o || add(o, "prefix", json_object_new_string(pfx)) ||
		    add(o, "ports", json_object_new_string(ports_text(r->flags & EGRESS_RULE_ALL_PORTS,
									r->ports, r->nports, ports,
									sizeof(ports)))) ||
		    (r->name[0] ? add(o, "name", json_object_new_string(r->name)) :
				  json_object_object_add(o, "name", NULL)) ||
		    push(a, o)) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static struct json_object *doc_names(const struct status_input *in)
{
	struct json_object *a = json_object_new_array();
	char buf[ENTRY_STRLEN];

	for (size_t i = 0; a && i < in->ndomains; i++) {
		if (in->domains[i].kind != ENTRY_DOMAIN)
			continue;
		if (push(a, json_object_new_string(entry_format(&in->domains[i], buf, sizeof(buf))))) {
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static struct json_object *doc_learned_one(const struct status_input *in,
					   const struct learn_item *it)
{
	struct json_object *o = json_object_new_object(), *names = json_object_new_array();
	const char *nm[16];
	char a[ADDR_STRLEN], ports[EGRESS_MAX_PORTS * 6 + 1];
	size_t n = learn_names_of(in->learn, &it->addr, nm, 16);
	uint64_t left = it->value.expiry_ms > in->now_ms ? it->value.expiry_ms - in->now_ms : 0;

	if (!o || !names)
		goto fail;
	for (size_t i = 0; i < n && i < 16; i++)
		if (push(names, json_object_new_string(nm[i])))
			goto fail;
	if (add(o, "address", json_object_new_string(addr_format(&it->addr, a, sizeof(a)))))
		goto fail;
	if (add(o, "names", names)) {
		names = NULL;
		goto fail;
	}
	names = NULL;
	/* Rounded up: "expires in 0s" would read as already gone. */
	if (add(o, "ports", json_object_new_string(ports_text(it->value.ports.all, it->value.ports.ports,
							      it->value.ports.n, ports,
							      sizeof(ports)))) ||
	    add(o, "expires_in_s", json_object_new_int64((int64_t)((left + 999) / 1000))))
		goto fail;
	return o;
fail:
	json_object_put(names);
	json_object_put(o);
	return NULL;
}

static int doc_learned(struct json_object *doc, const struct status_input *in)
{
	struct json_object *a = json_object_new_array();
	struct learn_item *items = NULL;
	size_t total = 0, n = 0;

	if (!a)
		return -ENOMEM;
	if (in->learn) {
		total = learn_list(in->learn, NULL, 0);
		n = total < in->learned_max ? total : in->learned_max;
		if (n) {
			items = calloc(n, sizeof(*items));
			if (!items)
				goto fail;
			learn_list(in->learn, items, n);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (push(a, doc_learned_one(in, &items[i])))
			goto fail;
	free(items);
	items = NULL;
	if (add(doc, "learned", a))
		return -ENOMEM;
	if (add(doc, "learned_total", json_object_new_int64((int64_t)total)) ||
	    add(doc, "learned_truncated", json_object_new_boolean(total > n)))
		return -ENOMEM;
	return 0;
fail:
	free(items);
	json_object_put(a);
	return -ENOMEM;
}

/* Per reason: summed over the hooks, with the hooks that counted it. */
static struct json_object *doc_counters(const struct status_input *in)
{
	struct json_object *o = json_object_new_object();

	for (unsigned int r = 0; o && r < EGRESS_REASON_MAX; r++) {
		struct json_object *c = json_object_new_object(), *hooks = json_object_new_object();
		uint64_t packets = 0, bytes = 0;

		if (!c || !hooks)
			goto fail_one;
		for (unsigned int h = 0; in->counters && h < EGRESS_HOOK_MAX; h++) {
			const struct egress_counter *x = &in->counters[h][r];

			if (!x->packets)
				continue;
			packets += x->packets;
			bytes += x->bytes;
			if (add(hooks, events_hook_str(h), json_object_new_int64((int64_t)x->packets)))
				goto fail_one;
		}
		if (add(c, "verdict", json_object_new_string(r < EGRESS_PASS_MAX_ ? "allowed" : "denied")) ||
		    add(c, "packets", json_object_new_int64((int64_t)packets)) ||
		    add(c, "bytes", json_object_new_int64((int64_t)bytes)))
			goto fail_one;
		if (add(c, "hooks", hooks)) {
			hooks = NULL;
			goto fail_one;
		}
		hooks = NULL;
		if (add(o, events_reason_str(r), c)) {
			c = NULL;
			goto fail_one;
		}
		continue;
fail_one:
		json_object_put(hooks);
		json_object_put(c);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *doc_faults(const struct status_input *in)
{
	struct json_object *o = json_object_new_object();

	if (!o || add(o, "dns_upstream_failed", json_object_new_uint64(in->faults.dns_upstream_failed)) ||
	    add(o, "dns_learn_failed", json_object_new_uint64(in->faults.dns_learn_failed)) ||
	    add(o, "learn_cap_refused", json_object_new_uint64(in->faults.learn_cap_refused)) ||
	    add(o, "learn_map_errors", json_object_new_uint64(in->faults.learn_map_errors)) ||
	    add(o, "learn_expire_errors", json_object_new_uint64(in->faults.learn_expire_errors)) ||
	    add(o, "log_write_failures", json_object_new_uint64(in->faults.log_write_failures))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *doc_recent(const struct status_input *in)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < in->nrecent; i++) {
		const struct events_recent *r = &in->recent[i];
		struct json_object *o = json_object_new_object();

		if (!o || add(o, "time", json_object_new_int64(r->time)) ||
		    add(o, "pid", json_object_new_int64(r->pid)) ||
		    add(o, "uid", json_object_new_int64(r->uid)) ||
		    add(o, "comm", safe_string(r->comm, sizeof(r->comm))) ||
		    add(o, "hook", json_object_new_string(r->hook)) ||
		    add(o, "destination", safe_string(r->dest, sizeof(r->dest))) ||
		    add(o, "port", json_object_new_int64(r->port)) ||
		    add(o, "proto", safe_string(r->proto, sizeof(r->proto))) ||
		    add(o, "reason", safe_string(r->reason, sizeof(r->reason))) ||
		    (r->name[0] ? add(o, "name", safe_string(r->name, sizeof(r->name))) :
				  json_object_object_add(o, "name", NULL)) ||
		    add(o, "audit", json_object_new_boolean(r->audit)) || push(a, o)) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

struct json_object *status_document(const struct status_input *in)
{
	struct json_object *doc = json_object_new_object(), *user = json_object_new_object();

	if (!doc || !user)
		goto fail;
	if (add(user, "uid", json_object_new_int64(in->uid)) ||
	    add(user, "gid", json_object_new_int64(in->gid)) ||
	    add(user, "name", json_object_new_string(in->user_name ? in->user_name : "")))
		goto fail;
	if (add(doc, "version", json_object_new_string(in->version)) ||
	    add(doc, "pid", json_object_new_int64(in->pid)) ||
	    add(doc, "started", json_object_new_int64(in->started)) ||
	    add(doc, "time", json_object_new_int64(in->now)) ||
	    add(doc, "cgroup", json_object_new_string(in->cgroup)) ||
	    add(doc, "cgroup_id", json_object_new_uint64(in->cgroup_id)) ||
	    add(doc, "mode", json_object_new_string(in->audit ? "audit" : "enforcing")))
		goto fail;
	if (add(doc, "session_user", user)) {
		user = NULL;
		goto fail;
	}
	user = NULL;
	if (add(doc, "programs", doc_programs(in)) || add(doc, "dns", doc_dns(in)) ||
	    add(doc, "loopback", json_object_new_string(in->loopback ? in->loopback : "all")) ||
	    add(doc, "static", doc_static(in)) || add(doc, "names", doc_names(in)) ||
	    doc_learned(doc, in) || add(doc, "counters", doc_counters(in)) ||
	    add(doc, "faults", doc_faults(in)) ||
	    add(doc, "recent_denials", doc_recent(in)))
		goto fail;
	return doc;
fail:
	json_object_put(user);
	json_object_put(doc);
	errno = ENOMEM;
	return NULL;
}

/* ---- the server ------------------------------------------------------- */

struct status_conn {
	struct status_server *srv;
	struct status_conn *next, *prev;
	int fd;
	struct loop_source *io, *timer;
	char in[STATUS_REQUEST_MAX];
	size_t inlen;
	char *out; /* the reply, once there is one */
	size_t outlen, outoff;
};

struct status_server {
	struct loop *loop;
	const struct session *s;
	int fd;
	struct loop_source *io;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint64_t cgid;
	int64_t started;
	struct status_conn *conns;
	size_t nconns;
};

static void conn_free(struct status_conn *c)
{
	struct status_server *st = c->srv;
	char sink[512];
	int i;

	loop_remove(c->io);
	loop_remove(c->timer);
	/*
	 * Unread input at close makes the kernel report ECONNRESET to the
	 * client (after the reply, but still): drain a little first.
	 */
	for (i = 0; i < 128 && read(c->fd, sink, sizeof(sink)) > 0; i++)
		;
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		st->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	st->nconns--;
	free(c->out);
	free(c);
}

/* Write what the socket takes; 1 when all is written, 0 for more, -errno. */
static int conn_write(struct status_conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		c->outoff += (size_t)n;
	}
	return 1;
}

/* Queue doc (consumed) as the reply and start writing it. */
static void conn_reply(struct status_conn *c, struct json_object *doc)
{
	const char *text;
	size_t len;
	int ret;

	if (!doc) {
		pr_warn("status: out of memory building a reply");
		conn_free(c);
		return;
	}
	text = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &len);
	c->out = text ? malloc(len + 1) : NULL;
	if (!c->out) {
		json_object_put(doc);
		conn_free(c);
		return;
	}
	memcpy(c->out, text, len);
	c->out[len] = '\n';
	c->outlen = len + 1;
	json_object_put(doc);
	ret = conn_write(c);
	if (ret) {
		/* Written, or the client is gone. */
		conn_free(c);
		return;
	}
	if (loop_io_set_events(c->io, EPOLLOUT) || loop_timer_arm(c->timer, STATUS_IDLE_MS * 1000ULL))
		conn_free(c);
}

static void gather(const struct status_server *st, struct status_input *in,
		   struct loader_prog *progs, struct events_recent *recent,
		   struct egress_counter (*counters)[EGRESS_REASON_MAX], char *lo, size_t lolen)
{
	const struct session *s = st->s;
	struct timespec ts;
	int n;

	memset(in, 0, sizeof(*in));
	in->version = EGRESSD_VERSION;
	in->pid = getpid();
	in->started = st->started;
	in->now = (int64_t)time(NULL);
	in->cgroup = s->cg_dir;
	in->cgroup_id = st->cgid;
	in->audit = s->cfg->audit;
	if (s->id) {
		in->uid = s->id->uid;
		in->gid = s->id->gid;
		in->user_name = s->id->name;
	}
	n = loader_programs(s->skel, progs, LOADER_MAX_PROGS);
	if (n < 0)
		pr_warn("status: cannot read the programs' ids: %s", strerror(-n));
	in->progs = progs;
	in->nprogs = n > 0 ? (size_t)n : 0;
	in->dns_proxy = s->proxy != NULL;
	in->proxy_port = s->proxy_port;
	in->resolvers = s->cfg->resolvers;
	in->nresolvers = s->cfg->nresolvers;
	in->deny_rcode = s->cfg->dns_deny_rcode;
	in->loopback = session_loopback_text(s->cfg, lo, lolen);
	in->rules = s->plan->rules;
	in->nrules = s->plan->nrules;
	in->domains = s->plan->domains;
	in->ndomains = s->plan->ndomains;
	in->learn = s->learn;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	in->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	in->learned_max = STATUS_LEARNED_MAX;
	if (stats_read(s->skel, counters))
		pr_debug("status: some counters could not be read");
	in->counters = (const struct egress_counter(*)[EGRESS_REASON_MAX])counters;
	in->recent = recent;
	in->nrecent = events_recent(s->events, recent, EVENTS_RECENT_MAX);
	if (s->learn) {
		struct learn_faults lf;

		learn_get_faults(s->learn, &lf);
		in->faults.learn_cap_refused = lf.cap_refused;
		in->faults.learn_map_errors = lf.map_errors;
	}
	if (s->proxy) {
		struct proxy_faults pf;

		proxy_get_faults(s->proxy, &pf);
		in->faults.dns_upstream_failed = pf.upstream_failed;
		in->faults.dns_learn_failed = pf.learn_failed;
		in->faults.learn_expire_errors = pf.expire_failed;
	}
	in->faults.log_write_failures = events_write_failures(s->events);
}

static void conn_answer(struct status_conn *c, size_t len)
{
	/* 20 KB, filled and used within this call: off the stack, one loop thread. */
	static struct egress_counter counters[EGRESS_HOOK_MAX][EGRESS_REASON_MAX];
	static struct events_recent recent[EVENTS_RECENT_MAX];
	struct loader_prog progs[LOADER_MAX_PROGS];
	struct status_input in;
	char err[256], lo[128];

	if (status_parse_request(c->in, len, err, sizeof(err))) {
		conn_reply(c, status_error(err));
		return;
	}
	gather(c->srv, &in, progs, recent, counters, lo, sizeof(lo));
	conn_reply(c, status_document(&in));
}

static int on_conn_timer(struct loop_source *src, void *userdata)
{
	(void)src;
	conn_free(userdata);
	return 0;
}

static int on_conn_io(struct loop_source *src, int fd, uint32_t revents, void *userdata)
{
	struct status_conn *c = userdata;
	char err[96];
	ssize_t n;
	char *nl;

	(void)src;
	if (c->out) {
		int ret = conn_write(c);

		if (ret)
			conn_free(c);
		else if (loop_timer_arm(c->timer, STATUS_IDLE_MS * 1000ULL))
			conn_free(c);
		return 0;
	}
	if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return 0;
	n = read(fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		conn_free(c);
		return 0;
	}
	if (n == 0) {
		/* EOF: a request without its newline still counts. */
		if (c->inlen)
			conn_answer(c, c->inlen);
		else
			conn_free(c);
		return 0;
	}
	nl = memchr(c->in + c->inlen, '\n', (size_t)n);
	c->inlen += (size_t)n;
	if (nl) {
		conn_answer(c, (size_t)(nl - c->in) + 1);
		return 0;
	}
	if (c->inlen == sizeof(c->in)) {
		snprintf(err, sizeof(err), "request longer than %d bytes", STATUS_REQUEST_MAX);
		conn_reply(c, status_error(err));
		return 0;
	}
	if (loop_timer_arm(c->timer, STATUS_IDLE_MS * 1000ULL))
		conn_free(c);
	return 0;
}

static void conn_new(struct status_server *st, int fd)
{
	struct status_conn *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (st->nconns >= STATUS_MAX_CONNS) {
		static const char busy[] = "{\"error\":\"busy: too many status connections\"}\n";

		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			pr_debug("status: cannot tell a client it is one too many: %s", strerror(errno));
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = st;
	c->fd = fd;
	c->next = st->conns;
	if (st->conns)
		st->conns->prev = c;
	st->conns = c;
	st->nconns++;
	if (loop_add_io(st->loop, fd, EPOLLIN, on_conn_io, c, &c->io) ||
	    loop_add_timer(st->loop, on_conn_timer, c, &c->timer) ||
	    loop_timer_arm(c->timer, STATUS_IDLE_MS * 1000ULL)) {
		conn_free(c);
		return;
	}
	/* The second wall (the directory is the first): root only. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		conn_reply(c, status_error("permission denied: only root may ask egressd's status"));
		return;
	}
}

static int on_accept(struct loop_source *src, int fd, uint32_t revents, void *userdata)
{
	struct status_server *st = userdata;

	(void)src;
	(void)revents;
	for (int i = 0; i < 64; i++) {
		int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (c < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				pr_debug("status: accept: %s", strerror(errno));
			return 0;
		}
		conn_new(st, c);
	}
	return 0;
}

/*
 * The runtime directory: made 0700 if missing; else it must be a real
 * directory (not a symlink), root's, with no group or other bits, or a
 * workload could reach the socket or plant one of its own.
 */
int status_check_dir(const char *dir, bool create, char *why, size_t whylen)
{
	struct stat st;

	if (create && mkdir(dir, 0700) && errno != EEXIST) {
		int err = -errno;

		snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
		return err;
	}
	if (lstat(dir, &st)) {
		int err = -errno;

		snprintf(why, whylen, "cannot stat %s: %s", dir, strerror(errno));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s is not a directory%s", dir,
			 S_ISLNK(st.st_mode) ? " (a symlink)" : "");
		return -ENOTDIR;
	}
	if (st.st_uid != 0) {
		snprintf(why, whylen, "%s belongs to uid %u, not root", dir, (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(why, whylen, "%s has mode %04o; it must be 0700 (no group or other access)",
			 dir, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* Is anybody listening on path?  Refused or missing means no. */
static bool socket_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool live;

	if (fd < 0)
		return true; /* cannot tell: keep it */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	live = !connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	       (errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return live;
}

/*
 * Sockets left by egressd processes that were killed (SIGKILL leaves no
 * chance to unlink), of any cgroup: their pid is gone and nothing
 * listens.  Both are checked, because another pid namespace sharing the
 * directory could have a live egressd of that pid.
 */
static void reap_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
		uint64_t id;
		pid_t pid;

		if (status_parse_socket_name(de->d_name, &id, &pid) || pid == getpid())
			continue;
		if (!kill(pid, 0) || errno != ESRCH)
			continue;
		if (status_socket_path(dir, id, pid, path, sizeof(path)) || socket_live(path))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			pr_debug("status: removed the stale socket %s of pid %d", path, (int)pid);
	}
	closedir(d);
}

/* Bind to a temporary name, then rename: the socket appears whole, 0600. */
static int listen_at(const char *path, char *why, size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char tmp[sizeof(sa.sun_path)];
	mode_t old;
	int fd, err, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(why, whylen, "the path %s.tmp is too long for a Unix socket", path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return err;
	}
	memcpy(sa.sun_path, tmp, (size_t)n + 1);
	/* Our own exact name (our pid): a leftover of ours, never another's. */
	unlink(tmp);
	old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (err) {
		snprintf(why, whylen, "cannot bind %s: %s", tmp, strerror(-err));
		goto fail;
	}
	if (listen(fd, STATUS_MAX_CONNS)) {
		err = -errno;
		snprintf(why, whylen, "listen: %s", strerror(errno));
		unlink(tmp);
		goto fail;
	}
	if (rename(tmp, path)) {
		err = -errno;
		snprintf(why, whylen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

int status_start(struct loop *l, const struct session *s, struct status_server **out)
{
	const char *dir = status_runtime_dir();
	struct status_server *st;
	char why[PATH_MAX + 128] = "";
	struct stat cg;
	int ret;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (!st) {
		ret = -ENOMEM;
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}
	st->loop = l;
	st->s = s;
	st->fd = -1;
	st->started = (int64_t)time(NULL);
	if (fstat(s->cg_fd, &cg)) {
		ret = -errno;
		snprintf(why, sizeof(why), "cannot stat cgroup %s: %s", s->cg_dir, strerror(errno));
		goto fail;
	}
	st->cgid = (uint64_t)cg.st_ino;
	ret = status_check_dir(dir, true, why, sizeof(why));
	if (ret)
		goto fail;
	ret = status_socket_path(dir, st->cgid, getpid(), st->path, sizeof(st->path));
	if (ret) {
		snprintf(why, sizeof(why), "%s/cg-%llu.%d.sock is too long for a Unix socket", dir,
			 (unsigned long long)st->cgid, (int)getpid());
		goto fail;
	}
	reap_stale(dir);
	ret = listen_at(st->path, why, sizeof(why));
	if (ret < 0) {
		st->path[0] = '\0';
		goto fail;
	}
	st->fd = ret;
	ret = loop_add_io(l, st->fd, EPOLLIN, on_accept, st, &st->io);
	if (ret) {
		snprintf(why, sizeof(why), "cannot watch the socket: %s", strerror(-ret));
		goto fail;
	}
	pr_debug("status: serving on %s", st->path);
	*out = st;
	return 0;
fail:
	pr_warn("status socket unavailable (%s): egressd status and --verify will not work", why);
	status_free(st);
	return ret;
}

void status_free(struct status_server *st)
{
	if (!st)
		return;
	while (st->conns)
		conn_free(st->conns);
	loop_remove(st->io);
	if (st->fd >= 0)
		close(st->fd);
	if (st->path[0] && unlink(st->path) && errno != ENOENT)
		pr_warn("cannot remove the status socket %s: %s", st->path, strerror(errno));
	free(st);
}
