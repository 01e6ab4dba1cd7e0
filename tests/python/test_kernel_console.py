"""validation/kernel/parse_console.py: a real-kernel run's console as its JSON result.

The fixtures (tests/python/data/kernel/): a whole console log of a real run (s390x, the fixed
kernel, 10 guest seconds under QEMU TCG), and that log with a Bad page state report and a
suppressed count spliced in, written from v5.9.1's format strings (mm/page_alloc.c bad_page(),
mm/debug.c __dump_page()) with an s390 call trace of the 2020 reports' shape."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PARSER = os.path.join(REPO, "validation", "kernel", "parse_console.py")
DATA = os.path.join(os.path.dirname(__file__), "data", "kernel")

spec = importlib.util.spec_from_file_location("parse_console", PARSER)
pc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pc)

REPORT = """[    5.101234] BUG: Bad page state in process dirtyc0w  pfn:1f3a2
[    5.101250] page:000000008a2c5b1e refcount:0 mapcount:0 mapping:0000000000000000 index:0x3ff9a8a3 pfn:0x1f3a2
[    5.101262] flags: 0x1(locked)
[    5.101270] raw: 0000000000000001 0000000000000100 0000000000000122 0000000000000000
[    5.101278] page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set
[    5.101285] Modules linked in:
[    5.101293] CPU: 0 PID: 58 Comm: dirtyc0w Not tainted 5.9.1 #3
[    5.101300] Hardware name: QEMU 3906 QEMU (KVM/Linux)
[    5.101307] Call Trace:
[    5.101315]  [<00000000001b2d4e>] show_stack+0x8e/0xd8
[    5.101322]  [<00000000005a1c4a>] dump_stack+0x82/0xb8
[    5.101330]  [<00000000002a2f9e>] bad_page+0xd6/0x130
[    5.101338]  [<00000000002a6b3a>] free_pcp_prepare+0x1f2/0x240
[    5.101345]  [<00000000002a9a2e>] free_unref_page+0x2e/0x90
[    5.101353]  [<0000000000271c82>] unmap_page_range+0x7e2/0x8f8
[    5.101360]  [<0000000000271e62>] zap_page_range+0xca/0x120
[    5.101368]  [<000000000028e4d6>] do_madvise.part.0+0x5de/0x9a0
[    5.101375]  [<000000000028e8d6>] __s390x_sys_madvise+0x46/0x58
[    5.101383]  [<00000000005b3f12>] system_call+0xe2/0x2b0
[    5.101390] Disabling lock debugging due to kernel taint
[    7.200001] BUG: Bad page state: 3 messages suppressed
"""


def spliced():
    """The real log with the report after the reproducer's fifth progress line."""
    lines = open(os.path.join(DATA, "s390x-fixed-10s.console.log")).read().splitlines(keepends=True)
    at = next(i for i, l in enumerate(lines) if l.startswith("dirtyc0w: t=5."))
    return "".join(lines[: at + 1]) + REPORT + "".join(lines[at + 1:])


def test_a_clean_run_is_valid_with_its_loops_and_no_report():
    p = pc.parse(open(os.path.join(DATA, "s390x-fixed-10s.console.log")).read())
    assert p["done"] and p["uname"] == "5.9.1" and p["cpus_online"] == 2
    assert p["loops"]["madvise"]["iterations"] == 78453 and p["loops"]["write"]["iterations"] == 25045
    assert len(p["progress"]) == 10 and p["progress"][-1] == [10.001, 78452, 25040]
    assert p["reports"] == [] and p["suppressed"] == 0 and p["other"] == []


def test_a_report_is_read_with_its_flags_reason_and_trace():
    p = pc.parse(spliced())
    assert p["loops"] is not None and p["done"]  # the report did not hide the lines after it
    (r,) = p["reports"]
    assert r["time_s"] == 5.101234 and r["process"] == "dirtyc0w" and r["pfn"] == "1f3a2"
    assert r["flags"] == ["locked"] and r["flags_hex"] == "0x1" and r["type"] == ""
    assert r["refcount"] == 0 and r["mapcount"] == 0
    assert r["reason"] == "PAGE_FLAGS_CHECK_AT_FREE flag(s) set"
    assert r["trace"][:3] == ["show_stack", "dump_stack", "bad_page"]
    assert "free_unref_page" in r["trace"] and "zap_page_range" in r["trace"] and r["trace"][-1] == "system_call"
    assert p["suppressed"] == 3


META = {"arch": "s390x", "kernel": "buggy", "config": "small", "accel": "tcg", "machine": "test", "started": "x", "qemu": "q",
        "image": "s390x-small-buggy", "widen_us": 0, "vcpus": 2, "seconds": 10, "qemu_exit": 0, "run": "dirtyc0w"}


def test_the_result_counts_suppressed_reports_and_times_them_from_the_loops_start():
    res = pc.result(pc.parse(spliced()), dict(META))
    assert res["format"] == "racewin-kernel-run/1" and res["run"]["valid"]
    assert res["bad_page"]["printed"] == 1 and res["bad_page"]["count"] == 4
    assert res["bad_page"]["reports"][0]["at_s"] == pytest.approx(5.101234 - 0.65296)
    assert res["kernel"]["modified"] is False and res["platform"]["cpus_online"] == 2


def test_a_run_whose_madvise_failed_or_that_did_not_finish_is_invalid_and_says_why():
    text = open(os.path.join(DATA, "s390x-fixed-10s.console.log")).read()
    bad = text.replace('"madvise": {"iterations": 78453, "errors": 0, "first_errno": 0}',
                       '"madvise": {"iterations": 78453, "errors": 78453, "first_errno": 38}')
    res = pc.result(pc.parse(bad), dict(META))
    assert not res["run"]["valid"] and "78453 madvise calls failed (first errno 38)" in res["run"]["problems"]
    cut = text[: text.index("dirtyc0w: t=3.")]
    res = pc.result(pc.parse(cut), dict(META))
    assert not res["run"]["valid"] and len(res["run"]["problems"]) == 2
    res = pc.result(pc.parse(text), dict(META, vcpus=4))
    assert not res["run"]["valid"] and "the guest saw 2 CPUs of 4" in res["run"]["problems"]


def test_the_command_writes_the_result_and_the_probe_file(tmp_path):
    probe = {"format": "racewin-probe/1", "name": "qemu-tcg-guest"}
    text = json.dumps(probe, indent=1)
    chunks = [text[i:i + 16].replace("\n", " ") for i in range(0, len(text), 16)]
    log = tmp_path / "run.console.log"
    log.write_text("racewin-init: kernel 5.9.1 x86_64, 2 CPUs online\nracewin-probe-json-begin 99\n"
                   + "".join(f"racewin-probe-json: {c}\n" for c in chunks) + "racewin-probe-json-end\nracewin-init: done\n")
    out = tmp_path / "run.json"
    args = [sys.executable, PARSER, str(log), "--out", str(out)]
    for k, v in META.items():
        if k != "run":
            args += ["--" + k.replace("_", "-"), str(v)]
    subprocess.run(args, check=True, capture_output=True)
    res = json.loads(out.read_text())
    assert res["run"]["what"] == "probe" and res["run"]["valid"], res["run"]["problems"]
    assert res["probe_file"] == "run.probe.json"
    assert json.loads((tmp_path / "run.probe.json").read_text()) == probe
