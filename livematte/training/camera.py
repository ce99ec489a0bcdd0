"""Camera-like degradations shared by the training samples and the plates' perturbations."""
from __future__ import annotations

import random

import cv2
import numpy as np


def sensor_noise(img: np.ndarray, rng: random.Random, low: float, high: float) -> np.ndarray:
    """Gaussian noise of a standard deviation drawn in low..high levels."""
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(low, high), img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, rng: random.Random, low: int, high: int) -> np.ndarray:
    """The picture through JPEG at a quality drawn in low..high."""
    _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(low, high)])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
