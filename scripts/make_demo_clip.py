"""Build livematte/assets/demo.mp4, the clip the README's first command runs on.

A slow camera move (full body → upper body) over one photo from the Clothing Co-Parsing set
(people_ccp/0106, Apache-2.0, held out from training), 2.5 s at 30000/1001 fps, with a generated
440 Hz tone as its audio track, so that the demo also shows exact frame rate and audio pass-through.
"""
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "people_ccp" / "images" / "0106.jpg"
OUT = ROOT / "livematte" / "assets" / "demo.mp4"
W, H, FRAMES, RATE = 360, 480, 75, Fraction(30000, 1001)


def main() -> None:
    photo = cv2.cvtColor(cv2.imread(str(SOURCE)), cv2.COLOR_BGR2RGB)
    ph, pw = photo.shape[:2]
    with av.open(str(OUT), "w") as c:
        v = c.add_stream("libx264", rate=RATE, options={"crf": "24", "preset": "slow"})
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        a = c.add_stream("aac", rate=44100)
        a.layout = "mono"
        for i in range(FRAMES):
            t = i / (FRAMES - 1)
            ease = 0.5 - 0.5 * np.cos(np.pi * t)
            crop_h = ph * (1.0 - 0.45 * ease)          # zoom in towards the upper body
            crop_w = crop_h * W / H
            x = (pw - crop_w) / 2
            y = (ph - crop_h) * 0.15 * ease
            m = np.array([[W / crop_w, 0, -x * W / crop_w], [0, H / crop_h, -y * H / crop_h]], np.float32)
            frame = cv2.warpAffine(photo, m, (W, H), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
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
