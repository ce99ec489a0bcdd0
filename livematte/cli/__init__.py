"""``livematte`` command line: one module per verb, each with ``add_parser`` and ``run``."""
from __future__ import annotations

import argparse
import importlib
import signal
import sys

from ..errors import LivematteError

VERBS = ("video", "image", "live", "ui", "bench", "eval", "train")


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="livematte", description="Real-time human matting: cut people out of "
                                     "webcam video and footage.")
    parser.add_argument("--version", action="version", version=f"livematte {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    sub.required = True
    for verb in VERBS:
        try:
            module = importlib.import_module(f".{verb}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.endswith(f"cli.{verb}"):
                continue  # verb not built yet
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)  # SIGTERM finalizes outputs like Ctrl-C
    try:
        return int(args.run(args) or 0)
    except LivematteError as exc:
        print(f"livematte: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("livematte: interrupted", file=sys.stderr)
        return 130
