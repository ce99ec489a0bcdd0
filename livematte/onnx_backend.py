"""Run the SHM model with ONNX Runtime on CPU: faster than eager torch here, and with thread spinning off it
degrades gracefully when other work (decode, encode, a game) shares the cores.

Two graphs: the T-Net (small image -> trimap logits) and the refinement (image + logits -> fused alpha), timed
separately. The shipped models' graphs ship beside their weights, the int8 T-Net calibrated at each live size, so
that starting needs no torch; other weights are exported in memory at start (``livematte.export``).
"""
from __future__ import annotations

import time
import warnings
from importlib import resources
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np


def graph_names(model: str, int8_size: int | None = None) -> tuple[str, str]:
    """File names of a model's shipped graphs: (T-Net, float or int8 calibrated at ``int8_size``; refinement)."""
    tnet = f"{model}.tnet.int8-{int8_size}.onnx" if int8_size else f"{model}.tnet.onnx"
    return tnet, f"{model}.refine.onnx"


def shipped_graphs(model: str, int8_size: int | None = None) -> tuple[bytes, bytes] | None:
    """The graphs shipped beside the shipped weights of ``model`` (scripts/export_onnx.py), None if there are none
    (tests/test_weights.py checks they match the weights)."""
    folder = resources.files("livematte.models").joinpath("weights")
    files = [folder.joinpath(name) for name in graph_names(model, int8_size)]
    if not all(f.is_file() for f in files):
        return None
    return files[0].read_bytes(), files[1].read_bytes()


def average_logits(logits: list[np.ndarray]) -> np.ndarray:
    """The mean of N×3×h×w trimap logits of several T-Net passes, each resized (bilinear, half-pixel centres, as
    torch's align_corners=False) to the first one's grid; one pass: itself (``livematte.models.average_logits``)."""
    if len(logits) == 1:
        return logits[0]
    total = logits[0].copy()
    h, w = total.shape[2:]
    for extra in logits[1:]:
        planes = np.ascontiguousarray(extra[0].transpose(1, 2, 0))
        total[0] += cv2.resize(planes, (w, h), interpolation=cv2.INTER_LINEAR).transpose(2, 0, 1)
    return total / np.float32(len(logits))


def quantize_tnet(graph: bytes, images: Sequence[np.ndarray]) -> bytes:
    """The T-Net graph with int8 weights (7 bits, below) and activations (ONNX Runtime static quantization, QDQ,
    per channel), calibrated on ``images`` (uint8 RGB at the T-Net's input size: calibrate at the size it will
    run). The refinement graph gained nothing from int8, so it stays float (model card)."""
    import logging
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Frames(CalibrationDataReader):
        def __init__(self):
            self._feeds = iter([{"image_small": OnnxModel._tensor(image)} for image in images])

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

    def __init__(self, model, threads: int | None = None, int8_calibration: Sequence[np.ndarray] | None = None):
        """``model``: a torch SHM (exported here, its T-Net quantized when ``int8_calibration`` is given), or a
        (T-Net, refinement) pair of ONNX graphs as bytes, ready to run."""
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or 0  # 0: one per core
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # Spinning threads win in isolation but collapse when the cores are shared (see livematte bench).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if isinstance(model, tuple):
            tnet, refine = model
        else:
            from .export import export_onnx  # torch, only for weights that ship no graphs

            tnet, refine = export_onnx(model)
        if int8_calibration is not None:
            try:
                tnet = quantize_tnet(tnet, int8_calibration)
            except Exception as exc:  # the quantizer's own errors: keep the float T-Net, not fall back to torch
                warnings.warn(f"int8 T-Net unavailable ({exc}); running it in float", RuntimeWarning, stacklevel=2)
        self.tnet_graph = tnet  # kept to be inspected (tests: really quantized)
        self.tnet = ort.InferenceSession(tnet, opts, providers=["CPUExecutionProvider"])
        self.refine = ort.InferenceSession(refine, opts, providers=["CPUExecutionProvider"])
        self.timings: dict[str, float] = {}

    @staticmethod
    def _tensor(image: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32) * np.float32(1 / 255)

    def __call__(self, image_m: np.ndarray, *images_t: np.ndarray) -> np.ndarray:
        """Alpha from the M-Net's copy and one or more T-Net copies (their trimap logits averaged)."""
        if not images_t:
            raise ValueError("no T-Net image given")
        if image_m.shape[0] % 8 or image_m.shape[1] % 8 or any(t.shape[0] % 32 or t.shape[1] % 32 for t in images_t):
            raise ValueError(f"the ONNX graphs take T-Net sizes in multiples of 32 and M-Net sizes in multiples of 8, "
                             f"not {[t.shape[:2] for t in images_t]} and {image_m.shape[:2]}")  # see export_onnx
        t0 = time.perf_counter()
        logits = average_logits([self.tnet.run(None, {"image_small": self._tensor(t)})[0] for t in images_t])
        t1 = time.perf_counter()
        alpha = self.refine.run(None, {"image": self._tensor(image_m), "logits": logits})[0]
        self.timings = {"tnet": t1 - t0, "mnet": time.perf_counter() - t1}
        return alpha[0, 0]
