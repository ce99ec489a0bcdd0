"""``livematte train``: one training stage (resumable), ``teacher`` to build the teacher labels, or ``edges`` to
take the pseudo-alpha labels' soft bands from RVM (for ``--labels edges``).

``scripts/train.sh`` holds the recipe of the shipped weights. The stages are the paper's ``tnet``, ``mnet`` and
``e2e`` and ours, ``refine`` (livematte/training/train.py). Training code is imported only when this verb runs.
"""
from __future__ import annotations

import argparse
import signal
from pathlib import Path

from ..errors import InputError, SettingsError
from .argtypes import number_in

STAGES = ("tnet", "mnet", "e2e", "refine")
# The registry's presets (a test keeps them equal), named without torch; the -plate ones see a clean plate too.
MODELS = ("shm", "shm-lite", "shm-tiny", "shm-wide", "shm-plate", "shm-lite-plate", "shm-tiny-plate", "shm-wide-plate")


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train the SHM model (needs ../shared)", description=__doc__)
    p.add_argument("stage", choices=("teacher", "edges", *STAGES))
    add_stage_options(p)
    add_label_option(p)
    p.set_defaults(run=run)


def add_stage_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=number_in(int, 1), default=None,
                   help="total steps of this stage (resuming continues to it); not for teacher")
    p.add_argument("--size", type=number_in(int, 32, 4096), default=256, help="sample size in px (default: 256)")
    p.add_argument("--batch", type=number_in(int, 1), default=16, help="samples per step (default: 16)")
    p.add_argument("--lr", type=number_in(float, 1e-8, 1.0), default=1e-3,
                   help="peak learning rate of the run's cosine schedule (default: 1e-3)")
    p.add_argument("--runs", type=Path, default=Path("runs"), help="run folders' parent (default: runs)")
    p.add_argument("--shared", type=Path, default=Path("../shared"), help="the data folder (default: ../shared)")
    p.add_argument("--model", choices=MODELS, default="shm", help="architecture to train (default: shm)")
    p.add_argument("--threads", type=number_in(int, 0), default=None,
                   help="torch threads, 0 = torch's choice (default: 0)")
    p.add_argument("--export", type=Path, default=None, help="write a weights file when the stage ends")
    p.add_argument("--name", default=None, help="run folder under --runs (default: the stage's name); "
                   "a new name starts a new run, e.g. a second cosine cycle")
    p.add_argument("--init", type=Path, default=None,
                   help="start a new run from this checkpoint (.ckpt) or weights file instead of the stage before's "
                   "checkpoint (refine: e2e's)")
    p.add_argument("--close-up", type=number_in(float, 0.0, 1.0), default=0.0,
                   help="share of full-body people framed head and shoulders (webcam close-ups), 0..1, taken from "
                   "the upper-body framings (40 %%) first, then from the whole-person ones (default: 0)")
    p.add_argument("--second-person", type=number_in(float, 0.0, 1.0), default=0.0,
                   help="share of composites with a second person pasted in front of the first (groups), 0..1 "
                   "(default: 0)")
    p.add_argument("--props", type=number_in(float, 0.0, 1.0), default=0.0,
                   help="share of composites and empty scenes with desk props (monitors, a desk top, small "
                   "objects), which are not people, 0..1 (default: 0)")


def add_label_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--labels", choices=("pseudo", "edges"), default="pseudo",
                   help="the hand- and machine-labelled sets' alpha: pseudo (closed-form on a band around the mask) "
                        "or edges (that band from RVM where it agrees with the mask; build with `livematte train "
                        "edges`) (default: pseudo)")


def run(args) -> int:
    if args.stage not in ("teacher", "edges") and args.steps is None:  # a missing option is told before any input is looked at
        raise SettingsError("--steps is required for a training stage")
    if not (args.shared / "data").is_dir():
        raise InputError(f"no data folder at {args.shared}/data (give --shared PATH)")
    # Background jobs start with SIGINT ignored: Ctrl-C (and SIGTERM, set by the CLI) save a checkpoint and stop.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.stage == "teacher":
        from ..training.teacher import build

        print(build(args.shared, args.runs / "cache" / "teacher.npz"))
        return 0
    if args.stage == "edges":
        from ..datasets import heldout_names, list_people, load_split
        from ..training.data import PSEUDO_ALPHA_SOURCES
        from ..training.teacher import build_edges

        held = heldout_names(load_split())
        names = [n for n in list_people(args.shared, PSEUDO_ALPHA_SOURCES) if n not in held]
        print(build_edges(args.shared, args.runs / "cache" / "edges.npz", names))
        return 0
    from ..training.train import train

    train(args.stage, args.steps, args.size, args.batch, args.lr, args.runs, args.shared, args.model,
          threads=args.threads, export=args.export, name=args.name, init=args.init, close_up=args.close_up,
          second_person=args.second_person, labels=args.labels, props=args.props)
    return 0
