#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Domain entries: egressd resolves every listed name (A and AAAA, through
# CNAME chains) against the lab resolver before the command starts, allows
# exactly the addresses it got (on the listed port, or every port), and
# refuses to start -- exit 125, the command never runs -- when any name
# fails, naming each failed name and why.
#
# Names (lab dnsmasq, see lab.sh): allowed.test -> .10 + ::10,
# denied.test -> .20 + ::20, v6only.test -> ::10 only, alias.test ->
# allowed.test, and added here: chain.test -> chain2.test -> allowed.test,
# sentry.io -> .20 + ::20 and statsig.anthropic.com -> .20 (names an agent
# phones home to: they must be blocked unless listed; egressd has no
# built-in domains).  dnsmasq is authoritative (local=) for them as for
# .test, so a missing AAAA is NODATA; halfrefused.example is not: its A
# answers, its AAAA is REFUSED (no upstream), which must fail the name.
#
# The workload resolves names itself through the lab resolver (the client
# namespace's resolv.conf) with curl, against a small HTTP server on port
# 8000 of every host address.  Every "blocked" check first proves the same
# request works without egressd.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
command -v curl >/dev/null 2>&1 || lab_skip "missing tool: curl"
lab_up
lab_dns_add \
	'cname=chain.test,chain2.test' \
	'cname=chain2.test,allowed.test' \
	'local=/sentry.io/' 'host-record=sentry.io,198.51.100.20,2001:db8::20' \
	'local=/statsig.anthropic.com/' 'host-record=statsig.anthropic.com,198.51.100.20' \
	'host-record=halfrefused.example,198.51.100.10' \
	'txt-record=txtonly.test,"no addresses here"' \
	'address=/zero.test/#'
lab_start_servers

mkdir -p "$LAB_DIR/www"
echo "hello from the lab" >"$LAB_DIR/www/hello.txt"
lab_start_http http8000 :: 8000 "$LAB_DIR/www"

MARKER=$LAB_WORK/marker
NOBODY=("${LAB_NOBODY_CMD[@]}")
CURL=(curl -sS --max-time 10 --noproxy '*')

# expect_curl ok|blocked DESC URL [CURL-OPTION...]: curl URL as the
# workload (as nobody)
# under egressd "${EG_ARGS[@]}".  ok: the body is served.  blocked: the
# same request works without egressd, fails under it, and egressd printed
# a "blocked" line.
expect_curl()
{
	local want=$1 desc=$2 url=$3
	shift 3

	if [ "$want" = blocked ]; then
		lab_run_in client "${NOBODY[@]}" "${CURL[@]}" "$@" "$url"
		if [ "$LAB_RC" -ne 0 ] || ! grep -qx 'hello from the lab' "$LAB_OUT"; then
			lab_fail "$desc" "control failed: $url does not work without egressd"
			return 0
		fi
	fi
	lab_egressd run "${EG_ARGS[@]}" -- "${CURL[@]}" "$@" "$url"
	case $want in
	ok)
		if [ "$LAB_RC" -eq 0 ] && grep -qx 'hello from the lab' "$LAB_OUT"; then
			lab_ok "$desc"
		else
			lab_fail "$desc" "expected the page, got rc=$LAB_RC"
		fi
		;;
	blocked)
		if [ "$LAB_RC" -ne 0 ] && [ "$LAB_RC" -ne 125 ] && [ "$LAB_RC" -ne 124 ] &&
			! grep -q 'hello from the lab' "$LAB_OUT" &&
			grep -q 'egressd: blocked ' "$LAB_ERR"; then
			lab_ok "$desc (curl rc=$LAB_RC, egressd reported the block)"
		else
			lab_fail "$desc" "expected curl to fail with an egressd 'blocked' line, got rc=$LAB_RC"
		fi
		;;
	esac
}

# expect_not_run DESC: the command (touch MARKER) did not run.
expect_not_run()
{
	if [ -e "$MARKER" ]; then
		lab_fail "$1: the command did not run" "marker file $MARKER exists"
	else
		lab_ok "$1: the command did not run"
	fi
}

# expect_refused DESC EGRESSD-RUN-ARGS...: egressd run ARGS --user nobody
# -- touch MARKER exits 125 without running the command.
expect_refused()
{
	local desc=$1
	shift

	rm -f "$MARKER"
	lab_egressd run "$@" --user nobody -- touch "$MARKER"
	expect_rc 125 "$desc: exit 125"
	expect_not_run "$desc"
}

# The exact line egressd prints for a name that did not resolve.
resolve_err() { printf 'egressd: ERROR: Failed to resolve domain: %s (%s)' "$1" "$2"; }

# --- names that resolve ------------------------------------------------------

lab_section "allowed.test (A + AAAA): its addresses, every port; nothing else"
EG_ARGS=(--allow-domains allowed.test --user nobody)
expect_probe ok "tcp 198.51.100.10:80" tcp 198.51.100.10 80
expect_probe ok "tcp 198.51.100.10:8080" tcp 198.51.100.10 8080
expect_probe ok "udp 198.51.100.10:7" udp 198.51.100.10 7
expect_probe ok "tcp [2001:db8::10]:80" tcp 2001:db8::10 80
expect_probe blocked "tcp 198.51.100.20:80 (denied.test)" tcp 198.51.100.20 80
expect_probe blocked "tcp [2001:db8::20]:80 (denied.test)" tcp 2001:db8::20 80
expect_probe blocked "tcp 198.51.100.30:80 (other.test)" tcp 198.51.100.30 80
expect_curl ok "curl http://allowed.test:8000/ (workload resolves through the lab resolver)" \
	http://allowed.test:8000/hello.txt
expect_curl ok "curl -6 http://allowed.test:8000/ (over IPv6)" \
	http://allowed.test:8000/hello.txt -6
expect_curl blocked "curl http://denied.test:8000/ (not listed)" \
	http://denied.test:8000/hello.txt
# Through the DNS proxy the name itself is refused: curl never gets an address.
expect_grep "$LAB_ERR" 'egressd: blocked DNS curl\[[0-9]+\] -> denied\.test (A|AAAA): name not in allowlist' \
	"the blocked line names the refused name"

lab_section "port-limited name allowed.test:80"
EG_ARGS=(--allow-domains allowed.test:80 --user nobody)
expect_probe ok "tcp 198.51.100.10:80 (listed port)" tcp 198.51.100.10 80
expect_probe blocked "tcp 198.51.100.10:8080 (other port)" tcp 198.51.100.10 8080
expect_probe ok "tcp [2001:db8::10]:80 (listed port, AAAA)" tcp 2001:db8::10 80
expect_probe blocked "tcp [2001:db8::10]:8080 (other port, AAAA)" tcp 2001:db8::10 8080
expect_probe blocked "udp 198.51.100.10:7 (other port)" udp 198.51.100.10 7
expect_curl blocked "curl http://allowed.test:8000/ (other port)" http://allowed.test:8000/hello.txt
expect_fgrep "$LAB_ERR" "(allowed.test)" "the blocked line names the domain the address came from"

lab_section "a name listed with and without a port allows every port"
for list in "allowed.test:80,allowed.test" "allowed.test,allowed.test:80"; do
	EG_ARGS=(--allow-domains "$list" --user nobody)
	expect_probe ok "[$list] tcp 198.51.100.10:80" tcp 198.51.100.10 80
	expect_probe ok "[$list] tcp 198.51.100.10:8080" tcp 198.51.100.10 8080
	expect_probe ok "[$list] tcp [2001:db8::10]:8080" tcp 2001:db8::10 8080
	expect_probe blocked "[$list] tcp 198.51.100.20:80" tcp 198.51.100.20 80
done

lab_section "CNAMEs: alias.test -> allowed.test, chain.test -> chain2.test -> allowed.test"
for name in alias.test chain.test; do
	EG_ARGS=(--allow-domains "$name" --user nobody)
	expect_probe ok "[$name] tcp 198.51.100.10:80 (the CNAME target's A)" tcp 198.51.100.10 80
	expect_probe ok "[$name] tcp [2001:db8::10]:80 (the CNAME target's AAAA)" tcp 2001:db8::10 80
	expect_probe blocked "[$name] tcp 198.51.100.20:80" tcp 198.51.100.20 80
	expect_curl ok "[$name] curl http://$name:8000/" "http://$name:8000/hello.txt"
done

lab_section "AAAA-only name v6only.test"
EG_ARGS=(--allow-domains v6only.test --user nobody)
expect_probe ok "tcp [2001:db8::10]:80" tcp 2001:db8::10 80
expect_probe ok "udp [2001:db8::10]:7" udp 2001:db8::10 7
expect_probe blocked "tcp 198.51.100.10:80 (no A record, so not allowed)" tcp 198.51.100.10 80
expect_curl ok "curl http://v6only.test:8000/ (over IPv6)" http://v6only.test:8000/hello.txt

lab_section "sentry.io and statsig.anthropic.com: blocked unless listed"
EG_ARGS=(--allow-domains allowed.test --user nobody)
expect_curl blocked "curl http://sentry.io:8000/ (not listed)" http://sentry.io:8000/hello.txt
expect_curl blocked "curl http://statsig.anthropic.com:8000/ (not listed)" \
	http://statsig.anthropic.com:8000/hello.txt
EG_ARGS=(--allow-domains "" --user nobody)
expect_curl blocked "--allow-domains \"\": curl http://sentry.io:8000/" http://sentry.io:8000/hello.txt
expect_curl blocked "--allow-domains \"\": curl http://statsig.anthropic.com:8000/" \
	http://statsig.anthropic.com:8000/hello.txt
EG_ARGS=(--allow-domains sentry.io --user nobody)
expect_curl ok "listed: curl http://sentry.io:8000/" http://sentry.io:8000/hello.txt
expect_probe ok "listed sentry.io: tcp 198.51.100.20:80" tcp 198.51.100.20 80
expect_probe ok "listed sentry.io: tcp [2001:db8::20]:80" tcp 2001:db8::20 80
EG_ARGS=(--allow-domains statsig.anthropic.com --user nobody)
expect_curl ok "listed: curl http://statsig.anthropic.com:8000/" \
	http://statsig.anthropic.com:8000/hello.txt

lab_section "--allow-domains and --allow-file combine"
cat >"$LAB_WORK/allow.txt" <<'EOF'
# names, one per line
denied.test:8080
EOF
EG_ARGS=(--allow-domains allowed.test --allow-file "$LAB_WORK/allow.txt" --user nobody)
expect_probe ok "tcp 198.51.100.10:80 (allowed.test from --allow-domains)" tcp 198.51.100.10 80
expect_probe ok "tcp 198.51.100.20:8080 (denied.test:8080 from --allow-file)" tcp 198.51.100.20 8080
expect_probe ok "tcp [2001:db8::20]:8080 (denied.test:8080 from --allow-file)" tcp 2001:db8::20 8080
expect_probe blocked "tcp 198.51.100.20:80 (denied.test, other port)" tcp 198.51.100.20 80
expect_probe blocked "tcp 198.51.100.30:80 (in neither)" tcp 198.51.100.30 80
expect_curl ok "curl http://allowed.test:8000/" http://allowed.test:8000/hello.txt
printf 'nx-file.test\n' >"$LAB_WORK/allow-bad.txt"
expect_refused "a failing name from --allow-file" --allow-domains allowed.test \
	--allow-file "$LAB_WORK/allow-bad.txt"
expect_fgrep "$LAB_ERR" "$(resolve_err nx-file.test NXDOMAIN)" "the file's failing name is reported"

# --- names that do not resolve: refuse to start -----------------------------

lab_section "nx.test (NXDOMAIN): refuse to start"
expect_refused "nx.test" --allow-domains nx.test
if grep -Fxq -- "$(resolve_err nx.test NXDOMAIN)" "$LAB_ERR"; then
	lab_ok "stderr has exactly '$(resolve_err nx.test NXDOMAIN)'"
else
	lab_fail "stderr has exactly '$(resolve_err nx.test NXDOMAIN)'"
fi
expect_no_grep "$LAB_ERR" 'isolation ON' "no startup line: nothing was attached"
if lab_dns_was_asked nx.test; then
	lab_ok "egressd asked the lab resolver about nx.test"
else
	lab_fail "egressd asked the lab resolver about nx.test" "no query for nx.test in the dnsmasq log"
fi

lab_section "a good name next to a failing one still refuses"
expect_refused "allowed.test,nx.test" --allow-domains allowed.test,nx.test
expect_fgrep "$LAB_ERR" "$(resolve_err nx.test NXDOMAIN)" "nx.test is reported"
expect_no_grep "$LAB_ERR" 'Failed to resolve domain: allowed\.test' "allowed.test is not reported"

lab_section "two failing names: both reported"
expect_refused "nx.test,nx2.test" --allow-domains allowed.test,nx.test,nx2.test
expect_fgrep "$LAB_ERR" "$(resolve_err nx.test NXDOMAIN)" "nx.test is reported"
expect_fgrep "$LAB_ERR" "$(resolve_err nx2.test NXDOMAIN)" "nx2.test is reported"
n=$(grep -c 'Failed to resolve domain:' "$LAB_ERR")
if [ "$n" -eq 2 ]; then
	lab_ok "exactly two 'Failed to resolve domain' lines"
else
	lab_fail "exactly two 'Failed to resolve domain' lines" "got $n"
fi
printf 'nx3.test\n' >"$LAB_WORK/allow-nx3.txt"
expect_refused "nx.test from --allow-domains and nx3.test from --allow-file" \
	--allow-domains nx.test --allow-file "$LAB_WORK/allow-nx3.txt"
expect_fgrep "$LAB_ERR" "$(resolve_err nx.test NXDOMAIN)" "nx.test is reported"
expect_fgrep "$LAB_ERR" "$(resolve_err nx3.test NXDOMAIN)" "nx3.test is reported"

lab_section "names with no usable address"
expect_refused "txtonly.test (a TXT record, no A/AAAA)" --allow-domains txtonly.test
expect_fgrep "$LAB_ERR" "$(resolve_err txtonly.test 'no addresses (NOERROR, no A/AAAA records)')" \
	"reason: no addresses (NOERROR, no A/AAAA records)"
expect_refused "zero.test (answers only 0.0.0.0 and ::)" --allow-domains zero.test
expect_fgrep "$LAB_ERR" "$(resolve_err zero.test 'no addresses (the resolver answered only 0.0.0.0 or ::)')" \
	"reason: no addresses (the resolver answered only 0.0.0.0 or ::)"
expect_refused "nowhere.example (the resolver has no answer outside .test)" \
	--allow-domains nowhere.example
expect_grep "$LAB_ERR" '^egressd: ERROR: Failed to resolve domain: nowhere\.example \((REFUSED|SERVFAIL|NXDOMAIN)\)$' \
	"the resolver's rcode is the reason"

expect_refused "halfrefused.example (A answers, AAAA is REFUSED)" \
	--allow-domains halfrefused.example
expect_fgrep "$LAB_ERR" "$(resolve_err halfrefused.example 'REFUSED for AAAA')" \
	"a failed family fails the name: (REFUSED for AAAA)"

lab_section "invalid names: refused without a query"
for name in bad_name.test -x.test 'a.*.x.test' '*.' 'a..b.test' "$(printf 'l%.0s' {1..64}).test"; do
	expect_refused "invalid name '$name'" --allow-domains "allowed.test,$name"
	expect_fgrep "$LAB_ERR" "$name" "the error names '$name'"
	expect_grep "$LAB_ERR" '^egressd: ERROR: ' "the error is an ERROR: line"
	if lab_dns_was_asked "$name"; then
		lab_fail "no DNS query for '$name'" "dnsmasq logged a query for it"
	else
		lab_ok "no DNS query for '$name'"
	fi
done
expect_no_grep "$LAB_DIR/dnsmasq.log" 'query\[[A-Z]+\] (bad_name|-x|\*\.x)\.test ' \
	"dnsmasq never saw any invalid name"

lab_section "a resolver that does not answer: refuse to start, bounded"
# Nothing listens on 198.51.100.30:5353: the resolver refuses (ICMP port
# unreachable for UDP, RST for TCP).
expect_refused "--resolver 198.51.100.30:5353 (nothing listens)" \
	--resolver 198.51.100.30:5353 --allow-domains allowed.test
expect_grep "$LAB_ERR" '^egressd: ERROR: Failed to resolve domain: allowed\.test \((timeout|connection refused)\)$' \
	"reason: connection refused or timeout"
# A server that takes every query and never answers.
lab_start_blackhole 198.51.100.30 5354
expect_refused "--resolver 198.51.100.30:5354 (never answers)" \
	--resolver 198.51.100.30:5354 --allow-domains allowed.test,denied.test
expect_fgrep "$LAB_ERR" "$(resolve_err allowed.test timeout)" "allowed.test: (timeout)"
expect_fgrep "$LAB_ERR" "$(resolve_err denied.test timeout)" "denied.test: (timeout)"
# The lab resolver, named explicitly, works.
EG_ARGS=(--resolver 198.51.100.1 --allow-domains allowed.test --user nobody)
expect_probe ok "--resolver 198.51.100.1: tcp 198.51.100.10:80" tcp 198.51.100.10 80
EG_ARGS=(--resolver 2001:db8::1 --allow-domains allowed.test --user nobody)
expect_probe ok "--resolver 2001:db8::1: tcp [2001:db8::10]:80" tcp 2001:db8::10 80
# A second resolver that answers makes up for the first one being dead.
EG_ARGS=(--resolver 198.51.100.30:5353 --resolver 198.51.100.1 --allow-domains allowed.test --user nobody)
expect_probe ok "a dead resolver then the lab resolver: tcp 198.51.100.10:80" tcp 198.51.100.10 80

lab_finish
