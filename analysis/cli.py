"""The ppo-analyze command line: subcommands, common options, one-line errors with exit codes."""

import argparse
import re
import sys

from . import __version__
from .common import unique_run_names
from .logfile import AnalysisError, load_runs
from .outputs import Outputs

SUBCOMMANDS = {
    "summary": "table of runs: env, seed, ranks x threads, steps, wall time, steps/s, final and "
               "best mean return, solved or not and when",
    "curves": "learning curves vs env steps and wall time, grouped by config (mean and band "
              "across seeds), with the solve threshold",
    "diagnostics": "PPO health panel over updates (entropy, KL, clip fraction, explained "
                   "variance, losses, grad norm, learning rate, steps/s) with reference ranges",
    "actions": "action frequencies (discrete) or per-dimension mean/std (continuous) over "
               "training, from the recorded trajectories",
    "returns": "histogram of the returns of the last N episodes",
    "timing": "where each update's time goes: env stepping, inference, GAE, gradient, "
              "collectives, optimizer, logging (mean over ranks and slowest rank), per run and "
              "ranks x threads layout",
    "animate": "GIF (and MP4 if ffmpeg is present) of recorded episodes, early vs late side by "
               "side, drawn from the logged render states",
    "export": "CSV files per run: the /metrics columns (one row per update) and the finished "
              "episodes (return, length, the step and update they ended in). CSV only: Debian 12 "
              "packages no TensorBoard event writer (no python3-tensorboard), so no event files; "
              "read them with e.g. pandas.read_csv (empty cells: NaN)",
}

EPILOG = """exit codes: 0 ok, 2 bad usage, 3 file missing or unreadable, 4 not a ppo log,
5 unsupported schema version, 6 the log lacks data this command needs,
7 an output file exists (nothing was written; --force overwrites), or --out cannot take the files,
1 internal error (please report it)"""


def _one_line(text):
    """An error message as one line: a control character (a newline in a file name or argument
    could forge a second line) shows as '?'."""
    return re.sub(r"[\x00-\x1f\x7f]", "?", text)


class _Parser(argparse.ArgumentParser):
    """argparse with ppo-analyze's one-line errors (not the usage block): exit 2. The subcommands'
    parsers are of this class too (add_subparsers makes them of the parent's class)."""

    def error(self, message):
        self.exit(2, "ppo-analyze: error: %s (see %s --help)\n" % (_one_line(message), self.prog))


def _formats(text):
    fmts = [f.strip().lower() for f in text.split(",")]
    # an empty item ("png,") or a repeated one ("png,png": the second write found the first's file)
    if any(f not in ("png", "svg", "pdf") for f in fmts) or len(set(fmts)) != len(fmts):
        raise argparse.ArgumentTypeError("formats are png, svg, pdf, comma-separated, each at most once")
    return fmts


def _size(text):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w < 64 or h < 48 or w > 4096 or h > 4096:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError("size is WxH in pixels, from 64x48 to 4096x4096") from None
    return (w, h)


def _int_in(lo, hi):
    """An argparse type: an integer in [lo, hi] (a histogram of 10^9 bins or a GIF of 20000x20000
    frames would take many GB before drawing anything)."""
    def parse(text):
        try:
            v = int(text)
            if not lo <= v <= hi:
                raise ValueError
        except ValueError:
            raise argparse.ArgumentTypeError("expected an integer from %d to %d" % (lo, hi)) from None
        return v
    return parse


def _out_dir(text):
    if not text:  # os.path.abspath("") is the current directory
        raise argparse.ArgumentTypeError("empty; give a directory (. for the current one)")
    return text


def _positive(text):
    try:
        v = int(text)
        if v <= 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError("expected a positive integer") from None
    return v


def build_parser():
    p = _Parser(
        prog="ppo-analyze", description="Offline analysis of ppo HDF5 logs (docs/log-schema.md).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version="%(prog)s " + __version__)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, helptext in SUBCOMMANDS.items():
        sp = sub.add_parser(name, help=helptext, description=helptext + ".", epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        sp.add_argument("logs", nargs="+", metavar="LOG",
                        help="ppo log files (.h5), or directories searched for them")
        sp.add_argument("--out", type=_out_dir, default="ppo-analysis", metavar="DIR",
                        help="directory for the output files (default: %(default)s)")
        sp.add_argument("--force", action="store_true",
                        help="overwrite output files an earlier run left in --out (default: refuse, "
                             "before anything is written)")
        if name != "export":
            sp.add_argument("--formats", type=_formats, default=["png"], metavar="FMT[,FMT]",
                            help="figure formats: png, svg, pdf (default: png)")
        sp.add_argument("--skip-bad", action="store_true",
                        help="skip logs that cannot be read (with a warning) instead of failing")
        sp.add_argument("-q", "--quiet", action="store_true", help="print only errors")
        if name in ("summary", "curves"):
            sp.add_argument("--window", type=_positive, default=100, metavar="N",
                            help="returns are the mean over the last N finished episodes "
                                 "(default: %(default)s, Gym's 'solved' convention)")
        if name in ("curves", "diagnostics", "returns"):
            sp.add_argument("--group-by", nargs="+", metavar="KEY",
                            help="group runs by these /config keys only (default: all keys "
                                 "except seed and run context)")
            sp.add_argument("--ignore", nargs="+", default=[], metavar="KEY",
                            help="more /config keys to ignore when grouping")
        if name == "summary":
            sp.add_argument("--table", choices=("text", "csv", "markdown"), default="text",
                            help="what to print on the terminal (summary.csv and summary.md "
                                 "are always written to --out)")
        if name == "curves":
            sp.add_argument("--band", choices=("std", "minmax", "none"), default="std",
                            help="shaded band across seeds (default: %(default)s)")
            sp.add_argument("--show-seeds", action="store_true",
                            help="also draw each seed's curve thinly")
        if name == "actions":
            sp.add_argument("--max-columns", type=_positive, default=60, metavar="N",
                            help="at most N update columns in the heatmap (default: "
                                 "%(default)s)")
        if name == "returns":
            sp.add_argument("--last", type=_positive, default=100, metavar="N",
                            help="episodes per run (default: %(default)s)")
            sp.add_argument("--bins", type=_int_in(1, 10000), default=30, help="histogram bins (at most 10000)")
        if name == "animate":
            sp.add_argument("--episode", type=int, metavar="ID",
                            help="animate only this recorded episode (index/episode_id)")
            sp.add_argument("--early", type=int, metavar="ID",
                            help="left panel episode (default: first recorded)")
            sp.add_argument("--late", type=int, metavar="ID",
                            help="right panel episode (default: last recorded)")
            sp.add_argument("--fps", type=_positive, default=30)
            sp.add_argument("--stride", type=_positive, default=1,
                            help="draw every Nth step (default: 1)")
            sp.add_argument("--max-frames", type=_int_in(0, 1000000), default=0, metavar="N",
                            help="raise the stride so the GIF has at most N frames (0: no cap)")
            sp.add_argument("--size", type=_size, default=None, metavar="WxH",
                            help="pixels per panel scene (default: 420x280; an image env's "
                                 "recorded frames: x4, with --size the largest whole factor that fits)")
            sp.add_argument("--still", type=int, metavar="K",
                            help="also save frame K of the GIF as PNG: 0 to frames-1, or negative "
                                 "from the end (-1: the last); out of range: exit 2")
            sp.add_argument("--no-mp4", action="store_true",
                            help="do not write an MP4 even if ffmpeg is installed")
    return p


def main(argv=None, record=None):
    """Runs one command; returns the exit code. `record` (tests): a list that receives one dict
    per output written, with its paths and, for figures, the legend texts and titles drawn."""
    parser = build_parser()
    args = parser.parse_args(argv)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    args.outputs = Outputs(args.out, force=args.force, record=record)
    try:
        runs = unique_run_names(load_runs(
            args.logs, skip_bad=args.skip_bad,
            warn=lambda m: print("ppo-analyze: warning: %s" % m, file=sys.stderr)))
        if args.command not in ("summary", "export") and len(runs) > 1:
            empty = [r for r in runs if r.n_updates == 0]
            if len(empty) < len(runs):  # leave just-started runs out of the figures
                for r in empty:
                    log("ppo-analyze: warning: skipping %s: no update logged yet" % r.path)
                runs = [r for r in runs if r.n_updates > 0]
        module = __import__("analysis." + args.command, fromlist=["run"])
        written = module.run(args, runs, log)
    except AnalysisError as exc:
        print("ppo-analyze: error: %s" % _one_line(str(exc)), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a log content no check above foresaw: still one line, no traceback
        print(_one_line("ppo-analyze: error: internal error while running %s (%s: %s); please report it with the log"
                        % (args.command, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")),
              file=sys.stderr)
        return 1
    for path in written:
        log("wrote %s" % path)
    return 0
