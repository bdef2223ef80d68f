#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 12 (issue 11, family 8): escapes from the filter, then the marker.
#   1. bpf(): PROG_QUERY of its own cgroup, PROG_DETACH of every hook
#      without a program fd, PROG_GET_NEXT_ID / PROG_GET_FD_BY_ID, OBJ_GET
#      of whatever is pinned under /sys/fs/bpf, and with any fd got that
#      way PROG_DETACH again; then signals (kill 0, SIGSTOP), PTRACE_SEIZE,
#      pidfd_getfd and /proc/PID/mem and /proc/PID/fd of egressd (the
#      workload's parent); then, in the same process, UDP to the denied
#      host.  Control: the same program as full root put into egressd's
#      cgroup gets a program fd by id, detaches, and the marker arrives.
#      Under egressd (nobody): every attempt refused, the send EPERM.
#   2. setuid-root and file-capability (cap_net_raw+ep) copies of the
#      attack, sending a raw IP packet to the denied host.  Control: nobody
#      without egressd (bounding set intact, no no_new_privs) gets root or
#      CAP_NET_RAW from the file and the marker arrives.  Under egressd:
#      no_new_privs and the empty bounding set: socket() EPERM for the
#      setuid copy; the file-capability copy is not executed at all (a
#      capability-dumb binary that cannot get its caps: EPERM at execve).
# cgroup.procs escapes are tests/e2e/40_containment.sh (probe escape, and
# bpf-detach there too); ptrace/pidfd_getfd of a same-uid process outside
# the cgroup is tests/e2e/46_same_uid.sh.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

D4=$ADV_DENIED4
PORT=5555

lab_section "bpf() and egressd's process, then UDP to the denied host"
ADV_CONTROL=adv_run_netraw_in_egressd
ADV_INCG_CMD=(sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' sh)
for dst in "$D4" "$ADV_DENIED6"; do
	adv_attack "escape attempts, then UDP to $(adv_hostport "$dst" $PORT)" denied text \
		'escape: every attempt refused' \
		escape -- send --marker @M@ udp "$dst" "$PORT"
done
# Each attempt on its own line, from a run under egressd (a run that skipped
# them would say "every attempt refused" too): every one refused.
adv_run_egressd escape
for step in 'bpf PROG_DETACH CGROUP_INET_EGRESS \(no program fd\)' \
	'bpf PROG_DETACH CGROUP_UDP4_SENDMSG \(no program fd\)' \
	'bpf PROG_QUERY CGROUP_INET_EGRESS' 'bpf PROG_QUERY CGROUP_INET4_CONNECT' \
	'bpf PROG_GET_NEXT_ID' 'kill [0-9]+ 0' 'kill [0-9]+ SIGSTOP' 'ptrace SEIZE [0-9]+' \
	'pidfd_getfd [0-9]+' 'open /proc/[0-9]+/mem' 'open /proc/[0-9]+/fd/3'; do
	if grep -Eqx "$step: E[A-Z]+" "$LAB_OUT"; then
		adv_pass "under egressd: $step refused ($(grep -E "^$step" "$LAB_OUT" | head -n1 | sed 's/.*: //'))"
	else
		adv_fail "under egressd: $step was not tried and refused" \
			"$(grep -E "^$step" "$LAB_OUT" || echo 'no such line')"
	fi
done
if grep -qx 'escape: every attempt refused' "$LAB_OUT" && [ "$LAB_RC" -eq 1 ]; then
	adv_pass "under egressd: escape alone: every attempt refused (exit 1)"
else
	adv_fail "under egressd: escape alone" "rc=$LAB_RC: $(grep -E '^(escape|bpf)' "$LAB_OUT" | tr '\n' ';')"
fi
ADV_CONTROL=adv_run_control
ADV_INCG_CMD=("${ADV_NETRAW_CMD[@]}")

lab_section "setuid-root and file-capability binaries"
ADV_SUID=$LAB_DIR/attack-suid
ADV_FCAP=$LAB_DIR/attack-fcap
install -m 4755 -o root "$ADV_ATTACK" "$ADV_SUID" || lab_die "setuid copy"
install -m 0755 "$ADV_ATTACK" "$ADV_FCAP" && setcap cap_net_raw+ep "$ADV_FCAP" ||
	lab_skip "cannot give $ADV_FCAP a file capability (setcap)"
# nobody as a login shell would be: bounding set intact, no no_new_privs.
adv_run_plain_nobody()
{
	lab_run_in client setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		"$ADV_ATTACK" "$@"
}
ADV_CONTROL=adv_run_plain_nobody
SAVED_ATTACK=$ADV_ATTACK
ADV_ATTACK=$ADV_SUID
for dst in "$D4" "$ADV_DENIED6"; do
	adv_attack "setuid-root copy: SOCK_RAW to $dst" denied text 'socket: EPERM' \
		send --marker @M@ raw "$dst" 1
done
# A capability-dumb binary (cap_net_raw+ep) that cannot get every
# capability its file grants is not executed at all (the kernel's EPERM at
# execve, egressd's 126): no_new_privs and the empty bounding set.
ADV_ATTACK=$ADV_FCAP
for dst in "$D4" "$ADV_DENIED6"; do
	desc="file capability cap_net_raw+ep: SOCK_RAW to $dst"
	printf '\n  -- %s\n' "$desc"
	adv_marker text
	adv_capture_start denied "$ADV_MARK_HEX"
	adv_run_plain_nobody send --marker "$ADV_M" raw "$dst" 1
	adv_capture_stop
	ctl_rc=$LAB_RC ctl_n=$ADV_CAP_COUNT
	adv_marker text
	adv_capture_start denied "$ADV_MARK_HEX"
	adv_run_egressd send --marker "$ADV_M" raw "$dst" 1
	adv_capture_stop
	if [ "$ctl_rc" -ne 0 ] || [ "$ctl_n" -eq 0 ]; then
		adv_fail "$desc" "control failed: exit $ctl_rc, $ctl_n frame(s) (want 0, >0)"
	elif [ "$ADV_CAP_COUNT" -eq 0 ] && { grep -q '^socket: EPERM$' "$LAB_OUT" ||
		{ [ "$LAB_RC" -eq 126 ] && grep -q 'cannot execute.*Operation not permitted' "$LAB_ERR"; }; }; then
		adv_pass "$desc (control: $ctl_n frame(s); egressd: 0, $(grep -Eho 'socket: EPERM|cannot execute.*' "$LAB_OUT" "$LAB_ERR" | head -n1))"
	else
		adv_fail "$desc" "rc=$LAB_RC, $ADV_CAP_COUNT frame(s): $(tr '\n' ';' <"$LAB_OUT")"
	fi
done
ADV_ATTACK=$SAVED_ATTACK
ADV_CONTROL=adv_run_control

adv_finish
