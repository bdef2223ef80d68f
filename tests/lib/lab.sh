# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# lab.sh: the network lab every end-to-end test sources.
#
#   . "$(dirname "$0")/../lib/lab.sh"
#   lab_init                  # root, tools, temp dir, cleanup trap
#   lab_require_egressd       # SKIP when build/egressd is missing
#   lab_up                    # namespaces, veth, addresses, resolv.conf
#   lab_start_servers         # TCP 80/8080, UDP echo 7, dnsmasq, loopback
#   EG_ARGS=(--allow-domains 198.51.100.10 --user nobody)
#   expect_probe ok      "allowed tcp" tcp 198.51.100.10 80
#   expect_probe blocked "denied tcp"  tcp 198.51.100.20 80
#   lab_finish
#
# Network safety: traffic only ever flows between the two namespaces made
# here, on TEST-NET addresses (198.51.100.0/24, 2001:db8::/32).  The client
# namespace has no default route, so nothing it sends can reach the
# machine's own network even by mistake.
#
# Layout:
#   client ns egc-ID: veth vcID  198.51.100.2/24  2001:db8::2/64
#                     loopback servers: TCP 9000, UDP echo 7 on 127.0.0.1/::1
#   host ns   egh-ID: veth vhID  198.51.100.1/24  2001:db8::1/64
#                     + .10 (ALLOWED) .20 (DENIED) .30, 2001:db8::10, ::20
#                     TCP 80, 8080 (answer "ok"), UDP echo 7 on every address,
#                     dnsmasq on 198.51.100.1, 198.51.100.30, 2001:db8::1
#   /etc/netns/egc-ID/resolv.conf: nameserver 198.51.100.1
#
# Every test is a separate bash process with its own lab; the EXIT trap
# removes namespaces, /etc/netns dirs, processes, cgroups and bpffs pins
# even when the test fails or is interrupted.

set -u -o pipefail

LAB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EGRESSD=${EGRESSD:-$LAB_REPO/build/egressd}
PROBE=${PROBE:-$LAB_REPO/build/tests/probe}

# The host-side addresses tests aim at (the layout above).
LAB_ALLOWED4=198.51.100.10
LAB_DENIED4=198.51.100.20
LAB_OTHER4=198.51.100.30
LAB_RESOLVER4=198.51.100.1
LAB_ALLOWED6=2001:db8::10
LAB_DENIED6=2001:db8::20
LAB_RESOLVER6=2001:db8::1

# Timeouts (ms) the probe gets: allowed traffic answers in a few ms; a
# blocked TCP connect only ends at the timeout, so keep that one short.
LAB_OK_MS=3000
LAB_BLOCK_MS=1000

LAB_PIDS=()
LAB_CGROUPS=()
# Namespaces beyond the client and host pair (lab_netns_add), removed at
# exit like those two.
LAB_EXTRA_NETNS=()
LAB_FAILS=0
LAB_CHECKS=0
LAB_N=0
LAB_NETNS_MADE=0
LAB_ETC_NETNS_MADE=0
LAB_DIR=
LAB_RC=0
LAB_OUT=/dev/null
LAB_ERR=/dev/null

lab_log() { printf '%s\n' "$*"; }

# run.sh sets LAB_RECORD: every namespace, directory and cgroup this lab
# makes is listed there, and run.sh checks each is gone after the test.
# (A before/after diff of the whole machine would blame this test for
# another run going on at the same time.)
lab_record()
{
	[ -n "${LAB_RECORD:-}" ] && printf '%s %s\n' "$1" "$2" >>"$LAB_RECORD"
	return 0
}

lab_skip()
{
	printf 'SKIP: %s\n' "$*" >&2
	exit 77
}

# A broken lab is a failed test, never a skip: it must not hide.
lab_die()
{
	printf 'FAIL: lab: %s\n' "$*" >&2
	exit 1
}

lab_ok()
{
	LAB_CHECKS=$((LAB_CHECKS + 1))
	printf '  ok   - %s\n' "$1"
}

lab_fail()
{
	LAB_CHECKS=$((LAB_CHECKS + 1))
	LAB_FAILS=$((LAB_FAILS + 1))
	printf '  FAIL - %s\n' "$1"
	shift
	[ $# -gt 0 ] && printf '         %s\n' "$@"
	return 0
}

lab_section() { printf '\n== %s\n' "$*"; }

# The cgroup2 mount point, from mountinfo (field 5, fstype after " - ").
lab_find_cgroup2()
{
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
	       if ($(i + 1) == "cgroup2") { print $5; exit } }' /proc/self/mountinfo
}

lab_bpffs_mounts()
{
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
	       if ($(i + 1) == "bpf") print $5 }' /proc/self/mountinfo
}

# All cgroup directories, one a line, for before/after comparisons.
lab_cgroup_dirs()
{
	find "$LAB_CG2" -mindepth 1 -type d 2>/dev/null | sort
}

lab_init()
{
	local t

	[ "$(id -u)" -eq 0 ] || lab_skip "end-to-end tests need root (network namespaces, cgroups, BPF)"
	for t in ip ss socat dnsmasq setpriv timeout awk find; do
		command -v "$t" >/dev/null 2>&1 || lab_skip "missing tool: $t"
	done
	LAB_PY=$(command -v /usr/bin/python3 || command -v python3) ||
		lab_skip "missing tool: python3"
	[ -x "$PROBE" ] || lab_skip "probe helper not built: $PROBE (run: make test-bins)"

	LAB_CG2=$(lab_find_cgroup2)
	[ -n "$LAB_CG2" ] || lab_skip "no cgroup2 mount on this machine"

	LAB_ID=$(printf '%04x%04x' $(($$ & 0xffff)) $((RANDOM & 0xffff)))
	LAB_CLIENT=egc-$LAB_ID
	LAB_HOST=egh-$LAB_ID
	LAB_VC=vc$LAB_ID
	LAB_VH=vh$LAB_ID
	lab_set_runners

	trap lab_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP

	LAB_DIR=$(mktemp -d /tmp/egressd-e2e.XXXXXX) || lab_die "mktemp failed"
	lab_record path "$LAB_DIR"
	chmod 0755 "$LAB_DIR"
	# The workload runs as nobody: give it a binary it can execute even
	# when the repo sits under a 0700 home, and a place to write results.
	LAB_PROBE=$LAB_DIR/probe
	install -m 0755 "$PROBE" "$LAB_PROBE" || lab_die "cannot copy $PROBE"
	LAB_WORK=$LAB_DIR/work
	mkdir -m 1777 "$LAB_WORK"

	lab_cgroup_dirs >"$LAB_DIR/cgroups.before"
	: >"$LAB_DIR/bpffs.before"
	for t in $(lab_bpffs_mounts); do
		find "$t" -mindepth 1 >>"$LAB_DIR/bpffs.before" 2>/dev/null
	done
	sort -o "$LAB_DIR/bpffs.before" "$LAB_DIR/bpffs.before"

	lab_log "lab $LAB_ID: client=$LAB_CLIENT host=$LAB_HOST dir=$LAB_DIR cgroup2=$LAB_CG2"
	lab_log "EGRESSD=$EGRESSD"
}

# A private copy: a rebuild while the test runs must not pull the binary
# out from under it (exec of a half-linked file fails with EACCES/ETXTBSY).
lab_require_egressd()
{
	[ -x "$EGRESSD" ] || lab_skip "egressd not built: $EGRESSD (run: make)"
	install -m 0755 "$EGRESSD" "$LAB_DIR/egressd" || lab_die "cannot copy $EGRESSD"
	EGRESSD=$LAB_DIR/egressd
}

lab_up()
{
	local ns

	lab_record netns "$LAB_CLIENT"
	lab_record netns "$LAB_HOST"
	lab_record path "/etc/netns/$LAB_CLIENT"
	ip netns add "$LAB_CLIENT" || lab_die "ip netns add $LAB_CLIENT"
	LAB_NETNS_MADE=1
	ip netns add "$LAB_HOST" || lab_die "ip netns add $LAB_HOST"
	LAB_NETNS_MADE=2
	# Both ends are born inside their namespaces: no interface ever
	# appears in the machine's own namespace.
	ip link add "$LAB_VC" netns "$LAB_CLIENT" type veth \
		peer name "$LAB_VH" netns "$LAB_HOST" || lab_die "veth"

	for ns in "$LAB_CLIENT" "$LAB_HOST"; do
		ip -n "$ns" link set lo up || lab_die "lo up in $ns"
	done

	ip -n "$LAB_CLIENT" addr add 198.51.100.2/24 dev "$LAB_VC" &&
	ip -n "$LAB_CLIENT" addr add 2001:db8::2/64 dev "$LAB_VC" nodad &&
	ip -n "$LAB_HOST" addr add 198.51.100.1/24 dev "$LAB_VH" &&
	ip -n "$LAB_HOST" addr add 198.51.100.10/24 dev "$LAB_VH" &&
	ip -n "$LAB_HOST" addr add 198.51.100.20/24 dev "$LAB_VH" &&
	ip -n "$LAB_HOST" addr add 198.51.100.30/24 dev "$LAB_VH" &&
	ip -n "$LAB_HOST" addr add 2001:db8::1/64 dev "$LAB_VH" nodad &&
	ip -n "$LAB_HOST" addr add 2001:db8::10/64 dev "$LAB_VH" nodad &&
	ip -n "$LAB_HOST" addr add 2001:db8::20/64 dev "$LAB_VH" nodad ||
		lab_die "adding addresses"

	# Unprivileged ping sockets (probe icmp) for every gid, in the client
	# namespace only: ICMP reaches the cgroup/skb program with no
	# sock_addr hook in front of it.
	ip netns exec "$LAB_CLIENT" sysctl -qw net.ipv4.ping_group_range="0 2147483647" ||
		lab_die "ping_group_range"

	ip -n "$LAB_CLIENT" link set "$LAB_VC" up &&
	ip -n "$LAB_HOST" link set "$LAB_VH" up || lab_die "veth up"

	if [ ! -d /etc/netns ]; then
		mkdir /etc/netns || lab_die "mkdir /etc/netns"
		LAB_ETC_NETNS_MADE=1
	fi
	mkdir -p "/etc/netns/$LAB_CLIENT" || lab_die "mkdir /etc/netns/$LAB_CLIENT"
	printf 'nameserver %s\n' "$LAB_RESOLVER4" >"/etc/netns/$LAB_CLIENT/resolv.conf"

	lab_wait 5 "veth up" lab_link_up
}

# lab_client_resolv_conf NAMESERVER...: /etc/netns/$LAB_CLIENT/resolv.conf
# (what `ip netns exec` shows the client as /etc/resolv.conf), removed at
# exit.  lab_up writes its own; this is for labs that do not use lab_up.
lab_client_resolv_conf()
{
	local ns

	lab_record path "/etc/netns/$LAB_CLIENT"
	if [ ! -d /etc/netns ]; then
		mkdir /etc/netns || lab_die "mkdir /etc/netns"
		LAB_ETC_NETNS_MADE=1
	fi
	mkdir -p "/etc/netns/$LAB_CLIENT" || lab_die "mkdir /etc/netns/$LAB_CLIENT"
	for ns in "$@"; do
		printf 'nameserver %s\n' "$ns"
	done >"/etc/netns/$LAB_CLIENT/resolv.conf" || lab_die "writing resolv.conf"
}

# lab_netns_add NAME: one more namespace (lo up), recorded for run.sh's
# leak check and removed at exit with its processes.  For labs with more
# than the client and host lab_up makes.
lab_netns_add()
{
	lab_record netns "$1"
	ip netns add "$1" || lab_die "ip netns add $1"
	LAB_EXTRA_NETNS+=("$1")
	ip -n "$1" link set lo up || lab_die "lo up in $1"
}

lab_link_up()
{
	ip -n "$LAB_CLIENT" -br link show dev "$LAB_VC" | grep -q ' UP ' &&
	ip -n "$LAB_HOST" -br link show dev "$LAB_VH" | grep -q ' UP '
}

# lab_wait SECONDS WHAT CMD...: poll CMD every 50 ms until it succeeds.
lab_wait()
{
	local secs=$1 what=$2 i
	shift 2

	for ((i = 0; i < secs * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	lab_die "timed out after ${secs}s waiting for: $what"
}

# Run in the client namespace with cgroup2 visible.  `ip netns exec`
# mounts a fresh /sys in a private mount namespace, which hides cgroup2;
# mounting it again there is the same hierarchy and leaks nothing.
# The *_CMD arrays are prefixes, usable under timeout(1) and nested.
lab_set_runners()
{
	LAB_CLIENT_CMD=(ip netns exec "$LAB_CLIENT" sh -c
		'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' sh)
	# Without cgroup2: for the "cgroup2 is missing" test.
	LAB_NOCG_CMD=(ip netns exec "$LAB_CLIENT")
	LAB_HOST_CMD=(ip netns exec "$LAB_HOST")
	# As nobody without egressd: the control for every "blocked" check.
	LAB_NOBODY_CMD=(setpriv --reuid=nobody --regid="$(id -g nobody)"
		--clear-groups --inh-caps=-all --bounding-set=-all)
	# Close every fd above 2, then exec: a clean start for fd checks.
	LAB_CLOSEFDS_CMD=("$LAB_PY" -c 'import os, sys
os.closerange(3, 1 << 20)
os.execvp(sys.argv[1], sys.argv[1:])')
}

lab_exec_client() { "${LAB_CLIENT_CMD[@]}" "$@"; }
lab_exec_client_nocg() { "${LAB_NOCG_CMD[@]}" "$@"; }
lab_exec_host() { "${LAB_HOST_CMD[@]}" "$@"; }

# lab_bg NAME NS CMD...: background process in NS, logged, killed at exit.
lab_bg()
{
	local name=$1 ns=$2
	shift 2

	ip netns exec "$ns" "$@" >"$LAB_DIR/$name.log" 2>&1 </dev/null &
	LAB_PIDS+=($!)
	LAB_LAST_PID=$!
	# No "Killed" job notices from the cleanup.
	disown "$!"
}

lab_alive() { kill -0 "$1" 2>/dev/null; }
# Gone or a zombie: either way it runs no more code.
lab_gone()
{
	[ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# lab_listening NS PROTO(t|u) PORT COUNT: COUNT sockets listen on PORT.
lab_listening()
{
	local n

	n=$(ip netns exec "$1" ss -Hln"$2" "sport = :$3" | wc -l)
	[ "$n" -ge "$4" ]
}

lab_wait_listen()
{
	local name=$1 pid=$2 ns=$3 proto=$4 port=$5 count=$6 i

	for ((i = 0; i < 100; i++)); do
		lab_listening "$ns" "$proto" "$port" "$count" && return 0
		if ! lab_alive "$pid"; then
			sed 's/^/    /' "$LAB_DIR/$name.log"
			lab_die "$name exited before listening on $proto/$port"
		fi
		sleep 0.05
	done
	sed 's/^/    /' "$LAB_DIR/$name.log"
	lab_die "$name not listening on $proto/$port after 5s"
}

# A TCP server that greets every connection with "ok" (v4 and v6).
lab_start_tcp()
{
	local port=$1 ns=${2:-$LAB_HOST}

	lab_bg "tcp-$ns-$port" "$ns" socat \
		"TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=0,backlog=64" \
		SYSTEM:'echo ok'
	lab_wait_listen "tcp-$ns-$port" "$LAB_LAST_PID" "$ns" t "$port" 1
}

# One socket per address so that every echo leaves from the address the
# datagram was sent to (a connected UDP client drops anything else).
lab_write_udp_echo()
{
	cat >"$LAB_DIR/udp_echo.py" <<'EOF'
import selectors, socket, sys

port = int(sys.argv[1])
sel = selectors.DefaultSelector()
for addr in sys.argv[2:]:
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        try:
            data, peer = key.fileobj.recvfrom(65535)
            key.fileobj.sendto(data, peer)
        except OSError as e:
            print("echo error:", e, flush=True)
EOF
}

# lab_start_udp_echo PORT NS ADDR...
lab_start_udp_echo()
{
	local port=$1 ns=$2
	shift 2

	[ -f "$LAB_DIR/udp_echo.py" ] || lab_write_udp_echo
	lab_bg "udp-$ns-$port" "$ns" "$LAB_PY" "$LAB_DIR/udp_echo.py" "$port" "$@"
	lab_wait_listen "udp-$ns-$port" "$LAB_LAST_PID" "$ns" u "$port" $#
}

# Default names every test can resolve; lab_dns_add adds more.
lab_dns_conf_init()
{
	[ -f "$LAB_DIR/dnsmasq.conf" ] && return 0
	cat >"$LAB_DIR/dnsmasq.conf" <<'EOF'
host-record=allowed.test,198.51.100.10,2001:db8::10
host-record=denied.test,198.51.100.20,2001:db8::20
host-record=other.test,198.51.100.30
host-record=v6only.test,2001:db8::10
cname=alias.test,allowed.test
EOF
}

# lab_dns_add 'host-record=x.test,198.51.100.10' | 'cname=a.test,b.test' ...
# Any dnsmasq option line; restarts dnsmasq when it is already running.
lab_dns_add()
{
	lab_dns_conf_init
	printf '%s\n' "$@" >>"$LAB_DIR/dnsmasq.conf"
	if [ -n "${LAB_DNS_PID:-}" ] && lab_alive "$LAB_DNS_PID"; then
		kill "$LAB_DNS_PID"
		lab_wait 5 "old dnsmasq to exit" lab_gone "$LAB_DNS_PID"
		LAB_DNS_PID=
		lab_start_dns
	fi
}

# dnsmasq answers *.test from its own records and nothing else: with
# --no-resolv and no server= it has no upstream to forward to.
lab_start_dns()
{
	lab_dns_conf_init
	lab_bg dnsmasq "$LAB_HOST" dnsmasq --keep-in-foreground --no-resolv \
		--no-hosts --no-poll --conf-file="$LAB_DIR/dnsmasq.conf" \
		--bind-interfaces --port=53 --user=root --group=root --pid-file= \
		--listen-address="$LAB_RESOLVER4,$LAB_OTHER4,$LAB_RESOLVER6" \
		--local=/test/ --log-queries --log-facility=-
	LAB_DNS_PID=$LAB_LAST_PID
	# UDP and TCP on each of the three addresses.
	lab_wait_listen dnsmasq "$LAB_DNS_PID" "$LAB_HOST" u 53 3
	lab_wait_listen dnsmasq "$LAB_DNS_PID" "$LAB_HOST" t 53 3
}

lab_start_servers()
{
	lab_start_tcp 80
	lab_start_tcp 8080
	lab_start_udp_echo 7 "$LAB_HOST" 198.51.100.1 198.51.100.10 \
		198.51.100.20 198.51.100.30 2001:db8::1 2001:db8::10 2001:db8::20
	lab_start_dns
	# Loopback servers inside the client namespace (outside any cgroup
	# egressd makes), for the "loopback is always allowed" checks.
	lab_start_tcp 9000 "$LAB_CLIENT"
	lab_start_udp_echo 7 "$LAB_CLIENT" 127.0.0.1 ::1
}

# lab_add_host_addr ADDR...: more addresses on the host side of the veth,
# inside the lab's on-link prefixes (198.51.100.0/24, 2001:db8::/64) so
# the client reaches them with no extra route.  Servers listening on the
# wildcard address (lab_start_tcp) answer on them too.
lab_add_host_addr()
{
	local a

	for a in "$@"; do
		case $a in
		198.51.100.*) ip -n "$LAB_HOST" addr add "$a/24" dev "$LAB_VH" ;;
		2001:db8::*) ip -n "$LAB_HOST" addr add "$a/64" dev "$LAB_VH" nodad ;;
		*) lab_die "lab_add_host_addr: $a is outside the lab's prefixes" ;;
		esac || lab_die "adding $a to $LAB_VH"
	done
}

# lab_start_http NAME ADDR PORT DIR: a static HTTP server (python
# http.server) for DIR on ADDR:PORT in the host namespace.  ADDR :: is
# dual-stack (every address, v4 and v6).  Log in $LAB_DIR/NAME.log.
lab_start_http()
{
	local name=$1 addr=$2 port=$3 dir=$4 n

	# Servers on other addresses may hold the same port: wait for one more.
	n=$(ip netns exec "$LAB_HOST" ss -Hlnt "sport = :$port" | wc -l)
	lab_bg "$name" "$LAB_HOST" "$LAB_PY" -m http.server --bind "$addr" \
		--directory "$dir" "$port"
	lab_wait_listen "$name" "$LAB_LAST_PID" "$LAB_HOST" t "$port" $((n + 1))
}

# lab_start_blackhole ADDR PORT: a "DNS server" in the host namespace that
# takes every UDP datagram and TCP connection on ADDR:PORT and never
# answers, so a client sees neither an answer nor a refusal (timeout).
lab_start_blackhole()
{
	local addr=$1 port=$2

	cat >"$LAB_DIR/blackhole.py" <<'EOF'
import socket, sys, threading

addr, port = sys.argv[1], int(sys.argv[2])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
u = socket.socket(fam, socket.SOCK_DGRAM)
u.bind((addr, port))
t = socket.socket(fam, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((addr, port))
t.listen(64)
held = []

def accept():
    while True:
        c, _ = t.accept()
        held.append(c)  # read nothing, answer nothing, keep it open

threading.Thread(target=accept, daemon=True).start()
print("ready", flush=True)
while True:
    u.recvfrom(65535)
EOF
	lab_bg "blackhole-$port" "$LAB_HOST" "$LAB_PY" "$LAB_DIR/blackhole.py" "$addr" "$port"
	lab_wait_listen "blackhole-$port" "$LAB_LAST_PID" "$LAB_HOST" u "$port" 1
	lab_wait_listen "blackhole-$port" "$LAB_LAST_PID" "$LAB_HOST" t "$port" 1
}

# lab_dns_was_asked NAME: dnsmasq logged a query for NAME (any type).
lab_dns_was_asked()
{
	[ -f "$LAB_DIR/dnsmasq.log" ] &&
		awk -v n="$1" '{ for (i = 1; i < NF; i++)
			if ($i ~ /^query\[/ && tolower($(i + 1)) == tolower(n)) f = 1 }
			END { exit !f }' "$LAB_DIR/dnsmasq.log"
}

# lab_egressd ARGS...: run egressd ARGS (e.g. run --user nobody -- CMD)
# in the client namespace.  Sets LAB_RC,
# LAB_OUT, LAB_ERR (files) and echoes what happened into the test log.
lab_egressd()
{
	lab_run_in client "$EGRESSD" "$@"
}

# lab_run_in client|nocg|host|plain CMD...: run CMD there, under a timeout
# (LAB_RUN_TIMEOUT seconds, default 60), with LAB_RC/LAB_OUT/LAB_ERR set.
lab_run_in()
{
	local where=$1
	local -a pre

	shift
	case $where in
	client) pre=("${LAB_CLIENT_CMD[@]}") ;;
	nocg) pre=("${LAB_NOCG_CMD[@]}") ;;
	host) pre=("${LAB_HOST_CMD[@]}") ;;
	plain) pre=() ;;
	*) lab_die "lab_run_in: unknown place $where" ;;
	esac
	LAB_N=$((LAB_N + 1))
	LAB_OUT=$LAB_DIR/run$LAB_N.out
	LAB_ERR=$LAB_DIR/run$LAB_N.err
	timeout -k 5 "${LAB_RUN_TIMEOUT:-60}" "${pre[@]}" "$@" \
		>"$LAB_OUT" 2>"$LAB_ERR" </dev/null
	LAB_RC=$?
	lab_show "$@"
}

lab_show()
{
	printf '  $ %s\n' "$(lab_quote "$@")"
	sed 's/^/    | /' "$LAB_OUT"
	sed 's/^/    ! /' "$LAB_ERR"
	printf '    rc=%s\n' "$LAB_RC"
	[ "$LAB_RC" -eq 124 ] && printf '    (timed out)\n'
	return 0
}

lab_quote()
{
	local a out=

	for a in "$@"; do
		case $a in
		'' | *[!A-Za-z0-9_./:=,@%+-]*) out+="'${a//\'/\'\\\'\'}' " ;;
		*) out+="$a " ;;
		esac
	done
	printf '%s' "${out% }"
}

expect_rc()
{
	local want=$1 desc=$2

	if [ "$LAB_RC" -eq "$want" ]; then
		lab_ok "$desc"
	else
		lab_fail "$desc" "expected exit $want, got $LAB_RC"
	fi
}

# expect_grep FILE ERE DESC / expect_no_grep FILE ERE DESC
expect_grep()
{
	if grep -Eq -- "$2" "$1"; then
		lab_ok "$3"
	else
		lab_fail "$3" "no line matching /$2/ in $(basename "$1")"
	fi
}

# expect_fgrep FILE STRING DESC: FILE contains STRING literally.
expect_fgrep()
{
	if grep -Fq -- "$2" "$1"; then
		lab_ok "$3"
	else
		lab_fail "$3" "'$2' not found in $(basename "$1")"
	fi
}

expect_no_grep()
{
	if grep -Eq -- "$2" "$1"; then
		lab_fail "$3" "unexpected line matching /$2/: $(grep -E -m1 -- "$2" "$1")"
	else
		lab_ok "$3"
	fi
}

# The probe's verdict line (its first line of output).
lab_verdict() { head -n1 "$LAB_OUT" 2>/dev/null; }

lab_probe_timeout()
{
	case $1 in
	ok) echo "$LAB_OK_MS" ;;
	*) echo "$LAB_BLOCK_MS" ;;
	esac
}

# expect_probe ok|blocked DESC KIND ADDR PORT  (KIND icmp: PORT is ignored)
# Runs egressd run "${EG_ARGS[@]}" -- probe PROBE-ARGS in the client ns.
# "blocked" means probe exit 1 with verdict blocked/timeout: an error such
# as ECONNREFUSED means the packet got out, so it does not count.  Every
# "blocked" check first proves the same probe succeeds without egressd, so
# a dead server can never pass for a working filter.
expect_probe()
{
	local want=$1 desc=$2 kind=$3 addr=$4 port=$5 ms
	shift 5
	ms=$(lab_probe_timeout "$want")

	local -a args=("$kind" "$addr" "$port")
	[ "$kind" = icmp ] && args=("$kind" "$addr")

	if [ "$want" = blocked ]; then
		lab_run_in client "${LAB_NOBODY_CMD[@]}" "$LAB_PROBE" \
			"${args[@]}" "$LAB_OK_MS"
		if [ "$LAB_RC" -ne 0 ] || [ "$(lab_verdict)" != ok ]; then
			lab_fail "$desc" "control failed: ${args[*]} unreachable without egressd"
			return 0
		fi
	fi

	lab_egressd run "${EG_ARGS[@]}" -- "$LAB_PROBE" "${args[@]}" "$ms"
	lab_check_verdict "$want" "$desc"
}

# lab_check_verdict ok|blocked DESC: judge LAB_RC/LAB_OUT of a probe run.
lab_check_verdict()
{
	local want=$1 desc=$2 v

	v=$(lab_verdict)
	case $want in
	ok)
		if [ "$LAB_RC" -eq 0 ] && [ "$v" = ok ]; then
			lab_ok "$desc"
		else
			lab_fail "$desc" "expected ok, got rc=$LAB_RC verdict='$v'"
		fi
		;;
	blocked)
		if [ "$LAB_RC" -eq 1 ] && [[ $v == blocked* || $v == timeout ]]; then
			lab_ok "$desc ($v)"
		else
			lab_fail "$desc" "expected blocked/timeout with exit 1, got rc=$LAB_RC verdict='$v'"
		fi
		;;
	*) lab_die "lab_check_verdict: bad expectation $want" ;;
	esac
}

# New cgroup directories since lab_init (or since the snapshot in $1).
lab_new_cgroups()
{
	local before=${1:-$LAB_DIR/cgroups.before}

	lab_cgroup_dirs | comm -13 "$before" -
}

lab_cgroup_snapshot() { lab_cgroup_dirs >"$LAB_DIR/cgroups.$1"; }

# expect_no_new_cgroups SNAPSHOT DESC
expect_no_new_cgroups()
{
	local new

	new=$(lab_new_cgroups "$LAB_DIR/cgroups.$1")
	if [ -z "$new" ]; then
		lab_ok "$2"
	else
		lab_fail "$2" "cgroup dirs left behind:" $new
	fi
}

# Directories named *egress* that appeared since lab_init, are empty (no
# process, no child) and whose owner is dead: for a name ending in -PID
# (egressd-1234) that process must be gone.  A concurrent run's live
# cgroups never match, so these are safe to call leaks and to remove.
lab_stale_egress()
{
	local d pid

	lab_new_cgroups | grep -i egress | sort -r | while read -r d; do
		[ -d "$d" ] || continue
		[ -s "$d/cgroup.procs" ] && continue
		[ -n "$(find "$d" -mindepth 1 -maxdepth 1 -type d)" ] && continue
		pid=$(basename "$d" | sed -n 's/.*-\([0-9][0-9]*\)$/\1/p')
		[ -n "$pid" ] && [ -d "/proc/$pid" ] && continue
		# A concurrent run's egressd may have removed it and exited
		# since the first look: only a directory that outlives its
		# owner is a leak.
		[ -d "$d" ] || continue
		printf '%s\n' "$d"
	done
}

# The cgroup2 directory (host view) of a pid.
lab_pid_cgroup()
{
	local rel

	rel=$(sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null) || return 1
	[ -n "$rel" ] || return 1
	printf '%s%s\n' "$LAB_CG2" "$rel"
}

# Register a cgroup dir for the exit trap: its processes are killed and
# the directory removed.
lab_register_cgroup()
{
	case $1 in
	"$LAB_CG2" | "$LAB_CG2/") return 0 ;; # never the root
	"$LAB_CG2"/*)
		LAB_CGROUPS+=("$1")
		lab_record path "$1"
		;;
	esac
}

lab_kill_cgroup()
{
	local cg=$1 i

	[ -d "$cg" ] || return 0
	if [ -e "$cg/cgroup.kill" ]; then
		echo 1 >"$cg/cgroup.kill" 2>/dev/null
	else
		xargs -r kill -9 <"$cg/cgroup.procs" 2>/dev/null
	fi
	for ((i = 0; i < 40; i++)); do
		[ -s "$cg/cgroup.procs" ] || break
		sleep 0.05
	done
	# Children first.
	find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
}

lab_kill_netns_pids()
{
	local ns=$1 i pids

	for ((i = 0; i < 40; i++)); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] || return 0
		# shellcheck disable=SC2086
		kill -9 $pids 2>/dev/null
		sleep 0.05
	done
	echo "lab cleanup: processes still in $ns: $pids" >&2
}

lab_cleanup()
{
	local rc=$? cg p new leaks=

	trap - EXIT INT TERM HUP
	set +e
	[ -n "$LAB_DIR" ] || exit "$rc"

	for p in "${LAB_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	if [ "$LAB_NETNS_MADE" -ge 1 ]; then
		lab_kill_netns_pids "$LAB_CLIENT"
	fi
	if [ "$LAB_NETNS_MADE" -ge 2 ]; then
		lab_kill_netns_pids "$LAB_HOST"
	fi
	for p in "${LAB_EXTRA_NETNS[@]}"; do
		lab_kill_netns_pids "$p"
	done

	for cg in "${LAB_CGROUPS[@]}"; do
		lab_kill_cgroup "$cg"
	done
	# Status sockets of egressd processes killed with SIGKILL here: gone
	# pid and nobody listening (an egressd of another pid namespace
	# would still answer).
	for p in /run/egressd/cg-*.*.sock; do
		[ -S "$p" ] || continue
		new=${p%.sock}
		kill -0 "${new##*.}" 2>/dev/null && continue
		socat -u OPEN:/dev/null "UNIX-CONNECT:$p" 2>/dev/null && continue
		rm -f "$p"
	done
	new=
	# What egressd made during this test and left behind (lab_finish
	# has already counted it as a failure).
	for cg in $(lab_stale_egress); do
		rmdir "$cg" 2>/dev/null
	done

	# egressd runs inside `ip netns exec`, whose private /sys hides the
	# machine's bpffs, so no pin should ever appear there.  If one does,
	# remove it when its owner (a -PID suffix) is dead, and say so.
	for p in $(lab_bpffs_mounts); do
		find "$p" -mindepth 1 -iname '*egress*' 2>/dev/null
	done | sort | comm -13 "$LAB_DIR/bpffs.before" - | sort -r |
		while read -r p; do
			new=$(basename "$p" | sed -n 's/.*-\([0-9][0-9]*\)$/\1/p')
			[ -n "$new" ] && [ -d "/proc/$new" ] && continue
			echo "lab cleanup: removing bpffs pin $p" >&2
			rm -rf "$p"
		done

	[ "$LAB_NETNS_MADE" -ge 1 ] && ip netns del "$LAB_CLIENT" 2>/dev/null
	[ "$LAB_NETNS_MADE" -ge 2 ] && ip netns del "$LAB_HOST" 2>/dev/null
	for p in "${LAB_EXTRA_NETNS[@]}"; do
		ip netns del "$p" 2>/dev/null
	done
	if [ -n "${LAB_CLIENT:-}" ] && [ -d "/etc/netns/$LAB_CLIENT" ]; then
		rm -rf "/etc/netns/${LAB_CLIENT:?}"
	fi
	[ "$LAB_ETC_NETNS_MADE" -eq 1 ] && rmdir /etc/netns 2>/dev/null

	# Verify: a leak is a failure of the test that made it.
	ip netns list 2>/dev/null | grep -Eq "^($LAB_CLIENT|$LAB_HOST)( |$)" &&
		leaks+="netns "
	for p in "${LAB_EXTRA_NETNS[@]}"; do
		ip netns list 2>/dev/null | grep -Eq "^$p( |$)" && leaks+="netns:$p "
	done
	[ -d "/etc/netns/$LAB_CLIENT" ] && leaks+="/etc/netns/$LAB_CLIENT "
	for cg in "${LAB_CGROUPS[@]}"; do
		[ -d "$cg" ] && leaks+="$cg "
	done
	new=$(lab_stale_egress)
	[ -n "$new" ] && leaks+="$(echo $new) "
	if [ -n "$leaks" ]; then
		echo "FAIL: lab cleanup left behind: $leaks" >&2
		[ "$rc" -eq 0 ] && rc=1
	fi

	if [ "${LAB_KEEP:-0}" = 1 ]; then
		echo "lab dir kept: $LAB_DIR" >&2
	else
		rm -rf "$LAB_DIR"
	fi
	exit "$rc"
}

lab_finish()
{
	local stale cg reg

	# Registered cgroups (a workload kept past egressd's death) are the
	# test's to remove; any other leftover is egressd's leak.
	stale=$(lab_stale_egress | while read -r cg; do
		for reg in "${LAB_CGROUPS[@]}"; do
			[ "$cg" = "$reg" ] && continue 2
		done
		printf '%s ' "$cg"
	done)
	if [ -n "$stale" ]; then
		lab_fail "egressd removed every cgroup it made" "left behind: $stale"
	else
		lab_ok "egressd removed every cgroup it made"
	fi
	printf '\n%d checks, %d failed\n' "$LAB_CHECKS" "$LAB_FAILS"
	[ "$LAB_CHECKS" -gt 0 ] || lab_die "no checks ran"
	[ "$LAB_FAILS" -eq 0 ] && exit 0
	exit 1
}
