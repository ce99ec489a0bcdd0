"""Offline processing: a video file or images in, composites / mattes / transparent media out.

``convert_video`` runs decode → matte → composite → encode as a threaded pipeline with lossless queues.
Outputs are written to a temporary name beside the target and moved into place at the end (also after
Ctrl-C, so a partial file is playable), so an existing file is never half-overwritten. A PNG sequence goes to a
hidden folder and replaces an existing sequence only when the run finishes.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .composite import OUTPUT_TYPES, parse_background, render_output
from .config import EngineConfig
from .errors import OutputError, SettingsError
from .outputs import (NO_EDGES, Edges, MatterSource, checked_output, default_output, get_matter,  # noqa: F401
                      needs_alpha_channel)
from .photo import convert_image, render_image  # noqa: F401 - the library's one place for offline conversion
from .pipeline import Pipeline
from .safewrite import SafeOutput
from .sequences import open_reader
from .writers import open_writer, png_sequence_files, png_sequence_target, replace_png_sequence


@dataclass
class ConvertResult:
    output: Path
    frames_written: int
    frames_expected: int | None
    completed: bool
    seconds: float
    notes: tuple[str, ...] = ()  # what reading the input changed or skipped (non-square pixels, damaged frames)
    outputs: tuple[Path, ...] = ()  # every output of the one decode, ``output`` the first


class ConversionInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during ``convert_video``; ``result`` says how far it got (the partial file plays)."""

    def __init__(self, result: ConvertResult):
        super().__init__(f"interrupted after {result.frames_written} frames")
        self.result = result


def convert_video(input_path: str | os.PathLike, output: str | os.PathLike | None = None, *,
                  background: str | None = "green", output_type: str = "composite",
                  outputs: list[tuple[str, Path]] | None = None, matter: MatterSource = None,
                  overwrite: bool = False, progress: bool = True, queue_size: int = 4,
                  on_frame: Callable[[int], None] | None = None, timings: dict[str, list[float]] | None = None,
                  edges: Edges = NO_EDGES, fps=None, keep_interrupted: bool = True,
                  foreign_stale: bool = False) -> ConvertResult:
    """Matte every frame of a video (or an image sequence: a folder of numbered frames or a %05d pattern, at
    ``fps``) and encode the result, keeping audio and exact timing.

    ``outputs``: several (output type, path) from the one decode, each frame and timestamp the same in all.
    ``keep_interrupted`` False: an interrupted run leaves no output (a batch redoes it on resume).
    ``timings``, when given, collects each stage's seconds per frame (decode, matte, composite, encode)."""
    input_path = Path(input_path)
    bg = parse_background(background)
    if outputs is None:
        out = Path(output) if output is not None else default_output(input_path, output_type, bg)
        outputs = [(output_type, out)]
    for kind_of_output, _ in outputs:
        if kind_of_output not in OUTPUT_TYPES:
            raise SettingsError(f"output type must be one of {', '.join(OUTPUT_TYPES)}, not {kind_of_output!r}")
    alphas = [needs_alpha_channel(t, bg) for t, _ in outputs]
    kinds = [checked_output(input_path, Path(o), overwrite, a) for (_, o), a in zip(outputs, alphas)]
    safe: list[SafeOutput] = []
    reader = None
    try:  # locked before the model loads: a second process on the same output is told at once
        for (_, o), kind in zip(outputs, kinds):
            safe.append(SafeOutput(Path(o), kind == "png-sequence", foreign_stale))
        reader = open_reader(input_path, fps)
        matter = get_matter(matter, EngineConfig.offline())
        matter.reset()
    except BaseException:
        for so in safe:
            so.discard()
        if reader is not None:
            reader.close()
        bg.close()
        raise
    info = reader.info
    writers: list = []
    replaces = [kind == "png-sequence" and bool(png_sequence_files(Path(o))) for (_, o), kind in zip(outputs, kinds)]
    bar = None
    started = time.perf_counter()
    completed = interrupted = False
    failed: BaseException | None = None
    try:
        for (t, o), kind, a, so in zip(outputs, kinds, alphas, safe):
            if not overwrite and kind == "video" and Path(o).exists():  # finished by another process meanwhile
                raise OutputError(f"{o} exists (use --overwrite to replace it)")
            temp = so.partial / png_sequence_target(Path(o))[1] if kind == "png-sequence" else so.partial
            writers.append(open_writer(temp, info.width, info.height, info.time_base, info.rate, a,
                                       input_path if info.has_audio else None))
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=info.frames, unit="frame", desc=Path(outputs[0][1]).name, dynamic_ncols=True,
                       smoothing=0.1)
        decode_next = _timed(timings, "decode", next)
        matte_frame = _timed(timings, "matte", lambda rgb: edges(matter(rgb)))
        render_frame = _timed(timings, "composite", lambda rgb, alpha: [render_output(rgb, alpha, bg, t)
                                                                         for t, _ in outputs])
        write_frame = _timed(timings, "encode", lambda images, pts: [w.write(i, pts) for w, i in zip(writers, images)])

        def frames():
            it = iter(reader)
            while (frame := decode_next(it, None)) is not None:
                yield frame

        def encode(item):
            images, pts = item
            write_frame(images, pts)
            if bar is not None:
                bar.update(1)
            if on_frame is not None:
                on_frame(writers[0].frames_written)

        try:
            completed = Pipeline(frames(), [lambda f: (f, matte_frame(f.rgb)),
                                            lambda item: (render_frame(item[0].rgb, item[1]), item[0].pts)],
                                 encode, maxsize=queue_size, name="video").run()
        except KeyboardInterrupt:
            interrupted = True
            raise
    except BaseException as exc:
        failed = exc
        raise
    finally:
        if bar is not None:
            bar.close()
        reader.close()
        bg.close()
        written = _finish(outputs, kinds, writers, safe, replaces, completed, interrupted and keep_interrupted,
                          failed is None or interrupted)
        if interrupted and written:  # replaces the KeyboardInterrupt with one that says how far the run got
            # (not when closing failed: that error, and the untouched target, are what the user must hear of;
            # nor when nothing was kept: there is no partial output to point to)
            raise ConversionInterrupted(ConvertResult(Path(outputs[0][1]), written, info.frames, False,
                                                      time.perf_counter() - started, tuple(reader.notes),
                                                      tuple(Path(o) for _, o in outputs))) from None
    return ConvertResult(Path(outputs[0][1]), writers[0].frames_written, info.frames, completed,
                         time.perf_counter() - started, tuple(reader.notes), tuple(Path(o) for _, o in outputs))


def _timed(timings, stage, fn):
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


def _finish(outputs, kinds, writers, safe, replaces, completed, keep_interrupted, clean) -> int:
    """Close every writer (finalized, so a partial file plays), then move each output into place or discard it;
    return the frames kept (0: nothing was). The first error closing is raised once all are handled."""
    error = None
    kept = 0
    for i, so in enumerate(safe):
        keep = False
        if i < len(writers):
            try:
                writers[i].close(complete=completed)
                # A finished run replaces the target; an interrupted one too, except a sequence that had frames
                # (part of a new sequence is worth less than a whole old one); after a failure it stays as it was.
                keep = clean and writers[i].frames_written > 0 and (
                    completed or (keep_interrupted and not replaces[i]))
            except BaseException as exc:  # noqa: BLE001 - the others are still closed and cleaned
                error = error or exc
        try:
            if keep:
                so.commit(replace_png_sequence if kinds[i] == "png-sequence" else None)
                kept = writers[i].frames_written
            else:
                so.discard()
        except BaseException as exc:  # noqa: BLE001
            so.discard()
            error = error or exc
    if error is not None:
        raise error
    return kept


