#!/usr/bin/python3
"""The prediction scenario of validation/kernel/'s runs, from the platform's measured profiles.

For each arch, the dirtyc0w_child loops as the guest runs them (guest/dirtyc0w.c: madvise on CPU 0,
the /proc/self/mem writer on CPU 1, no LTP parent), on racewin's arch profile with the QEMU TCG
platform as the in-guest probe measured it (models/hypervisor/measured/qemu-tcg-ARCH-*/: its
hypervisor.yaml, the tick's keys of arch_overlay.yaml, the path costs of arch_costs.yaml), the
kernel config the runs build (config.sh "small": no PREEMPT, no lockdep, DEBUG_VM), and the
writer of each kernel: v5.9-rc4's (buggy: be068f29034f reverted) and v5.9's (fixed).

Usage: make_prediction.py OUT.yaml  (from the source root; writes the scenario, paths relative to it)
"""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MEASURED = {"s390x": "models/hypervisor/measured/qemu-tcg-s390x-2vcpu-dev-2026-12-06",
            "x86_64": "models/hypervisor/measured/qemu-tcg-x86_64-2vcpu-dev-2026-12-06"}
WRITERS = {"buggy": "proc_mem_write_v5.9-rc4.yaml", "fixed": "proc_mem_write_v5.9.yaml"}


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
    out = os.path.abspath(sys.argv[1])
    rel = lambda p: os.path.relpath(os.path.join(ROOT, p), os.path.dirname(out))
    s = ["# racewin's prediction of validation/kernel/'s runs, written by validation/kernel/make_prediction.py",
         "# from the measured profiles named in each case. Committed before the buggy kernels were run.",
         "scenario: dirtyc0w_qemu_tcg",
         "doc: the real-kernel runs' loops on QEMU TCG, as the in-guest probe measured the platform",
         "run:\n  time: 60s\n  seed: 1\n  count: writer",
         "machine:\n  vcpus: 2\n  pages: 1024\n  spinlocks: [ptl]\n  ptes: [map]",
         "kernel:\n  config: production   # config.sh small: no PREEMPT, no lockdep\n  debug_vm: true",
         f"arch: {rel('models/arch/x86_64.yaml')}",
         f"hypervisor: {rel(MEASURED['x86_64'] + '/hypervisor.yaml')}",
         "threads:",
         f"  madvise: {{vcpu: 0, path: {rel('models/mm/madvise_dontneed.yaml')}}}",
         f"  writer: {{vcpu: 1, path: {rel('models/mm/' + WRITERS['buggy'])}}}",
         "cases:"]
    for arch, d in MEASURED.items():
        keys = case_keys(os.path.join(ROOT, d, "arch_overlay.yaml")) + case_keys(os.path.join(ROOT, d, "arch_costs.yaml"))
        for kernel, writer in WRITERS.items():
            s.append(f"  {arch}_tcg_{kernel}:")
            s.append(f"    arch: {rel('models/arch/' + arch + '.yaml')}")
            s.append(f"    hypervisor: {rel(d + '/hypervisor.yaml')}")
            s.append(f"    threads.writer.path: {rel('models/mm/' + writer)}")
            s += keys
    open(out, "w").write("\n".join(s) + "\n")


if __name__ == "__main__":
    main()
