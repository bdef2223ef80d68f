#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 15 (issue 11, family 9): a fork race at start, with egressd
# SIGKILLed at several points.  The workload forks 500 children at once,
# each sending the marker to the denied host (IPv4 and IPv6) every 50 ms
# for about 2 s.  egressd is killed with SIGKILL 0, 5, 20, 50, 100, 130, 160, 200 and
# 1000 ms after it was started: before it made the cgroup, while it
# attaches, while the children fork, and while they send.  Whatever
# moment it dies, no frame with the marker may reach the denied host:
# either the workload never ran (egressd's child dies with it before
# exec) or it runs in a cgroup whose filter stays attached (the filter
# belongs to the cgroup).  Each round then kills what is left in
# egressd's cgroup.  Control: the same workload without egressd gets the
# marker there.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

PORT=5555
cat >"$LAB_DIR/forker.py" <<'EOPY'
import os, socket, sys, time
marker, d4, d6, port, out = sys.argv[1].encode(), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
with open(out + ".main", "w") as f:
    f.write(str(os.getpid()))
kids = []
for i in range(500):
    pid = os.fork()
    if pid == 0:
        ok = refused = 0
        s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        for _ in range(40):
            for s, d in ((s4, d4), (s6, d6)):
                try:
                    s.sendto(marker, (d, port))
                    ok += 1
                except OSError:
                    refused += 1
            time.sleep(0.05)
        with open(f"{out}.{os.getpid()}", "w") as f:
            f.write(f"{ok} {refused}\n")
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
print("forker: 500 children done", flush=True)
EOPY
W=$LAB_WORK/fork
mkdir -m 1777 "$W"
chmod 0644 "$LAB_DIR/forker.py"

# sums OUT: "N children reported, OK sends ok, R refused".
sums()
{
	cat "$1".[0-9]* 2>/dev/null | awk '{ n++; ok += $1; r += $2 }
		END { printf "%d children reported, %d sends ok, %d refused", n, ok, r }'
}

lab_section "control: the 500 children without egressd"
adv_marker text
adv_capture_start denied "$ADV_MARK_HEX"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "$LAB_PY" "$LAB_DIR/forker.py" "$ADV_M" \
	"$ADV_DENIED4" "$ADV_DENIED6" "$PORT" "$W/ctl"
adv_capture_stop
if [ "$ADV_CAP_COUNT" -gt 0 ] && [ "$LAB_RC" -eq 0 ]; then
	adv_pass "control: $(sums "$W/ctl"); $ADV_CAP_COUNT marker frames reached the denied host"
else
	adv_fail "control" "rc=$LAB_RC, $ADV_CAP_COUNT frames, $(sums "$W/ctl")"
fi

for ms in 0 5 20 50 100 130 160 200 1000; do
	lab_section "egressd SIGKILLed ${ms} ms after start"
	out=$W/k$ms
	adv_marker text
	adv_capture_start denied "$ADV_MARK_HEX"
	"${LAB_CLIENT_CMD[@]}" "$EGRESSD" run --user nobody --allow-domains "$ADV_ALLOW" -- \
		"$LAB_PY" "$LAB_DIR/forker.py" "$ADV_M" "$ADV_DENIED4" "$ADV_DENIED6" "$PORT" "$out" \
		>"$out.egressd" 2>&1 </dev/null &
	EG=$!
	LAB_PIDS+=("$EG")
	disown "$EG"
	CG=$LAB_CG2/egressd-$EG
	lab_register_cgroup "$CG"
	sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
	kill -9 "$EG" 2>/dev/null
	lab_wait 5 "egressd $EG to die" lab_gone "$EG"
	# The children's 2 s of sending, and then some.
	sleep 3
	adv_capture_stop
	main=$(cat "$out.main" 2>/dev/null)
	if [ -n "$main" ]; then
		info="workload ran (pid $main); $(sums "$out")"
	else
		info="workload never ran; $(sums "$out")"
	fi
	lab_kill_cgroup "$CG"
	if [ "$ADV_CAP_COUNT" -eq 0 ]; then
		adv_pass "SIGKILL at ${ms} ms: nothing reached the denied host ($info)"
	else
		sed 's/^/    egressd: /' "$out.egressd"
		adv_fail "SIGKILL at ${ms} ms" "$ADV_CAP_COUNT marker frame(s) reached the denied host ($info)"
	fi
	# A round where children ran must have been refused: the attack did
	# run under a filter (a child that sent "ok" with no frame arriving
	# was dropped by the packet hook, also fine).
	if [ -n "$main" ] && [ "$(sums "$out" | sed 's/ children.*//')" -gt 0 ] &&
		[ "$(sums "$out" | sed 's/.* sends ok, //; s/ refused//')" -eq 0 ]; then
		adv_fail "SIGKILL at ${ms} ms: children reported, none refused" "$info"
	fi
done

adv_finish
