"""``livematte bench`` runs the real stages and reports every figure (speed itself is not asserted here)."""
import json

from livematte.bench import format_report, ratios, run_bench
from livematte.live.frames import parse_size
from livematte.cli import main


def test_bench_reports_stages_fps_latency_and_peer_ratio(tiny_matter_factory):
    models = {"ours": tiny_matter_factory(), "other": tiny_matter_factory()}
    results = run_bench(models, ["96x64"], fps=30, seconds=0.5, offline_frames=4, log=lambda m: None, rounds=1)
    assert [r["model"] for r in results["live"]] == ["ours", "other"]
    live = results["live"][0]
    assert live["delivered"] > 0 and live["fps"] > 0 and live["latency_ms"] > 0
    for stage in ("capture/decode", "tnet", "mnet", "upsample", "composite"):
        assert stage in live["stages_ms"], stage
    assert [o["frames"] for o in results["offline"]] == [4, 4]
    assert set(results["offline"][0]["stages_ms"]) == {"decode", "matte", "composite", "encode"}
    report = format_report(results, "ours", "other")
    assert "the peer's time" in report and "peak memory" in report


def test_bench_models_take_turns_and_each_models_turns_are_pooled(tiny_matter_factory):
    models = {"ours": tiny_matter_factory(), "other": tiny_matter_factory()}
    said = []
    results = run_bench(models, ["64x48"], seconds=0.6, offline_frames=0, log=said.append, rounds=2)
    assert said == ["live 64x48 ours (1/2) ...", "live 64x48 other (1/2) ...",
                    "live 64x48 ours (2/2) ...", "live 64x48 other (2/2) ..."]
    assert [r["model"] for r in results["live"]] == ["ours", "other"]  # one row per model, its turns pooled
    assert all(r["delivered"] > 0 for r in results["live"])


def test_turns_are_pooled_as_one_stretch():
    from livematte.bench import _summarise, _Window

    a = _Window(2.0, 60, 1, [0.020, 0.030], {"tnet": [0.003, 0.005], "mnet": [0.004]})
    b = _Window(1.0, 20, 2, [0.010, 0.040, 0.050], {"tnet": [0.004], "mnet": [0.006, 0.008]})
    r = _summarise([a, b], "ours", "64x48", decode=1.5)
    assert r.fps == 80 / 3.0 and r.delivered == 80 and r.dropped == 3
    assert r.latency_ms == 30.0 and r.latency_p95_ms == 50.0  # median and p95 of all five latencies
    assert r.stages_ms == {"capture/decode": 1.5, "tnet": 4.0, "mnet": 6.0}


def test_bench_without_peer_says_so(tiny_matter_factory):
    results = run_bench({"ours": tiny_matter_factory()}, ["64x48"], seconds=0.3, offline_frames=0, log=lambda m: None,
                        rounds=1)
    assert "no peer given" in format_report(results, "ours", None)


def test_bench_cli_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    args = ["bench", "--sizes", "64x48", "--seconds", "0.3", "--rounds", "1", "--offline-frames", "0",
            "--json", str(out), "--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64"]
    assert main(args) == 0
    assert json.loads(out.read_text())["live"][0]["size"] == "64x48"
    assert main(["bench", "--sizes", "12x9000", "--model", "shm-tiny", "--weights", "none"]) == 2
    assert main(["bench", "--rounds", "0", "--model", "shm-tiny", "--weights", "none"]) == 2
    assert main(["bench", "--seconds", "-1", "--model", "shm-tiny", "--weights", "none"]) == 2
    assert main(["bench", "--offline-frames", "-5", "--model", "shm-tiny", "--weights", "none"]) == 2


def test_bench_cli_converts_the_offline_clip_as_livematte_video_does(tmp_path):
    from livematte.config import MNET_SIZE, TNET_PASSES, TNET_SIZE

    out = tmp_path / "bench.json"
    args = ["bench", "--sizes", "64x48", "--seconds", "0.3", "--rounds", "1", "--offline-frames", "2",
            "--json", str(out), "--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64"]
    assert main(args) == 0
    results = json.loads(out.read_text())
    engine = results["offline"][0]["engine"]  # not the live model, sizes and budget given
    assert engine == {"model": "shm", "tnet": TNET_SIZE, "mnet": MNET_SIZE, "tnet_passes": TNET_PASSES,
                      "pixel_budget": False, "backend": "onnx"}


def test_parse_size():
    assert parse_size("1280x720") == (1280, 720)


def test_ratio_counts_each_models_resize_with_its_inference():
    live = [{"size": "640x480", "model": "ours", "fps": 30.0, "stages_ms": {"resize": 2.0, "inference": 10.0}},
            {"size": "640x480", "model": "peer", "fps": 25.0, "stages_ms": {"resize": 0.5, "inference": 7.5}}]
    r = ratios({"live": live}, "ours", "peer")["640x480"]
    assert r["inference_ratio"] == 10.0 / 7.5 and r["model_ratio"] == 12.0 / 8.0 and r["fps_ratio"] == 30.0 / 25.0
