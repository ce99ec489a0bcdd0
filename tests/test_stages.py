"""Per-frame stages as pure functions: upsampling, smoothing, foreground, compositing, backgrounds."""
import cv2
import numpy as np
import pytest

from livematte.composite import (BlurBackground, ColourBackground, ImageBackground, TransparentBackground,
                                 blur_background, composite, cover_resize, parse_background, parse_colour, render_output, to_rgba)
from livematte.errors import SettingsError
from livematte.foreground import decontaminate, estimate_foreground
from livematte.resize import extend_bottom, fit_within, shrink
from livematte.smoothing import TemporalSmoother, ema_step, motion_aware_step
from livematte.upsample import bilinear_upsample, guided_upsample


def _step_image(h=64, w=64, edge=29):
    img = np.zeros((h, w, 3), np.uint8)
    img[:, edge:] = 255
    return img


def test_guided_upsample_follows_full_resolution_edge():
    guide = _step_image(edge=29)  # the edge lies between low-res pixels
    low = (guide[::4, ::4, 0] > 127).astype(np.float32)
    guided = guided_upsample(low, guide)
    plain = bilinear_upsample(low, guide.shape[:2])
    truth = (guide[..., 0] > 127).astype(np.float32)
    assert guided.shape == truth.shape and guided.dtype == np.float32
    assert np.abs(guided - truth).mean() < 0.7 * np.abs(plain - truth).mean()
    assert 0 <= guided.min() and guided.max() <= 1


def test_guided_upsample_same_size_is_close_to_input():
    guide = _step_image()
    alpha = (guide[..., 0] > 127).astype(np.float32)
    assert np.abs(guided_upsample(alpha, guide) - alpha).mean() < 0.02


def test_ema_step_weights():
    prev, cur = np.zeros((4, 4), np.float32), np.ones((4, 4), np.float32)
    assert np.allclose(ema_step(prev, cur, 0.0), 1.0)
    assert np.allclose(ema_step(prev, cur, 0.75), 0.25)


def test_motion_aware_smooths_still_pixels_and_follows_moving_ones():
    prev_alpha = np.zeros((32, 32), np.float32)
    cur_alpha = np.full((32, 32), 0.1, np.float32)  # flicker at the noise level everywhere
    cur_alpha[:, 16:] = 1.0                          # ... and a real change on the right
    prev_gray = np.zeros((32, 32), np.float32)
    gray = prev_gray.copy()
    gray[:, 16:] = 0.8                                # the picture moved on the right only
    out = motion_aware_step(prev_alpha, cur_alpha, prev_gray, gray, strength=0.8)
    assert np.allclose(out[:, :8], 0.1 * 0.2, atol=1e-3)   # still: 80 % of the past kept
    assert np.allclose(out[:, 24:], 1.0)                    # moving: the new alpha, unsmeared


def test_smoother_resets_on_cut():
    s = TemporalSmoother("ema", 0.9)
    dark, bright = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)
    s(np.zeros((8, 8), np.float32), dark)
    out = s(np.ones((8, 8), np.float32), bright)
    assert np.allclose(out, 1.0)


def test_estimate_foreground_removes_background_colour():
    rng = np.random.default_rng(0)
    h, w = 48, 96
    fg = np.zeros((h, w, 3), np.float32)
    fg[:] = (200, 40, 40)
    bg = np.zeros((h, w, 3), np.float32)
    bg[:] = (20, 200, 20)
    alpha = np.tile(np.clip((np.arange(w, dtype=np.float32) - 43) / 10, 0, 1), (h, 1))  # a 10 px soft edge
    image = (fg * alpha[..., None] + bg * (1 - alpha[..., None]) + rng.normal(0, 1, (h, w, 3))).clip(0, 255)
    image = image.astype(np.uint8)
    est = estimate_foreground(image, alpha).astype(np.float32)
    soft = (alpha > 0.2) & (alpha < 0.8)
    err_est = np.abs(est[soft] - fg[soft]).mean()
    err_naive = np.abs(image[soft].astype(np.float32) - fg[soft]).mean()
    assert err_est < 0.25 * err_naive


def _blur_fusion_reference(image, alpha, radii):
    """Forte & Pitié's two passes written out plainly in float64: F = F̄ + α·(I − α·F̄ − (1 − α)·B̄), with F̄ and B̄
    the box means of the previous F and B weighted by α and 1 − α."""
    img = image.astype(np.float64) / 255.0
    a = alpha.astype(np.float64)[..., None]
    fg = bg = img
    for r in radii:
        k = (2 * r + 1, 2 * r + 1)
        mean = lambda values, weights: cv2.blur(values * weights, k) / (cv2.blur(weights[..., 0], k)[..., None] + 1e-5)
        fg_mean, bg_mean = mean(fg, a), mean(bg, 1.0 - a)
        fg, bg = np.clip(fg_mean + a * (img - a * fg_mean - (1.0 - a) * bg_mean), 0.0, 1.0), bg_mean
    return fg * 255.0


def test_estimate_foreground_is_the_blur_fusion_formula_and_leaves_its_inputs_alone():
    rng = np.random.default_rng(4)
    image = cv2.GaussianBlur(rng.integers(0, 256, (60, 90, 3), dtype=np.uint8), (0, 0), 2)
    alpha = cv2.GaussianBlur(rng.random((60, 90)).astype(np.float32), (0, 0), 3)
    image_before, alpha_before = image.copy(), alpha.copy()
    est = estimate_foreground(image, alpha, radii=(12, 2))
    assert np.abs(est - _blur_fusion_reference(image, alpha, (12, 2))).max() <= 1.0  # uint8 rounding
    assert np.array_equal(image, image_before) and np.array_equal(alpha, alpha_before)


def test_decontaminate_keeps_shape_and_leaves_solid_regions():
    img = np.random.default_rng(2).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    alpha = np.ones((200, 300), np.float32)
    out = decontaminate(img, alpha, work_size=64)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out, img)


def test_composite_blends_exactly():
    fg = np.full((4, 4, 3), 200, np.uint8)
    bg = np.full((4, 4, 3), 100, np.uint8)
    alpha = np.array([[0, 0.25, 0.5, 1.0]] * 4, np.float32)
    out = composite(fg, alpha, bg)
    assert out.dtype == np.uint8
    assert np.array_equal(out[0, :, 0], [100, 125, 150, 200])


def test_to_rgba_stacks_alpha():
    rgba = to_rgba(np.zeros((2, 2, 3), np.uint8), np.array([[0, 1], [0.5, 0.2]], np.float32))
    assert rgba.shape == (2, 2, 4) and list(rgba[..., 3].ravel()) == [0, 255, 128, 51]


@pytest.mark.parametrize("spec,rgb", [("green", (0, 177, 64)), ("#ff0000", (255, 0, 0)), ("#0f0", (0, 255, 0)),
                                      ("10,20,30", (10, 20, 30))])
def test_parse_colour(spec, rgb):
    assert parse_colour(spec) == rgb


def test_parse_background_kinds(tmp_path):
    import cv2

    img = tmp_path / "bg.png"
    cv2.imwrite(str(img), np.zeros((10, 20, 3), np.uint8))
    assert isinstance(parse_background("blue"), ColourBackground)
    assert isinstance(parse_background("blur:5"), BlurBackground)
    assert isinstance(parse_background("transparent"), TransparentBackground)
    assert isinstance(parse_background(str(img)), ImageBackground)
    assert parse_background("none").kind == "none"
    for bad in ("blur:0", "blur:x", "not-a-colour-or-file", "#12345"):
        with pytest.raises(SettingsError):
            parse_background(bad)


def test_cover_resize_fills_without_distortion():
    src = np.zeros((100, 200, 3), np.uint8)
    src[:, 50:150] = 255
    out = cover_resize(src, (50, 50))
    assert out.shape == (50, 50, 3) and out.mean() > 250  # the centre crop is the white band


def test_blur_background_removes_detail():
    frame = np.zeros((64, 64, 3), np.uint8)
    frame[::2] = 255
    out = BlurBackground(10).render(frame)
    assert out.shape == frame.shape and out.std() < 0.1 * frame.std()


def test_a_blurred_background_does_not_halo_the_person():
    """A bright person on a dark scene: next to the person, the blurred background stays dark (a plain blur of
    the frame spreads the person's light around them)."""
    frame = np.full((240, 320, 3), 20, np.uint8)
    alpha = np.zeros((240, 320), np.float32)
    alpha[40:240, 120:200] = 1.0
    frame[alpha > 0.5] = 240
    ring = np.zeros_like(alpha, bool)
    ring[30:240, 105:215] = True
    ring &= alpha == 0  # 10-15 px around the person
    out = render_output(frame, alpha, BlurBackground(12), "composite")
    plain = blur_background(frame, 12)
    assert plain[ring].mean() > 60  # what the old blur did: the person's light around them
    assert out[ring].max() <= 22 and out[alpha > 0.5].min() == 240
    # a person filling the frame leaves no background: still a blur, no error
    assert BlurBackground(12).render(frame, np.ones_like(alpha)).shape == frame.shape


def test_render_output_types():
    frame = np.full((8, 8, 3), 100, np.uint8)
    alpha = np.full((8, 8), 0.5, np.float32)
    bg = ColourBackground((0, 0, 0))
    assert render_output(frame, alpha, bg, "alpha").shape == (8, 8)
    assert render_output(frame, alpha, bg, "rgba").shape == (8, 8, 4)
    assert render_output(frame, alpha, TransparentBackground(), "composite").shape == (8, 8, 4)
    assert render_output(frame, alpha, bg, "composite")[0, 0, 0] == 50
    assert render_output(frame, alpha, bg, "foreground")[0, 0, 0] == 50


def test_composite_decontaminated_matches_composite_of_decontaminated_foreground():
    from livematte.foreground import composite_decontaminated

    rng = np.random.default_rng(4)
    h, w = 360, 640
    fg = np.zeros((h, w, 3), np.uint8)
    fg[:] = (220, 60, 40)
    old_bg = cv2_resize(rng.integers(0, 256, (9, 16, 3), dtype=np.uint8), (w, h))
    alpha = np.zeros((h, w), np.float32)
    alpha[:, 300:] = 1.0
    alpha[:, 280:300] = np.linspace(0, 1, 20, dtype=np.float32)  # a soft edge
    image = (fg * alpha[..., None] + old_bg * (1 - alpha[..., None])).astype(np.uint8)
    new_bg = np.zeros_like(image)
    new_bg[:] = (0, 0, 255)
    fused = composite_decontaminated(image, alpha, new_bg, work_size=320)
    reference = composite(decontaminate(image, alpha, work_size=320), alpha, new_bg)
    assert np.abs(fused.astype(int) - reference).max() <= 6
    # and the old background is gone from the soft edge: closer to the true composite than a plain blend
    truth = (fg * alpha[..., None] + new_bg * (1 - alpha[..., None])).astype(int)
    plain = composite(image, alpha, new_bg).astype(int)
    edge = (alpha > 0.2) & (alpha < 0.8)
    assert np.abs(fused.astype(int) - truth)[edge].mean() < 0.5 * np.abs(plain - truth)[edge].mean()


def cv2_resize(img, size):
    return cv2.resize(img, size, interpolation=cv2.INTER_NEAREST)


@pytest.mark.parametrize("src,dst", [((480, 640), (224, 168)), ((1080, 1920), (256, 144)), ((720, 1280), (384, 216)),
                                     ((1081, 1921), (256, 144)), ((100, 60), (64, 96)), ((480, 640), (700, 200))])
def test_shrink_matches_an_area_resize_closely(src, dst):  # src is (h, w), dst (w, h)
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 256, (*src, 3), dtype=np.uint8), (9, 9), 3)
    out = shrink(image, dst)
    assert out.shape == (dst[1], dst[0], 3) and out.dtype == np.uint8
    area = cv2.resize(image, dst, interpolation=cv2.INTER_AREA)
    assert np.abs(out.astype(int) - area).mean() < 2.0


def test_shrink_returns_an_image_of_that_size_as_it_is():
    image = np.zeros((48, 64, 3), np.uint8)
    assert shrink(image, (64, 48)) is image


def test_extend_bottom_repeats_the_last_row():
    image = np.random.default_rng(9).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    out = extend_bottom(image, 8)
    assert out.shape == (8, 4, 3)
    assert np.array_equal(out[:5], image) and (out[5:] == image[-1]).all()
    assert extend_bottom(image, 5) is image


def test_fit_within_scales_only_what_is_too_large_and_keeps_the_shape():
    image = np.zeros((300, 400), np.float32)
    image[:, 200:] = 1.0
    out = fit_within(image, 100)
    assert out.shape == (75, 100) and out[:, :49].max() == 0 and out[:, 51:].min() == 1  # the edge stays put
    tall = np.zeros((400, 30, 3), np.uint8)
    assert fit_within(tall, 100).shape == (100, 8, 3)  # the long side is the height here
    assert fit_within(image, 400) is image and fit_within(image, 1000) is image


def test_the_gpu_guided_upsampling_is_the_cpu_one():
    """The engine's CUDA path (kornia box filters in torch) gives the OpenCV filter's alpha; run here on torch's CPU."""
    from livematte.torch_backend import guided_upsample_torch
    from livematte.upsample import guided_upsample

    rng = np.random.default_rng(2)
    guide = cv2.GaussianBlur(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8), (5, 5), 0)
    alpha = cv2.resize((guide[..., 0] > 128).astype(np.float32), (32, 24), interpolation=cv2.INTER_AREA)
    cpu = guided_upsample(alpha, guide)
    torch_cpu = guided_upsample_torch(alpha, guide, "cpu")
    difference = np.abs(torch_cpu - cpu)  # grey weights and resampling differ a little: about 1 level of 255
    assert torch_cpu.shape == cpu.shape and difference.max() < 2e-2 and difference.mean() < 4e-3
