#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# --cgroup PATH and --cgroup self: egressd filters a cgroup it did not
# create, never kills a process it did not start, and leaves its programs
# attached while anything else still runs there (fail closed).  It detaches
# only from a cgroup that has nothing left in it.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers
command -v bpftool >/dev/null || lab_skip "bpftool not installed"

P=$LAB_PROBE
ALLOW=(--allow-domains "$LAB_ALLOWED4,$LAB_ALLOWED6" --user nobody)

# How many egressd programs are attached directly to a cgroup (host view).
attached()
{
	bpftool cgroup show "$1" 2>/dev/null | grep -c ' egress_'
}

# A cgroup the test owns; the trap kills what is in it and removes it.
CG=$LAB_CG2/egressd-test-$LAB_ID
mkdir "$CG" || lab_die "cannot create $CG"
lab_register_cgroup "$CG"
REL=${CG#"$LAB_CG2"}

lab_section "--cgroup PATH: the command runs there, filtered"
lab_egressd run --cgroup "/sys/fs/cgroup$REL" "${ALLOW[@]}" -- sh -c \
	'sed -n "s/^0:://p" /proc/self/cgroup >"$1/cg.out"; exec "$0" tcp '"$LAB_DENIED4"' 80 1000' \
	"$P" "$LAB_WORK"
lab_check_verdict blocked "tcp $LAB_DENIED4:80 blocked in the given cgroup"
if [ "$(cat "$LAB_WORK/cg.out" 2>/dev/null)" = "$REL" ]; then
	lab_ok "the command ran in $REL"
else
	lab_fail "the command ran in $REL" "it ran in: $(cat "$LAB_WORK/cg.out" 2>/dev/null)"
fi
lab_egressd run --cgroup "/sys/fs/cgroup$REL" "${ALLOW[@]}" -- "$P" tcp "$LAB_ALLOWED4" 80
lab_check_verdict ok "tcp $LAB_ALLOWED4:80 allowed in the given cgroup"
if [ -d "$CG" ]; then
	lab_ok "a cgroup egressd did not create is not removed"
else
	lab_fail "a cgroup egressd did not create is not removed"
fi
n=$(attached "$CG")
if [ "$n" = 0 ]; then
	lab_ok "empty afterwards: every program detached"
else
	lab_fail "empty afterwards: every program detached" "$n programs still attached"
fi

lab_section "--cgroup PATH relative to the cgroup2 mount"
lab_egressd run --cgroup "${REL#/}" "${ALLOW[@]}" -- "$P" tcp "$LAB_DENIED4" 80 1000
lab_check_verdict blocked "tcp $LAB_DENIED4:80 blocked (relative path)"

lab_section "--cgroup PATH with another process in it: nothing killed, filter kept"
sleep 300 &
SLEEPER=$!
LAB_PIDS+=("$SLEEPER")
echo "$SLEEPER" >"$CG/cgroup.procs" || lab_die "cannot move the sleeper into $CG"
lab_egressd run --cgroup "/sys/fs/cgroup$REL" "${ALLOW[@]}" -- true
expect_rc 0 "the command's status passes through"
expect_grep "$LAB_ERR" "1 process\(es\) remain in .*leaving the filter attached" \
	"egressd says it leaves the filter attached"
if kill -0 "$SLEEPER" 2>/dev/null; then
	lab_ok "the other process was not killed"
else
	lab_fail "the other process was not killed"
fi
n=$(attached "$CG")
if [ "$n" = 12 ]; then
	lab_ok "all 12 programs (8, and the DNS proxy's recvmsg4/6 and getpeername4/6) stay attached while it runs"
else
	lab_fail "all 12 programs (8, and the DNS proxy's recvmsg4/6 and getpeername4/6) stay attached while it runs" "attached: $n"
fi
kill "$SLEEPER" 2>/dev/null
wait "$SLEEPER" 2>/dev/null

lab_section "--cgroup self: egressd filters its own cgroup (container entrypoint)"
SELF=$LAB_CG2/egressd-self-$LAB_ID
mkdir "$SELF" || lab_die "cannot create $SELF"
lab_register_cgroup "$SELF"
SREL=${SELF#"$LAB_CG2"}
# The wrapper moves itself into the cgroup, then becomes egressd, as an
# entrypoint running in a container's cgroup would.
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh \
	"$SREL" "$EGRESSD" run --cgroup self "${ALLOW[@]}" -- "$P" tcp "$LAB_DENIED4" 80 1000
lab_check_verdict blocked "tcp $LAB_DENIED4:80 blocked under --cgroup self"
expect_grep "$LAB_ERR" "cgroup /sys/fs/cgroup$SREL;" "the startup line names egressd's own cgroup"
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh \
	"$SREL" "$EGRESSD" run --cgroup self "${ALLOW[@]}" -- "$P" udp "$LAB_ALLOWED6" 7
lab_check_verdict ok "udp [$LAB_ALLOWED6]:7 allowed under --cgroup self"
n=$(attached "$SELF")
if [ "$n" = 0 ]; then
	lab_ok "after egressd exits from its own cgroup, nothing stays attached"
else
	lab_fail "after egressd exits from its own cgroup, nothing stays attached" "attached: $n"
fi

lab_section "--cgroup self: warnings about what processes joining later get"
# Run as root with every capability: docker exec sessions would get the
# same bounding set, NET_RAW and NET_ADMIN included, and no no_new_privs.
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh \
	"$SREL" "$EGRESSD" run --cgroup self "${ALLOW[@]}" -- true
expect_rc 0 "--cgroup self runs"
expect_grep "$LAB_ERR" "CAP_NET_RAW is in this container's capability set.*--cap-drop NET_RAW" \
	"CAP_NET_RAW in the bounding set: warned, with the Docker flag"
expect_grep "$LAB_ERR" "CAP_NET_ADMIN included.*egressd exec -- COMMAND" \
	"CAP_NET_ADMIN in the bounding set: warned, pointing at egressd exec"
expect_grep "$LAB_ERR" "no_new_privs is off.*--security-opt no-new-privileges" "no_new_privs off: warned"
# The same with NET_RAW out of the bounding set and no_new_privs set, as
# in a container made with --cap-drop NET_RAW --security-opt
# no-new-privileges: those two warnings go.  NET_ADMIN must stay (egressd
# needs it, and an exec as root keeps only what the bounding set holds),
# so its warning stays: it is true of every such container.
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh \
	"$SREL" setpriv --no-new-privs --bounding-set=-net_raw \
	"$EGRESSD" run --cgroup self "${ALLOW[@]}" -- true
expect_rc 0 "--cgroup self runs with NET_RAW dropped and no_new_privs set"
expect_grep "$LAB_ERR" "isolation ON" "egressd really started"
expect_no_grep "$LAB_ERR" "CAP_NET_RAW" "no NET_RAW warning once it is dropped"
expect_grep "$LAB_ERR" "CAP_NET_ADMIN included" "the NET_ADMIN warning stays"
expect_no_grep "$LAB_ERR" "no_new_privs is off" "no no_new_privs warning when it is set"

lab_section "--cgroup self or PATH on the machine's root cgroup is refused"
before=$(attached "$LAB_CG2")
lab_run_in client sh -c 'echo $$ >/sys/fs/cgroup/cgroup.procs && exec "$@"' sh \
	"$EGRESSD" run --cgroup self "${ALLOW[@]}" -- touch "$LAB_WORK/root.ran"
expect_rc 125 "--cgroup self in the root cgroup is refused"
expect_grep "$LAB_ERR" "ERROR: --cgroup self is the machine's root cgroup: filtering it would filter every process" \
	"the error says why"
[ -e "$LAB_WORK/root.ran" ] && lab_fail "the command did not run" || lab_ok "the command did not run"
lab_egressd run --cgroup /sys/fs/cgroup "${ALLOW[@]}" -- true
expect_rc 125 "--cgroup PATH naming the root cgroup is refused"
expect_grep "$LAB_ERR" "ERROR: --cgroup /sys/fs/cgroup is the machine's root cgroup" "the error names it"
after=$(attached "$LAB_CG2")
if [ "$before" = "$after" ]; then
	lab_ok "nothing was attached to the root cgroup ($after programs before and after)"
else
	lab_fail "nothing was attached to the root cgroup" "before: $before, after: $after"
fi

lab_section "--cgroup PATH that is not a cgroup"
lab_egressd run --cgroup /tmp "${ALLOW[@]}" -- true
expect_rc 125 "a non-cgroup directory is refused"
expect_grep "$LAB_ERR" "ERROR: --cgroup /tmp is not under the cgroup2 mount" "the error names it"

lab_section "--cgroup PATH that does not exist"
lab_egressd run --cgroup "/sys/fs/cgroup/no-such-cgroup-$LAB_ID/sub" "${ALLOW[@]}" -- true
expect_rc 125 "a missing cgroup is refused"
expect_fgrep "$LAB_ERR" "ERROR: cannot open cgroup /sys/fs/cgroup/no-such-cgroup-$LAB_ID: No such file or directory" \
	"the error says it does not exist (not that it is writable)"
expect_no_grep "$LAB_ERR" "writable" "no word of it being writable"

lab_section "a delegated parent cgroup (owned by the workload's user) is no way out"
# What a systemd user session looks like: user@UID.service and below
# belong to UID.  Moving between two cgroups needs write access to the
# cgroup.procs of their common ancestor, so egressd must not put the
# command's cgroup below one of these.
DELEG=$LAB_CG2/egressd-deleg-$LAB_ID
mkdir "$DELEG" || lab_die "cannot create $DELEG"
lab_register_cgroup "$DELEG"
chown nobody "$DELEG" "$DELEG/cgroup.procs" "$DELEG/cgroup.threads" "$DELEG/cgroup.subtree_control"
DREL=${DELEG#"$LAB_CG2"}
rm -f "$LAB_WORK/deleg.cg" "$LAB_WORK/deleg.rc"
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh \
	"$DREL" "$EGRESSD" run "${ALLOW[@]}" -- sh -c '
	sed -n "s/^0:://p" /proc/self/cgroup >"$1/deleg.cg"
	echo $$ 2>/dev/null >"/sys/fs/cgroup$2/cgroup.procs"; echo $? >"$1/deleg.rc"
	exec "$0" udp '"$LAB_DENIED4"' 7 1000' "$P" "$LAB_WORK" "$DREL"
lab_check_verdict blocked "after trying to join the delegated parent, udp $LAB_DENIED4:7 is still blocked"
expect_grep "$LAB_ERR" "$DREL is writable by uid 65534 \(a delegated cgroup\): creating the filtered cgroup under" \
	"egressd says it keeps clear of the delegated cgroup"
case $(cat "$LAB_WORK/deleg.cg" 2>/dev/null) in
"$DREL"/* | "") lab_fail "the command's cgroup is outside the delegated subtree" \
	"it was: $(cat "$LAB_WORK/deleg.cg" 2>/dev/null)" ;;
*) lab_ok "the command's cgroup is outside the delegated subtree" ;;
esac
if [ "$(cat "$LAB_WORK/deleg.rc" 2>/dev/null)" != 0 ]; then
	lab_ok "writing its pid into the delegated parent fails"
else
	lab_fail "writing its pid into the delegated parent fails"
fi

lab_egressd run --cgroup "/sys/fs/cgroup$DREL" "${ALLOW[@]}" -- touch "$LAB_WORK/deleg.ran"
expect_rc 125 "--cgroup PATH into a cgroup the command's user can write is refused"
expect_grep "$LAB_ERR" "cgroup.procs is writable by uid 65534, so the command could move itself out" \
	"the refusal says why"
if [ -e "$LAB_WORK/deleg.ran" ]; then
	lab_fail "the command did not run"
else
	lab_ok "the command did not run"
fi
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh \
	"$DREL" "$EGRESSD" run --cgroup self "${ALLOW[@]}" -- true
expect_rc 125 "--cgroup self in a cgroup the command's user can write is refused"

lab_finish
