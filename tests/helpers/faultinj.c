// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultinj.so: make BPF map updates (or deletes) fail, for the fault tests
 * (tests/e2e/94_fault_map_update.sh).  LD_PRELOAD it into egressd:
 * libbpf makes every bpf() call through syscall(2), so interposing
 * syscall() reaches every map update without a hook in egressd's code
 * (production has none to switch on by accident).
 *
 *   FAULTINJ_MAP=NAME   fail BPF_MAP_UPDATE_ELEM / BPF_MAP_UPDATE_BATCH on
 *                       the map called NAME (its kernel name, as bpftool
 *                       shows it; 15 characters at most); unset: no fault
 *   FAULTINJ_OP=delete  fail BPF_MAP_DELETE_ELEM on it instead
 *   FAULTINJ_SKIP=N     let the first N matching updates through (0)
 *   FAULTINJ_COUNT=N    fail this many, then let the rest through (all)
 *   FAULTINJ_ERRNO=N    the errno to fail with (ENOMEM)
 *   FAULTINJ_LOG=FILE   append one line per injected failure
 *
 * Every other syscall, and every update of another map, goes through
 * untouched.  Built by the Makefile as build/tests/faultinj.so.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef long (*syscall_fn)(long, ...);

static syscall_fn real_syscall;
static long skip, count = -1, fail_errno = ENOMEM;
static const char *map_name, *log_path;
static long want_cmd = BPF_MAP_UPDATE_ELEM;
static int ready;

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (!v || !*v)
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < 0) {
		fprintf(stderr, "faultinj: %s=%s is not a number >= 0\n", name, v);
		abort();
	}
	return n;
}

static void init(void)
{
	if (ready)
		return;
	real_syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	if (!real_syscall) {
		fprintf(stderr, "faultinj: cannot find the real syscall()\n");
		abort();
	}
	map_name = getenv("FAULTINJ_MAP");
	if (map_name && !*map_name)
		map_name = NULL;
	log_path = getenv("FAULTINJ_LOG");
	if (getenv("FAULTINJ_OP") && !strcmp(getenv("FAULTINJ_OP"), "delete"))
		want_cmd = BPF_MAP_DELETE_ELEM;
	else if (getenv("FAULTINJ_OP") && strcmp(getenv("FAULTINJ_OP"), "update")) {
		fprintf(stderr, "faultinj: FAULTINJ_OP=%s is neither update nor delete\n",
			getenv("FAULTINJ_OP"));
		abort();
	}
	skip = env_long("FAULTINJ_SKIP", 0);
	count = env_long("FAULTINJ_COUNT", -1);
	fail_errno = env_long("FAULTINJ_ERRNO", ENOMEM);
	ready = 1;
}

/* The kernel's name of the map behind fd, or "" if it cannot be read. */
static void fd_map_name(int fd, char *out, size_t len)
{
	struct bpf_map_info info;
	union bpf_attr attr;

	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (__u32)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (__u64)(unsigned long)&info;
	out[0] = '\0';
	if (real_syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) == 0)
		snprintf(out, len, "%.*s", (int)sizeof(info.name), info.name);
}

static void note(const char *cmd, const char *name)
{
	int fd;
	char line[160];
	int n;

	if (!log_path)
		return;
	n = snprintf(line, sizeof(line), "faultinj: pid %d: %s on map %s failed with errno %ld\n",
		     (int)getpid(), cmd, name, fail_errno);
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (n > 0 && write(fd, line, (size_t)n) < 0) {
		/* nothing to do: the test sees the missing line */
	}
	close(fd);
}

/* Should this bpf() call fail?  Counts the matching updates. */
static int inject(long cmd, const union bpf_attr *attr)
{
	char name[BPF_OBJ_NAME_LEN + 1];
	int fd;

	if (!map_name || !attr)
		return 0;
	if (want_cmd == BPF_MAP_DELETE_ELEM) {
		if (cmd != BPF_MAP_DELETE_ELEM)
			return 0;
		fd = (int)attr->map_fd;
	} else if (cmd == BPF_MAP_UPDATE_ELEM) {
		fd = (int)attr->map_fd;
	} else if (cmd == BPF_MAP_UPDATE_BATCH) {
		fd = (int)attr->batch.map_fd;
	} else {
		return 0;
	}
	fd_map_name(fd, name, sizeof(name));
	if (strcmp(name, map_name))
		return 0;
	if (skip > 0) {
		skip--;
		return 0;
	}
	if (count == 0)
		return 0;
	if (count > 0)
		count--;
	note(cmd == BPF_MAP_UPDATE_ELEM ? "BPF_MAP_UPDATE_ELEM" :
	     cmd == BPF_MAP_DELETE_ELEM ? "BPF_MAP_DELETE_ELEM" : "BPF_MAP_UPDATE_BATCH", name);
	return 1;
}

long syscall(long number, ...)
{
	long a[6];
	va_list ap;

	init();
	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == __NR_bpf && inject(a[0], (const union bpf_attr *)a[1])) {
		/* A batch that fails at once has done nothing: say so. */
		if (a[0] == BPF_MAP_UPDATE_BATCH)
			((union bpf_attr *)a[1])->batch.count = 0;
		errno = (int)fail_errno;
		return -1;
	}
	return real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
