"""The failure gallery: the same pictures for every candidate weights file, to look at with your own eyes.

    python scripts/gallery.py --weights models/weights/shm.pt --weights runs/candidate.pt \
        --peer ../shared/models/peers/mediapipe_selfie_256x256.onnx --out /tmp/gallery

One PNG per group, a row per picture: the picture, then each model's composite over a flat grey-green (halos and
ghosts show there), then the label when there is one. Groups: the held-out poses (raised arms, sitting, dancing),
scenes (groups, sitting, action), real-alpha portraits (close-ups), desks (those portraits and poses with synthetic
desk props: monitors, a desk top, small objects, seed 23; no real desk clip is in ../shared), and frames of every clip
in ../shared/data/video (windows, full body). A candidate's model is the one its weights file names. Needs
../shared; nothing is written to the repository.
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

import cv2
import numpy as np

from livematte import EngineConfig, Matter
from livematte.evaluate import group_data
from livematte.media import VideoReader, write_image
from livematte.models.registry import read_weights
from livematte.peers import PeerModel
from livematte.training.props import add_props

ROW_HEIGHT = 200
KEY = np.array([110, 160, 110], np.float32)  # a flat colour none of the backgrounds has: what is kept shows


def _tile(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (max(1, round(w * ROW_HEIGHT / h)), ROW_HEIGHT), interpolation=cv2.INTER_AREA)


def _over_key(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None]
    return (rgb * a + KEY * (1 - a)).astype(np.uint8)


def clip_frames(shared: Path, every_s: float = 2.0) -> list[np.ndarray]:
    frames = []
    for clip in sorted((shared / "data" / "video").glob("*.mp4")):
        reader = VideoReader(clip)
        step = max(1, round(float(reader.info.rate or 25) * every_s))
        frames += [f.rgb for f in reader if f.index % step == step // 2]
        reader.close()
    return frames


def desk_scenes(groups: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """The portraits' and poses' pictures with desk props in front of and behind the person (a fixed seed): what
    the props hide leaves the label."""
    rng = random.Random(23)
    textures = [rgb for rgb, _ in groups["poses"]]
    scenes = []
    for rgb, mask in groups["portraits"] + groups["poses"][::3]:
        size = min(rgb.shape[:2])
        rgb, mask = rgb[:size, :size], mask[:size, :size].astype(np.float32)
        alpha, scene = add_props(mask, rgb, textures, rng)
        # the props were drawn into the background: paste the person over it where the props did not hide it
        a = alpha[..., None]
        scenes.append(((rgb * a + scene * (1 - a)).astype(np.uint8), alpha > 0.5))
    return scenes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--weights", type=Path, action="append", default=[], help="a candidate shm weights file")
    ap.add_argument("--peer", type=Path, action="append", default=[])
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    models = {"shipped": Matter(EngineConfig.offline().replace(smoothing="none"))}
    models.update({w.stem: Matter(EngineConfig.offline().replace(smoothing="none", weights=w,
                                                                 model=read_weights(w)["model"]))
                   for w in a.weights})
    models.update({p.stem: PeerModel(p) for p in a.peer})
    groups = {g: [(rgb, mask) for rgb, mask in group_data(a.shared, g).photos] for g in ("poses", "scenes",
                                                                                      "portraits")}
    groups["desks"] = desk_scenes(groups)
    groups["clips"] = [(rgb, None) for rgb in clip_frames(a.shared)]
    a.out.mkdir(parents=True, exist_ok=True)
    print("columns: picture | " + " | ".join(models) + " | label")
    for group, pictures in groups.items():
        rows = []
        for rgb, mask in pictures:
            tiles = [_tile(rgb)]
            for model in models.values():
                model.reset()
                tiles.append(_tile(_over_key(rgb, model(rgb))))
            if mask is not None:
                tiles.append(_tile(_over_key(rgb, mask.astype(np.float32))))
            rows.append(np.hstack(tiles))
        width = max(r.shape[1] for r in rows)
        sheet = np.vstack([np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0))) for r in rows])
        write_image(a.out / f"{group}.png", sheet)
        print(f"{a.out / group}.png: {len(rows)} rows")


if __name__ == "__main__":
    main()
