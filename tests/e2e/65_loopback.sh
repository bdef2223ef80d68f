#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# --loopback all|none|PORT[,PORT...] (issue 12): which loopback services
# the workload may reach.  Listeners run in the client namespace, outside
# any cgroup egressd makes: TCP 8080 and 8081 on the dual-stack wildcard
# (so 127.0.0.0/8, ::1, ::ffff:127.x, 0.0.0.0 and :: all reach them) and
# UDP echo on 127.0.0.1, 127.1.2.3 and ::1 at 8080 and 8081.
#   - controls: without egressd every form reaches its listener;
#   - none: every spelling of loopback (127.1.2.3, 0x7f000001, 0177.0.0.1,
#     2130706433, [::1], [::ffff:127.0.0.1], 0.0.0.0, ::) is refused with
#     EPERM and a deny line, over TCP and UDP; DNS through the proxy works;
#   - PORT,...: the listed ports work, the others are refused;
#   - all (the default): everything on loopback works, 0.0.0.0/:: stay
#     refused unless listed, and a warning names the loopback listeners;
#   - bad values exit 125; --audit reports and suggests --loopback PORTS.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers
for port in 8080 8081; do
	lab_start_tcp "$port" "$LAB_CLIENT"
	lab_start_udp_echo "$port" "$LAB_CLIENT" 127.0.0.1 127.1.2.3 ::1
done

# The workload: each operation prints one line "OP HOST PORT = RESULT via
# ADDR" (ADDR: what getaddrinfo made of HOST, numeric only, so 0x7f000001
# is inet_aton's 127.0.0.1 and no DNS query is made).  RESULT is ok,
# EPERM, timeout or ERR:NAME.  `get NAME` resolves NAME with the system
# resolver and connects to port 80 of every address.
cat >"$LAB_DIR/lo.py" <<'EOF'
import socket, sys

def target(host, port, kind):
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    ai = socket.getaddrinfo(host, port, 0, kind, 0, socket.AI_NUMERICHOST)[0]
    return ai[0], ai[4]

def tcp(host, port):
    fam, sa = target(host, port, socket.SOCK_STREAM)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(sa)
        return ("ok" if s.recv(16).startswith(b"ok") else "noanswer"), sa[0]
    finally:
        s.close()

def udp(host, port, connected):
    fam, sa = target(host, port, socket.SOCK_DGRAM)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    msg = b"egressd-lo %d" % port
    try:
        if connected:
            s.connect(sa)
            s.send(msg)
        else:
            s.sendto(msg, sa)
        while True:
            if s.recv(256) == msg:
                return "ok", sa[0]
    finally:
        s.close()

def run(op, host, port):
    try:
        if op == "tcp":
            return tcp(host, port)
        return udp(host, port, op == "udpc")
    except PermissionError:
        return "EPERM", "-"
    except socket.timeout:
        return "timeout", "-"
    except OSError as e:
        return "ERR:" + e.__class__.__name__, "-"

args = sys.argv[1:]
while args:
    op = args.pop(0)
    if op == "get":
        name = args.pop(0)
        try:
            addrs = sorted(set(a[4][0] for a in socket.getaddrinfo(name, 80, socket.AF_INET,
                                                                   socket.SOCK_STREAM)))
        except OSError as e:
            print("resolve", name, "ERR:" + str(e.errno), flush=True)
            continue
        print("resolve", name, addrs, flush=True)
        for a in addrs:
            print("connect", a, run("tcp", a, 80)[0], flush=True)
        continue
    host, port = args.pop(0), int(args.pop(0))
    r, via = run(op, host, port)
    print(op, host, port, "=", r, "via", via, flush=True)
EOF
chmod 0644 "$LAB_DIR/lo.py"
W=(/usr/bin/python3 "$LAB_DIR/lo.py")
EG=(run --user nobody --allow-domains allowed.test)

# The loopback spellings: HOST and the address a deny line names (an ERE;
# a mapped address may be shown as the IPv4 address it maps).
FORMS=(127.0.0.1 127.1.2.3 0x7f000001 0177.0.0.1 2130706433 ::1 ::ffff:127.0.0.1 0.0.0.0 ::)
deny_addr()
{
	case $1 in
	127.1.2.3) echo '127\.1\.2\.3' ;;
	::1) echo '\[::1\]' ;;
	::ffff:127.0.0.1) echo '(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\])' ;;
	0.0.0.0) echo '0\.0\.0\.0' ;;
	::) echo '\[::\]' ;;
	*) echo '127\.0\.0\.1' ;;
	esac
}

# ops PORT FORM...: the workload's arguments, TCP, UDP and connected UDP.
ops()
{
	local port=$1 f
	shift
	for f in "$@"; do
		printf '%s\n' tcp "$f" "$port" udp "$f" "$port" udpc "$f" "$port"
	done
}

# hp HOST PORT: HOST:PORT, [HOST]:PORT for IPv6.
hp()
{
	case $1 in
	*:*) printf '[%s]:%s' "$1" "$2" ;;
	*) printf '%s:%s' "$1" "$2" ;;
	esac
}

# expect_ops RESULT PORT FORM...: every operation of ops PORT FORM... had RESULT.
expect_ops()
{
	local want=$1 port=$2 f op
	shift 2
	for f in "$@"; do
		for op in tcp udp udpc; do
			expect_fgrep "$LAB_OUT" "$op $f $port = $want" "$op $(hp "$f" "$port"): $want${WHY:+ ($WHY)}"
		done
	done
}

# expect_deny_lines PORT FORM...: a deny line for TCP and for UDP.  (The
# connected UDP attempt goes to the same destination as the sendto before
# it: egressd counts it under that line rather than printing another.)
expect_deny_lines()
{
	local port=$1 f a
	shift
	for f in "$@"; do
		a=$(deny_addr "$f")
		expect_grep "$LAB_ERR" "egressd: blocked python3\[[0-9]+\] -> $a:$port/tcp: loopback port not allowed" \
			"deny line for tcp $(hp "$f" "$port")"
		expect_grep "$LAB_ERR" "egressd: blocked python3\[[0-9]+\] -> $a:$port/udp: loopback port not allowed" \
			"deny line for udp $(hp "$f" "$port")"
	done
}

WARN_RE='egressd: WARNING: [0-9]+ service\(s\) listen on loopback here and the command can reach them; restrict with --loopback none\|PORT,\.\.\.'

lab_section "controls: without egressd every form reaches the loopback listeners"
mapfile -t O < <(ops 8080 "${FORMS[@]}"; ops 8081 127.0.0.1 ::1 ::ffff:127.0.0.1 0.0.0.0 ::)
lab_run_in client "${LAB_NOBODY_CMD[@]}" "${W[@]}" "${O[@]}"
WHY=control expect_ops ok 8080 "${FORMS[@]}"
WHY=control expect_ops ok 8081 127.0.0.1 ::1 ::ffff:127.0.0.1 0.0.0.0 ::
for f in 0x7f000001 0177.0.0.1 2130706433; do
	expect_fgrep "$LAB_OUT" "tcp $f 8080 = ok via 127.0.0.1" "(control: getaddrinfo makes $f 127.0.0.1)"
done
lab_run_in client "${LAB_NOBODY_CMD[@]}" "${W[@]}" tcp 127.0.0.1 9000
expect_fgrep "$LAB_OUT" "tcp 127.0.0.1 9000 = ok" "(control: the lab's tcp 127.0.0.1:9000 answers)"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "${W[@]}" get allowed.test
expect_fgrep "$LAB_OUT" "connect $LAB_ALLOWED4 ok" "(control: allowed.test resolves and answers)"

lab_section "--loopback none: every spelling of loopback is refused"
for f in "${FORMS[@]}"; do
	mapfile -t O < <(ops 8080 "$f")
	lab_egressd "${EG[@]}" --loopback none -- "${W[@]}" "${O[@]}"
	expect_ops EPERM 8080 "$f"
	expect_deny_lines 8080 "$f"
done
expect_grep "$LAB_ERR" 'loopback: none;' "the startup line says loopback: none"
expect_no_grep "$LAB_ERR" 'listen on loopback' "no listener warning under none"

lab_section "--loopback none: DNS through egressd's proxy still works"
lab_egressd "${EG[@]}" --loopback none -- "${W[@]}" get allowed.test tcp 127.0.0.1 8080
expect_fgrep "$LAB_OUT" "resolve allowed.test ['$LAB_ALLOWED4']" "allowed.test resolves through the proxy"
expect_fgrep "$LAB_OUT" "connect $LAB_ALLOWED4 ok" "and its address answers"
expect_fgrep "$LAB_OUT" "tcp 127.0.0.1 8080 = EPERM" "while 127.0.0.1:8080 stays refused"
expect_grep "$LAB_ERR" "DNS through egressd's proxy" "the proxy is on"

lab_section "--cgroup self under --loopback none or 8080: the proxy's own answers reach the client"
# egressd filters its own cgroup (a container's entrypoint): its proxy's
# answers to the client's loopback port are egressd's, not the workload's
# (the red team found them refused: UDP at sendmsg, TCP per packet).
SELF=$LAB_CG2/egressd-self-$LAB_ID
mkdir "$SELF" || lab_die "cannot create $SELF"
lab_register_cgroup "$SELF"
SREL=${SELF#"$LAB_CG2"}
for lo in none 8080; do
	for t in notcp tcp; do
		lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh \
			"$SREL" "$EGRESSD" run --cgroup self --user nobody --allow-domains allowed.test \
			--loopback "$lo" -- dig +$t +time=2 +tries=1 +short A allowed.test
		expect_grep "$LAB_OUT" "^${LAB_ALLOWED4//./\\.}\$" \
			"--cgroup self, --loopback $lo, dig +$t: allowed.test answered by the proxy"
	done
done

lab_section "--loopback 8080: 8080 works, 8081 is refused"
mapfile -t O < <(ops 8080 127.0.0.1 ::1 ::ffff:127.0.0.1 0.0.0.0 ::; ops 8081 127.0.0.1 ::1 ::ffff:127.0.0.1 0.0.0.0 ::)
lab_egressd "${EG[@]}" --loopback 8080 -- "${W[@]}" "${O[@]}" get allowed.test
expect_ops ok 8080 127.0.0.1 ::1 ::ffff:127.0.0.1 0.0.0.0 ::
expect_ops EPERM 8081 127.0.0.1 ::1 ::ffff:127.0.0.1 0.0.0.0 ::
expect_deny_lines 8081 127.0.0.1 ::1
expect_no_grep "$LAB_ERR" ':8080/(tcp|udp)' "no deny line for port 8080"
expect_fgrep "$LAB_OUT" "connect $LAB_ALLOWED4 ok" "DNS through the proxy works"
expect_grep "$LAB_ERR" 'loopback: ports 8080;' "the startup line says loopback: ports 8080"
expect_no_grep "$LAB_ERR" 'listen on loopback' "no listener warning with a port list"

lab_section "--loopback 8081,8080: a list"
mapfile -t O < <(ops 8080 127.0.0.1 ::1; ops 8081 127.0.0.1 ::1; ops 9000 127.0.0.1)
lab_egressd "${EG[@]}" --loopback 8081,8080 -- "${W[@]}" "${O[@]}"
expect_ops ok 8080 127.0.0.1 ::1
expect_ops ok 8081 127.0.0.1 ::1
expect_fgrep "$LAB_OUT" "tcp 127.0.0.1 9000 = EPERM" "tcp 127.0.0.1:9000 (not listed): EPERM"
expect_grep "$LAB_ERR" 'loopback: ports 8080,8081;|loopback: ports 8081,8080;' "the startup line lists both"

lab_section "--loopback all: everything on loopback works; 0.0.0.0 and :: do not"
mapfile -t O < <(ops 8080 127.0.0.1 127.1.2.3 ::1 ::ffff:127.0.0.1; ops 8081 127.0.0.1 ::1)
O+=(tcp 0.0.0.0 8080 tcp :: 8080)
for d in "--loopback all" "--loopback omitted"; do
	LO=()
	[ "$d" = "--loopback all" ] && LO=(--loopback all)
	lab_egressd "${EG[@]}" "${LO[@]}" -- "${W[@]}" "${O[@]}"
	WHY=$d expect_ops ok 8080 127.0.0.1 127.1.2.3 ::1 ::ffff:127.0.0.1
	WHY=$d expect_ops ok 8081 127.0.0.1 ::1
	expect_fgrep "$LAB_OUT" "tcp 0.0.0.0 8080 = EPERM" "tcp 0.0.0.0:8080 refused ($d)"
	expect_fgrep "$LAB_OUT" "tcp :: 8080 = EPERM" "tcp [::]:8080 refused ($d)"
	expect_grep "$LAB_ERR" 'loopback: all;' "the startup line says loopback: all ($d)"
	n=$(grep -Ec -- "$WARN_RE" "$LAB_ERR")
	if [ "$n" -eq 1 ]; then
		lab_ok "one warning line names the loopback listeners ($d)"
	else
		lab_fail "one warning line names the loopback listeners ($d)" \
			"$n lines matching /$WARN_RE/"
	fi
done

lab_section "the listener warning counts loopback services, not egressd's proxy"
# A namespace with only lo: first nothing listens there but egressd's own
# proxy, then one TCP and one UDP service bound to 127.0.0.1.  (An address,
# not a name, is allowed: no resolver is reachable from there.)
NS=egl-$LAB_ID
lab_netns_add "$NS"
IN_NS=(ip netns exec "$NS" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' sh)
lab_run_in plain "${IN_NS[@]}" "$EGRESSD" run --user nobody --resolver "$LAB_RESOLVER4" \
	--allow-domains "$LAB_ALLOWED4" -- true
expect_rc 0 "egressd runs in a namespace with no listeners"
expect_grep "$LAB_ERR" "DNS through egressd's proxy" "with its proxy on loopback"
expect_no_grep "$LAB_ERR" 'listen on loopback' "no warning: egressd's own proxy does not count"
lab_bg "tcp-$NS" "$NS" socat TCP4-LISTEN:8080,bind=127.0.0.1,fork,reuseaddr SYSTEM:'echo ok'
lab_wait_listen "tcp-$NS" "$LAB_LAST_PID" "$NS" t 8080 1
lab_start_udp_echo 8081 "$NS" 127.0.0.1
lab_run_in plain "${IN_NS[@]}" "$EGRESSD" run --user nobody --resolver "$LAB_RESOLVER4" \
	--allow-domains "$LAB_ALLOWED4" -- true
expect_grep "$LAB_ERR" 'egressd: WARNING: 2 service\(s\) listen on loopback here' \
	"the warning counts 2 services (TCP 127.0.0.1:8080, UDP 127.0.0.1:8081)"
lab_run_in plain "${IN_NS[@]}" "$EGRESSD" run --user nobody --resolver "$LAB_RESOLVER4" \
	--allow-domains "$LAB_ALLOWED4" --loopback none -- true
expect_no_grep "$LAB_ERR" 'listen on loopback' "no warning under --loopback none"

lab_section "bad --loopback values exit 125"
for v in 0 70000 some "" "80," ",80" "80,,81" -1 8080x; do
	lab_egressd run --user nobody --allow-domains allowed.test --loopback "$v" -- sh -c 'echo RAN'
	expect_rc 125 "--loopback '$v' is refused"
	expect_no_grep "$LAB_OUT" '^RAN$' "and the command does not run ('$v')"
	if grep -F 'ERROR:' "$LAB_ERR" | grep -F loopback | grep -qF -- "$v"; then
		lab_ok "an ERROR: line names --loopback '$v'"
	else
		lab_fail "an ERROR: line names --loopback '$v'" "no ERROR: line with 'loopback' and '$v'"
	fi
done

lab_section "--audit --loopback none: reported, not blocked; the summary suggests --loopback 8081"
lab_egressd "${EG[@]}" --audit --loopback none -- "${W[@]}" tcp 127.0.0.1 8081
expect_fgrep "$LAB_OUT" "tcp 127.0.0.1 8081 = ok" "the connect works (audit)"
expect_grep "$LAB_ERR" 'audit: would block python3\[[0-9]+\] -> 127\.0\.0\.1:8081/tcp: loopback port not allowed' \
	"it is reported"
expect_fgrep "$LAB_ERR" '--loopback 8081' "the summary suggests --loopback 8081"
lab_egressd "${EG[@]}" --audit --loopback none -- "${W[@]}" get allowed.test
expect_fgrep "$LAB_OUT" "connect $LAB_ALLOWED4 ok" "a run that only resolves through the proxy works"
expect_no_grep "$LAB_ERR" '--loopback [0-9]' "and, having used nothing local but the proxy, gets no --loopback suggestion"

lab_finish
