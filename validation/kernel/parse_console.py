#!/usr/bin/python3
"""A real-kernel run's serial console (validation/kernel/run.sh) as one JSON result.

What is read: the guest's init lines ("racewin-init: ..."), the reproducer's per-second progress
and its final "dirtyc0w-result: {...}" line (guest/dirtyc0w.c), the probe's file between its
markers (guest/init.c; written beside the result), and the kernel's own lines: every "BUG: Bad
page state in process P  pfn:N" with the page dump that follows it (flags, the reason) and its
call trace; "BUG: Bad page state: N messages suppressed" (bad_page() prints at most 60 reports a
minute, mm/page_alloc.c); and any other BUG, WARNING, Oops or panic.

A run is valid when init finished, the reproducer reported, and no madvise or write failed (a
kernel without ADVISE_SYSCALLS fails every madvise: no race can happen there). The result says why
when it is not; it is never dropped.

Report times are the kernel's printk clock (seconds since boot), and `at_s` is that less the
reproducer's CLOCK_MONOTONIC start: the two clocks are the same on these kernels to within the
console's own latency.
"""
import argparse
import json
import re
import sys
from pathlib import Path

FORMAT = "racewin-kernel-run/1"
STAMP = re.compile(r"^\[\s*(\d+\.\d+)\]\s?(.*)$")
BAD_PAGE = re.compile(r"BUG: Bad page state in process (.+?)\s+pfn:([0-9a-f]+)")
SUPPRESSED = re.compile(r"BUG: Bad page state: (\d+) messages suppressed")
FLAGS = re.compile(r"^(?:(anon|ksm) )?flags: (0x[0-9a-f]+)\(([^)]*)\)")
PAGE = re.compile(r"^page:\S+ refcount:(-?\d+) mapcount:(-?\d+) mapping:(\S+) index:(\S+)")
REASON = re.compile(r"^page dumped because: (.*)$")
# x86: " dump_stack+0x6b/0x88", "? foo+0x1/0x2"; s390: " [<000000000011b2a4>] show_stack+0x8c/0xd8".
FRAME = re.compile(r"^\s*(?:\?\s*)?(?:\[<[0-9a-f]+>\]\s*)?([A-Za-z_][A-Za-z0-9_.]*)\+0x[0-9a-f]+/0x[0-9a-f]+")
OTHER = re.compile(r"(BUG:|WARNING:|Oops|Kernel panic|general protection fault|Unable to handle kernel)")


def parse(text: str) -> dict:
    lines = text.splitlines()
    out = {"init": [], "progress": [], "loops": None, "reports": [], "suppressed": 0, "other": [], "probe_json": None,
           "done": False, "uname": None, "guest_machine": None, "cpus_online": None}
    probe_chunks, in_probe, report, in_trace = [], False, None, False
    for raw in lines:
        line = raw.rstrip("\r")
        m = STAMP.match(line)
        if m:
            t, body = float(m.group(1)), m.group(2)
            if in_trace:
                f = FRAME.match(body)
                if f:
                    report["trace"].append(f.group(1))
                    continue
                if body.strip().startswith(("Call Trace:", "Last Breaking-Event-Address:")):
                    continue
                in_trace = False
            b = BAD_PAGE.search(body)
            if b:
                report = {"time_s": t, "process": b.group(1), "pfn": b.group(2), "flags_hex": None, "flags": [], "type": None,
                          "refcount": None, "mapcount": None, "reason": None, "trace": []}
                out["reports"].append(report)
                continue
            s = SUPPRESSED.search(body)
            if s:
                out["suppressed"] += int(s.group(1))
                continue
            if report is not None:
                if (f := FLAGS.match(body)) is not None:
                    report["type"], report["flags_hex"] = f.group(1) or "", f.group(2)
                    report["flags"] = [x for x in f.group(3).split("|") if x]
                    continue
                if (p := PAGE.match(body)) is not None:
                    report["refcount"], report["mapcount"] = int(p.group(1)), int(p.group(2))
                    continue
                if (r := REASON.match(body)) is not None:
                    report["reason"] = r.group(1)
                    continue
                if body.strip().startswith("Call Trace:"):
                    in_trace = True
                    continue
            if OTHER.search(body):
                out["other"].append({"time_s": t, "line": body.strip()})
            continue
        if line.startswith("racewin-probe-json-begin"):
            in_probe, probe_chunks = True, []
        elif line.startswith("racewin-probe-json-end"):
            in_probe = False
            out["probe_json"] = "".join(probe_chunks)
        elif in_probe and line.startswith("racewin-probe-json: "):
            probe_chunks.append(line[len("racewin-probe-json: "):])
        elif line.startswith("racewin-init: "):
            msg = line[len("racewin-init: "):]
            out["init"].append(msg)
            out["done"] |= msg == "done"
            if (k := re.match(r"kernel (\S+) (\S+), (\d+) CPUs online", msg)) is not None:
                out["uname"], out["guest_machine"], out["cpus_online"] = k.group(1), k.group(2), int(k.group(3))
        elif (p := re.match(r"dirtyc0w: t=([\d.]+) madvise=(\d+) write=(\d+)", line)) is not None:
            out["progress"].append([float(p.group(1)), int(p.group(2)), int(p.group(3))])
        elif line.startswith("dirtyc0w-result: "):
            out["loops"] = json.loads(line[len("dirtyc0w-result: "):])
    return out


def result(parsed: dict, meta: dict) -> dict:
    """The run's JSON result: what was asked (meta), what the console showed (parsed)."""
    problems = []
    loops = parsed["loops"]
    if not parsed["done"]:
        problems.append("init did not finish (QEMU stopped, or the guest hung or panicked)")
    if parsed["cpus_online"] is not None and parsed["cpus_online"] != meta["vcpus"]:
        problems.append(f"the guest saw {parsed['cpus_online']} CPUs of {meta['vcpus']}")
    if meta["run"] in ("probe", "both") and parsed["probe_json"] is None:
        problems.append("no probe file: racewin-probe did not finish (its error is in the console log)")
    if meta["run"] != "probe":
        if loops is None:
            problems.append("no dirtyc0w-result line: the reproducer did not finish")
        else:
            for k in ("madvise", "write"):
                if loops[k]["errors"]:
                    problems.append(f"{loops[k]['errors']} {k} calls failed (first errno {loops[k]['first_errno']})")
    start = loops["start_s"] if loops else None
    reports = parsed["reports"]
    for r in reports:
        r["at_s"] = round(r["time_s"] - start, 6) if start is not None else None
    return {
        "format": FORMAT,
        "kernel": {"version": "5.9.1", "variant": meta["kernel"], "widen_us": meta["widen_us"], "modified": meta["widen_us"] > 0,
                   "config": meta["config"], "image": meta["image"], "uname": parsed["uname"]},
        "platform": {"arch": meta["arch"], "accel": meta["accel"], "vcpus": meta["vcpus"], "cpus_online": parsed["cpus_online"], "qemu": meta["qemu"],
                     "host": meta["machine"], "started": meta["started"]},
        "run": {"what": meta["run"], "requested_s": meta["seconds"], "guest_s": loops["seconds"] if loops else None,
                "qemu_exit": meta["qemu_exit"], "valid": not problems, "problems": problems},
        "loops": loops,
        "progress": parsed["progress"],
        "bad_page": {"reports": reports, "printed": len(reports), "suppressed": parsed["suppressed"],
                     "count": len(reports) + parsed["suppressed"]},
        "other_kernel_messages": parsed["other"],
        "probe_file": None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("console")
    ap.add_argument("--out", required=True)
    for k in ("arch", "kernel", "config", "accel", "machine", "started", "qemu", "image"):
        ap.add_argument("--" + k, required=True)
    for k in ("widen-us", "vcpus", "seconds", "qemu-exit"):
        ap.add_argument("--" + k, type=int, required=True)
    ap.add_argument("--run", default=None, help="dirtyc0w, probe or both (default: read from the console)")
    a = ap.parse_args()
    text = Path(a.console).read_text(errors="replace")
    parsed = parse(text)
    run = a.run or ("both" if parsed["probe_json"] is not None and parsed["loops"] else "probe" if parsed["probe_json"] is not None else "dirtyc0w")
    meta = {"arch": a.arch, "kernel": a.kernel, "config": a.config, "accel": a.accel, "machine": a.machine, "started": a.started,
            "qemu": a.qemu, "image": a.image, "widen_us": a.widen_us, "vcpus": a.vcpus, "seconds": a.seconds, "qemu_exit": a.qemu_exit, "run": run}
    res = result(parsed, meta)
    out = Path(a.out)
    if parsed["probe_json"] is not None:
        probe = out.with_suffix(".probe.json")
        try:
            json.loads(parsed["probe_json"])
        except json.JSONDecodeError as e:
            res["run"]["problems"].append(f"the probe's file is not JSON as printed ({e})")
            res["run"]["valid"] = False
        probe.write_text(parsed["probe_json"])
        res["probe_file"] = probe.name
    out.write_text(json.dumps(res, indent=1) + "\n")
    bp = res["bad_page"]
    print(f"{out}: {res['kernel']['image']} {'valid' if res['run']['valid'] else 'INVALID: ' + '; '.join(res['run']['problems'])}; "
          f"{bp['count']} Bad page state reports ({bp['suppressed']} suppressed)", file=sys.stderr)


if __name__ == "__main__":
    main()
