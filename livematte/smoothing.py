"""Temporal smoothing of alpha: pure step functions, and a small stateful wrapper the caller owns.

Smoothing runs at the working resolution (before upsampling), where it is cheap; the full-resolution
guide then restores the current frame's edges, so nothing of an old frame's detail is smeared in.
"""
from __future__ import annotations

import cv2
import numpy as np

from .config import MAX_STRENGTH, SMOOTHING_MODES as MODES  # noqa: F401 - the modes this module implements


def ema_step(previous: np.ndarray, current: np.ndarray, strength: float) -> np.ndarray:
    """Exponential moving average: strength 0 keeps the current alpha, towards 1 keeps the past."""
    return cv2.addWeighted(current, 1.0 - strength, previous, strength, 0.0)


def motion_aware_step(previous: np.ndarray, current: np.ndarray, previous_gray: np.ndarray,
                      gray: np.ndarray, strength: float, motion_threshold: float = 0.04) -> np.ndarray:
    """Smooth only where the picture is still.

    Per pixel, the weight of the past falls off with the local change of the image (the person moved)
    and with the change of the alpha itself beyond what noise explains, so a moving arm is not smeared
    while a still shoulder's edge stops flickering. Arrays are h×w float32; grey images in [0, 1].
    """
    motion = cv2.blur(cv2.absdiff(gray, previous_gray), (5, 5))
    alpha_change = cv2.absdiff(current, previous)
    # 1 where still, 0 where the image moved by more than ~2 thresholds or the alpha jumped by > 0.5.
    still = np.clip(1.0 - motion / (2 * motion_threshold), 0.0, 1.0)
    still *= np.clip(1.0 - (alpha_change - 0.1) / 0.4, 0.0, 1.0)
    keep = still * strength
    out = current + keep * (previous - current)
    return out


class TemporalSmoother:
    """Holds the previous alpha and grey frame; ``reset()`` on cuts (also detected automatically)."""

    def __init__(self, mode: str = "motion", strength: float = 0.6, cut_threshold: float = 0.25):
        if mode not in MODES:
            raise ValueError(f"smoothing must be one of {', '.join(MODES)}, not {mode!r}")
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"smoothing strength must be in [0, 1), not {strength}")
        self.mode, self.strength, self.cut_threshold = mode, strength, cut_threshold
        self.reset()

    def reset(self) -> None:
        self._alpha = None
        self._gray = None

    def __call__(self, alpha: np.ndarray, frame: np.ndarray) -> np.ndarray:
        """alpha: h×w float32; frame: the h×w×3 uint8 RGB image it was computed from."""
        if self.mode == "none" or self.strength == 0.0:
            return alpha
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1 / 255)
        prev_alpha, prev_gray = self._alpha, self._gray
        if prev_alpha is None or prev_alpha.shape != alpha.shape or self._is_cut(prev_gray, gray):
            out = alpha
        elif self.mode == "ema":
            out = ema_step(prev_alpha, alpha, self.strength)
        else:
            out = motion_aware_step(prev_alpha, alpha, prev_gray, gray, self.strength)
        self._alpha, self._gray = out, gray
        return out

    def _is_cut(self, prev_gray: np.ndarray, gray: np.ndarray) -> bool:
        return float(cv2.absdiff(prev_gray, gray).mean()) > self.cut_threshold
