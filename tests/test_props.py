"""Desk props in training composites (livematte/training/props.py)."""
import random

import numpy as np

from livematte.training.data import Person, make_sample
from livematte.training.props import add_props


def _textured_backgrounds():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (90, 120, 3), dtype=np.uint8) for _ in range(3)]


def test_props_in_front_hide_the_person_and_the_composite_still_adds_up():
    bgs = _textured_backgrounds()
    alpha = np.zeros((96, 96), np.float32)
    alpha[10:96, 30:66] = 1.0  # a body leaving the frame at the bottom, where the desk goes
    hidden = 0
    for seed in range(40):
        bg = np.full((96, 96, 3), 90, np.uint8)
        a2, bg2 = add_props(alpha, bg, bgs, random.Random(seed))
        assert a2.shape == alpha.shape and bg2.shape == bg.shape and bg.max() == bg.min() == 90  # input untouched
        assert np.all(a2 <= alpha)  # props only ever take alpha away
        hidden += int((a2 < alpha).any())
        assert (bg2 != 90).any()  # something was drawn
        # where the alpha lost the person, the background returned shows the prop that hides it, so that
        # α·F + (1−α)·B is the picture the camera would see
        lost = (alpha > 0) & (a2 == 0)
        assert np.all(np.any(bg2[lost] != 90, axis=-1))
    assert 10 < hidden < 40  # sometimes in front (a desk, a mug), sometimes only behind


def test_samples_with_props_keep_alpha_in_range_and_empty_scenes_get_them_too():
    bgs = _textured_backgrounds()
    img = np.full((80, 80, 3), (220, 20, 20), np.uint8)
    a = np.zeros((80, 80), np.uint8)
    a[15:80, 25:55] = 255
    people = [Person("p", img, img.copy(), a, composite_only=True)]
    rng = random.Random(3)
    for _ in range(20):
        s = make_sample(people, bgs, 64, rng, props_prob=1.0)
        assert s.alpha.min() >= 0 and s.alpha.max() <= 1 and s.image.shape == (64, 64, 3)
    empty = make_sample(people, bgs, 64, random.Random(0), negative_prob=1.0, props_prob=1.0)
    assert empty.alpha.max() == 0
    # without props the sample stream is the one runs were trained on: no extra draws
    plain = make_sample(people, bgs, 64, random.Random(5))
    again = make_sample(people, bgs, 64, random.Random(5), props_prob=0.0)
    assert np.array_equal(plain.image, again.image)
