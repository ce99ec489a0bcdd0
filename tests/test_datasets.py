"""The held-out splits, the source sampler, multi-person and cut-out samples, teacher labels, pose composites."""
import random
from collections import Counter

import cv2
import numpy as np
import pytest

from livematte import datasets
from livematte.evaluate import POSE_HEIGHT, pose_composite
from livematte.training.data import Person, PersonSampler, make_sample
from livematte.training.teacher import combine


def test_the_split_ships_with_the_package_and_its_groups_are_disjoint():
    split = datasets.load_split()  # read through importlib.resources, as an installed wheel does
    groups = [set(datasets.group_people(split, g)) for g in datasets.HELDOUT_GROUPS]
    assert all(groups) and sum(map(len, groups)) == len(set().union(*groups))
    assert datasets.heldout_names(split) == set().union(*groups)
    for g, names in zip(datasets.HELDOUT_GROUPS, groups):
        sets = {n.split("/")[0] for n in names}
        assert all(datasets.SOURCE_BY_NAME[s].group == g for s in sets), g


@pytest.mark.shared
def test_the_committed_split_is_what_the_seeds_give(shared):
    split = datasets.load_split()
    first = datasets.make_first_split(shared)
    assert first["people"] == split["heldout"]["people"] and first["backgrounds"] == split["heldout"]["backgrounds"]
    for group, names in datasets.make_new_split(shared).items():
        assert names == split["heldout"][group]


@pytest.mark.shared
def test_training_never_sees_a_held_out_person(shared, tmp_path):
    from livematte.training.data import load_cached

    held = datasets.heldout_names(datasets.load_split())
    sources = ["people_cihp_pgn_samples", "people_davis16"]  # small sets: the cache is quick to build
    people, _ = load_cached(shared, tmp_path, train=True, sources=sources)
    names = {p.name for p in people}
    assert names and not names & held
    assert {n for n in held if n.split("/")[0] in sources} <= set(datasets.list_people(shared, sources))


def _person(name, colour=(220, 20, 20), size=80, **kw):
    img = np.zeros((size, size, 3), np.uint8)
    img[:] = colour
    alpha = np.zeros((size, size), np.uint8)
    alpha[15:70, 25:55] = 255
    return Person(name, img, img.copy(), alpha, **kw)


def test_the_sampler_draws_sources_by_weight_not_by_size():
    people = [_person(f"big/{i}") for i in range(90)] + [_person(f"small/{i}") for i in range(10)]
    people.append(_person("u/1", real_only=True))  # teacher-labelled: its own source
    sampler = PersonSampler(people, {"big": 0.25, "small": 0.5, "teacher": 0.25})
    rng = random.Random(0)
    counts = Counter(sampler(rng).source for _ in range(4000))
    assert abs(counts["small"] / 4000 - 0.5) < 0.03 and abs(counts["big"] / 4000 - 0.25) < 0.03
    assert abs(counts["teacher"] / 4000 - 0.25) < 0.03


def _bgs():
    bg = np.zeros((90, 120, 3), np.uint8)
    bg[:] = (20, 20, 220)
    return [bg]


def test_cut_outs_are_only_pasted_and_never_enlarged_more_than_twice():
    cut = _person("people_cutouts_dg/a", colour=(127, 127, 127), size=40, composite_only=True)  # 30 px tall
    rng = random.Random(0)
    for _ in range(30):
        s = make_sample([cut], _bgs(), 128, rng, composite_prob=0.0, negative_prob=0.0)
        assert ((s.image[..., 2].astype(int) - s.image[..., 0]) > 100).any(), "on a background"
        rows = np.nonzero((s.alpha > 0.5).any(axis=1))[0]
        assert len(rows) <= 2 * 55 + 2


def test_a_second_person_stands_in_front_of_the_first():
    red, green = _person("a/red"), _person("b/green", colour=(20, 220, 20))
    rng = random.Random(4)
    seen_both = False
    for _ in range(40):
        s = make_sample([red, green], _bgs(), 64, rng, composite_prob=1.0, negative_prob=0.0, second_person_prob=1.0)
        assert s.alpha.max() <= 1.0 + 1e-6
        person = s.alpha > 0.99
        composite = s.fg.astype(np.float32) * s.alpha[..., None] + s.bg.astype(np.float32) * (1 - s.alpha[..., None])
        assert np.abs(composite - s.image.astype(np.float32))[person].mean() < 40  # fg and alpha explain the picture
        seen_both |= bool(((s.fg[..., 0] > 150) & person).any() and ((s.fg[..., 1] > 150) & person).any())
    assert seen_both


def test_teacher_labels_take_rvm_where_the_segmenters_agree_and_the_mean_where_they_dispute():
    rvm = np.array([[0.9, 0.1, 0.6, 1.0]], np.float32)
    selfie = np.array([[1.0, 1.0, 0.5, 0.0]], np.float32)
    meet = np.array([[0.8, 1.0, 0.7, 0.0]], np.float32)
    alpha, agreement = combine(rvm, selfie, meet)
    np.testing.assert_allclose(alpha, [[0.9, 0.7, 0.6, 1 / 3]], atol=1e-6)
    assert agreement == pytest.approx(0.5)  # RVM says person at 0, 2, 3; the segmenters at 0, 1, 2


def test_a_pose_composite_keeps_the_cut_out_whole_and_its_alpha_exact():
    rgb = np.full((100, 60, 3), 127, np.uint8)
    alpha = np.zeros((100, 60), np.float32)
    alpha[10:90, 20:40] = 1.0
    alpha[10:90, 19] = 0.5
    comp, a = pose_composite(rgb, alpha, np.zeros((50, 50, 3), np.uint8))
    assert a.shape == comp.shape[:2] and a.sum() == pytest.approx(alpha.sum())
    assert round(80 / a.shape[0], 2) == POSE_HEIGHT and (a > 0).any(axis=1)[-1] == 0
    np.testing.assert_allclose(comp[a == 1.0], 127, atol=1)


@pytest.mark.shared
def test_the_later_groups_are_measured_apart_in_one_table(shared, tiny_matter_factory):
    from livematte.evaluate import heldout_groups, markdown_table, run_eval

    groups = heldout_groups(shared, ["portraits", "poses", "scenes"], limit=2)
    assert len(groups["portraits"].composites) == 2 and not groups["scenes"].composites
    rgb, alpha = groups["portraits"].composites[0]
    assert rgb.shape[:2] == alpha.shape and 0 < alpha.mean() < 1  # the real photo with its real matte
    rows = run_eval({"a": tiny_matter_factory()}, groups)
    assert {"iou", "sad", "poses_iou", "poses_sad", "scenes_iou"} <= set(rows[0]) and "scenes_sad" not in rows[0]
    table = markdown_table(rows, ["poses", "scenes"])
    assert "poses SAD" in table and "scenes IoU" in table and "scenes SAD" not in table


def test_eval_refuses_unknown_or_repeated_groups(capsys):
    from livematte.cli import main

    for bad in ("photos,nope", "poses,poses", ","):
        assert main(["eval", "--groups", bad]) == 2
        assert "--groups" in capsys.readouterr().err


def test_edges_come_from_rvm_inside_the_band_and_from_the_hand_label_outside():
    from livematte.training.teacher import refine_edges

    mask = np.zeros((40, 40), np.float32)
    mask[10:30, 10:30] = 1
    pseudo = cv2.GaussianBlur(mask, (9, 9), 0)  # soft across a band around the polygon
    rvm = mask.copy()
    rvm[10:30, 8:10] = 0.6  # RVM's soft edge (hair) a little outside the polygon on one side
    out = refine_edges(mask, pseudo, rvm)
    band = (pseudo > 0.02) & (pseudo < 0.98)
    assert np.allclose(out[band], rvm[band]) and np.allclose(out[~band & (cv2.dilate(band.astype(np.uint8),
                                                                                      np.ones((3, 3))) == 0)],
                                                              pseudo[~band & (cv2.dilate(band.astype(np.uint8),
                                                                                         np.ones((3, 3))) == 0)])
    assert out[20, 9] == pytest.approx(0.6) and out[20, 20] == 1 and out[0, 0] == 0
    wrong = np.zeros_like(mask)
    wrong[0:10, 0:10] = 1  # RVM sees someone else: its edges are no teacher here
    assert refine_edges(mask, pseudo, wrong) is None


@pytest.mark.shared
def test_training_with_edge_labels_reads_the_refined_alphas(shared, tmp_path):
    from livematte.training.data import load_cached

    sources = ["people_cihp_pgn_samples"]
    people, _ = load_cached(shared, tmp_path, train=True, sources=sources)
    first = people[0]
    refined = np.full_like(first.alpha, 7)
    np.savez(tmp_path / "edges.npz", names=np.array([first.name]), a0=refined)
    edged, _ = load_cached(shared, tmp_path, train=True, sources=sources, labels="edges")
    assert np.array_equal(edged[0].alpha, refined) and np.array_equal(edged[1].alpha, people[1].alpha)
    assert (tmp_path / "train_people_cihp_pgn_samples.edges.npz").is_file()  # cached apart from the pseudo labels
