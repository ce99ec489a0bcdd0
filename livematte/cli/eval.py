"""``livematte eval``: livematte against peer models on the held-out split, in one run (one table)."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .common import add_engine_options, check_json_target, make_matter


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="measure livematte against peer models", description=__doc__)
    p.add_argument("--shared", type=Path, default=Path("../shared"), help="the data folder (default: ../shared)")
    p.add_argument("--peer", type=Path, action="append", default=[], help="a peer ONNX model (repeatable)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N held-out people (quick check)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    add_engine_options(p, smoothing="motion")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..evaluate import heldout_data, markdown_table, run_eval
    from ..peers import PeerModel

    if not (args.shared / "data").is_dir():
        raise InputError(f"no data folder at {args.shared}/data (give --shared PATH)")
    check_json_target(args.json)
    models = {f"livematte {args.model}": make_matter(args)}
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
