"""Writes the notebooks (stored without outputs): /usr/bin/python3 notebooks/make_notebooks.py.
Each runs top to bottom on outputs it makes itself by calling racewin (racewin_analysis.runner:
$RACEWIN, else build/racewin in the source tree, else racewin on PATH), from the repository (cwd
notebooks/ or the root, using its analysis/ package) or installed (share/racewin/notebooks, with
racewin_analysis importable and the models and configs from `racewin --data-dir`)."""
import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = '''%matplotlib inline
import os, sys, tempfile
# From the source tree (cwd notebooks/ or the repository root) use its analysis/ package; installed
# (opened from share/racewin/notebooks), racewin_analysis is already importable.
for _d in (os.path.join(os.getcwd(), "analysis"), os.path.join(os.getcwd(), "..", "analysis")):
    if os.path.isfile(os.path.join(_d, "racewin_analysis", "runner.py")):
        sys.path.insert(0, os.path.abspath(_d))
        break
import matplotlib.pyplot as plt
import pandas as pd
from racewin_analysis import load as L, plots as P
from racewin_analysis.runner import racewin, find_racewin, data_dir, data_path
OUT = tempfile.mkdtemp(prefix="racewin_nb_")
SCENARIO = data_path("configs", "dirtyc0w_child.yaml")
print("racewin:", find_racewin(), "| models and configs:", data_dir(), "| outputs in", OUT)'''

ASSUMPTIONS = """**The model's assumptions.** racewin runs the kernel paths (madvise's `zap_pte_range`, the
`/proc/self/mem` write through slow GUP into `do_wp_page`) as timed step programs on two simulated
vCPUs, one thread pinned to each (no guest scheduler, no mmap_lock). Step costs come from the
architecture profiles; those without a primary source (the s390 IPTE, SIGP and DIAG 9C costs, the
softirq tail) are *estimates*, marked [E] in the profiles. Hypervisor steal is a renewal process:
the running time between steals and the steal's length are distributions whose parameters,
above all the stall-start rate, are the free parameters of each hypervisor profile; no measured
z/VM or KVM dispatch-delay distribution was available. A hit needs the window's owner stalled
inside a ~20 ns window while madvise frees the page."""

FORCING = """**What forcing does.** `--rare-event force` speeds up the steal and interrupt arrivals of
the window owner's vCPU while a window is open, in branches copied from the crude run, and weighs
each hit by the exact likelihood ratio. It changes how the estimate is obtained, not the model:
the estimate is unbiased for the same model, its interval is a batch-means t interval, and an
estimate carried by fewer than 30 effective hits is an order of magnitude only (drawn hollow).
Cases whose windows only the periodic tick can stall (bare metal) and cases with no window (the
fix) stay crude: they give only an upper bound."""


def nb(cells):
    n = new_notebook(cells=[new_markdown_cell(c[3:]) if c.startswith("md:") else new_code_cell(c) for c in cells])
    n.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return n


STUDY = nb([
    """md:# s390x against x86_64: the dirtyc0w_child race

The September 2020 "BUG: Bad page state in process dirtyc0w_child" report: after "mm: do_wp_page()
simplification" (v5.9-rc4), `unlock_page()` ran after the page-table lock was dropped, and a
concurrent `madvise(MADV_DONTNEED)` could free the page while it was still locked. It showed on
s390 far more than elsewhere. This notebook runs a small version of the study
(`scripts/study.sh` runs the full one) and plots it.""",
    "md:" + ASSUMPTIONS,
    SETUP,
    "md:" + FORCING + """

Small budgets here: at most 2 simulated seconds a case, forced until the 95% interval of
P(bad_page_state) is within 30%. Seed 1, so the run is reproducible.""",
    '''cases = ["s390x_zvm_v5.9-rc4", "s390x_bare_v5.9-rc4", "s390x_zvm_v5.9-fixed",
         "x86_64_kvm_v5.9-rc4", "x86_64_bare_v5.9-rc4"]
study = os.path.join(OUT, "study")
racewin("run", SCENARIO, *sum([["--case", c] for c in cases], []), "--rare-event", "force",
        "--rel-error", "0.3", "--hazard", "bad_page_state", "--time", "2s", "--seed", "1", "--out", study)
df = L.load_run(study)
bad = df[df.hazard == "bad_page_state"].set_index("case")
bad[["arch", "hypervisor", "path_writer", "method", "p", "p_lo", "p_hi", "bound_only", "time_per_hit_s", "stopped_by"]]''',
    """md:Each case's P(hit) per writer iteration with its 95% interval. A triangle is an upper bound:
the case was never hit (bare metal, where only the aligned tick could stall the window, and the
fix, whose path opens no window at all: its zero is structural).""",
    "fig = P.plot_arch_side_by_side(df)",
    '''zvm, kvm = bad.loc["s390x_zvm_v5.9-rc4"], bad.loc["x86_64_kvm_v5.9-rc4"]
print(f"s390x z/VM / x86_64 KVM, P per iteration: {zvm.p / kvm.p:.3g} "
      f"(crude range from the intervals: {zvm.p_lo / kvm.p_hi:.3g} to {zvm.p_hi / kvm.p_lo:.3g})")
assert zvm.p_lo > 0 and kvm.p_lo > 0 and bad.loc["s390x_zvm_v5.9-fixed", "bound_only"]''',
    """md:The mean simulated time per hit iteration (the long-run time between failures of the LTP
loop) on a log scale. It depends almost linearly on the steal rate, the profile's free parameter,
so read it as "for this steal rate", not as a prediction for a real guest.""",
    "fig = P.plot_mttf(df)",
    """md:What the run records about the race window itself. `results.json` keeps per window only
counts, the mean and the maximum length and how many were stretched by steal or an interrupt:
there is no per-window length distribution to draw, so the plot shows those summaries.""",
    "fig = P.plot_windows(L.load_windows(study))",
    """md:What this small run does not show: the x86_64 KVM case without PV TLB flush needs two stalls
and stays unreliable even with forcing (the README's study gives an order of magnitude only), and
2 simulated seconds bound the crude cases only loosely.""",
])

STEAL = nb([
    """md:# Steal-time sensitivity

How P(bad_page_state) per writer iteration follows the two parameters of the steal renewal
process that no measurement pins down: the mean running time between steals (the stall-start
rate's inverse) and the steal's median length, for s390x under z/VM and x86_64 under KVM with PV
TLB flush. `configs/sweeps/dirtyc0w_steal.yaml` is the full version; this one is 3 x 2 points.""",
    "md:" + ASSUMPTIONS,
    SETUP,
    '''sweep_file = os.path.join(OUT, "steal.yaml")
open(sweep_file, "w").write(f"""sweep: steal_notebook
scenario: {SCENARIO}
cases: [s390x_zvm_v5.9-rc4, x86_64_kvm_v5.9-rc4]
seed: 1
run: {{time: 2s, rel_error: 0.3, rare_event: force, hazards: [bad_page_state]}}
axes:
  - {{name: steal_interarrival, key: hypervisor.steal.0.interarrival, template: "{{exponential: {{mean: $}}}}",
     log: {{from: 1ms, to: 20ms, points: 3}}}}
  - {{name: steal_median, key: hypervisor.steal.0.duration, template: "{{lognormal: {{median: $, sigma: 0.6}}}}",
     values: [50us, 1ms]}}
""")
steal = os.path.join(OUT, "steal")
racewin("sweep", sweep_file, "--out", steal)
df = L.load_sweep(steal)
df[["point", "case", "steal_interarrival", "steal_median", "p", "p_lo", "p_hi", "effective_hits", "stopped_by"]]''',
    """md:Only the first steal source is swept (z/VM's dispatch steal; KVM's host-scheduler steal, with
its short host-exit steal left as it is). Each point is a forced estimate to 30%: the bands are
95% intervals.""",
    'fig = P.plot_hazard_lines(df, "steal_interarrival_s", series="steal_median_s")',
    'fig = P.plot_hazard_heatmap(df, "steal_interarrival_s", "steal_median_s")',
    '''import numpy as np
for case, g in df.groupby("case"):
    g = g[g.steal_median == "50us"].sort_values("steal_interarrival_s")
    slope = np.polyfit(np.log(g.steal_interarrival_s), np.log(g.p), 1)[0]
    print(f"{case}: d ln P / d ln (mean time between steals) at 50 us steals = {slope:.2f}")
assert (df.p > 0).all()''',
    """md:What to read: a slope near -1 means P is about proportional to the steal rate, so the
answer is only as good as that rate; where the steal's length matters too (x86_64 here, where the
writer must stay preempted while madvise's flush skips it) the length distribution needs a
measurement as well. The points share a seed, and three points per line fit a slope only
roughly.""",
])

WHATIF = nb([
    """md:# What if: edit a path variant, re-run, compare

A walkthrough of the what-if loop: copy a kernel path, change it, and let `racewin compare` run
the old and new paths on common random numbers. The change here is hypothetical: 200 ns more
work inside the race window of the buggy v5.9-rc4 `do_wp_page` (say, a tracepoint between the
page-table unlock and the misplaced `unlock_page`). Then the real fix, for contrast.""",
    "md:" + ASSUMPTIONS + """

To see hits in seconds, both sides run with very frequent short steal (every 30 us on average,
5 us long): this exaggerates the rate, and compares the paths under the same exaggeration.""",
    SETUP,
    '''src = data_path("models", "mm", "proc_mem_write_v5.9-rc4.yaml")
text = open(src).read()
anchor = "  - window_open: wp_reuse_page_locked_unreferenced\\n"
assert text.count(anchor) == 1
variant = os.path.join(OUT, "proc_mem_write_whatif.yaml")
open(variant, "w").write(text.replace(anchor, anchor + "  - {work: whatif_tracepoint, cost: 200ns}   # the what-if\\n"))
print("".join(l for l in open(variant).read().splitlines(True) if "window" in l or "whatif" in l))''',
    '''STEAL = ("hypervisor.steal={model: renewal, interarrival: {exponential: {mean: 30us}}, "
         "duration: {lognormal: {median: 5us, sigma: 0.3}}}")
def compare(after_path, name):
    out = os.path.join(OUT, name)
    racewin("compare", SCENARIO, "--case", "s390x_zvm_v5.9-rc4", "--time", "2s", "--batches", "10",
            "--set", STEAL, "--set-after", f"threads.writer.path={after_path}", "--out", out)
    return L.load_compare(out)
wider = compare(variant, "whatif")
wider[["hazard", "measure", "counted_before", "counted_after", "before", "after", "ratio", "ratio_lo", "ratio_hi", "significant"]]''',
    """md:Before is the v5.9-rc4 path, after the edited one; the right panel is after/before with its
95% interval (green: the difference is significant).""",
    'fig = P.plot_compare(wider, hazards=["bad_page_state"])',
    '''fix = compare(data_path("models", "mm", "proc_mem_write_v5.9.yaml"), "fix")
fig = P.plot_compare(fix, hazards=["bad_page_state"])
row = fix[(fix.hazard == "bad_page_state") & (fix.measure == "p_iteration_hit")].iloc[0]
assert row.counted_after == 0''',
    """md:The fix is never hit: its path clears PG_locked while the PTL is held, so no window opens,
and the after side gives only an upper bound (triangle). The widened window raises P(hit): a
window ten times longer is more often caught by a stall. How much it raises it under the shipped
steal profiles is a separate run (`racewin compare` without `--set`, rare-event forcing through
`racewin run --rare-event force` on each path); the exaggerated steal here only shows the
direction and the machinery.""",
])

VALIDATION = nb([
    """md:# Validation: simulation and rare-event estimates against `racewin exact`

`configs/validation/` holds scenarios whose every duration is exponential, so the model is a
continuous-time Markov chain that `racewin exact` solves. The simulation (crude Monte Carlo) and
rare-event forcing must contain the exact values in their 95% intervals, most of the time: with a
fixed seed each check below either passes or fails for good.""",
    """md:**Assumptions of these checks.** The validation profiles charge nothing for the kernel's
primitives and have no interrupts or IPIs: they test the simulator's and the estimators'
arithmetic, not the kernel model's figures. A 95% interval misses the truth one time in twenty;
the seeds here are fixed, so a miss would be a failure to look into, not noise.""",
    SETUP,
    '''VAL = data_path("configs", "validation")
def both(name, *run_args, cases=()):
    sel = sum([["--case", c] for c in cases], [])
    sim, ex = os.path.join(OUT, name + "_sim"), os.path.join(OUT, name + "_exact")
    racewin("run", os.path.join(VAL, name + ".yaml"), *sel, *run_args, "--seed", "1", "--out", sim)
    racewin("exact", os.path.join(VAL, name + ".yaml"), *sel, "--out", ex)
    return L.load_run(sim), L.load_exact(ex)
crude = [both("steal_window", "--iterations", "200000"),
         both("poisson_window", "--iterations", "200000"),
         both("competing_clocks", "--iterations", "200000")]
sim = pd.concat([s for s, _ in crude]); exact = pd.concat([e for _, e in crude])
m = sim.merge(exact[["case", "hazard", "p"]], on=["case", "hazard"], suffixes=("", "_exact"))
m = m[m.p_exact > 0][["case", "hazard", "method", "p", "p_lo", "p_hi", "p_exact"]]
m["inside"] = (m.p_lo <= m.p_exact) & (m.p_exact <= m.p_hi)
m''',
    "assert m.inside.all(), m[~m.inside]",
    "fig = P.plot_validation(sim, exact)",
    """md:Now the rare case: `stall_steal`, a 10 ns window hit only if its vCPU is stolen inside it
and long enough, with exact P near 1e-6 and 1e-9. Crude Monte Carlo would need about 1e8 and
1e11 iterations; forcing uses 40,000.""",
    '''fsim, fex = both("stall_steal", "--rare-event", "force", "--iterations", "40000", "--hazard", "window:race",
                 cases=("p1e-6", "p1e-9"))
f = fsim.merge(fex[["case", "hazard", "p"]], on=["case", "hazard"], suffixes=("", "_exact"))
f = f[f.hazard == "window:race"][["case", "method", "p", "p_lo", "p_hi", "p_exact", "effective_hits"]]
f["inside"] = (f.p_lo <= f.p_exact) & (f.p_exact <= f.p_hi)
f''',
    '''assert (f.method == "force").all() and f.inside.all() and (f.effective_hits >= 30).all()
fig = P.plot_validation(fsim, fex, hazards=["window:race"])''',
    """md:What this shows: on these chains the simulator and the forced estimator agree with the exact
solution within their intervals. It does not validate the dirtyc0w model's costs or steal
profiles, which no closed form checks: that is what the profiles' [C]/[E] marks and the
sensitivity sweep are about.""",
])

if __name__ == "__main__":
    for name, n in (("dirtyc0w_study", STUDY), ("steal_sensitivity", STEAL), ("whatif_path_variant", WHATIF),
                    ("validation_exact", VALIDATION)):
        for i, c in enumerate(n.cells):
            c.id = f"{name}-{i}"  # stable ids: regenerating changes only what changed
        nbformat.validate(n)
        nbformat.write(n, os.path.join(HERE, f"{name}.ipynb"))
        print("wrote", f"notebooks/{name}.ipynb")
