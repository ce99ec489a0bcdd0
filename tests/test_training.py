"""Training pieces: trimaps, sample generation, teacher-labelled people, stage losses."""
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from livematte.errors import InputError, SettingsError
from livematte.models import create_model
from livematte.training.data import Person, make_sample, trimap_from_alpha
from livematte.models import save_weights
from livematte.cli.train import MODELS, STAGES
from livematte.models import list_models
from livematte.training.train import STAGE_PARAMETERS, load_start, step_loss, train


def _person(colour=(220, 20, 20), real_only=False, size=80):
    img = np.zeros((size, size, 3), np.uint8)
    img[:] = colour
    alpha = np.zeros((size, size), np.uint8)
    alpha[15:70, 25:55] = 255
    return Person("p", img, img.copy(), alpha, real_only=real_only)


def _backgrounds():
    bg = np.zeros((90, 120, 3), np.uint8)
    bg[:] = (20, 20, 220)
    return [bg]


def test_trimap_classes_and_band():
    alpha = np.zeros((40, 40), np.float32)
    alpha[10:30, 10:30] = 1.0
    tri = trimap_from_alpha(alpha, band=3)
    assert set(np.unique(tri)) == {0, 1, 2}
    assert tri[20, 20] == 2 and tri[0, 0] == 0 and tri[10, 20] == 1 and tri[8, 20] == 1 and tri[5, 20] == 0


def test_samples_have_consistent_shapes_and_ranges():
    rng = random.Random(0)
    for _ in range(30):
        s = make_sample([_person()], _backgrounds(), 64, rng)
        assert s.image.shape == s.fg.shape == s.bg.shape == (64, 64, 3)
        assert s.alpha.shape == (64, 64) and s.alpha.dtype == np.float32
        assert 0 <= s.alpha.min() and s.alpha.max() <= 1


def _standing_person(size=200):
    """A full-body figure: a round head (rows 19-45, columns 87-113) on a body down to row 180, feet inside the
    photo, one arm held out to the right so that the bounding box is not centred on the head."""
    img = np.full((size, size, 3), 200, np.uint8)
    alpha = np.zeros((size, size), np.uint8)
    cv2.circle(alpha, (100, 32), 13, 255, -1)
    alpha[45:180, 70:130] = 255
    alpha[60:75, 130:195] = 255
    return Person("standing", img, img.copy(), alpha)


def test_close_ups_frame_head_and_shoulders_with_the_body_leaving_the_frame():
    rng = random.Random(2)
    size = 64
    for _ in range(20):
        s = make_sample([_standing_person()], _backgrounds(), size, rng, negative_prob=0.0, close_up_prob=1.0)
        person = s.alpha > 0.5
        assert person[-1].any(), "the body leaves the frame at the bottom"
        assert person[:3].mean() < 0.5, "the head is inside the frame, not cut at the top"
        head = np.nonzero(person[: size // 3].any(axis=0))[0]
        assert abs(head.mean() - size / 2) < 0.3 * size, "centred on the head"
        assert (head.max() - head.min() + 1) / size > 0.4, "the head is large, as in front of a webcam"
    # without close-ups the whole figure fits the frame (full body) or is framed as the photo is
    far = [make_sample([_standing_person()], _backgrounds(), size, random.Random(i), negative_prob=0.0)
           for i in range(20)]
    assert min((s.alpha > 0.5).mean() for s in far) < 0.2


def test_people_already_cut_by_the_photo_are_not_framed_as_close_ups():
    cut = _standing_person()
    cut.alpha[150:] = 0
    cut.alpha[120:, 70:130] = 255  # the body reaches the photo's bottom edge: its height is not the person's
    rng = random.Random(3)
    fills = [(make_sample([cut], _backgrounds(), 64, rng, negative_prob=0.0, close_up_prob=1.0).alpha > 0.5).mean()
             for _ in range(30)]
    assert min(fills) < 0.2  # framed as full body or the photo's own framing, never zoomed onto the head


def test_teacher_labelled_people_are_never_pasted_onto_other_backgrounds():
    rng = random.Random(1)
    for _ in range(40):
        s = make_sample([_person(real_only=True)], _backgrounds(), 64, rng, composite_prob=1.0, negative_prob=0.0)
        blue = (s.image[..., 2].astype(int) - s.image[..., 0]) > 100
        assert not blue.any()
    pasted = [make_sample([_person()], _backgrounds(), 64, rng, composite_prob=1.0, negative_prob=0.0)
              for _ in range(10)]
    assert any(((s.image[..., 2].astype(int) - s.image[..., 0]) > 100).any() for s in pasted)


def _toy_batch(n: int = 2, size: int = 64) -> dict:
    """A batch as ``train.batch`` makes it: random images, a rectangle of alpha and its trimap."""
    alpha = torch.zeros(n, 1, size, size)
    alpha[..., 16:48, 20:44] = 1
    return {"image": torch.rand(n, 3, size, size), "fg": torch.rand(n, 3, size, size),
            "bg": torch.rand(n, 3, size, size), "alpha": alpha,
            "trimap": torch.from_numpy(np.stack([trimap_from_alpha(a[0].numpy(), 3) for a in alpha])).long()}


def _train_steps(model, stage: str, b: dict, steps: int) -> list[float]:
    """``steps`` Adam steps on every parameter (the stage's loss decides which ones get gradients); the losses."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        loss, _ = step_loss(model, stage, b)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("stage", STAGES)
def test_stage_losses_are_finite_and_train(stage):
    torch.manual_seed(0)
    losses = _train_steps(create_model("shm-tiny", weights=None).train(), stage, _toy_batch(), 8)
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_the_refine_stage_trains_the_mnet_on_the_frozen_tnets_trimaps():
    torch.manual_seed(0)
    model = create_model("shm-tiny", weights=None).train()
    tnet_before = {k: v.clone() for k, v in model.tnet.state_dict().items()}
    mnet_before = {k: v.clone() for k, v in model.mnet.state_dict().items()}
    b = _toy_batch()
    del b["trimap"]  # the T-Net's own is used
    _train_steps(model, "refine", b, 3)
    for k, v in model.tnet.state_dict().items():  # weights and BatchNorm statistics alike
        assert torch.equal(v, tnet_before[k]), k
    assert any(not torch.equal(v, mnet_before[k]) for k, v in model.mnet.state_dict().items())


def test_refine_needs_a_trained_tnet_to_start_from(tmp_path):
    """Without --init and without the e2e run's checkpoint, or from a file whose T-Net does not fit whole, refine
    would freeze a random T-Net: told before any data is read."""
    with pytest.raises(InputError, match="refine trains the M-Net on a trained T-Net"):
        train("refine", 10, 64, 2, 1e-3, tmp_path, tmp_path / "no-shared", model_name="shm-tiny")
    save_weights(create_model("shm", weights=None), tmp_path / "shm.pt", "shm", half=False)
    with pytest.raises(InputError, match="T-Net does not fit"):  # shm -> shm-lite: the T-Net's head differs
        train("refine", 10, 64, 2, 1e-3, tmp_path, tmp_path / "no-shared", model_name="shm-lite",
              init=tmp_path / "shm.pt")


@pytest.mark.parametrize("kind", ["ckpt", "weights"])
def test_a_new_run_starts_from_a_checkpoint_or_weights_file(tmp_path, kind):
    torch.manual_seed(1)
    trained = create_model("shm-tiny", weights=None)
    if kind == "ckpt":
        path = tmp_path / "last.ckpt"
        torch.save({"model": trained.state_dict(), "step": 7}, path)
    else:
        path = tmp_path / "w.pt"
        save_weights(trained, path, "shm-tiny", half=False)
    torch.manual_seed(2)
    fresh = create_model("shm-tiny", weights=None)
    key = next(iter(trained.state_dict()))
    assert not torch.equal(fresh.state_dict()[key], trained.state_dict()[key])
    assert load_start(fresh, path, "shm-tiny") == []
    for k, v in trained.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k


def test_a_run_can_start_from_another_presets_weights(tmp_path):
    """shm -> shm-lite: the tensors that fit are taken, the changed ones (T-Net head, M-Net expansions) start anew."""
    from livematte.models import SHMConfig
    from livematte.models.shm import SHM

    big = create_model("shm", weights=None)
    path = tmp_path / "shm.pt"
    save_weights(big, path, "shm", half=False)
    lite = SHM(SHMConfig(tnet_head_stride=4, mnet_expand=2))
    own = lite.state_dict()
    missing = len(load_start(lite, path, "shm-lite"))
    same = [k for k, v in big.state_dict().items() if k in own and v.shape == own[k].shape]
    assert 0 < missing < len(own) and len(same) == len(own) - missing
    assert all(torch.equal(lite.state_dict()[k], big.state_dict()[k]) for k in same)
    assert lite.tnet.head.weight.shape[1] == 24 and "tnet.dec1.fuse.0.0.weight" not in own
    torch.save({"model": big.state_dict()}, tmp_path / "last.ckpt")  # a checkpoint must fit whole
    with pytest.raises(InputError, match="does not fit model 'shm-lite'"):  # told, not an internal error
        load_start(lite, tmp_path / "last.ckpt", "shm-lite")


def test_an_older_architecture_under_the_same_name_fits_in_part(tmp_path):
    """What decides a partial start is the file's architecture, not its name: an shm-lite file written before the
    preset's M-Net changed starts the new one where it fits; a file of the same architecture must fit whole."""
    from livematte.models import SHMConfig
    from livematte.models.shm import SHM

    old = SHM(SHMConfig(tnet_head_stride=4, mnet_expand=2))
    save_weights(old, tmp_path / "old-lite.pt", "shm-lite", half=False)
    blob = torch.load(tmp_path / "old-lite.pt", weights_only=True)
    for field in ("mnet_levels", "mnet_head"):  # written before these fields existed, as the real file was
        del blob["config"][field]
    torch.save(blob, tmp_path / "old-lite.pt")
    new = SHM(SHMConfig(tnet_head_stride=4, mnet_expand=2, mnet_levels=2, mnet_head="shuffle"))
    assert load_start(new, tmp_path / "old-lite.pt", "shm-lite") == ["mnet.subpixel.weight", "mnet.subpixel.bias"]
    assert torch.equal(new.tnet.head.weight, old.tnet.head.weight)

    tiny = create_model("shm-tiny", weights=None)
    save_weights(tiny, tmp_path / "renamed.pt", "my-model", half=False)
    assert load_start(create_model("shm-tiny", weights=None), tmp_path / "renamed.pt", "shm-tiny") == []
    blob = torch.load(tmp_path / "renamed.pt", weights_only=True)
    blob["state_dict"] = {k: v for k, v in blob["state_dict"].items() if k.endswith("num_batches_tracked")}
    torch.save(blob, tmp_path / "counters.pt")
    with pytest.raises(InputError, match="none of its tensors"):  # BatchNorm's step counters fit any model
        load_start(new, tmp_path / "counters.pt", "shm-lite")


def test_averaged_weights_are_the_mean_of_the_parameters(tmp_path):
    from livematte.training.average import main

    paths = []
    for seed in (3, 4):
        torch.manual_seed(seed)
        paths.append(tmp_path / f"{seed}.pt")
        save_weights(create_model("shm-tiny", weights=None), paths[-1], "shm-tiny", half=False)
    assert main([str(p) for p in paths] + ["-o", str(tmp_path / "avg.pt"), "--model", "shm-tiny"]) == 0
    a, b = (create_model("shm-tiny", weights=p).state_dict() for p in paths)
    avg = create_model("shm-tiny", weights=tmp_path / "avg.pt").state_dict()
    key = next(k for k, v in a.items() if v.is_floating_point() and not torch.equal(v, b[k]))
    assert torch.allclose(avg[key], (a[key] + b[key]) / 2, atol=1e-3)  # stored in fp16


@pytest.mark.parametrize("saved, asked", [(0.15, 0.0), (None, 0.15)])
def test_a_run_resumes_only_with_the_close_up_share_it_was_trained_with(tmp_path, saved, asked):
    model = create_model("shm-tiny", weights=None)
    ckpt = {"model": model.state_dict(), "opt": torch.optim.Adam(model.parameters()).state_dict(), "step": 5,
            "py_rng": random.getstate(), "stage": "e2e", "size": 64}
    if saved is not None:
        ckpt["close_up"] = saved
    (tmp_path / "e2e").mkdir()
    torch.save(ckpt, tmp_path / "e2e" / "last.ckpt")
    with pytest.raises(SettingsError, match=f"--close-up {saved or 0.0}, not {asked}"):
        train("e2e", 10, 64, 2, 1e-3, tmp_path, tmp_path / "no-shared", model_name="shm-tiny", close_up=asked)


def test_the_recipe_parses_with_the_train_verb():
    """Every training command of scripts/train.sh is accepted by ``livematte train``."""
    import shlex

    from livematte.cli import build_parser

    parser = build_parser()
    script = (Path(__file__).resolve().parents[1] / "scripts" / "train.sh").read_text().replace("\\\n", " ")
    commands = [line.split("#")[0] for line in script.splitlines() if line.startswith(("$T ", "$L "))]
    assert len(commands) >= 10
    for command in commands:
        extra = ["--model", "shm-lite"] if command.startswith("$L") else []  # L="$T --model shm-lite"
        args = parser.parse_args(["train"] + shlex.split(command)[1:] + extra)
        assert args.steps > 0 and args.lr > 0 and args.stage in STAGES, command


def test_the_cli_names_every_stage_and_model_training_knows():
    assert set(STAGES) == set(STAGE_PARAMETERS) and set(MODELS) == set(list_models())


# -- clean-plate training (#24) -----------------------------------------------------------------------------------

def test_perturb_plate_is_the_background_as_a_camera_films_it_again():
    from livematte.training.plates import cast_shadow, perturb_plate

    rng = np.random.default_rng(0)
    bg = cv2.GaussianBlur(rng.integers(0, 255, (64, 80, 3), dtype=np.uint8), (0, 0), 2)
    plates = [perturb_plate(bg, random.Random(seed)) for seed in range(20)]
    assert all(p.shape == bg.shape and p.dtype == np.uint8 for p in plates)
    diffs = [np.abs(p.astype(int) - bg).mean() for p in plates]
    assert max(diffs) < 40 and sum(d > 1 for d in diffs) >= 15  # changed, and still the same scene
    assert np.array_equal(perturb_plate(bg, random.Random(3)), plates[3])  # a pure function of its inputs
    alpha = np.zeros((64, 80), np.float32)
    alpha[10:60, 30:50] = 1
    shadowed = cast_shadow(bg, alpha, random.Random(0))
    assert (shadowed <= bg).all() and shadowed.mean() < bg.mean()


def test_plate_samples_are_composites_with_their_plate():
    rng = random.Random(0)
    people = [_person(), _person(real_only=True)]
    for _ in range(20):
        s = make_sample(people, _backgrounds(), 64, rng, plate=True)
        assert s.plate is not None and s.plate.shape == s.image.shape
    assert make_sample(people, _backgrounds(), 64, random.Random(0)).plate is None


@pytest.mark.parametrize("stage", STAGES)
def test_a_plate_model_trains_from_the_automatic_weights(tmp_path, stage):
    torch.manual_seed(0)
    auto = create_model("shm-tiny", weights=None)
    save_weights(auto, tmp_path / "auto.pt", "shm-tiny", half=False)
    model = create_model("shm-tiny-plate", weights=None)
    assert load_start(model, tmp_path / "auto.pt", "shm-tiny-plate") == []  # every tensor, widened or whole
    b = {**_toy_batch(), "plate": torch.rand(2, 3, 64, 64)}
    with torch.no_grad():
        assert torch.equal(model.eval()(b["image"], plate=b["plate"])[2], auto.eval()(b["image"])[2])
    losses = _train_steps(model.train(), stage, b, 8)
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_validation_of_a_plate_model_reads_the_plate():
    from livematte.training.train import validate

    model = create_model("shm-tiny-plate", weights=None)
    b = {**_toy_batch(), "plate": torch.rand(2, 3, 64, 64)}
    for stage in STAGES:
        scores = validate(model, [b], "mnet" if stage == "mnet" else stage)
        assert 0 <= scores["val_iou"] <= 1 and np.isfinite(scores["val_sad"])
