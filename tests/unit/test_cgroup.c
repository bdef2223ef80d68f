// SPDX-License-Identifier: GPL-2.0-only
/*
 * user/cgroup.c without cgroupfs or root:
 * - the parsers: /proc/self/mountinfo (unified and hybrid layouts, bind
 *   mounts of a subtree, octal escapes, malformed lines) and
 *   /proc/PID/cgroup (v1 and v2 lines, "0::/", deleted cgroups);
 * - cgroup_safe_parent() over a fake tree whose cgroup.procs modes say
 *   who may write them;
 * - the subtree walks teardown relies on, against a fake tree of plain
 *   directories: counting and killing reach processes in every child
 *   cgroup, "populated" is read from cgroup.events, and removal goes
 *   deepest first.  The processes killed are the test's own forked
 *   sleepers.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"

#define NSLEEPERS 3

struct fixture {
	char root[64];
	pid_t sleepers[NSLEEPERS];
};

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void put_pid(const char *dir, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	put_file(dir, "cgroup.procs", buf);
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

/*
 * root/           cgroup.procs: sleeper 0
 * root/sub/       cgroup.procs: sleeper 1
 * root/sub/deeper cgroup.procs: sleeper 2
 * root/empty/     cgroup.procs: (none)
 */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[PATH_MAX];

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/egressd-test-cgroup.XXXXXX");
	if (!mkdtemp(f->root)) {
		free(f);
		return -1;
	}
	for (int i = 0; i < NSLEEPERS; i++)
		f->sleepers[i] = spawn_sleeper();
	put_pid(f->root, f->sleepers[0]);
	snprintf(path, sizeof(path), "%s/sub", f->root);
	mkdir(path, 0755);
	put_pid(path, f->sleepers[1]);
	snprintf(path, sizeof(path), "%s/sub/deeper", f->root);
	mkdir(path, 0755);
	put_pid(path, f->sleepers[2]);
	snprintf(path, sizeof(path), "%s/empty", f->root);
	mkdir(path, 0755);
	put_file(path, "cgroup.procs", "");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	for (int i = 0; i < NSLEEPERS; i++) {
		if (f->sleepers[i] > 0) {
			kill(f->sleepers[i], SIGKILL);
			waitpid(f->sleepers[i], NULL, 0);
		}
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->root);
	free(f);
	return 0;
}

static void test_count_whole_subtree(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];

	assert_int_equal(cgroup_count_procs(f->root, 0), 3);
	assert_int_equal(cgroup_count_procs(f->root, f->sleepers[2]), 2);
	snprintf(path, sizeof(path), "%s/sub", f->root);
	assert_int_equal(cgroup_count_procs(path, 0), 2);
	snprintf(path, sizeof(path), "%s/empty", f->root);
	assert_int_equal(cgroup_count_procs(path, 0), 0);
}

/* The sweep for kernels without cgroup.kill reaches every child cgroup. */
static void test_kill_tree(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cgroup_kill_tree(f->root), 3);
	for (int i = 0; i < NSLEEPERS; i++) {
		int st;

		assert_int_equal(waitpid(f->sleepers[i], &st, 0), f->sleepers[i]);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGKILL);
		f->sleepers[i] = 0;
	}
}

static void test_kill_tree_missing(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/no-such-cgroup", f->root);
	assert_int_equal(cgroup_kill_tree(path), -ENOENT);
}

static void test_populated(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cgroup_populated(f->root), -ENOENT);
	put_file(f->root, "cgroup.events", "populated 1\nfrozen 0\n");
	assert_int_equal(cgroup_populated(f->root), 1);
	put_file(f->root, "cgroup.events", "populated 0\nfrozen 0\n");
	assert_int_equal(cgroup_populated(f->root), 0);
	put_file(f->root, "cgroup.events", "frozen 0\n");
	assert_int_equal(cgroup_populated(f->root), -ENOENT);
}

/* Deepest first: every level is empty by the time it is removed. */
static void test_remove_bottom_up(void **state)
{
	struct fixture *f = *state;
	static const char *const dirs[] = { "tree", "tree/a", "tree/a/b", "tree/a/b/c", "tree/d" };
	char top[PATH_MAX], path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->root, dirs[i]);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	snprintf(top, sizeof(top), "%s/tree", f->root);
	assert_int_equal(cgroup_remove(top), 0);
	assert_int_equal(stat(top, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(cgroup_remove(top), -ENOENT);
	assert_int_equal(errno, ENOENT);
}

/* ---- cgroup_parse_mountinfo() ---------------------------------------- */

#define MI_V1(id, point, ctl)                                                         \
	id " 26 0:" id " / /sys/fs/cgroup/" point " rw,nosuid,nodev,noexec,relatime " \
	   "shared:" id " - cgroup cgroup rw," ctl "\n"

static const char mi_unified[] =
	"22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
	"23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
	"25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n";

/* systemd's "hybrid": v1 controllers, cgroup2 at /sys/fs/cgroup/unified. */
static const char mi_hybrid[] =
	"22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	"26 22 0:24 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
	"27 26 0:25 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - "
	"cgroup2 cgroup2 rw,nsdelegate\n"
	MI_V1("28", "systemd", "xattr,name=systemd")
	MI_V1("31", "memory", "memory")
	MI_V1("32", "cpu,cpuacct", "cpu,cpuacct");

static int parse_mi(const char *text, const char *own, char *mnt, size_t mntlen, char *dir,
		    size_t dirlen)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	assert_non_null(f);
	ret = cgroup_parse_mountinfo(f, own, mnt, mntlen, dir, dirlen);
	fclose(f);
	return ret;
}

static void expect_mi(const char *text, const char *own, const char *want_mnt,
		      const char *want_dir)
{
	char mnt[PATH_MAX], dir[PATH_MAX];

	assert_int_equal(parse_mi(text, own, mnt, sizeof(mnt), dir, sizeof(dir)), 0);
	assert_string_equal(mnt, want_mnt);
	assert_string_equal(dir, want_dir);
}

static void expect_mi_err(const char *text, const char *own, int err)
{
	char mnt[PATH_MAX] = "untouched", dir[PATH_MAX];

	assert_int_equal(parse_mi(text, own, mnt, sizeof(mnt), dir, sizeof(dir)), err);
}

static void test_mountinfo_unified(void **state)
{
	(void)state;
	expect_mi(mi_unified, "/user.slice/user-1000.slice/session-2.scope", "/sys/fs/cgroup",
		  "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope");
	/* The root cgroup is the mount itself, with no trailing "/". */
	expect_mi(mi_unified, "/", "/sys/fs/cgroup", "/sys/fs/cgroup");
}

static void test_mountinfo_hybrid(void **state)
{
	(void)state;
	expect_mi(mi_hybrid, "/system.slice/ssh.service", "/sys/fs/cgroup/unified",
		  "/sys/fs/cgroup/unified/system.slice/ssh.service");
	/* v1 hierarchies alone are no cgroup2. */
	expect_mi_err(MI_V1("28", "systemd", "xattr,name=systemd") MI_V1("31", "memory", "memory"),
		      "/", -ENOENT);
}

/* With several cgroup2 mounts, /sys/fs/cgroup wins, wherever it is listed. */
static void test_mountinfo_prefers_std(void **state)
{
	static const char other[] = "40 22 0:23 / /tmp/cg rw shared:20 - cgroup2 cgroup2 rw\n";
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "%s%s", other, mi_unified);
	expect_mi(text, "/a", "/sys/fs/cgroup", "/sys/fs/cgroup/a");
	snprintf(text, sizeof(text), "%s%s", mi_unified, other);
	expect_mi(text, "/a", "/sys/fs/cgroup", "/sys/fs/cgroup/a");
	/* Without it, the last listed (the latest mount) that contains it. */
	snprintf(text, sizeof(text), "%s%s", other,
		 "41 22 0:23 / /run/cg2 rw shared:21 - cgroup2 cgroup2 rw\n");
	expect_mi(text, "/a", "/run/cg2", "/run/cg2/a");
}

/* A container sees a bind mount of its own subtree (the "root" field). */
static void test_mountinfo_bind_subtree(void **state)
{
	static const char mi[] =
		"500 400 0:23 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n";

	(void)state;
	expect_mi(mi, "/docker/abc", "/sys/fs/cgroup", "/sys/fs/cgroup");
	expect_mi(mi, "/docker/abc/sub", "/sys/fs/cgroup", "/sys/fs/cgroup/sub");
	/* Not below the mount's root: not reachable through it. */
	expect_mi_err(mi, "/docker/abcd", -ENOENT);
	expect_mi_err(mi, "/docker", -ENOENT);
	expect_mi_err(mi, "/", -ENOENT);
}

/* Spaces, tabs and backslashes in a path are \ooo in mountinfo. */
static void test_mountinfo_escapes(void **state)
{
	static const char mi[] =
		"40 22 0:23 / /mnt/my\\040cgroup\\011x rw shared:20 - cgroup2 cgroup2 rw\n"
		"41 22 0:23 /a\\040b /srv/c\\134g rw shared:21 - cgroup2 cgroup2 rw\n";

	(void)state;
	expect_mi(mi, "/x", "/mnt/my cgroup\tx", "/mnt/my cgroup\tx/x");
	/* The first mount contains every cgroup; list the bind mount alone. */
	expect_mi(strchr(mi, '\n') + 1, "/a b/c", "/srv/c\\g", "/srv/c\\g/c");
}

static void test_mountinfo_malformed(void **state)
{
	static const char bad[] =
		"\n"
		"garbage\n"
		"25 30 0:23 - cgroup2 cgroup2 rw\n"		/* too few fields */
		"25 30 0:23 / /sys/fs/cgroup rw cgroup2 cgroup2 rw\n" /* no " - " */
		"25 30 0:23 / /sys/fs/cgroup rw - \n"		/* no type */
		"25 30 0:23 / /sys/fs/cgroup rw - cgroup2fs x rw\n"	/* not cgroup2 */
		"25 30 0:23 / /sys/fs/cgroup rw - cgroup x rw\n";
	char text[1024], mnt[16], dir[PATH_MAX];

	(void)state;
	expect_mi_err("", "/", -ENOENT);
	expect_mi_err(bad, "/", -ENOENT);
	/* Bad lines are skipped, not fatal: a good one after them counts. */
	snprintf(text, sizeof(text), "%s%s", bad, "26 30 0:23 / /cg rw - cgroup2 cgroup2 rw");
	expect_mi(text, "/a", "/cg", "/cg/a");
	/* Too long for the caller's buffers. */
	assert_int_equal(parse_mi(mi_unified, "/a", mnt, 8, dir, sizeof(dir)), -ENAMETOOLONG);
	assert_int_equal(parse_mi(mi_unified, "/a", mnt, sizeof(mnt), dir, 16), -ENAMETOOLONG);
}

/* ---- cgroup_parse_proc() --------------------------------------------- */

static int parse_proc(const char *text, char *path, size_t len)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	assert_non_null(f);
	ret = cgroup_parse_proc(f, path, len);
	fclose(f);
	return ret;
}

static void test_proc_cgroup(void **state)
{
	char path[PATH_MAX];

	(void)state;
	/* Hybrid: v1 lines first, the "0::" line anywhere. */
	assert_int_equal(parse_proc("12:memory:/user.slice\n"
				    "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
				    "0::/user.slice/user-1000.slice/session-2.scope\n"
				    "3:cpu,cpuacct:/\n",
				    path, sizeof(path)),
			 0);
	assert_string_equal(path, "/user.slice/user-1000.slice/session-2.scope");
	assert_int_equal(parse_proc("0::/\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/");
	/* No newline at the end of the file. */
	assert_int_equal(parse_proc("0::/a/b", path, sizeof(path)), 0);
	assert_string_equal(path, "/a/b");
	/* "10::" is not "0::". */
	assert_int_equal(parse_proc("10::/x\n0::/y\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/y");
	/*
	 * A removed cgroup keeps its " (deleted)" suffix: the directory it
	 * names does not exist, so what uses it next fails with ENOENT.
	 */
	assert_int_equal(parse_proc("0::/gone (deleted)\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/gone (deleted)");
	/* v1 only, or nothing: no cgroup2. */
	assert_int_equal(parse_proc("12:memory:/\n1:name=systemd:/\n", path, sizeof(path)), -ENOENT);
	assert_int_equal(parse_proc("", path, sizeof(path)), -ENOENT);
	assert_int_equal(parse_proc("0::/abcdefgh\n", path, 8), -ENAMETOOLONG);
}

/* ---- cgroup_safe_parent() -------------------------------------------- */

struct tree {
	char root[64]; /* stands in for the mount: root/a/b/c below it */
	uid_t other;   /* a uid that owns none of the files */
};

static void set_mode(const struct tree *t, const char *sub, mode_t mode)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s/cgroup.procs", t->root, sub);
	assert_int_equal(chmod(path, mode), 0);
}

/* Every level readable by all, writable by the test's own uid only. */
static int tree_setup(void **state)
{
	static const char *const subs[] = { "", "/a", "/a/b", "/a/b/c" };
	struct tree *t = calloc(1, sizeof(*t));
	char path[PATH_MAX];

	if (!t)
		return -1;
	snprintf(t->root, sizeof(t->root), "/tmp/egressd-test-cgroup.XXXXXX");
	if (!mkdtemp(t->root)) {
		free(t);
		return -1;
	}
	t->other = getuid() + 4242;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", t->root, subs[i]);
		if (i && mkdir(path, 0755))
			return -1;
		put_file(path, "cgroup.procs", "");
		set_mode(t, subs[i], 0644);
	}
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->root);
	free(t);
	return 0;
}

static int safe_parent(const struct tree *t, const char *sub, uid_t uid, const gid_t *groups,
		       int ngroups, char *out, char *bad)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s%s", t->root, sub);
	return cgroup_safe_parent(t->root, dir, uid, groups, ngroups, out, PATH_MAX, bad, PATH_MAX);
}

static void expect_path(const char *got, const struct tree *t, const char *sub)
{
	char want[PATH_MAX];

	snprintf(want, sizeof(want), "%s%s", t->root, sub);
	assert_string_equal(got, want);
}

/* Nothing on the way is writable: the cgroup itself is the parent. */
static void test_safe_parent_all_safe(void **state)
{
	struct tree *t = *state;
	char out[PATH_MAX], bad[PATH_MAX] = "stale";

	assert_int_equal(safe_parent(t, "/a/b/c", t->other, NULL, 0, out, bad), 0);
	expect_path(out, t, "/a/b/c");
	assert_string_equal(bad, "");
	assert_int_equal(safe_parent(t, "", t->other, NULL, 0, out, bad), 0);
	expect_path(out, t, "");
}

/*
 * A delegated level (systemd's user@UID.service) and everything under it
 * is skipped, whether the uid owns it, a group of its may write it, or
 * anyone may.
 */
static void test_safe_parent_delegated(void **state)
{
	struct tree *t = *state;
	char out[PATH_MAX], bad[PATH_MAX];
	gid_t groups[] = { 12345, getgid() };

	assert_int_equal(safe_parent(t, "/a/b/c", getuid(), NULL, 0, out, bad), -EPERM);
	expect_path(bad, t, "");

	set_mode(t, "", 0444);
	set_mode(t, "/a", 0444);
	set_mode(t, "/a/b", 0644); /* the test's uid owns it */
	set_mode(t, "/a/b/c", 0444);
	assert_int_equal(safe_parent(t, "/a/b/c", getuid(), NULL, 0, out, bad), 0);
	expect_path(out, t, "/a");
	expect_path(bad, t, "/a/b");

	set_mode(t, "/a/b", 0464);
	assert_int_equal(safe_parent(t, "/a/b/c", t->other, groups, 1, out, bad), 0);
	expect_path(out, t, "/a/b/c");
	assert_int_equal(safe_parent(t, "/a/b/c", t->other, groups, 2, out, bad), 0);
	expect_path(out, t, "/a");
	expect_path(bad, t, "/a/b");

	set_mode(t, "/a/b", 0446);
	assert_int_equal(safe_parent(t, "/a/b/c", t->other, NULL, 0, out, bad), 0);
	expect_path(out, t, "/a");
	expect_path(bad, t, "/a/b");

	/* The first writable level ends the chain, safe ones below or not. */
	set_mode(t, "/a", 0446);
	assert_int_equal(safe_parent(t, "/a/b/c", t->other, NULL, 0, out, bad), 0);
	expect_path(out, t, "");
	expect_path(bad, t, "/a");
}

/* Everything writable, the mount root included: no safe parent at all. */
static void test_safe_parent_all_writable(void **state)
{
	struct tree *t = *state;
	char out[PATH_MAX] = "untouched", bad[PATH_MAX];

	set_mode(t, "", 0666);
	set_mode(t, "/a", 0666);
	set_mode(t, "/a/b", 0666);
	set_mode(t, "/a/b/c", 0666);
	assert_int_equal(safe_parent(t, "/a/b/c", t->other, NULL, 0, out, bad), -EPERM);
	expect_path(bad, t, "");
	assert_string_equal(out, "untouched");
}

/* A cgroup.procs that cannot be read counts as writable: assume the worst. */
static void test_safe_parent_unknown(void **state)
{
	struct tree *t = *state;
	char out[PATH_MAX], bad[PATH_MAX], path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/a/b/cgroup.procs", t->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(safe_parent(t, "/a/b/c", t->other, NULL, 0, out, bad), 0);
	expect_path(out, t, "/a");
	expect_path(bad, t, "/a/b");
}

static void test_safe_parent_bad_paths(void **state)
{
	struct tree *t = *state;
	char out[PATH_MAX], bad[PATH_MAX], dir[PATH_MAX];

	/* Not under the mount, or only a string prefix of it. */
	assert_int_equal(cgroup_safe_parent(t->root, "/elsewhere", t->other, NULL, 0, out,
					    sizeof(out), bad, sizeof(bad)),
			 -EINVAL);
	snprintf(dir, sizeof(dir), "%sx/a", t->root);
	assert_int_equal(cgroup_safe_parent(t->root, dir, t->other, NULL, 0, out, sizeof(out), bad,
					    sizeof(bad)),
			 -EINVAL);
	/* A cgroup on the way that does not exist is named. */
	assert_int_equal(safe_parent(t, "/a/gone/c", t->other, NULL, 0, out, bad), -ENOENT);
	expect_path(bad, t, "/a/gone");
	/* Too long for the caller's buffer. */
	snprintf(dir, sizeof(dir), "%s/a", t->root);
	assert_int_equal(cgroup_safe_parent(t->root, dir, t->other, NULL, 0, out, 8, bad,
					    sizeof(bad)),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_count_whole_subtree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_tree_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_populated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_bottom_up, setup, teardown),
		cmocka_unit_test(test_mountinfo_unified),
		cmocka_unit_test(test_mountinfo_hybrid),
		cmocka_unit_test(test_mountinfo_prefers_std),
		cmocka_unit_test(test_mountinfo_bind_subtree),
		cmocka_unit_test(test_mountinfo_escapes),
		cmocka_unit_test(test_mountinfo_malformed),
		cmocka_unit_test(test_proc_cgroup),
		cmocka_unit_test_setup_teardown(test_safe_parent_all_safe, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_safe_parent_delegated, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_safe_parent_all_writable, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_safe_parent_unknown, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_safe_parent_bad_paths, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
