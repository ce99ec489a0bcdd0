"""Image sequences: ``name_%05d.png`` patterns (checked: one ``%d`` or ``%0Nd``, nothing else after a ``%``), folders
of numbered frames, and a reader that gives their frames as a video at a chosen rate."""
from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import InputError, SettingsError
from .media import Frame, VideoInfo, read_image

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
_FIELD = re.compile(r"%(0?\d*)d")
_NUMBERED = re.compile(r"^(.*?)(\d+)(\.[A-Za-z0-9]+)$")
DEFAULT_FPS = Fraction(25)


def check_pattern(name: str, what: str = "pattern") -> str:
    """``name`` if it holds exactly one ``%d`` or ``%0Nd`` (N ≤ 12) and no other ``%``; else a SettingsError that
    says so (``%s``, ``%x``, two fields and a bare ``%`` would each fail or mislead later)."""
    fields = _FIELD.findall(name)
    if len(fields) != 1 or "%" in _FIELD.sub("", name):
        raise SettingsError(f"{what} {name!r} must hold one frame number, %d or %0Nd (e.g. name_%05d.png), and no "
                            "other %")
    width = fields[0].lstrip("0")
    if width and int(width) > 12:
        raise SettingsError(f"{what} {name!r}: frame numbers of at most 12 digits")
    return name


def pattern_regex(pattern: str) -> re.Pattern:
    """A regex matching the names that printf ``pattern`` produces; group 1 is the frame number."""
    m = _FIELD.search(pattern)
    width = int(m.group(1) or 0)
    digits = rf"(\d{{{width},}})" if width > 1 else r"(\d+)"
    return re.compile(re.escape(pattern[:m.start()]) + digits + re.escape(pattern[m.end():]) + "$")


def numbered_frames(folder: Path) -> list[Path]:
    """The images of ``folder`` that form one numbered sequence (same prefix and extension), in frame order; []
    when the folder's images are not numbered like that."""
    groups: dict[tuple[str, str], list[tuple[int, Path]]] = {}
    for p in folder.iterdir():
        m = _NUMBERED.match(p.name)
        if m and m.group(3).lower() in IMAGE_EXTENSIONS and p.is_file():
            groups.setdefault((m.group(1), m.group(3)), []).append((int(m.group(2)), p))
    if len(groups) != 1:
        return []
    [frames] = groups.values()
    return [p for _, p in sorted(frames)] if len(frames) > 1 else []


def pattern_frames(pattern: Path) -> list[Path]:
    check_pattern(pattern.name, "input pattern")
    folder = pattern.parent
    if not folder.is_dir():
        raise InputError(f"no folder {folder} for the image sequence {pattern.name}")
    regex = pattern_regex(pattern.name)
    found = sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := regex.match(p.name)))
    if not found:
        raise InputError(f"no frames match {pattern}")
    return [p for _, p in found]


def parse_fps(text: str) -> Fraction:
    """'25', '29.97' (→ 30000/1001) or '30000/1001', in 1..1000."""
    try:
        rate = Fraction(text).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        raise SettingsError(f"--fps must be a number or a ratio like 30000/1001, not {text!r}") from None
    if not 1 <= rate <= 1000:
        raise SettingsError(f"--fps must be 1..1000, not {text}")
    return rate


class SequenceReader:
    """A sequence of image files read as a video: ``VideoReader``'s interface, frame i at pts i in 1/fps."""

    def __init__(self, frames: list[Path], fps: Fraction = DEFAULT_FPS, name: str | None = None):
        if not frames:
            raise InputError(f"image sequence {name} has no frames")
        self.path = Path(name or frames[0])
        self.files = frames
        first = read_image(frames[0])
        self._first = first
        h, w = first.shape[:2]
        self.info = VideoInfo(w, h, 1 / Fraction(fps), Fraction(fps), len(frames), 0, False)
        self.notes: list[str] = []

    def __iter__(self) -> Iterator[Frame]:
        for i, path in enumerate(self.files):
            rgb = self._first if i == 0 else read_image(path)
            if rgb.shape[:2] != (self.info.height, self.info.width):
                raise InputError(f"{path.name} is {rgb.shape[1]}x{rgb.shape[0]}, the sequence's first frame "
                                 f"{self.info.width}x{self.info.height}")
            yield Frame(i, np.ascontiguousarray(rgb), i)

    def close(self) -> None:
        pass


def is_pattern(path: Path) -> bool:
    """A printf frame pattern rather than a file: a % in a name that does not exist as it is."""
    return "%" in path.name and not path.exists()


def open_reader(path: Path, fps: Fraction | None = None):
    """A reader for a video file, a folder of numbered frames or a frame pattern (image sequences at ``fps``)."""
    from .media import VideoReader

    path = Path(path)
    try:
        if is_pattern(path):
            return SequenceReader(pattern_frames(path), fps or DEFAULT_FPS, str(path))
        if path.is_dir():
            frames = numbered_frames(path)
            if not frames:
                raise InputError(f"input is a folder without numbered frames (name_00001.png, ...): {path}")
            return SequenceReader(frames, fps or DEFAULT_FPS, str(path))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return VideoReader(path)
