"""Offline processing: a video file or images in, composites / mattes / transparent media out.

``convert_video`` runs decode → matte → composite → encode as a threaded pipeline with lossless queues.
Outputs are written to a temporary name beside the target and moved into place at the end (also after
Ctrl-C, so a partial file is playable), so an existing file is never half-overwritten. A PNG sequence goes to a
hidden folder and replaces an existing sequence only when the run finishes.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

import numpy as np

from .composite import OUTPUT_TYPES, Background, parse_background, render_output
from .config import EngineConfig
from .engine import Matter
from .errors import OutputError, SettingsError
from .interfaces import MatteEngine
from .media import VideoReader, read_image, write_image
from .pipeline import Pipeline
from .writers import (open_writer, output_kind, png_sequence_files, png_sequence_target, replace_png_sequence,
                      supports_alpha)

DEFAULT_EXTENSION = {"composite": ".mp4", "alpha": ".mp4", "foreground": ".mp4", "rgba": ".mov"}


def needs_alpha_channel(output_type: str, background: Background) -> bool:
    return output_type == "rgba" or (output_type == "composite" and background.transparent)


def default_output(input_path: Path, output_type: str, background: Background) -> Path:
    suffix = ".mov" if needs_alpha_channel(output_type, background) else DEFAULT_EXTENSION[output_type]
    label = "transparent" if background.transparent and output_type == "composite" else output_type
    return input_path.with_name(f"{input_path.stem}_{label}{suffix}")


def check_output(input_path: Path, output: Path, overwrite: bool, alpha_channel: bool = False) -> str:
    """Validate an output before any work; return its kind ('video' or 'png-sequence').

    Refuses the input itself, an existing output without ``overwrite``, a format that cannot carry the
    alpha channel asked for, and a missing or unwritable folder."""
    same_file = output.exists() and input_path.exists() and os.path.samefile(output, input_path)
    if same_file or output.resolve() == input_path.resolve():
        raise OutputError(f"output {output} is the input file: choose another name")
    kind = output_kind(output)
    if alpha_channel and not supports_alpha(output):
        raise OutputError(f"{output.suffix} cannot carry transparency: use .mov, .webm or a PNG sequence")
    if kind == "png-sequence":
        folder = png_sequence_target(output)[0]
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} exists and is not a folder")
        if png_sequence_files(output) and not overwrite:
            raise OutputError(f"{folder} already holds frames of this sequence (use --overwrite to replace them)")
    elif output.exists() and not overwrite:
        raise OutputError(f"{output} exists (use --overwrite to replace it)")
    if not output.parent.exists():
        raise OutputError(f"output folder does not exist: {output.parent}")
    if not os.access(output.parent, os.W_OK):
        raise OutputError(f"output folder is not writable: {output.parent}")
    return kind


@dataclass
class ConvertResult:
    output: Path
    frames_written: int
    frames_expected: int | None
    completed: bool
    seconds: float
    notes: tuple[str, ...] = ()  # what reading the input changed or skipped (non-square pixels, damaged frames)


class ConversionInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during ``convert_video``; ``result`` says how far it got (the partial file plays)."""

    def __init__(self, result: ConvertResult):
        super().__init__(f"interrupted after {result.frames_written} frames")
        self.result = result


MatterSource = Union[MatteEngine, Callable[[], MatteEngine], None]


def _get_matter(matter: MatterSource, default: EngineConfig) -> MatteEngine:
    """A matting engine (a Matter, a peer model), a factory of one (called only once the inputs are known to be
    good), or None for a Matter of ``default``."""
    if matter is None:
        return Matter(default)
    return matter if isinstance(matter, MatteEngine) else matter()


def convert_video(input_path: str | os.PathLike, output: str | os.PathLike | None = None, *,
                  background: str | None = "green", output_type: str = "composite", matter: MatterSource = None,
                  overwrite: bool = False, progress: bool = True, queue_size: int = 4,
                  on_frame: Callable[[int], None] | None = None,
                  timings: dict[str, list[float]] | None = None) -> ConvertResult:
    """Matte every frame of a video and encode the result, keeping audio and exact timing.

    ``timings``, when given, collects each stage's seconds per frame (decode, matte, composite, encode)."""
    if output_type not in OUTPUT_TYPES:
        raise SettingsError(f"output type must be one of {', '.join(OUTPUT_TYPES)}, not {output_type!r}")
    input_path = Path(input_path)
    bg = parse_background(background)
    out = Path(output) if output is not None else default_output(input_path, output_type, bg)
    alpha_channel = needs_alpha_channel(output_type, bg)
    kind = check_output(input_path, out, overwrite, alpha_channel)
    reader = VideoReader(input_path)
    info = reader.info
    try:
        matter = _get_matter(matter, EngineConfig.offline())
    except BaseException:
        reader.close()
        raise
    matter.reset()
    if kind == "png-sequence":
        # Frames go to a hidden folder beside the target and replace the old ones only at the end.
        partial = out.with_name(f".{out.name}.partial")
        shutil.rmtree(partial, ignore_errors=True)  # a crashed run's frames must not join this sequence
        temp = partial / png_sequence_target(out)[1]
        replaces_frames = bool(png_sequence_files(out))
    else:
        temp = out.with_name(f".{out.stem}.partial{out.suffix}")
    writer = None
    bar = None
    started = time.perf_counter()
    completed = interrupted = keep = False
    try:
        writer = open_writer(temp, info.width, info.height, info.time_base, info.rate, alpha_channel,
                             input_path if info.has_audio else None)
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=info.frames, unit="frame", desc=out.name, dynamic_ncols=True, smoothing=0.1)

        def timed(stage, fn):
            """``fn``, recording its seconds per call under ``stage`` when timings are collected."""
            if timings is None:
                return fn

            def run(*args):
                t0 = time.perf_counter()
                try:
                    return fn(*args)
                finally:
                    timings.setdefault(stage, []).append(time.perf_counter() - t0)
            return run

        decode_next = timed("decode", next)
        matte_frame = timed("matte", matter)
        render_frame = timed("composite", render_output)
        write_frame = timed("encode", writer.write)

        def frames():
            it = iter(reader)
            while (frame := decode_next(it, None)) is not None:
                yield frame

        def matte(frame):
            return frame, matte_frame(frame.rgb)

        def render(item):
            frame, alpha = item
            return render_frame(frame.rgb, alpha, bg, output_type), frame.pts

        def encode(item):
            image, pts = item
            write_frame(image, pts)
            if bar is not None:
                bar.update(1)
            if on_frame is not None:
                on_frame(writer.frames_written)

        try:
            completed = Pipeline(frames(), [matte, render], encode, maxsize=queue_size, name="video").run()
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            # finalizes what was encoded, so a partial file plays (with the audio of its frames); may raise
            writer.close(complete=not interrupted)
            keep = completed or interrupted
    finally:
        if bar is not None:
            bar.close()
        reader.close()
        bg.close()
        if kind == "png-sequence":
            # A finished run replaces the old frames. An interrupted one is kept only where there were none: part
            # of a new sequence is worth less than a whole old one (a failed run never replaces anything).
            keep = keep and (completed or not replaces_frames)
            if keep and writer.frames_written > 0:
                replace_png_sequence(partial, out)
            else:
                shutil.rmtree(partial, ignore_errors=True)
        elif keep and writer.frames_written > 0:
            # Only a finished or interrupted run, cleanly closed, replaces the target; after a failure the
            # target stays as it was.
            os.replace(temp, out)
        else:
            temp.unlink(missing_ok=True)
        if interrupted and keep:  # replaces the KeyboardInterrupt with one that says how far the run got
            # (not when closing failed: that error, and the untouched target, are what the user must hear of;
            # nor when the partial sequence was dropped: there is no partial output to point to)
            raise ConversionInterrupted(ConvertResult(out, writer.frames_written, info.frames, False,
                                                      time.perf_counter() - started, tuple(reader.notes))) from None
    return ConvertResult(out, writer.frames_written, info.frames, completed, time.perf_counter() - started,
                         tuple(reader.notes))


def convert_image(input_path: str | os.PathLike, output: str | os.PathLike, *, background: str | None = None,
                  output_type: str = "rgba", matter: MatterSource = None, overwrite: bool = False) -> Path:
    input_path, out = Path(input_path), Path(output)
    if out.exists() and not overwrite:
        raise OutputError(f"{out} exists (use --overwrite to replace it)")
    if out.exists() and os.path.samefile(out, input_path):
        raise OutputError(f"output {out} is the input file")
    bg = parse_background(background)
    rgb = read_image(input_path)
    matter = _get_matter(matter, EngineConfig())  # a photo: no temporal smoothing
    matter.reset()
    alpha = matter(rgb)
    image = render_output(rgb, alpha, bg, output_type)
    if out.suffix.lower() in (".jpg", ".jpeg") and image.ndim == 3 and image.shape[2] == 4:
        raise OutputError(f"{out.suffix} cannot carry transparency: use .png")
    write_image(out, np.ascontiguousarray(image))
    return out
