"""``livematte video IN [-o OUT]``: composite, alpha matte or transparent video from footage."""
from __future__ import annotations

import sys
from pathlib import Path

from ..composite import OUTPUT_TYPES
from ..config import EngineConfig
from ..offline import ConversionInterrupted, convert_video
from .common import add_engine_options, apply_engine_options, make_matter
from .plates import add_plate_option, apply_plate

HELP = """Output format follows the extension: .mp4 H.264, .mov ProRes 4444 (with alpha), .webm VP9
(with alpha), a folder or a %05d.png pattern for a PNG sequence. Audio and frame timing are kept."""


def add_parser(sub) -> None:
    p = sub.add_parser("video", help="matte a video file", description=__doc__, epilog=HELP)
    p.add_argument("input", type=Path)
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="output file or folder (default: IN_<type>.mp4, or .mov when transparent)")
    p.add_argument("-b", "--background", default="green",
                   help="colour (green, #00ff00, 0,255,0), image or video file, blur[:N], transparent, none "
                        "(default: green)")
    p.add_argument("-t", "--output-type", choices=OUTPUT_TYPES, default="composite")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_plate_option(p, "FILE|auto", "clean-plate mode: an image of the empty background, filmed with this camera "
                     "and framing, or auto to build it from the video (where the person moved away; the automatic "
                     "model elsewhere). Needs trained plate weights (README: Clean plate)")
    add_engine_options(p, EngineConfig.offline())
    p.set_defaults(run=run)


def engine_config(args) -> EngineConfig:
    return apply_engine_options(args, EngineConfig.offline())


def plate_matter(args):
    matter = make_matter(engine_config(args))
    apply_plate(matter, args.plate, args.input)
    return matter


def run(args) -> int:
    try:
        result = convert_video(args.input, args.output, background=args.background, output_type=args.output_type,
                               matter=lambda: plate_matter(args), overwrite=args.overwrite,
                               progress=not args.no_progress)
    except ConversionInterrupted as stop:
        r = stop.result
        for note in r.notes:
            print(f"livematte: note: {note}", file=sys.stderr)
        total = f" of {r.frames_expected}" if r.frames_expected else ""
        where = f"; the partial output {r.output} was finalized and plays" if r.frames_written else ""
        print(f"livematte: interrupted after {r.frames_written}{total} frames{where}", file=sys.stderr)
        return 130
    for note in result.notes:
        print(f"livematte: note: {note}", file=sys.stderr)
    fps = result.frames_written / result.seconds if result.seconds else 0.0
    print(f"wrote {result.output} ({result.frames_written} frames, {fps:.1f} fps)")
    return 0
