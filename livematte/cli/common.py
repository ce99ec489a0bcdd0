"""Options shared by the verbs that run the matting engine: each one given changes its field of the verb's
``EngineConfig``; one not given leaves the configuration's own value (its help shows which)."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..config import MAX_THREADS, MNET_SIZE_RANGE, TNET_PASSES_RANGE, TNET_SIZE_RANGE, EngineConfig, parse_smoothing
from ..errors import OutputError
from .argtypes import number_in

if TYPE_CHECKING:
    from ..engine import Matter

ENGINE_OPTIONS = ("model", "weights", "plate_weights", "device", "tnet_size", "mnet_size", "tnet_passes", "threads",
                  "int8_tnet", "pixel_budget", "bottom_context")  # EngineConfig fields, one option each


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def add_engine_options(p: argparse.ArgumentParser, base: EngineConfig, smoothing: bool = True,
                       by_quality: bool = False) -> None:
    """The model options over ``base``. ``by_quality``: the model and sizes follow --quality (live, ui);
    ``smoothing`` False: the verb declares --smoothing itself (live, ui: a look option)."""
    g = p.add_argument_group("model")
    g.add_argument("--model", help="model preset: shm, shm-lite (default: "
                   f"{'shm-lite, shm at --quality high' if by_quality else base.model})")
    g.add_argument("--weights", help="weights file, or none for random weights (default: the shipped weights)")
    g.add_argument("--plate-weights", help="clean-plate mode's weights file, or none for random weights (default: "
                   "the shipped ones of the model's -plate preset; random when --weights is none)")
    g.add_argument("--device", help=f"auto, cpu or cuda (default: {base.device})")
    g.add_argument("--tnet-size", type=number_in(int, *TNET_SIZE_RANGE),
                   help=f"T-Net input, long side in px (default: {'from --quality' if by_quality else base.tnet_size})")
    g.add_argument("--mnet-size", type=number_in(int, *MNET_SIZE_RANGE),
                   help=f"M-Net input, long side in px (default: {'from --quality' if by_quality else base.mnet_size})")
    g.add_argument("--tnet-passes", type=number_in(int, *TNET_PASSES_RANGE),
                   help="T-Net passes, at --tnet-size and each 32 px larger, their trimaps averaged: steadier "
                        f"mattes, each pass costing about one T-Net's time (default: {base.tnet_passes})")
    g.add_argument("--threads", type=number_in(int, 0, MAX_THREADS),
                   help=f"inference threads, 0 = one per core (default: {base.threads or 'one per core'}). One "
                        "leaves a core to the other pipeline stages, which lowers live latency")
    g.add_argument("--int8-tnet", action=argparse.BooleanOptionalAction,
                   help="run the T-Net in int8 on CPU: about 1 ms faster at live sizes, same held-out accuracy; "
                        f"adds a second to start-up (default: {_on_off(base.int8_tnet)})")
    g.add_argument("--pixel-budget", action=argparse.BooleanOptionalAction,
                   help="give frames of any shape at most the pixels of a 16:9 frame of the sizes above, so that a "
                        "4:3 camera costs about what a 16:9 one does (224x168 instead of 256x192 at 256, before "
                        f"--bottom-context adds its rows) (default: {_on_off(base.pixel_budget)})")
    g.add_argument("--bottom-context", type=number_in(float, 0.0, 1.0), metavar="SHARE",
                   help="extend the frame below by this share of its height, its last row repeated, before the "
                        "model sees it, so that a body cut by the frame's bottom edge stays opaque; 0 turns it off "
                        f"(default: {base.bottom_context})")
    if smoothing:
        default = base.smoothing if base.smoothing == "none" else f"{base.smoothing}:{base.smoothing_strength}"
        g.add_argument("--smoothing",
                       help=f"temporal smoothing: none, ema[:S] or motion[:S], S in 0..0.95 (default: {default})")


def apply_engine_options(args: argparse.Namespace, base: EngineConfig) -> EngineConfig:
    """``base`` with each engine option given on the command line. Naming a model or weights pins the model: a live
    quality switch then keeps it."""
    given = {k: v for k, v in vars(args).items() if k in ENGINE_OPTIONS and v is not None}
    for key in ("weights", "plate_weights"):
        if given.get(key) == "none":
            given[key] = None
    if vars(args).get("smoothing") is not None:
        given["smoothing"], given["smoothing_strength"] = parse_smoothing(args.smoothing)
    if "model" in given or given.get("weights", "default") != "default":
        given["model_follows_quality"] = False
    return base.replace(**given)


def check_json_target(path) -> None:
    """Refuse a --json path whose folder is missing before a long run, not after it (the figures would be lost)."""
    if path is not None and not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: the folder {path.parent} does not exist")


def make_matter(config: EngineConfig) -> Matter:
    """The engine, with a warning on stderr when it runs on random weights."""
    from ..engine import Matter  # torch: only once a verb runs the engine, not to build the command line

    matter = Matter(config)
    if not matter.trained:
        print("livematte: warning: no trained weights found for model "
              f"{config.model!r}; running on random weights, the matte will be meaningless", file=sys.stderr)
    return matter
