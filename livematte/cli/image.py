"""``livematte image IN... [-o OUT]``: cut people out of photos (RGBA PNG by default, or a composite): files,
folders and globs, several output types from one matte."""
from __future__ import annotations

from pathlib import Path

from ..config import EngineConfig
from .common import add_engine_options, apply_engine_options, make_matter
from .many import add_batch_options, output_types, run_many
from .plates import add_plate_option, apply_plate

BASE = EngineConfig()  # photos: the engine's own defaults, no temporal smoothing


def add_parser(sub) -> None:
    p = sub.add_parser("image", help="matte images", description=__doc__)
    p.add_argument("inputs", type=Path, nargs="+", metavar="IN", help="an image, a folder of images, or a glob")
    p.add_argument("-o", "--output", "-d", "--output-dir", dest="output", type=Path, default=None,
                   help="output file, or folder for the results (default: beside each input)")
    p.add_argument("-b", "--background", default=None,
                   help="composite onto this background (colour, image, blur[:N]); default: transparent PNG")
    p.add_argument("-t", "--output-type", type=output_types, default=None, metavar="TYPES",
                   help="composite, alpha, foreground, rgba, or a comma-separated list "
                        "(default: rgba, or composite when --background is given)")
    add_batch_options(p, "image")
    add_plate_option(p, "FILE", "clean-plate mode: an image of the empty background, taken with the same camera "
                     "and framing as the photos (a tripod). Needs trained plate weights (README: Clean plate)")
    add_engine_options(p, BASE)
    p.set_defaults(run=run)


def engine_config(args) -> EngineConfig:
    return apply_engine_options(args, BASE)


def run(args) -> int:
    config = engine_config(args)
    types = args.output_type or ["composite" if args.background else "rgba"]

    def matter():
        built = make_matter(config)
        apply_plate(built, args.plate)
        return built

    def single(job, edges) -> int:
        from ..photo import render_image

        for out in render_image(job.source.path, job.outputs, background=args.background,
                                matter=matter, overwrite=args.overwrite, edges=edges):
            print(f"wrote {out}")
        return 0

    return run_many(args, "image", types, config, single)
