"""``livematte eval`` machinery on a small generated data set (no ../shared needed)."""
import json

import cv2
import numpy as np
import pytest

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
    assert len(data.close_ups) == 0  # 45 pixels tall: too small for a close-up
    json_path = tmp_path / "eval.json"
    rows = run_eval({"a": tiny_matter_factory(), "b": tiny_matter_factory(smoothing="ema")}, data, json_path)
    keys = {"iou", "sad", "mse", "grad", "conn", "flicker", "edge_flicker", "ms_640x480"}
    assert all(keys <= set(r) for r in rows)
    assert json.loads(json_path.read_text())["groups"]["photos"]["n_close_ups"] == 0
    table = markdown_table(rows)
    assert table.count("\n") == 3 and "IoU" in table and "close-up" not in table  # no close-ups, no column


def _standing(h=400, w=300, feet=380):
    """A standing figure: a head (rows 20-60) centred at column 150 and, below it, a body with one arm held out to
    the right, so that the figure's bounding box is not centred on the head."""
    mask = np.zeros((h, w), bool)
    yy, xx = np.mgrid[:h, :w]
    mask[(yy - 40) ** 2 + (xx - 150) ** 2 <= 20 ** 2] = True
    mask[60:feet, 120:180] = True
    mask[90:110, 180:250] = True
    rgb = np.repeat(np.where(mask, 200, 30).astype(np.uint8)[..., None], 3, axis=2)
    return rgb, mask


def test_close_up_iou_is_a_column_when_there_are_close_ups(tmp_path, tiny_matter_factory):
    rgb, mask = _standing()
    paths = [tmp_path / "s.png", tmp_path / "s_m.png", tmp_path / "s_a.png"]
    for path, img in zip(paths, (rgb, mask.astype(np.uint8) * 255, mask.astype(np.uint8) * 255)):
        cv2.imwrite(str(path), img)
    data = build_data([tuple(paths)], [], [], composites=False)
    assert len(data.close_ups) == 1
    rows = run_eval({"a": tiny_matter_factory()}, data, tmp_path / "e.json")
    assert 0.0 <= rows[0]["iou_close_up"] <= 1.0
    assert json.loads((tmp_path / "e.json").read_text())["groups"]["photos"]["n_close_ups"] == 1
    assert "IoU close-up" in markdown_table(rows)


def test_close_up_is_head_and_shoulders_with_the_body_leaving_the_frame():
    image, mask = close_up(*_standing())
    assert image.shape == (CLOSE_UP_SIZE[1], CLOSE_UP_SIZE[0], 3) and mask.shape == image.shape[:2]
    assert not mask[:30].any() and mask[-1].any()  # room above the head; the body is cut by the bottom edge
    assert not mask[:, -1].any()  # the outstretched arm is below the view: it shows head and shoulders only
    head_cols = np.nonzero(mask[60:150].any(axis=0))[0]
    assert abs(head_cols.mean() - CLOSE_UP_SIZE[0] / 2) < 10  # centred on the head, not on the bounding box
    assert 0.2 < (head_cols.max() - head_cols.min()) / CLOSE_UP_SIZE[0] < 0.7  # the head is large in the frame
    assert ((image[..., 0] > 115) == mask).mean() > 0.99  # the image and the mask are the same crop


def test_close_up_needs_a_whole_standing_person():
    assert close_up(*_standing(feet=397)) is not None
    assert close_up(*_standing(feet=398)) is None  # feet within 2 pixels of the photo's edge: maybe cut off
    rgb, mask = _standing()
    wide = mask.copy()
    wide[100:200, 20:280] = True  # arms spread wider than half the height: not a standing figure to crop
    assert close_up(rgb, wide) is None
    assert close_up(rgb, np.zeros_like(mask)) is None
    tiny = np.zeros((40, 40), bool)
    tiny[5:9, 20] = True  # a few pixels tall: too small to enlarge into a close-up
    assert close_up(np.zeros((40, 40, 3), np.uint8), tiny) is None


def test_unreadable_or_missing_data_is_an_input_error_naming_the_file(tmp_path):
    from livematte.errors import InputError
    from livematte.evaluate import heldout_data

    people = [_person(tmp_path, 0)]
    bad = tmp_path / "bg.jpg"
    bad.write_bytes(b"not a picture")
    with pytest.raises(InputError, match="bg.jpg"):
        build_data(people, [bad], [])
    (tmp_path / "data" / "people").mkdir(parents=True)  # a data folder without the held-out files
    with pytest.raises(InputError, match=r"^\d+ held-out files .* missing under"):
        heldout_data(tmp_path)
    # only what is read is required: with --limit 1 and no composites, the first person's photo and mask
    from livematte.datasets import load_split

    folder, stem = load_split()["heldout"]["people"][0].split("/")
    image, mask, _ = _person(tmp_path, 1)
    for sub, src, ext in (("images", image, "jpg"), ("masks", mask, "png")):
        (tmp_path / "data" / folder / sub).mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / folder / sub / f"{stem}.{ext}").write_bytes(src.read_bytes())
    assert len(heldout_data(tmp_path, limit=1, composites=False).photos) == 1
    with pytest.raises(InputError, match="^2 held-out files"):  # the second person's photo and mask
        heldout_data(tmp_path, limit=2, composites=False)
