#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# --allow-file limits (issue 7): /dev/zero, a NUL byte, an over-long line
# and an endless pipe are refused with exit 125 and an ERROR: naming the
# file, in bounded memory, running and attaching nothing; a 100k-entry
# CIDR file is accepted and enforced.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers

MARKER=$LAB_WORK/marker
# Address space for every refused run: the old getline() reader of
# /dev/zero grew until the OOM killer came.  Far above what egressd needs
# to refuse a file, far below what the machine has.
LIMIT_KB=$((1024 * 1024))
BOUNDED=(sh -c "ulimit -v $LIMIT_KB && exec \"\$@\"" sh)
# ASan (tests/sanitized.sh asan) reserves terabytes of address space for
# its shadow memory, so an ASan egressd cannot start under any ulimit -v:
# there the files are refused unbounded (the plain run keeps the bound).
[ "${EGRESSD_SANITIZER:-}" = asan ] && BOUNDED=()

# expect_refused DESC VALUE REGEX ARGS...: egressd ARGS (in bounded
# memory) exits 125 with an ERROR: line naming VALUE (fixed string) and
# matching REGEX, runs nothing, makes no cgroup, attaches nothing.
expect_refused()
{
	local desc=$1 value=$2 re=$3
	shift 3

	rm -f "$MARKER"
	lab_cgroup_snapshot pre
	lab_run_in client "${BOUNDED[@]}" "$EGRESSD" "$@"
	check_refused "$desc" "$value" "$re"
}

# New cgroups since snapshot $1, less those of a live egressd-PID: other
# tests (other worktrees) may be running egressd at the same time, and
# the one this test ran is dead by now.
new_dead_cgroups()
{
	local d pid

	lab_new_cgroups "$LAB_DIR/cgroups.$1" | while read -r d; do
		pid=$(basename "$d" | sed -n 's/^egressd-\([0-9][0-9]*\)$/\1/p')
		[ -n "$pid" ] && [ -d "/proc/$pid" ] && continue
		printf '%s\n' "$d"
	done
}

check_refused()
{
	local desc=$1 value=$2 re=$3 new

	expect_rc 125 "$desc: exit 125"
	if grep 'ERROR:' "$LAB_ERR" | grep -Fq -- "$value"; then
		lab_ok "$desc: an ERROR: line names '$value'"
	else
		lab_fail "$desc: an ERROR: line names '$value'"
	fi
	expect_grep "$LAB_ERR" "ERROR:.*$re" "$desc: the error says /$re/"
	expect_no_grep "$LAB_ERR" 'isolation ON' "$desc: no filter was set up"
	if [ -e "$MARKER" ]; then
		lab_fail "$desc: the command did not run" "marker file $MARKER exists"
	else
		lab_ok "$desc: the command did not run"
	fi
	new=$(new_dead_cgroups pre)
	if [ -z "$new" ]; then
		lab_ok "$desc: no cgroup made, nothing attached"
	else
		lab_fail "$desc: no cgroup made, nothing attached" "cgroup dirs left behind:" $new
	fi
}

lab_section "/dev/zero: refused at its first byte"
expect_refused "/dev/zero" "/dev/zero:1:" "NUL byte" \
	run --allow-file /dev/zero --user nobody -- touch "$MARKER"
# The case from the issue, verbatim.
lab_cgroup_snapshot pre
lab_run_in client "${BOUNDED[@]}" "$EGRESSD" run --allow-file /dev/zero -- true
check_refused "run --allow-file /dev/zero -- true" "/dev/zero" "NUL byte"

lab_section "a NUL byte in the middle of an allow file"
printf '198.51.100.10\n198.51.\000100.20\n' >"$LAB_WORK/nul.txt"
expect_refused "NUL byte on line 2" "$LAB_WORK/nul.txt:2:" "NUL byte at column 8" \
	run --allow-file "$LAB_WORK/nul.txt" --user nobody -- touch "$MARKER"

lab_section "a line longer than 4096 bytes"
{
	printf '198.51.100.10\n# '
	head -c 5000 /dev/zero | tr '\0' x
	printf '\n'
} >"$LAB_WORK/long.txt"
expect_refused "5002-byte comment on line 2" "$LAB_WORK/long.txt:2:" \
	"line longer than 4096 bytes" \
	run --allow-file "$LAB_WORK/long.txt" --user nobody -- touch "$MARKER"

lab_section "endless pipes: no newline, and endless short lines"
# sh -c 'yes ... | egressd --allow-file /dev/stdin': egressd's status is
# the pipeline's; yes and tr end with SIGPIPE once it is gone.
rm -f "$MARKER"
lab_cgroup_snapshot pre
lab_run_in client "${BOUNDED[@]}" sh -c 'yes a | tr -d "\n" | "$@"' sh \
	"$EGRESSD" run --allow-file /dev/stdin --user nobody -- touch "$MARKER"
check_refused "endless line on a pipe" "/dev/stdin:1:" "line longer than 4096 bytes"
rm -f "$MARKER"
lab_cgroup_snapshot pre
lab_run_in client "${BOUNDED[@]}" sh -c 'yes "# $(head -c 1000 /dev/zero | tr "\0" x)" | "$@"' sh \
	"$EGRESSD" run --allow-file /dev/stdin --user nobody -- touch "$MARKER"
check_refused "endless comment lines on a pipe" '"/dev/stdin"' "larger than 64 MiB"

lab_section "a 100k-entry CIDR file is accepted and enforced"
# 70,000 IPv4 /32s and 300 /24s in 10.0.0.0/8, 15,000 IPv6 /128s and 50
# /64s in 2001:db8:ffff::/48 (outside the lab's 2001:db8::/64), the lab's
# 198.51.100.10:80 and 198.51.100.0/24:8080, 14,648 exact duplicates,
# comments and blank lines, shuffled: 100,000 entries, 70,302 IPv4 and
# 15,050 IPv6 prefixes.
"$LAB_PY" - "$LAB_WORK/big.txt" <<'EOF'
import random, sys

rng = random.Random(7)
lines = ["198.51.100.10:80", "198.51.100.0/24:8080"]
for i in range(70000):
    a = "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255)
    lines.append(a + ":443" if i % 3 else a)
for j in range(300):
    lines.append("10.%d.%d.0/24:22" % (j >> 8, j & 255))
for i in range(15000):
    a = "2001:db8:ffff:%x::%x" % (i % 50, i)
    lines.append("[%s]:443" % a if i % 2 else a)
for j in range(50):
    lines.append("[2001:db8:ffff:%x::/64]:53" % j)
distinct = len(lines)
lines += [rng.choice(lines[:distinct]) for _ in range(100000 - distinct)]
rng.shuffle(lines)
with open(sys.argv[1], "w") as f:
    f.write("# 100k entries\n")
    for n, l in enumerate(lines):
        if n % 10000 == 0:
            f.write("\n# block %d\n" % (n // 10000))
        f.write(l + "\n")
EOF
n=$(grep -cv -e '^#' -e '^$' "$LAB_WORK/big.txt")
[ "$n" -eq 100000 ] || lab_die "big.txt has $n entries, not 100000"
lab_egressd run --allow-file "$LAB_WORK/big.txt" --user nobody -- true
expect_rc 0 "100k entries: the command runs (exit 0)"
expect_fgrep "$LAB_ERR" "allowing 70302 IPv4 + 15050 IPv6 prefixes" \
	"100k entries: every distinct prefix became a rule"
EG_ARGS=(--allow-file "$LAB_WORK/big.txt" --user nobody)
expect_probe ok "100k entries: tcp 198.51.100.10:80 (listed)" tcp "$LAB_ALLOWED4" 80
expect_probe ok "100k entries: tcp 198.51.100.10:8080 (from the /24)" tcp "$LAB_ALLOWED4" 8080
expect_probe ok "100k entries: tcp 198.51.100.20:8080 (from the /24)" tcp "$LAB_DENIED4" 8080
expect_probe blocked "100k entries: tcp 198.51.100.20:80 (not listed)" tcp "$LAB_DENIED4" 80
expect_probe blocked "100k entries: tcp [2001:db8::20]:80 (not listed)" tcp "$LAB_DENIED6" 80

lab_finish
