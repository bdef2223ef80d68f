#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Regenerate the checked-in vmlinux.h for this machine's arch from its BTF.
# The build never runs this: a checked-in header keeps builds independent
# of the build host's kernel; CO-RE relocates field offsets at load time.
set -eu
arch=$(uname -m)
out="$(dirname "$0")/../vmlinux/$arch/vmlinux.h"
mkdir -p "$(dirname "$out")"
bpftool btf dump file "${1:-/sys/kernel/btf/vmlinux}" format c > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
