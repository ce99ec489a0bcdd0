"""The live path's two process stages, matte then composite, under the newest ``Settings`` snapshot."""
from __future__ import annotations

import functools
import time
from typing import Callable

import cv2
import numpy as np

from ..composite import Background, composite, parse_background, render_output
from ..edges import refine_alpha
from ..errors import InputError, LivematteError
from ..foreground import decontaminate
from ..interfaces import LiveEngine
from ..media import read_image
from ..plate import PLATE_CHANGED
from ..presets import Settings
from ..virtualcam import KEY_GREEN
from .frames import CapturedFrame, LiveFrame


def mirror_frame(rgb: np.ndarray) -> np.ndarray:
    """Left-right flip, like a selfie view."""
    return cv2.flip(rgb, 1)


@functools.lru_cache(maxsize=4)  # one per frame size, made once rather than every frame; callers only read it
def _key_frame(height: int, width: int, channels: int = 3) -> np.ndarray:
    frame = np.empty((height, width, channels), np.uint8)
    frame[:] = KEY_GREEN
    frame.flags.writeable = False
    return frame


def composite_live(rgb: np.ndarray, alpha: np.ndarray,
                   background: Background) -> tuple[np.ndarray, np.ndarray | None]:
    """The composite with decontaminated colours: (image for the virtual camera, foreground or None).

    A transparent background goes over KEY_GREEN, since a virtual camera carries no alpha; its foreground
    colours are returned too, for a preview on a checkerboard. Other backgrounds are the offline composite."""
    if background.transparent:
        fg = decontaminate(rgb, alpha)
        return composite(fg, alpha, _key_frame(*rgb.shape)), fg
    return render_output(rgb, alpha, background), None


def configure_engine(engine: LiveEngine, settings: Settings) -> None:
    """Bring the engine in line with the settings: smoothing, and quality (the engine acts only on a change)."""
    engine.set_smoothing(settings.smoothing, settings.smoothing_strength)
    engine.set_quality(settings.quality)


class FrameProcessor:
    """The two process stages, ``matte`` then ``composite``, each run by one pipeline thread: the engine is only
    used by the first, the background only by the second (neither is thread-safe). The newest ``Settings``
    snapshot is read once per frame."""

    def __init__(self, engine: LiveEngine, settings: Settings,
                 on_timings: Callable[[dict[str, float]], None] | None = None):
        self.engine = engine
        self.settings = settings           # replaced whole by update(); read once per frame
        self.on_timings = on_timings       # per frame: the engine's stage seconds and the composite's (bench)
        self._applied: Settings | None = None
        self._background: Background | None = None
        self._background_spec: str | None = None
        self.warning = ""
        self._plate: tuple[str, bool] = ("", False)  # the plate file the engine holds, and whether mirrored
        self.plate_note = ""                        # a plate that cannot be used, or stopped fitting
        self.last_input: tuple[np.ndarray, np.ndarray | None] | None = None  # (camera frame, its matte)
        self.need_alpha = False                     # matte even the original picture (a plate being captured)

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
            configure_engine(self.engine, settings)
            self._applied = settings
            if settings.plate and self.engine.plate_status == "off":  # dropped (a model without plate weights)
                self._plate = ("", False)  # or never set: try again with these settings
        if (settings.plate, settings.mirror) != self._plate:
            self._set_plate(settings.plate, settings.mirror)
        rgb = mirror_frame(frame.rgb) if settings.mirror else frame.rgb
        if settings.background == "none" and not self.need_alpha:  # the original picture: nothing to matte
            self.last_input = (frame.rgb, None)
            return frame, rgb, None, settings
        try:
            raw = self.engine(rgb)
        except InputError as exc:  # a plate of another aspect than this camera's: automatic mode, and say so
            if not self._plate[0]:
                raise
            self.engine.set_plate(None)
            self.plate_note = f"plate: {exc}"
            raw = self.engine(rgb)
        self.last_input = (frame.rgb, mirror_frame(raw) if settings.mirror else raw)  # as the camera sees it
        if self._plate[0] and not self.plate_note.startswith("plate:"):
            status = self.engine.plate_status
            self.plate_note = {"changed": PLATE_CHANGED, "fits": ""}.get(
                status, "plate: not used by this model (no trained plate weights): automatic mode")
        if settings.background == "none":
            return frame, rgb, None, settings
        alpha = refine_alpha(raw, settings.shrink, settings.feather, settings.threshold)
        if self.on_timings is not None:
            self.on_timings(dict(self.engine.timings))
        return frame, rgb, alpha, settings

    def _set_plate(self, path: str, mirror: bool) -> None:
        """Hand the engine the plate file (flipped when the picture is; plates are kept as the camera sees);
        one that cannot be used leaves automatic mode, and says why on the status line."""
        self._plate, self.plate_note = (path, mirror), ""
        try:
            plate = read_image(path) if path else None
            self.engine.set_plate(mirror_frame(plate) if plate is not None and mirror else plate)
        except LivematteError as exc:
            self.engine.set_plate(None)
            self.plate_note = f"plate: {exc}"

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

    def close(self) -> None:
        if self._background is not None:
            self._background.close()
            self._background = None
            self._background_spec = None
