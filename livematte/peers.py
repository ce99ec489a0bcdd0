"""Peer segmentation/matting models (ONNX, given by path) with their exact pre- and post-processing,
so that livematte can be measured against them in the same run. Nothing is downloaded or copied: the
files are read where the user keeps them (for example ``../shared/models/peers``).

Each peer is a callable like ``Matter``: RGB uint8 H×W×3 -> alpha float32 H×W in [0, 1].
"""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from .errors import InputError
from .resize import shrink

SINET_MEAN = np.array([102.890434, 111.25247, 126.91212], np.float32)  # BGR order
SINET_STD = np.array([62.93292, 62.82138, 66.355705], np.float32)


def _session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise InputError(f"cannot load peer model {path}: {exc}") from None


class PeerModel:
    """A peer ONNX model recognised by its file name."""

    def __init__(self, path: str | Path, threads: int = 2):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError(f"peer model not found: {self.path}")
        name = self.path.name.lower()
        self.kind = ("rvm" if "rvm" in name else "sinet" if "sinet" in name else
                     "meet" if "meet" in name else "selfie" if "selfie" in name else None)
        if self.kind is None:
            raise InputError(f"unknown peer model {self.path.name}: "
                             "expected a MediaPipe selfie/meet, SINet or RVM file")
        self.session = _session(self.path, threads)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.input_shape = inp.shape
        self.name = self.path.stem
        self.timings: dict[str, float] = {}
        self.reset()

    def reset(self) -> None:
        self._rec = None  # RVM's recurrent state

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        H, W = rgb.shape[:2]
        t0 = time.perf_counter()
        if self.kind == "rvm":  # resizes inside its graph
            alpha = self._rvm(rgb)
            self.timings = {"resize": 0.0, "inference": time.perf_counter() - t0, "upsample": 0.0}
            return alpha
        if self.kind == "sinet":
            h, w = self.input_shape[2], self.input_shape[3]
            bgr = cv2.cvtColor(shrink(rgb, (w, h)), cv2.COLOR_RGB2BGR)
            t_resized = time.perf_counter()
            x = ((bgr.astype(np.float32) - SINET_MEAN) / SINET_STD / 255.0).transpose(2, 0, 1)[None]
            prob = self.session.run(None, {self.input_name: x})[0][0, 1]
        else:  # MediaPipe selfie / Meet: NHWC RGB in [0, 1], stretch-resized
            h, w = self.input_shape[1], self.input_shape[2]
            small = shrink(rgb, (w, h))  # the same resize as livematte's engine
            t_resized = time.perf_counter()
            x = small.astype(np.float32)[None] / 255.0
            out = self.session.run(None, {self.input_name: x})[0][0]
            if self.kind == "meet":  # two-class logits: softmax, channel 1 = person
                e = np.exp(out - out.max(axis=-1, keepdims=True))
                prob = e[..., 1] / e.sum(axis=-1)
            else:
                prob = out[..., 0]
        t1 = time.perf_counter()
        alpha = cv2.resize(prob.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
        self.timings = {"resize": t_resized - t0, "inference": t1 - t_resized, "upsample": time.perf_counter() - t1}
        return np.clip(alpha, 0.0, 1.0)

    def _rvm(self, rgb: np.ndarray) -> np.ndarray:
        H, W = rgb.shape[:2]
        ratio = min(1.0, 512.0 / max(H, W))  # the authors' guideline: internal resolution about 256-512 px
        src = rgb.astype(np.float32)[None] / 255.0
        if self._rec is None:
            self._rec = [np.zeros((1, 1, 1, c), np.float32) for c in (16, 20, 40, 64)]
        feeds = {"src": src, "downsample_ratio": np.array(ratio, np.float32)}
        feeds.update({f"r{i + 1}i": r for i, r in enumerate(self._rec)})
        outs = dict(zip([o.name for o in self.session.get_outputs()], self.session.run(None, feeds)))
        self._rec = [outs[f"r{i + 1}o"] for i in range(4)]
        return np.clip(outs["pha"][0, ..., 0], 0.0, 1.0)
