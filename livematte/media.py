"""Reading video with PyAV (upright frames with their timestamps), and reading and writing images with OpenCV.
Video outputs are in ``livematte.writers``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import cv2
import numpy as np

from .errors import InputError, OutputError


@dataclass
class VideoInfo:
    width: int            # after rotation
    height: int
    time_base: Fraction
    rate: Fraction | None  # average frame rate; None if unknown
    frames: int | None    # count from the container, may be missing or approximate
    rotation: int         # degrees the frames are turned by on reading, so that they come out upright
    has_audio: bool


@dataclass
class Frame:
    index: int
    rgb: np.ndarray       # H×W×3 uint8, upright
    pts: int | None       # in VideoInfo.time_base


def _open_input(path: Path):
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.is_dir():
        raise InputError(f"input is a folder, not a video: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"input is empty (0 bytes): {path}")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot read {path} as a video: {exc}") from None


class VideoReader:
    """Iterate a video's frames as upright RGB arrays with their timestamps."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.container = _open_input(self.path)
        if not self.container.streams.video:
            self.container.close()
            raise InputError(f"{self.path} has no video stream")
        self.stream = self.container.streams.video[0]
        cc = self.stream.codec_context
        if cc is None:
            self.container.close()
            raise InputError(f"{self.path}: the video codec is unknown or not supported")
        self.stream.thread_type = "AUTO"
        if cc.width <= 0 or cc.height <= 0:
            self.container.close()
            raise InputError(f"{self.path}: video stream has no frame size (unsupported codec or corrupt header)")
        self._frames = self.container.decode(self.stream)
        self._first = self._next_decoded(first=True)
        rotation = int(getattr(self._first, "rotation", 0) or 0) % 360
        w, h = cc.width, cc.height
        if rotation % 180:
            w, h = h, w
        rate = self.stream.average_rate or self.stream.guessed_rate
        self.info = VideoInfo(w, h, self.stream.time_base or Fraction(1, 90000), Fraction(rate) if rate else None,
                              self.stream.frames or None, rotation, bool(self.container.streams.audio))

    def _next_decoded(self, first: bool = False):
        try:
            return next(self._frames, None)
        except (av.FFmpegError, ValueError) as exc:
            if first:
                self.container.close()
                raise InputError(f"cannot decode {self.path}: {exc}") from None
            return None  # a corrupt or truncated tail: keep what decoded, as players do

    def __iter__(self) -> Iterator[Frame]:
        frame, index = self._first, 0
        if frame is None:
            self.container.close()
            raise InputError(f"{self.path} holds no decodable video frames")
        turns = self.info.rotation // 90
        while frame is not None:
            rgb = frame.to_ndarray(format="rgb24")
            if turns:
                rgb = np.ascontiguousarray(np.rot90(rgb, k=turns))
            yield Frame(index, rgb, frame.pts)
            index += 1
            frame = self._next_decoded()

    def close(self) -> None:
        self.container.close()


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Any 8/16-bit grey, RGB or RGBA image -> H×W×3 uint8 RGB (alpha dropped, 16-bit scaled down)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"image not found: {path}")
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None:
        raise InputError(f"cannot read {path} as an image")
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def write_image(path: Path, image: np.ndarray) -> None:
    """Write RGB/RGBA/grey uint8 as an image; raise OutputError with the reason when it fails."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(path.suffix or ".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise OutputError(f"cannot encode {path}")
    try:
        with open(path, "wb") as f:
            f.write(buf.tobytes())
    except OSError as exc:
        if exc.errno == 28:
            raise OutputError(f"disk full while writing {path}") from None
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
