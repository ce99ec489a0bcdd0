"""One live run: a source through the frame processor into a sink, with paced output and figures."""
from __future__ import annotations

import threading
import time
from typing import Callable, Iterator

from ..interfaces import LiveEngine
from ..pipeline import Pipeline
from ..presets import Settings
from ..virtualcam import NullSink
from .demand import RELEASED, WAITING_NOTE, WATCHED, Demand
from .frames import DEFAULT_FPS, CapturedFrame, LiveFrame
from .pacing import FrameSlot, paced_output
from .processor import FrameProcessor
from .stats import LiveStats, LiveStatus


class LiveSession:
    """One live run: ``source`` → process → ``sink`` (virtual camera, or a NullSink that only counts).

    ``start()``, then ``update(settings)`` at any time from any thread; ``latest()`` for a preview;
    ``status()`` for the numbers; ``stop()`` and ``join()``/``close()``. The first error in any thread stops
    everything and is re-raised by ``join()``/``run()``. The session closes the source; the sink belongs to
    the caller (the window keeps one virtual camera across camera switches)."""

    def __init__(self, source, engine: LiveEngine, settings: Settings, sink=None, fps: float | None = None,
                 queue_size: int = 1, stats_window: float = 2.0,
                 on_timings: Callable[[dict[str, float]], None] | None = None, demand: Demand | None = None):
        self.source = source
        self.demand = demand  # who watches the virtual camera; None: always watched
        self.processor = FrameProcessor(engine, settings, on_timings)
        self._sink = sink if sink is not None else NullSink()
        self._sink_lock = threading.Lock()
        self.fps = float(fps or getattr(source, "fps", None) or DEFAULT_FPS)
        self.slot = FrameSlot()
        self.stats = LiveStats(stats_window)
        self._capture = self._frames()
        self.pipeline = Pipeline(self._capture, [self.processor.matte, self.processor.composite], self.slot.put,
                                 maxsize=queue_size, drop_oldest=True, name="live")
        self.stop_event = self.pipeline.stop_event  # one flag stops all four threads
        self._output_error: BaseException | None = None
        self._output = threading.Thread(target=self._guard_output, name="live-output", daemon=True)
        self._closed = False

    def _frames(self) -> Iterator[CapturedFrame]:
        """The source's frames while someone watches the output. Nobody watching: no frame is read or matted (the
        output repeats the last one); nobody for the grace period: the camera is released too, and reopened by the
        source on the next read once an app opens the virtual camera again."""
        frames = self.source.frames(self.stop_event)
        released = False
        while not self.stop_event.is_set():
            state = self._demand_state()
            if state == WATCHED:
                released = False
                frame = next(frames, None)
                if frame is None:
                    return
                yield frame
                continue
            if state == RELEASED and not released:
                self.source.release()
                released = True
            self.stop_event.wait(0.1)

    def _demand_state(self) -> str:
        return self.demand.poll() if self.demand is not None else WATCHED

    # -- control --------------------------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.processor.settings

    def update(self, settings: Settings) -> None:
        self.processor.update(settings)

    def set_sink(self, sink, demand: Demand | None = None) -> None:
        """Swap the output (start or stop the virtual camera) without stopping the session; ``demand`` tells who
        watches the new one (None: work always)."""
        with self._sink_lock:
            self._sink = sink if sink is not None else NullSink()
            self.demand = demand

    def start(self) -> "LiveSession":
        self.pipeline.start()
        self._output.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    def alive(self) -> bool:
        return self.pipeline.alive() or self._output.is_alive()

    @property
    def error(self) -> BaseException | None:
        return self.pipeline.error or self._output_error

    def join(self, timeout: float | None = 5.0) -> bool:
        """Wait for every thread; re-raise the first error. False if a thread is still running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._output.ident is not None:
            self._output.join(timeout)
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            done = self.pipeline.join(remaining) and not self._output.is_alive()
        finally:
            if self._output_error is not None:
                raise self._output_error
        return done

    def close(self, timeout: float = 5.0) -> None:
        """Stop, wait up to ``timeout`` s for all the threads together, release the source and the background;
        errors are left to join()/run()."""
        if self._closed:
            return
        self.stop()
        deadline = time.monotonic() + timeout
        for t in [self._output, *self.pipeline.threads]:
            if t.ident is not None:  # started
                t.join(max(0.0, deadline - time.monotonic()))
        if not self.pipeline.alive():
            self._capture.close()  # the source's generator: runs its cleanup (closes a file being read)
            self.processor.close()
        # Only now, when the capture thread has stopped or the deadline has passed: a camera stuck in a read must
        # still be released, but one that stops in time is never closed under it.
        self.source.close()
        self._closed = True

    def run(self, frames: int | None = None, duration: float | None = None,
            on_status: Callable[[LiveStatus], None] | None = None, status_every: float = 2.0) -> LiveStatus:
        """Start, and return when ``frames`` new frames were sent, ``duration`` seconds passed, the source
        ended, or Ctrl-C (re-raised after a clean stop). Re-raises the first error of any thread."""
        started = time.monotonic()
        next_status = started + status_every
        self.start()
        try:
            while self.alive():
                time.sleep(0.02)
                now = time.monotonic()
                if frames is not None and self.stats.frames >= frames:
                    break
                if duration is not None and now - started >= duration:
                    break
                if on_status is not None and now >= next_status:
                    on_status(self.status())
                    next_status = now + status_every
        finally:
            self.close()
        self.join(0)
        return self.status()

    # -- reading --------------------------------------------------------------------------------------------
    def latest(self) -> tuple[int, LiveFrame | None]:
        return self.slot.latest()

    def status(self) -> LiveStatus:
        notes = (getattr(self.source, "status", ""), self.processor.warning, self.processor.plate_note)
        note = "; ".join(n for n in notes if n)
        if self._demand_state() != WATCHED:
            note = WAITING_NOTE
        return self.stats.snapshot(self.pipeline.dropped, note)

    # -- the output thread ----------------------------------------------------------------------------------
    def _guard_output(self) -> None:
        try:
            paced_output(self.slot, self._send, self.fps, self.stop_event, self.pipeline.finished,
                         self.stats.record_send)
        except BaseException as exc:  # noqa: BLE001 - stops the session, re-raised by join()
            self._output_error = exc
            self.stop_event.set()

    def _send(self, frame: LiveFrame) -> None:
        with self._sink_lock:
            self._sink.send(frame.image)
