"""Matting metrics as the literature defines them (Rhemann et al. 2009; Xu et al., DIM, 2017), plus IoU and a
temporal flicker measure. Pure functions of float alpha arrays in [0, 1].
"""
from __future__ import annotations

import cv2
import numpy as np


def sad(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None) -> float:
    """Sum of absolute differences, in thousands (the usual reporting unit)."""
    d = np.abs(pred - gt)
    return float((d if region is None else d[region]).sum() / 1000.0)


def mse(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None) -> float:
    d = (pred - gt) ** 2
    return float((d if region is None else d[region]).mean())


def _gaussian_gradient_magnitude(a: np.ndarray, sigma: float = 1.4) -> np.ndarray:
    """|∇(G_σ * a)| with first-order Gaussian derivative filters (σ = 1.4 as in the benchmark)."""
    radius = int(np.ceil(3 * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-x * x / (2 * sigma * sigma))
    g /= g.sum()
    dg = -x / (sigma * sigma) * g
    dg /= np.abs(dg).sum() / 2  # unit response to a unit step
    a = a.astype(np.float64)
    gx = cv2.sepFilter2D(a, cv2.CV_64F, dg, g, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.sepFilter2D(a, cv2.CV_64F, g, dg, borderType=cv2.BORDER_REPLICATE)
    return np.sqrt(gx * gx + gy * gy)


def gradient_error(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None) -> float:
    """Σ (|∇α| − |∇α_gt|)², in thousands."""
    d = (_gaussian_gradient_magnitude(pred) - _gaussian_gradient_magnitude(gt)) ** 2
    return float((d if region is None else d[region]).sum() / 1000.0)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=4)
    if n <= 1:
        return np.zeros_like(mask, bool)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == biggest


def connectivity_error(pred: np.ndarray, gt: np.ndarray, region: np.ndarray | None = None,
                       step: float = 0.1) -> float:
    """Connectivity error, in thousands: how far each pixel's alpha is from being connected to the main
    foreground body. For each pixel, l is the last threshold at which it still belonged to the largest
    component of (pred ≥ t) ∧ (gt ≥ t); φ = 1 − (α − l)·[α − l ≥ 0.15]; error = Σ |φ_pred − φ_gt|."""
    level = np.full(pred.shape, -1.0)
    thresholds = np.arange(0.0, 1.0 + step / 2, step)
    for prev_t, t in zip(thresholds[:-1], thresholds[1:]):
        body = _largest_component((pred >= t) & (gt >= t))
        newly_cut = (level == -1) & ~body
        level[newly_cut] = prev_t
    level[level == -1] = 1.0
    dp, dg = pred - level, gt - level
    phi_p = 1 - dp * (dp >= 0.15)
    phi_g = 1 - dg * (dg >= 0.15)
    d = np.abs(phi_p - phi_g)
    return float((d if region is None else d[region]).sum() / 1000.0)


def iou(pred: np.ndarray, mask: np.ndarray, threshold: float = 0.5) -> float:
    """Intersection over union of (pred > threshold) with a binary mask; 1.0 when both are empty."""
    p, m = pred > threshold, mask.astype(bool)
    union = np.logical_or(p, m).sum()
    return float(np.logical_and(p, m).sum() / union) if union else 1.0


def static_pixels(prev_rgb: np.ndarray, rgb: np.ndarray, threshold: float = 3.0) -> np.ndarray:
    """Pixels whose (slightly blurred) grey value changed by less than ``threshold`` levels: the picture
    itself is still there, so any change of alpha is flicker."""
    a = cv2.GaussianBlur(cv2.cvtColor(prev_rgb, cv2.COLOR_RGB2GRAY), (5, 5), 0).astype(np.int16)
    b = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (5, 5), 0).astype(np.int16)
    return np.abs(a - b) < threshold


def flicker(prev_alpha: np.ndarray, alpha: np.ndarray, static: np.ndarray) -> tuple[float, float, int, int]:
    """(sum of |Δα| over static pixels, the same over static soft-edge pixels, and their counts).
    Soft-edge pixels are those with 0.05 < α < 0.95 in either frame; accumulate sums and counts over a clip
    and divide for the mean."""
    d = np.abs(alpha - prev_alpha)
    soft = (((alpha > 0.05) & (alpha < 0.95)) | ((prev_alpha > 0.05) & (prev_alpha < 0.95))) & static
    return float(d[static].sum()), float(d[soft].sum()), int(static.sum()), int(soft.sum())
