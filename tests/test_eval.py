"""``livematte eval`` machinery on a small generated data set (no ../shared needed)."""
import cv2
import numpy as np

from clips import make_clip
from livematte.evaluate import CLOSE_UP_SIZE, build_data, close_up, markdown_table, run_eval


def _person(tmp_path, i):
    rgb = np.random.default_rng(i).integers(0, 256, (60, 40, 3), dtype=np.uint8)
    mask = np.zeros((60, 40), np.uint8)
    mask[10:55, 10:30] = 255
    paths = [tmp_path / f"p{i}.jpg", tmp_path / f"p{i}_m.png", tmp_path / f"p{i}_a.png"]
    for p, img in zip(paths, (rgb, mask, cv2.GaussianBlur(mask, (5, 5), 0))):
        cv2.imwrite(str(p), img)
    return tuple(paths)


def test_eval_rows_have_every_metric(tmp_path, tiny_matter_factory):
    people = [_person(tmp_path, i) for i in range(2)]
    bg = tmp_path / "bg.jpg"
    cv2.imwrite(str(bg), np.full((50, 50, 3), 90, np.uint8))
    clip = make_clip(tmp_path / "c.mp4", frames=6)
    data = build_data(people, [bg], [clip])
    assert len(data.composites) == 2 and data.composites[0][0].shape == (60, 40, 3)
    json_path = tmp_path / "eval.json"
    rows = run_eval({"a": tiny_matter_factory(), "b": tiny_matter_factory(smoothing="ema")}, data, json_path)
    assert len(data.close_ups) == 2
    keys = {"iou", "iou_close_up", "sad", "mse", "grad", "conn", "flicker", "edge_flicker", "ms_640x480"}
    assert all(keys <= set(r) for r in rows)
    assert json_path.is_file()
    table = markdown_table(rows)
    assert table.count("\n") == 3 and "IoU" in table


def _standing(h=400, w=300, feet=380):
    mask = np.zeros((h, w), bool)
    yy, xx = np.mgrid[:h, :w]
    mask[(yy - 40) ** 2 + (xx - 150) ** 2 <= 20 ** 2] = True  # head, rows 20-60
    mask[60:feet, 120:180] = True
    rgb = np.repeat(np.where(mask, 200, 30).astype(np.uint8)[..., None], 3, axis=2)
    return rgb, mask


def test_close_up_is_head_and_shoulders_with_the_body_leaving_the_frame():
    image, mask = close_up(*_standing())
    assert image.shape == (CLOSE_UP_SIZE[1], CLOSE_UP_SIZE[0], 3) and mask.shape == image.shape[:2]
    assert mask[-1].any() and not mask[0].any()  # room above the head; the body is cut by the bottom edge
    assert 0.1 < mask.mean() < 0.6
    assert ((image[..., 0] > 100) == mask).mean() > 0.97  # the image and the mask are the same crop


def test_close_up_needs_a_whole_standing_person():
    assert close_up(*_standing(feet=400)) is None  # feet at the photo's edge: not seen whole
    rgb, mask = _standing()
    mask[100:200, 20:280] = True  # arms spread wider than half the height
    assert close_up(rgb, mask) is None
    assert close_up(rgb, np.zeros_like(mask)) is None
