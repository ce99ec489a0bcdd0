"""Clean plates for training: the composite's background as a real camera would have filmed it empty, a moment
before (``perturb_plate``), and the shadow the person casts on the background, which the plate lacks
(``cast_shadow``). Pure functions of their arrays and a ``random.Random``."""
from __future__ import annotations

import math
import random

import cv2
import numpy as np

from .camera import jpeg, sensor_noise


def perturb_plate(bg: np.ndarray, rng: random.Random) -> np.ndarray:
    """``bg`` (H×W×3 uint8) as the plate the user captured: exposure and white-balance drift, gamma, a sub-pixel to
    3 px shift with a small rotation, blur, sensor noise and JPEG, each with its own chance, and now and then an
    object that has moved since (a patch of the scene pasted elsewhere). Same shape and dtype."""
    h, w = bg.shape[:2]
    x = bg.astype(np.float32) / 255
    if rng.random() < 0.8:  # auto-exposure and white balance drift between the capture and now
        gain = rng.uniform(0.8, 1.25) * np.array([rng.uniform(0.93, 1.07) for _ in range(3)], np.float32)
        x = np.clip(x * gain + rng.uniform(-0.03, 0.03), 0, 1)
    if rng.random() < 0.4:
        x = x ** rng.uniform(0.85, 1.18)
    out = (x * 255 + 0.5).astype(np.uint8)
    if rng.random() < 0.8:  # the camera was nudged: up to 3 px and half a degree
        shift = rng.uniform(0, 3)
        angle = rng.uniform(0, 2 * math.pi)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-0.5, 0.5), 1.0)
        m[:, 2] += (shift * math.cos(angle), shift * math.sin(angle))
        out = cv2.warpAffine(out, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if rng.random() < 0.15:
        out = _moved_object(out, rng)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.2))
    if rng.random() < 0.6:
        out = sensor_noise(out, rng, 1, 6)
    if rng.random() < 0.5:
        out = jpeg(out, rng, 50, 95)
    return out


def _moved_object(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """A patch of the scene (a mug, a chair) copied to another place: an object that was there at capture time."""
    h, w = img.shape[:2]
    ph, pw = max(2, int(h * rng.uniform(0.05, 0.2))), max(2, int(w * rng.uniform(0.05, 0.2)))
    y0, x0 = rng.randrange(h - ph + 1), rng.randrange(w - pw + 1)
    y1, x1 = rng.randrange(h - ph + 1), rng.randrange(w - pw + 1)
    out = img.copy()
    out[y1:y1 + ph, x1:x1 + pw] = img[y0:y0 + ph, x0:x0 + pw]
    return out


def cast_shadow(bg: np.ndarray, alpha: np.ndarray, rng: random.Random) -> np.ndarray:
    """``bg`` darkened by a soft shadow of the person (``alpha``, float H×W), offset and blurred, as a lamp beside
    the camera casts on a wall behind: in the frame, not in the plate, and still background."""
    h, w = alpha.shape
    dx, dy = rng.uniform(-0.15, 0.15) * w, rng.uniform(-0.05, 0.1) * h
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    shadow = cv2.warpAffine(alpha.astype(np.float32), m, (w, h))
    shadow = cv2.GaussianBlur(shadow, (0, 0), rng.uniform(3, 12) * max(h, w) / 256)
    dark = 1 - rng.uniform(0.15, 0.45) * shadow
    return np.clip(bg * dark[..., None] + 0.5, 0, 255).astype(np.uint8)
