"""The standard plots. Each function takes DataFrames from racewin_analysis.load and returns a
matplotlib Figure; intervals are 95%, and an estimate with no hit is drawn as its upper bound
(a downward triangle), never as a point at 0.

  plot_hazard_lines      P(hit) against one swept parameter, a line with a band per series
  plot_hazard_heatmap    P(hit) over two swept parameters (a grid, via xarray)
  plot_arch_side_by_side P(hit) per case, s390x and x86_64 in panels side by side
  plot_mttf              simulated time per hit iteration, log scale
and, from plots_more: plot_windows, plot_window_lengths, plot_compare, plot_sensitivity, plot_validation.
"""
import matplotlib.colors as mcolors
import numpy as np

from .plot_style import (ARCH_COLORS, arch_column, log_axis, unreliable, P_LABEL, T_LABEL, axis_values, case_color, draw_estimates,
                         duration_labels, figure, legend, pretty, rounded, spans_decades)
from .plots_more import plot_compare, plot_sensitivity, plot_validation, plot_window_lengths, plot_windows  # noqa: F401


def _select(df, hazard):
    d = df[df["hazard"] == hazard]
    if d.empty:
        raise ValueError(f"no rows for hazard {hazard!r} (have {sorted(df['hazard'].unique())})")
    return d


def _panels(d, panel):
    return [(None, d)] if panel is None else [(k, g) for k, g in d.groupby(panel, sort=False)]


def plot_hazard_lines(df, x, series=None, panel="case", hazard="bad_page_state"):
    """P(hit) per iteration against the swept column `x` (a `<axis>_s` column is shown as a
    duration with its unit), one line with its 95% band per value of `series`, one panel per
    value of `panel` (side by side). Log y; log x when x spans a decade or more."""
    d = _select(df, hazard)
    panels = _panels(d, panel)
    fig, axes = figure(ncols=len(panels), width=5.2, height=4.2, sharey=True)
    levels = list(dict.fromkeys(d[series])) if series else [None]
    labels = _level_labels(levels, series) if series else {}
    for ax, (key, g) in zip(axes[0], panels):
        for i, level in enumerate(levels):
            s = g if series is None else g[g[series] == level]
            if s.empty:
                continue
            xv, xlabel = axis_values(s, x)
            order = np.argsort(xv.to_numpy())
            label = None if series is None else labels[level]
            draw_estimates(ax, xv.to_numpy()[order], s.iloc[order], case_color(i), label=label)
        xall, xlabel = axis_values(g, x)
        if spans_decades(xall):
            log_axis(ax)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_title(str(key) if key is not None else hazard, fontsize="medium")
        ax.grid(True, which="major", alpha=0.3)
        legend(ax, extra_bound=bool(g["bound_only"].any()), few=bool(unreliable(g).any()), title=_series_title(series))
    axes[0][0].set_ylabel(f"{P_LABEL} ({hazard})")
    log_axis(axes[0][0], "y", d[["p", "p_lo", "p_hi"]].to_numpy())
    return fig


def _series_title(series):
    if not series:
        return None
    return pretty(series[:-2]) if series.endswith("_s") else pretty(series)


def _level_labels(levels, series):
    """Legend labels of a series' levels, rounded to what tells them apart: a duration column
    (`<name>_s`, seconds) as '2.71ms', a number as '0.25', anything else as it is."""
    if series.endswith("_s"):
        return dict(zip(levels, duration_labels(levels)))
    if all(isinstance(v, (int, float, np.number)) for v in levels):
        return dict(zip(levels, rounded(levels)))
    return {v: str(v) for v in levels}


def plot_hazard_heatmap(df, x, y, panel="case", hazard="bad_page_state"):
    """P(hit) per iteration over a grid of two swept columns, one heatmap per `panel` value, on one
    shared log colour scale. Each cell is annotated with its estimate and 95% relative half-width;
    a cell with no hit is grey and shows its upper bound ("<"). The grid is an xarray DataArray."""
    d = _select(df, hazard)
    panels = _panels(d, panel)
    fig, axes = figure(ncols=len(panels), width=5.0, height=4.2)
    pos = d.loc[~d["bound_only"] & (d["p"] > 0), "p"]
    lo, hi = (np.log10(pos.min()), np.log10(pos.max())) if len(pos) else (-12, 0)
    norm = mcolors.Normalize(vmin=np.floor(lo), vmax=max(np.ceil(hi), np.floor(lo) + 1))
    mesh = None
    for ax, (key, g) in zip(axes[0], panels):
        grid = _grid(g, x, y)
        logp = np.log10(grid["p"].where(~grid["bound_only"].astype(bool) & (grid["p"] > 0)))
        mesh = ax.imshow(logp.values, origin="lower", cmap="viridis", norm=norm, aspect="auto")
        ax.set_facecolor("0.85")
        for (iy, ix), p in np.ndenumerate(grid["p"].values):
            if np.isnan(p):
                continue
            hw = (grid["p_hi"].values[iy, ix] - grid["p_lo"].values[iy, ix]) / 2
            bound = bool(grid["bound_only"].values[iy, ix])
            text = f"<{grid['p_hi'].values[iy, ix]:.1e}" if bound else f"{p:.2g}\n±{100 * hw / p:.0f}%"
            val = logp.values[iy, ix]
            dark = not bound and norm(val) < 0.6
            ax.text(ix, iy, text, ha="center", va="center", fontsize="small", color="white" if dark else "black")
        xl, yl = _tick_labels(g, x, grid[x].values), _tick_labels(g, y, grid[y].values)
        ax.set_xticks(range(len(xl[0])), xl[0])
        ax.set_yticks(range(len(yl[0])), yl[0])
        ax.set_xlabel(xl[1])
        ax.set_ylabel(yl[1])
        ax.set_title(str(key) if key is not None else hazard, fontsize="medium")
    cb = fig.colorbar(mesh, ax=list(axes[0]), shrink=0.9)
    cb.set_label(f"log10 {P_LABEL} ({hazard})")
    return fig


def _grid(g, x, y):
    cols = ["p", "p_lo", "p_hi", "bound_only"]
    return g.drop_duplicates([y, x]).set_index([y, x])[cols].astype(float).to_xarray()


def _tick_labels(g, col, values):
    """Tick labels for grid values, in the unit axis_values picks, and the axis label."""
    shown, label = axis_values(g, col)
    table = dict(zip(g[col], shown))
    return rounded([table[v] for v in values]), label


def plot_arch_side_by_side(df, hazard="bad_page_state", label="case", arch_order=("s390x", "x86_64")):
    """P(hit) per iteration of each case with its 95% interval, one panel per architecture
    (s390x, then x86_64, then any other), sharing a log y axis so the two can be read across."""
    d = _select(df, hazard)
    ac = arch_column(d)
    archs = [a for a in arch_order if a in set(d[ac])] + sorted(set(d[ac]) - set(arch_order))
    widths = [max(2, (d[ac] == a).sum()) for a in archs]
    fig, axes = figure(ncols=len(archs), width=1.3 * sum(widths) / len(archs) + 1.5, height=4.6, sharey=True,
                       gridspec_kw={"width_ratios": widths})
    for ax, arch in zip(axes[0], archs):
        g = d[d[ac] == arch]
        color = ARCH_COLORS.get(arch, "0.3")
        draw_estimates(ax, np.arange(len(g)), g, color, label=arch, band=False, connect=False)
        for xi in np.flatnonzero(unreliable(g)):
            ax.annotate("few effective\nhits: order of\nmagnitude only", (xi, g["p"].iloc[xi]), xytext=(8, 0),
                        textcoords="offset points", fontsize="x-small", va="center", color="0.3")
        ticks = [str(v).replace(f"{arch} / ", "").replace(f"{arch}_", "").replace(" / ", "\n") for v in g[label]]
        multi = any("\n" in t for t in ticks)
        ax.set_xticks(range(len(g)), ticks, rotation=0 if multi else 35, ha="center" if multi else "right",
                      fontsize="small" if multi else None)
        ax.set_xlim(-0.6, len(g) - 0.4)
        ax.set_yscale("log")
        ax.set_title(arch, fontsize="medium")
        ax.set_xlabel(pretty(label))
        ax.grid(True, axis="y", alpha=0.3)
        legend(ax, extra_bound=bool(g["bound_only"].any()), loc="best")
    axes[0][0].set_ylabel(f"{P_LABEL} ({hazard})")
    log_axis(axes[0][0], "y", d[["p", "p_lo", "p_hi"]].to_numpy())
    return fig


_REFS = [(60, "1 min"), (3600, "1 h"), (86400, "1 day"), (86400 * 365, "1 year")]


def plot_mttf(df, hazard="bad_page_state", label="case"):
    """Simulated time per hit iteration (in the long run, the mean time between hits) per case,
    with its 95% interval, on a log axis with reference lines (1 min, 1 h, 1 day, 1 year). A case
    with no hit has only a lower bound: drawn as a right-pointing triangle ("at least")."""
    d = _select(df, hazard)
    fig, axes = figure(width=7.0, height=0.45 * len(d) + 1.6)
    ax = axes[0][0]
    ys = np.arange(len(d))[::-1]
    bound = d["bound_only"].to_numpy() | ~np.isfinite(d["time_per_hit_s"].to_numpy())
    ac = arch_column(d)
    colors = [ARCH_COLORS.get(a, "0.3") for a in d[ac]]
    for yi, (_, r), b, c in zip(ys, d.iterrows(), bound, colors):
        if b:
            ax.plot(r["time_per_hit_lo"], yi, marker=">", markersize=8, markerfacecolor="white", color=c)
        else:
            if unreliable(d.loc[[_]])[0]:
                ax.annotate("few effective hits: order of magnitude only", (r["time_per_hit_s"], yi), xytext=(0, 7),
                            textcoords="offset points", fontsize="x-small", ha="center", va="bottom", color="0.3")
            ax.errorbar(r["time_per_hit_s"], yi, xerr=[[r["time_per_hit_s"] - r["time_per_hit_lo"]],
                        [r["time_per_hit_hi"] - r["time_per_hit_s"]]], marker="o", color=c, capsize=3)
    ax.set_yticks(ys, list(d[label]))
    ax.set_xscale("log")
    finite = np.concatenate([d["time_per_hit_lo"], d["time_per_hit_hi"]]).astype(float)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    lo, hi = finite.min() / 3, finite.max() * 3
    ax.set_xlim(lo, hi)
    for t, name in _REFS:
        if lo < t < hi:
            ax.axvline(t, color="0.6", linestyle=":", linewidth=1)
            ax.text(t, ys.max() + 0.6, name, ha="center", va="bottom", fontsize="small", color="0.4")
    ax.set_ylim(-0.7, ys.max() + 1.1)
    ax.set_xlabel(T_LABEL)
    ax.set_title(f"time per hit iteration: {hazard}", fontsize="medium")
    for arch, c in ARCH_COLORS.items():
        if arch in set(d[ac]):
            ax.plot([], [], marker="o", color=c, linestyle="none", label=arch)
    if bound.any():
        ax.plot([], [], marker=">", markersize=8, markerfacecolor="white", color="0.3", linestyle="none",
                label="no hit: 95% lower bound")
    legend(ax, loc="lower right")
    ax.grid(True, axis="x", which="major", alpha=0.3)
    return fig
