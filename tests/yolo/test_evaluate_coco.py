"""mAP held to pycocotools' COCOeval; F1-optimal precision/recall; confusion matrix; COCO JSON."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from dltool_yolo import coco
from dltool_yolo.evaluate import ImageResult, best_f1, confusion_matrix, evaluate

pycocotools = pytest.importorskip("pycocotools")


def generated(seed=0, images=12, classes=4):
    """Random truths; detections: jittered truths (some dropped or relabelled) + false positives."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(images):
        n = int(rng.integers(0, 9))
        xy = rng.uniform(0, 400, (n, 2))
        wh = rng.uniform(8, 120, (n, 2))
        gt = np.concatenate([xy, xy + wh], 1)
        gcls = rng.integers(0, classes, n)
        keep = rng.random(n) > 0.15
        jitter = rng.normal(0, 0.12, (n, 4)) * np.concatenate([wh, wh], 1)
        det, dcls = (gt + jitter)[keep], gcls[keep].copy()
        flip = rng.random(len(dcls)) < 0.1
        dcls[flip] = rng.integers(0, classes, int(flip.sum()))
        m = int(rng.integers(0, 7))
        fxy = rng.uniform(0, 450, (m, 2))
        fp = np.concatenate([fxy, fxy + rng.uniform(5, 100, (m, 2))], 1)
        boxes = np.concatenate([det, fp]).reshape(-1, 4)
        cls = np.concatenate([dcls, rng.integers(0, classes, m)]).astype(int)
        scores = np.round(rng.uniform(0.01, 1.0, len(boxes)), 4)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        out.append(ImageResult(boxes, scores, cls, gt, gcls.astype(int)))
    return out


def cocoeval(results, names, tmp_path):
    """Return COCOeval's stats[1] (AP@0.5) and stats[0] (AP@0.5:0.95) via the JSON files."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt_file = tmp_path / "gt.json"
    gt_file.write_text(json.dumps(coco.ground_truth(results, names)))
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_file))
        dt = gt.loadRes(coco.predictions(results))
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats[1], ev.stats[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_matches_cocoeval(seed, tmp_path):
    results = generated(seed)
    names = ["a", "b", "c", "d"]
    ours = evaluate(results, len(names))
    map50, map50_95 = cocoeval(results, names, tmp_path)
    assert 0.2 < ours["map50"] < 0.95  # neither trivial nor empty
    assert ours["map50"] == pytest.approx(map50, abs=1e-3)
    assert ours["map50_95"] == pytest.approx(map50_95, abs=1e-3)


def test_best_f1_known_case():
    # one class, 2 truths: scores .9 (TP), .8 (FP), .3 (TP); best F1 at conf ≤ .3: p=2/3, r=1
    p, r, conf = best_f1([(np.array([0.9, 0.8, 0.3]), np.array([True, False, True]), 2)])
    assert (p, r) == pytest.approx((2 / 3, 1.0)) and conf <= 0.3
    # a lone FP at .3 under a TP at .9: stop above it (p=1, r=1)
    p, r, conf = best_f1([(np.array([0.9, 0.3]), np.array([True, False]), 1)])
    assert (p, r) == (1.0, 1.0) and 0.3 < conf <= 0.9


def test_confusion_matrix_counts():
    gt = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [50, 50, 60, 60.0]])
    det = np.array([[0, 0, 10, 10], [20, 20, 30, 31], [80, 80, 90, 90], [50, 50, 60, 60.0]])
    r = ImageResult(det, np.array([0.9, 0.8, 0.7, 0.1]), np.array([0, 2, 1, 1]), gt,
                    np.array([0, 1, 1]))  # fmt: skip
    m = confusion_matrix([r], 3, conf=0.5)
    expected = np.zeros((4, 4), int)
    expected[0, 0] = 1  # right
    expected[2, 1] = 1  # class 1 predicted as 2
    expected[1, 3] = 1  # a class 1 detection on background
    expected[3, 1] = 1  # the third truth missed (its detection is under conf)
    np.testing.assert_array_equal(m, expected)
    assert m.sum() == 4


def test_predictions_json_round_trip(tmp_path):
    """predictions.json in original pixels (letterbox undone) loads through loadRes unchanged."""
    from pycocotools.coco import COCO

    results = generated(3, images=3)
    scales = [(0.5, 10, 0), (2.0, 0, 7), (1.0, 0, 0)]  # original = (letterboxed − pad) / r
    gt_file, pred_file = tmp_path / "gt.json", tmp_path / "predictions.json"
    gt_file.write_text(json.dumps(coco.ground_truth(results, list("abcd"), scales=scales)))
    pred_file.write_text(json.dumps(coco.predictions(results, scales)))
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_file))
        dt = gt.loadRes(str(pred_file))
    anns = dt.loadAnns(dt.getAnnIds())
    assert len(anns) == sum(len(r.scores) for r in results)
    first = dt.loadAnns(dt.getAnnIds(imgIds=[1]))[0]
    res = results[1]
    k = int(np.flatnonzero(res.scores == first["score"])[0])
    x0, y0, x1, y1 = res.boxes[k]
    np.testing.assert_allclose(first["bbox"], [(x0 - 7) / 2, y0 / 2, (x1 - x0) / 2, (y1 - y0) / 2],
                               atol=1e-3)  # fmt: skip
    assert first["category_id"] == res.classes[k] and first["area"] == pytest.approx(
        first["bbox"][2] * first["bbox"][3]
    )
