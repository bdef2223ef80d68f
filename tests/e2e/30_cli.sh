#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The command line contract: exit statuses, refusals (missing capabilities,
# uid 0, bad input, no cgroup2) that exit 125 without running the command
# and without leaving a cgroup behind.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers

MARKER=$LAB_WORK/marker
ALLOW=(--allow-domains 198.51.100.10)

# expect_no_leaked_cgroups SNAPSHOT DESC: no egressd-PID cgroup appeared
# since SNAPSHOT whose egressd is gone.  (Only those: other tests may be
# running egressd, and making cgroups, at the same time.)
expect_no_leaked_cgroups()
{
	local d pid leaked=

	for d in $(lab_new_cgroups "$LAB_DIR/cgroups.$1"); do
		pid=$(basename "$d" | sed -n 's/^egressd-\([0-9][0-9]*\)$/\1/p')
		[ -n "$pid" ] || continue
		[ -d "/proc/$pid" ] && continue
		[ -d "$d" ] && leaked+="$d "
	done
	if [ -z "$leaked" ]; then
		lab_ok "$2"
	else
		lab_fail "$2" "cgroup dirs left behind: $leaked"
	fi
}

# expect_not_run DESC SNAPSHOT: the command did not run, no cgroup remains.
expect_not_run()
{
	if [ -e "$MARKER" ]; then
		lab_fail "$1: the command did not run" "marker file $MARKER exists"
	else
		lab_ok "$1: the command did not run"
	fi
	expect_no_leaked_cgroups "$2" "$1: no cgroup left behind"
}

# expect_refused DESC VALUE ARGS...: egressd ARGS exits 125 with an ERROR:
# line that names VALUE (fixed string), runs nothing, leaves nothing.
expect_refused()
{
	local desc=$1 value=$2
	shift 2

	rm -f "$MARKER"
	lab_cgroup_snapshot pre
	lab_egressd "$@"
	expect_rc 125 "$desc: exit 125"
	expect_grep "$LAB_ERR" 'ERROR:' "$desc: stderr has ERROR:"
	[ -n "$value" ] && expect_fgrep "$LAB_ERR" "$value" "$desc: stderr names '$value'"
	expect_not_run "$desc" pre
}

lab_section "missing CAP_BPF and CAP_NET_ADMIN"
command -v capsh >/dev/null 2>&1 || lab_skip "capsh (libcap2-bin) is needed"
rm -f "$MARKER"
lab_cgroup_snapshot pre
lab_run_in client capsh --drop=cap_bpf,cap_net_admin -- -c \
	"exec $(printf '%q ' "$EGRESSD" run "${ALLOW[@]}" --user nobody -- touch "$MARKER")"
expect_rc 125 "capsh --drop=cap_bpf,cap_net_admin: exit 125"
expect_fgrep "$LAB_ERR" "ERROR: Network isolation requires CAP_BPF and CAP_NET_ADMIN capabilities" \
	"the error names both capabilities"
expect_not_run "missing caps" pre

lab_section "exit status of the command passes through"
lab_egressd run "${ALLOW[@]}" --user nobody -- sh -c 'exit 42'
expect_rc 42 "sh -c 'exit 42' -> 42"
lab_egressd run "${ALLOW[@]}" --user nobody -- true
expect_rc 0 "true -> 0"
lab_egressd run "${ALLOW[@]}" --user nobody -- false
expect_rc 1 "false -> 1"
lab_egressd run --user nobody -- sh -c 'exit 3'
expect_rc 3 "isolation OFF: sh -c 'exit 3' -> 3"
lab_cgroup_snapshot pre
lab_egressd run "${ALLOW[@]}" --user nobody -- /nonexistent/no-such-command-$LAB_ID
expect_rc 127 "command not found -> 127"
expect_fgrep "$LAB_ERR" "no-such-command-$LAB_ID" "the not-found error names the command"
lab_egressd run "${ALLOW[@]}" --user nobody -- no-such-command-$LAB_ID
expect_rc 127 "command not found on the caller's PATH ($PATH) -> 127"
lab_run_in client env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$EGRESSD" run "${ALLOW[@]}" --user nobody -- no-such-command-$LAB_ID
expect_rc 127 "command not found on PATH=/usr/sbin:/usr/bin:/sbin:/bin -> 127"
printf '#!/bin/sh\ntouch %s\n' "$MARKER" >"$LAB_WORK/notexec"
chmod 0644 "$LAB_WORK/notexec"
rm -f "$MARKER"
lab_egressd run "${ALLOW[@]}" --user nobody -- "$LAB_WORK/notexec"
expect_rc 126 "non-executable file -> 126"
expect_fgrep "$LAB_ERR" "$LAB_WORK/notexec" "the cannot-execute error names the file"
expect_not_run "non-executable file" pre

lab_section "binaries with file capabilities: +ep refused (EPERM, 126), +p runs without them"
# The command's bounding set is empty; the kernel refuses to exec a file
# whose capabilities are marked effective unless it can grant them all
# (security/commoncap.c, "insufficient to execute correctly").  Debian's
# ping is installed with cap_net_raw+ep.
command -v setcap >/dev/null 2>&1 || lab_skip "setcap (libcap2-bin) is needed"
install -m 0755 "$LAB_PROBE" "$LAB_WORK/probe-ep"
install -m 0755 "$LAB_PROBE" "$LAB_WORK/probe-p"
setcap cap_net_raw+ep "$LAB_WORK/probe-ep" && setcap cap_net_raw+p "$LAB_WORK/probe-p" ||
	lab_die "setcap on $LAB_WORK failed (no security xattrs there?)"
# Control: as nobody without egressd it runs, and gains the capability.
lab_run_in client setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- \
	"$LAB_WORK/probe-ep" caps
if [ "$LAB_RC" -eq 1 ] && grep -q '^CapEff:.*2000$' "$LAB_OUT"; then
	lab_ok "control: without egressd the +ep file runs with cap_net_raw"
else
	lab_fail "control: without egressd the +ep file runs with cap_net_raw" "rc=$LAB_RC"
fi
if [ "${EGRESSD_SANITIZER:-}" = valgrind ]; then
	# valgrind cannot survive an execve() the kernel refuses ("EXEC
	# FAILED: I can't recover"): the child dies before egressd can say why.
	lab_log "under valgrind: the refused +ep exec is not checked"
else
	lab_egressd run "${ALLOW[@]}" --user nobody -- "$LAB_WORK/probe-ep" caps
	expect_rc 126 "under egressd the cap_net_raw+ep file cannot be executed (126)"
	expect_fgrep "$LAB_ERR" "ERROR: cannot execute $LAB_WORK/probe-ep: Operation not permitted" \
		"the error names the file and EPERM"
fi
lab_egressd run "${ALLOW[@]}" --user nobody -- "$LAB_WORK/probe-p" caps
expect_rc 0 "the cap_net_raw+p file runs, with every capability set empty"

lab_section "the command runs as the requested user"
lab_egressd run "${ALLOW[@]}" --user nobody -- id -u
expect_grep "$LAB_OUT" "^$(id -u nobody)\$" "--user nobody: uid $(id -u nobody)"
lab_egressd run "${ALLOW[@]}" --user root -- id -u
expect_grep "$LAB_OUT" '^0$' "--user root: uid 0 (explicit)"
rm -f "$MARKER"
lab_cgroup_snapshot pre
lab_run_in client env -u SUDO_UID -u SUDO_USER -u SUDO_GID "$EGRESSD" run "${ALLOW[@]}" -- touch "$MARKER"
expect_rc 125 "as root without --user: refused with exit 125"
expect_grep "$LAB_ERR" 'ERROR:' "as root without --user: stderr has ERROR:"
expect_not_run "as root without --user" pre
rm -f "$MARKER"
lab_cgroup_snapshot pre
lab_run_in client env -u SUDO_UID -u SUDO_USER -u SUDO_GID "$EGRESSD" run -- touch "$MARKER"
expect_rc 125 "isolation OFF, as root without --user: refused with exit 125"
expect_not_run "isolation OFF, as root without --user" pre

lab_section "bad input: exit 125, an ERROR: naming the value, nothing run or left"
expect_refused "prefix /33" "198.51.100.1/33" \
	run --allow-domains 198.51.100.1/33 --user nobody -- touch "$MARKER"
expect_refused "host bits set (198.51.100.1/24)" "198.51.100.1/24" \
	run --allow-domains 198.51.100.1/24 --user nobody -- touch "$MARKER"
expect_refused "port out of range" "1.2.3.4:99999" \
	run --allow-domains 1.2.3.4:99999 --user nobody -- touch "$MARKER"
expect_refused "empty list item (a,,b)" "" \
	run --allow-domains a,,b --user nobody -- touch "$MARKER"
if grep -Eqi 'a,,b|empty' "$LAB_ERR"; then
	lab_ok "empty list item: stderr names the list or says 'empty'"
else
	lab_fail "empty list item: stderr names the list or says 'empty'"
fi
expect_refused "bad IPv6 prefix /129" "2001:db8::/129" \
	run --allow-domains 2001:db8::/129 --user nobody -- touch "$MARKER"
expect_refused "one bad entry among good ones" "198.51.100.999" \
	run --allow-domains 198.51.100.10,198.51.100.999 --user nobody -- touch "$MARKER"
expect_refused "missing allow file" "/nonexistent/allow-$LAB_ID.txt" \
	run --allow-file "/nonexistent/allow-$LAB_ID.txt" --user nobody -- touch "$MARKER"
printf '198.51.100.10\n198.51.100.1/33\n' >"$LAB_WORK/bad-allow.txt"
expect_refused "bad entry in allow file" "198.51.100.1/33" \
	run --allow-file "$LAB_WORK/bad-allow.txt" --user nobody -- touch "$MARKER"
expect_refused "unknown flag" "--bogus-flag-$LAB_ID" \
	run "${ALLOW[@]}" --bogus-flag-$LAB_ID --user nobody -- touch "$MARKER"
expect_refused "unknown user" "no-such-user-$LAB_ID" \
	run "${ALLOW[@]}" --user "no-such-user-$LAB_ID" -- touch "$MARKER"
expect_refused "bad resolver" "198.51.100.300" \
	run "${ALLOW[@]}" --resolver 198.51.100.300 --user nobody -- touch "$MARKER"
expect_refused "missing --" "" \
	run "${ALLOW[@]}" --user nobody touch "$MARKER"
if grep 'ERROR:' "$LAB_ERR" | grep -Eq "(^|[^-[:alnum:]])--([^-[:alnum:]]|$)"; then
	lab_ok "missing --: the error mentions '--'"
else
	lab_fail "missing --: the error mentions '--'"
fi
expect_refused "no command after --" "" \
	run "${ALLOW[@]}" --user nobody --
expect_refused "unknown subcommand" "bogus-cmd-$LAB_ID" \
	"bogus-cmd-$LAB_ID"

lab_section "values too long: exit 125, an ERROR: naming the value (cut down) and the limit"
# expect_too_long DESC VALUE LIMIT ARGS...: refused as expect_refused says,
# the message quoting VALUE's head ("first 30 characters...") and LIMIT.
expect_too_long()
{
	local desc=$1 value=$2 limit=$3
	shift 3

	expect_refused "$desc" "\"${value:0:30}..." "$@"
	expect_fgrep "$LAB_ERR" "the limit is $limit" "$desc: the error names the limit ($limit)"
}
# 5,025 characters, no component over 200 (NAME_MAX is 255).
LONG=$("$LAB_PY" -c 'print("/" + "/".join(["a" * 200] * 25))')
expect_too_long "--cgroup with a 5,000-character path" "/sys/fs/cgroup$LONG" "4095 (PATH_MAX)" \
	run --cgroup "/sys/fs/cgroup$LONG" "${ALLOW[@]}" --user nobody -- touch "$MARKER"
# Short enough to parse, too long once the cgroup2 mount is put in front.
REL=$("$LAB_PY" -c 'print("/".join(["a" * 200] * 20) + "/" + "b" * 69)')
expect_too_long "--cgroup relative, too long under the mount" "$REL" "4095 (PATH_MAX)" \
	run --cgroup "$REL" "${ALLOW[@]}" --user nobody -- touch "$MARKER"
expect_fgrep "$LAB_ERR" "is $((${#REL} + 15)) characters long under the cgroup2 mount /sys/fs/cgroup;" \
	"relative --cgroup: the error counts the mount in"
expect_too_long "--log-file with a 5,000-character path" "$LAB_WORK$LONG" "4095 (PATH_MAX)" \
	run --log-file "$LAB_WORK$LONG" "${ALLOW[@]}" --user nobody -- touch "$MARKER"
expect_too_long "--allow-file with a 5,000-character path" "$LAB_WORK$LONG" "4095 (PATH_MAX)" \
	run --allow-file "$LAB_WORK$LONG" --user nobody -- touch "$MARKER"
expect_too_long "--ca-file with a 5,000-character path" "$LAB_WORK$LONG" "4095 (PATH_MAX)" \
	run --ca-file "$LAB_WORK$LONG" "${ALLOW[@]}" --user nobody -- touch "$MARKER"
expect_too_long "--github-meta-url of 5,000 characters" "https:/$LONG" "400" \
	run --github-meta-url "https:/$LONG" "${ALLOW[@]}" --user nobody -- touch "$MARKER"
expect_too_long "--user with a 5,000-character name" "${LONG//\//u}" "63" \
	run "${ALLOW[@]}" --user "${LONG//\//u}" -- touch "$MARKER"
NAME=$("$LAB_PY" -c 'print("c" * 300)')
rm -f "$MARKER"
lab_egressd run --log-file "$LAB_WORK/$NAME" "${ALLOW[@]}" --user nobody -- touch "$MARKER"
expect_rc 125 "--log-file with a 300-character file name: exit 125"
expect_fgrep "$LAB_ERR" "is 300 characters long; the limit is 255 (NAME_MAX)" \
	"300-character file name: the error names the limit (255, NAME_MAX)"

lab_section "no cgroup2 mounted (plain ip netns exec)"
rm -f "$MARKER"
lab_cgroup_snapshot pre
lab_run_in nocg "$EGRESSD" run "${ALLOW[@]}" --user nobody -- touch "$MARKER"
expect_rc 125 "no cgroup2: exit 125"
expect_grep "$LAB_ERR" 'ERROR:.*cgroup2' "no cgroup2: the error mentions cgroup2"
expect_grep "$LAB_ERR" 'mount .*cgroup2' "no cgroup2: the error says how to mount it"
expect_not_run "no cgroup2" pre

lab_finish
