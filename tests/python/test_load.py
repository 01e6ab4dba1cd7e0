"""Loading run, sweep, sensitivity, compare and exact directories into tidy DataFrames."""
import json
import os

import numpy as np
import pandas as pd
import pytest

from racewin_analysis import load as L


def test_detect_kinds(run_dir, sweep_dir, compare_dir, exact_dir, tmp_path):
    assert L.detect_kinds(run_dir) == ["run"]
    assert L.detect_kinds(sweep_dir) == ["sweep"]
    assert L.detect_kinds(compare_dir) == ["compare"]
    assert "exact" in L.detect_kinds(exact_dir)
    with pytest.raises(ValueError):
        L.load(str(tmp_path))


def test_run_rows_and_parameter_columns(run_dir):
    doc = json.load(open(os.path.join(run_dir, "results.json")))
    df = L.load(run_dir)
    assert len(df) == sum(len(c["hazards"]) for c in doc["cases"])
    for col in ("case", "arch", "hypervisor", "pv_tlb_flush", "path_writer", "steal_interarrival", "hazard",
                "method", "p", "p_lo", "p_hi", "bound_only", "time_per_hit_s", "time_per_hit_lo", "iterations"):
        assert col in df, col
    assert df["p"].dtype == float and df["iterations"].dtype.kind == "i" and df["bound_only"].dtype == bool
    arch = df.drop_duplicates("case").set_index("case")["arch"]
    assert arch["s390x_zvm_v5.9-rc4"] == "s390x" and arch["x86_64_kvm_v5.9-rc4"] == "x86_64"
    writer = df.drop_duplicates("case").set_index("case")["path_writer"]
    assert writer["s390x_zvm_v5.9-fixed"] == "proc_mem_write_v5.9"
    b = df[df["hazard"] == "bad_page_state"].set_index("case")
    assert b.loc["s390x_zvm_v5.9-rc4", "method"] == "force"
    assert (b["p_lo"] <= b["p"]).all() and (b["p"] <= b["p_hi"]).all()
    # The fix has no window: no hit, so only a bound, and no finite time per hit.
    assert b.loc["s390x_zvm_v5.9-fixed", "bound_only"]
    assert np.isnan(b.loc["s390x_zvm_v5.9-fixed", "time_per_hit_s"])
    assert b.loc["s390x_zvm_v5.9-fixed", "time_per_hit_lo"] > 0


def test_windows(run_dir):
    w = L.load_windows(run_dir)
    assert {"case", "window", "opened", "closed", "mean_length_ns", "max_length_ns", "opened_per_s",
            "share_stretched_by_steal"} <= set(w.columns)
    assert (w["max_length_ns"] >= w["mean_length_ns"]).all()
    assert "s390x_zvm_v5.9-fixed" not in set(w["case"])  # the fix's path opens no window


def test_sweep(sweep_dir):
    df = L.load(sweep_dir)
    assert df.attrs["params"] == ["steal_interarrival", "steal_median"]
    assert df["point"].nunique() == 4 and len(df) == 4  # one case, one hazard
    assert list(df.columns[:3]) == ["point", "steal_interarrival", "steal_median"]
    assert df["steal_interarrival_s"].dtype == float
    assert sorted(df["steal_interarrival_s"].unique()) == pytest.approx([1e-3, 1e-2])
    assert sorted(df["steal_median_s"].unique()) == pytest.approx([50e-6, 1e-3])
    assert set(df["arch"]) == {"s390x"}
    assert df["steal_interarrival_resolved"].str.contains("exponential").all()
    csv = pd.read_csv(os.path.join(sweep_dir, "sweep.csv"))
    merged = df.merge(csv, on=["point", "case", "hazard"], suffixes=("", "_csv"))
    assert np.allclose(merged["p"], merged["p_csv"], rtol=1e-5)


def test_sensitivity(sensitivity_dir):
    sw = L.load_sweep(sensitivity_dir)
    assert sw.attrs["params"] == ["parameter", "factor"] and sw["point"].nunique() == 7
    s = L.load_sensitivity(sensitivity_dir)
    assert list(s.columns) == ["rank", "parameter", "p_divided", "p_multiplied", "elasticity", "elasticity_lo",
                               "elasticity_hi", "reliable"]
    assert len(s) == 3 and (s["elasticity_lo"] <= s["elasticity"]).all()
    # the IPI is never sent on s390x: exactly zero
    assert s.set_index("parameter").loc["arch.ipi.latency", "elasticity"] == 0


def test_compare(compare_dir):
    df = L.load(compare_dir)
    assert set(df["measure"]) == {"p_iteration_hit", "events_per_s"}
    assert {"case", "hazard", "before", "before_lo", "before_hi", "after", "ratio", "ratio_hi", "significant",
            "change", "common"} <= set(df.columns)
    assert df["significant"].dtype == bool
    assert df["change"].iloc[0] == "threads.writer.path=../models/mm/proc_mem_write_v5.9.yaml"
    assert len(df) == 2 * df["hazard"].nunique()


def test_exact(exact_dir):
    df = L.load_exact(exact_dir)
    row = df[df["hazard"] == "window:race"].iloc[0]
    assert row["method"] == "exact" and row["states"] > 0 and row["arch"] == "validation"
    assert 0 < row["p"] < 1 and row["p_lo"] == row["p"] == row["p_hi"]


def test_parse_duration():
    assert L.parse_duration("220us") == pytest.approx(2.2e-4)
    assert L.parse_duration("4.47214ms") == pytest.approx(4.47214e-3)
    assert L.parse_duration("../models/arch/s390x.yaml") is None
