#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The npm scenario of docs/network-isolation.md, in the lab: a tiny npm
# registry on registry.test (198.51.100.10:80) serving one package's
# metadata (GET /PKG) and tarball (GET /PKG/-/PKG-1.0.0.tgz), both built
# here, so nothing needs the internet.
#
#   --allow-domains registry.test -> npm install succeeds, node_modules/PKG
#   --allow-domains ""            -> npm fails fast, egressd reports the block
#
# npm runs as nobody with HOME, a fresh cache and the install prefix in the
# test's own directory; the registry is set by flag and by environment, and
# no user or global npmrc is read, so npm has no other registry to try
# (and the client namespace has no route out of the lab anyway).

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
NPM=$(command -v npm) || lab_skip "missing tool: npm"
command -v node >/dev/null 2>&1 || lab_skip "missing tool: node"
lab_up
lab_dns_add 'host-record=registry.test,198.51.100.10'
lab_start_dns

PKG=egdemo
VER=1.0.0
REG=http://registry.test/
REGDIR=$LAB_DIR/registry
mkdir -p "$REGDIR"

# The tarball (package/package.json, package/index.js) and the packument
# with its shasum and integrity.
"$LAB_PY" - "$REGDIR" "$PKG" "$VER" "$REG" <<'EOF' || lab_die "building the package failed"
import base64, hashlib, io, json, sys, tarfile, time

out, pkg, ver, reg = sys.argv[1:]
files = {
    "package/package.json": json.dumps({"name": pkg, "version": ver, "main": "index.js",
                                        "description": "egressd lab package",
                                        "license": "GPL-2.0-only"}, indent=2) + "\n",
    "package/index.js": "module.exports = 'egressd lab package';\n",
}
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as tf:
    for name, text in files.items():
        data = text.encode()
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = 0o644
        ti.mtime = int(time.time())
        tf.addfile(ti, io.BytesIO(data))
tgz = buf.getvalue()
with open(f"{out}/{pkg}-{ver}.tgz", "wb") as f:
    f.write(tgz)
doc = {
    "name": pkg,
    "dist-tags": {"latest": ver},
    "versions": {ver: {
        "name": pkg, "version": ver, "main": "index.js",
        "dist": {
            "tarball": f"{reg}{pkg}/-/{pkg}-{ver}.tgz",
            "shasum": hashlib.sha1(tgz).hexdigest(),
            "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode(),
        },
    }},
    "time": {ver: "2024-01-01T00:00:00.000Z"},
}
with open(f"{out}/{pkg}.json", "w") as f:
    json.dump(doc, f)
EOF

cat >"$LAB_DIR/registry.py" <<'EOF'
import http.server, sys

addr, port, root, pkg, ver = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
routes = {
    f"/{pkg}": (f"{root}/{pkg}.json", "application/json"),
    f"/{pkg}/-/{pkg}-{ver}.tgz": (f"{root}/{pkg}-{ver}.tgz", "application/octet-stream"),
}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        route = routes.get(self.path.split("?")[0])
        if not route:
            body = b'{"error":"Not found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
        else:
            with open(route[0], "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", route[1])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *a):
        sys.stderr.write("registry: " + fmt % a + "\n")
        sys.stderr.flush()

srv = http.server.ThreadingHTTPServer((addr, port), H)
print("ready", flush=True)
srv.serve_forever()
EOF
lab_bg registry "$LAB_HOST" "$LAB_PY" "$LAB_DIR/registry.py" 198.51.100.10 80 "$REGDIR" "$PKG" "$VER"
lab_wait_listen registry "$LAB_LAST_PID" "$LAB_HOST" t 80 1

# A bound for the runs that must fail: only there to stop a hang.
NPM_BOUND=60
NPMHOME=$LAB_WORK/home
mkdir -p "$NPMHOME"
: >"$NPMHOME/npmrc-user"
: >"$NPMHOME/npmrc-global"
chown -R nobody "$NPMHOME"

# npm_cmd NAME: npm install PKG into $LAB_WORK/NAME with a fresh cache
# $LAB_WORK/NAME-cache; sets NPM_CMD, PREFIX and CACHE.
npm_cmd()
{
	PREFIX=$LAB_WORK/$1
	CACHE=$LAB_WORK/$1-cache
	mkdir "$PREFIX" "$CACHE" && chown nobody "$PREFIX" "$CACHE" || lab_die "mkdir $PREFIX"
	NPM_CMD=(env HOME="$NPMHOME" PATH=/usr/local/bin:/usr/bin:/bin
		npm_config_registry="$REG" npm_config_cache="$CACHE"
		npm_config_userconfig="$NPMHOME/npmrc-user"
		npm_config_globalconfig="$NPMHOME/npmrc-global"
		npm_config_update_notifier=false npm_config_audit=false
		npm_config_fund=false npm_config_proxy= npm_config_https_proxy=
		http_proxy= https_proxy= HTTP_PROXY= HTTPS_PROXY=
		"$NPM" install --registry "$REG" --no-audit --no-fund
		--prefer-online --cache "$CACHE" --prefix "$PREFIX"
		--fetch-retries 1 --fetch-retry-mintimeout 1000
		--fetch-retry-maxtimeout 2000 --fetch-timeout 20000
		--loglevel http --no-update-notifier "$PKG")
}

expect_installed()
{
	if [ -f "$PREFIX/node_modules/$PKG/package.json" ] &&
		grep -q "\"version\": \"$VER\"" "$PREFIX/node_modules/$PKG/package.json"; then
		lab_ok "$1: node_modules/$PKG@$VER installed"
	else
		lab_fail "$1: node_modules/$PKG@$VER installed" "$(ls -laR "$PREFIX" 2>&1 | head -n 20 | tr '\n' ' ')"
	fi
}

expect_not_installed()
{
	if [ -e "$PREFIX/node_modules/$PKG" ]; then
		lab_fail "$1: nothing installed" "$PREFIX/node_modules/$PKG exists"
	else
		lab_ok "$1: nothing installed"
	fi
}

# npm said nothing about any registry but ours (output and its debug log).
expect_only_lab_registry()
{
	if grep -rqs 'registry\.npmjs\.org\|npmjs\.com' "$LAB_OUT" "$LAB_ERR" "$CACHE/_logs"; then
		lab_fail "$1: npm never named the real registry" \
			"$(grep -rhs -m3 'registry\.npmjs\.org\|npmjs\.com' "$LAB_OUT" "$LAB_ERR" "$CACHE/_logs")"
	else
		lab_ok "$1: npm never named the real registry"
	fi
}

lab_section "control: without egressd, npm (as nobody) installs from the lab registry"
npm_cmd control
lab_run_in client "${LAB_NOBODY_CMD[@]}" "${NPM_CMD[@]}"
expect_rc 0 "npm install without egressd"
expect_installed "without egressd"
expect_only_lab_registry "without egressd"
grep -q "\"GET /$PKG/-/$PKG-$VER.tgz" "$LAB_DIR/registry.log" ||
	lab_die "the registry served no tarball: $(cat "$LAB_DIR/registry.log")"

lab_section "--allow-domains registry.test: npm install works"
npm_cmd allowed
n0=$(grep -c "\"GET /$PKG " "$LAB_DIR/registry.log")
lab_egressd run --user nobody --allow-domains registry.test -- "${NPM_CMD[@]}"
expect_rc 0 "npm install under egressd: exit 0"
expect_installed "under egressd"
expect_no_grep "$LAB_ERR" 'egressd: blocked' "nothing was blocked"
expect_only_lab_registry "under egressd"
if [ "$(grep -c "\"GET /$PKG " "$LAB_DIR/registry.log")" -gt "$n0" ]; then
	lab_ok "the metadata came from the lab registry (fresh cache, --prefer-online)"
else
	lab_fail "the metadata came from the lab registry" "no new GET /$PKG in registry.log"
fi

lab_section "--allow-domains \"\": npm fails fast"
npm_cmd none
start=$SECONDS
LAB_RUN_TIMEOUT=$NPM_BOUND lab_egressd run --user nobody --allow-domains "" -- "${NPM_CMD[@]}"
lab_log "  (npm gave up after $((SECONDS - start)) s)"
if [ "$LAB_RC" -eq 124 ] || [ "$LAB_RC" -eq 137 ]; then
	lab_fail "npm fails fast" "still running after ${NPM_BOUND}s"
elif [ "$LAB_RC" -eq 0 ] || [ "$LAB_RC" -eq 125 ]; then
	lab_fail "npm fails" "rc=$LAB_RC"
else
	lab_ok "npm fails (rc=$LAB_RC) within ${NPM_BOUND}s"
fi
expect_grep "$LAB_ERR" 'egressd: blocked DNS .+\[[0-9]+\] -> registry\.test (A|AAAA): name not in allowlist' \
	"egressd's DNS proxy refused the registry's name, and says so"
expect_grep "$LAB_ERR" 'EAI_AGAIN|ENOTFOUND|getaddrinfo' "npm's request failed at the lookup"
expect_not_installed "nothing allowed"
expect_only_lab_registry "nothing allowed"

lab_finish
