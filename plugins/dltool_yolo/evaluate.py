"""Detection quality: average precision per class, mAP@0.5 and mAP@0.5:0.95 (NumPy).

Detections of a class, over all images, are sorted by score; each is a true positive
when its IoU with a not yet matched ground-truth box of the same class and image is
≥ t. Precision and recall follow cumulatively; AP is the area under the precision
envelope (precision made monotone from the right), all-point interpolation as in
PASCAL VOC 2010+. mAP@0.5:0.95 averages the mAP over t = 0.50, 0.55, …, 0.95 (COCO).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltool_yolo.boxes import bbox_to_corners, iou_matrix

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)


@dataclass
class ImageResult:
    """Detections (corners, scores, classes) and ground truth (corners, classes) of one image."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    gt_boxes: np.ndarray
    gt_classes: np.ndarray


def match(result: ImageResult, cls: int, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return scores (d,) and TP flags (d, T) of class ``cls`` detections in one image."""
    det = np.flatnonzero(result.classes == cls)
    det = det[np.argsort(-result.scores[det], kind="stable")]
    gt = result.gt_boxes[result.gt_classes == cls]
    tp = np.zeros((len(det), len(thresholds)), dtype=bool)
    if len(det) and len(gt):
        ious = iou_matrix(result.boxes[det], gt)  # (d, g)
        for t, thr in enumerate(thresholds):
            taken = np.zeros(len(gt), dtype=bool)
            for i in range(len(det)):
                cand = np.where(taken, -1.0, ious[i])
                j = int(np.argmax(cand))
                if cand[j] >= thr:
                    taken[j] = True
                    tp[i, t] = True
    return result.scores[det], tp


def average_precision(recall: np.ndarray, precision: np.ndarray) -> float:
    """Return Σ (r_{i+1} − r_i)·p_interp(r_{i+1}), p_interp = max precision at recall ≥ r."""
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[1.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def pr_curve(scores: np.ndarray, tp: np.ndarray, n_gt: int) -> tuple[np.ndarray, np.ndarray]:
    """Return recall and precision after each detection, best score first."""
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(tp[order])
    recall = hits / max(n_gt, 1)
    precision = hits / np.arange(1, len(order) + 1)
    return recall, precision


def evaluate(results: list[ImageResult], num_classes: int) -> dict:
    """Return per-class AP at each IoU threshold, mAP@0.5, mAP@0.5:0.95 and PR curves."""
    ap = np.zeros((num_classes, len(IOU_THRESHOLDS)))
    curves, counts = {}, np.zeros(num_classes, dtype=int)
    for c in range(num_classes):
        parts = [match(r, c, IOU_THRESHOLDS) for r in results]
        scores = np.concatenate([s for s, _ in parts]) if parts else np.zeros(0)
        tp = np.concatenate([t for _, t in parts]) if parts else np.zeros((0, 10), bool)
        counts[c] = sum(int((r.gt_classes == c).sum()) for r in results)
        for t in range(len(IOU_THRESHOLDS)):
            recall, precision = pr_curve(scores, tp[:, t], counts[c])
            ap[c, t] = average_precision(recall, precision) if counts[c] else np.nan
            if t == 0:
                curves[c] = (recall, precision)
    present = counts > 0
    return {
        "ap": ap,
        "gt_counts": counts,
        "map50": float(np.nanmean(ap[present, 0])) if present.any() else 0.0,
        "map50_95": float(np.nanmean(ap[present])) if present.any() else 0.0,
        "curves": curves,
    }


def collect(detector, images, labels: list[np.ndarray], batch_size: int = 32) -> list[ImageResult]:
    """Return an ImageResult per image: detections (score ≥ 0.001) and truths, in pixels.

    ``images`` (N, 3, S, S) uint8 tensor and ``labels`` come from ``dataset.load_split``.
    """
    size = detector.size
    results = []
    for s in range(0, len(images), batch_size):
        x = images[s : s + batch_size].to(detector.device).float() / 255
        heads = detector.infer(x)
        for k in range(x.shape[0]):
            dets = detector.postprocess(
                [hd[k : k + 1] for hd in heads], (size, size), 0.001, 0.5, 100
            )
            lab = labels[s + k]
            gt = np.stack([lab[:, 1], lab[:, 2], lab[:, 4], lab[:, 3]], 1) * size  # b_x b_y b_h b_w
            results.append(
                ImageResult(
                    np.array([d.box for d in dets]).reshape(-1, 4),
                    np.array([d.score for d in dets]),
                    np.array([d.cls for d in dets], dtype=int),
                    bbox_to_corners(gt).reshape(-1, 4),
                    lab[:, 0].astype(int),
                )
            )
    return results
