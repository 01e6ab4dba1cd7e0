"""Loading racewin output directories into tidy pandas DataFrames.

One row per case and hazard (run, exact), per point, case and hazard (sweep), per case, hazard and
measure (compare), per case and window (windows). The resolved parameters are columns: `arch`,
`hypervisor`, `pv_tlb_flush`, `cpus`, `path_<thread>` (the path each thread runs), the first steal
source's `steal_interarrival` and `steal_duration` (as YAML-like text), and a sweep's own axes
(plus `<axis>_s`, in seconds, for an axis whose values are durations).

Estimates share names across kinds: `p`, `p_lo`, `p_hi` (P(hit) per iteration of the counted
thread, 95% interval), `bound_only` (no hit: `p_hi` is an upper bound, `p` = 0 is not an estimate),
`time_per_hit_s` with `time_per_hit_lo`/`_hi` (simulated seconds per hit iteration; with no hit only
`time_per_hit_lo`, a lower bound, is finite), `method` ("crude", "force" or "exact").
"""
import glob
import json
import math
import os
import re

import numpy as np
import pandas as pd

KINDS = ("run", "compare", "sweep", "exact", "calibration")
_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*([0-9.eE+-]+)\s*(ns|us|ms|s|min|h)\s*$")


def parse_duration(text):
    """'220us' -> 2.2e-4 (seconds); None when the text is not a duration with a unit."""
    m = _DURATION.match(str(text))
    if not m:
        return None
    try:
        return float(m.group(1)) * _UNITS[m.group(2)]
    except ValueError:
        return None


def detect_kinds(directory):
    """The kinds of output a directory holds, from its files: some of "run" (results.json),
    "compare" (compare.json), "sweep" (sweep.json or points/), "exact" (exact.json), "calibration"
    (fits.json, from racewin calibrate --out)."""
    has = lambda name: os.path.exists(os.path.join(directory, name))
    kinds = []
    if has("results.json"):
        kinds.append("run")
    if has("compare.json"):
        kinds.append("compare")
    if has("sweep.json") or glob.glob(os.path.join(directory, "points", "*.json")):
        kinds.append("sweep")
    if has("exact.json"):
        kinds.append("exact")
    if has("fits.json"):
        kinds.append("calibration")
    return kinds


def load(directory, kind=None):
    """Loads a directory of the given kind (default: the first detect_kinds finds)."""
    kinds = detect_kinds(directory)
    if kind is None:
        if not kinds:
            raise ValueError(f"{directory}: no results.json, compare.json, sweep.json, exact.json or fits.json")
        kind = kinds[0]
    if kind == "calibration":
        from .calibration import load_fits
        return load_fits(directory)
    return {"run": load_run, "compare": load_compare, "sweep": load_sweep, "exact": load_exact}[kind](directory)


def _read(path):
    with open(path) as f:
        return json.load(f)


def _compact(node):
    """A resolved config value as short YAML-like text: {'exponential': {'mean': '5ms'}} ->
    'exponential(mean=5ms)'."""
    if isinstance(node, dict):
        if len(node) == 1:
            (k, v), = node.items()
            if isinstance(v, dict):
                return f"{k}(" + ", ".join(f"{a}={_compact(b)}" for a, b in v.items()) + ")"
        return "{" + ", ".join(f"{k}: {_compact(v)}" for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_compact(v) for v in node) + "]"
    return str(node)


def _bool(v):
    if v is None:
        return None
    return str(v).lower() in ("true", "1", "yes")


def config_columns(config):
    """The resolved parameters of one case's `config` (results.json, exact.json, sweep points)."""
    arch, hyp = config.get("arch", {}), config.get("hypervisor", {})
    cols = {"arch": arch.get("arch"), "hypervisor": hyp.get("hypervisor"),
            "pv_tlb_flush": _bool(hyp.get("pv_tlb_flush")), "cpus": hyp.get("cpus")}
    steal = hyp.get("steal") or []
    steal = [s for s in (steal if isinstance(steal, list) else [steal]) if s.get("model") != "none"]
    cols["steal_sources"] = len(steal)
    cols["steal_interarrival"] = _compact(steal[0].get("interarrival", "")) if steal else "none"
    cols["steal_duration"] = _compact(steal[0].get("duration", "")) if steal else "none"
    for thread, p in sorted((config.get("paths") or {}).items()):
        cols[f"path_{thread}"] = p.get("path") if isinstance(p, dict) else p
    return cols


def _num(x):
    return np.nan if x is None else float(x)


def _time_per_hit(sim_time_s, iterations, p, p_lo, p_hi):
    """Mean simulated time per hit iteration, mean iteration time over P, its interval from P's."""
    if not iterations or not sim_time_s:
        return np.nan, np.nan, np.nan
    t = sim_time_s / iterations
    f = lambda q: t / q if q and q > 0 else math.inf
    return (f(p) if p > 0 else np.nan), f(p_hi), f(p_lo)


def load_run(directory):
    """A `racewin run --out DIR` directory: one row per case and hazard (results.json)."""
    doc = _read(os.path.join(directory, "results.json"))
    rows = []
    for c in doc["cases"]:
        cols = config_columns(c.get("config", {}))
        forced = {h["hazard"]: h for h in (c.get("rare_event") or {}).get("hazards", [])}
        stop = c.get("stopping") or {}
        for h in c["hazards"]:
            p_lo, p_hi = h["p_iteration_hit_ci95"]
            t_lo, t_hi = h["time_per_hit_iteration_s_ci95"]
            f = forced.get(h["hazard"])
            rows.append(dict(
                scenario=doc.get("scenario"), case=c["case"], **cols, engine=c.get("engine"), seed=c.get("seed"),
                hazard=h["hazard"], method="force" if f else "crude", iterations=c["iterations"],
                iterations_hit=h["iterations_hit"], events=h["events"], sim_time_s=c["sim_time_ns"] * 1e-9,
                p=h["p_iteration_hit"], p_lo=p_lo, p_hi=p_hi,
                events_per_s=h["events_per_s"], events_per_s_lo=h["events_per_s_ci95"][0],
                events_per_s_hi=h["events_per_s_ci95"][1],
                time_per_hit_s=_num(h["time_per_hit_iteration_s"]), time_per_hit_lo=_num(t_lo),
                time_per_hit_hi=math.inf if t_hi is None else float(t_hi),
                effective_hits=f["effective_hits"] if f else np.nan,
                stopped_by=stop.get("reason", ""), interrupted=bool(c.get("interrupted")),
                complete=bool(doc.get("complete", True))))
    return _finish(pd.DataFrame(rows))


def load_windows(directory):
    """Per case and race window of a run directory: counts and the summary statistics results.json
    keeps (mean and max length), rates per simulated second, and the share of closed windows
    stretched by steal or by an interrupt. The length distribution: load_window_lengths."""
    doc = _read(os.path.join(directory, "results.json"))
    rows = []
    for c in doc["cases"]:
        cols = config_columns(c.get("config", {}))
        t = c["sim_time_ns"] * 1e-9
        for w in c.get("windows", []):
            closed = w["closed"]
            rows.append(dict(case=c["case"], **cols, window=w["window"], opened=w["opened"], closed=closed,
                             hit=w["hit"], sim_time_s=t, opened_per_s=w["opened"] / t if t else np.nan,
                             mean_length_ns=w["mean_length_ns"], max_length_ns=w["max_length_ns"],
                             stretched_by_steal=w["stretched_by_steal"], stretched_by_irq=w["stretched_by_irq"],
                             share_stretched_by_steal=w["stretched_by_steal"] / closed if closed else np.nan,
                             share_stretched_by_irq=w["stretched_by_irq"] / closed if closed else np.nan,
                             p_window_hit=w["p_window_hit"], p_window_hit_lo=w["p_window_hit_ci95"][0],
                             p_window_hit_hi=w["p_window_hit_ci95"][1]))
    return pd.DataFrame(rows)


def load_window_lengths(directory):
    """Per case, race window and length bin of a run directory: the closed windows whose length fell
    in [bin_lo_ns, bin_hi_ns) (results.json length_histogram: 4 bins a decade from 1 ns; bin_lo_ns
    0 for those under 1 ns; bin_hi_ns inf for the last, open-ended bin) and their share of the
    closed windows."""
    doc = _read(os.path.join(directory, "results.json"))
    rows = []
    for c in doc["cases"]:
        cols = config_columns(c.get("config", {}))
        for w in c.get("windows", []):
            hist = w.get("length_histogram", {})
            edges, counts = hist.get("edges_ns", []), hist.get("counts", [])
            for i, n in enumerate(counts):
                hi = edges[i + 1]
                rows.append(dict(case=c["case"], **cols, window=w["window"], bin_lo_ns=float(edges[i]),
                                 bin_hi_ns=np.inf if hi is None else float(hi), count=n,
                                 share=n / w["closed"] if w["closed"] else np.nan))
    return pd.DataFrame(rows)


def load_exact(directory):
    """A `racewin exact --out DIR` directory: one row per case and hazard (exact.json). `p` is the
    long-run P(an iteration is hit); `p_within_k` and `mean_time_to_first_s` are from the start."""
    doc = _read(os.path.join(directory, "exact.json"))
    rows = []
    for c in doc["cases"]:
        cols = config_columns(c.get("config", {}))
        for h in c["hazards"]:
            rows.append(dict(scenario=doc.get("scenario"), case=c["case"], **cols, hazard=h["hazard"],
                             method="exact", p=h["p_iteration_hit"], p_lo=h["p_iteration_hit"],
                             p_hi=h["p_iteration_hit"], events_per_s=h["events_per_s"],
                             time_per_hit_s=_num(h["time_per_hit_iteration_s"]), k=doc.get("k"),
                             p_within_k=h["p_hit_within_k_iterations"],
                             mean_time_to_first_s=_num(h["mean_time_to_first_s"]),
                             iterations_per_s=c["iterations_per_s"], states=c["states"],
                             transitions=c["transitions"], solver=c["solver"], exponential=c["exponential"]))
    df = pd.DataFrame(rows)
    df["time_per_hit_lo"] = df["time_per_hit_s"]
    df["time_per_hit_hi"] = df["time_per_hit_s"]
    df["bound_only"] = False
    return df


def load_sweep(directory):
    """A `racewin sweep --out DIR` directory: one row per point, case and hazard, built from the
    point files (so an unfinished sweep loads what is done). The sweep's axes are columns, as in
    sweep.csv, with `<axis>_s` in seconds for duration axes; a sensitivity sweep's are `parameter`
    and `factor`. An axis keeps its name and values (as in sweep.csv); a resolved column of the
    same name is renamed `<name>_resolved` (an `arch` axis of profile files gives `arch_resolved`
    = "s390x"). The axes are listed in `df.attrs["params"]`. Use load_sensitivity for a sensitivity sweep's ranking."""
    meta_path = os.path.join(directory, "sweep.json")
    meta = _read(meta_path) if os.path.exists(meta_path) else {}
    rows = []
    for path in sorted(glob.glob(os.path.join(directory, "points", "*.json"))):
        pt = _read(path)
        for c in pt["cases"]:
            params = dict(pt["params"])
            cols = {(f"{k}_resolved" if k in params else k): v for k, v in config_columns(c.get("config", {})).items()}
            t, n = c["sim_time_ns"] * 1e-9, c["iterations"]
            for h in c["hazards"]:
                tp, tlo, thi = _time_per_hit(t, n, h["p"], h["p_lo"], h["p_hi"])
                rows.append(dict(point=pt["point"], **params, case=c["case"], **cols, hazard=h["hazard"],
                                 method=h["method"], p=h["p"], p_lo=h["p_lo"], p_hi=h["p_hi"], iterations=n,
                                 sim_time_s=t, iterations_hit=h["iterations_hit"], events=h["events"],
                                 effective_hits=h.get("effective_hits", np.nan), time_per_hit_s=tp,
                                 time_per_hit_lo=tlo, time_per_hit_hi=thi, stopped_by=c.get("stopped_by", ""),
                                 failed=bool(c.get("failure"))))
    df = pd.DataFrame(rows)
    params = meta.get("params") or []
    if len(df):
        first = ["point"] + [c for c in params if c in df]
        df = df[first + [c for c in df.columns if c not in first]]
    df.attrs["params"] = list(params)
    df.attrs["sweep"] = meta.get("sweep")
    if meta.get("sensitivity"):
        df.attrs["sensitivity"] = meta["sensitivity"]
    for name in params:
        if name not in df:
            continue
        secs = df[name].map(parse_duration)
        if len(df) and secs.notna().all():
            df[f"{name}_s"] = secs.astype(float)
        else:
            conv = pd.to_numeric(df[name], errors="coerce")
            if conv.notna().all():
                df[name] = conv
    return _finish(df)


def load_sensitivity(directory):
    """sensitivity.csv of a sensitivity sweep: rank, parameter, p_divided, p_multiplied, elasticity
    (d ln P / d ln parameter) and its 95% interval, most influential first; `reliable` is "true", or
    "UNRELIABLE" when an end's estimate cannot stand (few hits, or a forced one with none)."""
    return pd.read_csv(os.path.join(directory, "sensitivity.csv"))


def load_compare(directory):
    """A `racewin compare --out DIR` directory: compare.csv, one row per case, hazard and measure
    (`p_iteration_hit` or `events_per_s`), with `change` (the --set-after overrides, or the after
    file) and `common` (the --set overrides of both sides) as columns."""
    doc = _read(os.path.join(directory, "compare.json"))
    df = pd.read_csv(os.path.join(directory, "compare.csv"), keep_default_na=False,
                     na_values=[""]).replace({"inf": math.inf})
    for col in df.columns:
        if col not in ("case", "hazard", "measure", "note", "significant"):
            df[col] = pd.to_numeric(df[col], errors="coerce")
    df["significant"] = df["significant"].astype(str).str.lower() == "true"
    df["note"] = df["note"].fillna("")
    df["change"] = "; ".join(doc.get("set_after") or []) or doc.get("after_file", "")
    df["common"] = "; ".join(doc.get("set") or [])
    df["before_file"], df["after_file"] = doc.get("before_file"), doc.get("after_file")
    df["batches"] = doc.get("batches")
    return df


def _finish(df):
    if len(df):
        df["bound_only"] = (df["p"] == 0) & (df["p_hi"] > 0)
    return df
