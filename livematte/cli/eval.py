"""``livematte eval``: livematte against peer models on the held-out split, in one run (one table)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..config import EngineConfig
from ..datasets import HELDOUT_GROUPS
from ..errors import InputError
from .argtypes import number_in
from .common import add_engine_options, apply_engine_options, check_json_target, make_matter


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="measure livematte against peer models", description=__doc__)
    p.add_argument("--shared", type=Path, default=Path("../shared"), help="the data folder (default: ../shared)")
    p.add_argument("--peer", type=Path, action="append", default=[], help="a peer ONNX model (repeatable)")
    p.add_argument("--limit", type=number_in(int, 1), default=None,
                   help="use only the first N held-out people (quick check)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    p.add_argument("--groups", type=_groups, default=list(HELDOUT_GROUPS),
                   help="held-out groups, comma-separated, the first with flicker and speed (default: "
                        f"{','.join(HELDOUT_GROUPS)}: the first split's photos, real-alpha portraits, pose composites, "
                        "scenes)")
    p.add_argument("--live", action="store_true",
                   help="also measure the engine as `live` runs it by default (the settings of `livematte bench`: "
                        "shm-lite, 256 px, one T-Net pass, pixel budget, int8 T-Net, one thread), as a second row")
    p.add_argument("--plate", action="store_true",
                   help="clean-plate mode instead: held-out composites with perturbed plates and a synthetic clip "
                        "(livematte/evaluate_plate.py), livematte with and without its plate and the peers in one "
                        "table; --plate-weights FILE measures a plate model before it ships")
    add_engine_options(p, EngineConfig.offline())
    p.set_defaults(run=run)


def _groups(text: str) -> list[str]:
    groups = [g.strip() for g in text.split(",") if g.strip()]
    unknown = [g for g in groups if g not in HELDOUT_GROUPS]
    if unknown or not groups or len(set(groups)) < len(groups):
        raise argparse.ArgumentTypeError(f"give some of {', '.join(HELDOUT_GROUPS)}, each once, not {text!r}")
    return groups


def engine_configs(args) -> tuple[EngineConfig, EngineConfig]:
    """(the engine as `livematte video` runs it, with the options given; the live path's at its default quality, as
    bench measures it, on the same device and with the same --bottom-context)."""
    offline = apply_engine_options(args, EngineConfig.offline())
    return offline, EngineConfig.live().replace(device=offline.device, bottom_context=offline.bottom_context)


def run(args) -> int:
    from ..evaluate import heldout_groups, markdown_table, run_eval
    from ..peers import PeerModel

    if not (args.shared / "data").is_dir():
        raise InputError(f"no data folder at {args.shared}/data (give --shared PATH)")
    check_json_target(args.json)
    offline, live = engine_configs(args)
    if args.plate:
        return run_plate(args, offline, live)
    models = {f"livematte {offline.model}": make_matter(offline)}
    if args.live:
        models[f"livematte {live.model} (live)"] = make_matter(live)
    for path in args.peer:
        peer = PeerModel(path)
        models[peer.name] = peer
    groups = heldout_groups(args.shared, args.groups, args.limit)
    rows = run_eval(models, groups, args.json)
    for name, data in groups.items():
        print(f"held out, {name}: {len(data.composites)} composites, {len(data.photos)} photos"
              + (f" ({len(data.close_ups)} of them also as close-ups)" if data.close_ups else "")
              + (f", clips: {', '.join(c.name for c in data.clips)}" if data.clips else ""))
    print(markdown_table(rows))
    if len(groups) > 1:
        print()
        print(markdown_table(rows, args.groups[1:]))
    return 0


def run_plate(args, offline: EngineConfig, live: EngineConfig) -> int:
    """``--plate``: each livematte engine with its plate and without, then the peers, over the same pictures."""
    import numpy as np

    from ..evaluate import markdown_table
    from ..evaluate_plate import (CLIP_NOISE, EXTRA_GROUPS, PLATE_SEED, evaluate_plate_model, group_plate_data,
                                  plate_data)
    from ..peers import PeerModel

    engines = {f"livematte {offline.model}": make_matter(offline)}
    if args.live:
        engines[f"livematte {live.model} (live)"] = make_matter(live)
    for matter in engines.values():  # loads each plate model now: one that is missing is told before the long part
        matter.set_plate(np.zeros((8, 8, 3), np.uint8))
        matter.set_plate(None)
    data = plate_data(args.shared, args.limit)
    extra = {g: group_plate_data(args.shared, g, args.limit) for g in EXTRA_GROUPS}

    def row(name, model, plate):
        r = evaluate_plate_model(name, model, data, plate)
        for group, d in extra.items():
            r.update({f"{group}_{k}": v for k, v in evaluate_plate_model(name, model, d, plate).items()
                      if k != "model"})
        return r

    rows = []
    for name, matter in engines.items():
        rows.append(row(f"{name} + plate", matter, True))
        rows.append(row(name, matter, False))
    for path in args.peer:
        peer = PeerModel(path)
        rows.append(row(peer.name, peer, False))
    print(f"held out, clean plate: {len(data.composites)} composites with perturbed plates (seed {PLATE_SEED}); "
          f"flicker on a {len(data.clip)}-frame synthetic clip at 640x480 (sensor noise {CLIP_NOISE:g} levels)")
    print(markdown_table(rows))
    print(f"\nsecond splits: {', '.join(f'{len(d.composites)} {g}' for g, d in extra.items())} on held-out "
          f"backgrounds with perturbed plates (seed {PLATE_SEED + 1})")
    print(markdown_table(rows, EXTRA_GROUPS))
    if args.json is not None:
        import json

        args.json.write_text(json.dumps({"rows": rows, "plate_seed": PLATE_SEED}, indent=1) + "\n")
    return 0
