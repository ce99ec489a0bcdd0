"""SHM networks: fusion identities, shapes, registry and weights loading."""
import pytest
import torch
import torch.nn.functional as F

from livematte.models import (SHM, SHMConfig, WeightsError, average_logits, create_model, default_weights_path,
                              fuse_alpha, list_models, save_weights)
from livematte.models.blocks import upsample_to
from livematte.models.mnet import MNet


def _probs(n=2, h=8, w=8):
    return torch.softmax(torch.randn(n, 3, h, w), dim=1)


def test_fusion_is_fs_plus_us_times_raw_alpha():
    probs, raw = _probs(), torch.rand(2, 1, 8, 8)
    expected = probs[:, 2:3] + probs[:, 1:2] * raw
    assert torch.allclose(fuse_alpha(probs, raw), expected)


def test_average_logits_of_one_pass_is_that_pass():
    logits = torch.randn(1, 3, 8, 12)
    assert torch.equal(average_logits([logits]), logits)


def test_average_logits_brings_each_pass_to_the_first_ones_grid():
    small = torch.randn(1, 3, 8, 12)
    large = torch.full((1, 3, 10, 15), 2.0)  # constant: the same at any grid
    mean = average_logits([small, large])
    assert mean.shape == small.shape
    assert torch.allclose(mean, (small + 2.0) / 2)


def test_fusion_all_unknown_gives_raw_alpha():
    probs = torch.zeros(1, 3, 4, 4)
    probs[:, 1] = 1.0
    raw = torch.rand(1, 1, 4, 4)
    assert torch.allclose(fuse_alpha(probs, raw), raw)


def test_fusion_no_unknown_gives_foreground_probability():
    probs = torch.zeros(1, 3, 4, 4)
    probs[:, 2, :2] = 1.0
    probs[:, 0, 2:] = 1.0
    out = fuse_alpha(probs, torch.rand(1, 1, 4, 4))
    assert torch.equal(out, probs[:, 2:3])


def test_fusion_stays_in_unit_interval():
    out = fuse_alpha(_probs(4, 16, 16), torch.rand(4, 1, 16, 16))
    assert out.min() >= 0 and out.max() <= 1 + 1e-6


@pytest.mark.parametrize("size,small", [((64, 96), (32, 64)), ((40, 56), None)])
def test_shm_output_shapes(size, small):
    model = SHM(SHMConfig(0.25, 0.5)).eval()
    image = torch.rand(1, 3, *size)
    image_small = torch.rand(1, 3, *small) if small else torch.rand(1, 3, 32, 64)
    logits, raw, alpha = model(image, image_small)
    assert logits.shape == (1, 3, *size) and raw.shape == alpha.shape == (1, 1, *size)
    assert 0 <= alpha.min() and alpha.max() <= 1


def test_registry_lists_presets_and_rejects_unknown():
    assert {"shm", "shm-tiny"} <= set(list_models())
    with pytest.raises(KeyError, match="unknown model"):
        create_model("nope", weights=None)


def test_random_init_is_marked_untrained():
    assert create_model("shm-tiny", weights=None).trained is False


def test_weights_round_trip(tmp_path):
    model = create_model("shm-tiny", weights=None)
    path = tmp_path / "w.pt"
    save_weights(model, path, "shm-tiny", meta={"note": "test"}, half=False)
    loaded = create_model("shm-tiny", weights=path)
    assert loaded.trained and loaded.meta == {"note": "test"}
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model.eval()(x)[2], loaded(x)[2], atol=1e-6)


def test_missing_weights_error_names_path(tmp_path):
    with pytest.raises(WeightsError, match="not found.*missing.pt"):
        create_model("shm-tiny", weights=tmp_path / "missing.pt")


def test_corrupt_weights_error_names_path(tmp_path):
    bad = tmp_path / "corrupt.pt"
    bad.write_bytes(b"\x80\x04this is not a checkpoint")
    with pytest.raises(WeightsError, match="corrupt.pt"):
        create_model("shm-tiny", weights=bad)


def test_truncated_weights_file_is_rejected(tmp_path):
    good = tmp_path / "w.pt"
    save_weights(create_model("shm-tiny", weights=None), good, "shm-tiny")
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(good.read_bytes()[:200])
    with pytest.raises(WeightsError, match="truncated.pt"):
        create_model("shm-tiny", weights=bad)


def test_weights_of_another_size_are_rejected(tmp_path):
    path = tmp_path / "w.pt"
    save_weights(create_model("shm-tiny", weights=None), path, "shm-tiny")
    with pytest.raises(WeightsError, match="does not fit 'shm'.*--model shm-tiny"):
        create_model("shm", weights=path)


def test_weights_written_before_the_lite_options_load_as_shm_only(tmp_path):
    """Files from before SHMConfig grew its lite fields carry only the widths: they are shm files, not shm-lite ones;
    the first shm-lite's file (before the M-Net fields) is refused by name as an older shm-lite; a file without a
    config dict is refused with a WeightsError, not a crash."""
    blob = torch.load(default_weights_path("shm"), weights_only=True)
    blob["config"] = {"tnet_width": 1.0, "mnet_width": 1.0}
    torch.save(blob, tmp_path / "old.pt")
    assert create_model("shm", weights=tmp_path / "old.pt").trained
    with pytest.raises(WeightsError):
        create_model("shm-lite", weights=tmp_path / "old.pt")
    first_lite = {**blob, "model": "shm-lite",
                  "config": {"tnet_width": 1.0, "mnet_width": 1.0, "tnet_head_stride": 4, "mnet_expand": 2}}
    torch.save(first_lite, tmp_path / "first-lite.pt")
    with pytest.raises(WeightsError, match="older 'shm-lite'.*mnet_levels 3 -> 2"):
        create_model("shm-lite", weights=tmp_path / "first-lite.pt")
    blob["config"] = None
    torch.save(blob, tmp_path / "none.pt")
    with pytest.raises(WeightsError):
        create_model("shm", weights=tmp_path / "none.pt")


def test_pickled_code_is_not_executed(tmp_path):
    """weights_only=True: a file carrying arbitrary objects is refused, not unpickled."""
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"format": "livematte-weights-1", "state_dict": Evil()}))
    with pytest.raises(WeightsError):
        create_model("shm-tiny", weights=path)


def test_channel_softmax_matches_torch_softmax_also_for_large_logits():
    from livematte.models.shm import channel_softmax

    logits = torch.randn(2, 3, 5, 7) * 40  # large values: exp would overflow without the max subtraction
    torch.testing.assert_close(channel_softmax(logits), torch.softmax(logits, dim=1))


@pytest.mark.parametrize("width,size", [(1.0, (36, 64)), (0.5, (20, 28)), (1.0, (35, 63))])
def test_mnet_head_equals_the_plain_upsample_concat_conv(width, size):
    """The M-Net head is computed in a cheaper order; it must stay the same function of its weights."""
    torch.manual_seed(0)
    mnet = MNet(width).eval()
    for p in mnet.refine.parameters():  # random, non-zero biases too
        torch.nn.init.normal_(p, std=0.5)
    h, w = size
    y = torch.randn(2, mnet.refine[0].in_channels - 6, (h + 1) // 2, (w + 1) // 2)  # odd: not an exact 2x
    x = torch.randn(2, 6, h, w)
    plain = mnet.refine(torch.cat([F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False), x], 1))
    with torch.no_grad():
        assert torch.allclose(mnet._image_head(y, x), plain, atol=1e-5)


@pytest.mark.parametrize("levels,head", [(3, "image"), (2, "image"), (3, "shuffle"), (2, "shuffle")])
@pytest.mark.parametrize("size", [(40, 56), (41, 57)])
def test_mnet_options_keep_the_full_resolution_output(levels, head, size):
    mnet = MNet(0.5, expand=2, levels=levels, head=head).eval()
    with torch.no_grad():
        alpha = mnet(torch.rand(2, 3, *size), torch.softmax(torch.randn(2, 3, *size), 1))
    assert alpha.shape == (2, 1, *size) and 0 <= alpha.min() and alpha.max() <= 1
    assert (mnet.enc3 is None) == (levels == 2) and (mnet.subpixel is None) == (head == "image")


def test_mnet_rejects_unknown_options():
    with pytest.raises(ValueError, match="levels"):
        MNet(levels=4)
    with pytest.raises(ValueError, match="head"):
        MNet(head="bicubic")


@pytest.mark.parametrize("src,dst", [((6, 8), (12, 16)), ((5, 7), (9, 14)), ((3, 4), (5, 7))])
def test_upsample_to_gives_the_size_asked_and_plain_bilinear_values(src, dst):
    x = torch.randn(1, 4, *src)
    out = upsample_to(x, dst)
    assert out.shape[-2:] == dst
    assert torch.allclose(out, F.interpolate(x, size=dst, mode="bilinear", align_corners=False), atol=1e-6)
