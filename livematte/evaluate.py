"""``livematte eval``: livematte and peer models measured in one run, on data training never saw.

- Composite metrics (SAD, MSE, gradient, connectivity): held-out people, with estimated foreground colours,
  composited onto held-out backgrounds, so the alpha is exact by construction (the DIM protocol).
- IoU: held-out real photos against their binary masks; close-up IoU: the standing people among them cropped to
  head and shoulders at 640×480, as a webcam frames a streamer (the body leaves the frame at the bottom).
- Flicker: mean |Δα| between consecutive frames where the picture is static, overall and on soft-edge pixels.
- Speed: median milliseconds per 640×480 frame, alpha out at full resolution.
"""
from __future__ import annotations

import json
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from . import metrics
from .composite import cover_resize
from .errors import InputError
from .foreground import estimate_foreground
from .media import VideoReader, read_image
from .resize import fit_within

EVAL_SEED = 7
COMPOSITE_SIDE = 512
CLOSE_UP_HEIGHT = 0.22  # the close-up view's height as a share of a standing person's: head and shoulders
CLOSE_UP_SIZE = (640, 480)
CLOSE_UP_MIN_HEIGHT = 50  # pixels of person: below that a close-up would be a few pixels enlarged
FLICKER_CLIPS = ("talking_head_woman_bluewall_30fps_audio.mp4", "boy_closeup_23.976fps.mp4")


@dataclass
class EvalData:
    composites: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (rgb, exact alpha)
    photos: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)      # (rgb, binary mask)
    close_ups: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)   # (rgb, binary mask)
    clips: list[Path] = field(default_factory=list)


def close_up(rgb: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A 4:3 head-and-shoulders crop of a standing person's photo, scaled to 640×480, with its mask; None when the
    person is not seen whole and standing (feet at the photo's edge, less than twice as tall as wide, or under
    CLOSE_UP_MIN_HEIGHT pixels) or the crop would leave the photo. The held-out photos are small, so the crop is
    enlarged (4-8×): a soft close-up, as from a low-resolution webcam."""
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    if y1 > mask.shape[0] - 3 or y1 - y0 < max(CLOSE_UP_MIN_HEIGHT, 2 * (x1 - x0)):
        return None
    view_h = round(CLOSE_UP_HEIGHT * (y1 - y0))
    view_w = round(view_h * CLOSE_UP_SIZE[0] / CLOSE_UP_SIZE[1])
    top = round(y0 - 0.12 * view_h)  # a little room above the head
    cx = np.nonzero(mask[y0:y0 + view_h // 2])[1].mean()  # centred on the head
    left = round(cx - view_w / 2)
    bottom, right = top + view_h, left + view_w
    if top < 0 or left < 0 or bottom > mask.shape[0] or right > mask.shape[1]:
        return None
    image = cv2.resize(rgb[top:bottom, left:right], CLOSE_UP_SIZE, interpolation=cv2.INTER_CUBIC)
    # the mask enlarged smoothly and thresholded: nearest-neighbour would give it steps of 4-8 pixels
    m = cv2.resize(mask[top:bottom, left:right].astype(np.uint8) * 255, CLOSE_UP_SIZE, interpolation=cv2.INTER_LINEAR)
    return image, m > 127


def _read_grey(path: Path) -> np.ndarray:
    """A mask or alpha file as grey uint8; an InputError naming it when it cannot be read."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise InputError(f"cannot read {path} (missing, or not an image)")
    return image


def build_data(people: Sequence[tuple[Path, Path, Path]], backgrounds: Sequence[Path], clips: Sequence[Path],
               limit: int | None = None, composites: bool = True) -> EvalData:
    """people: (image, mask, alpha) paths. Each person is composited onto one background chosen by a fixed seed
    (``composites=False``: the photos and masks only)."""
    rng = random.Random(EVAL_SEED)
    people = list(people)[:limit] if limit else list(people)
    data = EvalData(clips=list(clips))
    bgs = [read_image(b) for b in backgrounds] if composites else []
    for image_path, mask_path, alpha_path in people:
        rgb = read_image(image_path)
        mask = _read_grey(mask_path) > 127
        data.photos.append((rgb, mask))
        crop = close_up(rgb, mask)
        if crop is not None:
            data.close_ups.append(crop)
        if not composites:
            continue
        alpha = _read_grey(alpha_path).astype(np.float32) / 255.0
        rgb_s, alpha_s = fit_within(rgb, COMPOSITE_SIDE), fit_within(alpha, COMPOSITE_SIDE)
        fg = estimate_foreground(rgb_s, alpha_s).astype(np.float32)
        bg = bgs[rng.randrange(len(bgs))]
        h, w = alpha_s.shape
        bg = cover_resize(bg, (w, h)).astype(np.float32)
        a = alpha_s[..., None]
        comp = (fg * a + bg * (1 - a) + 0.5).clip(0, 255).astype(np.uint8)
        data.composites.append((comp, alpha_s))
    return data


def _mean_iou(model, photos: list[tuple[np.ndarray, np.ndarray]]) -> float:
    ious = []
    for rgb, mask in photos:
        model.reset()
        ious.append(metrics.iou(model(rgb), mask))
    return float(np.mean(ious))


def _timed(model, rgb):
    t = time.perf_counter()
    a = model(rgb)
    return a, time.perf_counter() - t


def evaluate_model(name: str, model: Callable[[np.ndarray], np.ndarray], data: EvalData,
                   max_clip_frames: int = 150, speed_frames: int = 30) -> dict:
    row: dict = {"model": name}
    if data.composites:
        scores = {"sad": [], "mse": [], "grad": [], "conn": []}
        for rgb, gt in data.composites:
            model.reset()
            pred = model(rgb)
            scores["sad"].append(metrics.sad(pred, gt))
            scores["mse"].append(metrics.mse(pred, gt))
            scores["grad"].append(metrics.gradient_error(pred, gt))
            scores["conn"].append(metrics.connectivity_error(pred, gt))
        row.update({k: float(np.mean(v)) for k, v in scores.items()})
    for key, photos in (("iou", data.photos), ("iou_close_up", data.close_ups)):
        if photos:
            row[key] = _mean_iou(model, photos)
    if data.clips:
        total = soft = n = n_soft = 0.0
        for clip in data.clips:
            model.reset()
            reader = VideoReader(clip)
            prev = None
            for i, frame in enumerate(reader):
                if i >= max_clip_frames:
                    break
                rgb = fit_within(frame.rgb, 640)
                alpha = model(rgb)
                if prev is not None:
                    t, s, c, cs = metrics.flicker(prev[1], alpha, metrics.static_pixels(prev[0], rgb))
                    total, soft, n, n_soft = total + t, soft + s, n + c, n_soft + cs
                prev = (rgb, alpha)
            reader.close()
        row["flicker"] = 1000 * total / max(n, 1)
        row["edge_flicker"] = 1000 * soft / max(n_soft, 1)
    frame = cv2.resize(data.photos[0][0], (640, 480)) if data.photos else \
        np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    model.reset()
    for _ in range(3):
        model(frame)
    row["ms_640x480"] = 1000 * statistics.median(_timed(model, frame)[1] for _ in range(speed_frames))
    return row


COLUMNS = [("model", "model", "{}"), ("iou", "IoU ↑", "{:.3f}"), ("iou_close_up", "IoU close-up ↑", "{:.3f}"),
           ("sad", "SAD ↓", "{:.2f}"),
           ("mse", "MSE ↓", "{:.4f}"), ("grad", "Grad ↓", "{:.2f}"), ("conn", "Conn ↓", "{:.2f}"),
           ("flicker", "flicker ‰ ↓", "{:.2f}"), ("edge_flicker", "edge flicker ‰ ↓", "{:.2f}"),
           ("ms_640x480", "ms @640×480 ↓", "{:.1f}")]


def markdown_table(rows: list[dict]) -> str:
    cols = [c for c in COLUMNS if any(c[0] in r for r in rows)]
    lines = ["| " + " | ".join(c[1] for c in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(c[2].format(r[c[0]]) if c[0] in r else "—" for c in cols) + " |")
    return "\n".join(lines)


def heldout_data(shared: Path, limit: int | None = None, composites: bool = True) -> EvalData:
    """The held-out split of ../shared (models/heldout_split.json)."""
    from .training.data import load_split

    split = load_split(shared)
    people = []
    for n in split["heldout"]["people"]:
        s, stem = n.split("/")
        d = shared / "data" / s
        people.append((d / "images" / f"{stem}.jpg", d / "masks" / f"{stem}.png", d / "alpha" / f"{stem}.png"))
    bgs = [shared / "data" / n for n in split["heldout"]["backgrounds"]]
    used = people[:limit] if limit else people  # what build_data will read
    needed = [*(f for person in used for f in (person if composites else person[:2])), *(bgs if composites else [])]
    missing = [p for p in needed if not p.is_file()]
    if missing:  # told before the long part, with what is missing
        raise InputError(f"{len(missing)} held-out files of models/heldout_split.json are missing under {shared} "
                         f"(the first: {missing[0]}): give --shared the complete data folder")
    clips = [shared / "data" / "video" / c for c in FLICKER_CLIPS if (shared / "data" / "video" / c).is_file()]
    return build_data(people, bgs, clips, limit, composites)


def run_eval(models: dict[str, Callable], data: EvalData, json_path: Path | None = None) -> list[dict]:
    rows = [evaluate_model(name, m, data) for name, m in models.items()]
    if json_path is not None:
        json_path.write_text(json.dumps({"rows": rows, "n_composites": len(data.composites),
                                         "n_photos": len(data.photos), "n_close_ups": len(data.close_ups),
                                         "clips": [c.name for c in data.clips]},
                                        indent=1) + "\n")
    return rows
