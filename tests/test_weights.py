"""The shipped weights: they load by default and cut the person out of the demo clip (a held-out photo)."""
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest

from livematte import Matter
from livematte.media import VideoReader
from livematte.metrics import iou
from livematte.models import default_weights_path
from livematte.config import QUALITY_MODELS

DEMO = Path(__file__).resolve().parents[1] / "livematte" / "assets" / "demo.mp4"
MASKS = Path(__file__).resolve().parent / "data" / "demo_masks.png"  # first | last frame, by scripts/make_demo_clip.py

LITE_LIVE_SIZES = {"tnet_size": 256, "mnet_size": 256, "tnet_passes": 1}  # shm-lite's sizes and passes in live
pytestmark = pytest.mark.skipif(not default_weights_path("shm").is_file(), reason="no trained weights ship yet")


def test_default_engine_loads_the_shipped_weights():
    assert Matter().trained


@pytest.mark.parametrize("model", sorted(set(QUALITY_MODELS.values())))
def test_every_model_a_live_quality_picks_ships_trained_weights(model):
    assert Matter(model=model, tnet_size=256, mnet_size=256).trained


@pytest.fixture(scope="module")
def demo_pairs():
    """(frame, hand-drawn person mask) of the demo clip's first frame (full body) and last (upper body)."""
    frames = [f.rgb for f in VideoReader(DEMO)]
    masks = cv2.imread(str(MASKS), cv2.IMREAD_GRAYSCALE) > 127
    w = frames[0].shape[1]
    return [(frames[0], masks[:, :w]), (frames[-1], masks[:, w:])]


def _inner(mask: np.ndarray) -> np.ndarray:
    """The mask 7 px in from its edge: surely person."""
    return cv2.erode(mask.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0


@pytest.mark.parametrize("model,sizes", [("shm", {}), ("shm-lite", LITE_LIVE_SIZES)])
def test_shipped_weights_cut_out_the_person_in_the_demo_clip(model, sizes, demo_pairs):
    """Each shipped model at the sizes it is used at (shm: the offline defaults; shm-lite: live)."""
    matter = Matter(model=model, **sizes)
    for frame, mask in demo_pairs:
        alpha = matter(frame)
        assert iou(alpha, mask) >= 0.85  # full body, then upper body
        # confident where it is sure: nearly all of the person opaque, nearly all of the background clear
        outer = cv2.dilate(mask.astype(np.uint8), np.ones((15, 15), np.uint8)) == 0
        assert np.mean(alpha[_inner(mask)] > 0.9) > 0.95 and np.mean(alpha[outer] < 0.1) > 0.95


@pytest.mark.parametrize("model,sizes", [("shm", {}), ("shm-lite", LITE_LIVE_SIZES)])
def test_shipped_weights_keep_the_legs_at_the_bottom_of_the_demo_frames(model, sizes, demo_pairs):
    """The legs at the bottom of the demo frames stay opaque (the full body in the first, cut by the frame's edge in
    the last). Earlier weights run at T-Net 320 faded the jeans of the last frame (55 % of the lowest fifth opaque;
    52 % with two T-Net passes), and so did averaging the shipped shm with its start (81 %; 83 %)."""
    matter = Matter(model=model, **sizes)
    for frame, mask in demo_pairs:
        inner = _inner(mask)
        inner[: frame.shape[0] * 4 // 5] = False  # the frame's lowest fifth
        assert np.mean(matter(frame)[inner] > 0.9) > 0.9


def test_int8_tnet_cuts_out_the_demo_person_like_the_float_one(demo_pairs):
    frame, mask = demo_pairs[0]
    float_alpha = Matter(tnet_size=256, mnet_size=256, tnet_passes=1)(frame)
    int8 = Matter(tnet_size=256, mnet_size=256, tnet_passes=1, int8_tnet=True,
                  backend="onnx")  # no quiet fallback to torch
    ops = {node.op_type for node in onnx.load_from_string(int8._onnx.tnet_graph).graph.node}
    assert "QLinearConv" in ops or "DequantizeLinear" in ops  # really quantized
    int8_alpha = int8(frame)
    assert iou(int8_alpha, mask) >= 0.85
    assert np.mean(np.abs(int8_alpha - float_alpha)) < 0.01  # mean |Δα| over the frame


@pytest.mark.parametrize("model", sorted(set(QUALITY_MODELS.values())))
def test_the_shipped_graphs_are_the_shipped_weights(model, demo_pairs):
    """Each ONNX file beside the weights (scripts/export_onnx.py) computes what its .pt does: the float graphs to
    1e-4, the int8 T-Nets (one per live size) nearly the same trimap. A stale graph after new weights fails here."""
    import torch

    from livematte.config import QUALITY_SIZES
    from livematte.models import create_model
    from livematte.onnx_backend import OnnxModel, graph_names, shipped_graphs

    net = create_model(model).eval()
    frame = demo_pairs[1][0]
    image_m = cv2.resize(frame, (256, 192), interpolation=cv2.INTER_AREA)
    image_t = cv2.resize(frame, (224, 160), interpolation=cv2.INTER_AREA)
    with torch.no_grad():
        def tensor(a):
            return torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255

        logits = net.tnet(tensor(image_t))
        expected = net.refine(tensor(image_m), logits)[2][0, 0].numpy()
    assert np.abs(OnnxModel(shipped_graphs(model), threads=1)(image_m, image_t) - expected).max() < 1e-4
    sizes = [QUALITY_SIZES[q][0] for q, m in QUALITY_MODELS.items() if m == model]
    for size in sizes:  # each int8 T-Net at the size it was calibrated for, against the float graphs there
        graphs = shipped_graphs(model, size)
        assert graphs is not None, graph_names(model, size)
        assert "QuantizeLinear" in {n.op_type for n in onnx.load_from_string(graphs[0]).graph.node}
        image_t = cv2.resize(frame, (size, size * 3 // 4 // 32 * 32), interpolation=cv2.INTER_AREA)
        float_alpha = OnnxModel(shipped_graphs(model), threads=1)(image_m, image_t)
        alpha = OnnxModel(graphs, threads=1)(image_m, image_t)
        assert iou(alpha, float_alpha > 0.5) > 0.97 and np.abs(alpha - float_alpha).mean() < 0.02


def test_matting_with_the_shipped_weights_on_the_cpu_imports_no_torch(tmp_path):
    """Photos, video and live on the CPU run the shipped graphs: no torch import, no export at start."""
    import subprocess
    import sys

    code = "\n".join([
        "import sys, numpy as np",
        "from livematte import Matter, EngineConfig",
        "for config in (EngineConfig.offline(), EngineConfig.live('balanced'), EngineConfig.live('high')):",
        "    m = Matter(config.replace(device='auto'))",
        "    assert m.backend == 'onnx' and m.trained and m(np.zeros((48, 64, 3), np.uint8)).shape == (48, 64)",
        "print(sorted(k for k in sys.modules if k == 'torch' or k.startswith('torch.')))"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
