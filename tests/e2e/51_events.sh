#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Deny events as the user sees them: one line naming the process (pid and
# comm), the destination and the reason; JSON Lines with --log-format json
# --log-file; repeats collapsed to the 1st, 10th, 100th, 1000th occurrence;
# a flood of distinct destinations held to the token bucket.

. "$(dirname "$0")/../lib/lab.sh"


lab_init
lab_require_egressd
lab_up
lab_start_servers

PY=$LAB_PY
PIDFILE=$LAB_WORK/pid
NOBODY_UID=$(id -u nobody)

# run_pid KIND ADDR PORT: egressd "${EG_ARGS[@]}" with a workload whose pid
# is known (the shell writes $$, then execs the probe under that pid, so
# its comm is "probe").  Sets PID.
run_pid()
{
	rm -f "$PIDFILE"
	lab_egressd run "${EG_ARGS[@]}" -- sh -c 'echo $$ >"$0"; exec "$1" "$2" "$3" "$4" 3000' \
		"$PIDFILE" "$LAB_PROBE" "$@"
	PID=$(cat "$PIDFILE" 2>/dev/null)
	[[ $PID =~ ^[0-9]+$ ]] || lab_die "workload wrote no pid to $PIDFILE"
}

# Lines of FILE containing STRING literally.
count_fixed() { grep -cF -- "$2" "$1"; }

# expect_line FILE LINE DESC: FILE has LINE as a whole line, exactly once.
expect_line()
{
	local n

	n=$(grep -cxF -- "$2" "$1")
	if [ "$n" -eq 1 ]; then
		lab_ok "$3"
	else
		lab_fail "$3" "want exactly one line '$2', found $n; deny lines:" \
			"$(grep -F 'egressd: blocked' "$1" | head -n 5)"
	fi
}

expect_eperm_verdict()
{
	if [ "$LAB_RC" -eq 1 ] && [ "$(lab_verdict)" = "blocked errno=EPERM" ]; then
		lab_ok "$1"
	else
		lab_fail "$1" "expected 'blocked errno=EPERM' with exit 1, got rc=$LAB_RC verdict='$(lab_verdict)'"
	fi
}

lab_section "the deny line names pid, comm, destination and reason"
EG_ARGS=(--allow-domains "$LAB_ALLOWED4,$LAB_ALLOWED6" --user nobody)
run_pid tcp "$LAB_DENIED4" 80
expect_eperm_verdict "tcp $LAB_DENIED4:80 blocked"
expect_line "$LAB_ERR" "egressd: blocked probe[$PID] -> $LAB_DENIED4:80/tcp: not in allowlist" \
	"deny line: probe[$PID] -> $LAB_DENIED4:80/tcp: not in allowlist"
n=$(count_fixed "$LAB_ERR" "egressd: blocked")
if [ "$n" -eq 1 ]; then
	lab_ok "one attempt, one deny line"
else
	lab_fail "one attempt, one deny line" "found $n deny lines"
fi

run_pid udp "$LAB_DENIED4" 7
expect_eperm_verdict "udp $LAB_DENIED4:7 blocked"
expect_line "$LAB_ERR" "egressd: blocked probe[$PID] -> $LAB_DENIED4:7/udp: not in allowlist" \
	"deny line: probe[$PID] -> $LAB_DENIED4:7/udp"

run_pid tcp "$LAB_DENIED6" 80
expect_eperm_verdict "tcp [$LAB_DENIED6]:80 blocked"
expect_line "$LAB_ERR" "egressd: blocked probe[$PID] -> [$LAB_DENIED6]:80/tcp: not in allowlist" \
	"deny line: IPv6 destination in brackets"

run_pid tcp "::ffff:$LAB_DENIED4" 80
expect_eperm_verdict "tcp [::ffff:$LAB_DENIED4]:80 blocked"
expect_line "$LAB_ERR" "egressd: blocked probe[$PID] -> $LAB_DENIED4:80/tcp: not in allowlist" \
	"deny line: IPv4-mapped destination shown as the IPv4 address"

lab_section "reason: port not allowed"
EG_ARGS=(--allow-domains "$LAB_ALLOWED4:80" --user nobody)
expect_probe ok "tcp $LAB_ALLOWED4:80 allowed by the port-limited entry" tcp "$LAB_ALLOWED4" 80
expect_no_grep "$LAB_ERR" 'egressd: blocked' "no deny line for allowed traffic"
run_pid tcp "$LAB_ALLOWED4" 8080
expect_eperm_verdict "tcp $LAB_ALLOWED4:8080 blocked"
expect_line "$LAB_ERR" "egressd: blocked probe[$PID] -> $LAB_ALLOWED4:8080/tcp: port not allowed" \
	"deny line: $LAB_ALLOWED4:8080/tcp: port not allowed"

lab_section "reason: DNS to a non-resolver (--no-dns-proxy; with the proxy it is redirected: 64_dns_proxy)"
EG_ARGS=(--no-dns-proxy --allow-domains "$LAB_ALLOWED4" --user nobody)
# dnsmasq listens on tcp $LAB_OTHER4:53 too: the control proves it answers.
lab_run_in client "${LAB_NOBODY_CMD[@]}" "$LAB_PROBE" tcp "$LAB_OTHER4" 53 "$LAB_OK_MS"
lab_check_verdict ok "control: tcp $LAB_OTHER4:53 reachable without egressd"
run_pid tcp "$LAB_OTHER4" 53
expect_eperm_verdict "tcp $LAB_OTHER4:53 blocked"
expect_line "$LAB_ERR" "egressd: blocked probe[$PID] -> $LAB_OTHER4:53/tcp: DNS to a non-resolver" \
	"deny line: $LAB_OTHER4:53/tcp: DNS to a non-resolver"
run_pid udp "$LAB_OTHER4" 53
expect_eperm_verdict "udp $LAB_OTHER4:53 blocked"
expect_line "$LAB_ERR" "egressd: blocked probe[$PID] -> $LAB_OTHER4:53/udp: DNS to a non-resolver" \
	"deny line: $LAB_OTHER4:53/udp: DNS to a non-resolver"
# The resolver itself passes, and is no event.
expect_probe ok "tcp $LAB_RESOLVER4:53 (the resolver) allowed" tcp "$LAB_RESOLVER4" 53
expect_no_grep "$LAB_ERR" 'egressd: blocked' "no deny line for DNS to the resolver"

lab_section "JSON Lines to --log-file"
JSON=$LAB_WORK/events.json
rm -f "$JSON"
EG_ARGS=(--allow-domains allowed.test:80 --user nobody --log-format json --log-file "$JSON")
rm -f "$PIDFILE"
lab_egressd run "${EG_ARGS[@]}" -- sh -c '
	echo $$ >"$0"
	"$1" udp 2001:db8::20 7 1000 >/dev/null
	"$1" tcp 198.51.100.10 8080 1000 >/dev/null
	exec "$1" tcp 198.51.100.20 80 3000' "$PIDFILE" "$LAB_PROBE"
PID=$(cat "$PIDFILE" 2>/dev/null)
expect_eperm_verdict "json run: last probe blocked"
expect_no_grep "$LAB_ERR" 'egressd: blocked' "no text deny lines on stderr with --log-file"
if [ -s "$JSON" ]; then
	sed 's/^/    json| /' "$JSON"
	lab_ok "log file written"
else
	lab_fail "log file written" "$JSON missing or empty"
fi
"$PY" -m json.tool --json-lines "$JSON" >"$LAB_DIR/json.pretty" 2>"$LAB_DIR/json.err"
if [ $? -eq 0 ] && [ -s "$JSON" ]; then
	lab_ok "every line parses (python3 -m json.tool --json-lines)"
else
	lab_fail "every line parses (python3 -m json.tool --json-lines)" "$(cat "$LAB_DIR/json.err")"
fi
cat >"$LAB_DIR/check_json.py" <<'EOF'
import json, sys

path, pid, uid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = [json.loads(l) for l in open(path)]
want = [
    dict(event="deny", hook="sendmsg6", comm="probe", uid=uid, proto="udp", family=6,
         daddr="2001:db8::20", dport=7, name=None, reason="not in allowlist", count=1),
    dict(event="deny", hook="connect4", comm="probe", uid=uid, proto="tcp", family=4,
         daddr="198.51.100.10", dport=8080, name="allowed.test", reason="port not allowed",
         count=1),
    dict(event="deny", hook="connect4", pid=pid, comm="probe", uid=uid, proto="tcp", family=4,
         daddr="198.51.100.20", dport=80, name=None, reason="not in allowlist", count=1),
]
bad = []
if len(lines) != len(want):
    bad.append("%d objects, want %d" % (len(lines), len(want)))
for i, (got, w) in enumerate(zip(lines, want)):
    for k, v in w.items():
        if got.get(k, "<missing>") != v:
            bad.append("object %d: %s=%r, want %r" % (i + 1, k, got.get(k, "<missing>"), v))
    if not isinstance(got.get("pid"), int) or got["pid"] <= 0:
        bad.append("object %d: pid %r is not a positive integer" % (i + 1, got.get("pid")))
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
if out=$("$PY" "$LAB_DIR/check_json.py" "$JSON" "${PID:-0}" "$NOBODY_UID" 2>&1); then
	lab_ok "JSON objects carry event, hook, pid, comm, uid, proto, family, daddr, dport, name, reason, count"
else
	lab_fail "JSON objects carry the right fields" "$out"
fi

lab_section "repeats collapse: 1000 blocked connects"
EG_ARGS=(--allow-domains "$LAB_ALLOWED4" --user nobody)
lab_egressd run "${EG_ARGS[@]}" -- "$PY" -c '
import socket
n = 0
for i in range(1000):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect(("198.51.100.20", 80))
    except PermissionError:
        n += 1
    finally:
        s.close()
print("eperm=%d" % n)
'
expect_grep "$LAB_OUT" '^eperm=1000$' "all 1000 connects failed with EPERM"
DEST="-> $LAB_DENIED4:80/tcp: not in allowlist"
grep -F -- "$DEST" "$LAB_ERR" >"$LAB_DIR/repeat.lines"
n=$(wc -l <"$LAB_DIR/repeat.lines")
if [ "$n" -ge 1 ] && [ "$n" -le 5 ]; then
	lab_ok "1000 attempts: $n lines for the destination (at most 5)"
else
	lab_fail "1000 attempts: at most 5 lines for the destination" "got $n lines"
fi
expect_grep "$LAB_DIR/repeat.lines" '^egressd: blocked python3\[[0-9]+\] -> ' "the lines name python3[pid]"
if tail -n1 "$LAB_DIR/repeat.lines" | grep -qF '[1000 times so far]'; then
	lab_ok "the last line reports the count reaching 1000"
else
	lab_fail "the last line reports the count reaching 1000" "last: $(tail -n1 "$LAB_DIR/repeat.lines")"
fi
expect_grep "$LAB_DIR/repeat.lines" '\[10 times so far\]$' "the 10th attempt is reported"
expect_grep "$LAB_DIR/repeat.lines" '\[100 times so far\]$' "the 100th attempt is reported"

lab_section "a flood of distinct destinations is held to the token bucket"
# 200 ports on the denied host: 200 distinct destinations in a few ms.
lab_egressd run "${EG_ARGS[@]}" -- "$PY" -c '
import socket, time
t = time.monotonic()
n = 0
for port in range(20000, 20200):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect(("198.51.100.20", port))
    except PermissionError:
        n += 1
    finally:
        s.close()
print("eperm=%d ms=%d" % (n, (time.monotonic() - t) * 1000))
'
expect_grep "$LAB_OUT" '^eperm=200 ' "all 200 connects failed with EPERM"
ms=$(sed -n 's/^eperm=[0-9]* ms=//p' "$LAB_OUT")
n=$(grep -cE "^egressd: blocked python3\[[0-9]+\] -> $LAB_DENIED4:20[01][0-9][0-9]/tcp" "$LAB_ERR")
# 50 burst, plus 20 a second for however long the flood took.
max=$((50 + 20 * (${ms:-0} / 1000 + 1)))
if [ "$n" -ge 1 ] && [ "$n" -le "$max" ] && [ "$n" -lt 200 ]; then
	lab_ok "200 destinations in ${ms:-?} ms: $n lines (at most $max)"
else
	lab_fail "200 destinations: lines held to the bucket" "got $n lines, want 1..$max"
fi
held=$(sed -n 's/^egressd: WARNING: \([0-9]*\) deny reports were rate-limited.*/\1/p' "$LAB_ERR")
if [ -n "$held" ] && [ $((held + n)) -eq 200 ]; then
	lab_ok "what the bucket held back is reported at exit ($held held + $n printed = 200)"
else
	lab_fail "what the bucket held back is reported at exit" \
		"want 'egressd: WARNING: N deny reports were rate-limited' with N + $n = 200; got '${held}'"
fi

lab_finish
