// SPDX-License-Identifier: GPL-2.0-only
/* cgroup v2: find the mount, place and make the child, empty and remove it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "fileio.h"
#include "log.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Is 'prefix' a path prefix of 'path' ("/a" of "/a/b" and "/a", "/" of all)? */
static const char *path_strip(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return path;
	if (strncmp(path, prefix, n) != 0)
		return NULL;
	if (path[n] != '\0' && path[n] != '/')
		return NULL;
	return path[n] ? path + n : "/";
}

int cgroup_parse_mountinfo(FILE *mi, const char *own_path, char *mnt, size_t mntlen,
			   char *dir, size_t dirlen)
{
	char *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;
	bool best_is_std = false;

	while (getline(&line, &cap, mi) > 0) {
		char *fields[10] = {}, *save = NULL, *tok, *sep;
		int nf = 0;
		const char *rel;

		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [optional...] - FSTYPE SRC SUPER" */
		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok && nf < 5; tok = strtok_r(NULL, " ", &save))
			fields[nf++] = tok;
		if (nf < 5)
			continue;
		tok = strtok_r(sep + 3, " \n", &save);
		if (!tok || strcmp(tok, "cgroup2") != 0)
			continue;
		unescape_octal(fields[3]);
		unescape_octal(fields[4]);
		rel = path_strip(own_path, fields[3]);
		if (!rel)
			continue;
		/* Prefer the conventional mount point when there are several. */
		if (err == 0 && best_is_std)
			continue;
		if ((size_t)snprintf(mnt, mntlen, "%s", fields[4]) >= mntlen ||
		    (size_t)snprintf(dir, dirlen, "%s%s", fields[4], strcmp(rel, "/") ? rel : "") >= dirlen) {
			err = -ENAMETOOLONG;
			break;
		}
		err = 0;
		best_is_std = strcmp(fields[4], "/sys/fs/cgroup") == 0;
	}
	free(line);
	return err;
}

int cgroup_parse_proc(FILE *f, char *path, size_t len)
{
	char *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;

	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		/*
		 * A cgroup removed under us reads "/path (deleted)".  It is
		 * returned as it is: no such directory exists, so the next
		 * step that uses it fails with ENOENT.
		 */
		if ((size_t)snprintf(path, len, "%s", line + 3) >= len)
			err = -ENAMETOOLONG;
		else
			err = 0;
		break;
	}
	free(line);
	return err;
}

int cgroup_self_dir(char *mnt, size_t mntlen, char *dir, size_t dirlen)
{
	char own[PATH_MAX];
	FILE *f;
	int err;

	f = fopen("/proc/self/cgroup", "re");
	if (!f) {
		err = -errno;
		pr_err("cannot read /proc/self/cgroup: %s", strerror(errno));
		return err;
	}
	err = cgroup_parse_proc(f, own, sizeof(own));
	fclose(f);
	if (err) {
		pr_err("this process is in no cgroup v2 hierarchy (no \"0::\" line in /proc/self/cgroup); egressd needs cgroup v2 (kernel 4.5+, mounted)");
		return err;
	}
	f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		err = -errno;
		pr_err("cannot read /proc/self/mountinfo: %s", strerror(errno));
		return err;
	}
	err = cgroup_parse_mountinfo(f, own, mnt, mntlen, dir, dirlen);
	fclose(f);
	if (err == -ENOENT)
		pr_err("no cgroup2 filesystem is mounted here (looked in /proc/self/mountinfo for cgroup %s); mount it with: mount -t cgroup2 cgroup2 /sys/fs/cgroup  (inside 'ip netns exec', which hides it, do that first)",
		       own);
	else if (err)
		pr_err("cgroup path too long: %s", own);
	return err;
}

/* Could this uid/these groups write dir/cgroup.procs (by its mode bits)? */
static bool procs_writable_by(const char *dir, uid_t uid, const gid_t *groups, int ngroups)
{
	char path[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= sizeof(path) ||
	    stat(path, &st))
		return true; /* cannot tell: assume the worst */
	if (st.st_mode & S_IWOTH)
		return true;
	if (st.st_uid == uid && (st.st_mode & S_IWUSR))
		return true;
	for (int i = 0; i < ngroups; i++) {
		if (st.st_gid == groups[i] && (st.st_mode & S_IWGRP))
			return true;
	}
	return false;
}

int cgroup_safe_parent(const char *mnt, const char *dir, uid_t uid, const gid_t *groups, int ngroups,
		       char *out, size_t len, char *bad, size_t badlen)
{
	size_t mlen = strlen(mnt);
	char cur[PATH_MAX];
	struct stat st;
	const char *p;

	/* "" unless a level is writable (or missing), as cgroup.h promises. */
	if (badlen)
		bad[0] = '\0';
	if (strncmp(dir, mnt, mlen) != 0 || (dir[mlen] && dir[mlen] != '/'))
		return -EINVAL;
	if ((size_t)snprintf(cur, sizeof(cur), "%s", mnt) >= sizeof(cur))
		return -ENAMETOOLONG;
	if (procs_writable_by(cur, uid, groups, ngroups)) {
		snprintf(bad, badlen, "%s", cur);
		return -EPERM;
	}
	/* Walk down; the first writable level ends the safe chain. */
	for (p = dir + mlen; *p == '/'; ) {
		size_t n = strcspn(p + 1, "/");
		char next[PATH_MAX];

		if (n == 0)
			break;
		if ((size_t)snprintf(next, sizeof(next), "%s/%.*s", cur, (int)n, p + 1) >= sizeof(next))
			return -ENAMETOOLONG;
		/* Not "writable" (what procs_writable_by assumes): missing. */
		if (stat(next, &st) && errno == ENOENT) {
			snprintf(bad, badlen, "%s", next);
			return -ENOENT;
		}
		if (procs_writable_by(next, uid, groups, ngroups)) {
			snprintf(bad, badlen, "%s", next);
			break;
		}
		memcpy(cur, next, sizeof(cur));
		p += n + 1;
	}
	if ((size_t)snprintf(out, len, "%s", cur) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int cgroup_create_child(const char *parent, char *out, size_t len)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/" CGROUP_CHILD_PREFIX "%d", parent, (int)getpid()) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0755)) {
		int err = -errno;

		pr_err("cannot create cgroup %s: %s", path, strerror(errno));
		return err;
	}
	if ((size_t)snprintf(out, len, "%s", path) >= len) {
		rmdir(path);
		return -ENAMETOOLONG;
	}
	return 0;
}

int cgroup_enter(const char *dir, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	return file_write_text(dir, "cgroup.procs", buf);
}

/* Calls fn(pid) for each process in dir; returns how many, or -errno. */
static int for_each_proc(const char *dir, pid_t except, void (*fn)(pid_t))
{
	char path[PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		pid_t pid = (pid_t)strtol(line, NULL, 10);

		if (pid <= 0 || pid == except)
			continue;
		n++;
		if (fn)
			fn(pid);
	}
	free(line);
	fclose(f);
	return n;
}

/*
 * Calls fn(pid) for each process in dir and every cgroup below it (a
 * --user root workload, or a delegated --cgroup PATH, can make child
 * cgroups, and nothing may hide there); returns how many, or -errno.
 */
static int for_each_proc_tree(const char *dir, pid_t except, void (*fn)(pid_t))
{
	struct dirent *de;
	int n, sub;
	DIR *d;

	n = for_each_proc(dir, except, fn);
	if (n < 0)
		return n;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path)) {
			n = -ENAMETOOLONG;
			break;
		}
		sub = for_each_proc_tree(path, except, fn);
		if (sub < 0) {
			n = sub;
			break;
		}
		n += sub;
	}
	closedir(d);
	return n;
}

int cgroup_count_procs(const char *dir, pid_t except)
{
	return for_each_proc_tree(dir, except, NULL);
}

static void kill_one(pid_t pid)
{
	kill(pid, SIGKILL);
}

int cgroup_kill_tree(const char *dir)
{
	return for_each_proc_tree(dir, 0, kill_one);
}

int cgroup_fd_has_pid(int dirfd, pid_t pid)
{
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC), ret = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "re");
	if (!f) {
		ret = -errno;
		close(fd);
		return ret;
	}
	while (getline(&line, &cap, f) > 0) {
		if (strtol(line, NULL, 10) == (long)pid) {
			ret = 1;
			break;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

int cgroup_populated(const char *dir)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.events", dir) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "populated ", 10) == 0) {
			ret = line[10] != '0';
			break;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

int cgroup_kill_all(const char *dir, int timeout_ms)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int waited = 0, n, pop;

	for (;;) {
		/*
		 * cgroup.kill (5.14+) kills the whole subtree at once, forks
		 * racing it included.  Without it, sweep every cgroup.procs
		 * below dir; a fork, or a move between child cgroups, that
		 * races a sweep is caught by the next pass.  Both are
		 * repeated on every pass: nothing may be missed.
		 */
		if (file_write_text(dir, "cgroup.kill", "1"))
			cgroup_kill_tree(dir);
		/*
		 * Empty means empty everywhere below: no process in any
		 * cgroup.procs of the subtree, and the kernel's "populated"
		 * for the subtree is 0, which a process moving between child
		 * cgroups cannot dodge the way it could dodge a walk.
		 * (Zombies count for neither.)
		 */
		n = cgroup_count_procs(dir, 0);
		pop = cgroup_populated(dir);
		if (n == 0 && pop <= 0)
			return 0;
		/* A walk error may be a child cgroup removed under it: retry, unless dir is gone. */
		if (n < 0 && access(dir, F_OK))
			return n;
		if (waited >= timeout_ms)
			return n < 0 ? n : -ETIMEDOUT;
		nanosleep(&ts, NULL);
		waited += 5;
	}
}

int cgroup_remove(const char *dir)
{
	struct dirent *de;
	int ret = 0;
	DIR *d;

	/* Children first: rmdir of a cgroup that has any fails with EBUSY. */
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && !ret) {
		char path[PATH_MAX];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			ret = -ENAMETOOLONG;
		else
			ret = cgroup_remove(path);
	}
	closedir(d);
	if (!ret && rmdir(dir))
		ret = -errno;
	if (ret)
		errno = -ret;
	return ret;
}

void cgroup_reap_stale(const char *parent)
{
	size_t plen = strlen(CGROUP_CHILD_PREFIX);
	struct dirent *de;
	DIR *d = opendir(parent);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX], proc[64], *end;
		long owner;

		if (de->d_type != DT_DIR || strncmp(de->d_name, CGROUP_CHILD_PREFIX, plen) != 0)
			continue;
		errno = 0;
		owner = strtol(de->d_name + plen, &end, 10);
		if (errno || *end || owner <= 0)
			continue;
		snprintf(proc, sizeof(proc), "/proc/%ld", owner);
		/* Its egressd is alive, unless the pid is now ours (reused). */
		if (owner != (long)getpid() && access(proc, F_OK) == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", parent, de->d_name) >= sizeof(path))
			continue;
		if (cgroup_count_procs(path, 0) != 0)
			continue;
		if (cgroup_remove(path) == 0)
			pr_debug("removed stale cgroup %s", path);
	}
	closedir(d);
}
