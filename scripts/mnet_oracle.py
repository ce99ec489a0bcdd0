"""Which net the held-out IoU is lost in: the engine's own alpha against alphas built from its trimap alone.

    python scripts/mnet_oracle.py                       # shm at the offline defaults
    python scripts/mnet_oracle.py --model shm-lite --tnet-size 256 --mnet-size 256 --tnet-passes 1  # live's sizes

For each held-out photo the engine runs as usual, and its trimap (at the M-Net's size) is kept. Mean IoU against the
masks of:

- ``engine``: the engine's alpha (torch backend, bottom context off: within 0.001 of ``livematte eval``'s IoU);
- ``perfect M-Net``: the fusion Fs + Us·mask, as if the M-Net gave the true mask in the unknown region; the distance
  from ``engine`` is what a better M-Net could win with this T-Net;
- ``T-Net foreground``: Fs alone; ``T-Net not background``: 1 - Bs. The further below ``perfect M-Net``, the more
  of the person the T-Net leaves to the M-Net.

The alphas built from the trimap are brought to the photo's size bilinearly (the engine's own: guided filter). The
bottom context is off here (the mask has no rows for it), as are live's pixel budget and int8 T-Net. Needs
../shared; nothing is written.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from livematte import LivematteError, Matter
from livematte.cli.argtypes import number_in
from livematte.config import MNET_SIZE_RANGE, TNET_PASSES_RANGE, TNET_SIZE_RANGE
from livematte.evaluate import heldout_data
from livematte.metrics import iou
from livematte.models import list_models
from livematte.models.shm import BACKGROUND, FOREGROUND, channel_softmax, fuse_alpha


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--model", choices=list_models(), default="shm")
    ap.add_argument("--weights", default="default")
    ap.add_argument("--tnet-size", type=number_in(int, *TNET_SIZE_RANGE), default=None)
    ap.add_argument("--mnet-size", type=number_in(int, *MNET_SIZE_RANGE), default=None)
    ap.add_argument("--tnet-passes", type=number_in(int, *TNET_PASSES_RANGE), default=None)
    a = ap.parse_args()
    try:
        scores = oracle_scores(a)
    except LivematteError as exc:  # a missing ../shared or weights file, sizes the engine refuses
        ap.exit(exc.exit_code, f"{ap.prog}: error: {exc}\n")
    for name, values in scores.items():
        print(f"{name:22s} IoU {np.mean(values):.3f}")


def oracle_scores(a: argparse.Namespace) -> dict[str, list[float]]:
    """Each row's IoU per held-out photo, in the photos' order."""
    sizes = {k: v for k, v in (("tnet_size", a.tnet_size), ("mnet_size", a.mnet_size),
                               ("tnet_passes", a.tnet_passes)) if v is not None}
    # the torch backend: the trimap is read where the engine hands it to the M-Net
    matter = Matter(model=a.model, weights=a.weights, backend="torch", bottom_context=0.0, **sizes)
    seen = {}
    refine = matter.model.refine

    def keep_trimap(image, logits):
        seen["logits"], seen["shape"] = logits, image.shape[-2:]
        return refine(image, logits)

    matter.model.refine = keep_trimap
    scores: dict[str, list[float]] = {"engine": [], "perfect M-Net": [], "T-Net foreground": [],
                                      "T-Net not background": []}
    for rgb, mask in heldout_data(a.shared, composites=False).photos:
        matter.reset()
        scores["engine"].append(iou(matter(rgb), mask))
        h, w = seen["shape"]
        probs = channel_softmax(F.interpolate(seen["logits"], size=(h, w), mode="bilinear", align_corners=False))
        true = torch.from_numpy(cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA))
        built = {"perfect M-Net": fuse_alpha(probs, true[None, None]),
                 "T-Net foreground": probs[:, FOREGROUND:FOREGROUND + 1],
                 "T-Net not background": 1 - probs[:, BACKGROUND:BACKGROUND + 1]}
        for name, alpha in built.items():
            full = cv2.resize(alpha[0, 0].numpy(), (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
            scores[name].append(iou(full, mask))
    return scores


if __name__ == "__main__":
    main()
