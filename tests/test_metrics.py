"""Metric definitions on cases with known answers."""
import numpy as np

from livematte import metrics


def _disk(h=64, w=64, r=20):
    yy, xx = np.mgrid[0:h, 0:w]
    return ((yy - h / 2) ** 2 + (xx - w / 2) ** 2 < r * r).astype(np.float32)


def test_perfect_prediction_scores_zero():
    gt = _disk()
    for f in (metrics.sad, metrics.mse, metrics.gradient_error, metrics.connectivity_error):
        assert f(gt, gt) == 0.0
    assert metrics.iou(gt, gt > 0.5) == 1.0


def test_sad_and_mse_values():
    gt = np.zeros((10, 10), np.float32)
    pred = gt.copy()
    pred[0, :4] = 0.5
    assert np.isclose(metrics.sad(pred, gt), 2.0 / 1000)
    assert np.isclose(metrics.mse(pred, gt), 4 * 0.25 / 100)


def test_gradient_error_penalises_blur_of_a_sharp_edge():
    gt = _disk()
    blurred = np.asarray(__import__("cv2").GaussianBlur(gt, (0, 0), 3))
    assert metrics.gradient_error(blurred, gt) > 0.01 * metrics.gradient_error(np.zeros_like(gt), gt) > 0


def test_connectivity_error_penalises_detached_blobs_more_than_attached_ones():
    gt = _disk()
    detached = gt.copy()
    detached[2:6, 2:6] = 0.6           # a floating blob far from the body
    attached = gt.copy()
    attached[30:34, 10:14] = 0.6       # the same blob touching the body (disk spans 12..52)
    assert metrics.connectivity_error(detached, gt) > 0
    assert metrics.connectivity_error(detached, gt) >= metrics.connectivity_error(attached, gt)


def test_iou_half_overlap():
    a = np.zeros((4, 4), np.float32)
    a[:, :2] = 1
    m = np.zeros((4, 4), bool)
    m[:, 1:3] = True
    assert np.isclose(metrics.iou(a, m), 4 / 12)


def test_flicker_counts_only_static_pixels():
    rgb = np.zeros((8, 8, 3), np.uint8)
    moved = rgb.copy()
    moved[:, 4:] = 200
    static = metrics.static_pixels(rgb, moved)
    assert static[:, :1].all() and not static[:, 5:].any()
    a0 = np.full((8, 8), 0.5, np.float32)
    a1 = a0 + 0.1
    total, soft, n, n_soft = metrics.flicker(a0, a1, static)
    assert n == static.sum() and np.isclose(total / n, 0.1) and n_soft == n
