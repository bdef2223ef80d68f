#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# egressd check, the preflight (issue 9): run in the lab's client
# namespace (so its only resolver is the lab's dnsmasq), as root, then
# with each capability dropped, under seccomp filters that refuse bpf()
# or unshare(), without cgroup2, in a child cgroup (writable and
# read-only), with resolvers that do not answer, and with bad input.
# Each item's status is checked both ways: one run where it must be ok
# and one where it must not, so that no check can pass by printing the
# same line every time.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_dns
command -v capsh >/dev/null || lab_skip "capsh not installed (libcap2-bin)"
SECCOMPDENY_SRC=${SECCOMPDENY:-$LAB_REPO/build/tests/seccompdeny}
[ -x "$SECCOMPDENY_SRC" ] || lab_skip "seccompdeny helper not built: $SECCOMPDENY_SRC (run: make test-bins)"
SECCOMPDENY=$LAB_DIR/seccompdeny
install -m 0755 "$SECCOMPDENY_SRC" "$SECCOMPDENY" || lab_die "cannot copy $SECCOMPDENY_SRC"

IDS=(kernel btf cgroup2 cgroup-writable bpffs CAP_BPF CAP_NET_ADMIN CAP_SETUID CAP_SETGID
	CAP_SETPCAP seccomp-bpf seccomp-userns bpf-progs resolvers CAP_NET_RAW no-new-privs)
CAPS_FIX='fix: docker: --cap-add BPF --cap-add NET_ADMIN; host: run as root'
EG=$EGRESSD

# item_status FILE ID: the status column of ID's line in a text report.
item_status() { awk -v id="$2" '$2 == id { print $1; exit }' "$1"; }
item_line() { awk -v id="$2" '$2 == id { print; exit }' "$1"; }

# expect_item ID STATUS DESC [ERE]: in the last run's text report, ID's
# line has STATUS (and matches ERE).
expect_item()
{
	local id=$1 want=$2 desc=$3 ere=${4:-} got line

	got=$(item_status "$LAB_OUT" "$id")
	line=$(item_line "$LAB_OUT" "$id")
	if [ "$got" != "$want" ]; then
		lab_fail "$desc" "$id: expected $want, got '${got:-no line}'"
	elif [ -n "$ere" ] && ! grep -Eq -- "$ere" <<<"$line"; then
		lab_fail "$desc" "$id line does not match /$ere/: $line"
	else
		lab_ok "$desc"
	fi
}

lab_section "as root in the lab: egressd can run here"
lab_egressd check
expect_rc 0 "exit 0 as root"
cp "$LAB_OUT" "$LAB_DIR/root.txt"
ids=$(awk 'NR > 0 && $1 ~ /^(ok|warn|FAIL)$/ { print $2 }' "$LAB_OUT" | tr '\n' ' ')
if [ "$ids" = "${IDS[*]} " ]; then
	lab_ok "every item once, in order (${#IDS[@]} items)"
else
	lab_fail "every item once, in order (${#IDS[@]} items)" "got: $ids"
fi
expect_grep "$LAB_OUT" '^egressd can run here' "summary: can run here"
expect_no_grep "$LAB_OUT" '^FAIL' "no FAIL line as root"
expect_item kernel ok "kernel ok" '\(>= 5\.8\)'
expect_item btf ok "btf ok"
expect_item cgroup2 ok "cgroup2 found" 'mounted at /sys/fs/cgroup'
# The client namespace's process sits in the root cgroup (0::/).
expect_item cgroup-writable warn "the root cgroup is called the machine's root cgroup" \
	"machine's root cgroup; --cgroup self would filter every process"
expect_item CAP_BPF ok "CAP_BPF present as root"
expect_item CAP_NET_ADMIN ok "CAP_NET_ADMIN present as root"
expect_item CAP_SETUID ok "CAP_SETUID present as root"
expect_item seccomp-bpf ok "no seccomp filter as root" 'no seccomp filter'
expect_item seccomp-userns ok "user namespaces allowed" 'is allowed'
expect_item bpf-progs ok "every program type, map and helper loads"
expect_item resolvers ok "the lab's resolver answers" \
	"from /etc/resolv.conf: $LAB_RESOLVER4:53 answers"
if lab_dns_was_asked .; then
	lab_ok "the probe's query reached the lab's dnsmasq"
else
	lab_fail "the probe's query reached the lab's dnsmasq" "no '. ' query in dnsmasq.log"
fi
expect_item CAP_NET_RAW warn "CAP_NET_RAW present as root: warned" \
	'packet sockets bypass every cgroup hook.*fix: docker: --cap-drop NET_RAW'
expect_item no-new-privs warn "no_new_privs off: warned" 'fix: docker: --security-opt no-new-privileges'

lab_section "--format json: the same content"
lab_egressd check --format json
expect_rc 0 "exit 0 with --format json"
if "$LAB_PY" - "$LAB_OUT" "$LAB_DIR/root.txt" "${IDS[@]}" <<'EOF'; then
import json, re, sys

doc = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read().splitlines()
ids = sys.argv[3:]
assert doc["ok"] is True, doc["ok"]
assert [i["item"] for i in doc["items"]] == ids, [i["item"] for i in doc["items"]]
lines = []
for i in doc["items"]:
    assert i["status"] in ("ok", "warn", "FAIL"), i
    assert (i["fix"] is None) == (i["status"] == "ok"), i
    line = "%-5s %-16s %s" % (i["status"], i["item"], i["detail"])
    if i["fix"] is not None:
        line += "; fix: " + i["fix"]
    lines.append(line)
norm = lambda s: re.sub(r"\d+ ms\b", "N ms", s)
want = [norm(l) for l in text[:-1]]
got = [norm(l) for l in lines]
if want != got:
    for w, g in zip(want, got):
        if w != g:
            print("text: " + w + "\njson: " + g)
    sys.exit(1)
assert doc["warnings"] == sum(1 for i in doc["items"] if i["status"] == "warn")
EOF
	lab_ok "JSON parses, and its items, statuses, details and fixes are the text lines"
else
	lab_fail "JSON parses, and its items, statuses, details and fixes are the text lines"
fi

lab_section "capabilities dropped"
lab_run_in client capsh --drop=cap_bpf -- -c 'exec "$0" check' "$EG"
expect_rc 1 "without CAP_BPF: exit 1"
expect_item CAP_BPF FAIL "without CAP_BPF: CAP_BPF FAIL with the fix" "missing.*$CAPS_FIX"
expect_item CAP_NET_ADMIN ok "without CAP_BPF: CAP_NET_ADMIN still ok"
expect_item bpf-progs warn "without CAP_BPF: programs not probed" 'not probed: needs CAP_BPF'
expect_grep "$LAB_OUT" '^egressd cannot run here: 1 problem\(s\)' "without CAP_BPF: summary names 1 problem"

lab_run_in client capsh --drop=cap_net_admin -- -c 'exec "$0" check --format json' "$EG"
expect_rc 1 "without CAP_NET_ADMIN: exit 1 (json)"
if "$LAB_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = {i["item"]: i for i in d["items"]}
assert d["ok"] is False and d["problems"] == 1
assert s["CAP_NET_ADMIN"]["status"] == "FAIL"
assert s["CAP_NET_ADMIN"]["fix"] == "docker: --cap-add BPF --cap-add NET_ADMIN; host: run as root"
assert s["CAP_BPF"]["status"] == "ok"' "$LAB_OUT"; then
	lab_ok "without CAP_NET_ADMIN: CAP_NET_ADMIN FAIL with the fix, ok false"
else
	lab_fail "without CAP_NET_ADMIN: CAP_NET_ADMIN FAIL with the fix, ok false"
fi

lab_run_in client capsh --drop=cap_setuid -- -c 'exec "$0" check' "$EG"
expect_rc 1 "root without CAP_SETUID: exit 1 (cannot switch the command's user)"
expect_item CAP_SETUID FAIL "root without CAP_SETUID: FAIL" 'cannot switch the command to another user'
expect_item CAP_SETGID ok "root without CAP_SETUID: CAP_SETGID still ok"

lab_run_in client capsh --drop=cap_setpcap -- -c 'exec "$0" check' "$EG"
expect_rc 0 "without CAP_SETPCAP: still exit 0 (a warning)"
expect_item CAP_SETPCAP warn "without CAP_SETPCAP: warned" 'bounding set stays'

lab_section "CAP_NET_RAW"
lab_run_in client capsh --drop=cap_net_raw -- -c 'exec "$0" check' "$EG"
expect_rc 0 "without CAP_NET_RAW: exit 0"
expect_item CAP_NET_RAW ok "dropped from the bounding set: ok" 'not in the effective or bounding set'
# Not root: no effective capability, but the bounding set is full (what a
# process of a non-root user gets), and the missing ones are FAILs.
lab_run_in client setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$EG" check
expect_rc 1 "as nobody: exit 1"
expect_item CAP_NET_RAW warn "as nobody, NET_RAW only in the bounding set: warned" '\(bounding set\)'
expect_item CAP_BPF FAIL "as nobody: CAP_BPF FAIL"
expect_item CAP_SETUID warn "as nobody: CAP_SETUID only a warning (the command runs as nobody)" \
	'can only run as uid'

lab_section "seccomp"
lab_run_in client "$SECCOMPDENY" bpf -- "$EG" check
expect_rc 1 "bpf() refused by seccomp: exit 1"
expect_item seccomp-bpf FAIL "bpf() refused by seccomp: FAIL" \
	'answers bpf\(\) with EPERM.*fix: docker: --cap-add BPF'
expect_item bpf-progs warn "bpf() refused: programs not probed" 'not probed: bpf\(\) is blocked'
expect_item seccomp-userns ok "bpf() refused: unshare still allowed"
expect_item no-new-privs ok "under seccompdeny (no_new_privs set): ok"

lab_run_in client "$SECCOMPDENY" unshare -- "$EG" check
expect_rc 0 "unshare() refused by seccomp: exit 0 (a warning)"
expect_item seccomp-userns warn "unshare() refused: warned, blamed on seccomp" \
	'blocked \(EPERM\): this process.s seccomp filter refuses it'
# The negative control of the bpf() probe: a filter is there, bpf() passes.
expect_item seccomp-bpf ok "a seccomp filter that allows bpf(): ok, the kernel answered" \
	'lets bpf\(\) through \(the kernel itself answered the probe: E2BIG\)'
expect_item bpf-progs ok "unshare() refused: programs still probed, ok"

lab_run_in client setpriv --no-new-privs "$EG" check
expect_rc 0 "with no_new_privs: exit 0"
expect_item no-new-privs ok "with no_new_privs: ok" '^ok +no-new-privs +set'

lab_section "cgroups"
lab_run_in nocg "$EG" check
expect_rc 1 "no cgroup2 mounted: exit 1"
expect_item cgroup2 FAIL "no cgroup2: FAIL with the mount command" 'fix: mount -t cgroup2 cgroup2 /sys/fs/cgroup'
expect_item cgroup-writable warn "no cgroup2: writability not checked" 'not checked'

CG=$LAB_CG2/egressd-check-$LAB_ID
mkdir "$CG" || lab_die "cannot create $CG"
lab_register_cgroup "$CG"
REL=${CG#"$LAB_CG2"}
# In the client namespace cgroup2 is mounted at /sys/fs/cgroup.
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" && exec "$0" check' "$EG" "$REL"
expect_rc 0 "in a child cgroup: exit 0"
expect_item cgroup-writable ok "a child cgroup: not the root, writable" \
	"/sys/fs/cgroup$REL: writable: egressd can make a child cgroup"
lab_run_in client sh -c 'echo $$ >"/sys/fs/cgroup$1/cgroup.procs" &&
	mount -o remount,bind,ro /sys/fs/cgroup && exec "$0" check' "$EG" "$REL"
expect_rc 0 "read-only cgroup2: exit 0"
expect_item cgroup-writable ok "read-only cgroup2: ok, use --cgroup self" \
	'read-only: use --cgroup self \(egressd filters the container.s own cgroup\)'

lab_section "resolvers"
lab_start_blackhole "$LAB_OTHER4" 5353
t0=$(date +%s%N)
lab_egressd check --resolver "$LAB_OTHER4:5353"
t1=$(date +%s%N)
expect_rc 1 "a resolver that never answers: exit 1"
expect_item resolvers FAIL "a silent resolver: FAIL" \
	"none answers: $LAB_OTHER4:5353: no answer in 1.5 s; fix: names in --allow-domains cannot be resolved, and the DNS proxy has no upstream"
ms=$(((t1 - t0) / 1000000))
if [ "$ms" -lt 3000 ]; then
	lab_ok "a silent resolver: check returns within 3 s (${ms} ms)"
else
	lab_fail "a silent resolver: check returns within 3 s" "took ${ms} ms"
fi
# Nothing at all on that address: no ARP answer, so no reply.
lab_egressd check --resolver 198.51.100.99
expect_rc 1 "an address with nothing there: exit 1"
expect_item resolvers FAIL "an address with nothing there: FAIL" '198\.51\.100\.99:53: no answer'
# A port nobody listens on: refused at once (ICMP), still not an answer.
lab_egressd check --resolver "$LAB_OTHER4:5354"
expect_rc 1 "a closed port: exit 1"
expect_item resolvers FAIL "a closed port: FAIL, connection refused" "$LAB_OTHER4:5354: no answer \\("
lab_egressd check --resolver "$LAB_RESOLVER4" --resolver "$LAB_OTHER4:5353"
expect_rc 0 "one of two answers: exit 0"
expect_item resolvers warn "one of two answers: warned" \
	"from --resolver: 1 of 2 answer: $LAB_RESOLVER4:53 answers .*; $LAB_OTHER4:5353: no answer"
lab_egressd check --resolver "$LAB_RESOLVER6" --resolver "[$LAB_RESOLVER6]:53"
expect_rc 0 "IPv6 resolvers: exit 0"
expect_item resolvers ok "IPv6 resolvers answer" "\\[$LAB_RESOLVER6\\]:53 answers"
printf '# no nameserver here\n' >"/etc/netns/$LAB_CLIENT/resolv.conf"
lab_egressd check
expect_rc 1 "resolv.conf without nameservers: exit 1"
expect_item resolvers FAIL "resolv.conf without nameservers: FAIL" 'no resolvers: .*fix: name a DNS server with --resolver ADDR'
printf 'nameserver %s\n' "$LAB_RESOLVER4" >"/etc/netns/$LAB_CLIENT/resolv.conf"

lab_section "bad input"
lab_egressd check --format yaml
expect_rc 125 "--format yaml: exit 125"
expect_fgrep "$LAB_ERR" 'ERROR: --format: unknown format "yaml"' "--format yaml: the error names yaml"
if [ -s "$LAB_OUT" ]; then lab_fail "--format yaml: no report printed"; else lab_ok "--format yaml: no report printed"; fi
lab_egressd check --bogus
expect_rc 125 "unknown option: exit 125"
expect_fgrep "$LAB_ERR" 'ERROR: unknown option "--bogus"' "unknown option: the error names it"
lab_egressd check --resolver not-an-ip
expect_rc 125 "--resolver not-an-ip: exit 125"
expect_grep "$LAB_ERR" 'ERROR: --resolver: .*not-an-ip' "--resolver not-an-ip: the error names it"
lab_egressd check --format
expect_rc 125 "--format without a value: exit 125"
expect_fgrep "$LAB_ERR" 'ERROR: option --format needs a value' "--format without a value: said so"
lab_egressd check extra
expect_rc 125 "a stray argument: exit 125"
expect_fgrep "$LAB_ERR" 'unexpected argument "extra"' "a stray argument: named"
lab_egressd check --help
expect_rc 0 "--help: exit 0"
expect_grep "$LAB_OUT" '^Usage: egressd check' "--help prints the usage"

lab_finish
