"""Many files (#26): each form of input and output, resume, the failure summary and exit codes, several outputs from
one decode, edge controls, workers, the progress display."""
import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from clips import frame_id, frame_image, make_clip, read_all
from livematte.cli import main

TINY = ["--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64", "--tnet-passes", "1",
        "--no-progress"]


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def shoot(tmp_path):
    """A folder of takes: two clips, one in a subfolder, a note that is not a video."""
    folder = tmp_path / "shoot"
    (folder / "day2").mkdir(parents=True)
    make_clip(folder / "a.mp4", frames=4, audio=True)
    make_clip(folder / "b.mov", frames=4)
    make_clip(folder / "day2" / "c.mp4", frames=4)
    (folder / "notes.txt").write_text("not a video")
    return folder


def test_a_folder_and_its_subfolders_keep_names_and_relative_folders(shoot, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["video", str(shoot), "-o", str(out), *TINY]) == 0
    assert _tree(out) == ["a_composite.mp4", "b_composite.mp4"]
    assert main(["video", str(shoot), "--recursive", "-o", str(out), *TINY]) == 0  # resumes: a and b exist
    assert _tree(out) == ["a_composite.mp4", "b_composite.mp4", "day2/c_composite.mp4"]
    err = capsys.readouterr().err
    assert "skipped 2 existing" in err
    frames, pts, _, _, audio = read_all(out / "a_composite.mp4")
    assert len(frames) == 4 and audio > 0


def test_globs_and_several_files(shoot, tmp_path):
    out = tmp_path / "out"
    assert main(["video", str(shoot / "*.mp4"), "-o", str(out), *TINY]) == 0
    assert _tree(out) == ["a_composite.mp4"]
    assert main(["video", str(shoot / "**" / "*.mp4"), "--recursive", "-o", str(out), *TINY]) == 0
    assert _tree(out) == ["a_composite.mp4", "day2/c_composite.mp4"]
    out2 = tmp_path / "beside"
    assert main(["video", str(shoot / "a.mp4"), str(shoot / "b.mov"), "-o", str(out2), "--format", "webm",
                 "-b", "transparent", *TINY]) == 0
    assert _tree(out2) == ["a_transparent.webm", "b_transparent.webm"]
    assert main(["video", str(shoot / "*.nothing"), *TINY]) == 2


@pytest.mark.parametrize("form", ["folder", "pattern"])
def test_image_sequences_in_at_their_frame_rate(tmp_path, form):
    frames = tmp_path / "plate"
    frames.mkdir()
    for i in range(5):
        cv2.imwrite(str(frames / f"plate_{i + 1:05d}.png"), frame_image(i, 48, 32)[..., ::-1])
    src = frames if form == "folder" else frames / "plate_%05d.png"
    out = tmp_path / "plate.mov"
    assert main(["video", str(src), "-o", str(out), "--fps", "24000/1001", "-b", "none", *TINY]) == 0
    decoded, pts, tb, rate, _ = read_all(out)
    assert len(decoded) == 5 and rate == Fraction(24000, 1001)
    assert [p * tb for p in pts] == [i * Fraction(1001, 24000) for i in range(5)]
    assert main(["video", str(src), "-o", str(tmp_path / "o.mp4"), "--fps", "0", *TINY]) == 2


def test_png_sequences_out_of_a_batch(shoot, tmp_path):
    out = tmp_path / "out"
    assert main(["video", str(shoot), "-o", str(out), "--format", "png", "-t", "alpha", *TINY]) == 0
    assert _tree(out) == [f"{n}_alpha/{i:05d}.png" for n in "ab" for i in range(4)]


def test_several_outputs_from_one_decode_have_the_same_frames_and_timestamps(tmp_path, monkeypatch):
    import livematte.media as media

    opened = []

    class Counting(media.VideoReader):
        def __init__(self, path):
            opened.append(path)
            super().__init__(path)

    monkeypatch.setattr(media, "VideoReader", Counting)
    clip = make_clip(tmp_path / "take.mp4", frames=6, vfr=True, audio=True)
    out = tmp_path / "out"
    assert main(["video", str(clip), "-o", str(out), "-t", "composite,alpha,rgba", "-b", "none", *TINY]) == 0
    assert len(opened) == 1  # one decode for the three outputs
    assert _tree(out) == ["take_alpha.mp4", "take_composite.mp4", "take_rgba.mov"]
    runs = {name: read_all(out / name) for name in _tree(out)}
    pts = {name: [p * r[2] for p in r[1]] for name, r in runs.items()}
    assert pts["take_composite.mp4"] == pts["take_alpha.mp4"] == pts["take_rgba.mov"] and len(pts["take_rgba.mov"]) == 6
    composite, rgba = runs["take_composite.mp4"][0], runs["take_rgba.mov"][0]
    alpha = runs["take_alpha.mp4"][0]
    ids = [frame_id(frame_image(i, 64, 48)) for i in range(6)]
    assert all(abs(frame_id(c) - i) <= 8 for c, i in zip(composite, ids))  # -b none: the frames, in order
    for a, m in zip(rgba, alpha):  # the same matte in both, frame by frame
        assert np.abs(a[..., 3].astype(int) - m[..., 0].astype(int)).mean() < 6


def test_a_failing_file_is_reported_at_the_end_and_the_others_go_on(shoot, tmp_path, capsys):
    (shoot / "broken.mp4").write_bytes(b"garbage" * 100)
    out = tmp_path / "out"
    assert main(["video", str(shoot), "-o", str(out), *TINY]) == 1
    err = capsys.readouterr().err
    assert _tree(out) == ["a_composite.mp4", "b_composite.mp4"]
    assert "2 done, 1 failed" in err and f"failed: {shoot / 'broken.mp4'}: cannot read" in err
    assert not [p for p in out.rglob(".*")]  # no partial file or lock left behind


@pytest.mark.parametrize("argv", [["--workers", "0"], ["-t", "composite,bogus"], ["--feather", "21"],
                                  ["--threshold", "0.01"], ["--shrink", "-1"], ["--workers", "2", "--ray"]])
def test_bad_batch_options_exit_2_before_any_work(shoot, tmp_path, capsys, argv):
    out = tmp_path / "out"
    assert main(["video", str(shoot), "-o", str(out), *argv, *TINY]) == 2
    assert not out.exists() and "Traceback" not in capsys.readouterr().err


def test_missing_input_in_a_batch_is_refused_before_any_work(shoot, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["video", str(shoot / "a.mp4"), str(shoot / "missing.mp4"), "-o", str(out), *TINY]) == 2
    assert "missing.mp4" in capsys.readouterr().err and not out.exists()


def test_interrupted_batch_exits_130_and_the_rerun_does_the_rest(shoot, tmp_path, monkeypatch, capsys):
    import livematte.workers as workers

    real = workers.process_job
    calls = []

    def interrupt_second(index, job, settings, on_frame=None):
        calls.append(index)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(index, job, settings, on_frame)

    monkeypatch.setattr(workers, "process_job", interrupt_second)
    out = tmp_path / "out"
    assert main(["video", str(shoot), "--recursive", "-o", str(out), *TINY]) == 130
    assert "1 done" in capsys.readouterr().err and len(_tree(out)) == 1
    monkeypatch.setattr(workers, "process_job", real)
    assert main(["video", str(shoot), "--recursive", "-o", str(out), *TINY]) == 0
    assert "skipped 1 existing" in capsys.readouterr().err and len(_tree(out)) == 3


def test_an_interrupted_file_in_a_batch_leaves_no_output_to_skip_on_resume(tmp_path, tiny_matter):
    from livematte.offline import convert_video

    clip = make_clip(tmp_path / "c.mp4", frames=12)
    out = tmp_path / "c_composite.mp4"

    def stop(n):
        if n == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert_video(clip, out, matter=tiny_matter, progress=False, on_frame=stop, keep_interrupted=False)
    assert not out.exists() and not list(tmp_path.glob(".*"))


class Ramp:
    """A matte that rises left to right, 0 to 1: what each edge control does to it is known."""

    trained = True

    def reset(self):
        pass

    def __call__(self, rgb):
        h, w = rgb.shape[:2]
        return np.tile(np.linspace(0, 1, w, dtype=np.float32), (h, 1))


def test_edge_controls_for_video_and_image(tmp_path, monkeypatch):
    import livematte.cli.image
    import livematte.cli.video

    monkeypatch.setattr(livematte.cli.image, "make_matter", lambda config: Ramp())
    monkeypatch.setattr(livematte.cli.video, "make_matter", lambda config: Ramp())
    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), np.full((48, 64, 3), 128, np.uint8))
    alpha = {}
    for name, extra in {"plain": [], "hard": ["--threshold", "0.5"], "shrunk": ["--threshold", "0.5", "--shrink", "3"],
                        "soft": ["--threshold", "0.5", "--feather", "4"]}.items():
        out = tmp_path / name
        assert main(["image", str(photo), "-o", str(out), "-t", "alpha,rgba", *extra, *TINY]) == 0
        alpha[name] = cv2.imread(str(out / "p_alpha.png"), cv2.IMREAD_GRAYSCALE).astype(int)
        assert np.array_equal(cv2.imread(str(out / "p_rgba.png"), cv2.IMREAD_UNCHANGED)[..., 3], alpha[name])
    assert len(np.unique(alpha["plain"])) > 30
    assert set(np.unique(alpha["hard"])) == {0, 255} and (alpha["hard"][0] == 255).sum() == 32
    assert (alpha["shrunk"][24] == 255).sum() == 29  # three columns in from the cut
    soft = alpha["soft"][24]
    assert soft[0] == 0 and soft[-1] == 255 and 0 < soft[32] < 255  # blurred across the cut
    clip = make_clip(tmp_path / "c.mp4", frames=3)
    assert main(["video", str(clip), "-o", str(tmp_path / "m.mp4"), "-t", "alpha", "--threshold", "0.5", *TINY]) == 0
    frames, *_ = read_all(tmp_path / "m.mp4")
    grey = np.concatenate([f[..., 0].ravel() for f in frames])
    assert np.mean((grey > 24) & (grey < 231)) < 0.1  # a hard matte, up to H.264's rounding at the cut


def test_images_folder_resume_and_default_names(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("x.jpg", "y.png"):
        cv2.imwrite(str(photos / name), np.full((20, 24, 3), 128, np.uint8))
    assert main(["image", str(photos), *TINY]) == 0
    assert _tree(photos) == ["x.jpg", "x_rgba.png", "y.png", "y_rgba.png"]
    assert main(["image", str(photos / "*.jpg"), str(photos / "y.png"), *TINY]) == 0  # outputs are not inputs
    assert "skipped 2 existing" in capsys.readouterr().err


@pytest.mark.slow
def test_two_workers_convert_a_batch(shoot, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["video", str(shoot), "--recursive", "-o", str(out), "--workers", "2", *TINY]) == 0
    assert _tree(out) == ["a_composite.mp4", "b_composite.mp4", "day2/c_composite.mp4"]
    for name in _tree(out):
        assert len(read_all(out / name)[0]) == 4
    assert "on 2 worker(s)" in capsys.readouterr().err


def test_the_progress_display_counts_files_frames_and_time_left():
    import io

    from livematte.progress import BatchProgress
    from livematte.workers import Outcome

    stream = io.StringIO()
    progress = BatchProgress(["a.mp4", "b.mp4"], stream=stream)
    progress.tty = True
    progress.event(("start", 0))
    progress.event(("frame", 0, 10))
    assert progress.line().startswith("[0/2 files] a.mp4 10 |")
    progress.event(("done", Outcome(0, True, frames=10, seconds=1.0)))
    assert progress.line().startswith("[1/2 files] - |") and "ETA" in progress.line()


def test_ray_missing_says_how_to_install_it(shoot, tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    assert main(["video", str(shoot), "-o", str(tmp_path / "out"), "--ray", *TINY]) == 2
    assert "pip install 'livematte[ray]'" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_default_workers_fit_the_machine(monkeypatch):
    from livematte import workers

    monkeypatch.setattr(workers, "usable_cores", lambda: 8)
    assert workers.default_workers(100) == 4 and workers.default_workers(2) == 2
    monkeypatch.setattr(workers, "usable_cores", lambda: 2)
    assert workers.default_workers(100) == 1



@pytest.mark.slow
def test_a_worker_process_that_dies_fails_its_file_only(tmp_path):
    """A worker killed mid-file (out of memory, say): that file is reported failed, a new worker does the rest."""
    import multiprocessing
    import signal

    from livematte.batch import Job, Source
    from livematte.config import EngineConfig
    from livematte.workers import JobSettings, run_processes

    jobs = []
    for i in range(3):
        clip = make_clip(tmp_path / f"c{i}.mp4", frames=200 if i == 0 else 3, width=160, height=120)
        jobs.append(Job(Source(clip, Path("."), clip.stem), [("composite", tmp_path / f"o{i}.mp4")]))
    engine = EngineConfig(model="shm-tiny", weights=None, tnet_size=64, mnet_size=64, tnet_passes=1, device="cpu")
    outcomes = {}

    def on_event(event):
        if event[0] == "frame" and event[1] == 0 and not outcomes.get("killed"):
            outcomes["killed"] = True
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGKILL)
        elif event[0] == "done":
            outcomes[event[1].index] = event[1]

    run_processes(jobs, JobSettings("video", engine, "green"), 1, on_event)
    assert not outcomes[0].ok and "died" in outcomes[0].message
    assert outcomes[1].ok and outcomes[2].ok and len(read_all(tmp_path / "o2.mp4")[0]) == 3
    assert not (tmp_path / "o0.mp4").exists() and not list(tmp_path.glob(".*"))  # its partial and lock removed
