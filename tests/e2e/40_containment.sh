#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The workload cannot get out: it cannot leave its cgroup, cannot detach
# the programs, inherits no fds and no capabilities, and stays filtered
# after egressd itself is killed with SIGKILL.  Nothing of it outlives
# egressd, not even in child cgroups a --user root workload makes.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers

P=$LAB_PROBE
ALLOW=(--allow-domains "198.51.100.10,2001:db8::10" --user nobody)

lab_section "probe escape: the workload cannot leave its cgroup"
lab_egressd run "${ALLOW[@]}" -- "$P" escape /sys/fs/cgroup
expect_rc 0 "escape fails (probe exit 0)"
expect_grep "$LAB_OUT" '^cgroup=/.+' "the workload runs in a child cgroup, not the root"
expect_grep "$LAB_OUT" '^contained: ' "probe reports it is still contained"
lab_egressd run "${ALLOW[@]}" -- sh -c \
	'"$0" escape /sys/fs/cgroup >"$1/escape.out"; exec "$0" udp 198.51.100.20 7 1000' \
	"$P" "$LAB_WORK"
lab_check_verdict blocked "after the escape attempt, udp 198.51.100.20:7 is still blocked"

lab_section "probe bpf-detach: the workload cannot remove the filter"
rm -f "$LAB_WORK/detach.out" "$LAB_WORK/detach.rc"
lab_egressd run "${ALLOW[@]}" -- sh -c '
	cg=$(sed -n "s/^0:://p" /proc/self/cgroup)
	"$0" bpf-detach "/sys/fs/cgroup$cg" >"$1/detach.out" 2>&1
	echo $? >"$1/detach.rc"
	exec "$0" udp 198.51.100.20 7 1000' "$P" "$LAB_WORK"
sed 's/^/    detach| /' "$LAB_WORK/detach.out" 2>/dev/null
if [ "$(cat "$LAB_WORK/detach.rc" 2>/dev/null)" = 0 ]; then
	lab_ok "BPF_PROG_DETACH on its own cgroup fails (probe exit 0)"
else
	lab_fail "BPF_PROG_DETACH on its own cgroup fails (probe exit 0)" \
		"probe bpf-detach exit: $(cat "$LAB_WORK/detach.rc" 2>/dev/null || echo none)"
fi
lab_check_verdict blocked "after the detach attempt, udp 198.51.100.20:7 is still blocked"
lab_egressd run "${ALLOW[@]}" -- sh -c '
	cg=$(sed -n "s/^0:://p" /proc/self/cgroup)
	"$0" bpf-detach "/sys/fs/cgroup$cg" >/dev/null 2>&1
	exec "$0" tcp 198.51.100.20 80 1000' "$P"
lab_check_verdict blocked "after the detach attempt, tcp 198.51.100.20:80 is still blocked"

lab_section "--user root: child cgroups made by the workload are emptied and removed"
# uid 0 owns the cgroupfs, so a --user root workload can mkdir below its
# cgroup and move processes there.  At exit egressd must kill what runs
# anywhere in that subtree, then remove it deepest first.
R=$LAB_WORK/root
mkdir -m 1777 "$R"
lab_egressd run --allow-domains 198.51.100.10 --user root -- sh -c '
	rel=$(sed -n "s/^0:://p" /proc/self/cgroup)
	cg=/sys/fs/cgroup$rel
	echo "$rel" >"$1/cg"
	mkdir "$cg/sub" "$cg/sub/deeper" || exit 9
	"$0" spawn-sleeper 300 >"$1/sleeper1" || exit 8
	"$0" spawn-sleeper 300 >"$1/sleeper2" || exit 8
	s1=$(sed -n "s/^sleeper_pid=//p" "$1/sleeper1")
	s2=$(sed -n "s/^sleeper_pid=//p" "$1/sleeper2")
	echo "$s1" >"$cg/sub/cgroup.procs" || exit 7
	echo "$s2" >"$cg/sub/deeper/cgroup.procs" || exit 7
	sed -n "s/^0:://p" "/proc/$s1/cgroup" >"$1/s1.cg"
	sed -n "s/^0:://p" "/proc/$s2/cgroup" >"$1/s2.cg"
	exit 0' "$P" "$R"
expect_rc 0 "the workload made sub/ and sub/deeper/ and moved a sleeper into each (exit 0)"
RCG=$LAB_CG2$(cat "$R/cg" 2>/dev/null)
[ "$RCG" != "$LAB_CG2" ] && lab_register_cgroup "$RCG"
S1=$(sed -n 's/^sleeper_pid=//p' "$R/sleeper1" 2>/dev/null)
S2=$(sed -n 's/^sleeper_pid=//p' "$R/sleeper2" 2>/dev/null)
if [ "$(cat "$R/s1.cg" 2>/dev/null)" = "$(cat "$R/cg")/sub" ] &&
	[ "$(cat "$R/s2.cg" 2>/dev/null)" = "$(cat "$R/cg")/sub/deeper" ]; then
	lab_ok "the sleepers ran in the child cgroups ($(cat "$R/s2.cg"))"
else
	lab_fail "the sleepers ran in the child cgroups" \
		"sleeper 1 in '$(cat "$R/s1.cg" 2>/dev/null)', sleeper 2 in '$(cat "$R/s2.cg" 2>/dev/null)'"
fi
for s in "$S1" "$S2"; do
	if [[ $s =~ ^[0-9]+$ ]] && lab_gone "$s"; then
		lab_ok "sleeper $s did not survive egressd"
	else
		lab_fail "sleeper '$s' did not survive egressd"
		[[ $s =~ ^[0-9]+$ ]] && kill -9 "$s" 2>/dev/null
	fi
done
if [ -n "$(cat "$R/cg" 2>/dev/null)" ] && [ ! -e "$RCG" ]; then
	lab_ok "no cgroup is left: $RCG and its children are gone"
else
	lab_fail "no cgroup is left" "still there: $(find "$RCG" -type d 2>/dev/null | tr '\n' ' ')"
fi
expect_no_grep "$LAB_ERR" "cannot remove cgroup|did not exit|detaching .* failed" \
	"teardown reported no failure"

lab_section "probe fds: nothing inherited through egressd"
cat >"$LAB_DIR/withfds.py" <<'EOF'
# Open fds 8-12 (unix socketpair, listening unix socket, unbound UDP
# socket, a file), inheritable, then exec argv[1:].  Sends nothing.
import fcntl, os, socket, sys
def put(fd, target):
    if fd != target:
        os.dup2(fd, target)  # the copy is inheritable
    else:
        os.set_inheritable(fd, True)
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind("\0egressd-e2e-%d" % os.getpid())
l.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
f = os.open("/etc/hostname", os.O_RDONLY)
# Park the sources at 100+ so no target (8-12) is one of them.
srcs = [fcntl.fcntl(x, fcntl.F_DUPFD, 100) for x in (a.fileno(), b.fileno(), l.fileno(), u.fileno(), f)]
for src, target in zip(srcs, (8, 9, 10, 11, 12)):
    put(src, target)
os.execvp(sys.argv[1], sys.argv[1:])
EOF
WITHFDS=("${LAB_CLOSEFDS_CMD[@]}" bash -c 'exec 7</etc/hostname; exec "$@"' withfds
	"$LAB_PY" "$LAB_DIR/withfds.py")
# Control: the fds really reach a command started this way.
lab_run_in client "${WITHFDS[@]}" "$P" fds
if [ "$LAB_RC" -eq 1 ] && [ "$(grep -Ec '^fd (7|8|9|10|11|12) -> ' "$LAB_OUT")" -eq 6 ]; then
	lab_ok "control: fds 7-12 reach a command started without egressd"
else
	lab_fail "control: fds 7-12 reach a command started without egressd" "rc=$LAB_RC"
fi
lab_run_in client "${WITHFDS[@]}" "$EGRESSD" run "${ALLOW[@]}" -- "$P" fds
expect_rc 0 "isolation ON: the workload has no fd above 2"
lab_run_in client "${WITHFDS[@]}" "$EGRESSD" run --user nobody -- "$P" fds
expect_rc 0 "isolation OFF: the workload has no fd above 2"

lab_section "probe caps: no capabilities, no_new_privs"
lab_egressd run "${ALLOW[@]}" -- "$P" caps
expect_rc 0 "isolation ON: all capability sets empty, NoNewPrivs 1"
lab_egressd run --user nobody -- "$P" caps
expect_rc 0 "isolation OFF: all capability sets empty, NoNewPrivs 1"

lab_section "kill -9 egressd: the workload stays filtered"
W=$LAB_WORK/kill
mkdir -m 1777 "$W"
# The workload: a detached looper (own session, survives its parent) that
# waits for "go" and then probes; the main process just sleeps.
LOOPER='echo $$ >"$1/looper.pid"
"$0" spawn-sleeper 300 >"$1/sleeper"
while [ ! -e "$1/go" ]; do sleep 0.1; done
"$0" udp 198.51.100.20 7 1000 >"$1/deny.udp"
"$0" tcp 198.51.100.20 80 1000 >"$1/deny.tcp"
"$0" udp 198.51.100.10 7 2000 >"$1/allow.udp"
touch "$1/done"
sleep 300'
"${LAB_CLIENT_CMD[@]}" "$EGRESSD" run "${ALLOW[@]}" -- sh -c \
	'echo $$ >"$1/main.pid"; setsid sh -c "$2" "$0" "$1" </dev/null >/dev/null 2>&1 & exec "$0" sleep 300' \
	"$P" "$W" "$LOOPER" >"$W/egressd.out" 2>"$W/egressd.err" </dev/null &
EG_PID=$!
LAB_PIDS+=("$EG_PID")
disown "$EG_PID"
lab_wait 10 "the workload to start" test -s "$W/looper.pid" -a -s "$W/main.pid" -a -s "$W/sleeper"
MAIN=$(cat "$W/main.pid")
LOOP=$(cat "$W/looper.pid")
SLEEPER=$(sed -n 's/^sleeper_pid=//p' "$W/sleeper")
CG=$(lab_pid_cgroup "$MAIN") || lab_die "no cgroup for workload pid $MAIN"
lab_register_cgroup "$CG"
lab_log "  egressd pid $EG_PID ($(cat "/proc/$EG_PID/comm" 2>/dev/null)), workload $MAIN, looper $LOOP, sleeper $SLEEPER, cgroup $CG"
EG_COMM=egressd
# Under `make valgrind` egressd's process is valgrind's, memcheck-ARCH (it
# would be the workload's name had egressd exec'd into it).
[ "${EGRESSD_SANITIZER:-}" = valgrind ] && EG_COMM='memcheck-*'
# shellcheck disable=SC2053 # EG_COMM is a pattern
if [[ "$(cat "/proc/$EG_PID/comm" 2>/dev/null)" == $EG_COMM ]]; then
	lab_ok "egressd runs as its own process while the workload runs"
else
	lab_fail "egressd runs as its own process while the workload runs" \
		"pid $EG_PID is $(cat "/proc/$EG_PID/comm" 2>/dev/null || echo gone)"
fi
if [ "$CG" != "$LAB_CG2" ] && [ "$(lab_pid_cgroup "$LOOP")" = "$CG" ] &&
	[ "$(lab_pid_cgroup "$SLEEPER")" = "$CG" ]; then
	lab_ok "workload, looper and sleeper share the workload's child cgroup"
else
	lab_fail "workload, looper and sleeper share the workload's child cgroup"
fi
command -v bpftool >/dev/null && bpftool cgroup show "$CG" | sed 's/^/    bpftool| /'

kill -9 "$EG_PID"
lab_wait 5 "egressd to die" lab_gone "$EG_PID"
sleep 0.2
lab_log "  after SIGKILL: main $(lab_gone "$MAIN" && echo gone || echo alive), looper $(lab_gone "$LOOP" && echo gone || echo alive), sleeper $(lab_gone "$SLEEPER" && echo gone || echo alive)"
command -v bpftool >/dev/null && bpftool cgroup show "$CG" | sed 's/^/    bpftool| /'
if lab_gone "$LOOP"; then
	lab_fail "the detached looper outlives egressd" "it died with egressd: nothing left to test"
else
	lab_ok "the detached looper outlives egressd"
	touch "$W/go"
	lab_wait 15 "the looper's probes" test -e "$W/done"
	for f in deny.udp deny.tcp allow.udp; do
		sed "s/^/    $f| /" "$W/$f"
	done
	v=$(head -n1 "$W/deny.udp")
	[[ $v == blocked* || $v == timeout ]] &&
		lab_ok "after SIGKILL: udp 198.51.100.20:7 still blocked ($v)" ||
		lab_fail "after SIGKILL: udp 198.51.100.20:7 still blocked" "verdict '$v'"
	v=$(head -n1 "$W/deny.tcp")
	[[ $v == blocked* || $v == timeout ]] &&
		lab_ok "after SIGKILL: tcp 198.51.100.20:80 still blocked ($v)" ||
		lab_fail "after SIGKILL: tcp 198.51.100.20:80 still blocked" "verdict '$v'"
	v=$(head -n1 "$W/allow.udp")
	[ "$v" = ok ] &&
		lab_ok "after SIGKILL: udp 198.51.100.10:7 still allowed" ||
		lab_fail "after SIGKILL: udp 198.51.100.10:7 still allowed" "verdict '$v'"
fi

lab_finish
