"""The frames that travel through the live path, and the frame size option."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SettingsError

DEFAULT_SIZE = (1280, 720)
DEFAULT_FPS = 30.0


@dataclass
class CapturedFrame:
    index: int
    rgb: np.ndarray       # H×W×3 uint8
    captured_at: float    # time.perf_counter() when the frame was read


@dataclass
class LiveFrame:
    index: int                              # the capture index (gaps = frames dropped on the way)
    image: np.ndarray                       # RGB H×W×3 uint8, as sent to the virtual camera
    captured_at: float
    alpha: np.ndarray | None = None         # kept for a transparent background, so that a preview can show
    foreground: np.ndarray | None = None    # the person on a checkerboard instead of on the key colour


def parse_size(spec: str) -> tuple[int, int]:
    """'1280x720' → (1280, 720)."""
    w, sep, h = spec.lower().replace("×", "x").partition("x")
    if not sep or not w.strip().isdigit() or not h.strip().isdigit():
        raise SettingsError(f"size must be WIDTHxHEIGHT, e.g. 1280x720, not {spec!r}")
    width, height = int(w), int(h)
    if not (16 <= width <= 7680 and 16 <= height <= 4320):
        raise SettingsError(f"size {width}x{height} is out of range (16x16 to 7680x4320)")
    return width, height
