#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# egressd exec (issue 9): how a process that joins a --cgroup self cgroup
# later (docker exec) is started the way egressd run starts its own
# command.  With an egressd run --cgroup self serving the cgroup:
#   - root's `egressd exec -- CMD` becomes CMD as the session user, with
#     every capability set and the bounding set empty, no_new_privs, the
#     compat-syscall seccomp filter; CMD is filtered and gets DNS through
#     the proxy; its exit status is egressd exec's; --user overrides;
#   - the control: the same CMD started plainly in that cgroup as root
#     keeps every capability (what a plain docker exec, as root, gets);
#   - refused (125, CMD not run) in a cgroup no egressd enforces, under an
#     --audit egressd, and for a caller who is not root;
#   - bad usage is an ERROR.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers

P=$LAB_PROBE
RT=/run/egressd

# new_cgroup NAME: a fresh cgroup under the cgroup2 root; NEW_REL is its
# path relative to the mount.  (Not in $(...): the registration must
# happen in this shell for the cleanup to see it.)
new_cgroup()
{
	local cg=$LAB_CG2/egressd-test-$1-$LAB_ID

	mkdir "$cg" || lab_die "cannot create $cg"
	lab_register_cgroup "$cg"
	NEW_REL=${cg#"$LAB_CG2"}
}

# start_self REL ARGS...: egressd run --cgroup self ARGS in cgroup REL, in
# the background; waits for its status socket.
start_self()
{
	local rel=$1 cgid i
	shift
	cgid=$(stat -c %i "$LAB_CG2$rel")
	lab_bg "self-${rel##*/}" "$LAB_CLIENT" sh -c \
		'mount -t cgroup2 cgroup2 /sys/fs/cgroup && echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' \
		sh "$rel" "$EGRESSD" run --cgroup self "$@" -- sleep 120
	SELF_PID=$LAB_LAST_PID
	for ((i = 0; i < 200; i++)); do
		[ -S "$RT/cg-$cgid.$SELF_PID.sock" ] && return 0
		lab_alive "$SELF_PID" || break
		sleep 0.05
	done
	sed 's/^/    /' "$LAB_DIR/self-${rel##*/}.log"
	lab_die "egressd --cgroup self in $rel did not serve its status"
}

# in_cgroup REL CMD...: run CMD (as root, in the client namespace) after
# moving into cgroup REL, as docker exec puts a process into a container.
in_cgroup()
{
	local rel=$1
	shift
	lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh \
		"$rel" "$@"
}

# The session's view of itself, then a denied and an allowed connection
# and a lookup through the proxy.
cat >"$LAB_DIR/inside.sh" <<EOF
grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
echo "denied: \$($P tcp $LAB_DENIED4 80 1000 | head -n1)"
echo "allowed: \$($P tcp $LAB_ALLOWED4 80 | head -n1)"
echo "lookup: \$(getent ahostsv4 allowed.test | awk '{print \$1; exit}')"
echo "exfil: \$(getent ahostsv4 secret-\$\$.exfil.test >/dev/null && echo answered || echo refused)"
EOF
chmod 0755 "$LAB_DIR/inside.sh"

new_cgroup exec
REL=$NEW_REL
start_self "$REL" --user nobody --allow-domains allowed.test
EG=$SELF_PID

lab_section "egressd exec: the session user, nothing held, filtered"
in_cgroup "$REL" "$EGRESSD" exec -- sh "$LAB_DIR/inside.sh"
expect_rc 0 "egressd exec runs the command"
O=$LAB_OUT
expect_grep "$O" "^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534" "as egressd run's --user (nobody)"
for f in CapInh CapPrm CapEff CapBnd CapAmb; do
	expect_grep "$O" "^$f:[[:space:]]+0000000000000000$" "$f is empty"
done
expect_grep "$O" "^NoNewPrivs:[[:space:]]+1" "no_new_privs is set"
expect_grep "$O" "^Seccomp:[[:space:]]+2" "the seccomp filter is installed"
expect_grep "$O" "^denied: blocked" "a denied address is refused"
expect_grep "$O" "^allowed: ok" "an allowed address connects"
expect_grep "$O" "^lookup: 198\.51\.100\.10$" "an allowed name resolves"
expect_grep "$O" "^exfil: refused" "a name not allowed is refused"
if lab_dns_was_asked allowed.test && ! grep -q 'exfil\.test' "$LAB_DIR/dnsmasq.log"; then
	lab_ok "the proxy forwarded the allowed name and not the other"
else
	lab_fail "the proxy forwarded the allowed name and not the other" "$(grep query "$LAB_DIR/dnsmasq.log")"
fi

lab_section "the control: a plain root process joining the cgroup (a plain docker exec) keeps its capabilities"
in_cgroup "$REL" sh "$LAB_DIR/inside.sh"
expect_rc 0 "runs"
expect_no_grep "$LAB_OUT" "^CapEff:[[:space:]]+0000000000000000$" "a plain root joiner holds capabilities (what egressd exec removes)"
expect_grep "$LAB_OUT" "^denied: blocked" "it is filtered all the same"

lab_section "exit status, --user"
in_cgroup "$REL" "$EGRESSD" exec -- sh -c 'exit 7'
expect_rc 7 "the command's exit status is egressd exec's"
in_cgroup "$REL" "$EGRESSD" exec --user daemon -- sh "$LAB_DIR/inside.sh"
expect_rc 0 "--user daemon runs"
expect_grep "$LAB_OUT" "^Uid:[[:space:]]+1[[:space:]]+1[[:space:]]" "--user overrides the session user"
expect_grep "$LAB_OUT" "^CapEff:[[:space:]]+0000000000000000$" "still with nothing held"
in_cgroup "$REL" "$EGRESSD" exec -- no-such-command-$LAB_ID
expect_rc 127 "a missing command is 127"

lab_section "refused where no egressd enforces the cgroup"
new_cgroup bare
BARE=$NEW_REL
in_cgroup "$BARE" "$EGRESSD" exec -- touch "$LAB_WORK/bare.ran"
expect_rc 125 "refused"
expect_grep "$LAB_ERR" "ERROR: .*no egressd" "it says no egressd serves the cgroup"
expect_grep "$LAB_ERR" "egressd exec starts commands only in a cgroup that a running egressd enforces" \
	"and what egressd exec is for"
[ -e "$LAB_WORK/bare.ran" ] && lab_fail "the command did not run" || lab_ok "the command did not run"

lab_section "refused under an --audit egressd"
new_cgroup audit
AUD=$NEW_REL
start_self "$AUD" --user nobody --audit --allow-domains allowed.test
in_cgroup "$AUD" "$EGRESSD" exec -- touch "$LAB_WORK/audit.ran"
expect_rc 125 "refused in audit mode"
expect_grep "$LAB_ERR" "ERROR: .*audit" "the error says audit"
[ -e "$LAB_WORK/audit.ran" ] && lab_fail "the command did not run" || lab_ok "the command did not run"

lab_section "refused for a caller who is not root"
in_cgroup "$REL" setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	"$EGRESSD" exec -- touch "$LAB_WORK/nobody.ran"
expect_rc 125 "refused for nobody"
[ -e "$LAB_WORK/nobody.ran" ] && lab_fail "the command did not run" || lab_ok "the command did not run"

lab_section "bad usage"
in_cgroup "$REL" "$EGRESSD" exec true
expect_rc 125 "no \"--\""
expect_grep "$LAB_ERR" 'ERROR: missing "-- COMMAND"' "says so"
in_cgroup "$REL" "$EGRESSD" exec --
expect_rc 125 "no command"
expect_grep "$LAB_ERR" 'ERROR: no command after "--"' "says so"
in_cgroup "$REL" "$EGRESSD" exec --bogus -- true
expect_rc 125 "an unknown option"
expect_grep "$LAB_ERR" "ERROR: unknown option --bogus" "names it"
in_cgroup "$REL" "$EGRESSD" exec --user no-such-user-$LAB_ID -- true
expect_rc 125 "an unknown user"
expect_grep "$LAB_ERR" "ERROR: --user: no such user \"no-such-user-$LAB_ID\"" "names it"

lab_section "no controlling terminal: the command cannot type into the shell that started it (TIOCSTI)"
# A pty whose slave is the caller's controlling terminal, as an
# interactive root shell's is; CMD inherits it as fds 0-2 and tries to
# push a keystroke into it.  The control runs the same without egressd.
cat >"$LAB_DIR/ptyrun.py" <<'PYEOF'
import os, pty, sys
pid, master = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        b = os.read(master, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
PYEOF
cat >"$LAB_DIR/sti.py" <<'PYEOF'
import errno, fcntl, termios
try:
    fcntl.ioctl(0, termios.TIOCSTI, b"x")
    print("TIOCSTI: ok")
except OSError as e:
    print("TIOCSTI:", errno.errorcode.get(e.errno, e.errno))
PYEOF
chmod 0644 "$LAB_DIR/ptyrun.py" "$LAB_DIR/sti.py"
PY=/usr/bin/python3
lab_run_in client "$PY" "$LAB_DIR/ptyrun.py" "$PY" "$LAB_DIR/sti.py"
if grep -q "TIOCSTI: ok" "$LAB_OUT"; then
	lab_ok "(control: without egressd, TIOCSTI on the controlling terminal works here)"
else
	lab_ok "(control: TIOCSTI is refused here even without egressd: dev.tty.legacy_tiocsti=0; the next two checks cannot fail on this machine)"
fi
lab_run_in client "$PY" "$LAB_DIR/ptyrun.py" "$EGRESSD" run --user nobody --allow-domains "" -- "$PY" "$LAB_DIR/sti.py"
expect_grep "$LAB_OUT" "TIOCSTI: EPERM" "egressd run: the command's TIOCSTI is refused"
in_cgroup "$REL" "$PY" "$LAB_DIR/ptyrun.py" "$EGRESSD" exec -- "$PY" "$LAB_DIR/sti.py"
expect_grep "$LAB_OUT" "TIOCSTI: EPERM" "egressd exec: the command's TIOCSTI is refused"

lab_section "egressd exec refuses to take root from the session"
new_cgroup rootsess
RS=$NEW_REL
start_self "$RS" --user root --allow-domains allowed.test
in_cgroup "$RS" "$EGRESSD" exec -- touch "$LAB_WORK/rootsess.ran"
expect_rc 125 "a session running as root is not adopted without --user root"
expect_grep "$LAB_ERR" "runs its command as root; egressd exec takes that only from an explicit --user root" "says so"
[ -e "$LAB_WORK/rootsess.ran" ] && lab_fail "the command did not run" || lab_ok "the command did not run"
in_cgroup "$RS" "$EGRESSD" exec --user root -- id -u
expect_rc 0 "an explicit --user root is taken"
expect_grep "$LAB_OUT" "^0$" "as uid 0"

lab_section "the client trusts only root's own sockets in a root-only directory"
FAKE=$LAB_DIR/rt-open
mkdir -m 1777 "$FAKE" || lab_die "mkdir $FAKE"
chmod 1777 "$FAKE"
lab_run_in client env EGRESSD_RUNTIME_DIR="$FAKE" "$EGRESSD" status --verify --cgroup "/sys/fs/cgroup$REL"
expect_rc 1 "a world-writable runtime directory is refused"
expect_grep "$LAB_ERR" "not asking the sockets in $FAKE: .*mode 1777" "and named, with its mode"
# A root-only directory, but a socket whose name claims another pid.
FAKE2=$LAB_DIR/rt-fake
mkdir -m 0700 "$FAKE2" || lab_die "mkdir $FAKE2"
CGID=$(stat -c %i "$LAB_CG2$REL")
cat >"$LAB_DIR/fake.py" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(4)
open(sys.argv[1] + ".ready", "w").close()
while True:
    c, _ = s.accept()
    c.recv(100)
    c.sendall(json.dumps({"pid": 4242, "mode": "enforcing"}).encode())
    c.close()
PYEOF
"$PY" "$LAB_DIR/fake.py" "$FAKE2/cg-$CGID.4242.sock" &
FAKEPID=$!
LAB_PIDS+=("$FAKEPID")
lab_wait 5 "the fake server" test -e "$FAKE2/cg-$CGID.4242.sock.ready"
lab_run_in client env EGRESSD_RUNTIME_DIR="$FAKE2" "$EGRESSD" status --verify --cgroup "/sys/fs/cgroup$REL"
expect_rc 1 "a socket not served by the pid its name gives is not believed"
expect_grep "$LAB_ERR" "is not served by root's pid 4242, as its name says: not asked" "says why"
kill "$FAKEPID" 2>/dev/null

lab_section "a cgroup2 mount stacked over another: self is checked, not assumed"
new_cgroup over
OV=$NEW_REL
# In the runner's private mount namespace: cgroup $OV bound over the
# mount, so /proc/self/cgroup's path resolves to a cgroup we are not in:
# $OV's children of the same names.
mkdir "$LAB_CG2$OV$REL" "$LAB_CG2$OV$BARE" || lab_die "nested cgroups under $OV"
lab_register_cgroup "$LAB_CG2$OV$REL"
lab_register_cgroup "$LAB_CG2$OV$BARE"
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && mount --bind "/sys/fs/cgroup$2" /sys/fs/cgroup && shift 2 && exec "$@"' sh \
	"$REL" "$OV" "$EGRESSD" exec -- touch "$LAB_WORK/over.ran"
expect_rc 125 "egressd exec under a stacked mount is refused"
expect_grep "$LAB_ERR" "this process is not in .* \(is another cgroup2 mount stacked over /sys/fs/cgroup" "says why"
[ -e "$LAB_WORK/over.ran" ] && lab_fail "the command did not run" || lab_ok "the command did not run"
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && mount --bind "/sys/fs/cgroup$2" /sys/fs/cgroup && shift 2 && exec "$@"' sh \
	"$BARE" "$OV" "$EGRESSD" run --cgroup self --user nobody --allow-domains "" -- touch "$LAB_WORK/over2.ran"
expect_rc 125 "egressd run --cgroup self under a stacked mount is refused"
expect_grep "$LAB_ERR" "cgroup self: egressd is not in .*refusing to filter a cgroup that is not its own" "says why"
[ -e "$LAB_WORK/over2.ran" ] && lab_fail "the command did not run" || lab_ok "the command did not run"

lab_section "egressd run --cgroup self still runs, and stops cleanly"
lab_alive "$EG" && lab_ok "egressd is still running" || lab_fail "egressd is still running"
kill -TERM "$EG"
lab_wait 10 "egressd to exit" lab_gone "$EG"
[ -z "$(ls "$RT" 2>/dev/null | grep "\.$EG\.sock$")" ] && lab_ok "its status socket is gone" ||
	lab_fail "its status socket is gone"

lab_finish
