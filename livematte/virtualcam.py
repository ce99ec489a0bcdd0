"""The virtual camera: live frames out to video-call and streaming apps, through pyvirtualcam.

A virtual camera carries no alpha channel, so the live path sends a transparent background as the person
over pure green (``KEY_GREEN``), which OBS's Chroma Key filter removes with its default settings.
"""
from __future__ import annotations

import cv2
import numpy as np

from .errors import DeviceError, SettingsError

KEY_GREEN = (0, 255, 0)

SETUP_HELP = ("Linux: install v4l2loopback (Debian/Ubuntu: sudo apt install v4l2loopback-dkms) and load it with "
              "'sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=livematte' (exclusive_caps=1 lets "
              "browsers, Zoom and Teams list it); Windows and macOS: install OBS Studio (28 or newer), click Start "
              "Virtual Camera once and stop it again (on macOS allow OBS's camera extension in System Settings)")


def no_device_message(detail: str) -> str:
    """One line: what failed, then how to get a virtual camera on each platform."""
    detail = "; ".join(line.strip() for line in str(detail).splitlines() if line.strip())
    return f"no virtual camera device is available ({detail}). To get one: {SETUP_HELP}"


class VirtualCamera:
    """A pyvirtualcam camera of a fixed size; frames of another size are scaled to it."""

    def __init__(self, width: int, height: int, fps: float, backend: str | None = None,
                 device: str | None = None):
        import pyvirtualcam

        if backend is not None and backend not in pyvirtualcam.camera.BACKENDS:
            known = ", ".join(sorted(pyvirtualcam.camera.BACKENDS)) or "none on this system"
            raise SettingsError(f"unknown virtual camera backend {backend!r} (available: {known})")
        if not pyvirtualcam.camera.BACKENDS:
            raise DeviceError(no_device_message("pyvirtualcam has no backend for this system"))
        try:
            self.camera = pyvirtualcam.Camera(width, height, fps, fmt=pyvirtualcam.PixelFormat.RGB,
                                              backend=backend, device=device)
        except (RuntimeError, OSError, ValueError) as exc:
            raise DeviceError(no_device_message(str(exc))) from None
        self.width, self.height, self.fps = width, height, fps

    @property
    def device(self) -> str:
        return self.camera.device

    @property
    def frames_sent(self) -> int:
        return self.camera.frames_sent

    def send(self, rgb: np.ndarray) -> None:
        if rgb.shape[:2] != (self.height, self.width):  # the camera was reopened at another size
            rgb = cv2.resize(rgb, (self.width, self.height), interpolation=cv2.INTER_AREA)
        self.camera.send(np.ascontiguousarray(rgb))

    def close(self) -> None:
        self.camera.close()


class NullSink:
    """A sink that only counts: ``livematte live`` without ``--virtual-cam`` measures and shows the rate."""

    def __init__(self):
        self.frames_sent = 0

    def send(self, rgb: np.ndarray) -> None:
        self.frames_sent += 1

    def close(self) -> None:
        pass
