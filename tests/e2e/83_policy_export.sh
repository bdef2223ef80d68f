#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# egressd policy export --format cilium: a realistic allowlist (npm, pip,
# an API on its own port, a wildcard, IPv4 and IPv6 CIDRs, an allow-file)
# becomes a CiliumNetworkPolicy whose YAML parses (python3 yaml.safe_load),
# round-trips, and holds exactly the allowlist: every name, pattern, CIDR
# and port, nothing missing and nothing extra, and a DNS rule that lists
# exactly the allowed names (never matchPattern "*").  The checker is run
# on tampered copies too, so each of its checks is shown able to fail.
# Then the empty allowlist, and bad input.  No namespaces, no traffic:
# export neither resolves nor fetches anything.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
"$LAB_PY" -c 'import yaml' 2>/dev/null || lab_skip "python3-yaml is not installed (apt-get install python3-yaml)"

CHECK=$LAB_DIR/check.py
ALLOWFILE=$LAB_DIR/allow.txt
LIST='registry.npmjs.org:443 pypi.org:443,files.pythonhosted.org:443 api.internal.example:8443 *.cdn.example.net:443 198.51.100.0/24 [2001:db8::/32]:443'

# The allow-file: comments, blank lines, a port-less name, a duplicate of
# a list entry, and one name given on two ports.
cat >"$ALLOWFILE" <<'EOF'
# build deps
objects.example.org

203.0.113.7
registry.npmjs.org:443
git.example.org:22
git.example.org:443
[2001:db8:1::/48]:53
EOF

# What the policy must allow, written out by hand from LIST and the file
# above: destination -> ports ("all" = every port).  The checker derives
# the same table from the YAML, independently of egressd's code.
cat >"$LAB_DIR/expect.json" <<'EOF'
{
 "fqdn": {
  "name:registry.npmjs.org": ["443"],
  "name:pypi.org": ["443"],
  "name:files.pythonhosted.org": ["443"],
  "name:api.internal.example": ["8443"],
  "pattern:**.cdn.example.net": ["443"],
  "name:objects.example.org": "all",
  "name:git.example.org": ["22", "443"]
 },
 "cidr": {
  "198.51.100.0/24": "all",
  "2001:db8::/32": ["443"],
  "203.0.113.7/32": "all",
  "2001:db8:1::/48": ["53"]
 },
 "dns": ["name:registry.npmjs.org", "name:pypi.org", "name:files.pythonhosted.org",
	 "name:api.internal.example", "pattern:**.cdn.example.net",
	 "name:objects.example.org", "name:git.example.org"],
 "name": "egressd-allowlist",
 "selector": {"egressd.io/policy": "egressd-allowlist"},
 "deny": ["169.254.169.254/32", "fd00:ec2::254/128"]
}
EOF

# check.py YAML EXPECT: one "ok<TAB>what" or "FAIL<TAB>what<TAB>why" line
# per check.
cat >"$CHECK" <<'EOF'
import json, sys, yaml

KUBE_DNS = {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}
results = []


def check(what, ok, why=""):
    results.append(("ok\t" + what) if ok else ("FAIL\t" + what + "\t" + str(why)))


def sel_key(s):
    if set(s) == {"matchName"}:
        return "name:" + s["matchName"]
    if set(s) == {"matchPattern"}:
        return "pattern:" + s["matchPattern"]
    return "bad:" + json.dumps(s, sort_keys=True)


def ports_of(rule, errors):
    """"all", or the sorted port list; each port must come as TCP and UDP only."""
    if "toPorts" not in rule:
        return "all"
    seen = {}
    for pr in rule["toPorts"]:
        if set(pr) != {"ports"}:
            errors.append("unexpected keys in toPorts: %s" % sorted(pr))
        for p in pr.get("ports", []):
            if not isinstance(p.get("port"), str):
                errors.append("port %r is not a string" % (p.get("port"),))
            seen.setdefault(str(p.get("port")), []).append(p.get("protocol"))
    for port, protos in seen.items():
        if sorted(protos) != ["TCP", "UDP"]:
            errors.append("port %s has protocols %s, want TCP and UDP" % (port, protos))
    return sorted(seen, key=int)


def merge(table, key, ports):
    old = table.get(key)
    if old == "all" or ports == "all":
        table[key] = "all"
    else:
        table[key] = sorted(set(old or []) | set(ports), key=int)


text = open(sys.argv[1]).read()
exp = json.load(open(sys.argv[2]))
try:
    doc = yaml.safe_load(text)
except yaml.YAMLError as e:
    check("the YAML parses", False, e)
    print("\n".join(results))
    sys.exit(0)
check("the YAML parses", isinstance(doc, dict), type(doc))
check("it round-trips through yaml.safe_dump", yaml.safe_load(yaml.safe_dump(doc)) == doc)
check("apiVersion cilium.io/v2, kind CiliumNetworkPolicy",
      doc.get("apiVersion") == "cilium.io/v2" and doc.get("kind") == "CiliumNetworkPolicy",
      (doc.get("apiVersion"), doc.get("kind")))
meta = doc.get("metadata", {})
check("metadata.name is %s" % exp["name"], meta.get("name") == exp["name"], meta)
check("metadata.namespace is %s" % exp.get("namespace"), meta.get("namespace") == exp.get("namespace"), meta)
spec = doc.get("spec", {})
check("spec has exactly endpointSelector, egress%s" % (", egressDeny" if exp["deny"] else ""),
      set(spec) == {"endpointSelector", "egress"} | ({"egressDeny"} if exp["deny"] else set()),
      sorted(spec))
check("endpointSelector.matchLabels is %s" % exp["selector"],
      spec.get("endpointSelector") == {"matchLabels": exp["selector"]}, spec.get("endpointSelector"))

fqdn, cidr, errors, dns_rules = {}, {}, [], []
for rule in spec.get("egress") or []:
    l3 = set(rule) - {"toPorts"}
    if l3 == {"toEndpoints"}:
        dns_rules.append(rule)
    elif l3 == {"toFQDNs"}:
        ports = ports_of(rule, errors)
        for s in rule["toFQDNs"]:
            merge(fqdn, sel_key(s), ports)
    elif l3 == {"toCIDRSet"}:
        ports = ports_of(rule, errors)
        for c in rule["toCIDRSet"]:
            if set(c) != {"cidr"}:
                errors.append("toCIDRSet item %s has more than cidr" % c)
            merge(cidr, c.get("cidr"), ports)
    else:
        errors.append("unexpected egress rule %s" % json.dumps(rule, sort_keys=True))
check("every egress rule is toFQDNs, toCIDRSet or the DNS rule; every port is TCP+UDP",
      not errors, "; ".join(errors))
want_fqdn = {k: v if v == "all" else sorted(v, key=int) for k, v in exp["fqdn"].items()}
want_cidr = {k: v if v == "all" else sorted(v, key=int) for k, v in exp["cidr"].items()}
check("toFQDNs: no allowlist name missing", not set(want_fqdn) - set(fqdn), sorted(set(want_fqdn) - set(fqdn)))
check("toFQDNs: nothing that is not in the allowlist", not set(fqdn) - set(want_fqdn), sorted(set(fqdn) - set(want_fqdn)))
check("toFQDNs: each name has exactly its ports", fqdn == want_fqdn,
      {k: (fqdn.get(k), want_fqdn.get(k)) for k in set(fqdn) | set(want_fqdn) if fqdn.get(k) != want_fqdn.get(k)})
check("toCIDRSet: no allowlist prefix missing", not set(want_cidr) - set(cidr), sorted(set(want_cidr) - set(cidr)))
check("toCIDRSet: nothing that is not in the allowlist", not set(cidr) - set(want_cidr), sorted(set(cidr) - set(want_cidr)))
check("toCIDRSet: each prefix has exactly its ports", cidr == want_cidr,
      {k: (cidr.get(k), want_cidr.get(k)) for k in set(cidr) | set(want_cidr) if cidr.get(k) != want_cidr.get(k)})

if exp["dns"]:
    check("exactly one DNS rule", len(dns_rules) == 1, len(dns_rules))
    r = dns_rules[0] if dns_rules else {}
    check("the DNS rule goes to kube-dns in kube-system",
          r.get("toEndpoints") == [{"matchLabels": exp.get("dns_selector", KUBE_DNS)}], r.get("toEndpoints"))
    tp = r.get("toPorts") or [{}]
    ports = sorted((p.get("port"), p.get("protocol")) for p in tp[0].get("ports", []))
    check("the DNS rule is port 53 over UDP and TCP", len(tp) == 1 and ports == [("53", "TCP"), ("53", "UDP")],
          (len(tp), ports))
    names = [sel_key(s) for s in (tp[0].get("rules") or {}).get("dns", [])]
    check("the DNS rule lists every allowed name and pattern", not set(exp["dns"]) - set(names),
          sorted(set(exp["dns"]) - set(names)))
    check("the DNS rule lists nothing else (no matchPattern \"*\")", not set(names) - set(exp["dns"]),
          sorted(set(names) - set(exp["dns"])))
    check("the DNS rule lists each name once", len(names) == len(set(names)), names)
else:
    check("no DNS rule", not dns_rules, dns_rules)


def scalars(x):
    if isinstance(x, dict):
        for k, v in x.items():
            yield k
            yield from scalars(v)
    elif isinstance(x, list):
        for v in x:
            yield from scalars(v)
    else:
        yield x


check("no \"*\" (match anything) anywhere in the policy", "*" not in list(scalars(doc)), "")
deny = [c.get("cidr") for r in spec.get("egressDeny") or [] for c in r.get("toCIDRSet", [])]
check("egressDeny holds exactly the metadata addresses %s" % exp["deny"], sorted(deny) == sorted(exp["deny"]), deny)
print("\n".join(results))
EOF

# run_check YAML EXPECT LABEL: the checker's verdicts as lab checks.
run_check()
{
	local kind what why n=0

	while IFS=$'\t' read -r kind what why; do
		n=$((n + 1))
		case $kind in
		ok) lab_ok "$3: $what" ;;
		*) lab_fail "$3: $what" "$why" ;;
		esac
	done < <("$LAB_PY" "$CHECK" "$1" "$2" 2>&1)
	[ "$n" -gt 5 ] || lab_fail "$3: the checker ran" "only $n verdicts"
}

# tampered EXPECT PY-EXPR DESC: the checker must fail on a copy of the
# good policy changed by PY-EXPR (on d, the parsed document).
tampered()
{
	local out=$LAB_DIR/tampered.yaml

	"$LAB_PY" - "$GOOD" "$out" "$2" <<'EOF' || lab_die "tampering failed: $2"
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], "w").write(yaml.safe_dump(d))
EOF
	# grep -c reads it all: with -q an early exit would break the pipe.
	if [ "$("$LAB_PY" "$CHECK" "$out" "$1" | grep -c '^FAIL')" -gt 0 ]; then
		lab_ok "negative control: the checker fails when $3"
	else
		lab_fail "negative control: the checker fails when $3" "it passed the tampered policy"
	fi
}

lab_section "a realistic allowlist"
lab_run_in plain "$EGRESSD" policy export --format cilium --allow-domains "$LIST" --allow-file "$ALLOWFILE"
expect_rc 0 "export exits 0"
GOOD=$LAB_DIR/good.yaml
cp "$LAB_OUT" "$GOOD"
run_check "$GOOD" "$LAB_DIR/expect.json" "realistic"
expect_fgrep "$LAB_ERR" 'WARNING: *.cdn.example.net is exported as matchPattern "**.cdn.example.net"' \
	"stderr warns that the wildcard's depth depends on the Cilium version"
expect_fgrep "$GOOD" "There is deliberately no matchPattern \"*\"" "the DNS rule says why it lists names only"
expect_no_grep "$LAB_ERR" 'ERROR' "no ERROR on stderr"

lab_section "negative controls: each check can fail"
E=$LAB_DIR/expect.json
tampered "$E" 'd["spec"]["egress"][0]["toPorts"][0]["rules"]["dns"].append({"matchPattern": "*"})' \
	'the DNS rule allows any name'
tampered "$E" 'd["spec"]["egress"][0]["toPorts"][0]["rules"]["dns"].pop()' 'the DNS rule misses a name'
tampered "$E" 'd["spec"]["egress"] = [r for r in d["spec"]["egress"] if "toCIDRSet" not in r or "toPorts" in r]' \
	'a port-less CIDR rule is missing'
tampered "$E" 'd["spec"]["egress"].append({"toFQDNs": [{"matchName": "evil.example"}]})' 'an extra name is allowed'
tampered "$E" 'd["spec"]["egress"].append({"toCIDRSet": [{"cidr": "0.0.0.0/0"}]})' 'an extra prefix is allowed'
tampered "$E" '[p.update(protocol="ANY") for r in d["spec"]["egress"] if "toFQDNs" in r for tp in r.get("toPorts", []) for p in tp["ports"]]' \
	'ports are ANY instead of TCP and UDP'
tampered "$E" '[r.pop("toPorts") for r in d["spec"]["egress"] if "toFQDNs" in r and "toPorts" in r][:1]' \
	'a name loses its port limit'
tampered "$E" 'd["spec"]["egress"][0]["toEndpoints"] = [{}]' 'DNS may go to any pod'
tampered "$E" 'd["spec"]["endpointSelector"] = {}' 'the policy selects every pod'
tampered "$E" 'd["spec"].pop("egressDeny")' 'the metadata deny is missing'

lab_section "options: name, namespace, selectors"
cat >"$LAB_DIR/expect-opts.json" <<'EOF'
{
 "fqdn": {"name:registry.npmjs.org": ["443"]},
 "cidr": {},
 "dns": ["name:registry.npmjs.org"],
 "name": "ci-egress",
 "namespace": "builds",
 "selector": {"app": "builder", "k8s:team": "infra"},
 "dns_selector": {"k8s:io.kubernetes.pod.namespace": "dns", "k8s:app": "coredns"},
 "deny": ["169.254.169.254/32", "fd00:ec2::254/128"]
}
EOF
lab_run_in plain "$EGRESSD" policy export --format cilium -a registry.npmjs.org:443 \
	--name ci-egress --namespace builds --selector app=builder --selector k8s:team=infra \
	--dns-selector k8s:io.kubernetes.pod.namespace=dns --dns-selector k8s:app=coredns
expect_rc 0 "export with options exits 0"
run_check "$LAB_OUT" "$LAB_DIR/expect-opts.json" "options"

lab_section "the empty allowlist"
lab_run_in plain "$EGRESSD" policy export --format cilium --allow-domains ""
expect_rc 0 "--allow-domains \"\" exits 0"
if "$LAB_PY" - "$LAB_OUT" <<'EOF'; then
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = d["spec"]
# An egress section with one rule that selects nothing: default-deny,
# nothing allowed.  "egress: []" (or none) would leave egress open.
sys.exit(0 if set(s) == {"endpointSelector", "egress"} and s["egress"] == [{"toEntities": ["none"]}] else 1)
EOF
	lab_ok "the empty allowlist is one egress rule to the entity none, and nothing else"
else
	lab_fail "the empty allowlist is one egress rule to the entity none, and nothing else" "$(cat "$LAB_OUT")"
fi
expect_no_grep "$LAB_OUT" '^  egress: \[\]' "the empty allowlist is not \"egress: []\" (which Cilium ignores)"
expect_fgrep "$LAB_OUT" "Cilium ignores an empty egress section" "a comment says why"

lab_section "the same entry parser and messages as egressd run"
printf 'registry.npmjs.org:443\n10.0.0.1/33\n' >"$LAB_DIR/bad.txt"
for src in "--allow-domains=a..b" "--allow-file=$LAB_DIR/bad.txt" "--allow-domains=2001:db8::/32:443"; do
	lab_run_in plain "$EGRESSD" run --user nobody "$src" -- true
	cp "$LAB_ERR" "$LAB_DIR/run.err"
	lab_run_in plain "$EGRESSD" policy export --format cilium "$src"
	expect_rc 125 "export $src: exit 125"
	if [ -s "$LAB_ERR" ] && cmp -s "$LAB_ERR" "$LAB_DIR/run.err"; then
		lab_ok "export $src: the same ERROR as egressd run"
	else
		lab_fail "export $src: the same ERROR as egressd run" "run: $(cat "$LAB_DIR/run.err")" "export: $(cat "$LAB_ERR")"
	fi
done

lab_section "bad input"
# expect_bad DESC VALUE ARGS...: exit 125, an ERROR naming VALUE, nothing on stdout.
expect_bad()
{
	local desc=$1 value=$2
	shift 2

	lab_run_in plain "$EGRESSD" policy export "$@"
	expect_rc 125 "$desc: exit 125"
	expect_fgrep "$LAB_ERR" "ERROR: " "$desc: an ERROR line"
	expect_fgrep "$LAB_ERR" "$value" "$desc: it names $value"
	if [ -s "$LAB_OUT" ]; then
		lab_fail "$desc: nothing on stdout" "$(head -c 200 "$LAB_OUT")"
	else
		lab_ok "$desc: nothing on stdout"
	fi
}
expect_bad "missing --format" "missing --format" -a example.com
expect_bad "unknown --format" '"kyverno"' --format kyverno -a example.com
expect_bad "no allowlist" "no allowlist" --format cilium
expect_bad "bad --name" '"Egress_Policy"' --format cilium -a example.com --name Egress_Policy
expect_bad "bad --namespace" '"a.b"' --format cilium -a example.com --namespace a.b
expect_bad "--selector without =" '"app"' --format cilium -a example.com --selector app
expect_bad "bad --selector key" '"-app=x"' --format cilium -a example.com --selector=-app=x
expect_bad "bad --selector value" '"app=a b"' --format cilium -a example.com --selector 'app=a b'
expect_bad "bad --dns-selector" '"k8s:k8s app=x"' --format cilium -a example.com --dns-selector 'k8s:k8s app=x'
expect_bad "a selector key twice" '"app" given twice' --format cilium -a example.com --selector app=a --selector app=b
expect_bad "unknown option" "--frobnicate" --format cilium -a example.com --frobnicate
expect_bad "--loopback" "no Cilium equivalent" --format cilium -a example.com --loopback none
expect_bad "a stray argument" '"extra"' --format cilium -a example.com extra
expect_bad "a missing allow-file" "$LAB_DIR/none.txt" --format cilium -f "$LAB_DIR/none.txt"
expect_bad "too many ports on one name" "more than 16 ports for x.example" --format cilium \
	-a "$(for p in $(seq 1001 1017); do printf 'x.example:%s ' "$p"; done)"
lab_run_in plain "$EGRESSD" policy frob
expect_rc 125 "egressd policy frob: exit 125"
expect_fgrep "$LAB_ERR" '"frob"' "egressd policy frob: names frob"

lab_section "what egressd run refuses is refused: ports gathered across covering prefixes (red team)"
COVER="$(for p in $(seq 1 10); do printf '10.0.0.0/8:%s ' "$p"; done)$(for p in $(seq 11 20); do printf '10.1.0.0/16:%s ' "$p"; done)"
expect_bad "17+ ports on 10.1.0.0/16 with those of 10.0.0.0/8" "10.1.0.0/16: more than 16 distinct ports" \
	--format cilium -a "$COVER"

PY=/usr/bin/python3
lab_section "the metadata address, allowed on one port only, stays denied on every port (red team)"
lab_run_in plain "$EGRESSD" policy export --format cilium --allow-domains '*.example.com 169.254.169.254:80'
expect_rc 0 "exported"
"$PY" - "$LAB_OUT" <<'PYEOF' >"$LAB_DIR/meta.txt"
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for r in d["spec"].get("egressDeny", []):
    for c in r.get("toCIDRSet", []):
        print("deny", c["cidr"], "ports" if "toPorts" in r else "all")
PYEOF
expect_grep "$LAB_DIR/meta.txt" "^deny 169\.254\.169\.254/32 all$" "169.254.169.254 is denied on every port"
expect_grep "$LAB_ERR" "169.254.169.254/32 is allowed on some ports only: the export denies it on every port" "with a warning"
lab_run_in plain "$EGRESSD" policy export --format cilium --allow-domains '*.example.com 169.254.169.254'
"$PY" - "$LAB_OUT" <<'PYEOF' >"$LAB_DIR/meta2.txt"
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for r in d["spec"].get("egressDeny", []):
    for c in r.get("toCIDRSet", []):
        print("deny", c["cidr"])
PYEOF
expect_no_grep "$LAB_DIR/meta2.txt" "169\.254\.169\.254" "(control: allowed on every port, it is not denied)"

lab_section "control: good options pass"
lab_run_in plain "$EGRESSD" policy export --format cilium -a example.com --name ok-name --selector app=x
expect_rc 0 "good options: exit 0"
expect_no_grep "$LAB_ERR" 'ERROR' "good options: no ERROR"
expect_fgrep "$LAB_OUT" 'name: "ok-name"' "good options: the policy is on stdout"

lab_finish
