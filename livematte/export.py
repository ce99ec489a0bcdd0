"""ONNX graphs from a torch model (needs torch): the T-Net and the refinement, as the ONNX backend runs them.

The engine exports in memory when no graph ships for its model (trained weights of your own, random weights in
tests); ``write_shipped`` writes the shipped models' graphs beside their weights (``scripts/export_onnx.py``), so
that CPU inference at start needs neither torch nor an export.
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn


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
                extra["plate_small"] = _tensor(np.median(np.stack(images), axis=0).astype(np.uint8))
            self._feeds = iter([{"image_small": _tensor(image), **extra} for image in images])

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


def _tensor(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32) * np.float32(1 / 255)


def graphs_from_model(model: nn.Module, int8_calibration: Sequence[np.ndarray] | None = None) -> tuple[bytes, bytes]:
    """(T-Net, refinement) graphs of a torch model, its T-Net quantized when ``int8_calibration`` (T-Net inputs,
    see ``quantize_tnet``) is given; a quantizer failure keeps the float T-Net, with a warning."""
    tnet, refine = export_onnx(model)
    if int8_calibration is not None:
        try:
            tnet = quantize_tnet(tnet, int8_calibration, bool(model.config.plate))
        except Exception as exc:  # the quantizer's own errors: keep the float T-Net, not fall back to torch
            warnings.warn(f"int8 T-Net unavailable ({exc}); running it in float", RuntimeWarning, stacklevel=2)
    return tnet, refine


def write_shipped(folder: Path) -> list[Path]:
    """The graphs of every model whose weights ship in ``folder``: float T-Net and refinement, and an int8 T-Net
    calibrated at each live T-Net size that runs the model (``livematte.config.QUALITY_SIZES``)."""
    from .calibration import calibration_images
    from .config import QUALITY_MODELS, QUALITY_SIZES
    from .models import create_model
    from .onnx_backend import graph_names

    written = []
    for name in sorted(set(QUALITY_MODELS.values())):
        weights = folder / f"{name}.pt"
        if not weights.is_file():
            continue
        tnet, refine = export_onnx(create_model(name, weights))
        graphs = {graph_names(name)[0]: tnet, graph_names(name)[1]: refine}
        for quality, model in QUALITY_MODELS.items():
            if model == name:
                size = QUALITY_SIZES[quality][0]
                graphs[graph_names(name, size)[0]] = quantize_tnet(tnet, calibration_images(size))
        for file, graph in graphs.items():
            (folder / file).write_bytes(graph)
            written.append(folder / file)
    return written
