"""``livematte video IN... [-o OUT]``: composites, alpha mattes or transparent video from footage: files, folders,
globs and image sequences, several output types from one decode."""
from __future__ import annotations

import sys
from pathlib import Path

from ..config import EngineConfig
from .common import add_engine_options, apply_engine_options, make_matter
from .many import add_batch_options, output_types, run_many
from .plates import add_plate_option, apply_plate

HELP = """Output format follows the extension: .mp4 H.264, .mov ProRes 4444 (with alpha), .webm VP9
(with alpha), a folder or a %05d.png pattern for a PNG sequence. Audio and frame timing are kept.
With several inputs, a folder or several output types, -o is a folder: the outputs keep the inputs'
names and subfolders (IN_composite.mp4, IN_alpha.mp4, ...), existing ones are skipped (--overwrite
replaces them), a failing file is reported at the end and the others go on. Exit status: 0 all done,
1 some failed, 2 bad options, 130 interrupted."""


def add_parser(sub) -> None:
    p = sub.add_parser("video", help="matte video files", description=__doc__, epilog=HELP)
    p.add_argument("inputs", type=Path, nargs="+", metavar="IN",
                   help="a video, a folder, a glob, or an image sequence (a folder of numbered frames or a "
                        "name_%%05d.png pattern)")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="output file or folder (default: IN_<type>.mp4 beside each input, or .mov when transparent)")
    p.add_argument("-b", "--background", default="green",
                   help="colour (green, #00ff00, 0,255,0), image or video file, blur[:N], transparent, none "
                        "(default: green)")
    p.add_argument("-t", "--output-type", type=output_types, default=["composite"], metavar="TYPES",
                   help="composite, alpha, foreground, rgba, or a comma-separated list of them: one output file each, "
                        "from one decode (default: composite)")
    add_batch_options(p, "video")
    add_plate_option(p, "FILE|auto", "clean-plate mode: an image of the empty background, filmed with this camera "
                     "and framing, or auto to build it from the video (where the person moved away; the automatic "
                     "model elsewhere). Needs trained plate weights (README: Clean plate)")
    add_engine_options(p, EngineConfig.offline())
    p.set_defaults(run=run)


def engine_config(args) -> EngineConfig:
    return apply_engine_options(args, EngineConfig.offline())


def run(args) -> int:
    config = engine_config(args)

    def single(job, edges) -> int:
        from ..offline import ConversionInterrupted, convert_video

        def matter():
            built = make_matter(config)
            apply_plate(built, args.plate, job.source.path)
            return built

        try:
            result = convert_video(job.source.path, outputs=job.outputs, background=args.background,
                                   matter=matter, overwrite=args.overwrite,
                                   progress=not args.no_progress, edges=edges, fps=args.fps)
        except ConversionInterrupted as stop:
            r = stop.result
            for note in r.notes:
                print(f"livematte: note: {note}", file=sys.stderr)
            total = f" of {r.frames_expected}" if r.frames_expected else ""
            outputs = ", ".join(map(str, r.outputs))
            where = f"; the partial output {outputs} was finalized and plays" if r.frames_written else ""
            print(f"livematte: interrupted after {r.frames_written}{total} frames{where}", file=sys.stderr)
            return 130
        for note in result.notes:
            print(f"livematte: note: {note}", file=sys.stderr)
        fps = result.frames_written / result.seconds if result.seconds else 0.0
        for output in result.outputs:
            print(f"wrote {output} ({result.frames_written} frames, {fps:.1f} fps)")
        return 0

    return run_many(args, "video", args.output_type, config, single)
