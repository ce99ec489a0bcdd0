"""The options of one training stage, shared by ``livematte train`` and ``python -m livematte.training.train``."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..cli.argtypes import number_in
from ..models.registry import list_models

STAGES = ("tnet", "mnet", "e2e", "refine")


def add_stage_options(p: argparse.ArgumentParser, steps_required: bool = True) -> None:
    p.add_argument("--steps", type=number_in(int, 1), required=steps_required, default=None,
                   help="total steps of this stage (resuming continues to it)")
    p.add_argument("--size", type=number_in(int, 32, 4096), default=256, help="sample size in px (default: 256)")
    p.add_argument("--batch", type=number_in(int, 1), default=16, help="samples per step (default: 16)")
    p.add_argument("--lr", type=number_in(float, 1e-8, 1.0), default=1e-3,
                   help="peak learning rate of the run's cosine schedule (default: 1e-3)")
    p.add_argument("--runs", type=Path, default=Path("runs"), help="run folders' parent (default: runs)")
    p.add_argument("--shared", type=Path, default=Path("../shared"), help="the data folder (default: ../shared)")
    p.add_argument("--model", choices=list_models(), default="shm", help="architecture to train (default: shm)")
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
