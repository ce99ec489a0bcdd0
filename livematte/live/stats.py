"""Live figures: rolling rates, latency and CPU, and the status line the terminal and the window show."""
from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LiveStatus:
    fps: float             # new frames out per second (camera frames that made it through)
    sent_fps: float        # frames sent per second, re-sends included (the virtual camera's rate)
    latency_ms: float      # mean capture → output time of the new frames
    latency_max_ms: float
    frames: int            # new frames sent in all
    resent: int            # sends that repeated the previous frame
    dropped: int           # frames skipped: by the drop-oldest queues, or overwritten before a send
    cpu_percent: float     # this process, 100 % = one core
    note: str = ""         # camera reopening, background problem


def format_status(s: LiveStatus) -> str:
    """One line for the terminal and the window."""
    line = (f"{s.sent_fps:.1f} fps out ({s.fps:.1f} new) | latency {s.latency_ms:.0f} ms, max "
            f"{s.latency_max_ms:.0f} | dropped {s.dropped} | CPU {s.cpu_percent:.0f} %")
    return f"{line} | {s.note}" if s.note else line


class LiveStats:
    """Rolling rates and latency over the last ``window`` seconds; thread-safe."""

    def __init__(self, window: float = 2.0):
        self.window = window
        self._lock = threading.Lock()
        self._sends: collections.deque = collections.deque()  # (time, latency or None for a re-send)
        self.recent_latencies: collections.deque = collections.deque(maxlen=4096)  # bounded: long runs stay flat
        self.frames = self.resent = self.skipped = 0
        self._cpu_mark = (time.perf_counter(), time.process_time())
        self._cpu = 0.0

    def record_send(self, now: float, captured_at: float | None, skipped: int = 0) -> None:
        """One send: of a new frame (its capture time) or a repeat (None); ``skipped`` new frames were
        overwritten in the slot before they could be sent."""
        with self._lock:
            self.skipped += skipped
            self._sends.append((now, None if captured_at is None else now - captured_at))
            if captured_at is None:
                self.resent += 1
            else:
                self.frames += 1
                self.recent_latencies.append(now - captured_at)
            while self._sends and self._sends[0][0] < now - self.window:
                self._sends.popleft()

    def snapshot(self, dropped: int = 0, note: str = "") -> LiveStatus:
        now = time.perf_counter()
        with self._lock:
            sends = [s for s in self._sends if s[0] >= now - self.window]
            frames, resent, dropped = self.frames, self.resent, dropped + self.skipped
            wall, cpu = now - self._cpu_mark[0], time.process_time() - self._cpu_mark[1]
            if wall >= 0.5:  # a rate over too short a span is noise
                self._cpu, self._cpu_mark = 100.0 * cpu / wall, (now, time.process_time())
        latencies = [lat for _, lat in sends if lat is not None]
        span = max(1e-6, min(self.window, now - sends[0][0])) if sends else 1.0
        return LiveStatus(fps=len(latencies) / span, sent_fps=len(sends) / span,
                          latency_ms=1000 * float(np.mean(latencies)) if latencies else 0.0,
                          latency_max_ms=1000 * max(latencies) if latencies else 0.0,
                          frames=frames, resent=resent, dropped=dropped, cpu_percent=self._cpu, note=note)
