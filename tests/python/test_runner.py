"""runner: where the racewin binary and the models/configs are found, in the source tree and installed
(the package outside any source tree, racewin on PATH answering --data-dir); the report CLI and a
notebook from an installed-style layout. The installed layout is faked: a copy of the package under
a temporary prefix and a `racewin` script on PATH."""
import json
import os
import shutil
import stat
import subprocess
import sys

import nbformat
import pytest

from racewin_analysis import runner

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE = os.path.join(REPO, "analysis", "racewin_analysis")


def script(path, body):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def install(prefix, racewin_body=None):
    """A fake `cmake --install --prefix PREFIX`: the package in PREFIX/site, PREFIX/share/racewin with
    configs/ and models/, and PREFIX/bin/racewin (by default printing the data directory for
    --data-dir and its cwd and arguments otherwise)."""
    site = prefix / "site"
    shutil.copytree(PACKAGE, site / "racewin_analysis", ignore=shutil.ignore_patterns("__pycache__"))
    data = prefix / "share" / "racewin"
    for d in ("configs", "models"):
        (data / d).mkdir(parents=True)
    (data / "configs" / "dirtyc0w_child.yaml").write_text("# fake\n")
    if racewin_body is None:
        racewin_body = f'[ "$1" = --data-dir ] && {{ echo "{data}"; exit 0; }}\npwd\necho "$@"\n'
    binary = script(prefix / "bin" / "racewin", racewin_body)
    return str(site), str(data), binary


PROBE = """
import json, os, racewin_analysis
from racewin_analysis import runner
out = {"package": racewin_analysis.__file__, "repo": runner.REPO}
try:
    out.update(racewin=runner.find_racewin(), data_dir=runner.data_dir(),
               scenario=runner.scenario("dirtyc0w_child"), model=runner.data_path("models", "mm", "x.yaml"),
               ran=runner.racewin("version").split("\\n"))
except FileNotFoundError as e:
    out["error"] = str(e)
print(json.dumps(out))
"""


def probe(site, path, cwd, racewin_env=None):
    """Runs PROBE with only SITE on PYTHONPATH, PATH as given and $RACEWIN unset (or set)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RACEWIN", "PYTHONPATH")}
    env.update(PYTHONPATH=site, PATH=path)
    if racewin_env:
        env["RACEWIN"] = racewin_env
    r = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_racewin_env_honoured(tmp_path, monkeypatch):
    fake = script(tmp_path / "elsewhere" / "my-racewin", 'pwd\necho "$@"\n')
    monkeypatch.setenv("RACEWIN", fake)
    assert runner.find_racewin() == fake
    # racewin() runs from data_dir(), the source tree here, and adds -q to run/compare/sweep/exact.
    assert runner.racewin("run", "x.yaml").split("\n")[:2] == [REPO, "run x.yaml -q"]
    assert runner.racewin("version", cwd=tmp_path).split("\n")[0] == str(tmp_path)
    monkeypatch.setenv("RACEWIN", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="RACEWIN=.*missing"):
        runner.find_racewin()


def test_source_tree_lookup(tmp_path, monkeypatch):
    """In the source tree: data_dir() is the tree, without calling racewin (a racewin on PATH that
    would answer --data-dir is not asked); the binary is <repo>/build/racewin before PATH."""
    called = tmp_path / "called"
    onpath = script(tmp_path / "bin" / "racewin", f'echo "$@" >> "{called}"\necho /nowhere\n')
    monkeypatch.delenv("RACEWIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert runner.REPO == REPO and runner.data_dir() == REPO
    assert runner.scenario("dirtyc0w_child") == os.path.join(REPO, "configs", "dirtyc0w_child.yaml")
    assert runner.scenario("validation/steal_window") == os.path.join(REPO, "configs", "validation",
                                                                      "steal_window.yaml")
    assert os.path.isfile(runner.scenario("dirtyc0w_child"))
    assert not called.exists()

    tree = tmp_path / "tree"
    monkeypatch.setattr(runner, "REPO", str(tree))
    assert runner.find_racewin() == onpath  # not built: PATH
    built = script(tree / "build" / "racewin", "exit 0\n")
    assert runner.find_racewin() == built

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    os.remove(built)
    with pytest.raises(FileNotFoundError) as e:
        runner.find_racewin()
    assert "$RACEWIN (not set)" in str(e.value) and built in str(e.value) and "racewin on PATH" in str(e.value)


def test_installed_lookup(tmp_path):
    """Outside a source tree: racewin on PATH, the data directory from `racewin --data-dir`, and
    racewin() run from there."""
    site, data, binary = install(tmp_path / "prefix")
    cwd = tmp_path / "work"
    cwd.mkdir()
    got = probe(site, os.path.dirname(binary) + os.pathsep + "/usr/bin:/bin", cwd)
    assert got["package"] == os.path.join(site, "racewin_analysis", "__init__.py")
    assert got["repo"] is None
    assert got["racewin"] == binary and got["data_dir"] == data
    assert got["scenario"] == os.path.join(data, "configs", "dirtyc0w_child.yaml")
    assert got["model"] == os.path.join(data, "models", "mm", "x.yaml")
    assert got["ran"][:2] == [data, "version"]

    # $RACEWIN wins over PATH there too, and is asked for the data directory.
    other = tmp_path / "other"
    (other / "configs").mkdir(parents=True)
    env_bin = script(tmp_path / "envbin" / "rw", f'[ "$1" = --data-dir ] && echo "{other}"\nexit 0\n')
    got = probe(site, os.path.dirname(binary), cwd, racewin_env=env_bin)
    assert got["racewin"] == env_bin and got["data_dir"] == str(other)


def test_installed_missing_binary_or_data(tmp_path):
    site, data, binary = install(tmp_path / "prefix")
    empty = tmp_path / "empty"
    empty.mkdir()
    got = probe(site, str(empty), empty)
    assert "racewin" not in got and "$RACEWIN (not set)" in got["error"] and "racewin on PATH" in got["error"]
    assert "build/racewin" not in got["error"]  # no source tree to look in

    # A racewin without --data-dir (older than the install support), and one whose directory has no configs/.
    old = script(tmp_path / "old" / "racewin", 'echo "unknown option $1" >&2\nexit 1\n')
    got = probe(site, os.path.dirname(old), empty)
    assert "--data-dir" in got["error"] and "unknown option" in got["error"]
    bad = script(tmp_path / "bad" / "racewin", f'echo "{empty}"\n')
    got = probe(site, os.path.dirname(bad), empty)
    assert "no configs/" in got["error"]


def test_report_cli_from_installed_package(run_dir, tmp_path):
    """`python3 -m racewin_analysis report DIR` with the package outside the tree, from another cwd."""
    site, _, _ = install(tmp_path / "prefix")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["PYTHONPATH"] = site
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    r = subprocess.run([sys.executable, "-m", "racewin_analysis", "report", run_dir, "--out", "rep"], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("wrote rep/report.md")
    assert (cwd / "rep" / "report.md").is_file() and list((cwd / "rep").glob("*.png"))
    r = subprocess.run([sys.executable, "-m", "racewin_analysis", "report", "--help"], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "DIR" in r.stdout and "--out OUTDIR" in r.stdout and "--hazard NAME" in r.stdout


def test_notebook_installed(tmp_path):
    """validation_exact.ipynb (the cheapest) run from PREFIX/share/racewin/notebooks, the package
    importable only through PYTHONPATH, racewin on PATH (a wrapper answering --data-dir for the
    binary under test) and $RACEWIN unset."""
    real = runner.find_racewin()
    prefix = tmp_path / "prefix"
    site = prefix / "site"
    shutil.copytree(PACKAGE, site / "racewin_analysis", ignore=shutil.ignore_patterns("__pycache__"))
    data = prefix / "share" / "racewin"
    for d in ("configs", "models"):
        shutil.copytree(os.path.join(REPO, d), data / d)
    nbdir = data / "notebooks"
    nbdir.mkdir()
    nb = nbformat.read(os.path.join(REPO, "notebooks", "validation_exact.ipynb"), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import racewin_analysis; print('package:', racewin_analysis.__file__)"))
    path = nbdir / "validation_exact.ipynb"
    nbformat.write(nb, str(path))
    wrapper = script(prefix / "bin" / "racewin", f'[ "$1" = --data-dir ] && {{ echo "{data}"; exit 0; }}\n'
                                                 f'exec "{real}" "$@"\n')

    env = {k: v for k, v in os.environ.items() if k not in ("RACEWIN", "PYTHONPATH")}
    env.update(PYTHONPATH=str(site), PATH=os.path.dirname(wrapper) + os.pathsep + env.get("PATH", "/usr/bin:/bin"))
    code = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
            "nb = nbformat.read(sys.argv[1], as_version=4)\n"
            "NotebookClient(nb, timeout=300, kernel_name='python3', resources={'metadata': {'path': sys.argv[2]}})"
            ".execute()\nnbformat.write(nb, sys.argv[1])\n")
    r = subprocess.run([sys.executable, "-c", code, str(path), str(nbdir)], cwd=nbdir, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    nb = nbformat.read(str(path), as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert f"racewin: {wrapper} | models and configs: {data} |" in text
    assert f"package: {site / 'racewin_analysis' / '__init__.py'}" in text
    assert sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "image/png" in o.get("data", {})) >= 2
