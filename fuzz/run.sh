#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run libFuzzer targets for FUZZ_SECONDS each, FUZZ_JOBS at once, each from
# a scratch copy of its seed corpus (fuzz/corpus/NAME/ is never written to),
# and print one summary line per target.  Exit 1 if any target found a
# crash, a leak or a timeout (the reproducer is kept under DIR/artifacts/).
#   fuzz/run.sh BUILD_FUZZ_DIR NAME...
set -u

dir=${1:?usage: fuzz/run.sh BUILD_FUZZ_DIR NAME...}
shift
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
src=$(cd "$(dirname "$0")" && pwd)

case $secs in ''|*[!0-9]*|0) echo "fuzz: FUZZ_SECONDS=\"$secs\" is not a positive number of seconds" >&2; exit 2;; esac
case $jobs in ''|*[!0-9]*|0) echo "fuzz: FUZZ_JOBS=\"$jobs\" is not a positive number" >&2; exit 2;; esac
[ $# -gt 0 ] || { echo "fuzz: no targets (fuzz/fuzz_*.c)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/egressd-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
mkdir -p "$dir/artifacts" "$dir/logs"

# One target: prints its summary line; returns non-zero on a finding.
one() {
	local name=$1 bin="$dir/fuzz_$1" corp="$work/$1" log="$dir/logs/$1.log"
	local dict=() rc execs cov rate result

	if [ ! -x "$bin" ]; then
		printf 'fuzz %-10s FAIL: %s not built\n' "$name" "$bin"
		return 1
	fi
	if [ ! -d "$src/corpus/$name" ]; then
		printf 'fuzz %-10s FAIL: no seed corpus %s\n' "$name" "$src/corpus/$name"
		return 1
	fi
	mkdir -p "$corp"
	cp "$src/corpus/$name"/* "$corp/"
	[ -f "$src/$name.dict" ] && dict=(-dict="$src/$name.dict")
	# -close_fd_mask=3: the targets' own warnings (pr_warn) stay out of the
	# log; libFuzzer and the sanitizers keep a copy of stderr for reports.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
		-close_fd_mask=3 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$dir/artifacts/$name-" "$corp" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	if [ $rc -eq 0 ]; then
		result=ok
	else
		result="FAIL (exit $rc: $(grep -a -m1 -o -E '^fuzz: [^ ]+: (invariant broken|raw byte).*|ERROR: [A-Za-z]+: [^ ]+( [^ ]+)?|ERROR: libFuzzer: [a-z-]+' "$log" || echo see log)); log $log"
	fi
	printf 'fuzz %-10s %ss: %s execs (%s/s), cov %s, corpus %s files: %s\n' "$name" "$secs" \
		"${execs:-?}" "${rate:-?}" "${cov:-?}" "$(ls "$corp" | wc -l)" "$result"
	[ $rc -eq 0 ]
}

fail=0
running=0
for name in "$@"; do
	one "$name" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait -n || fail=1
		running=$((running - 1))
	fi
done
while [ $running -gt 0 ]; do
	wait -n || fail=1
	running=$((running - 1))
done
if [ $fail -ne 0 ]; then
	echo "fuzz: FAILED (reproducers in $dir/artifacts/; rerun one with $dir/fuzz_NAME FILE)"
	exit 1
fi
echo "fuzz: $# targets, no crash, leak or timeout"
