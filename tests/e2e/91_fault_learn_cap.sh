#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fault injection (issue 11): the learned-address cap is reached.  The cap
# is learn.c's max_total, 65536 distinct addresses (the size of each
# learned map too); it has no flag, so the lab's DNS really answers more:
# 256 names of 256 AAAA each, after one early name.  Then:
#   - the addresses beyond the cap are refused: not learned, so connect
#     EPERM; a warning names them (8 an answer, then a count), and
#     egressd status counts them
#     (faults.learn_cap_refused) next to learned_total 65536;
#   - nothing else fails: no map error, the answers are still delivered,
#     an address learned before the cap still works, a name not allowed is
#     still REFUSED, and egressd exits with the command's status.
# Control: the same address, looked up with the books not full, is
# learned and reachable.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
UP=198.51.100.60
EARLY=2001:db8::76
OVER=2001:db8::77
lab_add_host_addr "$UP" "$EARLY" "$OVER"
lab_start_servers

PY=/usr/bin/python3
NAMES=256
PER=256
CAP=65536

# The upstream: AAAA answers computed from the name, over UDP and TCP.
#   early.cap.test -> EARLY; over.cap.test -> OVER;
#   nK.cap.test (K < 256) -> 2001:db8:1:K::0 .. ::ff (256 addresses);
#   more.cap.test -> 2001:db8:2::0 .. ::ff.
cat >"$LAB_DIR/capdns.py" <<'EOF'
import socket, socketserver, struct, sys, threading

addr, early, over = sys.argv[1], sys.argv[2], sys.argv[3]

def answer(q):
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode().lower())
        i += 1 + q[i]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    name = ".".join(labels)
    ips = []
    rcode = 0
    if name == "early.cap.test":
        ips = [early]
    elif name == "over.cap.test":
        ips = [over]
    elif name == "more.cap.test":
        ips = ["2001:db8:2::%x" % j for j in range(256)]
    elif name.endswith(".cap.test") and name[0] == "n" and name[1:-9].isdigit():
        k = int(name[1:-9])
        ips = ["2001:db8:1:%x::%x" % (k, j) for j in range(256)]
    else:
        rcode = 3
    if qtype != 28:
        ips = []
    rr = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", 28, 1, 3600, 16) +
                  socket.inet_pton(socket.AF_INET6, ip) for ip in ips)
    hdr = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, len(ips), 0, 0)
    print("query", name, qtype, len(ips), flush=True)
    return hdr + question + rr

class TCP(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        while True:
            h = s.recv(2, socket.MSG_WAITALL)
            if len(h) < 2:
                return
            q = s.recv(struct.unpack("!H", h)[0], socket.MSG_WAITALL)
            a = answer(q)
            s.sendall(struct.pack("!H", len(a)) + a)

class TS(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

t = TS((addr, 53), TCP)
threading.Thread(target=t.serve_forever, daemon=True).start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((addr, 53))
print("ready", flush=True)
while True:
    q, peer = u.recvfrom(4096)
    a = answer(q)
    if len(a) > 512:  # too big: the question alone, TC set, so it asks over TCP
        a = a[:2] + bytes([a[2] | 2, a[3]]) + b"\0\1\0\0\0\0\0\0" + q[12:]
    u.sendto(a, peer)
EOF
lab_bg capdns "$LAB_HOST" "$PY" "$LAB_DIR/capdns.py" "$UP" "$EARLY" "$OVER"
lab_wait_listen capdns "$LAB_LAST_PID" "$LAB_HOST" t 53 4

# The workload: DNS over TCP to the usual resolver (egressd redirects it
# to its proxy), connects over IPv6, then waits for the test to read
# egressd status.  Prints one line per fact.
cat >"$LAB_DIR/w.py" <<'EOF'
import os, socket, struct, sys, time

def query(name, qtype=28):
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for l in name.split("."):
        q += bytes([len(l)]) + l.encode()
    q += b"\0" + struct.pack("!HH", qtype, 1)
    s = socket.create_connection(("198.51.100.1", 53), timeout=10)
    s.sendall(struct.pack("!H", len(q)) + q)
    n = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
    a = s.recv(n, socket.MSG_WAITALL)
    s.close()
    rcode = a[3] & 15
    an = struct.unpack("!H", a[6:8])[0]
    i = 12
    while a[i]:
        i += 1 + a[i]
    i += 5
    ips = []
    for _ in range(an):
        if a[i] & 0xc0 == 0xc0:
            i += 2
        else:
            while a[i]:
                i += 1 + a[i]
            i += 1
        t, c, ttl, rdlen = struct.unpack("!HHIH", a[i:i + 10])
        i += 10
        if t == 28:
            ips.append(socket.inet_ntop(socket.AF_INET6, a[i:i + rdlen]))
        i += rdlen
    return {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}.get(rcode, str(rcode)), ips

def conn(ip):
    s = socket.socket(socket.AF_INET6)
    s.settimeout(2)
    try:
        s.connect((ip, 80))
        return "ok" if s.recv(4).startswith(b"ok") else "noanswer"
    except PermissionError:
        return "EPERM"
    except OSError as e:
        return "ERR:" + e.__class__.__name__
    finally:
        s.close()

mode, work = sys.argv[1], sys.argv[2]
if mode == "control":
    r, ips = query("over.cap.test")
    print("control", r, " ".join(ips), conn(ips[0]) if ips else "-")
    sys.exit(0)
r, ips = query("early.cap.test")
print("early", r, " ".join(ips), conn(ips[0]) if ips else "-")
total, bad = 0, 0
t0 = time.time()
for k in range(int(sys.argv[3])):
    r, ips = query("n%d.cap.test" % k)
    total += len(ips)
    bad += r != "NOERROR"
print("fill answers=%d not-noerror=%d seconds=%.1f" % (total, bad, time.time() - t0))
r, ips = query("over.cap.test")
print("over", r, " ".join(ips), conn(ips[0]) if ips else "-")
r, ips = query("more.cap.test")
print("more", r, len(ips))
r, ips = query("early.cap.test")
print("early-again", r, " ".join(ips), conn(ips[0]) if ips else "-")
print("denied", query("allowed.test", 1)[0])
sys.stdout.flush()
open(os.path.join(work, "filled"), "w").close()
for _ in range(400):
    if os.path.exists(os.path.join(work, "read")):
        break
    time.sleep(0.05)
EOF
chmod 0644 "$LAB_DIR/w.py" "$LAB_DIR/capdns.py"
EG=(run --user nobody --resolver "$UP" --max-ips-per-name "$PER" --allow-domains '*.cap.test')

lab_section "controls"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "$LAB_PROBE" tcp "$OVER" 80 "$LAB_OK_MS"
lab_check_verdict ok "($OVER answers without egressd)"
lab_egressd "${EG[@]}" -- "$PY" "$LAB_DIR/w.py" control "$LAB_WORK"
expect_grep "$LAB_OUT" "^control NOERROR $OVER ok$" \
	"(with the books not full, over.cap.test's address is learned and reachable)"

lab_section "the cap reached: $NAMES names x $PER addresses after one early name"
rm -f "$LAB_WORK/filled" "$LAB_WORK/read"
lab_bg eg "$LAB_CLIENT" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && "$@"; echo "egressd-rc $?"' sh \
	"$EGRESSD" "${EG[@]}" -- sh -c 'exec >"$0/w.out" 2>&1; "$@"; echo "exit 3"; exit 3' "$LAB_WORK" \
	"$PY" "$LAB_DIR/w.py" fill "$LAB_WORK" "$NAMES"
SHPID=$LAB_LAST_PID
for ((i = 0; i < 1200; i++)); do
	[ -e "$LAB_WORK/filled" ] && break
	lab_alive "$SHPID" || break
	sleep 0.05
done
EGPID=$(pgrep -P "$SHPID" -x egressd)
CHILD=$(pgrep -P "$EGPID" | head -n1)
if [ -e "$LAB_WORK/filled" ] && HOSTCG=$(lab_pid_cgroup "$CHILD"); then
	lab_run_in client "$EGRESSD" status --cgroup "/sys/fs/cgroup${HOSTCG#"$LAB_CG2"}" --format json
	"$PY" -c 'import json, sys
d = json.load(sys.stdin)
f = d["faults"]
print("learned_total=%d cap_refused=%d map_errors=%d learn_failed=%d" % (d["learned_total"],
      f["learn_cap_refused"], f["learn_map_errors"], f["dns_learn_failed"]))' \
		<"$LAB_OUT" >"$LAB_DIR/faults" 2>&1
else
	echo "the workload never filled the books" >"$LAB_DIR/faults"
fi
sed 's/^/    faults| /' "$LAB_DIR/faults"
touch "$LAB_WORK/read"
lab_wait 30 "egressd to exit" lab_gone "$SHPID"
L=$LAB_DIR/eg.log
# The workload's own lines, apart from egressd's stderr (no interleaving).
O=$LAB_WORK/w.out
sed 's/^/    w| /' "$O"
grep -v 'not learned: too many learned addresses' "$L" | sed 's/^/    | /'
printf '    | (%d "not learned: too many learned addresses" lines)\n' \
	"$(grep -c 'not learned: too many learned addresses' "$L")"

expect_grep "$O" "^early NOERROR $EARLY ok$" "an early name is learned and reachable"
expect_grep "$O" "^fill answers=$((NAMES * PER)) not-noerror=0 " "every answer of the fill is delivered ($((NAMES * PER)) addresses)"
expect_grep "$O" "^over NOERROR $OVER EPERM$" "beyond the cap: the answer comes, its address is refused (EPERM)"
expect_grep "$L" "WARNING: DNS proxy: over\.cap\.test -> $OVER not learned: too many learned addresses" \
	"a warning names the name and the address"
expect_grep "$L" "WARNING: DNS proxy: n$((NAMES - 1))\.cap\.test -> 2001:db8:1:ff::ff not learned: too many learned addresses" \
	"the last fill address, one past the cap, is refused too"
expect_grep "$O" '^more NOERROR 256$' "an answer of 256 addresses past the cap is delivered"
n=$(grep -c 'DNS proxy: more\.cap\.test -> 2001:db8:2::[0-9a-f]* not learned: too many learned addresses' "$L")
[ "$n" = 8 ] && lab_ok "its first 8 refusals are named" || lab_fail "its first 8 refusals are named" "$n lines"
expect_grep "$L" 'WARNING: DNS proxy: more\.cap\.test: 248 more addresses of this answer not learned' \
	"the other 248 are counted in one line"
expect_grep "$LAB_DIR/faults" "^learned_total=$CAP cap_refused=258 map_errors=0 learn_failed=0$" \
	"egressd status: $CAP learned, 258 refused at the cap, no map error"
expect_grep "$O" "^early-again NOERROR $EARLY ok$" "an address learned before the cap still works"
expect_grep "$O" '^denied REFUSED$' "a name not allowed is still refused"
expect_grep "$O" '^exit 3$' "(the command ran to its end)"
expect_grep "$L" '^egressd-rc 3$' "egressd kept running and exits with the command's status"
expect_no_grep "$L" 'ERROR:' "no ERROR: line"

lab_finish
