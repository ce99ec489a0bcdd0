"""Live mode: edge controls, camera reopen with backoff, the fake camera, and the live pipeline from a
generated clip into a recording virtual camera (pacing, re-sends, drop-oldest, clean stop, errors)."""
import re
import threading
import time
from fractions import Fraction

import cv2
import numpy as np
import pytest

from clips import frame_id, frame_image, make_clip
from fakes import FakeCapture, FakeEngine, SlowMatter, WrappedEngine, recording_vcam  # noqa: F401 - a fixture
from livematte.config import EngineConfig
from livematte.edges import feather_alpha, refine_alpha, shrink_alpha, threshold_alpha
from livematte.errors import DeviceError, InputError, SettingsError
from livematte.live.frames import CapturedFrame, parse_size
from livematte.live.pacing import SendBudget
from livematte.live.processor import configure_engine, mirror_frame
from livematte.live.session import LiveSession
from livematte.live.sources import Camera, FileCamera, open_source
from livematte.live.stats import LiveStats, format_status
from livematte.presets import Settings
from livematte.ui.preview import checkerboard
from livematte.virtualcam import KEY_GREEN, VirtualCamera


@pytest.fixture(autouse=True)
def _private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("LIVEMATTE_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def camera_clip(tmp_path):
    return make_clip(tmp_path / "camera.mp4", frames=10, width=96, height=64, rate=Fraction(30))


def _wait(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# -- per-frame stages ---------------------------------------------------------------------------------------

def _disc_alpha(size=41, radius=12):
    yy, xx = np.mgrid[0:size, 0:size]
    return (((yy - size // 2) ** 2 + (xx - size // 2) ** 2) <= radius ** 2).astype(np.float32)


def test_live_edge_threshold_makes_a_binary_matte():
    alpha = np.linspace(0, 1, 101, dtype=np.float32)[None]
    assert threshold_alpha(alpha, 0.0) is alpha  # off: untouched, no cost
    cut = threshold_alpha(alpha, 0.5)
    assert set(np.unique(cut)) == {0.0, 1.0} and cut[0, 49] == 0 and cut[0, 50] == 1


def test_live_edge_shrink_moves_the_edge_in_by_n_pixels():
    alpha = _disc_alpha(radius=12)
    shrunk = shrink_alpha(alpha, 3)
    assert shrink_alpha(alpha, 0) is alpha
    assert shrunk.sum() < alpha.sum() and (shrunk <= alpha).all()
    half = np.zeros((20, 40), np.float32)
    half[:, :20] = 1.0  # a straight edge between columns 19 and 20 moves to between 16 and 17
    assert (np.flatnonzero(shrink_alpha(half, 3)[10]) == np.arange(17)).all()


def test_live_edge_feather_softens_the_edge_and_keeps_the_inside():
    alpha = _disc_alpha(radius=12)
    soft = feather_alpha(alpha, 4)
    assert soft.dtype == np.float32 and 0 <= soft.min() and soft.max() <= 1
    assert soft[20, 20] == pytest.approx(1.0, abs=1e-3) and soft[0, 0] == pytest.approx(0.0, abs=1e-3)
    edge = soft[20, 6:11]  # across the left edge: a ramp, no longer a step
    assert ((edge > 0.05) & (edge < 0.95)).sum() >= 3 and (np.diff(edge) >= 0).all()


def test_live_edge_refine_applies_threshold_then_shrink_then_feather():
    alpha = _disc_alpha(radius=12) * 0.7  # a soft matte that a threshold turns into a hard disc
    out = refine_alpha(alpha, shrink=2, feather=2, threshold=0.5)
    expected = feather_alpha(shrink_alpha(threshold_alpha(alpha, 0.5), 2), 2)
    assert np.array_equal(out, expected) and out.max() == pytest.approx(1.0, abs=1e-3)
    assert refine_alpha(alpha) is alpha


def test_live_mirror_and_checkerboard():
    rgb = frame_image(3, 40, 30)
    assert np.array_equal(mirror_frame(rgb), rgb[:, ::-1])
    board = checkerboard(30, 40, cell=10)
    assert board.shape == (30, 40, 3) and board.dtype == np.uint8
    assert board[0, 0, 0] != board[0, 10, 0] and board[0, 0, 0] == board[10, 10, 0]


def test_live_composite_over_a_background_or_the_key_colour():
    from livematte.composite import ColourBackground, TransparentBackground
    from livematte.live.processor import composite_live

    rgb = frame_image(2, 64, 48)
    alpha = np.zeros((48, 64), np.float32)
    alpha[12:36, 16:48] = 1.0
    image, fg = composite_live(rgb, alpha, ColourBackground((1, 2, 3)))
    assert (image[alpha == 0] == (1, 2, 3)).all()
    assert (np.abs(image[alpha == 1].astype(int) - rgb[alpha == 1]) <= 1).all()
    image, _ = composite_live(rgb, alpha, TransparentBackground())
    assert (image[alpha == 0] == KEY_GREEN).all()  # a virtual camera has no alpha: pure green for a keyer


def test_live_parse_size():
    assert parse_size("1280x720") == (1280, 720) and parse_size("640X480") == (640, 480)
    for bad in ("1280", "x720", "12x", "axb", "1x1", "99999x10"):
        with pytest.raises(SettingsError):
            parse_size(bad)


def test_live_send_budget_paces_to_the_rate_and_absorbs_jitter():
    budget = SendBudget(30.0, burst=2.0, now=0.0)
    # frames arriving with jitter around 30 fps all go out at once
    t = 0.0
    for gap in [0.040, 0.026, 0.036, 0.030, 0.024, 0.042]:
        t += gap
        assert budget.wait(t) == 0.0
        budget.take(t)
    # a 120 fps source is thinned to 30 sends a second
    sends, t = 0, 1.0
    budget = SendBudget(30.0, burst=2.0, now=t)
    while t < 3.0:
        t += 1 / 120
        if budget.wait(t) == 0.0:
            budget.take(t)
            sends += 1
    assert 58 <= sends <= 62

def test_live_stats_rates_latency_and_status_line():
    stats = LiveStats(window=2.0)
    start = time.perf_counter() - 1.0
    for i in range(30):  # one second at 30 sends/s, every third a repeat, 50 ms latency
        t = start + i / 30
        stats.record_send(t, None if i % 3 == 2 else t - 0.05)
    status = stats.snapshot(dropped=4)
    assert status.frames == 20 and status.resent == 10 and status.dropped == 4
    assert status.sent_fps == pytest.approx(30, rel=0.1) and status.fps == pytest.approx(20, rel=0.1)
    assert status.latency_ms == pytest.approx(50, abs=1)
    line = format_status(status)
    assert "fps out" in line and "latency" in line and "dropped 4" in line and "CPU" in line


# -- cameras ------------------------------------------------------------------------------------------------

def test_live_missing_camera_is_a_device_error_naming_the_index():
    started = time.perf_counter()
    with pytest.raises(DeviceError, match="camera 9 could not be opened"):
        Camera(9)
    assert time.perf_counter() - started < 5  # no hang


def test_live_camera_reads_back_what_it_really_gives():
    cam = Camera(0, size=(1280, 720), fps=60, open_capture=lambda i: FakeCapture(width=64, height=48))
    assert cam._cap.props[cv2.CAP_PROP_FRAME_WIDTH] == 1280  # asked for ...
    assert (cam.width, cam.height, cam.fps) == (64, 48, 30.0)  # ... and told what it really gives
    frames = cam.frames(threading.Event())
    first = next(frames)
    assert np.array_equal(first.rgb, frame_image(0, 64, 48))  # BGR from OpenCV turned into RGB
    cam.close()


def test_live_camera_that_stops_delivering_is_reopened_with_backoff():
    script = [FakeCapture(frames=3), FakeCapture(opened=False), FakeCapture(opened=False), FakeCapture(first=100)]
    attempts = []

    def open_capture(index):
        attempts.append(time.perf_counter())
        return script.pop(0)

    cam = Camera(2, open_capture=open_capture, failures_before_reopen=2, backoff=(0.05, 1.0))
    statuses, ids = [], []
    for frame in cam.frames(threading.Event()):
        ids.append(frame_id(frame.rgb))
        statuses.append(cam.status)
        if len(ids) == 6:
            break
    assert ids == [frame_id(frame_image(i, 64, 48)) for i in (0, 1, 2, 100, 101, 102)]
    assert cam.reopens == 1 and cam.status == ""
    gaps = np.diff(attempts[1:])  # reopen attempts: after 0.05, then 0.1, then 0.2 s
    assert gaps[0] >= 0.1 * 0.95 and gaps[1] >= 0.2 * 0.95  # each wait doubles
    cam.close()


def test_live_camera_reopen_waits_end_promptly_on_stop():
    script = [FakeCapture(frames=0), FakeCapture(opened=False)]  # delivers nothing, then cannot reopen
    cam = Camera(0, open_capture=lambda i: script.pop(0), failures_before_reopen=1, backoff=(5.0, 10.0))
    stop = threading.Event()
    result = []
    t = threading.Thread(target=lambda: result.extend(cam.frames(stop)))
    t.start()
    _wait(lambda: "reopening" in cam.status)
    started = time.perf_counter()
    stop.set()
    t.join(2.0)
    assert not t.is_alive() and result == [] and time.perf_counter() - started < 1.0


def test_live_file_camera_loops_at_its_frame_rate(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", frames=5, width=64, height=48, rate=Fraction(50))
    cam = FileCamera(clip)
    assert (cam.width, cam.height, cam.fps) == (64, 48, 50.0)
    started = time.perf_counter()
    frames = []
    for f in cam.frames(threading.Event()):
        frames.append(f)
        if len(frames) == 12:
            break
    elapsed = time.perf_counter() - started
    assert [f.index for f in frames] == list(range(12))
    assert [frame_id(f.rgb) for f in frames[5:10]] == [frame_id(f.rgb) for f in frames[:5]]  # looped
    assert elapsed >= 11 / 50 * 0.9  # paced like a camera, not read as fast as possible
    scaled = FileCamera(clip, size=(32, 32), fps=10)
    assert next(scaled.frames(threading.Event())).rgb.shape == (32, 32, 3) and scaled.fps == 10


def test_live_open_source_errors(tmp_path):
    with pytest.raises(InputError, match="neither a camera index"):
        open_source(str(tmp_path / "nope.mp4"))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 100)
    with pytest.raises(InputError):
        open_source(str(bad))


# -- the live pipeline ----------------------------------------------------------------------------------------

def _send_times(backend):
    return np.array([t for t, _ in backend.sent])


def test_live_pipeline_sends_paced_frames_to_the_virtual_camera(recording_vcam, camera_clip, tiny_matter):
    before = threading.active_count()
    vcam = VirtualCamera(96, 64, 20, backend="recording")
    session = LiveSession(FileCamera(camera_clip), tiny_matter, Settings(), sink=vcam, fps=20)
    status = session.run(duration=1.6)
    vcam.close()
    backend = recording_vcam.instances[0]
    assert backend.closed and backend.fps == 20
    assert all(image.shape == (64, 96, 3) and image.dtype == np.uint8 for _, image in backend.sent)
    times = _send_times(backend)
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert times[-1] - times[0] >= 1.0 and 14 <= rate <= 26  # 20 fps ± 30 %
    assert np.diff(times).max() < 0.25  # the consumer never waits long
    assert status.frames >= 10 and 0 < status.latency_ms < 1000
    assert threading.active_count() == before and not session.alive()


def test_live_pipeline_resends_and_drops_oldest_under_a_slow_stage(recording_vcam, camera_clip, tiny_matter):
    vcam = VirtualCamera(96, 64, 25, backend="recording")
    slow = SlowMatter(tiny_matter, 0.15)  # ~6.7 frames/s against a 30 fps camera
    session = LiveSession(FileCamera(camera_clip), slow, Settings(background="colour", colour="red"), sink=vcam,
                          fps=25).start()
    seen = {}
    started = time.monotonic()
    while time.monotonic() - started < 1.6:
        seq, frame = session.latest()
        if frame is not None:
            seen[seq] = frame.index
        time.sleep(0.01)
    status = session.status()
    session.close()
    session.join(1.0)
    vcam.close()
    times = _send_times(recording_vcam.instances[0])
    assert (len(times) - 1) / (times[-1] - times[0]) >= 25 * 0.7  # the output keeps its rate ...
    assert np.diff(times).max() < 0.3                              # ... and never starves
    assert status.resent > status.frames > 3                       # by sending the last frame again
    images = [image for _, image in recording_vcam.instances[0].sent]
    assert any(np.array_equal(a, b) for a, b in zip(images, images[1:]))
    indices = [seen[k] for k in sorted(seen)]
    assert indices == sorted(indices) and max(np.diff(indices)) > 1  # newest frames only: old ones dropped
    assert session.pipeline.dropped > 0
    assert status.latency_max_ms < 800  # bounded; lossless queues would grow by ~0.12 s per frame


def test_live_pipeline_applies_each_settings_snapshot(tiny_matter):
    cam = Camera(0, open_capture=lambda i: _paced(FakeCapture(width=64, height=48)))
    session = LiveSession(cam, tiny_matter, Settings(background="none"), fps=30).start()
    try:
        def frame_after(t):
            _wait(lambda: session.latest()[1] is not None and session.latest()[1].captured_at > t)
            return session.latest()[1]

        f = frame_after(0)
        assert np.array_equal(f.image, frame_image(f.index, 64, 48))  # none: the camera picture itself
        session.update(Settings(background="none", mirror=True))
        f = frame_after(time.perf_counter())
        assert np.array_equal(f.image, frame_image(f.index, 64, 48)[:, ::-1])
        session.update(Settings(background="colour", colour="red", threshold=0.5))
        f = frame_after(time.perf_counter())
        source = frame_image(f.index, 64, 48).astype(int)
        red = np.all(f.image == (220, 30, 30), axis=-1)
        person = np.all(np.abs(f.image.astype(int) - source) <= 1, axis=-1)
        assert (red | person).all()  # a hard cut: each pixel is the new background or the camera's
        session.update(Settings(background="transparent", threshold=0.5))
        f = frame_after(time.perf_counter())
        assert f.alpha is not None and f.foreground is not None  # kept for the preview's checkerboard
        behind = f.alpha < 0.5
        assert (f.image[behind] == KEY_GREEN).all()  # the virtual camera gets pure green behind the person
    finally:
        session.close()
    assert session.join(1.0) and not session.alive()


def _paced(capture, fps=30):
    read = capture.read

    def paced_read():
        time.sleep(1 / fps)
        return read()
    capture.read = paced_read
    return capture


def test_live_virtual_camera_keeps_its_last_frame_while_the_camera_is_reopened(recording_vcam, tiny_matter):
    script = [_paced(FakeCapture(frames=5)), FakeCapture(opened=False), FakeCapture(opened=False),
              _paced(FakeCapture(first=100))]
    cam = Camera(0, open_capture=lambda i: script.pop(0), failures_before_reopen=2, backoff=(0.1, 1.0))
    vcam = VirtualCamera(64, 48, 30, backend="recording")
    session = LiveSession(cam, tiny_matter, Settings(background="none"), sink=vcam, fps=30).start()
    try:
        _wait(lambda: "reopening" in session.status().note)  # the window and the CLI show this
        _wait(lambda: cam.reopens == 1 and session.latest()[1] is not None and session.latest()[1].index > 6)
    finally:
        session.close()
        vcam.close()
    sent = recording_vcam.instances[0].sent
    times = np.array([t for t, _ in sent])
    assert np.diff(times).max() < 0.2  # ~0.3 s without camera frames, and the output never paused
    ids = [frame_id(image) for _, image in sent]
    last_before = frame_id(frame_image(4, 64, 48))
    assert ids.count(last_before) >= 5  # the last frame before the outage, sent again and again
    assert ids[-1] in [frame_id(frame_image(i, 64, 48)) for i in range(100, 130)]  # then the new frames


def test_live_quality_resizes_the_matter_only_when_it_changes(tiny_matter):
    configure_engine(tiny_matter, Settings(quality="balanced", smoothing="ema", smoothing_strength=0.3))
    sizes = lambda: (tiny_matter.config.tnet_size, tiny_matter.config.mnet_size)  # noqa: E731
    assert sizes() == (64, 64)  # built for it: kept
    assert (tiny_matter.config.smoothing, tiny_matter.config.smoothing_strength) == ("ema", 0.3)
    assert (tiny_matter.smoother.mode, tiny_matter.smoother.strength) == ("ema", 0.3)
    configure_engine(tiny_matter, Settings(quality="fast"))
    assert sizes() == (192, 192)
    configure_engine(tiny_matter, Settings(quality="fast"))  # e.g. a new session after a camera switch
    assert sizes() == (192, 192)
    configure_engine(tiny_matter, Settings(quality="high"))
    assert sizes() == (320, 384)


def test_live_smoothing_state_survives_other_settings_and_restarts_when_smoothing_changes(tiny_matter):
    configure_engine(tiny_matter, Settings(smoothing="ema"))
    smoother = tiny_matter.smoother
    configure_engine(tiny_matter, Settings(smoothing="ema", feather=3))
    assert tiny_matter.smoother is smoother
    configure_engine(tiny_matter, Settings(smoothing="ema", smoothing_strength=0.2))
    assert tiny_matter.smoother is not smoother and tiny_matter.smoother.strength == 0.2


def test_quality_high_switches_a_following_engine_to_shm_and_back(tiny_matter_factory):
    """At "high", shm keeps the steadier edges and the lower gradient error (model card): the live engine changes
    models with quality, unless --model or --weights pinned it."""
    matter = tiny_matter_factory(model="shm-lite", weights="default", model_follows_quality=True)
    configure_engine(matter, Settings(quality="balanced"))
    configure_engine(matter, Settings(quality="high"))
    assert (matter.model_name, matter.trained, matter.backend) == ("shm", True, "onnx")
    assert matter(np.zeros((48, 64, 3), np.uint8)).shape == (48, 64)
    configure_engine(matter, Settings(quality="fast"))
    assert matter.model_name == "shm-lite"
    pinned = tiny_matter_factory(model="shm-lite", weights="default")  # model_follows_quality unset: pinned
    configure_engine(pinned, Settings(quality="balanced"))
    configure_engine(pinned, Settings(quality="high"))
    assert pinned.model_name == "shm-lite"


def test_high_quality_is_the_engines_offline_model_and_sizes():
    high, offline = EngineConfig.live("high"), EngineConfig.offline()
    assert (high.model, high.tnet_size, high.mnet_size) == (offline.model, offline.tnet_size, offline.mnet_size)


def test_live_pipeline_stops_cleanly_mid_stream(camera_clip, tiny_matter):
    before = threading.active_count()
    session = LiveSession(FileCamera(camera_clip), tiny_matter, Settings()).start()
    _wait(lambda: session.stats.frames >= 3)
    session.stop()
    assert session.join(timeout=3.0) is True
    session.close()
    assert not session.alive() and threading.active_count() == before


class _StuckSource:
    """A camera whose read never returns after the first frame (until ``unstick``), and whose close records
    whether the capture thread was still running at that moment."""

    name, width, height, fps = "stuck", 64, 48, 30.0

    def __init__(self):
        self.unstick = threading.Event()
        self.closed_while_capturing: bool | None = None

    def frames(self, stop):
        yield CapturedFrame(0, frame_image(0, 64, 48), time.perf_counter())
        self.unstick.wait(30)  # ignores stop, like a driver stuck in read()

    def close(self):
        self.closed_while_capturing = any(t.name == "live-source" and t.is_alive() for t in threading.enumerate())


class _StuckMatter(FakeEngine):
    def __init__(self, unstick):
        super().__init__()
        self.unstick = unstick

    def __call__(self, rgb):
        self.unstick.wait(30)
        return np.ones(rgb.shape[:2], np.float32)


def test_live_close_waits_one_deadline_for_all_threads_then_releases_the_source(tiny_matter):
    source = _StuckSource()
    session = LiveSession(source, _StuckMatter(source.unstick), Settings(background="colour")).start()
    try:
        time.sleep(0.3)  # the capture thread and the matte thread are both stuck now
        started = time.monotonic()
        session.close(timeout=1.0)
        assert time.monotonic() - started < 1.5  # not one timeout per stuck thread
        assert source.closed_while_capturing is True  # past the deadline the camera is released anyway
    finally:
        source.unstick.set()
    # A capture thread that stops in time has stopped before its source is closed.
    closing = _StuckSource()
    closing.unstick.set()
    session = LiveSession(closing, tiny_matter, Settings()).start()
    time.sleep(0.3)
    session.close(timeout=5.0)
    assert closing.closed_while_capturing is False


def test_live_pipeline_ends_when_a_finite_source_ends(camera_clip, tiny_matter):
    session = LiveSession(FileCamera(camera_clip, loop=False), tiny_matter, Settings(), fps=30)
    started = time.monotonic()
    status = session.run(duration=20)
    assert time.monotonic() - started < 10 and 1 <= status.frames <= 10 and not session.alive()


class _BrokenSink:
    def __init__(self):
        self.sent = 0

    def send(self, rgb):
        self.sent += 1
        if self.sent == 3:
            raise OSError("the virtual camera went away")

    def close(self):
        pass


class _FailingMatter(WrappedEngine):
    def before_call(self) -> None:
        if self.calls == 3:
            raise InputError("frame 3 is broken")


@pytest.mark.parametrize("broken", ["sink", "process"])
def test_live_pipeline_errors_propagate_and_stop_every_thread(camera_clip, tiny_matter, broken):
    before = threading.active_count()
    sink = _BrokenSink() if broken == "sink" else None
    matter = _FailingMatter(tiny_matter) if broken == "process" else tiny_matter
    session = LiveSession(FileCamera(camera_clip), matter, Settings(), sink=sink)
    with pytest.raises((OSError, InputError), match="went away" if broken == "sink" else "frame 3"):
        session.run(duration=20)
    assert not session.alive() and threading.active_count() == before


# -- the CLI ---------------------------------------------------------------------------------------------------

TINY = ["--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64"]


def test_live_cli_fake_camera_into_the_virtual_camera(recording_vcam, camera_clip, capsys):
    from livematte.cli import main

    code = main(["live", "--camera", str(camera_clip), "--virtual-cam", "--vcam-backend", "recording",
                 "--frames", "8", "--background", "green", "--mirror", *TINY])
    assert code == 0
    backend = recording_vcam.instances[0]
    assert len(backend.sent) >= 8 and backend.closed
    assert {image.shape for _, image in backend.sent} == {(64, 96, 3)}
    out, err = capsys.readouterr()
    assert int(re.search(r"(\d+) new frames", out).group(1)) >= 8
    assert "random weights" in err and "recording-cam" in err


@pytest.mark.parametrize("args, message", [
    (["--size", "big"], "size must be WIDTHxHEIGHT"),
    (["--fps", "0"], "--fps must be"),
    (["--preset", "no such preset"], "no preset named"),
    (["--camera", "9"], "camera 9 could not be opened"),
    (["--background", "blur:0"], "blur strength"),
    (["--feather", "99"], "feather must be"),
])
def test_live_cli_bad_input_is_one_line_and_exit_2(args, message, capsys):
    from livematte.cli import main

    assert main(["live", *args, "--frames", "1", *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("livematte: error:") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_live_cli_missing_virtual_camera_says_how_to_get_one(recording_vcam, camera_clip, capsys):
    from livematte.cli import main

    assert main(["live", "--camera", str(camera_clip), "--virtual-cam", "--vcam-backend", "missing",
                 "--frames", "1", *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("livematte: error: no virtual camera") and len(err.splitlines()) == 1
    assert "v4l2loopback" in err and "exclusive_caps=1" in err and "OBS" in err and "Windows and macOS" in err


def test_live_cli_ctrl_c_stops_cleanly_with_status_0(camera_clip):
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "livematte", "live", "--camera", str(camera_clip), *TINY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = ""
        deadline = time.monotonic() + 60
        while "Ctrl-C stops" not in line and time.monotonic() < deadline and proc.poll() is None:
            line = proc.stderr.readline()
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "live: stopped" in out and "Traceback" not in err


class JitteryCamera:
    """A camera at exactly ``fps`` on average whose frames come alternately late and early (USB cameras do)."""

    def __init__(self, frames: int, fps: float = 30.0, jitter: float = 0.35):
        self.n, self.period, self.jitter = frames, 1.0 / fps, jitter
        self.fps = fps

    def frames(self, stop):
        start = time.perf_counter()
        for i in range(self.n):
            due = start + (i + (self.jitter if i % 2 else 0.0)) * self.period
            wait = due - time.perf_counter()
            if wait > 0 and stop.wait(wait):
                return
            yield CapturedFrame(i, np.full((48, 64, 3), i % 256, np.uint8), time.perf_counter())

    def close(self):
        pass


def test_live_output_loses_no_frame_of_a_jittery_camera_at_its_own_rate(tiny_matter):
    # Every other frame is a third of a period late: the output repeats the previous frame meanwhile, and that
    # repeat must not hold back the late frame or the next one (which used to be overwritten before its send).
    session = LiveSession(JitteryCamera(60), tiny_matter, Settings(background="colour"), fps=30.0)
    status = session.run(duration=4.0)
    assert status.frames >= 58 and status.dropped <= 1, status
