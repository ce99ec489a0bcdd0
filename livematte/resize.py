"""Working copies of a frame: their sizes, downscaling by area averaging (fast for any factor), fitting within a
size, extension below."""
from __future__ import annotations

import math

import cv2
import numpy as np


def _round_to(x: float, multiple: int) -> int:
    return max(multiple, int(round(x / multiple)) * multiple)


def working_size(height: int, width: int, size: int, multiple: int, allow_upscale: bool,
                 pixel_budget: bool = False) -> tuple[int, int]:
    """(h, w) for a network input, the shape kept: ``size`` on the long side. With ``pixel_budget``, also at most
    the pixels of a 16:9 frame of that long side, so that a 4:3 webcam costs no more per frame than a 16:9 one
    (224x168 instead of 256x192 for a size of 256). Not above the input unless allowed; each side a multiple."""
    scale = size / max(height, width)
    if pixel_budget:
        scale = min(scale, size * math.sqrt(9 / 16 / (height * width)))
    if not allow_upscale:
        scale = min(1.0, scale)
    h, w = _round_to(height * scale, multiple), _round_to(width * scale, multiple)
    if not allow_upscale:  # nor may the rounding make a side longer than the input's
        h, w = min(h, max(multiple, height // multiple * multiple)), min(w, max(multiple, width // multiple * multiple))
    return h, w


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` scaled to ``size`` (w, h) by area averaging, so without aliasing; the image itself when it
    already has that size. Meant for shrinking (an axis that grows is interpolated, as OpenCV's area resize does).

    OpenCV's area resize is fast for factors of exactly 2 and slow for others: halving while the factor is 2 or
    more (an odd last row or column is dropped), then averaging the rest, takes a quarter of the time of one area
    resize from 1080p to live sizes. The weights differ a little at the block borders: on camera images the
    result is within a few grey levels of a one-step area resize; on sharp stripes one pixel wide, more."""
    w, h = size
    while image.shape[1] >= 2 * w and image.shape[0] >= 2 * h:
        even = image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]
        image = cv2.resize(even, (even.shape[1] // 2, even.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if image.shape[:2] == (h, w):
        return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def extend_bottom(image: np.ndarray, height: int) -> np.ndarray:
    """``image`` made ``height`` rows tall by repeating its last row below it."""
    extra = height - image.shape[0]
    if extra <= 0:
        return image
    return cv2.copyMakeBorder(image, 0, extra, 0, 0, cv2.BORDER_REPLICATE)


def fit_within(image: np.ndarray, side: int, interp: int = cv2.INTER_AREA) -> np.ndarray:
    """``image`` scaled down, its shape kept, so that its long side is at most ``side``; itself if it fits."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=interp)
