"""Generated test media: small clips with a moving figure, optional audio, exact or variable frame rates."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def frame_image(i: int, width: int, height: int) -> np.ndarray:
    """A textured background with a bright ellipse ("person") that moves with i; the frame index is
    also written into the top-left block so decoded frames can be identified."""
    yy, xx = np.mgrid[0:height, 0:width]
    bg = np.stack([(xx * 3 + i) % 256, (yy * 2) % 256, ((xx + yy) // 2) % 256], -1).astype(np.uint8) // 2
    cx = width * (0.3 + 0.4 * ((i % 20) / 20))
    inside = ((xx - cx) / (width * 0.15)) ** 2 + ((yy - height * 0.55) / (height * 0.35)) ** 2 < 1
    bg[inside] = (230, 190, 160)
    bg[:8, :8] = (i * 37) % 256  # identity block
    return bg


def frame_id(rgb: np.ndarray) -> int:
    return int(round(float(rgb[2:6, 2:6].mean())))


def make_clip(path: Path, frames: int = 12, width: int = 64, height: int = 48, rate: Fraction = Fraction(25),
              audio: bool = False, vfr: bool = False, codec: str = "libx264", rotation: int = 0) -> Path:
    """Write a clip; with ``vfr`` the frame durations alternate between 1 and 3 ticks of 1/(2·rate); odd sizes
    are stored as 4:4:4; ``rotation`` sets a display matrix (degrees counterclockwise), as phones do."""
    with av.open(str(path), "w") as c:
        v = c.add_stream(codec, rate=rate)
        v.width, v.height = width, height
        v.pix_fmt = "yuv444p" if width % 2 or height % 2 else "yuv420p"
        if rotation:
            v.set_display_rotation(rotation)
        if codec == "libx264":
            v.options = {"crf": "10", "preset": "ultrafast", "bf": "0"}
        tb = Fraction(1, rate.numerator * 2) / Fraction(1, rate.denominator) if vfr else 1 / rate
        if vfr:
            tb = Fraction(rate.denominator, rate.numerator * 2)
        v.codec_context.time_base = tb
        a = None
        if audio:
            a = c.add_stream("aac", rate=44100)
            a.layout = "mono"
        pts = 0
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(frame_image(i, width, height), format="rgb24")
            f.pts, f.time_base = pts, tb
            pts += (1 if i % 2 == 0 else 3) if vfr else 1
            for p in v.encode(f):
                c.mux(p)
        for p in v.encode(None):
            c.mux(p)
        if a is not None:
            seconds = float(pts * tb)
            n = int(seconds * 44100)
            t = np.arange(n) / 44100
            samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, n, 1024):
                chunk = samples[start:start + 1024][None]
                af = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                af.sample_rate, af.pts = 44100, start
                for p in a.encode(af):
                    c.mux(p)
            for p in a.encode(None):
                c.mux(p)
    return path


def read_all(path: Path):
    """(frames as RGB/RGBA arrays, pts list, stream time base, average rate, audio packet count)."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        tb, rate = v.time_base, v.average_rate
        has_alpha = "a" in (v.codec_context.pix_fmt or "") or v.codec_context.name == "vp9"
        if v.codec_context.name == "vp9":  # only libvpx decodes VP9's alpha side data
            ctx = av.codec.CodecContext.create("libvpx-vp9", "r")
            frames, pts = [], []
            for packet in c.demux(v):
                for f in ctx.decode(packet):
                    frames.append(f.to_ndarray(format="rgba"))
                    pts.append(packet.pts)
        else:
            frames, pts = [], []
            for f in c.decode(v):
                frames.append(f.to_ndarray(format="rgba" if has_alpha else "rgb24"))
                pts.append(f.pts)
    with av.open(str(path)) as c:
        audio = sum(1 for s in c.streams.audio for p in c.demux(s) if p.size)
    return frames, pts, tb, rate, audio
