"""Clean-plate mode from the command line and in the live path: --plate FILE|auto|capture, errors, status."""
import re
from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from fakes import FakeEngine
from livematte.cli import main
from livematte.cli.plates import auto_plate, capture_plate
from livematte.errors import InputError
from livematte.live.frames import CapturedFrame
from livematte.live.processor import FrameProcessor
from livematte.plate import PLATE_CHANGED
from livematte.presets import Settings
from test_plate import shifted_clip

TINY = ["--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64"]


@pytest.fixture(autouse=True)
def _private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVEMATTE_CONFIG_DIR", str(tmp_path / "config"))


def write_clip(path, frames, fps=25):
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=fps)
        v.height, v.width = frames[0].shape[:2]
        v.pix_fmt = "yuv444p"
        v.options = {"crf": "4", "preset": "ultrafast", "bf": "0"}
        for f in frames:
            for p in v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in v.encode(None):
            c.mux(p)
    return path


@pytest.fixture
def locked_off(tmp_path):
    """A person walking across a locked-off background (160×120), and that background as a PNG."""
    frames, alphas, plate = shifted_clip(frames=30, shift_at=(99, 99))
    png = tmp_path / "plate.png"
    cv2.imwrite(str(png), cv2.cvtColor(plate, cv2.COLOR_RGB2BGR))
    return write_clip(tmp_path / "locked.mp4", frames), png, plate


class PersonByColour:
    """The automatic matte of ``shifted_clip``'s person, found by its colour (a model that knows)."""

    def __init__(self):
        self.resets = 0

    def __call__(self, rgb):
        return (np.abs(rgb.astype(int) - (250, 10, 250)).sum(axis=2) < 90).astype(np.float32)

    def reset(self):
        self.resets += 1


def test_video_with_a_plate_file(locked_off, tmp_path, capsys):
    clip, png, _ = locked_off
    assert main(["video", str(clip), "-o", str(tmp_path / "out.mp4"), "--plate", str(png), *TINY,
                 "--no-progress"]) == 0
    assert "30 frames" in capsys.readouterr().out


def test_video_plate_auto_on_a_locked_off_clip(locked_off, tmp_path, capsys):
    clip, _, plate = locked_off
    auto = auto_plate(clip, PersonByColour())
    assert auto.covered > 0.95 and auto.plate.shape == plate.shape
    assert np.median(np.abs(auto.plate.astype(int) - plate)[auto.coverage]) <= 4
    assert main(["video", str(clip), "-o", str(tmp_path / "out.mp4"), "--plate", "auto", *TINY,
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"--plate auto: (plate from \d+ frames covers \d+%|the person never left)", err)


def test_image_with_a_plate_and_plate_errors(locked_off, tmp_path, capsys):
    clip, png, _ = locked_off
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), cv2.imread(str(png)))
    assert main(["image", str(photo), "-d", str(tmp_path), "--plate", str(png), *TINY]) == 0
    square = tmp_path / "square.png"
    cv2.imwrite(str(square), np.zeros((50, 50, 3), np.uint8))
    assert main(["image", str(photo), "-d", str(tmp_path), "--overwrite", "--plate", str(square), *TINY]) == 2
    assert main(["image", str(photo), "-d", str(tmp_path), "--overwrite", "--plate", "auto", *TINY]) == 2
    assert main(["video", str(clip), "-o", str(tmp_path / "o.mp4"), "--plate", str(tmp_path / "none.png"),
                 *TINY]) == 2
    err = capsys.readouterr().err
    assert "aspect" in err and "builds the plate from a video" in err and "image not found" in err
    assert err.count("livematte: error:") == 3 and "Traceback" not in err


def test_a_plate_without_trained_plate_weights_is_a_clear_error(locked_off, tmp_path, capsys, monkeypatch):
    from livematte.models import registry

    clip, png, _ = locked_off
    shipped = registry.default_weights_path  # a checkout whose plate weights are missing: the automatic ones only
    monkeypatch.setattr(registry, "default_weights_path",
                        lambda name: tmp_path / f"{name}.pt" if name.endswith("-plate") else shipped(name))
    assert main(["video", str(clip), "-o", str(tmp_path / "o.mp4"), "--plate", str(png), "--model", "shm-lite",
                 "--tnet-size", "64", "--mnet-size", "64", "--tnet-passes", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "livematte: error: clean-plate mode needs trained 'shm-lite-plate' weights" in err
    assert not (tmp_path / "o.mp4").exists()


def test_live_with_a_plate_file_and_ui_capture_refused(locked_off, capsys):
    clip, png, _ = locked_off
    assert main(["live", "--camera", str(clip), "--frames", "4", "--plate", str(png), *TINY]) == 0
    assert main(["ui", "--camera", str(clip), "--plate", "capture", *TINY]) == 2
    assert "Capture background button" in capsys.readouterr().err


def test_live_plate_capture_saves_and_uses_it(locked_off, tmp_path, monkeypatch, capsys):
    clip, _, _ = locked_off
    monkeypatch.setattr("livematte.cli.plates.COUNTDOWN", 1)
    monkeypatch.setattr("livematte.plate.refuse_person", lambda alphas: None)  # a random model sees anything
    assert main(["live", "--camera", str(clip), "--frames", "3", "--plate", "capture", *TINY]) == 0
    err = capsys.readouterr().err
    assert "step out of the frame: 1" in err and "plate saved to" in err
    saved = list((tmp_path / "config" / "plates").glob("plate-*.png"))
    assert len(saved) == 1 and cv2.imread(str(saved[0])).shape == (120, 160, 3)


class ListSource:
    fps = 30.0

    def __init__(self, frames):
        self.list = frames

    def frames(self, stop):
        for i, f in enumerate(self.list):
            if stop.is_set():
                return
            yield CapturedFrame(i, f, 0.0)


def test_capture_averages_a_second_and_refuses_a_person():
    frames, _, plate = shifted_clip(frames=40, shift_at=(99, 99))
    empty = [np.clip(plate + np.random.default_rng(i).normal(0, 4, plate.shape), 0, 255).astype(np.uint8)
             for i in range(40)]
    said = []
    nobody = PersonByColour()
    got = capture_plate(ListSource(empty), nobody, seconds=1.0, countdown=0, say=said.append)
    assert np.abs(got.astype(int) - plate).mean() < 1.5  # the noise averaged away
    with pytest.raises(InputError, match="still shows a person"):
        capture_plate(ListSource(frames), PersonByColour(), countdown=0, say=said.append)


def test_the_status_says_when_the_plate_stops_fitting(locked_off):
    _, png, plate = locked_off

    class Changing(FakeEngine):
        def __call__(self, rgb):
            return np.zeros(rgb.shape[:2], np.float32)

    engine = Changing()
    processor = FrameProcessor(engine, Settings(background="colour", plate=str(png)))
    frame = CapturedFrame(0, plate.copy(), 0.0)
    processor.matte(frame)
    assert engine.settings[-1] == ("plate", plate.shape) and processor.plate_note == ""
    engine.plate_status = "changed"
    processor.matte(frame)
    assert processor.plate_note == PLATE_CHANGED
    processor.update(Settings(background="colour", plate=str(png) + ".missing"))
    processor.matte(frame)
    assert processor.plate_note.startswith("plate: image not found") and engine.plate_status == "off"


# -- eval --plate and bench --plate -----------------------------------------------------------------------------

def test_plate_eval_rows_with_and_without_the_plate(tiny_matter_factory):
    from livematte.evaluate import markdown_table
    from livematte.evaluate_plate import PlateEvalData, evaluate_plate_model, walking_clip

    frames, alphas, plate = shifted_clip(frames=3, shift_at=(99, 99))
    fg = np.full((120, 160, 3), (250, 10, 250), np.uint8)
    clip, back = walking_clip(fg, alphas[0], plate, np.random.default_rng(0), frames=5, size=(96, 64))
    assert len(clip) == 5 and clip[0].shape == (64, 96, 3) and back.shape == (64, 96, 3)
    data = PlateEvalData([(f, a, plate) for f, a in zip(frames, alphas)], clip, back)
    matter = tiny_matter_factory()
    rows = [evaluate_plate_model("ours + plate", matter, data, plate=True),
            evaluate_plate_model("ours", matter, data, plate=False)]
    assert matter.plate_status == "off"  # left in automatic mode
    assert all({"iou", "sad", "mse", "grad", "conn", "flicker", "edge_flicker"} <= set(r) for r in rows)
    assert rows[0]["plate_used"] == 1.0 and "plate_used" not in rows[1]  # the clip's plate fits all along
    assert "ours + plate" in markdown_table(rows) and "| 100% |" in markdown_table(rows)


def test_plate_eval_counts_the_clip_frames_on_the_plate():
    from livematte.evaluate_plate import PlateEvalData, evaluate_plate_model

    class Falls:  # an engine whose mismatch check gives up on the plate after the second frame
        def __init__(self):
            self.frames = 0
            self.plate = None

        def reset(self):
            self.frames = 0

        def set_plate(self, rgb):
            self.plate = rgb

        @property
        def plate_status(self):
            return "off" if self.plate is None else "fits" if self.frames <= 2 else "changed"

        def __call__(self, rgb):
            self.frames += 1
            return np.zeros(rgb.shape[:2], np.float32)

    frames, alphas, plate = shifted_clip(frames=5, shift_at=(99, 99))
    data = PlateEvalData([(frames[0], alphas[0], plate)], frames, plate)
    assert evaluate_plate_model("falls", Falls(), data, plate=True)["plate_used"] == 2 / 5
    assert "plate_used" not in evaluate_plate_model("auto", Falls(), data, plate=False)


def test_bench_plate_row_and_its_ratio(tiny_matter_factory, capsys):
    from livematte.bench import format_report, run_bench

    models = {"ours": tiny_matter_factory(), "ours + plate": tiny_matter_factory()}
    results = run_bench(models, ["96x64", "64x64"], seconds=0.3, offline_frames=0, log=lambda m: None, rounds=1,
                        plated=frozenset(["ours + plate"]))
    assert {(r["size"], r["model"]) for r in results["live"]} == {(s, m) for s in ("96x64", "64x64") for m in models}
    assert models["ours + plate"].plate_status == "fits"
    assert "clean-plate mode's inference" in format_report(results, "ours", None)
    assert main(["bench", "--plate", "--sizes", "64x48", "--seconds", "0.3", "--rounds", "1", "--offline-frames",
                 "0", *TINY]) == 0
    assert "livematte shm-tiny + plate" in capsys.readouterr().out
    assert main(["bench", "--plate", "--sizes", "64x48", "--model", "shm-tiny"]) == 2
    assert "trained 'shm-tiny-plate' weights" in capsys.readouterr().err


def test_ui_with_a_plate_file(locked_off, tmp_path, capsys):
    pytest.importorskip("PyQt5.QtWidgets")
    clip, png, _ = locked_off
    shot = tmp_path / "ui.png"
    assert main(["ui", "--camera", str(clip), "--plate", str(png), "--screenshot", str(shot), "--frames", "3",
                 *TINY]) == 0
    assert shot.is_file()


def test_a_preset_names_its_plate_beside_it(tmp_path):
    from livematte.presets import PresetStore

    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "desk.toml").write_text('name = "Desk"\nplate = "desk.plate.png"\n')
    assert PresetStore(folder).get("Desk").plate == str(folder / "desk.plate.png")
    (folder / "bad.toml").write_text('name = "Bad"\nplate = 3\n')
    store = PresetStore(folder)
    store.load()
    assert any("plate must be text" in p for p in store.problems)
