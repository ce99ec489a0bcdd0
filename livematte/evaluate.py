"""``livematte eval``: livematte and peer models measured in one run, on data training never saw.

- Composite metrics (SAD, MSE, gradient, connectivity): held-out people, with estimated foreground colours,
  composited onto held-out backgrounds, so the alpha is exact by construction (the DIM protocol).
- IoU: held-out real photos against their binary masks; close-up IoU: the standing people among them cropped to
  head and shoulders at 640×480, as a webcam frames a streamer (the body leaves the frame at the bottom).
- Flicker: mean |Δα| between consecutive frames where the picture is static, overall and on soft-edge pixels.
- Speed: median milliseconds per 640×480 frame, alpha out at full resolution.

Those are the first split's ("photos"). The later sources' held-out people form three more groups, each measured
apart (``livematte.datasets``): "portraits" (webcam-framed real photos with real alpha mattes: SAD etc. on the photo
itself, and IoU), "poses" (cut-outs in the poses models miss, on held-out backgrounds: exact alpha) and "scenes"
(groups, sitting, action: IoU against hand-drawn masks).
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
from .datasets import FLICKER_CLIPS, group_people, load_split, person_paths
from .errors import InputError
from .foreground import estimate_foreground
from .media import VideoReader, read_image
from .resize import fit_within

EVAL_SEED = 7
COMPOSITE_SIDE = 512
CLOSE_UP_HEIGHT = 0.22  # the close-up view's height as a share of a standing person's: head and shoulders
CLOSE_UP_SIZE = (640, 480)
CLOSE_UP_MIN_HEIGHT = 50  # pixels of person: below that a close-up would be a few pixels enlarged
POSE_HEIGHT = 0.75  # a pose cut-out's share of its composite's height


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
    if not speed_frames:
        return row
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
           ("ms_640x480", "ms @640×480 ↓", "{:.1f}"),
           ("plate_used", "clip frames on the plate", "{:.0%}")]


GROUP_KEYS = ("iou", "sad", "mse", "grad")  # the later groups' columns in the table


def markdown_table(rows: list[dict], groups: Sequence[str] = ()) -> str:
    """The first group's table; with ``groups``, the columns of those groups (prefixed figures) instead."""
    cols = [c for c in COLUMNS if any(c[0] in r for r in rows)] if not groups else [COLUMNS[0]] + [
        (f"{g}_{k}", f"{g} {title}", fmt) for g in groups for k, title, fmt in COLUMNS[1:]
        if any(f"{g}_{k}" in r for r in rows) and k in GROUP_KEYS]
    lines = ["| " + " | ".join(c[1] for c in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(c[2].format(r[c[0]]) if c[0] in r else "—" for c in cols) + " |")
    return "\n".join(lines)


def _check_files(needed: list[Path], shared: Path) -> None:
    missing = [p for p in needed if not p.is_file()]
    if missing:  # told before the long part, with what is missing
        raise InputError(f"{len(missing)} held-out files of models/heldout_split.json are missing under {shared} "
                         f"(the first: {missing[0]}): give --shared the complete data folder")


def heldout_data(shared: Path, limit: int | None = None, composites: bool = True) -> EvalData:
    """The first held-out split of ../shared ("photos": models/heldout_split.json), with the flicker clips."""
    split = load_split()
    people = [person_paths(shared, n) for n in group_people(split, "photos")]
    bgs = [shared / "data" / n for n in split["heldout"]["backgrounds"]]
    used = people[:limit] if limit else people  # what build_data will read
    _check_files([*(f for person in used for f in (person if composites else person[:2])),
                  *(bgs if composites else [])], shared)
    clips = [shared / "data" / "video" / c for c in FLICKER_CLIPS if (shared / "data" / "video" / c).is_file()]
    return build_data(people, bgs, clips, limit, composites)


def pose_composite(rgb: np.ndarray, alpha: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A cut-out (on flat grey) pasted at its own size onto ``bg``: its height POSE_HEIGHT of the picture's, feet a
    twelfth above the bottom, centred; (composite, exact alpha)."""
    ys, xs = np.nonzero(alpha > 0)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    h = round((y1 - y0) / POSE_HEIGHT)
    w = max(round(h * 3 / 4), x1 - x0 + 16)
    top, left = round(h * 11 / 12) - (y1 - y0), (w - (x1 - x0)) // 2
    a = np.zeros((h, w), np.float32)
    a[top:top + y1 - y0, left:left + x1 - x0] = alpha[y0:y1, x0:x1]
    fg = np.zeros((h, w, 3), np.float32)
    fg[top:top + y1 - y0, left:left + x1 - x0] = estimate_foreground(rgb, alpha)[y0:y1, x0:x1]
    back = cover_resize(bg, (w, h)).astype(np.float32)
    comp = (fg * a[..., None] + back * (1 - a[..., None]) + 0.5).clip(0, 255).astype(np.uint8)
    return comp, a


def group_data(shared: Path, group: str, limit: int | None = None) -> EvalData:
    """One held-out group of the later sources: "portraits" (the photo with its real alpha: composites and IoU),
    "poses" (cut-outs on held-out backgrounds chosen by a fixed seed: composites and IoU), "scenes" (IoU)."""
    split = load_split()
    people = [person_paths(shared, n) for n in group_people(split, group)][:limit]
    bgs = [shared / "data" / n for n in split["heldout"]["backgrounds"]] if group == "poses" else []
    _check_files([*(f for person in people for f in (person if group != "scenes" else person[:2])), *bgs], shared)
    rng = random.Random(EVAL_SEED)
    data = EvalData()
    for image_path, mask_path, alpha_path in people:
        rgb = read_image(image_path)
        if group == "scenes":
            data.photos.append((rgb, _read_grey(mask_path) > 127))
            continue
        alpha = _read_grey(alpha_path).astype(np.float32) / 255.0
        if group == "poses":
            rgb, alpha = pose_composite(rgb, alpha, read_image(bgs[rng.randrange(len(bgs))]))
        data.composites.append((rgb, alpha))
        data.photos.append((rgb, alpha > 0.5))
    return data


def heldout_groups(shared: Path, groups: Sequence[str], limit: int | None = None) -> dict[str, EvalData]:
    """The held-out groups asked for, by name (``livematte.datasets.HELDOUT_GROUPS``)."""
    return {g: heldout_data(shared, limit) if g == "photos" else group_data(shared, g, limit) for g in groups}


def evaluate_groups(name: str, model, groups: dict[str, EvalData]) -> dict:
    """One model's row over several groups: the first group's figures as they are (with flicker and speed), the
    others' quality figures prefixed with their group's name ("portraits_sad")."""
    row: dict = {"model": name}
    for i, (group, data) in enumerate(groups.items()):
        r = evaluate_model(name, model, data) if i == 0 else _quality(model, data)
        row.update({(k if i == 0 else f"{group}_{k}"): v for k, v in r.items() if k != "model"})
    return row


def _quality(model, data: EvalData) -> dict:
    """The per-picture figures of a group (no clips, no timing)."""
    return {k: v for k, v in evaluate_model("", model, EvalData(data.composites, data.photos, data.close_ups),
                                            speed_frames=0).items() if k not in ("model", "ms_640x480")}


def run_eval(models: dict[str, Callable], data: EvalData | dict[str, EvalData],
             json_path: Path | None = None) -> list[dict]:
    groups = data if isinstance(data, dict) else {"photos": data}
    rows = [evaluate_groups(name, m, groups) for name, m in models.items()]
    if json_path is not None:
        json_path.write_text(json.dumps({"rows": rows, "groups": {g: {"n_composites": len(d.composites),
                                                                      "n_photos": len(d.photos),
                                                                      "n_close_ups": len(d.close_ups),
                                                                      "clips": [c.name for c in d.clips]}
                                                                  for g, d in groups.items()}},
                                        indent=1) + "\n")
    return rows
