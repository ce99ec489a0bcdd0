"""Ray (#26): a real local cluster of two nodes (a head and one more, each its own processes on 127.0.0.1) converts
generated clips while one node's worker is killed mid-file; every output is complete and valid."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clips import make_clip, read_all

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'livematte[ray]'")

TINY = ["--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64", "--tnet-passes", "1",
        "--no-progress"]
FRAMES = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _running_tasks() -> list[int]:
    """Pids of Ray workers executing livematte's task now (Ray titles them ray::livematte_file)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(b"ray::livematte_file"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_two_node_cluster_survives_a_killed_worker(tmp_path):
    if not Path("/proc").is_dir():
        pytest.skip("finds Ray's workers through /proc")
    ray_cli = Path(sys.executable).with_name("ray")
    if not ray_cli.exists():
        ray_cli = Path(shutil.which("ray") or "ray")
    clips = tmp_path / "clips"
    clips.mkdir()
    for i in range(4):
        make_clip(clips / f"take{i}.mp4", frames=FRAMES, width=320, height=240)
    port = _free_port()
    temp = Path(f"/tmp/lmray{os.getpid()}")  # short: Ray's socket paths must fit 107 bytes
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "OMP_NUM_THREADS": "1", "RAY_USAGE_STATS_ENABLED": "0",
           "LIVEMATTE_DEBUG": ""}
    common = ["--block", "--node-ip-address=127.0.0.1", "--num-cpus=1", "--include-dashboard=false"]
    nodes = [subprocess.Popen([str(ray_cli), "start", "--head", f"--port={port}", f"--temp-dir={temp}", *common],
                              env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        time.sleep(6)
        nodes.append(subprocess.Popen([str(ray_cli), "start", f"--address=127.0.0.1:{port}", *common], env=env,
                                      start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(4)
        out = tmp_path / "out"
        run = subprocess.Popen([sys.executable, "-m", "livematte", "video", str(clips), "-o", str(out),
                                "--ray", f"127.0.0.1:{port}", *TINY], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        killed = None
        deadline = time.monotonic() + 150
        while killed is None and run.poll() is None and time.monotonic() < deadline:
            partials = list(out.glob(".*partial*")) if out.is_dir() else []
            tasks = _running_tasks()
            second = [pid for pid in tasks if _pgid(pid) == nodes[1].pid]  # prefer the second node's worker
            if partials and tasks:
                killed = (second or tasks)[0]
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.05)
        stdout, stderr = run.communicate(timeout=180)
        assert killed is not None, f"no worker was caught mid-file: {stderr}"
        assert run.returncode == 0, stderr
        assert "4 done" in stderr and "Traceback" not in stderr
        for i in range(4):
            frames, pts, *_ = read_all(out / f"take{i}_composite.mp4")
            assert len(frames) == FRAMES and pts == sorted(pts)
        assert sorted(p.name for p in out.iterdir()) == [f"take{i}_composite.mp4" for i in range(4)]  # no partial

        # A file whose every attempt dies: retried a bounded number of times, then reported failed, nothing left.
        (clips / "late.mp4").write_bytes((clips / "take0.mp4").read_bytes())
        run = subprocess.Popen([sys.executable, "-m", "livematte", "video", str(clips), "-o", str(out),
                                "--ray", f"127.0.0.1:{port}", *TINY], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        kills = set()
        while run.poll() is None and time.monotonic() < deadline + 60:
            for pid in _running_tasks():
                if pid not in kills:
                    kills.add(pid)
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        stdout, stderr = run.communicate(timeout=60)
        assert run.returncode == 1, stderr
        assert "skipped 4 existing" in stderr and "failed after 3 attempts" in stderr and len(kills) == 3
        assert f"failed: {clips / 'late.mp4'}" in stderr
        assert sorted(p.name for p in out.iterdir()) == [f"take{i}_composite.mp4" for i in range(4)]
    finally:
        for node in reversed(nodes):  # the process groups this test started, and only those
            _stop(node)
        shutil.rmtree(temp, ignore_errors=True)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _stop(node: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(node.pid, sig)
        except ProcessLookupError:
            return
        try:
            node.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
