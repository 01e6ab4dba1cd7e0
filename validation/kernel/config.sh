# The kernel configuration of the study's real-kernel runs, sourced by build.sh: `make tinyconfig`,
# then these options (scripts/config), then `make olddefconfig`. What the study assumes of the
# kernel (docs/study.md, the "production" and "debug" configs): SMP, HZ 250, SLUB, DEBUG_VM so that
# a freed page's flags are checked (free_pages_check: "BUG: Bad page state"); the debug config adds
# PREEMPT and lockdep, like the 2020 reports' kernels.
# Usage (from build.sh): kernel_options ARCH CONFIG  -> scripts/config arguments on stdout.

kernel_options() {
  local arch=$1 config=$2
  # Common: a small SMP kernel that boots an initramfs with a serial console and runs the loops.
  # ADVISE_SYSCALLS: tinyconfig turns it off, and madvise() then returns ENOSYS (no race at all).
  # KALLSYMS: the reports' call traces name their functions.
  echo -e 64BIT SMP MULTIUSER PRINTK PRINTK_TIME BUG TTY BLK_DEV_INITRD RD_GZIP PROC_FS SYSFS DEVTMPFS \
    BINFMT_ELF BINFMT_SCRIPT FUTEX SHMEM TMPFS POSIX_TIMERS ADVISE_SYSCALLS HIGH_RES_TIMERS NO_HZ_IDLE \
    DEBUG_KERNEL DEBUG_VM HZ_250 SLUB MMU FILE_LOCKING PROC_SYSCTL KALLSYMS | tr ' ' '\n' | sed 's/^/--enable /'
  echo "--set-val NR_CPUS 4"
  echo "--set-val LOG_BUF_SHIFT 17"
  echo "--disable HZ_100"  # tinyconfig's choice; HZ_250 above
  case $arch in
    x86_64)
      # ACPI: QEMU's HPET and PM timer, without which the TSC is not calibrated under TCG and the
      # guest's clock runs on jiffies (4 ms steps: no stall is measurable); also power-off.
      echo -e X86_LOCAL_APIC X86_IO_APIC X86_MPPARSE SERIAL_8250 SERIAL_8250_CONSOLE ACPI HPET_TIMER \
        X86_TSC PCI UNWINDER_FRAME_POINTER | tr ' ' '\n' | sed 's/^/--enable /'
      # Not the ORC unwinder: it needs objtool, whose v5.9 sources stop Debian 12's gcc 12 with
      # -Werror=use-after-free; the frame-pointer unwinder traces as well for the reports.
      echo "--disable UNWINDER_ORC"; echo "--disable UNWINDER_GUESS"; echo "--disable STACK_VALIDATION" ;;
    s390x)
      echo -e SCLP_TTY SCLP_CONSOLE SCLP_VT220_TTY SCLP_VT220_CONSOLE | tr ' ' '\n' | sed 's/^/--enable /' ;;
    *) echo "config.sh: no options for arch '$arch'" >&2; return 1 ;;
  esac
  case $config in
    small) ;;
    debug) echo -e PREEMPT PROVE_LOCKING DEBUG_SPINLOCK DEBUG_ATOMIC_SLEEP | tr ' ' '\n' | sed 's/^/--enable /'
           echo "--disable PREEMPT_NONE" ;;
    *) echo "config.sh: config is small or debug, not '$config'" >&2; return 1 ;;
  esac
}
