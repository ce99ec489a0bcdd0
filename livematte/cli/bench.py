"""``livematte bench``: end-to-end speed of the real pipeline, per stage, optionally against a peer model."""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from ..config import EngineConfig
from .argtypes import number_in
from .common import add_engine_options, apply_engine_options, check_json_target, make_matter


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure end-to-end speed", description=__doc__)
    p.add_argument("--sizes", default="640x480,1280x720,1920x1080", help="comma-separated WxH (default: %(default)s)")
    p.add_argument("--input", type=Path, default=None, help="also run on this video file")
    p.add_argument("--fps", type=number_in(float, 1, 240), default=30.0,
                   help="capture rate of the paced source (default: 30)")
    p.add_argument("--seconds", type=number_in(float, 0.1, 3600), default=4.0,
                   help="live seconds measured per size and model, each turn after a 1 s warm-up (default: 4)")
    p.add_argument("--rounds", type=number_in(int, 1, 100), default=3,
                   help="turns each model takes per size, --seconds split between them, so that the machine's "
                        "drift weighs on the models alike (default: 3)")
    p.add_argument("--offline-frames", type=number_in(int, 0), default=60,
                   help="length of a 1080p clip converted with `livematte video`'s model, sizes and threads "
                        "(not those given below; --device and --smoothing apply), over a blurred background; "
                        "0 skips (default: 60)")
    p.add_argument("--peer", type=Path, default=None, help="a peer ONNX model to run in the same pipeline")
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    p.add_argument("--plate", action="store_true",
                   help="add a row in clean-plate mode (the same engine, the clip's still background as its plate; "
                        "the clips keep their background still); --plate-weights none times it on random weights")
    add_engine_options(p, EngineConfig.live())  # the live path at its default quality, which bench measures
    p.set_defaults(run=run)


def engine_configs(args) -> tuple[EngineConfig, EngineConfig]:
    """(the live engine, the offline one): live with the options given; offline as `livematte video` runs it, on
    this device and with this smoothing."""
    live = apply_engine_options(args, EngineConfig.live())
    offline = EngineConfig.offline().replace(device=live.device, smoothing=live.smoothing,
                                             smoothing_strength=live.smoothing_strength)
    return live, offline


def run(args) -> int:
    from ..bench import format_report, run_bench
    from ..interfaces import FixedEngine
    from ..peers import PeerModel

    check_json_target(args.json)
    live, offline_config = engine_configs(args)
    ours = f"livematte {live.model}"
    models = {ours: make_matter(live)}
    peer_name = None
    plated = frozenset()
    if args.plate:
        import numpy as np

        label = f"{ours} + plate"
        models[label] = make_matter(live)
        models[label].set_plate(np.zeros((48, 64, 3), np.uint8))  # loads the plate model now: an error is told now
        plated = frozenset([label])
    if args.peer is not None:
        peer = PeerModel(args.peer, threads=live.threads or 2)
        peer_name = peer.name
        models[peer_name] = FixedEngine(peer, peer.name)
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    sizes = [s for s in args.sizes.split(",") if s]
    offline = None
    if args.offline_frames:
        offline = {f"livematte {offline_config.model}": make_matter(offline_config),
                   **{k: v for k, v in models.items() if k != ours and k not in plated}}
    results = run_bench(models, sizes, args.fps, args.seconds, args.input, args.offline_frames, log, offline,
                        rounds=args.rounds, plated=plated)
    settings = {**vars(args), **dataclasses.asdict(live)}  # the options, with the engine's values as it ran
    results["settings"] = {k: str(v) for k, v in settings.items() if k not in ("run",)}
    print(format_report(results, ours, peer_name))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0
