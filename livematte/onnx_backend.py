"""Run the SHM model with ONNX Runtime on CPU: faster than eager torch here, and with thread spinning off it
degrades gracefully when other work (decode, encode, a game) shares the cores.

Two graphs: the T-Net (small image -> trimap logits) and the refinement (image + logits -> fused alpha), timed
separately. The shipped models' graphs ship beside their weights, the int8 T-Net calibrated at each live size, so
that starting needs no torch; other weights are exported in memory at start (``livematte.export``).
"""
from __future__ import annotations

import time
from importlib import resources
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


class OnnxModel:
    """Callable like the engine's torch path: (uint8 image at M-Net size, one or more uint8 images at T-Net sizes)
    -> alpha.
    ``timings`` holds the last call's T-Net and M-Net seconds."""

    def __init__(self, graphs: tuple[bytes, bytes], threads: int | None = None):
        """``graphs``: the (T-Net, refinement) ONNX graphs as bytes: shipped (``shipped_graphs``) or exported from a
        torch model (``livematte.export.graphs_from_model``)."""
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or 0  # 0: one per core
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # Spinning threads win in isolation but collapse when the cores are shared (see livematte bench).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        tnet, refine = graphs
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
        logits = average_logits([self.tnet.run(None, self._feed("image_small", t, p))[0]
                                 for t, p in zip(images_t, plates_t)])
        t1 = time.perf_counter()
        alpha = self.refine.run(None, {**self._feed("image", image_m, plate_m), "logits": logits})[0]
        self.timings = {"tnet": t1 - t0, "mnet": time.perf_counter() - t1}
        return alpha[0, 0]
