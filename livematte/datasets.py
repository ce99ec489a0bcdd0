"""The labelled data in ../shared and its held-out splits, as names; training and evaluation both read them here.

A name is ``SET/STEM``: ``../shared/data/SET/{images/STEM.jpg, masks/STEM.png, alpha/STEM.png}``. The splits are
fixed once and committed in ``models/heldout_split.json`` (shipped with the package): the first split (seed 20261122)
holds out 10 % of ``people``, ``people_ccp`` and the backgrounds; the second (seed 20261203) holds out a share of each
source added later, in three groups that are reported apart: real-alpha webcam portraits, pose composites (cut-outs
on held-out backgrounds) and scenes (groups, sitting, action). Nothing held out is ever trained on.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SPLIT_SEED = 20261122
HELDOUT_FRACTION = 0.1
NEW_SPLIT_SEED = 20261203
BACKGROUND_SETS = ("backgrounds", "backgrounds_extra")
# Clips held out for the flicker measure: never labelled by the teachers.
FLICKER_CLIPS = ("talking_head_woman_bluewall_30fps_audio.mp4", "boy_closeup_23.976fps.mp4")


@dataclass(frozen=True)
class Source:
    """One labelled set. ``use``: "both" (its photo and composites), "composite" (a cut-out on flat grey: only pasted
    onto backgrounds). ``group``: the held-out group its held-out names go to. ``held``: how many are held out;
    ``contiguous``: the last ones in name order (frames of one clip, where a random pick would sit between frames
    that are trained on)."""
    name: str
    use: str
    group: str
    held: int
    contiguous: bool = False


# The first two sets keep the first split (10 % each); the others were added later and are held out by the second.
OLD_SOURCES = ("people", "people_ccp")
SOURCES = (
    Source("people", "both", "photos", 0),
    Source("people_ccp", "both", "photos", 0),
    Source("people_aisegment_csneyd", "both", "portraits", 12),
    Source("people_cutouts_dg", "composite", "poses", 30),
    Source("people_coco128seg", "both", "scenes", 5),
    Source("people_davis16", "both", "scenes", 5, contiguous=True),
    Source("people_cihp_pgn_samples", "both", "scenes", 1),
)
SOURCE_BY_NAME = {s.name: s for s in SOURCES}
HELDOUT_GROUPS = ("photos", "portraits", "poses", "scenes")


def default_shared() -> Path:
    """``../shared`` beside the checkout (the source tree's layout)."""
    return Path(__file__).resolve().parents[2] / "shared"


def list_people(shared: Path, sets=None) -> list[str]:
    """Names like 'people/vikram_001' that have an image, a mask and an alpha."""
    names = []
    for s in sets or [s.name for s in SOURCES]:
        for img in sorted((shared / "data" / s / "images").glob("*.jpg")):
            if (shared / "data" / s / "alpha" / (img.stem + ".png")).is_file() and \
                    (shared / "data" / s / "masks" / (img.stem + ".png")).is_file():
                names.append(f"{s}/{img.stem}")
    return names


def list_backgrounds(shared: Path) -> list[str]:
    return [f"{s}/{p.name}" for s in BACKGROUND_SETS for p in sorted((shared / "data" / s).glob("*.jpg"))]


def make_first_split(shared: Path) -> dict[str, list[str]]:
    """The first split: 10 % of each of the old people sets and of each background set."""
    rng = random.Random(SPLIT_SEED)
    held: dict[str, list[str]] = {"people": [], "backgrounds": []}
    for key, names in (("people", list_people(shared, OLD_SOURCES)), ("backgrounds", list_backgrounds(shared))):
        by_set: dict[str, list[str]] = {}
        for n in names:
            by_set.setdefault(n.split("/")[0], []).append(n)
        for group in by_set.values():
            k = max(1, round(len(group) * HELDOUT_FRACTION))
            held[key] += sorted(rng.sample(group, k))
    return held


def make_new_split(shared: Path) -> dict[str, list[str]]:
    """The second split: ``Source.held`` names of each newer source, by group."""
    rng = random.Random(NEW_SPLIT_SEED)
    held: dict[str, list[str]] = {g: [] for g in HELDOUT_GROUPS if g != "photos"}
    for s in SOURCES:
        if s.name in OLD_SOURCES:
            continue
        names = list_people(shared, [s.name])
        pick = names[-s.held:] if s.contiguous else rng.sample(names, min(s.held, len(names)))
        held[s.group] += sorted(pick)
    return held


def split_text(split: dict) -> str:
    return json.dumps(split, indent=1) + "\n"


def load_split() -> dict:
    """The committed split, read from the installed package (``livematte.models``)."""
    return json.loads(resources.files("livematte.models").joinpath("heldout_split.json").read_text())


def heldout_names(split: dict) -> set[str]:
    """Every held-out person of every group: training must not see them."""
    h = split["heldout"]
    return set(h["people"]) | {n for g in HELDOUT_GROUPS[1:] for n in h.get(g, [])}


def group_people(split: dict, group: str) -> list[str]:
    """The held-out people of one group ("photos" is the first split's people)."""
    return list(split["heldout"]["people" if group == "photos" else group])


def person_paths(shared: Path, name: str) -> tuple[Path, Path, Path]:
    """(image, mask, alpha) of a name."""
    s, stem = name.split("/")
    d = shared / "data" / s
    return d / "images" / f"{stem}.jpg", d / "masks" / f"{stem}.png", d / "alpha" / f"{stem}.png"
