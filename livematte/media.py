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
    width: int            # after rotation and resampling to square pixels
    height: int
    time_base: Fraction
    rate: Fraction | None  # average frame rate; None if unknown
    frames: int | None    # count from the container, may be missing or approximate
    rotation: int         # degrees the frames are turned by on reading, so that they come out upright
    has_audio: bool
    sample_aspect: Fraction = Fraction(1)  # the stored pixels' width:height; frames are resampled to square pixels
    interlaced: bool = False  # the first frame is interlaced: frames are deinterlaced on reading


@dataclass
class Frame:
    index: int
    rgb: np.ndarray       # H×W×3 uint8, upright
    pts: int | None       # in VideoInfo.time_base


def _open_input(path: Path):
    try:
        return _open_checked(path)
    except OSError as exc:  # a name too long, a loop of links: what the file system says
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _open_checked(path: Path):
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


def square_pixels(rgb: np.ndarray, sample_aspect: Fraction) -> np.ndarray:
    """A frame of non-square pixels resampled to square ones at the same height (the display aspect kept)."""
    h, w = rgb.shape[:2]
    width = max(2, round(w * sample_aspect / 2) * 2)
    if width == w:
        return rgb
    return cv2.resize(rgb, (width, h), interpolation=cv2.INTER_AREA if width < w else cv2.INTER_LINEAR)


def deinterlace(rgb: np.ndarray) -> np.ndarray:
    """Blend each line with its neighbours (1-2-1): the two fields of an interlaced frame merge without combing."""
    return cv2.filter2D(rgb, -1, np.array([[0.25], [0.5], [0.25]], np.float32), borderType=cv2.BORDER_REFLECT)


class VideoReader:
    """Iterate a video's frames as upright RGB arrays with their timestamps: square pixels, deinterlaced, frames that
    cannot be decoded skipped and counted (``skipped``), as players do."""

    MAX_BAD_PACKETS = 300  # undecodable packets in a row before the stream counts as unreadable
    _exhausted = False

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
        self.skipped = 0  # packets that failed to decode
        self._packets = self._yielded = 0  # at the end, their difference is the frames lost (and the decoder dropped)
        self._frames = self._decoded()
        self._first = self._next_decoded(first=True)
        rotation = int(getattr(self._first, "rotation", 0) or 0) % 360
        sar = self.stream.sample_aspect_ratio or cc.sample_aspect_ratio
        sar = Fraction(sar) if sar and 0.1 < sar < 10 else Fraction(1)
        w, h = (max(2, round(cc.width * sar / 2) * 2) if sar != 1 else cc.width), cc.height
        if rotation % 180:
            w, h = h, w
        rate = self.stream.average_rate or self.stream.guessed_rate
        self.info = VideoInfo(w, h, self.stream.time_base or Fraction(1, 90000), Fraction(rate) if rate else None,
                              self.stream.frames or None, rotation, bool(self.container.streams.audio), sar,
                              bool(self._first is not None and self._first.interlaced_frame))

    def _decoded(self):
        """Decoded frames, packet by packet: a packet that fails to decode is skipped and counted."""
        bad = 0
        for packet in self.container.demux(self.stream):
            self._packets += packet.size > 0
            try:
                frames = packet.decode()
            except (av.FFmpegError, ValueError):
                self.skipped += 1
                bad += 1
                if bad > self.MAX_BAD_PACKETS:
                    return
                continue
            bad = 0
            yield from frames

    def _next_decoded(self, first: bool = False):
        try:
            return next(self._frames, None)
        except (av.FFmpegError, ValueError) as exc:  # the demuxer itself failed
            if first:
                self.container.close()
                raise InputError(f"cannot decode {self.path}: {exc}") from None
            return None  # a corrupt or truncated tail: keep what decoded, as players do

    @property
    def notes(self) -> list[str]:
        """What the reader changed or skipped, to tell the user."""
        notes = []
        if self.info.sample_aspect != 1:
            notes.append(f"non-square pixels ({self.info.sample_aspect}): resampled to square pixels, "
                         f"{self.info.width}x{self.info.height}")
        if self.info.interlaced:
            notes.append("interlaced: deinterlaced")
        lost = self._packets - self._yielded if self._exhausted else self.skipped
        if lost > 0:
            notes.append(f"{lost} damaged frame(s) could not be decoded and were skipped")
        return notes

    def __iter__(self) -> Iterator[Frame]:
        frame, index = self._first, 0
        if frame is None:
            self.container.close()
            raise InputError(f"{self.path} holds no decodable video frames")
        turns = self.info.rotation // 90
        while frame is not None:
            rgb = frame.to_ndarray(format="rgb24")
            if frame.interlaced_frame:
                rgb = deinterlace(rgb)
            if self.info.sample_aspect != 1:
                rgb = square_pixels(rgb, self.info.sample_aspect)
            if turns:
                rgb = np.ascontiguousarray(np.rot90(rgb, k=turns))
            yield Frame(index, rgb, frame.pts)
            index += 1
            self._yielded = index
            frame = self._next_decoded()
        self._exhausted = True

    def close(self) -> None:
        self.container.close()


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Any 8/16-bit grey, RGB or RGBA image -> H×W×3 uint8 RGB (alpha dropped, 16-bit scaled down), turned upright
    as its EXIF orientation says (a phone photo comes out as the phone showed it)."""
    path = Path(path)
    try:
        found = path.is_file()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not found:
        raise InputError(f"image not found: {path}")
    try:  # read here, decoded by OpenCV: its own file opening crashes on names that are not UTF-8
        data = np.fromfile(path, np.uint8)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None  # 16 bits and alpha kept; not EXIF
    if img is None:
        raise InputError(f"cannot read {path} as an image")
    img = orient(img, exif_orientation(path))
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def exif_orientation(path: Path) -> int:
    """A JPEG's EXIF orientation tag (1-8), 1 when it has none or is not a JPEG."""
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 17)  # APP1 comes first and is at most 64 KiB
    except OSError:
        return 1
    i = 2
    while data[:2] == b"\xff\xd8" and i + 4 <= len(data) and data[i] == 0xFF:
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker == 0xE1 and data[i + 4:i + 10] == b"Exif\0\0":
            return _tiff_orientation(data[i + 10:i + 2 + length])
        if marker in (0xDA, 0xD9):  # image data: no more headers
            break
        i += 2 + length
    return 1


def _tiff_orientation(tiff: bytes) -> int:
    order = {b"II": "little", b"MM": "big"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return 1
    ifd = int.from_bytes(tiff[4:8], order)
    if ifd + 2 > len(tiff):
        return 1
    for k in range(int.from_bytes(tiff[ifd:ifd + 2], order)):
        entry = tiff[ifd + 2 + 12 * k:ifd + 14 + 12 * k]
        if len(entry) == 12 and int.from_bytes(entry[:2], order) == 0x0112:
            value = int.from_bytes(entry[8:10], order)
            return value if 1 <= value <= 8 else 1
    return 1


# EXIF orientation -> (mirror left-right first, then quarter turns counter-clockwise) that make the picture upright
_UPRIGHT = {1: (False, 0), 2: (True, 0), 3: (False, 2), 4: (True, 2), 5: (True, 1), 6: (False, 3), 7: (True, 3),
            8: (False, 1)}


def orient(img: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a picture stored with EXIF ``orientation`` upright."""
    mirror, turns = _UPRIGHT.get(orientation, (False, 0))
    if mirror:
        img = img[:, ::-1]
    return np.ascontiguousarray(np.rot90(img, turns)) if mirror or turns else img


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
