"""Encode → decode round trips: alpha channels, audio, exact frame rates, variable frame rate, order."""
import socket
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from clips import frame_id, make_clip, read_all
from livematte.errors import InputError, OutputError
from livematte.media import VideoReader
from livematte.writers import output_kind
from livematte.offline import convert_video


def _convert(tiny_matter, src, out, **kw):
    kw.setdefault("progress", False)
    return convert_video(src, out, matter=tiny_matter, **kw)


def test_mp4_composite_keeps_frames_timing_and_audio(tiny_matter, clip, tmp_path):
    out = tmp_path / "out.mp4"
    result = _convert(tiny_matter, clip, out)
    src_frames, src_pts, src_tb, src_rate, src_audio = read_all(clip)
    frames, pts, tb, rate, audio = read_all(out)
    assert result.completed and result.frames_written == len(src_frames) == len(frames)
    assert rate == src_rate == Fraction(30000, 1001)
    assert [p * tb for p in pts] == [p * src_tb for p in src_pts]
    assert audio == src_audio > 0


def test_ntsc_rate_stays_exact_for_every_container(tiny_matter, clip, tmp_path):
    expected = [Fraction(1001 * i, 30000) for i in range(12)]
    for ext in (".mov", ".webm"):
        out = tmp_path / f"out{ext}"
        _convert(tiny_matter, clip, out, background="transparent")
        frames, pts, tb, rate, _ = read_all(out)
        assert len(frames) == 12, ext
        times = [p * tb for p in pts]
        if ext == ".mov":
            assert times == expected and rate == Fraction(30000, 1001)
        else:  # WebM (Matroska) stores milliseconds: each timestamp is the exact one rounded to 1 ms
            assert tb == Fraction(1, 1000)
            assert all(abs(t - e) <= Fraction(1, 2000) for t, e in zip(times, expected)), (ext, times)


def test_variable_frame_rate_is_kept(tiny_matter, tmp_path):
    src = make_clip(tmp_path / "vfr.mp4", frames=10, vfr=True)
    out = tmp_path / "out.mp4"
    _convert(tiny_matter, src, out)
    _, src_pts, src_tb, _, _ = read_all(src)
    _, pts, tb, _, _ = read_all(out)
    durations = {b - a for a, b in zip(src_pts, src_pts[1:])}
    assert len(durations) > 1  # the source really is VFR
    assert [p * tb for p in pts] == [p * src_tb for p in src_pts]


@pytest.mark.parametrize("ext", [".mov", ".webm"])
def test_transparent_video_decodes_back_with_alpha(tiny_matter_factory, clip, tmp_path, ext):
    out = tmp_path / f"out{ext}"
    m = tiny_matter_factory()
    expected = [m(f.rgb) for f in VideoReader(clip)]
    m.reset()
    _convert(m, clip, out, background="transparent")
    frames, _, _, _, audio = read_all(out)
    assert len(frames) == 12 and frames[0].shape == (48, 64, 4)
    decoded_alpha = np.stack([f[..., 3] for f in frames]).astype(np.float32) / 255
    # the random model's alpha varies across the frame: the decoded alpha must follow it
    assert np.abs(decoded_alpha - np.stack(expected)).mean() < 0.05
    assert audio > 0


def test_rgba_output_type_to_mp4_is_refused(tiny_matter, clip, tmp_path):
    with pytest.raises(OutputError, match="transparency"):
        _convert(tiny_matter, clip, tmp_path / "out.mp4", output_type="rgba")


def test_png_sequence_has_one_file_per_frame_in_order(tiny_matter, clip, tmp_path):
    folder = tmp_path / "seq"
    _convert(tiny_matter, clip, folder, background="none")  # the original frame: identity blocks intact
    files = sorted(folder.glob("*.png"))
    assert [f.name for f in files] == [f"{i:05d}.png" for i in range(12)]
    import cv2

    ids = [frame_id(cv2.imread(str(f))[..., ::-1]) for f in files]
    expected = [frame_id(f.rgb) for f in VideoReader(clip)]
    assert ids == expected


def test_png_pattern_output(tiny_matter, clip, tmp_path):
    _convert(tiny_matter, clip, tmp_path / "frame_%04d.png", output_type="alpha")
    assert len(list(tmp_path.glob("frame_*.png"))) == 12


def test_threaded_pipeline_keeps_frame_order(tiny_matter, tmp_path):
    src = make_clip(tmp_path / "long.mp4", frames=40)
    out = tmp_path / "seq"
    convert_video(src, out, matter=tiny_matter, background="none", progress=False, queue_size=1)
    import cv2

    got = [frame_id(cv2.imread(str(f))[..., ::-1]) for f in sorted(out.glob("*.png"))]
    assert got == [frame_id(f.rgb) for f in VideoReader(src)]


def test_output_kind_by_extension(tmp_path):
    assert output_kind(tmp_path / "a.mp4") == "video"
    assert output_kind(tmp_path / "frames") == "png-sequence"
    assert output_kind(tmp_path / "f_%05d.png") == "png-sequence"
    with pytest.raises(OutputError):
        output_kind(tmp_path / "a.avi")
    with pytest.raises(OutputError):
        output_kind(tmp_path / "a.mkv")


def test_reader_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        VideoReader(tmp_path / "missing.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        VideoReader(empty)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 100)
    with pytest.raises(InputError):
        VideoReader(text)


def test_truncated_video_gives_error_or_partial_frames(tmp_path):
    src = make_clip(tmp_path / "c.mp4", frames=20)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    try:
        n = sum(1 for _ in VideoReader(cut))
    except InputError:
        return
    assert 0 < n <= 20


def test_interrupt_finalizes_a_playable_partial_file(tiny_matter, tmp_path):
    src = make_clip(tmp_path / "long.mp4", frames=40, audio=True)
    out = tmp_path / "out.mp4"

    def interrupt_after_10(n):
        if n == 10:
            raise KeyboardInterrupt

    from livematte.offline import ConversionInterrupted

    with pytest.raises(ConversionInterrupted) as stop:
        convert_video(src, out, matter=tiny_matter, progress=False, on_frame=interrupt_after_10)
    assert stop.value.result.frames_written >= 10 and stop.value.result.output == out
    frames, pts, _, _, audio = read_all(out)  # the partial file is in place and decodes
    assert 10 <= len(frames) < 40 and audio > 0
    assert not list(tmp_path.glob(".*partial*"))


@pytest.mark.shared
def test_real_clip_keeps_frame_count_rate_and_audio(shared, tiny_matter, tmp_path):
    src = shared / "data" / "video" / "talking_head_man_map_25fps_audio.mp4"
    out = tmp_path / "out.mp4"
    _convert(tiny_matter, src, out, background="blur")
    src_frames, src_pts, src_tb, src_rate, src_audio = read_all(src)
    frames, pts, tb, rate, audio = read_all(out)
    assert len(frames) == len(src_frames) == 125 and rate == src_rate == 25
    assert [p * tb for p in pts] == [p * src_tb for p in src_pts]
    assert audio == src_audio > 0


def test_frames_without_timestamps_are_spaced_one_frame_apart(tmp_path):
    from livematte.writers import VideoWriter

    out = tmp_path / "o.mp4"
    w = VideoWriter(out, 64, 48, Fraction(1, 12800), Fraction(25), alpha=False)
    for _ in range(5):
        w.write(np.zeros((48, 64, 3), np.uint8), None)
    w.close()
    _, pts, tb, rate, _ = read_all(out)
    assert [p * tb for p in pts] == [Fraction(i, 25) for i in range(5)] and rate == 25


def test_failed_run_leaves_existing_output_untouched(clip, tmp_path):
    from livematte.engine import Matter

    class FailingMatter(Matter):  # the model fails on the 5th frame
        calls = 0

        def __call__(self, rgb):
            self.calls += 1
            if self.calls == 5:
                raise RuntimeError("model crashed")
            return super().__call__(rgb)

    out = tmp_path / "out.mp4"
    out.write_bytes(b"the user's earlier render")
    matter = FailingMatter(model="shm-tiny", weights=None, tnet_size=64, mnet_size=64, device="cpu", backend="torch")
    with pytest.raises(RuntimeError, match="model crashed"):
        convert_video(clip, out, matter=matter, overwrite=True, progress=False)
    assert out.read_bytes() == b"the user's earlier render"
    assert not list(tmp_path.glob(".*partial*"))


def test_overwriting_a_png_sequence_leaves_no_stale_frames(tiny_matter, tmp_path):
    folder = tmp_path / "seq"
    _convert(tiny_matter, make_clip(tmp_path / "long.mp4", frames=20), folder, output_type="alpha")
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="overwrite"):
        _convert(tiny_matter, make_clip(tmp_path / "short.mp4", frames=6), folder, output_type="alpha")
    _convert(tiny_matter, tmp_path / "short.mp4", folder, output_type="alpha", overwrite=True)
    assert sorted(p.name for p in folder.glob("*.png")) == [f"{i:05d}.png" for i in range(6)]
    assert (folder / "notes.txt").read_text() == "mine"  # files that are not frames are left alone


def _fail_at_frame_5(exc_type):
    def on_frame(n):
        if n == 5:
            raise exc_type("stop here")
    return on_frame


@pytest.mark.parametrize("out_name", ["seq", "frame_%04d.png"])
def test_failed_or_interrupted_overwrite_leaves_the_old_png_sequence_untouched(tiny_matter, tmp_path, out_name):
    out = tmp_path / out_name
    _convert(tiny_matter, make_clip(tmp_path / "old.mp4", frames=8), out, output_type="alpha")
    before = {p.name: p.read_bytes() for p in tmp_path.glob("**/*.png")}
    src = make_clip(tmp_path / "new.mp4", frames=12, width=48, height=32)  # other frames: other bytes
    for stop in (RuntimeError, KeyboardInterrupt):
        with pytest.raises(stop):
            _convert(tiny_matter, src, out, output_type="alpha", overwrite=True, on_frame=_fail_at_frame_5(stop))
        assert {p.name: p.read_bytes() for p in tmp_path.glob("**/*.png")} == before
        assert not list(tmp_path.glob(".*partial*"))
    result = _convert(tiny_matter, src, out, output_type="alpha", overwrite=True)  # a finished run replaces them
    assert result.completed and len(list(tmp_path.glob("**/*.png"))) == 12 and not list(tmp_path.glob(".*partial*"))


def test_interrupted_new_png_sequence_keeps_its_frames(tiny_matter, tmp_path):
    from livematte.offline import ConversionInterrupted

    folder = tmp_path / "seq"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has ended: its lock and partial folder are a crashed run's
    (tmp_path / ".seq.lock").write_text(f"{socket.gethostname()} {pid}\n")
    (tmp_path / f".seq.partial-{pid}").mkdir()
    (tmp_path / f".seq.partial-{pid}" / "00099.png").write_bytes(b"left by a crashed run")
    with pytest.raises(ConversionInterrupted) as stop:
        _convert(tiny_matter, make_clip(tmp_path / "c.mp4", frames=12), folder, output_type="alpha",
                 on_frame=_fail_at_frame_5(KeyboardInterrupt))
    written = stop.value.result.frames_written
    assert sorted(p.name for p in folder.glob("*.png")) == [f"{i:05d}.png" for i in range(written)]
    assert not list(tmp_path.glob(".*partial*")) and not list(tmp_path.glob(".*lock"))


@pytest.mark.parametrize("ext", [".mp4", ".mov", ".webm"])
def test_alpha_matte_into_a_video_file_is_a_grey_picture_of_the_matte(clip, tmp_path, ext):
    from fakes import StubMatter

    out = tmp_path / f"matte{ext}"
    result = convert_video(clip, out, matter=StubMatter(), output_type="alpha", progress=False)
    frames = [f.rgb.astype(int) for f in VideoReader(out)]
    assert result.frames_written == len(frames) == 12
    h, w = frames[0].shape[:2]
    for rgb in frames:
        assert np.abs(rgb - rgb[..., :1]).max() <= 8  # grey: R = G = B up to chroma rounding
        assert rgb[h // 2 - 4:h // 2 + 4, w // 2 - 4:w // 2 + 4].min() >= 245  # the stub's opaque centre
        assert rgb[:h // 8, :w // 8].max() <= 10  # and its clear corner


def test_interrupt_with_a_failing_close_reports_the_close_error_not_a_finished_partial_file(clip, tmp_path,
                                                                                             monkeypatch):
    from livematte import offline, writers
    from fakes import StubMatter

    def interrupted_run(self):
        raise KeyboardInterrupt

    def failing_close(self, complete=True):
        raise OutputError("disk full")

    monkeypatch.setattr(offline.Pipeline, "run", interrupted_run)
    monkeypatch.setattr(writers.VideoWriter, "close", failing_close)
    out = tmp_path / "out.mp4"
    with pytest.raises(OutputError, match="disk full"):
        convert_video(clip, out, matter=StubMatter(), progress=False)
    assert not out.exists() and not list(tmp_path.glob(".out*"))
