"""``livematte eval``: livematte against peer models on the held-out split, in one run (one table)."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .argtypes import number_in
from .common import add_engine_options, check_json_target, make_matter


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="measure livematte against peer models", description=__doc__)
    p.add_argument("--shared", type=Path, default=Path("../shared"), help="the data folder (default: ../shared)")
    p.add_argument("--peer", type=Path, action="append", default=[], help="a peer ONNX model (repeatable)")
    p.add_argument("--limit", type=number_in(int, 1), default=None,
                   help="use only the first N held-out people (quick check)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    p.add_argument("--live", action="store_true",
                   help="also measure the engine as `live` runs it by default (the settings of `livematte bench`: "
                        "shm-lite, 256 px, one T-Net pass, pixel budget, int8 T-Net, one thread), as a second row")
    add_engine_options(p, smoothing="motion")
    p.set_defaults(run=run)


def live_engine_args(args):
    """The engine options of the live path's default quality (bench's defaults), on this run's device and with its
    --bottom-context."""
    from . import build_parser

    return build_parser().parse_args(["bench", "--device", args.device, "--bottom-context", str(args.bottom_context)])


def run(args) -> int:
    from ..evaluate import heldout_data, markdown_table, run_eval
    from ..peers import PeerModel

    if not (args.shared / "data").is_dir():
        raise InputError(f"no data folder at {args.shared}/data (give --shared PATH)")
    check_json_target(args.json)
    models = {f"livematte {args.model}": make_matter(args)}
    if args.live:
        live_args = live_engine_args(args)
        models[f"livematte {live_args.model} (live)"] = make_matter(live_args)
    for path in args.peer:
        peer = PeerModel(path)
        models[peer.name] = peer
    data = heldout_data(args.shared, args.limit)
    rows = run_eval(models, data, args.json)
    print(f"held out: {len(data.composites)} composites, {len(data.photos)} photos "
          f"({len(data.close_ups)} of them also as close-ups), "
          f"clips: {', '.join(c.name for c in data.clips) or 'none'}")
    print(markdown_table(rows))
    return 0
