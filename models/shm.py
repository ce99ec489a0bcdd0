"""SHM (Semantic Human Matting): T-Net trimap + M-Net raw alpha, fused as in the paper's equation 4."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from .mnet import MNet
from .tnet import TNet

BACKGROUND, UNKNOWN, FOREGROUND = 0, 1, 2


def fuse_alpha(trimap_probs: torch.Tensor, raw_alpha: torch.Tensor) -> torch.Tensor:
    """αp = Fs + Us·αr, with Fs and Us the foreground and unknown trimap probabilities.

    trimap_probs: N×3×H×W softmax over (background, unknown, foreground); raw_alpha: N×1×H×W.
    """
    fs = trimap_probs[:, FOREGROUND : FOREGROUND + 1]
    us = trimap_probs[:, UNKNOWN : UNKNOWN + 1]
    return fs + us * raw_alpha


def average_logits(logits: list[torch.Tensor]) -> torch.Tensor:
    """The mean of trimap logits from T-Net passes at several input sizes, each brought to the first one's grid: a
    multi-scale test, steadier than one pass over the many sizes people take in a picture. One pass: itself."""
    total = logits[0]
    for extra in logits[1:]:
        total = total + F.interpolate(extra, total.shape[2:], mode="bilinear", align_corners=False)
    return total / len(logits) if len(logits) > 1 else total


def channel_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over dim 1, written out: the same values as ``torch.softmax(logits, 1)``, but ONNX Runtime runs
    its Softmax on a non-last axis through transposes, which cost more than the whole M-Net (3 of 13 ms)."""
    e = torch.exp(logits - logits.amax(dim=1, keepdim=True))
    return e / e.sum(dim=1, keepdim=True)


@dataclass(frozen=True)
class SHMConfig:
    tnet_width: float = 1.0
    mnet_width: float = 1.0
    tnet_head_stride: int = 2
    mnet_expand: int = 4
    mnet_levels: int = 3
    mnet_head: str = "image"
    plate: bool = False  # clean-plate mode: both nets also see the empty background (models/plate.py)


class SHM(nn.Module):
    """Returns (trimap_logits, raw_alpha, alpha), all at the M-Net's input size.

    The T-Net sees ``image_small`` (a low-resolution copy, H and W multiples of 32); the M-Net sees
    ``image`` (any size that is a multiple of 8) with the trimap probabilities upsampled to it.
    """

    def __init__(self, config: SHMConfig = SHMConfig()):
        super().__init__()
        self.config = config
        self.tnet = TNet(config.tnet_width, config.tnet_head_stride, config.plate)
        self.mnet = MNet(config.mnet_width, config.mnet_expand, config.mnet_levels, config.mnet_head, config.plate)

    def forward(self, image: torch.Tensor, image_small: torch.Tensor | None = None,
                plate: torch.Tensor | None = None, plate_small: torch.Tensor | None = None):
        """``plate``, ``plate_small``: the empty background at the sizes of ``image`` and ``image_small`` (plate
        models only; ``plate_small`` defaults to ``plate`` when ``image_small`` is not given)."""
        small = image if image_small is None else image_small
        return self.refine(image, self.tnet(small, plate if image_small is None else plate_small), plate)

    def refine(self, image: torch.Tensor, logits: torch.Tensor, plate: torch.Tensor | None = None):
        """M-Net and fusion, given the T-Net's logits at any size (brought to the image's size here)."""
        if logits.shape[-2:] != image.shape[-2:]:
            logits = F.interpolate(logits, size=image.shape[-2:], mode="bilinear", align_corners=False)
        probs = channel_softmax(logits)
        raw_alpha = self.mnet(image, probs, plate)
        return logits, raw_alpha, fuse_alpha(probs, raw_alpha)
