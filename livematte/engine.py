"""The matting engine: the one place the live and offline paths call.

``Matter(...)(rgb)`` takes an RGB uint8 H×W×3 frame and returns its alpha, float32 H×W in [0, 1].
Resolution strategy: the T-Net sees a small copy (``tnet_size`` on the long side), the M-Net one of its own size
(``mnet_size``: larger offline, the same live), and the alpha is brought to full resolution by a guided filter
on the frame itself.
Temporal smoothing (optional) works at the M-Net's size; ``reset()`` clears it (call it on cuts).
"""
from __future__ import annotations

import math
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch

from .errors import InputError, SettingsError
from .models import WeightsError, average_logits, create_model
from .onnx_backend import OnnxModel
from .resize import extend_bottom, shrink
from .smoothing import TemporalSmoother
from .upsample import bilinear_upsample, guided_upsample

UPSAMPLERS = ("guided", "bilinear")
BACKENDS = ("auto", "torch", "onnx")


def _round_to(x: float, multiple: int) -> int:
    return max(multiple, int(round(x / multiple)) * multiple)


def working_size(height: int, width: int, size: int, multiple: int, allow_upscale: bool,
                 pixel_budget: bool = False) -> tuple[int, int]:
    """(h, w) for a network input, the shape kept: ``size`` on the long side. With ``pixel_budget``, also at most
    the pixels of a 16:9 frame of that long side, so that a 4:3 webcam costs no more per frame than a 16:9 one
    (224x168 instead of 256x192 for a size of 256). Not above the input unless allowed; each side a multiple."""
    scale = size / max(height, width)
    if pixel_budget:
        scale = min(scale, size * math.sqrt(9 / 16 / (height * width)))
    if not allow_upscale:
        scale = min(1.0, scale)
    h, w = _round_to(height * scale, multiple), _round_to(width * scale, multiple)
    if not allow_upscale:  # nor may the rounding make a side longer than the input's
        h, w = min(h, max(multiple, height // multiple * multiple)), min(w, max(multiple, width // multiple * multiple))
    return h, w


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SettingsError("--device cuda was asked for, but torch sees no CUDA GPU")
    try:
        return torch.device(device)
    except RuntimeError:
        raise SettingsError(f"unknown device {device!r}: use auto, cpu or cuda") from None


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` at ``size`` (w, h): area-averaged when no side grows, else interpolated."""
    if image.shape[0] >= size[1] and image.shape[1] >= size[0]:
        return shrink(image, size)
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


# Offline working sizes (long side, px). shm's T-Net was last trained at 320: there it beats the previous weights at
# 256 on every held-out metric and keeps the demo clip's legs, which those faded at 320 (model card). Live uses smaller
# sizes (livematte.presets.QUALITY_SIZES).
TNET_SIZE, MNET_SIZE = 320, 384
OFFLINE_MODEL = "shm"  # video, image and eval; live picks its own (livematte.presets.QUALITY_MODELS)
# The networks see the frame with this share of its height added below, its last row repeated. They learned from
# full-body photos that a picture's bottom edge is floor; a body carried on past the edge is kept as body where the
# frame cuts it (webcam close-ups). Held out, shm: close-up IoU 0.903 -> 0.915 and every other metric better too;
# 0.05-0.125 scored alike, 0.2 worse, and extending the sides as well worse (model card).
BOTTOM_CONTEXT = 0.1
# Offline, the T-Net runs twice, at TNET_SIZE and 32 px larger, and its trimap logits are averaged: one pass's trimap
# changes a lot, photo by photo, with the size it sees (held out, 320 against 352 alone: 52 photos' IoU better by
# over 0.005, 27 worse). Two passes: IoU 0.905 -> 0.911, SAD 6.47 -> 6.09, edge flicker 16.68 -> 16.58 per mille;
# a third (384) scored a little better still but kept more of the demo clip's balustrade (model card). Live runs one
# pass, for time.
TNET_PASSES, TNET_PASS_STEP = 2, 32
# The bounds Matter accepts (the CLI's options check the same ones, naming the option).
TNET_SIZE_RANGE, MNET_SIZE_RANGE, TNET_PASSES_RANGE = (64, 2048), (64, 4096), (1, 8)


class Matter:
    """Human matting engine. Not thread-safe: one instance per stream (it holds temporal state)."""

    def __init__(self, model: str = OFFLINE_MODEL, weights: str | Path | None = "default", device: str = "auto",
                 tnet_size: int = TNET_SIZE, mnet_size: int = MNET_SIZE, smoothing: str = "none",
                 smoothing_strength: float = 0.6, upsample: str = "guided", threads: int | None = None,
                 backend: str = "auto", int8_tnet: bool = False, pixel_budget: bool = False,
                 bottom_context: float = BOTTOM_CONTEXT, tnet_passes: int = TNET_PASSES):
        if backend not in BACKENDS:
            raise SettingsError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        if upsample not in UPSAMPLERS:
            raise SettingsError(f"upsample must be one of {', '.join(UPSAMPLERS)}, not {upsample!r}")
        (tlow, thigh), (mlow, mhigh) = TNET_SIZE_RANGE, MNET_SIZE_RANGE
        if not tlow <= tnet_size <= thigh or not mlow <= mnet_size <= mhigh:
            raise SettingsError(f"tnet_size must be in {tlow}..{thigh} and mnet_size in {mlow}..{mhigh}")
        if threads is not None and threads < 0:
            raise SettingsError(f"threads must be 0 (one per core) or more, not {threads}")
        if not TNET_PASSES_RANGE[0] <= tnet_passes <= TNET_PASSES_RANGE[1]:
            raise SettingsError(f"tnet_passes must be in {TNET_PASSES_RANGE[0]}..{TNET_PASSES_RANGE[1]}, "
                                f"not {tnet_passes}")
        if tnet_size + (tnet_passes - 1) * TNET_PASS_STEP > thigh:
            raise SettingsError(f"the last T-Net pass would be over {thigh} px: lower tnet_size or tnet_passes")
        if not 0 <= bottom_context <= 1:
            raise SettingsError(f"bottom_context must be in 0..1, not {bottom_context}")
        self.device = resolve_device(device)
        if threads:
            torch.set_num_threads(threads)
        if backend == "onnx" and self.device.type != "cpu":
            raise SettingsError("the onnx backend runs on the CPU; use --device cpu or the torch backend")
        self._build = {"threads": threads, "int8_tnet": int8_tnet, "backend": backend}
        self.tnet_size, self.mnet_size = tnet_size, mnet_size  # before the model: the int8 T-Net calibrates at it
        self.tnet_passes = tnet_passes  # at tnet_size, then each TNET_PASS_STEP px larger; logits averaged
        self.use_model(model, weights)
        self.upsample = upsample
        self.pixel_budget = pixel_budget  # see working_size; live turns it on
        self.bottom_context = bottom_context
        self.smoother = TemporalSmoother(smoothing, smoothing_strength)
        self.timings: dict[str, float] = {}

    def use_model(self, model: str, weights: str | Path | None = "default") -> None:
        """Load preset ``model`` (and build its ONNX graphs on CPU, an int8 T-Net calibrated at ``tnet_size``),
        keeping every other setting: the live window's quality switch sets the sizes, then changes models this way
        (a second or two)."""
        try:
            self.model = create_model(model, weights).to(self.device)
        except KeyError as exc:
            raise SettingsError(str(exc.args[0])) from None
        except WeightsError as exc:
            raise InputError(str(exc)) from None
        self.model_name = model
        self._build_backend()

    def set_sizes(self, tnet_size: int, mnet_size: int) -> None:
        """New working sizes (the live window's quality switch); an int8 T-Net is calibrated again at the new T-Net
        size (about a second), the weights kept."""
        changed = tnet_size != self.tnet_size
        self.tnet_size, self.mnet_size = tnet_size, mnet_size
        if changed and self._onnx is not None and self._build["int8_tnet"]:
            self._build_backend()

    def _build_backend(self) -> None:
        # ONNX Runtime on CPU (faster here, and graceful when the cores are shared); torch on CUDA.
        backend = self._build["backend"]
        self._onnx = None
        if backend in ("auto", "onnx") and self.device.type == "cpu":
            try:
                self._onnx = OnnxModel(self.model, self._build["threads"], self._build["int8_tnet"],
                                       tnet_side=self.tnet_size)
            except Exception as exc:  # exporter or runtime missing or broken: say so, and use torch
                if backend == "onnx":
                    raise SettingsError(f"the onnx backend is not available: {exc}") from None
                warnings.warn(f"ONNX Runtime backend unavailable ({exc}); running the model in torch (slower)",
                              RuntimeWarning, stacklevel=3)
        self.backend = "onnx" if self._onnx is not None else "torch"

    @property
    def trained(self) -> bool:
        """False when the model runs on random weights (no weights file shipped or given)."""
        return bool(self.model.trained)

    def reset(self) -> None:
        """Forget temporal state (call at a cut or when switching sources)."""
        self.smoother.reset()

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise InputError("Matter expects an RGB uint8 array of shape H×W×3, got "
                             f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')}")
        H, W = rgb.shape[:2]
        if H < 8 or W < 8:
            raise InputError(f"frame of {W}×{H} is too small (at least 8×8)")
        t0 = time.perf_counter()
        # Working sizes are those of the extended frame (BOTTOM_CONTEXT); ``mc`` of the M-Net's rows show the frame.
        extended = H + int(round(H * self.bottom_context))
        mh, mw = working_size(extended, W, self.mnet_size, 8, allow_upscale=False, pixel_budget=self.pixel_budget)
        mc = round(mh * H / extended)
        image_m = extend_bottom(shrink(rgb, (mw, mc)), mh)
        passes: dict[tuple[int, int], int] = {}  # T-Net input (h, w) -> its size; the budget can round two alike
        for k in range(self.tnet_passes):
            size = self.tnet_size + k * TNET_PASS_STEP
            passes.setdefault(working_size(extended, W, size, 32, allow_upscale=True, pixel_budget=self.pixel_budget),
                              size)
        images_t = [self._tnet_input(rgb, image_m, mc, shape, size) for shape, size in passes.items()]
        t1 = time.perf_counter()
        if self._onnx is not None:
            alpha = self._onnx(image_m, *images_t)
            split = self._onnx.timings
        else:
            alpha, split = self._infer(image_m, *images_t)
        t2 = time.perf_counter()
        alpha = self.smoother(alpha[:mc], image_m[:mc])
        t3 = time.perf_counter()
        if (mc, mw) != (H, W):
            alpha = guided_upsample(alpha, rgb) if self.upsample == "guided" else bilinear_upsample(alpha, (H, W))
        t4 = time.perf_counter()
        self.timings = {"resize": t1 - t0, **split, "inference": t2 - t1, "smooth": t3 - t2, "upsample": t4 - t3}
        return alpha

    def _tnet_input(self, rgb: np.ndarray, image_m: np.ndarray, mc: int, shape: tuple[int, int],
                    size: int) -> np.ndarray:
        """The T-Net's copy of ``shape`` (h, w), for T-Net size ``size``: from the M-Net's copy (cheap; ``mc`` of its
        rows show the frame), unless the T-Net is larger; then from the frame, for its detail. (A T-Net side rounded
        up to a multiple of 32 past the M-Net's, as on 16:10 cameras without the bottom context, is interpolated:
        0.07 instead of 0.9 ms per 1280x800 frame.)"""
        th, tw = shape
        if size > self.mnet_size:  # the frame ends where it ends in the M-Net's copy
            return extend_bottom(_resize(rgb, (tw, round(th * mc / image_m.shape[0]))), th)
        return _resize(image_m, (tw, th))

    @torch.inference_mode()
    def _infer(self, image_m: np.ndarray, *images_t: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        def tensor(a):
            return torch.from_numpy(a).to(self.device).permute(2, 0, 1)[None].float().div_(255)

        def sync():  # CUDA runs asynchronously: wait, so that the split times are real
            if self.device.type == "cuda":
                torch.cuda.synchronize()

        t0 = time.perf_counter()
        logits = average_logits([self.model.tnet(tensor(image_t)) for image_t in images_t])
        sync()
        t1 = time.perf_counter()
        alpha = self.model.refine(tensor(image_m), logits)[2][0, 0].float().cpu().numpy()
        return alpha, {"tnet": t1 - t0, "mnet": time.perf_counter() - t1}
