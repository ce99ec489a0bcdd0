"""``--plate`` for the verbs: a plate file, a video's own plate (``auto``), or one captured from the camera
(``capture``). The plate logic itself is livematte/plate.py; this module reads files and cameras, importing what
it needs when it is used (the parser imports this module for every verb)."""
from __future__ import annotations

import itertools
import sys
import threading
import time
from pathlib import Path

from ..errors import InputError

AUTO_SAMPLES = 40       # frames spread over the video that an automatic plate is made of
AUTO_SIDE = 640         # their long side, px: the engine works far below it
MIN_COVERAGE = 0.02     # an automatic plate covering less is not used
CAPTURE_SECONDS, COUNTDOWN = 1.0, 3


def add_plate_option(p, forms: str, help_text: str) -> None:
    p.add_argument("--plate", metavar=forms, default=None, help=help_text)


def read_plate(path: str | Path) -> np.ndarray:
    """A plate image file (RGB)."""
    from ..media import read_image

    return read_image(path)


def auto_plate(video: Path, matter, samples: int = AUTO_SAMPLES) -> AutoPlate:
    """A plate from ``video`` itself: ``samples`` frames spread over it, the person masked by ``matter``'s
    automatic matte, their per-pixel median (livematte.plate.build_auto_plate)."""
    from ..media import VideoReader
    from ..plate import build_auto_plate
    from ..resize import fit_within

    reader = VideoReader(video)
    try:
        step = max(1, (reader.info.frames or samples) // samples)
        frames = [fit_within(f.rgb, AUTO_SIDE) for f in itertools.islice(reader, 0, step * samples, step)]
    finally:
        reader.close()
    if not frames:
        raise InputError(f"{video} has no frames to build a plate from")
    alphas = []
    for f in frames:  # far apart in time: each on its own, no smoothing across them
        matter.reset()
        alphas.append(matter(f))
    matter.reset()
    return build_auto_plate(frames, alphas)


def apply_plate(matter, spec: str | None, video: Path | None = None) -> None:
    """Set the plate ``spec`` names on ``matter``: a file, or ``auto`` (``video``'s own; reported on stderr)."""
    if spec is None:
        return
    if spec != "auto":
        matter.set_plate(read_plate(spec))
        return
    if video is None:
        raise InputError("--plate auto builds the plate from a video: give a plate file here")
    auto = auto_plate(video, matter)
    if auto.covered < MIN_COVERAGE:
        print(f"livematte: note: --plate auto: the person never left enough of the frame ({auto.covered:.0%} seen "
              "empty); running without a plate", file=sys.stderr)
        return
    print(f"livematte: note: --plate auto: plate from {auto.frames_used} frames covers {auto.covered:.0%} of the "
          "frame" + ("" if auto.covered == 1 else "; the automatic model is used for the rest"), file=sys.stderr)
    matter.set_plate(auto.plate, coverage=auto.coverage)


def capture_plate(source, matter, seconds: float | None = None, countdown: int | None = None,
                  say=lambda text: print(text, file=sys.stderr, flush=True)) -> np.ndarray:
    """A plate from the camera: a countdown for the user to step out, then ``seconds`` of frames averaged; refused
    (``InputError``) when ``matter``'s automatic model still finds a person in them."""
    from ..plate import average_plate, refuse_person

    seconds = CAPTURE_SECONDS if seconds is None else seconds
    countdown = COUNTDOWN if countdown is None else countdown
    stop = threading.Event()
    frames = source.frames(stop)
    try:
        for n in range(countdown, 0, -1):
            say(f"plate: step out of the frame: {n}")
            until = time.monotonic() + 1.0
            for _ in frames:  # keep reading: a camera must not fill its buffer with old frames
                if time.monotonic() >= until:
                    break
        say("plate: capturing…")
        wanted = max(1, round(seconds * (getattr(source, "fps", None) or 30)))
        captured = [f.rgb for f in itertools.islice(frames, wanted)]
    finally:
        stop.set()
        frames.close()
    if not captured:
        raise InputError("the camera gave no frames for the plate")
    matter.reset()
    refuse_person([matter(f) for f in captured[::max(1, len(captured) // 5)]])
    matter.reset()
    return average_plate(captured)


def save_plate(plate: np.ndarray, folder: Path) -> Path:
    """Write a captured plate as a PNG in ``folder`` (a new name each time)."""
    from ..media import write_image

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / time.strftime("plate-%Y%m%d-%H%M%S.png")
    write_image(path, plate)
    return path
