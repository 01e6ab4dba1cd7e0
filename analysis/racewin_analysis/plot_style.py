"""Shared pieces of the plots: labels with units, duration axes, and drawing an estimate whose
interval is known, or whose only knowledge is an upper bound (no hit), as an upper-bound marker."""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import LogLocator, NullFormatter

P_LABEL = "P(hit) per iteration"
T_LABEL = "simulated time per hit iteration (s)"
BOUND_MARKER = dict(marker="v", markersize=8, markerfacecolor="white", linestyle="none")
BOUND_LABEL = "no hit: 95% upper bound"
ARCH_COLORS = {"s390x": "#1f5fa8", "x86_64": "#d2601a"}

_DUR_UNITS = [(1e-9, "ns"), (1e-6, "us"), (1e-3, "ms"), (1.0, "s")]


def figure(ncols=1, nrows=1, width=6.4, height=4.4, **kw):
    """A figure of ncols x nrows axes (each width x height inches), constrained layout."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                             constrained_layout=True, **kw)
    return fig, axes


def duration_unit(seconds):
    """(scale, unit) to show durations given in seconds: the largest unit below their median."""
    v = np.nanmedian(np.asarray(seconds, dtype=float))
    scale, unit = _DUR_UNITS[0]
    for s, u in _DUR_UNITS:
        if v >= s:
            scale, unit = s, u
    return scale, unit


def pretty(name):
    """'steal_interarrival' -> 'steal interarrival'."""
    return str(name).replace("_", " ")


def rounded(values, digits=3):
    """Numbers as labels with as few significant digits as tell them apart, `digits` at least:
    [1, 2.71442, 7.38906] -> ['1', '2.71', '7.39']."""
    values = [float(v) for v in values]
    for d in range(digits, 16):
        texts = [f"{v:.{d}g}" for v in values]
        if len(set(texts)) == len(set(values)):
            return texts
    return [repr(v) for v in values]


def duration_labels(seconds, digits=3):
    """Durations in seconds as short labels, each in its own unit and rounded as `rounded` does:
    [0.00271442, 5e-05] -> ['2.71ms', '50us']."""
    seconds = [float(v) for v in seconds]
    units = [duration_unit([v]) for v in seconds]
    scaled = rounded([v / sc for v, (sc, _) in zip(seconds, units)], digits)
    if len(set(zip(scaled, (u for _, u in units)))) < len(set(seconds)):  # rounding merged two: more digits
        return duration_labels(seconds, digits + 1) if digits < 15 else [f"{v}s" for v in seconds]
    return [f"{t}{u}" for t, (_, u) in zip(scaled, units)]


def readable(col):
    """A column name as a caption or header says it: 'steal_interarrival_s' -> 'steal interarrival',
    'p_hi' -> 'P 95% high'."""
    names = {"p": "P(hit) per iteration", "p_lo": "P 95% low", "p_hi": "P 95% high",
             "events_per_s": "events [/s]", "time_per_hit_s": "time per hit iteration [s]",
             "counted_before": "hits before", "counted_after": "hits after", "ratio": "after/before",
             "ratio_lo": "after/before 95% low", "ratio_hi": "after/before 95% high", "significant": "significant",
             "states": "states", "solver": "solver", "p_divided": "P divided", "p_multiplied": "P multiplied",
             "elasticity_lo": "elasticity 95% low", "elasticity_hi": "elasticity 95% high"}
    col = str(col)
    if col in names:
        return names[col]
    return pretty(col[:-2] if col.endswith("_s") else col)


def axis_values(df, col):
    """The values to plot for a swept column, with an axis label carrying the unit: a `<name>_s`
    column (seconds) is shown in ns/us/ms/s; other numeric columns as they are."""
    if col.endswith("_s") and col[:-2] in df:
        scale, unit = duration_unit(df[col])
        return df[col] / scale, f"{pretty(col[:-2])} ({unit})"
    return df[col], pretty(col)


def spans_decades(values, decades=1.0):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return len(v) > 1 and np.log10(v.max() / v.min()) >= decades


def draw_estimates(ax, x, est, color, label=None, band=True, marker="o", connect=True):
    """Draws the rows of `est` (columns p, p_lo, p_hi, bound_only) at positions x: estimates as
    markers joined by a line, their 95% interval as a band (or error bars with band=False); rows
    with no hit as an upper-bound marker at p_hi (never a point at 0). Returns the estimate line."""
    x = np.asarray(x)
    hit = ~est["bound_only"].to_numpy() & (est["p"].to_numpy() > 0)
    line = None
    if hit.any():
        xs, p = x[hit], est["p"].to_numpy()[hit]
        lo, hi = est["p_lo"].to_numpy()[hit], est["p_hi"].to_numpy()[hit]
        if band:
            (line,) = ax.plot(xs, p, marker=marker, color=color, label=label, linestyle="-" if connect else "none")
            if len(xs) > 1:
                ax.fill_between(xs, lo, hi, color=color, alpha=0.2, linewidth=0)
            else:
                ax.errorbar(xs, p, yerr=[p - lo, hi - p], color=color, capsize=3, linestyle="none")
        else:
            cont = ax.errorbar(xs, p, yerr=[p - lo, hi - p], marker=marker, color=color, label=label,
                               capsize=3, linestyle="-" if connect else "none")
            line = cont.lines[0]
    if (~hit).any():
        ax.plot(x[~hit], est["p_hi"].to_numpy()[~hit], color=color, **BOUND_MARKER,
                label=None if hit.any() else label)
    few = unreliable(est)
    if few.any():  # hollow: an order of magnitude only
        ax.plot(x[few], est["p"].to_numpy()[few], marker="o", markerfacecolor="white", color=color, linestyle="none")
    return line


def bound_proxy():
    """A legend entry explaining the upper-bound marker."""
    return Line2D([], [], color="0.3", label=BOUND_LABEL, **BOUND_MARKER)


FEW_LABEL = "hollow: < 30 effective hits"


def legend(ax, extra_bound=False, few=False, **kw):
    handles, labels = ax.get_legend_handles_labels()
    if extra_bound:
        handles.append(bound_proxy())
        labels.append(BOUND_LABEL)
    if few:
        handles.append(Line2D([], [], marker="o", markerfacecolor="white", color="0.3", linestyle="none"))
        labels.append(FEW_LABEL)
    if handles:
        ax.legend(handles, labels, fontsize="small", **kw)


def case_color(i):
    return plt.get_cmap("tab10")(i % 10)


def arch_column(df):
    """The column holding the resolved architecture ("s390x"): `arch_resolved` in a sweep with an
    `arch` axis, else `arch`."""
    return "arch_resolved" if "arch_resolved" in df else "arch"


def patch(color, label):
    """A legend entry for a coloured bar."""
    return Patch(facecolor=color, label=label)


def log_axis(ax, axis="x", values=None):
    """A log axis that spans at least one decade boundary, with labels on decades only (no crowded
    minor labels when the data span less than a decade). With `values`, the limits are set from
    their positive finite ones (shared axes do not always autoscale to every panel's data)."""
    getattr(ax, f"set_{axis}scale")("log")
    v = np.asarray(values if values is not None else [], dtype=float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if len(v):
        getattr(ax, f"set_{axis}lim")(v.min() / 3, v.max() * 3)
    lo, hi = getattr(ax, f"get_{axis}lim")()
    if lo > 0 and np.floor(np.log10(hi)) - np.floor(np.log10(lo)) < 1:
        lo = 10 ** np.floor(np.log10(lo))
        hi = max(hi, lo * 10)
        getattr(ax, f"set_{axis}lim")(lo, hi)
    a = getattr(ax, f"{axis}axis")
    a.set_major_locator(LogLocator(base=10, numticks=12))
    a.set_minor_formatter(NullFormatter())


def unreliable(est):
    """Rows of a forced estimate carried by fewer than 30 effective hits (racewin marks them
    UNRELIABLE: an order of magnitude, not a figure)."""
    if "effective_hits" not in est or "method" not in est:
        return np.zeros(len(est), dtype=bool)
    return ((est["method"] == "force") & (est["effective_hits"] < 30) & (est["p"] > 0)).to_numpy()
