"""The other standard plots: race-window summaries, before/after comparisons, sensitivity
rankings and estimates against `racewin exact`. Each returns a matplotlib Figure."""
import textwrap

import numpy as np

from .plot_style import ARCH_COLORS, BOUND_MARKER, P_LABEL, case_color, figure, legend, log_axis, patch


def plot_windows(windows):
    """Race windows per case, from load_windows: (1) mean and maximum window length (ns),
    (2) windows opened per simulated second, (3) the share of closed windows stretched by steal
    and by an interrupt (%): how often the tail (a window held open by a stall, which is what a
    hit needs) occurred. The distribution itself: plot_window_lengths."""
    w = windows.copy()
    w["label"] = w["case"] if w["window"].nunique() == 1 else w["case"] + ": " + w["window"]
    fig, axes = figure(ncols=3, width=4.3, height=0.42 * len(w) + 1.9, sharey=True)
    ys = np.arange(len(w))[::-1]
    colors = [ARCH_COLORS.get(a, "0.3") for a in w["arch"]]
    a0, a1, a2 = axes[0]
    a0.scatter(w["mean_length_ns"], ys, marker="o", color=colors, label="mean", zorder=3)
    a0.scatter(w["max_length_ns"], ys, marker="|", s=160, color=colors, label="maximum", zorder=3)
    a0.hlines(ys, w["mean_length_ns"], w["max_length_ns"], color="0.7", linewidth=1)
    log_axis(a0)
    a0.set_xlabel("window length (ns)")
    a0.set_title("length: mean (o), maximum (|)", fontsize="medium")
    a1.barh(ys, w["opened_per_s"], color=colors)
    log_axis(a1)
    a1.set_xlabel("windows opened per simulated second (1/s)")
    a1.set_title("how often a window opens", fontsize="medium")
    a2.barh(ys + 0.2, 100 * w["share_stretched_by_steal"], height=0.4, color="#6a3d9a", label="by steal")
    a2.barh(ys - 0.2, 100 * w["share_stretched_by_irq"], height=0.4, color="#33a02c", label="by an interrupt")
    a2.set_xlabel("closed windows stretched (%)")
    a2.set_title("stretched by a stall", fontsize="medium")
    legend(a2, loc="lower right")
    a0.set_yticks(ys, list(w["label"]))
    for ax in axes[0]:
        ax.grid(True, axis="x", alpha=0.3)
    a1.legend(handles=[patch(c, a) for a, c in ARCH_COLORS.items() if a in set(w["arch"])], fontsize="small",
              loc="lower right")
    lo = min(w["mean_length_ns"].min(), w["max_length_ns"].min())
    a0.set_xlim(10 ** np.floor(np.log10(lo)), w["max_length_ns"].max() * 2)
    fig.suptitle("race windows: summary statistics per case", fontsize="medium")
    return fig


def plot_window_lengths(lengths, window=None):
    """The distribution of race-window lengths per case, from load_window_lengths, as the share of
    closed windows at least x long (a survival curve, at each bin edge: 4 a decade) on log-log
    axes: the bulk (the window's own steps, tens of ns) is the drop on the left, the stalled tail
    (microseconds to milliseconds, what a hit needs) the steps to the right. Bin resolution only:
    a window's length is known to a quarter of a decade."""
    d = lengths if window is None else lengths[lengths["window"] == window]
    fig, axes = figure(width=7.2, height=4.4)
    ax = axes[0][0]
    styles = ["-", "--", "-.", ":"]
    for i, ((case, win), g) in enumerate(d.groupby(["case", "window"], sort=False)):
        g = g[g["bin_lo_ns"] > 0].sort_values("bin_lo_ns")  # under 1 ns has no place on a log axis
        if not len(g):
            continue
        longer = g["share"].to_numpy()[::-1].cumsum()[::-1]  # share at least bin_lo_ns long
        top = g["bin_hi_ns"].to_numpy()[-1]
        xs = np.append(g["bin_lo_ns"].to_numpy(), top if np.isfinite(top) else g["bin_lo_ns"].to_numpy()[-1] * 10 ** 0.25)
        ys = np.append(longer, longer[-1])
        label = case if d["window"].nunique() == 1 else f"{case}: {win}"
        ax.step(xs, ys, where="post", color=case_color(i), linestyle=styles[i % len(styles)], label=label, linewidth=1.6)
        ax.plot(xs[:-1], longer, linestyle="none", marker="o", markersize=3, color=case_color(i))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("window length x (ns)")
    ax.set_ylabel("share of closed windows at least x long")
    ax.set_title("race-window lengths" + (f": {window}" if window else "") + " (bins of a quarter decade)",
                 fontsize="medium")
    ax.grid(True, alpha=0.3)
    legend(ax, loc="upper right")
    return fig

def plot_compare(cmp, measure="p_iteration_hit", hazards=None):
    """A before/after comparison (load_compare): per case and hazard, the before and after
    estimates with their 95% intervals (left; no hits: the upper bound), and the ratio after/before
    with its interval (right, log; a ratio of 0 is drawn as its upper bound, an unbounded one as its
    lower bound; with no hits on either side there is no ratio, and the plot says so)."""
    d = cmp[cmp["measure"] == measure]
    if hazards is not None:
        d = d[d["hazard"].isin(hazards)]
    d = d.reset_index(drop=True)
    unit = P_LABEL if measure == "p_iteration_hit" else "events per simulated second (1/s)"
    fig, axes = figure(ncols=2, width=5.6, height=0.6 * len(d) + 2.2, sharey=True)
    a0, a1 = axes[0]
    ys = np.arange(len(d))[::-1]
    left = dict(BOUND_MARKER, marker="<")
    for side, dy, color in (("before", 0.12, "#1f77b4"), ("after", -0.12, "#d62728")):
        for yi, (_, r) in zip(ys, d.iterrows()):
            p, lo, hi = r[side], r[f"{side}_lo"], r[f"{side}_hi"]
            if r[f"counted_{side}"] == 0 and p == 0:
                a0.plot(hi, yi + dy, color=color, **left)
            else:
                a0.errorbar(p, yi + dy, xerr=[[p - lo], [hi - p]], marker="o", color=color, capsize=3)
        a0.plot([], [], marker="o", color=color, linestyle="none", label=side)
    if ((d["counted_before"] == 0) | (d["counted_after"] == 0)).any():
        a0.plot([], [], color="0.3", label="no hits: 95% upper bound", **left)
    log_axis(a0)
    a0.set_xlabel(unit)
    a0.set_yticks(ys, [f"{c}\n{h}" for c, h in zip(d["case"], d["hazard"])], fontsize="small")
    a0.set_title("before and after (95% intervals)", fontsize="medium")
    legend(a0, loc="best")
    for yi, (_, r) in zip(ys, d.iterrows()):
        lo, hi, ratio = r["ratio_lo"], r["ratio_hi"], r["ratio"]
        color = "#2ca02c" if r["significant"] else "0.4"
        if r["counted_before"] == 0 and r["counted_after"] == 0:
            a1.text(0.5, yi, "no hits on either side: no ratio", transform=a1.get_yaxis_transform(),
                    ha="center", va="center", fontsize="small", color="0.4")
        elif ratio == 0:
            a1.plot(hi, yi, color=color, **left)
        elif not np.isfinite(ratio) or not np.isfinite(hi):
            a1.plot(lo if lo > 0 else 1, yi, color=color, **dict(BOUND_MARKER, marker=">"))
        else:
            a1.errorbar(ratio, yi, xerr=[[ratio - lo], [hi - ratio]], marker="o", color=color, capsize=3)
    a1.axvline(1, color="0.5", linestyle="--", linewidth=1)
    log_axis(a1)
    a1.set_xlabel("after / before (ratio, dimensionless)")
    a1.plot([], [], marker="o", color="#2ca02c", linestyle="none", label="difference significant")
    a1.plot([], [], marker="o", color="0.4", linestyle="none", label="not significant")
    if (d["ratio"] == 0).any():
        a1.plot([], [], color="0.3", label="< upper bound (no hits after)", **left)
    legend(a1, loc="best")
    a1.set_title("ratio after / before (95% interval)", fontsize="medium")
    for ax in (a0, a1):
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_ylim(-0.7, len(d) - 0.3)
    change = d["change"].iloc[0] if len(d) else ""
    fig.suptitle("\n".join(textwrap.wrap(f"after = before with {change}", 110)), fontsize="small")
    return fig


def plot_sensitivity(sens, top=15):
    """A sensitivity ranking (load_sensitivity): the `top` parameters by |elasticity| with their 95%
    intervals, most influential on top; parameters whose elasticity is exactly 0 (the case never
    charges them) are left out and counted in the title."""
    s = sens.copy()
    zero = int((s["elasticity"] == 0).sum())
    s = s[s["elasticity"] != 0]
    s = s.reindex(s["elasticity"].abs().sort_values(ascending=False).index).head(top)
    fig, axes = figure(width=7.5, height=0.34 * len(s) + 1.6)
    ax = axes[0][0]
    ys = np.arange(len(s))[::-1]
    colors = np.where(s["elasticity"] > 0, "#d62728", "#1f77b4")
    ax.barh(ys, s["elasticity"], color=colors, alpha=0.8)
    ax.errorbar(s["elasticity"], ys, xerr=[s["elasticity"] - s["elasticity_lo"], s["elasticity_hi"] - s["elasticity"]],
                color="black", linestyle="none", capsize=2)
    ax.set_yticks(ys, list(s["parameter"]), fontsize="small")
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_xlabel("elasticity d ln P / d ln parameter (dimensionless; 95% interval)")
    ax.set_title(f"sensitivity of P(hit): top {len(s)}" + (f", {zero} parameters at exactly 0 not shown" if zero else ""),
                 fontsize="medium")
    ax.legend(handles=[patch("#d62728", "larger -> P(hit) higher"), patch("#1f77b4", "larger -> P(hit) lower")],
              fontsize="small", loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def plot_validation(sim, exact, hazards=None, label="case"):
    """Simulated (crude or forced) estimates against `racewin exact`: per case and hazard, the
    estimate over the exact value with its 95% interval; 1 (dashed) is agreement. Rows are matched
    on case and hazard; the exact values are printed beside them."""
    m = sim.merge(exact[["case", "hazard", "p"]].rename(columns={"p": "exact"}), on=["case", "hazard"])
    if hazards is not None:
        m = m[m["hazard"].isin(hazards)]
    m = m[m["exact"] > 0].reset_index(drop=True)
    fig, axes = figure(width=7.0, height=0.5 * len(m) + 1.8)
    ax = axes[0][0]
    ys = np.arange(len(m))[::-1]
    for i, (yi, (_, r)) in enumerate(zip(ys, m.iterrows())):
        c = case_color(0 if r.get("method") == "crude" else 1)
        ax.errorbar(r["p"] / r["exact"], yi, xerr=[[(r["p"] - r["p_lo"]) / r["exact"]], [(r["p_hi"] - r["p"]) / r["exact"]]],
                    marker="o", color=c, capsize=3)
        ax.annotate(f"exact {r['exact']:.4g}", (1, 0), xycoords=("axes fraction", "data"), xytext=(4, yi),
                    textcoords=("offset points", "data"), fontsize="x-small", va="center")
    for method, i in (("crude", 0), ("force", 1)):
        if "method" in m and (m["method"] == method).any():
            ax.plot([], [], marker="o", color=case_color(i), linestyle="none", label=f"{method} simulation")
    ax.axvline(1, color="0.4", linestyle="--", linewidth=1)
    ax.set_yticks(ys, [f"{r[label]}\n{r['hazard']}" for _, r in m.iterrows()], fontsize="small")
    ax.set_xlabel(f"simulated / exact {P_LABEL} (ratio, 95% interval)")
    ax.set_title("simulation against racewin exact", fontsize="medium")
    legend(ax, loc="best")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


__all__ = ["plot_windows", "plot_compare", "plot_sensitivity", "plot_validation"]
