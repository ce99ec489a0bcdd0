"""What the window shows of a live frame: pure functions of arrays, no Qt (tested on their own)."""
from __future__ import annotations

import functools

import cv2
import numpy as np

from livematte.composite import composite
from livematte.live.frames import LiveFrame


@functools.lru_cache(maxsize=4)  # the preview asks for the same size every frame; callers only read it
def checkerboard(height: int, width: int, cell: int = 16) -> np.ndarray:
    """The usual light/dark grey checkerboard that stands for transparency in image editors (read-only)."""
    yy, xx = np.indices((height, width))
    light = ((yy // cell + xx // cell) % 2 == 0)
    board = np.where(light, 204, 153).astype(np.uint8)
    board = np.repeat(board[..., None], 3, axis=2)
    board.flags.writeable = False
    return board


def fit_size(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """The largest (w, h) with the frame's aspect that fits the box (at least 1×1)."""
    scale = min(box_width / width, box_height / height)
    return max(1, int(width * scale)), max(1, int(height * scale))


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if image.shape[1::-1] == size:
        return image
    shrinking = size[0] < image.shape[1]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def preview_image(frame: LiveFrame, box: tuple[int, int]) -> np.ndarray:
    """The frame scaled to fit ``box`` (w, h); a transparent background shows as a checkerboard, where
    the virtual camera gets the key colour."""
    h, w = frame.image.shape[:2]
    size = fit_size(w, h, *box)
    if frame.alpha is None or frame.foreground is None:
        return np.ascontiguousarray(_resize(frame.image, size))
    alpha = _resize(frame.alpha, size)
    fg = _resize(frame.foreground, size)
    return composite(fg, alpha, checkerboard(size[1], size[0], cell=max(6, size[0] // 48)))
