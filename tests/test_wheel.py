"""An installed wheel (not the source tree, not editable) runs the verbs and finds its data files."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from clips import make_clip

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_built_wheel_runs_eval_help_and_video_and_finds_its_split(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("livematte-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "livematte/models/heldout_split.json" in names and "livematte/models/weights/shm.pt" in names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, timeout=300)
    # the wheel's copy comes first on the path; the other dependencies come from this environment
    env = {**os.environ, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "1"}
    work = tmp_path / "elsewhere"  # not the source tree: nothing of it on the path
    work.mkdir()

    def run(*args):
        return subprocess.run([sys.executable, *args], cwd=work, env=env, capture_output=True, text=True,
                              timeout=300)

    where = run("-c", "import livematte, livematte.models as m; print(livematte.__file__); print(m.__file__)")
    assert where.returncode == 0 and all(line.startswith(str(site)) for line in where.stdout.split()), where
    split = run("-c", "from livematte.datasets import load_split; print(len(load_split()['heldout']['people']))")
    assert split.returncode == 0 and int(split.stdout) > 0, split.stderr
    assert run("-m", "livematte", "eval", "--help").returncode == 0
    clip = make_clip(tmp_path / "in.mp4", frames=3)
    video = run("-m", "livematte", "video", str(clip), "-o", str(tmp_path / "out.mp4"), "--no-progress")
    assert video.returncode == 0 and (tmp_path / "out.mp4").is_file(), video.stderr
