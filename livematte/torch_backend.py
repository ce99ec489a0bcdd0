"""The model in torch: for CUDA, for weights that ship no ONNX graphs when ONNX Runtime is missing, and for tests
that look inside the networks. Imported only on those paths: torch takes a second and a half to import.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from .errors import InputError, SettingsError


def load_model(name: str, weights, device: str):
    """The torch SHM ``name`` with ``weights`` ("default", a path or None) on ``device``, in eval mode."""
    from .models import WeightsError, create_model

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SettingsError("--device cuda was asked for, but torch sees no CUDA GPU")
    try:
        torch_device = torch.device(device)
    except RuntimeError:
        raise SettingsError(f"unknown device {device!r}: use auto, cpu or cuda") from None
    try:
        return create_model(name, weights).to(torch_device)
    except KeyError as exc:
        raise SettingsError(str(exc.args[0])) from None
    except WeightsError as exc:
        raise InputError(str(exc)) from None


def set_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def cuda_available() -> bool:
    return torch.cuda.is_available()


class TorchModel:
    """Callable like ``OnnxModel``: (uint8 image at M-Net size, uint8 images at T-Net sizes) -> alpha; ``timings``
    holds the last call's T-Net and M-Net seconds."""

    def __init__(self, model):
        self.model = model
        self.device = next(model.parameters()).device
        self.timings: dict[str, float] = {}

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).to(self.device).permute(2, 0, 1)[None].float().div_(255)

    def _sync(self) -> None:  # CUDA runs asynchronously: wait, so that the split times are real
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    @torch.inference_mode()
    def __call__(self, image_m: np.ndarray, *images_t: np.ndarray, plates: tuple | None = None) -> np.ndarray:
        """``plates``, for a clean-plate model: the plate at the M-Net's size and at each T-Net size."""
        from .models import average_logits

        plate_m, plates_t = plates if plates is not None else (None, [None] * len(images_t))
        extra = (lambda p: ()) if plates is None else (lambda p: (self._tensor(p),))  # automatic nets: no plate
        t0 = time.perf_counter()
        logits = average_logits([self.model.tnet(self._tensor(t), *extra(p)) for t, p in zip(images_t, plates_t)])
        self._sync()
        t1 = time.perf_counter()
        alpha = self.model.refine(self._tensor(image_m), logits, *extra(plate_m))[2][0, 0].float().cpu().numpy()
        self.timings = {"tnet": t1 - t0, "mnet": time.perf_counter() - t1}
        return alpha


def guided_upsample_torch(alpha: np.ndarray, guide: np.ndarray, device: str, radius: int = 1,
                          eps: float = 1e-3) -> np.ndarray:
    """``livematte.upsample.guided_upsample`` on ``device`` (kornia's box filters): on CUDA, the full-resolution
    work (the guide's grey, the coefficients' upsampling, a·I + b) runs on the GPU, and only the small alpha and the
    result cross to and from it. The OpenCV version's figures to within 0.016 (0.003 on average)."""
    import kornia
    import torch.nn.functional as F

    H, W = guide.shape[:2]
    h, w = alpha.shape
    frame = torch.from_numpy(guide).to(device, non_blocking=True).permute(2, 0, 1)[None].float().div_(255)
    gray = kornia.color.rgb_to_grayscale(frame)
    small = F.interpolate(gray, size=(h, w), mode="area") if (h, w) != (H, W) else gray
    p = torch.from_numpy(alpha).to(device)[None, None]
    k = (2 * radius + 1, 2 * radius + 1)

    def box(x):
        return kornia.filters.box_blur(x, k, border_type="reflect")

    mean_i, mean_p = box(small), box(p)
    a = (box(small * p) - mean_i * mean_p) / (box(small * small) - mean_i * mean_i + eps)
    b = mean_p - a * mean_i
    a, b = box(a), box(b)
    if (h, w) != (H, W):
        a = F.interpolate(a, size=(H, W), mode="bilinear", align_corners=False)
        b = F.interpolate(b, size=(H, W), mode="bilinear", align_corners=False)
    return (a * gray + b).clamp_(0, 1)[0, 0].cpu().numpy()
