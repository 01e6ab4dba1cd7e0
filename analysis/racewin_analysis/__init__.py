"""racewin's Python side, for Debian's /usr/bin/python3: load (run, sweep, compare and exact output
directories as tidy DataFrames), plots (the standard plots), report (`python3 -m racewin_analysis
report DIR`), runner (calling racewin), dask_sweep (a sweep on a Dask cluster)."""
