import os
import sys
from fractions import Fraction
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One torch thread: with two spinning OpenMP threads, a busy 2-core machine (a training run, another test
# process) slows inference by up to 100×; the tests check behaviour, not speed.
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))

from clips import make_clip  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def tiny_matter_factory():
    from livematte import Matter

    def make(**kw):
        kw.setdefault("model", "shm-tiny")
        kw.setdefault("weights", None)
        kw.setdefault("tnet_size", 64)
        kw.setdefault("mnet_size", 64)
        kw.setdefault("tnet_passes", 1)  # as live runs it; tests of the offline passes ask for more
        kw.setdefault("device", "cpu")
        return Matter(**kw)

    return make


@pytest.fixture
def tiny_matter(tiny_matter_factory):
    return tiny_matter_factory()


@pytest.fixture
def clip(tmp_path):
    return make_clip(tmp_path / "clip.mp4", frames=12, audio=True, rate=Fraction(30000, 1001))


@pytest.fixture
def shared():
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared is not present")
    return SHARED
