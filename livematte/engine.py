"""The matting engine: the one place the live and offline paths call.

``Matter(...)(rgb)`` takes an RGB uint8 H×W×3 frame and returns its alpha, float32 H×W in [0, 1].
Resolution strategy: the T-Net sees a small copy (``tnet_size`` on the long side), the M-Net one of its own size
(``mnet_size``: larger offline, the same live), and the alpha is brought to full resolution by a guided filter
on the frame itself.
Temporal smoothing (optional) works at the M-Net's size; ``reset()`` clears it (call it on cuts).
"""
from __future__ import annotations

import importlib.metadata
import time
import warnings

import cv2
import numpy as np

from .config import TNET_PASS_STEP, EngineConfig
from .errors import InputError, SettingsError
from .onnx_backend import OnnxModel, shipped_graphs
from .resize import extend_bottom, shrink, working_size
from .smoothing import TemporalSmoother
from .upsample import bilinear_upsample, guided_upsample


def _torch_may_have_cuda() -> bool:
    """False when torch is missing or a CPU build (its version ends in +cpu): then "auto" is the CPU, known without
    importing torch."""
    try:
        return not importlib.metadata.version("torch").endswith("+cpu")
    except importlib.metadata.PackageNotFoundError:
        return False


def resolve_device(device: str) -> str:
    """"cpu", "cuda" or "cuda:N"; "auto" is CUDA when torch sees a GPU."""
    if device == "auto":
        if not _torch_may_have_cuda():
            return "cpu"
        from .torch_backend import cuda_available

        return "cuda" if cuda_available() else "cpu"
    if device != "cpu" and not device.startswith("cuda"):
        raise SettingsError(f"unknown device {device!r}: use auto, cpu or cuda")
    return device


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
        if c.backend == "onnx" and self.device != "cpu":
            raise SettingsError("the onnx backend runs on the CPU; use --device cpu or the torch backend")
        self.model = None  # the torch model, loaded only where no shipped graph will do
        if c.threads and not self._shipped():
            from .torch_backend import set_threads

            set_threads(c.threads)
        self._build_backend()

    def _shipped(self) -> tuple[bytes, bytes] | None:
        """The shipped ONNX graphs for this configuration (the shipped weights on the CPU), or None."""
        c = self.config
        if c.weights != "default" or c.backend == "torch" or self.device != "cpu":
            return None
        return shipped_graphs(c.model, c.tnet_size if c.int8_tnet else None)

    def _torch_model(self):
        if self.model is None:
            from .torch_backend import load_model

            self.model = load_model(self.config.model, self.config.weights, self.device)
        return self.model

    def _build_backend(self) -> None:
        # ONNX Runtime on CPU (faster here, and graceful when the cores are shared); torch on CUDA.
        c = self.config
        self._onnx = None
        graphs = self._shipped()
        if graphs is not None:
            self._onnx = OnnxModel(graphs, c.threads)
        elif c.backend in ("auto", "onnx") and self.device == "cpu":
            model = self._torch_model()
            try:
                from .export import graphs_from_model  # torch: only for weights that ship no graphs

                self._onnx = OnnxModel(graphs_from_model(model, self._calibration()), c.threads)
            except Exception as exc:  # exporter or runtime missing or broken: say so, and use torch
                if c.backend == "onnx":
                    raise SettingsError(f"the onnx backend is not available: {exc}") from None
                warnings.warn(f"ONNX Runtime backend unavailable ({exc}); running the model in torch (slower)",
                              RuntimeWarning, stacklevel=3)
        if self._onnx is None:
            from .torch_backend import TorchModel

            self._torch = TorchModel(self._torch_model())
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
        return self.model is None or bool(self.model.trained)  # no torch model: the shipped graphs

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
        backend = self._onnx if self._onnx is not None else self._torch
        alpha = backend(image_m, *images_t)
        split = backend.timings
        t2 = time.perf_counter()
        alpha = self.smoother(alpha[:mc], image_m[:mc])
        t3 = time.perf_counter()
        if (mc, mw) != (H, W) and c.upsample == "bilinear":
            alpha = bilinear_upsample(alpha, (H, W))
        elif (mc, mw) != (H, W) and self.device != "cpu":  # on the GPU, as the model: a 4K guide is heavy work
            from .torch_backend import guided_upsample_torch

            alpha = guided_upsample_torch(alpha, rgb, self.device)
        elif (mc, mw) != (H, W):
            alpha = guided_upsample(alpha, rgb)
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
