"""T-Net: image -> 3-class trimap logits (background, unknown, foreground).

A MobileNetV2-style encoder (stride 32) with a global-context branch and a light U-Net decoder.
The paper uses PSPNet-50; this is sized for a 2-core CPU at 256 px.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .blocks import ConvBNAct, UpBlock, scaled, stage

IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)


class Normalize(nn.Module):
    """RGB in [0, 1] -> standardised; constants, not learned."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGE_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGE_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def plate_input(normalize: nn.Module, image: torch.Tensor, plate: torch.Tensor) -> torch.Tensor:
    """The image's channels first, then the plate's and their absolute difference: a plate model's first
    convolution holds the automatic model's weights in its first channels (``models.plate.widen_state``)."""
    if plate is None:
        raise ValueError("a plate model needs the plate")
    return torch.cat([normalize(image), normalize(plate), (image - plate).abs()], dim=1)


class TNet(nn.Module):
    """``head_stride`` 2 (default) decodes to half resolution; 4 stops a level earlier (about 0.8 ms less at live
    sizes in ONNX Runtime): the trimap is coarser, and the M-Net refines the band anyway."""

    def __init__(self, width: float = 1.0, head_stride: int = 2, plate: bool = False):
        super().__init__()
        if head_stride not in (2, 4):
            raise ValueError(f"head_stride must be 2 or 4, not {head_stride}")
        c = [scaled(n, width) for n in (16, 24, 32, 64, 96)]
        d = [scaled(n, width) for n in (64, 32, 24, 16)]
        self.normalize = Normalize()
        self.plate = plate  # clean-plate mode: the stem also sees the plate and |image - plate| (6 more channels)
        self.stem = ConvBNAct(9 if plate else 3, c[0], 3, 2)          # /2
        self.enc1 = stage(c[0], c[1], 2, 2)           # /4
        self.enc2 = stage(c[1], c[2], 3, 2)           # /8
        self.enc3 = stage(c[2], c[3], 3, 2)           # /16
        self.enc4 = stage(c[3], c[4], 3, 2)           # /32
        self.context = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c[4], c[4], 1), nn.Sigmoid())
        self.dec4 = UpBlock(c[4], c[3], d[0])         # /16
        self.dec3 = UpBlock(d[0], c[2], d[1])         # /8
        self.dec2 = UpBlock(d[1], c[1], d[2])         # /4
        self.dec1 = UpBlock(d[2], c[0], d[3]) if head_stride == 2 else None  # /2
        self.head = nn.Conv2d(d[3] if head_stride == 2 else d[2], 3, 3, padding=1)

    def forward(self, image: torch.Tensor, plate: torch.Tensor | None = None) -> torch.Tensor:
        """image: N×3×H×W RGB in [0, 1] (H, W multiples of 32); plate (plate models only): the empty background,
        same shape -> N×3×H×W logits."""
        x0 = self.stem(plate_input(self.normalize, image, plate) if self.plate else self.normalize(image))
        x1 = self.enc1(x0)
        x2 = self.enc2(x1)
        x3 = self.enc3(x2)
        x4 = self.enc4(x3)
        x4 = x4 * self.context(x4)
        y = self.dec4(x4, x3)
        y = self.dec3(y, x2)
        y = self.dec2(y, x1)
        if self.dec1 is not None:
            y = self.dec1(y, x0)
        return F.interpolate(self.head(y), size=image.shape[-2:], mode="bilinear", align_corners=False)
