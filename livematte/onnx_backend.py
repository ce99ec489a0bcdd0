"""Run the SHM model with ONNX Runtime on CPU: faster than eager torch here, and with thread spinning off it
degrades gracefully when other work (decode, encode, a game) shares the cores.

Two graphs, exported in memory from the loaded torch model when the engine starts (about a second), so they
always match the weights and nothing is written to disk: the T-Net (small image -> trimap logits) and the
refinement (image + logits -> fused alpha), timed separately.
"""
from __future__ import annotations

import io
import time
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .models import average_logits


class _Refine(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor, logits: torch.Tensor, plate: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.refine(image, logits, plate)[2]


def _export(module: nn.Module, inputs: tuple, names: list[str], dynamic: dict) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval().cpu(), inputs, buffer, opset_version=17, dynamo=False, input_names=names,
                          output_names=["out"], dynamic_axes=dynamic)
    return buffer.getvalue()


def export_onnx(model: nn.Module) -> tuple[bytes, bytes]:
    """(T-Net graph: ``image_small`` N×3×h×w RGB in [0, 1] -> logits; refinement graph: ``image`` N×3×H×W and
    ``logits`` N×3×h×w -> alpha N×1×H×W). The upsamplings inside are traced as exact doublings, so h and w must be
    multiples of 32 and H and W multiples of 8 (the engine's working sizes are). A plate model's graphs also take
    ``plate_small`` and ``plate``, the empty background at the sizes of ``image_small`` and ``image``."""
    plate = bool(model.config.plate)
    small, big = (torch.rand(1, 3, 32, 64),), (torch.rand(1, 3, 64, 96),)
    tnet = _export(model.tnet, small * (1 + plate), ["image_small", "plate_small"][:1 + plate],
                   {"image_small": {2: "h", 3: "w"}, "plate_small": {2: "h", 3: "w"}, "out": {2: "h", 3: "w"}})
    refine = _export(_Refine(model), (*big, torch.rand(1, 3, 32, 64), *big[:plate]),
                     ["image", "logits", "plate"][:2 + plate],
                     {"image": {2: "H", 3: "W"}, "logits": {2: "h", 3: "w"}, "plate": {2: "H", 3: "W"},
                      "out": {2: "H", 3: "W"}})
    return tnet, refine


def quantize_tnet(graph: bytes, images: Sequence[np.ndarray], plate: bool = False) -> bytes:
    """The T-Net graph with int8 weights (7 bits, below) and activations (ONNX Runtime static quantization, QDQ,
    per channel), calibrated on ``images`` (uint8 RGB at the T-Net's input size: calibrate at the size it will
    run). The refinement graph gained nothing from int8, so it stays float (model card). A plate T-Net is
    calibrated with the images' median as the plate: the background, with a person where they stood still."""
    import logging
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Frames(CalibrationDataReader):
        def __init__(self):
            extra = {}
            if plate:
                extra["plate_small"] = OnnxModel._tensor(np.median(np.stack(images), axis=0).astype(np.uint8))
            self._feeds = iter([{"image_small": OnnxModel._tensor(image), **extra} for image in images])

        def get_next(self):
            return next(self._feeds, None)

    quiet = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # the quantizer logs advice at WARNING on every call
    try:
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            src, pre, out = (Path(tmp) / n for n in ("tnet.onnx", "pre.onnx", "int8.onnx"))
            src.write_bytes(graph)
            quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
            # Weights in 7 bits (reduce_range): without VNNI, ONNX Runtime's uint8 x int8 kernels sum pairs of
            # products in 16 bits, which saturate with 8-bit weights (model card).
            quantize_static(str(pre), str(out), Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                            reduce_range=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
            return out.read_bytes()
    finally:
        logging.getLogger().setLevel(quiet)


class OnnxModel:
    """Callable like the engine's torch path: (uint8 image at M-Net size, one or more uint8 images at T-Net sizes)
    -> alpha.
    ``timings`` holds the last call's T-Net and M-Net seconds. With ``int8_calibration`` (T-Net inputs, see
    ``quantize_tnet``) the T-Net runs in int8."""

    def __init__(self, model: nn.Module, threads: int | None = None,
                 int8_calibration: Sequence[np.ndarray] | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or 0  # 0: one per core
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # Spinning threads win in isolation but collapse when the cores are shared (see livematte bench).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        tnet, refine = export_onnx(model)
        if int8_calibration is not None:
            try:
                tnet = quantize_tnet(tnet, int8_calibration, bool(model.config.plate))
            except Exception as exc:  # the quantizer's own errors: keep the float T-Net, not fall back to torch
                warnings.warn(f"int8 T-Net unavailable ({exc}); running it in float", RuntimeWarning, stacklevel=2)
        self.tnet_graph = tnet  # kept to be inspected (tests: really quantized)
        self.tnet = ort.InferenceSession(tnet, opts, providers=["CPUExecutionProvider"])
        self.refine = ort.InferenceSession(refine, opts, providers=["CPUExecutionProvider"])
        self.timings: dict[str, float] = {}

    @staticmethod
    def _tensor(image: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32) * np.float32(1 / 255)

    def _feed(self, name: str, image: np.ndarray, plate: np.ndarray | None) -> dict[str, np.ndarray]:
        plate_name = "plate" if name == "image" else "plate_small"
        return {name: self._tensor(image), **({} if plate is None else {plate_name: self._tensor(plate)})}

    def __call__(self, image_m: np.ndarray, *images_t: np.ndarray,
                 plates: tuple[np.ndarray, Sequence[np.ndarray]] | None = None) -> np.ndarray:
        """Alpha from the M-Net's copy and one or more T-Net copies (their trimap logits averaged); a plate
        model's ``plates``: the plate at the M-Net's size and at each T-Net size."""
        if not images_t:
            raise ValueError("no T-Net image given")
        if image_m.shape[0] % 8 or image_m.shape[1] % 8 or any(t.shape[0] % 32 or t.shape[1] % 32 for t in images_t):
            raise ValueError(f"the ONNX graphs take T-Net sizes in multiples of 32 and M-Net sizes in multiples of 8, "
                             f"not {[t.shape[:2] for t in images_t]} and {image_m.shape[:2]}")  # see export_onnx
        t0 = time.perf_counter()
        plate_m, plates_t = plates if plates is not None else (None, [None] * len(images_t))
        logits = average_logits([torch.from_numpy(self.tnet.run(None, self._feed("image_small", t, p))[0])
                                 for t, p in zip(images_t, plates_t)]).numpy()  # one pass: its own array
        t1 = time.perf_counter()
        alpha = self.refine.run(None, {**self._feed("image", image_m, plate_m), "logits": logits})[0]
        self.timings = {"tnet": t1 - t0, "mnet": time.perf_counter() - t1}
        return alpha[0, 0]
