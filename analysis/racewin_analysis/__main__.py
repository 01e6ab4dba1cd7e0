"""python3 -m racewin_analysis report DIR [--out OUTDIR] [--hazard NAME] (`racewin report DIR ...` when
installed). Paths are taken as given, relative to the current directory; nothing else depends on it."""
import argparse
import sys

import matplotlib

matplotlib.use("Agg")

from .report import report  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python3 -m racewin_analysis",
        description="racewin's analysis: render racewin output directories as plots and a Markdown report. "
                    "An installed racewin runs this as `racewin report DIR`.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    r = sub.add_parser(
        "report", help="render a run, compare, sweep or exact directory to PNGs and report.md",
        description="Writes report.md and its PNGs for a racewin output directory: whichever of a run "
                    "(results.json), sweep (sweep.json, sensitivity included), compare (compare.json) or "
                    "exact (exact.json) output it holds.",
        epilog="example: python3 -m racewin_analysis report out/study --out /tmp/study")
    r.add_argument("dir", metavar="DIR", help="a racewin output directory (the --out of racewin run, compare, "
                                              "sweep or exact)")
    r.add_argument("--out", metavar="OUTDIR", help="where to write report.md and the PNGs (default DIR/report)")
    r.add_argument("--hazard", metavar="NAME",
                   help="the hazard to plot (default bad_page_state if present, else the first)")
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
