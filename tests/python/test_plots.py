"""Each plot function gives a figure with the expected panels, labels (with units) and series; the
report command writes its PNGs and report.md."""
import os
import re
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.image import AxesImage

from racewin_analysis import load as L
from racewin_analysis import plots as P

UNIT = re.compile(r"\((ns|us|ms|s|1/s|dimensionless[^)]*|ratio[^)]*)\)|per iteration")


def labelled(ax):
    return [t for t in ax.get_legend_handles_labels()[1] if not t.startswith("_")]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_hazard_lines(sweep_dir):
    df = L.load_sweep(sweep_dir)
    fig = P.plot_hazard_lines(df, "steal_interarrival_s", series="steal_median_s")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "steal interarrival (ms)" and UNIT.search(ax.get_ylabel())
    assert ax.get_yscale() == "log" and ax.get_xscale() == "log"
    hits = df.groupby("steal_median")["bound_only"].all()
    assert len(labelled(ax)) == len(hits)  # one line per series (plus the bound entry, if any)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    both = ~df.groupby("steal_median")["bound_only"].any()
    assert len(bands) == both.sum()  # a band per series with estimates at both points
    assert ax.get_legend().get_title().get_text() == "steal median"
    assert set(labelled(ax)) <= {"50us", "1ms", "no hit: 95% upper bound", "hollow: < 30 effective hits"}


def test_labels_rounded_to_what_the_axis_needs():
    from racewin_analysis.plot_style import duration_labels, readable, rounded
    assert rounded([1, 2.71442, 7.38906]) == ["1", "2.71", "7.39"]
    assert rounded([1.0001, 1.0002]) == ["1.0001", "1.0002"]  # more digits only where they are needed
    assert duration_labels([0.00271442, 5e-05, 1e-3]) == ["2.71ms", "50us", "1ms"]
    assert readable("steal_interarrival_s") == "steal interarrival" and readable("p_hi") == "P 95% high"


def test_hazard_heatmap(sweep_dir):
    df = L.load_sweep(sweep_dir)
    fig = P.plot_hazard_heatmap(df, "steal_interarrival_s", "steal_median_s")
    ax = fig.axes[0]
    (img,) = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    assert img.get_array().shape == (2, 2)
    assert ax.get_xlabel() == "steal interarrival (ms)" and ax.get_ylabel() == "steal median (us)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "10"]
    assert "per iteration" in fig.axes[-1].get_ylabel()  # the colour bar
    assert len(ax.texts) == 4


def test_arch_side_by_side(run_dir):
    df = L.load_run(run_dir)
    fig = P.plot_arch_side_by_side(df)
    assert [a.get_title() for a in fig.axes] == ["s390x", "x86_64"]
    assert "per iteration" in fig.axes[0].get_ylabel() and fig.axes[0].get_yscale() == "log"
    s390 = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert s390 == ["zvm_v5.9-rc4", "zvm_v5.9-fixed"]
    # the fix: no hit, so an upper-bound entry in the legend
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == ["s390x", "no hit: 95% upper bound"]


def test_mttf(run_dir):
    df = L.load_run(run_dir)
    fig = P.plot_mttf(df)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "simulated time per hit iteration (s)" and ax.get_xscale() == "log"
    assert ax.get_title() == "time per hit iteration: bad_page_state"  # the tables' name, not "mean time to failure"
    assert len(ax.get_yticklabels()) == df["case"].nunique()
    assert {"s390x", "x86_64", "no hit: 95% lower bound"} <= set(labelled(ax))


def test_windows(run_dir):
    w = L.load_windows(run_dir)
    fig = P.plot_windows(w)
    assert len(fig.axes) == 3
    assert [a.get_xlabel() for a in fig.axes] == ["window length (ns)", "windows opened per simulated second (1/s)",
                                                  "closed windows stretched (%)"]
    assert len(fig.axes[0].get_yticklabels()) == len(w)


def test_window_lengths(run_dir):
    lengths = L.load_window_lengths(run_dir)
    closed = L.load_windows(run_dir).set_index(["case", "window"])["closed"]
    # every closed window is in one bin
    assert lengths.groupby(["case", "window"])["count"].sum().to_dict() == closed[closed > 0].to_dict()
    fig = P.plot_window_lengths(lengths)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "window length x (ns)" and ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "share of closed windows" in ax.get_ylabel()
    series = lengths[lengths["bin_lo_ns"] > 0].groupby(["case", "window"]).ngroups
    assert len(labelled(ax)) == series and len(ax.get_lines()) == 2 * series  # a curve and its markers each
    for line in ax.get_lines()[::2]:  # a survival curve never rises
        assert (np.diff(line.get_ydata()) <= 1e-12).all()


def test_compare(compare_dir):
    c = L.load_compare(compare_dir)
    fig = P.plot_compare(c)
    a0, a1 = fig.axes
    assert UNIT.search(a0.get_xlabel()) and "ratio" in a1.get_xlabel() and a0.get_xscale() == "log"
    assert {"before", "after"} <= set(labelled(a0))
    assert len(a0.get_yticklabels()) == c["hazard"].nunique()


def test_sensitivity(sensitivity_dir):
    s = L.load_sensitivity(sensitivity_dir)
    fig = P.plot_sensitivity(s)
    (ax,) = fig.axes
    assert "elasticity" in ax.get_xlabel() and "dimensionless" in ax.get_xlabel()
    nonzero = (s["elasticity"] != 0).sum()
    assert len(ax.patches) == nonzero and len(ax.get_yticklabels()) == nonzero
    zero = (s["elasticity"] == 0).sum()
    assert (f"{zero} parameters at exactly 0" in ax.get_title()) == (zero > 0)


def test_validation(sim_dir, exact_dir):
    fig = P.plot_validation(L.load_run(sim_dir), L.load_exact(exact_dir), hazards=["window:race"])
    (ax,) = fig.axes
    assert "simulated / exact" in ax.get_xlabel() and len(ax.get_yticklabels()) == 1


def test_report_cli(run_dir, sweep_dir, tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "..", "analysis"))
    for d in (run_dir, sweep_dir):
        out = tmp_path / os.path.basename(d)
        r = subprocess.run([sys.executable, "-m", "racewin_analysis", "report", d, "--out", str(out)], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        md = (out / "report.md").read_text()
        pngs = sorted(p.name for p in out.glob("*.png"))
        assert pngs and all(f"]({p})" in md for p in pngs)
        assert "P(hit) per iteration" in md
        captions = [ln for ln in md.splitlines() if ln.startswith("*") or ln.startswith("| ")]
        assert not any(re.search(r"\w_s\b|_lo\b|_hi\b|steal_interarrival", c) for c in captions), captions
        assert "mean time to failure" not in md
    r = subprocess.run([sys.executable, "-m", "racewin_analysis", "report", str(tmp_path / "nothing")], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 1


def _fits_dir(tmp_path):
    """A calibration directory: the shipped measured machine's fits.json."""
    import glob
    import shutil
    src = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "models", "hypervisor", "measured", "*", "fits.json")))
    assert src, "no shipped fits.json under models/hypervisor/measured/"
    d = tmp_path / "cal"
    d.mkdir()
    shutil.copy(src[0], d / "fits.json")
    return str(d)


def test_qq_plots(tmp_path):
    from racewin_analysis import calibration as C
    d = _fits_dir(tmp_path)
    assert "calibration" in L.detect_kinds(d)
    df = C.load_fits(d)
    summary = C.fit_summary(df)
    assert "the tick's gap" in list(summary["law"])
    # What the profile took follows the KS test: the family only within the 5% bound.
    assert ((summary["taken"] == "family") == (summary["ks"] <= summary["ks_critical"])).all()
    fig = C.plot_qq(df)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == len(summary)  # a panel per law
    for ax in shown:
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert UNIT.search(ax.get_xlabel()) and UNIT.search(ax.get_ylabel())
        assert len(labelled(ax)) == 2  # the diagonal and the law's points


def test_report_calibration(tmp_path):
    from racewin_analysis.report import report
    d = _fits_dir(tmp_path)
    path, pngs = report(d)
    text = open(path).read()
    assert "## Calibration" in text and "qq.png" in text
    assert any(p.endswith("qq.png") and os.path.getsize(p) > 0 for p in pngs)
