# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# lib.sh: the lab of the adversarial tests (tests/adversarial/NN_*.sh).
#
#   . "$(dirname "$0")/lib.sh"
#   adv_init                 # lab_init + egressd + attack helper + sniffer
#   adv_up                   # three namespaces, routed (below)
#   adv_start_servers        # dnsmasq, TCP 80 and UDP echo 7 on the router
#   adv_attack "desc" router|denied MARKER_HEX 'REFUSAL_ERE' send ... ARGS
#   adv_no_false_drop "desc" send ... ARGS
#   adv_refused "desc" router|denied KIND 'REFUSAL_ERE' send ... ARGS
#   adv_finish
#
# Layout (TEST-NET only; nothing routes out of the three namespaces: the
# router has no default route, and everything else routes via the router):
#
#   client egc-ID  vcID 198.51.100.2/25    2001:db8:1::2/64   default via router
#        |
#   router egh-ID  vhID 198.51.100.1/25    2001:db8:1::1/64   the ALLOWED host,
#                  vrID 198.51.100.129/25  2001:db8:2::1/64   the resolver
#        |         forwarding on (v4, v6), accept_source_route=1, no ICMP
#        |         rate limit; dnsmasq on .1 and 2001:db8:1::1 (*.test,
#        |         unknown names NXDOMAIN); TCP 80 "ok"; UDP echo 7;
#        |         UDP 9 closed (the reflection port)
#   denied egd-ID  vdID 198.51.100.140/25  2001:db8:2::20/64  routes back via router
#
#   /etc/netns/egc-ID/resolv.conf: nameserver 198.51.100.1, 2001:db8:1::1
#
# Every attack check is one line of the test's output and one line in
# $ADV_RESULTS (set by run.sh: "PASS desc" / "FAIL desc"), from which
# run.sh prints "adversarial: N passed, N failed".

. "$(dirname "${BASH_SOURCE[0]}")/../lib/lab.sh"

ATTACK=${ATTACK:-$LAB_REPO/build/tests/attack}
ADV_SNIFF_SRC=$(dirname "${BASH_SOURCE[0]}")/sniff.py

ADV_CLIENT4=198.51.100.2
ADV_CLIENT6=2001:db8:1::2
ADV_ROUTER4=198.51.100.1
ADV_ROUTER6=2001:db8:1::1
ADV_ROUTER_FAR4=198.51.100.129
ADV_ROUTER_FAR6=2001:db8:2::1
ADV_DENIED4=198.51.100.140
ADV_DENIED6=2001:db8:2::20
# Nothing listens there on the router: its port unreachable is the
# reflection.
ADV_CLOSED_PORT=9

# What every egressd run allows: the router, nothing else.
ADV_ALLOW="$ADV_ROUTER4,$ADV_ROUTER6"
# After the attack, how long the capture keeps listening (ms): reflected
# packets and IGMP/MLD reports all leave within a few ms on veths.
ADV_SETTLE_MS=${ADV_SETTLE_MS:-300}

ADV_PASSED=0
ADV_FAILED=0

adv_init()
{
	lab_init
	lab_require_egressd
	[ -x "$ATTACK" ] || lab_skip "attack helper not built: $ATTACK (run: make test-bins)"
	[ -f "$ADV_SNIFF_SRC" ] || lab_die "missing $ADV_SNIFF_SRC"
	# Like the probe: a copy nobody can execute, wherever the repo is.
	ADV_ATTACK=$LAB_DIR/attack
	install -m 0755 "$ATTACK" "$ADV_ATTACK" || lab_die "cannot copy $ATTACK"
	ADV_SNIFF=$LAB_DIR/sniff.py
	install -m 0644 "$ADV_SNIFF_SRC" "$ADV_SNIFF" || lab_die "cannot copy $ADV_SNIFF_SRC"

	ADV_ROUTER=$LAB_HOST
	ADV_DENIED=egd-$LAB_ID
	ADV_VR=vr$LAB_ID
	ADV_VD=vd$LAB_ID
	ADV_CAP_N=0
	lab_log "adversarial lab: client=$LAB_CLIENT router=$ADV_ROUTER denied=$ADV_DENIED"
}

adv_sysctl()
{
	local ns=$1
	shift
	ip netns exec "$ns" sysctl -qw "$@" || lab_die "sysctl $* in $ns"
}

# No address of the lab may still be tentative: an MLD report or a bind
# then behaves differently from one run to the next.
adv_dad_done()
{
	local ns

	for ns in "$LAB_CLIENT" "$ADV_ROUTER" "$ADV_DENIED"; do
		[ -z "$(ip -n "$ns" -6 addr show tentative)" ] || return 1
	done
}

adv_up()
{
	local ns

	for ns in "$LAB_CLIENT" "$ADV_ROUTER" "$ADV_DENIED"; do
		lab_netns_add "$ns"
		# Before the veths exist, so that they inherit it: no DAD.
		adv_sysctl "$ns" net.ipv6.conf.default.accept_dad=0 \
			net.ipv6.conf.all.accept_dad=0
	done
	ip link add "$LAB_VC" netns "$LAB_CLIENT" type veth \
		peer name "$LAB_VH" netns "$ADV_ROUTER" || lab_die "veth client-router"
	ip link add "$ADV_VR" netns "$ADV_ROUTER" type veth \
		peer name "$ADV_VD" netns "$ADV_DENIED" || lab_die "veth router-denied"

	ip -n "$LAB_CLIENT" addr add "$ADV_CLIENT4/25" dev "$LAB_VC" &&
	ip -n "$LAB_CLIENT" addr add "$ADV_CLIENT6/64" dev "$LAB_VC" nodad &&
	ip -n "$ADV_ROUTER" addr add "$ADV_ROUTER4/25" dev "$LAB_VH" &&
	ip -n "$ADV_ROUTER" addr add "$ADV_ROUTER6/64" dev "$LAB_VH" nodad &&
	ip -n "$ADV_ROUTER" addr add "$ADV_ROUTER_FAR4/25" dev "$ADV_VR" &&
	ip -n "$ADV_ROUTER" addr add "$ADV_ROUTER_FAR6/64" dev "$ADV_VR" nodad &&
	ip -n "$ADV_DENIED" addr add "$ADV_DENIED4/25" dev "$ADV_VD" &&
	ip -n "$ADV_DENIED" addr add "$ADV_DENIED6/64" dev "$ADV_VD" nodad ||
		lab_die "adding addresses"

	ip -n "$LAB_CLIENT" link set "$LAB_VC" up &&
	ip -n "$ADV_ROUTER" link set "$LAB_VH" up &&
	ip -n "$ADV_ROUTER" link set "$ADV_VR" up &&
	ip -n "$ADV_DENIED" link set "$ADV_VD" up || lab_die "veths up"

	ip -n "$LAB_CLIENT" route add default via "$ADV_ROUTER4" &&
	ip -n "$LAB_CLIENT" -6 route add default via "$ADV_ROUTER6" &&
	ip -n "$ADV_DENIED" route add 198.51.100.0/25 via "$ADV_ROUTER_FAR4" &&
	ip -n "$ADV_DENIED" -6 route add 2001:db8:1::/64 via "$ADV_ROUTER_FAR6" ||
		lab_die "routes"

	# The router forwards, honours IPv4 source routes (the LSRR case
	# needs a router that does), and answers every packet with its ICMP
	# error at once: a rate limit would starve the next check's control.
	adv_sysctl "$ADV_ROUTER" net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.accept_source_route=1 \
		net.ipv4.conf.default.accept_source_route=1 \
		"net.ipv4.conf.$LAB_VH.accept_source_route=1" \
		"net.ipv4.conf.$ADV_VR.accept_source_route=1" \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
	# Ping sockets in the client for every gid, as in lab_up.
	adv_sysctl "$LAB_CLIENT" net.ipv4.ping_group_range="0 2147483647"

	lab_client_resolv_conf "$ADV_ROUTER4" "$ADV_ROUTER6"
	lab_wait 5 "veths up" adv_links_up
	lab_wait 5 "no tentative IPv6 address" adv_dad_done
}

adv_links_up()
{
	ip -n "$LAB_CLIENT" -br link show dev "$LAB_VC" | grep -q ' UP ' &&
	ip -n "$ADV_ROUTER" -br link show dev "$LAB_VH" | grep -q ' UP ' &&
	ip -n "$ADV_ROUTER" -br link show dev "$ADV_VR" | grep -q ' UP ' &&
	ip -n "$ADV_DENIED" -br link show dev "$ADV_VD" | grep -q ' UP '
}

# dnsmasq on the router's two client-facing addresses: *.test from its own
# records, every other name under .test NXDOMAIN, nothing forwarded.
# ADV_DNS_EXTRA: more dnsmasq.conf lines (a case's own records).
adv_start_dns()
{
	cat >"$LAB_DIR/dnsmasq.conf" <<EOF
host-record=router.test,$ADV_ROUTER4,$ADV_ROUTER6
host-record=denied.test,$ADV_DENIED4,$ADV_DENIED6
${ADV_DNS_EXTRA:-}
EOF
	lab_bg dnsmasq "$ADV_ROUTER" dnsmasq --keep-in-foreground --no-resolv \
		--no-hosts --no-poll --conf-file="$LAB_DIR/dnsmasq.conf" \
		--bind-interfaces --port=53 --user=root --group=root --pid-file= \
		--listen-address="$ADV_ROUTER4,$ADV_ROUTER6" \
		--local=/test/ --log-queries --log-facility=-
	LAB_DNS_PID=$LAB_LAST_PID
	lab_wait_listen dnsmasq "$LAB_DNS_PID" "$ADV_ROUTER" u 53 2
	lab_wait_listen dnsmasq "$LAB_DNS_PID" "$ADV_ROUTER" t 53 2
}

adv_start_servers()
{
	adv_start_dns
	lab_start_tcp 80 "$ADV_ROUTER"
	lab_start_udp_echo 7 "$ADV_ROUTER" "$ADV_ROUTER4" "$ADV_ROUTER6"
	if ip netns exec "$ADV_ROUTER" ss -Hlnu "sport = :$ADV_CLOSED_PORT" | grep -q .; then
		lab_die "udp/$ADV_CLOSED_PORT is not closed on the router"
	fi
}

# --- markers -------------------------------------------------------------
#
# Every run of an attack (the control, then egressd's) gets a fresh random
# marker, so that nothing the control set off (an IGMP retransmission a
# second later, say) can be counted against egressd.  In ATTACK-ARGS,
# @M@ stands for the marker, @S@ and @P@ for its ports:
#   text    @M@ = egressd-adv-<16 hex digits>, the bytes matched as they are
#           (a UDP payload, a DNS label: @M@.nx.test)
#   tcp     @S@ = source port, @P@ = destination port; a SYN carries no
#           payload, so the marker is the 4 bytes sport:dport of its header
#           (tcp:PORT: the destination port is PORT)
#   mcast4  @M@ = 239.R.R.R; an IGMP report names the group: its 4 bytes
#   mcast6  @M@ = ff0e:RRRR:...:RRRR; the MLD report's 16 bytes

# adv_rand_hex N: N random bytes as 2N lower-case hex digits.
adv_rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
# adv_hex STRING: the bytes of STRING in hex (what the sniffer matches).
adv_hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
# adv_rand MIN MAX: a random integer in [MIN, MAX].
adv_rand() { echo $(($1 + $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % ($2 - $1 + 1))); }

# adv_hostport ADDR PORT: ADDR:PORT, [ADDR]:PORT for IPv6.
adv_hostport()
{
	case $1 in
	*:*) printf '[%s]:%s' "$1" "$2" ;;
	*) printf '%s:%s' "$1" "$2" ;;
	esac
}

# adv_marker KIND: sets ADV_M, ADV_S, ADV_P (the placeholders' values) and
# ADV_MARK_HEX (what the capture counts).
adv_marker()
{
	local h

	ADV_M= ADV_S= ADV_P=
	case $1 in
	text)
		ADV_M=egressd-adv-$(adv_rand_hex 8)
		ADV_MARK_HEX=$(adv_hex "$ADV_M")
		;;
	tcp | tcp:*)
		# Below the ephemeral range, so the bind cannot collide.
		# tcp:PORT: that destination port (853), the source random.
		ADV_S=$(adv_rand 20000 32767)
		ADV_P=$(adv_rand 1024 65535)
		[ "$1" = tcp ] || ADV_P=${1#tcp:}
		ADV_MARK_HEX=$(printf '%04x%04x' "$ADV_S" "$ADV_P")
		;;
	mcast4)
		h=$(adv_rand_hex 3)
		# Never 239.1.2.3, the group the tests allow.
		[ "$h" = 010203 ] && h=010204
		ADV_M=239.$((16#${h:0:2})).$((16#${h:2:2})).$((16#${h:4:2}))
		ADV_MARK_HEX=ef$h
		;;
	mcast6)
		h=$(adv_rand_hex 14)
		ADV_M=ff0e:$(printf '%s' "$h" | sed 's/..../&:/g; s/:$//')
		ADV_MARK_HEX=ff0e$h
		;;
	*) lab_die "adv_marker: unknown kind $1" ;;
	esac
}

# adv_subst ARG...: ADV_ARGS = the ARGs with the placeholders filled in.
adv_subst()
{
	local a

	ADV_ARGS=()
	for a in "$@"; do
		a=${a//@M@/$ADV_M}
		a=${a//@S@/$ADV_S}
		a=${a//@P@/$ADV_P}
		ADV_ARGS+=("$a")
	done
}

# --- capture -------------------------------------------------------------

# adv_capture_start router|denied HEX...: capture on the router's
# client-facing veth (frames that never get past the client's segment) or
# on the denied host's veth (what reached it), counting frames that
# contain any HEX.
adv_capture_start()
{
	local where=$1 ns ifc i
	shift

	case $where in
	router) ns=$ADV_ROUTER ifc=$LAB_VH ;;
	denied) ns=$ADV_DENIED ifc=$ADV_VD ;;
	*) lab_die "adv_capture_start: unknown capture point $where" ;;
	esac
	ADV_CAP_N=$((ADV_CAP_N + 1))
	ADV_CAP_FILE=$LAB_DIR/capture$ADV_CAP_N
	ADV_CAP_WHERE="$where ($ns/$ifc)"
	lab_bg "sniff$ADV_CAP_N" "$ns" "$LAB_PY" "$ADV_SNIFF" "$ifc" "$ADV_CAP_FILE" "$@"
	ADV_CAP_PID=$LAB_LAST_PID
	for ((i = 0; i < 100; i++)); do
		[ -s "$ADV_CAP_FILE" ] && return 0
		lab_alive "$ADV_CAP_PID" || break
		sleep 0.05
	done
	sed 's/^/    /' "$LAB_DIR/sniff$ADV_CAP_N.log"
	lab_die "the capture on $ADV_CAP_WHERE did not start"
}

# Sets ADV_CAP_COUNT (frames with the marker) and prints what was seen.
adv_capture_stop()
{
	sleep "$(awk -v ms="$ADV_SETTLE_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
	kill -TERM "$ADV_CAP_PID" 2>/dev/null
	lab_wait 5 "capture $ADV_CAP_N to stop" lab_gone "$ADV_CAP_PID"
	ADV_CAP_COUNT=$(sed -n 's/^count=//p' "$ADV_CAP_FILE")
	[ -n "$ADV_CAP_COUNT" ] || lab_die "capture $ADV_CAP_N wrote no count"
	printf '    capture on %s: %s frame(s) with the marker (%s frames seen)\n' \
		"$ADV_CAP_WHERE" "$ADV_CAP_COUNT" "$(sed -n 's/^frames_seen=//p' "$ADV_CAP_FILE")"
	sed -n 's/^frame=/      /p' "$ADV_CAP_FILE" | cut -c1-200
}

# --- runners -------------------------------------------------------------

# The control: the same attack, same user (nobody), same namespace, no
# egressd.
adv_run_control() { lab_run_in client "${LAB_NOBODY_CMD[@]}" "$ADV_ATTACK" "$@"; }
# The attack as egressd's workload.  ADV_ALLOW_MORE: entries beyond the
# router (an allowed multicast group).
adv_run_egressd()
{
	lab_egressd run --user nobody --allow-domains "$ADV_ALLOW${ADV_ALLOW_MORE:+,$ADV_ALLOW_MORE}" \
		-- "$ADV_ATTACK" "$@"
}
ADV_CONTROL=adv_run_control
ADV_UNDER=adv_run_egressd

# Root holding CAP_NET_RAW and nothing else (the source-route options need
# it: the kernel refuses them to a process without it).
ADV_NETRAW_CMD=(setpriv --inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw
	--bounding-set=-all,+net_raw)
# What adv_run_netraw_in_egressd runs the attack under, once in the cgroup
# and the client netns (a test may set it to, say, full root).
ADV_INCG_CMD=("${ADV_NETRAW_CMD[@]}")
adv_run_netraw_control() { lab_run_in client "${ADV_NETRAW_CMD[@]}" "$ADV_ATTACK" "$@"; }

# The same process, put into egressd's cgroup by the test: egressd runs a
# sleeper as nobody; its cgroup (from /proc/PID/cgroup) is where the
# CAP_NET_RAW helper writes its own pid before it execs the attack.  The
# helper prints its cgroup line, and a helper that is not in egressd's
# cgroup counts as a setup error (exit 2), never as blocked.
adv_run_netraw_in_egressd()
{
	local pidfile=$LAB_WORK/sleeper.pid log eg i spid cg rc

	ADV_SLEEPERS=$((${ADV_SLEEPERS:-0} + 1))
	log=$LAB_DIR/sleeper$ADV_SLEEPERS.log
	rm -f "$pidfile"
	"${LAB_CLIENT_CMD[@]}" "$EGRESSD" run --user nobody --allow-domains "$ADV_ALLOW" \
		-- sh -c 'echo $$ >"$0" && exec sleep 60' "$pidfile" >"$log" 2>&1 </dev/null &
	eg=$!
	LAB_PIDS+=("$eg")
	disown "$eg"
	for ((i = 0; i < 100; i++)); do
		[ -s "$pidfile" ] && break
		lab_alive "$eg" || break
		sleep 0.05
	done
	spid=$(cat "$pidfile" 2>/dev/null)
	cg=
	[ -n "$spid" ] && cg=$(lab_pid_cgroup "$spid")
	case $cg in
	*/egressd-*) ;;
	*)
		sed 's/^/    /' "$log"
		lab_die "egressd's sleeper did not start in an egressd cgroup (pid '$spid', cgroup '$cg')"
		;;
	esac
	printf '  (egressd %s runs sleeper %s in %s)\n' "$eg" "$spid" "$cg"

	lab_run_in plain sh -c 'echo $$ >"$0/cgroup.procs" &&
		sed -n "s/^0::/cgroup: /p" /proc/self/cgroup && exec "$@"' "$cg" \
		ip netns exec "$LAB_CLIENT" "${ADV_INCG_CMD[@]}" "$ADV_ATTACK" "$@"
	rc=$LAB_RC
	if ! grep -qx "cgroup: ${cg#"$LAB_CG2"}" "$LAB_OUT"; then
		echo "    the helper was not in egressd's cgroup ${cg#"$LAB_CG2"}"
		rc=2
	fi

	kill -TERM "$eg" 2>/dev/null
	lab_wait 10 "egressd $eg (sleeper) to exit" lab_gone "$eg"
	sed 's/^/    egressd: /' "$log"
	LAB_RC=$rc
}

# --- results -------------------------------------------------------------

adv_result()
{
	local verdict=$1 desc=$2

	if [ "$verdict" = PASS ]; then
		ADV_PASSED=$((ADV_PASSED + 1))
	else
		ADV_FAILED=$((ADV_FAILED + 1))
	fi
	[ -n "${ADV_RESULTS:-}" ] && printf '%s %s: %s\n' "$verdict" \
		"$(basename "$0" .sh)" "$desc" >>"$ADV_RESULTS"
	return 0
}

adv_pass() { lab_ok "$1"; adv_result PASS "$1"; }
adv_fail() { lab_fail "$@"; adv_result FAIL "$1"; }

# The attack ran to its first syscall (a run that never got there, such as
# egressd failing with 125, proves nothing about the filter).
# io_uring cases begin with io_uring_setup, namespace ones with unshare.
adv_attack_ran() { grep -Eq '^(socket|io_uring_setup|unshare|escape)[^:]*: ' "$LAB_OUT"; }

# adv_attack DESC router|denied KIND REFUSAL_ERE ATTACK-ARGS...
#
# 1. Control: ATTACK-ARGS without egressd (runner $ADV_CONTROL) must exit 0
#    and put its marker (KIND, see adv_marker) in front of the capture, or
#    the check FAILS: the attack has to be shown to work before its
#    absence means anything.
# 2. Under egressd ($ADV_UNDER), with a fresh marker: the capture must see
#    no frame with it, the attack must have run (exit 0 or 1, not a setup
#    error), and when REFUSAL_ERE is not empty, a whole line of the
#    attack's output must match it (e.g. 'setsockopt IPV6_FREEBIND: EPERM').
adv_attack()
{
	local desc=$1 where=$2 kind=$3 refusal=$4 ctl_rc ctl_n why=()
	shift 4

	printf '\n  -- %s\n' "$desc"
	adv_marker "$kind"
	adv_subst "$@"
	adv_capture_start "$where" "$ADV_MARK_HEX"
	"$ADV_CONTROL" "${ADV_ARGS[@]}"
	ctl_rc=$LAB_RC
	adv_capture_stop
	ctl_n=$ADV_CAP_COUNT
	if [ "$ctl_rc" -ne 0 ] || [ "$ctl_n" -eq 0 ]; then
		adv_fail "$desc" "control failed: without egressd the attack exited $ctl_rc and" \
			"$ctl_n frame(s) with the marker reached $ADV_CAP_WHERE (want exit 0, >0 frames)"
		return 0
	fi

	adv_marker "$kind"
	adv_subst "$@"
	adv_capture_start "$where" "$ADV_MARK_HEX"
	"$ADV_UNDER" "${ADV_ARGS[@]}"
	adv_capture_stop
	if ! adv_attack_ran; then
		why+=("the attack never ran under egressd (rc=$LAB_RC)")
	elif [ "$LAB_RC" -ne 0 ] && [ "$LAB_RC" -ne 1 ]; then
		why+=("the attack exited $LAB_RC under egressd (a setup error proves nothing)")
	fi
	[ "$ADV_CAP_COUNT" -eq 0 ] ||
		why+=("$ADV_CAP_COUNT frame(s) with the marker reached $ADV_CAP_WHERE under egressd (control: $ctl_n)")
	if [ -n "$refusal" ] && ! grep -Eqx -- "$refusal" "$LAB_OUT"; then
		why+=("no line /$refusal/ under egressd; the attack said: $(grep -E ': ' "$LAB_OUT" | tr '\n' ';')")
	fi
	if [ ${#why[@]} -eq 0 ]; then
		adv_pass "$desc (control: $ctl_n frame(s); egressd: 0${refusal:+, $refusal})"
	else
		adv_fail "$desc" "${why[@]}"
	fi
}

# adv_no_false_drop DESC ATTACK-ARGS...: legitimate traffic that looks like
# an attack's must still work under egressd (exit 0).  The control shows
# the lab carries it at all.
adv_no_false_drop()
{
	local desc=$1
	shift

	printf '\n  -- %s\n' "$desc"
	"$ADV_CONTROL" "$@"
	if [ "$LAB_RC" -ne 0 ]; then
		adv_fail "$desc" "control failed: exit $LAB_RC without egressd"
		return 0
	fi
	"$ADV_UNDER" "$@"
	if [ "$LAB_RC" -eq 0 ]; then
		adv_pass "$desc (works under egressd)"
	else
		adv_fail "$desc" "exit $LAB_RC under egressd: $(grep -E ': ' "$LAB_OUT" | tr '\n' ';')"
	fi
}

# adv_refused DESC router|denied KIND REFUSAL_ERE ATTACK-ARGS...: for what
# is no channel for an unprivileged process on this kernel even without
# egressd (a raw socket in a user namespace the workload made, say): the
# control ($ADV_CONTROL) and the run under egressd ($ADV_UNDER) must both
# have run, been refused the way REFUSAL_ERE says (a whole line), and put
# no frame with the marker in front of the capture.  It fails if the
# kernel ever lets the attack through, with or without egressd.
adv_refused()
{
	local desc=$1 where=$2 kind=$3 refusal=$4 run why=()
	shift 4

	printf '\n  -- %s\n' "$desc"
	for run in "$ADV_CONTROL" "$ADV_UNDER"; do
		adv_marker "$kind"
		adv_subst "$@"
		adv_capture_start "$where" "$ADV_MARK_HEX"
		"$run" "${ADV_ARGS[@]}"
		adv_capture_stop
		if ! adv_attack_ran; then
			why+=("$run: the attack never ran (rc=$LAB_RC)")
		elif [ "$LAB_RC" -ne 1 ]; then
			why+=("$run: the attack exited $LAB_RC (want 1, refused)")
		fi
		[ "$ADV_CAP_COUNT" -eq 0 ] ||
			why+=("$run: $ADV_CAP_COUNT frame(s) with the marker reached $ADV_CAP_WHERE")
		grep -Eqx -- "$refusal" "$LAB_OUT" ||
			why+=("$run: no line /$refusal/; the attack said: $(grep -E ': ' "$LAB_OUT" | tr '\n' ';')")
	done
	if [ ${#why[@]} -eq 0 ]; then
		adv_pass "$desc (refused with and without egressd: $refusal)"
	else
		adv_fail "$desc" "${why[@]}"
	fi
}

adv_finish()
{
	printf '\nadversarial checks: %d passed, %d failed\n' "$ADV_PASSED" "$ADV_FAILED"
	lab_finish
}
