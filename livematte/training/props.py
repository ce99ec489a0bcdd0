"""Desk props in training composites: monitors, a desk's top and small objects, none of them a person.

#23's independent set shows a monitor and objects on a desk kept as person (the composite then carries a ghost of
the monitor). The training photos seldom show desks, so composites get props made from the backgrounds' own
textures: behind the person they are background like any other; in front of the person (the desk top over the
lap, a mug) they hide it, and the alpha loses what they hide. Pure functions of arrays: no I/O.
"""
from __future__ import annotations

import random

import cv2
import numpy as np


def _texture(bgs: list[np.ndarray], rng: random.Random, w: int, h: int) -> np.ndarray:
    """A w×h crop of a random background, resized: a prop's surface."""
    bg = bgs[rng.randrange(len(bgs))]
    bh, bw = bg.shape[:2]
    cw, ch = max(8, int(bw * rng.uniform(0.2, 0.6))), max(8, int(bh * rng.uniform(0.2, 0.6)))
    x, y = rng.randrange(max(1, bw - cw)), rng.randrange(max(1, bh - ch))
    return cv2.resize(bg[y:y + ch, x:x + cw], (w, h), interpolation=cv2.INTER_AREA)


def _monitor(bgs, rng, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A screen showing a bright picture inside a dark bezel, on a stand half the time: (rgb, mask)."""
    w = int(size * rng.uniform(0.25, 0.55))
    h = int(w * rng.uniform(0.55, 0.75))
    stand = int(h * rng.uniform(0.15, 0.3)) if rng.random() < 0.5 else 0
    rgb = np.zeros((h + stand, w, 3), np.uint8)
    mask = np.zeros((h + stand, w), np.uint8)
    shade = rng.randrange(10, 60)
    rgb[:h] = shade
    mask[:h] = 1
    b = max(2, int(w * rng.uniform(0.015, 0.05)))
    screen = _texture(bgs, rng, w - 2 * b, h - 2 * b).astype(np.float32) * rng.uniform(1.0, 1.5) + rng.uniform(0, 40)
    rgb[b:h - b, b:w - b] = screen.clip(0, 255).astype(np.uint8)
    if stand:
        neck = max(2, w // rng.randrange(6, 12))
        rgb[h:, (w - neck) // 2:(w + neck) // 2] = shade
        mask[h:, (w - neck) // 2:(w + neck) // 2] = 1
    return rgb, mask


DESK_COLOURS = ((150, 105, 65), (190, 150, 105), (95, 65, 45), (225, 225, 220), (60, 60, 62), (130, 130, 128))


def _desk(bgs, rng, w: int, h: int) -> np.ndarray:
    """A desk top: a wood, white, grey or black surface with a little grain, lit from the back."""
    grain = cv2.cvtColor(_texture(bgs, rng, w, h), cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    grain = cv2.GaussianBlur(grain, (0, 0), rng.uniform(0.5, 3))
    colour = np.array(DESK_COLOURS[rng.randrange(len(DESK_COLOURS))], np.float32) * rng.uniform(0.8, 1.2)
    light = np.linspace(rng.uniform(1.0, 1.25), rng.uniform(0.7, 1.0), h, dtype=np.float32)[:, None, None]
    return (colour * (0.85 + 0.3 * grain[..., None]) * light).clip(0, 255).astype(np.uint8)


def _object(bgs, rng, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A mug, bottle, lamp or box: an ellipse or a rectangle of some texture, shaded from one side."""
    w = max(4, int(size * rng.uniform(0.05, 0.15)))
    h = max(4, int(w * rng.uniform(0.8, 2.5)))
    mask = np.zeros((h, w), np.uint8)
    if rng.random() < 0.5:
        cv2.ellipse(mask, (w // 2, h // 2), (w // 2, h // 2), 0, 0, 360, 1, -1)
    else:
        mask[:] = 1
    shade = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(1.0, 1.3), w, dtype=np.float32)[None, :, None]
    rgb = (_texture(bgs, rng, w, h).astype(np.float32) * shade).clip(0, 255).astype(np.uint8)
    return rgb, mask


def _paste(canvas: np.ndarray, cover: np.ndarray | None, rgb: np.ndarray, mask: np.ndarray, x: int, y: int):
    """Paste ``rgb`` where ``mask`` is set, top-left at (x, y), clipped to the canvas; mark ``cover``."""
    H, W = canvas.shape[:2]
    h, w = mask.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0 - y:y1 - y, x0 - x:x1 - x].astype(bool)
    canvas[y0:y1, x0:x1][m] = rgb[y0 - y:y1 - y, x0 - x:x1 - x][m]
    if cover is not None:
        cover[y0:y1, x0:x1][m] = 1


def add_props(alpha: np.ndarray, bg: np.ndarray, bgs: list[np.ndarray], rng: random.Random
              ) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, background) of a composite with desk props added: a monitor behind the person or beside it, at
    times a desk top across the bottom and small objects on it, in front of the person. What is in front goes
    into the returned background and out of the alpha, so that composite = α·F + (1−α)·B still holds exactly
    (the props' masks are hard-edged)."""
    size = bg.shape[0]
    bg = bg.copy()
    front = np.zeros(alpha.shape, np.uint8)
    desk_top = int(size * rng.uniform(0.65, 0.92))
    for _ in range(rng.randint(1, 2)):
        rgb, mask = _monitor(bgs, rng, size)
        x = rng.randrange(-mask.shape[1] // 3, size - mask.shape[1] // 2)
        y = desk_top - mask.shape[0] + rng.randrange(0, max(1, mask.shape[0] // 4))
        _paste(bg, front if rng.random() < 0.25 else None, rgb, mask, x, y)
    if rng.random() < 0.6:  # the desk itself, in front of the lap
        _paste(bg, front, _desk(bgs, rng, size, size - desk_top), np.ones((size - desk_top, size), np.uint8), 0,
               desk_top)
    for _ in range(rng.randint(0, 3)):
        rgb, mask = _object(bgs, rng, size)
        _paste(bg, front, rgb, mask, rng.randrange(0, size), desk_top - mask.shape[0] + rng.randrange(0, 4))
    return alpha * (1 - front.astype(np.float32)), bg
