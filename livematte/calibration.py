"""Frames the int8 T-Net is calibrated on: the bundled demo clip (people), at the T-Net's input size.

Kept apart from the ONNX backend, which is handed these arrays: the backend runs graphs and reads no files.
"""
from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np

from .media import VideoReader
from .resize import shrink, working_size

CALIBRATION_CLIP = Path(__file__).resolve().parent / "assets" / "demo.mp4"  # shipped with the package


@functools.lru_cache(maxsize=1)  # decoded once a process: a live quality switch calibrates again
def _clip_frames(count: int) -> tuple[np.ndarray, ...]:
    reader = VideoReader(CALIBRATION_CLIP)
    try:
        step = max(1, (reader.info.frames or count) // count)
        return tuple(f.rgb for f in itertools.islice(reader, 0, step * count, step))  # decoding stops there
    finally:
        reader.close()


def calibration_images(side: int, count: int = 10) -> list[np.ndarray]:
    """``count`` frames spread over the clip, each at the T-Net input of long side ``side``. Near the engine's own
    input, which also holds the bottom context (and, live, the pixel budget): close enough for the activation
    ranges that calibration measures."""
    images = []
    for rgb in _clip_frames(count):
        h, w = working_size(*rgb.shape[:2], side, 32, allow_upscale=True)
        images.append(shrink(rgb, (w, h)))
    return images
