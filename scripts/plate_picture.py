"""Build docs/plate.png, the README's clean-plate before/after: a held-out person, framed head to waist, behind a
generated desk and monitor (the training's prop generator) in a held-out office, the automatic matte next to the
clean-plate matte, both composited onto the same flat colour. A monitor in front of the person is the automatic
model's known mistake; the plate tells it apart because it was there before the person came.

The picture is a composite, so the plate is known: it is the office with its props passed through the evaluation's
camera perturbations (``perturb_plate``), as a real plate would differ from the frames. ``--seed`` draws both. The
sources allow redistribution: Clothing Co-Parsing (Apache-2.0) and line/abc-virtual-background-maker's office photo
(Apache-2.0 repository, an Unsplash photo). ``--plate-weights`` shows another plate model, ``--live`` the live engine.
"""
import argparse
import random
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PERSON = "people_ccp/0106"                  # the demo clip's photo, held out from training
BACKGROUND = "backgrounds/linevb_office_05.jpg"  # held out from training
SIDE, HEIGHT, BACKDROP = 480, 320, (40, 160, 90)


def main() -> int:
    from livematte import Matter, metrics
    from livematte.composite import cover_resize
    from livematte.config import EngineConfig
    from livematte.datasets import person_paths
    from livematte.evaluate import _read_grey
    from livematte.evaluate_plate import _composite
    from livematte.foreground import estimate_foreground
    from livematte.media import read_image
    from livematte.training.plates import perturb_plate
    from livematte.training.props import add_props

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--person", default=PERSON)
    p.add_argument("--background", default=BACKGROUND)
    p.add_argument("--seed", type=int, default=6, help="draws the desk props and the plate's perturbations")
    p.add_argument("--plate-weights", default="default")
    p.add_argument("--live", action="store_true", help="the live engine (shm-lite and its plate model)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "plate.png")
    a = p.parse_args()

    image_path, _, alpha_path = person_paths(SHARED, a.person)
    rgb = read_image(image_path)
    alpha = _read_grey(alpha_path) / np.float32(255)
    # webcam framing: head to waist, standing at a desk, a little off centre
    ys, xs = np.nonzero(alpha > 0.5)
    top, bottom = ys.min(), ys.min() + round(0.5 * (ys.max() - ys.min()))
    mid, side = (xs.min() + xs.max()) // 2, bottom - top  # twice as wide as tall, cut at the photo's sides
    crop = slice(top, bottom), slice(max(0, mid - side), mid + side)
    fg = estimate_foreground(rgb, alpha)[crop]
    alpha = alpha[crop]
    scale = 0.9 * SIDE / alpha.shape[0]
    fg = cv2.resize(fg, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(alpha, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = alpha.shape
    x0 = (SIDE - w) // 2 + SIDE // 8
    fg_full = np.zeros((SIDE, SIDE, 3), np.uint8)
    a_full = np.zeros((SIDE, SIDE), np.float32)
    ax0, ax1 = max(0, x0), min(SIDE, x0 + w)
    fg_full[SIDE - h:, ax0:ax1] = fg[:, ax0 - x0:ax1 - x0]
    a_full[SIDE - h:, ax0:ax1] = alpha[:, ax0 - x0:ax1 - x0]
    office = cover_resize(read_image(SHARED / "data" / a.background), (SIDE, SIDE))
    rng = random.Random(a.seed)
    a_full, bg = add_props(a_full, office, [office], rng)  # a monitor, a desk top: generated, licence-free
    frame = _composite(fg_full, a_full, bg)
    plate = perturb_plate(bg, rng)

    config = (EngineConfig.live() if a.live else EngineConfig.offline()).replace(smoothing="none",
                                                                               plate_weights=a.plate_weights)
    automatic = Matter(config)(frame)
    with_plate = Matter(config)
    with_plate.set_plate(plate)
    plated = with_plate(frame)

    backdrop = np.empty_like(frame)
    backdrop[:] = BACKDROP
    panels = [frame, plate] + [_composite(frame, m, backdrop) for m in (automatic, plated)]
    scale = HEIGHT / SIDE
    panels = [cv2.resize(x, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) for x in panels]
    for panel, label in zip(panels, ("frame", "plate (perturbed like a camera's)", "automatic", "clean plate")):
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        panel[:th + 12, :tw + 12] //= 3  # a dark box: the label reads on any panel
        cv2.putText(panel, label, (6, th + 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    sheet = np.concatenate([np.concatenate(panels[:2], 1), np.concatenate(panels[2:], 1)], 0)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(a.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    for name, m in (("automatic", automatic), ("clean plate", plated)):
        print(f"{name}: IoU {metrics.iou(m, a_full > 0.5):.3f}, SAD {metrics.sad(m, a_full):.2f}")
    print(f"wrote {a.out} ({a.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
