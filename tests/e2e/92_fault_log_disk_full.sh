#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fault injection (issue 11): the --log-file's disk fills up mid-run.
# 53_log_file_full.sh covers a log that takes nothing from the start
# (/dev/full): the fallback to stderr, the warning, the ERROR: at exit and
# exit 125.  This one is the real case: a small tmpfs that takes the first
# deny lines, then is filled to ENOSPC while egressd runs.
#   - the filter does not care: every attempt is still EPERM;
#   - no deny report is lost: each destination is in the file or on
#     stderr; the ones on stderr are exactly what the ERROR: line counts;
#   - one WARNING at the first failed write; egressd status, asked
#     mid-run, counts the failed writes (faults.log_write_failures);
#   - the command exited 0, but reports missed the file: egressd exits 125.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers
command -v mount >/dev/null || lab_skip "no mount(8)"

PY=/usr/bin/python3
DISK=$LAB_DIR/disk
mkdir "$DISK" || lab_die "mkdir $DISK"
mount -t tmpfs -o size=256k,mode=0755 "egressd-fault-$LAB_ID" "$DISK" || lab_skip "cannot mount a tmpfs"
# Unmounted before lab_cleanup removes $LAB_DIR (lazily: a killed
# egressd may still hold the file).
trap 'rc=$?; umount -l "$DISK" 2>/dev/null; (exit $rc); lab_cleanup' EXIT
LOG=$DISK/events.log
N1=45 # two bursts under the report rate limit (50 at once, 20 a second),
N2=45 # together more than the page the log file's first line sits in

cat >"$LAB_DIR/w.py" <<EOF
import errno, os, socket, sys, time
W = "$LAB_WORK"
def waitfor(f):
    for _ in range(400):
        if os.path.exists(os.path.join(W, f)):
            return
        time.sleep(0.05)
def deny(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"x", ("$LAB_DENIED4", port))
        return "sent"
    except PermissionError:
        return "EPERM"
    finally:
        s.close()
res = [deny(999)]
open(os.path.join(W, "one"), "w").close()
waitfor("full")
res += [deny(1000 + i) for i in range($N1)]
time.sleep(3)  # the rate limit refills
res += [deny(2000 + i) for i in range($N2)]
with open(os.path.join(W, "w.out"), "w") as f:  # not stderr: no interleaving
    print("attempts %d eperm %d" % (len(res), res.count("EPERM")), file=f)
time.sleep(0.5)
open(os.path.join(W, "many"), "w").close()
waitfor("read")
EOF
chmod 0644 "$LAB_DIR/w.py"

wait_file()
{
	local i

	for ((i = 0; i < 400; i++)); do
		[ -e "$LAB_WORK/$1" ] && return 0
		lab_alive "$SHPID" || { sed 's/^/    /' "$LAB_DIR/eg.log"; lab_die "egressd exited before $1"; }
		sleep 0.05
	done
	sed 's/^/    /' "$LAB_DIR/eg.log"
	lab_die "timed out waiting for $1"
}

lab_section "the log's disk fills while egressd runs"
lab_bg eg "$LAB_CLIENT" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && "$@"; echo "egressd-rc $?" >&2' sh \
	"$EGRESSD" run --user nobody --allow-domains "$LAB_ALLOWED4" --log-file "$LOG" -- "$PY" "$LAB_DIR/w.py"
SHPID=$LAB_LAST_PID
wait_file one
lab_wait 5 "the first deny line in $LOG" grep -q ":999/udp" "$LOG"
lab_ok "(control: before the disk fills, the deny line goes to the file)"
dd if=/dev/zero of="$DISK/filler" bs=4k 2>/dev/null
avail=$(df --output=avail "$DISK" | tail -n1 | tr -d ' ')
[ "$avail" = 0 ] && lab_ok "(the disk is full: 0 blocks free)" || lab_fail "(the disk is full)" "df says $avail free"
touch "$LAB_WORK/full"
wait_file many
EGPID=$(pgrep -P "$SHPID" -x egressd)
CHILD=$(pgrep -P "$EGPID" | head -n1)
HOSTCG=$(lab_pid_cgroup "$CHILD") || lab_die "no cgroup for the workload"
lab_run_in client "$EGRESSD" status --cgroup "/sys/fs/cgroup${HOSTCG#"$LAB_CG2"}" --format json
"$PY" -c 'import json, sys; print("log_write_failures=%d" % json.load(sys.stdin)["faults"]["log_write_failures"])' \
	<"$LAB_OUT" >"$LAB_DIR/faults" 2>&1
sed 's/^/    faults| /' "$LAB_DIR/faults"
touch "$LAB_WORK/read"
lab_wait 30 "egressd to exit" lab_gone "$SHPID"
L=$LAB_DIR/eg.log
O=$LAB_WORK/w.out
sed 's/^/    w| /' "$O"
sed 's/^/    | /' "$L"
printf '    file: %s lines\n' "$(wc -l <"$LOG")"

TOTAL=$((1 + N1 + N2))
expect_grep "$O" "^attempts $TOTAL eperm $TOTAL$" "every attempt was refused (EPERM), before and after the disk filled"
lost=0
onerr=0
for p in 999 $(seq 1000 $((1000 + N1 - 1))) $(seq 2000 $((2000 + N2 - 1))); do
	line="-> $LAB_DENIED4:$p/udp: not in allowlist"
	if grep -qF -- "$line" "$L"; then
		onerr=$((onerr + 1))
	elif ! grep -qF -- "$line" "$LOG"; then
		lost=$((lost + 1))
	fi
done
[ "$lost" = 0 ] && lab_ok "no deny report was lost: all $TOTAL are in the file or on stderr" ||
	lab_fail "no deny report was lost" "$lost of $TOTAL are nowhere"
[ "$onerr" -gt 0 ] && lab_ok "the disk full, $onerr reports went to stderr" ||
	lab_fail "the disk full, reports went to stderr" "none did: was the disk ever full for egressd?"
n=$(grep -c "WARNING: cannot write deny events to $LOG: No space left on device; writing them to stderr instead" "$L")
[ "$n" = 1 ] && lab_ok "one WARNING at the first failed write" || lab_fail "one WARNING at the first failed write" "$n"
expect_grep "$L" "^egressd: ERROR: $onerr deny events could not be written to $LOG: No space left on device \(they went to stderr instead\)$" \
	"the ERROR: at exit counts exactly the $onerr on stderr"
expect_grep "$LAB_DIR/faults" '^log_write_failures=[1-9][0-9]*$' "egressd status counted the failed writes mid-run"
expect_grep "$L" '^egressd-rc 125$' "the command exited 0, reports missed the file: egressd exits 125"

lab_finish
