"""Edge controls for live compositing: small pure functions of an alpha matte (H×W float32 in [0, 1]).

Applied in this order, each only when asked for (a setting of 0 costs nothing):

1. hard threshold: alpha ≥ t becomes 1, the rest 0 (a binary cut-out, like a keyer's clip);
2. shrink: erode by N px, so a halo of the old background around the person disappears;
3. feather: blur by about N px, so a hard or shrunk edge blends into the new background.
"""
from __future__ import annotations

import cv2
import numpy as np

from .config import MAX_EDGE_PX  # noqa: F401 - the bound of the edge controls (settings, options)


def threshold_alpha(alpha: np.ndarray, threshold: float) -> np.ndarray:
    """A hard cut: 1 where alpha ≥ threshold, else 0; threshold 0 leaves alpha as it is."""
    if threshold <= 0.0:
        return alpha
    return (alpha >= threshold).astype(np.float32)


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def shrink_alpha(alpha: np.ndarray, pixels: int) -> np.ndarray:
    """Erode the matte by ``pixels`` (a disc, so the edge moves in evenly in every direction)."""
    if pixels <= 0:
        return alpha
    return cv2.erode(alpha, _disc(pixels), borderType=cv2.BORDER_REPLICATE)


def feather_alpha(alpha: np.ndarray, pixels: int) -> np.ndarray:
    """Soften the edge over about ``pixels`` px (Gaussian, σ = pixels / 2)."""
    if pixels <= 0:
        return alpha
    return cv2.GaussianBlur(alpha, (2 * pixels + 1, 2 * pixels + 1), pixels / 2.0, borderType=cv2.BORDER_REPLICATE)


def refine_alpha(alpha: np.ndarray, shrink: int = 0, feather: int = 0, threshold: float = 0.0) -> np.ndarray:
    """Threshold, then shrink, then feather (see the module docstring); returns float32 in [0, 1]."""
    alpha = threshold_alpha(alpha, threshold)
    alpha = shrink_alpha(alpha, shrink)
    return feather_alpha(alpha, feather)
