"""The control window, offscreen: a generated clip as the camera, a stub matte of known shape (alpha 1 in the
central half, 0 outside), backgrounds and presets switched through the widgets, the preview checked against
the composite, screenshots saved, the virtual camera started and stopped from the window."""
import os
import time
from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("PyQt5.QtWidgets")
from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: E402
from PyQt5.QtTest import QTest  # noqa: E402

from clips import make_clip  # noqa: E402
from fakes import StubMatter, recording_vcam  # noqa: E402,F401 - recording_vcam is a fixture
from livematte.errors import DeviceError  # noqa: E402
from livematte.media import write_image  # noqa: E402
from livematte.presets import CONFIG_ENV, PresetStore, Settings  # noqa: E402
from livematte.ui.preview import fit_size, preview_image  # noqa: E402
from livematte.ui.window import LiveWindow, qimage_to_array  # noqa: E402
from livematte.virtualcam import VirtualCamera  # noqa: E402

RED = (220, 30, 30)


@pytest.fixture(scope="module")
def qapp():
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


@pytest.fixture
def ui_clip(tmp_path):
    return make_clip(tmp_path / "camera.mp4", frames=8, width=160, height=120, rate=Fraction(30))


@pytest.fixture
def make_window(qapp, tmp_path, monkeypatch, recording_vcam):
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "config"))
    windows = []

    def make(camera, settings=None, matter=None, **kw):
        kw.setdefault("open_virtual_camera", lambda w, h, fps: VirtualCamera(w, h, fps, backend="recording"))
        window = LiveWindow(matter or StubMatter(), camera=str(camera), settings=settings or Settings(),
                            store=PresetStore(), **kw)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
        window.close()
        window.deleteLater()
    qapp.processEvents()


def pump(qapp, condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the window"
        qapp.processEvents()
        time.sleep(0.005)


def fresh_preview(qapp, window, frames=3):
    """The preview once ``frames`` more frames have been painted: what the label shows, as an array."""
    target = window.frames_shown + frames
    pump(qapp, lambda: window.frames_shown >= target)
    shown = qimage_to_array(window.preview.pixmap().toImage())
    assert np.array_equal(shown, window.last_preview)  # the label shows exactly what was composed
    return shown


def outer(image):
    """Pixels well outside the central half, where the stub matte is 0 (background)."""
    h, w = image.shape[:2]
    return np.concatenate([image[: h // 5].reshape(-1, 3), image[-h // 5:].reshape(-1, 3)])


def inner(image):
    h, w = image.shape[:2]
    return image[h // 3: 2 * h // 3, w // 3: 2 * w // 3].reshape(-1, 3)


def choose(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def test_ui_preview_shows_the_composite_and_a_screenshot_is_saved(qapp, make_window, ui_clip, tmp_path):
    window = make_window(ui_clip, Settings(background="colour", colour="red", smoothing="none"))
    preview = fresh_preview(qapp, window)
    h, w = preview.shape[:2]
    assert abs(w / h - 160 / 120) < 0.02  # fitted to the label, aspect kept
    assert (np.abs(outer(preview).astype(int) - RED) <= 2).all()  # the new background where alpha is 0
    person = inner(preview)
    assert (np.abs(person.astype(int) - RED).max(axis=1) > 20).all() and person.std() > 5  # the camera, not red
    shot = tmp_path / "ui.png"
    assert window.grab().save(str(shot)) and shot.stat().st_size > 10_000
    grabbed = qimage_to_array(QtGui.QImage(str(shot)))
    assert (np.abs(grabbed.astype(int) - RED).max(axis=2) <= 2).sum() > 0.25 * preview.shape[0] * preview.shape[1]
    assert "untrained" in window.model_label.text()  # the stub says it is untrained, as the real model does now
    window.update_readout()
    assert "fps out" in window.readout.text() and "latency" in window.readout.text()


def test_ui_backgrounds_switched_through_the_widgets(qapp, make_window, ui_clip, tmp_path, monkeypatch):
    window = make_window(ui_clip, Settings(background="none", smoothing="none"))
    camera_only = fresh_preview(qapp, window)
    assert outer(camera_only).std() > 5  # none: the camera picture around the person too

    choose(window.background_combo, "colour")
    monkeypatch.setattr(window, "ask_colour", lambda current: "#0000ff")
    QTest.mouseClick(window.colour_button, QtCore.Qt.LeftButton)
    assert window.session.settings.colour == "#0000ff"  # the snapshot reached the pipeline
    assert (np.abs(outer(fresh_preview(qapp, window)).astype(int) - (0, 0, 255)) <= 2).all()

    choose(window.background_combo, "blur")
    window.blur_slider.setValue(40)
    assert window.session.settings.background_spec() == "blur:40" and window.blur_row.isVisible()
    blurred = outer(fresh_preview(qapp, window))
    assert np.abs(blurred.astype(int) - (0, 0, 255)).max() > 50 and blurred.std() > 1

    choose(window.background_combo, "transparent")
    board = outer(fresh_preview(qapp, window))
    assert set(np.unique(board)) <= {153, 204} and len(np.unique(board)) == 2  # a checkerboard in the preview
    assert window.session.latest()[1].image[0, 0].tolist() == [0, 255, 0]  # the virtual camera gets green

    image = tmp_path / "room.png"
    write_image(image, np.full((60, 80, 3), (10, 200, 30), np.uint8))
    monkeypatch.setattr(window, "ask_open_file", lambda title, pattern: str(image))
    choose(window.background_combo, "image")
    assert window.settings.background == "image" and window.file_label.text() == "room.png"
    assert (np.abs(outer(fresh_preview(qapp, window)).astype(int) - (10, 200, 30)) <= 2).all()

    monkeypatch.setattr(window, "ask_open_file", lambda title, pattern: None)  # "Video" but the dialog cancelled
    choose(window.background_combo, "video")
    assert window.settings.background == "image" and window.background_combo.currentData() == "image"


def test_ui_drag_and_drop_of_a_video_or_image_sets_the_background(qapp, make_window, ui_clip, tmp_path):
    window = make_window(ui_clip, Settings(background="colour", colour="red"))
    video = make_clip(tmp_path / "beach.mp4", frames=4, width=64, height=48)

    def mime(path):
        data = QtCore.QMimeData()
        data.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
        return data

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    text_data, video_data = mime(text), mime(video)  # kept alive: the events do not own their mime data
    enter = QtGui.QDragEnterEvent(QtCore.QPoint(50, 50), QtCore.Qt.CopyAction, text_data, QtCore.Qt.LeftButton,
                                  QtCore.Qt.NoModifier)
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()  # not an image or a video: refused
    enter = QtGui.QDragEnterEvent(QtCore.QPoint(50, 50), QtCore.Qt.CopyAction, video_data, QtCore.Qt.LeftButton,
                                  QtCore.Qt.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(QtCore.QPointF(50, 50), QtCore.Qt.CopyAction, video_data, QtCore.Qt.LeftButton,
                            QtCore.Qt.NoModifier)
    window.dropEvent(drop)
    assert window.settings.background == "video" and window.settings.video == str(video.resolve())
    assert window.background_combo.currentData() == "video" and window.file_label.text() == "beach.mp4"
    assert np.abs(outer(fresh_preview(qapp, window)).astype(int) - RED).max() > 50  # red is gone

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    broken_data = mime(broken)
    drop = QtGui.QDropEvent(QtCore.QPointF(50, 50), QtCore.Qt.CopyAction, broken_data, QtCore.Qt.LeftButton,
                            QtCore.Qt.NoModifier)
    window.dropEvent(drop)
    assert window.settings.background == "video" and "cannot read" in window.last_notice


def test_ui_matte_edge_quality_and_mirror_controls_make_new_snapshots(qapp, make_window, ui_clip):
    window = make_window(ui_clip, Settings(background="colour", colour="red"))
    first = window.settings
    window.feather_slider.setValue(3)
    window.shrink_slider.setValue(2)
    window.hard_check.click()
    window.threshold_slider.setValue(70)
    window.smoothing_slider.setValue(0)
    window.mirror_check.click()
    choose(window.quality_combo, "fast")
    s = window.settings
    assert (s.feather, s.shrink, s.threshold, s.smoothing, s.mirror, s.quality) == (3, 2, 0.7, "none", True, "fast")
    assert first.feather == 0 and first is not s  # the old snapshot never changes
    assert window.session.settings is s
    assert window.value_labels["threshold"].text() == "0.70" and window.value_labels["smoothing"].text() == "off"
    window.smoothing_slider.setValue(40)
    assert (window.settings.smoothing, window.settings.smoothing_strength) == ("motion", 0.4)
    window.hard_check.click()
    assert window.settings.threshold == 0.0 and not window.threshold_slider.isEnabled()
    fresh_preview(qapp, window)  # the pipeline keeps running with the new settings


def test_ui_presets_save_load_rename_delete_through_the_window(qapp, make_window, ui_clip, monkeypatch, tmp_path):
    window = make_window(ui_clip, Settings(background="colour", colour="red", feather=2))
    monkeypatch.setattr(window, "ask_text", lambda title, label, default="": "My red")
    QTest.mouseClick(window.save_button, QtCore.Qt.LeftButton)
    assert (tmp_path / "config" / "presets" / "my-red.toml").is_file()
    assert window.preset_combo.currentData() == "My red" and window.rename_button.isEnabled()

    choose(window.preset_combo, "Transparent for OBS")  # a built-in
    assert window.settings.background == "transparent" and window.background_combo.currentData() == "transparent"
    assert not window.rename_button.isEnabled() and not window.delete_button.isEnabled()
    assert set(np.unique(outer(fresh_preview(qapp, window)))) <= {153, 204}
    window.grab().save(str(tmp_path / "transparent.png"))

    choose(window.preset_combo, "My red")
    assert window.settings == Settings(background="colour", colour="red", feather=2)  # round trip via the file
    assert window.feather_slider.value() == 2 and window.background_combo.currentData() == "colour"
    assert np.abs(outer(fresh_preview(qapp, window)).astype(int) - RED).max() <= 2

    monkeypatch.setattr(window, "ask_text", lambda title, label, default="": "Studio red")
    QTest.mouseClick(window.rename_button, QtCore.Qt.LeftButton)
    assert "Studio red" in PresetStore().names() and "My red" not in PresetStore().names()
    monkeypatch.setattr(window, "confirm", lambda question: True)
    QTest.mouseClick(window.delete_button, QtCore.Qt.LeftButton)
    assert "Studio red" not in PresetStore().names() and window.preset_combo.findData("Studio red") < 0

    monkeypatch.setattr(window, "ask_text", lambda title, label, default="": "Office blur")
    QTest.mouseClick(window.save_button, QtCore.Qt.LeftButton)
    assert "built-in" in window.last_notice  # refused with a message, nothing overwritten


def test_ui_shows_malformed_presets_and_loads_the_rest(qapp, make_window, ui_clip, tmp_path):
    folder = tmp_path / "config" / "presets"
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text("name = [")
    PresetStore(folder).save("Fine", Settings(blur=30))
    window = make_window(ui_clip)
    assert window.preset_combo.findData("Fine") > 0 and window.preset_combo.findData("Office blur") > 0
    assert "broken.toml" in window.last_notice


def test_ui_virtual_camera_start_and_stop(qapp, make_window, ui_clip, recording_vcam):
    window = make_window(ui_clip, Settings(background="colour", colour="red"))
    QTest.mouseClick(window.vcam_button, QtCore.Qt.LeftButton)
    assert window.vcam is not None and window.vcam_button.text() == "Stop virtual camera"
    backend = recording_vcam.instances[0]
    pump(qapp, lambda: len(backend.sent) >= 5)
    assert {image.shape for _, image in backend.sent} == {(120, 160, 3)}
    QTest.mouseClick(window.vcam_button, QtCore.Qt.LeftButton)
    assert window.vcam is None and backend.closed and window.vcam_button.text() == "Start virtual camera"
    count = len(backend.sent)
    fresh_preview(qapp, window)
    assert len(backend.sent) == count  # nothing more goes to a closed camera; the preview carries on


def test_ui_missing_virtual_camera_is_explained(qapp, make_window, ui_clip):
    def no_device(w, h, fps):
        return VirtualCamera(w, h, fps, backend="missing")

    window = make_window(ui_clip, open_virtual_camera=no_device)
    QTest.mouseClick(window.vcam_button, QtCore.Qt.LeftButton)
    assert window.vcam is None and not window.vcam_button.isChecked()
    assert "v4l2loopback" in window.last_notice and "OBS" in window.last_notice


def test_ui_camera_choice_missing_camera_and_back(qapp, make_window, ui_clip):
    window = make_window(ui_clip)
    fresh_preview(qapp, window)
    choose(window.camera_combo, "3")  # no camera here (or not this one): a message, no crash, no session
    assert window.session is None and "camera 3 could not be opened" in window.last_notice
    choose(window.camera_combo, str(ui_clip))
    assert window.session is not None
    fresh_preview(qapp, window)


def test_ui_pipeline_error_is_shown_and_stops_the_session(qapp, make_window, ui_clip):
    class Broken(StubMatter):
        def __call__(self, rgb):
            raise DeviceError("the GPU went away")

    window = make_window(ui_clip, Settings(background="colour", colour="red"), matter=Broken())
    pump(qapp, lambda: window.session is None)
    assert "the live pipeline stopped: the GPU went away" in window.last_notice


def test_ui_preview_helpers():
    assert fit_size(1280, 720, 640, 640) == (640, 360) and fit_size(100, 400, 300, 200) == (50, 200)
    from livematte.live.frames import LiveFrame

    frame = LiveFrame(0, np.full((40, 80, 3), 7, np.uint8), 0.0)
    assert preview_image(frame, (40, 40)).shape == (20, 40, 3)
    alpha = np.zeros((40, 80), np.float32)
    transparent = LiveFrame(0, np.zeros((40, 80, 3), np.uint8), 0.0, alpha, np.zeros((40, 80, 3), np.uint8))
    assert set(np.unique(preview_image(transparent, (80, 40)))) == {153, 204}


TINY = ["--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64"]


def test_ui_cli_screenshot_with_the_tiny_model(qapp, ui_clip, tmp_path, monkeypatch, capsys):
    from livematte.cli import main

    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "config"))
    shot = tmp_path / "window.png"
    assert main(["ui", "--camera", str(ui_clip), "--preset", "Office blur", "--screenshot", str(shot),
                 "--frames", "5", *TINY]) == 0
    image = qimage_to_array(QtGui.QImage(str(shot)))
    assert image.shape[0] > 400 and image.shape[1] > 800
    assert "wrote" in capsys.readouterr().out


def test_ui_cli_errors(qapp, tmp_path, monkeypatch, capsys):
    from livematte.cli import main

    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "config"))
    assert main(["ui", "--size", "wide", *TINY]) == 2
    assert main(["ui", "--preset", "nope", *TINY]) == 2
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert main(["ui", *TINY]) == 2
        assert "no display" in capsys.readouterr().err


@pytest.mark.slow
def test_sigterm_closes_the_window_cleanly(ui_clip, tmp_path):
    """A signal while the event loop runs quits the loop and shuts down (no abort from a Qt slot, no traceback)."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen",
           CONFIG_ENV: str(tmp_path / "config")}
    proc = subprocess.Popen([sys.executable, "-m", "livematte", "ui", "--camera", str(ui_clip), "--model", "shm-tiny",
                             "--weights", "none", "--tnet-size", "64", "--mnet-size", "64"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    # The signal must land in the running event loop, after start-up (imports, model export: seconds to a minute on
    # a busy machine), which the window announces on stdout.
    ready = proc.stdout.readline()
    assert b"window open" in ready, (ready, proc.communicate()[1])
    time.sleep(1)  # a few frames through the pipeline
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err


def test_ui_an_exception_in_a_qt_slot_is_reported_and_the_window_goes_on(qapp, make_window, ui_clip, tmp_path,
                                                                          monkeypatch, capsys):
    import sys

    import livematte.cli as cli
    from livematte.cli.ui import keep_running_hook

    monkeypatch.setattr(cli, "user_log_path", lambda app: tmp_path / "logs")
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    window = make_window(ui_clip)
    pump(qapp, lambda: window.frames_shown >= 2)
    monkeypatch.setattr(sys, "excepthook", keep_running_hook(window))

    def buggy_slot():
        raise RuntimeError("a bug in a slot")

    QtCore.QTimer.singleShot(0, buggy_slot)  # PyQt5 hands the escaping exception to sys.excepthook
    pump(qapp, lambda: "a bug in a slot" in window.last_notice)
    assert "internal error: RuntimeError: a bug in a slot" in capsys.readouterr().err
    [saved] = (tmp_path / "logs").glob("livematte-error-*.txt")
    assert "buggy_slot" in saved.read_text()
    shown = window.frames_shown
    pump(qapp, lambda: window.frames_shown > shown)  # the preview is still running


def test_ui_number_keys_switch_presets_and_the_title_names_the_active_one(qapp, make_window, ui_clip):
    window = make_window(ui_clip)
    assert window.windowTitle() == "livematte"
    names = [window.preset_combo.itemData(i) for i in range(1, window.preset_combo.count())]
    QtWidgets.QApplication.setActiveWindow(window)  # shortcuts reach the active window only
    window.preview.setFocus()
    QTest.keyClick(window.preview, QtCore.Qt.Key_2)
    pump(qapp, lambda: window.current_preset == names[1])
    assert window.windowTitle() == f"livematte — {names[1]}"
    QTest.keyClick(window.preview, QtCore.Qt.Key_1)
    pump(qapp, lambda: window.current_preset == names[0])
    QTest.keyClick(window.preview, QtCore.Qt.Key_9)  # no ninth preset: nothing changes
    qapp.processEvents()
    assert window.current_preset == names[0] and window.windowTitle().endswith(names[0])
