"""Detection quality as pycocotools' COCOeval scores it: AP per class, mAP@0.5, mAP@0.5:0.95.

Per image and class, detections are taken best score first; each is matched to the
unmatched ground-truth box of the highest IoU, a true positive when that IoU is ≥ t.
Over all images the detections of a class are sorted by score (stable) and precision
and recall follow cumulatively; AP is the mean of the precision envelope (precision
made monotone from the right) at the 101 recalls 0, 0.01, …, 1 (COCO's interpolation).
mAP@0.5:0.95 averages over t = 0.50, 0.55, …, 0.95; classes without ground truth are
left out. ``tests/yolo/test_evaluate_coco.py`` holds this to ``COCOeval`` within 1e-3.

Beside mAP: precision and recall (mean over classes, IoU 0.5) at the score threshold
that maximises the mean F1 over classes (ultralytics' rule, without its smoothing), and
a confusion matrix (classes + background) of the detections at that threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dltool_yolo.boxes import bbox_to_corners, iou_matrix

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
CONF_GRID = np.linspace(0.0, 1.0, 1001)


@dataclass
class ImageResult:
    """Detections (corners, scores, classes) and ground truth (corners, classes) of one image."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    gt_boxes: np.ndarray
    gt_classes: np.ndarray


def match(
    result: ImageResult, cls: int, thresholds: np.ndarray, max_dets: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Return scores (d,) and TP flags (d, T) of the best ``max_dets`` ``cls`` detections."""
    det = np.flatnonzero(result.classes == cls)
    det = det[np.argsort(-result.scores[det], kind="stable")][:max_dets]
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
    """Return the mean over r = 0, 0.01, …, 1 of max precision at recall ≥ r (0 past the end)."""
    if not len(recall):
        return 0.0
    envelope = np.maximum.accumulate(np.asarray(precision, float)[::-1])[::-1]
    idx = np.searchsorted(recall, RECALL_POINTS, side="left")
    q = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1)], 0.0)
    return float(q.mean())


def pr_curve(scores: np.ndarray, tp: np.ndarray, n_gt: int) -> tuple[np.ndarray, np.ndarray]:
    """Return recall and precision after each detection, best score first."""
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(tp[order])
    recall = hits / max(n_gt, 1)
    precision = hits / np.arange(1, len(order) + 1)
    return recall, precision


def best_f1(classes: list[tuple[np.ndarray, np.ndarray, int]]) -> tuple[float, float, float]:
    """Return (precision, recall, threshold) at the score threshold of the best mean F1.

    ``classes`` holds, per class with ground truth, its detections' scores, their TP flags
    at IoU 0.5 and its number of truths. Precision is 1 where no detection passes.
    """
    if not classes:
        return 0.0, 0.0, 0.0
    p = np.ones((len(classes), len(CONF_GRID)))
    r = np.zeros_like(p)
    for c, (scores, tp, n_gt) in enumerate(classes):
        order = np.argsort(-scores, kind="stable")
        hits = np.concatenate([[0], np.cumsum(tp[order])])
        k = np.searchsorted(-scores[order], -CONF_GRID, side="right")  # detections ≥ conf
        r[c] = hits[k] / n_gt
        p[c] = np.where(k > 0, hits[k] / np.maximum(k, 1), 1.0)
    f1 = (2 * p * r / np.maximum(p + r, 1e-16)).mean(0)
    i = int(np.argmax(f1))
    return float(p[:, i].mean()), float(r[:, i].mean()), float(CONF_GRID[i])


def confusion_matrix(
    results: list[ImageResult], num_classes: int, conf: float, iou: float = 0.5
) -> np.ndarray:
    """Return counts (nc+1, nc+1): rows predicted, columns true; index nc is background.

    Detections with score ≥ ``conf`` and truths are paired one to one by IoU > ``iou``,
    highest IoU first, whatever their classes; an unpaired truth counts as predicted
    background, an unpaired detection as a background truth.
    """
    m = np.zeros((num_classes + 1, num_classes + 1), dtype=int)
    for res in results:
        keep = res.scores >= conf
        det_cls, gt_cls = res.classes[keep], res.gt_classes
        pairs = np.zeros((0, 2), dtype=int)
        if len(det_cls) and len(gt_cls):
            ious = iou_matrix(res.gt_boxes, res.boxes[keep])
            g, d = np.nonzero(ious > iou)
            order = np.argsort(-ious[g, d], kind="stable")
            pairs = np.stack([g[order], d[order]], 1)
            pairs = pairs[np.unique(pairs[:, 1], return_index=True)[1]]
            pairs = pairs[np.argsort(-ious[pairs[:, 0], pairs[:, 1]], kind="stable")]
            pairs = pairs[np.unique(pairs[:, 0], return_index=True)[1]]
        np.add.at(m, (det_cls[pairs[:, 1]], gt_cls[pairs[:, 0]]), 1)
        np.add.at(m, (num_classes, np.delete(gt_cls, pairs[:, 0])), 1)
        np.add.at(m, (np.delete(det_cls, pairs[:, 1]), num_classes), 1)
    return m


def evaluate(results: list[ImageResult], num_classes: int) -> dict:
    """Return per-class AP at each IoU threshold, mAP@0.5, mAP@0.5:0.95, PR curves, and the
    precision, recall, score threshold (``conf``) of the best mean F1 with its confusion matrix."""
    ap = np.zeros((num_classes, len(IOU_THRESHOLDS)))
    curves, counts, at50 = {}, np.zeros(num_classes, dtype=int), []
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
        if counts[c]:
            at50.append((scores, tp[:, 0], counts[c]))
    present = counts > 0
    precision, recall, conf = best_f1(at50)
    return {
        "precision": precision,
        "recall": recall,
        "conf": conf,
        "confusion": confusion_matrix(results, num_classes, conf),
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
