#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# github.com in the allowlist: egressd fetches GitHub's meta document over
# verified HTTPS (the host resolved through the lab resolver, --ca-file for
# the test CA) and allows every CIDR in "web", "api" and "git" -- and
# nothing else from the document.  Any failure to fetch or understand it
# refuses to start: exit 125, "Failed to fetch GitHub IP ranges: REASON",
# the command never runs.
#
# Lab: api.github.test -> 198.51.100.30, where https_server.py instances
# serve /meta (443: the good document; other ports: one failure each).
# github.com -> 198.51.100.10 (dnsmasq authoritative for it: AAAA NODATA).  The ranges in the good document:
#   web 198.51.100.64/26 + 2001:db8::40/122, api 198.51.100.64/27,
#   git 198.51.100.96/27; hooks/actions 198.51.100.128/26 (not allowed).
# The host gets .70 (web/api), .100 (git), .130 (hooks) and 2001:db8::50
# (web v6); the lab's TCP 80/8080 servers answer on all of them, and a
# UDP echo listens on 198.51.100.70:17.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
command -v openssl >/dev/null 2>&1 || lab_skip "missing tool: openssl"
lab_up
lab_add_host_addr 198.51.100.70 198.51.100.100 198.51.100.130 2001:db8::50
lab_dns_add \
	'local=/github.com/' 'host-record=github.com,198.51.100.10' \
	'host-record=api.github.test,198.51.100.30' \
	'host-record=wrongname.github.test,198.51.100.30'
lab_start_servers
lab_start_udp_echo 17 "$LAB_HOST" 198.51.100.70

HTTPS_SERVER=$LAB_REPO/tests/lib/https_server.py
MKCA=$LAB_REPO/tests/lib/mkca.sh
[ -f "$HTTPS_SERVER" ] || lab_die "missing $HTTPS_SERVER"
CA=$LAB_DIR/ca
OTHER_CA=$LAB_DIR/otherca
bash "$MKCA" "$CA" api.github.test || lab_die "mkca.sh failed"
bash "$MKCA" "$OTHER_CA" api.github.test || lab_die "mkca.sh (second CA) failed"
META=$LAB_DIR/meta
mkdir -p "$META"

cat >"$META/good.json" <<'EOF'
{
  "verifiable_password_authentication": false,
  "ssh_key_fingerprints": {"SHA256_ED25519": "not-a-real-fingerprint"},
  "hooks": ["198.51.100.128/26"],
  "web": ["198.51.100.64/26", "2001:db8::40/122"],
  "api": ["198.51.100.64/27"],
  "git": ["198.51.100.96/27"],
  "actions": ["198.51.100.128/26"],
  "domains": {"website": ["*.github.com"]}
}
EOF
printf '{"web": ["198.51.100.64/26"], "api": [' >"$META/badjson.json"
printf '{"web": ["198.51.100.64/26"], "api": ["198.51.100.64/27"]}\n' >"$META/nogit.json"
printf '{"web": ["198.51.100.64/26", "198.51.100.300/24"], "api": [], "git": []}\n' \
	>"$META/badcidr.json"
printf '{"web": ["198.51.100.65/26"], "api": [], "git": []}\n' >"$META/hostbits.json"
printf '{"web": [], "api": [], "git": []}\n' >"$META/empty.json"
printf '{"web": ["github.com"], "api": [], "git": []}\n' >"$META/domain.json"
printf '{"web": "198.51.100.64/26", "api": [], "git": []}\n' >"$META/notarray.json"

# start_https PORT STATUS BODY [LOCATION]: https_server.py on
# 198.51.100.30:PORT with the api.github.test certificate.
start_https()
{
	local port=$1 status=$2 body=$3 loc=${4:-}
	local -a extra=()

	[ -n "$loc" ] && extra=(--location "$loc")
	lab_bg "https-$port" "$LAB_HOST" "$LAB_PY" "$HTTPS_SERVER" \
		--listen "198.51.100.30:$port" --cert "$CA/server.crt" \
		--key "$CA/server.key" --status "$status" --body "$META/$body" "${extra[@]}"
	lab_wait_listen "https-$port" "$LAB_LAST_PID" "$LAB_HOST" t "$port" 1
}

start_https 443 200 good.json
start_https 4431 500 good.json
start_https 4432 200 badjson.json
start_https 4433 200 nogit.json
start_https 4434 200 badcidr.json
start_https 4436 301 good.json https://elsewhere.github.test/meta
start_https 4437 200 empty.json
start_https 4438 200 hostbits.json
start_https 4439 200 domain.json
start_https 4440 200 notarray.json
# Nothing listens on 198.51.100.30:4435.

MARKER=$LAB_WORK/marker
URL=https://api.github.test/meta
GH=(--allow-domains github.com --github-meta-url "$URL" --ca-file "$CA/ca.crt")

# How many times the good server answered /meta.
meta_requests() { grep -c '"GET /meta' "$LAB_DIR/https-443.log"; }

expect_not_run()
{
	if [ -e "$MARKER" ]; then
		lab_fail "$1: the command did not run" "marker file $MARKER exists"
	else
		lab_ok "$1: the command did not run"
	fi
}

# expect_fetch_fails DESC REASON-ERE EGRESSD-RUN-ARGS...: exit 125, the
# line "Failed to fetch GitHub IP ranges: REASON", the command not run.
expect_fetch_fails()
{
	local desc=$1 reason=$2
	shift 2

	rm -f "$MARKER"
	lab_egressd run "$@" --user nobody -- touch "$MARKER"
	expect_rc 125 "$desc: exit 125"
	expect_grep "$LAB_ERR" "^egressd: ERROR: Failed to fetch GitHub IP ranges: ($reason)\$" \
		"$desc: reason matches /$reason/"
	expect_not_run "$desc"
	expect_no_grep "$LAB_ERR" 'isolation ON' "$desc: nothing was attached"
}

lab_section "the good document: web/api/git ranges allowed, nothing else"
before=$(meta_requests)
EG_ARGS=("${GH[@]}" --user nobody)
expect_probe ok "tcp 198.51.100.70:80 (web + api range)" tcp 198.51.100.70 80
after=$(meta_requests)
if [ "$after" -gt "$before" ]; then
	lab_ok "egressd fetched /meta from api.github.test ($before -> $after requests)"
else
	lab_fail "egressd fetched /meta from api.github.test" "the server logged no new request"
fi
expect_probe ok "tcp 198.51.100.70:8080 (ranges allow every port)" tcp 198.51.100.70 8080
expect_probe ok "udp 198.51.100.70:17 (every protocol)" udp 198.51.100.70 17
expect_probe ok "tcp 198.51.100.100:80 (git range)" tcp 198.51.100.100 80
expect_probe ok "tcp [2001:db8::50]:80 (web IPv6 range)" tcp 2001:db8::50 80
expect_probe ok "tcp 198.51.100.10:80 (github.com's own address)" tcp 198.51.100.10 80
expect_probe blocked "tcp 198.51.100.20:80 (not GitHub)" tcp 198.51.100.20 80
expect_probe blocked "tcp 198.51.100.130:80 (hooks/actions ranges are not allowed)" \
	tcp 198.51.100.130 80
expect_probe blocked "tcp 198.51.100.30:80 (the meta server itself is not allowed)" \
	tcp 198.51.100.30 80
expect_probe blocked "tcp [2001:db8::20]:80 (not GitHub)" tcp 2001:db8::20 80
expect_grep "$LAB_ERR" 'isolation ON: allowing [0-9]+ IPv4 \+ [0-9]+ IPv6 prefixes' \
	"startup line counts the prefixes"

lab_section "github.com not listed: no fetch, no GitHub ranges"
before=$(meta_requests)
EG_ARGS=(--allow-domains allowed.test --github-meta-url "$URL" --ca-file "$CA/ca.crt" --user nobody)
expect_probe blocked "tcp 198.51.100.70:80 (no github.com in the list)" tcp 198.51.100.70 80
if [ "$(meta_requests)" -eq "$before" ]; then
	lab_ok "no /meta request without github.com"
else
	lab_fail "no /meta request without github.com" "the server was asked anyway"
fi
rm -f "$MARKER"
lab_egressd run --allow-domains allowed.test --github-meta-url https://api.github.test:4435/meta \
	--user nobody -- touch "$MARKER"
expect_rc 0 "an unreachable meta URL does not matter without github.com"

lab_section "fetch failures: exit 125, the reason, the command never runs"
expect_fetch_fails "no --ca-file (the test CA is not trusted)" \
	'api\.github\.test: SSL certificate problem: .*' \
	--allow-domains github.com --github-meta-url "$URL"
expect_fetch_fails "--ca-file of another CA" \
	'api\.github\.test: SSL certificate problem: .*' \
	--allow-domains github.com --github-meta-url "$URL" --ca-file "$OTHER_CA/ca.crt"
expect_fetch_fails "certificate for another name" \
	"wrongname\\.github\\.test: .*(subject name|does not match|no alternative).*wrongname\\.github\\.test.*" \
	--allow-domains github.com --github-meta-url https://wrongname.github.test/meta \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "HTTP 500" 'HTTP status 500' \
	--allow-domains github.com --github-meta-url https://api.github.test:4431/meta \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "HTTP 301 (redirects are not followed)" \
	'HTTP status 301 \(redirects are not followed\)' \
	--allow-domains github.com --github-meta-url https://api.github.test:4436/meta \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "HTTP 404 (wrong path)" 'HTTP status 404' \
	--allow-domains github.com --github-meta-url https://api.github.test/nometa \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "bad JSON (truncated)" 'invalid JSON at offset [0-9]+: .+' \
	--allow-domains github.com --github-meta-url https://api.github.test:4432/meta \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "missing \"git\" field" 'field "git" missing' \
	--allow-domains github.com --github-meta-url https://api.github.test:4433/meta \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "an invalid CIDR" '"web"\[1\]: "198\.51\.100\.300/24" is not a CIDR.*' \
	--allow-domains github.com --github-meta-url https://api.github.test:4434/meta \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "a CIDR with host bits set" '"web"\[0\]: "198\.51\.100\.65/26" .*host bits.*' \
	--allow-domains github.com --github-meta-url https://api.github.test:4438/meta \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "a domain instead of a CIDR" '"web"\[0\]: "github\.com" is not a CIDR.*' \
	--allow-domains github.com --github-meta-url https://api.github.test:4439/meta \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "\"web\" is not an array" 'field "web" is a string, not an array' \
	--allow-domains github.com --github-meta-url https://api.github.test:4440/meta \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "all three arrays empty" 'no address ranges in "web", "api" or "git"' \
	--allow-domains github.com --github-meta-url https://api.github.test:4437/meta \
	--ca-file "$CA/ca.crt"
expect_fetch_fails "server not listening" \
	'api\.github\.test: .*(onnect|refused).*' \
	--allow-domains github.com --github-meta-url https://api.github.test:4435/meta \
	--ca-file "$CA/ca.crt"
expect_fgrep "$LAB_ERR" "4435" "the not-listening reason names the port"
expect_fetch_fails "meta host does not resolve" 'cannot resolve nx\.github\.test: NXDOMAIN' \
	--allow-domains github.com --github-meta-url https://nx.github.test/meta \
	--ca-file "$CA/ca.crt"

lab_section "a non-https meta URL is refused before anything runs"
rm -f "$MARKER"
lab_egressd run --allow-domains github.com --github-meta-url http://api.github.test/meta \
	--user nobody -- touch "$MARKER"
expect_rc 125 "http:// meta URL: exit 125"
expect_fgrep "$LAB_ERR" "http://api.github.test/meta" "the error names the URL"
expect_not_run "http:// meta URL"

lab_section "libcurl is loaded only for --github-meta, and a missing one is an error"
if ldd "$EGRESSD" | grep -q libcurl; then
	lab_fail "egressd is not linked with libcurl" "$(ldd "$EGRESSD" | grep libcurl)"
else
	lab_ok "egressd is not linked with libcurl (user/curlso.c loads it)"
fi
CURLSO=$(readlink -f "$(ldconfig -p | awk '/libcurl\.so\.4 .*x86-64|libcurl\.so\.4 /{print $NF; exit}')")
if [ -f "$CURLSO" ]; then
	# /dev/null over the library, in a mount namespace of this run only.
	rm -f "$MARKER"
	lab_run_in client unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh \
		"$CURLSO" "$EGRESSD" run --allow-domains github.com --github-meta-url "$URL" \
		--ca-file "$CA/ca.crt" --user nobody -- touch "$MARKER"
	expect_rc 125 "libcurl hidden: exit 125"
	expect_grep "$LAB_ERR" '^egressd: ERROR: Failed to fetch GitHub IP ranges: cannot load libcurl\.so\.4 \(install libcurl4\): ' \
		"libcurl hidden: the error says libcurl.so.4 could not be loaded"
	expect_not_run "libcurl hidden"
	expect_no_grep "$LAB_ERR" 'isolation ON' "libcurl hidden: nothing was attached"
else
	lab_fail "find libcurl.so.4 to hide it" "ldconfig -p has no libcurl.so.4"
fi

lab_finish
