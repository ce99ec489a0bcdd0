"""The matting engine: the one place the live and offline paths call.

``Matter(...)(rgb)`` takes an RGB uint8 H×W×3 frame and returns its alpha, float32 H×W in [0, 1].
Resolution strategy: the T-Net sees a small copy (``tnet_size`` on the long side), the M-Net one of its own size
(``mnet_size``: larger offline, the same live), and the alpha is brought to full resolution by a guided filter
on the frame itself.
Temporal smoothing (optional) works at the M-Net's size; ``reset()`` clears it (call it on cuts).
"""
from __future__ import annotations

import time
import warnings

import cv2
import numpy as np
import torch

from .config import TNET_PASS_STEP, EngineConfig
from .errors import InputError, SettingsError
from .models import WeightsError, average_logits, create_model
from .onnx_backend import OnnxModel
from .resize import extend_bottom, shrink, working_size
from .smoothing import TemporalSmoother
from .upsample import bilinear_upsample, guided_upsample


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


_LOAD_KEYS = ("model", "weights", "device", "backend", "threads", "int8_tnet")  # a change reloads the model


class Matter:
    """Human matting engine (a ``livematte.interfaces.LiveEngine``). Not thread-safe: one instance per stream (it
    holds temporal state).

    ``Matter(config)`` runs an ``EngineConfig``; ``Matter(**settings)`` its fields over the defaults, e.g.
    ``Matter(smoothing="motion")``."""

    def __init__(self, config: EngineConfig | None = None, **settings):
        if config is not None and not isinstance(config, EngineConfig):
            raise TypeError(f"Matter takes an EngineConfig or keyword settings, not {type(config).__name__}")
        self.config: EngineConfig | None = None
        self.timings: dict[str, float] = {}
        self.reconfigure((config or EngineConfig()).replace(**settings))

    def reconfigure(self, config: EngineConfig) -> None:
        """Run with ``config`` from the next frame. The model is loaded again (and its ONNX graphs built, a second
        or two) only when the model, weights, device, backend, threads or int8 change; an int8 T-Net is calibrated
        again when its size changes; smoothing starts afresh when it changes."""
        old, self.config = self.config, config
        if old is None or any(getattr(old, k) != getattr(config, k) for k in _LOAD_KEYS):
            self._load()
        elif config.tnet_size != old.tnet_size and self._onnx is not None and config.int8_tnet:
            self._build_backend()
        if old is None or (old.smoothing, old.smoothing_strength) != (config.smoothing, config.smoothing_strength):
            self.smoother = TemporalSmoother(config.smoothing, config.smoothing_strength)

    def set_smoothing(self, mode: str, strength: float) -> None:
        self.reconfigure(self.config.replace(smoothing=mode, smoothing_strength=strength))

    def set_quality(self, quality: str) -> None:
        """Work at live ``quality``: its sizes and, when the model follows quality, its model; temporal state is
        reset. An engine built with sizes of its own (quality None) is taken to be at the first quality it is
        given, and keeps its sizes until the quality changes."""
        if self.config.quality is None:
            self.config = self.config.replace(quality=quality)
        elif quality != self.config.quality:
            self.reconfigure(self.config.at_quality(quality))
            self.reset()

    def _load(self) -> None:
        c = self.config
        self.device = resolve_device(c.device)
        if c.backend == "onnx" and self.device.type != "cpu":
            raise SettingsError("the onnx backend runs on the CPU; use --device cpu or the torch backend")
        if c.threads:
            torch.set_num_threads(c.threads)
        try:
            self.model = create_model(c.model, c.weights).to(self.device)
        except KeyError as exc:
            raise SettingsError(str(exc.args[0])) from None
        except WeightsError as exc:
            raise InputError(str(exc)) from None
        self._build_backend()

    def _build_backend(self) -> None:
        # ONNX Runtime on CPU (faster here, and graceful when the cores are shared); torch on CUDA.
        c = self.config
        self._onnx = None
        if c.backend in ("auto", "onnx") and self.device.type == "cpu":
            try:
                self._onnx = OnnxModel(self.model, c.threads, self._calibration())
            except Exception as exc:  # exporter or runtime missing or broken: say so, and use torch
                if c.backend == "onnx":
                    raise SettingsError(f"the onnx backend is not available: {exc}") from None
                warnings.warn(f"ONNX Runtime backend unavailable ({exc}); running the model in torch (slower)",
                              RuntimeWarning, stacklevel=3)
        self.backend = "onnx" if self._onnx is not None else "torch"

    def _calibration(self) -> list[np.ndarray] | None:
        """The int8 T-Net's calibration frames, at the T-Net size it runs at; None for a float T-Net."""
        if not self.config.int8_tnet:
            return None
        from .calibration import calibration_images  # decodes the demo clip: only when int8 is asked for

        return calibration_images(self.config.tnet_size)

    @property
    def model_name(self) -> str:
        return self.config.model

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
        c = self.config
        # Working sizes are those of the extended frame (bottom context); ``mc`` of the M-Net's rows show the frame.
        extended = H + int(round(H * c.bottom_context))
        mh, mw = working_size(extended, W, c.mnet_size, 8, allow_upscale=False, pixel_budget=c.pixel_budget)
        mc = round(mh * H / extended)
        image_m = extend_bottom(shrink(rgb, (mw, mc)), mh)
        passes: dict[tuple[int, int], int] = {}  # T-Net input (h, w) -> its size; the budget can round two alike
        for k in range(c.tnet_passes):
            size = c.tnet_size + k * TNET_PASS_STEP
            passes.setdefault(working_size(extended, W, size, 32, allow_upscale=True, pixel_budget=c.pixel_budget),
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
            alpha = guided_upsample(alpha, rgb) if c.upsample == "guided" else bilinear_upsample(alpha, (H, W))
        t4 = time.perf_counter()
        self.timings = {"resize": t1 - t0, **split, "inference": t2 - t1, "smooth": t3 - t2, "upsample": t4 - t3}
        return alpha

    def _tnet_input(self, rgb: np.ndarray, image_m: np.ndarray, mc: int, shape: tuple[int, int],
                    size: int) -> np.ndarray:
        """The T-Net's copy of ``shape`` (h, w), for T-Net size ``size``: from the M-Net's copy (cheap; ``mc`` of its
        rows show the frame), unless the T-Net is larger; then from the frame, for its detail. (A T-Net side rounded
        up to a multiple of 32 past the M-Net's, as on 16:10 cameras without the bottom context, is interpolated from
        the M-Net's copy: a tenth of the time of shrinking the frame again.)"""
        th, tw = shape
        if size > self.config.mnet_size:  # the frame ends where it ends in the M-Net's copy
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
