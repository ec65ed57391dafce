"""Detections and truths in COCO JSON: ``predictions.json`` and ``ground_truth.json``.

``predictions.json`` is COCO's results format, a list of ``{image_id, category_id,
bbox: [x, y, w, h], score}`` in the pixels of the original image (the letterbox undone),
ready for ``COCO.loadRes``. ``category_id`` is the class index of ``data.yaml``
(ultralytics' choice for data that is not COCO's own); ``image_id`` is the image's
position in the split, and ``ground_truth.json`` (COCO's dataset format: images with
their file names and sizes, annotations, categories) names each one, so that pycocotools'
``COCOeval`` scores the predictions as ``yolo evaluate`` did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dltool_yolo.evaluate import ImageResult

Scale = tuple[float, int, int]  # letterbox (r, top, left): original = (letterboxed - pad) / r


def to_xywh(corners: np.ndarray, scale: Scale = (1.0, 0, 0)) -> np.ndarray:
    """Return corner boxes (n, 4) of a letterboxed image as [x, y, w, h] of the original."""
    r, top, left = scale
    b = (np.asarray(corners, float).reshape(-1, 4) - [left, top, left, top]) / r
    return np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)


def predictions(results: list[ImageResult], scales: list[Scale] | None = None) -> list[dict]:
    """Return the detections of every image as COCO result dicts (image_id = position)."""
    out = []
    for i, res in enumerate(results):
        boxes = to_xywh(res.boxes, scales[i] if scales else (1.0, 0, 0))
        for box, score, cls in zip(boxes, res.scores, res.classes, strict=True):
            out.append(
                {
                    "image_id": i,
                    "category_id": int(cls),
                    "bbox": [round(float(v), 3) for v in box],
                    "score": float(score),
                }
            )
    return out


def ground_truth(
    results: list[ImageResult],
    names: list[str],
    files: list[str] | None = None,
    sizes: list[tuple[int, int]] | None = None,
    scales: list[Scale] | None = None,
) -> dict:
    """Return the truths as a COCO dataset dict; ``sizes`` are (height, width) per image."""
    images, annotations = [], []
    for i, res in enumerate(results):
        h, w = sizes[i] if sizes else (0, 0)
        name = files[i] if files else str(i)
        images.append({"id": i, "file_name": name, "height": h, "width": w})
        boxes = to_xywh(res.gt_boxes, scales[i] if scales else (1.0, 0, 0))
        for box, cls in zip(boxes, res.gt_classes, strict=True):
            annotations.append(
                {
                    "id": len(annotations) + 1,  # COCOeval reads id 0 as "unmatched"
                    "image_id": i,
                    "category_id": int(cls),
                    "bbox": [float(v) for v in box],
                    "area": float(box[2] * box[3]),
                    "iscrowd": 0,
                }
            )
    categories = [{"id": c, "name": n} for c, n in enumerate(names)]
    return {"images": images, "annotations": annotations, "categories": categories}


def letterbox_scales(paths: list[Path], size: int) -> tuple[list[tuple[int, int]], list[Scale]]:
    """Return each image's upright (height, width) and the letterbox ``load_split`` applied."""
    from dltool.data.images import open_upright
    from dltool_yolo.boxes import letterbox_params

    sizes, scales = [], []
    for path in paths:
        with open_upright(path) as img:
            w, h = img.size
        r, _, (top, left) = letterbox_params((h, w), size)
        sizes.append((h, w))
        scales.append((r, top, left))
    return sizes, scales


def write_coco(run, results: list[ImageResult], paths: list[Path], size: int, names: list[str]):
    """Write predictions.json and ground_truth.json of a scored split into the run folder."""
    sizes, scales = letterbox_scales(paths, size)
    files = [str(p) for p in paths]
    run.write_json("ground_truth.json", ground_truth(results, names, files, sizes, scales))
    run.write_json("predictions.json", predictions(results, scales))
