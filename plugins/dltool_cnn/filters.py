"""The classic 3×3 filters of ``cnn conv``, as plain lists (no NumPy: the CLI reads the names).

The notes' vertical and horizontal edge detectors and their relatives: Sobel, Scharr, the
Laplacian, sharpen and a box blur; ``sobel`` is the gradient magnitude √(Gx² + Gy²).
"""

from __future__ import annotations

FILTERS = {
    "vertical-edge": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "horizontal-edge": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "sobel-x": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "sobel-y": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "scharr-x": [[3, 0, -3], [10, 0, -10], [3, 0, -3]],
    "scharr-y": [[3, 10, 3], [0, 0, 0], [-3, -10, -3]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "blur": [[1 / 9] * 3] * 3,
}
FILTER_NAMES = (*FILTERS, "sobel")  # sobel = √(sobel-x² + sobel-y²)
SMOOTHING = ("blur", "sharpen")  # responses shown min-max, not as |Z| / max |Z|
