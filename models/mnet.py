"""M-Net: image + trimap probabilities (6 channels) -> raw alpha.

A shallow encoder-decoder (stride 8) working from half resolution, with a thin full-resolution head
that sees the input again, so that edge detail of the image reaches the alpha. The paper's VGG16
encoder-decoder is far too slow for a 2-core CPU; the full-resolution work here is two small convs.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .blocks import ConvBNAct, UpBlock, scaled, stage, upsample_to
from .tnet import Normalize


class MNet(nn.Module):
    """``expand``: the inverted residuals' expansion (4; 2 costs about 0.6 ms less at live sizes)."""

    def __init__(self, width: float = 1.0, expand: int = 4):
        super().__init__()
        c = [scaled(n, width) for n in (16, 24, 32)]
        head = scaled(8, width)
        self.normalize = Normalize()
        self.enc1 = ConvBNAct(6, c[0], 3, 2)          # /2
        self.enc2 = stage(c[0], c[1], 2, 2, expand)   # /4
        self.enc3 = stage(c[1], c[2], 2, 2, expand)   # /8
        self.dec3 = UpBlock(c[2], c[1], c[1])         # /4
        self.dec2 = UpBlock(c[1], c[0], c[0])         # /2
        self.refine = nn.Sequential(                  # /1
            nn.Conv2d(c[0] + 6, head, 1), nn.ReLU(inplace=True), nn.Conv2d(head, 1, 3, padding=1)
        )

    def forward(self, image: torch.Tensor, trimap_probs: torch.Tensor) -> torch.Tensor:
        """image: N×3×H×W RGB in [0, 1]; trimap_probs: N×3×H×W (bg, unknown, fg) -> N×1×H×W alpha in [0, 1]."""
        x = torch.cat([self.normalize(image), trimap_probs], dim=1)
        x1 = self.enc1(x)
        x2 = self.enc2(x1)
        x3 = self.enc3(x2)
        y = self.dec3(x3, x2)
        y = self.dec2(y, x1)
        return torch.sigmoid(self._head(y, x))

    def _head(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``refine(cat(upsample(y), x))``, computed in an order that costs less at full resolution.

        Bilinear upsampling is linear and treats every channel alike, so it commutes with the 1x1 conv's mixing
        of channels: the ``y`` part of that conv runs at half resolution, and only ``head`` channels are
        upsampled instead of the decoder's. The last 3x3 conv (``head`` -> 1 channel) runs as a depthwise conv
        and a channel sum: ONNX Runtime's blocked layout pads a 1-channel output to 16 and ran it 2x slower.
        Refinement graph at 256x144 in ONNX Runtime, one thread: 5.6 -> 4.3 ms; the same weights."""
        squeeze, act, last = self.refine
        cy = y.shape[1]
        y = F.conv2d(y, squeeze.weight[:, :cy])
        y = upsample_to(y, x.shape[-2:])
        h = act(y + F.conv2d(x, squeeze.weight[:, cy:], squeeze.bias))
        per_channel = F.conv2d(h, last.weight.transpose(0, 1), padding=1, groups=h.shape[1])
        return per_channel.sum(dim=1, keepdim=True) + last.bias.view(1, -1, 1, 1)
