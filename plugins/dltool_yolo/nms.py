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
