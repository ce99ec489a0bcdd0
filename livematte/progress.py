"""One progress display for a batch: files done of the total, the files being worked on with their frames, the
frame rate and an estimate of the time left. On a terminal one line is rewritten in place; elsewhere (a log) a
line is printed as each file ends."""
from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class BatchProgress:
    def __init__(self, names: list[str], enabled: bool = True, stream=None):
        self.names = names
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and getattr(self.stream, "isatty", lambda: False)()
        self.done = 0
        self.running: dict[int, int] = {}  # job -> frames written so far
        self.frames = 0
        self.started = time.monotonic()
        self._shown = 0.0

    def event(self, event) -> None:
        kind, *rest = event
        if kind == "start":
            self.running[rest[0]] = 0
        elif kind == "frame":
            i, n = rest[0], rest[1]
            self.frames += max(0, n - self.running.get(i, 0))
            self.running[i] = n
        elif kind == "done":
            outcome = rest[0]
            self.running.pop(outcome.index, None)
            self.done += 1
            if self.enabled and not self.tty:
                state = f"{outcome.frames} frames, {outcome.seconds:.1f} s" if outcome.ok else "failed"
                print(f"[{self.done}/{len(self.names)}] {self.names[outcome.index]}: {state}", file=self.stream)
        self.show(force=kind != "frame")

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        fps = self.frames / elapsed if elapsed > 0 else 0.0
        now = ", ".join(f"{self.names[i]} {n}" for i, n in sorted(self.running.items())[:3])
        left = ""
        if self.done:
            left = f", ETA {_clock(elapsed / self.done * (len(self.names) - self.done))}"
        return f"[{self.done}/{len(self.names)} files] {now or '-'} | {fps:.1f} fps{left}"

    def show(self, force: bool = False) -> None:
        if not self.tty or (not force and time.monotonic() - self._shown < 0.2):
            return
        self._shown = time.monotonic()
        print(f"\r{self.line()[:150]:<150}", end="", file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty:
            print(file=self.stream, flush=True)
