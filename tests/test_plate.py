"""Clean-plate mode: plate models made from automatic weights, Matter.set_plate, mismatch fallback, plates built
from frames."""
import cv2
import numpy as np
import pytest
import torch

from livematte.errors import InputError, SettingsError
from livematte.models import create_model
from livematte.models.plate import widen_state
from livematte.models.registry import plate_model_name
from livematte.plate import (CHANGED_SHARE, FITS_SHARE, PLATE_CHANGED, PlateMonitor, average_plate, background_mask,
                             build_auto_plate, mismatch, refuse_person, small_copy)


def scene(h=120, w=160, seed=0):
    """A textured background, smooth enough to look like a room, detailed enough that a shift shows."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.uniform(30, 220, (h // 8, w // 8, 3)).astype(np.float32), (w, h),
                      interpolation=cv2.INTER_CUBIC)
    return np.clip(base + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)


def person(h, w, x):
    """A soft ellipse standing at column ``x``: alpha float32."""
    alpha = np.zeros((h, w), np.float32)
    cv2.ellipse(alpha, (int(x), h * 2 // 3), (w // 10, h // 3), 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(alpha, (5, 5), 0)


def shifted_clip(frames=30, shift_at=(10, 20), shift=40):
    """A person walking over a locked-off background; from ``shift_at[0]`` to ``shift_at[1]`` the camera has moved
    (the background seen ``shift`` px further), then it is back. (frames, alphas, plate)."""
    bg = scene(120, 220)
    plate = bg[:, :160].copy()
    out, alphas = [], []
    rng = np.random.default_rng(1)
    for i in range(frames):
        moved = shift_at[0] <= i < shift_at[1]
        view = bg[:, shift:shift + 160] if moved else plate
        alpha = person(120, 160, 40 + 3 * i)
        fg = np.full((120, 160, 3), (250, 10, 250), np.float32)  # a colour the room lacks
        frame = fg * alpha[..., None] + view * (1 - alpha[..., None]) + rng.normal(0, 3, view.shape)
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
        alphas.append(alpha)
    return out, alphas, plate


# -- the plate model ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["shm-tiny", "shm-lite", "shm"])
def test_plate_model_starts_as_the_automatic_one(name):
    torch.manual_seed(0)
    auto = create_model(name, weights=None)
    plate = create_model(plate_model_name(name), weights=None)
    state, widened = widen_state(auto.state_dict(), plate.state_dict())
    assert widened and all(".weight" in k for k in widened)
    plate.load_state_dict(state)  # every tensor: nothing left at random init
    x, p = torch.rand(2, 3, 64, 96), torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        expected = auto(x)[2]
        assert torch.equal(plate(x, plate=p)[2], expected)
        assert torch.equal(plate(x, plate=torch.zeros_like(p))[2], expected)


def test_plate_model_needs_the_plate():
    model = create_model("shm-tiny-plate", weights=None)
    with pytest.raises(ValueError, match="needs the plate"):
        model(torch.rand(1, 3, 32, 32))


# -- Matter.set_plate --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_set_plate_at_any_size_of_the_frames_aspect(tiny_matter_factory, backend):
    matter = tiny_matter_factory(backend=backend)
    frame = scene(96, 128)
    assert matter.plate_status == "off"
    for plate in (frame, cv2.resize(frame, (64, 48)), cv2.resize(frame, (256, 192))):
        matter.set_plate(plate)
        alpha = matter(frame)
        assert alpha.shape == (96, 128) and alpha.dtype == np.float32 and matter.plate_status == "fits"
    matter.set_plate(None)
    assert matter.plate_status == "off" and matter(frame).shape == (96, 128)


def test_set_plate_errors_are_typed(tiny_matter):
    frame = scene(96, 128)
    for bad in (frame.astype(np.float32), frame[..., 0], frame[..., :2], np.zeros((4, 4, 3), np.uint8), "plate.png"):
        with pytest.raises(InputError, match="plate"):
            tiny_matter.set_plate(bad)
    tiny_matter(frame)
    with pytest.raises(InputError, match="aspect"):  # a frame was seen: checked at once
        tiny_matter.set_plate(np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(InputError, match="coverage"):
        tiny_matter.set_plate(frame, coverage=np.ones((10, 10), bool))


def test_wrong_aspect_is_refused_at_the_first_frame(tiny_matter_factory):
    matter = tiny_matter_factory()
    matter.set_plate(np.zeros((100, 100, 3), np.uint8))  # no frame seen yet
    with pytest.raises(InputError, match="aspect"):
        matter(scene(96, 128))


def test_plate_mode_without_trained_plate_weights_says_so(tiny_matter_factory):
    matter = tiny_matter_factory(weights="default")  # no shm-tiny-plate.pt ships
    with pytest.raises(SettingsError, match="trained 'shm-tiny-plate' weights"):
        matter.set_plate(scene(96, 128))
    assert matter.plate_status == "off"


def test_a_plate_model_is_not_an_automatic_one(tiny_matter_factory):
    with pytest.raises(SettingsError, match="clean-plate model"):
        tiny_matter_factory(model="shm-tiny-plate")


def test_partial_coverage_blends_with_the_automatic_matte(tiny_matter_factory):
    matter = tiny_matter_factory()
    frame = scene(96, 128)
    coverage = np.zeros((96, 128), bool)
    coverage[:, :64] = True
    matter.set_plate(frame, coverage=coverage)
    assert matter(frame).shape == (96, 128)


# -- mismatch ----------------------------------------------------------------------------------------------------

def camera_drift(frame, rng):
    """What a locked-off camera does to the same background: exposure, white balance, gamma, noise, a 2 px
    shift, JPEG."""
    x = frame.astype(np.float32) / 255
    x = np.clip(x * 1.15 * np.array([1.05, 1.0, 0.93]), 0, 1) ** 0.9
    x = np.roll(x, (2, -2), axis=(0, 1)) + rng.normal(0, 0.02, x.shape)
    out = (np.clip(x, 0, 1) * 255).astype(np.uint8)
    return cv2.imdecode(cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 60])[1], cv2.IMREAD_UNCHANGED)


def test_small_changes_fit_and_another_background_does_not():
    plate = scene(240, 320)
    everywhere = np.ones(small_copy(plate).shape[:2], bool)
    drifted = mismatch(small_copy(camera_drift(plate, np.random.default_rng(0))), small_copy(plate), everywhere)
    assert drifted < FITS_SHARE
    moved = np.roll(plate, 40, axis=1)
    assert mismatch(small_copy(moved), small_copy(plate), everywhere) > CHANGED_SHARE
    other = scene(240, 320, seed=5)
    assert mismatch(small_copy(other), small_copy(plate), everywhere) > CHANGED_SHARE


def test_a_plate_with_clipped_highlights_fits_and_a_moved_camera_still_shows():
    # a bright window in the upper half; the plate taken a third of a stop brighter clips it to white
    room = scene(240, 320).astype(np.float32)
    room[:120] = 200 + room[:120] * 0.2
    frame = np.clip(room, 0, 255).astype(np.uint8)
    plate = np.clip(room * 1.25, 0, 255).astype(np.uint8)
    assert (small_copy(plate)[:20] >= 0.98).all(axis=2).mean() > 0.9  # the window (top rows) is clipped in the plate
    everywhere = np.ones(small_copy(plate).shape[:2], bool)
    assert mismatch(small_copy(frame), small_copy(plate), everywhere) < FITS_SHARE
    moved = np.roll(frame, 40, axis=1)
    assert mismatch(small_copy(moved), small_copy(plate), everywhere) > CHANGED_SHARE
    white = np.full_like(plate, 255)  # a white-out plate: its exposure is unknown, so nothing tells it is wrong
    assert mismatch(small_copy(frame), small_copy(white), everywhere) < FITS_SHARE


def test_a_white_out_in_the_frame_is_a_change():
    # a lamp switched on, the sun on the wall: a large part of the frame clipped where the plate has texture
    room = scene(240, 320)
    lit = room.copy()
    lit[:150] = 255
    everywhere = np.ones(small_copy(room).shape[:2], bool)
    assert mismatch(small_copy(lit), small_copy(room), everywhere) > CHANGED_SHARE
    assert mismatch(small_copy(np.full_like(room, 255)), small_copy(room), everywhere) > CHANGED_SHARE


def test_mismatch_ignores_the_person_and_needs_background():
    frames, alphas, plate = shifted_clip()
    shape = small_copy(plate).shape[:2]
    assert mismatch(small_copy(frames[0]), small_copy(plate), background_mask(alphas[0], shape)) < FITS_SHARE
    assert mismatch(small_copy(frames[0]), small_copy(plate), np.zeros(shape, bool)) is None


def test_monitor_falls_back_and_recovers_on_a_clip_whose_background_shifts():
    frames, alphas, plate = shifted_clip()
    monitor = PlateMonitor(plate)
    fits = [monitor.update(f, a) for f, a in zip(frames, alphas)]
    assert all(fits[:10])
    assert not any(fits[12:20])     # changed within two frames of the camera moving
    assert all(fits[25:])           # back once it fits for a few frames


def test_engine_falls_back_to_the_automatic_model_and_recovers(tiny_matter_factory):
    frames, alphas, plate = shifted_clip()
    matter = tiny_matter_factory()
    matter.set_plate(plate)
    used, statuses = [], []
    run = matter._run

    def spy(backend, *args, **kw):
        used.append(backend is not None and backend in (matter._plate_onnx, matter._plate_torch))
        return run(backend, *args, **kw)

    matter._run = spy
    for frame, alpha in zip(frames, alphas):
        matter(frame)
        statuses.append(matter.plate_status)
        # A random-init model's matte says nothing: stand in the true one as "the previous matte".
        matter._previous = cv2.resize(alpha, matter._previous.shape[::-1])
    assert statuses[:10] == ["fits"] * 10 and set(statuses[12:20]) == {"changed"} and statuses[-1] == "fits"
    assert used[:10] == [True] * 10 and not any(used[13:20]) and used[-1]
    assert PLATE_CHANGED == "background changed: capture again"


# -- plates from frames ------------------------------------------------------------------------------------------

def test_average_plate_and_refusal_of_a_person():
    frames = [scene(60, 80) for _ in range(3)]
    assert average_plate(frames).dtype == np.uint8 and average_plate(frames).shape == (60, 80, 3)
    refuse_person([np.zeros((60, 80), np.float32)])
    with pytest.raises(InputError, match="still shows a person"):
        refuse_person([person(60, 80, 40)])
    with pytest.raises(InputError):
        average_plate([])


def test_auto_plate_from_a_locked_off_clip():
    frames, alphas, plate = shifted_clip(frames=30, shift_at=(99, 99))
    auto = build_auto_plate(frames, alphas)
    assert auto.covered > 0.97  # the person walked across: nearly every pixel was seen empty
    diff = np.abs(auto.plate.astype(int) - plate.astype(int))[auto.coverage]
    assert np.median(diff) <= 3
    still = build_auto_plate(frames[:1], alphas[:1])  # one frame: never seen empty three times
    assert still.covered == 0.0


def test_a_model_switch_to_one_without_plate_weights_drops_the_plate(tiny_matter_factory):
    matter = tiny_matter_factory()
    matter.set_plate(scene(96, 128))
    with pytest.warns(RuntimeWarning, match="plate dropped"):
        matter.reconfigure(matter.config.replace(plate_weights="default", weights="default"))
    assert matter.plate_status == "off" and matter(scene(96, 128)).shape == (96, 128)


def test_on_real_backgrounds_perturbed_plates_fit_and_a_moved_camera_does_not(shared):
    import random

    from livematte.datasets import load_split
    from livematte.media import read_image
    from livematte.resize import fit_within
    from livematte.training.plates import perturb_plate

    names = load_split()["heldout"]["backgrounds"][:10]
    fits, moved = [], []
    for i, name in enumerate(names):
        bg = fit_within(read_image(shared / "data" / name), 640)
        plate, everywhere = small_copy(bg), np.ones(small_copy(bg).shape[:2], bool)
        fits += [mismatch(small_copy(perturb_plate(bg, random.Random(i * 10 + s))), plate, everywhere)
                 for s in range(5)]
        shifted = cv2.warpAffine(bg, np.float32([[1, 0, 40], [0, 1, 0]]), bg.shape[1::-1],
                                 borderMode=cv2.BORDER_REFLECT)
        moved.append(mismatch(small_copy(shifted), plate, everywhere))
    assert max(fits) < FITS_SHARE
    assert np.median(moved) > CHANGED_SHARE


def test_the_plate_evaluations_clip_stays_on_its_plate(shared):
    # its plate was drawn brighter, with the sky clipped to white on half the pixels: once taken for a changed
    # background, which made the clip's flicker figures automatic mode's
    from livematte import Matter
    from livematte.config import EngineConfig
    from livematte.evaluate_plate import plate_data

    data = plate_data(shared)
    assert (small_copy(data.clip_plate) >= 0.98).any(axis=2).mean() > 0.3
    matter = Matter(EngineConfig.live())
    matter.set_plate(data.clip_plate)
    fits = []
    for frame in data.clip:
        matter(frame)
        fits.append(matter.plate_status == "fits")
    assert all(fits)
