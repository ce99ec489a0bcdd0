"""Small convolution blocks shared by the T-Net and the M-Net (no I/O, no weights)."""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


def scaled(channels: int, width: float) -> int:
    """Channel count scaled by ``width``, kept a multiple of 4 (friendly to SIMD kernels)."""
    return max(4, int(round(channels * width / 4)) * 4)


class ConvBNAct(nn.Sequential):
    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1, act: bool = True):
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act:
            layers.append(nn.ReLU6(inplace=True))
        super().__init__(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, 1x1 project; residual when shapes match."""

    def __init__(self, cin: int, cout: int, stride: int = 1, expand: int = 4):
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNAct(cin, hidden, 1))
        layers += [ConvBNAct(hidden, hidden, 3, stride, groups=hidden), ConvBNAct(hidden, cout, 1, act=False)]
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.use_residual else y


def stage(cin: int, cout: int, count: int, stride: int, expand: int = 4) -> nn.Sequential:
    blocks = [InvertedResidual(cin, cout, stride, expand)]
    blocks += [InvertedResidual(cout, cout, 1, expand) for _ in range(count - 1)]
    return nn.Sequential(*blocks)


def upsample_to(x: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resize of ``x`` to ``size`` (h, w). An exact doubling is given as a scale factor, the same values:
    ONNX Runtime then runs it in its blocked layout, 2.5x faster than a resize to a computed size."""
    if x.shape[-2] * 2 == size[0] and x.shape[-1] * 2 == size[1]:
        return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


class UpBlock(nn.Module):
    """Upsample to the skip's size, concatenate, fuse with a depthwise-separable conv."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.fuse = nn.Sequential(
            ConvBNAct(cin + cskip, cin + cskip, 3, groups=cin + cskip),
            ConvBNAct(cin + cskip, cout, 1),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = upsample_to(x, skip.shape[-2:])
        return self.fuse(torch.cat([x, skip], dim=1))
