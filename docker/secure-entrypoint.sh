#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# secure-entrypoint.sh: PID 1 of a para session container, bpf backend.
#
# Keeps the interface of para's iptables entrypoint (the same variables,
# the same "exec the command" contract) and replaces init-firewall.sh
# with egressd:
#
#   PARA_NETWORK_ISOLATION  unset or "false": no filter, a warning, exec
#                           the command.  "true": exec egressd run on the
#                           container's own cgroup (--cgroup self), so
#                           `docker exec` sessions are filtered too.
#                           Anything else (TRUE, yes, 1, "") is refused:
#                           a typo must never be a silent "off".
#   PARA_ALLOWED_DOMAINS    the allowlist (egressd --allow-domains).  ""
#                           allows nothing.  Unset with isolation true is
#                           refused: that is a bug on para's side, and
#                           guessing either way would be wrong.
#   PARA_USER               the session user (default: para).
#
# Fails closed: if `egressd check` says egressd cannot run here, or egressd
# itself fails, the container stops (exit 125) with egressd's message.
# egressd then runs as PID 1: its exit, for any reason, ends the container.
#
# Runs as root: egressd needs CAP_BPF and CAP_NET_ADMIN to load and attach
# the filter, and drops every capability for the session user.  Needs
# nothing but a POSIX sh and egressd (no iptables, ipset, dig, jq, sudo).

set -eu

EGRESSD=${EGRESSD:-egressd}

die()
{
	printf 'ERROR: %s\n' "$1" >&2
	exit 125
}

if [ "$#" -eq 0 ]; then
	die "no command given (the image's CMD is \"sleep infinity\"; para passes its own)"
fi

# Unset means off (para's default); a value must be spelled exactly.
if [ -z "${PARA_NETWORK_ISOLATION+set}" ]; then
	isolation=false
else
	isolation=$PARA_NETWORK_ISOLATION
fi

case $isolation in
false)
	printf '%s\n' "WARNING: Network isolation: OFF (use --allow-domains to enable)" >&2
	exec "$@"
	;;
true) ;;
*)
	die "PARA_NETWORK_ISOLATION must be true or false, not \"$isolation\""
	;;
esac

if [ -z "${PARA_ALLOWED_DOMAINS+set}" ]; then
	die "PARA_NETWORK_ISOLATION is true but PARA_ALLOWED_DOMAINS is not set; set it to the allowlist, or to \"\" to allow nothing"
fi
user=${PARA_USER:-para}
# Never root: a uid-0 session could rewrite root's files in the image
# (egressd itself) for a later root `docker exec` to run.  A user id
# cannot tell is left to egressd, which names it.
if [ "$(id -u -- "$user" 2>/dev/null || true)" = 0 ]; then
	die "PARA_USER=\"$user\" is root; the session must run as a non-root user (default: para)"
fi

if ! command -v "$EGRESSD" >/dev/null 2>&1; then
	die "PARA_NETWORK_ISOLATION is true but $EGRESSD is not installed in this image"
fi

# The preflight, quietly: only what is wrong is shown.  A check that
# cannot run at all (an egressd without `check`) fails too.
check_rc=0
check_out=$("$EGRESSD" check 2>&1) || check_rc=$?
if [ "$check_rc" -ne 0 ]; then
	printf '%s\n' "$check_out" | grep -v -E '^[[:space:]]*(ok|OK)([[:space:]:]|$)' >&2 || true
	# The seed's words for a missing capability, which para's users know.
	if printf '%s\n' "$check_out" | grep -q -E '^FAIL[[:space:]]+CAP_(BPF|NET_ADMIN)[[:space:]]'; then
		printf '%s\n' "ERROR: Network isolation requires CAP_BPF and CAP_NET_ADMIN capabilities" >&2
	fi
	die "egressd cannot enforce network isolation here; the container stops (run: egressd check)"
fi

# From here egressd is PID 1.  If it fails (a name that does not resolve,
# a filter that cannot be attached) it exits 125 before running anything,
# and the container stops with its message.
exec "$EGRESSD" run --cgroup self --allow-domains "$PARA_ALLOWED_DOMAINS" --user "$user" -- "$@"
