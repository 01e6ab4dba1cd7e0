#!/usr/bin/env bash
# Builds one kernel of the study: v5.9.1, for ARCH, with CONFIG (config.sh), as VARIANT (variant.py:
# fixed, buggy, and with --widen-us N the modified kernels), and prints the folder holding its
# image, System.map and .config. Builds are cached (lib.sh's kernel_cache): one source copy (hard
# links) and one build folder per (arch, config), so a variant switch rebuilds mm/memory.o and links,
# seconds; the first build of an arch takes minutes (about 6 on two cores).
# Usage: validation/kernel/build.sh --src DIR --arch ARCH [--config small|debug] [--kernel fixed|buggy] [--widen-us N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/config.sh"
src="" arch="" config=small kernel=fixed widen=0
while [ $# -gt 0 ]; do
  case $1 in
    --src) src=$2; shift 2 ;; --arch) arch=$2; shift 2 ;; --config) config=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;; --widen-us) widen=$2; shift 2 ;;
    *) die "build.sh: unknown argument '$1' (see its header)" ;;
  esac
done
[ -n "$src" ] && [ -n "$arch" ] || die "build.sh needs --src DIR (a v5.9.1 tree) and --arch"
case $kernel in fixed|buggy) ;; *) die "--kernel is fixed or buggy, not '$kernel'" ;; esac
[[ $widen =~ ^[0-9]+$ ]] || die "--widen-us takes microseconds (a whole number), not '$widen'"
src=$(cd "$src" && pwd)
grep -q "^PATCHLEVEL = 9$" "$src/Makefile" && grep -q "^SUBLEVEL = 1$" "$src/Makefile" && grep -q "^VERSION = 5$" "$src/Makefile" \
  || die "$src/Makefile: not Linux v5.9.1 (the v5.9.1 tag of the kernel's git, or its release tarball)"
[ -d "$src/drivers/gpu" ] || die "$src/drivers/gpu: missing (Kconfig needs it; see validation/kernel/README.md)"
arch_tools "$arch"
need flex:flex bison:bison bc:bc make:make
[ -e /usr/include/libelf.h ] || need /usr/include/libelf.h:libelf-dev

cache=$(kernel_cache)
mkdir -p "$cache"
tree=$cache/src-$arch-$config out=$cache/build-$arch-$config
name=$arch-$config-$kernel$([ "$widen" -gt 0 ] && echo "-widen${widen}us" || true)
exec 9>"$cache/lock-$arch-$config"
flock 9  # one build of an (arch, config) at a time: they share the source copy's mm/memory.c
if [ ! -d "$tree" ]; then
  echo "build.sh: copying $src to $tree (hard links)" >&2
  cp -al "$src" "$tree.tmp" 2>/dev/null || cp -a "$src" "$tree.tmp"
  mv "$tree.tmp" "$tree"
fi
# The variant's mm/memory.c, from the given tree's (never written through a hard link), replaced
# only when it differs, so that make rebuilds only what changed.
/usr/bin/python3 "$here/variant.py" "$kernel" --widen-us "$widen" <"$src/mm/memory.c" >"$tree/mm/memory.c.new"
if cmp -s "$tree/mm/memory.c.new" "$tree/mm/memory.c"; then rm "$tree/mm/memory.c.new"; else mv -f "$tree/mm/memory.c.new" "$tree/mm/memory.c"; fi

mk() { make -C "$tree" O="$out" ARCH="$KARCH" CROSS_COMPILE="$CROSS" "$@"; }
# The configuration, made again whenever config.sh's options for it change.
options=$(kernel_options "$arch" "$config")
if [ ! -f "$out/.config" ] || [ "$(cat "$out/.racewin-options" 2>/dev/null)" != "$options" ]; then
  mkdir -p "$out"
  rm -f "$out/.racewin-options"
  mk tinyconfig >/dev/null
  # shellcheck disable=SC2086
  "$tree/scripts/config" --file "$out/.config" $options
  mk olddefconfig >/dev/null
  for opt in SMP ADVISE_SYSCALLS DEBUG_VM BLK_DEV_INITRD PRINTK KALLSYMS; do
    grep -q "^CONFIG_$opt=y" "$out/.config" || die "CONFIG_$opt did not stay on in $out/.config: config.sh needs an option it depends on"
  done
  echo "$options" >"$out/.racewin-options"
fi
echo "build.sh: building $name in $out" >&2
mk -j"$(nproc)" bzImage >"$out/build.log" 2>&1 || { tail -20 "$out/build.log" >&2; die "the build failed: $out/build.log"; }
dest=$cache/images/$name
mkdir -p "$dest"
cp "$out/$IMAGE" "$dest/image"
cp "$out/System.map" "$out/.config" "$dest/"
cp "$tree/mm/memory.c" "$dest/memory.c"  # what this image was built from
echo "$dest"
