"""Output pacing: the newest frame in a one-frame slot, sent at a steady rate, repeated when nothing new came."""
from __future__ import annotations

import threading
import time
from typing import Callable

from .frames import LiveFrame

SEND_BURST = 2.0     # sends the output may make back to back: absorbs the jitter of arrivals


class SendBudget:
    """Pacing of the output: a token bucket that allows ``rate`` sends per second on average, and bursts of up
    to ``burst`` so that frames arriving with jitter still go out as they come. A new frame is sent when a
    token is there; a faster camera is thinned to ``rate``; a slower pipeline is padded with re-sends."""

    def __init__(self, rate: float, burst: float = SEND_BURST, now: float | None = None):
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self._t = time.perf_counter() if now is None else now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self._t) * self.rate)
        self._t = now

    def wait(self, now: float, need: float = 1.0) -> float:
        """Seconds until ``need`` tokens are there (0: now); a send takes one. Asking for more than one keeps the
        rest in reserve (the output asks for a full bucket before a repeat, so a new frame never waits on one)."""
        self._refill(now)
        return max(0.0, (min(need, self.burst) - self.tokens) / self.rate)

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0


class FrameSlot:
    """The newest processed frame; the output thread and the window only ever want the latest one."""

    def __init__(self):
        self._changed = threading.Condition()
        self._frame: LiveFrame | None = None
        self._seq = 0

    def put(self, frame: LiveFrame) -> None:
        with self._changed:
            self._frame, self._seq = frame, self._seq + 1
            self._changed.notify_all()

    def latest(self) -> tuple[int, LiveFrame | None]:
        """(sequence number, frame); the number grows by one per new frame."""
        with self._changed:
            return self._seq, self._frame

    def wait_newer(self, seq: int, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a frame newer than ``seq``; True if one came."""
        with self._changed:
            return self._changed.wait_for(lambda: self._seq != seq, timeout)


def paced_output(slot: FrameSlot, send: Callable[[LiveFrame], None], fps: float, stop: threading.Event,
                 finished: threading.Event, on_sent: Callable[[float, float | None, int], None]) -> None:
    """Send each new frame of ``slot`` as it arrives, within the ``SendBudget`` (on average ``fps`` sends a second),
    and the last frame again when nothing new came for a period, so the consumer never starves; until ``stop``, or
    ``finished`` (a finite source ended) once its last frame went out. Sending on arrival, instead of on a clock of
    its own, keeps latency low and loses no frame to two clocks that nearly agree. ``on_sent(time, capture time of
    a new frame or None for a repeat, frames skipped)`` after each send."""
    period = 1.0 / fps
    budget = SendBudget(fps)
    last_send = time.perf_counter()
    sent_seq = 0
    while not stop.is_set():
        seq, frame = slot.latest()
        now = time.perf_counter()
        if frame is None or seq == sent_seq:
            if finished.is_set():
                return
            resend_at = last_send + period
            if frame is None or now < resend_at:
                slot.wait_newer(seq, min(0.05, resend_at - now) if frame is not None else 0.05)
                continue
        is_new = seq != sent_seq
        # A repeat waits for a full bucket, so that it never takes the token of a new frame arriving just after it
        # (with one token each, a late frame's repeat delayed the next new frames and lost some of them).
        wait = budget.wait(now, 1.0 if is_new else budget.burst)
        if wait > 1e-4:  # (a float remainder of a refill is no reason to wait)
            if not is_new:
                slot.wait_newer(seq, wait)  # a new frame ends the wait and goes first
                continue
            if stop.wait(wait):
                return
            seq, frame = slot.latest()  # the newest at the moment of sending
        send(frame)
        last_send = time.perf_counter()
        budget.take(last_send)
        on_sent(last_send, frame.captured_at if is_new else None, max(0, seq - sent_seq - 1))
        sent_seq = seq
