"""`python3 -m racewin_analysis report DIR [--out OUTDIR]`: renders a run, compare, sweep or exact
directory to PNG plots and a short Markdown report (report.md) beside them."""
import os

import matplotlib.pyplot as plt
import numpy as np

from . import calibration as C
from . import load as L
from . import plots as P
from .plot_style import duration_labels, readable


def md_table(df, floatfmt="{:.3g}"):
    """A DataFrame as a Markdown table (no extra packages), its columns named as people read them."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "-" if np.isnan(v) else floatfmt.format(v)
        return str(v).replace("|", "\\|")
    lines = ["| " + " | ".join(readable(c) for c in df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _estimate_text(r):
    if r["bound_only"]:
        return f"< {r['p_hi']:.3g}"
    return f"{r['p']:.3g} [{r['p_lo']:.3g}, {r['p_hi']:.3g}]"


def _time_text(r):
    if not np.isfinite(r["time_per_hit_s"]):
        return f"> {r['time_per_hit_lo']:.3g}"
    return f"{r['time_per_hit_s']:.3g} [{r['time_per_hit_lo']:.3g}, {r['time_per_hit_hi']:.3g}]"


class _Report:
    def __init__(self, out):
        self.out, self.lines, self.pngs = out, [], []
        os.makedirs(out, exist_ok=True)

    def fig(self, fig, name, caption):
        path = os.path.join(self.out, name)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        self.pngs.append(path)
        self.lines += [f"![{caption}]({name})", "", f"*{caption}*", ""]

    def text(self, *lines):
        self.lines += list(lines) + [""]


def _hazard(df, hazard):
    if hazard:
        return hazard
    names = list(df["hazard"].unique())
    return "bad_page_state" if "bad_page_state" in names else names[0]


def _estimates_table(d, label_cols):
    t = d[label_cols].copy()
    t["method"] = d["method"]
    t["P(hit) per iteration [95%]"] = [_estimate_text(r) for _, r in d.iterrows()]
    t["time per hit iteration [s] [95%]"] = [_time_text(r) for _, r in d.iterrows()]
    if "stopped_by" in d:
        t["stopped by"] = d["stopped_by"]
    return md_table(t)


def report_run(directory, rep, hazard=None):
    df = L.load_run(directory)
    hz = _hazard(df, hazard)
    d = df[df["hazard"] == hz]
    rep.text(f"## Run `{d['scenario'].iloc[0]}`: hazard `{hz}`",
             "P(hit) per iteration of the counted thread (forced estimates where `method` is force), 95% "
             "intervals; with no hit only an upper bound on P (a lower bound on the time).",
             _estimates_table(d, ["case", "arch", "hypervisor"]))
    rep.fig(P.plot_arch_side_by_side(df, hz), "hazard_by_arch.png", f"P({hz}) per iteration, s390x and x86_64")
    rep.fig(P.plot_mttf(df, hz), "time_per_hit.png", f"time per hit iteration ({hz}), simulated")
    w = L.load_windows(directory)
    if len(w):
        rep.fig(P.plot_windows(w), "windows.png", "race windows: mean and maximum length, rate, stretched share")
    lengths = L.load_window_lengths(directory)
    if len(lengths):
        rep.fig(P.plot_window_lengths(lengths), "window_lengths.png", "race-window lengths, share per bin")


def report_sweep(directory, rep, hazard=None):
    df = L.load_sweep(directory)
    hz = _hazard(df, hazard)
    params = df.attrs.get("params", [])
    rep.text(f"## Sweep `{df.attrs.get('sweep')}`: {df['point'].nunique()} points, hazard `{hz}`")
    if df.attrs.get("sensitivity") and os.path.exists(os.path.join(directory, "sensitivity.csv")):
        s = L.load_sensitivity(directory)
        rep.text("Elasticity d ln P / d ln parameter, each parameter divided and multiplied by "
                 f"{df.attrs['sensitivity'].get('factor')}; most influential first.", md_table(s.head(15)))
        rep.fig(P.plot_sensitivity(s), "sensitivity.png", "sensitivity ranking")
        return
    cols = [f"{p}_s" if f"{p}_s" in df else p for p in params]
    # A duration axis, or a numeric one of 3 values or more, is drawn as an x axis; others label points.
    numeric = [c for c in cols if np.issubdtype(df[c].dtype, np.number) and df[c].nunique() > 1
               and (c.endswith("_s") or df[c].nunique() > 2)]
    d = df[df["hazard"] == hz]
    rep.text(_estimates_table(d, ["point", "case"] + params))
    if numeric:
        rep.fig(P.plot_hazard_lines(df, numeric[0], series=numeric[1] if len(numeric) > 1 else None, hazard=hz),
                "hazard_lines.png", f"P({hz}) per iteration against the {readable(numeric[0])}")
        if len(numeric) > 1:
            rep.fig(P.plot_hazard_heatmap(df, numeric[0], numeric[1], hazard=hz), "hazard_heatmap.png",
                    f"P({hz}) per iteration over the {readable(numeric[0])} and the {readable(numeric[1])}")
    df = df.copy()
    short = lambda v: os.path.basename(str(v)).replace(".yaml", "")
    cases = df["case"].nunique() > 1
    # A duration axis as '2.71ms' (rounded to what tells its values apart), not as the sweep wrote it.
    text = {p: dict(zip(df[f"{p}_s"], duration_labels(df[f"{p}_s"]))) if f"{p}_s" in df else None for p in params}
    df["label"] = [" / ".join(([r["case"]] if cases else []) +
                              [text[p][r[f"{p}_s"]] if text[p] else short(r[p]) for p in params]) for _, r in df.iterrows()]
    if not numeric:
        rep.fig(P.plot_arch_side_by_side(df, hz, label="label"), "hazard_by_arch.png", f"P({hz}) per point")
    rep.fig(P.plot_mttf(df[df["hazard"] == hz], hz, label="label"), "time_per_hit.png",
            f"time per hit iteration ({hz}), simulated: the mean iteration time over P")


def report_compare(directory, rep, hazard=None):
    df = L.load_compare(directory)
    rep.text(f"## Before and after: {df['change'].iloc[0]}",
             md_table(df[["case", "hazard", "measure", "counted_before", "counted_after", "before", "after", "ratio",
                          "ratio_lo", "ratio_hi", "significant", "note"]]))
    rep.fig(P.plot_compare(df), "compare.png", "before and after, P(hit) per iteration")


def report_exact(directory, rep, hazard=None):
    df = L.load_exact(directory)
    rep.text(f"## Exact (`racewin exact`): `{df['scenario'].iloc[0]}`",
             md_table(df[["case", "hazard", "p", "events_per_s", "time_per_hit_s", "states", "solver"]]))
    hit = df[df["p"] > 0]
    if len(hit):
        hit = hit.assign(label=hit["case"] + " " + hit["hazard"])
        rep.fig(P.plot_mttf(hit.assign(hazard="any"), "any", label="label"), "exact_time_per_hit.png",
                "exact time per hit iteration")


def report_calibration(directory, rep, hazard=None):
    df = C.load_fits(directory)
    rep.text("## Calibration: how well each fitted law describes the measured values",
             md_table(C.fit_summary(df)),
             "A law whose KS distance is above the 5% bound is taken as measured (empirical); its QQ plot "
             "shows where the best family misses.")
    rep.fig(C.plot_qq(df), "qq.png", "QQ plots: measured quantiles against the fitted family's (the diagonal is a perfect fit)")


def report(directory, out=None, hazard=None):
    """Writes OUT/report.md (OUT defaults to DIR/report) and its PNGs; returns report.md's path."""
    out = out or os.path.join(directory, "report")
    kinds = L.detect_kinds(directory)
    if not kinds:
        raise ValueError(f"{directory}: no racewin output (results.json, compare.json, sweep.json, exact.json, fits.json)")
    rep = _Report(out)
    rep.text(f"# racewin report: `{directory}`", f"Kinds found: {', '.join(kinds)}.")
    for kind in kinds:
        sub = _Report(os.path.join(out, kind) if len(kinds) > 1 else out)
        {"run": report_run, "sweep": report_sweep, "compare": report_compare, "exact": report_exact,
         "calibration": report_calibration}[kind](
            directory, sub, hazard)
        prefix = f"{kind}/" if len(kinds) > 1 else ""
        rep.lines += [ln.replace("](", f"]({prefix}") if ln.startswith("![") else ln for ln in sub.lines]
        rep.pngs += sub.pngs
    path = os.path.join(out, "report.md")
    with open(path, "w") as f:
        f.write("\n".join(rep.lines))
    return path, rep.pngs
