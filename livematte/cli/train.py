"""``livematte train``: one training stage (resumable), or ``teacher`` to build the teacher labels."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError, SettingsError


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train the SHM model (needs ../shared)", description=__doc__)
    p.add_argument("stage", choices=("teacher", "tnet", "mnet", "e2e"))
    p.add_argument("--steps", type=int, default=None, help="total steps of the stage (resuming continues to it)")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--runs", type=Path, default=Path("runs"))
    p.add_argument("--shared", type=Path, default=Path("../shared"))
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--export", type=Path, default=None, help="write a weights file when the stage ends")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.stage != "teacher" and args.steps is None:  # a missing option is told before any input is looked at
        raise SettingsError("--steps is required for a training stage")
    if not (args.shared / "data").is_dir():
        raise InputError(f"no data folder at {args.shared}/data (give --shared PATH)")
    if args.stage == "teacher":
        from ..training.teacher import build

        print(build(args.shared, args.runs / "cache" / "teacher.npz"))
        return 0
    from ..training.train import train

    train(args.stage, args.steps, args.size, args.batch, args.lr, args.runs, args.shared, threads=args.threads,
          export=args.export)
    return 0
