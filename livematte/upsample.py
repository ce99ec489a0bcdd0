"""Edge-aware upsampling of a low-resolution alpha to the frame's resolution (fast guided filter).

The linear coefficients of the guided filter (He et al.) are fitted at the low resolution, upsampled
bilinearly, and applied to the full-resolution grey guide, so that full-resolution edges shape the alpha
at almost the cost of a bilinear resize. OpenCV on the CPU; on CUDA the engine runs the same steps on the GPU
(``livematte.torch_backend.guided_upsample_torch``).
"""
from __future__ import annotations

import cv2
import numpy as np

from .resize import shrink


def guided_upsample(alpha: np.ndarray, guide: np.ndarray, radius: int = 1, eps: float = 1e-3) -> np.ndarray:
    """alpha: h×w float32 in [0, 1]; guide: H×W×3 uint8 RGB (H ≥ h) -> H×W float32 alpha in [0, 1].

    ``radius`` is in low-resolution pixels; ``eps`` regularises flat regions (larger: smoother).
    """
    H, W = guide.shape[:2]
    h, w = alpha.shape
    gray = cv2.cvtColor(guide, cv2.COLOR_RGB2GRAY)
    small = shrink(gray, (w, h)).astype(np.float32) * (1 / 255)
    k = (2 * radius + 1, 2 * radius + 1)
    mean_i = cv2.blur(small, k)
    mean_p = cv2.blur(alpha, k)
    cov_ip = cv2.blur(small * alpha, k) - mean_i * mean_p
    var_i = cv2.blur(small * small, k) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    a = cv2.blur(a, k)
    b = cv2.blur(b, k)
    if (h, w) != (H, W):
        a = cv2.resize(a, (W, H), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (W, H), interpolation=cv2.INTER_LINEAR)
    # q = a·I + b, with I in [0, 1]: scaleAdd-style ops in OpenCV avoid float64 temporaries.
    q = cv2.multiply(gray, a, scale=1 / 255, dtype=cv2.CV_32F)
    cv2.add(q, b, dst=q)
    return np.clip(q, 0.0, 1.0, out=q)


def bilinear_upsample(alpha: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """alpha h×w float32 -> size (H, W) float32."""
    H, W = size
    return cv2.resize(alpha, (W, H), interpolation=cv2.INTER_LINEAR)
