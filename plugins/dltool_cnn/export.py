"""Export a cnn classifier to ONNX or TorchScript: images in, class logits out.

The exported graph is the whole classifier ``cnn predict`` runs: ``Normalize(mean, std)``
then the network, so a runtime feeds images (B, C, H, W) in 0..1 (RGB, or L for one
channel, resized to the run's image size) and takes softmax of the logits (B, classes).
A source is a run of ``cnn train`` (transfer-learned ones included), a checkpoint in one,
``efficientnet-lite0`` (ImageNet weights) or a classic architecture by name (its seeded
random initialisation: a graph to deploy-test, not a trained model).

``--dynamic`` frees the batch; the image side stays the run's (``cnn predict`` resizes
to it; torch.export of EfficientNet-Lite0 with free sides did not end in 10 minutes).
``other_side``/``dynamic_shapes(True)`` keep the free-side path for networks that allow it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from dltool import exporting

MAX_DYNAMIC_BATCH = 4096
CHECK_SEED = 0


def metadata(model: Any, classes: list[str], size: int, channels: int, weights: Path | None,
             source: str) -> dict[str, Any]:  # fmt: skip
    """Return what a runtime needs beside the graph, and where the weights came from."""
    norm = model[0]
    return {
        "task": "classify",
        "model": source,
        "input": {"name": "images", "shape": [1, channels, size, size], "layout": "NCHW",
                  "dtype": "float32", "colour": "L" if channels == 1 else "RGB",
                  "range": [0.0, 1.0], "resize": "bilinear to size×size"},
        "size": size,
        "normalisation": {"mean": norm.mean.flatten().tolist(), "std": norm.std.flatten().tolist(),
                          "inside_model": True},
        "output": "logits (B, classes); softmax gives the probabilities",
        "names": list(classes),
        "weights": str(weights) if weights else None,
        "weights_sha256": exporting.file_sha256(weights) if weights else None,
        "versions": exporting.versions(),
    }  # fmt: skip


def other_side(model: Any, channels: int, size: int) -> int | None:
    """Return a second image side the eager classifier takes (S ± 32), or None (fixed side)."""
    other = size - 32 if size > 64 else size + 32
    try:
        with torch.no_grad():
            model(torch.zeros(1, channels, other, other))
    except (RuntimeError, ValueError, IndexError):
        return None
    return other


def dynamic_shapes(free_sides: bool) -> tuple[dict[int, Any]]:
    """Return torch.export's dynamic shapes: a free batch, free sides where the net allows."""
    dim = torch.export.Dim
    shapes: dict[int, Any] = {0: dim("batch", min=1, max=MAX_DYNAMIC_BATCH)}
    if free_sides:
        shapes |= {2: dim.AUTO, 3: dim.AUTO}
    return (shapes,)


def check_inputs(channels: int, size: int, dynamic: bool, other: int | None) -> list[torch.Tensor]:
    """Return seeded 0..1 inputs (1, C, S, S); dynamic: also (3, C, S, S), (2, C, S', S')."""
    g = torch.Generator().manual_seed(CHECK_SEED)
    inputs = [torch.rand(1, channels, size, size, generator=g)]
    if dynamic:
        inputs.append(torch.rand(3, channels, size, size, generator=g))
    if dynamic and other is not None:
        inputs.append(torch.rand(2, channels, other, other, generator=g))
    return inputs


def export_classifier(
    model: Any, channels: int, size: int, fmt: str, path: Path, dynamic: bool, meta: dict
) -> dict[str, Any]:
    """Write the classifier as ``fmt`` to ``path``; return the export's facts."""
    model = model.to("cpu").eval()
    other = None  # sides stay fixed: torch.export of EfficientNet's free sides runs for minutes
    checks = check_inputs(channels, size, dynamic, other)
    example = torch.cat([checks[0], checks[0].flip(-1)]) if dynamic else checks[0]
    shapes = dynamic_shapes(other is not None) if dynamic and fmt == "onnx" else None
    return exporting.export_model(model, example, fmt, path, meta, shapes, checks)
