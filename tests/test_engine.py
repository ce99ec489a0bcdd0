"""The Matter API: shapes, dtype, range, state, errors."""
import cv2
import numpy as np
import pytest
import torch

from livematte import InputError, Matter, SettingsError
from livematte.presets import Settings
from livematte.resize import shrink, working_size


@pytest.mark.parametrize("shape", [(48, 64, 3), (31, 17, 3), (120, 90, 3), (16, 16, 3)])
def test_matter_returns_float_alpha_at_input_resolution(tiny_matter, shape):
    rgb = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    alpha = tiny_matter(rgb)
    assert alpha.shape == shape[:2] and alpha.dtype == np.float32
    assert 0.0 <= alpha.min() and alpha.max() <= 1.0


def test_matter_is_deterministic_without_smoothing(tiny_matter):
    rgb = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    assert np.array_equal(tiny_matter(rgb), tiny_matter(rgb))


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8),
                                 np.zeros((10, 10, 3), np.float32), np.zeros((4, 4, 3), np.uint8), [[1, 2, 3]]])
def test_matter_rejects_bad_frames(tiny_matter, bad):
    with pytest.raises(InputError):
        tiny_matter(bad)


def test_reset_clears_temporal_state(tiny_matter_factory):
    m = tiny_matter_factory(smoothing="ema", smoothing_strength=0.9)
    a = np.full((48, 64, 3), 40, np.uint8)
    b = np.full((48, 64, 3), 41, np.uint8)  # nearly the same picture: not a cut
    fresh = m(b)
    m.reset()
    m(a)
    smoothed = m(b)
    m.reset()
    assert np.array_equal(m(b), fresh)
    assert not np.array_equal(smoothed, fresh)


def test_bad_settings_are_typed_errors():
    with pytest.raises(SettingsError):
        Matter(model="shm-tiny", weights=None, upsample="cubic")
    with pytest.raises(SettingsError):
        Matter(model="no-such-model", weights=None)
    with pytest.raises(SettingsError):
        Matter(model="shm-tiny", weights=None, device="tpu")
    with pytest.raises(SettingsError):
        Matter(model="shm-tiny", weights=None, smoothing="wobble")
    with pytest.raises(TypeError):
        Matter("shm-tiny")  # an EngineConfig, or keyword settings
    for share in (-0.1, 1.5, float("nan")):
        with pytest.raises(SettingsError):
            Matter(model="shm-tiny", weights=None, bottom_context=share)


def test_working_size_keeps_aspect_and_multiples():
    assert working_size(720, 1280, 256, 32, True) == (128, 256)  # 144 rounds to a multiple of 32
    assert working_size(720, 1280, 256, 8, False) == (144, 256)
    assert working_size(480, 640, 512, 8, False) == (384, 512)
    assert working_size(100, 60, 512, 8, False) == (96, 56)  # scale 1; sides rounded down to multiples of 8
    assert working_size(150, 200, 256, 8, False) == (144, 200)  # 150 would round up to 152: not above the input


def test_pixel_budget_gives_other_shapes_the_pixels_of_a_16_9_frame():
    budget = 144 * 256
    for h, w in [(480, 640), (1080, 1080), (1280, 720), (800, 600)]:
        mh, mw = working_size(h, w, 256, 8, False, pixel_budget=True)
        assert abs(mh / mw - h / w) < 0.05  # the shape is kept
        assert abs(mh * mw - budget) / budget < 0.06  # about the same pixels
    assert working_size(480, 640, 256, 8, False, pixel_budget=True) == (168, 224)
    assert working_size(720, 1280, 256, 32, True, pixel_budget=True) == (128, 256)  # 16:9 as without
    assert working_size(1080, 2560, 256, 8, False, pixel_budget=True) == (112, 256)  # wider: the long side bounds


def _as_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 H×W×3 -> 1×3×H×W in [0, 1], as the engine feeds the networks."""
    return torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255


def _record_inputs(matter) -> dict:
    """The image each network of a torch-backend ``matter`` was last given, as a 3×h×w tensor in [0, 1] under
    "tnet" and "mnet", and the (h, w) of all its inputs in order under "tnet shapes" and "mnet shapes" (the hook
    returns None: a hook that returns a value replaces the module's output)."""
    seen = {"tnet shapes": [], "mnet shapes": []}

    def record(name):
        def hook(module, args, out):
            seen[name] = args[0][0, :3]
            seen[f"{name} shapes"].append(tuple(args[0].shape[-2:]))
        return hook

    matter.model.tnet.register_forward_hook(record("tnet"))
    matter.model.mnet.register_forward_hook(record("mnet"))
    return seen


def _as_image(t: torch.Tensor) -> np.ndarray:
    return (t.permute(1, 2, 0) * 255).round().byte().numpy()


@pytest.mark.parametrize("budget,tnet_in,mnet_in", [(False, (192, 256), (192, 256)), (True, (160, 224), (168, 224))])
def test_pixel_budget_sizes_the_engines_inputs(tiny_matter_factory, budget, tnet_in, mnet_in):
    matter = tiny_matter_factory(pixel_budget=budget, backend="torch", tnet_size=256, mnet_size=256, bottom_context=0)
    seen = _record_inputs(matter)
    assert matter(np.zeros((480, 640, 3), np.uint8)).shape == (480, 640)
    assert (tuple(seen["tnet"].shape[-2:]), tuple(seen["mnet"].shape[-2:])) == (tnet_in, mnet_in)


def test_an_mnet_smaller_than_the_tnet_is_honoured(tiny_matter_factory):
    """--mnet-size below --tnet-size used to be raised silently to the T-Net's size; the T-Net's input then comes
    from the frame itself, not from the M-Net's smaller copy."""
    matter = tiny_matter_factory(backend="torch", tnet_size=256, mnet_size=192, bottom_context=0)
    seen = _record_inputs(matter)
    frame = np.random.default_rng(5).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert matter(frame).shape == (480, 640)
    assert tuple(seen["tnet"].shape[-2:]) == (192, 256) and tuple(seen["mnet"].shape[-2:]) == (144, 192)
    from_frame = torch.from_numpy(shrink(frame, (256, 192))).permute(2, 0, 1).float() / 255
    assert torch.allclose(seen["tnet"], from_frame)  # not an upscaled copy of the M-Net's 192-px input


def test_a_tnet_larger_only_by_rounding_reads_the_mnets_copy(tiny_matter_factory):
    """On a 16:10 frame at equal sizes the T-Net's multiple of 32 rounds past the M-Net's input (256x160 against
    240x152): interpolated from that copy, not shrunk from the whole frame again (0.9 ms per frame)."""
    matter = tiny_matter_factory(backend="torch", tnet_size=256, mnet_size=256, pixel_budget=True, bottom_context=0)
    seen = _record_inputs(matter)
    matter(np.random.default_rng(6).integers(0, 256, (800, 1280, 3), dtype=np.uint8))
    image_m = _as_image(seen["mnet"])
    assert image_m.shape == (152, 240, 3) and tuple(seen["tnet"].shape[-2:]) == (160, 256)
    upscaled = cv2.resize(image_m, (256, 160), interpolation=cv2.INTER_LINEAR)
    assert torch.allclose(seen["tnet"], torch.from_numpy(upscaled).permute(2, 0, 1).float() / 255)


@pytest.mark.parametrize("mnet_size,tnet_in,frame_rows_t,mnet_in,frame_rows_m", [
    (256, (224, 256), None, (208, 256), 189),  # the T-Net reads the M-Net's extended copy
    (192, (224, 256), 203, (160, 192), 145)])  # a larger T-Net extends its own copy, the frame ending as in the M-Net's
def test_the_networks_see_the_frame_extended_below(tiny_matter_factory, mnet_size, tnet_in, frame_rows_t, mnet_in,
                                                   frame_rows_m):
    """bottom_context 0.1: the working sizes are those of a 528-row frame, whose last 48 rows repeat the frame's
    last row; the M-Net's first ``frame_rows_m`` rows are the frame itself."""
    matter = tiny_matter_factory(backend="torch", tnet_size=256, mnet_size=mnet_size, bottom_context=0.1)
    seen = _record_inputs(matter)
    frame = np.random.default_rng(7).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert matter(frame).shape == (480, 640)
    assert tuple(seen["tnet"].shape[-2:]) == tnet_in and tuple(seen["mnet"].shape[-2:]) == mnet_in
    image_m = _as_image(seen["mnet"])
    assert np.array_equal(image_m[:frame_rows_m], shrink(frame, (mnet_in[1], frame_rows_m)))
    assert (image_m[frame_rows_m:] == image_m[frame_rows_m - 1]).all()
    if frame_rows_t is not None:  # 145/160 of the M-Net's rows and 203/224 of the T-Net's are the frame
        image_t = _as_image(seen["tnet"])
        assert np.array_equal(image_t[:frame_rows_t], shrink(frame, (tnet_in[1], frame_rows_t)))
        assert (image_t[frame_rows_t:] == image_t[frame_rows_t - 1]).all()


@pytest.mark.parametrize("bottom_context", [0, 0.1, 0.5])
def test_the_matte_is_cropped_back_to_the_frame(tiny_matter_factory, bottom_context):
    """A model whose alpha is its input's brightness returns the frame's brightness: the extension is cut off, not
    squeezed into the frame. A white band along the frame's bottom edge shows a crop one working row off (about
    5 px at this size)."""
    matter = tiny_matter_factory(backend="torch", tnet_size=128, mnet_size=128, upsample="bilinear",
                                 bottom_context=bottom_context)
    matter.model.refine = lambda image, logits: (None, None, image.mean(1, keepdim=True))
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[456:] = 255
    column = matter(frame)[:, 320]
    edge = np.argmax(column >= 0.5)  # the first row at least half bright
    assert abs(edge - 456) <= 2 and column[-1] > 0.99 and column[:440].max() < 0.01


def test_timings_cover_the_stages(tiny_matter):
    tiny_matter(np.zeros((96, 128, 3), np.uint8))
    assert set(tiny_matter.timings) == {"resize", "tnet", "mnet", "inference", "smooth", "upsample"}


@pytest.mark.parametrize("sizes", [(64, 96), (96, 64)])  # M-Net larger than the T-Net (offline), and smaller
@pytest.mark.parametrize("shape", [(48, 64, 3), (120, 90, 3)])
def test_onnx_backend_matches_torch(shape, sizes):
    rgb = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    alphas = []
    for backend in ("torch", "onnx"):
        torch.manual_seed(0)  # the same random weights for both
        m = Matter(model="shm-tiny", weights=None, tnet_size=sizes[0], mnet_size=sizes[1], device="cpu",
                   backend=backend)
        assert m.backend == backend
        alphas.append(m(rgb))
    assert np.abs(alphas[0] - alphas[1]).max() < 1e-4


@pytest.mark.parametrize("levels,head", [(3, "image"), (2, "image"), (2, "shuffle")])
def test_onnx_graphs_match_torch_for_each_mnet_head(levels, head):
    """The sub-pixel head exports as DepthToSpace, whose channel order must be torch's pixel_shuffle's."""
    from livematte.models import SHM, SHMConfig
    from livematte.export import export_onnx
    from livematte.onnx_backend import OnnxModel

    torch.manual_seed(0)
    model = SHM(SHMConfig(0.25, 0.5, tnet_head_stride=4, mnet_expand=2, mnet_levels=levels, mnet_head=head)).eval()
    rng = np.random.default_rng(5)
    image_m = rng.integers(0, 256, (72, 128, 3), dtype=np.uint8)
    image_t = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    with torch.no_grad():
        expected = model.refine(_as_tensor(image_m), model.tnet(_as_tensor(image_t)))[2][0, 0].numpy()
    assert np.abs(OnnxModel(export_onnx(model), threads=1)(image_m, image_t) - expected).max() < 1e-4


def test_auto_backend_is_onnx_on_cpu(tiny_matter):
    assert tiny_matter.backend == "onnx"
    with pytest.raises(SettingsError):
        Matter(model="shm-tiny", weights=None, backend="tensorrt")


def test_auto_backend_falls_back_to_torch_when_onnx_export_fails(monkeypatch):
    import livematte.engine as engine

    def broken(*args, **kwargs):
        raise RuntimeError("Module onnx is not installed!")

    monkeypatch.setattr(engine, "OnnxModel", broken)
    with pytest.warns(RuntimeWarning, match="torch"):
        m = Matter(model="shm-tiny", weights=None, tnet_size=64, mnet_size=64)
    assert m.backend == "torch" and m(np.zeros((32, 32, 3), np.uint8)).shape == (32, 32)
    with pytest.raises(SettingsError, match="onnx backend is not available"):
        Matter(model="shm-tiny", weights=None, backend="onnx")


def test_onnx_graphs_refuse_sizes_they_were_not_traced_for(tiny_matter):
    with pytest.raises(ValueError, match="multiples of 32"):
        tiny_matter._onnx(np.zeros((60, 84, 3), np.uint8), np.zeros((32, 64, 3), np.uint8))


def test_a_failed_int8_quantization_keeps_the_onnx_backend_with_a_float_tnet(monkeypatch):
    import livematte.export as export

    def broken(graph, images, plate=False):
        raise RuntimeError("Incomplete symbolic shape inference")

    monkeypatch.setattr(export, "quantize_tnet", broken)
    with pytest.warns(RuntimeWarning, match="int8 T-Net unavailable"):
        m = Matter(model="shm-tiny", weights=None, tnet_size=64, mnet_size=64, int8_tnet=True)
    assert m.backend == "onnx" and m(np.zeros((32, 32, 3), np.uint8)).shape == (32, 32)


def test_int8_tnet_weights_use_seven_bits(tiny_matter_factory):
    """Weights within ±64: ONNX Runtime's uint8×int8 kernels on CPUs without VNNI sum pairs of products in 16 bits,
    which saturate with 8-bit weights (held out on such a CPU, shm-lite's SAD 7.44 -> 7.55; model card)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load_from_string(tiny_matter_factory(tnet_size=64, int8_tnet=True)._onnx.tnet_graph).graph
    weights = [numpy_helper.to_array(t) for t in graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert weights  # really quantized
    assert max(int(np.abs(w.astype(np.int16)).max()) for w in weights) <= 64


def test_int8_tnet_is_calibrated_at_the_size_it_runs(monkeypatch, tiny_matter_factory):
    """Also after live's quality switch, with the model kept ("fast" -> "balanced": shm-lite both) or changed."""
    import livematte.export as export
    from livematte.config import QUALITY_SIZES
    from livematte.live.processor import configure_engine

    sides = []  # the long side of the calibration images, per quantization
    monkeypatch.setattr(export, "quantize_tnet",
                        lambda graph, images, plate=False: sides.append({max(i.shape[:2]) for i in images}) or graph)
    m = tiny_matter_factory(tnet_size=96, int8_tnet=True)
    configure_engine(m, Settings(quality="fast"))  # the quality it is taken to be built for: sizes kept
    configure_engine(m, Settings(quality="balanced"))
    m.reconfigure(m.config.replace(model="shm-lite"))  # another model: calibrated at the size it runs at
    m.reconfigure(m.config.replace(mnet_size=128))  # the M-Net's size alone: no new calibration
    balanced = QUALITY_SIZES["balanced"][0]
    assert sides == [{96}, {balanced}, {balanced}]


def test_offline_tnet_passes_see_the_frame_at_growing_sizes(tiny_matter_factory):
    """Each pass 32 px longer on its long side than the one before (past the M-Net's size too); all T-Net inputs of
    one frame, recorded in order."""
    matter = tiny_matter_factory(backend="torch", tnet_size=64, mnet_size=96, tnet_passes=3, bottom_context=0)
    seen = _record_inputs(matter)
    assert matter(np.zeros((480, 640, 3), np.uint8)).shape == (480, 640)
    assert seen["tnet shapes"] == [(64, 64), (64, 96), (96, 128)]  # long sides 64, 96, 128; each side a multiple of 32


def test_tnet_passes_the_pixel_budget_rounds_alike_run_once(tiny_matter_factory):
    """At 1280x720 with the bottom context, the budget gives 320 and 352 the same 320x192 input: one T-Net run."""
    matter = tiny_matter_factory(backend="torch", tnet_size=320, mnet_size=384, tnet_passes=2, pixel_budget=True)
    seen = _record_inputs(matter)
    matter(np.zeros((720, 1280, 3), np.uint8))
    assert seen["tnet shapes"] == [(192, 320)]


def test_onnx_graphs_average_several_tnet_passes_as_torch_does():
    from livematte.models import SHM, SHMConfig, average_logits
    from livematte.export import export_onnx
    from livematte.onnx_backend import OnnxModel

    torch.manual_seed(0)
    model = SHM(SHMConfig(0.25, 0.5)).eval()
    rng = np.random.default_rng(8)
    image_m = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    images_t = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in ((64, 64), (64, 96), (96, 128))]
    with torch.no_grad():
        logits = average_logits([model.tnet(_as_tensor(t)) for t in images_t])
        expected = model.refine(_as_tensor(image_m), logits)[2][0, 0].numpy()
        one_pass = model.refine(_as_tensor(image_m), model.tnet(_as_tensor(images_t[0])))[2][0, 0].numpy()
    onnx = OnnxModel(export_onnx(model), threads=1)
    assert np.abs(onnx(image_m, *images_t) - expected).max() < 1e-4
    assert np.abs(onnx(image_m, images_t[0]) - one_pass).max() < 1e-4


@pytest.mark.parametrize("passes", [0, 9])
def test_tnet_passes_out_of_range_are_refused(passes):
    with pytest.raises(SettingsError, match="tnet_passes"):
        Matter(model="shm-tiny", weights=None, tnet_passes=passes)
