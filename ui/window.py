"""The control window (PyQt5): live preview, background picker, matte and edge controls, presets,
camera choice and the virtual camera switch.

The window never waits on the pipeline. A timer polls the newest frame from the session's one-frame slot
and paints it; every control change makes a new frozen ``Settings`` and hands it to the session, which the
process thread picks up at its next frame. Dialogs go through the ``ask_*`` methods, so tests (and other
front ends) can answer them without a modal loop.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets

from livematte.composite import VIDEO_EXTENSIONS, parse_colour
from livematte.errors import LivematteError
from livematte.interfaces import LiveEngine
from livematte.live.frames import DEFAULT_FPS, DEFAULT_SIZE
from livematte.live.session import LiveSession
from livematte.live.sources import open_source
from livematte.live.stats import format_status
from livematte.presets import Preset, PresetStore, Settings

from .plate_capture import PlateBox
from .preview import preview_image

BACKGROUNDS = (("none", "None (camera picture)"), ("colour", "Colour"), ("image", "Image"),
               ("video", "Video (looped)"), ("blur", "Blur"), ("transparent", "Transparent"))
QUALITIES = (("fast", "Fast (low CPU)"), ("balanced", "Balanced"), ("high", "High (more CPU)"))
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
CAMERA_INDEXES = 4          # Camera 0..3 in the camera list
POLL_MS = 15                # preview poll: well under a frame at 30 fps, and a no-op when nothing is new
READOUT_MS = 500


def to_qimage(rgb: np.ndarray) -> QtGui.QImage:
    """An RGB uint8 array as a QImage that owns its pixels (the array may be reused afterwards)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format_RGB888).copy()


def qimage_to_array(image: QtGui.QImage) -> np.ndarray:
    """A QImage (or a grabbed pixmap's image) as an RGB uint8 array."""
    image = image.convertToFormat(QtGui.QImage.Format_RGB888)
    w, h = image.width(), image.height()
    ptr = image.constBits()
    ptr.setsize(image.byteCount())
    return np.frombuffer(ptr, np.uint8).reshape(h, image.bytesPerLine())[:, :3 * w].reshape(h, w, 3).copy()


def _slider(lo: int, hi: int, value: int) -> QtWidgets.QSlider:
    s = QtWidgets.QSlider(QtCore.Qt.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    return s


class LiveWindow(QtWidgets.QMainWindow):
    """``matter`` is the engine, reused across camera switches; the session steers its smoothing and quality.
    ``open_source(camera, size, fps)`` and ``open_virtual_camera(width, height, fps)`` make the devices (tests pass
    fakes)."""

    def __init__(self, matter: LiveEngine, *, camera: str = "0", size: tuple[int, int] | None = None,
                 fps: float | None = None, settings: Settings | None = None, preset: str | None = None,
                 store: PresetStore | None = None,
                 open_source: Callable = open_source, open_virtual_camera: Callable | None = None,
                 always_on: bool = False):
        super().__init__()
        self.matter = matter
        self.always_on = always_on  # keep matting when no app has the virtual camera open
        self.size, self.fps = size, fps
        self.store = store if store is not None else PresetStore()
        self.settings = settings if settings is not None else Settings()
        self._open_source = open_source
        self._open_virtual_camera = open_virtual_camera or _default_virtual_camera
        self.session: LiveSession | None = None
        self.vcam = None
        self.shown_seq = 0        # the slot number of the frame on screen
        self.frames_shown = 0
        self.last_preview: np.ndarray | None = None
        self.camera = camera
        self.current_preset = preset
        self.model_note = self._model_note()
        self.last_notice = ""

        self.setWindowTitle("livematte")
        self.setAcceptDrops(True)
        self._build()
        for number in range(1, 10):  # keys 1-9 load the presets in the list's order (not while typing in a field)
            QtWidgets.QShortcut(QtGui.QKeySequence(str(number)), self,
                                activated=lambda n=number: self.load_preset_number(n))
        self._reload_presets(select=preset)
        self._show_settings(self.settings)
        self._poll_timer = QtCore.QTimer(self, interval=POLL_MS, timeout=self._poll)
        self._readout_timer = QtCore.QTimer(self, interval=READOUT_MS, timeout=self.update_readout)
        self.start_camera(camera)
        self._poll_timer.start()
        self._readout_timer.start()
        for problem in self.store.problems:
            self.show_notice(f"{problem} (skipped)", error=True)

    # -- layout ---------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.preview = QtWidgets.QLabel("starting…", alignment=QtCore.Qt.AlignCenter)
        self.preview.setMinimumSize(480, 270)
        self.preview.setWordWrap(True)
        self.preview.setSizePolicy(QtWidgets.QSizePolicy.Ignored, QtWidgets.QSizePolicy.Ignored)
        self.preview.setStyleSheet("background: #16181c; color: #9aa0a6;")
        self.readout = QtWidgets.QLabel("")
        self.readout.setStyleSheet("font-family: monospace;")
        self.model_label = QtWidgets.QLabel(self.model_note)
        self.model_label.setWordWrap(True)
        if not self.matter.trained:  # a warning colour only when there is something to warn of
            self.model_label.setStyleSheet("color: #b26a00;")
        self.notice = QtWidgets.QLabel("")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        hint = QtWidgets.QLabel("Drop an image or a video on the window to use it as the background.")
        hint.setStyleSheet("color: #777;")

        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.preview, 1)
        left.addWidget(self.readout)
        left.addWidget(self.model_label)
        left.addWidget(self.notice)
        left.addWidget(hint)

        panel = QtWidgets.QVBoxLayout()
        panel.addWidget(self._build_presets())
        panel.addWidget(self._build_camera())
        panel.addWidget(self._build_background())
        panel.addWidget(self._build_matte())
        self.plate_box = PlateBox(self)
        panel.addWidget(self.plate_box)
        panel.addWidget(self._build_virtual_camera())
        panel.addStretch(1)
        side = QtWidgets.QWidget()
        side.setLayout(panel)
        side.setFixedWidth(360)

        root = QtWidgets.QHBoxLayout()
        root.addLayout(left, 1)
        root.addWidget(side)
        central = QtWidgets.QWidget()
        central.setLayout(root)
        self.setCentralWidget(central)
        self.resize(1180, 700)

    def _build_presets(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Preset")
        self.preset_combo = QtWidgets.QComboBox()
        self.preset_combo.currentIndexChanged.connect(self._on_preset_chosen)
        self.save_button = QtWidgets.QPushButton("Save as…", clicked=self._on_save_preset)
        self.rename_button = QtWidgets.QPushButton("Rename…", clicked=self._on_rename_preset)
        self.delete_button = QtWidgets.QPushButton("Delete", clicked=self._on_delete_preset)
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.save_button, self.rename_button, self.delete_button):
            buttons.addWidget(b)
        layout = QtWidgets.QVBoxLayout(box)
        layout.addWidget(self.preset_combo)
        layout.addLayout(buttons)
        return box

    def _build_camera(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Camera")
        self.camera_combo = QtWidgets.QComboBox()
        self._fill_cameras(self.camera)
        self.camera_combo.currentIndexChanged.connect(self._on_camera_chosen)
        self.mirror_check = QtWidgets.QCheckBox("Mirror", toggled=lambda on: self._change(mirror=on))
        self.quality_combo = QtWidgets.QComboBox()
        for key, label in QUALITIES:
            self.quality_combo.addItem(label, key)
        self.quality_combo.currentIndexChanged.connect(
            lambda i: self._change(quality=self.quality_combo.itemData(i)))
        form = QtWidgets.QFormLayout(box)
        form.addRow("Source", self.camera_combo)
        form.addRow("Quality", self.quality_combo)
        form.addRow("", self.mirror_check)
        return box

    def _build_background(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Background")
        self.background_combo = QtWidgets.QComboBox()
        for key, label in BACKGROUNDS:
            self.background_combo.addItem(label, key)
        self.background_combo.currentIndexChanged.connect(self._on_background_chosen)
        self.colour_button = QtWidgets.QPushButton("", clicked=self._on_pick_colour)
        self.colour_button.setFixedHeight(26)
        self.file_label = QtWidgets.QLabel("")
        self.file_label.setMinimumWidth(10)
        self.file_button = QtWidgets.QPushButton("Choose…", clicked=self._on_pick_file)
        file_row = QtWidgets.QHBoxLayout()
        file_row.setContentsMargins(0, 0, 0, 0)
        file_row.addWidget(self.file_label, 1)
        file_row.addWidget(self.file_button)
        self.file_row = QtWidgets.QWidget()
        self.file_row.setLayout(file_row)
        self.blur_slider = _slider(1, 100, 12)
        self.blur_slider.valueChanged.connect(lambda v: self._change(blur=v))
        self.blur_value = QtWidgets.QLabel("")
        blur_row = QtWidgets.QHBoxLayout()
        blur_row.setContentsMargins(0, 0, 0, 0)
        blur_row.addWidget(QtWidgets.QLabel("Strength"))
        blur_row.addWidget(self.blur_slider, 1)
        blur_row.addWidget(self.blur_value)
        self.blur_row = QtWidgets.QWidget()
        self.blur_row.setLayout(blur_row)
        self.transparent_note = QtWidgets.QLabel("Preview: checkerboard. Virtual camera: pure green, for a chroma "
                                                 "key in OBS.")
        self.transparent_note.setWordWrap(True)
        self.transparent_note.setStyleSheet("color: #777;")
        layout = QtWidgets.QVBoxLayout(box)
        for w in (self.background_combo, self.colour_button, self.file_row, self.blur_row, self.transparent_note):
            layout.addWidget(w)
        return box

    def _build_matte(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Matte and edges")
        self.smoothing_slider = _slider(0, 95, 60)
        self.smoothing_slider.valueChanged.connect(self._on_smoothing)
        self.feather_slider = _slider(0, 20, 0)
        self.feather_slider.valueChanged.connect(lambda v: self._change(feather=v))
        self.shrink_slider = _slider(0, 20, 0)
        self.shrink_slider.valueChanged.connect(lambda v: self._change(shrink=v))
        self.hard_check = QtWidgets.QCheckBox("Hard edge", toggled=self._on_threshold)
        self.threshold_slider = _slider(5, 95, 50)
        self.threshold_slider.valueChanged.connect(self._on_threshold)
        self.value_labels = {name: QtWidgets.QLabel("") for name in ("smoothing", "feather", "shrink", "threshold")}
        grid = QtWidgets.QGridLayout(box)
        rows = (("Smoothing", self.smoothing_slider, "smoothing"), ("Feather", self.feather_slider, "feather"),
                ("Shrink", self.shrink_slider, "shrink"))
        for r, (label, slider, key) in enumerate(rows):
            grid.addWidget(QtWidgets.QLabel(label), r, 0)
            grid.addWidget(slider, r, 1)
            grid.addWidget(self.value_labels[key], r, 2)
        grid.addWidget(self.hard_check, 3, 0)
        grid.addWidget(self.threshold_slider, 3, 1)
        grid.addWidget(self.value_labels["threshold"], 3, 2)
        grid.setColumnMinimumWidth(2, 44)
        return box

    def _build_virtual_camera(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Virtual camera")
        self.vcam_button = QtWidgets.QPushButton("Start virtual camera", checkable=True)
        self.vcam_button.toggled.connect(self._on_vcam_toggled)
        self.vcam_label = QtWidgets.QLabel("off")
        self.vcam_label.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(box)
        layout.addWidget(self.vcam_button)
        layout.addWidget(self.vcam_label)
        return box

    # -- settings -------------------------------------------------------------------------------------------
    def apply(self, settings: Settings) -> None:
        """Make ``settings`` current: hand the snapshot to the pipeline and show it in the controls."""
        self.settings = settings
        if self.session is not None:
            self.session.update(settings)
        self._show_settings(settings)

    def _change(self, **changes) -> None:
        try:
            self.apply(replace(self.settings, **changes))
        except LivematteError as exc:
            self.show_notice(str(exc), error=True)
            self._show_settings(self.settings)

    def _show_settings(self, s: Settings) -> None:
        """Controls follow the settings (signals blocked: showing is not changing)."""
        widgets = (self.background_combo, self.blur_slider, self.smoothing_slider, self.feather_slider,
                   self.shrink_slider, self.hard_check, self.threshold_slider, self.mirror_check, self.quality_combo)
        blockers = [QtCore.QSignalBlocker(w) for w in widgets]
        self.background_combo.setCurrentIndex(self.background_combo.findData(s.background))
        self.quality_combo.setCurrentIndex(self.quality_combo.findData(s.quality))
        self.blur_slider.setValue(s.blur)
        self.smoothing_slider.setValue(0 if s.smoothing == "none" else round(s.smoothing_strength * 100))
        self.feather_slider.setValue(s.feather)
        self.shrink_slider.setValue(s.shrink)
        self.hard_check.setChecked(s.threshold > 0)
        if s.threshold > 0:
            self.threshold_slider.setValue(round(s.threshold * 100))
        self.mirror_check.setChecked(s.mirror)
        del blockers
        rgb = parse_colour(s.colour) or (0, 0, 0)
        text = "#222" if sum(rgb) > 380 else "#eee"
        self.colour_button.setText(f"Colour {s.colour}")
        self.colour_button.setStyleSheet(f"background: rgb{tuple(rgb)}; color: {text};")
        path = getattr(s, s.background, "") if s.background in ("image", "video") else ""
        self.file_label.setText(Path(path).name if path else "no file")
        self.file_label.setToolTip(path)
        self.blur_value.setText(str(s.blur))
        self.colour_button.setVisible(s.background == "colour")
        self.file_row.setVisible(s.background in ("image", "video"))
        self.blur_row.setVisible(s.background == "blur")
        self.transparent_note.setVisible(s.background == "transparent")
        self.threshold_slider.setEnabled(s.threshold > 0)
        labels = self.value_labels
        labels["smoothing"].setText("off" if s.smoothing == "none" else f"{s.smoothing_strength:.2f}")
        labels["feather"].setText(f"{s.feather} px")
        labels["shrink"].setText(f"{s.shrink} px")
        labels["threshold"].setText(f"{s.threshold:.2f}" if s.threshold > 0 else "off")
        self.plate_box.show_settings(s.plate)

    def _on_smoothing(self, value: int) -> None:
        mode = "none" if value == 0 else (self.settings.smoothing if self.settings.smoothing != "none" else "motion")
        self._change(smoothing=mode, smoothing_strength=value / 100 if value else self.settings.smoothing_strength)

    def _on_threshold(self, *_):
        self._change(threshold=self.threshold_slider.value() / 100 if self.hard_check.isChecked() else 0.0)

    def _on_background_chosen(self, index: int) -> None:
        kind = self.background_combo.itemData(index)
        if kind in ("image", "video") and not getattr(self.settings, kind):
            if not self._on_pick_file(kind):
                self._show_settings(self.settings)  # cancelled: keep the background there was
            return
        self._change(background=kind)

    def _on_pick_colour(self) -> None:
        colour = self.ask_colour(self.settings.colour)
        if colour:
            self._change(background="colour", colour=colour)

    def _on_pick_file(self, kind: str | None = None) -> bool:
        kind = kind if isinstance(kind, str) else self.settings.background
        patterns = IMAGE_EXTENSIONS if kind == "image" else VIDEO_EXTENSIONS
        path = self.ask_open_file(f"Choose a background {kind}",
                                  f"{kind.capitalize()} ({' '.join('*' + e for e in sorted(patterns))})")
        return bool(path) and self.set_background_file(path)

    def set_background_file(self, path: str | Path) -> bool:
        """An image or a video file as the background (it must open); False, with a notice, if it does not."""
        path = Path(path)
        if path.suffix.lower() not in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS:
            self.show_notice(f"{path.name} is not an image or a video file", error=True)
            return False
        try:
            self.apply(self.settings.with_background(str(path)))
        except LivematteError as exc:
            self.show_notice(str(exc), error=True)
            self._show_settings(self.settings)
            return False
        self.show_notice(f"background: {path.name}")
        return True

    # -- presets --------------------------------------------------------------------------------------------
    def _reload_presets(self, select: str | None = None) -> None:
        presets = self.store.load()
        self._presets = {p.name: p for p in presets}
        with QtCore.QSignalBlocker(self.preset_combo):
            self.preset_combo.clear()
            self.preset_combo.addItem("(unsaved settings)", None)
            for p in presets:
                self.preset_combo.addItem(f"{p.name}  · built-in" if p.builtin else p.name, p.name)
            found = self.preset_combo.findData(select) if select else -1
            self.preset_combo.setCurrentIndex(max(0, found))
        self.current_preset = select if found > 0 else None
        self._update_preset_buttons()

    def _update_preset_buttons(self) -> None:
        preset = self._presets.get(self.current_preset or "")
        user = preset is not None and not preset.builtin
        self.rename_button.setEnabled(user)
        self.delete_button.setEnabled(user)
        self.setWindowTitle(f"livematte — {self.current_preset}" if self.current_preset else "livematte")

    def load_preset_number(self, number: int) -> None:
        """Key ``number`` (1-9): the preset in that place of the list, if there is one."""
        if number < self.preset_combo.count():  # item 0 is "(unsaved settings)"
            self.load_preset(self.preset_combo.itemData(number))

    def _on_preset_chosen(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if name:
            self.load_preset(name)

    def load_preset(self, name: str) -> None:
        try:
            preset: Preset = self.store.find(name)
        except LivematteError as exc:
            self.show_notice(str(exc), error=True)
            return
        self.apply(preset.settings)
        self._reload_presets(select=preset.name)
        self.show_notice(f"preset {preset.name!r} loaded")

    def _on_save_preset(self) -> None:
        preset = self._presets.get(self.current_preset or "")
        name = self.ask_text("Save preset", "Name:", preset.name if preset and not preset.builtin else "")
        if name:
            self.save_preset(name)

    def _preset_change(self, change, describe) -> bool:
        """Run a store operation that returns a preset; show its error, or reload the list and say what happened."""
        try:
            preset = change()
        except LivematteError as exc:
            self.show_notice(str(exc), error=True)
            return False
        self._reload_presets(select=preset.name)
        self.show_notice(describe(preset))
        return True

    def save_preset(self, name: str) -> bool:
        return self._preset_change(lambda: self.store.save(name, self.settings),
                                   lambda p: f"preset {p.name!r} saved in {p.path}")

    def _on_rename_preset(self) -> None:
        old = self.current_preset
        new = self.ask_text("Rename preset", "New name:", old or "")
        if old and new:
            self.rename_preset(old, new)

    def rename_preset(self, old: str, new: str) -> bool:
        return self._preset_change(lambda: self.store.rename(old, new), lambda p: f"preset renamed to {p.name!r}")

    def _on_delete_preset(self) -> None:
        name = self.current_preset
        if name and self.confirm(f"Delete the preset {name!r}?"):
            self.delete_preset(name)

    def delete_preset(self, name: str) -> bool:
        try:
            self.store.delete(name)
        except LivematteError as exc:
            self.show_notice(str(exc), error=True)
            return False
        self._reload_presets()
        self.show_notice(f"preset {name!r} deleted")
        return True

    # -- camera and session ---------------------------------------------------------------------------------
    def _fill_cameras(self, current: str) -> None:
        with QtCore.QSignalBlocker(self.camera_combo):
            self.camera_combo.clear()
            if not current.strip().isdigit():
                self.camera_combo.addItem(Path(current).name, current)
            for i in range(CAMERA_INDEXES):
                self.camera_combo.addItem(f"Camera {i}", str(i))
            self.camera_combo.addItem("Video file as camera…", "")
            self.camera_combo.setCurrentIndex(self.camera_combo.findData(current))

    def _on_camera_chosen(self, index: int) -> None:
        camera = self.camera_combo.itemData(index)
        if camera == "":
            camera = self.ask_open_file("Choose a video to loop as the camera",
                                        f"Video ({' '.join('*' + e for e in sorted(VIDEO_EXTENSIONS))})")
            if not camera:
                with QtCore.QSignalBlocker(self.camera_combo):
                    self.camera_combo.setCurrentIndex(self.camera_combo.findData(self.camera))
                return
            self._fill_cameras(camera)
        self.start_camera(camera)

    def start_camera(self, camera: str) -> bool:
        """(Re)start the pipeline on ``camera``; the virtual camera, if on, stays on."""
        self.stop_session()
        self.camera = camera
        try:
            source = self._open_source(camera, self.size, self.fps)
        except LivematteError as exc:
            self.preview.setText("No picture: choose another source on the right.")
            self.show_notice(str(exc), error=True)
            return False
        self.matter.reset()  # another picture: no temporal state carried over
        self.session = LiveSession(source, self.matter, self.settings, sink=self.vcam,
                                   fps=self.fps or source.fps, demand=self._demand()).start()
        self.show_notice(f"{source.name}: {source.width}x{source.height} at {source.fps:g} fps")
        return True

    def stop_session(self) -> None:
        if self.session is not None:
            self.plate_box.cancel()
            session, self.session = self.session, None
            session.close()
            self.shown_seq = 0

    def _poll(self) -> None:
        """Timer: paint the newest frame if there is one; never blocks."""
        session = self.session
        if session is None:
            return
        if session.error is not None and not session.alive():
            self.stop_session()
            error = session.error
            text = str(error) if isinstance(error, LivematteError) else f"{type(error).__name__}: {error}"
            self.show_notice(f"the live pipeline stopped: {text}", error=True)
            self.preview.setText("Stopped: choose a source on the right to start again.")
            return
        seq, frame = session.latest()
        if frame is None or seq == self.shown_seq:
            return
        self.shown_seq = seq
        box = self.preview.contentsRect()
        self.last_preview = preview_image(frame, (max(1, box.width()), max(1, box.height())))
        self.preview.setPixmap(QtGui.QPixmap.fromImage(to_qimage(self.last_preview)))
        self.frames_shown += 1

    def update_readout(self) -> None:
        if self.session is not None:
            self.readout.setText(format_status(self.session.status()))
            self.plate_box.update_status()

    # -- virtual camera -------------------------------------------------------------------------------------
    def _on_vcam_toggled(self, on: bool) -> None:
        if on:
            self.start_virtual_camera()
        else:
            self.stop_virtual_camera()

    def start_virtual_camera(self) -> bool:
        if self.vcam is not None:
            return True
        source = self.session.source if self.session is not None else None
        width, height = (source.width, source.height) if source is not None else (self.size or DEFAULT_SIZE)
        fps = self.fps or (source.fps if source is not None else DEFAULT_FPS)
        try:
            self.vcam = self._open_virtual_camera(width, height, fps)
        except LivematteError as exc:
            self.show_notice(str(exc), error=True)
            with QtCore.QSignalBlocker(self.vcam_button):
                self.vcam_button.setChecked(False)
            return False
        if self.session is not None:
            self.session.set_sink(self.vcam, self._demand())
        with QtCore.QSignalBlocker(self.vcam_button):
            self.vcam_button.setChecked(True)
        self.vcam_button.setText("Stop virtual camera")
        self.vcam_label.setText(f"on: {getattr(self.vcam, 'device', '')} at {width}x{height}, {fps:g} fps")
        return True

    def _demand(self):
        """Who watches the virtual camera (nobody: the session pauses), None when it is off or always on."""
        if self.vcam is None or self.always_on:
            return None
        from livematte.live.demand import for_device

        return for_device(getattr(self.vcam, "device", None))

    def stop_virtual_camera(self) -> None:
        if self.vcam is None:
            return
        if self.session is not None:
            self.session.set_sink(None)  # no send is in progress once this returns
        self.vcam.close()
        self.vcam = None
        with QtCore.QSignalBlocker(self.vcam_button):
            self.vcam_button.setChecked(False)
        self.vcam_button.setText("Start virtual camera")
        self.vcam_label.setText("off")

    # -- drag and drop --------------------------------------------------------------------------------------
    @staticmethod
    def _dropped_file(mime: QtCore.QMimeData) -> Path | None:
        for url in mime.urls() if mime.hasUrls() else []:
            path = Path(url.toLocalFile())
            if url.isLocalFile() and path.suffix.lower() in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS:
                return path
        return None

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if self._dropped_file(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        path = self._dropped_file(event.mimeData())
        if path is not None and self.set_background_file(path):
            event.acceptProposedAction()

    # -- messages and dialogs (overridable) -----------------------------------------------------------------
    def show_notice(self, text: str, error: bool = False) -> None:
        self.notice.setStyleSheet("color: #c62828;" if error else "color: #555;")
        self.notice.setText(text)
        self.last_notice = text

    def ask_text(self, title: str, label: str, default: str = "") -> str | None:
        text, ok = QtWidgets.QInputDialog.getText(self, title, label, text=default)
        return text if ok and text.strip() else None

    def ask_open_file(self, title: str, pattern: str) -> str | None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, title, "", pattern)
        return path or None

    def ask_colour(self, current: str) -> str | None:
        rgb = parse_colour(current) or (0, 177, 64)
        colour = QtWidgets.QColorDialog.getColor(QtGui.QColor(*rgb), self, "Background colour")
        return colour.name() if colour.isValid() else None

    def confirm(self, question: str) -> bool:
        answer = QtWidgets.QMessageBox.question(self, "livematte", question)
        return answer == QtWidgets.QMessageBox.Yes

    # -- lifetime -------------------------------------------------------------------------------------------
    def _model_note(self) -> str:
        name = self.matter.model_name
        if self.matter.trained:
            return f"Model: {name}"
        return (f"Model {name}: untrained (random weights). The cut-out means nothing until the trained "
                "weights ship.")

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the timers and the pipeline, release the virtual camera (also for tests)."""
        self._poll_timer.stop()
        self._readout_timer.stop()
        self.plate_box.cancel()
        self.stop_session()
        self.stop_virtual_camera()


def _default_virtual_camera(width: int, height: int, fps: float):
    from livematte.virtualcam import VirtualCamera

    return VirtualCamera(width, height, fps)
