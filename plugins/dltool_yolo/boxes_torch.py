"""Batched PyTorch twins of :mod:`dltool_yolo.boxes` and :mod:`dltool_yolo.nms`.

Same formulas and names as the NumPy reference, on tensors with a leading batch
dimension where the detector needs one, running on any device. Greedy NMS here is
exact — a box is kept iff no kept box ranked above it overlaps it — and vectorized:
the best boxes are settled a block at a time and drop what they overlap; when that
stops paying, the overlapping pairs of the rest are found in an x1 sweep and the
keep/drop decisions resolved in a few passes.
"""

from __future__ import annotations

import torch


def bbox_to_corners(b: torch.Tensor) -> torch.Tensor:
    """Return (x1, y1, x2, y2) = (b_x − b_w/2, b_y − b_h/2, b_x + b_w/2, b_y + b_h/2)."""
    bx, by, bh, bw = b.unbind(-1)
    return torch.stack([bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2], -1)


def corners_to_bbox(c: torch.Tensor) -> torch.Tensor:
    """Return (b_x, b_y, b_h, b_w) = ((x1+x2)/2, (y1+y2)/2, y2−y1, x2−x1)."""
    x1, y1, x2, y2 = c.unbind(-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, y2 - y1, x2 - x1], -1)


def boxes_to_corners(box_xy: torch.Tensor, box_wh: torch.Tensor) -> torch.Tensor:
    """Return (y_min, x_min, y_max, x_max) = (y − h/2, x − w/2, y + h/2, x + w/2)."""
    mins, maxes = box_xy - box_wh / 2, box_xy + box_wh / 2  # (..., 2) as (x, y)
    return torch.stack([mins[..., 1], mins[..., 0], maxes[..., 1], maxes[..., 0]], -1)


def scale_boxes(boxes: torch.Tensor, image_shape: tuple[float, float]) -> torch.Tensor:
    """Return (y_min, x_min, y_max, x_max) boxes in 0..1 multiplied by (h, w, h, w)."""
    h, w = image_shape
    return boxes * boxes.new_tensor([h, w, h, w])


def decode_head(
    feats: torch.Tensor,
    anchors: torch.Tensor,
    num_classes: int,
    input_shape: tuple[int, int],
    softmax_classes: bool = False,
    scale_xy: float = 1.0,
    new_coords: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return box_confidence, box_xy, box_wh, box_class_probs of raw head maps (B, A·(5+C), H, W).

    Outputs are (B, H, W, A, ·) as in the notes; ``anchors`` (A, 2) are (p_w, p_h) in pixels.
    ``scale_xy`` s gives ``s·σ(t_xy) − (s−1)/2``; ``new_coords``: maps already logistic,
    ``p·(2t_wh)²`` (as :func:`dltool_yolo.boxes.decode_head`).
    """
    b, _, gh, gw = feats.shape
    a = anchors.shape[0]
    f = feats.view(b, a, 5 + num_classes, gh, gw).permute(0, 3, 4, 1, 2)  # (B, H, W, A, 5+C)
    act = (lambda v: v) if new_coords else torch.sigmoid
    cy, cx = torch.meshgrid(
        torch.arange(gh, device=feats.device), torch.arange(gw, device=feats.device), indexing="ij"
    )
    grid = torch.stack([cx, cy], -1)[:, :, None, :].to(feats.dtype)  # (H, W, 1, 2)
    xy = act(f[..., 0:2]) * scale_xy - (scale_xy - 1) / 2 if scale_xy != 1 else act(f[..., 0:2])
    box_xy = (xy + grid) / feats.new_tensor([gw, gh])
    scale = feats.new_tensor([input_shape[1], input_shape[0]])
    grow = (2 * f[..., 2:4]) ** 2 if new_coords else torch.exp(f[..., 2:4])
    box_wh = grow * anchors.to(feats) / scale
    box_confidence = act(f[..., 4:5])  # (B, H, W, A, 1)
    logits = f[..., 5:]
    probs = torch.softmax(logits, -1) if softmax_classes else act(logits)
    return box_confidence, box_xy, box_wh, probs


def wh_iou(wh: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """Return the (n, k) shape IoU min(w,p_w)·min(h,p_h) / (w·h + p_w·p_h − ∩) of (w, h) pairs."""
    inter = torch.minimum(wh[:, None], anchors[None]).prod(-1)  # (n, k)
    return inter / (wh.prod(1)[:, None] + anchors.prod(1)[None] - inter)


def iou_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Return the (N, M) IoU of corner boxes a (N, 4) and b (M, 4); 0 where the union is 0."""
    w = torch.minimum(a[:, None, 2], b[None, :, 2]).sub_(
        torch.maximum(a[:, None, 0], b[None, :, 0])
    )
    h = torch.minimum(a[:, None, 3], b[None, :, 3]).sub_(
        torch.maximum(a[:, None, 1], b[None, :, 1])
    )
    inter = w.clamp_(min=0).mul_(h.clamp_(min=0))  # (N, M)
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    union = (area_a[:, None] + area_b[None, :]).sub_(inter)
    return inter.div_(union.clamp_(min=torch.finfo(union.dtype).tiny))  # union 0 ⇒ inter 0


def filter_boxes(
    box_confidence: torch.Tensor,
    boxes: torch.Tensor,
    box_class_probs: torch.Tensor,
    threshold: float = 0.6,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return scores, boxes, classes of cells whose best score = max_c(conf·p_c) ≥ threshold."""
    box_scores = box_confidence * box_class_probs  # (..., 80)
    box_class_scores, box_classes = box_scores.max(-1)
    mask = box_class_scores >= threshold
    return box_class_scores[mask], boxes[mask], box_classes[mask]


def _overlap_pairs(boxes: torch.Tensor, iou_threshold: float, block: int = 256) -> torch.Tensor:
    """Return (E, 2) pairs (i, j), i < j, of boxes with IoU > threshold (x1 sweep, blocks)."""
    by_x = torch.argsort(boxes[:, 0], stable=True)
    sorted_boxes = boxes[by_x]
    x1 = sorted_boxes[:, 0].contiguous()
    pairs = []
    for s in range(0, boxes.shape[0], block):
        rows = sorted_boxes[s : s + block]
        end = int(torch.searchsorted(x1, rows[:, 2].max(), right=True))
        ious = torch.triu(iou_matrix(rows, sorted_boxes[s:end]), diagonal=1)  # (b, end − s)
        i, j = torch.nonzero(ious > iou_threshold, as_tuple=True)
        pairs.append(torch.stack([by_x[i + s], by_x[j + s]], 1))
    if not pairs:
        return torch.zeros((0, 2), dtype=torch.long, device=boxes.device)
    return torch.cat(pairs).sort(dim=1).values


def _resolve(n: int, pairs: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Return the greedy keep mask of n rank-ordered boxes given overlapping pairs (i < j)."""
    src, dst = pairs.unbind(1)
    state = torch.zeros(n, dtype=torch.int8, device=device)  # 0 open, 1 kept, −1 dropped
    while bool((state == 0).any()):
        s = state[src]
        killed = torch.zeros(n, dtype=torch.bool, device=device)
        killed[dst[s == 1]] = True
        waiting = torch.zeros(n, dtype=torch.bool, device=device)
        waiting[dst[s == 0]] = True
        open_ = state == 0
        state[open_ & killed] = -1
        state[open_ & ~killed & ~waiting] = 1
    return state == 1


def nms(
    boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float = 0.5, block: int = 256
) -> torch.Tensor:
    """Return indices kept by greedy NMS on corner boxes (N, 4), best score first.

    The best ``block`` open boxes are settled among themselves, then their kept boxes
    drop every lower-ranked box they overlap; once a block drops few boxes, the rest
    is settled at once from its overlapping pairs (x1 sweep).
    """
    rest = torch.argsort(scores, descending=True, stable=True)
    parts = []
    while rest.numel():
        head, rest = rest[:block], rest[block:]
        kept = head[
            _resolve(head.numel(), _overlap_pairs(boxes[head], iou_threshold), boxes.device)
        ]
        parts.append(kept)
        if not rest.numel():
            break
        before = rest.numel()
        rest = rest[~(iou_matrix(boxes[kept], boxes[rest]) > iou_threshold).any(0)]
        if before - rest.numel() < 0.25 * before:
            pairs = _overlap_pairs(boxes[rest], iou_threshold)
            parts.append(rest[_resolve(rest.numel(), pairs, boxes.device)])
            break
    return torch.cat(parts) if parts else rest


def batched_nms(
    boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor, iou_threshold: float = 0.5
) -> torch.Tensor:
    """Return indices kept by per-class greedy NMS (boxes offset by class so classes never meet)."""
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    offset = classes.to(boxes.dtype)[:, None] * (boxes.max() - boxes.min() + 1)  # (N, 1)
    return nms(boxes + offset, scores, iou_threshold)


def non_max_suppression(
    scores: torch.Tensor,
    boxes: torch.Tensor,
    classes: torch.Tensor,
    max_boxes: int = 10,
    iou_threshold: float = 0.5,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return scores, boxes, classes of at most ``max_boxes`` boxes kept by greedy NMS."""
    keep = nms(boxes, scores, iou_threshold)[:max_boxes]
    return scores[keep], boxes[keep], classes[keep]


def yolo_eval(
    yolo_outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    image_shape: tuple[float, float] = (720.0, 1280.0),
    max_boxes: int = 10,
    score_threshold: float = 0.6,
    iou_threshold: float = 0.5,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return scores, boxes (y_min, x_min, y_max, x_max in pixels), classes of the detections."""
    box_confidence, box_xy, box_wh, box_class_probs = yolo_outputs
    boxes = boxes_to_corners(box_xy, box_wh)
    scores, boxes, classes = filter_boxes(box_confidence, boxes, box_class_probs, score_threshold)
    boxes = scale_boxes(boxes, image_shape)
    return non_max_suppression(scores, boxes, classes, max_boxes, iou_threshold)
