"""Test doubles for the live path: a recording pyvirtualcam backend, a camera that stops delivering, engines
(``livematte.interfaces.LiveEngine``) with a known matte or behaviour. The live pipeline tests themselves use the
real tiny Matter."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import pyvirtualcam
from pyvirtualcam.camera import BACKENDS

from clips import frame_image


class RecordingBackend:
    """A pyvirtualcam backend (the interface of ``pyvirtualcam.camera.Backend``) that keeps every frame it
    is sent, with the time it arrived."""

    instances: list["RecordingBackend"] = []

    def __init__(self, *, width: int, height: int, fps: float, fourcc: int, device: str | None, **kw):
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self._device = device or "recording-cam"
        self.sent: list[tuple[float, np.ndarray]] = []
        self.closed = False
        self._lock = threading.Lock()
        RecordingBackend.instances.append(self)

    def send(self, frame: np.ndarray) -> None:
        assert frame.dtype == np.uint8 and frame.flags.c_contiguous and frame.ndim == 1  # as pyvirtualcam passes
        with self._lock:
            self.sent.append((time.perf_counter(), frame.reshape(self.height, self.width, 3).copy()))

    def close(self) -> None:
        self.closed = True

    def device(self) -> str:
        return self._device

    def native_fourcc(self):
        return None


class MissingDeviceBackend:
    """What pyvirtualcam's v4l2loopback backend does when no loopback device exists."""

    def __init__(self, **kw):
        raise RuntimeError("No v4l2 loopback device found at /dev/video[0-99]. Did you run 'modprobe v4l2loopback'?")


@pytest.fixture
def recording_vcam():
    """Registers the 'recording' and 'missing' backends for one test, then removes them again."""
    RecordingBackend.instances = []
    pyvirtualcam.register_backend("recording", RecordingBackend)
    pyvirtualcam.register_backend("missing", MissingDeviceBackend)
    yield RecordingBackend
    BACKENDS.pop("recording", None)
    BACKENDS.pop("missing", None)


class FakeCapture:
    """A ``cv2.VideoCapture`` stand-in: BGR frames of the test pattern, then (after ``frames``) failing
    reads forever, like a camera that was unplugged."""

    def __init__(self, opened: bool = True, frames: int | None = None, width: int = 64, height: int = 48,
                 first: int = 0):
        self.opened, self.remaining = opened, frames
        self.props: dict[int, float] = {}
        self.width, self.height, self.next_id = width, height, first
        self.released = False

    def isOpened(self) -> bool:
        return self.opened

    def read(self):
        if self.released or (self.remaining is not None and self.remaining <= 0):
            return False, None
        if self.remaining is not None:
            self.remaining -= 1
        rgb = frame_image(self.next_id, self.width, self.height)
        self.next_id += 1
        return True, np.ascontiguousarray(rgb[..., ::-1])

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        import cv2

        # This camera only has one mode: it reports 64×48 at 30 fps, whatever was asked.
        return {cv2.CAP_PROP_FRAME_WIDTH: self.width, cv2.CAP_PROP_FRAME_HEIGHT: self.height,
                cv2.CAP_PROP_FPS: 30.0}.get(prop, 0.0)

    def release(self) -> None:
        self.released = True


class FakeEngine:
    """The ``LiveEngine`` interface with nothing behind it: subclasses give ``__call__``."""

    trained = True
    model_name = "fake"

    def __init__(self):
        self.timings: dict[str, float] = {}
        self.settings: list[tuple] = []  # every smoothing and quality it was asked for

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def reset(self) -> None:
        pass

    def set_smoothing(self, mode: str, strength: float) -> None:
        self.settings.append(("smoothing", mode, strength))

    def set_quality(self, quality: str) -> None:
        self.settings.append(("quality", quality))

    plate_status = "off"

    def set_plate(self, rgb) -> None:
        self.plate_status = "off" if rgb is None else "fits"
        self.settings.append(("plate", None if rgb is None else rgb.shape))


class StubMatter(FakeEngine):
    """A matte with a known shape: 1 inside the central half of the frame, 0 outside."""

    trained = False
    model_name = "stub"

    def __init__(self):
        super().__init__()
        self.calls = 0

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        h, w = rgb.shape[:2]
        alpha = np.zeros((h, w), np.float32)
        alpha[h // 4:3 * h // 4, w // 4:3 * w // 4] = 1.0
        return alpha


class WrappedEngine(FakeEngine):
    """A real engine behind a test's behaviour (``before_call``): the engine's interface passed through."""

    def __init__(self, engine):
        super().__init__()
        self.engine, self.calls = engine, 0
        self.model_name, self.trained = engine.model_name, engine.trained

    def before_call(self) -> None:
        pass

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.before_call()
        alpha = self.engine(rgb)
        self.timings = self.engine.timings
        return alpha

    def reset(self) -> None:
        self.engine.reset()

    def set_smoothing(self, mode: str, strength: float) -> None:
        self.engine.set_smoothing(mode, strength)

    def set_quality(self, quality: str) -> None:
        self.engine.set_quality(quality)

    @property
    def plate_status(self) -> str:
        return self.engine.plate_status

    def set_plate(self, rgb) -> None:
        self.engine.set_plate(rgb)


class SlowMatter(WrappedEngine):
    """The real engine behind a fixed delay: a CPU that cannot keep up."""

    def __init__(self, matter, delay: float):
        super().__init__(matter)
        self.delay = delay

    def before_call(self) -> None:
        time.sleep(self.delay)
