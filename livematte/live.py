"""Live mode: camera → matte → composite → virtual camera, in real time.

Five threads, joined by bounded queues that drop their oldest item when full, so latency stays low on a
slow CPU (frames are skipped instead of queued):

- capture: the pipeline's source, reading the camera (or a video file looping as a fake camera);
- matte: the matte and edge controls under the current ``Settings`` snapshot (which travels with the frame);
- composite: foreground colours and the composite, in parallel with the next frame's matte;
- publish: the pipeline's sink, putting the newest result in a one-frame slot (``FrameSlot``);
- output: sends the slot's frame to the virtual camera at the target rate, and the last frame again when
  processing falls behind, so the consumer never starves. The window previews the same slot.

The first four are ``livematte.pipeline.Pipeline`` (drop-oldest), the same module the offline path uses;
the output thread is apart because it must wake on a clock, not on arrivals. Each frame carries its
capture time, so latency (output − capture) is measured per frame.
"""
from __future__ import annotations

import collections
import functools
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

import cv2
import numpy as np

from .composite import Background, composite, cover_resize, parse_background, render_output
from .edges import refine_alpha
from .errors import DeviceError, InputError, LivematteError, SettingsError
from .foreground import decontaminate
from .media import VideoReader
from .pipeline import Pipeline
from .presets import QUALITY_MODELS, QUALITY_SIZES, Settings
from .virtualcam import KEY_GREEN, NullSink

DEFAULT_SIZE = (1280, 720)
DEFAULT_FPS = 30.0
SEND_BURST = 2.0     # sends the output may make back to back: absorbs the jitter of arrivals


# -- frames -----------------------------------------------------------------------------------------------

@dataclass
class CapturedFrame:
    index: int
    rgb: np.ndarray       # H×W×3 uint8
    captured_at: float    # time.perf_counter() when the frame was read


@dataclass
class LiveFrame:
    index: int                              # the capture index (gaps = frames dropped on the way)
    image: np.ndarray                       # RGB H×W×3 uint8, as sent to the virtual camera
    captured_at: float
    alpha: np.ndarray | None = None         # kept for a transparent background, so that a preview can show
    foreground: np.ndarray | None = None    # the person on a checkerboard instead of on the key colour


def parse_size(spec: str) -> tuple[int, int]:
    """'1280x720' → (1280, 720)."""
    w, sep, h = spec.lower().replace("×", "x").partition("x")
    if not sep or not w.strip().isdigit() or not h.strip().isdigit():
        raise SettingsError(f"size must be WIDTHxHEIGHT, e.g. 1280x720, not {spec!r}")
    width, height = int(w), int(h)
    if not (16 <= width <= 7680 and 16 <= height <= 4320):
        raise SettingsError(f"size {width}x{height} is out of range (16x16 to 7680x4320)")
    return width, height


# -- per-frame stages (pure) ------------------------------------------------------------------------------

def mirror_frame(rgb: np.ndarray) -> np.ndarray:
    """Left-right flip, like a selfie view."""
    return cv2.flip(rgb, 1)


@functools.lru_cache(maxsize=4)  # one per frame size, made once rather than every frame; callers only read it
def _key_frame(height: int, width: int, channels: int = 3) -> np.ndarray:
    frame = np.empty((height, width, channels), np.uint8)
    frame[:] = KEY_GREEN
    frame.flags.writeable = False
    return frame


@functools.lru_cache(maxsize=4)  # the preview asks for the same size every frame; callers only read it
def checkerboard(height: int, width: int, cell: int = 16) -> np.ndarray:
    """The usual light/dark grey checkerboard that stands for transparency in image editors (read-only)."""
    yy, xx = np.indices((height, width))
    light = ((yy // cell + xx // cell) % 2 == 0)
    board = np.where(light, 204, 153).astype(np.uint8)
    board = np.repeat(board[..., None], 3, axis=2)
    board.flags.writeable = False
    return board


def composite_live(rgb: np.ndarray, alpha: np.ndarray,
                   background: Background) -> tuple[np.ndarray, np.ndarray | None]:
    """The composite with decontaminated colours: (image for the virtual camera, foreground or None).

    A transparent background goes over KEY_GREEN, since a virtual camera carries no alpha; its foreground
    colours are returned too, for a preview on a checkerboard. Other backgrounds are the offline composite."""
    if background.transparent:
        fg = decontaminate(rgb, alpha)
        return composite(fg, alpha, _key_frame(*rgb.shape)), fg
    return render_output(rgb, alpha, background), None


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


# -- sources ----------------------------------------------------------------------------------------------

class CaptureLike(Protocol):
    """What Camera needs from ``cv2.VideoCapture`` (tests pass a fake)."""

    def isOpened(self) -> bool: ...
    def read(self) -> tuple[bool, np.ndarray | None]: ...
    def set(self, prop: int, value: float) -> bool: ...
    def get(self, prop: int) -> float: ...
    def release(self) -> None: ...


def open_opencv_camera(index: int) -> CaptureLike:
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # our message replaces OpenCV's warnings
    except AttributeError:
        pass
    return cv2.VideoCapture(index)


class Camera:
    """An OpenCV camera: asks for ``size`` and ``fps``, then reports what it really gives.

    ``frames(stop)`` yields frames until ``stop`` is set. A camera that stops delivering (unplugged, taken by
    another app) is released and reopened with exponential backoff; meanwhile nothing is yielded, so the
    virtual camera keeps sending its last frame. ``status`` says what is going on, for the window."""

    def __init__(self, index: int, size: tuple[int, int] = DEFAULT_SIZE, fps: float = DEFAULT_FPS,
                 open_capture: Callable[[int], CaptureLike] = open_opencv_camera,
                 failures_before_reopen: int = 5, backoff: tuple[float, float] = (0.25, 4.0)):
        self.index, self.requested_size, self.requested_fps = index, size, fps
        self.name = f"camera {index}"
        self._open_capture = open_capture
        self.failures_before_reopen, self.backoff = failures_before_reopen, backoff
        self.reopens = 0
        self.status = ""
        self._cap = self._open()

    def _open(self) -> CaptureLike:
        cap = self._open_capture(self.index)
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise DeviceError(f"camera {self.index} could not be opened: there is no such camera, or another app "
                              "is using it (try another --camera index, or a video file as a fake camera)")
        w, h = self.requested_size
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, w)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, h)
        cap.set(cv2.CAP_PROP_FPS, self.requested_fps)
        # What the camera really gives may differ from what was asked (the nearest mode it supports).
        self.width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) or w
        self.height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) or h
        self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or self.requested_fps
        return cap

    def frames(self, stop: threading.Event) -> Iterator[CapturedFrame]:
        index = failures = 0
        while not stop.is_set():
            ok, bgr = self._cap.read() if self._cap is not None else (False, None)
            if ok and bgr is not None:
                failures = 0
                yield CapturedFrame(index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), time.perf_counter())
                index += 1
                continue
            failures += 1
            if failures >= self.failures_before_reopen:
                self._reopen(stop)
                failures = 0
            else:
                stop.wait(0.01)  # a read that fails at once must not spin

    def _reopen(self, stop: threading.Event) -> None:
        delay = self.backoff[0]
        while not stop.is_set():
            self.release()
            self.status = f"{self.name} stopped delivering frames; reopening in {delay:.1f} s"
            if stop.wait(delay):
                return
            try:
                self._cap = self._open()
            except DeviceError:
                delay = min(delay * 2, self.backoff[1])
                continue
            self.reopens += 1
            self.status = ""
            return

    def release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    close = release


class FileCamera:
    """A video file as a fake camera: looped, delivered at its own frame rate (or ``fps``), scaled to cover
    ``size`` when given, with capture times like a real camera's."""

    def __init__(self, path: str | Path, size: tuple[int, int] | None = None, fps: float | None = None,
                 loop: bool = True):
        self.path = Path(path)
        reader = VideoReader(self.path)  # InputError now, with a clear message, if it is not a video
        info = reader.info
        reader.close()
        self.name = self.path.name
        self.size = size
        self.width, self.height = size or (info.width, info.height)
        self.fps = float(fps or info.rate or DEFAULT_FPS)
        self.loop = loop
        self.status = ""

    def frames(self, stop: threading.Event) -> Iterator[CapturedFrame]:
        period, index = 1.0 / self.fps, 0
        due = time.perf_counter()
        while not stop.is_set():
            reader = VideoReader(self.path)
            try:
                for frame in reader:
                    wait = due - time.perf_counter()
                    if wait > 0 and stop.wait(wait):
                        return
                    due = max(due + period, time.perf_counter() - period)  # after a stall, no burst
                    rgb = frame.rgb if self.size is None else cover_resize(frame.rgb, self.size)
                    yield CapturedFrame(index, rgb, time.perf_counter())
                    index += 1
                    if stop.is_set():
                        return
            finally:
                reader.close()
            if not self.loop or index == 0:
                return

    def close(self) -> None:
        pass


def open_source(camera: str, size: tuple[int, int] | None = None, fps: float | None = None):
    """``--camera``: an index (0, 1, ...) opens that camera; anything else is a video file to loop."""
    if camera.strip().isdigit():
        return Camera(int(camera), size or DEFAULT_SIZE, fps or DEFAULT_FPS)
    path = Path(camera).expanduser()
    if not path.exists():
        raise InputError(f"--camera {camera!r} is neither a camera index (0, 1, ...) nor an existing video file")
    return FileCamera(path, size, fps)


# -- the process stage ------------------------------------------------------------------------------------

_QUALITY_OF = weakref.WeakKeyDictionary()  # matter -> the quality its working sizes were last set for


def configure_matter(matter, settings: Settings) -> None:
    """Bring the engine in line with the settings: smoothing and, when quality changed, working sizes.

    A matter is taken to be built for the quality of the first settings it sees, so one built with its
    own sizes (--tnet-size, the tests' tiny sizes) keeps them until the quality is changed."""
    smoother = getattr(matter, "smoother", None)
    if smoother is not None and (smoother.mode, smoother.strength) != (settings.smoothing,
                                                                       settings.smoothing_strength):
        smoother.mode, smoother.strength = settings.smoothing, settings.smoothing_strength
        smoother.reset()
    known = _QUALITY_OF.get(matter)
    _QUALITY_OF[matter] = settings.quality
    if known is not None and known != settings.quality and hasattr(matter, "tnet_size"):
        tnet, mnet = QUALITY_SIZES[settings.quality]
        matter.set_sizes(tnet, mnet)  # an int8 T-Net is calibrated again at the new size
        model = QUALITY_MODELS[settings.quality]
        if getattr(matter, "model_follows_quality", False) and matter.model_name != model:
            matter.use_model(model)
        matter.reset()


class FrameProcessor:
    """The two process stages, ``matte`` then ``composite``, each run by one pipeline thread: the matter is only
    used by the first, the background only by the second (neither is thread-safe). The newest ``Settings``
    snapshot is read once per frame."""

    def __init__(self, matter, settings: Settings, on_timings: Callable[[dict[str, float]], None] | None = None):
        self.matter = matter
        self.settings = settings           # replaced whole by update(); read once per frame
        self.on_timings = on_timings       # per frame: the engine's stage seconds and the composite's (bench)
        self._applied: Settings | None = None
        self._background: Background | None = None
        self._background_spec: str | None = None
        self.warning = ""

    def update(self, settings: Settings) -> None:
        self.settings = settings

    def _background_for(self, settings: Settings) -> Background:
        spec = settings.background_spec()
        if spec != self._background_spec:
            self.close()
            try:
                self._background = parse_background(spec)
                self.warning = ""
            except LivematteError as exc:  # e.g. the background file was deleted: show the camera instead
                self._background, self.warning = Background(), f"background: {exc}"
            self._background_spec = spec
        return self._background

    def matte(self, frame: CapturedFrame):
        """First stage: the matte, with the edge controls, under the settings of this moment (which travel
        with the frame, so the second stage composites with the same ones)."""
        settings = self.settings
        if settings is not self._applied:
            configure_matter(self.matter, settings)
            self._applied = settings
        rgb = mirror_frame(frame.rgb) if settings.mirror else frame.rgb
        if settings.background == "none":  # the original picture: nothing to matte
            return frame, rgb, None, settings
        alpha = refine_alpha(self.matter(rgb), settings.shrink, settings.feather, settings.threshold)
        if self.on_timings is not None:
            self.on_timings(dict(getattr(self.matter, "timings", {})))
        return frame, rgb, alpha, settings

    def composite(self, item) -> LiveFrame:
        """Second stage, in its own thread (the two run in parallel on two cores): background and composite."""
        frame, rgb, alpha, settings = item
        background = self._background_for(settings)
        if alpha is None or background.kind == "none":
            return LiveFrame(frame.index, rgb, frame.captured_at)
        started = time.perf_counter()
        image, fg = composite_live(rgb, alpha, background)
        if self.on_timings is not None:
            self.on_timings({"composite": time.perf_counter() - started})
        keep = background.transparent
        return LiveFrame(frame.index, image, frame.captured_at, alpha if keep else None, fg if keep else None)

    def __call__(self, frame: CapturedFrame) -> LiveFrame:
        """Both stages in one call (for a single thread)."""
        return self.composite(self.matte(frame))

    def close(self) -> None:
        if self._background is not None:
            self._background.close()
            self._background = None
            self._background_spec = None


# -- output -----------------------------------------------------------------------------------------------

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


class LiveSession:
    """One live run: ``source`` → process → ``sink`` (virtual camera, or a NullSink that only counts).

    ``start()``, then ``update(settings)`` at any time from any thread; ``latest()`` for a preview;
    ``status()`` for the numbers; ``stop()`` and ``join()``/``close()``. The first error in any thread stops
    everything and is re-raised by ``join()``/``run()``. The session closes the source; the sink belongs to
    the caller (the window keeps one virtual camera across camera switches)."""

    def __init__(self, source, matter, settings: Settings, sink=None, fps: float | None = None,
                 queue_size: int = 1, stats_window: float = 2.0,
                 on_timings: Callable[[dict[str, float]], None] | None = None):
        self.source = source
        self.processor = FrameProcessor(matter, settings, on_timings)
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
        yield from self.source.frames(self.stop_event)

    # -- control --------------------------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.processor.settings

    def update(self, settings: Settings) -> None:
        self.processor.update(settings)

    def set_sink(self, sink) -> None:
        """Swap the output (start or stop the virtual camera) without stopping the session."""
        with self._sink_lock:
            self._sink = sink if sink is not None else NullSink()

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
        note = getattr(self.source, "status", "") or self.processor.warning
        return self.stats.snapshot(self.pipeline.dropped, note)

    # -- the output thread ----------------------------------------------------------------------------------
    def _guard_output(self) -> None:
        try:
            self._paced_output()
        except BaseException as exc:  # noqa: BLE001 - stops the session, re-raised by join()
            self._output_error = exc
            self.stop_event.set()

    def _paced_output(self) -> None:
        """Send each new frame as it arrives, within the ``SendBudget`` (on average ``fps`` sends a second), and
        the last frame again when nothing new came for a period, so the consumer never starves. Sending on
        arrival, instead of on a clock of its own, keeps latency low and loses no frame to two clocks that
        nearly agree."""
        period = 1.0 / self.fps
        budget = SendBudget(self.fps)
        last_send = time.perf_counter()
        sent_seq = 0
        while not self.stop_event.is_set():
            seq, frame = self.slot.latest()
            now = time.perf_counter()
            if frame is None or seq == sent_seq:
                if self.pipeline.finished.is_set():
                    return  # a finite source ended and its last frame went out
                resend_at = last_send + period
                if frame is None or now < resend_at:
                    self.slot.wait_newer(seq, min(0.05, resend_at - now) if frame is not None else 0.05)
                    continue
            is_new = seq != sent_seq
            # A repeat waits for a full bucket, so that it never takes the token of a new frame arriving just
            # after it (with one token each, a late frame's repeat delayed the next new frames, and one of them
            # was overwritten before it could go out: 5-15 % of a 30 fps camera's frames lost at 720p).
            wait = budget.wait(now, 1.0 if is_new else budget.burst)
            if wait > 1e-4:  # (a float remainder of a refill is no reason to wait)
                if not is_new:
                    self.slot.wait_newer(seq, wait)  # a new frame ends the wait and goes first
                    continue
                if self.stop_event.wait(wait):
                    return
                seq, frame = self.slot.latest()  # the newest at the moment of sending
            with self._sink_lock:
                self._sink.send(frame.image)
            last_send = time.perf_counter()
            budget.take(last_send)
            self.stats.record_send(last_send, frame.captured_at if is_new else None,
                                   skipped=max(0, seq - sent_seq - 1))
            sent_seq = seq
