"""The window's clean-plate box: "Capture background" (a countdown to step out, about a second of frames averaged
into the plate, refused when the automatic model still finds a person), "Clear background", the plate's
thumbnail, and "background changed: capture again" when the engine says the plate stopped fitting.

The frames come from the live session as the camera gives them (``FrameProcessor.last_input``), with the
automatic matte the pipeline computed for each: the plate is checked without touching the engine, which only the
pipeline's matte thread may use. A plate is a PNG under the config folder, named in the settings; saving a preset
copies it beside the preset's file (``PresetStore.save``).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

from livematte.errors import LivematteError
from livematte.media import read_image, write_image
from livematte.plate import PLATE_CHANGED, average_plate, refuse_person
from livematte.presets import config_dir

COUNTDOWN = 3          # seconds to step out of the frame
CAPTURE_SECONDS = 1.0  # of frames averaged into the plate
THUMB_WIDTH = 160


class PlateBox(QtWidgets.QGroupBox):
    """``window``: the LiveWindow (its session, ``_change`` to make the plate current, ``show_notice``)."""

    def __init__(self, window):
        super().__init__("Clean plate (fixed camera)")
        self.window = window
        self.countdown, self.seconds = COUNTDOWN, CAPTURE_SECONDS  # tests shorten them
        self.phase = "idle"     # idle, countdown, capturing
        self._left = 0
        self._frames: list[np.ndarray] = []
        self._alphas: list[np.ndarray] = []
        self._seen: object = None
        self._until = 0.0
        self._before = ""
        self.capture_button = QtWidgets.QPushButton("Capture…", clicked=self.start_capture)
        self.clear_button = QtWidgets.QPushButton("Clear", clicked=self.clear)
        # short labels in a narrow panel (the box's title says what they capture and clear), the long name as a tip
        self.capture_button.setToolTip("Capture background: step out of the picture during the countdown")
        self.clear_button.setToolTip("Clear background: back to automatic mode")
        self.thumbnail = QtWidgets.QLabel("no plate: automatic mode", alignment=QtCore.Qt.AlignCenter)
        self.thumbnail.setFixedHeight(THUMB_WIDTH * 9 // 16 + 8)
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.capture_button)
        buttons.addWidget(self.clear_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.thumbnail)
        layout.addWidget(self.status)
        self._countdown_timer = QtCore.QTimer(self, interval=1000, timeout=self._count)
        self._collect_timer = QtCore.QTimer(self, interval=15, timeout=self._collect)
        self._shown_plate: str | None = None

    # -- capture --------------------------------------------------------------------------------------------
    def start_capture(self) -> bool:
        session = self.window.session
        if session is None:
            self._say("no camera picture to capture a background from", error=True)
            return False
        self._before = self.window.settings.plate  # given back if this capture is refused
        self.window._change(plate="")  # automatic mode: its matte is what finds a person left in the picture
        session.processor.need_alpha = True
        self.phase, self._left = "countdown", self.countdown
        self.capture_button.setEnabled(False)
        self._say(f"Step out of the frame: {self._left}")
        if self._left <= 0:
            self._begin_collecting()
        else:
            self._countdown_timer.start()
        return True

    def _count(self) -> None:
        self._left -= 1
        if self._left > 0:
            self._say(f"Step out of the frame: {self._left}")
            return
        self._countdown_timer.stop()
        self._begin_collecting()

    def _begin_collecting(self) -> None:
        self.phase, self._frames, self._alphas = "capturing", [], []
        self._seen = self._last_input()
        self._until = time.monotonic() + self.seconds
        self._say("Capturing the background…")
        self._collect_timer.start()

    def _last_input(self):
        session = self.window.session
        return None if session is None else session.processor.last_input

    def _collect(self) -> None:
        item = self._last_input()
        if item is not None and item is not self._seen and item[1] is not None:
            self._seen = item
            self._frames.append(item[0])
            self._alphas.append(item[1])
        if time.monotonic() >= self._until and self._frames:
            self._finish()
        elif self.window.session is None:
            self.cancel("the camera stopped during the capture")

    def _finish(self) -> None:
        self.cancel()
        try:
            refuse_person(self._alphas)
            plate = average_plate(self._frames)
            folder = config_dir() / "plates"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / time.strftime("plate-%Y%m%d-%H%M%S.png")
            write_image(path, plate)
        except (LivematteError, OSError) as exc:
            self.window._change(plate=self._before)
            self._say(f"Background refused: {exc}" + (" (the previous plate is kept)" if self._before else ""),
                      error=True)
            return
        self.window._change(plate=str(path))
        self._say(f"Background captured from {len(self._frames)} frames")

    def cancel(self, reason: str = "") -> None:
        """Stop a capture in progress (the window is closing, the camera stopped)."""
        self._countdown_timer.stop()
        self._collect_timer.stop()
        session = self.window.session
        if session is not None:
            session.processor.need_alpha = False
        self.phase = "idle"
        self.capture_button.setEnabled(True)
        if reason:
            self._say(reason, error=True)

    def clear(self) -> None:
        self.cancel()
        self.window._change(plate="")
        self._say("Automatic mode")

    # -- showing --------------------------------------------------------------------------------------------
    def show_settings(self, plate: str) -> None:
        """The thumbnail of the settings' plate (read once per plate)."""
        if plate == self._shown_plate:
            return
        self._shown_plate = plate
        self.clear_button.setEnabled(bool(plate))
        if not plate:
            self.thumbnail.setPixmap(QtGui.QPixmap())
            self.thumbnail.setText("no plate: automatic mode")
            return
        try:
            rgb = np.ascontiguousarray(read_image(plate))
        except LivematteError as exc:
            self.thumbnail.setText(f"plate missing: {Path(plate).name}")
            self._say(str(exc), error=True)
            return
        h, w = rgb.shape[:2]
        image = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format_RGB888).copy()
        self.thumbnail.setPixmap(QtGui.QPixmap.fromImage(image).scaledToWidth(THUMB_WIDTH,
                                                                              QtCore.Qt.SmoothTransformation))

    def update_status(self) -> None:
        """The readout timer: say when the plate stopped fitting (or could not be used), and when it fits again."""
        session = self.window.session
        if self.phase != "idle" or session is None or not self._shown_plate:
            return
        note = session.processor.plate_note
        if note:
            self._say(note[0].upper() + note[1:] if note == PLATE_CHANGED else note, error=True)
        elif self.status.text().lower().startswith((PLATE_CHANGED, "plate:")):
            self._say("Background fits")

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #c62828;" if error else "color: #555;")
        self.status.setText(text)
