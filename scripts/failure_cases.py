"""Look at where the model fails: the held-out photos with the lowest IoU, as panels to open.

    python scripts/failure_cases.py --out /tmp/failures --worst 8 \
        --peer ../shared/models/peers/mediapipe_selfie_256x256.onnx

Each panel is photo | livematte alpha | peer alpha | mask, one row per photo, written as PNG; the script also
prints every photo's IoU for livematte and the peer, worst first. Needs ../shared; nothing is written to the repo.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from livematte import Matter
from livematte.composite import alpha_to_uint8
from livematte.evaluate import heldout_data
from livematte.media import write_image
from livematte.metrics import iou
from livematte.peers import PeerModel

ROW_HEIGHT = 240


def _tile(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (round(w * ROW_HEIGHT / h), ROW_HEIGHT), interpolation=cv2.INTER_AREA)


def _grey(alpha: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(alpha_to_uint8(alpha), cv2.COLOR_GRAY2RGB)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--peer", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--worst", type=int, default=8)
    a = ap.parse_args()
    data = heldout_data(a.shared, composites=False)
    ours, peer = Matter(), PeerModel(a.peer)
    scored = []
    for i, (rgb, mask) in enumerate(data.photos):
        alpha_ours, alpha_peer = ours(rgb), peer(rgb)
        scored.append((iou(alpha_ours, mask), iou(alpha_peer, mask), i, alpha_ours, alpha_peer))
    scored.sort(key=lambda s: s[0])
    a.out.mkdir(parents=True, exist_ok=True)
    for rank, (iou_ours, iou_peer, i, alpha_ours, alpha_peer) in enumerate(scored):
        print(f"photo {i:3d}: IoU livematte {iou_ours:.3f}, peer {iou_peer:.3f}")
        if rank < a.worst:
            rgb, mask = data.photos[i]
            row = np.hstack([_tile(rgb), _tile(_grey(alpha_ours)), _tile(_grey(alpha_peer)),
                             _tile(_grey(mask.astype(np.float32)))])
            write_image(a.out / f"worst{rank:02d}_photo{i:03d}.png", row)
    print(f"panels of the {a.worst} worst in {a.out}")


if __name__ == "__main__":
    main()
