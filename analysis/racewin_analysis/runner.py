"""Finding and calling the racewin binary from Python (the notebooks and the tests use this).

The binary is $RACEWIN if set, else <repository root>/build/racewin (what scripts/test.sh builds).
"""
import os
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def find_racewin():
    """The racewin binary's path: $RACEWIN, else <repo>/build/racewin; raises if it is missing."""
    path = os.environ.get("RACEWIN") or os.path.join(REPO, "build", "racewin")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise FileNotFoundError(f"no racewin binary at {path} (set RACEWIN or build into {REPO}/build)")
    return os.path.abspath(path)


def racewin(*args, cwd=REPO, quiet=True):
    """Runs `racewin ARGS...` from the repository root (config paths are relative to it) and returns
    its standard output; raises subprocess.CalledProcessError, with stderr, on a non-zero exit."""
    cmd = [find_racewin()] + [str(a) for a in args]
    if quiet and args and args[0] in ("run", "compare", "sweep", "exact") and "-q" not in args:
        cmd.append("-q")
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise subprocess.CalledProcessError(r.returncode, cmd, r.stdout, r.stderr)
    return r.stdout
