#!/usr/bin/env bash
# racewin-probe on another architecture, functionally: cross-compiled statically with Debian's
# ARCH-linux-gnu-gcc, run under qemu-user with --quick, its file checked for the architecture and
# for every part measured. qemu-user's timings and /proc are the host's: nothing here is a figure.
# Usage: validation/probe/cross_check.sh ARCH [OUT.json]   (ARCH: s390x or aarch64; from the source root)
# Exit 77 (skipped) when the cross compiler or qemu-ARCH is missing: scripts/setup.sh installs them
# with RACEWIN_VALIDATION_PACKAGES=1.
set -u
arch=${1:?usage: cross_check.sh ARCH [OUT.json]}
cc=$arch-linux-gnu-gcc
qemu=qemu-$arch
for tool in "$cc" "$qemu"; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool not installed (RACEWIN_VALIDATION_PACKAGES=1 scripts/setup.sh)"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${2:-$tmp/probe-$arch.json}
"$cc" -O2 -pthread -std=c11 -Wall -Wextra -Werror -static -o "$tmp/probe" validation/probe/racewin-probe.c || { echo "FAIL: $cc build"; exit 1; }
file "$tmp/probe" 2>/dev/null | sed 's/^[^:]*: /built: /'
"$qemu" "$tmp/probe" --quick -q --race 1000:10000 -o "$out" || { echo "FAIL: the probe under $qemu"; exit 1; }
/usr/bin/python3 - "$out" "$arch" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
want = sys.argv[2]
problems = [k for k in ("stalls", "paths", "race") if k not in d]
if d["machine"]["arch"] != want: problems.append(f"arch {d['machine']['arch']}, not {want}")
if d["interrupted"]: problems.append("interrupted")
dc = d.get("paths", {}).get("dirtyc0w_child", {})
if not dc.get("madvise_loop", {}).get("iteration_ns", {}).get("count"): problems.append("no madvise loop")
if problems: print("FAIL:", "; ".join(problems)); sys.exit(1)
r = d["race"]["runs"][0]
print(f"ok: {want} probe ran under qemu-user: uname arch {d['machine']['arch']}, {len(d['stalls']['alone'])} CPUs,"
      f" madvise loop {dc['madvise_loop']['iteration_ns']['count']} calls, race {r['windows']} windows")
PY
