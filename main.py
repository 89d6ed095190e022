#!/usr/bin/env python3
"""Stream Anomaly Monitor: run anomaly detectors over a stream, headless or in a window.

Usage (see ``python main.py -h``):
  python main.py                    open the window (no run loaded)
  python main.py -c CONFIG -f       headless run over the config's file_name
  python main.py -c CONFIG          headless run over the config's Kafka topics
  python main.py --gui -c CONFIG    the window watching CONFIG's Kafka topics (-f: its file)
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from pipeline.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM, EXIT_USAGE
from pipeline.paths import CONFIG_DIR, DEFAULT_LOG_DIR, DEFAULT_MODELS_DIR
from pipeline.run_modes import RunMode

DESCRIPTION = """\
Watch a stream (a Kafka topic or a file), run the configured anomaly detectors on every sample and
send the results to the configured outputs.

With no flags the desktop window opens. With -c the run is headless, like the original CLI:
-c names a JSON config in configuration/ (sub-folders allowed, ".json" optional; an existing path
works too) and the run reads the config's Kafka topics, or with -f the file named by its file_name.
"""

EPILOG = f"""\
exit status: {EXIT_OK} finished, {EXIT_ERROR} error (the reason is printed), {EXIT_USAGE} usage or configuration
error or an input file that is not of its format (nothing was started), {EXIT_SIGINT}/{EXIT_SIGTERM} stopped by
SIGINT/SIGTERM (outputs are flushed first).

examples:
  python main.py -c default.json -f
  python main.py -c border_check.json -f --summary-json log/summary.json
  python main.py -c default.json -f --eval-out log/evaluation.json
  python main.py --benchmark nab --corpus ../NAB -c default.json --eval-out log/nab_results
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="main.py", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", metavar="CONFIG",
                        help=f"config file: a name under {CONFIG_DIR} or a path")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("-f", "--file", action="store_true",
                        help="read the file named by the config's file_name instead of Kafka")
    source.add_argument("-fk", "--filekafka", action="store_true",
                        help="read the config's file first (warm-up), then its Kafka topics")
    parser.add_argument("--gui", action="store_true",
                        help="open the window with CONFIG loaded and started: its Kafka topics, or with "
                             "-f its file, or with -fk both")
    parser.add_argument("--screenshot", type=Path, metavar="FILE",
                        help="with --gui -f: run the file to its end, save a PNG of the window, exit")
    parser.add_argument("--speed", default="max", choices=["max", "1", "10", "100"],
                        help="window file runs: replay as fast as possible or in real time scaled "
                             "by the data's timestamps (default: %(default)s)")
    parser.add_argument("--log-dir", type=Path, default=DEFAULT_LOG_DIR, metavar="DIR",
                        help="folder for relative output files and dead letters (default: %(default)s)")
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR, metavar="DIR",
                        help="folder for trained models and their metadata (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=65536, metavar="N",
                        help="samples per engine batch (default: %(default)s)")
    parser.add_argument("--progress", dest="progress", action="store_true", default=None,
                        help="always show the progress line (default: only on a terminal)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="never show the progress line")
    parser.add_argument("--summary-json", type=Path, metavar="FILE",
                        help="also write the end-of-run summary to FILE as JSON")
    parser.add_argument("--labels", type=Path, metavar="FILE",
                        help="anomaly windows for a labelled run, in NAB's combined_windows.json layout "
                             "{\"<name>\": [[start, end], ...]}; the name matched to the input is the one that "
                             "ends its path (relative to the corpus folder, or the bare file name). Without it a "
                             "'label' column of the input is the ground truth")
    parser.add_argument("--eval-out", type=Path, metavar="PATH",
                        help="write the evaluation of a labelled run to this JSON file (with --benchmark: a "
                             "folder for NAB-format result files and the evaluation)")
    parser.add_argument("--benchmark", choices=["nab", "ads"],
                        help="run CONFIG's detectors over every series of a labelled corpus (--corpus) and "
                             "score them: NAB's three profiles, or each ADS set's F1 and their mean")
    parser.add_argument("--corpus", type=Path, metavar="DIR",
                        help="with --benchmark: the corpus folder (NAB: data/, labels/combined_windows.json; "
                             "ADS: ads-*.csv with a label column)")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log debug details too (library messages, the traceback of an internal error)")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if (args.file or args.filekafka) and not args.config:
        parser.error("-f/-fk need -c CONFIG")
    if args.screenshot and not (args.gui and args.file):
        parser.error("--screenshot needs --gui -c CONFIG -f")
    if args.benchmark and not (args.corpus and args.config) or args.corpus and not args.benchmark:
        parser.error("--benchmark needs --corpus DIR and -c CONFIG (and --corpus needs --benchmark)")
    if args.benchmark and (args.gui or args.labels or args.filekafka):
        parser.error("--benchmark takes its labels from the corpus and runs headless over files")
    if args.labels and not args.file:
        parser.error("--labels needs a file run (-f): its windows are matched to the input file")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%Y-%m-%d %H:%M:%S")
    if args.gui or not args.config:
        from gui.app import run_gui
        return run_gui(config=args.config, mode=RunMode.from_flags(args.file, args.filekafka),
                       log_dir=args.log_dir, screenshot=args.screenshot, speed=args.speed,
                       models_dir=args.models_dir)

    from pipeline.config import ConfigError, load_config
    from pipeline.run import run_headless

    try:
        config = load_config(args.config)
        if args.benchmark:
            from pipeline.benchmark import run_benchmark
            return run_benchmark(config, args.benchmark, args.corpus, log_dir=args.log_dir,
                                 models_dir=args.models_dir, batch_size=args.batch_size,
                                 progress=args.progress, out_dir=args.eval_out, summary_json=args.summary_json)
        return run_headless(config, log_dir=args.log_dir, batch_size=args.batch_size,
                            progress=args.progress, summary_json=args.summary_json,
                            mode=RunMode.from_flags(args.file, args.filekafka),
                            models_dir=args.models_dir, labels=args.labels, eval_out=args.eval_out)
    except ConfigError as err:
        for problem in err.problems[1:]:
            logging.getLogger("config").error("%s", problem)
        print(f"error: {err.one_line()}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
