#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# docker/Dockerfile and docker/secure-entrypoint.sh, without a container
# engine (there is no Docker or podman here, and a build would fetch
# packages from the internet):
#   - the Dockerfile is parsed: a build stage and a debian:12 runtime
#     stage; the runtime stage installs only egressd's shared libraries
#     and ca-certificates (no compiler, sudo, iptables, ping); a non-root
#     para user (uid 1000); egressd and the entrypoint COPYed and
#     executable; USER root; ENTRYPOINT and CMD; no NET_RAW, setcap or
#     --privileged.  Every rule is shown to catch a Dockerfile that breaks
#     it (mutants), so none can pass by not looking;
#   - the entrypoint passes `sh -n` (and shellcheck -s sh when installed),
#     uses no iptables/ipset/dig/jq/sudo, and, run with a stand-in egressd
#     on PATH, execs exactly the command para's interface promises, with
#     every value kept as one argument.

. "$(dirname "$0")/../lib/lab.sh"

REPO=$LAB_REPO
DF=$REPO/docker/Dockerfile
EP=$REPO/docker/secure-entrypoint.sh
LAB_PY=$(command -v /usr/bin/python3 || command -v python3) || lab_skip "missing tool: python3"
[ -f "$DF" ] || lab_die "no $DF"
[ -f "$EP" ] || lab_die "no $EP"
T=$(mktemp -d /tmp/egressd-df.XXXXXX) || lab_die "mktemp"
lab_record path "$T"
trap 'rm -rf "$T"' EXIT

# dockerfile_problems FILE: one line per broken rule; none for a good file.
cat >"$T/check.py" <<'EOF'
import json, re, shlex, sys

text = open(sys.argv[1]).read()
lines, cur = [], ""
for raw in text.splitlines():
    s = raw.strip()
    if not cur and (not s or s.startswith("#")):
        continue
    if s.startswith("#"):
        continue  # a comment inside a continued instruction
    if s.endswith("\\"):
        cur += s[:-1] + " "
        continue
    lines.append(cur + s)
    cur = ""
if cur:
    lines.append(cur)

problems = []
def bad(msg):
    problems.append(msg)

if not text.startswith("#"):
    bad("the file does not open with a comment saying what it is for")

stages = []
for l in lines:
    word, _, rest = l.partition(" ")
    word = word.upper()
    if word == "FROM":
        m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?\s*$", rest.strip(), re.I)
        stages.append({"image": m.group(1) if m else rest, "name": (m.group(2) or "") if m else "",
                       "ins": []})
    elif stages:
        stages[-1]["ins"].append((word, rest.strip()))
    else:
        bad("instruction before FROM: " + l)

if len(stages) < 2:
    bad("not multi-stage: %d FROM line(s)" % len(stages))
else:
    build, rt = stages[0], stages[-1]
    if build["image"] not in ("debian:12", "debian:bookworm"):
        bad("the build stage is not debian:12: " + build["image"])
    if not build["name"]:
        bad("the build stage has no name (FROM ... AS build)")
    if rt["image"] not in ("debian:12", "debian:bookworm", "debian:12-slim", "debian:bookworm-slim"):
        bad("the runtime stage is not debian:12: " + rt["image"])
    if not any(w == "RUN" and re.search(r"\bmake\b", a) for w, a in build["ins"]):
        bad("the build stage does not run make")

    allowed = {"libbpf1", "libelf1", "zlib1g", "libc-ares2", "libcurl4", "libjson-c5",
               "ca-certificates"}
    installed = []
    runs = [a for w, a in rt["ins"] if w == "RUN"]
    for a in runs:
        for m in re.finditer(r"apt-get\s+install\s+([^&|;]*)", a):
            installed += [p for p in m.group(1).split() if not p.startswith("-")]
    if not installed:
        bad("the runtime stage installs no libraries")
    for p in installed:
        if p not in allowed:
            bad("the runtime stage installs %s (only egressd's libraries and ca-certificates belong there)" % p)
    for need in sorted(allowed - set(installed)):
        bad("the runtime stage lacks %s" % need)
    for a in runs:
        if re.search(r"\b(gcc|clang|cc|make|sudo|iptables|ipset|dig|jq|pip|npm)\b", a):
            bad("the runtime stage runs a tool it must not have: " + a)
        if re.search(r"\bsudoers\b", a):
            bad("the runtime stage touches sudoers: " + a)

    users = [a for w, a in rt["ins"] if w == "RUN" and "useradd" in a]
    if not any(re.search(r"--uid\s+1000\b|-u\s+1000\b", a) and re.search(r"\bpara\b", a) for a in users):
        bad("no useradd of a para user with uid 1000")
    if any(re.search(r"(^|\s)(-G|--groups)[\s=]+\S*\b(sudo|wheel|root|adm)\b", a) for a in users):
        bad("the para user is put in a privileged group")

    copies = [a for w, a in rt["ins"] if w == "COPY"]
    def copied(dest):
        return [a for a in copies if a.split()[-1] == dest]
    if not any("--from=" + build["name"] in a for a in copied("/usr/local/bin/egressd")):
        bad("egressd is not COPYed from the build stage to /usr/local/bin/egressd")
    ep = copied("/usr/local/bin/secure-entrypoint.sh")
    if not ep:
        bad("the entrypoint is not COPYed to /usr/local/bin/secure-entrypoint.sh")
    elif not (any("--chmod=0755" in a or "--chmod=755" in a for a in ep) or
              any(re.search(r"chmod\s+(0?755|\+x|a\+x)\b[^&;]*/usr/local/bin/secure-entrypoint\.sh", a)
                  for a in runs)):
        bad("the entrypoint is not made executable")

    user_ins = [a for w, a in rt["ins"] if w == "USER"]
    if not user_ins or user_ins[-1] not in ("root", "0"):
        bad("the last USER of the runtime stage is not root (egressd must start with CAP_BPF and CAP_NET_ADMIN): %s" % user_ins)
    ent = [a for w, a in rt["ins"] if w == "ENTRYPOINT"]
    try:
        if not ent or json.loads(ent[-1]) != ["/usr/local/bin/secure-entrypoint.sh"]:
            bad("ENTRYPOINT is not [\"/usr/local/bin/secure-entrypoint.sh\"] (exec form): %s" % ent)
    except ValueError:
        bad("ENTRYPOINT is not in exec form: %s" % ent)
    cmd = [a for w, a in rt["ins"] if w == "CMD"]
    try:
        if not cmd or json.loads(cmd[-1]) != ["sleep", "infinity"]:
            bad("CMD is not [\"sleep\", \"infinity\"]: %s" % cmd)
    except ValueError:
        bad("CMD is not in exec form: %s" % cmd)

for l in lines:
    if re.search(r"net_raw|setcap|--privileged|cap_sys_admin|\biputils-ping\b|\bsetuid\b|chmod\s+[0-7]*[4-7][0-7]{3}\b|chmod\s+[ug]\+s",
                 l, re.I):
        bad("grants privileges: " + l)

print("\n".join(problems))
EOF

df_problems() { "$LAB_PY" "$T/check.py" "$1"; }

lab_section "docker/Dockerfile"
p=$(df_problems "$DF")
if [ -z "$p" ]; then
	lab_ok "the Dockerfile keeps every rule (stages, runtime libraries, para, COPY, USER root, ENTRYPOINT, CMD, no NET_RAW)"
else
	lab_fail "the Dockerfile keeps every rule" "$p"
fi
grep -n -E '^(FROM|USER|ENTRYPOINT|CMD)' "$DF" | sed 's/^/    /'

# mutant DESC PATTERN SED-EXPR: the rule must catch this broken Dockerfile.
mutant()
{
	local desc=$1 want=$2 expr=$3 p

	sed -e "$expr" "$DF" >"$T/Dockerfile.mut"
	if cmp -s "$DF" "$T/Dockerfile.mut"; then
		lab_fail "mutant '$desc'" "the sed expression changed nothing: the mutant tests nothing"
		return 0
	fi
	p=$(df_problems "$T/Dockerfile.mut")
	if grep -q -- "$want" <<<"$p"; then
		lab_ok "caught: $desc"
	else
		lab_fail "caught: $desc" "expected a problem matching '$want', got: ${p:-none}"
	fi
}

lab_section "each rule catches a Dockerfile that breaks it"
mutant "setcap cap_net_raw on egressd" "grants privileges" \
	's|^RUN chmod 0755 \(.*\)|RUN chmod 0755 \1 \&\& setcap cap_net_raw+ep /usr/local/bin/egressd|'
mutant "iputils-ping in the runtime stage" "iputils-ping" \
	'/AS runtime/,$ s|ca-certificates \\$|ca-certificates iputils-ping \\|'
mutant "sudo for para" "sudo" \
	'/AS runtime/,$ s|libjson-c5 ca-certificates|libjson-c5 ca-certificates sudo|'
mutant "a compiler in the runtime stage" "gcc" \
	'/AS runtime/,$ s|libjson-c5 ca-certificates|libjson-c5 ca-certificates gcc|'
mutant "a missing runtime library" "lacks libc-ares2" \
	'/AS runtime/,$ s| libc-ares2||'
mutant "USER para at the end" "last USER" 's|^USER root$|USER para|'
mutant "a shell-form ENTRYPOINT" "ENTRYPOINT" \
	's|^ENTRYPOINT .*|ENTRYPOINT /usr/local/bin/secure-entrypoint.sh|'
mutant "no CMD" "CMD" '/^CMD /d'
mutant "a single stage" "multi-stage" '/^FROM debian:12 AS runtime/d; s|^COPY --from=build.*||'
mutant "egressd not from the build stage" "COPYed from the build stage" \
	's|^COPY --from=build /out/egressd|COPY build/egressd|'
mutant "the entrypoint not executable" "executable" \
	's|^RUN chmod 0755 .*|RUN true|'
mutant "para without uid 1000" "uid 1000" 's|--uid 1000|--uid 1001|'
mutant "para in the sudo group" "privileged group" 's|--uid 1000|--uid 1000 -G sudo|'
mutant "a setuid bit" "grants privileges" 's|^RUN chmod 0755 |RUN chmod 4755 |'
mutant "--privileged in a RUN" "grants privileges" \
	's|^WORKDIR /workspace|RUN echo --privileged\nWORKDIR /workspace|'

lab_section "docker/secure-entrypoint.sh"
if sh -n "$EP" 2>"$T/shn.err"; then
	lab_ok "sh -n: the entrypoint parses as POSIX sh"
else
	lab_fail "sh -n: the entrypoint parses as POSIX sh" "$(cat "$T/shn.err")"
fi
printf 'if then fi\n' >"$T/broken.sh"
if sh -n "$T/broken.sh" 2>/dev/null; then
	lab_fail "(control: sh -n rejects a broken script)"
else
	lab_ok "(control: sh -n rejects a broken script)"
fi
if command -v shellcheck >/dev/null 2>&1; then
	if shellcheck -s sh "$EP" >"$T/sc.out" 2>&1; then
		lab_ok "shellcheck -s sh: clean"
	else
		lab_fail "shellcheck -s sh: clean" "$(head -n 20 "$T/sc.out")"
	fi
fi
head -n1 "$EP" | grep -qx '#!/bin/sh' && lab_ok "#!/bin/sh" || lab_fail "#!/bin/sh" "$(head -n1 "$EP")"
mode=$(git -C "$REPO" ls-files -s docker/secure-entrypoint.sh | awk '{ print $1 }')
if [ "$mode" = 100755 ] && [ -x "$EP" ]; then
	lab_ok "executable in git (100755) and on disk"
else
	lab_fail "executable in git (100755) and on disk" "git mode '$mode'"
fi
if grep -v '^[[:space:]]*#' "$EP" | grep -Eq '\b(iptables|ipset|dig|jq|sudo)\b'; then
	lab_fail "it uses no iptables, ipset, dig, jq or sudo" \
		"$(grep -v '^[[:space:]]*#' "$EP" | grep -E '\b(iptables|ipset|dig|jq|sudo)\b')"
else
	lab_ok "it uses no iptables, ipset, dig, jq or sudo"
fi
grep -Eq '^set -eu' "$EP" && lab_ok "set -eu" || lab_fail "set -eu"

lab_section "the entrypoint's contract, with a stand-in egressd"
# The stand-in records its argv (one argument a line) and plays check.
mkdir -p "$T/bin"
cat >"$T/bin/egressd" <<'EOF'
#!/bin/sh
if [ "$1" = check ]; then
	echo "ok   kernel 6.18"
	[ -n "${FAKE_CHECK_FAIL:-}" ] && { echo "FAIL CAP_BPF missing: add --cap-add BPF"; exit 1; }
	exit 0
fi
printf '%s\n' "$@" >"$ARGV_OUT"
exit 0
EOF
cat >"$T/bin/cmd" <<'EOF'
#!/bin/sh
printf '%s\n' "$@" >"$ARGV_OUT"
EOF
chmod 0755 "$T/bin/egressd" "$T/bin/cmd"

# ep ENV...: run the entrypoint with `cmd "a b" c` and ENV, in a clean env.
ep()
{
	rm -f "$T/argv"
	env -i PATH="$T/bin:/usr/bin:/bin" ARGV_OUT="$T/argv" "$@" \
		sh "$EP" cmd "a b" c >"$T/out" 2>"$T/err"
	EP_RC=$?
	printf '  $ %s entrypoint cmd "a b" c: rc=%s\n' "$*" "$EP_RC"
	sed 's/^/    ! /' "$T/err"
}

# argv_is LINE...: what the exec'd program got, one argument a line.
argv_is()
{
	printf '%s\n' "$@" | cmp -s - "$T/argv"
}

ep
if [ "$EP_RC" = 0 ] && argv_is "a b" c && grep -qx 'WARNING: Network isolation: OFF (use --allow-domains to enable)' "$T/err"; then
	lab_ok "unset: the warning, then the command itself, arguments intact"
else
	lab_fail "unset: the warning, then the command itself" "rc=$EP_RC argv: $(cat "$T/argv" 2>/dev/null)"
fi
ep PARA_NETWORK_ISOLATION=false
argv_is "a b" c && lab_ok "false: the command itself" || lab_fail "false: the command itself"
ep PARA_NETWORK_ISOLATION=true "PARA_ALLOWED_DOMAINS=a.test, *.b.test"
if [ "$EP_RC" = 0 ] && argv_is run --cgroup self --allow-domains "a.test, *.b.test" --user para -- cmd "a b" c; then
	lab_ok "true: exec egressd run --cgroup self --allow-domains LIST --user para -- CMD (LIST one argument, not globbed)"
else
	lab_fail "true: exec egressd run --cgroup self ..." "rc=$EP_RC argv: $(tr '\n' '|' <"$T/argv" 2>/dev/null)"
fi
ep PARA_NETWORK_ISOLATION=true PARA_ALLOWED_DOMAINS= PARA_USER=dev
if argv_is run --cgroup self --allow-domains "" --user dev -- cmd "a b" c; then
	lab_ok "PARA_ALLOWED_DOMAINS=\"\" allows nothing (--allow-domains \"\"); PARA_USER is the session user"
else
	lab_fail "PARA_ALLOWED_DOMAINS=\"\" and PARA_USER" "argv: $(tr '\n' '|' <"$T/argv" 2>/dev/null)"
fi
for u in root 0; do
	ep PARA_NETWORK_ISOLATION=true PARA_ALLOWED_DOMAINS=a.test "PARA_USER=$u"
	if [ "$EP_RC" = 125 ] && [ ! -e "$T/argv" ] && grep -q "PARA_USER=\"$u\" is root" "$T/err"; then
		lab_ok "PARA_USER=$u: refused, 125, nothing run (red team)"
	else
		lab_fail "PARA_USER=$u: refused" "rc=$EP_RC argv: $(tr '\n' '|' <"$T/argv" 2>/dev/null)"
	fi
done
ep PARA_NETWORK_ISOLATION=true
if [ "$EP_RC" = 125 ] && [ ! -e "$T/argv" ] && grep -q 'PARA_ALLOWED_DOMAINS is not set' "$T/err"; then
	lab_ok "true without PARA_ALLOWED_DOMAINS: refused, 125, nothing run"
else
	lab_fail "true without PARA_ALLOWED_DOMAINS: refused" "rc=$EP_RC"
fi
for v in yes TRUE 1 "" on; do
	ep "PARA_NETWORK_ISOLATION=$v" PARA_ALLOWED_DOMAINS=a.test
	if [ "$EP_RC" = 125 ] && [ ! -e "$T/argv" ] &&
		grep -qxF "ERROR: PARA_NETWORK_ISOLATION must be true or false, not \"$v\"" "$T/err"; then
		lab_ok "\"$v\": refused with 125, naming the value, nothing run"
	else
		lab_fail "\"$v\": refused with 125, naming the value" "rc=$EP_RC"
	fi
done
ep PARA_NETWORK_ISOLATION=true PARA_ALLOWED_DOMAINS=a.test FAKE_CHECK_FAIL=1
if [ "$EP_RC" = 125 ] && [ ! -e "$T/argv" ] && grep -q '^FAIL CAP_BPF missing' "$T/err" &&
	! grep -q '^ok' "$T/err" &&
	grep -qF 'ERROR: egressd cannot enforce network isolation here; the container stops (run: egressd check)' "$T/err"; then
	lab_ok "check fails: its FAIL lines (not the ok ones), the pointer to egressd check, 125, nothing run"
else
	lab_fail "check fails: fail closed" "rc=$EP_RC"
fi
rm "$T/bin/egressd"
ep PARA_NETWORK_ISOLATION=true PARA_ALLOWED_DOMAINS=a.test
if [ "$EP_RC" = 125 ] && [ ! -e "$T/argv" ] && grep -q 'egressd is not installed' "$T/err"; then
	lab_ok "no egressd in the image: refused, 125, nothing run"
else
	lab_fail "no egressd in the image: refused" "rc=$EP_RC"
fi
env -i PATH="$T/bin:/usr/bin:/bin" sh "$EP" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 125 ] && grep -q 'no command given' "$T/err" && lab_ok "no command: refused, 125" ||
	lab_fail "no command: refused, 125" "rc=$rc"

printf '\n%d checks, %d failed\n' "$LAB_CHECKS" "$LAB_FAILS"
[ "$LAB_CHECKS" -gt 0 ] || lab_die "no checks ran"
[ "$LAB_FAILS" -eq 0 ]
