// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every rodata combination the loader can set must pass the verifier: the
 * switches in bpf/egress.bpf.c prune code at load time, so a combination
 * nobody loaded is a program nobody verified (an older kernel's path, audit
 * with events off, ...).  This loads egress.bpf.o through its skeleton with
 * each combination of switches[] below (load only, nothing is attached) and
 * prints how many loaded and the slowest load.
 *
 *   test_rodata            the full cross product of switches[], or, past
 *                          FULL_MAX combinations, the reduced set below
 *   test_rodata -f         the full cross product whatever its size
 *   test_rodata -j N       N loader processes (default: online CPUs)
 *   RODATA_PROGRESS=1      a progress line every 50 loads per process
 *
 * A new switch is one line in switches[]: BOOL(name) for a bool, COUNT(n,
 * array) for a count of array entries (tried at 0, 1 and the array's size).
 * Each load takes 20-500 ms, so the full product must stay within the BPF
 * layer's 300 s: 2^8 booleans x 3 x 3 counts = 2304 loads take about a
 * minute on two CPUs.  Past FULL_MAX the test loads, for each group of
 * switches (the first eight booleans, the later six, the two counts),
 * every combination of that group with each other group all at its first
 * or all at its last value: 2^8 x 4 + 2^6 x 4 + 9 x 4, less overlaps,
 * about 1,300 loads of 147,456; and says so.
 * Controls: a broken object (a map sized 0) must be reported as a failed
 * load, and the all-off and all-on combinations must give the packet
 * program different translated lengths (the switches reach the verifier).
 *
 * Prints "ok"/"not ok" lines.  Exit 0 all passed, 1 a check failed, 2 setup
 * error, 77 not root.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "egress.skel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

typedef struct egress_bpf__rodata rodata_t;

struct rodata_switch {
	const char *name;
	size_t off, size;
	unsigned int values[3];
	unsigned int nvalues;
	unsigned int group; /* for the reduced set: see selected() */
};

#define RO_FIELD(f) #f, offsetof(rodata_t, f), sizeof(((rodata_t *)0)->f)
#define BOOL_G(f, g) { RO_FIELD(f), { 0, 1 }, 2, g }
#define BOOL(f) BOOL_G(f, 0)
#define COUNT(f, arr) { RO_FIELD(f), { 0, 1, ARRAY_SIZE(((rodata_t *)0)->arr) }, 3, NGROUPS - 1 }
#define NGROUPS 3

/* The switches loader_load() sets (user/loader.c). */
static const struct rodata_switch switches[] = {
	BOOL(audit_mode),
	BOOL(emit_events),
	BOOL(task_helpers),
	BOOL(check_source),
	BOOL(loopback_restricted),
	BOOL(dns_proxy),
	BOOL(learning),
	BOOL(verdict_cache),
	/* Group 1: the hash front's, the seed's and the tests' switches. */
	BOOL_G(seed_verdicts, 1),
	BOOL_G(exact_v4_used, 1),
	BOOL_G(exact_v6_used, 1),
	BOOL_G(prefix_v4_used, 1),
	BOOL_G(prefix_v6_used, 1),
	BOOL_G(copy_headers, 1),
	COUNT(nresolver_ports, resolver_ports),
	COUNT(nloopback_ports, loopback_ports),
};

/* What a worker sends back: one per worker. */
struct result {
	unsigned long loaded, failed;
	double slowest_ms;
	unsigned long slowest;
};

#ifndef FULL_MAX
#define FULL_MAX 3000
#endif

static bool verbose;
static bool full; /* every combination, or the reduced set (see the top) */

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static unsigned long ncombos(void)
{
	unsigned long n = 1;

	for (size_t i = 0; i < ARRAY_SIZE(switches); i++)
		n *= switches[i].nvalues;
	return n;
}

/* Combination idx: a mixed-radix number, one digit per switch. */
static unsigned int digit_of(unsigned long idx, size_t sw)
{
	for (size_t i = 0; i < sw; i++)
		idx /= switches[i].nvalues;
	return idx % switches[sw].nvalues;
}

static unsigned int value_of(unsigned long idx, size_t sw)
{
	return switches[sw].values[digit_of(idx, sw)];
}

/*
 * In the reduced set: every switch of one group free, every other group
 * all at its first or all at its last value (group 0: the first booleans,
 * group 1: the later ones, group NGROUPS - 1: the counts).
 */
static bool selected(unsigned long idx)
{
	bool lo[NGROUPS], hi[NGROUPS];
	unsigned int free = 0;

	if (full)
		return true;
	for (unsigned int g = 0; g < NGROUPS; g++)
		lo[g] = hi[g] = true;
	for (size_t i = 0; i < ARRAY_SIZE(switches); i++) {
		unsigned int d = digit_of(idx, i), g = switches[i].group;

		if (d != 0)
			lo[g] = false;
		if (d != switches[i].nvalues - 1)
			hi[g] = false;
	}
	for (unsigned int g = 0; g < NGROUPS; g++)
		free += !lo[g] && !hi[g];
	return free <= 1;
}

static unsigned long nselected(void)
{
	unsigned long n = 0;

	for (unsigned long i = 0; i < ncombos(); i++)
		n += selected(i);
	return n;
}

static void describe(unsigned long idx, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(switches) && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s=%u", i ? " " : "", switches[i].name, value_of(idx, i));
}

static int set_field(rodata_t *ro, const struct rodata_switch *sw, unsigned int v)
{
	char *p = (char *)ro + sw->off;

	switch (sw->size) {
	case 1:
		*(bool *)p = v;
		return 0;
	case 2:
		*(__u16 *)p = (__u16)v;
		return 0;
	case 4:
		*(__u32 *)p = v;
		return 0;
	}
	fprintf(stderr, "test_rodata: switch %s has a %zu-byte type; add it to set_field()\n", sw->name,
		sw->size);
	return -EINVAL;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Open, set combination idx, load.  broken: size a map 0 (the control).
 * xlated: the packet program's translated length, when not NULL.
 * Returns 0 or the load's -errno; -EINVAL + message for a setup error.
 */
static int load_one(unsigned long idx, bool broken, double *ms, __u32 *xlated)
{
	struct egress_bpf *s;
	double t0;
	int err;

	s = egress_bpf__open();
	if (!s)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(s->rodata->resolver_ports); i++)
		s->rodata->resolver_ports[i] = (__u16)(53 + i);
	for (size_t i = 0; i < ARRAY_SIZE(s->rodata->loopback_ports); i++)
		s->rodata->loopback_ports[i] = (__u16)(8000 + i);
	s->rodata->proxy_port = 5353;
	for (size_t i = 0; i < ARRAY_SIZE(switches); i++) {
		err = set_field(s->rodata, &switches[i], value_of(idx, i));
		if (err)
			goto out;
	}
	/* As loader_load(): the proxy's programs load only in proxy mode. */
	if (!s->rodata->dns_proxy) {
		bpf_program__set_autoload(s->progs.egress_recvmsg4, false);
		bpf_program__set_autoload(s->progs.egress_recvmsg6, false);
		bpf_program__set_autoload(s->progs.egress_getpeername4, false);
		bpf_program__set_autoload(s->progs.egress_getpeername6, false);
	}
	if (broken && (err = bpf_map__set_max_entries(s->maps.allow_v4, 0)))
		goto out;
	t0 = now_ms();
	err = egress_bpf__load(s);
	*ms = now_ms() - t0;
	if (!err && xlated) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		err = bpf_obj_get_info_by_fd(bpf_program__fd(s->progs.egress_skb), &info, &len);
		*xlated = info.xlated_prog_len;
	}
out:
	egress_bpf__destroy(s);
	return err;
}

/* Worker w of nw: combinations w, w + nw, ...; failures printed here. */
static struct result run_worker(unsigned int w, unsigned int nw)
{
	struct result r = { 0 };
	unsigned long n = ncombos(), k = 0;
	char desc[512];

	for (unsigned long i = 0; i < n; i++) {
		double ms = 0;
		int err;

		/* The k-th selected combination is worker k % nw's. */
		if (!selected(i) || k++ % nw != w)
			continue;
		err = load_one(i, false, &ms, NULL);

		if (err) {
			r.failed++;
			describe(i, desc, sizeof(desc));
			printf("not ok - combination %lu (%s): load failed: %s\n", i, desc, strerror(-err));
			fflush(stdout);
			/* Once more, with libbpf's warnings (the verifier log). */
			verbose = true;
			load_one(i, false, &ms, NULL);
			verbose = false;
			continue;
		}
		r.loaded++;
		if (getenv("RODATA_PROGRESS") && r.loaded % 50 == 0)
			fprintf(stderr, "# worker %u: %lu loaded, last %.1f ms\n", w, r.loaded, ms);
		if (ms > r.slowest_ms) {
			r.slowest_ms = ms;
			r.slowest = i;
		}
	}
	return r;
}

static int fails, checks;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		fails++;
	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int main(int argc, char **argv)
{
	unsigned long n = ncombos(), nsel, all_on = 0, mult = 1;
	long nw = sysconf(_SC_NPROCESSORS_ONLN);
	struct result total = { 0 };
	__u32 xl_off = 0, xl_on = 0;
	pid_t pids[64];
	int fds[64];
	char desc[512];
	double ms;
	int opt, err;

	while ((opt = getopt(argc, argv, "fj:")) != -1) {
		char *end;

		if (opt == 'f') {
			full = true;
			continue;
		}
		if (opt != 'j') {
			fprintf(stderr, "usage: test_rodata [-f] [-j N]\n");
			return 2;
		}
		errno = 0;
		nw = strtol(optarg, &end, 10);
		if (errno || *end || nw < 1 || nw > (long)ARRAY_SIZE(pids)) {
			fprintf(stderr, "test_rodata: -j %s: not a number of processes from 1 to %zu\n", optarg,
				ARRAY_SIZE(pids));
			return 2;
		}
	}
	if (nw < 1)
		nw = 1;
	if (nw > (long)ARRAY_SIZE(pids))
		nw = ARRAY_SIZE(pids);
	if (geteuid() != 0) {
		printf("SKIP: needs root (loads BPF programs)\n");
		return 77;
	}
	libbpf_set_print(print_fn);
	if (n <= FULL_MAX)
		full = true;
	nsel = nselected();

	/* The index whose every digit is its switch's last value: all on, counts at max. */
	for (size_t i = 0; i < ARRAY_SIZE(switches); i++) {
		all_on += (switches[i].nvalues - 1) * mult;
		mult *= switches[i].nvalues;
	}

	/* Controls first: a failed load is seen; the switches change the program. */
	err = load_one(0, true, &ms, NULL);
	check(err != 0, "control: a broken object (allow_v4 sized 0) fails to load (%s)",
	      err ? strerror(-err) : "it loaded");
	err = load_one(0, false, &ms, &xl_off);
	check(!err, "all switches off loads (%s)", err ? strerror(-err) : "ok");
	err = load_one(all_on, false, &ms, &xl_on);
	check(!err, "all switches on, counts at max, loads (%s)", err ? strerror(-err) : "ok");
	check(xl_off && xl_on && xl_off != xl_on,
	      "control: the rodata reaches the verifier (egress_skb: %u bytes all off, %u all on)", xl_off,
	      xl_on);

	if (full)
		printf("# all %lu combinations of %zu switches, %ld loader processes\n", n, ARRAY_SIZE(switches), nw);
	else
		printf("# %lu of %lu combinations of %zu switches (more than %d: each group of switches free with every other group all off or all on, the counts all 0 or all max; -f for all), %ld loader processes\n",
		       nsel, n, ARRAY_SIZE(switches), FULL_MAX, nw);
	fflush(stdout);
	for (long w = 0; w < nw; w++) {
		int p[2];

		if (pipe(p)) {
			perror("test_rodata: pipe");
			return 2;
		}
		pids[w] = fork();
		if (pids[w] < 0) {
			perror("test_rodata: fork");
			return 2;
		}
		if (pids[w] == 0) {
			struct result r;

			close(p[0]);
			r = run_worker((unsigned int)w, (unsigned int)nw);
			if (write(p[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
				_exit(2);
			_exit(0);
		}
		close(p[1]);
		fds[w] = p[0];
	}
	for (long w = 0; w < nw; w++) {
		struct result r;
		int status;

		if (read(fds[w], &r, sizeof(r)) != (ssize_t)sizeof(r)) {
			fprintf(stderr, "test_rodata: worker %ld died without a result\n", w);
			r.loaded = 0;
			r.failed = 1;
			r.slowest_ms = 0;
		}
		close(fds[w]);
		waitpid(pids[w], &status, 0);
		total.loaded += r.loaded;
		total.failed += r.failed;
		if (r.slowest_ms > total.slowest_ms) {
			total.slowest_ms = r.slowest_ms;
			total.slowest = r.slowest;
		}
	}
	check(total.loaded == nsel && !total.failed, "%lu of %lu combinations loaded (%lu failed)", total.loaded,
	      nsel, total.failed);
	describe(total.slowest, desc, sizeof(desc));
	printf("# slowest load: %.1f ms, combination %lu (%s)\n", total.slowest_ms, total.slowest, desc);
	printf("%d checks, %d failed\n", checks, fails);
	return fails ? 1 : 0;
}
