"""``livematte image IN...``: cut people out of photos (RGBA PNG by default, or a composite)."""
from __future__ import annotations

from pathlib import Path

from ..composite import OUTPUT_TYPES
from ..config import EngineConfig
from ..errors import OutputError
from ..offline import convert_image
from .common import add_engine_options, apply_engine_options, make_matter
from .plates import add_plate_option, apply_plate

BASE = EngineConfig()  # photos: the engine's own defaults, no temporal smoothing


def add_parser(sub) -> None:
    p = sub.add_parser("image", help="matte images", description=__doc__)
    p.add_argument("inputs", type=Path, nargs="+")
    p.add_argument("-d", "--output-dir", type=Path, default=None,
                   help="folder for the results (default: beside each input)")
    p.add_argument("-b", "--background", default=None,
                   help="composite onto this background (colour, image, blur[:N]); default: transparent PNG")
    p.add_argument("-t", "--output-type", choices=OUTPUT_TYPES, default=None,
                   help="default: rgba, or composite when --background is given")
    p.add_argument("--overwrite", action="store_true")
    add_plate_option(p, "FILE", "clean-plate mode: an image of the empty background, taken with the same camera "
                     "and framing as the photos (a tripod). Needs trained plate weights (README: Clean plate)")
    add_engine_options(p, BASE)
    p.set_defaults(run=run)


def engine_config(args) -> EngineConfig:
    return apply_engine_options(args, BASE)


def run(args) -> int:
    output_type = args.output_type or ("composite" if args.background else "rgba")
    if args.output_dir is not None and not args.output_dir.is_dir():
        raise OutputError(f"output folder does not exist: {args.output_dir}")
    matters = []

    def matter():  # built once, on the first good input
        if not matters:
            matters.append(make_matter(engine_config(args)))
            apply_plate(matters[0], args.plate)
        return matters[0]

    for path in args.inputs:
        folder = args.output_dir or path.parent
        out = convert_image(path, folder / f"{path.stem}_{output_type}.png", background=args.background,
                            output_type=output_type, matter=matter, overwrite=args.overwrite)
        print(f"wrote {out}")
    return 0
