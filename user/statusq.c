// SPDX-License-Identifier: GPL-2.0-only
/*
 * The status client (statusq.h): find the sockets of a cgroup by its id,
 * ask, parse, and verify the answer against the kernel.  A short-lived
 * command, so plain blocking sockets with timeouts; the daemon's side is
 * on the event loop (status.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "status.h"
#include "statusq.h"

int statusq_cgroup_dir(const char *arg, char *dir, size_t len, char *err, size_t errlen)
{
	char mnt[PATH_MAX], own[PATH_MAX];
	bool self = false;
	struct stat st;
	int ret, n, fd;

	if (!arg || strcmp(arg, "self") == 0) {
		ret = cgroup_self_dir(mnt, sizeof(mnt), own, sizeof(own));
		if (ret) {
			snprintf(err, errlen, "cannot find this process's cgroup: %s", strerror(-ret));
			return ret;
		}
		n = snprintf(dir, len, "%s", own);
		self = true;
	} else if (!*arg) {
		snprintf(err, errlen, "--cgroup: empty path (use a cgroup directory, or 'self')");
		return -EINVAL;
	} else if (arg[0] == '/') {
		n = snprintf(dir, len, "%s", arg);
	} else {
		ret = cgroup_self_dir(mnt, sizeof(mnt), own, sizeof(own));
		if (ret) {
			snprintf(err, errlen, "cannot find the cgroup2 mount for \"%s\": %s", arg,
				 strerror(-ret));
			return ret;
		}
		n = snprintf(dir, len, "%s/%s", mnt, arg);
	}
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "--cgroup: the path \"%.64s...\" is too long", arg ? arg : "self");
		return -ENAMETOOLONG;
	}
	if (stat(dir, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cgroup %s: %s", dir, strerror(errno));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cgroup %s is not a directory", dir);
		return -ENOTDIR;
	}
	if (!self)
		return 0;
	/* "self" must really be ours: a stacked mount would name another. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ret = fd < 0 ? -errno : cgroup_fd_has_pid(fd, getpid());
	if (fd >= 0)
		close(fd);
	if (ret != 1) {
		snprintf(err, errlen, "this process is not in %s, the cgroup /proc/self/cgroup and the mounts point at (is another cgroup2 mount stacked over /sys/fs/cgroup?)",
			 dir);
		return ret < 0 ? ret : -ESTALE;
	}
	return 0;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = STATUSQ_TIMEOUT_MS / 1000,
			      .tv_usec = (STATUSQ_TIMEOUT_MS % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/*
 * One exchange with the egressd of pid: the reply text (malloc'd,
 * NUL-terminated) or -errno.  The server must be root and that very pid
 * (SO_PEERCRED): a socket planted by anyone else is not asked (-EPERM).
 */
static int ask(const char *path, pid_t pid, char **reply)
{
	static const char req[] = "{\"request\":\"status\"}\n";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 0;
	struct ucred cred;
	socklen_t credlen = sizeof(cred);
	char *buf = NULL;
	int fd, ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_timeouts(fd);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) || cred.uid != 0 ||
	    cred.pid != pid) {
		ret = -EPERM;
		goto out;
	}
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1)) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > STATUSQ_REPLY_MAX + 1) {
				ret = -EFBIG;
				goto out;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		/* A server that closes with our bytes unread resets: the reply is whole. */
		if (n == 0 || (n < 0 && errno == ECONNRESET && len))
			break;
		if (n < 0) {
			ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
			goto out;
		}
		len += (size_t)n;
	}
	if (!len) {
		ret = -ECONNRESET;
		goto out;
	}
	buf[len] = '\0';
	*reply = buf;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

/* Why rdir cannot be opened: 0, or the errno of lstat()/opendir(). */
static int errno_of_dir(const char *rdir)
{
	struct stat st;
	DIR *d;

	if (lstat(rdir, &st))
		return errno;
	d = opendir(rdir);
	if (!d)
		return errno;
	closedir(d);
	return 0;
}

int statusq_fetch(const char *cgroup_dir, struct json_object **out, char *err, size_t errlen)
{
	const char *rdir = status_runtime_dir();
	char why[PATH_MAX + 128];
	int ret = -ENOENT, nfound = 0;
	char last[256] = "";
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (stat(cgroup_dir, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cgroup %s: %s", cgroup_dir, strerror(errno));
		return ret;
	}
	if (status_check_dir(rdir, false, why, sizeof(why))) {
		if (errno_of_dir(rdir) == ENOENT)
			snprintf(err, errlen, "no egressd serves cgroup %s (%s does not exist: no egressd run with isolation on is running)",
				 cgroup_dir, rdir);
		else if (errno_of_dir(rdir) == EACCES)
			snprintf(err, errlen, "only root may ask egressd's status (%s: %s)", rdir,
				 strerror(EACCES));
		else
			snprintf(err, errlen, "not asking the sockets in %s: %s", rdir, why);
		return -EPERM;
	}
	d = opendir(rdir);
	if (!d) {
		ret = -errno;
		if (errno == ENOENT)
			snprintf(err, errlen, "no egressd serves cgroup %s (%s does not exist: no egressd run with isolation on is running)",
				 cgroup_dir, rdir);
		else if (errno == EACCES)
			snprintf(err, errlen, "only root may ask egressd's status (%s: %s)", rdir,
				 strerror(errno));
		else
			snprintf(err, errlen, "cannot read %s: %s", rdir, strerror(errno));
		return ret;
	}
	while ((de = readdir(d))) {
		char path[sizeof(((struct sockaddr_un *)0)->sun_path)], *reply = NULL;
		struct json_object *doc, *e;
		uint64_t id;
		pid_t pid;
		int r;

		if (status_parse_socket_name(de->d_name, &id, &pid) || id != (uint64_t)st.st_ino ||
		    status_socket_path(rdir, id, pid, path, sizeof(path)))
			continue;
		nfound++;
		r = ask(path, pid, &reply);
		if (r == -ECONNREFUSED || r == -ENOENT)
			continue; /* a stale socket: that egressd is gone */
		if (r) {
			if (r == -EACCES) {
				ret = -EACCES;
				snprintf(last, sizeof(last), "only root may ask egressd's status (%s: %s)",
					 path, strerror(-r));
			} else if (r == -EPERM) {
				if (ret != -EACCES) {
					ret = -EPERM;
					snprintf(last, sizeof(last), "%s is not served by root's pid %d, as its name says: not asked",
						 path, (int)pid);
				}
			} else if (ret != -EACCES) {
				ret = r;
				snprintf(last, sizeof(last), "egressd pid %d (%s) did not answer: %s",
					 (int)pid, path, strerror(-r));
			}
			continue;
		}
		doc = json_tokener_parse(reply);
		free(reply);
		if (!doc || !json_object_is_type(doc, json_type_object)) {
			json_object_put(doc);
			if (ret != -EACCES) {
				ret = -EPROTO;
				snprintf(last, sizeof(last), "egressd pid %d (%s) answered something that is not a JSON object",
					 (int)pid, path);
			}
			continue;
		}
		if (!json_object_object_get_ex(doc, "error", &e) &&
		    (!json_object_object_get_ex(doc, "pid", &e) || json_object_get_int64(e) != pid)) {
			json_object_put(doc);
			if (ret != -EACCES) {
				ret = -EPROTO;
				snprintf(last, sizeof(last), "the document from %s names another pid than %d: ignored",
					 path, (int)pid);
			}
			continue;
		}
		if (json_object_object_get_ex(doc, "error", &e)) {
			const char *msg = json_object_get_string(e);

			if (strstr(msg, "permission denied")) {
				ret = -EACCES;
				snprintf(last, sizeof(last), "egressd pid %d refused: %s", (int)pid, msg);
			} else if (ret != -EACCES) {
				ret = -EPROTO;
				snprintf(last, sizeof(last), "egressd pid %d answered: %s", (int)pid, msg);
			}
			json_object_put(doc);
			continue;
		}
		closedir(d);
		*out = doc;
		return 0;
	}
	closedir(d);
	if (last[0])
		snprintf(err, errlen, "%s", last);
	else
		snprintf(err, errlen, "no egressd serves cgroup %s (%s: no live status socket cg-%llu.*.sock%s)",
			 cgroup_dir, rdir, (unsigned long long)st.st_ino,
			 nfound ? ", only stale ones" : "");
	return ret;
}

/* The attach type whose libbpf name is name, or -1. */
static int attach_type_of(const char *name)
{
	for (int t = 0; t < __MAX_BPF_ATTACH_TYPE; t++) {
		const char *s = libbpf_bpf_attach_type_str((enum bpf_attach_type)t);

		if (s && strcmp(s, name) == 0)
			return t;
	}
	return -1;
}

/* Is prog id attached directly to the cgroup behind fd, for type?  1, 0 or -errno. */
static int attached(int fd, enum bpf_attach_type type, __u32 id)
{
	__u32 ids[64], cnt = 64, flags = 0;

	if (bpf_prog_query(fd, type, 0, &flags, ids, &cnt)) {
		if (errno != ENOSPC)
			return -errno;
		cnt = 64; /* more than 64: look at the first 64 */
	}
	for (__u32 i = 0; i < cnt && i < 64; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* The attach types (libbpf's names) every enforcing egressd has programs on. */
static const char *const required_hooks[] = {
	"cgroup_inet_egress", "cgroup_inet4_connect", "cgroup_inet6_connect",
	"cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg", "cgroup_setsockopt",
};

static const char *doc_str(struct json_object *doc, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(doc, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int statusq_verify(const char *cgroup_dir, struct json_object *doc, char *err, size_t errlen)
{
	struct json_object *v, *progs;
	const char *mode = doc_str(doc, "mode");
	long long pid = -1;
	struct stat st;
	size_t n;
	int fd, ret = 0;

	if (json_object_object_get_ex(doc, "pid", &v))
		pid = (long long)json_object_get_int64(v);
	if (!mode || strcmp(mode, "enforcing")) {
		snprintf(err, errlen, "egressd pid %lld serving cgroup %s is in %s mode: nothing is blocked there",
			 pid, cgroup_dir, mode ? mode : "an unknown");
		return -EPERM;
	}
	if (stat(cgroup_dir, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cgroup %s: %s", cgroup_dir, strerror(errno));
		return ret;
	}
	if (!json_object_object_get_ex(doc, "cgroup_id", &v) ||
	    json_object_get_uint64(v) != (uint64_t)st.st_ino) {
		snprintf(err, errlen, "egressd pid %lld serves cgroup id %s, but %s is cgroup id %llu",
			 pid, v ? json_object_get_string(v) : "(none)", cgroup_dir,
			 (unsigned long long)st.st_ino);
		return -ESTALE;
	}
	if (!json_object_object_get_ex(doc, "programs", &progs) ||
	    !json_object_is_type(progs, json_type_array) || !(n = json_object_array_length(progs))) {
		snprintf(err, errlen, "egressd pid %lld lists no programs for cgroup %s", pid, cgroup_dir);
		return -ENOENT;
	}
	/*
	 * Every hook the allowlist needs must be listed (and, below, found
	 * attached): a document naming only some of them would verify a
	 * cgroup whose UDP or IPv6 traffic nothing judges.
	 */
	for (size_t r = 0; r < sizeof(required_hooks) / sizeof(required_hooks[0]); r++) {
		bool listed = false;

		for (size_t i = 0; i < n && !listed; i++) {
			const char *at = doc_str(json_object_array_get_idx(progs, i), "attach_type");

			listed = at && strcmp(at, required_hooks[r]) == 0;
		}
		if (!listed) {
			snprintf(err, errlen, "egressd pid %lld lists no %s program for cgroup %s: it is not filtered as it should be",
				 pid, required_hooks[r], cgroup_dir);
			return -ENOENT;
		}
	}
	fd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open cgroup %s: %s", cgroup_dir, strerror(errno));
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(progs, i), *idv;
		const char *name = p ? doc_str(p, "name") : NULL, *at = p ? doc_str(p, "attach_type") : NULL;
		int type = at ? attach_type_of(at) : -1, r;
		__u32 id;

		if (!name || type < 0 || !json_object_object_get_ex(p, "id", &idv)) {
			snprintf(err, errlen, "egressd pid %lld: program %zu of its document is malformed",
				 pid, i);
			ret = -EPROTO;
			break;
		}
		id = (__u32)json_object_get_int64(idv);
		r = attached(fd, (enum bpf_attach_type)type, id);
		if (r < 0) {
			snprintf(err, errlen, "cannot ask the kernel which programs are attached to %s (%s): %s%s",
				 cgroup_dir, at, strerror(-r),
				 r == -EPERM ? " (needs root: CAP_NET_ADMIN)" : "");
			ret = r;
			break;
		}
		if (!r) {
			snprintf(err, errlen, "program %s (id %u, %s) of egressd pid %lld is not attached to cgroup %s: it is not filtered as egressd says",
				 name, id, at, pid, cgroup_dir);
			ret = -ENOENT;
			break;
		}
	}
	close(fd);
	return ret;
}
