#!/usr/bin/env bash
# One measurement of the real kernel: v5.9.1 built for ARCH as KERNEL (fixed, or buggy: the fix
# be068f29034f reverted; --widen-us N for the modified kernels with a wider window), booted under
# QEMU with a static initramfs of the project's own programs (guest/: init, the dirtyc0w_child
# reproducer, racewin-probe), run for SECONDS of guest time, its console parsed into one JSON
# result (parse_console.py): the kernel and the platform, each loop's iterations and errors,
# every "BUG: Bad page state" report with its time, flags and trace, and, with --run probe|both,
# the probe's file measured inside the guest (written beside the result).
# Usage: validation/kernel/run.sh --src DIR --arch x86_64|s390x --kernel fixed|buggy [--widen-us N]
#          [--config small|debug] [--seconds N] [--run dirtyc0w|probe|both] [--probe-args A,B,...]
#          [--vcpus N] [--accel tcg|kvm] [--out FILE.json] [--machine NAME]
# DIR is a v5.9.1 source tree (README.md says where to get one); builds are cached (build.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
src="" arch="" kernel="" widen=0 config=small seconds=60 what=dirtyc0w probe_args="" vcpus=2 accel=tcg out="" machine=""
while [ $# -gt 0 ]; do
  case $1 in
    --src) src=$2 ;; --arch) arch=$2 ;; --kernel) kernel=$2 ;; --widen-us) widen=$2 ;; --config) config=$2 ;;
    --seconds) seconds=$2 ;; --run) what=$2 ;; --probe-args) probe_args=$2 ;; --vcpus) vcpus=$2 ;; --accel) accel=$2 ;;
    --out) out=$2 ;; --machine) machine=$2 ;;
    *) die "run.sh: unknown argument '$1' (see its header)" ;;
  esac
  shift 2
done
[ -n "$src" ] && [ -n "$arch" ] && [ -n "$kernel" ] || die "run.sh needs --src DIR, --arch and --kernel (see its header)"
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || die "--seconds takes a whole number of guest seconds, not '$seconds'"
[[ $vcpus =~ ^[0-9]+$ ]] && [ "$vcpus" -ge 2 ] && [ "$vcpus" -le 4 ] || die "--vcpus is 2 to 4 (the kernels have NR_CPUS 4), not '$vcpus'"
case $what in dirtyc0w|probe|both) ;; *) die "--run is dirtyc0w, probe or both, not '$what'" ;; esac
case $accel in tcg|kvm) ;; *) die "--accel is tcg or kvm, not '$accel'" ;; esac
[ "$accel" = kvm ] && [ ! -w /dev/kvm ] && die "--accel kvm: /dev/kvm is not there or not writable on this machine"
[ -n "$machine" ] || machine="$(hostname), $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs"
arch_tools "$arch"
need gzip:gzip timeout:coreutils

image=$("$here/build.sh" --src "$src" --arch "$arch" --config "$config" --kernel "$kernel" --widen-us "$widen" | tail -1)
name=$(basename "$image")
cache=$(kernel_cache)

# The initramfs: the guest programs, static, for the arch; the kernel's own gen_init_cpio packs them
# with /dev/console (without which init has no output).
root=$cache/initramfs-$arch
mkdir -p "$root"
for prog in init dirtyc0w; do
  "$GUEST_CC" -O2 -pthread -std=c11 -Wall -Wextra -Werror -static -o "$root/$prog" "$here/guest/$prog.c"
done
"$GUEST_CC" -O2 -pthread -std=c11 -Wall -Wextra -Werror -static -o "$root/racewin-probe" "$here/../probe/racewin-probe.c"
cat >"$root/list" <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /tmp 1777 0 0
file /init $root/init 0755 0 0
file /dirtyc0w $root/dirtyc0w 0755 0 0
file /racewin-probe $root/racewin-probe 0755 0 0
dir /boot 0755 0 0
file /boot/config-5.9.1 $image/.config 0644 0 0
LIST
"$cache/build-$arch-$config/usr/gen_init_cpio" "$root/list" | gzip -9 >"$root/initrd.gz"

append="panic=-1 racewin.run=$what racewin.seconds=$seconds${probe_args:+ racewin.probe=$probe_args}"
case $arch in
  # sockets=N: with plain -smp N, SeaBIOS's MP table shows one CPU when there is no ACPI.
  # tsc=reliable: TCG's TSC follows the host's monotonic clock on every vCPU, but the kernel's sync
  # check marks it unstable and falls back to the HPET, whose reads are MMIO exits (microseconds).
  x86_64) qemu=("$QEMU" -smp "$vcpus,sockets=$vcpus,cores=1,threads=1" -append "console=ttyS0 tsc=reliable $append") ;;
  s390x)  qemu=("$QEMU" -M s390-ccw-virtio -smp "$vcpus" -append "console=ttysclp0 $append") ;;
esac
[ "$accel" = tcg ] && qemu+=(-accel tcg,thread=multi) || qemu+=(-accel kvm -cpu host)
qemu+=(-m 512 -kernel "$image/image" -initrd "$root/initrd.gz" -nographic -no-reboot -monitor none)

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
case $what in probe) label=probe ;; both) label=probe-${seconds}s ;; *) label=${seconds}s ;; esac
out=${out:-$here/results/$name-$accel-$label-$stamp.json}
mkdir -p "$(dirname "$out")"
log=${out%.json}.console.log
# Guest time can run slower than the host's under TCG; the probe's defaults take about 95 s more.
probe_limit=600
[ "$what" = dirtyc0w ] && probe_limit=0
limit=$((seconds * 4 + probe_limit + 300))
echo "run.sh: $name under QEMU $accel, $vcpus vCPUs, $what for $seconds guest seconds (at most $limit s): $log" >&2
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
set +e
timeout "$limit" "${qemu[@]}" </dev/null >"$log" 2>&1
rc=$?
set -e
[ $rc -eq 124 ] && echo "run.sh: QEMU stopped after $limit s (the result says so)" >&2
/usr/bin/python3 "$here/parse_console.py" "$log" --out "$out" --arch "$arch" --kernel "$kernel" --widen-us "$widen" \
  --config "$config" --accel "$accel" --vcpus "$vcpus" --seconds "$seconds" --machine "$machine" --started "$started" \
  --qemu "$("$QEMU" --version | head -1)" --qemu-exit "$rc" --image "$name" --run "$what"
echo "$out"
