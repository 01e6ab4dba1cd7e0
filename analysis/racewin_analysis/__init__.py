"""racewin's Python side: running sweeps on a Dask cluster (dask_sweep); analysis of run, compare
and sweep outputs comes with issue 17. For Debian's /usr/bin/python3 (python3-distributed)."""
