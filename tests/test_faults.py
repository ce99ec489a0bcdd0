"""Faults at any moment (#27): signals during start-up, a full stdout."""
import os
import signal
import subprocess
import sys
import time

import pytest

from clips import make_clip

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "LIVEMATTE_DEBUG": ""}


def _livematte(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "livematte", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, **kw)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_start_up_exits_130_with_one_line(tmp_path, signum):
    clip = make_clip(tmp_path / "in.mp4", frames=30)
    # importing torch, building the parser, loading the model: before the first frame. (The interpreter's own first
    # tens of milliseconds, before any of livematte's code runs, are out of any program's reach.)
    for delay in (0.3, 0.8, 1.5):
        proc = _livematte("video", clip, "-o", tmp_path / f"out{delay}.mp4", "--no-progress")
        time.sleep(delay)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
        if proc.returncode == 0:  # it finished first: a fast machine; nothing to check at this delay
            continue
        assert proc.returncode == 130, (delay, proc.returncode, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert err.startswith("livematte: interrupted")


@pytest.mark.slow
def test_a_full_stdout_never_fails_a_run(tmp_path):
    clip = make_clip(tmp_path / "in.mp4", frames=4)
    out = tmp_path / "out.mp4"
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "livematte", "video", clip, "-o", out], stdout=full,
                              stderr=full, env=ENV, timeout=120)
    assert proc.returncode == 0 and out.is_file()
    with open("/dev/full", "w") as full:
        assert subprocess.run([sys.executable, "-m", "livematte", "--help"], stdout=full, env=ENV,
                              timeout=60).returncode == 0
