"""``livematte bench``: end-to-end speed of the real pipeline stages, optionally beside a peer model in the same run.

Live: frames are decoded from an H.264 clip (generated, or a file) by a source paced at the target fps, as a camera
delivers them, then matted and composited in their own threads with drop-oldest queues, into a null sink. The
figures are what a streamer sees: delivered fps, capture-to-output latency, and per-stage medians.
Offline: ``convert_video`` on a 1920×1080 H.264 clip, decode and encode included.
"""
from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np

from .composite import BlurBackground, render_output
from .media import VideoReader
from .pipeline import Pipeline


def synthetic_clip(path: Path, width: int, height: int, frames: int, fps: int = 30) -> Path:
    """A moving, textured figure over a moving, textured background, encoded with H.264."""
    rng = np.random.default_rng(0)
    texture = cv2.resize(rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8),
                         (width + 64, height), interpolation=cv2.INTER_LINEAR)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "23"})
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            shift = i % 64
            img = np.ascontiguousarray(texture[:, shift:shift + width])
            cx = int(width * (0.4 + 0.2 * np.sin(i / 15)))
            cv2.ellipse(img, (cx, int(height * 0.6)), (width // 7, height // 3), 0, 0, 360, (210, 170, 140), -1)
            cv2.circle(img, (cx, int(height * 0.25)), height // 9, (200, 160, 130), -1)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


@dataclass
class LiveResult:
    size: str
    model: str
    fps: float
    latency_ms: float
    latency_p95_ms: float
    delivered: int
    dropped: int
    stages_ms: dict[str, float] = field(default_factory=dict)


def _median_ms(values: list[float]) -> float:
    return 1000 * statistics.median(values) if values else float("nan")


def bench_live(matter: Callable, clip: Path, fps: float, seconds: float, label: str, size: str) -> LiveResult:
    """Paced capture → matte → composite → null sink; returns delivered fps, latency and stage medians."""
    stage_times: dict[str, list[float]] = {}
    latencies: list[float] = []
    background = BlurBackground(12)

    def record(name: str, seconds_: float) -> None:
        stage_times.setdefault(name, []).append(seconds_)

    def capture():
        period, start = 1.0 / fps, time.perf_counter()
        n = 0
        while True:
            reader = VideoReader(clip)
            frames = iter(reader)
            while True:
                t0 = time.perf_counter()
                frame = next(frames, None)
                if frame is None:
                    break
                record("capture/decode", time.perf_counter() - t0)
                deadline = start + n * period
                if deadline > start + seconds:
                    reader.close()
                    return
                time.sleep(max(0.0, deadline - time.perf_counter()))
                n += 1
                yield time.perf_counter(), frame.rgb
            reader.close()

    def matte(item):
        t_capture, rgb = item
        alpha = matter(rgb)
        for name, value in getattr(matter, "timings", {}).items():
            record(name, value)
        return t_capture, rgb, alpha

    def compose(item):
        t_capture, rgb, alpha = item
        t0 = time.perf_counter()
        out = render_output(rgb, alpha, None, background, "composite")  # blurred background, decontaminated
        record("composite", time.perf_counter() - t0)
        return t_capture, out

    def sink(item):
        t_capture, out = item
        t0 = time.perf_counter()
        _ = out.sum(dtype=np.uint64) if out.size < 0 else None  # a null sink: the frame is ready, nothing to do
        record("sink", time.perf_counter() - t0)
        latencies.append(time.perf_counter() - t_capture)

    matter.reset()
    started = time.perf_counter()
    pipeline = Pipeline(capture(), [matte, compose], sink, maxsize=1, drop_oldest=True, name="bench")
    pipeline.run()
    elapsed = time.perf_counter() - started
    keep = ("capture/decode", "resize", "tnet", "mnet", "inference", "smooth", "upsample", "composite",
            "sink")
    stages = {k: _median_ms(stage_times[k]) for k in keep if k in stage_times}
    lat = sorted(latencies)
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan")
    return LiveResult(size, label, len(latencies) / elapsed, _median_ms(latencies), 1000 * p95, len(latencies),
                      pipeline.dropped, stages)


def bench_offline(matter, clip: Path, label: str) -> dict:
    from .offline import convert_video

    with tempfile.TemporaryDirectory() as tmp:
        result = convert_video(clip, Path(tmp) / "out.mp4", background="blur", matter=matter, progress=False)
    return {"model": label, "fps": result.frames_written / result.seconds, "frames": result.frames_written}


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_size(text: str) -> tuple[int, int]:
    from .errors import SettingsError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SettingsError(f"size must look like 1280x720, not {text!r}") from None
    if not (16 <= w <= 7680 and 16 <= h <= 4320):
        raise SettingsError(f"size {text} is out of range (16x16 .. 7680x4320)")
    return w, h


def run_bench(models: dict[str, Callable], sizes: list[str], fps: float = 30, seconds: float = 4.0,
              input_clip: Path | None = None, offline_frames: int = 60, log: Callable[[str], None] = print) -> dict:
    results: dict = {"live": [], "offline": [], "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        clips = []
        if input_clip is not None:
            info = VideoReader(input_clip).info
            clips.append((f"{info.width}x{info.height} (file)", input_clip))
        for size in sizes:
            w, h = parse_size(size)
            clips.append((size, synthetic_clip(Path(tmp) / f"{size}.mp4", w, h, int(fps * 2), int(fps))))
        for size, clip in clips:
            for label, model in models.items():
                log(f"live {size} {label} ...")
                results["live"].append(bench_live(model, clip, fps, seconds, label, size).__dict__)
        if offline_frames:
            clip = synthetic_clip(Path(tmp) / "offline_1080p.mp4", 1920, 1080, offline_frames)
            for label, model in models.items():
                log(f"offline 1920x1080 {label} ...")
                results["offline"].append(bench_offline(model, clip, label))
    results["peak_memory_mb"] = peak_memory_mb()
    return results


def ratios(results: dict, ours: str, peer: str) -> dict:
    """Per size: our inference time / the peer's, and our end-to-end fps / the peer's."""
    out = {}
    by = {(r["size"], r["model"]): r for r in results["live"]}
    for (size, model), r in by.items():
        p = by.get((size, peer))
        if model == ours and p:
            out[size] = {"inference_ratio": r["stages_ms"]["inference"] / p["stages_ms"]["inference"],
                         "fps_ratio": r["fps"] / p["fps"]}
    return out


def format_report(results: dict, ours: str, peer: str | None) -> str:
    lines = ["| size | model | fps | latency ms (p95) | dropped | decode | T-Net | M-Net | upsample | smooth | "
             "composite |", "|" + "---|" * 11]
    for r in results["live"]:
        s = r["stages_ms"]
        g = lambda k: f"{s[k]:.1f}" if k in s else "—"  # noqa: E731
        mnet = g("mnet") if "mnet" in s else "—"
        tnet = g("tnet") if "tnet" in s else g("inference")
        lines.append(f"| {r['size']} | {r['model']} | {r['fps']:.1f} | {r['latency_ms']:.0f} ({r['latency_p95_ms']:.0f}) "
                     f"| {r['dropped']} | {g('capture/decode')} | {tnet} | {mnet} | {g('upsample')} | {g('smooth')} | "
                     f"{g('composite')} |")
    for o in results["offline"]:
        lines.append(f"\noffline 1920x1080 H.264 → H.264 ({o['frames']} frames), {o['model']}: {o['fps']:.1f} fps")
    if peer:
        for size, r in ratios(results, ours, peer).items():
            lines.append(f"\n{size}: inference {r['inference_ratio']:.2f}× the peer's time, end-to-end fps "
                         f"{r['fps_ratio']:.2f}× the peer's")
    else:
        lines.append("\nno peer given (--peer PATH, e.g. ../shared/models/peers/mediapipe_selfie_256x256.onnx)")
    lines.append(f"\npeak memory {results['peak_memory_mb']:.0f} MB; {results['cpu_count']} CPUs")
    return "\n".join(lines)
