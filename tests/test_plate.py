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
                             build_auto_plate, fit_exposure, mismatch, refuse_person, small_copy)
from livematte.plate_align import (ALIGN_FOLLOW, MAX_SHIFT, PlateAligner, align_plate, estimate_shift,
                                  not_background)


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


# -- aligning the plate to the frame ----------------------------------------------------------------------------

def _moved(img, dx, dy):
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, img.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("dx,dy", [(2.5, -1.0), (-3.0, 0.5), (0.0, 0.0)])
def test_the_plates_shift_is_found_with_a_person_in_the_frame(dx, dy):
    # found on copies of 256 px: within half a pixel of a 640 px frame (the training shifts reach 3 px)
    big = scene(480, 640)
    alpha = cv2.resize(person(120, 160, 60), (640, 480))[..., None]
    frame = (alpha * 250 + (1 - alpha) * big).astype(np.uint8)
    found = estimate_shift(frame, _moved(big, dx, dy))
    assert found == pytest.approx((dx, dy), abs=0.6)
    inner = np.s_[8:-8, 8:-8]
    error = lambda plate: np.abs(plate[inner].astype(int) - big[inner].astype(int)).mean()  # noqa: E731
    if (dx, dy) != (0.0, 0.0):  # the texture's own pixel noise stays (interpolation blurs it): the shift's error goes
        assert error(align_plate(_moved(big, dx, dy), found, None)) < 0.5 * error(_moved(big, dx, dy))


def test_the_persons_matte_keeps_the_shift_estimate_on_the_background():
    # a plain room and a bright person: compared whole, the person's edges pull the estimate off by pixels
    errors = []
    for seed in range(4):
        room = cv2.resize(scene(120, 160, seed=seed), (640, 480), interpolation=cv2.INTER_CUBIC)
        alpha = cv2.resize(person(120, 160, 60 + 10 * seed), (640, 480))
        frame = (alpha[..., None] * 250 + (1 - alpha[..., None]) * room).astype(np.uint8)
        plate = _moved(room, 2.5, -1.0)
        errors.append([np.hypot(dx - 2.5, dy + 1.0) for dx, dy in (estimate_shift(frame, plate),
                                                                  estimate_shift(frame, plate, alpha))])
    whole, masked = np.array(errors).T
    assert masked.max() < 0.7 and masked.mean() < 0.5 * whole.mean()


def test_the_shift_estimate_leaves_out_the_person_and_an_automatic_plates_unknown_part():
    person_matte, unknown = np.float32([[0.0, 0.8], [0.0, 0.0]]), np.float32([[0.0, 0.0], [1.0, 0.0]])
    assert not_background(None, None) is None
    assert not_background(person_matte, None) is person_matte and not_background(None, unknown) is unknown
    assert (not_background(person_matte, unknown) == np.float32([[0.0, 0.8], [1.0, 0.0]])).all()


def test_too_little_background_gives_no_shift_estimate():
    big = scene(480, 640)
    alpha = np.zeros((480, 640), np.float32)
    alpha[:, 40:600] = 1  # a person filling nine tenths of the frame
    assert estimate_shift(big, _moved(big, 2, 0), alpha) is None


def test_the_aligner_keeps_its_shift_when_none_can_be_estimated(monkeypatch):
    import livematte.plate_align as plate_align

    estimates = iter([(2.0, 1.0)] + [None] * 30)
    monkeypatch.setattr(plate_align, "estimate_shift", lambda *a: next(estimates))
    aligner, plate_m = PlateAligner(), scene(48, 64)
    for _ in range(25):
        shift = aligner.shift(plate_m, plate_m, None, (48, 64))
        aligner.copies(plate_m, [], shift, None)
    assert aligner.alignment[0] == (2.0, 1.0)


def test_the_shift_is_estimated_every_tenth_frame_and_again_at_other_sizes(monkeypatch):
    import livematte.plate_align as plate_align

    calls = []
    monkeypatch.setattr(plate_align, "estimate_shift", lambda *a: calls.append(a[0].shape) or (0.5, 0.0))
    aligner, frame, small, large = PlateAligner(), scene(96, 128), scene(48, 64), scene(96, 128)
    for plate in [small] * 21 + [large]:
        aligner.copies(plate, [], aligner.shift(frame, frame, None, plate.shape[:2]), None)
    assert len(calls) == 4  # frames 1, 11, 21, then the new size at once
    assert aligner.alignment[0] == (0.5, 0.0)  # in the new copy's pixels: the old size's shift was not carried over
    assert aligner._made[1][0] == (0.5, 0.0)


def test_a_shift_larger_than_a_nudge_is_left_to_the_monitor():
    big = scene(480, 640)
    far = 2 * MAX_SHIFT * 640
    assert estimate_shift(big, _moved(big, far, 0)) == (0.0, 0.0)


def test_exposure_fit_maps_the_plate_onto_the_frame_outside_the_person():
    plate = scene(240, 320)
    gain, offset = np.float32([1.2, 0.9, 1.05]), np.float32([0.02, -0.01, 0.0])
    frame = np.clip(plate.astype(np.float32) * gain + offset * 255, 0, 255).astype(np.uint8)
    alpha = person(240, 320, 160)
    frame = (alpha[..., None] * 250 + (1 - alpha[..., None]) * frame).astype(np.uint8)
    small_f, small_p = small_copy(frame), small_copy(plate)
    fitted = fit_exposure(small_f, small_p, background_mask(alpha, small_p.shape[:2]))
    assert fitted is not None
    assert fitted[0] == pytest.approx(gain, abs=0.03) and fitted[1] == pytest.approx(offset, abs=0.015)
    aligned = align_plate(plate, (0.0, 0.0), fitted)
    bg = alpha < 0.01
    assert np.abs(aligned[bg].astype(int) - frame[bg].astype(int)).mean() < 3
    assert fit_exposure(small_f, small_p, np.zeros(small_p.shape[:2], bool)) is None


def test_a_clipped_window_neither_skews_the_exposure_fit_nor_loses_its_white():
    room = scene(240, 320).astype(np.float32) * 0.7
    room[20:90, 40:140] = 250  # a bright window, a tenth of the frame
    frame = room.astype(np.uint8)
    plate = np.clip(room * 1.2, 0, 255).astype(np.uint8)  # taken brighter: the window clips in the plate
    everywhere = np.ones(small_copy(plate).shape[:2], bool)
    gain, offset = fit_exposure(small_copy(frame), small_copy(plate), everywhere)
    assert gain == pytest.approx(1 / 1.2, abs=0.03) and offset == pytest.approx(0, abs=0.01)
    aligned = align_plate(plate, (0.0, 0.0), (gain, offset))
    assert (aligned[30:80, 50:130] == 255).all()  # clipped stays clipped: "at least this bright"


def test_an_automatic_plate_is_compared_only_where_it_is_known():
    room = scene(240, 320)
    plate = room.copy()
    plate[:, :80] = (250, 20, 250)  # never seen empty: the median kept the person there
    coverage = np.ones((240, 320), bool)
    coverage[:, :80] = False
    frame = np.clip(room.astype(np.float32) * 0.9, 0, 255).astype(np.uint8)
    monitor = PlateMonitor(plate, coverage)
    assert monitor.update(frame, np.zeros((240, 320), np.float32))
    assert monitor.score < FITS_SHARE and monitor.exposure[0] == pytest.approx(0.9, abs=0.03)
    blind = PlateMonitor(plate)
    blind.update(frame, np.zeros((240, 320), np.float32))
    assert blind.score > monitor.score


def test_the_aligner_follows_its_estimates_and_keeps_copies_while_they_hold_still():
    plate_m, plates_t = scene(48, 64), [scene(32, 40, seed=1)]
    aligner = PlateAligner()
    one = (np.float32([1.0, 1.0, 1.0]), np.float32([0.0, 0.0, 0.0]))
    first = aligner.copies(plate_m, plates_t, (2.0, 0.0), one)
    assert aligner.alignment[0] == (2.0, 0.0)  # a stream's first estimate as it is
    again = aligner.copies(plate_m, plates_t, (2.0, 0.0), one)
    assert again is first  # nothing moved: the same copies
    aligner.copies(plate_m, plates_t, (0.0, 0.0), one)
    assert aligner.alignment[0][0] == pytest.approx(2.0 * (1 - ALIGN_FOLLOW))  # followed, not jumped to
    brighter = (np.float32([1.2, 1.2, 1.2]), one[1])
    moved = aligner.copies(plate_m, plates_t, aligner.alignment[0], brighter)
    assert moved is not first and moved[0].mean() > first[0].mean()
    assert moved[1][0].shape == plates_t[0].shape


def test_the_engine_aligns_the_plate_and_fits_a_first_frames_exposure_on_its_own_matte(tiny_matter_factory):
    frames, alphas, plate = shifted_clip(frames=4, shift_at=(99, 99))
    matter = tiny_matter_factory()
    matter.set_plate(np.clip(plate * 1.2, 0, 255).astype(np.uint8))  # taken brighter
    calls = []

    def truth(image_m):  # the true matte on the M-Net copy's frame rows
        rows = round(image_m.shape[0] * 120 / (120 + round(120 * matter.config.bottom_context)))
        alpha = np.zeros(image_m.shape[:2], np.float32)
        alpha[:rows] = cv2.resize(alphas[0], (image_m.shape[1], rows))
        return alpha

    def model(backend, image_m, images_t, plates=None):
        calls.append((image_m, plates))
        return truth(image_m), {}  # a random-init model's matte says nothing: the true one stands in

    matter._run = model
    matter(frames[0])
    assert len(calls) == 2 and all(p is not None for _, p in calls)  # no matte to fit on yet: run, fit, run again
    gain, _ = matter._aligner.alignment[1]
    assert gain == pytest.approx(1 / 1.2, abs=0.05)  # the plate is brought back to the frame's exposure
    image_m = calls[0][0]
    bg = truth(image_m) < 0.01
    error = [np.abs(p[0].astype(int) - image_m.astype(int))[bg].mean() for _, p in calls]
    assert error[1] < 0.5 * error[0]
    for frame in frames[1:]:
        matter(frame)
    assert len(calls) == 5  # then one run a frame, fitted on the previous matte's background
    matter.reset()
    assert matter._aligner.alignment is None


def test_the_engine_aligns_every_working_copy_of_a_shifted_plate(tiny_matter_factory):
    room = scene(240, 320)
    plate = _moved(room, 4.0, -3.0)  # the camera nudged since: 4 px right, 3 px up
    alpha = person(240, 320, 120)
    frame = (alpha[..., None] * 250 + (1 - alpha[..., None]) * room).astype(np.uint8)
    matter = tiny_matter_factory(tnet_size=128, mnet_size=96, tnet_passes=2)
    matter.set_plate(plate)
    seen = []

    def model(backend, image_m, images_t, plates=None):
        seen.append((image_m, images_t, plates))
        small = cv2.resize(alpha, (image_m.shape[1], round(image_m.shape[0] * 240 / 264)))
        return np.pad(small, ((0, image_m.shape[0] - small.shape[0]), (0, 0))), {}

    matter._run = model
    matter(frame)
    image_m, images_t, (plate_m, plates_t) = seen[-1]
    before = matter._plate_copies[next(iter(matter._plate_copies))]
    for got, was, image in [(plate_m, before[0], image_m), *zip(plates_t, before[1], images_t)]:
        rows = round(image.shape[0] * 240 / 264)  # the frame's rows (the rest is the bottom context)
        bg = cv2.resize(alpha, (image.shape[1], rows)) < 0.01
        bg[:3], bg[-3:], bg[:, :3], bg[:, -3:] = False, False, False, False
        true = align_plate(was, (4.0 * image.shape[1] / 320, -3.0 * rows / 240), None)  # the true shift: the floor
        aligned, unaligned, least = (np.abs(x[:rows].astype(int) - image[:rows].astype(int))[bg].mean()
                                     for x in (got, was, true))
        assert aligned - least < 0.2 * (unaligned - least), (image.shape, aligned, unaligned, least)


def test_a_new_plate_and_a_changed_background_start_the_alignment_afresh(tiny_matter_factory):
    frames, alphas, plate = shifted_clip()
    matter = tiny_matter_factory()
    matter.set_plate(plate)
    matter(frames[0])
    assert matter._aligner.alignment is not None
    matter.set_plate(plate)
    assert matter._aligner.alignment is None
    for frame, alpha in zip(frames[:13], alphas):
        matter(frame)
        matter._previous = cv2.resize(alpha, matter._previous.shape[::-1])
    assert matter.plate_status == "changed" and matter._aligner.alignment is None


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
