#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# egressd status (issue 9): while egressd run filters a cgroup, root can
# ask it what it enforces on /run/egressd/cg-<CGID>.<PID>.sock.
#   - text and --format json name the programs (the ids the kernel shows
#     attached), enforcing, the static entries, the names, a learned name
#     and address with a positive expiry, a non-zero counter, the denial;
#   - --verify: silent and 0 on a filtered cgroup; 1 with one ERROR: line
#     on a cgroup nobody filters, an --audit run, a program detached
#     behind egressd's back, and for a non-root caller;
#   - --cgroup PATH (both mounts' views), relative, and the default self;
#   - the workload (nobody, inside the filter) cannot reach the socket; a
#     non-root peer that can (CAP_DAC_OVERRIDE) is refused by the peer
#     check; root is answered;
#   - the socket is 0600 in a 0700 root directory, gone after exit; a
#     stale socket of a dead pid is removed, a live pid's kept; a bad
#     runtime directory only warns and filtering goes on; bad input.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
command -v bpftool >/dev/null || lab_skip "bpftool not installed"
lab_add_host_addr 198.51.100.42
lab_dns_add 'host-record=a.wild.test,198.51.100.42'
# 4200 names for a document larger than the socket takes at once, and
# more learned addresses than it lists.
NMANY=4200
for ((i = 1; i <= NMANY; i++)); do
	printf 'host-record=n%d.mny.test,2001:db8:1::%x\n' "$i" "$i"
done >>"$LAB_DIR/dnsmasq.conf"
lab_start_servers

PY=/usr/bin/python3
RT=/run/egressd
# A socket file this test plants for a live pid; removed at exit.
LIVE_SOCK=
trap 'rc=$?; [ -n "$LIVE_SOCK" ] && rm -f "$LIVE_SOCK"; (exit $rc); lab_cleanup' EXIT

# The workload: look names up, connect to an allowed and a denied
# address, try the status socket from inside the filter, then wait.
cat >"$LAB_DIR/w.py" <<'EOF'
import os, socket, sys, time

def resolve(name):
    try:
        return sorted(set(a[4][0] for a in socket.getaddrinfo(name, 80, socket.AF_INET,
                                                             socket.SOCK_STREAM)))
    except OSError as e:
        return "ERR:" + str(e.errno)

def tcp(addr, port=80):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((addr, port))
        return "ok" if s.recv(16).startswith(b"ok") else "noanswer"
    except PermissionError:
        return "EPERM"
    except OSError as e:
        return "ERR:" + e.__class__.__name__
    finally:
        s.close()

rt, marker = sys.argv[1], sys.argv[2]
print("resolve allowed.test", resolve("allowed.test"))
print("connect allowed", tcp("198.51.100.10"))
print("resolve a.wild.test", resolve("a.wild.test"))
print("connect denied", tcp("198.51.100.20"))
rel = [l.split("::", 1)[1].strip() for l in open("/proc/self/cgroup") if l.startswith("0::")][0]
ino = os.stat("/sys/fs/cgroup" + rel).st_ino
path = "%s/cg-%d.%d.sock" % (rt, ino, os.getppid())
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    u.connect(path)
    u.sendall(b'{"request":"status"}\n')
    print("sock connected", u.recv(100))
except PermissionError:
    print("sock EACCES", path)
except OSError as e:
    print("sock ERR", e.errno, path)
sys.stdout.flush()
open(marker, "w").close()
time.sleep(120)
EOF

# The document, one fact a line, for grep.
cat >"$LAB_DIR/facts.py" <<'EOF'
import json, sys

d = json.load(sys.stdin)
print("mode=%s" % d["mode"])
print("pid=%d" % d["pid"])
print("cgroup_id=%d" % d["cgroup_id"])
print("user=%s:%d:%d" % (d["session_user"]["name"], d["session_user"]["uid"], d["session_user"]["gid"]))
for p in d["programs"]:
    print("prog=%s:%d:%s" % (p["name"], p["id"], p["attach_type"]))
print("dns=%s:%s:%s" % (d["dns"]["proxy"], ",".join(d["dns"]["upstreams"]), d["dns"]["deny_rcode"]))
print("loopback=%s" % d["loopback"])
for s in d["static"]:
    print("static=%s:%s:%s" % (s["prefix"], s["ports"], s["name"] or ""))
for n in d["names"]:
    print("name=%s" % n)
for l in d["learned"]:
    print("learned=%s:%s:%s:%d" % (l["address"], ",".join(l["names"]), l["ports"], l["expires_in_s"]))
print("learned_total=%d truncated=%s" % (d["learned_total"], d["learned_truncated"]))
for reason, c in d["counters"].items():
    if c["packets"]:
        print("counter=%s:%s:%d" % (c["verdict"], reason, c["packets"]))
for e in d["recent_denials"]:
    print("denial=%s:%d/%s:%s:%s:%s:%s" % (e["destination"], e["port"], e["proto"], e["reason"],
                                           e["hook"], e["comm"], e["audit"]))
EOF

# A Unix-socket client: connect to $1 and send a request ($2, default the
# status request); prints "connected" and the reply, or the errno name.
cat >"$LAB_DIR/ask.py" <<'EOF'
import errno, socket, sys

req = sys.argv[2].encode() if len(sys.argv) > 2 else b'{"request":"status"}\n'
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect", errno.errorcode.get(e.errno, e.errno))
    sys.exit(1)
print("connected")
try:
    s.sendall(req)
except (BrokenPipeError, ConnectionResetError):
    pass  # a refusal may be written, and the socket closed, before the request is read
buf = b""
while True:
    try:
        b = s.recv(65536)
    except ConnectionResetError:
        break
    if not b:
        break
    buf += b
print(buf.decode(errors="replace").strip())
EOF
chmod 0644 "$LAB_DIR"/*.py

# egressd run in the client namespace, in the background (cgroup2 mounted).
start_egressd()
{
	local name=$1
	shift
	lab_bg "$name" "$LAB_CLIENT" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' sh \
		"$EGRESSD" run "$@"
}

# wait_file FILE PID LOG: until FILE exists, dying with LOG if PID exits.
wait_file()
{
	local i

	for ((i = 0; i < ${WAIT_SECS:-10} * 20; i++)); do
		[ -e "$1" ] && return 0
		if ! lab_alive "$2"; then
			sed 's/^/    /' "$3"
			lab_die "egressd exited before $1 appeared"
		fi
		sleep 0.05
	done
	sed 's/^/    /' "$3"
	lab_die "timed out waiting for $1"
}

stop_egressd()
{
	kill -TERM "$1" 2>/dev/null
	lab_wait 10 "egressd $1 to exit" lab_gone "$1"
}

lab_section "egressd run serves its status"
rm -f "$LAB_WORK/ready"
start_egressd main --user nobody --loopback none \
	--allow-domains "allowed.test,*.wild.test,198.51.100.30,[2001:db8::/64]:8080" -- \
	"$PY" "$LAB_DIR/w.py" "$RT" "$LAB_WORK/ready"
EGPID=$LAB_LAST_PID
wait_file "$LAB_WORK/ready" "$EGPID" "$LAB_DIR/main.log"
sed 's/^/    main| /' "$LAB_DIR/main.log"
CHILD=$(pgrep -P "$EGPID" | head -n1)
[ -n "$CHILD" ] || lab_die "egressd $EGPID has no child"
HOSTCG=$(lab_pid_cgroup "$CHILD") || lab_die "no cgroup for $CHILD"
REL=${HOSTCG#"$LAB_CG2"}
CG=/sys/fs/cgroup$REL # as the client runner sees it
CGID=$(stat -c %i "$HOSTCG")
SOCK=$RT/cg-$CGID.$EGPID.sock
lab_log "  egressd $EGPID, workload $CHILD in $HOSTCG (id $CGID)"
expect_grep "$LAB_DIR/main.log" "^connect allowed ok" "(the workload reached the allowed address)"
expect_grep "$LAB_DIR/main.log" "^connect denied EPERM" "(and was refused the denied one)"
expect_grep "$LAB_DIR/main.log" "^resolve a.wild.test \['198.51.100.42'\]" "(and looked up a wildcard name)"

if [ -S "$SOCK" ]; then
	lab_ok "the socket is $SOCK"
else
	lab_fail "the socket is $SOCK" "$(ls -la "$RT" 2>&1)"
fi
m=$(stat -c '%a %u %F' "$SOCK" 2>/dev/null)
[ "$m" = "600 0 socket" ] && lab_ok "the socket is 0600 root's" || lab_fail "the socket is 0600 root's" "it is: $m"
m=$(stat -c '%a %u %F' "$RT" 2>/dev/null)
[ "$m" = "700 0 directory" ] && lab_ok "$RT is a 0700 root directory" ||
	lab_fail "$RT is a 0700 root directory" "it is: $m"

lab_section "egressd status --cgroup PATH, text"
lab_run_in client "$EGRESSD" status --cgroup "$CG"
expect_rc 0 "status answers"
T=$LAB_OUT
expect_grep "$T" "^cgroup: +$CG \(id $CGID\)" "it names the cgroup and its id"
expect_grep "$T" "^mode: +enforcing" "mode enforcing"
expect_grep "$T" "^user: +nobody \(uid 65534" "the session user"
expect_grep "$T" "^programs: +12 attached" "12 programs"
expect_grep "$T" "^  egress_skb +id [0-9]+ +cgroup_inet_egress" "egress_skb with its id and attach type"
expect_grep "$T" "^  egress_connect4 +id [0-9]+ +cgroup_inet4_connect" "egress_connect4 too"
expect_grep "$T" "^dns: +egressd's proxy on port [0-9]+" "the DNS proxy"
expect_grep "$T" "^  upstream 198\.51\.100\.1:53" "its upstream"
expect_grep "$T" "^loopback: +none" "--loopback none"
expect_grep "$T" "^  198\.51\.100\.10/32 +ports all \(allowed\.test\)" "a static entry resolved from a name"
expect_grep "$T" "^  198\.51\.100\.30/32 +ports all$" "a typed-in static entry"
expect_grep "$T" "^  2001:db8::/64 +ports 8080$" "a port-limited IPv6 entry"
expect_grep "$T" '^  \*\.wild\.test$' "the wildcard name"
expect_grep "$T" '^  allowed\.test$' "the exact name"
expect_grep "$T" '^  198\.51\.100\.42 +\(a\.wild\.test\) ports all, expires in [1-9][0-9]*s' \
	"the learned address, its name and a positive expiry"
expect_grep "$T" '^  denied +not in allowlist +[1-9]' "a non-zero deny counter"
expect_grep "$T" '^  allowed +in allowlist +[1-9]' "a non-zero allow counter"
expect_grep "$T" 'python3\[[0-9]+\] -> 198\.51\.100\.20:80/tcp: not in allowlist \(connect4\)' \
	"the recent denial"
expect_no_grep "$T" '198\.51\.100\.10:80/tcp' "(an allowed connection is no denial)"

lab_section "egressd status --format json"
lab_run_in client "$EGRESSD" status --cgroup "$CG" --format json
expect_rc 0 "status --format json answers"
"$PY" "$LAB_DIR/facts.py" <"$LAB_OUT" >"$LAB_DIR/facts" 2>&1
sed 's/^/    facts| /' "$LAB_DIR/facts"
F=$LAB_DIR/facts
expect_grep "$F" "^mode=enforcing$" "json: mode"
expect_grep "$F" "^pid=$EGPID$" "json: egressd's pid"
expect_grep "$F" "^cgroup_id=$CGID$" "json: cgroup_id is the directory's inode"
expect_grep "$F" "^user=nobody:65534:" "json: session_user"
expect_grep "$F" "^dns=True:198\.51\.100\.1:53:refused$" "json: dns"
expect_grep "$F" "^loopback=none$" "json: loopback"
expect_grep "$F" "^static=198\.51\.100\.10/32:all:allowed\.test$" "json: static with its name"
expect_grep "$F" "^static=198\.51\.100\.30/32:all:$" "json: static without one"
expect_grep "$F" '^name=\*\.wild\.test$' "json: names"
expect_grep "$F" '^learned=198\.51\.100\.42:a\.wild\.test:all:[1-9][0-9]*$' "json: learned, positive expiry"
expect_grep "$F" '^learned=198\.51\.100\.10:allowed\.test:all:[1-9]' "json: allowed.test's lookup was learned too"
expect_grep "$F" '^counter=denied:not in allowlist:[1-9]' "json: a non-zero counter"
expect_grep "$F" '^denial=198\.51\.100\.20:80/tcp:not in allowlist:connect4:python3:False$' \
	"json: the recent denial"
# The ids the kernel has attached to that cgroup are the document's.
bpftool cgroup show "$HOSTCG" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { print $1 }' | sort -n >"$LAB_DIR/ids.kernel"
sed -n 's/^prog=[^:]*:\([0-9]*\):.*/\1/p' "$F" | sort -n >"$LAB_DIR/ids.doc"
if [ -s "$LAB_DIR/ids.kernel" ] && cmp -s "$LAB_DIR/ids.kernel" "$LAB_DIR/ids.doc"; then
	lab_ok "the program ids are the ones bpftool shows attached ($(wc -l <"$LAB_DIR/ids.doc"))"
else
	lab_fail "the program ids are the ones bpftool shows attached" \
		"kernel: $(tr '\n' ' ' <"$LAB_DIR/ids.kernel")" "doc: $(tr '\n' ' ' <"$LAB_DIR/ids.doc")"
fi

lab_section "--cgroup: the host's view, a relative path"
lab_run_in plain "$EGRESSD" status --cgroup "$HOSTCG" --format json
expect_rc 0 "the host's path to the same cgroup ($HOSTCG) works: the id is the same"
lab_run_in client "$EGRESSD" status --cgroup "${REL#/}"
expect_rc 0 "a path relative to the cgroup2 mount works"
expect_grep "$LAB_OUT" "^mode: +enforcing" "and answers"

lab_section "--verify"
lab_run_in client "$EGRESSD" status --cgroup "$CG" --verify
expect_rc 0 "--verify on the filtered cgroup exits 0"
if [ ! -s "$LAB_OUT" ] && [ ! -s "$LAB_ERR" ]; then
	lab_ok "and prints nothing"
else
	lab_fail "and prints nothing"
fi
NONE=$LAB_CG2/st84-none-$LAB_ID
mkdir "$NONE" || lab_die "mkdir $NONE"
lab_register_cgroup "$NONE"
lab_run_in client "$EGRESSD" status --cgroup "/sys/fs/cgroup${NONE#"$LAB_CG2"}" --verify
expect_rc 1 "--verify on a cgroup no egressd serves exits 1"
expect_grep "$LAB_ERR" "^egressd: ERROR: no egressd serves cgroup /sys/fs/cgroup${NONE#"$LAB_CG2"} " \
	"ERROR: no egressd serves it"
[ "$(wc -l <"$LAB_ERR")" = 1 ] && [ ! -s "$LAB_OUT" ] && lab_ok "one line, on stderr" ||
	lab_fail "one line, on stderr"
lab_run_in client "$EGRESSD" status --cgroup "/sys/fs/cgroup${NONE#"$LAB_CG2"}"
expect_rc 1 "status (text) on it fails too"

lab_section "who may connect"
expect_grep "$LAB_DIR/main.log" "^sock EACCES $SOCK$" \
	"the workload (nobody, in the filter) cannot connect to egressd's socket: EACCES"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "$PY" "$LAB_DIR/ask.py" "$SOCK"
expect_grep "$LAB_OUT" "^connect EACCES" "nobody outside the filter cannot connect either (the 0700 directory)"
lab_run_in client "$PY" "$LAB_DIR/ask.py" "$SOCK"
expect_grep "$LAB_OUT" '"mode":"enforcing"' "(control: root connects and gets the document)"
lab_run_in client setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	--inh-caps=-all,+dac_override --ambient-caps=-all,+dac_override \
	"$PY" "$LAB_DIR/ask.py" "$SOCK"
expect_grep "$LAB_OUT" "^connected$" "a non-root peer with CAP_DAC_OVERRIDE gets through the directory"
expect_fgrep "$LAB_OUT" '{"error":"permission denied: only root may ask egressd'"'"'s status"}' \
	"and the peer check refuses it"
expect_no_grep "$LAB_OUT" '"programs"' "with no document"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "$EGRESSD" status --cgroup "$CG"
expect_rc 1 "egressd status as nobody exits 1"
expect_grep "$LAB_ERR" "ERROR: only root may ask egressd's status" "and says only root may ask"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "$EGRESSD" status --cgroup "$CG" --verify
expect_rc 1 "--verify as nobody exits 1"

lab_section "the protocol: bad requests"
lab_run_in client "$PY" "$LAB_DIR/ask.py" "$SOCK" $'{"request":"shutdown"}\n'
expect_fgrep "$LAB_OUT" '{"error":"unknown request \"shutdown\"' "an unknown request is named"
lab_run_in client "$PY" "$LAB_DIR/ask.py" "$SOCK" $'not json\n'
expect_fgrep "$LAB_OUT" '{"error":"malformed request' "malformed JSON is an error"
lab_run_in client "$PY" "$LAB_DIR/ask.py" "$SOCK" "$(head -c 5000 /dev/zero | tr '\0' x)"
expect_fgrep "$LAB_OUT" '{"error":"request longer than 4096 bytes"}' "an overlong request is refused"
cat >"$LAB_DIR/idle.py" <<'EOF'
import socket, sys, time

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    return s

idle = [conn() for _ in range(16)]
time.sleep(0.3)
extra = conn()
extra.settimeout(3)
print("17th:", extra.recv(200).decode().strip())
t0 = time.monotonic()
idle[0].settimeout(5)
try:
    r = idle[0].recv(200)
    print("idle closed after %.1fs: %r" % (time.monotonic() - t0 + 0.3, r))
except socket.timeout:
    print("idle still open after 5s")
EOF
lab_run_in client "$PY" "$LAB_DIR/idle.py" "$SOCK"
expect_fgrep "$LAB_OUT" '17th: {"error":"busy: too many status connections"}' \
	"16 idle connections are served at once; the 17th is told it is one too many"
expect_grep "$LAB_OUT" "^idle closed after [1-3]\.[0-9]s: b''" "an idle connection is closed after about 2 s"
lab_run_in client "$PY" "$LAB_DIR/ask.py" "$SOCK"
expect_grep "$LAB_OUT" '"mode":"enforcing"' "and the server still answers after them"

lab_section "--verify notices a program detached behind egressd's back"
SKBID=$(sed -n 's/^prog=egress_skb:\([0-9]*\):.*/\1/p' "$F")
bpftool cgroup detach "$HOSTCG" egress id "$SKBID" || lab_die "cannot detach $SKBID"
lab_run_in client "$EGRESSD" status --cgroup "$CG" --verify
expect_rc 1 "--verify exits 1"
expect_grep "$LAB_ERR" "ERROR: program egress_skb \(id $SKBID, cgroup_inet_egress\) of egressd pid $EGPID is not attached to cgroup $CG" \
	"and names the program that is not attached"

lab_section "the socket goes with egressd"
stop_egressd "$EGPID"
if [ ! -e "$SOCK" ]; then
	lab_ok "after egressd exits, $SOCK is gone"
else
	lab_fail "after egressd exits, $SOCK is gone"
fi

lab_section "--audit, under --cgroup self; the default --cgroup self of the client"
AUD=$LAB_CG2/st84-aud-$LAB_ID
mkdir "$AUD" || lab_die "mkdir $AUD"
lab_register_cgroup "$AUD"
AREL=${AUD#"$LAB_CG2"}
AID=$(stat -c %i "$AUD")
# Stale sockets of this cgroup: one of a dead pid (removed at start), one
# of a live pid with nobody listening (kept; the client skips it).
sh -c 'exit 0' &
DEAD=$!
wait "$DEAD"
sleep 300 &
LIVE=$!
LAB_PIDS+=("$LIVE")
disown "$LIVE"
DEAD_SOCK=$RT/cg-$AID.$DEAD.sock
LIVE_SOCK=$RT/cg-$AID.$LIVE.sock
# A dead pid's socket of another cgroup (an egressd killed with SIGKILL
# in a cgroup nobody uses again) goes too.
OTHER_SOCK=$RT/cg-1$AID.$DEAD.sock
"$PY" -c 'import socket, sys
for p in sys.argv[1:]:
    socket.socket(socket.AF_UNIX).bind(p)' "$DEAD_SOCK" "$LIVE_SOCK" "$OTHER_SOCK" || lab_die "cannot plant stale sockets"
rm -f "$LAB_WORK/aud.ready"
lab_bg aud "$LAB_CLIENT" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup &&
	echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh "$AREL" \
	"$EGRESSD" run --cgroup self --audit --user nobody --allow-domains allowed.test -- \
	sh -c 'touch "$1"; exec sleep 120' sh "$LAB_WORK/aud.ready"
AUDPID=$LAB_LAST_PID
wait_file "$LAB_WORK/aud.ready" "$AUDPID" "$LAB_DIR/aud.log"
lab_wait 5 "the audit run's socket" test -S "$RT/cg-$AID.$AUDPID.sock"
if [ ! -e "$DEAD_SOCK" ]; then
	lab_ok "a stale socket of a dead pid was removed at start"
else
	lab_fail "a stale socket of a dead pid was removed at start"
fi
if [ ! -e "$OTHER_SOCK" ]; then
	lab_ok "a stale socket of another cgroup was removed at start too"
else
	lab_fail "a stale socket of another cgroup was removed at start too"
	rm -f "$OTHER_SOCK"
fi
if [ -e "$LIVE_SOCK" ]; then
	lab_ok "one of a live pid was kept"
else
	lab_fail "one of a live pid was kept"
fi
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh \
	"$AREL" "$EGRESSD" status --format json
expect_rc 0 "egressd status with no --cgroup asks about the caller's own cgroup (skipping the dead socket)"
"$PY" "$LAB_DIR/facts.py" <"$LAB_OUT" >"$LAB_DIR/afacts" 2>&1
expect_grep "$LAB_DIR/afacts" "^mode=audit$" "mode audit"
expect_grep "$LAB_DIR/afacts" "^pid=$AUDPID$" "from the audit run's egressd"
lab_run_in client "$EGRESSD" status --cgroup "/sys/fs/cgroup$AREL" --verify
expect_rc 1 "--verify of an --audit run exits 1"
expect_grep "$LAB_ERR" "ERROR: egressd pid $AUDPID serving cgroup /sys/fs/cgroup$AREL is in audit mode: nothing is blocked there" \
	"and says it is in audit mode"
stop_egressd "$AUDPID"
[ ! -e "$RT/cg-$AID.$AUDPID.sock" ] && lab_ok "its socket is gone too" || lab_fail "its socket is gone too"
rm -f "$LIVE_SOCK"
LIVE_SOCK=

lab_section "a runtime directory egressd must not use: a warning, and filtering as before"
BAD=$LAB_DIR/rt-open
mkdir -m 0755 "$BAD"
lab_run_in client env EGRESSD_RUNTIME_DIR="$BAD" "$EGRESSD" run --user nobody \
	--allow-domains allowed.test -- "$LAB_PROBE" tcp "$LAB_DENIED4" 80 1000
lab_check_verdict blocked "a 0755 runtime directory: the command still runs, filtered"
expect_grep "$LAB_ERR" "WARNING: status socket unavailable \($BAD has mode 0755; it must be 0700 \(no group or other access\)\): egressd status and --verify will not work" \
	"the warning says why and what will not work"
if [ -z "$(ls -A "$BAD")" ]; then lab_ok "no socket was made there"; else lab_fail "no socket was made there"; fi
ln -s "$LAB_DIR/rt-open" "$LAB_DIR/rt-link"
lab_run_in client env EGRESSD_RUNTIME_DIR="$LAB_DIR/rt-link" "$EGRESSD" run --user nobody \
	--allow-domains allowed.test -- "$LAB_PROBE" tcp "$LAB_ALLOWED4" 80
lab_check_verdict ok "a symlinked runtime directory: the command still runs"
expect_grep "$LAB_ERR" "status socket unavailable \($LAB_DIR/rt-link is not a directory \(a symlink\)\)" \
	"the warning names the symlink"
lab_run_in client env EGRESSD_RUNTIME_DIR=/proc/egressd-no "$EGRESSD" run --user nobody \
	--allow-domains allowed.test -- "$LAB_PROBE" tcp "$LAB_DENIED4" 80 1000
lab_check_verdict blocked "a runtime directory that cannot be made: still filtered"
expect_grep "$LAB_ERR" "status socket unavailable \(cannot create /proc/egressd-no: " "the warning says it cannot be made"
OWN=$LAB_DIR/rt-own
lab_run_in client env EGRESSD_RUNTIME_DIR="$OWN" "$EGRESSD" run --user nobody \
	--allow-domains allowed.test -- sh -c "ls -A '$OWN' 2>&1; exit 0"
expect_grep "$LAB_OUT" "Permission denied" "EGRESSD_RUNTIME_DIR: made 0700 (the command, nobody, cannot list it)"
m=$(stat -c '%a %u' "$OWN" 2>/dev/null)
[ "$m" = "700 0" ] && lab_ok "EGRESSD_RUNTIME_DIR is made 0700 root's" || lab_fail "EGRESSD_RUNTIME_DIR is made 0700 root's" "it is: $m"
[ -z "$(ls -A "$OWN")" ] && lab_ok "and its socket removed at exit" || lab_fail "and its socket removed at exit"

lab_section "a large document: 4200 learned addresses, 4096 listed"
cat >"$LAB_DIR/many.py" <<'EOF'
import concurrent.futures, socket, sys, time

def look(i):
    try:
        socket.getaddrinfo("n%d.mny.test" % i, 80, socket.AF_INET6, socket.SOCK_STREAM)
        return True
    except OSError:
        return False

with concurrent.futures.ThreadPoolExecutor(16) as ex:
    ok = sum(ex.map(look, range(1, int(sys.argv[1]) + 1)))
print("resolved", ok, flush=True)
open(sys.argv[2], "w").close()
time.sleep(120)
EOF
chmod 0644 "$LAB_DIR/many.py"
rm -f "$LAB_WORK/many.ready"
start_egressd many --user nobody --allow-domains '*.mny.test' -- \
	"$PY" "$LAB_DIR/many.py" "$NMANY" "$LAB_WORK/many.ready"
MPID=$LAB_LAST_PID
WAIT_SECS=60 wait_file "$LAB_WORK/many.ready" "$MPID" "$LAB_DIR/many.log"
expect_grep "$LAB_DIR/many.log" "^resolved $NMANY$" "(the workload resolved all $NMANY names)"
MCG=$(lab_pid_cgroup "$(pgrep -P "$MPID" | head -n1)") || lab_die "no cgroup for the many run"
# Not through lab_run_in: 600 KB of JSON would swamp the test log.
LAB_OUT=$LAB_DIR/many.json
timeout 60 "$EGRESSD" status --cgroup "$MCG" --format json >"$LAB_OUT" 2>"$LAB_DIR/many.err"
LAB_RC=$?
sed 's/^/    ! /' "$LAB_DIR/many.err"
expect_rc 0 "status answers"
n=$(stat -c %s "$LAB_OUT")
if [ "$n" -gt 262144 ]; then
	lab_ok "the document ($n bytes) is larger than a socket buffer"
else
	lab_fail "the document ($n bytes) is larger than a socket buffer"
fi
"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("listed=%d total=%d truncated=%s" % (len(d["learned"]), d["learned_total"], d["learned_truncated"]))' \
	"$LAB_OUT" >"$LAB_DIR/many.facts" 2>&1
cat "$LAB_DIR/many.facts"
expect_grep "$LAB_DIR/many.facts" "^listed=4096 total=$NMANY truncated=True$" \
	"it arrives whole: 4096 listed of $NMANY learned, truncated"
lab_run_in plain "$EGRESSD" status --cgroup "$MCG" --verify
expect_rc 0 "--verify on it"
stop_egressd "$MPID"

lab_section "bad input"
lab_run_in client "$EGRESSD" status --format xml
expect_rc 2 "--format xml is refused"
expect_grep "$LAB_ERR" 'ERROR: --format: unknown format "xml" \(use text or json\)' "and named"
lab_run_in client "$EGRESSD" status --cgroup "/sys/fs/cgroup/st84-missing-$LAB_ID"
expect_rc 1 "a missing cgroup fails"
expect_grep "$LAB_ERR" "ERROR: cgroup /sys/fs/cgroup/st84-missing-$LAB_ID: No such file or directory" "and is named"
lab_run_in client "$EGRESSD" status --cgroup ""
expect_rc 2 "an empty --cgroup is refused"
lab_run_in client "$EGRESSD" status --bogus
expect_rc 2 "an unknown option is refused"
expect_grep "$LAB_ERR" "ERROR: unknown option --bogus" "and named"
lab_run_in client "$EGRESSD" status extra
expect_rc 2 "a stray argument is refused"
expect_grep "$LAB_ERR" 'ERROR: unexpected argument "extra"' "and named"
lab_run_in client "$EGRESSD" status --cgroup
expect_rc 2 "--cgroup without a value is refused"
expect_grep "$LAB_ERR" "ERROR: option --cgroup needs a value" "and says it needs a value"
lab_run_in client "$EGRESSD" status --help
expect_rc 0 "--help"
expect_grep "$LAB_OUT" "Usage: egressd status" "prints the usage"
lab_run_in client "$EGRESSD" help
expect_grep "$LAB_OUT" "^  status " "egressd help lists status"

lab_finish
