"""validation/kernel/compare.py: a real-kernel result beside racewin's prediction.

A stored result (the parser's own output on the real s390x console log with a report spliced in,
tests/python/data/kernel/) and a prediction's results.json of two cases, written here with the
fields `racewin run --out` writes."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPARE = os.path.join(REPO, "validation", "kernel", "compare.py")
spec = importlib.util.spec_from_file_location("kernel_compare", COMPARE)
kc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kc)
sys.path.insert(0, os.path.dirname(__file__))
from test_kernel_console import META, pc, spliced  # noqa: E402


def hazard(p, ci, per_s, per_s_ci):
    return {"hazard": "bad_page_state", "p_iteration_hit": p, "p_iteration_hit_ci95": ci, "events_per_s": per_s, "events_per_s_ci95": per_s_ci}


def test_intervals_are_clopper_pearson_and_poisson():
    lo, hi = kc.clopper_pearson(0, 100)
    assert lo == 0 and hi == pytest.approx(0.03621669, rel=1e-6)  # 1 - 0.025**(1/100)
    lo, hi = kc.clopper_pearson(4, 25045)
    assert lo < 4 / 25045 < hi
    lo, hi = kc.poisson_rate(0, 10.0)
    assert lo == 0 and hi == pytest.approx(0.3688879, rel=1e-6)  # -ln(0.025) / 10


def test_a_measured_result_against_two_predictions(tmp_path):
    res = pc.result(pc.parse(spliced()), dict(META))  # s390x, buggy: 4 reports (1 printed, 3 suppressed)
    f = tmp_path / "run.json"
    f.write_text(json.dumps(res))
    m = kc.measured(res)
    assert m["k"] == 4 and m["writer_iterations"] == 25045 and m["p"] == pytest.approx(4 / 25045)
    pred = tmp_path / "pred"
    pred.mkdir()
    cases = [{"case": "s390x_tcg_buggy", "sim_time_ns": 60e9, "iterations": 120000, "thread_iterations": {"madvise": 300000, "writer": 120000},
              "hazards": [hazard(2e-4, [1.5e-4, 2.6e-4], 0.4, [0.3, 0.52])]}]
    (pred / "results.json").write_text(json.dumps({"cases": cases}))
    out = subprocess.run([sys.executable, COMPARE, str(pred), str(f)], check=True, capture_output=True, text=True).stdout
    assert "s390x_tcg_buggy" in out and "measured   4 Bad page state in 25045 writer iterations" in out
    assert "per iteration: agree" in out  # 1.6e-4 measured, its interval overlaps [1.5e-4, 2.6e-4]
    # A prediction ten times lower disagrees, and says by how much.
    cases[0]["hazards"] = [hazard(1.6e-5, [1.5e-5, 1.7e-5], 0.04, [0.03, 0.05])]
    (pred / "results.json").write_text(json.dumps({"cases": cases}))
    out = subprocess.run([sys.executable, COMPARE, str(pred), str(f)], check=True, capture_output=True, text=True).stdout
    assert "per iteration: DISAGREE: predicted/measured 0.1" in out
    # A prediction with no hit and a bound far above the measurement is said to be no test.
    cases[0]["hazards"] = [hazard(0.0, [0.0, 0.027], 0.0, [0.0, 0.06])]
    (pred / "results.json").write_text(json.dumps({"cases": cases}))
    out = subprocess.run([sys.executable, COMPARE, str(pred), str(f)], check=True, capture_output=True, text=True).stdout
    assert "per iteration: no test: the prediction saw no hit" in out


def flood(n_reports, suppressed, seconds=300.0):
    """A run whose reports come at 100 a second from t = 10 s: the first minute prints 60, the rest
    of it is suppressed, and the next minute's first report says how many ("N messages suppressed")."""
    reps = [{"at_s": 10.0 + i / 100} for i in range(60)] + [{"at_s": 70.5 + i / 100} for i in range(n_reports - 60)]
    progress = [[float(t), 1000 * t, 500 * t] for t in range(1, int(seconds) + 1)]
    return {"run": {"guest_s": seconds, "valid": True, "problems": []}, "progress": progress,
            "loops": {"seconds": seconds, "madvise": {"iterations": int(1000 * seconds)}, "write": {"iterations": int(500 * seconds)}},
            "bad_page": {"reports": reps, "count": n_reports + suppressed, "suppressed": suppressed}}


def test_the_count_stops_where_bad_page_stopped_printing():
    # Both minutes printed their 60: the second minute's suppressed reports are never printed, so
    # the count (120 printed, 5940 said suppressed before the second minute) is complete up to
    # the 120th report, at 71.09 s, and the writer's iterations are counted to there.
    m = kc.measured(flood(120, 5940))
    assert m["counted_s"] == pytest.approx(71.09)
    assert m["k"] == 6060 and m["writer_iterations"] == pytest.approx(500 * 71.09, abs=1)
    assert m["per_s"] == pytest.approx(6060 / 71.09)
    # 59 in the last minute: nothing was suppressed after them, the whole run counts.
    m = kc.measured(flood(119, 5940))
    assert m["counted_s"] is None and m["writer_iterations"] == 150000 and m["k"] == 6059
    # Nothing printed at all: the whole run.
    assert kc.measured(flood(60, 0))["counted_s"] == pytest.approx(10.59)


def test_the_dumps_beside_the_models():
    # The printed dumps: PG_dirty marks a page a write() went through; PG_locked one still locked.
    res = flood(119, 0)
    for i, r in enumerate(res["bad_page"]["reports"]):
        r["flags"] = ["referenced", "uptodate", "dirty", "swapbacked"] if i % 7 == 0 else ["uptodate", "swapbacked"]
    res["bad_page"]["reports"][0]["flags"].append("locked")
    d = kc.dumps_measured(res)
    assert d == {"dumped": 119, "written": 17, "locked": 1}
    line = kc.dumps_line("measured", d)
    assert "written through 17/119 = 0.14 [0.09, 0.22]" in line and "PG_locked at the dump 1/119" in line


def test_a_prediction_from_too_few_hits_is_no_test():
    # Nothing measured, and a prediction of 2.8e-11 whose interval is [0, 1] (one effective hit):
    # the intervals overlap, but the prediction says nothing; a measured zero and a predicted zero
    # with the same bound do agree.
    assert kc.agreement((0.0, 2.9e-5), (0.0, 1.0), 0.0, 2.8e-11).startswith("no test: the prediction rests on too few hits")
    assert kc.agreement((0.0, 0.0123), (0.0, 0.0123), 0.0, 0.0) == "agree (intervals overlap)"
    assert kc.agreement((8e-6, 2e-5), (0.0, 2.2e-4), 1.4e-5, 0.0).startswith("no test: the prediction saw no hit")
