#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The pip scenario of docs/network-isolation.md, in the lab: a PEP 503
# "simple" index on pypi.test (198.51.100.10) whose package links point at
# files.pythonhosted.test (198.51.100.30), mirroring pypi.org and
# files.pythonhosted.org.  The wheel is built here by hand (zipfile), so
# nothing needs the internet, and pip is told about no other index.
#
#   both names allowed  -> pip download succeeds, the wheel lands
#   only pypi.test      -> the index is read, the file download is blocked
#   --allow-domains ""  -> pip fails fast, egressd reports the block
#
# pip runs as nobody with HOME, the cache and the download directory in
# the test's own directory (egressd sets HOME=/nonexistent for nobody).

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
"$LAB_PY" -c 'import pip' 2>/dev/null || lab_skip "pip is not installed for $LAB_PY (python3-pip)"
lab_up
lab_dns_add \
	'host-record=pypi.test,198.51.100.10' \
	'host-record=files.pythonhosted.test,198.51.100.30'
lab_start_dns

PKG=egdemo
VER=1.0.0
WHL=$PKG-$VER-py3-none-any.whl
INDEX=$LAB_DIR/pypi
FILES=$LAB_DIR/files
mkdir -p "$INDEX/simple/$PKG" "$FILES/packages"

# A minimal valid wheel: the module, METADATA, WHEEL and RECORD (with the
# sha256 of every other file).
"$LAB_PY" - "$FILES/packages/$WHL" "$PKG" "$VER" <<'EOF' || lab_die "building the wheel failed"
import base64, hashlib, sys, zipfile

path, pkg, ver = sys.argv[1:]
di = f"{pkg}-{ver}.dist-info"
files = {
    f"{pkg}/__init__.py": f'"""egressd lab package."""\n__version__ = "{ver}"\n',
    f"{di}/METADATA": f"Metadata-Version: 2.1\nName: {pkg}\nVersion: {ver}\n"
                      "Summary: egressd test package\n",
    f"{di}/WHEEL": "Wheel-Version: 1.0\nGenerator: egressd-tests\n"
                   "Root-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    for name, text in files.items():
        data = text.encode()
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(data)}")
    record.append(f"{di}/RECORD,,")
    z.writestr(f"{di}/RECORD", "\n".join(record) + "\n")
EOF
SHA=$(sha256sum "$FILES/packages/$WHL" | awk '{ print $1 }')
cat >"$INDEX/simple/index.html" <<EOF
<!DOCTYPE html>
<html><body><a href="/simple/$PKG/">$PKG</a></body></html>
EOF
cat >"$INDEX/simple/$PKG/index.html" <<EOF
<!DOCTYPE html>
<html><body>
<a href="http://files.pythonhosted.test/packages/$WHL#sha256=$SHA">$WHL</a>
</body></html>
EOF

lab_start_http pypi 198.51.100.10 80 "$INDEX"
lab_start_http files 198.51.100.30 80 "$FILES"

# A bound for the runs that must fail: only there to stop a hang (a
# packet-dropping filter would leave pip waiting for its timeouts).
PIP_BOUND=60

# pip's home, cache and download directories belong to nobody.
PIPHOME=$LAB_WORK/home
mkdir -p "$PIPHOME"
chown nobody "$PIPHOME"

# The workload: pip download of PKG into DIR, from the lab index only.
pip_cmd()
{
	local dl=$1

	PIP=(env HOME="$PIPHOME" XDG_CACHE_HOME="$PIPHOME/.cache"
		XDG_CONFIG_HOME="$PIPHOME/.config" PIP_CONFIG_FILE=/dev/null
		PIP_NO_INPUT=1 http_proxy= https_proxy= HTTP_PROXY= HTTPS_PROXY=
		no_proxy='*' "$LAB_PY" -m pip download --no-deps --no-cache-dir
		--disable-pip-version-check --isolated --only-binary :all:
		--index-url http://pypi.test/simple/
		--trusted-host pypi.test --trusted-host files.pythonhosted.test
		--timeout 15 --retries 1 -d "$dl" "$PKG==$VER")
}

# new_dl NAME: an empty download directory nobody can write.
new_dl()
{
	DL=$LAB_WORK/$1
	mkdir "$DL" && chown nobody "$DL" || lab_die "mkdir $DL"
}

expect_wheel()
{
	if [ -f "$DL/$WHL" ] && [ "$(sha256sum "$DL/$WHL" | awk '{ print $1 }')" = "$SHA" ]; then
		lab_ok "$1: $WHL downloaded intact"
	else
		lab_fail "$1: $WHL downloaded intact" "$(ls -la "$DL" 2>&1 | tr '\n' ' ')"
	fi
}

expect_no_wheel()
{
	if [ -n "$(ls -A "$DL" 2>/dev/null)" ]; then
		lab_fail "$1: nothing downloaded" "found: $(ls -A "$DL" | tr '\n' ' ')"
	else
		lab_ok "$1: nothing downloaded"
	fi
}

# expect_pip_blocked DESC NAME: pip failed, within the run timeout, and
# egressd's DNS proxy refused pip's lookup of NAME, saying so.
expect_pip_blocked()
{
	local desc=$1 name=$2

	if [ "$LAB_RC" -eq 124 ] || [ "$LAB_RC" -eq 137 ]; then
		lab_fail "$desc: pip fails fast" "still running after ${PIP_BOUND}s"
	elif [ "$LAB_RC" -eq 0 ] || [ "$LAB_RC" -eq 125 ]; then
		lab_fail "$desc: pip fails" "rc=$LAB_RC"
	else
		lab_ok "$desc: pip fails (rc=$LAB_RC) within ${PIP_BOUND}s"
	fi
	expect_grep "$LAB_ERR" "egressd: blocked DNS python3?[^ ]*\[[0-9]+\] -> ${name//./\\.} (A|AAAA): name not in allowlist" \
		"$desc: the deny line names pip's process and the refused name"
}

lab_section "control: without egressd, pip (as nobody) downloads from the lab index"
new_dl dl-control
pip_cmd "$DL"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "${PIP[@]}"
expect_rc 0 "pip download without egressd"
expect_wheel "without egressd"
grep -q '"GET /simple/egdemo/' "$LAB_DIR/pypi.log" || lab_die "the index server saw no request"

lab_section "--allow-domains pypi.test,files.pythonhosted.test: pip download works"
new_dl dl-allowed
pip_cmd "$DL"
lab_egressd run --user nobody --allow-domains "pypi.test,files.pythonhosted.test" -- "${PIP[@]}"
expect_rc 0 "pip download under egressd: exit 0"
expect_wheel "under egressd"
expect_no_grep "$LAB_ERR" 'egressd: blocked' "nothing was blocked"

lab_section "--allow-domains pypi.test: the index is read, the file host is blocked"
new_dl dl-indexonly
pip_cmd "$DL"
LAB_RUN_TIMEOUT=$PIP_BOUND lab_egressd run --user nobody --allow-domains "pypi.test" -- "${PIP[@]}"
expect_pip_blocked "files.pythonhosted.test not listed" files.pythonhosted.test
expect_no_grep "$LAB_ERR" '198\.51\.100\.10:80/tcp' "the index (pypi.test) was not blocked"
expect_no_wheel "files.pythonhosted.test not listed"

lab_section "--allow-domains \"\": pip fails fast"
new_dl dl-none
pip_cmd "$DL"
start=$SECONDS
LAB_RUN_TIMEOUT=$PIP_BOUND lab_egressd run --user nobody --allow-domains "" -- "${PIP[@]}"
lab_log "  (pip gave up after $((SECONDS - start)) s)"
expect_pip_blocked "nothing allowed" pypi.test
expect_no_wheel "nothing allowed"

lab_finish
