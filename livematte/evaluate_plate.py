"""``livematte eval --plate``: clean-plate mode against automatic mode and the peers, on data training never saw.

- Composites: the first held-out split's people ("photos"), with their estimated foreground colours, composited onto
  held-out backgrounds chosen by ``PLATE_SEED`` (alpha exact by construction), a third of them with the person's
  shadow cast on the background; each with its plate made by the training perturbations
  (``livematte.training.plates.perturb_plate``: exposure and white-balance drift, gamma, a shift of up to 3 px and
  half a degree, blur, noise, JPEG, at times a moved object), drawn from the same seeded generator. SAD, MSE,
  gradient and connectivity errors, and IoU at alpha 0.5.
- Flicker: a synthetic clip of ``CLIP_FRAMES`` frames at 640×480, a held-out person walking across a held-out
  background, Gaussian sensor noise of ``CLIP_NOISE`` levels on every frame; its plate perturbed the same way.
- Second splits (``EXTRA_GROUPS``), so that no choice is judged on one: the held-out pose cut-outs (as
  ``livematte eval`` composites them) and the real-alpha webcam portraits, each on held-out backgrounds with perturbed
  plates and shadows alike (seed ``PLATE_SEED + 1``).

Models without a plate (the automatic mode, the peers, RVM) see the same pictures.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from . import metrics
from .composite import cover_resize
from .datasets import group_people, load_split, person_paths
from .evaluate import COMPOSITE_SIDE, _check_files, _read_grey, pose_composite
from .foreground import estimate_foreground
from .media import read_image
from .resize import fit_within
from .training.plates import cast_shadow, perturb_plate

PLATE_SEED = 24
SHADOW_SHARE = 0.3
CLIP_FRAMES, CLIP_SIZE, CLIP_NOISE = 60, (640, 480), 3.0
EXTRA_GROUPS = ("poses", "portraits")


@dataclass
class PlateEvalData:
    composites: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)  # rgb, alpha, plate
    clip: list[np.ndarray] = field(default_factory=list)   # frames
    clip_plate: np.ndarray | None = None


def _composite(fg: np.ndarray, alpha: np.ndarray, bg: np.ndarray) -> np.ndarray:
    a = alpha[..., None]
    return (fg.astype(np.float32) * a + bg.astype(np.float32) * (1 - a) + 0.5).clip(0, 255).astype(np.uint8)


def walking_clip(fg: np.ndarray, alpha: np.ndarray, bg: np.ndarray, rng: np.random.Generator,
                 frames: int = CLIP_FRAMES, size: tuple[int, int] = CLIP_SIZE, noise: float = CLIP_NOISE):
    """A person (``fg``, ``alpha`` cut out) walking left to right across ``bg`` at ``size``, with sensor noise."""
    w, h = size
    back = cover_resize(bg, (w, h))
    ys, xs = np.nonzero(alpha > 0.05)
    crop = slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)
    scale = 0.85 * h / (crop[0].stop - crop[0].start)
    person_a = cv2.resize(alpha[crop], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    person_f = cv2.resize(fg[crop], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ph, pw = person_a.shape
    out = []
    for i in range(frames):
        x = round(-pw / 2 + w * i / max(1, frames - 1))
        a = np.zeros((h, w), np.float32)
        f = np.zeros((h, w, 3), np.uint8)
        x0, x1 = max(0, x), min(w, x + pw)
        if x1 > x0:
            a[h - ph:, x0:x1] = person_a[:, x0 - x:x1 - x]
            f[h - ph:, x0:x1] = person_f[:, x0 - x:x1 - x]
        frame = _composite(f, a, back).astype(np.float32) + rng.normal(0, noise, (h, w, 3))
        out.append(frame.clip(0, 255).astype(np.uint8))
    return out, back


def _held_out(shared: Path, group: str, limit: int | None) -> tuple[list[tuple[Path, Path]], list[np.ndarray]]:
    """A held-out group's people as (image, alpha) paths, and the held-out backgrounds, read; missing files are told
    before any is read."""
    split = load_split()
    people = [person_paths(shared, n) for n in group_people(split, group)][:limit]
    bg_paths = [shared / "data" / n for n in split["heldout"]["backgrounds"]]
    _check_files([*(f for image, _, alpha in people for f in (image, alpha)), *bg_paths], shared)
    return [(image, alpha) for image, _, alpha in people], [read_image(b) for b in bg_paths]


def plate_data(shared: Path, limit: int | None = None) -> PlateEvalData:
    people, bgs = _held_out(shared, "photos", limit)
    rng = random.Random(PLATE_SEED)
    data = PlateEvalData()
    for image_path, alpha_path in people:
        rgb = fit_within(read_image(image_path), COMPOSITE_SIDE)
        alpha = cv2.resize(_read_grey(alpha_path), rgb.shape[1::-1], interpolation=cv2.INTER_AREA)
        alpha = alpha.astype(np.float32) / 255
        fg = estimate_foreground(rgb, alpha)
        h, w = alpha.shape
        bg = cover_resize(bgs[rng.randrange(len(bgs))], (w, h))
        seen = cast_shadow(bg, alpha, rng) if rng.random() < SHADOW_SHARE else bg
        data.composites.append((_composite(fg, alpha, seen), alpha, perturb_plate(bg, rng)))
    if people:  # the flicker clip: the first held-out person over a background of their own
        image_path, alpha_path = people[0]
        rgb = read_image(image_path)
        alpha = _read_grey(alpha_path).astype(np.float32) / 255
        data.clip, back = walking_clip(estimate_foreground(rgb, alpha), alpha, bgs[rng.randrange(len(bgs))],
                                       np.random.default_rng(PLATE_SEED))
        data.clip_plate = perturb_plate(back, rng)
    return data


def group_plate_data(shared: Path, group: str, limit: int | None = None) -> PlateEvalData:
    """The composites of one of ``EXTRA_GROUPS``, with their perturbed plates (no clip)."""
    people, bgs = _held_out(shared, group, limit)
    rng = random.Random(PLATE_SEED + 1)
    data = PlateEvalData()
    for image_path, alpha_path in people:
        rgb, alpha = read_image(image_path), _read_grey(alpha_path).astype(np.float32) / 255
        bg = bgs[rng.randrange(len(bgs))]
        if group == "poses":  # composited as livematte eval does; its background is cover_resize's, so exact
            comp, alpha = pose_composite(rgb, alpha, bg)
            back = cover_resize(bg, alpha.shape[::-1])
        else:
            back = cover_resize(bg, alpha.shape[::-1])
            comp = _composite(estimate_foreground(rgb, alpha), alpha, back)
        side = max(alpha.shape)
        if side > COMPOSITE_SIDE:
            size = (round(alpha.shape[1] * COMPOSITE_SIDE / side), round(alpha.shape[0] * COMPOSITE_SIDE / side))
            comp, back = (cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (comp, back))
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        if rng.random() < SHADOW_SHARE:  # the shadow on the background only: comp = fg·α + back·(1 − α)
            shaded = cast_shadow(back, alpha, rng).astype(np.float32) - back
            comp = (comp + shaded * (1 - alpha[..., None]) + 0.5).clip(0, 255).astype(np.uint8)
        data.composites.append((comp, alpha, perturb_plate(back, rng)))
    return data


def evaluate_plate_model(name: str, model, data: PlateEvalData, plate: bool) -> dict:
    """One row. ``plate``: ``model`` is a livematte engine run with each picture's plate (``set_plate``)."""
    scores: dict[str, list[float]] = {"sad": [], "mse": [], "grad": [], "conn": [], "iou": []}
    for rgb, gt, clean in data.composites:
        model.reset()
        if plate:
            model.set_plate(clean)
        pred = model(rgb)
        scores["sad"].append(metrics.sad(pred, gt))
        scores["mse"].append(metrics.mse(pred, gt))
        scores["grad"].append(metrics.gradient_error(pred, gt))
        scores["conn"].append(metrics.connectivity_error(pred, gt))
        scores["iou"].append(metrics.iou(pred, gt > 0.5))
    row: dict = {"model": name, **{k: float(np.mean(v)) for k, v in scores.items() if v}}
    if data.clip:
        model.reset()
        if plate:
            model.set_plate(data.clip_plate)
        total = soft = n = n_soft = 0.0
        prev = None
        on_plate = 0  # frames the plate model ran: the mismatch check may fall back to the automatic one
        for rgb in data.clip:
            alpha = model(rgb)
            if plate and model.plate_status == "fits":
                on_plate += 1
            if prev is not None:
                t, s, c, cs = metrics.flicker(prev[1], alpha, metrics.static_pixels(prev[0], rgb))
                total, soft, n, n_soft = total + t, soft + s, n + c, n_soft + cs
            prev = (rgb, alpha)
        row["flicker"] = 1000 * total / max(n, 1)
        row["edge_flicker"] = 1000 * soft / max(n_soft, 1)
        if plate:
            row["plate_used"] = on_plate / len(data.clip)
    if plate:
        model.set_plate(None)
    return row
