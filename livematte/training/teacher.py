"""Teacher labels for photos and video frames that have none: knowledge distillation from peer models.

RVM (a video matting model) gives a soft alpha, run a few recurrent steps on the still image; MediaPipe selfie
and Meet give two independent person probabilities, averaged. A picture is kept only where RVM's mask agrees with
theirs (IoU), so the student learns where the teachers are likely right; within it, each pixel takes RVM's alpha
where it is within 0.5 of the two segmenters' mean, else the mean of all three (a pixel they dispute stays soft).
The peer files are read where they lie (``../shared/models/peers``), never copied; the labels go to the git-ignored
training cache.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..datasets import FLICKER_CLIPS
from ..foreground import estimate_foreground
from ..media import VideoReader
from ..metrics import iou
from ..peers import PeerModel
from ..resize import fit_within

MIN_AGREEMENT = 0.85     # IoU between RVM's mask and the segmenters' mean
MAX_DISPUTE = 0.5        # |RVM - segmenters' mean| above which a pixel takes the mean of all three
MIN_AREA, MAX_AREA = 0.02, 0.95  # person fraction of the picture: skip empty and all-person labels
RVM_STEPS = 4            # recurrent steps on a still image before its alpha is read
FRAME_EVERY = 6          # one video frame in six
EDGE_AGREEMENT = 0.9     # IoU of RVM's mask with a hand-drawn one, below which its edges are not trusted there


def teacher_images(shared: Path, max_side: int = 400):
    """(name, RGB image) of unlabeled photos and of frames of the clips not used for evaluation."""
    for path in sorted((shared / "data" / "unlabeled").glob("*.jpg")):
        img = cv2.imread(str(path))
        if img is not None:
            yield f"unlabeled/{path.stem}", fit_within(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), max_side)
    for clip in sorted((shared / "data" / "video").glob("*.mp4")):
        if clip.name in FLICKER_CLIPS:
            continue  # held out for the flicker measure
        reader = VideoReader(clip)
        for frame in reader:
            if frame.index % FRAME_EVERY == 0:
                yield f"video/{clip.stem}/{frame.index}", fit_within(frame.rgb, max_side)
        reader.close()


def combine(rvm: np.ndarray, selfie: np.ndarray, meet: np.ndarray) -> tuple[np.ndarray, float]:
    """(combined alpha, agreement): RVM's alpha where the segmenters' mean is within MAX_DISPUTE of it, else the
    mean of the three; agreement is the IoU of RVM's mask and the segmenters'."""
    seg = (selfie + meet) / 2
    alpha = np.where(np.abs(rvm - seg) <= MAX_DISPUTE, rvm, (rvm + selfie + meet) / 3).astype(np.float32)
    return alpha, iou(rvm, seg > 0.5)


def label(rvm: PeerModel, selfie: PeerModel, meet: PeerModel, rgb: np.ndarray) -> tuple[np.ndarray | None, float]:
    """(teacher alpha or None when the teachers disagree or the person is too small or too large, agreement)."""
    rvm.reset()
    for _ in range(RVM_STEPS):
        r = rvm(rgb)
    alpha, agreement = combine(r, selfie(rgb), meet(rgb))
    area = float((alpha > 0.5).mean())
    if agreement < MIN_AGREEMENT or not MIN_AREA <= area <= MAX_AREA:
        return None, agreement
    return alpha, agreement


def build(shared: Path, out: Path) -> dict:
    peers = shared / "models" / "peers"
    rvm = PeerModel(peers / "rvm_mobilenetv3.onnx", threads=1)
    selfie = PeerModel(peers / "mediapipe_selfie_256x256.onnx", threads=1)
    meet = PeerModel(peers / "mediapipe_meet_segm_full_144x256.onnx", threads=1)
    arrays: dict[str, np.ndarray] = {}
    kept = seen = 0
    for name, rgb in teacher_images(shared):
        seen += 1
        alpha, agreement = label(rvm, selfie, meet, rgb)
        if alpha is None:
            continue
        a8 = (alpha * 255 + 0.5).astype(np.uint8)
        arrays.update({f"name{kept}": np.array(name), f"img{kept}": rgb, f"a{kept}": a8,
                       f"fg{kept}": estimate_foreground(rgb, alpha)})
        kept += 1
    arrays["n_people"] = np.array(kept)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **arrays)
    return {"seen": seen, "kept": kept}


def refine_edges(mask: np.ndarray, pseudo: np.ndarray, rvm: np.ndarray) -> np.ndarray | None:
    """A hand-drawn label's soft band taken from RVM: ``pseudo`` (closed-form matting on a band around the hand-drawn
    ``mask``) is soft across the whole band wherever the polygon lies; RVM's alpha there follows the real edge (hair,
    fingers). Away from the band the hand label stays. None where RVM's mask disagrees with the hand-drawn one (IoU
    below EDGE_AGREEMENT): a person it misses is no teacher for the edges. All H×W float32 in [0, 1]."""
    if iou(rvm, mask > 0.5) < EDGE_AGREEMENT:
        return None
    band = (pseudo > 0.02) & (pseudo < 0.98)
    band = cv2.dilate(band.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    return np.where(band, rvm, pseudo).astype(np.float32)


def build_edges(shared: Path, out: Path, names: list[str], max_side: int = 400) -> dict:
    """RVM-refined alphas (``refine_edges``) for ``names``, at the size training reads them, into ``out``."""
    from .data import _read_rgb
    from ..datasets import person_paths

    rvm = PeerModel(shared / "models" / "peers" / "rvm_mobilenetv3.onnx", threads=1)
    arrays: dict[str, np.ndarray] = {}
    kept = []
    for name in names:
        image_path, mask_path, alpha_path = person_paths(shared, name)
        rgb = _read_rgb(image_path, max_side)
        size = rgb.shape[1::-1]
        mask = cv2.resize(cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE), size, interpolation=cv2.INTER_AREA)
        pseudo = cv2.resize(cv2.imread(str(alpha_path), cv2.IMREAD_GRAYSCALE), size, interpolation=cv2.INTER_AREA)
        rvm.reset()
        for _ in range(RVM_STEPS):
            alpha = rvm(rgb)
        refined = refine_edges(mask.astype(np.float32) / 255, pseudo.astype(np.float32) / 255, alpha)
        if refined is not None:
            arrays[f"a{len(kept)}"] = (refined * 255 + 0.5).astype(np.uint8)
            kept.append(name)
    arrays["names"] = np.array(kept)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".part.npz")
    np.savez(tmp, **arrays)
    tmp.replace(out)
    return {"seen": len(names), "refined": len(kept)}
