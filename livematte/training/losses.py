"""SHM losses: trimap cross-entropy (Lt) and the prediction loss Lp = 0.5·alpha + 0.5·composition (DIM)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

EPS = 1e-6


def trimap_loss(logits: torch.Tensor, trimap: torch.Tensor) -> torch.Tensor:
    """logits N×3×H×W, trimap N×H×W int64 classes."""
    return F.cross_entropy(logits, trimap)


def _charbonnier(x: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(x * x + EPS * EPS)


def prediction_loss(alpha: torch.Tensor, alpha_gt: torch.Tensor, fg: torch.Tensor, bg: torch.Tensor,
                    image: torch.Tensor) -> torch.Tensor:
    """alpha, alpha_gt N×1×H×W; fg, bg, image N×3×H×W in [0, 1]."""
    alpha_term = _charbonnier(alpha - alpha_gt).mean()
    composite = alpha * fg + (1 - alpha) * bg
    composition_term = _charbonnier(composite - image).mean()
    return 0.5 * alpha_term + 0.5 * composition_term
