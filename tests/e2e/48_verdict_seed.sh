#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The per-socket verdict seeded by the socket hooks (issue 10): a UDP
# socket that connect()s to an allowed address, and sends nothing, already
# has its entry in the `verdicts` socket storage, with exactly the dest
# the packet hook would have written for its first packet (so that packet
# hits).  Read from outside: tests/helpers/seedprobe takes the socket with
# pidfd_getfd and looks it up in the map found through the cgroup's
# connect4 programs.
#   - allowlist v4, v6, IPv4-mapped v6 (folded to v4, as on the wire), TCP;
#   - learned (a wildcard's name resolved through the DNS proxy);
#   - the client's own address, which routes through lo: the seed's
#     via_lo=0 guess is wrong there, so the first packet misses and the
#     packet hook writes its own verdict (via_lo=1);
#   - no entry: a denied destination let through by --audit, loopback,
#     DNS redirected to the proxy, and (negative control) EGRESSD_NO_SEED=1,
#     which turns the seed off: then only a sent packet makes the entry,
#     and that entry must equal the seeded one field for field;
#   - traffic still passes and blocks as before, TCP and UDP, v4 and v6,
#     denied destinations failing at connect() with EPERM.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
# A wildcard cannot be resolved at start: its addresses can only be learned.
lab_dns_add 'host-record=a.seed.test,198.51.100.30'
lab_start_servers

SEEDPROBE_SRC=$LAB_REPO/build/tests/seedprobe
[ -x "$SEEDPROBE_SRC" ] || lab_skip "seedprobe helper not built: $SEEDPROBE_SRC (run: make test-bins)"
SEEDPROBE=$LAB_DIR/seedprobe
install -m 0755 "$SEEDPROBE_SRC" "$SEEDPROBE" || lab_die "cannot copy $SEEDPROBE_SRC"

ALLOW=(--allow-domains "$LAB_ALLOWED4,$LAB_ALLOWED6" --user nobody)
HOLD_N=0
H=("$SEEDPROBE" hold)

# hold ENV EGRESSD-ARGS... -- CMD...: egressd run ... -- CMD (seedprobe
# hold ...) in the background, until it has connected (or failed).
# Sets HOLD_OUT, HOLD_BG (egressd), HOLD_PID and HOLD_FD (the workload).
hold()
{
	local envv=$1 i
	local -a eg=()

	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		eg+=("$1")
		shift
	done
	shift
	HOLD_N=$((HOLD_N + 1))
	HOLD_OUT=$LAB_DIR/hold$HOLD_N.out
	printf '  $ %s egressd run %s -- %s\n' "$envv" "$(lab_quote "${eg[@]}")" "$(lab_quote "$@")"
	env ${envv:+"$envv"} "${LAB_CLIENT_CMD[@]}" "$EGRESSD" run "${eg[@]}" -- \
		"$@" >"$HOLD_OUT" 2>"$LAB_DIR/hold$HOLD_N.err" </dev/null &
	HOLD_BG=$!
	LAB_PIDS+=("$HOLD_BG")
	for ((i = 0; i < 200; i++)); do
		grep -Eqs '^(connected|connect error)' "$HOLD_OUT" && break
		lab_alive "$HOLD_BG" || break
		sleep 0.05
	done
	sed 's/^/    | /' "$HOLD_OUT"
	sed 's/^/    ! /' "$LAB_DIR/hold$HOLD_N.err"
	HOLD_PID=$(sed -n 's/^connected pid=\([0-9]*\) fd=.*/\1/p' "$HOLD_OUT")
	HOLD_FD=$(sed -n 's/^connected pid=[0-9]* fd=\([0-9]*\)$/\1/p' "$HOLD_OUT")
}

# The workload's verdicts entry: "entry ..." or "none" in LAB_OUT.
lookup()
{
	local cg

	[ -n "$HOLD_PID" ] || {
		: >"$LAB_DIR/nolookup"
		LAB_OUT=$LAB_DIR/nolookup
		LAB_RC=2
		return 0
	}
	cg=$(lab_pid_cgroup "$HOLD_PID") || cg=/nonexistent
	lab_run_in plain "$SEEDPROBE" lookup "$HOLD_PID" "$HOLD_FD" "$cg"
}

hold_stop()
{
	[ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null
	wait "$HOLD_BG" 2>/dev/null
	HOLD_PID=
}

# expect_entry DESC ERE: the lookup found an entry matching ERE.
expect_entry()
{
	if [ "$LAB_RC" -ne 0 ]; then
		lab_fail "$1" "lookup failed (rc=$LAB_RC)"
	elif grep -Eq -- "^entry $2\$" "$LAB_OUT"; then
		lab_ok "$1"
	else
		lab_fail "$1" "expected 'entry $2', got '$(head -n1 "$LAB_OUT")'"
	fi
}

expect_none()
{
	if [ "$LAB_RC" -eq 0 ] && [ "$(head -n1 "$LAB_OUT")" = none ]; then
		lab_ok "$1"
	else
		lab_fail "$1" "expected no entry, got rc=$LAB_RC '$(head -n1 "$LAB_OUT")'"
	fi
}

# seeded ENV DESC ERE|none EGRESSD-ARGS... -- CMD...
seeded()
{
	local envv=$1 desc=$2 re=$3

	shift 3
	hold "$envv" "$@"
	lookup
	if [ "$re" = none ]; then
		expect_none "$desc"
	else
		expect_entry "$desc" "$re"
	fi
	cp "$LAB_OUT" "$LAB_DIR/last.lookup"
	hold_stop
}

# refused DESC EGRESSD-ARGS... -- CMD...: connect() fails with EPERM.
refused()
{
	local desc=$1

	shift
	hold "" "$@"
	if grep -qx 'connect error=EPERM' "$HOLD_OUT"; then
		lab_ok "$desc"
	else
		lab_fail "$desc" "expected 'connect error=EPERM', got '$(head -n1 "$HOLD_OUT")'"
	fi
	hold_stop
}

lab_section "connect() alone seeds the verdict (UDP, nothing sent)"
seeded "" "udp 198.51.100.10:7: seeded, v4" \
	"family=4 proto=17 has_port=1 dport=7 via_lo=0 addr=198.51.100.10 reason=allowlist rule=[0-9]+" \
	"${ALLOW[@]}" -- "${H[@]}" udp "$LAB_ALLOWED4" 7 20
cp "$LAB_DIR/last.lookup" "$LAB_DIR/seed4.lookup"
seeded "" "udp [2001:db8::10]:7: seeded, v6" \
	"family=6 proto=17 has_port=1 dport=7 via_lo=0 addr=2001:db8::10 reason=allowlist rule=[0-9]+" \
	"${ALLOW[@]}" -- "${H[@]}" udp "$LAB_ALLOWED6" 7 20
cp "$LAB_DIR/last.lookup" "$LAB_DIR/seed6.lookup"
seeded "" "udp [::ffff:198.51.100.10]:7: seeded as the IPv4 the wire carries" \
	"family=4 proto=17 has_port=1 dport=7 via_lo=0 addr=198.51.100.10 reason=allowlist rule=[0-9]+" \
	"${ALLOW[@]}" -- "${H[@]}" udp "::ffff:$LAB_ALLOWED4" 7 20
seeded "" "tcp 198.51.100.10:80: an entry for the connected stream" \
	"family=4 proto=6 has_port=1 dport=80 via_lo=0 addr=198.51.100.10 reason=allowlist rule=[0-9]+" \
	"${ALLOW[@]}" -- "${H[@]}" tcp "$LAB_ALLOWED4" 80 20
seeded "" "udp 198.51.100.30:7 after resolving a.seed.test (*.seed.test): a learned pass is not seeded" \
	none --allow-domains '*.seed.test' --user nobody -- sh -c \
	"getent hosts a.seed.test >/dev/null && exec $SEEDPROBE hold udp $LAB_OTHER4 7 20"
seeded "" "the same, one datagram: the packet hook caches it as learned" \
	"family=4 proto=17 has_port=1 dport=7 via_lo=0 addr=198.51.100.30 reason=learned rule=[0-9]+" \
	--allow-domains '*.seed.test' --user nobody -- sh -c \
	"getent hosts a.seed.test >/dev/null && exec $SEEDPROBE hold udp $LAB_OTHER4 7 20 send"

lab_section "a wrong guess misses safely: the client's own address routes through lo"
seeded "" "udp 198.51.100.2:7 (own address): seeded with via_lo=0" \
	"family=4 proto=17 has_port=1 dport=7 via_lo=0 addr=198.51.100.2 reason=allowlist rule=[0-9]+" \
	--allow-domains 198.51.100.2 --user nobody -- "${H[@]}" udp 198.51.100.2 7 20
seeded "" "udp 198.51.100.2:7 (own address), one datagram: the packet hook missed and rewrote it (via_lo=1)" \
	"family=4 proto=17 has_port=1 dport=7 via_lo=1 addr=198.51.100.2 reason=allowlist rule=[0-9]+" \
	--allow-domains 198.51.100.2 --user nobody -- "${H[@]}" udp 198.51.100.2 7 20 send

lab_section "no entry where the socket hooks did not pass by the allowlist"
seeded "" "udp 198.51.100.20:7 let through by --audit: no entry" none \
	--audit "${ALLOW[@]}" -- "${H[@]}" udp "$LAB_DENIED4" 7 20
seeded "" "udp 127.0.0.1:7 (loopback): no entry" none \
	"${ALLOW[@]}" -- "${H[@]}" udp 127.0.0.1 7 20
seeded "" "udp 198.51.100.1:53 (redirected to the DNS proxy): no entry" none \
	"${ALLOW[@]}" -- "${H[@]}" udp "$LAB_RESOLVER4" 53 20

lab_section "negative control: EGRESSD_NO_SEED=1 turns the seed off"
seeded EGRESSD_NO_SEED=1 "udp 198.51.100.10:7, seed off: no entry before a packet" none \
	"${ALLOW[@]}" -- "${H[@]}" udp "$LAB_ALLOWED4" 7 20
seeded EGRESSD_NO_SEED=1 "udp 198.51.100.10:7, seed off, one datagram: the packet hook's entry" \
	"family=4 .*" "${ALLOW[@]}" -- "${H[@]}" udp "$LAB_ALLOWED4" 7 20 send
if cmp -s "$LAB_DIR/last.lookup" "$LAB_DIR/seed4.lookup"; then
	lab_ok "v4: the seeded entry is the one the packet hook writes"
else
	lab_fail "v4: the seeded entry is the one the packet hook writes" \
		"seeded '$(cat "$LAB_DIR/seed4.lookup")', packet hook '$(cat "$LAB_DIR/last.lookup")'"
fi
seeded EGRESSD_NO_SEED=1 "udp [2001:db8::10]:7, seed off, one datagram: the packet hook's entry" \
	"family=6 .*" "${ALLOW[@]}" -- "${H[@]}" udp "$LAB_ALLOWED6" 7 20 send
if cmp -s "$LAB_DIR/last.lookup" "$LAB_DIR/seed6.lookup"; then
	lab_ok "v6: the seeded entry is the one the packet hook writes"
else
	lab_fail "v6: the seeded entry is the one the packet hook writes" \
		"seeded '$(cat "$LAB_DIR/seed6.lookup")', packet hook '$(cat "$LAB_DIR/last.lookup")'"
fi

lab_section "a learned address's first datagram after its expiry is refused (connected, corked)"
# udpexp.py MODE ADDR WAIT: resolve a.seed.test (learned, TTL 1 s), then
#   connected: connect(), wait, send() and wait for the echo;
#   corked:    sendto(MSG_MORE), wait, sendto() (the kernel's pending path
#              runs no socket hook) and wait for the echo.
# Prints "echo" or "refused <errno name>" or "no echo".
cat >"$LAB_DIR/udpexp.py" <<'PY'
import errno, socket, sys, time
mode, addr, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
socket.getaddrinfo("a.seed.test", 7, socket.AF_INET)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
try:
    if mode == "connected":
        s.connect((addr, 7))
        time.sleep(wait)
        s.send(b"after-ttl")
    else:
        s.sendto(b"corked-", socket.MSG_MORE, (addr, 7))
        time.sleep(wait)
        s.sendto(b"after-ttl", (addr, 7))
    s.recv(100)
    print("echo")
except socket.timeout:
    print("no echo")
except OSError as e:
    print("refused " + errno.errorcode.get(e.errno, str(e.errno)))
PY
chmod a+r "$LAB_DIR/udpexp.py"
LEARN_TTL=(--allow-domains '*.seed.test' --min-ttl 1 --max-ttl 1 --user nobody)
for mode in connected corked; do
	lab_egressd run "${LEARN_TTL[@]}" -- python3 "$LAB_DIR/udpexp.py" "$mode" "$LAB_OTHER4" 0
	expect_grep "$LAB_OUT" '^echo$' "(control: $mode, sent at once, the learned address echoes)"
	lab_egressd run "${LEARN_TTL[@]}" -- python3 "$LAB_DIR/udpexp.py" "$mode" "$LAB_OTHER4" 3
	expect_grep "$LAB_OUT" '^refused EPERM$' "$mode: the first datagram 3 s after a 1 s TTL is refused"
done

lab_section "a connected UDP send with an IP-level cmsg (no address) is not refused"
cat >"$LAB_DIR/udpcmsg.py" <<'PY'
import socket, struct, sys
fam, addr = (socket.AF_INET6, sys.argv[1]) if ":" in sys.argv[1] else (socket.AF_INET, sys.argv[1])
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect((addr, 7))
if fam == socket.AF_INET:
    cm = [(socket.IPPROTO_IP, socket.IP_TOS, struct.pack("i", 16)),
          (socket.IPPROTO_IP, socket.IP_TTL, struct.pack("i", 32))]
else:
    cm = [(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, struct.pack("i", 16))]
for c in cm:
    try:
        s.sendmsg([b"cmsg"], [c])
        s.recv(100)
        print("echo")
    except socket.timeout:
        print("no echo")
    except OSError as e:
        print("refused %d" % e.errno)
PY
chmod a+r "$LAB_DIR/udpcmsg.py"
lab_egressd run "${ALLOW[@]}" -- python3 "$LAB_DIR/udpcmsg.py" "$LAB_ALLOWED4"
[ "$(grep -c '^echo$' "$LAB_OUT")" = 2 ] && lab_ok "udp-connected 198.51.100.10:7 with IP_TOS, IP_TTL cmsgs: echoed" ||
	lab_fail "udp-connected 198.51.100.10:7 with IP_TOS, IP_TTL cmsgs: echoed" "$(tr '\n' ' ' <"$LAB_OUT")"
lab_egressd run "${ALLOW[@]}" -- python3 "$LAB_DIR/udpcmsg.py" "$LAB_ALLOWED6"
expect_grep "$LAB_OUT" '^echo$' "udp-connected [2001:db8::10]:7 with an IPV6_TCLASS cmsg: echoed"
# --audit lets the connect to a denied peer through; the sends must still
# be judged (and, under audit, counted as denied) by the packet hook.
lab_egressd run --audit --stats "${ALLOW[@]}" -- python3 "$LAB_DIR/udpcmsg.py" "$LAB_DENIED4"
expect_grep "$LAB_ERR" '^egressd: stats: packets allowed [0-9]+ \([0-9]+ bytes\), denied [1-9][0-9]* ' \
	"a denied peer (connected under --audit): its cmsg sends are judged, and denied, by the packet hook"

lab_section "traffic passes and blocks as before"
EG_ARGS=("${ALLOW[@]}")
expect_probe ok "tcp 198.51.100.10:80" tcp "$LAB_ALLOWED4" 80
expect_probe ok "udp-connected 198.51.100.10:7" udp-connected "$LAB_ALLOWED4" 7
expect_probe ok "tcp [2001:db8::10]:80" tcp "$LAB_ALLOWED6" 80
expect_probe ok "udp-connected [2001:db8::10]:7" udp-connected "$LAB_ALLOWED6" 7
expect_probe ok "udp [::ffff:198.51.100.10]:7" udp "::ffff:$LAB_ALLOWED4" 7
expect_probe blocked "tcp 198.51.100.20:80" tcp "$LAB_DENIED4" 80
expect_probe blocked "udp-connected 198.51.100.20:7" udp-connected "$LAB_DENIED4" 7
expect_probe blocked "tcp [2001:db8::20]:80" tcp "$LAB_DENIED6" 80
expect_probe blocked "udp-connected [2001:db8::20]:7" udp-connected "$LAB_DENIED6" 7
refused "tcp 198.51.100.20:80: connect() fails with EPERM" "${ALLOW[@]}" -- "${H[@]}" tcp "$LAB_DENIED4" 80 0
refused "udp 198.51.100.20:7: connect() fails with EPERM" "${ALLOW[@]}" -- "${H[@]}" udp "$LAB_DENIED4" 7 0
refused "tcp [2001:db8::20]:80: connect() fails with EPERM" "${ALLOW[@]}" -- "${H[@]}" tcp "$LAB_DENIED6" 80 0
refused "udp [2001:db8::20]:7: connect() fails with EPERM" "${ALLOW[@]}" -- "${H[@]}" udp "$LAB_DENIED6" 7 0

lab_finish
