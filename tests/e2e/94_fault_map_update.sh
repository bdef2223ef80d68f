#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fault injection (issue 11): a BPF map update fails.  build/tests/
# faultinj.so, LD_PRELOADed into egressd, fails the updates of one named
# map with ENOMEM (libbpf calls bpf() through syscall(2); egressd has no
# hook for this).
#   - at start, filling the allowlist (the exact hashes exact_v4/exact_v6,
#     the tries allow_v4/allow_v6, the resolvers map) or exempting the DNS
#     proxy's sockets (exempt): egressd exits 125 with an ERROR: naming
#     what failed, the command never runs, no cgroup is left and nothing
#     is attached to a --cgroup PATH;
#   - while running, the DNS proxy learning an address (learned_v4): the
#     address is not allowed (connect EPERM), the answer is withheld
#     (SERVFAIL, so the workload is not told an address it cannot reach),
#     a warning names the name and the address, egressd status counts it,
#     and the next answer, with the map working again, is learned.
# Every fault check has its control: the same run without the fault.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
command -v bpftool >/dev/null || lab_skip "bpftool not installed"
command -v dig >/dev/null || lab_skip "dig not installed (bind9-dnsutils)"
FI_SRC=$LAB_REPO/build/tests/faultinj.so
[ -f "$FI_SRC" ] || lab_skip "fault shim not built: $FI_SRC (run: make test-bins)"
FI=$LAB_DIR/faultinj.so
install -m 0755 "$FI_SRC" "$FI" || lab_die "cannot copy $FI_SRC"
lab_add_host_addr 198.51.100.42
lab_dns_add 'host-record=a.wild.test,198.51.100.42'
lab_start_servers

PY=/usr/bin/python3
FLOG=$LAB_DIR/faultinj.log
ALLOW=(--user nobody --allow-domains "$LAB_ALLOWED4,$LAB_ALLOWED6")

# Is the shim really loaded, and does it fire?  (Otherwise every "fault"
# below would be a run without one.)
injected() { [ -s "$FLOG" ] && grep -q "on map $1 failed with errno 12" "$FLOG"; }

# fault_run MAP EGRESSD-ARGS...: egressd with updates of MAP failing.
# The shim before everything; an ASan egressd (tests/sanitized.sh) would
# refuse to start with a library ahead of its runtime, so tell it not to.
FI_ENV=(LD_PRELOAD="$FI" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")

fault_run()
{
	local map=$1
	shift
	rm -f "$FLOG"
	lab_run_in client env "${FI_ENV[@]}" FAULTINJ_MAP="$map" FAULTINJ_LOG="$FLOG" \
		"$EGRESSD" "$@"
}

# attached DIR: egressd programs attached directly to a cgroup.
attached() { bpftool cgroup show "$1" 2>/dev/null | grep -c ' egress_'; }

# A --cgroup PATH the test owns, to look at with bpftool afterwards.
CG=$LAB_CG2/egressd-fault-$LAB_ID
mkdir "$CG" || lab_die "cannot create $CG"
lab_register_cgroup "$CG"
REL=${CG#"$LAB_CG2"}

lab_section "control: the shim loaded but aimed at no map changes nothing"
rm -f "$LAB_WORK/ran"
fault_run "" run "${ALLOW[@]}" -- sh -c 'touch "$1/ran"; sed -n "s/^0:://p" /proc/self/cgroup' sh "$LAB_WORK"
expect_rc 0 "egressd runs the command"
[ -e "$LAB_WORK/ran" ] && lab_ok "the command ran" || lab_fail "the command ran"
expect_grep "$LAB_OUT" '/egressd-[0-9]+$' "(in a cgroup egressd-PID that egressd made)"
if [ ! -s "$FLOG" ]; then lab_ok "nothing injected"; else lab_fail "nothing injected" "$(cat "$FLOG")"; fi

# start_fault MAP ERE DESC ARGS...: the start-time fault, judged.
start_fault()
{
	local map=$1 ere=$2 desc=$3
	shift 3

	lab_section "at start: updates of $map fail ($desc)"
	rm -f "$LAB_WORK/ran"
	fault_run "$map" run "$@" -- sh -c 'touch "$1/ran"' sh "$LAB_WORK"
	if injected "$map"; then
		lab_ok "the shim failed an update of $map"
	else
		lab_fail "the shim failed an update of $map" "log: $(cat "$FLOG" 2>/dev/null)"
	fi
	expect_rc 125 "egressd exits 125"
	expect_grep "$LAB_ERR" "^egressd: ERROR: $ere" "the ERROR: names what failed"
	[ -e "$LAB_WORK/ran" ] && lab_fail "the command never ran" || lab_ok "the command never ran"
	expect_no_grep "$LAB_ERR" 'isolation ON' "egressd never said it filters"
	# egressd's own cgroups are egressd-PID; a dead PID's left over is a leak.
	left=$(lab_stale_egress | grep -E '/egressd-[0-9]+$')
	[ -z "$left" ] && lab_ok "no cgroup left behind" || lab_fail "no cgroup left behind" $left
}

# Whole addresses go to the exact hashes, shorter prefixes to the tries.
PREFIXES=(--user nobody --allow-domains "198.51.100.0/28,2001:db8::/64")
start_fault exact_v4 "cannot add 198\.51\.100\.10/32 to the allowlist map: Cannot allocate memory" \
	"the IPv4 exact-address hash" "${ALLOW[@]}"
start_fault exact_v6 "cannot add 2001:db8::10/128 to the allowlist map: Cannot allocate memory" \
	"the IPv6 exact-address hash" "${ALLOW[@]}"
start_fault allow_v4 "cannot add 198\.51\.100\.0/28 to the allowlist map: Cannot allocate memory" \
	"the IPv4 prefix trie" "${PREFIXES[@]}"
start_fault allow_v6 "cannot add 2001:db8::/64 to the allowlist map: Cannot allocate memory" \
	"the IPv6 prefix trie" "${PREFIXES[@]}"
start_fault resolvers "cannot add resolver 198\.51\.100\.1 to its map: Cannot allocate memory" \
	"the resolver map" "${ALLOW[@]}"
start_fault exempt "cannot exempt the DNS proxy's sockets from the redirect: Cannot allocate memory" \
	"the DNS proxy's exemptions" "${ALLOW[@]}"

lab_section "at start, --cgroup PATH: nothing is left attached"
# Control: bpftool sees egressd's programs on $CG while a run holds it.
rm -f "$LAB_WORK/go"
lab_bg hold "$LAB_CLIENT" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' sh \
	"$EGRESSD" run --cgroup "/sys/fs/cgroup$REL" "${ALLOW[@]}" -- \
	sh -c 'i=0; while [ ! -e "$1/go" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done' sh "$LAB_WORK"
HOLD=$LAB_LAST_PID
for ((i = 0; i < 600; i++)); do
	bpftool cgroup show "$CG" 2>/dev/null | grep -q ' egress_' && break
	lab_alive "$HOLD" || break
	sleep 0.05
done
sed 's/^/    hold| /' "$LAB_DIR/hold.log"
n=$(attached "$CG")
[ "$n" -gt 0 ] && lab_ok "(control: bpftool shows $n programs on $CG during a run)" ||
	lab_fail "(control: bpftool shows programs on $CG during a run)"
touch "$LAB_WORK/go"
lab_wait 30 "the holding egressd to exit" lab_gone "$HOLD"
for map in exact_v4 exempt; do
	fault_run "$map" run --cgroup "/sys/fs/cgroup$REL" "${ALLOW[@]}" -- true
	injected "$map" && lab_ok "($map: injected)" || lab_fail "($map: injected)"
	expect_rc 125 "$map fails: egressd exits 125"
	n=$(attached "$CG")
	[ "$n" = 0 ] && lab_ok "$map fails: nothing attached to $CG" ||
		lab_fail "$map fails: nothing attached to $CG" "$n programs attached"
	[ -d "$CG" ] && lab_ok "$map fails: the given cgroup itself is kept" ||
		lab_fail "$map fails: the given cgroup itself is kept"
done

lab_section "while running: the DNS proxy cannot learn an address"
# The workload: a lookup of a name allowed only by a wildcard (so its
# address is allowed only once learned), a connect to that address, then
# a wait for the test to read egressd status, then both again.
cat >"$LAB_DIR/w.sh" <<EOF
# Its own file: on egressd's stderr, lines of the two could interleave.
exec >>"$LAB_WORK/w.out" 2>&1
echo "dig1 \$(dig +tries=1 +time=3 a.wild.test | sed -n 's/.*status: \([A-Z]*\).*/\1/p')"
"$PY" -c '
import socket, sys
s = socket.socket(); s.settimeout(2)
try:
    s.connect(("198.51.100.42", 80)); print("connect1", "ok" if s.recv(4).startswith(b"ok") else "noanswer")
except PermissionError:
    print("connect1 EPERM")
except OSError as e:
    print("connect1 ERR:" + e.__class__.__name__)
'
touch "$LAB_WORK/asked"
i=0; while [ ! -e "$LAB_WORK/read" ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done
echo "dig2 \$(dig +short +tries=1 +time=3 a.wild.test)"
"$PY" -c '
import socket
s = socket.create_connection(("198.51.100.42", 80), 2); print("connect2", s.recv(4).decode().strip())
'
EOF
chmod 0644 "$LAB_DIR/w.sh"

# run_learn NAME MAP: egressd in the background (FAULTINJ_COUNT=1: one
# update fails, the next ones go through), status read mid-run.
run_learn()
{
	local name=$1 map=$2 child hostcg

	rm -f "$FLOG" "$LAB_WORK/asked" "$LAB_WORK/read" "$LAB_WORK/w.out"
	lab_bg "$name" "$LAB_CLIENT" env "${FI_ENV[@]}" FAULTINJ_MAP="$map" FAULTINJ_COUNT=1 \
		FAULTINJ_LOG="$FLOG" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' sh \
		"$EGRESSD" run --user nobody --allow-domains '*.wild.test' -- sh "$LAB_DIR/w.sh"
	EGPID=$LAB_LAST_PID
	lab_wait 15 "the workload's first lookup ($name)" test -e "$LAB_WORK/asked"
	child=$(pgrep -P "$EGPID" | head -n1)
	hostcg=$(lab_pid_cgroup "$child") || lab_die "no cgroup for the workload of $EGPID"
	lab_run_in client "$EGRESSD" status --cgroup "/sys/fs/cgroup${hostcg#"$LAB_CG2"}" --format json
	"$PY" -c 'import json, sys
f = json.load(sys.stdin)["faults"]
print("map_errors=%d learn_failed=%d" % (f["learn_map_errors"], f["dns_learn_failed"]))' \
		<"$LAB_OUT" >"$LAB_DIR/$name.faults" 2>&1
	sed 's/^/    faults| /' "$LAB_DIR/$name.faults"
	lab_run_in client "$EGRESSD" status --cgroup "/sys/fs/cgroup${hostcg#"$LAB_CG2"}"
	grep '^faults:' "$LAB_OUT" >"$LAB_DIR/$name.text" 2>&1 || :
	sed 's/^/    text| /' "$LAB_DIR/$name.text"
	touch "$LAB_WORK/read"
	lab_wait 20 "egressd $EGPID to exit" lab_gone "$EGPID"
	sed 's/^/    | /' "$LAB_DIR/$name.log"
	L=$LAB_DIR/$name.log
	O=$LAB_DIR/$name.out
	cp "$LAB_WORK/w.out" "$O" 2>/dev/null || : >"$O"
	sed 's/^/    w| /' "$O"
}

run_learn learn-ok ""
expect_grep "$O" '^dig1 NOERROR$' "(control: the lookup is answered)"
expect_grep "$O" '^connect1 ok$' "(control: and its learned address is reachable)"
expect_grep "$LAB_DIR/learn-ok.faults" '^map_errors=0 learn_failed=0$' "(control: status counts no fault)"
expect_grep "$LAB_DIR/learn-ok.text" '^faults: +none$' "(control: status's text says no faults)"

run_learn learn-fail learned_v4
injected learned_v4 && lab_ok "the shim failed the learned_v4 update" ||
	lab_fail "the shim failed the learned_v4 update" "log: $(cat "$FLOG" 2>/dev/null)"
expect_grep "$O" '^dig1 SERVFAIL$' "the answer is withheld: SERVFAIL, not an address the workload cannot reach"
expect_grep "$O" '^connect1 EPERM$' "the address was not allowed: connect EPERM"
expect_grep "$L" 'WARNING: DNS proxy: a\.wild\.test -> 198\.51\.100\.42 not learned: the allowlist map update failed' \
	"a warning names the name, the address and the failure"
expect_grep "$L" 'WARNING: DNS proxy: cannot use the answer for a\.wild\.test: Cannot allocate memory; answered SERVFAIL' \
	"and says the answer became SERVFAIL"
expect_grep "$LAB_DIR/learn-fail.faults" '^map_errors=1 learn_failed=1$' "egressd status counts the map error and the withheld answer"
expect_grep "$LAB_DIR/learn-fail.text" '^faults: .*dns_learn_failed=1.*learn_map_errors=1' \
	"and its text output shows both"
expect_grep "$O" '^dig2 198\.51\.100\.42$' "egressd kept running: the next lookup is answered"
expect_grep "$O" '^connect2 ok$' "and, the map working again, its address is learned and reachable"

lab_section "while running: a learned address cannot be removed at expiry"
# The kernel checks each learned entry's expiry itself, so an entry
# egressd failed to delete still stops passing at its TTL; egressd retries
# the delete, backing off, and warns once (it used to retry every
# millisecond with a warning each time).
cat >"$LAB_DIR/exp.sh" <<EOF
dig +short +tries=1 +time=3 a.wild.test
"$PY" -c '
import socket, time
def c():
    s = socket.socket(); s.settimeout(2)
    try:
        s.connect(("198.51.100.42", 80)); return "ok"
    except PermissionError:
        return "EPERM"
    except OSError as e:
        return "ERR:" + e.__class__.__name__
print("before", c()); time.sleep(3.5); print("after", c())
'
EOF
chmod 0644 "$LAB_DIR/exp.sh"
rm -f "$FLOG"
lab_run_in client env "${FI_ENV[@]}" FAULTINJ_MAP=learned_v4 FAULTINJ_OP=delete FAULTINJ_LOG="$FLOG" \
	"$EGRESSD" run --user nobody --min-ttl 1 --max-ttl 1 --allow-domains '*.wild.test' -- sh "$LAB_DIR/exp.sh"
injected learned_v4 && lab_ok "the shim failed the delete of the expired address" ||
	lab_fail "the shim failed the delete of the expired address" "log: $(cat "$FLOG" 2>/dev/null)"
expect_grep "$LAB_OUT" '^before ok$' "(the learned address passed before its TTL)"
expect_grep "$LAB_OUT" '^after EPERM$' "after its TTL it is refused, though egressd could not delete it"
expect_grep "$LAB_ERR" 'WARNING: DNS proxy: cannot expire a learned address: Cannot allocate memory \(retrying' \
	"egressd warns that it cannot remove it"
n=$(grep -c 'cannot expire a learned address' "$LAB_ERR")
tries=$(grep -c 'BPF_MAP_DELETE_ELEM' "$FLOG" 2>/dev/null)
lab_log "  ($n warnings, $tries failed deletes in about 2.5 s)"
[ "$n" = 1 ] && lab_ok "one warning, not one per retry" || lab_fail "one warning, not one per retry" "$n lines"
# 100 ms doubling: about 5 in 2.5 s; every millisecond would be thousands.
[ "$tries" -ge 2 ] && [ "$tries" -le 12 ] && lab_ok "the retries go on, backing off ($tries deletes)" ||
	lab_fail "the retries go on, backing off" "$tries deletes"
# Two deletes fail, the third goes through: egressd says it recovered.
rm -f "$FLOG"
lab_run_in client env "${FI_ENV[@]}" FAULTINJ_MAP=learned_v4 FAULTINJ_OP=delete FAULTINJ_COUNT=2 \
	FAULTINJ_LOG="$FLOG" "$EGRESSD" run --user nobody --min-ttl 1 --max-ttl 1 \
	--allow-domains '*.wild.test' -- sh "$LAB_DIR/exp.sh"
tries=$(grep -c 'BPF_MAP_DELETE_ELEM' "$FLOG" 2>/dev/null)
[ "$tries" = 2 ] && lab_ok "(two deletes failed)" || lab_fail "(two deletes failed)" "$tries"
expect_grep "$LAB_ERR" 'DNS proxy: expired learned addresses removed after 2 failed attempts' \
	"the third removes it, and egressd says so"

lab_finish
