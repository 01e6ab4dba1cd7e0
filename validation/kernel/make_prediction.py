#!/usr/bin/python3
"""The prediction scenario of validation/kernel/'s runs, from the platform's measured profiles.

For each arch, the dirtyc0w_child loops as the guest runs them (guest/dirtyc0w.c: madvise on CPU 0,
the /proc/self/mem writer on CPU 1, no LTP parent), on racewin's arch profile with the QEMU TCG
platform as the in-guest probe measured it (models/hypervisor/measured/qemu-tcg-ARCH-*/: its
hypervisor.yaml, the tick's keys of arch_overlay.yaml, the path costs of arch_costs.yaml), the
kernel config the runs build (config.sh "small": no PREEMPT, no lockdep, DEBUG_VM), and the
writer of each kernel: v5.9-rc4's (buggy: be068f29034f reverted) and v5.9's (fixed).

With --widen-us N, the modified kernels of run.sh --widen-us N instead: the writers of
validation/kernel/paths/ (udelay(N) after wp_page_reuse(), inside the window in the buggy order),
the udelay's time given per arch by udelay_cost() below.

Usage: make_prediction.py OUT.yaml [--widen-us N]  (from the source root; paths relative to OUT)
"""
import argparse
import json
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MEASURED = {"s390x": "models/hypervisor/measured/qemu-tcg-s390x-2vcpu-dev-2026-12-06",
            "x86_64": "models/hypervisor/measured/qemu-tcg-x86_64-2vcpu-dev-2026-12-06"}
WRITERS = {"buggy": "models/mm/proc_mem_write_v5.9-rc4.yaml", "fixed": "models/mm/proc_mem_write_v5.9.yaml"}
WIDENED = {"buggy": "validation/kernel/paths/proc_mem_write_v5.9-rc4_udelay.yaml",
           "fixed": "validation/kernel/paths/proc_mem_write_v5.9_udelay.yaml"}

# s390x's udelay() in process context is an enabled wait (arch/s390/lib/delay.c, v5.9:
# __udelay_enabled sets the clock comparator to the end and loads a wait PSW): the vCPU halts, and
# QEMU wakes its thread when the comparator's timer fires (a host timer, then a wake-up of the
# vCPU's thread, then the external interrupt's entry in the guest). That wake-up is not measured
# here: [E 5us..80us] on this host, whose thread wake-ups and exits are tens of microseconds
# (docs/calibrate.md, the development machine); drawn uniformly in that range.
S390X_WAKEUP_US = (5, 80)


def udelay_cost(arch, n, wakeup_probe=None):
    """The time of udelay(n) in the guest, as a racewin cost (a case key's value). With a probe file
    that ran `--parts wakeup` inside the s390x guest, s390x's wake-up is its measured lateness of a
    sleep (64 quantiles, each plus n; an upper bound on the halt's part: the sleep adds the
    scheduler's wake-up of the thread), in place of the estimate."""
    if arch == "x86_64":   # delay_tsc (arch/x86/lib/delay.c): spins until the TSC has advanced n us
        return f"{n}us"
    if wakeup_probe:
        late = sorted(json.load(open(wakeup_probe))["wakeup"]["late"]["sample_ns"])
        qs = [late[min(len(late) - 1, int((k + 0.5) / 64 * len(late)))] for k in range(64)]
        return "{empirical: [" + ", ".join(f"{(n * 1000 + q) / 1000:.4g}us" for q in qs) + "]}"
    lo, hi = S390X_WAKEUP_US
    return f"{{uniform: {{min: {n + lo}us, max: {n + hi}us}}}}"


# The probe's own touch loop's costs (models/mm/touch_anon.yaml): no step of these paths charges them.
NOT_CHARGED = ("arch.costs.user_write:", "arch.costs.user_loop:")


def case_keys(path):
    """A file of case keys (KEY: VALUE lines) as a case's lines, comments dropped."""
    out = []
    for line in open(path):
        line = line.rstrip("\n")
        if not line or line.startswith("#") or line.startswith(NOT_CHARGED):
            continue
        out.append("    " + line.split("  #")[0].rstrip())
    return out


def main():
    ap = argparse.ArgumentParser(description="write the prediction scenario of validation/kernel/'s runs")
    ap.add_argument("out")
    ap.add_argument("--widen-us", type=int, default=0, help="the modified kernels of run.sh --widen-us N")
    ap.add_argument("--s390x-wakeup", metavar="PROBE.json", help="s390x's udelay wake-up as this in-guest probe "
                    "file's wakeup part measured it (racewin-probe --parts wakeup), not the estimate")
    ap.add_argument("--config", choices=["small", "debug"], default="small",
                    help="run.sh's --config: debug is racewin's kernel.config debug (PREEMPT, lockdep's costs)")
    a = ap.parse_args()
    if a.widen_us < 0:
        raise SystemExit("make_prediction.py: --widen-us must be 0 or more")
    out = os.path.abspath(a.out)
    writers = WIDENED if a.widen_us else WRITERS
    rel = lambda p: os.path.relpath(os.path.join(ROOT, p), os.path.dirname(out))
    s = ["# racewin's prediction of validation/kernel/'s runs, written by validation/kernel/make_prediction.py",
         "# from the measured profiles named in each case. Committed before the buggy kernels were run."
         + (f"\n# The modified kernels: udelay({a.widen_us}) after wp_page_reuse() (run.sh --widen-us {a.widen_us})." if a.widen_us else ""),
         "scenario: dirtyc0w_qemu_tcg",
         "doc: the real-kernel runs' loops on QEMU TCG, as the in-guest probe measured the platform",
         "run:\n  time: 60s\n  seed: 1\n  count: writer",
         "machine:\n  vcpus: 2\n  pages: 1024\n  spinlocks: [ptl]\n  ptes: [map]",
         ("kernel:\n  config: production   # config.sh small: no PREEMPT, no lockdep\n  debug_vm: true" if a.config == "small" else
          "kernel:\n  config: debug   # config.sh debug: PREEMPT, PROVE_LOCKING, DEBUG_SPINLOCK, DEBUG_ATOMIC_SLEEP\n  debug_vm: true"),
         f"arch: {rel('models/arch/x86_64.yaml')}",
         f"hypervisor: {rel(MEASURED['x86_64'] + '/hypervisor.yaml')}",
         "threads:",
         f"  madvise: {{vcpu: 0, path: {rel('models/mm/madvise_dontneed.yaml')}}}",
         f"  writer: {{vcpu: 1, path: {rel(writers['buggy'])}}}",
         "cases:"]
    for arch, d in MEASURED.items():
        keys = case_keys(os.path.join(ROOT, d, "arch_overlay.yaml")) + case_keys(os.path.join(ROOT, d, "arch_costs.yaml"))
        for kernel, writer in writers.items():
            s.append(f"  {arch}_tcg_{kernel}" + (f"_udelay{a.widen_us}" if a.widen_us else "") + ("_debug:" if a.config == "debug" else ":"))
            s.append(f"    arch: {rel('models/arch/' + arch + '.yaml')}")
            s.append(f"    hypervisor: {rel(d + '/hypervisor.yaml')}")
            s.append(f"    threads.writer.path: {rel(writer)}")
            s += keys
            if a.widen_us:
                s.append(f"    arch.costs.racewin_udelay: {udelay_cost(arch, a.widen_us, a.s390x_wakeup)}")
    open(out, "w").write("\n".join(s) + "\n")


if __name__ == "__main__":
    main()
