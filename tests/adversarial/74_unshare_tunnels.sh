#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 11 (issue 11, family 6): unshare -Urn, then a way out of the new
# network namespace.  Root in a user namespace of its own, the workload
# holds CAP_NET_ADMIN over the new netns and may make any device there:
# tunnels (vxlan, gre, ipip, sit, ip6tnl, geneve, wireguard where the
# module loads, tun) whose remote is the denied host.  But their underlay
# is the new namespace too, where nothing routes anywhere: the
# encapsulated marker is dropped there.  A veth whose peer goes into the
# lab's namespace, and setns() into it, need CAP_NET_ADMIN / CAP_SYS_ADMIN
# over the lab's namespaces, which that user namespace does not own:
# EPERM (setns into the parent user namespace: EINVAL).  This kernel
# (6.18, no modules) has vxlan and tun built in, not gre, ipip, sit,
# ip6tnl, ip6gre, geneve or wireguard: those are listed and skipped (root
# cannot make them either, so neither can the workload).  None of this is a channel even without egressd (a nobody shell
# has the same user namespaces), so each case runs both ways and asserts,
# both times, that the setup step worked (the tunnel was made: the attack
# is real), the marker sent into it never reached the denied host, and the
# cross-namespace steps failed with "Operation not permitted".
#
# The workload is a shell: the outer one records its pid (a process in the
# lab's namespace), unshare -Urn, then the attack inside.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

D4=$ADV_DENIED4
D6=$ADV_DENIED6
IP=$(command -v ip) || lab_skip "no ip(8)"
UNSHARE=$(command -v unshare) || lab_skip "no unshare(1)"
NSENTER=$(command -v nsenter) || lab_skip "no nsenter(1)"
NOT_IN_KERNEL=()

sh_control() { lab_run_in client "${LAB_NOBODY_CMD[@]}" sh -c "$1"; }
sh_under() { lab_egressd run --user nobody --allow-domains "$ADV_ALLOW" -- sh -c "$1"; }

# tunnel_script KIND LINK-ARGS INNER-DST: inside unshare -Urn, make device
# t0 (KIND LINK-ARGS), address it, and send the marker @M@ to INNER-DST
# through it.  Prints "unshare: ok", "tunnel KIND: ok|failed" and the
# attack's lines.
tunnel_script()
{
	local MK="$IP link add t0 $2"

	[ "$1" = tun ] && MK="$IP tuntap add dev t0 mode tun"
	cat <<EOS
exec 2>&1
exec $UNSHARE -Urn sh -c '
echo "unshare: ok"
$IP link set lo up
if $MK; then echo "tunnel $1: ok"; else echo "tunnel $1: failed"; exit 1; fi
case "$3" in
*:*) $IP -6 addr add fd00:adv::1/64 dev t0 nodad ;;
*) $IP addr add 192.0.2.1/24 dev t0 ;;
esac
$IP link set t0 up
$ADV_ATTACK send --marker @M@ udp $3 5555
'
EOS
}

# contained DESC KIND LINK-ARGS INNER-DST
contained()
{
	local desc=$1 run why=() script how
	script=$(tunnel_script "$2" "$3" "$4")

	printf '\n  -- %s\n' "$desc"
	# A device type this kernel does not have (nor can load: no modules
	# here) is no channel, and no check: said, not counted.
	if [ "$2" = tun ]; then
		ip -n "$LAB_CLIENT" tuntap add dev "adv$LAB_ID" mode tun 2>/dev/null
	else
		ip -n "$LAB_CLIENT" link add "adv$LAB_ID" $3 2>/dev/null
	fi
	if [ $? -ne 0 ]; then
		echo "  not in this kernel: root cannot make '$3' either (not counted)"
		NOT_IN_KERNEL+=("$2")
		return 0
	fi
	ip -n "$LAB_CLIENT" link del "adv$LAB_ID"
	for run in sh_control sh_under; do
		adv_marker text
		adv_capture_start denied "$ADV_MARK_HEX"
		"$run" "${script//@M@/$ADV_M}"
		adv_capture_stop
		# /dev/net/tun is not the workload's to open (EACCES): refused too.
		if grep -qx "tunnel $2: failed" "$LAB_OUT" && grep -q 'Permission denied' "$LAB_OUT"; then
			how="refused: Permission denied"
		elif grep -qx "tunnel $2: ok" "$LAB_OUT"; then
			how="made with and without egressd"
		else
			why+=("$run: the tunnel was not made (rc=$LAB_RC), so nothing was tried")
		fi
		[ "$ADV_CAP_COUNT" -eq 0 ] ||
			why+=("$run: $ADV_CAP_COUNT frame(s) with the marker reached $ADV_CAP_WHERE")
	done
	if [ ${#why[@]} -eq 0 ]; then
		adv_pass "$desc ($how; nothing reached the denied host)"
	else
		adv_fail "$desc" "${why[@]}"
	fi
}

lab_section "unshare -Urn, a tunnel to the denied host, the marker through it"
contained "vxlan remote $D4" vxlan "type vxlan id 42 remote $D4 dstport 4789" 192.0.2.2
contained "vxlan remote $D6" vxlan "type vxlan id 42 remote $D6 dstport 4789" 192.0.2.2
contained "geneve remote $D4" geneve "type geneve id 42 remote $D4" 192.0.2.2
contained "gre remote $D4" gre "type gre remote $D4" 192.0.2.2
contained "ipip remote $D4" ipip "type ipip remote $D4" 192.0.2.2
contained "sit remote $D4" sit "type sit remote $D4" fd00:adv::2
contained "ip6tnl remote $D6" ip6tnl "type ip6tnl remote $D6 mode any" 192.0.2.2
contained "ip6gre remote $D6" ip6gre "type ip6gre remote $D6" 192.0.2.2
contained "wireguard" wireguard "type wireguard" 192.0.2.2
contained "tun device" tun "type tun" 192.0.2.2
[ ${#NOT_IN_KERNEL[@]} -eq 0 ] ||
	echo "  device types this kernel lacks (no check): ${NOT_IN_KERNEL[*]}"

lab_section "unshare -Urn, then into the lab's namespace: veth peer, setns"
# OUT is the outer shell's pid, which stays in the lab's namespaces (no
# exec): its /proc/OUT/ns/net is the lab's netns.
NSX="exec 2>&1
OUT=\$\$
$UNSHARE -Urn sh -c '
echo \"unshare: ok\"
if $IP link add v0 type veth peer name v1 netns \$0; then echo \"veth peer: ok\"; else echo \"veth peer: failed\"; fi
if $NSENTER --net=/proc/\$0/ns/net true; then echo \"setns net: ok\"; else echo \"setns net: failed\"; fi
if $NSENTER --user=/proc/\$0/ns/user true; then echo \"setns user: ok\"; else echo \"setns user: failed\"; fi
' \$OUT"
for run in sh_control sh_under; do
	"$run" "$NSX"
	for step in "veth peer" "setns net" "setns user"; do
		# setns into an ancestor user namespace is EINVAL, the others EPERM.
		if grep -qx "$step: failed" "$LAB_OUT" && grep -qx 'unshare: ok' "$LAB_OUT" &&
			grep -Eq 'Operation not permitted|Invalid argument' "$LAB_OUT"; then
			adv_pass "$run: $step into the lab's namespace from unshare -Urn: refused"
		else
			adv_fail "$run: $step into the lab's namespace from unshare -Urn" \
				"want 'unshare: ok', '$step: failed' and EPERM; got: $(tr '\n' ';' <"$LAB_OUT")"
		fi
	done
done

adv_finish
