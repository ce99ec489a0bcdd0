"""Training data: people with soft alpha from ../shared, composited onto backgrounds with augmentation.

Read by path, never copied into the repository. The held-out splits (``livematte.datasets``) are never trained on.
People are drawn source by source (``sampler.SOURCE_WEIGHTS``), so that the 900 street-fashion photos of one set do not
decide what a person looks like.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..datasets import (SOURCE_BY_NAME, SOURCES, heldout_names, list_backgrounds, list_people, load_split,
                        person_paths)
from ..foreground import estimate_foreground
from ..resize import fit_within
from .camera import jpeg, sensor_noise
from .plates import cast_shadow, perturb_plate
from .props import add_props
from .sampler import PersonSampler  # noqa: F401 - training draws people through it


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
    composite_only: bool = False  # a cut-out on flat grey: only pasted onto backgrounds

    @property
    def source(self) -> str:
        return "teacher" if self.real_only else self.name.split("/")[0]


# Sources whose alpha is closed-form pseudo-alpha around a hand-drawn or machine mask: what ``--labels edges``
# replaces by RVM's edges where RVM agrees with the mask (training/teacher.py, refine_edges).
PSEUDO_ALPHA_SOURCES = ("people", "people_ccp", "people_coco128seg", "people_davis16", "people_cihp_pgn_samples")
LABELS = ("pseudo", "edges")


def load_people(shared: Path, names: list[str], max_side: int = 400,
                edges: dict[str, np.ndarray] | None = None) -> list[Person]:
    """People read from ../shared; ``edges``: alphas (at this size) that replace the files' for those names."""
    people = []
    for n in names:
        image_path, _, alpha_path = person_paths(shared, n)
        img = _read_rgb(image_path, max_side)
        if edges is not None and n in edges:
            a = edges[n]
        else:
            a = cv2.imread(str(alpha_path), cv2.IMREAD_GRAYSCALE)
            a = cv2.resize(a, img.shape[1::-1], interpolation=cv2.INTER_AREA)
        fg = estimate_foreground(img, a.astype(np.float32) / 255.0)
        source = SOURCE_BY_NAME.get(n.split("/")[0])
        people.append(Person(n, img, fg, a, composite_only=source is not None and source.use == "composite"))
    return people


def load_backgrounds(shared: Path, names: list[str], max_side: int = 512) -> list[np.ndarray]:
    return [_read_rgb(shared / "data" / n, max_side) for n in names]


def _cached_people(shared: Path, cache: Path, names: list[str],
                   edges: dict[str, np.ndarray] | None = None) -> list[Person]:
    """People of one source, preprocessed once (foreground colours) into an .npz cache; rebuilt when the names
    differ from the cache's."""
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        if [str(n) for n in z["names"]] == names:
            flags = z["composite_only"]
            return [Person(n, z[f"img{i}"], z[f"fg{i}"], z[f"a{i}"], composite_only=bool(flags[i]))
                    for i, n in enumerate(names)]
    people = load_people(shared, names, edges=edges)
    arrays = {"names": np.array(names), "composite_only": np.array([p.composite_only for p in people], bool)}
    for i, p in enumerate(people):
        arrays.update({f"img{i}": p.image, f"fg{i}": p.fg, f"a{i}": p.alpha})
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.stem + ".part.npz")
    np.savez(tmp, **arrays)
    tmp.replace(cache)
    return people


def _cached_backgrounds(shared: Path, cache: Path, names: list[str]) -> list[np.ndarray]:
    if cache.is_file():
        z = np.load(cache, allow_pickle=False)
        if [str(n) for n in z["names"]] == names:
            return [z[f"bg{i}"] for i in range(len(names))]
    bgs = load_backgrounds(shared, names)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.stem + ".part.npz")
    np.savez(tmp, names=np.array(names), **{f"bg{i}": b for i, b in enumerate(bgs)})
    tmp.replace(cache)
    return bgs


def load_cached(shared: Path, cache_dir: Path, train: bool = True, sources=None, labels: str = "pseudo"):
    """People and backgrounds of the training data (or of the first held-out split's people and backgrounds, for
    validation), each source cached on its own. ``sources``: the people sets to read (default: all). ``labels``
    "edges": the training people of pseudo-alpha sources take RVM's edges where ``livematte train edges`` made them
    (``cache_dir/edges.npz``)."""
    if labels not in LABELS:
        raise ValueError(f"labels must be one of {', '.join(LABELS)}, not {labels!r}")
    edges = _edges(cache_dir) if labels == "edges" and train else None
    split = load_split()
    held_people = heldout_names(split)
    held_bgs = set(split["heldout"]["backgrounds"])
    kind = "train" if train else "heldout"
    people: list[Person] = []
    for s in sources or [s.name for s in SOURCES]:
        names = [n for n in list_people(shared, [s]) if (n in held_people) != train]
        if not train:
            names = [n for n in names if n in split["heldout"]["people"]]
        if names:
            refined = edges if edges is not None and s in PSEUDO_ALPHA_SOURCES else None
            suffix = ".edges" if refined is not None else ""
            people += _cached_people(shared, cache_dir / f"{kind}_{s}{suffix}.npz", names, refined)
    bgs = _cached_backgrounds(shared, cache_dir / f"{kind}_backgrounds.npz",
                              [n for n in list_backgrounds(shared) if (n in held_bgs) != train])
    if train:
        people += _teacher_people(cache_dir)
    return people, bgs


def _edges(cache_dir: Path) -> dict[str, np.ndarray]:
    path = cache_dir / "edges.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: build it with `livematte train edges`")
    z = np.load(path, allow_pickle=False)
    return {str(n): z[f"a{i}"] for i, n in enumerate(z["names"])}


def _teacher_people(cache_dir: Path) -> list[Person]:
    """Photos and video frames labelled by the peer teachers (``livematte train teacher``), if built; marked
    real-only: their edges are not exact enough to paste elsewhere."""
    path = cache_dir / "teacher.npz"
    if not path.is_file():
        return []
    z = np.load(path, allow_pickle=False)
    return [Person(str(z[f"name{i}"]), z[f"img{i}"], z[f"fg{i}"], z[f"a{i}"], real_only=True)
            for i in range(int(z["n_people"]))]


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
    if person.composite_only:  # a small cut-out (108-276 px): whole, and enlarged at most twice
        scale = min(2.0, size * rng.uniform(0.3, 0.95) / max(bw, bh))
        cx = (x0 + x1) / 2 + rng.uniform(-0.3, 0.3) * size / scale
        cy = (y0 + y1) / 2 + rng.uniform(-0.2, 0.2) * size / scale
    elif full_body and mode < close_up_prob:  # webcam close-up: head and shoulders, the body cut at the bottom
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
        img = sensor_noise(img, rng, 2, 8)
    if rng.random() < 0.4:
        img = jpeg(img, rng, 40, 90)
    return img


@dataclass
class Sample:
    image: np.ndarray  # size×size×3 uint8
    alpha: np.ndarray  # size×size float32
    fg: np.ndarray     # size×size×3 uint8
    bg: np.ndarray     # size×size×3 uint8 (the photo itself where the sample is a real photo)
    plate: np.ndarray | None = None  # size×size×3 uint8: the background filmed empty (``plate=True``)


def _place(person: Person, size: int, rng: random.Random, close_up_prob: float):
    """(foreground colours, alpha) of ``person`` framed in a size×size picture, colours jittered."""
    m = _affine_person(person, size, rng, close_up_prob)
    alpha = _warp(person.alpha, m, size).astype(np.float32) / 255.0
    return _jitter_colour(_warp(person.fg, m, size, border=cv2.BORDER_REPLICATE), rng, 0.5), alpha


def make_sample(people, bgs: list[np.ndarray], size: int, rng: random.Random,
                composite_prob: float = 0.7, negative_prob: float = 0.06, close_up_prob: float = 0.0,
                second_person_prob: float = 0.0, plate: bool = False, props_prob: float = 0.0) -> Sample:
    """One training sample. ``people``: a list (drawn uniformly) or a ``PersonSampler``. A composite gets a second
    person in front of the first with ``second_person_prob`` (groups, people overlapping), and desk props with
    ``props_prob`` (``props.add_props``; empty scenes too). ``plate``: composites
    only (their background is known), each with its clean plate (``plates.perturb_plate``) and, at times, the
    person's shadow on the background, which the plate lacks."""
    draw = people if callable(people) else (lambda r: people[r.randrange(len(people))])
    if rng.random() < negative_prob:  # a scene with nobody in it: facades, rooms, streets
        bg = _jitter_colour(_random_background(bgs, size, rng), rng)
        if props_prob and rng.random() < props_prob:
            bg = add_props(np.zeros(bg.shape[:2], np.float32), bg, bgs, rng)[1]
        image = _degrade(bg, rng)
        return Sample(image, np.zeros((size, size), np.float32), image, image,
                      perturb_plate(bg, rng) if plate else None)
    person = draw(rng)
    for _ in range(20 if plate else 0):  # a real photo's background is unknown: no plate for it
        if not person.real_only:
            break
        person = draw(rng)
    flip = rng.random() < 0.5
    clean = None
    if person.composite_only or (not person.real_only and (plate or rng.random() < composite_prob)):
        fg, alpha = _place(person, size, rng, close_up_prob)
        if rng.random() < second_person_prob:
            other = draw(rng)
            if not other.real_only:
                fg2, a2 = _place(other, size, rng, 0.0)
                if rng.random() < 0.5:
                    fg2, a2 = fg2[:, ::-1], a2[:, ::-1]
                front = a2[..., None]
                both = alpha + a2 - alpha * a2  # the second person in front of the first
                fg = ((fg2 * front + fg * (alpha * (1 - a2))[..., None]) / np.maximum(both, 1e-6)[..., None]
                      + 0.5).clip(0, 255).astype(np.uint8)
                fg = np.where(both[..., None] > 0, fg, fg2)
                alpha = both.astype(np.float32)
        bg = _jitter_colour(_random_background(bgs, size, rng), rng, 0.5)
        if rng.random() < 0.3:  # defocused background, as behind a webcam subject
            bg = cv2.GaussianBlur(bg, (0, 0), rng.uniform(1.5, 5))
        if props_prob and rng.random() < props_prob:
            alpha, bg = add_props(alpha, bg, bgs, rng)
        if plate:
            clean = perturb_plate(bg, rng)
            if rng.random() < 0.3:
                bg = cast_shadow(bg, alpha, rng)
        a = alpha[..., None]
        image = (fg * a + bg * (1 - a) + 0.5).astype(np.uint8)
    else:  # the real photo: real lighting and context; borders outside the photo reflect
        m = _affine_person(person, size, rng, close_up_prob)
        image = _warp(person.image, m, size, border=cv2.BORDER_REFLECT)
        alpha = _warp(person.alpha, m, size, border=cv2.BORDER_REFLECT).astype(np.float32) / 255.0
        fg = _warp(person.fg, m, size, border=cv2.BORDER_REFLECT)
        bg = image
    image = _degrade(_jitter_colour(image, rng, 0.7), rng)
    if flip:
        image, alpha, fg, bg = image[:, ::-1], alpha[:, ::-1], fg[:, ::-1], bg[:, ::-1]
        clean = None if clean is None else clean[:, ::-1]
    return Sample(np.ascontiguousarray(image), np.ascontiguousarray(alpha), np.ascontiguousarray(fg),
                  np.ascontiguousarray(bg), None if clean is None else np.ascontiguousarray(clean))
