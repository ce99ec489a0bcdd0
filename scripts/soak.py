"""Soak test of the live pipeline: push many generated frames through ``LiveSession`` into a null sink and report
memory (RSS) at intervals and thread counts, to catch leaks and threads left behind.

    python scripts/soak.py --frames 100000            # tiny model, 320×240: a few minutes
    python scripts/soak.py --frames 20000 --model shm --size 1280x720

Growth is measured from the first sample after warm-up (10 % of the frames) to the end; the script exits 1 when
RSS grew by 5 % or more, or when a thread is left running after the session closed.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np

from livematte import Matter
from livematte.live.frames import CapturedFrame, parse_size
from livematte.live.session import LiveSession
from livematte.presets import Settings
from livematte.virtualcam import NullSink


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class GeneratedCamera:
    """A fake camera that delivers a few generated frames in a loop at ``fps`` (a rate the pipeline keeps up
    with, so that every frame is processed rather than dropped by the live queues)."""

    def __init__(self, width: int, height: int, count: int, fps: float):
        rng = np.random.default_rng(0)
        self.width, self.height, self.fps, self.status = width, height, fps, ""
        self._frames = []
        for i in range(8):
            img = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            img[height // 4:, width // 3 + i * 4: 2 * width // 3 + i * 4] = (200, 160, 140)  # a moving "person"
            self._frames.append(img)
        self.count = count

    def frames(self, stop: threading.Event):
        period, due = 1.0 / self.fps, time.perf_counter()
        for i in range(self.count):
            due += period
            if stop.wait(max(0.0, due - time.perf_counter())):
                return
            yield CapturedFrame(i, self._frames[i % len(self._frames)], time.perf_counter())

    def close(self) -> None:
        pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--model", default="shm-tiny")
    ap.add_argument("--fps", type=float, default=200.0, help="rate of the generated camera (default: 200)")
    ap.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    a = ap.parse_args(argv)
    w, h = parse_size(a.size)
    tiny = a.model == "shm-tiny"
    matter = Matter(model=a.model, weights=None if tiny else "default", tnet_size=64 if tiny else 256,
                    mnet_size=64 if tiny else 256, tnet_passes=1, threads=1, smoothing="motion")  # live's passes
    threads_before = threading.active_count()
    source = GeneratedCamera(w, h, a.frames, a.fps)
    session = LiveSession(source, matter, Settings(background="blur", feather=2), sink=NullSink(), fps=a.fps,
                          queue_size=2)
    samples: list[tuple[float, int, float, int]] = []  # (seconds, frames processed, RSS MB, threads)
    started = time.monotonic()
    session.start()
    next_sample = started
    while session.alive():
        now = time.monotonic()
        if now >= next_sample:
            samples.append((now - started, session.stats.frames, rss_mb(), threading.active_count()))
            print(f"{now - started:7.0f} s  {session.stats.frames:7d} frames  RSS {rss_mb():7.1f} MB  "
                  f"threads {threading.active_count()}", flush=True)
            next_sample = now + a.every
        time.sleep(0.2)
    session.close()
    session.join(5.0)
    elapsed = time.monotonic() - started
    samples.append((elapsed, session.stats.frames, rss_mb(), threading.active_count()))
    warm = next((s for s in samples if s[1] >= a.frames * 0.1), samples[0])
    growth = 100 * (samples[-1][2] - warm[2]) / warm[2]
    threads_after = threading.active_count()
    status = session.status()
    print(f"\n{a.frames} frames generated; {session.stats.frames} new frames sent in {elapsed:.0f} s "
          f"({session.stats.frames / elapsed:.0f} fps), {status.dropped} dropped by the live queues")
    print(f"RSS after warm-up ({warm[1]} frames): {warm[2]:.1f} MB; at the end: {samples[-1][2]:.1f} MB; "
          f"growth {growth:+.2f} %")
    print(f"threads: {threads_before} before the session, {max(s[3] for s in samples)} at most while running, "
          f"{threads_after} after it closed")
    ok = growth < 5.0 and threads_after <= threads_before
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
