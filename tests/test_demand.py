"""Work only when watched: counting the virtual camera's viewers, and the states a session goes through."""
import subprocess
import sys
import time

import pytest

from livematte.live.demand import RELEASED, WAITING, WATCHED, Demand, can_watch, for_device, openers

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")


@linux_only
def test_viewers_are_the_other_processes_that_hold_the_device_open(tmp_path):
    device = tmp_path / "video9"  # a fake device: any file works the same in /proc
    device.write_bytes(b"")
    assert openers(device) == 0
    with open(device, "rb"):
        assert openers(device) == 0  # our own handle (the writer's) is not a viewer
    code = "import sys, time; f = open(sys.argv[1], 'rb'); print('open', flush=True); time.sleep(30)"
    viewer = subprocess.Popen([sys.executable, "-c", code, str(device)], stdout=subprocess.PIPE, text=True)
    try:
        assert viewer.stdout.readline().strip() == "open"
        assert openers(device) == 1
    finally:
        viewer.kill()
        viewer.wait()
    assert openers(device) == 0


def test_the_session_pauses_then_releases_and_resumes_on_the_next_open():
    viewers = [1]
    d = Demand(lambda: viewers[0], grace_s=10, poll_s=0)
    assert d.poll(0.0) == WATCHED
    viewers[0] = 0
    assert d.poll(1.0) == WAITING and d.poll(10.9) == WAITING
    assert d.poll(11.0) == RELEASED
    viewers[0] = 2
    assert d.poll(12.0) == WATCHED
    viewers[0] = 0
    assert d.poll(13.0) == WAITING  # the grace period starts again


def test_viewers_are_polled_at_most_every_poll_period():
    calls = []
    d = Demand(lambda: calls.append(1) or 0, grace_s=5, poll_s=0.5)
    for t in (0.0, 0.1, 0.2, 0.49, 0.5, 0.7):
        d.poll(t)
    assert len(calls) == 2


@linux_only
def test_where_viewers_cannot_be_counted_the_session_always_runs(tmp_path):
    assert not can_watch(None) and not can_watch(str(tmp_path / "missing"))
    d = for_device(None)
    assert all(d.poll(t) == WATCHED for t in (0.0, 100.0, 1000.0))
    device = tmp_path / "video9"
    device.write_bytes(b"")
    d = for_device(str(device), grace_s=0.0)
    d.poll_s = 0
    assert d.poll(time.monotonic()) == RELEASED  # nobody holds the fake device


def test_a_session_nobody_watches_mattes_nothing_and_releases_the_camera():
    """With a demand that says nobody watches, no frame is matted and the source is released after the grace
    period; the status says why; once watched, frames flow again."""
    import threading

    import numpy as np

    from livematte.live.demand import WAITING_NOTE
    from livematte.live.frames import CapturedFrame
    from livematte.live.session import LiveSession
    from livematte.presets import Settings

    class Source:
        name, width, height, fps, status = "fake", 32, 24, 50.0, ""

        def __init__(self):
            self.released = 0

        def frames(self, stop):
            i = 0
            while not stop.is_set():
                yield CapturedFrame(i, np.zeros((24, 32, 3), np.uint8), time.perf_counter())
                i += 1
                stop.wait(0.02)

        def release(self):
            self.released += 1

        close = release

    class Engine:
        model_name, trained, timings = "stub", True, {}

        def __init__(self):
            self.calls = 0

        def __call__(self, rgb):
            self.calls += 1
            return np.ones(rgb.shape[:2], np.float32)

        def reset(self):
            pass

        def set_smoothing(self, mode, strength):
            pass

        def set_quality(self, quality):
            pass

    viewers = [0]
    source, engine = Source(), Engine()
    session = LiveSession(source, engine, Settings(background="blur"), fps=50,
                          demand=Demand(lambda: viewers[0], grace_s=0.3, poll_s=0.05)).start()
    try:
        time.sleep(0.8)
        assert engine.calls == 0 and source.released == 1
        assert session.status().note == WAITING_NOTE
        viewers[0] = 1
        deadline = time.monotonic() + 5
        while engine.calls < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.calls >= 3 and session.status().note != WAITING_NOTE, session.error
    finally:
        session.close()
