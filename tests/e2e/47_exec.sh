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

lab_section "egressd run --cgroup self still runs, and stops cleanly"
lab_alive "$EG" && lab_ok "egressd is still running" || lab_fail "egressd is still running"
kill -TERM "$EG"
lab_wait 10 "egressd to exit" lab_gone "$EG"
[ -z "$(ls "$RT" 2>/dev/null | grep "\.$EG\.sock$")" ] && lab_ok "its status socket is gone" ||
	lab_fail "its status socket is gone"

lab_finish
