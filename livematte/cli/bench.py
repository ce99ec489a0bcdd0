"""``livematte bench``: end-to-end speed of the real pipeline, per stage, optionally against a peer model."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..presets import QUALITY_MODELS, QUALITY_SIZES, Settings
from .argtypes import number_in
from .common import add_engine_options, check_json_target, make_matter


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
    live = Settings().quality  # the live path's default model and working sizes, which bench measures
    tnet, mnet = QUALITY_SIZES[live]
    add_engine_options(p, smoothing="motion", threads=1, model=QUALITY_MODELS[live], tnet_size=tnet, mnet_size=mnet,
                       int8_tnet=True, pixel_budget=True, tnet_passes=1)
    p.set_defaults(run=run)


def run(args) -> int:
    from ..bench import format_report, run_bench
    from ..peers import PeerModel

    check_json_target(args.json)
    matter = make_matter(args)
    ours = f"livematte {args.model}"
    models = {ours: matter}
    peer_name = None
    if args.peer is not None:
        peer = PeerModel(args.peer, threads=args.threads or 2)
        peer_name = peer.name
        models[peer_name] = peer
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    sizes = [s for s in args.sizes.split(",") if s]
    offline = None
    if args.offline_frames:  # the engine as `livematte video` builds it by default, on this device and smoothing
        from . import build_parser

        video_args = build_parser().parse_args(["video", "in.mp4", "--device", args.device,
                                                "--smoothing", args.smoothing])
        offline = {f"livematte {video_args.model}": make_matter(video_args),
                   **{k: v for k, v in models.items() if k != ours}}
    results = run_bench(models, sizes, args.fps, args.seconds, args.input, args.offline_frames, log, offline,
                        rounds=args.rounds)
    results["settings"] = {k: str(v) for k, v in vars(args).items() if k not in ("run",)}
    print(format_report(results, ours, peer_name))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0
