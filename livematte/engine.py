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
from .plate import PlateMonitor, check_aspect, check_plate
from .plate_align import PlateAligner, not_background
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


_LOAD_KEYS = ("model", "weights", "plate_weights", "device", "backend", "threads", "int8_tnet")  # reload on change


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
        self._plate: np.ndarray | None = None         # clean-plate mode (set_plate)
        self._coverage: np.ndarray | None = None      # where an automatic plate is known (None: everywhere)
        self._plate_model = self._plate_onnx = self._monitor = None
        self._plate_copies: dict = {}                 # working shapes -> the plate's copies at them
        self._aligner = PlateAligner()                # the plate moved and coloured onto the frames
        self._frame_shape: tuple[int, int] | None = None
        self._previous: np.ndarray | None = None      # the last matte at the M-Net's size (mismatch detection)
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
        if old is not None and self._plate is not None and config.model != old.model:
            self._plate_copies = {}
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
        self._plate_model = None
        if self._plate is not None:
            try:
                self._plate_model = self._create(*self._plate_preset())
            except (SettingsError, InputError) as exc:  # e.g. a quality switch to a model without plate weights
                warnings.warn(f"plate dropped, automatic mode: {exc}", RuntimeWarning, stacklevel=3)
                self.set_plate(None)
        self._build_backend()

    def _create(self, name: str, weights):
        from .torch_backend import load_model, set_threads  # torch: where no shipped graph will do

        if self.config.threads:
            set_threads(self.config.threads)
        return load_model(name, weights, self.device)

    def _shipped(self) -> tuple[bytes, bytes] | None:
        """The shipped ONNX graphs for this configuration (the shipped weights on the CPU), or None."""
        c = self.config
        if c.weights != "default" or c.backend == "torch" or self.device != "cpu":
            return None
        return shipped_graphs(c.model, c.tnet_size if c.int8_tnet else None)

    def _torch_model(self):
        if self.model is None:
            self.model = self._create(self.config.model, self.config.weights)
        return self.model

    def _plate_preset(self) -> tuple[str, object]:
        """(name, weights) of the clean-plate model of this configuration's model."""
        from .models.registry import default_weights_path, plate_model_name

        c = self.config
        try:
            name = plate_model_name(c.model)
        except KeyError as exc:
            raise SettingsError(str(exc.args[0])) from None
        if c.plate_weights != "default":
            return name, c.plate_weights
        if c.weights is None:  # an engine on random weights (tests) gets a random plate model
            return name, None
        path = default_weights_path(name)
        if not path.is_file():
            raise SettingsError(f"clean-plate mode needs trained {name!r} weights ({path.name}), and none ship yet: "
                                "train them (README: Clean plate) or give a plate weights file")
        return name, path

    def _build_backend(self) -> None:
        graphs = self._shipped()
        self._onnx = OnnxModel(graphs, self.config.threads) if graphs is not None else self._backend_for(
            self._torch_model())
        self._torch = None if self._onnx is not None else self._torch_backend(self._torch_model())
        self._plate_onnx = self._plate_torch = None
        if self._plate_model is not None:
            self._plate_onnx = self._backend_for(self._plate_model)
            if self._plate_onnx is None:
                self._plate_torch = self._torch_backend(self._plate_model)
        self.backend = "onnx" if self._onnx is not None else "torch"

    @staticmethod
    def _torch_backend(model):
        from .torch_backend import TorchModel

        return TorchModel(model)

    def _backend_for(self, model) -> OnnxModel | None:
        # ONNX Runtime on CPU (faster here, and graceful when the cores are shared); torch on CUDA.
        c = self.config
        if c.backend in ("auto", "onnx") and self.device == "cpu":
            try:
                from .export import graphs_from_model  # torch: only for weights that ship no graphs

                return OnnxModel(graphs_from_model(model, self._calibration()), c.threads)
            except Exception as exc:  # exporter or runtime missing or broken: say so, and use torch
                if c.backend == "onnx":
                    raise SettingsError(f"the onnx backend is not available: {exc}") from None
                warnings.warn(f"ONNX Runtime backend unavailable ({exc}); running the model in torch (slower)",
                              RuntimeWarning, stacklevel=4)
        return None

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
        self._previous = self._frame_shape = None  # another source may have another size
        self._aligner.reset()

    def set_plate(self, rgb: np.ndarray | None, coverage: np.ndarray | None = None) -> None:
        """Clean-plate mode: ``rgb`` (RGB uint8 H×W×3) is the empty background, at the frames' size or any size of
        their aspect (resized to the working sizes once); None returns to automatic mode. ``coverage`` (bool, the
        plate's H×W): where the plate is known (an automatic plate); elsewhere the automatic matte is used. Loads
        the plate model on first use: ``SettingsError`` when no trained plate weights exist for the model."""
        self._aligner.reset()
        if rgb is None:
            self._plate = self._coverage = self._monitor = None
            self._plate_copies = {}
            return
        plate = check_plate(rgb)
        if self._frame_shape is not None:
            check_aspect(plate.shape, self._frame_shape)
        if coverage is not None and (coverage.shape != plate.shape[:2] or coverage.dtype != bool):
            raise InputError(f"a plate's coverage must be a bool array of the plate's {plate.shape[1]}×"
                             f"{plate.shape[0]}, got {coverage.dtype} {coverage.shape}")
        if self._plate_model is None:
            self._plate_model = self._create(*self._plate_preset())
            self._plate_onnx = self._backend_for(self._plate_model)
            self._plate_torch = None if self._plate_onnx is not None else self._torch_backend(self._plate_model)
        self._plate, self._plate_copies = plate, {}
        self._coverage = None if coverage is None or coverage.all() else coverage
        self._monitor = PlateMonitor(plate, self._coverage)

    @property
    def plate_status(self) -> str:
        """"off" (automatic mode), "fits" (the plate is used) or "changed" (it stopped fitting: automatic mode
        until it fits again)."""
        if self._plate is None:
            return "off"
        return "fits" if self._monitor.fits else "changed"

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
        self._frame_shape = (H, W)
        plates = None
        if self._plate is not None:
            plates = self._plate_at(H, W, image_m.shape, mc, passes)
            if not self._monitor.update(image_m[:mc], self._previous, self._aligner.current_shift):
                plates = None  # the plate stopped fitting: the automatic model, until it fits again
                self._aligner.reset()
        t1 = time.perf_counter()
        if plates is None:
            alpha, split = self._run(self._onnx or self._torch, image_m, images_t)
        else:
            plate_model = self._plate_onnx or self._plate_torch
            aligner, unknown = self._aligner, None if plates[2] is None else 1 - plates[2][:mc]
            shift = aligner.shift(rgb, self._plate, not_background(self._previous, unknown), (mc, mw))
            alpha, split = self._run(plate_model, image_m, images_t,
                                     aligner.copies(plates[0], plates[1], shift, self._monitor.exposure))
            if aligner.alignment[1] is None:
                # No exposure fitted yet (a first frame, a photo, or the person filled the frames): align by this
                # frame's own matte, and run again.
                shift = aligner.estimate(rgb, self._plate, not_background(alpha[:mc], unknown))
                if (exposure := self._monitor.exposure_for(alpha[:mc], shift)) is not None:
                    alpha, split = self._run(plate_model, image_m, images_t,
                                             aligner.copies(plates[0], plates[1], shift, exposure, fresh=True))
            if plates[2] is not None:  # an automatic plate known in part: the automatic matte elsewhere
                auto, _ = self._run(self._onnx or self._torch, image_m, images_t)
                alpha = plates[2] * alpha + (1 - plates[2]) * auto
        self._previous = alpha[:mc]
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

    def _plate_at(self, H: int, W: int, shape_m: tuple, mc: int, passes: dict) -> tuple:
        """(plate at the M-Net's size, at each T-Net size, coverage weight at the M-Net's size or None), made once
        per frame size and working sizes."""
        key = (H, W, shape_m, tuple(passes.items()))
        if key not in self._plate_copies:
            check_aspect(self._plate.shape, (H, W))
            plate = _resize(self._plate, (W, H)) if self._plate.shape[:2] != (H, W) else self._plate
            plate_m = extend_bottom(shrink(plate, (shape_m[1], mc)), shape_m[0])
            plates_t = [self._tnet_input(plate, plate_m, mc, s, size) for s, size in passes.items()]
            weight = None
            if self._coverage is not None:  # soft, so that the two mattes meet without a seam
                cover = cv2.resize(self._coverage.astype(np.float32), (shape_m[1], mc), interpolation=cv2.INTER_AREA)
                weight = np.zeros(shape_m[:2], np.float32)
                weight[:mc] = cv2.GaussianBlur(cover, (0, 0), 2.0)
            self._plate_copies = {key: (plate_m, plates_t, weight)}
        return self._plate_copies[key]

    @staticmethod
    def _run(backend, image_m: np.ndarray, images_t: list[np.ndarray],
             plates: tuple | None = None) -> tuple[np.ndarray, dict[str, float]]:
        return backend(image_m, *images_t, plates=plates), backend.timings

