#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tests/run.sh all|unit|bpf|e2e|adversarial [NAME-FILTER...]
#
# Runs the test layers `make test` builds:
#   unit  build/tests/test_X for every tests/unit/test_X.c (cmocka, no root)
#   bpf   build/tests/test_X for every tests/bpf/test_X.c  (root)
#   e2e   tests/e2e/*.sh, each with bash, in sorted order  (root)
#   adversarial  tests/adversarial/*.sh but lib.sh, likewise (root): the
#         attack tests.  Each script runs many attack checks; besides the
#         per-script PASS/FAIL, the layer prints
#         "adversarial: N passed, N failed" counting the checks
#         themselves (a script that fails outside its checks counts as one
#         failed check, so the line never says 0 failed when it did not).
# Each test exits 0 = pass, 77 = skip, anything else = fail.  Output goes
# to build/test-logs/NAME.log; the log of every failure is printed.  The
# last line is "N passed, N failed, N skipped".  The exit status is non-zero
# on any failure, and also when CI=true and anything was skipped: in CI a
# test that could not run is a test that did not pass.
#
# NAME-FILTER: run only tests whose name contains one of these strings.
# Env: OUTPUT (build dir, default build), EGRESSD, PROBE, ATTACK,
# TEST_TIMEOUT (seconds per test, overrides the per-layer default),
# LAB_KEEP=1.

set -u

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 2

OUT=${OUTPUT:-build}
case $OUT in /*) ;; *) OUT=$REPO/$OUT ;; esac
LOGS=$OUT/test-logs
export EGRESSD=${EGRESSD:-$OUT/egressd}
export PROBE=${PROBE:-$OUT/tests/probe}
export ATTACK=${ATTACK:-$OUT/tests/attack}

usage()
{
	echo "usage: tests/run.sh all|unit|bpf|e2e|adversarial [NAME-FILTER...]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
LAYER=$1
shift
FILTERS=("$@")
case $LAYER in all | unit | bpf | e2e | adversarial) ;; *) usage ;; esac

mkdir -p "$LOGS" || exit 2

PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=()
SKIPPED_NAMES=()
IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
# The outcome of the last run_test/skip_test: pass, fail, skip or "" (not
# selected).
LAST=
ADV_RAN=0
ADV_PASSED=0
ADV_FAILED=0
ADV_SKIPPED=0

selected()
{
	local f

	[ ${#FILTERS[@]} -eq 0 ] && return 0
	for f in "${FILTERS[@]}"; do
		case $1 in *"$f"*) return 0 ;; esac
	done
	return 1
}

print_log()
{
	echo "----- $1 -----"
	cat "$1"
	echo "----- end of $(basename "$1") -----"
}

pass() { PASSED=$((PASSED + 1)); LAST=pass; echo "PASS $1"; }

fail()
{
	FAILED=$((FAILED + 1))
	LAST=fail
	FAILED_NAMES+=("$1")
	echo "FAIL $1 ($2)"
	print_log "$3"
}

skip()
{
	SKIPPED=$((SKIPPED + 1))
	LAST=skip
	SKIPPED_NAMES+=("$1")
	echo "SKIP $1 ($2)"
}

# The e2e rule: nothing a test made may remain.  lab.sh lists what it
# makes in $LAB_RECORD ("netns NAME" / "path PATH"); check each is gone.
# New *egress* cgroups that are empty and whose -PID owner is dead are
# leaks too.  Only what this test made is judged: other runs may be going
# on at the same time.
cgroup_dirs() { [ -n "$CG2" ] && find "$CG2" -mindepth 1 -type d -iname '*egress*' 2>/dev/null | sort; }

leftovers()
{
	local kind what pid

	while read -r kind what; do
		case $kind in
		netns) ip netns list 2>/dev/null | awk '{ print $1 }' | grep -qx -- "$what" && printf 'netns:%s ' "$what" ;;
		path) [ -e "$what" ] && printf '%s ' "$what" ;;
		esac
	done <"$LAB_RECORD"
	cgroup_dirs | comm -13 "$LOGS/.cgroups.$$" - | while read -r what; do
		[ -s "$what/cgroup.procs" ] && continue
		pid=$(basename "$what" | sed -n 's/.*-\([0-9][0-9]*\)$/\1/p')
		[ -n "$pid" ] && [ -d "/proc/$pid" ] && continue
		printf '%s ' "$what"
	done
}

# run_test NAME LAYER-TIMEOUT CMD...
run_test()
{
	local name=$1 tmo=${TEST_TIMEOUT:-$2} log=$LOGS/$1.log rc reason leaks=
	shift 2

	LAST=
	selected "$name" || return 0
	if [ "$CHECK_LEAKS" = 1 ]; then
		export LAB_RECORD=$LOGS/.lab-record.$$
		: >"$LAB_RECORD"
		cgroup_dirs >"$LOGS/.cgroups.$$"
	fi
	timeout -k 10 "$tmo" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	if [ "$CHECK_LEAKS" = 1 ]; then
		leaks=$(leftovers)
		[ -n "$leaks" ] && echo "run.sh: the test left behind: $leaks" >>"$log"
		rm -f "$LAB_RECORD" "$LOGS/.cgroups.$$"
		unset LAB_RECORD
	fi

	if [ -n "$leaks" ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; }; then
		fail "$name" "left behind: $leaks" "$log"
		return 0
	fi
	case $rc in
	0) pass "$name" ;;
	77)
		reason=$(sed -n 's/^SKIP: //p' "$log" | head -n1)
		skip "$name" "${reason:-the test exited 77 without a reason}"
		;;
	124 | 137) fail "$name" "timed out after ${tmo}s" "$log" ;;
	*) fail "$name" "exit $rc" "$log" ;;
	esac
}

# A test that cannot run at all: say why, loudly, in its log too.
skip_test()
{
	LAST=
	selected "$1" || return 0
	echo "SKIP: $2" >"$LOGS/$1.log"
	skip "$1" "$2"
}

# run_binaries DIR TIMEOUT NEEDS_ROOT: the build/tests/test_X of DIR/test_X.c
run_binaries()
{
	local dir=$1 tmo=$2 needs_root=$3 src name bin found=0

	for src in "$dir"/test_*.c; do
		[ -e "$src" ] || continue
		found=1
		name=$(basename "$src" .c)
		bin=$OUT/tests/$name
		if ! selected "$name"; then
			continue
		elif [ "$needs_root" = 1 ] && [ "$IS_ROOT" = 0 ]; then
			skip_test "$name" "needs root (BPF_PROG_TEST_RUN); run: sudo make test-bpf"
		elif [ ! -x "$bin" ]; then
			echo "run.sh: $bin was not built from $src (run: make test-bins)" >"$LOGS/$name.log"
			fail "$name" "not built" "$LOGS/$name.log"
		else
			run_test "$name" "$tmo" "$bin"
		fi
	done
	[ "$found" = 1 ] || echo "NOTE: no tests in $dir"
}

run_e2e()
{
	local script name found=0

	for script in tests/e2e/*.sh; do
		[ -e "$script" ] || continue
		found=1
		name=e2e_$(basename "$script" .sh)
		if [ "$IS_ROOT" = 0 ]; then
			skip_test "$name" "needs root (network namespaces, cgroups, BPF); run: sudo make test-e2e"
		else
			run_test "$name" 600 bash "$script"
		fi
	done
	[ "$found" = 1 ] || echo "NOTE: no tests in tests/e2e"
}

# Every script's checks append "PASS script: desc" / "FAIL script: desc"
# to $ADV_RESULTS (tests/adversarial/lib.sh); the per-check counts add up
# to the layer's summary line.
run_adversarial()
{
	local script name found=0 p f

	for script in tests/adversarial/*.sh; do
		[ -e "$script" ] || continue
		[ "$(basename "$script")" = lib.sh ] && continue
		found=1
		name=adv_$(basename "$script" .sh)
		if [ "$IS_ROOT" = 0 ]; then
			skip_test "$name" "needs root (network namespaces, cgroups, BPF); run: sudo make test-adversarial"
		else
			export ADV_RESULTS=$LOGS/.adv-results.$$
			: >"$ADV_RESULTS"
			run_test "$name" 600 bash "$script"
			p=$(grep -c '^PASS ' "$ADV_RESULTS")
			f=$(grep -c '^FAIL ' "$ADV_RESULTS")
			rm -f "$ADV_RESULTS"
			unset ADV_RESULTS
			if [ "$LAST" = fail ] && [ "$f" -eq 0 ]; then
				f=1
			fi
			ADV_PASSED=$((ADV_PASSED + p))
			ADV_FAILED=$((ADV_FAILED + f))
		fi
		[ "$LAST" = skip ] && ADV_SKIPPED=$((ADV_SKIPPED + 1))
		[ -n "$LAST" ] && ADV_RAN=1
	done
	[ "$found" = 1 ] || echo "NOTE: no tests in tests/adversarial"
}

CG2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
	     if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo)
CHECK_LEAKS=0

if [ "$LAYER" = all ] || [ "$LAYER" = unit ]; then
	run_binaries tests/unit 120 0
fi
if [ "$LAYER" = all ] || [ "$LAYER" = bpf ]; then
	run_binaries tests/bpf 300 1
fi
if [ "$LAYER" = all ] || [ "$LAYER" = e2e ]; then
	CHECK_LEAKS=$IS_ROOT
	run_e2e
	CHECK_LEAKS=0
fi
if [ "$LAYER" = all ] || [ "$LAYER" = adversarial ]; then
	CHECK_LEAKS=$IS_ROOT
	run_adversarial
	CHECK_LEAKS=0
fi

echo
[ ${#FAILED_NAMES[@]} -gt 0 ] && echo "failed: ${FAILED_NAMES[*]}"
[ ${#SKIPPED_NAMES[@]} -gt 0 ] && echo "skipped: ${SKIPPED_NAMES[*]}"
CI_SKIP_FAIL=0
if [ "${CI:-}" = true ] && [ "$SKIPPED" -gt 0 ]; then
	echo "CI=true and $SKIPPED test(s) skipped: in CI every test must run, so this run fails (see the SKIP reasons above)"
	CI_SKIP_FAIL=1
fi
if [ "$ADV_RAN" = 1 ]; then
	if [ "$ADV_SKIPPED" -gt 0 ]; then
		echo "adversarial: $ADV_PASSED passed, $ADV_FAILED failed ($ADV_SKIPPED script(s) skipped)"
	else
		echo "adversarial: $ADV_PASSED passed, $ADV_FAILED failed"
	fi
fi
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"

[ "$FAILED" -eq 0 ] && [ "$CI_SKIP_FAIL" -eq 0 ]
