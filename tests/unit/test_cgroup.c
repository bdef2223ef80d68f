// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cgroup subtree walks teardown relies on, run against a fake tree of
 * plain directories (no cgroupfs, no root): counting and killing reach
 * processes in every child cgroup, "populated" is read from cgroup.events,
 * and removal goes deepest first.  The processes killed are the test's own
 * forked sleepers.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_count_whole_subtree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_tree_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_populated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_bottom_up, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
