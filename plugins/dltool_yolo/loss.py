"""The YOLO loss of a Darknet YOLOv3-style model: targets by anchor IoU, box, objectness, class.

Each ground-truth box (class, x_c, y_c, w, h in 0..1) is assigned to the anchor whose
shape IoU with it is highest (over all heads) and to the grid cell holding its centre
(c_x, c_y) = ⌊(x_c·W, y_c·H)⌋. That prediction learns ``σ(t_x) → x_c·W − c_x``,
``σ(t_y) → y_c·H − c_y`` (binary cross-entropy), ``t_w → ln(w·S/p_w)``,
``t_h → ln(h·S/p_h)`` (squared error, weighted by 2 − w·h as in YOLOv3), objectness
→ 1 and each class → its one-hot value (binary cross-entropy). Every other
prediction learns objectness → 0, except those whose decoded box already overlaps
a ground-truth box by IoU > ``ignore_thresh`` (ignored, as in YOLOv3).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dltool_yolo import boxes_torch as bt
from dltool_yolo.darknet import Darknet


def all_anchors(model: Darknet) -> tuple[torch.Tensor, list[tuple[int, int]]]:
    """Return every head's anchors stacked (K, 2) and (head, index-in-head) of each."""
    anchors, where = [], []
    for h, head in enumerate(model.heads):
        for a, pair in enumerate(head.anchors):
            anchors.append(pair)
            where.append((h, a))
    return torch.tensor(anchors, dtype=torch.float32), where


def yolo_loss(
    model: Darknet, outputs: list[torch.Tensor], targets: torch.Tensor, ignore_thresh: float = 0.5
) -> tuple[torch.Tensor, dict[str, float]]:
    """Return the YOLO loss (box + objectness + class, summed, / batch) and its parts."""
    size = (model.height, model.width)
    anchors, where = all_anchors(model)
    anchors = anchors.to(targets.device)
    b = outputs[0].shape[0]
    wh = targets[:, 4:6] * targets.new_tensor([size[1], size[0]])  # (n, 2) pixels
    best = bt.wh_iou(wh, anchors).argmax(1)  # (n,) best anchor over all heads
    parts = {"box": 0.0, "obj": 0.0, "cls": 0.0}
    total = outputs[0].new_zeros(())
    for h, (head, out) in enumerate(zip(model.heads, outputs, strict=True)):
        a_n, gh, gw = len(head.anchors), out.shape[2], out.shape[3]
        p = out.view(b, a_n, 5 + head.classes, gh, gw).permute(0, 1, 3, 4, 2)  # (B, A, H, W, 5+C)
        head_anchors = p.new_tensor(head.anchors)
        obj_target = torch.zeros(p.shape[:4], device=p.device)
        noobj = _not_ignored(p, targets, head_anchors, size, ignore_thresh)  # (B, A, H, W)
        sel = torch.tensor([where[int(k)][0] == h for k in best], dtype=torch.bool)
        if sel.any():
            t = targets[sel.to(targets.device)]
            a = torch.tensor([where[int(k)][1] for k in best[sel]], device=p.device)
            img = t[:, 0].long()
            gx, gy = t[:, 2] * gw, t[:, 3] * gh
            gi, gj = gx.long().clamp(0, gw - 1), gy.long().clamp(0, gh - 1)
            pred = p[img, a, gj, gi]  # (n_h, 5+C)
            scale = 2 - t[:, 4] * t[:, 5]
            txy = torch.stack([gx - gi, gy - gj], 1)
            twh = torch.log(t[:, 4:6] * p.new_tensor([size[1], size[0]]) / head_anchors[a] + 1e-9)
            box = (scale[:, None] * F.binary_cross_entropy_with_logits(
                pred[:, 0:2], txy, reduction="none")).sum()  # fmt: skip
            box = box + (scale[:, None] * (pred[:, 2:4] - twh) ** 2).sum()
            onehot = F.one_hot(t[:, 1].long(), head.classes).to(p.dtype)
            cls = F.binary_cross_entropy_with_logits(pred[:, 5:], onehot, reduction="sum")
            obj_target[img, a, gj, gi] = 1.0
            noobj[img, a, gj, gi] = True
            total = total + box + cls
            parts["box"] += box.item() / b
            parts["cls"] += cls.item() / b
        obj = F.binary_cross_entropy_with_logits(p[..., 4], obj_target, reduction="none")
        obj = (obj * noobj).sum()
        total = total + obj
        parts["obj"] += obj.item() / b
    return total / b, parts


@torch.no_grad()
def _not_ignored(
    p: torch.Tensor,
    targets: torch.Tensor,
    anchors: torch.Tensor,
    size: tuple[int, int],
    ignore_thresh: float,
) -> torch.Tensor:
    """Return (B, A, H, W): True where the decoded box overlaps no truth by IoU > thresh."""
    b, a_n, gh, gw = p.shape[:4]
    raw = p.permute(0, 1, 4, 2, 3).reshape(b, -1, gh, gw)  # (B, A·(5+C), H, W)
    _, xy, wh, _ = bt.decode_head(raw, anchors, p.shape[-1] - 5, size)  # (B, H, W, A, 2)
    corners = torch.cat([xy - wh / 2, xy + wh / 2], -1).permute(0, 3, 1, 2, 4)  # (B, A, H, W, 4)
    keep = torch.ones(p.shape[:4], dtype=torch.bool, device=p.device)
    for i in range(b):
        t = targets[targets[:, 0] == i]
        if len(t):
            gt = bt.bbox_to_corners(t[:, [2, 3, 5, 4]])  # (b_x, b_y, b_h, b_w) → corners
            best = bt.iou_matrix(corners[i].reshape(-1, 4), gt).max(1).values
            keep[i] = (best <= ignore_thresh).view(a_n, gh, gw)
    return keep
