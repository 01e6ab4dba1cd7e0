"""Run a racewin sweep on a dask.distributed cluster.

Each task is one point, run by the racewin binary on a worker (`racewin sweep FILE --out DIR
--point I`), which writes the point's file into DIR atomically: DIR must be shared by the workers
(one machine, or a network file system). A task whose worker dies is retried on another; a point
written twice is written with the same bytes. When every point is done, `racewin sweep FILE --out
DIR` runs nothing and writes the table, so the result is the one a local run gives.

    /usr/bin/python3 -m racewin_analysis.dask_sweep configs/sweeps/X.yaml --out out/X \
        [--scheduler tcp://host:8786] [--racewin PATH]

Without --scheduler a LocalCluster of --workers single-threaded workers runs on this machine.
"""
import argparse
import os
import subprocess
import sys
import time


def run_point(racewin, sweep, out, index):
    """One point on a worker: the binary's exit code is the task's fate (non-zero raises)."""
    subprocess.run([racewin, "sweep", sweep, "--out", out, "--point", str(index), "-q"], check=True,
                   stdout=subprocess.DEVNULL)
    return index


def pending(racewin, sweep, out):
    """The indexes of the points without a file (racewin checks the directory is this sweep's)."""
    r = subprocess.run([racewin, "sweep", sweep, "--out", out, "--list"], check=True, capture_output=True, text=True)
    return [int(line) for line in r.stdout.split()]


def run(sweep, out, racewin=None, scheduler=None, workers=2, retries=3, progress=True):
    """Runs every pending point on the cluster, then writes the table; returns the table's path."""
    from distributed import Client, LocalCluster, as_completed

    if racewin is None:
        from .runner import find_racewin
        racewin = find_racewin()
    racewin, sweep, out = os.path.abspath(racewin), os.path.abspath(sweep), os.path.abspath(out)
    todo = pending(racewin, sweep, out)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = [client.submit(run_point, racewin, sweep, out, i, key=f"racewin-point-{i}-{out}", retries=retries,
                                 pure=False) for i in todo]
        t0, done = time.monotonic(), 0
        for f in as_completed(futures):
            f.result()  # a point that failed on every retry raises here
            done += 1
            if progress:
                left = (time.monotonic() - t0) / done * (len(todo) - done)
                print(f"\r{done}/{len(todo)} points, about {left:.0f} s left   ", end="", file=sys.stderr, flush=True)
        if progress and todo:
            print(file=sys.stderr)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    subprocess.run([racewin, "sweep", sweep, "--out", out, "-q"], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out, "sweep.csv")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m racewin_analysis.dask_sweep", description=__doc__.split("\n")[0])
    ap.add_argument("sweep", help="sweep YAML file")
    ap.add_argument("--out", required=True, help="output directory, shared by the workers")
    ap.add_argument("--racewin", help="the racewin binary (default: $RACEWIN, else build/racewin in the source tree, "
                                      "else racewin on PATH)")
    ap.add_argument("--scheduler", help="a running dask scheduler's address (default: a LocalCluster)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    ap.add_argument("--retries", type=int, default=3, help="times a point is retried when its worker is lost")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    a = ap.parse_args(argv)
    try:
        table = run(a.sweep, a.out, a.racewin, a.scheduler, a.workers, a.retries, progress=not a.quiet)
    except FileNotFoundError as e:
        print(f"racewin dask_sweep: {e}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as e:
        print(f"racewin dask_sweep: {' '.join(e.cmd)} failed (exit {e.returncode})", file=sys.stderr)
        return 1
    print(f"wrote {table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
