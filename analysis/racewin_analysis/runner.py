"""Finding and calling the racewin binary, and racewin's shipped models/ and configs/, from Python
(the notebooks and the tests use this).

Two layouts are supported:

- a source tree: this package is <repo>/analysis/racewin_analysis with <repo>/models and
  <repo>/configs beside it; the data directory is <repo> and the binary <repo>/build/racewin (what
  scripts/test.sh builds), else a racewin on PATH;
- installed (`cmake --install build --prefix P`): the package is in P's dist-packages, the binary
  is racewin on PATH (P/bin/racewin) and the data directory is what `racewin --data-dir` prints
  (P/share/racewin).

$RACEWIN, if set, names the binary in either layout.
"""
import functools
import os
import shutil
import subprocess

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _source_tree():
    analysis = os.path.dirname(PACKAGE_DIR)
    repo = os.path.dirname(analysis)
    if os.path.basename(analysis) == "analysis" and all(
            os.path.isdir(os.path.join(repo, d)) for d in ("models", "configs")):
        return repo
    return None


# The repository root when this package sits in a source tree, else None (an installed package).
REPO = _source_tree()


def _executable(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_racewin():
    """The racewin binary's absolute path: $RACEWIN if set; else, in a source tree,
    <repo>/build/racewin if it exists; else racewin on PATH. Raises FileNotFoundError naming what
    was tried."""
    env = os.environ.get("RACEWIN")
    if env:
        if _executable(env):
            return os.path.abspath(env)
        raise FileNotFoundError(f"RACEWIN={env} is not an executable file")
    tried = ["$RACEWIN (not set)"]
    if REPO is not None:
        built = os.path.join(REPO, "build", "racewin")
        if _executable(built):
            return built
        tried.append(f"{built} (source tree; not built)")
    found = shutil.which("racewin")
    if found:
        return os.path.abspath(found)
    tried.append("racewin on PATH (not found)")
    raise FileNotFoundError("no racewin binary; tried " + ", ".join(tried)
                            + ". Set RACEWIN, build into <repo>/build, or install racewin.")


@functools.lru_cache(maxsize=None)
def _installed_data_dir(binary):
    cmd = [binary, "--data-dir"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except OSError as e:
        raise FileNotFoundError(f"could not run `{' '.join(cmd)}`: {e}") from e
    d = r.stdout.strip()
    if r.returncode != 0 or not d:
        raise FileNotFoundError(f"`{' '.join(cmd)}` gave no data directory (exit {r.returncode}): "
                                f"{r.stderr.strip() or r.stdout.strip()}")
    if not os.path.isdir(os.path.join(d, "configs")):
        raise FileNotFoundError(f"`{' '.join(cmd)}` printed {d}, which has no configs/")
    return os.path.abspath(d)


def data_dir():
    """The directory holding racewin's models/ and configs/: the source tree when this package is
    in one (without calling racewin), else what `racewin --data-dir` prints (the installed
    share/racewin). Raises FileNotFoundError if neither gives one."""
    if REPO is not None:
        return REPO
    return _installed_data_dir(find_racewin())


def data_path(*parts):
    """A path under data_dir(): data_path("configs", "dirtyc0w_child.yaml"),
    data_path("models", "mm", "proc_mem_write_v5.9.yaml")."""
    return os.path.join(data_dir(), *parts)


def scenario(name):
    """A shipped scenario's path: scenario("dirtyc0w_child") or scenario("validation/steal_window.yaml")
    is configs/dirtyc0w_child.yaml or configs/validation/steal_window.yaml under data_dir()."""
    if not name.endswith((".yaml", ".yml")):
        name += ".yaml"
    return data_path("configs", *name.split("/"))


def racewin(*args, cwd=None, quiet=True):
    """Runs `racewin ARGS...` (from data_dir() unless cwd is given, so relative config paths such as
    configs/dirtyc0w_child.yaml resolve there) and returns its standard output; raises
    subprocess.CalledProcessError, with stderr, on a non-zero exit."""
    cmd = [find_racewin()] + [str(a) for a in args]
    if quiet and args and args[0] in ("run", "compare", "sweep", "exact") and "-q" not in args:
        cmd.append("-q")
    r = subprocess.run(cmd, cwd=data_dir() if cwd is None else cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise subprocess.CalledProcessError(r.returncode, cmd, r.stdout, r.stderr)
    return r.stdout
