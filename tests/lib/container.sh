# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# container.sh: real containers under runc for the e2e tests, standing in
# for what para does with Docker.  Source it after lab.sh:
#
#   . "$(dirname "$0")/../lib/lab.sh"
#   . "$(dirname "$0")/../lib/container.sh"
#   lab_init; lab_require_egressd; lab_up; lab_start_servers
#   ctr_init                     # runc, private state dir, exit trap
#   ctr_rootfs                   # the image, from this machine's files
#   ctr_bundle web --env PARA_NETWORK_ISOLATION=true -- sleep 600
#   ctr_start web                # runc run in the background
#   ctr_exec web --user 1000 -- probe tcp 198.51.100.10 80   # docker exec -u para
#   ctr_stop web                 # runc kill TERM; CTR_RC = the container's status
#
# What a bundle mirrors (para's `docker create` with the bpf backend):
#   - Docker's default capabilities plus BPF and NET_ADMIN, minus NET_RAW,
#     as bounding/effective/permitted of the root PID 1 (moby's
#     oci.SetCapabilities); noNewPrivileges (--security-opt
#     no-new-privileges);
#   - pid, mount, uts, ipc and cgroup namespaces of its own; the network
#     namespace is the lab's client namespace, joined by path;
#   - a read-only cgroup2 at /sys/fs/cgroup ("cgroup2": this machine is a
#     hybrid mount, and plain "cgroup" would be v1); /run and /tmp tmpfs;
#   - the entrypoint (docker/secure-entrypoint.sh) as PID 1, as root.
#
# Safety: every container gets its own cgroup (linux.cgroupsPath, unique
# per run).  A createRuntime hook checks from the host, before anything of
# the container runs, that its cgroup v2 path is that dedicated cgroup and
# holds nothing but the container: were it the machine's root cgroup, the
# filter egressd attaches there (--cgroup self) would filter the whole
# machine.  If the check fails the container never starts and the test
# FAILs.  runc state lives under the lab dir (runc --root); every
# container is killed and deleted at exit, and its cgroups removed.

CTR_STATE=
CTR_DIR=
CTR_ROOTFS=
declare -A CTR_RUNC_PID=()
CTR_NAMES=()
CTR_RC=0
ATTACK=${ATTACK:-$LAB_REPO/build/tests/attack}
PKTSOCK=${PKTSOCK:-$(dirname "$PROBE")/pktsock}
CTR_ENTRYPOINT=${CTR_ENTRYPOINT:-$LAB_REPO/docker/secure-entrypoint.sh}
# Docker's default capability set (moby oci/caps/defaults.go), which
# includes NET_RAW: para's bpf line drops it and adds BPF and NET_ADMIN.
CTR_DOCKER_CAPS="CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE"
CTR_PARA_CAPS="$(printf '%s\n' $CTR_DOCKER_CAPS | grep -vx NET_RAW | tr '\n' ' ')BPF NET_ADMIN"
# CTR_EXTRA_CAPS: more for every bundle (e.g. PERFMON, to see what else
# works on a kernel whose verifier wants it); empty by default, so the
# tests run with exactly para's set.
[ -n "${CTR_EXTRA_CAPS:-}" ] && CTR_PARA_CAPS="$CTR_PARA_CAPS $CTR_EXTRA_CAPS"
# The runtime's PATH (Docker's default).
CTR_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

ctr_init()
{
	command -v runc >/dev/null 2>&1 || lab_skip "runc not installed (apt-get install runc)"
	[ -x "$ATTACK" ] || lab_skip "attack helper not built: $ATTACK (run: make test-bins)"
	[ -x "$PKTSOCK" ] || lab_skip "pktsock helper not built: $PKTSOCK (run: make test-bins)"
	[ -r "$CTR_ENTRYPOINT" ] || lab_die "no entrypoint at $CTR_ENTRYPOINT"
	[ -n "$LAB_DIR" ] || lab_die "ctr_init before lab_init"
	CTR_DIR=$LAB_DIR/ctr
	CTR_STATE=$CTR_DIR/runc-state
	mkdir -p "$CTR_STATE" || lab_die "mkdir $CTR_STATE"
	# Containers first, then the lab (whose namespaces they use).
	trap ctr_exit EXIT
}

ctr_exit()
{
	local rc=$?

	set +e
	ctr_cleanup_all
	(exit "$rc")
	lab_cleanup
}

# ctr_copy_bin SRC [DEST]: SRC and every library ldd lists for it, at the
# same paths in the rootfs (DEST: another path for SRC itself).
ctr_copy_bin()
{
	local src=$1 dest=${2:-$1} lib

	mkdir -p "$CTR_ROOTFS$(dirname "$dest")" &&
		cp -L "$src" "$CTR_ROOTFS$dest" || lab_die "cannot copy $src into the rootfs"
	for lib in $(ldd "$src" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$CTR_ROOTFS$lib" ] && continue
		mkdir -p "$CTR_ROOTFS$(dirname "$lib")" &&
			cp -L "$lib" "$CTR_ROOTFS$lib" || lab_die "cannot copy $lib into the rootfs"
	done
}

# The image: egressd, its libraries, dash, a few tools and the test
# helpers, users root, para (1000) and nobody.  Read-only at run time.
ctr_rootfs()
{
	local r t

	CTR_ROOTFS=$CTR_DIR/rootfs
	r=$CTR_ROOTFS
	mkdir -p "$r"/{bin,etc,proc,sys,dev,run,tmp,root,workspace,usr/bin,usr/local/bin} ||
		lab_die "mkdir rootfs"
	mkdir -p "$r/home/para" && chown 1000:1000 "$r/home/para" "$r/workspace"
	ctr_copy_bin "$(readlink -f /bin/sh)" /bin/sh
	for t in cat sleep true id getent grep ip socat; do
		ctr_copy_bin "$(type -P "$t")" "/usr/bin/$t"
	done
	ctr_copy_bin "$EGRESSD" /usr/local/bin/egressd
	ctr_copy_bin "$PROBE" /usr/local/bin/probe
	ctr_copy_bin "$ATTACK" /usr/local/bin/attack
	ctr_copy_bin "$PKTSOCK" /usr/local/bin/pktsock
	install -m 0755 "$CTR_ENTRYPOINT" "$r/usr/local/bin/secure-entrypoint.sh" ||
		lab_die "cannot install the entrypoint"
	# Stands in for sudo: a setuid-root binary that says who it runs as.
	install -o 0 -g 0 -m 4755 "$(command -v id)" "$r/usr/local/bin/suid-id" ||
		lab_die "cannot make the setuid stand-in"
	cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
para:x:1000:1000:para:/home/para:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
	cat >"$r/etc/group" <<'EOF'
root:x:0:
para:x:1000:
nogroup:x:65534:
EOF
	printf 'nameserver %s\n' "$LAB_RESOLVER4" >"$r/etc/resolv.conf"
	printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$r/etc/nsswitch.conf"
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$r/etc/hosts"
	chmod -R go-w "$r"
}

# ctr_bundle NAME [--env K=V]... [--caps "CAP ..."] [--no-nnp] [--raw]
#            [--seccomp-deny-bpf] -- ARGS...
# Write $CTR_DIR/NAME/config.json.  ARGS are what Docker's CMD would be;
# the process is the entrypoint with them, unless --raw: ARGS are then
# the whole process (for a PID 1 that is not the entrypoint).
# --seccomp-deny-bpf: a seccomp filter that fails bpf() with EPERM, as
# Docker's default profile does for a container without CAP_BPF.
ctr_bundle()
{
	local name=$1 caps=$CTR_PARA_CAPS nnp=1 raw=0 denybpf=0 b
	local -a env=()
	shift

	while [ $# -gt 0 ]; do
		case $1 in
		--env) env+=("$2"); shift 2 ;;
		--caps) caps=$2; shift 2 ;;
		--no-nnp) nnp=0; shift ;;
		--raw) raw=1; shift ;;
		--seccomp-deny-bpf) denybpf=1; shift ;;
		--) shift; break ;;
		*) lab_die "ctr_bundle: unknown option $1" ;;
		esac
	done
	[ -n "$CTR_ROOTFS" ] || lab_die "ctr_bundle before ctr_rootfs"
	b=$CTR_DIR/$name
	mkdir -p "$b" || lab_die "mkdir $b"
	[ "$raw" = 1 ] || set -- /usr/local/bin/secure-entrypoint.sh "$@"
	cat >"$b/hook.sh" <<'EOF'
#!/bin/sh
# createRuntime hook (host side): the container's cgroup v2 path must be
# the dedicated one, and hold nothing but the container's init.
want=$1 cg2=$2 out=$3
pid=$(grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$')
got=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
procs=$(cat "$cg2$want/cgroup.procs" 2>/dev/null | tr '\n' ' ')
if [ "$got" = "$want" ] && [ "$got" != / ] && [ "$procs" = "$pid " ]; then
	echo "cgroup-ok pid=$pid cgroup=$got" >"$out"
	exit 0
fi
echo "cgroup-BAD pid=$pid cgroup=$got want=$want procs=$procs" >"$out"
exit 1
EOF
	chmod 0755 "$b/hook.sh"
	CTR_CFG_NAME=$(ctr_id "$name") CTR_CFG_CAPS=$caps CTR_CFG_NNP=$nnp \
		CTR_CFG_ROOTFS=$CTR_ROOTFS CTR_CFG_NETNS=/var/run/netns/$LAB_CLIENT \
		CTR_CFG_HOOK=$b/hook.sh CTR_CFG_CG2=$LAB_CG2 CTR_CFG_PATH=$CTR_PATH \
		CTR_CFG_DENYBPF=$denybpf \
		"$LAB_PY" - "$b/config.json" "${env[@]}" -- "$@" <<'EOF' || lab_die "writing $b/config.json"
import json, os, sys

out = sys.argv[1]
rest = sys.argv[2:]
sep = rest.index("--")
envs, args = rest[:sep], rest[sep + 1:]
e = os.environ
caps = ["CAP_" + c for c in e["CTR_CFG_CAPS"].split()]
name = e["CTR_CFG_NAME"]
cgpath = "/" + name
bundle = os.path.dirname(out)
cfg = {
    "ociVersion": "1.0.2",
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": args,
        "env": ["PATH=" + e["CTR_CFG_PATH"], "HOSTNAME=" + name[-12:]] + envs,
        "cwd": "/workspace",
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "noNewPrivileges": e["CTR_CFG_NNP"] == "1",
    },
    "root": {"path": e["CTR_CFG_ROOTFS"], "readonly": True},
    "hostname": name[-12:],
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup2", "source": "cgroup2",
         "options": ["ro", "nosuid", "noexec", "nodev"]},
        {"destination": "/run", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=755", "size=16m"]},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=1777", "size=64m"]},
    ],
    "hooks": {
        "createRuntime": [
            {"path": e["CTR_CFG_HOOK"],
             "args": ["hook.sh", cgpath, e["CTR_CFG_CG2"], os.path.join(bundle, "cgroup-check")],
             "timeout": 10}
        ]
    },
    "linux": {
        "cgroupsPath": cgpath,
        "namespaces": [
            {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
            {"type": "cgroup"},
            {"type": "network", "path": e["CTR_CFG_NETNS"]},
        ],
        "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                        "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                          "/proc/sysrq-trigger"],
    },
}
if e["CTR_CFG_DENYBPF"] == "1":
    cfg["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
        "syscalls": [{"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }
with open(out, "w") as f:
    json.dump(cfg, f, indent=1)
EOF
}

ctr_id() { printf 'egressd-ctr-%s-%s' "$LAB_ID" "$1"; }
ctr_runc() { runc --root "$CTR_STATE" "$@"; }

# Every hierarchy (v2 and the v1 controllers) where runc makes the
# container's cgroup, for run.sh's leak check.
ctr_record_cgroups()
{
	local rel d

	rel=/$(ctr_id "$1")
	lab_register_cgroup "$LAB_CG2$rel"
	for d in /sys/fs/cgroup/*/; do
		[ "${d%/}" = "$LAB_CG2" ] && continue
		lab_record path "${d%/}$rel"
	done
}

# ctr_start NAME: runc run (in the foreground, backgrounded here, so that
# its exit status is the container's) with stdout/stderr in NAME/out and
# NAME/err.  Returns once the container's init exists (or runc gave up).
ctr_start()
{
	local name=$1 b=$CTR_DIR/$1 id i

	id=$(ctr_id "$name")
	rm -f "$b/pid" "$b/cgroup-check" "$b/rc"
	ctr_record_cgroups "$name"
	CTR_NAMES+=("$name")
	(
		trap - EXIT
		runc --root "$CTR_STATE" run --bundle "$b" --pid-file "$b/pid" "$id" \
			>"$b/out" 2>"$b/err" </dev/null
		echo $? >"$b/rc"
	) &
	CTR_RUNC_PID[$name]=$!
	disown "$!"
	for ((i = 0; i < 200; i++)); do
		[ -s "$b/pid" ] || [ -e "$b/rc" ] && break
		sleep 0.05
	done
	if [ -e "$b/cgroup-check" ] && ! grep -q '^cgroup-ok' "$b/cgroup-check"; then
		cat "$b/cgroup-check" "$b/err" >&2
		lab_die "container $name is not in its own cgroup: $(cat "$b/cgroup-check")"
	fi
	[ -s "$b/pid" ] || [ -e "$b/rc" ] || lab_die "runc run $name: no container after 10s"
	printf '  container %s: %s\n' "$name" "$(cat "$b/cgroup-check" 2>/dev/null)"
}

# ctr_assert_cgroup NAME: the running container's init is in its own cgroup
# (the hook checked it at creation; this checks it again, now).
ctr_assert_cgroup()
{
	local pid rel

	pid=$(ctr_pid "$1") || lab_die "container $1 has no init"
	rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	[ "$rel" = "/$(ctr_id "$1")" ] ||
		lab_die "container $1's init is in cgroup '$rel', not /$(ctr_id "$1")"
}

ctr_pid() { [ -s "$CTR_DIR/$1/pid" ] && cat "$CTR_DIR/$1/pid"; }
ctr_cgroup_dir() { printf '%s/%s' "$LAB_CG2" "$(ctr_id "$1")"; }
ctr_exited() { [ -e "$CTR_DIR/$1/rc" ]; }

# ctr_wait_exit NAME SECS: wait for the container to end; CTR_RC is its
# status (runc's exit status, the container's), 124 on timeout.
ctr_wait_exit()
{
	local name=$1 secs=$2 i b=$CTR_DIR/$1

	for ((i = 0; i < secs * 20; i++)); do
		if ctr_exited "$name"; then
			CTR_RC=$(cat "$b/rc")
			printf '  container %s exited %s\n' "$name" "$CTR_RC"
			sed 's/^/    | /' "$b/out"
			sed 's/^/    ! /' "$b/err"
			return 0
		fi
		sleep 0.05
	done
	CTR_RC=124
	printf '  container %s still running after %ss\n' "$name" "$secs"
	return 1
}

# ctr_wait_log NAME ERE SECS: the container's stderr matches ERE (egressd's
# startup line, say), or it exited.
ctr_wait_log()
{
	local i

	for ((i = 0; i < $3 * 20; i++)); do
		grep -Eq -- "$2" "$CTR_DIR/$1/err" 2>/dev/null && return 0
		ctr_exited "$1" && return 1
		sleep 0.05
	done
	return 1
}

# ctr_exec NAME [--user UID[:GID]] [--caps "CAP ..."] [--nnp 0|1] -- CMD...: runc exec,
# as `docker exec` does it.  moby copies the container's spec.Process
# (capabilities, noNewPrivileges, env) and changes only the user and
# args; runc sets those capabilities after setuid (keepcaps), and then
# execve() keeps them only for uid 0: a non-root exec ends with none
# effective, but the container's whole bounding set.  Sets
# LAB_RC/LAB_OUT/LAB_ERR like lab_run_in.
ctr_exec()
{
	local name=$1 user=0:0 caps='' nnp='' p
	shift

	while [ $# -gt 0 ]; do
		case $1 in
		--user) user=$2; shift 2 ;;
		--caps) caps=$2; shift 2 ;;
		--nnp) nnp=$2; shift 2 ;;
		--) shift; break ;;
		*) lab_die "ctr_exec: unknown option $1" ;;
		esac
	done
	case $user in *:*) ;; *) user=$user:$user ;; esac
	p=$CTR_DIR/$name/exec-$LAB_N.json
	CTR_EXEC_USER=$user CTR_EXEC_CAPS=$caps CTR_EXEC_NNP=$nnp "$LAB_PY" - "$CTR_DIR/$name/config.json" "$p" "$@" <<'EOF' ||
import json, os, sys

cfg = json.load(open(sys.argv[1]))
proc = dict(cfg["process"])
uid, gid = os.environ["CTR_EXEC_USER"].split(":")
proc["user"] = {"uid": int(uid), "gid": int(gid)}
proc["args"] = sys.argv[3:]
if os.environ["CTR_EXEC_CAPS"]:
    c = ["CAP_" + x for x in os.environ["CTR_EXEC_CAPS"].split()]
    proc["capabilities"] = {"bounding": c, "effective": c, "permitted": c}
if os.environ["CTR_EXEC_NNP"]:
    proc["noNewPrivileges"] = os.environ["CTR_EXEC_NNP"] == "1"
json.dump(proc, open(sys.argv[2], "w"), indent=1)
EOF
		lab_die "writing $p"
	printf '  # exec in %s as %s: %s\n' "$name" "$user" "$(lab_quote "$@")"
	lab_run_in plain runc --root "$CTR_STATE" exec --process "$p" "$(ctr_id "$name")"
}

# The host pids of every process in the container's cgroup.
ctr_procs() { cat "$(ctr_cgroup_dir "$1")/cgroup.procs" 2>/dev/null; }

# The container's processes (host pids): its cgroup's, and the children of
# its init, zombies included (cgroup v2 lists no zombies in cgroup.procs).
ctr_all_procs()
{
	local init t

	init=$(ctr_pid "$1")
	{
		ctr_procs "$1"
		[ -n "$init" ] && for t in /proc/"$init"/task/*/children; do
			tr ' ' '\n' <"$t" 2>/dev/null
		done
	} | grep -E '^[0-9]+$' | sort -un
}

# ctr_host_pid NAME NSPID: the host pid of the container's process NSPID.
ctr_host_pid()
{
	local p

	for p in $(ctr_all_procs "$1"); do
		[ "$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null)" = "$2" ] &&
			{ echo "$p"; return 0; }
	done
	return 1
}

# ctr_zombies NAME: the host pids of the container's zombies.
ctr_zombies()
{
	local p

	for p in $(ctr_all_procs "$1"); do
		grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null && echo "$p"
	done
	return 0
}

# ctr_stop NAME [SIGNAL]: runc kill (TERM), wait; CTR_RC is the status.
ctr_stop()
{
	ctr_runc kill "$(ctr_id "$1")" "${2:-TERM}" 2>/dev/null
	ctr_wait_exit "$1" 15
}

# ctr_delete NAME: gone, whatever its state; its cgroups removed.
ctr_delete()
{
	local name=$1 id pid i

	id=$(ctr_id "$name")
	ctr_runc kill "$id" KILL >/dev/null 2>&1
	for ((i = 0; i < 100; i++)); do
		ctr_exited "$name" && break
		sleep 0.05
	done
	ctr_runc delete --force "$id" >/dev/null 2>&1
	pid=${CTR_RUNC_PID[$name]:-}
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	return 0
}

ctr_cleanup_all()
{
	local n d rel

	[ -n "$CTR_STATE" ] || return 0
	for n in "${CTR_NAMES[@]}"; do
		ctr_delete "$n"
	done
	# runc delete removes the cgroups; any left (a runc that died midway)
	# are removed here, v1 controllers included.
	for n in "${CTR_NAMES[@]}"; do
		rel=/$(ctr_id "$n")
		for d in /sys/fs/cgroup/*/; do
			[ -d "${d%/}$rel" ] || continue
			lab_kill_cgroup "${d%/}$rel"
		done
	done
	return 0
}
