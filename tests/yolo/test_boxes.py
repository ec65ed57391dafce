"""Box math of the notes: known values, and NumPy reference vs torch twin in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dltool_yolo import boxes as B
from dltool_yolo import boxes_torch as T
from dltool_yolo import nms as N


def t(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def random_corners(rng, n, scale=100.0):
    xy = rng.uniform(0, scale, (n, 2))
    wh = rng.uniform(1, scale / 5, (n, 2))
    return np.concatenate([xy, xy + wh], 1)


def test_iou_known_values():
    assert B.iou((2, 1, 4, 3), (1, 2, 3, 4)) == pytest.approx(1 / 7)
    assert B.iou((1, 2, 3, 4), (5, 6, 7, 8)) == 0.0  # disjoint
    assert B.iou((1, 1, 2, 2), (2, 1, 3, 2)) == 0.0  # touching edges
    assert B.iou((1, 1, 1, 1), (1, 1, 1, 1)) == 0.0  # zero area
    assert B.iou((0, 0, 4, 4), (1, 1, 3, 3)) == pytest.approx(4 / 16)
    assert B.iou((0, 0, 2, 2), (0, 0, 2, 2)) == 1.0


def test_iou_matrix_matches_scalar_iou_and_torch():
    rng = np.random.default_rng(0)
    a, b = random_corners(rng, 7), random_corners(rng, 5)
    a[0, 2:] = a[0, :2]  # a zero-area box
    m = B.iou_matrix(a, b)
    expected = np.array([[B.iou(x, y) for y in b] for x in a])
    np.testing.assert_allclose(m, expected, atol=1e-12)
    np.testing.assert_allclose(T.iou_matrix(t(a), t(b)).numpy(), m, atol=1e-12)


def test_box_formats_known_and_round_trip():
    bbox = np.array([[5.0, 4.0, 2.0, 6.0]])  # b_x, b_y, b_h, b_w
    np.testing.assert_allclose(B.bbox_to_corners(bbox), [[2.0, 3.0, 8.0, 5.0]])
    rng = np.random.default_rng(1)
    c = random_corners(rng, 10)
    np.testing.assert_allclose(B.bbox_to_corners(B.corners_to_bbox(c)), c)
    np.testing.assert_allclose(T.corners_to_bbox(t(c)).numpy(), B.corners_to_bbox(c))
    np.testing.assert_allclose(T.bbox_to_corners(t(bbox)).numpy(), B.bbox_to_corners(bbox))


def test_boxes_to_corners_is_ymin_xmin_ymax_xmax():
    out = B.boxes_to_corners(np.array([0.5, 0.4]), np.array([0.2, 0.6]))  # xy, wh
    np.testing.assert_allclose(out, [0.1, 0.4, 0.7, 0.6])
    rng = np.random.default_rng(2)
    xy, wh = rng.uniform(size=(19, 19, 5, 2)), rng.uniform(size=(19, 19, 5, 2))
    ref = B.boxes_to_corners(xy, wh)
    assert ref.shape == (19, 19, 5, 4)
    np.testing.assert_allclose(T.boxes_to_corners(t(xy), t(wh)).numpy(), ref)


def test_scale_boxes():
    boxes = np.array([[0.1, 0.2, 0.5, 1.0]])
    np.testing.assert_allclose(B.scale_boxes(boxes, (720, 1280)), [[72, 256, 360, 1280]])
    np.testing.assert_allclose(T.scale_boxes(t(boxes), (720, 1280)).numpy(), [[72, 256, 360, 1280]])


def test_letterbox_in_and_out():
    r, (nh, nw), (top, left) = B.letterbox_params((300, 600), 416)
    assert (r, nh, nw, top, left) == (416 / 600, 208, 416, 104, 0)
    image = np.random.default_rng(3).uniform(size=(300, 600, 3))
    boxed = B.letterbox(image, 416)
    assert boxed.shape == (416, 416, 3)
    assert np.all(boxed[:104] == 0.5) and np.all(boxed[104 + 208 :] == 0.5)
    corners = np.array([[60.0, 30.0, 300.0, 150.0]])  # in the original image
    inside = corners * r + np.array([left, top, left, top])
    np.testing.assert_allclose(B.unletterbox_corners(inside, (300, 600), 416), corners)


def test_decode_head_known_cell_and_torch_parity():
    rng = np.random.default_rng(4)
    anchors = np.array([[10.0, 14.0], [23.0, 27.0], [37.0, 58.0]])
    feats = rng.normal(size=(13, 13, 3 * 85))
    feats[2, 5, 0:4] = [0.0, 0.0, 0.0, 0.0]  # cell (c_y=2, c_x=5), anchor 0
    conf, xy, wh, probs = B.decode_head(feats, anchors, 80, (416, 416))
    assert conf.shape == (13, 13, 3, 1) and probs.shape == (13, 13, 3, 80)
    np.testing.assert_allclose(xy[2, 5, 0], [(0.5 + 5) / 13, (0.5 + 2) / 13])
    np.testing.assert_allclose(wh[2, 5, 0], [10 / 416, 14 / 416])
    raw = t(feats).permute(2, 0, 1)[None]  # (1, A·(5+C), H, W)
    twins = T.decode_head(raw, t(anchors), 80, (416, 416))
    for ref, tw in zip((conf, xy, wh, probs), twins, strict=True):
        np.testing.assert_allclose(tw[0].numpy(), ref, atol=1e-12)
    soft = B.decode_head(feats, anchors, 80, (416, 416), softmax_classes=True)[3]
    np.testing.assert_allclose(soft.sum(-1), 1.0)
    tsoft = T.decode_head(raw, t(anchors), 80, (416, 416), softmax_classes=True)[3]
    np.testing.assert_allclose(tsoft[0].numpy(), soft, atol=1e-12)


def notes_outputs(seed=5):
    rng = np.random.default_rng(seed)
    conf = rng.uniform(size=(19, 19, 5, 1))
    boxes = rng.normal(1, 4, size=(19, 19, 5, 4))
    probs = rng.uniform(size=(19, 19, 5, 80))
    return conf, boxes, probs


def test_filter_boxes_threshold_and_parity():
    conf, boxes, probs = notes_outputs()
    scores, kept, classes = B.filter_boxes(conf, boxes, probs)  # threshold 0.6
    assert scores.min() >= 0.6 and len(scores) == kept.shape[0] == classes.shape[0]
    full = (conf * probs).max(-1)
    assert len(scores) == int((full >= 0.6).sum())
    ts, tb, tc = T.filter_boxes(t(conf), t(boxes), t(probs))
    np.testing.assert_allclose(ts.numpy(), scores)
    np.testing.assert_allclose(tb.numpy(), kept)
    np.testing.assert_array_equal(tc.numpy(), classes)


def test_non_max_suppression_known():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9.0]])
    scores = np.array([0.9, 0.8, 0.7, 0.95])
    classes = np.array([0, 0, 1, 0])
    s, b, c = N.non_max_suppression(scores, boxes, classes)
    np.testing.assert_allclose(s, [0.95, 0.7])  # 0 and 1 overlap box 3 by IoU > 0.5
    np.testing.assert_array_equal(c, [0, 1])
    s2, _, _ = N.non_max_suppression(scores, boxes, classes, iou_threshold=0.95)
    assert len(s2) == 4
    s3, _, _ = N.non_max_suppression(scores, boxes, classes, max_boxes=1)
    np.testing.assert_allclose(s3, [0.95])


@pytest.mark.parametrize("n", [0, 1, 50, 1500])
def test_nms_numpy_vs_torch(n):
    rng = np.random.default_rng(n)
    boxes, scores = random_corners(rng, n), rng.uniform(size=n)
    for thr in (0.3, 0.5, 0.7):
        ref = N.nms_indices(boxes, scores, thr)
        np.testing.assert_array_equal(N.nms_fast(boxes, scores, thr), ref)
        np.testing.assert_array_equal(T.nms(t(boxes), t(scores), thr).numpy(), ref)
    classes = rng.integers(0, 3, n)
    s, b, c = N.non_max_suppression(scores, boxes, classes, 10, 0.5)
    ts, tb, tc = T.non_max_suppression(t(scores), t(boxes), torch.from_numpy(classes), 10, 0.5)
    np.testing.assert_allclose(ts.numpy(), s)
    np.testing.assert_allclose(tb.numpy(), b)


def test_batched_nms_never_suppresses_across_classes():
    rng = np.random.default_rng(7)
    boxes, scores = random_corners(rng, 300, 40), rng.uniform(size=300)
    classes = rng.integers(0, 4, 300)
    keep = set(T.batched_nms(t(boxes), t(scores), torch.from_numpy(classes), 0.5).tolist())
    expected = set()
    for k in range(4):
        idx = np.flatnonzero(classes == k)
        expected |= set(idx[N.nms_indices(boxes[idx], scores[idx], 0.5)].tolist())
    assert keep == expected


def test_yolo_eval_numpy_vs_torch():
    rng = np.random.default_rng(8)
    conf = rng.uniform(size=(19, 19, 5, 1))
    xy, wh = rng.uniform(size=(19, 19, 5, 2)), rng.uniform(0.05, 0.5, size=(19, 19, 5, 2))
    probs = rng.uniform(size=(19, 19, 5, 80))
    s, b, c = N.yolo_eval((conf, xy, wh, probs))
    assert s.shape == (10,) and b.shape == (10, 4) and c.shape == (10,)
    assert np.all(np.diff(s) <= 0) and s.min() >= 0.6
    ts, tb, tc = T.yolo_eval(tuple(t(a) for a in (conf, xy, wh, probs)))
    np.testing.assert_allclose(ts.numpy(), s)
    np.testing.assert_allclose(tb.numpy(), b)
    np.testing.assert_array_equal(tc.numpy(), c)
