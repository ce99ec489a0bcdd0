"""``livematte eval`` machinery on a small generated data set (no ../shared needed)."""
import cv2
import numpy as np

from clips import make_clip
from livematte.evaluate import build_data, markdown_table, run_eval


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
    keys = {"iou", "sad", "mse", "grad", "conn", "flicker", "edge_flicker", "ms_640x480"}
    assert all(keys <= set(r) for r in rows)
    assert json_path.is_file()
    table = markdown_table(rows)
    assert table.count("\n") == 3 and "IoU" in table
