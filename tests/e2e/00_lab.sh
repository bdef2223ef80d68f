#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The lab and the probe themselves, without egressd: every server answers,
# every probe verdict means what the other tests assume it means.  When
# this fails, the other e2e results mean nothing.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_up
lab_start_servers

NOBODY=("${LAB_NOBODY_CMD[@]}")

lab_section "servers reachable from the client namespace (as nobody)"
for dst in 198.51.100.10 198.51.100.20 198.51.100.30 2001:db8::10 \
	2001:db8::20 ::ffff:198.51.100.10 ::ffff:198.51.100.20; do
	for port in 80 8080; do
		lab_run_in client "${NOBODY[@]}" "$LAB_PROBE" tcp "$dst" "$port"
		lab_check_verdict ok "tcp $dst $port"
		expect_grep "$LAB_OUT" '^reply=ok$' "tcp $dst $port greeting read"
	done
	for kind in udp udp-connected; do
		lab_run_in client "${NOBODY[@]}" "$LAB_PROBE" "$kind" "$dst" 7
		lab_check_verdict ok "$kind $dst 7 echo"
	done
done
for dst in 198.51.100.10 198.51.100.20 2001:db8::10 2001:db8::20 127.0.0.1 ::1; do
	lab_run_in client "${NOBODY[@]}" "$LAB_PROBE" icmp "$dst"
	lab_check_verdict ok "icmp echo $dst (ping socket as nobody)"
done
for dst in 127.0.0.1 ::1; do
	lab_run_in client "${NOBODY[@]}" "$LAB_PROBE" tcp "$dst" 9000
	lab_check_verdict ok "loopback tcp $dst 9000"
	lab_run_in client "${NOBODY[@]}" "$LAB_PROBE" udp "$dst" 7
	lab_check_verdict ok "loopback udp $dst 7"
done

lab_section "probe verdicts that are not 'blocked'"
lab_run_in client "$LAB_PROBE" tcp 198.51.100.10 81
expect_rc 1 "closed port: exit 1"
expect_grep "$LAB_OUT" '^error errno=ECONNREFUSED$' "closed port: error errno=ECONNREFUSED, not blocked"
lab_run_in client "$LAB_PROBE" udp-connected 198.51.100.10 9
expect_grep "$LAB_OUT" '^error errno=ECONNREFUSED$' "udp-connected to closed port: ECONNREFUSED"
# No route leaves the client namespace: nothing can reach a real network.
lab_run_in client "$LAB_PROBE" tcp 203.0.113.1 80
expect_grep "$LAB_OUT" '^error errno=ENETUNREACH$' "client ns has no route outside the lab (v4)"
lab_run_in client "$LAB_PROBE" udp 2001:db9::1 7
expect_grep "$LAB_OUT" '^error errno=ENETUNREACH$' "client ns has no route outside the lab (v6)"
lab_run_in client "$LAB_PROBE" tcp 198.51.100.10 99999
expect_rc 2 "bad port is a usage error (exit 2)"
lab_run_in client "$LAB_PROBE" tcp not-an-ip 80
expect_rc 2 "bad address is a usage error (exit 2)"
lab_run_in client "$LAB_PROBE" bogus
expect_rc 2 "unknown subcommand is a usage error (exit 2)"

lab_section "DNS"
if command -v dig >/dev/null 2>&1; then
	DIG=(dig +time=1 +tries=1)
	lab_run_in client "${DIG[@]}" +short @198.51.100.1 allowed.test A
	expect_grep "$LAB_OUT" '^198\.51\.100\.10$' "dnsmasq answers A on 198.51.100.1"
	lab_run_in client "${DIG[@]}" +short @2001:db8::1 allowed.test AAAA
	expect_grep "$LAB_OUT" '^2001:db8::10$' "dnsmasq answers AAAA on 2001:db8::1"
	lab_run_in client "${DIG[@]}" +short @198.51.100.30 denied.test A
	expect_grep "$LAB_OUT" '^198\.51\.100\.20$' "dnsmasq answers on 198.51.100.30 (the non-resolver)"
	lab_run_in client "${DIG[@]}" +short @198.51.100.1 v6only.test A
	expect_no_grep "$LAB_OUT" '.' "v6only.test has no A record"
	lab_run_in client "${DIG[@]}" +short @198.51.100.1 v6only.test AAAA
	expect_grep "$LAB_OUT" '^2001:db8::10$' "v6only.test has an AAAA record"
	lab_run_in client "${DIG[@]}" +short @198.51.100.1 alias.test A
	expect_grep "$LAB_OUT" '^allowed\.test\.$' "alias.test is a CNAME to allowed.test"
	lab_run_in client "${DIG[@]}" allowed.test A
	expect_grep "$LAB_OUT" 'SERVER: 198\.51\.100\.1#53' "client resolv.conf points at 198.51.100.1"
	lab_run_in client "${DIG[@]}" @198.51.100.1 nosuch.test A
	expect_grep "$LAB_OUT" 'status: NXDOMAIN' "unknown .test name: NXDOMAIN"
	lab_run_in client "${DIG[@]}" @198.51.100.1 example.com A
	expect_no_grep "$LAB_OUT" 'status: NOERROR' "names outside .test are never answered (no upstream)"
	lab_dns_add 'host-record=added.test,198.51.100.30'
	lab_run_in client "${DIG[@]}" +short @198.51.100.1 added.test A
	expect_grep "$LAB_OUT" '^198\.51\.100\.30$' "lab_dns_add adds a record while running"
else
	lab_log "  (dig missing: DNS answers checked with probe only)"
fi
lab_run_in client "${NOBODY[@]}" "$LAB_PROBE" tcp 198.51.100.1 53
lab_check_verdict ok "dnsmasq listens on tcp 198.51.100.1:53"

lab_section "namespaces, cgroup2 and /etc/netns"
lab_run_in client test -e /sys/fs/cgroup/cgroup.procs
expect_rc 0 "lab_exec_client sees cgroup2 at /sys/fs/cgroup"
lab_run_in nocg test -e /sys/fs/cgroup/cgroup.procs
expect_rc 1 "plain ip netns exec hides cgroup2"
lab_run_in client cat /etc/resolv.conf
expect_grep "$LAB_OUT" '^nameserver 198\.51\.100\.1$' "client sees the lab resolv.conf"

lab_section "probe fds"
lab_run_in client "${LAB_CLOSEFDS_CMD[@]}" "$LAB_PROBE" fds
expect_rc 0 "no extra fds: exit 0"
lab_run_in client "${LAB_CLOSEFDS_CMD[@]}" bash -c 'exec 7</etc/hostname; exec "$0" fds' "$LAB_PROBE"
expect_rc 1 "an inherited fd: exit 1"
expect_grep "$LAB_OUT" '^fd 7 -> /etc/hostname$' "the inherited fd is listed with its target"

lab_section "probe caps"
lab_run_in client "$LAB_PROBE" caps
expect_rc 1 "root with all caps: exit 1"
lab_run_in client "${NOBODY[@]}" --no-new-privs "$LAB_PROBE" caps
expect_rc 0 "nobody, no caps, no_new_privs: exit 0"
lab_run_in client "${NOBODY[@]}" "$LAB_PROBE" caps
expect_rc 1 "nobody without no_new_privs: exit 1"

lab_section "probe escape and bpf-detach"
CG=egresslab-$LAB_ID
mkdir "$LAB_CG2/$CG" || lab_die "mkdir $LAB_CG2/$CG"
lab_register_cgroup "$LAB_CG2/$CG"
INCG=(sh -c 'echo $$ >"/sys/fs/cgroup/$0/cgroup.procs" && exec "$@"' "$CG")
lab_run_in client "${INCG[@]}" "${NOBODY[@]}" "$LAB_PROBE" escape /sys/fs/cgroup
expect_rc 0 "nobody cannot leave its cgroup: exit 0"
expect_grep "$LAB_OUT" "^contained: still in /$CG\$" "probe reports the original cgroup"
lab_run_in client "${INCG[@]}" "$LAB_PROBE" escape /sys/fs/cgroup
expect_rc 1 "root can leave its cgroup: exit 1 (escape detected)"
expect_grep "$LAB_OUT" '^escaped: now in /$' "probe reports the escape"
lab_run_in client "${NOBODY[@]}" "$LAB_PROBE" bpf-detach "/sys/fs/cgroup/$CG"
expect_rc 0 "nothing attached: detach fails, exit 0"
expect_grep "$LAB_OUT" '^detach cgroup_inet_egress: failed errno=[A-Z]+$' "detach failure is reported with its errno"

# Against a real program attached the legacy way (no BPF_F_ALLOW_MULTI):
# the probe's verdict must match what bpftool then sees.
if command -v clang >/dev/null && command -v bpftool >/dev/null && command -v unshare >/dev/null; then
	cat >"$LAB_DIR/pass.bpf.c" <<'EOF'
struct __sk_buff;
__attribute__((section("cgroup_skb/egress"), used)) int pass(struct __sk_buff *skb)
{
	return 1;
}
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
EOF
	mkdir "$LAB_DIR/bpffs"
	clang -O2 -target bpf -c "$LAB_DIR/pass.bpf.c" -o "$LAB_DIR/pass.bpf.o" ||
		lab_die "clang -target bpf failed"
	# A private bpffs in a throwaway mount namespace: the pin vanishes
	# with it, the legacy attachment holds its own reference.
	unshare -m --propagation private sh -c 'mount -t bpf bpf "$0" &&
		bpftool prog load "$1" "$0/pass" type cgroup/skb &&
		bpftool cgroup attach "$2" egress pinned "$0/pass"' \
		"$LAB_DIR/bpffs" "$LAB_DIR/pass.bpf.o" "$LAB_CG2/$CG" ||
		lab_die "could not attach a test program to $LAB_CG2/$CG"
	attached() { bpftool cgroup show "$LAB_CG2/$CG" | grep -q cgroup_inet_egress; }
	attached || lab_die "bpftool does not show the test program"
	lab_run_in client "${NOBODY[@]}" "$LAB_PROBE" bpf-detach "/sys/fs/cgroup/$CG"
	if [ "$LAB_RC" -eq 1 ] && grep -q '^detach cgroup_inet_egress: succeeded$' "$LAB_OUT" && ! attached; then
		lab_ok "probe reports a detach that happened (exit 1)"
		lab_log "  NOTE: this kernel lets an unprivileged process detach a cgroup program"
		lab_log "        attached without BPF_F_ALLOW_MULTI (BPF_PROG_DETACH, attach_bpf_fd=0)"
	elif [ "$LAB_RC" -eq 0 ] && attached; then
		lab_ok "probe reports a refused detach and the program stays (exit 0)"
	else
		lab_fail "probe verdict matches the attachment state" "rc=$LAB_RC, attached now: $(attached && echo yes || echo no)"
	fi
else
	lab_log "  (clang, bpftool or unshare missing: real-attachment detach check not run)"
fi
lab_run_in client "$LAB_PROBE" bpf-detach "/sys/fs/cgroup/no-such-cgroup-$LAB_ID"
expect_rc 2 "missing cgroup dir is a setup error (exit 2), not a pass"

lab_section "probe sleep and spawn-sleeper"
lab_run_in client "$LAB_PROBE" sleep 0
expect_grep "$LAB_OUT" '^pid=[0-9]+$' "sleep prints its pid"
LAB_RUN_TIMEOUT=5 lab_run_in client "$LAB_PROBE" spawn-sleeper 60
expect_rc 0 "spawn-sleeper returns at once"
SLEEPER=$(sed -n 's/^sleeper_pid=//p' "$LAB_OUT")
if [ -n "$SLEEPER" ] && [ -d "/proc/$SLEEPER" ] &&
	[ "$(readlink "/proc/$SLEEPER/ns/net")" = "$(ip netns exec "$LAB_CLIENT" readlink /proc/self/ns/net)" ]; then
	lab_ok "sleeper $SLEEPER lives on in the client namespace"
else
	lab_fail "sleeper $SLEEPER lives on in the client namespace"
fi
if [ -n "$SLEEPER" ] && [ "$(ps -o sid= -p "$SLEEPER" | tr -d ' ')" = "$SLEEPER" ]; then
	lab_ok "sleeper leads its own session"
else
	lab_fail "sleeper leads its own session"
fi

lab_finish
