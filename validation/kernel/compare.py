#!/usr/bin/python3
"""Measured beside predicted: validation/kernel/'s real-kernel runs against racewin's prediction.

    validation/kernel/compare.py PREDICTION_DIR RESULT.json [RESULT.json ...]

PREDICTION_DIR is a `racewin run --out` of the prediction scenario (predictions/, made by
make_prediction.py and committed before the runs); each RESULT.json a run.sh result. A result is
matched to the case ARCH_tcg_KERNEL, ARCH_tcg_KERNEL_udelayN for the modified kernels of
run.sh --widen-us N, with _debug after it for run.sh --config debug. For each: the measured Bad page state reports per writer iteration
(Clopper-Pearson 95% over the writer's iterations: a report is one page freed while locked, at
most one an iteration) and per guest second (exact Poisson 95%), counted over the span whose
reports were all counted (counted_until), beside the predicted P(hit) per writer iteration and
events per simulated second with racewin's intervals, and the loops' rates. They agree when the
intervals overlap, or within a factor of three (the issue's test); a measured zero with an upper
bound above the prediction is no disagreement, and a prediction with no hit whose upper bound is more
than ten times the measured one is no test.
"""
import json
import sys
from pathlib import Path

from scipy.stats import beta, chi2


def clopper_pearson(k: int, n: int) -> tuple:
    if n <= 0:
        return (0.0, 1.0)
    lo = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
    hi = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
    return (float(lo), float(hi))


def poisson_rate(k: int, t: float) -> tuple:
    lo = 0.0 if k == 0 else chi2.ppf(0.025, 2 * k) / 2
    hi = chi2.ppf(0.975, 2 * k + 2) / 2
    return (float(lo) / t, float(hi) / t)


def counted_until(res: dict) -> float | None:
    """Seconds from the loops' start up to which every report was counted; None for the whole run.

    bad_page() (mm/page_alloc.c, v5.9) prints 60 reports, then keeps quiet until a minute after the
    first of them; the next report after that minute prints "N messages suppressed" first. So the
    printed reports come in minutes of at most 60, and a run's last minute's suppressed reports are
    never printed: when that minute printed its 60 (the printed count a multiple of 60), the count
    is complete only up to the 60th."""
    reps = sorted(r["at_s"] for r in res["bad_page"]["reports"] if r.get("at_s") is not None)
    return reps[-1] if reps and len(reps) % 60 == 0 else None


def iterations_by(res: dict, t: float) -> int:
    """The writer's iterations in the first t seconds of the loops (the guest's per-second progress
    lines, interpolated; all of them when t is the run's end)."""
    total = (res["loops"].get("write") or {}).get("iterations", 0)
    if t >= res["loops"]["seconds"]:
        return total
    prev_t, prev_n = 0.0, 0
    for pt, _mad, wr in res.get("progress") or []:
        if pt >= t:
            return int(prev_n + (wr - prev_n) * (t - prev_t) / (pt - prev_t)) if pt > prev_t else wr
        prev_t, prev_n = pt, wr
    return total


def measured(res: dict) -> dict:
    loops = res["loops"] or {}
    n_all = (loops.get("write") or {}).get("iterations", 0)
    t_all = res["run"]["guest_s"] or 0.0
    k = res["bad_page"]["count"]
    cut = counted_until(res) if loops else None
    if cut is not None and cut >= loops["seconds"]:
        cut = None
    n, t = (iterations_by(res, cut), cut) if cut is not None else (n_all, t_all)
    return {"k": k, "writer_iterations": n, "guest_s": t, "p": k / n if n else 0.0, "p_ci": clopper_pearson(min(k, n), n),
            "per_s": k / t if t else 0.0, "per_s_ci": poisson_rate(k, t) if t else (0.0, float("inf")),
            "writer_per_s": n_all / t_all if t_all else 0.0,
            "madvise_per_s": (loops.get("madvise") or {}).get("iterations", 0) / t_all if t_all else 0.0,
            "valid": res["run"]["valid"], "counted_s": cut}


def predicted(results: dict, case: str) -> dict | None:
    for c in results["cases"]:
        if c["case"] != case:
            continue
        h = next(h for h in c["hazards"] if h["hazard"] == "bad_page_state")
        sim_s = c["sim_time_ns"] / 1e9
        it = c.get("thread_iterations") or {}
        return {"p": h["p_iteration_hit"], "p_ci": tuple(h["p_iteration_hit_ci95"]), "per_s": h["events_per_s"],
                "per_s_ci": tuple(h["events_per_s_ci95"]), "writer_per_s": c["iterations"] / sim_s,
                "madvise_per_s": (it.get("madvise", 0) / sim_s) if isinstance(it, dict) else 0.0, "dumps": h.get("reports")}
    return None


def dumps_measured(res: dict) -> dict:
    """The printed dumps (bad_page() dumps the first 60 reports of a minute): how many, how many
    show a page a write() went through (PG_dirty: set_page_dirty_lock after the copy), and how many
    still show PG_locked when dumped."""
    reps = res["bad_page"]["reports"]
    return {"dumped": len(reps), "written": sum("dirty" in r["flags"] for r in reps),
            "locked": sum("locked" in r["flags"] for r in reps)}


def dumps_line(who: str, d: dict) -> str:
    n = d["dumped"]
    share = lambda k: f"{k}/{n} = {k / n:.2f} [{clopper_pearson(k, n)[0]:.2f}, {clopper_pearson(k, n)[1]:.2f}]"
    return f"  dumps {who}: written through {share(d['written'])}; PG_locked at the dump {share(d['locked'])}"


def agreement(m: tuple, p: tuple, mv: float, pv: float) -> str:
    if m[0] <= p[1] and p[0] <= m[1]:
        # A prediction whose interval runs from 0 to far above what was measured overlaps anything
        # (no hit, or too few to bound it: UNRELIABLE): said, not counted as agreement.
        if p[0] == 0 and m[1] > 0 and p[1] > 10 * m[1]:
            what = "saw no hit" if pv == 0 else "rests on too few hits"
            return f"no test: the prediction {what} and its upper bound is {p[1] / m[1]:.3g} times the measured one"
        return "agree (intervals overlap)"
    if mv > 0 and pv > 0 and max(mv / pv, pv / mv) <= 3:
        return f"agree within a factor of three ({pv / mv:.2f})"
    if mv == 0:
        return "DISAGREE: predicted above the measured upper bound"
    if pv == 0:
        return "DISAGREE: hit on the real kernel, the prediction's upper bound below it"
    return f"DISAGREE: predicted/measured {pv / mv:.3g}"


def fmt_ci(v: float, ci: tuple) -> str:
    hi = "inf" if ci[1] is None or ci[1] == float("inf") else f"{ci[1]:.3g}"
    return f"{v:.3g} [{ci[0]:.3g}, {hi}]"


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    results = json.loads((Path(sys.argv[1]) / "results.json").read_text())
    rows = []
    for f in sys.argv[2:]:
        res = json.loads(Path(f).read_text())
        k = res["kernel"]
        name = (f"{res['platform']['arch']}_tcg_{k['variant']}" + (f"_udelay{k['widen_us']}" if k["modified"] else "")
                + ("_debug" if k.get("config") == "debug" else ""))
        m = measured(res)
        p = predicted(results, name)
        label = name + (f" (modified: udelay({k['widen_us']}) after wp_page_reuse)" if k["modified"] else "")
        rows.append(f"{label}: {Path(f).name}{'' if m['valid'] else '  INVALID: ' + '; '.join(res['run']['problems'])}")
        rows.append(f"  measured   {m['k']} Bad page state in {m['writer_iterations']} writer iterations, {m['guest_s']:.1f} guest s; "
                    f"madvise {m['madvise_per_s']:.0f}/s, writer {m['writer_per_s']:.0f}/s")
        if m["counted_s"] is not None:
            rows.append(f"             counted over the first {m['counted_s']:.1f} s ({m['k']} reports, {m['writer_iterations']} writer iterations): "
                        "bad_page() suppressed the rest of its last minute's reports, which are never printed")
        rows.append(f"             P per writer iteration {fmt_ci(m['p'], m['p_ci'])}; per second {fmt_ci(m['per_s'], m['per_s_ci'])}")
        if p is None:
            rows.append("  predicted  (no case in the prediction)")
            continue
        rows.append(f"  predicted  P per writer iteration {fmt_ci(p['p'], p['p_ci'])}; per second {fmt_ci(p['per_s'], p['per_s_ci'])}; "
                    f"madvise {p['madvise_per_s']:.0f}/s, writer {p['writer_per_s']:.0f}/s")
        rows.append(f"  per iteration: {agreement(m['p_ci'], p['p_ci'], m['p'], p['p'])}; "
                    f"per second: {agreement(m['per_s_ci'], p['per_s_ci'], m['per_s'], p['per_s'])}")
        dm, dp = dumps_measured(res), p.get("dumps")
        if dm["dumped"] and dp and dp.get("dumped"):
            rows.append(dumps_line("measured ", dm))
            rows.append(dumps_line("predicted", {"dumped": dp["dumped"], "written": dp["route_written"], "locked": dp["locked_at_dump"]}))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
