#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 16 (issue 11, family 14): the families above from a session in a
# runc container (para's session container, tests/lib/container.sh), in
# both ways a session gets there:
#   - a bare `runc exec` as uid 1000 (para's `docker exec -u para`): the
#     container's bounding set (NET_ADMIN, BPF), no effective capability,
#     no_new_privs, no seccomp filter of egressd's;
#   - `egressd exec` from a root `runc exec` (the session egressd starts:
#     uid 1000, nothing held, egressd's seccomp filter).
# The container's network namespace is the lab's client namespace, so
# every control is the attack run there as nobody without egressd (which
# must get the marker to the denied host, as in every case).  Under the
# session: nothing reaches the denied host, and the refusal is the one the
# case documents.  (tests/e2e/80_container.sh covers plain TCP/UDP,
# DNS exfiltration, detaching, leaving the cgroup, kill, setuid and
# packet sockets from the same sessions.)

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/container.sh"

adv_init
adv_up
adv_start_servers
ctr_init
ctr_rootfs
# The rootfs's resolver is the lab's; here the router is.
printf 'nameserver %s\n' "$ADV_ROUTER4" >"$CTR_ROOTFS/etc/resolv.conf"

ctr_bundle on --env PARA_NETWORK_ISOLATION=true \
	--env "PARA_ALLOWED_DOMAINS=$ADV_ALLOW,router.test" -- sleep 600
ctr_start on
ctr_wait_log on 'isolation ON' 30 || lab_die "egressd did not start in the container: $(tail -n 5 "$CTR_DIR/on/err")"

adv_run_bare_exec() { ctr_exec on --user 1000 -- /usr/local/bin/attack "$@"; }
adv_run_egressd_exec() { ctr_exec on -- egressd exec -- /usr/local/bin/attack "$@"; }

PORT=5555
D4=$ADV_DENIED4
D6=$ADV_DENIED6
R4=$ADV_ROUTER4

for session in adv_run_bare_exec adv_run_egressd_exec; do
	ADV_UNDER=$session
	who=${session#adv_run_}
	lab_section "$who: io_uring"
	for op in sendmsg send-zc; do
		adv_attack "$who: io_uring $op to $D4:$PORT" denied text \
			'io_uring [a-z-]+: EPERM' uring --marker @M@ "$op" "$D4" "$PORT"
	done
	adv_attack "$who: io_uring sendmsg --sqpoll to [$D6]:$PORT" denied text \
		'io_uring sendmsg \(SQPOLL\): EPERM' uring --sqpoll --marker @M@ sendmsg "$D6" "$PORT"
	adv_attack "$who: io_uring connect --async to $D4 (marker: the SYN's ports)" denied tcp \
		'io_uring connect \(IOSQE_ASYNC\): EPERM' uring --async --sport @S@ connect "$D4" @P@

	lab_section "$who: TCP Fast Open, MPTCP"
	adv_attack "$who: sendto MSG_FASTOPEN to $D4 (marker: the SYN's ports)" denied tcp \
		'sendto MSG_FASTOPEN: EPERM' send --fastopen --marker x --sport @S@ tcp "$D4" @P@
	adv_attack "$who: MPTCP connect to $D6 (marker: the SYN's ports)" denied tcp \
		'connect: EPERM' send --mptcp --sport @S@ tcp "$D6" @P@

	lab_section "$who: datagram variants, ping"
	adv_attack "$who: sendmmsg [$R4:7, $D4:$PORT]" denied text 'sendmmsg \(the rest\): EPERM' \
		send --mmsg-with "$R4" --mmsg-port 7 --marker @M@ udp "$D4" "$PORT"
	adv_attack "$who: connect $R4:7, sendmsg to $D4:$PORT" denied text 'sendmsg: EPERM' \
		send --connect-to "$R4" --connect-port 7 --marker @M@ udp "$D4" "$PORT"
	adv_attack "$who: UDP-Lite to [$D6]:$PORT" denied text 'sendmsg: EPERM' \
		send --marker @M@ udplite "$D6" "$PORT"
	adv_attack "$who: AF_UNSPEC sockaddr to $D4:$PORT" denied text 'sendmsg: EPERM' \
		send --name-family unspec --marker @M@ udp "$D4" "$PORT"
	adv_attack "$who: sockaddr_in on an AF_INET6 socket to $D4:$PORT" denied text 'sendmsg: EPERM' \
		send --v6-socket --marker @M@ udp "$D4" "$PORT"
	adv_attack "$who: ping socket echo to $D4" denied text '' send --marker @M@ icmp "$D4" 1

	lab_section "$who: raw and packet sockets, also from a user namespace of its own"
	ADV_CONTROL=adv_run_netraw_control
	adv_attack "$who: SOCK_RAW to $D4" denied text 'socket: EPERM' send --marker @M@ raw "$D4" 1
	adv_attack "$who: AF_PACKET frame on $LAB_VC" router text 'socket: EPERM' \
		send --marker @M@ packet "$LAB_VC" 1
	ADV_CONTROL=adv_run_control
	adv_refused "$who: unshare -U, SOCK_RAW to $D4" denied text '(socket|unshare[^:]*): EPERM' \
		send --unshare user --marker @M@ raw "$D4" 1
done
ADV_UNDER=adv_run_egressd

lab_section "bare exec: escape attempts, then UDP to the denied host"
ctr_exec on --user 1000 -- /usr/local/bin/attack escape -- send --marker egressd-adv-ctr udp "$D4" "$PORT"
if grep -qx 'escape: every attempt refused' "$LAB_OUT" && grep -qx 'sendmsg: EPERM' "$LAB_OUT"; then
	adv_pass "bare exec: every bpf()/process escape refused; the send after them EPERM"
else
	adv_fail "bare exec: escape attempts" "$(grep -E '^(escape|bpf|sendmsg|kill|ptrace|pidfd|open)' "$LAB_OUT" | tr '\n' ';')"
fi

ctr_delete on
adv_finish
