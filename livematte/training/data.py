"""Training data: people with soft alpha from ../shared, composited onto backgrounds with augmentation.

Read by path, never copied into the repository. A held-out split of people and backgrounds, fixed by a
seed, is written to ``models/heldout_split.json`` and never used for training.
"""
from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..foreground import estimate_foreground
from ..resize import fit_within

SPLIT_SEED = 20261122
HELDOUT_FRACTION = 0.1
PEOPLE_SETS = ("people", "people_ccp")
BACKGROUND_SETS = ("backgrounds", "backgrounds_extra")
SPLIT_FILE = Path(__file__).resolve().parents[2] / "models" / "heldout_split.json"


def default_shared() -> Path:
    return Path(__file__).resolve().parents[3] / "shared"


def list_people(shared: Path) -> list[str]:
    """Names like 'people/vikram_001' that have an image, a mask and an alpha."""
    names = []
    for s in PEOPLE_SETS:
        for img in sorted((shared / "data" / s / "images").glob("*.jpg")):
            if (shared / "data" / s / "alpha" / (img.stem + ".png")).is_file():
                names.append(f"{s}/{img.stem}")
    return names


def list_backgrounds(shared: Path) -> list[str]:
    return [f"{s}/{p.name}" for s in BACKGROUND_SETS for p in sorted((shared / "data" / s).glob("*.jpg"))]


def make_split(shared: Path) -> dict:
    """Deterministic held-out split: 10 % of each people set and each background set."""
    rng = random.Random(SPLIT_SEED)
    held: dict[str, list[str]] = {"people": [], "backgrounds": []}
    for key, names in (("people", list_people(shared)), ("backgrounds", list_backgrounds(shared))):
        by_set: dict[str, list[str]] = {}
        for n in names:
            by_set.setdefault(n.split("/")[0], []).append(n)
        for group in by_set.values():
            k = max(1, round(len(group) * HELDOUT_FRACTION))
            held[key] += sorted(rng.sample(group, k))
    return {"seed": SPLIT_SEED, "fraction": HELDOUT_FRACTION, "heldout": held}


def load_split(shared: Path) -> dict:
    if SPLIT_FILE.is_file():
        return json.loads(SPLIT_FILE.read_text())
    split = make_split(shared)
    SPLIT_FILE.write_text(json.dumps(split, indent=1) + "\n")
    return split


def _read_rgb(path: Path, max_side: int) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(path)
    return fit_within(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), max_side)


@dataclass
class Person:
    name: str
    image: np.ndarray   # H×W×3 uint8 RGB, the photo
    fg: np.ndarray      # H×W×3 uint8 estimated foreground colours
    alpha: np.ndarray   # H×W uint8
    real_only: bool = False  # a teacher's label: used on its own photo, never pasted onto other backgrounds


def load_people(shared: Path, names: list[str], max_side: int = 400) -> list[Person]:
    people = []
    for n in names:
        s, stem = n.split("/")
        img = _read_rgb(shared / "data" / s / "images" / f"{stem}.jpg", max_side)
        a = cv2.imread(str(shared / "data" / s / "alpha" / f"{stem}.png"), cv2.IMREAD_GRAYSCALE)
        a = cv2.resize(a, img.shape[1::-1], interpolation=cv2.INTER_AREA)
        fg = estimate_foreground(img, a.astype(np.float32) / 255.0)
        people.append(Person(n, img, fg, a))
    return people


def load_backgrounds(shared: Path, names: list[str], max_side: int = 512) -> list[np.ndarray]:
    return [_read_rgb(shared / "data" / n, max_side) for n in names]


def load_cached(shared: Path, cache_dir: Path, train: bool = True):
    """People and backgrounds of the train (or held-out) split, preprocessed once into an .npz cache."""
    split = load_split(shared)
    held_p, held_b = set(split["heldout"]["people"]), set(split["heldout"]["backgrounds"])
    p_names = [n for n in list_people(shared) if (n in held_p) != train]
    b_names = [n for n in list_backgrounds(shared) if (n in held_b) != train]
    cache = cache_dir / f"{'train' if train else 'heldout'}.npz"
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        n = int(z["n_people"])
        people = [Person(str(z[f"name{i}"]), z[f"img{i}"], z[f"fg{i}"], z[f"a{i}"]) for i in range(n)]
        bgs = [z[f"bg{i}"] for i in range(int(z["n_bgs"]))]
        return people + (_teacher_people(cache_dir) if train else []), bgs
    people = load_people(shared, p_names)
    bgs = load_backgrounds(shared, b_names)
    cache_dir.mkdir(parents=True, exist_ok=True)
    arrays = {"n_people": np.array(len(people)), "n_bgs": np.array(len(bgs))}
    for i, p in enumerate(people):
        arrays.update({f"name{i}": np.array(p.name), f"img{i}": p.image, f"fg{i}": p.fg, f"a{i}": p.alpha})
    for i, b in enumerate(bgs):
        arrays[f"bg{i}"] = b
    np.savez(cache, **arrays)
    return people + (_teacher_people(cache_dir) if train else []), bgs


def _teacher_people(cache_dir: Path) -> list[Person]:
    """Photos and video frames labelled by the peer teachers (``python -m livematte.training.teacher``), if built."""
    from .teacher import load

    return load(cache_dir / "teacher.npz")


# ---------------------------------------------------------------------------------------------------------
# Sample generation


def trimap_from_alpha(alpha: np.ndarray, band: int) -> np.ndarray:
    """alpha float H×W -> class map (0 bg, 1 unknown, 2 fg): the unknown class covers the soft pixels and a
    band of ``band`` pixels on each side of the edge."""
    fg = (alpha > 0.99).astype(np.uint8)
    anyfg = (alpha > 0.01).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    sure_fg = cv2.erode(fg, k)
    maybe = cv2.dilate(anyfg, k)
    tri = np.ones_like(fg)
    tri[maybe == 0] = 0
    tri[sure_fg == 1] = 2
    return tri


def _affine_person(person: Person, size: int, rng: random.Random, close_up_prob: float = 0.0):
    """Place the person in a size×size frame: head and shoulders (webcam close-up), upper body, full body or the
    photo's own framing."""
    a = person.alpha
    ys, xs = np.nonzero(a > 127)
    h, w = a.shape
    if len(ys) == 0:
        x0, y0, x1, y1 = 0, 0, w, h
    else:
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    bw, bh = x1 - x0, y1 - y0
    full_body = y1 < h - 2  # a close-up's scale is judged from the whole body's height
    mode = rng.random()
    if full_body and mode < close_up_prob:  # webcam close-up: head and shoulders (or neck), the body cut at the bottom
        view_h = bh * rng.uniform(0.14, 0.28)  # of a full-body person; the head is about 1/8 of the height
        scale = size * rng.uniform(0.8, 1.0) / view_h
        head = a[y0:y0 + max(1, int(0.5 * view_h))] > 127  # centre on the head, not on the whole body
        cx = np.nonzero(head)[1].mean() + rng.uniform(-0.15, 0.15) * size / scale
        cy = y0 - rng.uniform(0.0, 0.2) * view_h + size / scale / 2
    elif mode < 0.4:  # upper body: the top 25-60 % of the person fills most of the frame width
        frac = rng.uniform(0.25, 0.6)
        view_h = bh * frac
        scale = size * rng.uniform(0.55, 1.1) / max(bw * 0.9, view_h)
        cx = (x0 + x1) / 2 + rng.uniform(-0.15, 0.15) * bw
        top = y0 - rng.uniform(0.0, 0.25) * view_h
        cy = top + size / scale / 2
    elif mode < 0.8:  # whole person, random size
        scale = size * rng.uniform(0.35, 1.0) / max(bw, bh)
        cx = (x0 + x1) / 2 + rng.uniform(-0.3, 0.3) * size / scale
        cy = (y0 + y1) / 2 + rng.uniform(-0.2, 0.2) * size / scale
    else:  # the original photo framing, random crop
        scale = size * rng.uniform(0.8, 1.4) / max(h, w)
        cx = w / 2 + rng.uniform(-0.2, 0.2) * w
        cy = h / 2 + rng.uniform(-0.2, 0.2) * h
    angle = rng.uniform(-12, 12) if rng.random() < 0.5 else 0.0
    m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    m[:, 2] += np.array([size / 2 - cx, size / 2 - cy])
    return m


def _warp(img, m, size, interp=cv2.INTER_LINEAR, border=cv2.BORDER_CONSTANT):
    return cv2.warpAffine(img, m, (size, size), flags=interp, borderMode=border)


def _random_background(bgs: list[np.ndarray], size: int, rng: random.Random) -> np.ndarray:
    bg = bgs[rng.randrange(len(bgs))]
    h, w = bg.shape[:2]
    scale = size / min(h, w) * rng.uniform(1.0, 1.8)
    crop = size / scale
    x = rng.uniform(0, max(0.0, w - crop))
    y = rng.uniform(0, max(0.0, h - crop))
    m = np.array([[scale, 0, -x * scale], [0, scale, -y * scale]], np.float32)
    out = _warp(bg, m, size, border=cv2.BORDER_REFLECT)
    return out[:, ::-1].copy() if rng.random() < 0.5 else out


def _jitter_colour(img: np.ndarray, rng: random.Random, strength: float = 1.0) -> np.ndarray:
    x = img.astype(np.float32) / 255.0
    gain = 1 + strength * rng.uniform(-0.3, 0.3)
    bias = strength * rng.uniform(-0.1, 0.1)
    tint = 1 + strength * np.array([rng.uniform(-0.08, 0.08) for _ in range(3)], np.float32)
    x = x * gain * tint + bias
    gray = x.mean(axis=2, keepdims=True)
    sat = 1 + strength * rng.uniform(-0.4, 0.3)
    x = gray + (x - gray) * sat
    x = np.clip(x, 0, 1) ** (1 + strength * rng.uniform(-0.3, 0.3))
    return (x * 255 + 0.5).astype(np.uint8)


def _degrade(img: np.ndarray, rng: random.Random) -> np.ndarray:
    """Camera-like degradations: lighting gradient, blur, noise, JPEG."""
    if rng.random() < 0.3:
        h, w = img.shape[:2]
        ang = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = (np.cos(ang) * xx / w + np.sin(ang) * yy / h)
        ramp = 1 + rng.uniform(0.1, 0.4) * (ramp - ramp.mean())
        img = np.clip(img * ramp[..., None], 0, 255).astype(np.uint8)
    if rng.random() < 0.25:
        k = rng.choice([3, 5])
        img = cv2.GaussianBlur(img, (k, k), 0)
    if rng.random() < 0.3:
        noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(2, 8), img.shape)
        img = np.clip(img + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(40, 90)])
        img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return img


@dataclass
class Sample:
    image: np.ndarray  # size×size×3 uint8
    alpha: np.ndarray  # size×size float32
    fg: np.ndarray     # size×size×3 uint8
    bg: np.ndarray     # size×size×3 uint8 (the photo itself where the sample is a real photo)


def make_sample(people: list[Person], bgs: list[np.ndarray], size: int, rng: random.Random,
                composite_prob: float = 0.7, negative_prob: float = 0.06, close_up_prob: float = 0.0) -> Sample:
    if rng.random() < negative_prob:  # a scene with nobody in it: facades, rooms, streets
        bg = _degrade(_jitter_colour(_random_background(bgs, size, rng), rng), rng)
        return Sample(bg, np.zeros((size, size), np.float32), bg, bg)
    person = people[rng.randrange(len(people))]
    m = _affine_person(person, size, rng, close_up_prob)
    flip = rng.random() < 0.5
    alpha = _warp(person.alpha, m, size).astype(np.float32) / 255.0
    if not person.real_only and rng.random() < composite_prob:
        fg = _jitter_colour(_warp(person.fg, m, size, border=cv2.BORDER_REPLICATE), rng, 0.5)
        bg = _jitter_colour(_random_background(bgs, size, rng), rng, 0.5)
        if rng.random() < 0.3:  # defocused background, as behind a webcam subject
            bg = cv2.GaussianBlur(bg, (0, 0), rng.uniform(1.5, 5))
        a = alpha[..., None]
        image = (fg * a + bg * (1 - a) + 0.5).astype(np.uint8)
    else:  # the real photo: real lighting and context; borders outside the photo reflect
        image = _warp(person.image, m, size, border=cv2.BORDER_REFLECT)
        alpha = _warp(person.alpha, m, size, border=cv2.BORDER_REFLECT).astype(np.float32) / 255.0
        fg = _warp(person.fg, m, size, border=cv2.BORDER_REFLECT)
        bg = image
    image = _degrade(_jitter_colour(image, rng, 0.7), rng)
    if flip:
        image, alpha, fg, bg = image[:, ::-1], alpha[:, ::-1], fg[:, ::-1], bg[:, ::-1]
    return Sample(np.ascontiguousarray(image), np.ascontiguousarray(alpha), np.ascontiguousarray(fg),
                  np.ascontiguousarray(bg))
