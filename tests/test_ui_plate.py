"""The window's clean-plate box, offscreen: countdown, a second of frames averaged into the plate, a plate with a
person refused, clear, the mismatch message, and the plate kept with a saved preset."""
import cv2
import numpy as np
import pytest

pytest.importorskip("PyQt5.QtWidgets")

from fakes import FakeEngine, StubMatter, recording_vcam  # noqa: E402,F401 - recording_vcam: make_window's fixture
from livematte.presets import PresetStore, Settings  # noqa: E402
from test_plate import scene  # noqa: E402
from test_plate_cli import write_clip  # noqa: E402
from test_ui import make_window, qapp  # noqa: E402,F401 - the window tests' fixtures
from test_ui import pump as ui_pump  # noqa: E402


class Nobody(FakeEngine):
    """An automatic model that finds nobody, with the plate interface of FakeEngine."""

    def __call__(self, rgb):
        return np.zeros(rgb.shape[:2], np.float32)


@pytest.fixture
def empty_room(tmp_path):
    """A locked-off camera on an empty room, with sensor noise: (clip, the room)."""
    room = scene(120, 160)
    rng = np.random.default_rng(0)
    frames = [np.clip(room + rng.normal(0, 5, room.shape), 0, 255).astype(np.uint8) for _ in range(30)]
    return write_clip(tmp_path / "room.mp4", frames, fps=30), room


@pytest.fixture
def window_on(make_window):
    def make(camera, matter):
        window = make_window(camera, settings=Settings(background="colour"), matter=matter)
        window.plate_box.countdown, window.plate_box.seconds = 1, 0.4
        return window

    return make


def pump(qapp, condition, timeout=15.0):  # the window tests' pump, with the capture's countdown's longer bound
    ui_pump(qapp, condition, timeout)


def capture(qapp, window):
    box = window.plate_box
    pump(qapp, lambda: window.frames_shown >= 2)
    box.capture_button.click()
    assert box.phase == "countdown" and box.status.text() == "Step out of the frame: 1"
    assert not box.capture_button.isEnabled()
    pump(qapp, lambda: box.phase == "capturing")
    pump(qapp, lambda: box.phase == "idle")
    return box


def test_capture_averages_frames_into_the_plate_and_clear_returns_to_automatic(qapp, window_on, empty_room):
    clip, room = empty_room
    engine = Nobody()
    window = window_on(clip, engine)
    box = capture(qapp, window)
    assert box.status.text().startswith("Background captured from") and window.settings.plate
    frames = int(box.status.text().split("from ")[1].split()[0])
    assert frames >= 5  # about a second's worth (0.4 s here) of the 30 fps camera
    plate = cv2.cvtColor(cv2.imread(window.settings.plate), cv2.COLOR_BGR2RGB)
    assert plate.shape == room.shape and np.abs(plate.astype(int) - room).mean() < 3  # noise averaged away
    assert not box.thumbnail.pixmap().isNull() and box.clear_button.isEnabled()
    pump(qapp, lambda: ("plate", room.shape) in engine.settings)  # the engine got it at the next frame
    box.clear_button.click()
    assert window.settings.plate == "" and box.thumbnail.text() == "no plate: automatic mode"
    pump(qapp, lambda: engine.settings[-1] == ("plate", None) or engine.plate_status == "off")


def test_a_plate_with_a_person_is_refused(qapp, window_on, empty_room):
    clip, _ = empty_room
    window = window_on(clip, StubMatter())  # the stub finds a person in the central half
    box = capture(qapp, window)
    assert "refused" in box.status.text() and "still shows a person" in box.status.text()
    assert window.settings.plate == "" and box.capture_button.isEnabled()


def test_mismatch_is_shown_and_the_plate_is_kept_with_a_preset(qapp, window_on, empty_room, tmp_path):
    clip, _ = empty_room
    engine = Nobody()
    window = window_on(clip, engine)
    box = capture(qapp, window)
    pump(qapp, lambda: engine.settings[-1][0] == "plate")  # the engine has the plate
    engine.plate_status = "changed"
    pump(qapp, lambda: window.session.processor.plate_note != "")
    window.update_readout()
    assert box.status.text() == "Background changed: capture again"
    assert "background changed: capture again" in window.readout.text()
    engine.plate_status = "fits"
    pump(qapp, lambda: window.session.processor.plate_note == "")
    window.update_readout()
    assert box.status.text() == "Background fits"
    assert window.save_preset("Desk")
    saved = PresetStore().find("Desk")
    kept = saved.path.with_suffix(".plate.png")
    assert saved.settings.plate == str(kept) and kept.is_file()
    window.delete_preset("Desk")
    assert not kept.exists()


def test_capture_without_a_picture_says_so(qapp, window_on, empty_room, tmp_path):
    window = window_on(tmp_path / "missing.mp4", Nobody())
    assert not window.plate_box.start_capture() and "no camera picture" in window.plate_box.status.text()


def test_a_refused_capture_keeps_the_previous_plate(qapp, window_on, empty_room, tmp_path):
    clip, room = empty_room
    old = tmp_path / "old.png"
    cv2.imwrite(str(old), room)
    window = window_on(clip, StubMatter())
    window._change(plate=str(old))
    box = capture(qapp, window)
    assert "refused" in box.status.text() and "previous plate is kept" in box.status.text()
    assert window.settings.plate == str(old)
