"""Build livematte/assets/demo.mp4, the clip the README's first command runs on, and the person masks of its first
and last frames (tests/data/demo_masks.png, the photo's hand-drawn mask through the same camera move), which a test
uses to check that the shipped weights cut the person out. ``--masks-only`` rewrites just the masks.

A slow camera move (full body → upper body) over one photo from the Clothing Co-Parsing set
(people_ccp/0106, Apache-2.0, held out from training), 2.5 s at 30000/1001 fps, with a generated
440 Hz tone as its audio track, so that the demo also shows exact frame rate and audio pass-through.
"""
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "people_ccp" / "images" / "0106.jpg"
MASK = ROOT.parent / "shared" / "data" / "people_ccp" / "masks" / "0106.png"
OUT = ROOT / "livematte" / "assets" / "demo.mp4"
MASKS_OUT = ROOT / "tests" / "data" / "demo_masks.png"
W, H, FRAMES, RATE = 360, 480, 75, Fraction(30000, 1001)


def camera(i: int, ph: int, pw: int) -> np.ndarray:
    """The affine map from the photo to frame ``i``: full body, easing in towards the upper body."""
    t = i / (FRAMES - 1)
    ease = 0.5 - 0.5 * np.cos(np.pi * t)
    crop_h = ph * (1.0 - 0.45 * ease)
    crop_w = crop_h * W / H
    x = (pw - crop_w) / 2
    y = (ph - crop_h) * 0.15 * ease
    return np.array([[W / crop_w, 0, -x * W / crop_w], [0, H / crop_h, -y * H / crop_h]], np.float32)


def write_masks() -> None:
    """First and last frame's person masks side by side, 0/255, a few KB."""
    mask = cv2.imread(str(MASK), cv2.IMREAD_GRAYSCALE)
    ph, pw = mask.shape
    frames = [cv2.warpAffine(mask, camera(i, ph, pw), (W, H), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
              for i in (0, FRAMES - 1)]
    MASKS_OUT.parent.mkdir(exist_ok=True)
    cv2.imwrite(str(MASKS_OUT), np.where(np.hstack(frames) > 127, 255, 0).astype(np.uint8))
    print(f"wrote {MASKS_OUT} ({MASKS_OUT.stat().st_size // 1024} KiB)")


def main() -> None:
    write_masks()
    if "--masks-only" in sys.argv:
        return
    photo = cv2.cvtColor(cv2.imread(str(SOURCE)), cv2.COLOR_BGR2RGB)
    ph, pw = photo.shape[:2]
    with av.open(str(OUT), "w") as c:
        v = c.add_stream("libx264", rate=RATE, options={"crf": "24", "preset": "slow"})
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        a = c.add_stream("aac", rate=44100)
        a.layout = "mono"
        for i in range(FRAMES):
            frame = cv2.warpAffine(photo, camera(i, ph, pw), (W, H), flags=cv2.INTER_AREA,
                                   borderMode=cv2.BORDER_REFLECT)
            for p in v.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                c.mux(p)
        for p in v.encode(None):
            c.mux(p)
        n = int(FRAMES / RATE * 44100)
        tone = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / 44100)).astype(np.float32)
        for start in range(0, n, 1024):
            f = av.AudioFrame.from_ndarray(tone[None, start:start + 1024], format="flt", layout="mono")
            f.sample_rate, f.pts = 44100, start
            for p in a.encode(f):
                c.mux(p)
        for p in a.encode(None):
            c.mux(p)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
