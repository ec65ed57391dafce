"""Non-max suppression and ``yolo_eval`` in NumPy, as in the course notes (the reference).

Greedy NMS: sort boxes by score, keep the best, discard every remaining box whose IoU
with it exceeds ``iou_threshold``, repeat (at most ``max_boxes`` kept). ``yolo_eval``
chains the notes' steps: corners, score filtering (≥ 0.6), scaling to the image, NMS.
"""

from __future__ import annotations

import numpy as np

from dltool_yolo.boxes import boxes_to_corners, filter_boxes, iou_matrix, scale_boxes


def nms_indices(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.5, max_boxes: int | None = None
) -> np.ndarray:
    """Return indices kept by greedy NMS on corner boxes (N, 4), best score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size and (max_boxes is None or len(keep) < max_boxes):
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        overlap = iou_matrix(boxes[i : i + 1], boxes[rest])[0]  # (len(rest),)
        order = rest[overlap <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def overlap_pairs(boxes: np.ndarray, iou_threshold: float, block: int = 256) -> np.ndarray:
    """Return (E, 2) index pairs (i, j), i < j, of boxes whose IoU exceeds the threshold.

    Boxes are swept in order of x1: a block of rows is compared only with the boxes
    whose x1 lies before the block's largest x2 (others cannot intersect it).
    """
    by_x = np.argsort(boxes[:, 0], kind="stable")
    sorted_boxes = boxes[by_x]
    x1 = sorted_boxes[:, 0]
    pairs = []
    for s in range(0, len(boxes), block):
        rows = sorted_boxes[s : s + block]
        end = int(np.searchsorted(x1, rows[:, 2].max(), side="right"))
        ious = np.triu(iou_matrix(rows, sorted_boxes[s:end]), k=1)  # (b, end − s)
        i, j = np.nonzero(ious > iou_threshold)
        pairs.append(np.stack([by_x[i + s], by_x[j + s]], 1))
    pairs = np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)
    return np.sort(pairs, axis=1)


def resolve(n: int, pairs: np.ndarray) -> np.ndarray:
    """Return the greedy keep mask of n rank-ordered boxes given overlapping pairs (i < j).

    A box is kept iff no kept box ranked above it overlaps it; each pass settles every
    box whose higher-ranked overlapping boxes are all settled.
    """
    src, dst = pairs.T
    state = np.zeros(n, dtype=np.int8)  # 0 open, 1 kept, −1 dropped
    while (state == 0).any():
        s = state[src]
        killed = np.zeros(n, dtype=bool)
        killed[dst[s == 1]] = True
        waiting = np.zeros(n, dtype=bool)
        waiting[dst[s == 0]] = True
        open_ = state == 0
        state[open_ & killed] = -1
        state[open_ & ~killed & ~waiting] = 1
    return state == 1


def nms_fast(
    boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = 0.5, block: int = 256
) -> np.ndarray:
    """Return the indices :func:`nms_indices` keeps, settling boxes in vectorized blocks.

    The best ``block`` open boxes are settled among themselves, then their kept boxes
    drop every lower-ranked box they overlap; once a block drops few boxes, the rest
    is settled at once from its overlapping pairs.
    """
    rest = np.argsort(-scores, kind="stable")
    parts = []
    while rest.size:
        head, rest = rest[:block], rest[block:]
        kept = head[resolve(head.size, overlap_pairs(boxes[head], iou_threshold))]
        parts.append(kept)
        if not rest.size:
            break
        before = rest.size
        rest = rest[~(iou_matrix(boxes[kept], boxes[rest]) > iou_threshold).any(0)]
        if before - rest.size < 0.25 * before:
            parts.append(rest[resolve(rest.size, overlap_pairs(boxes[rest], iou_threshold))])
            break
    return np.concatenate(parts) if parts else rest


def non_max_suppression(
    scores: np.ndarray,
    boxes: np.ndarray,
    classes: np.ndarray,
    max_boxes: int = 10,
    iou_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return scores, boxes, classes of at most ``max_boxes`` boxes kept by greedy NMS."""
    keep = nms_indices(boxes, scores, iou_threshold, max_boxes)
    return scores[keep], boxes[keep], classes[keep]


def yolo_eval(
    yolo_outputs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    image_shape: tuple[float, float] = (720.0, 1280.0),
    max_boxes: int = 10,
    score_threshold: float = 0.6,
    iou_threshold: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return scores, boxes (y_min, x_min, y_max, x_max in pixels), classes of the detections.

    ``yolo_outputs`` is ``(box_confidence, box_xy, box_wh, box_class_probs)``.
    """
    box_confidence, box_xy, box_wh, box_class_probs = yolo_outputs
    boxes = boxes_to_corners(box_xy, box_wh)  # (19, 19, 5, 4)
    scores, boxes, classes = filter_boxes(box_confidence, boxes, box_class_probs, score_threshold)
    boxes = scale_boxes(boxes, image_shape)
    return non_max_suppression(scores, boxes, classes, max_boxes, iou_threshold)
