"""python3 -m racewin_analysis report DIR [--out OUTDIR] [--hazard NAME]"""
import argparse
import sys

import matplotlib

matplotlib.use("Agg")

from .report import report  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m racewin_analysis")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="render a run, compare, sweep or exact directory to PNGs and report.md")
    r.add_argument("dir", help="a racewin output directory")
    r.add_argument("--out", help="where to write (default DIR/report)")
    r.add_argument("--hazard", help="the hazard to plot (default bad_page_state, else the first)")
    a = ap.parse_args(argv)
    try:
        path, pngs = report(a.dir, a.out, a.hazard)
    except (ValueError, FileNotFoundError) as e:
        print(f"racewin_analysis: {e}", file=sys.stderr)
        return 1
    print(f"wrote {path} and {len(pngs)} plots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
