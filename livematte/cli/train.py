"""``livematte train``: one training stage (resumable), or ``teacher`` to build the teacher labels.

The stages and their options are those of ``python -m livematte.training.train``; ``scripts/train.sh`` holds the
recipe of the shipped weights."""
from __future__ import annotations

from ..errors import InputError, SettingsError
from ..training.options import STAGES, add_stage_options


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train the SHM model (needs ../shared)", description=__doc__)
    p.add_argument("stage", choices=("teacher", *STAGES))
    add_stage_options(p, steps_required=False)  # teacher takes no steps: checked in run
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

    train(args.stage, args.steps, args.size, args.batch, args.lr, args.runs, args.shared, args.model,
          threads=args.threads, export=args.export, name=args.name, init=args.init, close_up=args.close_up,
          second_person=args.second_person)
    return 0
