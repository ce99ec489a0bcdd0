"""``livematte bench``: end-to-end speed of the real pipeline stages, optionally beside a peer model in the same run.

Live: the live path itself (``LiveSession``) with an H.264 clip (generated, or a file) as the camera at the target
fps, into a null sink paced at that rate. The figures are what a streamer sees: new frames delivered per second,
capture-to-output latency, and per-stage medians.
Offline: ``convert_video`` on a 1920×1080 H.264 clip, decode and encode included.
"""
from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np

from .engine import Matter
from .interfaces import LiveEngine, MatteEngine
from .live.frames import parse_size
from .media import VideoReader


def synthetic_background(width: int, height: int) -> np.ndarray:
    """The synthetic clip's background texture, 64 px wider than the frame (it slides)."""
    rng = np.random.default_rng(0)
    return cv2.resize(rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8),
                      (width + 64, height), interpolation=cv2.INTER_LINEAR)


def synthetic_clip(path: Path, width: int, height: int, frames: int, fps: int = 30, still: bool = False) -> Path:
    """A moving, textured figure over a moving, textured background (``still``: a fixed one, whose clean plate is
    ``synthetic_background(width, height)[:, :width]``), encoded with H.264."""
    texture = synthetic_background(width, height)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "23"})
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            shift = 0 if still else i % 64
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


def _median_ms(values) -> float:
    return 1000 * statistics.median(values) if values else float("nan")


def decode_ms(clip: Path) -> float:
    """Median time to decode one frame of ``clip`` to RGB (what capture costs the live path)."""
    reader = VideoReader(clip)
    frames = iter(reader)
    times = []
    while True:
        t0 = time.perf_counter()
        if next(frames, None) is None:
            break
        times.append(time.perf_counter() - t0)
    reader.close()
    return _median_ms(times)


@dataclass
class _Window:
    """The raw figures of one measured stretch of live running."""
    seconds: float
    frames: int
    dropped: int
    latencies: list[float]
    stage_times: dict[str, list[float]]


def _live_window(matter: LiveEngine, clip: Path, fps: float, seconds: float, warmup: float) -> _Window:
    """The live path itself (``LiveSession``): ``clip`` as a camera at ``fps`` → matte → blurred-background
    composite → a null sink paced at ``fps``, measured over ``seconds`` of steady running after ``warmup``
    seconds (first inferences, queues filling) that are not counted."""
    from .live.session import LiveSession
    from .live.sources import FileCamera
    from .presets import Settings
    from .virtualcam import NullSink

    stage_times: dict[str, list[float]] = {}
    counting = False

    def on_timings(timings: dict[str, float]) -> None:
        if counting:
            for name, value in timings.items():
                stage_times.setdefault(name, []).append(value)

    matter.reset()
    session = LiveSession(FileCamera(clip, fps=fps), matter, Settings(background="blur", smoothing="motion"),
                          sink=NullSink(), fps=fps, on_timings=on_timings)

    def wait(span: float) -> None:
        end = time.perf_counter() + span
        while session.alive() and time.perf_counter() < end:
            time.sleep(0.01)

    session.start()
    try:
        wait(warmup)
        counting = True
        frames0, dropped0 = session.stats.frames, session.status().dropped
        started = time.perf_counter()
        wait(seconds)
        elapsed = time.perf_counter() - started
        frames, dropped = session.stats.frames - frames0, session.status().dropped - dropped0
        lat = list(session.stats.recent_latencies)[-frames:] if frames else []  # this window's frames
    finally:
        session.close()
    session.join(0)  # re-raises an error of the session's threads
    return _Window(elapsed, frames, dropped, lat, stage_times)


def _summarise(windows: list[_Window], label: str, size: str, decode: float) -> LiveResult:
    keep = ("resize", "tnet", "mnet", "inference", "smooth", "upsample", "composite")
    stage_times = {k: [v for w in windows for v in w.stage_times.get(k, [])] for k in keep}
    stages = {"capture/decode": decode}
    stages.update({k: _median_ms(v) for k, v in stage_times.items() if v})
    lat = sorted(v for w in windows for v in w.latencies)
    frames, seconds = sum(w.frames for w in windows), sum(w.seconds for w in windows)
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan")
    return LiveResult(size, label, frames / seconds, _median_ms(lat), 1000 * p95, frames,
                      sum(w.dropped for w in windows), stages)


def bench_offline(matter: MatteEngine, clip: Path, label: str) -> dict:
    from .offline import convert_video

    timings: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        result = convert_video(clip, Path(tmp) / "out.mp4", background="blur", matter=matter, progress=False,
                               timings=timings)
    row = {"model": label, "fps": result.frames_written / result.seconds, "frames": result.frames_written,
           "stages_ms": {k: _median_ms(v) for k, v in timings.items()}}
    if isinstance(matter, Matter):  # livematte's engine: say how it ran
        c = matter.config
        row["engine"] = {"model": c.model, "tnet": c.tnet_size, "mnet": c.mnet_size, "tnet_passes": c.tnet_passes,
                         "pixel_budget": c.pixel_budget, "backend": matter.backend}
    return row


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_bench(models: dict[str, LiveEngine], sizes: list[str], fps: float = 30, seconds: float = 4.0,
              input_clip: Path | None = None, offline_frames: int = 60, log: Callable[[str], None] = print,
              offline_models: dict[str, MatteEngine] | None = None, rounds: int = 3,
              plated: frozenset[str] = frozenset()) -> dict:
    """Per size, the models take turns ``rounds`` times, ``seconds / rounds`` each, and each model's figures are
    pooled over its turns: a shared machine's speed drifts over seconds (by a third on this project's VM), and
    taking turns lets the drift weigh on every model alike, which one stretch per model did not.
    ``offline_models`` (default: ``models``) run the 1080p file conversion; the CLI gives it the engine as
    ``livematte video`` builds it, whose sizes are not the live ones. ``plated``: the labels of engines run in
    clean-plate mode; the generated clips then keep their background still (all models see the same ones), and
    those engines get it as their plate; they skip an ``input_clip``, whose empty background is unknown."""
    if rounds < 1:
        raise ValueError(f"rounds must be 1 or more, not {rounds}")
    results: dict = {"live": [], "offline": [], "cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        clips = []
        if input_clip is not None:
            info = VideoReader(input_clip).info
            clips.append((f"{info.width}x{info.height} (file)", input_clip))
        for size in sizes:
            w, h = parse_size(size)
            clips.append((size, synthetic_clip(Path(tmp) / f"{size}.mp4", w, h, int(fps * 2), int(fps),
                                               still=bool(plated))))
        for size, clip in clips:
            decode = decode_ms(clip)
            running = {k: m for k, m in models.items() if k not in plated or not size.endswith("(file)")}
            for label in plated & set(running):
                w, h = parse_size(size)
                running[label].reset()  # another picture size: the last one's aspect does not bind the plate
                running[label].set_plate(np.ascontiguousarray(synthetic_background(w, h)[:, :w]))
            windows: dict[str, list[_Window]] = {label: [] for label in running}
            for turn in range(rounds):
                for label, model in running.items():
                    log(f"live {size} {label} ({turn + 1}/{rounds}) ...")
                    windows[label].append(_live_window(model, clip, fps, seconds / rounds, warmup=1.0))
            results["live"] += [_summarise(w, label, size, decode).__dict__ for label, w in windows.items()]
        if offline_frames:
            clip = synthetic_clip(Path(tmp) / "offline_1080p.mp4", 1920, 1080, offline_frames)
            for label, model in (offline_models or models).items():
                log(f"offline 1920x1080 {label} ...")
                results["offline"].append(bench_offline(model, clip, label))
    results["peak_memory_mb"] = peak_memory_mb()
    results["plated"] = sorted(plated)
    return results


def ratios(results: dict, ours: str, peer: str) -> dict:
    """Per size, ours / the peer's: inference time; model time (each model's resize of the frame to its inputs,
    plus inference: the sum of the two stages' medians); end-to-end fps."""
    out = {}
    by = {(r["size"], r["model"]): r for r in results["live"]}
    for (size, model), r in by.items():
        p = by.get((size, peer))
        if model == ours and p:
            a, b = r["stages_ms"], p["stages_ms"]
            out[size] = {"inference_ratio": a["inference"] / b["inference"],
                         "model_ratio": (a.get("resize", 0) + a["inference"]) / (b.get("resize", 0) + b["inference"]),
                         "fps_ratio": r["fps"] / p["fps"] if p["fps"] else float("nan")}
    return out


def format_report(results: dict, ours: str, peer: str | None) -> str:
    lines = ["| size | model | fps | latency ms (p95) | dropped | decode | resize | T-Net | M-Net | upsample | "
             "smooth | composite |", "|" + "---|" * 12]
    for r in results["live"]:
        s = r["stages_ms"]
        g = lambda k: f"{s[k]:.1f}" if k in s else "—"  # noqa: E731
        mnet = g("mnet") if "mnet" in s else "—"
        tnet = g("tnet") if "tnet" in s else g("inference")
        latency = f"{r['latency_ms']:.0f} ({r['latency_p95_ms']:.0f})"
        lines.append(f"| {r['size']} | {r['model']} | {r['fps']:.1f} | {latency} | {r['dropped']} | "
                     f"{g('capture/decode')} | {g('resize')} | {tnet} | {mnet} | {g('upsample')} | {g('smooth')} | "
                     f"{g('composite')} |")
    for o in results["offline"]:
        stages = ", ".join(f"{k} {v:.1f}" for k, v in o["stages_ms"].items())
        e = o.get("engine")
        passes = f" ({e['tnet_passes']} passes)" if e and e["tnet_passes"] > 1 else ""
        sizes = f" at T-Net {e['tnet']}{passes}, M-Net {e['mnet']}" if e else ""
        lines.append(f"\noffline 1920x1080 H.264 → H.264 ({o['frames']} frames), {o['model']}{sizes}: "
                     f"{o['fps']:.1f} fps (stage medians, ms: {stages})")
    for label in results.get("plated", []):
        for size, r in ratios(results, label, ours).items():
            lines.append(f"\n{size}: clean-plate mode's inference {r['inference_ratio']:.2f}× automatic mode's, "
                         f"end-to-end fps {r['fps_ratio']:.2f}×")
    if peer:
        for size, r in ratios(results, ours, peer).items():
            lines.append(f"\n{size}: inference {r['inference_ratio']:.2f}× the peer's time (with each model's resize "
                         f"of the frame: {r['model_ratio']:.2f}×), end-to-end fps {r['fps_ratio']:.2f}× the peer's")
    else:
        lines.append("\nno peer given (--peer PATH, e.g. ../shared/models/peers/mediapipe_selfie_256x256.onnx)")
    lines.append(f"\npeak memory {results['peak_memory_mb']:.0f} MB; {results['cpu_count']} CPUs")
    return "\n".join(lines)
