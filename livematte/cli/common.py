"""Options shared by the verbs that run the matting engine."""
from __future__ import annotations

import argparse
import sys

from ..engine import (BOTTOM_CONTEXT, MNET_SIZE, MNET_SIZE_RANGE, OFFLINE_MODEL, TNET_PASSES, TNET_PASSES_RANGE,
                      TNET_SIZE, TNET_SIZE_RANGE, Matter)
from ..errors import OutputError
from ..offline import parse_smoothing
from .argtypes import number_in


def add_engine_options(p: argparse.ArgumentParser, smoothing: str | None = "none", threads: int | None = None,
                       model: str | None = OFFLINE_MODEL,
                       tnet_size: int | None = TNET_SIZE, mnet_size: int | None = MNET_SIZE, int8_tnet: bool = False,
                       pixel_budget: bool = False, tnet_passes: int = TNET_PASSES) -> None:
    """The model options. A size of None means the verb picks it (live: from --quality); a smoothing of None means
    the verb declares --smoothing itself."""
    g = p.add_argument_group("model")
    g.add_argument("--model", default=model, help="model preset: shm, shm-lite (default: "
                   f"{model or 'shm-lite, shm at --quality high'})")
    g.add_argument("--weights", default="default", help="weights file (default: the shipped weights)")
    g.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    g.add_argument("--tnet-size", type=number_in(int, *TNET_SIZE_RANGE), default=tnet_size,
                   help=f"T-Net input, long side in px (default: {tnet_size or 'from --quality'})")
    g.add_argument("--mnet-size", type=number_in(int, *MNET_SIZE_RANGE), default=mnet_size,
                   help=f"M-Net input, long side in px (default: {mnet_size or 'from --quality'})")
    g.add_argument("--tnet-passes", type=number_in(int, *TNET_PASSES_RANGE), default=tnet_passes,
                   help="T-Net passes, at --tnet-size and each 32 px larger, their trimaps averaged: steadier "
                        f"mattes, each pass costing about one T-Net's time (default: {tnet_passes})")
    g.add_argument("--threads", type=number_in(int, 0), default=threads,
                   help=f"inference threads, 0 = one per core (default: {threads or 'one per core'}). One leaves a "
                        "core to the other pipeline stages, which lowers live latency")
    g.add_argument("--int8-tnet", action=argparse.BooleanOptionalAction, default=int8_tnet,
                   help="run the T-Net in int8 on CPU: about 1 ms faster at live sizes, same held-out accuracy; "
                        f"adds a second to start-up (default: {'on' if int8_tnet else 'off'})")
    g.add_argument("--pixel-budget", action=argparse.BooleanOptionalAction, default=pixel_budget,
                   help="give frames of any shape at most the pixels of a 16:9 frame of the sizes above, so that a "
                        "4:3 camera costs about what a 16:9 one does (224x168 instead of 256x192 at 256, before "
                        "--bottom-context adds its rows) "
                        f"(default: {'on' if pixel_budget else 'off'})")
    g.add_argument("--bottom-context", type=number_in(float, 0.0, 1.0), default=BOTTOM_CONTEXT, metavar="SHARE",
                   help="extend the frame below by this share of its height, its last row repeated, before the "
                        "model sees it, so that a body cut by the frame's bottom edge stays opaque; 0 turns it off "
                        f"(default: {BOTTOM_CONTEXT})")
    if smoothing is not None:
        g.add_argument("--smoothing", default=smoothing,
                       help=f"temporal smoothing: none, ema[:S] or motion[:S], S in 0..0.95 (default: {smoothing})")


def check_json_target(path) -> None:
    """Refuse a --json path whose folder is missing before a long run, not after it (the figures would be lost)."""
    if path is not None and not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: the folder {path.parent} does not exist")


def make_matter(args) -> Matter:
    mode, strength = parse_smoothing(args.smoothing)
    matter = Matter(model=args.model, weights=None if args.weights == "none" else args.weights, device=args.device,
                    tnet_size=args.tnet_size, mnet_size=args.mnet_size, smoothing=mode, smoothing_strength=strength,
                    threads=getattr(args, "threads", None), int8_tnet=getattr(args, "int8_tnet", False),
                    pixel_budget=getattr(args, "pixel_budget", False), bottom_context=args.bottom_context,
                    tnet_passes=args.tnet_passes)
    if not matter.trained:
        print("livematte: warning: no trained weights found for model "
              f"{args.model!r}; running on random weights, the matte will be meaningless", file=sys.stderr)
    return matter
