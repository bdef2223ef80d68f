#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A socket is filtered by the cgroup of whoever created it.  A process of
# the workload's own uid outside the cgroup (the user's shell, a daemon
# running as nobody) holds unfiltered sockets: the workload must not be
# able to take one with pidfd_getfd(), take over the process with ptrace,
# or write its memory through /proc/PID/mem.  egressd gives the workload
# its own user namespace, where all three need CAP_SYS_PTRACE over the
# outside namespace.  A control run without egressd shows the same theft
# works, so the test can tell.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers

PY=/usr/bin/python3
[ -x "$PY" ] || lab_skip "/usr/bin/python3 not installed"

# The outside process: nobody, in the client netns, not in any egressd
# cgroup, holding an unconnected UDP socket.
cat >"$LAB_WORK/holder.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
open(sys.argv[1], "w").write(f"{s.fileno()}\n")
time.sleep(120)
EOF
cat >"$LAB_WORK/thief.py" <<'EOF'
import ctypes, os, socket, sys
pid, fd, dst = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
try:
    pidfd = os.pidfd_open(pid)
    n = libc.syscall(438, pidfd, fd, 0)  # pidfd_getfd
    if n < 0:
        print("getfd failed:", os.strerror(ctypes.get_errno()))
    else:
        s = socket.socket(fileno=n)
        s.settimeout(2)
        s.sendto(b"stolen", (dst, 7))
        try:
            s.recv(100)
            print("ESCAPED via stolen socket")
        except OSError as e:
            print("stolen socket, no reply:", e)
except OSError as e:
    print("pidfd_open failed:", e)
# PTRACE_SEIZE: like ATTACH, but without stopping the target.
r = libc.ptrace(0x4206, pid, 0, 0)
print("ptrace failed:" if r < 0 else "PTRACE ATTACHED", os.strerror(ctypes.get_errno()))
try:
    open(f"/proc/{pid}/mem", "r+b").close()
    print("MEM OPENED")
except OSError as e:
    print("mem failed:", e.strerror)
EOF
chmod 0644 "$LAB_WORK/holder.py" "$LAB_WORK/thief.py"

ip netns exec "$LAB_CLIENT" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$PY" "$LAB_WORK/holder.py" "$LAB_WORK/holder.fd" &
HOLDER=$!
LAB_PIDS+=("$HOLDER")
for _ in $(seq 50); do
	[ -s "$LAB_WORK/holder.fd" ] && break
	sleep 0.1
done
FD=$(cat "$LAB_WORK/holder.fd" 2>/dev/null)
[ -n "$FD" ] || lab_die "the holder did not start"

lab_section "control: without egressd, a same-uid process's socket can be stolen"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "$PY" "$LAB_WORK/thief.py" "$HOLDER" "$FD" "$LAB_DENIED4"
expect_grep "$LAB_OUT" "^ESCAPED via stolen socket" "control: the stolen socket reaches $LAB_DENIED4"
expect_grep "$LAB_OUT" "^PTRACE ATTACHED" "control: ptrace works on a same-uid process"

lab_section "under egressd: the workload cannot use a same-uid process outside"
lab_egressd run --allow-domains "$LAB_ALLOWED4" --user nobody -- \
	"$PY" "$LAB_WORK/thief.py" "$HOLDER" "$FD" "$LAB_DENIED4"
expect_rc 0 "the thief ran"
expect_no_grep "$LAB_OUT" "ESCAPED|ATTACHED|OPENED" "no stolen socket, ptrace or memory access"
expect_grep "$LAB_OUT" "^getfd failed: Operation not permitted" "pidfd_getfd is refused"
expect_grep "$LAB_OUT" "^ptrace failed: Operation not permitted" "ptrace attach is refused"
expect_grep "$LAB_OUT" "^mem failed: Permission denied" "/proc/PID/mem is refused"
expect_no_grep "$LAB_ERR" "own user namespace" "no warning: the user namespace was set up"

lab_section "the user namespace maps only the workload's own ids"
lab_egressd run --allow-domains "" --user nobody -- cat /proc/self/uid_map /proc/self/gid_map
expect_rc 0 "read the maps"
if [ "$(tr -s ' ' <"$LAB_OUT" | sed 's/^ //')" = "$(printf '65534 65534 1\n65534 65534 1')" ]; then
	lab_ok "uid and gid 65534 map to themselves, nothing else"
else
	lab_fail "uid and gid 65534 map to themselves, nothing else" "maps: $(cat "$LAB_OUT")"
fi

lab_section "where user namespaces are refused, egressd says what that leaves"
# As in a container whose seccomp profile refuses unshare(CLONE_NEWUSER).
NOUSERNS=$LAB_REPO/build/tests/nouserns
[ -x "$NOUSERNS" ] || lab_die "$NOUSERNS not built (make test-bins)"
lab_egressd_wrapped() { lab_run_in client "$NOUSERNS" "$EGRESSD" "$@"; }
lab_egressd_wrapped run --allow-domains "$LAB_ALLOWED4" --user nobody -- \
	"$PY" "$LAB_WORK/thief.py" "$HOLDER" "$FD" "$LAB_DENIED4"
expect_rc 0 "the command still runs"
expect_grep "$LAB_ERR" "WARNING: cannot give the command its own user namespace: other processes of uid 65534 outside the filter could be used" \
	"the warning names the risk"

kill -9 "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
lab_finish
