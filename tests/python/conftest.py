"""Session fixtures: short racewin runs (fixed seeds, seconds each) whose outputs the tests load and
plot. The binary is $RACEWIN, else <repo>/build/racewin."""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import pytest  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "analysis"))

from racewin_analysis.runner import racewin  # noqa: E402

SCENARIO = os.path.join(REPO, "configs", "dirtyc0w_child.yaml")


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    racewin("run", SCENARIO, "--case", "s390x_zvm_v5.9-rc4", "--case", "x86_64_kvm_v5.9-rc4",
            "--case", "s390x_zvm_v5.9-fixed", "--rare-event", "force", "--rel-error", "0.3",
            "--hazard", "bad_page_state", "--time", "1s", "--seed", "1", "--jobs", "2", "--out", out)
    return str(out)


def _sweep(tmp_path_factory, name, body):
    d = tmp_path_factory.mktemp(name)
    f = d / "sweep.yaml"
    f.write_text(f"sweep: {name}\nscenario: {SCENARIO}\nseed: 1\n" + body)
    racewin("sweep", f, "--out", d / "out", "--jobs", "2")
    return str(d / "out")


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory):
    return _sweep(tmp_path_factory, "grid", """cases: [s390x_zvm_v5.9-rc4]
run: {time: 1s, rel_error: 0.3, rare_event: force, hazards: [bad_page_state]}
axes:
  - {name: steal_interarrival, key: hypervisor.steal.0.interarrival, template: "{exponential: {mean: $}}",
     values: [1ms, 10ms]}
  - {name: steal_median, key: hypervisor.steal.0.duration, template: "{lognormal: {median: $, sigma: 0.6}}",
     values: [50us, 1ms]}
""")


@pytest.fixture(scope="session")
def sensitivity_dir(tmp_path_factory):
    return _sweep(tmp_path_factory, "sens", """cases: [s390x_zvm_v5.9-rc4]
run: {time: 1s, rel_error: 0.3, rare_event: force, hazards: [bad_page_state]}
sensitivity: {hazard: bad_page_state, factor: 2,
              parameters: [hypervisor.steal.0.interarrival, arch.costs.unlock_page, arch.ipi.latency]}
""")


@pytest.fixture(scope="session")
def compare_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    racewin("compare", SCENARIO, "--case", "s390x_zvm_v5.9-rc4", "--time", "1s", "--batches", "10", "--jobs", "2",
            "--set", "hypervisor.steal={model: renewal, interarrival: {exponential: {mean: 30us}}, "
                     "duration: {lognormal: {median: 5us, sigma: 0.3}}}",
            "--set-after", "threads.writer.path=../models/mm/proc_mem_write_v5.9.yaml", "--out", out)
    return str(out)


@pytest.fixture(scope="session")
def exact_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("exact")
    racewin("exact", os.path.join(REPO, "configs", "validation", "steal_window.yaml"), "--out", out)
    return str(out)


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory):
    """The validation scenario exact_dir solves, simulated (crude) with a fixed seed."""
    out = tmp_path_factory.mktemp("sim")
    racewin("run", os.path.join(REPO, "configs", "validation", "steal_window.yaml"), "--iterations", "100000",
            "--seed", "1", "--out", out)
    return str(out)
