"""M-Net: image + trimap probabilities (6 channels) -> raw alpha.

A shallow encoder-decoder (stride 8, or 4 with ``levels=2``) working from half resolution. The paper's VGG16
encoder-decoder is far too slow for a 2-core CPU. Two heads bring the alpha back to full resolution:

- ``"image"``: a thin full-resolution head that sees the input again, so that edge detail of the image reaches
  the alpha (two small convs at full resolution);
- ``"shuffle"``: a 3x3 conv at half resolution predicts each 2x2 block of alpha (sub-pixel convolution, as in
  ESPCN); the stride-2 first conv has seen every full-resolution pixel, so the detail is in its features. No op
  runs at full resolution but the rearrangement: 1.1 ms less at live sizes in ONNX Runtime (the image head's
  8-channel tensors miss ONNX Runtime's blocked layout).
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .blocks import ConvBNAct, UpBlock, scaled, stage, upsample_to
from .tnet import Normalize

HEADS = ("image", "shuffle")


class MNet(nn.Module):
    """``expand``: the inverted residuals' expansion (4; 2 costs about 0.6 ms less at live sizes);
    ``levels``: 3 (down to /8) or 2 (down to /4, 0.5 ms less); ``head``: one of ``HEADS``."""

    def __init__(self, width: float = 1.0, expand: int = 4, levels: int = 3, head: str = "image",
                 plate: bool = False):
        super().__init__()
        if levels not in (2, 3):
            raise ValueError(f"levels must be 2 or 3, not {levels}")
        if head not in HEADS:
            raise ValueError(f"head must be one of {', '.join(HEADS)}, not {head!r}")
        c = [scaled(n, width) for n in (16, 24, 32)]
        self.normalize = Normalize()
        self.plate = plate  # clean-plate mode: the plate and |image - plate| after image and trimap (12 channels)
        cin = 12 if plate else 6
        self.enc1 = ConvBNAct(cin, c[0], 3, 2)          # /2
        self.enc2 = stage(c[0], c[1], 2, 2, expand)   # /4
        if levels == 3:
            self.enc3 = stage(c[1], c[2], 2, 2, expand)   # /8
            self.dec3 = UpBlock(c[2], c[1], c[1])         # /4
        else:
            self.enc3 = self.dec3 = None
        self.dec2 = UpBlock(c[1], c[0], c[0])         # /2
        if head == "image":
            width_head = scaled(8, width)
            self.refine = nn.Sequential(              # /1
                nn.Conv2d(c[0] + cin, width_head, 1), nn.ReLU(inplace=True), nn.Conv2d(width_head, 1, 3, padding=1)
            )
            self.subpixel = None
        else:
            self.refine = None
            self.subpixel = nn.Conv2d(c[0], 4, 3, padding=1)  # /2, four alphas per pixel

    def forward(self, image: torch.Tensor, trimap_probs: torch.Tensor,
                plate: torch.Tensor | None = None) -> torch.Tensor:
        """image: N×3×H×W RGB in [0, 1]; trimap_probs: N×3×H×W (bg, unknown, fg); plate (plate models only): the
        empty background like image -> N×1×H×W alpha in [0, 1]."""
        x = torch.cat([self.normalize(image), trimap_probs], dim=1)
        if self.plate:
            if plate is None:
                raise ValueError("a plate model needs the plate")
            x = torch.cat([x, self.normalize(plate), (image - plate).abs()], dim=1)
        x1 = self.enc1(x)
        x2 = self.enc2(x1)
        y = x2 if self.enc3 is None else self.dec3(self.enc3(x2), x2)
        y = self.dec2(y, x1)
        if self.subpixel is not None:
            alpha = F.pixel_shuffle(self.subpixel(y), 2)
            if alpha.shape[-2:] != x.shape[-2:]:  # odd sides (training crops; the engine sends multiples of 8)
                alpha = alpha[..., : x.shape[-2], : x.shape[-1]]
            return torch.sigmoid(alpha)
        return torch.sigmoid(self._image_head(y, x))

    def _image_head(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``refine(cat(upsample(y), x))``, computed in an order that costs less at full resolution.

        Bilinear upsampling is linear and treats every channel alike, so it commutes with the 1x1 conv's mixing
        of channels: the ``y`` part of that conv runs at half resolution, and only the head's few channels are
        upsampled instead of the decoder's. The last 3x3 conv (head channels -> 1) runs as a depthwise conv
        and a channel sum: ONNX Runtime's blocked layout pads a 1-channel output to 16 and ran it 2x slower.
        Refinement graph at 256x144 in ONNX Runtime, one thread: 5.6 -> 4.3 ms; the same weights."""
        squeeze, act, last = self.refine
        cy = y.shape[1]
        y = F.conv2d(y, squeeze.weight[:, :cy])
        y = upsample_to(y, x.shape[-2:])
        h = act(y + F.conv2d(x, squeeze.weight[:, cy:], squeeze.bias))
        per_channel = F.conv2d(h, last.weight.transpose(0, 1), padding=1, groups=h.shape[1])
        return per_channel.sum(dim=1, keepdim=True) + last.bias.view(1, -1, 1, 1)
