"""Frame sources for the live path: an OpenCV camera (reopened when it stops delivering) and a video file looping
as a fake camera, both yielding ``CapturedFrame``s until told to stop."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Protocol

import cv2
import numpy as np

from ..composite import cover_resize
from ..errors import DeviceError, InputError
from ..media import VideoReader
from .frames import DEFAULT_FPS, DEFAULT_SIZE, CapturedFrame


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

    def release(self) -> None:  # a file has no light to switch off: nothing to release while nobody watches
        pass

    close = release


def open_source(camera: str, size: tuple[int, int] | None = None, fps: float | None = None):
    """``--camera``: an index (0, 1, ...) opens that camera; anything else is a video file to loop."""
    if camera.strip().isdigit():
        return Camera(int(camera), size or DEFAULT_SIZE, fps or DEFAULT_FPS)
    path = Path(camera).expanduser()
    if not path.exists():
        raise InputError(f"--camera {camera!r} is neither a camera index (0, 1, ...) nor an existing video file")
    return FileCamera(path, size, fps)
