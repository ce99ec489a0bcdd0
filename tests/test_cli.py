"""The CLI: exit codes, clear errors, refusal to overwrite, the untrained-weights warning."""
import subprocess
import sys

import pytest

from livematte.cli import main

TINY = ["--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64", "--no-progress"]


def test_video_end_to_end(clip, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    assert main(["video", str(clip), "-o", str(out), *TINY]) == 0
    assert out.is_file()
    captured = capsys.readouterr()
    assert "wrote" in captured.out and "12 frames" in captured.out
    assert "random weights" in captured.err  # says clearly that the model is untrained


def test_default_output_name_never_overwrites_input(clip, capsys):
    assert main(["video", str(clip), *TINY]) == 0
    out = clip.with_name("clip_composite.mp4")
    assert out.is_file() and clip.is_file()
    before = out.read_bytes()
    assert main(["video", str(clip), *TINY]) == 2  # refuses to replace without --overwrite
    assert "exists" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["video", str(clip), "--overwrite", *TINY]) == 0


def test_output_equal_to_input_is_refused(clip, capsys):
    size = clip.stat().st_size
    assert main(["video", str(clip), "-o", str(clip), "--overwrite", *TINY]) == 2
    assert "is the input" in capsys.readouterr().err and clip.stat().st_size == size


@pytest.mark.parametrize("content", [None, b"", b"garbage" * 1000])
def test_bad_input_video_exits_nonzero_without_traceback(tmp_path, capsys, content):
    path = tmp_path / "in.mp4"
    if content is not None:
        path.write_bytes(content)
    assert main(["video", str(path), *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("livematte: error:") and "Traceback" not in err


def test_bad_options_exit_nonzero(clip, tmp_path, capsys):
    assert main(["video", str(clip), "-o", str(tmp_path / "o.mp4"), "--background", "blur:0", *TINY]) == 2
    assert main(["video", str(clip), "-o", str(tmp_path / "o.avi"), *TINY]) == 2
    assert main(["video", str(clip), "-o", str(tmp_path / "no" / "dir" / "o.mp4"), *TINY]) == 2
    assert main(["video", str(clip), "-o", str(tmp_path / "o.mp4"), "--smoothing", "wobble", *TINY]) == 2
    assert main(["video", str(clip), "-o", str(tmp_path / "o.mp4"), *TINY, "--threads", "-1"]) == 2
    assert main(["bench", "--json", str(tmp_path / "no" / "b.json"), *TINY[:-1], "--sizes", "64x48"]) == 2
    assert main(["video", str(clip), "-o", str(tmp_path / "o.mp4"), *TINY, "--bottom-context", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("livematte: error:") == 5 and "does not exist" in err and not (tmp_path / "o.mp4").exists()
    # range errors are told by argparse, with the option's name
    assert "livematte video: error: argument --threads: must be an integer in 0..256, not -1" in err
    assert "livematte video: error: argument --bottom-context: must be a number in 0..1, not 2" in err


@pytest.mark.parametrize("verb, option", [("video", ["--tnet-size", "10"]), ("video", ["--mnet-size", "x"]),
                                          ("video", ["--bottom-context", "nan"]), ("bench", ["--fps", "nan"]),
                                          ("bench", ["--fps", "0"]), ("eval", ["--limit", "0"]),
                                          ("train", ["tnet", "--steps", "5", "--close-up", "2"]),
                                          ("train", ["tnet", "--steps", "0"]),
                                          ("train", ["tnet", "--steps", "5", "--model", "nope"])])
def test_out_of_range_options_name_the_option_and_exit_2(clip, tmp_path, capsys, verb, option):
    argv = [verb, *option] if verb != "video" else [verb, str(clip), "-o", str(tmp_path / "o.mp4"), *option]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"livematte {verb}: error: argument {option[-2]}:" in err and "Traceback" not in err
    assert not (tmp_path / "o.mp4").exists()


def test_corrupt_weights_file_is_a_clear_error(clip, tmp_path, capsys):
    bad = tmp_path / "w.pt"
    bad.write_bytes(b"not weights")
    args = ["video", str(clip), "-o", str(tmp_path / "o.mp4"), "--model", "shm-tiny", "--weights", str(bad)]
    assert main(args) == 2
    assert "w.pt" in capsys.readouterr().err


def test_image_rgba_and_composite(tmp_path, capsys):
    import cv2
    import numpy as np

    src = tmp_path / "p.jpg"
    cv2.imwrite(str(src), np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8))
    assert main(["image", str(src), *TINY[:-1]]) == 0
    rgba = cv2.imread(str(tmp_path / "p_rgba.png"), cv2.IMREAD_UNCHANGED)
    assert rgba.shape == (40, 30, 4)
    assert main(["image", str(src), "--background", "blue", *TINY[:-1]]) == 0
    assert cv2.imread(str(tmp_path / "p_composite.png")).shape == (40, 30, 3)
    assert main(["image", str(src), *TINY[:-1]]) == 2  # exists


def test_python_dash_m_entry_point():
    assert main(["--version"]) == 0  # argparse exits: main returns its code
    r = subprocess.run([sys.executable, "-m", "livematte", "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "video" in r.stdout


def test_train_without_steps_is_a_settings_error(tmp_path, capsys):
    from livematte.cli import build_parser
    from livematte.errors import SettingsError

    argv = ["train", "tnet", "--shared", str(tmp_path)]  # no data there either: the option is told first
    args = build_parser().parse_args(argv)
    with pytest.raises(SettingsError, match="--steps"):
        args.run(args)
    assert main(argv) == SettingsError.exit_code
    assert "livematte: error: --steps is required" in capsys.readouterr().err


def test_train_verb_passes_every_stage_option_on(tmp_path, monkeypatch, capsys):
    import livematte.training.train as training

    seen = {}
    monkeypatch.setattr(training, "train", lambda *a, **k: seen.update(args=a, kwargs=k))
    (tmp_path / "data").mkdir()
    init = tmp_path / "start.pt"
    init.write_bytes(b"")
    argv = ["train", "e2e", "--steps", "7", "--size", "128", "--batch", "3", "--lr", "5e-4", "--runs", str(tmp_path),
            "--shared", str(tmp_path), "--model", "shm-lite", "--threads", "1", "--export", str(tmp_path / "o.pt"),
            "--name", "cycle2", "--init", str(init), "--close-up", "0.15", "--second-person", "0.2", "--props", "0.1"]
    assert main(argv) == 0
    assert seen["args"] == ("e2e", 7, 128, 3, 5e-4, tmp_path, tmp_path, "shm-lite")
    assert seen["kwargs"] == {"threads": 1, "export": tmp_path / "o.pt", "name": "cycle2", "init": init,
                              "close_up": 0.15, "second_person": 0.2, "labels": "pseudo", "props": 0.1}
    init.unlink()
    monkeypatch.undo()  # the real train() tells a missing --init before any work
    assert main(argv) == 2 and "--init: no such file" in capsys.readouterr().err


def test_internal_error_is_one_line_with_the_traceback_in_a_file(tmp_path, monkeypatch, capsys):
    import livematte.cli
    import livematte.cli.image

    def broken(args):
        raise RuntimeError("boom\nmore detail")

    monkeypatch.setattr(livematte.cli.image, "run", broken)
    monkeypatch.setattr(livematte.cli, "user_log_path", lambda app: tmp_path / "logs")
    monkeypatch.delenv("LIVEMATTE_DEBUG", raising=False)
    assert main(["image", "x.png"]) == livematte.cli.INTERNAL_ERROR_EXIT == 3
    err = capsys.readouterr().err
    assert err.startswith("livematte: internal error: RuntimeError: boom (traceback in ") and err.count("\n") == 1
    assert "Traceback" not in err
    [saved] = (tmp_path / "logs").iterdir()
    assert str(saved) in err and "Traceback" in saved.read_text() and "more detail" in saved.read_text()

    monkeypatch.setenv("LIVEMATTE_DEBUG", "1")  # for a developer: the exception itself
    with pytest.raises(RuntimeError, match="boom"):
        main(["image", "x.png"])


def test_ctrl_c_in_a_verb_is_still_interrupted_130(monkeypatch, capsys):
    import livematte.cli.image

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(livematte.cli.image, "run", interrupted)
    assert main(["image", "x.png"]) == 130
    assert capsys.readouterr().err == "livematte: interrupted\n"


def test_each_verb_runs_its_named_engine_configuration_with_the_options_given():
    """Live verbs: the lite model at the quality's sizes, a pixel budget, one T-Net pass; offline: shm, long side,
    several passes. The options given change only their own fields."""
    from livematte.cli import bench, build_parser, eval as eval_verb, image, live, video
    from livematte.config import EngineConfig
    from livematte.presets import Settings

    parser = build_parser()
    offline, live_default = EngineConfig.offline(), EngineConfig.live()
    assert video.engine_config(parser.parse_args(["video", "x.mp4"])) == offline
    assert image.engine_config(parser.parse_args(["image", "x.png"])) == EngineConfig()  # photos: no smoothing
    assert eval_verb.engine_configs(parser.parse_args(["eval"])) == (offline, live_default)
    assert bench.engine_configs(parser.parse_args(["bench"])) == (live_default, offline)
    for verb in ("live", "ui"):
        assert live.live_engine_config(parser.parse_args([verb]), Settings()) == live_default, verb
    assert (live_default.model, live_default.pixel_budget, live_default.tnet_passes) == ("shm-lite", True, 1)
    assert (offline.model, offline.pixel_budget) == ("shm", False) and offline.tnet_passes > 1
    assert live.live_engine_config(parser.parse_args(["live"]), Settings(quality="high")) == EngineConfig.live("high")

    _, live_row = eval_verb.engine_configs(parser.parse_args(["eval", "--device", "cpu", "--bottom-context", "0.05"]))
    assert live_row == live_default.replace(device="cpu", bottom_context=0.05)
    assert video.engine_config(parser.parse_args(["video", "x.mp4", "--pixel-budget", "--smoothing", "ema:0.3"])) == \
        offline.replace(pixel_budget=True, smoothing="ema", smoothing_strength=0.3)
    args = parser.parse_args(["live", "--no-pixel-budget", "--tnet-size", "128", "--smoothing", "none"])
    assert live.live_engine_config(args, Settings(smoothing="none")) == \
        live_default.replace(pixel_budget=False, tnet_size=128, smoothing="none")
    pinned = live.live_engine_config(parser.parse_args(["live", "--model", "shm-lite"]), Settings())
    assert not pinned.model_follows_quality and pinned.at_quality("high").model == "shm-lite"
    assert live.live_engine_config(parser.parse_args(["live"]), Settings()).at_quality("high").model == "shm"
    assert bench.engine_configs(parser.parse_args(["bench", "--device", "cpu", "--smoothing", "ema"]))[1] == \
        offline.replace(device="cpu", smoothing="ema")


def test_a_verb_module_that_fails_to_import_is_an_internal_error(tmp_path, monkeypatch, capsys):
    """Not skipped: a verb missing from the command line would be a bug no one is told of."""
    import livematte.cli as cli

    monkeypatch.setattr(cli, "VERBS", (*cli.VERBS, "no_such_verb"))
    monkeypatch.setattr(cli, "user_log_path", lambda app: tmp_path / "logs")
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    assert main(["video", "--help"]) == cli.INTERNAL_ERROR_EXIT
    err = capsys.readouterr().err
    assert err.startswith("livematte: internal error: ModuleNotFoundError") and "no_such_verb" in err
