# Shared by validation/kernel/*.sh: what a step needs from Debian, and where builds are cached.

kernel_cache() { echo "${RACEWIN_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/racewin-kernel}"; }

die() { echo "validation/kernel: $*" >&2; exit 1; }

# need CMD:PACKAGE ...: installs the Debian packages of the missing commands (as root, or with
# sudo), or stops with one line naming them.
need() {
  local missing=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "validation/kernel: installing ${missing[*]} (Debian packages)" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
    || die "could not install ${missing[*]}: install them (apt-get install ${missing[*]}) and run again"
}

# The cross tools of an arch: ARCH= for the kernel's make, CROSS_COMPILE=, the C compiler for the
# guest's programs, the QEMU binary and the kernel image's path in a build.
arch_tools() {
  case $1 in
    x86_64) KARCH=x86_64 CROSS="" GUEST_CC=gcc QEMU=qemu-system-x86_64 IMAGE=arch/x86/boot/bzImage
            need gcc:gcc qemu-system-x86_64:qemu-system-x86 ;;
    s390x)  KARCH=s390 CROSS=s390x-linux-gnu- GUEST_CC=s390x-linux-gnu-gcc QEMU=qemu-system-s390x IMAGE=arch/s390/boot/bzImage
            need s390x-linux-gnu-gcc:gcc-s390x-linux-gnu qemu-system-s390x:qemu-system-misc
            [ -e /usr/s390x-linux-gnu/lib/libc.a ] || need /usr/s390x-linux-gnu/lib/libc.a:libc6-dev-s390x-cross ;;
    *) die "--arch is x86_64 or s390x, not '$1'" ;;
  esac
}
