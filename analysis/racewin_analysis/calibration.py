"""A calibration's goodness of fit (`racewin calibrate PROBE --out DIR` writes DIR/fits.json):
each fitted law's measured quantiles against the chosen family's, as a table and as QQ plots. A
law whose points leave the diagonal is one the family does not describe: calibrate then takes the
measured (empirical) law, and the plot shows where the family was wrong."""
import json
import os

import numpy as np
import pandas as pd

from .plot_style import figure


def load_fits(directory):
    """One row per law and quantile: `law`, `family`, `taken` ("family" or "empirical"), `ks`,
    `ks_critical`, `n`, `probability`, `measured_ns`, `fitted_ns`."""
    with open(os.path.join(directory, "fits.json")) as f:
        doc = json.load(f)
    if doc.get("format") != "racewin-fits/1":
        raise ValueError(f"{directory}/fits.json: expected format racewin-fits/1, got {doc.get('format')!r}")
    rows = []
    for law in doc["laws"]:
        for p, m, q in zip(law["probability"], law["measured_ns"], law["fitted_ns"]):
            rows.append({"law": law["name"], "family": law["family"], "taken": law["taken"], "ks": law["ks"],
                         "ks_critical": law["ks_critical"], "n": law["n"], "probability": p, "measured_ns": m,
                         "fitted_ns": q})
    return pd.DataFrame(rows)


def fit_summary(df):
    """One row per law: its family, KS distance against the 5% bound, and what the profile took."""
    cols = ["law", "family", "n", "ks", "ks_critical", "taken"]
    return df[cols].drop_duplicates("law").reset_index(drop=True)


def plot_qq(df):
    """A QQ plot per law (log axes, nanoseconds): measured quantile against the family's at the
    same probability; the diagonal is a perfect fit."""
    laws = list(dict.fromkeys(df["law"]))
    ncols = min(3, len(laws))
    nrows = (len(laws) + ncols - 1) // ncols
    fig, axes = figure(ncols=ncols, nrows=nrows, width=3.8, height=3.6)
    for ax in axes.flat[len(laws):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, laws):
        d = df[df["law"] == name]
        lo = float(np.nanmin([d["measured_ns"].min(), d["fitted_ns"].min()]))
        hi = float(np.nanmax([d["measured_ns"].max(), d["fitted_ns"].max()]))
        ax.plot([lo, hi], [lo, hi], color="0.6", linewidth=1, label="a perfect fit")
        r = d.iloc[0]
        color = "#1f5fa8" if r["taken"] == "family" else "#d2601a"
        ax.scatter(d["fitted_ns"], d["measured_ns"], s=12, color=color, zorder=3,
                   label=f"{r['family']}, KS {r['ks']:.3f} (5% bound {r['ks_critical']:.3f})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"{r['family']} quantile (ns)")
        ax.set_ylabel("measured quantile (ns)")
        ax.set_title(f"{name}\n(taken: {r['taken']}, {r['n']} values)", fontsize="small")
        ax.legend(fontsize="x-small", loc="upper left")
        ax.grid(True, alpha=0.3)
    return fig
