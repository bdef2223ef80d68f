// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/floor.c: attach the floor (bench/noop.bpf.o, an empty
 * cgroup_skb/egress program) to a cgroup for as long as this runs.
 *
 *   floor NOOP.bpf.o CGROUP_DIR SECONDS
 *
 * Attached through a bpf_link, so the program goes away with this process
 * however it ends (no pin, nothing to clean up).  Prints "attached ID"
 * (the program id, for bpf_stats) once in place; detaches and exits after
 * SECONDS or on SIGTERM/SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchutil.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info = {};
	__u32 infolen = sizeof(info);
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct bpf_link *link = NULL;
	int cgfd = -1, ret = 1;
	double end;
	long secs;

	if (argc != 4 || bench_parse_long(argv[3], 1, 86400, &secs)) {
		fprintf(stderr, "usage: floor NOOP.bpf.o CGROUP_DIR SECONDS (1..86400)\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	cgfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		fprintf(stderr, "floor: cannot open cgroup %s: %s\n", argv[2], strerror(errno));
		goto out;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "floor: cannot load %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	prog = bpf_object__next_program(obj, NULL);
	link = prog ? bpf_program__attach_cgroup(prog, cgfd) : NULL;
	if (!link) {
		fprintf(stderr, "floor: cannot attach to %s: %s\n", argv[2], strerror(errno));
		goto out;
	}
	bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &infolen);
	printf("attached %u\n", info.id);
	fflush(stdout);
	end = bench_now() + (double)secs;
	while (!stop && bench_now() < end)
		usleep(50000);
	ret = 0;
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
	if (cgfd >= 0)
		close(cgfd);
	return ret;
}
