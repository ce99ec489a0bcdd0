"""Bad and unusual input ends in a clear error or a valid result, within a time bound; faults lose nothing."""
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from clips import frame_image, make_clip, read_all
from livematte.errors import InputError
from livematte.media import VideoReader, read_image
from livematte.offline import convert_image, convert_video

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64", "--no-progress"]


def test_phone_video_with_rotation_flag_comes_out_upright(tiny_matter, tmp_path):
    src = make_clip(tmp_path / "phone.mp4", frames=4, width=64, height=48, rotation=90)
    reader = VideoReader(src)
    assert (reader.info.width, reader.info.height, reader.info.rotation) == (48, 64, 90)
    first = next(iter(reader)).rgb
    reader.close()
    stored = frame_image(0, 64, 48)
    assert first.shape == (64, 48, 3)
    # 90° counterclockwise: the stored frame's top-left identity block is now bottom-left
    assert np.abs(first.astype(int) - np.rot90(stored).astype(int)).mean() < 8
    out = tmp_path / "out.mp4"
    convert_video(src, out, matter=tiny_matter, background="none", progress=False)
    frames, *_ = read_all(out)
    assert frames[0].shape == (64, 48, 3)  # written upright, no rotation flag left to interpret


@pytest.mark.parametrize("size", [(63, 47), (16, 16), (17, 9)])
def test_odd_and_tiny_frame_sizes(tiny_matter, tmp_path, size):
    w, h = size
    src = make_clip(tmp_path / "odd.mp4", frames=3, width=w, height=h)
    for out in (tmp_path / "o.mp4", tmp_path / "o.mov", tmp_path / "o.webm"):
        convert_video(src, out, matter=tiny_matter, background="blue" if out.suffix == ".mp4" else "transparent",
                      progress=False)
        frames, *_ = read_all(out)
        assert len(frames) == 3 and frames[0].shape[:2] == (h, w), out.suffix


@pytest.mark.slow
def test_huge_8k_frames(tiny_matter, tmp_path):
    src = make_clip(tmp_path / "8k.mp4", frames=2, width=7680, height=4320)
    out = tmp_path / "o.mp4"
    started = time.monotonic()
    convert_video(src, out, matter=tiny_matter, progress=False)
    frames, *_ = read_all(out)
    assert len(frames) == 2 and frames[0].shape == (4320, 7680, 3)
    assert time.monotonic() - started < 120


@pytest.mark.parametrize("kind", ["gray", "rgba", "gray16", "rgb16"])
def test_grey_rgba_and_16_bit_images(tiny_matter, tmp_path, kind):
    rng = np.random.default_rng(0)
    img = {"gray": rng.integers(0, 256, (30, 40), dtype=np.uint8),
           "rgba": rng.integers(0, 256, (30, 40, 4), dtype=np.uint8),
           "gray16": rng.integers(0, 65536, (30, 40), dtype=np.uint16),
           "rgb16": rng.integers(0, 65536, (30, 40, 3), dtype=np.uint16)}[kind]
    path = tmp_path / f"{kind}.png"
    cv2.imwrite(str(path), img)
    rgb = read_image(path)
    assert rgb.shape == (30, 40, 3) and rgb.dtype == np.uint8
    out = convert_image(path, tmp_path / "out.png", matter=tiny_matter)
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).shape == (30, 40, 4)


def test_non_image_file_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(InputError, match="cannot read"):
        read_image(path)


def test_sigterm_during_video_finalizes_a_playable_partial_file(tmp_path):
    src = make_clip(tmp_path / "long.mp4", frames=400, width=320, height=240, audio=True)
    out = tmp_path / "out.mp4"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "livematte", "video", str(src), "-o", str(out), *TINY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    partial = tmp_path / f".out.partial-{proc.pid}.mp4"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (partial.exists() and partial.stat().st_size > 20_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"partial output" in err and b"finalized and plays" in err and b"Traceback" not in err
    written = int(err.split(b"interrupted after ")[1].split(b" of 400 frames")[0])  # says how far it got
    frames, _, _, _, audio = read_all(out)
    assert 0 < len(frames) == written < 400 and audio > 0


def test_fuzzed_video_bytes_end_in_a_clear_error_or_a_valid_result(tmp_path, tiny_matter):
    """Mutated bytes of a small valid clip: every case ends, within a time bound, either with frames or with
    an InputError; nothing else escapes and nothing hangs."""
    data = make_clip(tmp_path / "seed.mp4", frames=8).read_bytes()
    rng = random.Random(1234)
    outcomes = {"frames": 0, "error": 0}
    for case in range(60):
        mutated = bytearray(data)
        kind = case % 3
        if kind == 0:    # flip random bytes
            for _ in range(rng.randint(1, 40)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        elif kind == 1:  # truncate
            mutated = mutated[: rng.randrange(1, len(mutated))]
        else:            # overwrite a run with garbage
            start = rng.randrange(len(mutated))
            mutated[start:start + 200] = bytes(rng.randrange(256) for _ in range(200))
        path = tmp_path / f"fuzz{case}.mp4"
        path.write_bytes(bytes(mutated))
        started = time.monotonic()
        try:
            frames = [f.rgb for f in VideoReader(path)]
            assert all(f.ndim == 3 and f.dtype == np.uint8 for f in frames)
            outcomes["frames"] += 1
        except InputError:
            outcomes["error"] += 1
        assert time.monotonic() - started < 10, f"case {case} took too long"
    assert outcomes["frames"] > 0 and outcomes["error"] > 0, outcomes


def test_full_disk_is_a_clear_error(tmp_path):
    """/dev/full fails every write with ENOSPC, as a full disk does."""
    from fractions import Fraction

    from livematte.errors import OutputError
    from livematte.media import write_image
    from livematte.writers import VideoWriter

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    full = tmp_path / "full.mp4"
    full.symlink_to("/dev/full")
    with pytest.raises(OutputError, match="disk full"):
        w = VideoWriter(full, 64, 48, Fraction(1, 25), Fraction(25), alpha=False)
        for _ in range(30):
            w.write(np.zeros((48, 64, 3), np.uint8))
        w.close()
    with pytest.raises(OutputError, match="disk full"):
        write_image(Path("/dev/full"), np.zeros((8, 8, 3), np.uint8))


def test_unwritable_output_location_exits_nonzero(capsys):
    from livematte.cli import main

    target = "/proc/livematte_out.mp4"  # not writable, even as root
    assert main(["video", str(ROOT / "livematte" / "assets" / "demo.mp4"), "-o", target, *TINY]) == 2
    err = capsys.readouterr().err
    assert "livematte: error:" in err and "Traceback" not in err
